"""What a run trains on and with: the data, its split and preprocessing, and the network.

:func:`build` sets a run up from its :class:`Settings` with the functions
``numnet train`` uses (:func:`numnet.cli.data.load_table`,
:func:`numnet.cli.train.prepare_training`, :func:`~numnet.cli.train.output_head`,
``MLP`` seeded with the seed), so that :func:`numnet.fit` with
:meth:`Problem.fit_arguments` prints, epoch by epoch, the losses that the
settings' ``numnet train`` command prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from numnet import MLP
from numnet.baselines import baseline_loss
from numnet.cli import data
from numnet.cli._common import baseline_text, training_baseline
from numnet.cli.train import output_head, prepare_training
from numnet.losses import get_loss
from numnet.preprocessing import PreprocessedModel, Preprocessing, infer_task
from numnet.terminal import one_line

from .settings import Settings

__all__ = ["Problem", "ProblemError", "build", "dataset_facts"]


class ProblemError(ValueError):
    """Data or settings that cannot make a run; the message (one line) says what to change."""


@dataclass
class Problem:
    """A run's data and network, as ``numnet train`` sets them up.

    Attributes
    ----------
    settings : Settings
    table : numnet.cli.data.Table
        The raw rows: ``X`` (n, n_features), ``y`` (n,).
    task : {"regression", "classification"}
    prep : Preprocessing
        Fitted on the training rows.
    train_rows, val_rows : ndarray of int
        Row indices of the table; ``val_rows`` None without a held-out share.
    X_fit, Y_fit : ndarray
        The training rows as the network sees them (standardised; labels encoded).
    validation : (X_val, Y_val) or None
        The held-out rows, likewise.
    loss, output_activation : str
        The loss trained on and the output layer's activation.
    n_outputs : int
    """

    settings: Settings
    table: data.Table
    task: str
    prep: Preprocessing
    train_rows: np.ndarray
    val_rows: np.ndarray | None
    X_fit: np.ndarray
    Y_fit: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    loss: str
    output_activation: str
    n_outputs: int

    @property
    def n_inputs(self) -> int:
        return len(self.table.feature_names)

    @property
    def classes(self) -> list[Any] | None:
        return self.prep.classes

    def network(self) -> MLP:
        """A fresh network, initialised from the seed as ``numnet train`` initialises it."""
        s = self.settings
        return MLP(self.n_inputs, s.hidden, self.n_outputs, activation=s.network_activation(),
                   output_activation=self.output_activation, bias=s.bias, init=s.init,
                   dtype="float64", random_state=s.seed)

    def fit_arguments(self) -> dict[str, Any]:
        """:func:`numnet.fit`'s keyword arguments (callbacks and verbosity aside)."""
        s = self.settings
        return {"loss": self.loss, "optimizer": s.optimizer, "learning_rate": s.learning_rate,
                "epochs": s.epochs, "batch_size": s.batch_size,
                "validation_data": self.validation, "l2": s.l2, "dropout": s.dropout,
                "random_state": s.seed}

    def model(self, net: MLP) -> PreprocessedModel:
        """``net`` with this problem's preprocessing: raw rows in, answers out."""
        net.classes_ = self.prep.classes
        return PreprocessedModel(net, self.prep)

    def baseline(self, net: MLP) -> dict[str, Any]:
        """The best constant prediction's training loss and what it is, as ``numnet train``
        says them: ``{"loss": float, "what": "always predicting ..."}``."""
        model = self.model(net)
        y_train = np.asarray(self.table.y)[self.train_rows]
        what = baseline_text(model, training_baseline(model, y_train))
        Y = self.Y_fit
        if self.task == "classification":
            Y = np.eye(self.n_outputs)[Y] if self.n_outputs > 1 else \
                Y.reshape(-1, 1).astype(np.float64)
        return {"loss": float(baseline_loss(Y, self.loss)), "what": what}

    def command(self, data_file: str | None = None) -> str:
        return self.settings.to_command(data_file)

    def code(self, data_file: str | None = None,
             rate_changes: list[tuple[int, float]] | None = None) -> str:
        return self.settings.to_code(task=self.task, n_inputs=self.n_inputs,
                                     n_outputs=self.n_outputs,
                                     output_activation=self.output_activation, loss=self.loss,
                                     data_file=data_file, rate_changes=rate_changes or ())


def build(settings: Settings, upload_path: str | None = None) -> Problem:
    """The run's data and network (``upload_path``: the uploaded file, for dataset
    ``"upload"``).

    Raises
    ------
    ProblemError
        Where ``numnet train`` would refuse the data or the settings (e.g. a split
        that leaves no training row, a feature column that is not numeric).
    """
    try:
        return _build(settings, upload_path)
    except click.ClickException as exc:          # numnet train's own one-line refusals
        raise ProblemError(one_line(exc.format_message())) from None
    except (ValueError, TypeError) as exc:
        raise ProblemError(one_line(str(exc))) from None


def _build(settings: Settings, upload_path: str | None) -> Problem:
    if settings.generated:
        table = data.load_table(settings.dataset, n_samples=settings.samples,
                                random_state=settings.seed, **_generation(settings))
    else:
        assert upload_path is not None
        table = data.load_table(upload_path,
                                None if settings.target is None else [settings.target],
                                settings.features)
    assert table.y is not None
    if np.asarray(table.y).ndim != 1:
        raise ProblemError("the playground trains on one target column; choose one")
    # the task numnet train infers (given here, so that nothing is said on stderr)
    task = infer_task(table.y, table.target_names)[0]
    task, _, train_rows, val_rows, prep = prepare_training(
        table, task, settings.test_fraction, settings.seed, scale=True)
    n_out, head, default_loss = output_head(task, prep, settings.output_activation)
    loss = get_loss(settings.loss or default_loss).name
    y = np.asarray(table.y)
    X_fit, Y_fit = prep.transform(table.X[train_rows]), prep.encode_targets(y[train_rows])
    validation = None
    if val_rows is not None:
        validation = (prep.transform(table.X[val_rows]), prep.encode_targets(y[val_rows]))
    problem = Problem(settings=settings, table=table, task=task, prep=prep,
                      train_rows=train_rows, val_rows=val_rows, X_fit=X_fit, Y_fit=Y_fit,
                      validation=validation, loss=loss,
                      output_activation=settings.output_activation or head, n_outputs=n_out)
    problem.network()                # the network's own refusals (softmax on one output, ...)
    return problem


def _generation(settings: Settings) -> dict[str, Any]:
    """``noise`` and ``arms`` for ``load_table`` (``n_samples`` is passed on its own)."""
    options = settings.data_options()
    options.pop("n_samples", None)
    return options


def dataset_facts(name: str) -> dict[str, Any]:
    """``{"name", "task", "inputs", "noise", "arms"}`` of a generated set, read off a small
    sample of it as ``numnet train`` reads it."""
    table = data.load_table(name, n_samples=200, random_state=0, noise=0.1,
                            arms=2 if name == "spirals" else None)
    assert table.y is not None
    return {"name": name, "task": infer_task(table.y, table.target_names)[0],
            "inputs": len(table.feature_names), "noise": True, "arms": name == "spirals"}

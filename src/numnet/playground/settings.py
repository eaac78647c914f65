"""A playground run's settings: the page's state as one JSON object, checked and bounded.

:func:`parse` turns the page's JSON into :class:`Settings`, refusing anything
beyond :data:`LIMITS` or an unknown name with a one-line :class:`SettingsError`
that names the limit or the valid names. A :class:`Settings` says what it
trains in two other forms: :meth:`Settings.to_command`, the ``numnet train``
command that prints the same per-epoch losses, and :meth:`Settings.to_code`,
Python that reproduces the run with :func:`numnet.fit`.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from numnet import activations, initializers, losses
from numnet.cli.data import GENERATED
from numnet.cli.train import OPTIMIZERS
from numnet.terminal import one_line, printable

__all__ = ["Settings", "SettingsError", "parse", "LIMITS", "DATASETS", "UPLOAD",
           "hidden_activations", "output_activations", "loss_names", "initializer_names",
           "check_seeds", "check_column_name"]

#: The generated sets the playground offers, in the order the page lists them.
DATASETS = tuple(name for name in ("one_minus_x", "sum_of_two", "sine", "xor", "circles",
                                   "gaussians", "spirals", "moons") if name in GENERATED)
#: The dataset name of an uploaded file (``upload_id`` says which).
UPLOAD = "upload"

#: What a request may ask for; GET /api/options gives them to the page.
LIMITS: dict[str, Any] = {
    "samples": 5000,            # rows of a generated set
    "min_samples": 10,
    "noise": 1.0,
    "min_arms": 2,
    "max_arms": 5,
    "test_fraction": 0.9,
    "layers": 6,                # hidden layers
    "units": 64,                # units per hidden layer
    "epochs": 5000,
    "batch_size": 5000,
    "learning_rate": 10.0,
    "l2": 1.0,
    "dropout": 0.9,
    "seed": 2**32 - 1,
    "upload_bytes": 1_000_000,  # the file's size
    "upload_rows": 5000,
    "upload_columns": 100,
    "seeds": 10,                # seeds per spread (POST /api/seeds)
}


class SettingsError(ValueError):
    """Settings the playground refuses; the message (one line) says what to change."""


def hidden_activations() -> list[str]:
    """The activations a hidden layer may use (registered ones included), sorted."""
    return sorted(name for name, act in activations.ACTIVATIONS.items() if not act.output_only)


def output_activations() -> list[str]:
    return sorted(activations.ACTIVATIONS)


def loss_names() -> list[str]:
    return sorted(losses.LOSSES)


def initializer_names() -> list[str]:
    return sorted(initializers.INITIALIZERS)


@dataclass(frozen=True)
class Settings:
    """One run's settings (see the playground's contract for each field's meaning).

    ``target`` and ``features`` name an uploaded file's columns (None: its
    default target, every other column); ``activation`` has one name per
    hidden layer; ``output_activation``, ``loss`` and ``init`` None are
    ``numnet train``'s defaults for the task.
    """

    dataset: str = "moons"
    samples: int = 200
    noise: float = 0.1
    arms: int = 2
    test_fraction: float = 0.3
    upload_id: str | None = None
    target: str | None = None
    features: list[str] | None = None
    hidden: list[int] = field(default_factory=lambda: [8, 8])
    activation: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    output_activation: str | None = None
    loss: str | None = None
    bias: bool = True
    init: str | None = None
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    batch_size: int = 10
    epochs: int = 200
    l2: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    @property
    def generated(self) -> bool:
        """Whether the data is a generated set (else an uploaded file)."""
        return self.dataset != UPLOAD

    def to_dict(self) -> dict[str, Any]:
        """The JSON object :func:`parse` reads back."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def activation_option(self) -> str | None:
        """``--activation`` as ``numnet train`` takes it: one name when every hidden layer
        has it, else one per layer comma-separated; None without hidden layers."""
        if not self.hidden:
            return None
        return self.activation[0] if len(set(self.activation)) == 1 else ",".join(
            self.activation)

    def network_activation(self) -> str | list[str]:
        """The ``activation`` the network is built with, as ``numnet train`` builds it from
        :meth:`activation_option` (its default, tanh, without hidden layers)."""
        option = self.activation_option() or "tanh"
        names = option.split(",")
        return names[0] if len(names) == 1 else names

    def data_options(self) -> dict[str, Any]:
        """``load_table``'s keyword arguments that make a generated set (``{}`` for a file)."""
        if not self.generated:
            return {}
        options: dict[str, Any] = {"n_samples": self.samples, "noise": self.noise}
        if self.dataset == "spirals":
            options["arms"] = self.arms
        return options

    def to_command(self, data_file: str | None = None) -> str:
        """The ``numnet train`` command that trains this run and prints its losses
        (shell-quoted); ``data_file`` names an uploaded file as the user has it."""
        words = ["numnet", "train"]
        if self.generated:
            words += [self.dataset, "--samples", str(self.samples), "--noise", _num(self.noise)]
            if self.dataset == "spirals":
                words += ["--arms", str(self.arms)]
        else:
            words.append(data_file or "data.csv")
            if self.target is not None:
                words += ["--target", self.target]
            if self.features is not None:
                words += ["--features", ",".join(self.features)]
        if self.test_fraction > 0:
            words += ["--validation-split", _num(self.test_fraction)]
        words += ["--hidden", ",".join(map(str, self.hidden))]
        if self.activation_option() is not None:
            words += ["--activation", str(self.activation_option())]
        if self.output_activation is not None:
            words += ["--output-activation", self.output_activation]
        if self.loss is not None:
            words += ["--loss", self.loss]
        if not self.bias:
            words.append("--no-bias")
        if self.init is not None:
            words += ["--init", self.init]
        words += ["--optimizer", self.optimizer, "--lr", _num(self.learning_rate),
                  "--batch-size", str(self.batch_size), "--epochs", str(self.epochs)]
        if self.l2 > 0:
            words += ["--l2", _num(self.l2)]
        if self.dropout > 0:
            words += ["--dropout", _num(self.dropout)]
        words += ["--seed", str(self.seed)]
        return shlex.join(words)

    def to_code(self, *, task: str, n_inputs: int, n_outputs: int, output_activation: str,
                loss: str, data_file: str | None = None,
                rate_changes: Sequence[tuple[int, float]] = ()) -> str:
        """Python that reproduces the run with :func:`numnet.fit` (the same data, split,
        preprocessing, network and seed) and saves the model; ``rate_changes`` are
        ``(epoch, rate)`` pairs, the learning rate set before that epoch (0-based)."""
        source = self.dataset if self.generated else (data_file or "data.csv")
        args = [repr(source)]
        if not self.generated:
            args.append(repr(None if self.target is None else [self.target]))
            args.append(repr(self.features))
        args += [f"{k}={v!r}" for k, v in self.data_options().items()]
        if self.generated:
            args.append("random_state=SEED")
        net_args = [str(n_inputs), repr(self.hidden), str(n_outputs),
                    f"activation={self.network_activation()!r}",
                    f"output_activation={output_activation!r}"]
        if not self.bias:
            net_args.append("bias=False")
        if self.init is not None:
            net_args.append(f"init={self.init!r}")
        net_args.append("random_state=SEED")
        fit_args = [f"loss={loss!r}", f"optimizer={self.optimizer!r}",
                    f"learning_rate={self.learning_rate!r}", f"epochs={self.epochs}",
                    f"batch_size={self.batch_size}"]
        if self.l2 > 0:
            fit_args.append(f"l2={self.l2!r}")
        if self.dropout > 0:
            fit_args.append(f"dropout={self.dropout!r}")
        if self.test_fraction > 0:
            fit_args.append("validation_data=(prep.transform(X[test]), "
                            "prep.encode_targets(y[test]))")
        if rate_changes:
            fit_args.append("callbacks=[LambdaCallback(on_epoch_begin=set_rate)]")
        fit_args.append("random_state=SEED")
        lines = [
            f'"""The numnet playground\'s run: {source}, a '
            f'{" -> ".join(map(str, [n_inputs, *self.hidden, n_outputs]))} network '
            f'trained with {self.optimizer}.',
            "",
            "It trains as this command does:",
            f"    {self.to_command(data_file)}",
            '"""',
            "",
            "import numpy as np",
            "",
            "import numnet",
            "from numnet.callbacks import LambdaCallback" if rate_changes else None,
            "from numnet.cli.data import load_table",
            "from numnet.preprocessing import PreprocessedModel, Preprocessing",
            "",
            f"SEED = {self.seed}",
            "",
            f"table = load_table({', '.join(args)})",
            "X, y = table.X, table.y",
            "",
        ]
        if self.test_fraction > 0:
            lines += [
                f"# Hold out {self.test_fraction:.0%} of the rows at random, as numnet train "
                f"--validation-split {_num(self.test_fraction)} does.",
                "order = np.random.default_rng(SEED).permutation(len(X))",
                f"n_test = int(round(len(X) * {self.test_fraction!r}))",
                "train, test = np.sort(order[n_test:]), np.sort(order[:n_test])",
            ]
        else:
            lines.append("train = np.arange(len(X))")
        what = ("Standardise the features on the training rows; number the classes 0, 1, ..."
                if task == "classification" else
                "Standardise the features and the targets on the training rows.")
        lines += [
            "",
            f"# {what}",
            "prep = Preprocessing.fit(X[train], y[train], table.feature_names, "
            "table.target_names,",
            f"                         {task!r})",
            "net = numnet.MLP(",
            *_wrapped(net_args, "    "),
            ")",
        ]
        if rate_changes:
            changes = ", ".join(f"{epoch}: {rate!r}" for epoch, rate in rate_changes)
            lines += [
                "",
                "# The learning rate as it was changed during the run, from these epochs on.",
                f"RATES = {{{changes}}}",
                "",
                "",
                "def set_rate(run, epoch):",
                "    if epoch in RATES:",
                "        run.optimizer.learning_rate = RATES[epoch]",
                "",
            ]
        lines += [
            "",
            "history = numnet.fit(",
            "    net, prep.transform(X[train]), prep.encode_targets(y[train]),",
            *_wrapped(fit_args, "    "),
            ")",
            "print(f\"final loss {history.loss[-1]!r}\")",
            "net.classes_ = prep.classes",
            "PreprocessedModel(net, prep).save(\"model.safetensors\")",
            "",
        ]
        return "\n".join(line for line in lines if line is not None)


def _wrapped(items: list[str], indent: str, width: int = 92) -> list[str]:
    """``items`` joined by commas over lines of at most ``width`` characters."""
    out: list[str] = []
    line = ""
    for item in items:
        piece = f"{item},"
        if line and len(indent) + len(line) + 1 + len(piece) > width:
            out.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    if line:
        out.append(indent + line)
    return out


def _num(value: float) -> str:
    """A number as Python reads it back exactly (``0.03``, ``1e-05``)."""
    return repr(float(value))


# --- parsing -----------------------------------------------------------------------------


def parse(doc: Any) -> Settings:
    """Check the page's settings (a JSON object; missing keys take their defaults).

    Raises
    ------
    SettingsError
        For an unknown key, a value of the wrong type, beyond :data:`LIMITS`,
        or an unknown name (the message lists the valid ones).
    """
    if not isinstance(doc, dict):
        raise SettingsError("settings must be a JSON object, e.g. {\"dataset\": \"moons\"}")
    known = [f.name for f in dataclasses.fields(Settings)]
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting {one_line(unknown[0])!r:.60}; the settings are "
                            f"{', '.join(known)}")
    base = Settings()
    value = {name: doc.get(name, getattr(base, name)) for name in known}

    dataset = _choice(value["dataset"], "dataset", [*DATASETS, UPLOAD])
    samples = _int(value["samples"], "samples", LIMITS["min_samples"], LIMITS["samples"])
    noise = _float(value["noise"], "noise", 0.0, LIMITS["noise"])
    arms = _int(value["arms"], "arms", LIMITS["min_arms"], LIMITS["max_arms"])
    test_fraction = _float(value["test_fraction"], "test_fraction", 0.0,
                           LIMITS["test_fraction"])
    upload_id = _optional_text(value["upload_id"], "upload_id")
    target = _optional_text(value["target"], "target")
    features = value["features"]
    if features is not None:
        if not isinstance(features, list) or not features or not all(
                isinstance(f, str) for f in features):
            raise SettingsError("features must be null (every column but the target) or a "
                                "list of one or more column names")
        if len(features) > LIMITS["upload_columns"]:
            raise SettingsError(f"features names {len(features)} columns, over the limit of "
                                f"{LIMITS['upload_columns']}")
        if len(set(features)) < len(features):
            raise SettingsError("features names a column more than once; name each once")
    if dataset == UPLOAD:
        if upload_id is None:
            raise SettingsError("dataset 'upload' needs upload_id: upload a CSV or TSV file "
                                "first (POST /api/upload)")
        for name in [*(features or []), *([target] if target is not None else [])]:
            check_column_name(name)
        if target is not None and features is not None and target in features:
            raise SettingsError(f"column {one_line(target)!r} is both the target and a "
                                f"feature; choose it as one of them")
    elif upload_id is not None or target is not None or features is not None:
        upload_id = target = None
        features = None                   # a generated set has its own columns

    hidden = value["hidden"]
    if not isinstance(hidden, list):
        raise SettingsError("hidden must be a list of layer widths, e.g. [8, 8] ([] for none)")
    if len(hidden) > LIMITS["layers"]:
        raise SettingsError(f"hidden has {len(hidden)} layers, over the limit of "
                            f"{LIMITS['layers']} hidden layers")
    hidden = [_int(w, "a hidden layer's width", 1, LIMITS["units"]) for w in hidden]
    act = value["activation"]
    if isinstance(act, str):
        act = [act] * len(hidden)
    if not isinstance(act, list) or len(act) != len(hidden):
        raise SettingsError(f"activation must be a list of one name per hidden layer "
                            f"({len(hidden)} here)")
    act = [_choice(a, "activation", hidden_activations()) for a in act]
    output_activation = (None if value["output_activation"] is None else
                         _choice(value["output_activation"], "output_activation",
                                 output_activations()))
    loss = None if value["loss"] is None else _choice(value["loss"], "loss", loss_names())
    bias = value["bias"]
    if not isinstance(bias, bool):
        raise SettingsError("bias must be true or false")
    init = None if value["init"] is None else _choice(value["init"], "init",
                                                      initializer_names())
    optimizer = _choice(value["optimizer"], "optimizer", list(OPTIMIZERS))
    learning_rate = _float(value["learning_rate"], "learning_rate", 0.0,
                           LIMITS["learning_rate"], low_open=True)
    batch_size = _int(value["batch_size"], "batch_size", 1, LIMITS["batch_size"])
    epochs = _int(value["epochs"], "epochs", 1, LIMITS["epochs"])
    l2 = _float(value["l2"], "l2", 0.0, LIMITS["l2"])
    dropout = _float(value["dropout"], "dropout", 0.0, LIMITS["dropout"])
    seed = _int(value["seed"], "seed", 0, LIMITS["seed"])
    return Settings(dataset=dataset, samples=samples, noise=noise, arms=arms,
                    test_fraction=test_fraction, upload_id=upload_id, target=target,
                    features=None if features is None else list(features), hidden=hidden,
                    activation=act, output_activation=output_activation, loss=loss, bias=bias,
                    init=init, optimizer=optimizer, learning_rate=learning_rate,
                    batch_size=batch_size, epochs=epochs, l2=l2, dropout=dropout, seed=seed)


def check_seeds(seeds: Any) -> list[int]:
    """The seeds of a spread (POST /api/seeds): 1 to ``LIMITS["seeds"]`` ints."""
    if not isinstance(seeds, list) or not seeds:
        raise SettingsError("seeds must be a list of one or more seeds, e.g. [0, 1, 2, 3, 4]")
    if len(seeds) > LIMITS["seeds"]:
        raise SettingsError(f"seeds has {len(seeds)} seeds, over the limit of "
                            f"{LIMITS['seeds']} seeds per spread")
    return [_int(s, "a seed", 0, LIMITS["seed"]) for s in seeds]


def check_column_name(name: str) -> None:
    """A column ``numnet train --features/--target`` can name (commas separate names there,
    and it strips spaces round each)."""
    if "," in name or name != name.strip() or not name or printable(name) != name:
        raise SettingsError(f"column {one_line(name)!r:.60} cannot be named on numnet train's "
                            f"command line (a comma, control characters, or spaces at an "
                            f"end): rename it in the file")


def _choice(value: Any, what: str, names: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in names:
        shown = one_line(value) if isinstance(value, str) else type(value).__name__
        raise SettingsError(f"unknown {what} {shown!r:.60}; choose one of {', '.join(names)}")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise SettingsError(f"{what} must be null or a name of 1 to 200 characters")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{what} must be a whole number from {low} to {high}, got "
                            f"{one_line(repr(value))[:40]}")
    if value > high:
        raise SettingsError(f"{what} {value} is over the limit of {high}; choose {low} to "
                            f"{high}")
    if value < low:
        raise SettingsError(f"{what} {value} is under {low}; choose {low} to {high}")
    return value


def _float(value: Any, what: str, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise SettingsError(f"{what} must be a number from {low:g} to {high:g}, got "
                            f"{one_line(repr(value))[:40]}")
    value = float(value)
    if value > high:
        raise SettingsError(f"{what} {value:g} is over the limit of {high:g}; choose at most "
                            f"{high:g}")
    if value < low or (low_open and value == low):
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise SettingsError(f"{what} {value:g} is too small; choose {bound} (up to {high:g})")
    return value

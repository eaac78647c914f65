"""One run of a sweep: make its data (a :class:`DataSource`), build its network, fit it,
measure it.

A run's seed is split (:class:`numpy.random.SeedSequence`) into three streams:
initial weights, training data, ``fit``. The global RNG is never touched, so a
seed gives the same result in any process or worker. On an audio folder
(``"audio:FOLDER"``, :mod:`~numnet.experiments.audio`) the run's seed also seeds the
augmented copies of its training clips (the factors ``augment``, ``augment_copies``).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import logging
import math
import os
import platform
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import numnet
from numnet import MLP, History, fit
from numnet.baselines import MARGIN, learned_nothing
from numnet.training import TrainingWarning
from numnet.validation import check_count

from .audio import AUDIO_PREFIX, AUGMENT_FACTORS, AudioClips, is_audio, read_folder, run_sets
from .plugins import Plugins

logger = logging.getLogger(__name__)

MLP_ARGS = ("hidden_layers", "activation", "output_activation", "bias", "init", "dtype")
FIT_ARGS = ("loss", "optimizer", "learning_rate", "epochs", "batch_size", "shuffle",
            "validation_split", "l2", "dropout", "metrics")
#: Every name a grid may vary: ``n_samples``, ``lr_scale="tutorial"``: the learning rate on
#: the tutorial's scale, and on an audio folder ``augment`` and ``augment_copies``.
FACTORS = (*MLP_ARGS, *FIT_ARGS, "n_samples", "lr_scale", *AUGMENT_FACTORS)
#: The keys of a run's result, in the store's column order. ``train_rows``: the rows it
#: trained on, ``augmented_rows`` of them augmented copies; ``validation_rows``,
#: ``test_rows``: the rows it was measured on (0: no such set).
RESULT_FIELDS = ("key", "status", "settings", "seed", "num_parameters", "final_loss",
                 "train_error", "validation_error", "test_error", "epochs_run", "diverged",
                 "stop_reason", "wall_time", "loss_curve", "error", "worker",
                 "train_baseline", "validation_baseline", "test_baseline", "loss_baseline",
                 "learned_nothing", "train_rows", "augmented_rows", "validation_rows",
                 "test_rows")
#: The sets a run is judged on, first found first: its error against that set's baseline.
JUDGED_ON = ("test", "validation", "train")

Arrays = tuple[np.ndarray, np.ndarray]
# Whether a numnet command (not Python code) made the current call: its messages then name
# options (``--timeout``) rather than arguments (``timeout=``). See :func:`spelled`.
_COMMAND_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "numnet_experiments_command_line", default=False)


@contextlib.contextmanager
def command_line_words() -> Iterator[None]:
    """Within this block, messages of :mod:`numnet.experiments` name what a user of
    ``numnet sweep`` and ``numnet curve`` gives (options, the grid file's keys) rather than
    Python's arguments; the commands run inside it."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


def spelled(python: str, command_line: str) -> str:
    """``python`` (an argument, as ``timeout=``), or ``command_line`` (an option, as
    ``--timeout``) within :func:`command_line_words`: a message names what its reader
    gave."""
    return command_line if _COMMAND_LINE.get() else python


# Fixed seeds of the shared held-out sets: every run is measured on the same points.
_VALIDATION_SEED, _TEST_SEED = 20_241, 20_242


def one_minus_x_grid(n_samples: int = 100, random_state: int | np.random.Generator | None = None
                     ) -> Arrays:
    """The tutorial's data: ``y = 1 - x`` for ``x = i / N``, ``i < N``, shuffled.

    Parameters
    ----------
    n_samples : int, default 100
        ``N``, the number of points (positive).
    random_state : int, numpy.random.Generator or None, default None
        Seeds the shuffle.

    Returns
    -------
    X, y : ndarray of shape (n_samples, 1)
        The inputs ``x`` and the targets ``1 - x``.
    """
    n_samples = check_count(n_samples, "n_samples")
    rng = np.random.default_rng(random_state)
    X = rng.permutation(np.arange(n_samples) / float(n_samples)).reshape(-1, 1)
    return X, 1.0 - X


#: The share of labels :func:`noisy_spirals` flips, and the noise of its points.
FLIPPED, SPIRAL_NOISE = 0.15, 0.2


def noisy_spirals(n_samples: int = 600, random_state: int | np.random.Generator | None = None
                  ) -> Arrays:
    """Two-class spirals (:func:`numnet.datasets.spirals`, noise 0.2) with a random 15% of
    the labels flipped: ``X (n_samples, 2)``, ``y (n_samples,)``. A network that fits every
    training label has learned the flips too: the capacity preset's data."""
    rng = np.random.default_rng(random_state)
    X, y = numnet.datasets.spirals(n_samples, noise=SPIRAL_NOISE, random_state=rng)
    return X, np.where(rng.random(len(y)) < FLIPPED, 1 - y, y)


_OWN_SETS: dict[str, Callable[..., Arrays]] = {"one_minus_x_grid": one_minus_x_grid,
                                               "noisy_spirals": noisy_spirals}


def _generator(name: str) -> Callable[..., Arrays]:
    """The data set ``name``: :data:`numnet.datasets.DATASETS`, ``one_minus_x_grid`` or
    ``noisy_spirals``."""
    if name in _OWN_SETS:
        return _OWN_SETS[name]
    if name in numnet.datasets.DATASETS:
        return lambda **kw: numnet.datasets.get_dataset(name, **kw)
    known = sorted([*numnet.datasets.DATASETS, *_OWN_SETS])
    raise ValueError(f"unknown data set {name!r}; choose from {known}, or "
                     + spelled("pass arrays (X, y)", "give a data file (.csv, .tsv, .parquet, "
                                                     ".npz) or audio:FOLDER (a folder of clips)"))


@dataclass(frozen=True)
class DataSource:
    """A run's data: a named set, or arrays.

    Give ``name`` or ``train``, not both (a ValueError).

    Parameters
    ----------
    name : str or None, default None
        A data set's name (:data:`numnet.datasets.DATASETS`, ``one_minus_x_grid``,
        ``noisy_spirals``): each run makes its training rows from its seed, and the
        held-out sets are made once, from fixed seeds, the same for every run.
    train : tuple of ndarray or None, default None
        ``(X, y)``, X of shape (n_rows, n_features), y of shape (n_rows,) or
        (n_rows, n_outputs): the rows each run draws its ``n_samples`` from.
    validation, test : tuple of ndarray or None, default None
        Held-out ``(X, y)`` with ``train``'s columns (shapes (n_held, n_features) and
        (n_held,) or (n_held, n_outputs)), the same for every run; None: none.
    n_validation, n_test : int, default 200, 1000
        A named set's held-out rows (0: no such set).
    clips : AudioClips or None, default None
        Where ``train``'s rows came from, one clip per row, when read from an audio
        folder: a run may augment them (:mod:`~numnet.experiments.audio`).
    """

    name: str | None = None
    train: Arrays | None = None
    validation: Arrays | None = None
    test: Arrays | None = None
    n_validation: int = 200
    n_test: int = 1000
    clips: AudioClips | None = None

    def __post_init__(self) -> None:
        if (self.name is None) == (self.train is None):
            raise ValueError("a DataSource needs a data set name or training arrays, not both")
        if self.name is not None:
            _generator(self.name)       # fail now, in the driver, on an unknown name
        if self.clips is not None and (self.train is None
                                       or len(self.clips.files) != len(self.train[0])):
            raise ValueError("a DataSource's clips name one file per training row")

    def identity(self) -> dict[str, Any]:
        """What tells this data apart from other data: part of every run's key."""
        if self.name is not None:
            return {"name": self.name, "n_validation": self.n_validation, "n_test": self.n_test}
        digest = hashlib.sha256()
        for part in (self.train, self.validation, self.test):
            for a in part or ():
                a = np.ascontiguousarray(a)
                digest.update(f"{a.dtype.str}{a.shape}".encode())
                digest.update(a.tobytes())
        found = {"arrays": digest.hexdigest()[:16]}
        return found if self.clips is None else {"audio": self.clips.identity(), **found}

    def about(self) -> dict[str, Any]:
        """:meth:`identity` and what the report says of the data beside it (an audio
        folder's name and clips), which run keys leave out."""
        found = self.identity()
        if self.clips is not None:
            found["audio"] = {**found["audio"], **self.clips.about()}
        return found

    def make(self, n_samples: int | None, rng: np.random.Generator
             ) -> tuple[Arrays, Arrays | None, Arrays | None]:
        """The sets of one run.

        Parameters
        ----------
        n_samples : int or None
            The training rows: made (a named set) or drawn without replacement (arrays);
            None: the set's default size, or every row given.
        rng : numpy.random.Generator
            The run's data stream.

        Returns
        -------
        tuple
            ``(train, validation, test)``, each ``(X, y)`` as :class:`DataSource` holds
            them; the held-out sets may be None.
        """
        _, train, val, test = self.draw(n_samples, rng)
        return train, val, test

    def draw(self, n_samples: int | None, rng: np.random.Generator
             ) -> tuple[np.ndarray | None, Arrays, Arrays | None, Arrays | None]:
        """:meth:`make`'s sets, after the indices of the training rows drawn.

        Parameters
        ----------
        n_samples : int or None
            As :meth:`make` takes it.
        rng : numpy.random.Generator
            The run's data stream.

        Returns
        -------
        tuple
            ``(rows, train, validation, test)``: ``rows`` of shape (n_samples,), the
            indices into the given arrays (None for a named set, whose rows are made),
            then :meth:`make`'s sets.
        """
        if self.name is not None:
            gen = _generator(self.name)
            train = gen(**({} if n_samples is None else {"n_samples": n_samples}),
                        random_state=rng)
            val = (gen(n_samples=self.n_validation, random_state=_VALIDATION_SEED)
                   if self.n_validation else None)
            test = gen(n_samples=self.n_test, random_state=_TEST_SEED) if self.n_test else None
            return None, train, val, test
        assert self.train is not None
        X, y = self.train
        rows = np.arange(len(X))
        if n_samples is not None:
            if n_samples > len(X):
                raise ValueError(f"n_samples={n_samples} is more than the {len(X)} training "
                                 f"rows given; use n_samples <= {len(X)}")
            rows = rng.permutation(len(X))[:n_samples]
            X, y = X[rows], y[rows]
        return rows, (X, y), self.validation, self.test


@dataclass
class RunSpec:
    """One run, as an executor hands it out.

    Parameters
    ----------
    key : str
        The run's key in the store (:func:`~numnet.experiments.grid.run_key` of what
        tells it apart).
    settings : dict
        Its value of each factor of its grid.
    seed : int
        Its seed: the weights, the training rows and ``fit`` draw from it.
    data : DataSource
        Its data.
    fit_kwargs : dict, default {}
        Fixed :func:`numnet.fit` arguments; ``settings`` override them.
    plugins : Plugins, default Plugins()
        The modules that register its own activations and losses, imported by the run
        wherever it runs (not part of its key).
    """

    key: str
    settings: dict[str, Any]
    seed: int
    data: DataSource
    fit_kwargs: dict[str, Any] = field(default_factory=dict)
    plugins: Plugins = field(default_factory=Plugins)


def empty_result(spec: RunSpec) -> dict[str, Any]:
    """A result of ``spec`` with nothing measured (the :data:`RESULT_FIELDS` None)."""
    result: dict[str, Any] = dict.fromkeys(RESULT_FIELDS)
    result.update(key=spec.key, settings=dict(spec.settings), seed=int(spec.seed))
    return result


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Train and measure one network as ``spec`` says, never raising.

    Parameters
    ----------
    spec : RunSpec
        The run.

    Returns
    -------
    dict
        The :data:`RESULT_FIELDS`: errors are the loss (regression) or the
        misclassification rate (class labels), each beside its baseline; a run that
        raised has ``status="failed"`` and its ``error``.
    """
    began = time.perf_counter()
    result = empty_result(spec)
    result["worker"] = f"{platform.node()}:{os.getpid()}"
    try:
        spec.plugins.load()         # this process's first run imports them
        result.update(_train_and_measure(spec), status="ok")
    except Exception as exc:  # noqa: BLE001 (a failed run is a result, the sweep goes on)
        logger.info("run %s failed: %s", spec.key, exc)
        result["status"] = "failed"
        result["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    result["wall_time"] = time.perf_counter() - began
    return result


def _train_and_measure(spec: RunSpec) -> dict[str, Any]:
    settings = spec.settings
    unknown = sorted(set(settings) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}")
    init_seq, data_seq, fit_seq = np.random.SeedSequence(spec.seed).spawn(3)
    fit_kwargs = copy.deepcopy(spec.fit_kwargs)      # optimizer objects hold state: one per run
    fit_kwargs.update({k: settings[k] for k in FIT_ARGS if k in settings})
    data_rng = np.random.default_rng(data_seq)
    rows, train, val, test = spec.data.draw(settings.get("n_samples"), data_rng)
    augmented = 0
    if spec.data.clips is not None:     # held out, standardised, augmented: training rows only
        assert rows is not None
        sets = run_sets(spec.data.clips, rows, train, val, test, settings, spec.seed, data_rng,
                        fit_kwargs.pop("validation_split", 0.0) or 0.0)
        train, val, test, augmented = sets.train, sets.validation, sets.test, sets.augmented
        X, y = sets.fit
    elif any(k in settings for k in AUGMENT_FACTORS):
        raise ValueError(f"augment applies to audio folders ({AUDIO_PREFIX}FOLDER) only")
    else:
        X, y = train
    mlp_kwargs = {k: settings[k] for k in MLP_ARGS if k in settings}
    hidden = mlp_kwargs.pop("hidden_layers", (3,))
    labels = np.ndim(y) == 1 and np.asarray(y).dtype.kind in "iubOUS"
    if labels:
        classes = len(np.unique(y))
        outputs = 1 if classes <= 2 else classes
        if outputs == 1:
            fit_kwargs.setdefault("loss", "binary_cross_entropy")
        else:
            mlp_kwargs.setdefault("output_activation", "softmax")
    else:
        outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    net = MLP(np.shape(X)[1], hidden, outputs, **mlp_kwargs,
              random_state=np.random.default_rng(init_seq))
    scale = settings.get("lr_scale", "fit")
    if scale not in ("fit", "tutorial"):
        raise ValueError(f"lr_scale must be 'fit' or 'tutorial', got {scale!r}")
    if scale == "tutorial":     # rate lr on 0.5 * sum((t - o)**2) is lr * outputs / 2 on the MSE
        if "learning_rate" not in fit_kwargs:
            raise ValueError("lr_scale='tutorial' needs a learning_rate setting")
        fit_kwargs["learning_rate"] = fit_kwargs["learning_rate"] * net.num_outputs / 2.0
    if val is not None and not fit_kwargs.get("validation_split", 0.0):
        fit_kwargs.setdefault("validation_data", val)
    with warnings.catch_warnings():     # the run records whether it learned (learned_nothing)
        warnings.simplefilter("ignore", TrainingWarning)
        history = fit(net, X, y, verbose=False, random_state=np.random.default_rng(fit_seq),
                      **fit_kwargs)
    if history.interrupted:       # Ctrl-C: a cut-short run is not a result; stop the sweep
        raise KeyboardInterrupt
    result = _measure(net, history, fit_kwargs, train, val, test, labels)
    split = fit_kwargs.get("validation_split", 0.0)
    held = int(round(len(X) * split)) if split else 0       # as fit holds them out
    result.update(train_rows=len(X) - held, augmented_rows=augmented,
                  validation_rows=held if split else 0 if val is None else len(val[0]),
                  test_rows=0 if test is None else len(test[0]))
    return result


def _measure(net: MLP, history: History, fit_kwargs: Mapping[str, Any], train: Arrays,
             val: Arrays | None, test: Arrays | None, labels: bool) -> dict[str, Any]:
    """Errors on each set and their baselines (the constant fitted on the training targets,
    :mod:`numnet.baselines`, scored the same way), whether the run beat its baseline, the
    loss curve and its baseline (the constant's training loss), epochs run, divergence."""
    def scores(data: Arrays | None) -> tuple[float | None, float | None]:
        if data is None:
            return None, None
        if labels:
            got = numnet.evaluate(net, *data, loss=loss, metrics=["accuracy"],
                                  baseline_from=train[1])
            return 1.0 - got["accuracy"], 1.0 - got["baseline_accuracy"]
        got = numnet.evaluate(net, *data, loss=loss, baseline_from=train[1])
        return float(got["loss"]), float(got["baseline_loss"])

    loss = fit_kwargs.get("loss")
    curve = [float(v) for v in history.loss]
    final = curve[-1] if curve else math.nan
    stop = history.stop_reason
    split = fit_kwargs.get("validation_split", 0.0) and history.val_loss
    train_error, train_base = scores(train)
    val_error, val_base = (history.val_loss[-1], None) if split else scores(val)
    test_error, test_base = scores(test)
    loss_base = numnet.evaluate(net, *train, loss=loss, baseline_from=train[1])["baseline_loss"]
    result = {"num_parameters": int(net.num_parameters), "final_loss": final,
              "train_error": train_error, "validation_error": val_error,
              "test_error": test_error, "epochs_run": history.epochs,
              "diverged": bool(stop is not None and stop.startswith("diverged")
                               or not math.isfinite(final)),
              "stop_reason": stop, "loss_curve": curve, "train_baseline": train_base,
              "validation_baseline": val_base, "test_baseline": test_base,
              "loss_baseline": float(loss_base)}
    result["learned_nothing"] = judge(result)
    return result


def judge(result: Mapping[str, Any], margin: float = MARGIN) -> bool | None:
    """Whether a run learned nothing: its error on the first of :data:`JUDGED_ON` that it
    has, against that set's baseline (:func:`numnet.baselines.learned_nothing`, lower is
    better); None where no set has both (a failed run, or one stored without baselines).
    A NaN error (a diverged run) learned nothing."""
    for name in JUDGED_ON:
        error, base = result.get(f"{name}_error"), result.get(f"{name}_baseline")
        if _number(error) and _number(base):
            return learned_nothing(float(error), float(base), margin=margin)  # type: ignore[arg-type]
        if _number(base) and error is not None:
            return True
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and not math.isnan(value)


def make_data_source(data: Any, n_validation: int = 200, n_test: int = 1000,
                     test_size: float = 0.2) -> DataSource:
    """A sweep's data as a :class:`DataSource`.

    Parameters
    ----------
    data : str, tuple, mapping or DataSource
        A data set's name; ``"audio:FOLDER"`` (its clips' features read here, once:
        :func:`~numnet.experiments.audio.read_folder`); arrays ``(X, y)``, X of shape
        (n_rows, n_features) (a 1-D X is one feature), y of shape (n_rows,) or
        (n_rows, n_outputs); ``{"train": (X, y), "validation": (X, y), "test": (X, y)}``
        (``validation`` and ``test`` optional); or a ``DataSource``, returned as it is.
    n_validation, n_test : int, default 200, 1000
        A named set's held-out rows, shared by every run.
    test_size : float, default 0.2
        Arrays ``(X, y)``: the share of rows held out as the test set, in [0, 1), always
        the same rows (none when that rounds to no row, or to all of them).

    Returns
    -------
    DataSource
        The data every run of the sweep draws from.
    """
    if isinstance(data, DataSource):
        return data
    if is_audio(data):
        sets = read_folder(data)
        return DataSource(train=sets[0], validation=sets[1], test=sets[2], clips=sets[3])
    if isinstance(data, str):
        return DataSource(name=data, n_validation=n_validation, n_test=n_test)
    if isinstance(data, Mapping):
        if set(data) - {"train", "validation", "test"} or "train" not in data:
            raise ValueError(f"data as a mapping needs 'train' (and optionally 'validation', "
                             f"'test'), got keys {sorted(data)}")
        parts = {k: _pair(v, k) for k, v in data.items()}
        return DataSource(train=parts["train"], validation=parts.get("validation"),
                          test=parts.get("test"))
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = _pair(data, "data")
        if not 0.0 <= test_size < 1.0:
            raise ValueError(f"test_size must be in [0, 1), got {test_size}")
        n_test_rows = int(round(len(X) * test_size))
        if n_test_rows < 1 or n_test_rows >= len(X):
            return DataSource(train=(X, y))
        order = np.random.default_rng(len(X)).permutation(len(X))   # fixed: same test set
        test, train = order[:n_test_rows], order[n_test_rows:]
        return DataSource(train=(X[train], y[train]), test=(X[test], y[test]))
    raise TypeError(f"data must be a data set name, (X, y) arrays, a mapping of 'train'/"
                    f"'validation'/'test' to (X, y), or a DataSource; got {type(data).__name__}")


def _pair(value: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (X, y) of arrays")
    X, y = np.asarray(value[0]), np.asarray(value[1])
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}")
    return X, y

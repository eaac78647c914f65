"""What the commands share: option parsing, data and model loading, errors and warnings.

Errors a person can act on (a missing file, a bad column, a model that does
not fit the data, a network too large for memory) end the command with a
one-line ``Error: ...`` and exit code 1, never a traceback; warnings print as
one ``warning: ...`` line. Every option a command takes is applied or refused:
:func:`given` tells an option typed on the command line from its default, so
that an option that does not apply to the data given is refused, not ignored.
Every score a command prints has its baseline beside it: the same score of
always predicting the training rows' mean (median for MAE) or majority class
(:func:`baseline_scores`), and a model that beats none is said to have
learned nothing (:func:`verdict`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click
import numpy as np

from numnet import metrics
from numnet.baselines import class_counts, not_beaten
from numnet.terminal import one_line, printable
from numnet.validation import format_bytes

from . import data

F = TypeVar("F", bound=Callable[..., Any])

DATA_HELP = f"DATA is {data.describe_sources()}."


class Finite(click.FloatRange):
    """click's ``FloatRange`` that also refuses ``nan`` and ``inf``, which pass its bounds
    (every comparison with NaN is false): a usage error naming the option, exit 2,
    before any work. Every float option of the command line takes it."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class CliError(click.ClickException):
    """A problem with what the user gave: one line, exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def _message(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"no such file: '{exc.filename}'"
    if isinstance(exc, IsADirectoryError) and exc.filename is not None:
        return f"'{exc.filename}' is a directory, not a file"
    if isinstance(exc, PermissionError) and exc.filename is not None:
        return f"permission denied: '{exc.filename}'"
    text = str(exc) or type(exc).__name__
    if "this process knows" in text and "register" in text:     # a custom activation or loss
        text += ("; on the command line, name a module that registers it: numnet --plugin "
                 "MODULE COMMAND ...")
    return text


def memory_message(exc: MemoryError) -> str:
    """What ran out, how much was asked for, and what to do: one line."""
    shape, dtype = getattr(exc, "shape", None), getattr(exc, "dtype", None)
    asked = ""
    if shape is not None and dtype is not None:
        size = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
        asked = (f": an array of shape {tuple(shape)} ({np.dtype(dtype).name}) needs "
                 f"{format_bytes(size)}")
    return (f"out of memory{asked}; use narrower or fewer hidden layers (--hidden), a smaller "
            f"--batch-size, or fewer rows")


def user_errors(func: F) -> F:
    """Turn the errors that bad input causes into one-line :class:`CliError`\\ s."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            raise                   # the reader went away (`| head`): main() ends quietly
        except (ValueError, TypeError, OSError, ImportError) as exc:
            raise CliError(_message(exc)) from exc
        except MemoryError as exc:
            raise CliError(memory_message(exc)) from None
    return wrapper  # type: ignore[return-value]


def given(name: str) -> bool:
    """Whether option ``name`` (its parameter name) was given, not left at its default."""
    ctx = click.get_current_context()
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT,
                          click.core.ParameterSource.DEFAULT_MAP)


def refuse_unless(applies: bool, option: str, why: str) -> None:
    """Refuse ``option`` (given on the command line) when it does not apply; ``why`` says so."""
    if not applies and given(option.lstrip("-").replace("-", "_")):
        raise CliError(f"{option} {why}; leave it out")


def file_input(source: str | None) -> str | None:
    """The file (or audio folder) a DATA source reads, or None for a built-in set."""
    if source is None or source in data.BUILTIN:
        return None
    if source.startswith(data.AUDIO_PREFIX):
        return source[len(data.AUDIO_PREFIX):]
    return source


def generated(source: str | None) -> bool:
    """Whether DATA is a generated set, the only kind --samples (and a data seed) changes."""
    return source in data.GENERATED


def refuse_generation(source: str | None, instead: str | None = None) -> None:
    """Refuse ``--noise`` (data that is not a generated set) and ``--arms`` (any set but
    spirals) where they do not apply; ``instead`` says what the data is when it is no
    source (``"--values is one sample"``)."""
    rows = instead or f"{printable(str(source))} has its own rows"
    classes = instead or f"{printable(str(source))} has its own classes"
    refuse_unless(generated(source), "--noise",
                  f"sets the noise of a generated data set ({', '.join(data.GENERATED)}); "
                  f"{rows}")
    refuse_unless(source == "spirals", "--arms",
                  f"sets the number of arms (classes) of spirals only; {classes}")


def generation(source: str, noise: float | None, arms: int | None, model: Any = None
               ) -> tuple[float | None, int | None]:
    """The ``(noise, arms)`` that generate ``source`` (None: the set's own; see
    :func:`numnet.cli.data.generator_options`) for a command whose ``--noise`` and
    ``--arms`` were ``noise`` and ``arms``.

    Each option given wins. For an existing ``model`` trained on ``source``, each
    one left out is the one its training record holds (said on stderr in one
    line), so that the model is scored on data from the distribution it learned;
    a record without them (an older file) leaves the set's own. Then xor is its
    four points unless ``--samples`` asks for the sampled set (noise 0), as
    ``numnet train`` makes it.
    """
    if model is not None and source in data.GENERATED:
        noise, arms = _recorded_generation(model, source, noise, arms)
    if source == "xor" and noise is None and given("samples"):
        noise = 0.0
    return noise, arms


def _recorded_generation(model: Any, source: str, noise: float | None, arms: int | None
                         ) -> tuple[float | None, int | None]:
    """``noise`` and ``arms``, each left out (None) taken from ``model``'s training record
    when it was trained on ``source``, and said so."""
    record = model.metadata.get("training")
    if not isinstance(record, dict) or record.get("data") != source:
        return noise, arms
    used = []
    if arms is None and source == "spirals" and record.get("arms") is not None:
        arms = record["arms"]
        if isinstance(arms, bool) or not isinstance(arms, int) or arms < 2:
            raise CliError(f"the model's training record holds arms "
                           f"{printable(repr(arms))}, not a number of spiral arms (an "
                           f"integer, 2 or more); give --arms N")
        used.append(f"--arms {arms}")
    if noise is None and record.get("noise") is not None:
        noise = record["noise"]
        if (isinstance(noise, bool) or not isinstance(noise, (int, float))
                or not np.isfinite(noise) or noise < 0):
            raise CliError(f"the model's training record holds noise "
                           f"{printable(repr(noise))}, not a noise (a number, 0 or more); "
                           f"give --noise X")
        noise = float(noise)
        used.append(f"--noise {noise:g}" + (" (sampled points, not its 4 corners)"
                                            if source == "xor" else ""))
    if used:
        others = " or ".join(option.split()[0] for option in used)
        click.echo(f"generating {source} as the model was trained on it (its training "
                   f"record): {', '.join(used)}; give {others} to choose otherwise", err=True)
    return noise, arms


def check_plot(option: str, path: str | None) -> None:
    """Refuse a plot path numnet would not honour (not .png), or plotting without matplotlib."""
    if path is None:
        return
    if not path.lower().endswith(".png"):
        raise CliError(f"{option} {path}: numnet draws PNG images; give a file name ending "
                       f"in .png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CliError(f"{option} needs matplotlib, in the plots extra: pip install "
                       f"'numnet[plots]'") from None


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    click.echo(f"warning: {one_line(message)}", err=True)


@contextlib.contextmanager
def clean_warnings() -> Iterator[None]:
    """While the command runs: warnings as one line each, no source line under them."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def parse_ints(value: str, what: str = "hidden layer widths") -> list[int]:
    """``"64,32"`` -> ``[64, 32]``; ``""`` -> ``[]``."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{what}: expected comma-separated integers such as 64,32; got {value!r}") from None


def parse_activation(value: str) -> str | list[str]:
    """``"relu"`` -> ``"relu"`` (every hidden layer); ``"relu,tanh"`` -> one per hidden layer."""
    names = [v.strip() for v in value.split(",")]
    return names[0] if len(names) == 1 else names


def activation_text(activation: str | list[str]) -> str:
    """A network's hidden activation(s) for a message: ``"relu"`` or ``"relu, tanh"``."""
    return activation if isinstance(activation, str) else ", ".join(activation)


def parse_floats(value: str) -> list[float]:
    """``"0.1,0.2"`` -> ``[0.1, 0.2]``."""
    try:
        values = [float(v) for v in value.replace(" ", ",").split(",") if v.strip()]
    except ValueError:
        raise CliError(f"--values: expected comma-separated numbers such as 0.1,0.2; "
                       f"got {value!r}") from None
    if not values:
        raise CliError("--values: give at least one number, e.g. --values 0.1,0.2")
    return values


def split_names(values: Sequence[str] | None, option: str = "--features"
                ) -> list[str] | None:
    """Column names from repeated options and/or commas: ``("a,b", "c")`` -> ``[a, b, c]``.

    A name given twice is refused: ``--features a,a`` would train on one column twice.
    """
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    twice = data.repeated_names(names)
    if twice:
        raise CliError(f"{option} names column {twice[0]!r} more than once; name each column "
                       f"once")
    return names


def data_source(data_arg: str | None, data_opt: str | None, required: bool = True
                ) -> str | None:
    """DATA given as the argument or (the earlier form) as ``--data``."""
    if data_arg and data_opt and data_arg != data_opt:
        raise CliError(f"give DATA once: as an argument ({data_arg!r}) or with --data "
                       f"({data_opt!r}), not both")
    source = data_arg or data_opt
    if source is None and required:
        raise CliError(f"missing DATA: {DATA_HELP}")
    return source


def load_model(path: str) -> Any:
    """A :class:`numnet.preprocessing.PreprocessedModel` from a model file."""
    from numnet.preprocessing import PreprocessedModel
    if not os.path.exists(path):
        raise CliError(f"no such model file: '{path}'")
    kind = data.file_kind(path)
    if kind is not None:
        raise CliError(f"'{path}' is {kind}, not a model file; give the .safetensors file "
                       f"that numnet train wrote")
    return PreprocessedModel.load(path)


def audio_settings(model: Any, source: str) -> dict:
    """The feature settings a model trained on audio keeps (its ``audio`` metadata), so that
    ``source`` (``audio:FOLDER``) is read into the features it was trained on."""
    stored = model.metadata.get("audio")
    if not isinstance(stored, dict):
        raise CliError(f"this model was not trained on audio (no audio feature settings in "
                       f"it), so it cannot read {printable(source)}; give a data file")
    return stored


def model_table(model: Any, source: str, target: Sequence[str] | None, n_samples: int,
                seed: int, need_target: bool, target_columns: int | None = None,
                ids: str | None = None, noise: float | None = None,
                arms: int | None = None) -> data.Table:
    """The model's feature columns (and target columns if asked) read from ``source``.

    A model trained by ``numnet train`` knows its column names; a plain
    :func:`numnet.save` file does not, so its features are the data's columns
    that are not the target, in order. ``ids`` names a column kept as it is
    (``Table.ids``). A generated set is made with ``noise`` and ``arms`` (the
    command's options, None when left out), else with those the model was trained
    with (:func:`generation`), as an audio folder is read with the model's feature
    settings.
    """
    prep = model.preprocessing
    if source.startswith(data.AUDIO_PREFIX):
        table = data.load_table(source, audio_settings=audio_settings(model, source))
    else:
        noise, arms = generation(source, noise, arms, model)
        frame = data.read_source(source, n_samples=n_samples, random_state=seed, noise=noise,
                                 arms=arms)
        columns = list(frame.columns)
        if target_columns is not None:
            if target:
                raise CliError("give --target (column names) or --target-columns, not both")
            if target_columns >= len(columns):
                raise CliError(f"{source}: --target-columns {target_columns} leaves no feature "
                               f"columns of {len(columns)}")
            target = columns[-target_columns:]
        if model.columns_known:
            features = prep.feature_names
        else:
            default = [data.default_target(columns)]
            drop = list(target) if target else default if (
                need_target or len(columns) > prep.n_features) else []
            features = [c for c in columns if c not in drop]
            if not target:
                target = default
        missing = [c for c in features if c not in columns]
        if missing:
            raise CliError(
                f"{source}: the model takes {prep.n_features} feature(s) "
                f"({', '.join(features[:10])}{', ...' if len(features) > 10 else ''}), but the "
                f"data lacks {', '.join(map(repr, missing[:5]))}; its columns are "
                f"{', '.join(columns[:20])}")
        targets: list[str] = []
        if need_target:
            targets = list(target) if target else prep.target_names
            absent = [t for t in targets if t not in columns]
            if absent:
                raise CliError(f"{source}: no target column {absent[0]!r} (the model's "
                               f"target); its columns are {', '.join(columns[:20])}; "
                               f"name the target with --target COL")
        table = data.table_from_frame(frame, source, targets, features)
        if ids is not None:
            if ids not in columns:
                raise CliError(f"{source}: no column {printable(ids)!r} for --id; its columns "
                               f"are {', '.join(map(printable, columns[:20]))}")
            table.ids = frame[ids].to_numpy()
    if table.X.shape[1] != prep.n_features:
        raise CliError(f"{source}: the model takes {prep.n_features} feature(s), the data has "
                       f"{table.X.shape[1]}")
    return table


# --noise and --arms of the commands that generate a data set for an existing model.
MODEL_GENERATION = {
    "noise": click.option("--noise", default=None, type=Finite(min=0), metavar="X",
                          help="Noise of a generated data set. Default: the noise the model "
                               "was trained with on that set (its training record), else the "
                               "set's own. Refused for files and bundled sets."),
    "arms": click.option("--arms", default=None, type=click.IntRange(min=2), metavar="N",
                         help="spirals only: its number of arms. Default: the model's (its "
                              "training record), else 2."),
}


def fmt(value: float) -> str:
    """A score for a table: 4 significant digits."""
    return f"{value:.4g}"


def echo_table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None,
               err: bool = False) -> None:
    """Print aligned columns: the first left-aligned, the rest right-aligned."""
    cells = [[printable(c) for c in header]] if header else []
    cells += [[printable(c) for c in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                         strict=True)]
        click.echo("  " + "  ".join(parts).rstrip(), err=err)


def training_baseline(model: Any, y_train: np.ndarray) -> dict[str, Any]:
    """What a model file keeps of its training rows' targets, for baselines on any data: the
    class counts (in ``model.classes`` order), or each target's mean and median (data units).

    ``y_train``: ``(n,)`` labels, or ``(n,)``/``(n, n_targets)`` numbers.
    """
    if model.is_classifier:
        counts = class_counts(y_train, list(model.classes))[1]
        return {"class_counts": [int(k) for k in counts]}
    Y = np.asarray(y_train, dtype=np.float64).reshape(len(y_train), -1)
    return {"mean": [float(v) for v in Y.mean(axis=0)],
            "median": [float(v) for v in np.median(Y, axis=0)]}


def stored_baseline(model: Any) -> dict[str, Any] | None:
    """The :func:`training_baseline` a model file holds (``numnet train`` writes it in its
    training record), checked against the model; None when it holds none that fits."""
    record = model.metadata.get("training")
    found = record.get("baseline") if isinstance(record, dict) else None
    if not isinstance(found, dict):
        return None

    def numbers(key: str, count: int) -> bool:
        values = found.get(key)
        return (isinstance(values, list) and len(values) == count and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
            for v in values))

    if model.is_classifier:
        counts = found.get("class_counts")
        if (numbers("class_counts", len(model.classes or [])) and isinstance(counts, list)
                and all(isinstance(k, int) and k >= 0 for k in counts) and sum(counts) > 0):
            return {"class_counts": counts}
        return None
    k = len(model.preprocessing.target_names)
    if numbers("mean", k) and numbers("median", k):
        return {"mean": found["mean"], "median": found["median"]}
    return None


def majority(model: Any, baseline: dict[str, Any]) -> Any:
    """The majority class of a classifier's :func:`training_baseline` (ties: the first)."""
    return list(model.classes)[int(np.argmax(baseline["class_counts"]))]


def baseline_scores(model: Any, baseline: dict[str, Any], y: np.ndarray) -> dict[str, float]:
    """The scores ``numnet train`` prints (accuracy and macro F1; MSE, MAE and R²) of always
    predicting the :func:`training_baseline`'s constant for the targets ``y`` (n rows):
    the majority class; the mean (the median for MAE)."""
    n = len(y)
    if model.is_classifier:
        index = int(np.argmax(baseline["class_counts"]))
        pred = np.asarray(model.classes)[np.full(n, index)]
        s = metrics.classification_scores(y, pred, list(model.classes))
        return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
    Y = np.asarray(y, dtype=np.float64).reshape(n, -1)
    scores = metrics.regression_scores(Y, np.tile(baseline["mean"], (n, 1)))
    scores["mae"] = metrics.mean_absolute_error(Y, np.tile(baseline["median"], (n, 1)))
    if abs(scores["r2"]) < 1e-9:        # the mean on its own rows: 0, up to rounding
        scores["r2"] = 0.0
    return scores


def baseline_text(model: Any, baseline: dict[str, Any], rows: str = "the training rows'"
                  ) -> str:
    """``"always predicting the training rows' majority class, setosa"``, or their mean."""
    if model.is_classifier:
        return f"always predicting {rows} majority class, {printable(majority(model, baseline))}"
    return f"always predicting {rows} mean, or their median for mae"


def verdict(sets: Sequence[tuple[str, dict[str, float], dict[str, float]]], primary: str,
            what: str, retrain: str, generalise: str) -> list[str]:
    """The lines that say a model learned nothing, or which scores do not beat the baseline.

    ``sets``: ``(name, scores, baseline scores)`` of each scored set, the
    training rows first where there are some. A set whose ``primary`` score
    (accuracy; mse) does not beat its baseline
    (:func:`numnet.baselines.learned_nothing`) makes a ``learned nothing:
    ...`` line with what to try (``retrain``, or ``generalise`` when only
    held-out rows fail); a set where only other scores fail (a macro F1, an
    MAE) makes a ``note: ...`` line. The primary score decides because the
    others' baselines are weak: any predictor that varies beats a constant's
    macro F1, learned or not.
    """
    failed, partial = [], []
    for name, scores, bases in sets:
        losing = not_beaten(scores, bases)
        said = ", ".join(f"{k} {fmt(scores[k])} against {fmt(bases[k])}" for k in losing)
        if primary in losing:
            failed.append((name, said))
        elif losing:
            partial.append(f"note: on {name}, {said}: {'does' if len(losing) == 1 else 'do'} "
                           f"not beat {what}")
    lines = []
    if failed:
        todo = retrain if failed[0][0] == sets[0][0] else generalise
        lines.append(f"learned nothing: the model does no better than {what} ("
                     + "; ".join(f"{name}: {said}" for name, said in failed) + f"); {todo}")
    return lines + partial


def import_plugin(name: str) -> None:
    """Import the module ``name`` (``--plugin``), which registers activations or losses; the
    current folder is searched first, as ``python -m`` does. One-line errors for a module
    that is missing or fails."""
    import importlib
    import sys

    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise CliError(f"--plugin {printable(name)}: no such module (give a module name "
                           f"importable from here, e.g. my_activations for "
                           f"./my_activations.py)") from None
        raise CliError(f"--plugin {printable(name)} failed: {one_line(exc)}") from None
    except Exception as exc:             # the plugin's own error, in one line
        raise CliError(f"--plugin {printable(name)} failed: {type(exc).__name__}: "
                       f"{one_line(exc)}") from None

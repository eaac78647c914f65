"""Data for the ``numnet`` command: files read with pandas, built-in sets, audio folders.

:func:`load_table` turns a *source* into a :class:`Table` of named feature and
target columns. A source is

- a file: ``.csv``, ``.tsv`` (or ``.tab``), ``.parquet`` (or ``.pq``) with a
  header row, or ``.npz`` holding arrays ``X`` and ``y`` (columns named
  ``x0, x1, ...`` and ``y``, or ``y0, y1, ...``) or one 1-D array per column;
- a built-in set by name: the tutorial's ``one_minus_x`` and ``sum_of_two``,
  ``xor``, ``sine``, ``spirals``, ``moons``, ``circles`` and ``gaussians``
  (generated, seeded, with their ``noise`` and, for spirals, their ``arms``
  as options: see :func:`generator_options`; columns ``x0, x1, ...`` and
  ``y``), ``tones`` (features of synthetic clips, labelled
  with their waveform's name), and scikit-learn's bundled ``digits``, ``iris``,
  ``wine``, ``breast_cancer`` and ``diabetes`` (scikit-learn's column names;
  class sets give their class names as labels);
- ``audio:PATH``, a folder with one subfolder of audio clips per class (the
  ``audio`` extra; see :mod:`numnet.audio`), or a data split: a folder of
  ``train/`` and ``test/`` (and ``valid/``) such folders, which
  :func:`load_table` reads only when asked (``audio_split=True``: the table of
  ``train/``, with the other parts in :attr:`Table.parts`) and otherwise refuses,
  naming its parts, so that no command trains or scores on the whole of it.

Every column that is not a target is a feature unless ``features`` names
them. Features must be numeric (booleans count as 0/1) and complete; a
problem is a :class:`DataError` (a ``ValueError``) whose message names the
source and the column and says what to do.

Needs pandas (the ``cli`` extra), and pyarrow for Parquet.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import os
import stat
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numnet import datasets
from numnet.terminal import printable

__all__ = ["Table", "DataError", "load_table", "read_frame", "is_number", "file_kind",
           "fingerprint", "repeated_names", "split_parts", "generator_options", "BUILTIN",
           "GENERATED", "BUNDLED", "FILE_SUFFIXES", "AUDIO_PREFIX"]

GENERATED = tuple(datasets.DATASETS)
BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")
BUILTIN = GENERATED + BUNDLED
FILE_SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq", ".npz")
AUDIO_PREFIX = "audio:"
_CLASS_SETS = ("iris", "wine", "breast_cancer")      # labels become the class names
_DUPLICATES = "numnet.duplicates"     # frame.attrs key: {name pandas gave: name in the file}
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a directory"))


class DataError(ValueError):
    """Data that numnet cannot use as given; the message says what to change."""


@dataclass
class Table:
    """Named columns, split into features and targets.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,) for one target (any dtype: numbers,
        strings, booleans), (n_samples, n_targets) float64 for several, or
        None when no target was asked for
    feature_names, target_names : list of str
    source : str
        What was read, for messages.
    audio : dict or None
        Feature settings, for data read from an audio folder.
    files : list of str or None
        One file per row, for data read from an audio folder.
    folder : str or None
        The folder the rows' ``files`` are in (an audio class folder, or a split's part).
    parts : dict of str -> Table, or None
        For a data split read with ``audio_split=True``: ``"test"`` and, when the
        split has one, ``"valid"`` (this table is ``train/``).
    ids : ndarray of shape (n_samples,) or None
        A column carried through to the output as it is (``numnet predict --id``).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    source: str
    audio: dict | None = None
    files: list[str] | None = field(default=None, repr=False)
    folder: str | None = None
    parts: dict[str, Table] | None = field(default=None, repr=False)
    ids: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("reading data files needs pandas: pip install 'numnet[cli]'") from exc
    return pandas


def describe_sources() -> str:
    """One line that lists what a source can be (for help texts and errors)."""
    return (f"a .csv/.tsv/.parquet/.npz file, {AUDIO_PREFIX}FOLDER, or a built-in set: "
            f"{', '.join(BUILTIN)}")


def file_kind(path: str | os.PathLike) -> str | None:
    """What ``path`` is if it exists but is not a regular file (``"a directory"``, ...), else None.

    Uses ``os.stat`` only (links followed): a named pipe is never opened, as
    opening one blocks until something writes to it.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


def read_frame(path: str | os.PathLike) -> Any:
    """A data file as a pandas DataFrame, by its suffix (see the module docstring).

    Raises
    ------
    DataError
        If the file is missing, not a regular file (a directory, a named pipe,
        a device), empty, has a header but no rows, or is not readable as its
        suffix says.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise DataError(f"'{path}': unknown file type {suffix or '(no suffix)'}; numnet reads "
                        f"{', '.join(FILE_SUFFIXES)} files")
    if not path.exists():
        raise DataError(f"no such file: '{path}'")
    kind = file_kind(path)
    if kind is not None:
        raise DataError(f"'{path}' is {kind}, not a data file; numnet reads data from regular "
                        f"files: save the data to a file first")
    if path.stat().st_size == 0:
        raise DataError(f"'{path}' is empty (0 bytes)")
    pd = _pandas()
    try:
        if suffix in (".csv", ".tsv", ".tab"):
            frame = pd.read_csv(path, sep="," if suffix == ".csv" else "\t",
                                skipinitialspace=True)
        elif suffix in (".parquet", ".pq"):
            frame = _read_parquet(pd, path)
        else:
            frame = _read_npz(pd, path)
    except pd.errors.EmptyDataError:
        raise DataError(f"'{path}' holds no data (only blank lines)") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"'{path}' is not a valid {suffix[1:].upper()} file: "
                        f"{_one_line(exc)}") from None
    except UnicodeDecodeError:
        raise DataError(f"'{path}' is not a text file (not UTF-8); is it really "
                        f"{suffix[1:].upper()}?") from None
    if frame.shape[1] == 0:
        raise DataError(f"'{path}' has no columns")
    if len(frame) == 0:
        header = ", ".join(map(str, frame.columns[:10]))
        raise DataError(f"'{path}' has a header ({header}) but no rows of data")
    names = _header_names(pd, path, suffix)
    frame.columns = [str(c) for c in frame.columns]
    if names is not None and len(names) == frame.shape[1]:
        repeated = {name for name in repeated_names(names) if name}
        frame.attrs[_DUPLICATES] = {given: name for given, name in
                                    zip(frame.columns, names, strict=True) if name in repeated}
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if unnamed:
        warnings.warn(f"'{path}': {len(unnamed)} column(s) have no name in the header "
                      f"({', '.join(unnamed[:3])}); a saved row index would be used as a "
                      f"feature: name the columns, or choose them with --features",
                      stacklevel=2)
    if suffix in (".csv", ".tsv", ".tab") and all(is_number(c) for c in frame.columns):
        frame = pd.read_csv(path, sep="," if suffix == ".csv" else "\t", header=None,
                            skipinitialspace=True)
        frame.columns = [f"x{j}" for j in range(frame.shape[1] - 1)] + ["y"]
        frame.attrs.pop(_DUPLICATES, None)
        warnings.warn(f"'{path}' has no header row; its columns are named "
                      f"{', '.join(frame.columns[:4])}{', ...' if frame.shape[1] > 4 else ''} "
                      f"(the last one is y)", stacklevel=2)
    return frame


def _header_names(pd: Any, path: Path, suffix: str) -> list[str] | None:
    """The column names as the file spells them (pandas renames a repeated ``a`` to ``a.1``)."""
    if suffix in (".csv", ".tsv", ".tab"):
        row = pd.read_csv(path, sep="," if suffix == ".csv" else "\t", header=None, nrows=1,
                          dtype=str, keep_default_na=False, skipinitialspace=True)
        return [str(c) for c in row.iloc[0].tolist()] if len(row) else None
    return None


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (``float(text)`` succeeds)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_parquet(pd: Any, path: Path) -> Any:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError("reading Parquet files needs pyarrow: pip install 'numnet[cli]'"
                          ) from exc
    import pyarrow.lib
    import pyarrow.parquet
    try:
        names = [str(n) for n in pyarrow.parquet.read_schema(path).names]
        repeated = repeated_names(names)
        if repeated:
            raise DataError(f"'{path}': {_repeated_message(names, repeated)}")
        return pd.read_parquet(path, engine="pyarrow")
    except pyarrow.lib.ArrowException as exc:
        raise DataError(f"'{path}' is not a valid Parquet file: {_one_line(exc)}") from None


def repeated_names(names: Sequence[str]) -> list[str]:
    """The names that occur more than once in ``names``, sorted."""
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _repeated_message(names: list[str], repeated: list[str]) -> str:
    where = "; ".join(f"{name!r} is columns "
                      f"{', '.join(str(j + 1) for j, n in enumerate(names) if n == name)}"
                      for name in repeated[:3])
    return (f"column names repeat in the header ({where}); numnet finds columns by name, so "
            f"a repeated name is ambiguous: give each column its own name")


def _read_npz(pd: Any, path: Path) -> Any:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"'{path}' is not a valid .npz file: {_one_line(exc)}") from None
    with archive:
        try:
            arrays = {key: archive[key] for key in archive.files}
        except ValueError as exc:          # object arrays: refused, they would need pickle
            raise DataError(f"'{path}': {_one_line(exc)}; store numbers or fixed-width "
                            f"strings (no object arrays)") from None
    if not arrays:
        raise DataError(f"'{path}' holds no arrays")
    if "X" in arrays:
        X = arrays.pop("X")
        if X.ndim != 2:
            raise DataError(f"'{path}': array X must be 2-D (n_samples, n_features), "
                            f"got shape {X.shape}")
        columns = {f"x{j}": X[:, j] for j in range(X.shape[1])}
        y = arrays.pop("y", None)
        if arrays:
            warnings.warn(f"'{path}': array(s) {', '.join(sorted(arrays)[:5])} are not read: "
                          f"with an array X numnet reads X (the features) and y (the "
                          f"targets) only", stacklevel=3)
        if y is not None:
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim == 1:
                columns["y"] = y
            elif y.ndim == 2:
                columns.update({f"y{j}": y[:, j] for j in range(y.shape[1])})
            else:
                raise DataError(f"'{path}': array y must be 1-D or 2-D, got shape {y.shape}")
            if len(y) != len(X):
                raise DataError(f"'{path}': X has {len(X)} rows but y has {len(y)}")
    else:
        bad = [k for k, v in arrays.items() if v.ndim != 1]
        if bad:
            raise DataError(f"'{path}': expected arrays X and y, or one 1-D array per "
                            f"column; {bad[0]!r} has shape {arrays[bad[0]].shape}")
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) > 1:
            raise DataError(f"'{path}': its columns have different lengths {sorted(lengths)}")
        columns = arrays
    return pd.DataFrame(columns)


def generator_options(name: str, n_samples: int | None = None, noise: float | None = None,
                      arms: int | None = None) -> dict[str, Any]:
    """The keyword arguments (``random_state`` aside) that generate built-in set ``name``.

    ``n_samples`` and ``noise`` default to the generator's own; ``noise`` is
    always in the result (the value the data was made with), as is ``n_classes``
    (``arms``, default 2) for spirals. ``xor`` is its four exact points (``{}``)
    unless ``noise`` is given (0 included): then ``n_samples`` points of the
    sampled XOR. ``arms`` for any other set is a :class:`DataError`.
    """
    if name not in GENERATED:
        raise DataError(unknown_source_message(name))
    if arms is not None and name != "spirals":
        raise DataError(f"arms sets the classes of spirals only; {name} has its own classes")
    if name == "xor" and noise is None:
        return {}
    generator = inspect.signature(datasets.DATASETS[name]).parameters
    kwargs: dict[str, Any] = {}
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    kwargs["noise"] = generator["noise"].default if noise is None else noise
    if name == "spirals":
        kwargs["n_classes"] = 2 if arms is None else arms
    return kwargs


def builtin_frame(name: str, n_samples: int | None = None,
                  random_state: int | np.random.Generator | None = None, *,
                  noise: float | None = None, arms: int | None = None) -> Any:
    """A built-in set as a DataFrame with named columns (see the module docstring).

    ``noise`` and ``arms`` are a generated set's (see :func:`generator_options`);
    a bundled set, which has its own rows, refuses them.
    """
    pd = _pandas()
    if name in BUNDLED:
        _refuse_generation_options(name, noise, arms)
        try:
            from sklearn import datasets as skd
        except ImportError as exc:
            raise ImportError(f"the {name!r} data set comes with scikit-learn: "
                              f"pip install 'numnet[sklearn]'") from exc
        bunch = getattr(skd, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        if name in _CLASS_SETS:
            frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        frame.columns = [str(c) for c in frame.columns]
        return frame
    kwargs = generator_options(name, n_samples, noise, arms)
    X, y = datasets.get_dataset(name, random_state=random_state, **kwargs)
    names = [f"x{j}" for j in range(X.shape[1])]
    y = np.asarray(y)
    if name == "tones":                 # named features, and the waveform names as labels
        from numnet.features import FEATURE_NAMES
        names, y = list(FEATURE_NAMES), np.asarray(datasets.TONE_CLASSES)[y]
    columns = {n: X[:, j] for j, n in enumerate(names)}
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        columns["y"] = y
    else:
        columns.update({f"y{j}": y[:, j] for j in range(y.shape[1])})
    return pd.DataFrame(columns)


def _refuse_generation_options(source: str, noise: float | None, arms: int | None) -> None:
    """Noise and arms make a generated set; data that has its own rows refuses them."""
    for option, value in (("noise", noise), ("arms", arms)):
        if value is not None:
            raise DataError(f"{option} applies to a generated data set ({', '.join(GENERATED)}); "
                            f"{printable(source)} has its own rows: leave {option} out")


def unknown_source_message(name: str) -> str:
    close = difflib.get_close_matches(name, BUILTIN, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"unknown data set {name!r}: {hint}give {describe_sources()}")


def default_target(columns: Sequence[str]) -> str:
    """The target column used when none is named: ``y``/``target`` if present, else the last."""
    for name in ("y", "target"):
        if name in columns:
            return name
    return columns[-1]


def is_file_source(source: str) -> bool:
    return Path(source).suffix.lower() in FILE_SUFFIXES or os.path.exists(source)


def read_source(source: str, n_samples: int | None = None,
                random_state: int | np.random.Generator | None = None, *,
                noise: float | None = None, arms: int | None = None) -> Any:
    """A file or built-in set (not audio) as a DataFrame; ``noise`` and ``arms`` as
    :func:`builtin_frame` takes them (a file refuses them)."""
    if source in BUILTIN:
        return builtin_frame(source, n_samples, random_state, noise=noise, arms=arms)
    if is_file_source(source):
        _refuse_generation_options(source, noise, arms)
        return read_frame(source)
    raise DataError(unknown_source_message(source))


def load_table(source: str, target: Sequence[str] | None = None,
               features: Sequence[str] | None = None, *, n_samples: int | None = None,
               random_state: int | np.random.Generator | None = None,
               noise: float | None = None, arms: int | None = None,
               skip_bad: bool = False, audio_settings: dict | None = None,
               audio_split: bool = False) -> Table:
    """Read ``source`` and split it into features and targets.

    Parameters
    ----------
    source : str
        A file, a built-in set's name or ``audio:FOLDER`` (see the module docstring).
    target : list of str, optional
        Target columns. ``None``: ``y`` or ``target`` if there is such a
        column, else the last column. ``[]``: no target (for prediction);
        columns that are not features are then ignored.
    features : list of str, optional
        Feature columns, in order; default: every column that is not a target.
    n_samples, random_state
        Size and seed of a generated set.
    noise, arms
        A generated set's noise (default: the set's own) and, for spirals, its
        classes (default 2); see :func:`generator_options`. Other sources refuse them.
    skip_bad : bool, default False
        For audio folders: skip clips that cannot be read instead of failing.
    audio_settings : dict, optional
        For audio folders: the feature settings to extract with (a model's
        stored ``audio`` metadata, so that it sees the features it was
        trained on); default :class:`numnet.audio.FeatureSettings`'s.
    audio_split : bool, default False
        For an audio folder laid out as a data split (:func:`split_parts`):
        read it, returning ``train/``'s table with the other parts in ``parts``.
        Without it such a folder is a :class:`DataError` that names its parts.

    Returns
    -------
    Table
    """
    if source.startswith(AUDIO_PREFIX):
        _refuse_generation_options(source, noise, arms)
        return _load_audio(source[len(AUDIO_PREFIX):], skip_bad, audio_settings, audio_split)
    frame = read_source(source, n_samples, random_state, noise=noise, arms=arms)
    return table_from_frame(frame, source, target, features)


def table_from_frame(frame: Any, source: str, target: Sequence[str] | None = None,
                     features: Sequence[str] | None = None) -> Table:
    """Split a DataFrame into a :class:`Table` (see :func:`load_table`)."""
    columns = list(frame.columns)
    targets = [default_target(columns)] if target is None else list(target)
    for names, what in ((targets, "target"), (features, "feature")):
        twice = repeated_names(names or [])
        if twice:
            raise DataError(f"{source}: {what} column {twice[0]!r} is named more than once; "
                            f"name each column once")
    for name in targets:
        _check_column(name, columns, source, "target")
    if features is None:
        if not targets:
            raise DataError(f"{source}: say which columns are features")
        feats = [c for c in columns if c not in targets]
    else:
        feats = list(features)
        for name in feats:
            _check_column(name, columns, source, "feature")
        both = sorted(set(feats) & set(targets))
        if both:
            raise DataError(f"{source}: column {both[0]!r} is both a feature and a target")
    if not feats:
        raise DataError(f"{source}: no feature columns left after the target(s) "
                        f"{targets}; the data needs at least one more column")
    renamed = frame.attrs.get(_DUPLICATES, {})
    used = [c for c in [*targets, *feats] if c in renamed]
    if used:
        header = [renamed.get(c, c) for c in columns]
        repeated = sorted({renamed[c] for c in used})
        others = [c for c in feats if c not in renamed]
        hint = (f", or leave them out with --features {','.join(others[:8])}"
                if others else "")
        raise DataError(f"{source}: {_repeated_message(header, repeated)} (pandas would read "
                        f"them as {', '.join(repr(c) for c in columns if c in renamed)})"
                        f"{hint}")
    X = np.column_stack([_feature_column(frame[name], name, source, feats) for name in feats])
    y = _targets(frame, targets, source) if targets else None
    return Table(X=X, y=y, feature_names=feats, target_names=targets, source=source)


def fingerprint(table: Table) -> str:
    """SHA-256 of a table's features and targets: values, dtypes, shapes and column names.

    Two tables with the same fingerprint hold the same rows in the same order;
    ``numnet train --resume`` compares it with the checkpoint's.
    """
    h = hashlib.sha256()
    for name, arr in (("X", table.X), ("y", table.y)):
        if arr is None:
            h.update(f"{name}:none;".encode())
            continue
        a = np.ascontiguousarray(arr)
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    h.update(repr((table.feature_names, table.target_names)).encode())
    return h.hexdigest()


def _check_column(name: str, columns: list[str], source: str, what: str) -> None:
    if name in columns:
        return
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
    raise DataError(f"{source}: no {what} column {name!r}{hint}; its columns are {shown}")


def _missing(series: Any, name: str, source: str, what: str) -> None:
    missing = series.isna().to_numpy()
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing)[:5])
        raise DataError(f"{source}: {what} column {name!r} has {int(missing.sum())} missing "
                        f"value(s) (data row(s) {rows}{', ...' if missing.sum() > 5 else ''}); "
                        f"fill or drop them first")


def _feature_column(series: Any, name: str, source: str, feats: list[str]) -> np.ndarray:
    pd = _pandas()
    _missing(series, name, source, "feature")
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        example = series.iloc[0]
        others = [c for c in feats if c != name]
        hint = (f"--features {','.join(others[:8])}{',...' if len(others) > 8 else ''}"
                if others else "--features with the numeric columns")
        raise DataError(f"{source}: feature column {name!r} is not numeric (e.g. {example!r}); "
                        f"encode it as numbers, or leave it out with {hint}")
    values = series.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"{source}: feature column {name!r} holds infinite values")
    return values


def _targets(frame: Any, targets: list[str], source: str) -> np.ndarray:
    pd = _pandas()
    for name in targets:
        _missing(frame[name], name, source, "target")
    if len(targets) == 1:
        series = frame[targets[0]]
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype=bool)
        if pd.api.types.is_integer_dtype(series.dtype):
            return series.to_numpy(dtype=np.int64)
        if pd.api.types.is_float_dtype(series.dtype):
            return series.to_numpy(dtype=np.float64)
        return np.asarray(series.astype(str).to_numpy(), dtype=str)
    for name in targets:
        if not pd.api.types.is_numeric_dtype(frame[name].dtype):
            raise DataError(f"{source}: target column {name!r} is not numeric; several target "
                            f"columns are regression targets (give one label column for "
                            f"classification)")
    return frame[targets].to_numpy(dtype=np.float64)


def split_parts(source: str) -> dict[str, str] | None:
    """The parts of an ``audio:`` source laid out as a data split (``{"train": folder,
    ["valid": folder,] "test": folder}``, see :func:`numnet.audio.split_folders`), or None
    (another source, or a folder of class folders). Needs the audio extra only for a folder."""
    if not source.startswith(AUDIO_PREFIX) or not os.path.isdir(source[len(AUDIO_PREFIX):]):
        return None
    audio = _audio()
    parts = audio.split_folders(source[len(AUDIO_PREFIX):])
    return None if parts is None else {part: os.fspath(p) for part, p in parts.items()}


def _audio() -> Any:
    try:
        from numnet import audio  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        raise ImportError(f"audio input needs the audio extra: pip install 'numnet[audio]' "
                          f"({_one_line(exc)})") from exc
    return audio


def _load_audio(folder: str, skip_bad: bool, stored: dict | None = None,
                split: bool = False) -> Table:
    audio = _audio()
    if not os.path.isdir(folder):
        raise DataError(f"{AUDIO_PREFIX}{folder}: no such folder (expected one subfolder of "
                        f"clips per class)")
    try:
        settings = (audio.FeatureSettings() if stored is None
                    else audio.FeatureSettings.from_dict(stored))
    except (TypeError, ValueError) as exc:
        raise DataError(f"the model's audio feature settings are not valid: "
                        f"{_one_line(exc)}") from None
    parts = audio.split_folders(folder)
    if parts is None:
        return _audio_table(audio, folder, audio.load_folder(folder, settings,
                                                             skip_bad=skip_bad), settings)
    if not split:
        names = ", ".join(f"{AUDIO_PREFIX}{printable(os.fspath(p))}" for p in parts.values())
        raise DataError(f"{AUDIO_PREFIX}{printable(folder)} is a data split "
                        f"({'/, '.join(parts)}/): numnet train and numnet evaluate read it "
                        f"whole; here give one of its parts: {names}")
    loaded = audio.load_split(folder, settings, skip_bad=skip_bad)
    tables = {part: _audio_table(audio, os.fspath(parts[part]), got, settings)
              for part, got in loaded.items()}
    train = tables.pop("train")
    train.parts = tables
    return train


def _audio_table(audio: Any, folder: str, loaded: Any, settings: Any) -> Table:
    """The table of one folder of class folders, as ``audio.load_folder`` read it."""
    X, y, files = loaded
    skipped = getattr(loaded, "skipped", [])
    if skipped:
        warnings.warn(f"{AUDIO_PREFIX}{printable(folder)}: skipped {len(skipped)} clip(s) that "
                      f"could not be used, e.g. {printable(os.fspath(skipped[0][0]))}: "
                      f"{skipped[0][1]}", stacklevel=3)
    X = np.asarray(X, dtype=np.float64)
    return Table(X=X, y=np.asarray(y), feature_names=list(audio.feature_names(settings)),
                 target_names=["label"], source=f"{AUDIO_PREFIX}{folder}",
                 audio=settings.to_dict(), files=[os.fspath(f) for f in files], folder=folder)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())

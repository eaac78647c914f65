"""Input checks for every public entry point, in one place.

Each check turns what a user passed into what the maths expects, or raises a
``ValueError``/``TypeError`` that says what came in and what to do. Nothing
here computes; nothing deeper in numnet re-checks.
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_dtype",
    "check_features",
    "plain_array",
    "check_targets",
    "check_labels",
    "ParameterError",
    "check_count",
    "check_positive_int",
    "check_nonnegative_int",
    "check_bool",
    "check_metric",
    "check_decay_factor",
    "known_kwargs",
    "check_nonnegative_float",
    "check_positive_float",
    "check_fraction",
    "check_layer_sizes",
    "check_name",
    "check_consistent_length",
    "check_fits_in_memory",
    "check_memory",
    "format_bytes",
    "largest_magnitude",
    "column_exponents",
    "check_finite",
    "check_pair",
    "scaled_pair",
]

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def check_dtype(dtype: Any) -> np.dtype:
    """``"float32"``/``"float64"`` (or the NumPy types) -> ``np.dtype``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from exc
    if dt.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dt.name!r}")
    return dt


def _check_range(wide: np.ndarray, out: np.ndarray, dtype: np.dtype, name: str) -> None:
    """Refuse finite values of ``wide`` that became inf in ``out`` (its cast to ``dtype``)."""
    lost = np.isfinite(wide) & ~np.isfinite(out)
    if lost.any():
        largest = float(np.abs(wide[lost]).max())
        raise ValueError(
            f"{name} has values up to {largest:.3g}, beyond {dtype.name}'s range "
            f"(+-{float(np.finfo(dtype).max):.3g}); scale them, e.g. standardise them, "
            f"or use dtype='float64'"
        )


def _cast(arr: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """Numeric ``arr`` as ``dtype``; finite values beyond its range (1e39 in float32) are a
    ValueError rather than an inf and a RuntimeWarning."""
    if arr.dtype == dtype:
        return arr
    with np.errstate(over="ignore"):
        out = arr.astype(dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize \
            and not np.isfinite(out).all():
        _check_range(arr, out, dtype, name)
    return out


def plain_array(data: Any, name: str = "X") -> Any:
    """``data`` with NumPy's array subclasses made plain arrays, or as it is.

    A ``numpy.matrix`` becomes its 2-D array (its ``*`` and its reductions keep
    two dimensions, which numnet's passes do not expect). A masked array with
    values masked is a ValueError: its mask would be dropped and the values
    under it used. A scipy sparse matrix is a TypeError saying what takes one
    (the core reads only NumPy, so it is recognised by its module).
    """
    if type(data).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name} is a scipy sparse matrix; an MLP takes dense arrays: pass "
                        f"{name}.toarray(), or use numnet.estimators (MLPClassifier, "
                        f"MLPRegressor), which train on sparse {name} a few batches at a time")
    if isinstance(data, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(data))
        if masked:
            raise ValueError(f"{name} is a masked array with {masked} masked value(s); fill "
                             f"them (its .filled(value)) or drop those rows first")
        return np.asarray(data.data)
    if isinstance(data, np.ndarray) and type(data) is not np.ndarray:
        return np.asarray(data)
    return data


def _missing(arr: np.ndarray) -> int:
    """How many entries of an object array are missing values (None, pandas' NA or NaT)."""
    return sum(1 for v in arr.ravel()
               if v is None or type(v).__name__ in ("NAType", "NaTType"))


def _as_numeric_array(data: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """Convert to a float array, turning NumPy's errors into ones that say what to do."""
    data = plain_array(data, name)
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        return _cast(data, dtype, name)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"{name} must be numeric array-like, got a string: {data!r}")
    try:
        arr = np.asarray(data)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"{name} is ragged (rows of different lengths); every sample needs the same "
            f"number of values"
        ) from exc
    if arr.dtype.kind in "fiub":
        return _cast(arr, dtype, name)
    if arr.dtype.kind in "USO":
        try:
            with np.errstate(over="ignore"):
                out = arr.astype(dtype)
        except OverflowError as exc:                # a Python int beyond any float
            raise ValueError(f"{name} holds an integer too large for a float ({exc}); scale "
                             f"the values, e.g. standardise them") from exc
        except (ValueError, TypeError) as exc:
            missing = _missing(arr) if arr.dtype.kind == "O" else 0
            if missing:
                raise ValueError(f"{name} holds {missing} missing value(s) (None or pandas' "
                                 f"NA); impute or drop them first") from exc
            raise TypeError(
                f"{name} must hold numbers, got {arr.dtype.name} values such as "
                f"{arr.ravel()[:1].tolist()}; convert or encode them first"
            ) from exc
        if dtype.itemsize < 8 and not np.isfinite(out).all():
            _check_range(arr.astype(np.float64), out, dtype, name)
        return out
    raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype.name}")


def largest_magnitude(A: np.ndarray | None) -> float:
    """The largest ``|a|`` of a finite array, without a temporary its size (0 when empty)."""
    if A is None or A.size == 0:
        return 0.0
    return float(max(A.max(), -A.min()))


def column_exponents(A: np.ndarray) -> np.ndarray:
    """``e: (k,)`` with ``max |A[:, j]| < 2**e[j]`` for ``A: (n, k)``; 0 for a column that is
    all zeros or holds a non-finite value.

    Dividing a column by ``2**e`` (``np.ldexp(A, -e)``) is exact and brings it
    below 1 in magnitude, so squares and differences of values near 1e300 stay
    finite: how preprocessing and the regression scores handle such data.
    """
    with np.errstate(invalid="ignore"):
        top = np.abs(A).max(axis=0, initial=0.0)
    return np.frexp(np.where(np.isfinite(top), top, 0.0))[1]


def check_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 ``(n_samples, n_columns)``; a scalar is one sample of one column."""
    t = np.asarray(plain_array(y_true, "y_true"), dtype=np.float64)
    p = np.asarray(plain_array(y_pred, "y_pred"), dtype=np.float64)
    t2 = t.reshape(len(t), -1) if t.ndim else t.reshape(1, 1)
    p2 = p.reshape(len(p), -1) if p.ndim else p.reshape(1, 1)
    if t2.shape != p2.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}; "
                         f"they must match")
    if t2.size == 0:
        raise ValueError("no samples to score")
    return t2, p2


def scaled_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t / s, p / s, s)``: both ``(n, k)`` divided by a power of two per column.

    ``s`` (``(k,)``) brings the largest value of each column near 1, so
    differences and squares of values near 1e300 do not overflow. Dividing by
    a power of two is exact: ordinary data gives the same figures bit for bit.
    """
    t, p = check_pair(y_true, y_pred)
    exponent = np.maximum(column_exponents(t), column_exponents(p))
    s = np.ldexp(1.0, np.where(np.abs(exponent) > 8, exponent, 0))   # only where needed
    return t / s, p / s, s


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise, naming ``name`` and the count, if ``arr`` holds a NaN or an infinity."""
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); clean or impute them first"
        )


def check_features(
    X: Any, n_features: int | None, dtype: np.dtype | str = "float64", name: str = "X",
    finite: bool = True,
) -> tuple[np.ndarray, bool]:
    """Samples as a 2-D float array ``(n_samples, n_features)``.

    ``finite=False`` leaves the check for NaN and infinite values to the
    caller (the inference pass finds them in its weighted sums, for free).

    A scalar, or a 1-D array of ``n_features`` values, is one sample; the
    second value returned says so, so the caller can give a matching shape
    back. For one feature (``n_features == 1``) a 1-D array of ``n`` values
    can only mean one value per sample: it is ``n`` samples, exactly as
    ``X.reshape(-1, 1)`` (not single, so the caller answers for a batch).
    """
    arr = _as_numeric_array(X, name, np.dtype(dtype))
    single = arr.ndim == 0 or (
        arr.ndim == 1 and (n_features is None or arr.shape[0] == n_features))
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1 and n_features == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim == 1:
        if n_features is not None and arr.shape[0] != n_features:
            raise ValueError(
                f"{name} is 1-D with {arr.shape[0]} values, but the network takes "
                f"{n_features} input(s) per sample; pass one sample of {n_features} values "
                f"or a 2-D array of shape (n_samples, {n_features})"
            )
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples); pass at least one sample")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} feature(s) per sample, but the network takes "
            f"{n_features}; check the columns or build MLP({arr.shape[1]}, ...)"
        )
    if finite:
        check_finite(arr, name)
    return arr, single


def check_targets(
    y: Any, n_samples: int, n_outputs: int, dtype: np.dtype | str = "float64", name: str = "y"
) -> np.ndarray:
    """Regression targets as ``(n_samples, n_outputs)``; 1-D is accepted for one output."""
    arr = _as_numeric_array(y, name, np.dtype(dtype))
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        one_per_sample = n_outputs == 1 or arr.shape[0] == n_samples
        arr = arr.reshape(-1, 1) if one_per_sample else arr.reshape(1, -1)
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} sample(s) but {name} has {arr.shape[0]}; they must match"
        )
    if arr.shape[1] != n_outputs:
        raise ValueError(
            f"{name} has {arr.shape[1]} value(s) per sample, but the network has "
            f"{n_outputs} output(s); check the targets or build MLP(..., {arr.shape[1]})"
        )
    check_finite(arr, name)
    return arr


def check_sample_weight(sample_weight: Any, n_samples: int,
                        dtype: np.dtype | str = "float64") -> np.ndarray:
    """Per-sample weights as a 1-D float array of ``n_samples`` finite values >= 0."""
    arr = _as_numeric_array(sample_weight, "sample_weight", np.dtype(dtype))
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have shape ({n_samples},), one weight per "
                         f"sample, got shape {arr.shape}")
    check_finite(arr, "sample_weight")
    if (arr < 0).any():
        raise ValueError(f"sample_weight must be >= 0, got {int((arr < 0).sum())} negative "
                         f"value(s) such as {arr[arr < 0][0]}")
    return arr


def check_labels(y: Any, n_samples: int, name: str = "y") -> np.ndarray | None:
    """``y`` as a 1-D array of class labels, or None when it is not 1-D (targets, one-hot).

    Labels may be ints, strings or integral floats; NaN and fractional floats
    are refused.
    """
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name} must be an array of labels or targets, got a string: {y!r}")
    y = plain_array(y, name)
    try:
        arr = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"{name} is ragged; pass one label per sample") from exc
    if arr.ndim == 2 and arr.shape[1] == 1 and arr.dtype.kind in "USOb":
        arr = arr[:, 0]
    if arr.ndim != 1:
        return None
    if arr.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} sample(s) but {name} has {arr.shape[0]}; "
                         f"they must match")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} holds complex numbers, which are not class labels")
    if arr.dtype.kind == "O":
        values = arr.tolist()
        if not all(isinstance(v, (str, int, np.integer, bool)) for v in values):
            kinds = sorted({type(v).__name__ for v in values})
            raise TypeError(f"{name} mixes or holds unsupported label types {kinds}; "
                            f"use ints or strings")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite labels")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} holds non-integer floats, which are not class labels; "
                             f"use loss='mse' for regression or pass integer/string labels")
    return arr


def check_consistent_length(*arrays: Sequence, names: Sequence[str] = ("X", "y")) -> None:
    """All arrays have the same number of samples."""
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        detail = ", ".join(f"{n}: {length}" for n, length in zip(names, lengths, strict=True))
        raise ValueError(f"inputs have different numbers of samples ({detail}); they must match")


class ParameterError(ValueError, TypeError):
    """An argument outside what it accepts (wrong type or out of range).

    Both a ``ValueError`` and a ``TypeError``, so that ``except ValueError`` and
    ``except TypeError`` each catch it, whichever a caller expects (scikit-learn's
    ``InvalidParameterError`` is built the same way).
    """


def check_count(value: Any, name: str, least: int = 1, hint: str = "") -> int:
    """An integer of at least ``least`` (bools refused), as an ``int``; else a
    :class:`ParameterError` naming ``name`` and the value.

    Parameters
    ----------
    value : Any
        What the caller passed: a Python or NumPy integer.
    name : str
        The argument's name as the caller spells it, e.g. ``"workers"`` or ``"--workers"``.
    least : int, default 1
        The smallest count allowed: 1 for sizes and workers, 0 for retries or patience.
    hint : str, default ""
        Text appended to the message, e.g. what to give instead.
    """
    if type(value) is int and value >= least:      # the common case, without ABC checks
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < least:
        what = {1: "a positive integer", 0: "a non-negative integer"}.get(
            least, f"an integer >= {least}")
        raise ParameterError(f"{name} must be {what}, got {value!r}{hint}")
    return int(value)


def check_positive_int(value: Any, name: str, hint: str = "") -> int:
    """An int >= 1 (bools refused): :func:`check_count` with ``least=1``."""
    return check_count(value, name, 1, hint)


def check_nonnegative_int(value: Any, name: str) -> int:
    """An int >= 0 (bools refused): :func:`check_count` with ``least=0``."""
    return check_count(value, name, 0)


def check_bool(value: Any, name: str) -> bool:
    """True or False (NumPy's bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


def check_metric(value: Any, name: str = "metric") -> float:
    """A real number, NaN allowed (a monitored loss that went bad is still a value)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number (NaN allowed), got "
                        f"{type(value).__name__}: {value!r}")
    return float(value)


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive_float(value: Any, name: str) -> float:
    """A finite float > 0."""
    value = _check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_nonnegative_float(value: Any, name: str) -> float:
    """A finite float >= 0."""
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_decay_factor(value: Any, name: str) -> float:
    """A float in (0, 1]: a factor a rate is multiplied by."""
    value = check_positive_float(value, name)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1] (a decay factor), got {value}")
    return value


def check_fraction(value: Any, name: str, *, inclusive_low: bool = True) -> float:
    """A float in [0, 1) (or (0, 1) when ``inclusive_low`` is False)."""
    value = _check_real(value, name)
    low_ok = value >= 0 if inclusive_low else value > 0
    if not (low_ok and value < 1):
        interval = "[0, 1)" if inclusive_low else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_name(name: Any, kind: str, registry: dict[str, Any],
               aliases: dict[str, str] | None = None) -> Any:
    """``registry[name]`` (case-insensitive, through ``aliases``), or an error listing the names."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name (str), got {type(name).__name__}: {name!r}")
    key = (aliases or {}).get(name.lower(), name.lower())
    if key not in registry:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {sorted(registry)}")
    return registry[key]


def known_kwargs(cls: type, config: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``config`` minus ``"type"``, refusing keys ``cls``'s constructor does not take."""
    kwargs = {k: v for k, v in config.items() if k != "type"}
    valid = list(inspect.signature(cls).parameters)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(f"unknown {what} argument(s) {unknown} for {cls.__name__}; "
                         f"valid: {valid}")
    return kwargs


def check_layer_sizes(hidden_layers: Any) -> list[int]:
    """Hidden layer widths: a sequence of positive ints (an int means one layer)."""
    if isinstance(hidden_layers, numbers.Integral) and not isinstance(hidden_layers, bool):
        hidden_layers = [hidden_layers]
    if isinstance(hidden_layers, (str, bytes)) or not isinstance(hidden_layers,
                                                                 Sequence | np.ndarray):
        raise TypeError(
            f"hidden_layers must be a list of positive integers, got {hidden_layers!r}; "
            f"try [64, 32] (or [] for none)"
        )
    sizes = list(hidden_layers)
    bad = [s for s in sizes
           if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1]
    if bad:
        raise ValueError(
            f"hidden_layers must be positive integers, got {sizes}; try [64, 32]"
        )
    return [int(s) for s in sizes]


def _physical_memory() -> int | None:
    """Bytes of physical memory (``os.sysconf``), or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):     # e.g. Windows
        return None


def _available_memory() -> int | None:
    """Bytes this process can still allocate: the kernel's MemAvailable, capped by
    ``ulimit -v``; physical memory where the system says no more; or None.

    Linux overcommits, so a job larger than this is ended by the OOM killer, not
    a ``MemoryError``: training checks against this, not against physical memory.
    """
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        found = _physical_memory()
    try:
        import resource
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit != resource.RLIM_INFINITY and limit > 0:
            found = limit if found is None else min(found, limit)
    except (ImportError, OSError, ValueError):     # no resource module (Windows)
        pass
    return found


def format_bytes(n: float) -> str:
    """``70368744177664`` -> ``"64.0 TiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def check_fits_in_memory(count: int, dtype: np.dtype, what: str) -> None:
    """Refuse ``count`` parameters of ``dtype`` that would not fit in physical memory.

    A deliberately simple limit: the parameters alone (training needs a few
    times more) against the machine's physical memory, so that a typo such as
    ``[10**6] * 10`` gets a clear ``ValueError`` instead of NumPy's MemoryError.
    ``what`` names the network in the message, e.g. ``"MLP(2, [5], 1)"``.
    """
    needed = count * np.dtype(dtype).itemsize
    available = _physical_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"{what} would have {count:,} parameters, {format_bytes(needed)} in "
            f"{np.dtype(dtype).name}, which exceeds this machine's "
            f"{format_bytes(available)} of memory; use fewer or narrower hidden layers"
        )


# jobs up to this size are not checked: any machine that runs Python has the memory, and
# asking the system what is available costs more than a small fit's first epoch
UNCHECKED_BYTES = 1 << 26


def check_memory(parts: dict[str, int], what: str, advice: str) -> int:
    """Refuse a job whose parts (bytes, by what they hold) add up to more than is available.

    Returns the total; jobs of at most :data:`UNCHECKED_BYTES` are not checked.
    The ``ValueError`` names the total, its parts, the memory available and
    ``advice``, e.g. ``"training MLP(1, [100000000], 1)
    with Adam needs at least 83.8 GiB (weights ... 6.7 GiB, ...), more than the
    23.4 GiB of memory available; use a smaller batch_size ..."``.
    """
    needed = sum(parts.values())
    if needed <= UNCHECKED_BYTES:
        return needed
    available = _available_memory()
    if available is not None and needed > available:
        detail = ", ".join(f"{name} {format_bytes(size)}" for name, size in parts.items() if size)
        raise ValueError(f"{what} needs at least {format_bytes(needed)} ({detail}), more than "
                         f"the {format_bytes(available)} of memory available; {advice}")
    return needed


# --- derivative checks (register's and gradcheck's) ---------------------------------------

def central_differences(f: Callable[[np.ndarray], float], X: np.ndarray, eps: float,
                        indices: Iterable[Any] | None = None) -> np.ndarray:
    """``(f(X + eps e_i) - f(X - eps e_i)) / (2 eps)`` for each entry ``i`` of ``X``.

    Every entry in ``np.ndindex`` order, or those of ``indices``; returns them
    flat, shape ``(number of entries,)``. ``X`` (any shape, floats) is
    perturbed in place, one entry at a time, and restored.
    """
    entries = list(np.ndindex(X.shape) if indices is None else indices)
    out = np.empty(len(entries))
    for k, i in enumerate(entries):
        saved = X[i]
        X[i] = saved + eps
        plus = f(X)
        X[i] = saved - eps
        minus = f(X)
        X[i] = saved
        out[k] = (plus - minus) / (2.0 * eps)
    return out


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``norm(a - b) / max(norm(a) + norm(b), 1e-12)``: how far an analytic derivative
    ``a`` is from a numeric one ``b`` (same shape), scale-free."""
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(a) + np.linalg.norm(b)),
                                              1e-12))


# --- names and functions of what users register (activations, losses) -------------------

_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def check_plain_name(name: Any, kind: str, example: str) -> str:
    """``name`` if it can name a registered ``kind`` ("activation", "loss"): lowercase
    ASCII letters, digits and ``_``, a letter first, 64 characters at most, so that a name
    is safe to store in a file and to print; ``example`` is shown in the error."""
    if not isinstance(name, str):
        article = "an" if kind[0] in "aeiou" else "a"
        raise TypeError(f"{article} {kind}'s name is a str, got {type(name).__name__}")
    if not _PLAIN_NAME.fullmatch(name):
        raise ValueError(f"{kind} name {name!r:.80} is not a plain name: use lowercase "
                         f"letters, digits and '_' (a letter first, 64 at most), e.g. "
                         f"{example!r}")
    return name


def check_callable(fn: Any, what: str) -> Any:
    """``fn`` if it is a function (``register``'s ``what`` argument), else a TypeError."""
    if not callable(fn):
        raise TypeError(f"register needs {what} as a function, got {type(fn).__name__}")
    return fn

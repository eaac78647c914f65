"""Small data sets, generated on the spot (nothing is downloaded), and file loaders.

Every generator takes ``random_state`` and returns ``(X, y)`` with
``X: (n_samples, n_features)``; regression targets are ``(n_samples, n_outputs)``,
class labels ``(n_samples,)`` integers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload

import numpy as np

from .features import FEATURE_NAMES, clip_features
from .initializers import check_random_state
from .validation import (
    check_fraction,
    check_name,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
)

__all__ = ["one_minus_x", "sum_of_two", "xor", "sine", "spirals", "moons", "circles",
           "gaussians", "tones", "TONE_CLASSES", "load_csv", "load_npz", "DATASETS",
           "get_dataset"]

Seed = int | np.random.Generator | None


def one_minus_x(n_samples: int = 1000, random_state: Seed = None, noise: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's first task: learn ``y = 1 - x`` for ``x`` uniform on [0, 1).

    Parameters
    ----------
    n_samples : int, default 1000
        Number of points.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to the targets. At 0 no noise
        is drawn, so the output and the generator's stream are as without it.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The inputs ``x``.
    y : ndarray of shape (n_samples, 1)
        The targets ``1 - x``, plus the noise.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    X = rng.random((n, 1))
    return X, _noisy(1.0 - X, noise, rng)


def sum_of_two(n_samples: int = 1000, random_state: Seed = None, noise: float = 0.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's second task: add two numbers, each uniform on [0, 0.5).

    Parameters
    ----------
    n_samples : int, default 1000
        Number of pairs.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to the targets, as in
        :func:`one_minus_x` (noisy targets may leave [0, 1)).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The two numbers of each pair.
    y : ndarray of shape (n_samples, 1)
        Their sum, in [0, 1) without noise, where a sigmoid output can reach
        every target.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    X = rng.random((n, 2)) / 2.0
    return X, _noisy(X.sum(axis=1, keepdims=True), noise, rng)


def _noisy(y: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``y`` plus Gaussian noise of standard deviation ``noise``; nothing drawn at 0."""
    return y + noise * rng.standard_normal(y.shape) if noise > 0 else y


def xor(n_samples: int | None = None, noise: float = 0.0, random_state: Seed = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """XOR: by default its four points, ``X: (4, 2)``, ``y: (4,)`` labels ``[0, 1, 1, 0]``.

    With ``n_samples``: TensorFlow Playground's XOR, ``X: (n_samples, 2)`` uniform
    on the square [-1, 1) x [-1, 1), labelled 1 where the signs of ``x1`` and
    ``x2`` differ (``x1 * x2 < 0``), else 0, as the four points are; then
    Gaussian noise of standard deviation ``noise`` jitters the points (labels
    stay those of the unjittered points).

    Parameters
    ----------
    n_samples : int or None, default None
        Number of sampled points; None returns the four exact points.
    noise : float, default 0.0
        Standard deviation of the Gaussian jitter of sampled points; must be 0
        without ``n_samples`` (ValueError otherwise).
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.
        Unused for the four points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points; ``(4, 2)`` without ``n_samples``.
    y : ndarray of shape (n_samples,)
        Integer labels 0/1.
    """
    noise = check_nonnegative_float(noise, "noise")
    if n_samples is None:
        if noise > 0:
            raise ValueError("xor: noise jitters sampled points, and the four points are "
                             "exact; give n_samples too")
        X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        return X, np.array([0, 1, 1, 0])
    n = check_positive_int(n_samples, "n_samples")
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] < 0) != (X[:, 1] < 0)).astype(np.int64)
    if noise > 0:
        X += noise * rng.standard_normal((n, 2))
    return X, y


def sine(n_samples: int = 500, noise: float = 0.0, random_state: Seed = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(x) + noise`` for ``x`` uniform on [-pi, pi]: ``X, y`` both ``(n_samples, 1)``.

    Parameters
    ----------
    n_samples : int, default 500
        Number of points.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to ``sin(x)``.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The inputs ``x``.
    y : ndarray of shape (n_samples, 1)
        The targets ``sin(x)``, plus the noise.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    return X, np.sin(X) + noise * rng.standard_normal((n, 1))


def spirals(n_samples: int = 600, n_classes: int = 2, noise: float = 0.1,
            random_state: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: ``X: (n_samples, 2)``, ``y: (n_samples,)``.

    Not linearly separable: a network needs hidden units to classify it.

    Parameters
    ----------
    n_samples : int, default 600
        Number of points, dealt to the classes in turn (sample ``i`` is class
        ``i % n_classes``).
    n_classes : int, default 2
        Number of arms, each turned by ``2 pi / n_classes`` from the last.
    noise : float, default 0.1
        Standard deviation of the Gaussian jitter, scaled by each point's radius
        (the centre stays sharp, the arms' ends blur).
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points, within about the unit disc.
    y : ndarray of shape (n_samples,)
        Integer labels, 0 to ``n_classes - 1``.
    """
    n = check_positive_int(n_samples, "n_samples")
    k = check_positive_int(n_classes, "n_classes")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    y = np.arange(n) % k
    r = rng.random(n)                                    # radius in [0, 1)
    theta = 3.5 * np.pi * r + 2.0 * np.pi * y / k        # each arm turned by 2 pi / k
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    X += noise * r[:, None] * rng.standard_normal((n, 2))
    return X, y


def moons(n_samples: int = 200, noise: float = 0.1, random_state: Seed = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: ``X: (n_samples, 2)``, ``y: (n_samples,)`` labels 0/1.

    Class 0 lies on the upper unit half circle, class 1 on the lower one
    shifted to ``(1, 0.5)``; each point gets Gaussian noise of standard
    deviation ``noise``. Half the samples (rounded down) are class 0; the
    samples are in random order.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Integer labels 0/1.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    t = rng.uniform(0.0, np.pi, n)
    X = np.where(y[:, None] == 0,
                 np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]))
    X += noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return X[order], y[order]


def circles(n_samples: int = 200, noise: float = 0.1, factor: float = 0.5,
            random_state: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """A disc inside a ring (TF Playground's circle): ``X: (n_samples, 2)``, ``y: (n_samples,)``.

    Class 0 is the disc of radius ``factor``, class 1 the ring from
    ``factor + 0.4 * (1 - factor)`` to 1 (0.5 and 0.7 to 1 at the default, the
    Playground's proportions); radius and angle are uniform, and each point gets
    Gaussian noise of standard deviation ``noise``. Half the samples (rounded
    down) are class 0; the samples are in random order. Not linearly separable.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate.
    factor : float, default 0.5
        Radius of the inner disc, in (0, 1); the ring starts at
        ``factor + 0.4 * (1 - factor)``.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Integer labels: 0 in the disc, 1 in the ring.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    factor = check_fraction(factor, "factor", inclusive_low=False)
    rng = check_random_state(random_state)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    inner = factor + 0.4 * (1.0 - factor)                # the ring's inner edge
    r = np.where(y == 0, rng.uniform(0.0, factor, n), rng.uniform(inner, 1.0, n))
    t = rng.uniform(0.0, 2.0 * np.pi, n)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)])
    X += noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return X[order], y[order]


def gaussians(n_samples: int = 200, noise: float = 0.1, random_state: Seed = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds: ``X: (n_samples, 2)``, ``y: (n_samples,)`` labels 0/1.

    Class 0 is centred on (-1, -1), class 1 on (1, 1); each coordinate has
    variance ``0.125 + 1.75 * noise`` (TensorFlow Playground's, at half its
    scale): standard deviation 0.35 at noise 0, 0.55 at 0.1 and 1 at 0.5, where
    the clouds overlap. Half the samples (rounded down) are class 0; the
    samples are in random order.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points.
    noise : float, default 0.1
        Sets the clouds' spread: variance ``0.125 + 1.75 * noise`` per coordinate.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the draws; a Generator is used, not copied; None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Integer labels 0/1.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    centres = np.where(y[:, None] == 0, -1.0, 1.0)       # (n, 1), the same for both axes
    X = centres + np.sqrt(0.125 + 1.75 * noise) * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return X[order], y[order]


TONE_CLASSES = ("sine", "square", "sawtooth", "noise")
_PITCH_RANGE_HZ = (110.0, 880.0)        # A2 to A5
_LEVEL_RANGE_DB = (-30.0, -3.0)         # peak level, dB full scale
_TONE_BLOCK = 256                       # clips made at a time


@overload
def tones(n_samples: int = ..., classes: Sequence[str] = ..., duration: float = ...,
          sample_rate: int = ..., noise: float = ..., random_state: Seed = ...,
          return_audio: Literal[False] = ...) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def tones(n_samples: int = ..., classes: Sequence[str] = ..., duration: float = ...,
          sample_rate: int = ..., noise: float = ..., random_state: Seed = ..., *,
          return_audio: Literal[True]) -> tuple[np.ndarray, np.ndarray, int]: ...


def tones(n_samples: int = 400, classes: Sequence[str] = TONE_CLASSES, duration: float = 0.25,
          sample_rate: int = 16000, noise: float = 0.05, random_state: Seed = None,
          return_audio: bool = False
          ) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, int]:
    """Synthetic sound clips, one waveform shape per class, at random pitches and levels.

    Each clip is an oscillator (sine, square or sawtooth wave) at a pitch drawn
    log-uniformly from 110 to 880 Hz (A2 to A5) with a random starting phase,
    or Gaussian white noise; its peak level is drawn uniformly from -30 to
    -3 dB full scale (for noise, that level over 3 is its standard deviation,
    so its peaks come out near it too). White background noise with standard deviation
    ``noise`` times the clip's RMS is added (``noise=0.05`` is a 26 dB
    signal-to-noise ratio). Square and sawtooth waves are band-limited with
    PolyBLEP corrections, so harmonics above the Nyquist frequency do not fold
    back as aliases. Made with NumPy alone.

    Parameters
    ----------
    n_samples : int, default 400
        Number of clips, split as evenly as possible between the classes, in
        random order.
    classes : sequence of str, default ("sine", "square", "sawtooth", "noise")
        Distinct names from :data:`TONE_CLASSES`; label ``i`` is ``classes[i]``.
    duration : float, default 0.25
        Seconds per clip.
    sample_rate : int, default 16000
        Samples per second; at least 8000, so that the highest pitch keeps
        several harmonics below the Nyquist frequency.
    noise : float, default 0.05
        Background noise level relative to the clip's RMS.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the clips' order, pitches, levels, phases and noise.
    return_audio : bool, default False
        Return the clips themselves instead of their features.

    Returns
    -------
    X : ndarray of shape (n_samples, 9)
        :func:`numnet.features.clip_features` of each clip (names in
        :data:`numnet.features.FEATURE_NAMES`), with frames of about 64 ms
        (``n_fft`` the power of two nearest ``0.064 * sample_rate``, 1024 at
        16 kHz). Standardise them before training. Only without ``return_audio``.
    clips : ndarray of shape (n_samples, round(duration * sample_rate))
        The float64 samples, in [-1, 1] up to the noise. Only with ``return_audio``.
    y : ndarray of shape (n_samples,)
        Integer labels, indices into ``classes``.
    sample_rate : int
        Only with ``return_audio``: ``(clips, y, sample_rate)``.

    Examples
    --------
    >>> X, y = tones(200, random_state=0)
    >>> X.shape, y.shape
    ((200, 9), (200,))
    >>> clips, y, sr = tones(8, classes=("sine", "noise"), return_audio=True, random_state=0)
    >>> clips.shape, sr
    ((8, 4000), 16000)
    """
    n = check_positive_int(n_samples, "n_samples")
    names = _check_tone_classes(classes)
    duration = check_positive_float(duration, "duration")
    sample_rate = check_positive_int(sample_rate, "sample_rate")
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz (the highest pitch is "
                         f"{_PITCH_RANGE_HZ[1]:g} Hz), got {sample_rate}")
    noise = check_nonnegative_float(noise, "noise")
    n_fft = 2 ** round(np.log2(0.064 * sample_rate))
    length = round(duration * sample_rate)
    if not return_audio and length < n_fft:
        raise ValueError(f"duration={duration:g} s gives {length} samples at {sample_rate} Hz, "
                         f"fewer than the {n_fft}-sample analysis frame; use duration >= "
                         f"{n_fft / sample_rate:.3f}")
    rng = check_random_state(random_state)
    y = rng.permutation(np.arange(n) % len(names))
    low, high = np.log(_PITCH_RANGE_HZ)
    pitch = np.exp(rng.uniform(low, high, n))                           # Hz, log-uniform, (n,)
    level = 10.0 ** (rng.uniform(*_LEVEL_RANGE_DB, n) / 20.0)           # peak amplitude, (n,)
    start = rng.random(n)                                               # phase, in cycles
    out = np.empty((n, length) if return_audio else (n, len(FEATURE_NAMES)))
    for first in range(0, n, _TONE_BLOCK):                              # bounded memory
        block = slice(first, first + _TONE_BLOCK)
        phase = (start[block, None] + pitch[block, None] * np.arange(length) / sample_rate) % 1.0
        step = (pitch[block] / sample_rate)[:, None]                    # cycles per sample
        kind = np.array(names)[y[block]]
        clips = np.empty(phase.shape)
        for name in names:
            rows = kind == name
            clips[rows] = _oscillator(name, phase[rows], step[rows], rng)
        clips *= level[block, None]
        rms = np.sqrt(np.mean(clips ** 2, axis=1, keepdims=True))
        clips += noise * rms * rng.standard_normal(clips.shape)
        out[block] = clips if return_audio else clip_features(clips, sample_rate, n_fft=n_fft,
                                                              hop_length=n_fft // 2)
    if return_audio:
        return out, y, sample_rate
    return out, y


def _check_tone_classes(classes: Sequence[str]) -> list[str]:
    if isinstance(classes, str):
        classes = [classes]
    names = [str(c).lower() for c in classes]
    unknown = [c for c in names if c not in TONE_CLASSES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"classes must be distinct names from {list(TONE_CLASSES)}, "
                         f"got {list(classes)!r}")
    return names


def _oscillator(name: str, phase: np.ndarray, step: np.ndarray, rng: np.random.Generator
                ) -> np.ndarray:
    """Unit-amplitude waveforms: ``phase`` in [0, 1) and ``step`` (cycles per sample), (m, T)."""
    if name == "sine":
        return np.sin(2.0 * np.pi * phase)
    if name == "sawtooth":
        return 2.0 * phase - 1.0 - _poly_blep(phase, step)
    if name == "square":
        return (np.where(phase < 0.5, 1.0, -1.0) + _poly_blep(phase, step)
                - _poly_blep((phase + 0.5) % 1.0, step))
    return rng.standard_normal(phase.shape) / 3.0      # noise: peaks near 1, like the others


def _poly_blep(phase: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The polynomial correction that smooths a unit downward jump at phase 0.

    Subtracting it from a naive sawtooth (adding it at a square wave's rising
    edge, subtracting it at the falling one) removes most of the aliasing that
    the jump would cause.
    """
    step = np.broadcast_to(step, phase.shape)
    out = np.zeros_like(phase)
    after = phase < step                       # just after the jump
    x = phase[after] / step[after]
    out[after] = 2.0 * x - x * x - 1.0
    before = phase > 1.0 - step                # just before it
    x = (phase[before] - 1.0) / step[before]
    out[before] = x * x + 2.0 * x + 1.0
    return out


def load_csv(path: str | os.PathLike, target_columns: int = 1, skip_header: bool | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Read a numeric CSV whose last ``target_columns`` columns are the targets.

    Blank lines are skipped. Every row must have the same number of columns,
    and every value must be a number (encode categories first).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    target_columns : int, default 1
        How many columns, counted from the right, are targets.
    skip_header : bool or None, default None
        Whether the first row is a header to skip; None decides: a first row
        that is not all numbers is a header.

    Returns
    -------
    X : ndarray of shape (n_samples, n_columns - target_columns)
        The feature columns, as float64.
    y : ndarray of shape (n_samples, target_columns)
        The target columns, as float64.

    Raises
    ------
    ValueError
        For an empty file, rows of different widths, no feature column left, or
        a value that is not a number.
    """
    k = check_positive_int(target_columns, "target_columns")
    with open(path, newline="") as fh:
        rows = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"{path}: no rows")
    if skip_header is None:
        skip_header = not _is_numeric_row(rows[0])
    rows = rows[1:] if skip_header else rows
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    width = widths.pop()
    if width <= k:
        raise ValueError(f"{path}: {width} column(s) leaves no features after {k} target column(s)")
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: non-numeric value ({exc}); encode categories first") from exc
    return data[:, :-k], data[:, -k:]


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def load_npz(path: str | os.PathLike, x_key: str = "X", y_key: str = "y"
             ) -> tuple[np.ndarray, np.ndarray]:
    """Read arrays ``X`` and ``y`` from an ``.npz`` file (object arrays refused: no pickle).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file, as :func:`numpy.savez` writes it.
    x_key : str, default "X"
        Name of the inputs' array in the file.
    y_key : str, default "y"
        Name of the targets' array in the file.

    Returns
    -------
    X : ndarray
        The array ``x_key``, as stored (shape and dtype unchanged).
    y : ndarray
        The array ``y_key``, as stored.

    Raises
    ------
    ValueError
        When either array is missing (the message lists those the file holds).
    """
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in (x_key, y_key) if k not in data.files]
        if missing:
            raise ValueError(f"{path}: missing array(s) {missing}; it holds {data.files}")
        return data[x_key], data[y_key]


DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "one_minus_x": one_minus_x,
    "sum_of_two": sum_of_two,
    "xor": xor,
    "sine": sine,
    "spirals": spirals,
    "moons": moons,
    "circles": circles,
    "gaussians": gaussians,
    "tones": tones,
}


def get_dataset(name: str, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Generate a built-in data set by name, e.g. ``get_dataset("sine", n_samples=200)``.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`, case-insensitive (``"xor"``, ``"moons"``, ...).
    **kwargs : Any
        Passed to that generator (``n_samples``, ``noise``, ``random_state``, ...).

    Returns
    -------
    X, y : ndarray
        What the generator returns.
    """
    return check_name(name, "data set", DATASETS)(**kwargs)

"""Feature vectors for short sound clips, in NumPy alone.

:func:`clip_features` turns each clip into a few numbers that describe the
*shape* of its waveform and spectrum. It is what :func:`numnet.datasets.tones`
returns, and it needs nothing but NumPy (``numnet.audio``, in the ``audio``
extra, computes the richer librosa features for audio files).

The features, in :data:`FEATURE_NAMES` order (``x`` is one clip of ``T``
samples; spectra come from frames of ``n_fft`` samples, ``hop_length`` apart,
under a Hann window, and are averaged over frames):

========================  ===============================================================
``rms_db``                level: ``20 log10(sqrt(mean(x**2)))`` (dB full scale)
``crest_factor``          ``max|x| / rms``: 1 for a square wave, 1.41 for a sine,
                          1.73 for a sawtooth, about 3.5 to 4.5 for Gaussian noise
``kurtosis``              ``mean((x - mean x)**4) / var(x)**2``: 1, 1.5, 1.8 and 3 for
                          the same four
``zero_crossing_rate``    fraction of neighbouring samples whose signs differ
``spectral_centroid``     magnitude-weighted mean frequency (Hz)
``spectral_bandwidth``    magnitude-weighted standard deviation around the centroid (Hz)
``spectral_rolloff``      frequency below which ``rolloff`` (85 %) of the magnitude lies (Hz)
``spectral_flatness_db``  ``10 log10(geometric mean / arithmetic mean)`` of the power
                          spectrum: near 0 dB for white noise, very negative for tones
``peak_power_ratio``      share of the (frame-averaged) power spectrum within two bins of
                          its strongest peak: about 1 for a sine, 0.81 for a square wave
                          (``8 / pi**2``), 0.61 for a sawtooth (``6 / pi**2``), small for noise
========================  ===============================================================

The waveform-shape features (crest factor, kurtosis, peak power ratio,
flatness) do not depend on pitch or level, which is why they separate
oscillator shapes played at random pitches and volumes. The features are in
their natural units (dB, Hz, ratios), so standardise them (subtract the
training mean, divide by the standard deviation) before training a network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import check_fraction, check_positive_int

__all__ = ["FEATURE_NAMES", "clip_features"]

FEATURE_NAMES: tuple[str, ...] = (
    "rms_db", "crest_factor", "kurtosis", "zero_crossing_rate", "spectral_centroid",
    "spectral_bandwidth", "spectral_rolloff", "spectral_flatness_db", "peak_power_ratio",
)

_PEAK_HALF_WIDTH = 2      # bins each side of a peak: a Hann window's main lobe
_BLOCK = 256              # clips per block: bounds the memory the spectra take


def clip_features(clips: Any, sample_rate: int, *, n_fft: int = 1024, hop_length: int = 512,
                  rolloff: float = 0.85) -> np.ndarray:
    """Describe each clip by the features of :data:`FEATURE_NAMES` (see the module docstring).

    Parameters
    ----------
    clips : array-like of shape (n_clips, n_samples) or (n_samples,)
        Mono clips of equal length, samples in [-1, 1] (any finite scale works;
        only ``rms_db`` depends on it). A 1-D array is one clip.
    sample_rate : int
        Samples per second, to express frequencies in Hz.
    n_fft : int, default 1024
        Frame length of the spectra; every clip needs at least this many samples.
    hop_length : int, default 512
        Samples between the starts of successive frames.
    rolloff : float in (0, 1), default 0.85
        The share of spectral magnitude below ``spectral_rolloff``.

    Returns
    -------
    ndarray of shape (n_clips, 9), or (9,) for one clip
        float64.

    Raises
    ------
    ValueError
        If a clip is shorter than ``n_fft``, silent (all zeros: every ratio
        above is 0 / 0) or holds NaN or infinite values; the message gives the
        clip's index.
    """
    sample_rate = check_positive_int(sample_rate, "sample_rate")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    rolloff = check_fraction(rolloff, "rolloff", inclusive_low=False)
    X = np.asarray(clips, dtype=np.float64)
    single = X.ndim == 1
    X = np.atleast_2d(X)
    if X.ndim != 2:
        raise ValueError(f"clips must be 1-D (one clip) or 2-D (n_clips, n_samples), "
                         f"got shape {X.shape}")
    if X.shape[1] < n_fft:
        raise ValueError(f"clips have {X.shape[1]} samples, fewer than n_fft={n_fft}: "
                         f"use longer clips or a smaller n_fft")
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ValueError(f"clip {int(np.flatnonzero(bad)[0])} holds NaN or infinite values")
    rms = np.sqrt(np.mean(X ** 2, axis=1))                              # (n_clips,)
    silent = rms == 0.0
    if silent.any():
        raise ValueError(f"clip {int(np.flatnonzero(silent)[0])} is silent (all zeros): "
                         f"its features are undefined")
    if X.shape[0] == 0:
        return np.empty((0, len(FEATURE_NAMES)))
    out = np.vstack([_features(X[i:i + _BLOCK], rms[i:i + _BLOCK], sample_rate, n_fft,
                               hop_length, rolloff) for i in range(0, X.shape[0], _BLOCK)])
    return out[0] if single else out


def _features(X: np.ndarray, rms: np.ndarray, sample_rate: int, n_fft: int, hop_length: int,
              rolloff: float) -> np.ndarray:
    """:func:`clip_features` of checked clips ``X: (n, n_samples)``: (n, 9)."""
    centred = X - X.mean(axis=1, keepdims=True)
    variance = np.mean(centred ** 2, axis=1)
    kurtosis = np.mean(centred ** 4, axis=1) / np.maximum(variance, np.finfo(np.float64).tiny) ** 2
    sign = np.signbit(X)
    zcr = np.mean(sign[:, 1:] != sign[:, :-1], axis=1)

    frames = np.lib.stride_tricks.sliding_window_view(X, n_fft, axis=1)[:, ::hop_length]
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(n_fft + 2)[1:-1], axis=-1))
    power = magnitude ** 2                                              # (n, n_frames, n_bins)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)                   # (n_bins,)
    eps = np.finfo(np.float64).tiny
    weights = magnitude / np.maximum(magnitude.sum(axis=-1, keepdims=True), eps)
    centroid = weights @ freqs                                          # (n, n_frames)
    bandwidth = np.sqrt(np.sum(weights * (freqs - centroid[..., None]) ** 2, axis=-1))
    cumulative = np.cumsum(weights, axis=-1)
    rolloff_hz = freqs[np.minimum((cumulative < rolloff).sum(axis=-1), freqs.size - 1)]
    floor = 1e-12 * power.max(axis=(-2, -1), keepdims=True) + eps       # keeps log() finite
    flatness = (np.exp(np.mean(np.log(power + floor), axis=-1))
                / (np.mean(power, axis=-1) + floor[..., 0]))

    mean_power = power.mean(axis=1)                                     # (n, n_bins)
    peak = mean_power.argmax(axis=1)
    bins = np.arange(mean_power.shape[1])
    near_peak = np.abs(bins[None, :] - peak[:, None]) <= _PEAK_HALF_WIDTH
    peak_ratio = (mean_power * near_peak).sum(axis=1) / np.maximum(mean_power.sum(axis=1), eps)

    out = np.column_stack([
        20.0 * np.log10(rms), np.abs(X).max(axis=1) / rms, kurtosis, zcr,
        centroid.mean(axis=1), bandwidth.mean(axis=1), rolloff_hz.mean(axis=1),
        10.0 * np.log10(flatness.mean(axis=1)), peak_ratio,
    ])
    return out

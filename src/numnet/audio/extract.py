"""Feature vectors of clips: MFCCs and spectral features per frame, summarised over frames.

A clip (mono, at ``settings.sample_rate``, see :mod:`numnet.audio.clips`) is
cut into frames of ``n_fft`` samples, ``hop_length`` apart, with no padding
(``center=False``: every frame is real audio). Per frame, librosa computes
``n_mfcc`` MFCCs (from an ``n_mels``-band mel power spectrogram, ``fmin`` to
``fmax``, in dB relative to full scale and floored 80 dB below the clip's
loudest band, librosa's defaults), the spectral centroid, bandwidth and
roll-off (Hz, from the magnitude spectrum; roll-off at ``rolloff_percent``),
the zero-crossing rate (crossings per sample) and the RMS level (linear, full
scale 1). The clip's feature vector is the mean over frames of each, then its
standard deviation over frames, in :func:`feature_names` order:
``2 * n_mfcc + 10`` numbers (36 with the defaults). They are in natural units
(Hz, dB-based MFCCs), so standardise them before training. librosa compiles
some of its code (numba) on first use: the first clip of a fresh installation
takes a few seconds, later ones a few milliseconds.

An :class:`~numnet.audio.AudioError` refuses a clip shorter than the analysis
window (``n_fft`` samples after resampling: not one full frame, so no feature
is defined) and a **silent** clip: RMS level below ``settings.silence_db``
(default -80 dB full scale; digital silence is minus infinity, a 16-bit file's
quantisation noise about -100 dB). Its spectrum is zero or pure noise floor,
so the spectral features are 0 / 0 or meaningless, and it says nothing about
its class: trained on, it teaches the network to map "nothing" to a label.
"""

from __future__ import annotations

import math
import os
from typing import Any

import librosa
import numpy as np

from .clips import array_clip, as_path, load_clip
from .errors import ARRAY, AudioError
from .settings import FRAME_FEATURES, FeatureSettings, SettingsLike, as_settings

__all__ = ["feature_names", "features", "file_features"]

_STATS = ("mean", "std")


def features(clip: Any, sample_rate: int, settings: SettingsLike = None) -> np.ndarray:
    """The feature vector of one clip held in memory.

    Parameters
    ----------
    clip : array-like of shape (n_frames,) or (n_frames, n_channels)
        Samples: floats at full scale 1 (as soundfile reads them), or integer
        PCM (``int16``, ``int32``, ``uint8``, ...) scaled by its type's range.
        Channels are averaged.
    sample_rate : int
        The clip's rate (Hz); it is resampled to ``settings.sample_rate``.
    settings : FeatureSettings, its dict, or None (defaults)

    Returns
    -------
    ndarray of shape (settings.n_features,)
        float64, in :func:`feature_names` order.

    Raises
    ------
    AudioError
        If the clip is empty, not finite, silent or shorter than ``n_fft``
        (``path`` is ``"<array>"``).
    """
    s = as_settings(settings)
    return _describe(array_clip(clip, sample_rate, s), s, ARRAY)


def file_features(path: str | bytes | os.PathLike, s: FeatureSettings) -> np.ndarray:
    """The feature vector of one audio file: ``(s.n_features,)``; errors name the file."""
    file = as_path(path)
    return _describe(load_clip(file, s), s, file)


def _describe(y: np.ndarray, s: FeatureSettings, where: str | os.PathLike) -> np.ndarray:
    """The feature vector of a mono clip ``y: (n_samples,)`` at ``s.sample_rate``.

    Returns ``(s.n_features,)`` float64; errors name ``where``.
    """
    _check_long_and_loud(y, s, where)
    out = _summarise(_per_frame(y, s), s.n_mfcc)
    if not np.isfinite(out).all():
        raise AudioError(where, "gave non-finite features; the clip may be corrupted")
    return out


def feature_names(settings: SettingsLike = None) -> list[str]:
    """Names of the feature vector's entries, in order (``settings.n_features`` of them).

    ``mfcc0_mean ... mfcc12_mean, mfcc0_std ... mfcc12_std``, then
    ``spectral_centroid_mean, spectral_centroid_std``, and likewise for
    ``spectral_bandwidth``, ``spectral_rolloff``, ``zero_crossing_rate`` and ``rms``.
    """
    s = as_settings(settings)
    names = [f"mfcc{i}_{stat}" for stat in _STATS for i in range(s.n_mfcc)]
    return names + [f"{name}_{stat}" for name in FRAME_FEATURES for stat in _STATS]


def _summarise(per_frame: np.ndarray, n_mfcc: int) -> np.ndarray:
    """``(n_mfcc + 5, n_frames)`` -> ``(2 * n_mfcc + 10,)`` in :func:`feature_names` order:
    the MFCCs' means, their stds, then each other feature's mean and std."""
    mean, std = per_frame.mean(axis=1), per_frame.std(axis=1)
    k = n_mfcc
    return np.concatenate([mean[:k], std[:k], np.column_stack([mean[k:], std[k:]]).ravel()])


def _per_frame(y: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """The MFCCs, then :data:`FRAME_FEATURES`, of each frame: ``(n_mfcc + 5, n_frames)``."""
    magnitude = np.abs(librosa.stft(y, n_fft=s.n_fft, hop_length=s.hop_length, center=False))
    mel = librosa.feature.melspectrogram(S=magnitude ** 2, sr=s.sample_rate, n_mels=s.n_mels,
                                         fmin=s.fmin, fmax=s.fmax)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=s.n_mfcc)
    sr, n_fft, hop = s.sample_rate, s.n_fft, s.hop_length
    frame = {
        "spectral_centroid": librosa.feature.spectral_centroid(S=magnitude, sr=sr, n_fft=n_fft),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(S=magnitude, sr=sr, n_fft=n_fft),
        "spectral_rolloff": librosa.feature.spectral_rolloff(S=magnitude, sr=sr, n_fft=n_fft,
                                                             roll_percent=s.rolloff_percent),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y, frame_length=n_fft,
                                                                 hop_length=hop, center=False),
        "rms": librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop, center=False),
    }
    return np.vstack([mfcc, *(frame[name] for name in FRAME_FEATURES)]).astype(np.float64)


def _check_long_and_loud(y: np.ndarray, s: FeatureSettings, where: str | os.PathLike) -> None:
    """Refuse a clip shorter than one frame, or below ``s.silence_db``."""
    if y.size < s.n_fft:
        raise AudioError(where, f"is too short: {y.size / s.sample_rate:.3f} s ({y.size} samples "
                                f"at {s.sample_rate} Hz) is less than one analysis window of "
                                f"n_fft={s.n_fft} samples ({s.n_fft / s.sample_rate:.3f} s); "
                                f"use longer clips or a smaller n_fft")
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    level = 20.0 * math.log10(rms) if rms > 0 else -math.inf
    if level < s.silence_db:
        detail = "all samples are zero" if rms == 0 else f"RMS level {level:.1f} dB"
        raise AudioError(where, f"is silent ({detail}, below silence_db={s.silence_db:g} dB "
                                f"full scale): its features are undefined and it carries no "
                                f"information about its class")

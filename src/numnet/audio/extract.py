"""Feature vectors of clips: MFCCs and spectral features per frame, summarised over frames.

A clip (mono, at ``settings.sample_rate``, see :mod:`numnet.audio.clips`) is
first cut to its sound: with ``trim_db`` (default 40), the samples from the
first to the last stretch of ``hop_length`` samples within ``trim_db`` of the
loudest, cut to the sample so that the same sound with silence around it gives
the same frames. With ``normalize`` it is then scaled so that its loudest frame
has RMS 1: the features do not depend on the recording level. It is cut into
frames of ``n_fft`` samples, ``hop_length`` apart, with no padding
(``center=False``: every frame is real audio); frames more than ``trim_db``
below the loudest (pauses) are left out of every statistic.

Per frame, librosa computes ``n_mfcc`` MFCCs (from an ``n_mels``-band mel power
spectrogram, ``fmin`` to ``fmax``, in dB and floored ``top_db`` below the
clip's loudest band), the spectral centroid, bandwidth and roll-off (Hz, from
the magnitude spectrum; roll-off at ``rolloff_percent``), the zero-crossing
rate (crossings per sample) and the RMS level (linear). The clip's feature
vector (:func:`feature_names` order) is the mean over the kept frames of the
MFCCs, then their standard deviation; the same for their deltas and
delta-deltas (``deltas``); each frame feature's mean and std; each log-mel
band's mean and std (``mel_stats``); and the MFCC means over each of
``segments`` consecutive parts of the kept frames, which keep the order of the
sounds: 207 numbers with the defaults. They are in natural units (Hz, dB),
so standardise them before training. librosa compiles some of its code (numba)
on first use: the first clip of a fresh installation takes a few seconds,
later ones a few milliseconds. Each clip's matrix products run on one BLAS thread
(:func:`numnet.engine.threads.limit_blas`): they are small, and OpenBLAS rounds
a product differently on one thread and on several, so the features would
otherwise depend on the machine's cores.

Settings of version 1 (``FeatureSettings.from_dict({"version": 1, ...})``: no
trimming, no normalisation, no deltas, mel statistics or parts) give the 36
features numnet computed before.

An :class:`~numnet.audio.AudioError` refuses a clip shorter than the analysis
window (``n_fft`` samples after resampling: not one full frame, so no feature
is defined) and a **silent** clip: its loudest frame's RMS level below
``settings.silence_db`` (default -80 dB full scale; version 1: the whole
clip's RMS; digital silence is minus infinity, a 16-bit file's quantisation
noise about -100 dB). Its spectrum is zero or pure noise floor, so the spectral
features are 0 / 0 or meaningless, and it says nothing about its class:
trained on, it teaches the network to map "nothing" to a label.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any

import librosa
import numpy as np

from numnet.engine.threads import limit_blas

from .cache import FeatureCache
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
    with limit_blas(1):
        return _describe(array_clip(clip, sample_rate, s), s, ARRAY)


def file_features(path: str | bytes | os.PathLike, s: FeatureSettings,
                  cache: FeatureCache | None = None) -> np.ndarray:
    """The feature vector of one audio file: ``(s.n_features,)``; errors name the file.

    With a ``cache`` (:mod:`numnet.audio.cache`), features stored for this file (same
    path, size, modification time and settings) are returned without reading it.
    """
    file = as_path(path)
    key = cache.key(file, s) if cache is not None else None
    if cache is not None and key is not None:
        found = cache.get(key, s.n_features)
        if found is not None:
            return found
    with limit_blas(1):
        out = _describe(load_clip(file, s), s, file)
    if cache is not None and key is not None and cache.key(file, s) == key:   # not changed since
        cache.put(key, out)
    return out


def _describe(y: np.ndarray, s: FeatureSettings, where: str | os.PathLike) -> np.ndarray:
    """The feature vector of a mono clip ``y: (n_samples,)`` at ``s.sample_rate``.

    Returns ``(s.n_features,)`` float64; errors name ``where``.
    """
    _check_long(y, s, where)
    rms = _frame_rms(y, s)
    _check_loud(y, rms, s, where)
    if s.trim_db is not None:
        y = _trim(y, s)
        rms = _frame_rms(y, s)
    if s.normalize:
        y = (y / rms.max()).astype(np.float32)
        rms = rms / rms.max()
    span, active = _active_frames(rms, s.trim_db)
    out = _summarise(_per_frame(y, s)[:, span], active, s)
    if not np.isfinite(out).all():
        raise AudioError(where, "gave non-finite features; the clip may be corrupted")
    return out


def feature_names(settings: SettingsLike = None) -> list[str]:
    """Names of the feature vector's entries, in order (``settings.n_features`` of them).

    ``mfcc0_mean ... mfcc12_mean, mfcc0_std ... mfcc12_std``, the same for
    ``delta_mfcc`` and ``delta2_mfcc`` (with ``deltas``), then
    ``spectral_centroid_mean, spectral_centroid_std``, and likewise for
    ``spectral_bandwidth``, ``spectral_rolloff``, ``zero_crossing_rate`` and ``rms``;
    then ``mel0_mean ...``, ``mel0_std ...`` (with ``mel_stats``) and
    ``mfcc0_part0 ...`` (the MFCC means of each part, with ``segments > 1``).

    Parameters
    ----------
    settings : FeatureSettings, its dict, or None, default None
        The feature settings; None is the defaults.

    Returns
    -------
    list of str
    """
    s = as_settings(settings)
    names = [f"{block}{i}_{stat}" for block in _mfcc_blocks(s) for stat in _STATS
             for i in range(s.n_mfcc)]
    names += [f"{name}_{stat}" for name in FRAME_FEATURES for stat in _STATS]
    if s.mel_stats:
        names += [f"mel{j}_{stat}" for stat in _STATS for j in range(s.n_mels)]
    if s.segments > 1:
        names += [f"mfcc{i}_part{j}" for j in range(s.segments) for i in range(s.n_mfcc)]
    return names


def _mfcc_blocks(s: FeatureSettings) -> tuple[str, ...]:
    return ("mfcc", "delta_mfcc", "delta2_mfcc")[:1 + s.deltas]


def _frame_rms(y: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """Each frame's RMS level (linear): ``(n_frames,)`` float64."""
    return librosa.feature.rms(y=y, frame_length=s.n_fft, hop_length=s.hop_length,
                               center=False)[0].astype(np.float64)


def _trim(y: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """``y`` without its leading and trailing silence, cut to the sample.

    The level is measured over every run of ``hop_length`` samples (one sample
    apart); the clip keeps the samples from the first run within ``trim_db`` of the
    loudest to the end of the last, widened to ``n_fft`` samples if it is shorter. Cut
    at the sample, the same sound with silence around it is cut at the same place, so
    its frames, and features, are the same.
    """
    w = min(s.hop_length, len(y))
    energy = np.concatenate([[0.0], np.cumsum(np.square(y, dtype=np.float64))])
    power = (energy[w:] - energy[:-w]) / w                        # (len(y) - w + 1,)
    assert s.trim_db is not None
    loud = np.flatnonzero(power >= power.max() * 10.0 ** (-s.trim_db / 10.0))
    start, stop = int(loud[0]), int(loud[-1]) + w
    missing = s.n_fft - (stop - start)
    if missing > 0:                                               # at least one frame
        start = max(0, min(start - missing // 2, len(y) - s.n_fft))
        stop = start + s.n_fft
    return y[start:stop]


def _active_frames(rms: np.ndarray, trim_db: float | None) -> tuple[slice, np.ndarray]:
    """The frames from the first to the last that is within ``trim_db`` of the loudest
    (``slice``), and which of those are (``(n_kept,)`` bool); all frames with None."""
    if trim_db is None:
        return slice(None), np.ones(len(rms), dtype=bool)
    with np.errstate(divide="ignore"):
        level = 20.0 * np.log10(rms)
    loud = level >= level.max() - trim_db
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    return slice(first, last), loud[first:last]


def _summarise(per_frame: np.ndarray, active: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """``(rows, n_frames)`` from :func:`_per_frame`, over the frames ``active`` ->
    ``(s.n_features,)`` in :func:`feature_names` order."""
    k = s.n_mfcc
    blocks = [per_frame[:k]]
    if s.deltas:
        width = 9
        for order in range(1, s.deltas + 1):
            blocks.append(librosa.feature.delta(per_frame[:k], width=width, order=order,
                                                mode="nearest"))
    frames = per_frame[k:][:, active]
    mfccs = [block[:, active] for block in blocks]
    out = [part for block in mfccs for part in (block.mean(axis=1), block.std(axis=1))]
    others = frames[:len(FRAME_FEATURES)]
    out.append(np.column_stack([others.mean(axis=1), others.std(axis=1)]).ravel())
    if s.mel_stats:
        mel = frames[len(FRAME_FEATURES):]
        out += [mel.mean(axis=1), mel.std(axis=1)]
    if s.segments > 1:
        out.append(_part_means(mfccs[0], s.segments).ravel())
    return np.concatenate(out)


def _part_means(frames: np.ndarray, parts: int) -> np.ndarray:
    """Means of ``frames: (rows, n)`` over ``parts`` consecutive, near-equal runs of
    columns (at least one column each): ``(parts, rows)``."""
    n = frames.shape[1]
    bounds = np.linspace(0, n, parts + 1)
    starts = np.minimum(np.floor(bounds[:-1]).astype(int), n - 1)
    stops = np.maximum(np.floor(bounds[1:]).astype(int), starts + 1)
    return np.stack([frames[:, a:b].mean(axis=1) for a, b in zip(starts, stops, strict=True)])


@functools.lru_cache(maxsize=16)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """librosa's mel filter bank ``(n_mels, 1 + n_fft // 2)``, made once per setting (what
    ``librosa.feature.melspectrogram`` applies, as one matrix product instead of einsum)."""
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    basis.setflags(write=False)
    return basis


def _per_frame(y: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """The MFCCs, then :data:`FRAME_FEATURES`, then the log-mel bands (with
    ``mel_stats``) of each frame: ``(n_mfcc + 5 [+ n_mels], n_frames)``."""
    magnitude = np.abs(librosa.stft(y, n_fft=s.n_fft, hop_length=s.hop_length, center=False))
    mel = _mel_basis(s.sample_rate, s.n_fft, s.n_mels, s.fmin, s.fmax) @ magnitude ** 2
    log_mel = librosa.power_to_db(mel, top_db=s.top_db)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=s.n_mfcc)
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
    rows = [mfcc, *(frame[name] for name in FRAME_FEATURES)]
    if s.mel_stats:
        rows.append(log_mel)
    return np.vstack(rows).astype(np.float64)


def _check_long(y: np.ndarray, s: FeatureSettings, where: str | os.PathLike) -> None:
    """Refuse a clip shorter than one frame."""
    if y.size < s.n_fft:
        raise AudioError(where, f"is too short: {y.size / s.sample_rate:.3f} s ({y.size} samples "
                                f"at {s.sample_rate} Hz) is less than one analysis window of "
                                f"n_fft={s.n_fft} samples ({s.n_fft / s.sample_rate:.3f} s); "
                                f"use longer clips or a smaller n_fft")


def _check_loud(y: np.ndarray, rms: np.ndarray, s: FeatureSettings,
                where: str | os.PathLike) -> None:
    """Refuse a clip below ``s.silence_db``: its loudest frame (version 1 settings, which
    do not trim: the whole clip's RMS level). ``rms``: each frame's, ``(n_frames,)``."""
    if s.trim_db is None:
        value = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
        what = "RMS level"
    else:
        value = float(rms.max())
        what = "RMS level"
    level = 20.0 * math.log10(value) if value > 0 else -math.inf
    if level < s.silence_db:
        detail = ("all samples are zero" if not np.any(y) else
                  f"{what} {level:.1f} dB" + ("" if s.trim_db is None else " in its loudest frame"))
        raise AudioError(where, f"is silent ({detail}, below silence_db={s.silence_db:g} dB "
                                f"full scale): its features are undefined and it carries no "
                                f"information about its class")

"""One clip: an audio file (or an array) read, checked, mixed to mono and resampled.

Files are read with soundfile (libsndfile): WAV (and W64, RF64), FLAC,
Ogg (Vorbis, Opus), MP3 (libsndfile 1.1 or later), AIFF, AU and CAF, any
sample rate, any number of channels, integer or float samples. Each clip is
mixed to mono by averaging its channels, then resampled to
``settings.sample_rate`` with librosa's ``soxr_hq`` resampler. With
``settings.max_duration`` only the first seconds are used.

An :class:`~numnet.audio.AudioError` naming the file refuses one that
soundfile cannot decode (not audio, an unknown format, corrupted), an empty
file (0 bytes), a file with no samples, a truncated file (a WAV whose data
chunk promises more bytes than it holds, a FLAC or OGG stream that stops
early), a FLAC that does not declare its length, NaN or infinite samples, and
a sample rate outside 1 kHz to 1 MHz (a range widened to take in
``settings.sample_rate``): that is a damaged header, and resampling from it
would multiply the samples, or the work, by the ratio. So does what is not a
regular file: a named pipe or a device is refused without being waited on.
Whether a clip is long and loud enough for features is for
:mod:`numnet.audio.extract` to say.

Memory follows the samples a file holds, not the count its header declares:
frames are read a block at a time and mixed to mono as they come, so a header
promising 2**36 frames costs nothing before it is found to be truncated. File
names are used as they are (any bytes, via a file object numnet opens itself)
and shown escaped in messages (:func:`numnet.terminal.printable`).
"""

from __future__ import annotations

import errno
import math
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

import librosa
import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from numnet.validation import check_positive_int

from .errors import ARRAY, AudioError
from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["array_clip", "load_clip"]

_RESAMPLER = "soxr_hq"
_BLOCK_SAMPLES = 1 << 20        # samples (all channels) read at a time: 4 MB of float32
_RATES = (1_000, 1_000_000)     # file sample rates (Hz) read, besides the settings' own
_UNKNOWN_LENGTH = 2 ** 63 - 1   # libsndfile's frame count for a stream that does not say
# opened without waiting (a FIFO), not inherited, untranslated on Windows
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))

# libsndfile's error codes (sndfile.h) -> what to tell the user
_LIBSNDFILE_PROBLEMS = {
    1: "is not an audio file soundfile can read ({}); use WAV, FLAC, OGG or MP3",
    3: "is a damaged audio file ({}): it is probably truncated or corrupted",
    4: "uses an encoding soundfile cannot decode ({}); convert it to WAV or FLAC",
}
_UNDECODABLE = "could not be decoded ({}): it is probably truncated or corrupted"


def load_clip(path: str | bytes | os.PathLike, settings: SettingsLike = None) -> np.ndarray:
    """Read an audio file as the mono clip that features are computed from.

    Parameters
    ----------
    path : str, bytes or path-like
        Any file name the operating system accepts, valid UTF-8 or not.
    settings : FeatureSettings, its dict, or None (defaults)

    Returns
    -------
    ndarray of shape (n_samples,)
        float32 at ``settings.sample_rate``, channels averaged, at most
        ``settings.max_duration`` seconds.

    Raises
    ------
    AudioError
        For a file that is not audio, not a regular file, empty, truncated,
        at an implausible sample rate, or holding no or non-finite samples
        (see the module docstring). Silence and length are checked by the
        feature functions, not here.
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system.
    """
    s = as_settings(settings)
    file = as_path(path)
    mono, rate = _read(file, s)
    return _to_mono(mono, rate, s, file)


def as_path(path: str | bytes | os.PathLike) -> Path:
    """``path`` as a :class:`~pathlib.Path`; bytes are decoded as the operating system does."""
    return Path(os.fsdecode(path))


def array_clip(clip: Any, sample_rate: int, s: FeatureSettings) -> np.ndarray:
    """What :func:`load_clip` gives for a file, for samples held in memory.

    ``clip``: ``(n_frames,)`` or ``(n_frames, n_channels)``, floats at full
    scale 1 or integer PCM (scaled by its type's range), at ``sample_rate`` Hz
    -> ``(n_samples,)`` float32 at ``s.sample_rate``. Errors name ``"<array>"``.
    """
    sample_rate = check_positive_int(sample_rate, "sample_rate")
    data = _full_scale(np.asarray(clip))
    if data.ndim not in (1, 2):
        raise ValueError(f"clip must be (n_frames,) or (n_frames, n_channels), "
                         f"got shape {data.shape}")
    data = data[:_frames_to_read(len(data), sample_rate, s.max_duration)]
    return _to_mono(data, sample_rate, s, ARRAY)


def _read(path: Path, s: FeatureSettings) -> tuple[np.ndarray, int]:
    """``(samples (n_frames,) float32 mixed to mono, sample rate)`` of a file, checked."""
    with _open_regular(path) as fh:
        _check_wav_length(fh, path)
        try:
            with sf.SoundFile(fh) as f:
                rate = f.samplerate
                _check_rate(path, rate, s.sample_rate)
                if f.frames >= _UNKNOWN_LENGTH:
                    raise AudioError(path, "does not declare its length (a FLAC written as a "
                                           "stream?), which soundfile cannot read; re-encode "
                                           "it, e.g. with ffmpeg -i FILE out.flac")
                wanted = _frames_to_read(f.frames, rate, s.max_duration)
                mono = _read_mono(f, wanted)
        except sf.LibsndfileError as exc:
            reason = str(exc.error_string).strip().rstrip(".")
            problem = _LIBSNDFILE_PROBLEMS.get(exc.code, _UNDECODABLE)
            raise AudioError(path, problem.format(reason)) from None
    if len(mono) == 0:
        raise AudioError(path, "holds no audio samples: an empty recording, or a truncated or "
                               "damaged file")
    if len(mono) < wanted:
        raise AudioError(path, f"is truncated: its header promises {wanted} frames but only "
                               f"{len(mono)} could be read")
    return mono, rate


def _read_mono(f: Any, wanted: int) -> np.ndarray:
    """Up to ``wanted`` frames of the open sound file ``f``, channels averaged: ``(n,)`` float32.

    Read a block at a time, so memory follows the frames that are there, not ``wanted``
    (which comes from the file's header).
    """
    block = max(1, _BLOCK_SAMPLES // max(1, f.channels))
    parts, total = [], 0
    while total < wanted:
        data = f.read(min(block, wanted - total), dtype="float32", always_2d=True)
        if len(data) == 0:
            break
        parts.append(data[:, 0] if data.shape[1] == 1 else data.mean(axis=1))
        total += len(data)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _check_rate(path: Path, rate: int, target: int) -> None:
    """Refuse a sample rate no recording has: resampling would multiply samples or work by it."""
    low, high = min(_RATES[0], target), max(_RATES[1], target)
    if not low <= rate <= high:
        raise AudioError(path, f"declares a sample rate of {rate} Hz, outside {low} to {high} "
                               f"Hz: not a recording (or a damaged header); resample it first")


def _frames_to_read(frames: int, rate: int, max_duration: float | None) -> int:
    """All ``frames``, or as many as the first ``max_duration`` seconds hold."""
    return frames if max_duration is None else min(frames, math.ceil(max_duration * rate))


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a non-empty regular file; OS errors keep their types.

    Checked before opening (a device is never opened) and again on the open file (it may
    have been replaced); opened without waiting, so a named pipe cannot block.
    """
    _check_kind(path, path.stat())
    fd = os.open(path, _OPEN_FLAGS)
    try:
        _check_kind(path, os.fstat(fd))
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_kind(path: Path, info: os.stat_result) -> None:
    """Refuse what is not a non-empty regular file."""
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not an audio file", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise AudioError(path, "is not a regular file (a pipe or device?); give an audio file")
    if info.st_size == 0:
        raise AudioError(path, "is empty (0 bytes): not an audio file")


def _check_wav_length(fh: BinaryIO, path: Path) -> None:
    """Refuse a WAV file whose data chunk is cut short (libsndfile reads what is there).

    Leaves ``fh`` at its start.
    """
    size = os.fstat(fh.fileno()).st_size
    try:
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return                                      # not a WAV file
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return                                  # no data chunk: soundfile will say
            size_field = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                present = size - fh.tell()
                if size_field not in (0, 0xFFFFFFFF) and present < size_field:  # 0/~0: streamed
                    raise AudioError(path, f"is truncated: its data chunk declares "
                                           f"{size_field} bytes but only {present} are present")
                return
            fh.seek(size_field + (size_field & 1), os.SEEK_CUR)   # chunks are word-aligned
    finally:
        fh.seek(0)


def _full_scale(data: np.ndarray) -> np.ndarray:
    """Samples as float32 at full scale 1: integer PCM divided by its type's range."""
    if np.issubdtype(data.dtype, np.signedinteger):
        return (data / float(-np.iinfo(data.dtype).min)).astype(np.float32)
    if np.issubdtype(data.dtype, np.unsignedinteger):      # 8-bit WAV style: offset binary
        middle = float(np.iinfo(data.dtype).max // 2 + 1)
        return ((data - middle) / middle).astype(np.float32)
    return data.astype(np.float32)


def _to_mono(data: np.ndarray, rate: int, s: FeatureSettings, where: str | os.PathLike
             ) -> np.ndarray:
    """Check the samples, average the channels, resample to ``s.sample_rate``.

    ``data``: ``(n_frames,)`` or ``(n_frames, n_channels)`` at ``rate`` Hz ->
    ``(n_samples,)`` float32.
    """
    if data.size == 0:
        raise AudioError(where, "holds no samples")
    if not np.isfinite(data).all():
        raise AudioError(where, "holds NaN or infinite samples")
    mono = data.mean(axis=1) if data.ndim == 2 else data
    if rate != s.sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=s.sample_rate, res_type=_RESAMPLER)
    return np.ascontiguousarray(mono, dtype=np.float32)

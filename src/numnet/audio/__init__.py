"""Audio files to feature vectors, and models that remember how (the ``audio`` extra).

A folder of labelled clips, one subfolder per class::

    sounds/
        dog/    bark1.wav  bark2.flac ...
        cat/    meow1.ogg  ...

becomes a feature matrix with :func:`load_folder`; the same features for new
files come from :func:`features_for_files`, and :func:`save_model` /
:func:`load_model` keep the :class:`FeatureSettings` inside the model file, so
a model always sees the features it was trained on.

Reading
-------
Files are read with soundfile (libsndfile): WAV, FLAC and OGG/Vorbis, any
sample rate, any number of channels, integer or float samples. Each clip is
mixed to mono by averaging its channels, then resampled to
``settings.sample_rate`` with librosa's ``soxr_hq`` resampler. With
``settings.max_duration`` only the first seconds are used.

Features
--------
A clip is cut into frames of ``n_fft`` samples, ``hop_length`` apart, with no
padding (``center=False``: every frame is real audio). Per frame, librosa
computes ``n_mfcc`` MFCCs (from an ``n_mels``-band mel power spectrogram,
``fmin`` to ``fmax``, in dB relative to full scale and floored 80 dB below the
clip's loudest band, librosa's defaults), the spectral centroid, bandwidth and roll-off (Hz, from
the magnitude spectrum; roll-off at ``rolloff_percent``), the zero-crossing
rate (crossings per sample) and the RMS level (linear, full scale 1). The
clip's feature vector is the mean over frames of each, then its standard
deviation over frames, in :func:`feature_names` order: ``2 * n_mfcc + 10``
numbers (36 with the defaults). They are in natural units (Hz, dB-based
MFCCs), so standardise them before training. librosa compiles some of its
code (numba) on first use: the first clip of a fresh installation takes a few
seconds, later ones a few milliseconds.

:func:`save_model` and :func:`load_model` write and read model files, which
also needs the ``io`` extra (safetensors).

Bad audio
---------
Each of these raises an :class:`AudioError` (a ``ValueError``) whose message
names the file and says what to do:

- a file soundfile cannot decode (not audio, an unknown format, corrupted);
- an empty file (0 bytes), a file with no samples, a truncated file (a WAV
  whose data chunk promises more bytes than it holds, or a FLAC/OGG stream
  that stops early);
- NaN or infinite samples (possible in float files);
- a clip shorter than the analysis window (``n_fft`` samples after
  resampling): not one full frame, so no feature is defined;
- a **silent** clip: RMS level below ``settings.silence_db`` (default -80 dB
  full scale; digital silence is minus infinity, a 16-bit file's quantisation
  noise about -100 dB). Its spectrum is zero or pure noise floor, so the
  spectral features are 0 / 0 or meaningless, and it says nothing about its
  class: trained on, it teaches the network to map "nothing" to a label;
- a folder with no audio files in class subfolders, or with only one class.

:func:`load_folder` with ``skip_bad=True`` skips bad files instead: each is
logged as a warning and listed in the result's ``skipped`` attribute; errors
about the folder itself (no audio, a single class left) still raise. Without
it, the first bad file stops the load with an error that names it and its
position in the folder. Files in class folders that do not end in ``.wav``,
``.flac`` or ``.ogg`` (any case), and hidden files, are not audio clips and
are ignored.
"""

from __future__ import annotations

import errno
import logging
import math
import numbers
import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

try:
    import librosa
    import soundfile as sf  # type: ignore[import-untyped]
except ImportError as exc:            # the audio extra is not installed
    raise ImportError(
        f"numnet.audio needs soundfile and librosa ({exc.name or exc} is missing); "
        "install them with: pip install 'numnet[audio]'"
    ) from exc

from numnet import MLP, load, save
from numnet.io import load_metadata

__all__ = ["AUDIO_EXTENSIONS", "AudioError", "FeatureSettings", "FolderFeatures", "feature_names",
           "features", "features_for_files", "load_clip", "load_folder", "load_model",
           "save_model"]

logger = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
SETTINGS_VERSION = 1
_RESAMPLER = "soxr_hq"
_FRAME_FEATURES = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
                   "zero_crossing_rate", "rms")


class AudioError(ValueError):
    """Audio that cannot be turned into features.

    Attributes
    ----------
    path : str
        The file (or folder) at fault; ``"<array>"`` for an array.
    problem : str
        What is wrong with it, and what to do.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


# ---------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeatureSettings:
    """How clips become feature vectors; stored with a model (:meth:`to_dict`).

    Parameters
    ----------
    sample_rate : int, default 22050
        Every clip is resampled to this rate (Hz) first.
    n_mfcc : int, default 13
        MFCCs per frame.
    n_mels : int, default 40
        Mel bands the MFCCs are computed from (at least ``n_mfcc``).
    n_fft : int, default 1024
        Frame (analysis window) length in samples: 46 ms at 22050 Hz. Clips
        shorter than this are refused.
    hop_length : int, default 512
        Samples between frame starts.
    fmin : float, default 0
        Lowest mel-band frequency (Hz).
    fmax : float or None, default None
        Highest mel-band frequency (Hz); None is ``sample_rate / 2``.
    rolloff_percent : float in (0, 1), default 0.85
        The spectral roll-off is the frequency below which this share of the
        magnitude lies.
    max_duration : float or None, default None
        Use at most the first this many seconds of each file (None: all).
    silence_db : float, default -80
        Clips whose RMS level is below this (dB full scale) are silent, hence bad.
    """

    sample_rate: int = 22050
    n_mfcc: int = 13
    n_mels: int = 40
    n_fft: int = 1024
    hop_length: int = 512
    fmin: float = 0.0
    fmax: float | None = None
    rolloff_percent: float = 0.85
    max_duration: float | None = None
    silence_db: float = -80.0

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_mfcc", "n_mels", "n_fft", "hop_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"FeatureSettings.{name} must be a positive integer, "
                                 f"got {value!r}")
            object.__setattr__(self, name, int(value))
        for name in ("fmin", "fmax", "rolloff_percent", "max_duration", "silence_db"):
            value = getattr(self, name)
            if value is None and name in ("fmax", "max_duration"):
                continue
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not math.isfinite(value)):
                raise ValueError(f"FeatureSettings.{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"FeatureSettings.n_mfcc={self.n_mfcc} exceeds n_mels={self.n_mels}; "
                             f"MFCCs come from the mel bands, so use n_mels >= n_mfcc")
        nyquist = self.sample_rate / 2
        top = nyquist if self.fmax is None else self.fmax
        if not 0 <= self.fmin < top <= nyquist:
            raise ValueError(f"FeatureSettings needs 0 <= fmin < fmax <= sample_rate / 2 = "
                             f"{nyquist:g} Hz, got fmin={self.fmin:g}, fmax={self.fmax}")
        if not 0 < self.rolloff_percent < 1:
            raise ValueError(f"FeatureSettings.rolloff_percent must be in (0, 1), "
                             f"got {self.rolloff_percent}")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ValueError(f"FeatureSettings.max_duration must be > 0 seconds or None, "
                             f"got {self.max_duration}")

    @property
    def n_features(self) -> int:
        """Length of a feature vector: ``2 * n_mfcc + 10``."""
        return 2 * (self.n_mfcc + len(_FRAME_FEATURES))

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-safe dict (with a ``"version"``), for model metadata."""
        return {"version": SETTINGS_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSettings:
        """Settings from :meth:`to_dict`'s output; unknown keys and newer versions are refused.

        Keys left out take their defaults.
        """
        if not isinstance(data, dict):
            raise TypeError(f"feature settings must be a dict, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("version", SETTINGS_VERSION)
        if version != SETTINGS_VERSION:
            raise ValueError(f"feature settings version {version!r} is not one this numnet "
                             f"reads ({SETTINGS_VERSION}); upgrade numnet")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown feature setting(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def _settings(settings: FeatureSettings | dict[str, Any] | None) -> FeatureSettings:
    if settings is None:
        return FeatureSettings()
    if isinstance(settings, FeatureSettings):
        return settings
    if isinstance(settings, dict):
        return FeatureSettings.from_dict(settings)
    raise TypeError(f"settings must be a FeatureSettings, its to_dict() or None, "
                    f"got {type(settings).__name__}")


def feature_names(settings: FeatureSettings | dict[str, Any] | None = None) -> list[str]:
    """Names of the feature vector's entries, in order (``settings.n_features`` of them).

    ``mfcc0_mean ... mfcc12_mean, mfcc0_std ... mfcc12_std``, then
    ``spectral_centroid_mean, spectral_centroid_std``, and likewise for
    ``spectral_bandwidth``, ``spectral_rolloff``, ``zero_crossing_rate`` and ``rms``.
    """
    s = _settings(settings)
    names = [f"mfcc{i}_{stat}" for stat in ("mean", "std") for i in range(s.n_mfcc)]
    return names + [f"{name}_{stat}" for name in _FRAME_FEATURES for stat in ("mean", "std")]


# ---------------------------------------------------------------------------------------
# One clip
# ---------------------------------------------------------------------------------------

def features(clip: Any, sample_rate: int,
             settings: FeatureSettings | dict[str, Any] | None = None) -> np.ndarray:
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
    s = _settings(settings)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral) \
            or sample_rate < 1:
        raise ValueError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    data = _full_scale(np.asarray(clip))
    if data.ndim not in (1, 2):
        raise ValueError(f"clip must be (n_frames,) or (n_frames, n_channels), "
                         f"got shape {data.shape}")
    if s.max_duration is not None:
        data = data[:math.ceil(s.max_duration * sample_rate)]
    return _describe(_to_mono(data, int(sample_rate), s, "<array>"), s, "<array>")


def _full_scale(data: np.ndarray) -> np.ndarray:
    """Samples as float32 at full scale 1: integer PCM divided by its type's range."""
    if np.issubdtype(data.dtype, np.signedinteger):
        return (data / float(-np.iinfo(data.dtype).min)).astype(np.float32)
    if np.issubdtype(data.dtype, np.unsignedinteger):      # 8-bit WAV style: offset binary
        middle = float(np.iinfo(data.dtype).max // 2 + 1)
        return ((data - middle) / middle).astype(np.float32)
    return data.astype(np.float32)


def load_clip(path: str | os.PathLike,
              settings: FeatureSettings | dict[str, Any] | None = None) -> np.ndarray:
    """Read an audio file as the mono clip that features are computed from.

    Returns
    -------
    ndarray of shape (n_samples,)
        float32 at ``settings.sample_rate``, channels averaged, at most
        ``settings.max_duration`` seconds.

    Raises
    ------
    AudioError
        For a file that is not audio, empty, truncated, or holds no or
        non-finite samples (see the module docstring). Silence and length are
        checked by the feature functions, not here.
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system.
    """
    s = _settings(settings)
    data, rate = _read(Path(path), s)
    return _to_mono(data, rate, s, path)


def _read(path: Path, s: FeatureSettings) -> tuple[np.ndarray, int]:
    """``(samples (n_frames, n_channels) float32, sample rate)`` of a file, checked."""
    info = path.stat()                                 # OS errors name the path, keep types
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not an audio file", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise AudioError(path, "is not a regular file (a pipe or device?); give an audio file")
    if info.st_size == 0:
        raise AudioError(path, "is empty (0 bytes): not an audio file")
    with open(path, "rb") as fh:
        head = fh.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        _check_wav_length(path, info.st_size)
    try:
        with sf.SoundFile(path) as f:
            rate, frames = f.samplerate, f.frames
            wanted = frames if s.max_duration is None else min(
                frames, math.ceil(s.max_duration * rate))
            data = f.read(wanted, dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        reason = str(exc.error_string).strip().rstrip(".")
        problem = _LIBSNDFILE_PROBLEMS.get(
            exc.code, "could not be decoded ({}): it is probably truncated or corrupted")
        raise AudioError(path, problem.format(reason)) from None
    if len(data) == 0:
        raise AudioError(path, "holds no audio samples: an empty recording, or a truncated or "
                               "damaged file")
    if len(data) < wanted:
        raise AudioError(path, f"is truncated: its header promises {wanted} frames but only "
                               f"{len(data)} could be read")
    return data, rate


# libsndfile's error codes (sndfile.h) -> what to tell the user
_LIBSNDFILE_PROBLEMS = {
    1: "is not an audio file soundfile can read ({}); use WAV, FLAC or OGG",
    3: "is a damaged audio file ({}): it is probably truncated or corrupted",
    4: "uses an encoding soundfile cannot decode ({}); convert it to WAV, FLAC or OGG",
}


def _check_wav_length(path: Path, size: int) -> None:
    """Refuse a WAV file whose data chunk is cut short (libsndfile reads what is there)."""
    with open(path, "rb") as fh:
        fh.seek(12)
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


def _to_mono(data: np.ndarray, rate: int, s: FeatureSettings, where: str | os.PathLike
             ) -> np.ndarray:
    """Average channels, check the samples, resample to ``s.sample_rate``: (n_samples,)."""
    if data.size == 0:
        raise AudioError(where, "holds no samples")
    if not np.isfinite(data).all():
        raise AudioError(where, "holds NaN or infinite samples")
    mono = data.mean(axis=1) if data.ndim == 2 else data
    if rate != s.sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=s.sample_rate, res_type=_RESAMPLER)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _describe(y: np.ndarray, s: FeatureSettings, where: str | os.PathLike) -> np.ndarray:
    """The feature vector of a mono clip at ``s.sample_rate``: (n_features,) float64."""
    if y.size < s.n_fft:
        raise AudioError(where, f"is too short: {y.size / s.sample_rate:.3f} s ({y.size} samples "
                                f"at {s.sample_rate} Hz) is less than one analysis window of "
                                f"n_fft={s.n_fft} samples ({s.n_fft / s.sample_rate:.3f} s); "
                                f"use longer clips or a smaller n_fft")
    rms_all = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    level = 20.0 * math.log10(rms_all) if rms_all > 0 else -math.inf
    if level < s.silence_db:
        detail = "all samples are zero" if rms_all == 0 else f"RMS level {level:.1f} dB"
        raise AudioError(where, f"is silent ({detail}, below silence_db={s.silence_db:g} dB "
                                f"full scale): its features are undefined and it carries no "
                                f"information about its class")
    magnitude = np.abs(librosa.stft(y, n_fft=s.n_fft, hop_length=s.hop_length, center=False))
    mel = librosa.feature.melspectrogram(S=magnitude ** 2, sr=s.sample_rate, n_mels=s.n_mels,
                                         fmin=s.fmin, fmax=s.fmax)
    per_frame = np.vstack([
        librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=s.n_mfcc),
        librosa.feature.spectral_centroid(S=magnitude, sr=s.sample_rate, n_fft=s.n_fft),
        librosa.feature.spectral_bandwidth(S=magnitude, sr=s.sample_rate, n_fft=s.n_fft),
        librosa.feature.spectral_rolloff(S=magnitude, sr=s.sample_rate, n_fft=s.n_fft,
                                         roll_percent=s.rolloff_percent),
        librosa.feature.zero_crossing_rate(y, frame_length=s.n_fft, hop_length=s.hop_length,
                                           center=False),
        librosa.feature.rms(y=y, frame_length=s.n_fft, hop_length=s.hop_length, center=False),
    ]).astype(np.float64)                                                # (n_mfcc + 5, n_frames)
    mean, std = per_frame.mean(axis=1), per_frame.std(axis=1)
    k = s.n_mfcc
    out = np.concatenate([mean[:k], std[:k], np.column_stack([mean[k:], std[k:]]).ravel()])
    if not np.isfinite(out).all():
        raise AudioError(where, "gave non-finite features; the clip may be corrupted")
    return out


# ---------------------------------------------------------------------------------------
# Files and folders
# ---------------------------------------------------------------------------------------

def features_for_files(paths: str | os.PathLike | Iterable[str | os.PathLike],
                       settings: FeatureSettings | dict[str, Any] | None = None) -> np.ndarray:
    """Feature vectors of audio files (the same as :func:`load_folder` computes).

    Parameters
    ----------
    paths : path or iterable of paths
        Audio files in any format soundfile reads.
    settings : FeatureSettings, its dict (from a model's metadata), or None (defaults)

    Returns
    -------
    ndarray of shape (n_files, settings.n_features)

    Raises
    ------
    AudioError
        For the first bad file (the message names it); see the module docstring.
    """
    s = _settings(settings)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = [_file_features(Path(p), s) for p in paths]
    return np.array(rows).reshape(len(rows), s.n_features)


def _file_features(path: Path, s: FeatureSettings) -> np.ndarray:
    data, rate = _read(path, s)
    return _describe(_to_mono(data, rate, s, path), s, path)


class FolderFeatures(tuple):
    """What :func:`load_folder` returns: unpacks as ``X, y, files``; also has ``skipped``.

    Attributes
    ----------
    X : ndarray of shape (n_files, n_features)
    y : ndarray of shape (n_files,)
        Class names (str): each file's subfolder.
    files : list of pathlib.Path
        The files, in the rows' order.
    skipped : list of (pathlib.Path, str)
        Bad files left out with ``skip_bad=True``, and why.
    """

    X: np.ndarray
    y: np.ndarray
    files: list[Path]
    skipped: list[tuple[Path, str]]

    def __new__(cls, X: np.ndarray, y: np.ndarray, files: list[Path],
                skipped: list[tuple[Path, str]]) -> FolderFeatures:
        self = super().__new__(cls, (X, y, files))
        self.X, self.y, self.files, self.skipped = X, y, files, skipped
        return self

    def __getnewargs__(self):
        return self.X, self.y, self.files, self.skipped


def load_folder(path: str | os.PathLike, settings: FeatureSettings | dict[str, Any] | None = None,
                skip_bad: bool = False, progress: bool = False) -> FolderFeatures:
    """Features of a folder of labelled clips: one subfolder per class.

    ``path/<class>/**/*.wav|flac|ogg``: every audio file under a subfolder
    (searched recursively, in sorted order) is one example of the class named
    by the subfolder. Files directly in ``path``, hidden files and folders
    and other file types are ignored (with a log message).

    Parameters
    ----------
    path : str or path-like
        The folder.
    settings : FeatureSettings, its dict, or None (defaults)
    skip_bad : bool, default False
        Skip bad files (each logged as a warning, all listed in ``skipped``)
        instead of stopping at the first.
    progress : bool, default False
        Show a progress bar (tqdm, when installed).

    Returns
    -------
    FolderFeatures
        ``X, y, files = load_folder(path)``: ``X`` of shape
        ``(n_files, settings.n_features)``, ``y`` the class names
        ``(n_files,)``, ``files`` the paths; ``.skipped`` lists skipped files.

    Raises
    ------
    AudioError
        For a bad file (unless ``skip_bad``), naming it and its position; for
        a folder with no audio files in class subfolders, or fewer than two
        classes (after skipping).
    FileNotFoundError, NotADirectoryError
        If ``path`` is not a folder.
    """
    s = _settings(settings)
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder; load_folder expects a folder with one "
                                 f"subfolder of clips per class")
    todo, others = _list_clips(root)
    if not todo:
        seen = (f" (it holds {', '.join(f'{n} {ext}' for ext, n in others.most_common())} "
                f"file(s): convert them)") if others else ""
        raise AudioError(root, f"holds no audio files ({', '.join(AUDIO_EXTENSIONS)}) in class "
                               f"subfolders{seen}; expected {root}/<class>/<clip>.wav")
    classes = sorted({label for label, _ in todo})
    if len(classes) < 2:
        raise AudioError(root, f"holds only one class ({classes[0]!r}); a classifier needs at "
                               f"least two subfolders of clips, one per class")
    rows, labels, files, skipped = [], [], [], []
    for i, (label, file) in enumerate(_progress(todo, progress), start=1):
        try:
            rows.append(_file_features(file, s))
        except AudioError as exc:
            where = f"file {i} of {len(todo)} in {root}"
            if not skip_bad:
                raise AudioError(file, f"{exc.problem} [{where}; skip_bad=True skips bad "
                                       f"files]") from None
            logger.warning("skipped %s (%s): %s", file, where, exc.problem)
            skipped.append((file, exc.problem))
            continue
        except Exception as exc:       # not a bad-audio case: say where, keep the exception
            note = f"while computing the features of {file} (file {i} of {len(todo)})"
            if hasattr(exc, "add_note"):                       # Python 3.11+
                exc.add_note(note)
            else:
                logger.error("%s: %s", type(exc).__name__, note)
            raise
        labels.append(label)
        files.append(file)
    if skipped:
        logger.warning("skipped %d of %d files in %s", len(skipped), len(todo), root)
    left = sorted(set(labels))
    if len(left) < 2:
        raise AudioError(root, f"after skipping {len(skipped)} bad file(s), "
                               f"{'only class ' + repr(left[0]) if left else 'no class'} is left; "
                               f"a classifier needs at least two")
    lost = sorted(set(classes) - set(left))
    if lost:
        logger.warning("class(es) %s in %s have no usable clips and are left out", lost, root)
    return FolderFeatures(np.array(rows), np.array(labels), files, skipped)


def _list_clips(root: Path) -> tuple[list[tuple[str, Path]], Counter[str]]:
    """``(class name, file)`` for every audio file in a class subfolder, sorted, and a
    count of the other files' suffixes (to say what was there when nothing was found)."""
    found: list[tuple[str, Path]] = []
    others: Counter[str] = Counter()
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            if entry.suffix.lower() in AUDIO_EXTENSIONS:
                logger.warning("ignored %s: audio files belong in a class subfolder", entry)
            continue
        clips = []
        for p in sorted(entry.rglob("*")):
            if any(part.startswith(".") for part in p.relative_to(entry).parts) or p.is_dir():
                continue
            if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS:
                clips.append(p)
            else:
                others[p.suffix.lower() or "(no suffix)"] += 1
        if not clips:
            logger.warning("ignored %s: no audio files in it", entry)
        found.extend((entry.name, p) for p in clips)
    if others:
        logger.info("ignored %d file(s) in %s that are not %s: %s", sum(others.values()), root,
                    "/".join(AUDIO_EXTENSIONS), dict(others))
    return found, others


def _progress(items: Sequence[Any], show: bool) -> Iterable[Any]:
    if not show:
        return items
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError:
        logger.info("install tqdm for a progress bar; reading %d files", len(items))
        return items
    return tqdm(items, desc="audio features", unit="file")


# ---------------------------------------------------------------------------------------
# Models that keep their feature settings
# ---------------------------------------------------------------------------------------

def save_model(net: MLP, path: str | os.PathLike,
               settings: FeatureSettings | dict[str, Any] | None = None,
               metadata: dict[str, Any] | None = None) -> Path:
    """:func:`numnet.save` with the feature settings in the metadata, under ``"audio"``.

    Parameters
    ----------
    net : MLP
        Trained on features computed with ``settings``; its ``num_inputs``
        must be ``settings.n_features``.
    path : str or path-like
    settings : FeatureSettings, its dict, or None (defaults)
    metadata : dict, optional
        More JSON-safe metadata; the key ``"audio"`` is reserved.

    Returns
    -------
    pathlib.Path
    """
    s = _settings(settings)
    if not isinstance(net, MLP):
        raise TypeError(f"expected a numnet MLP, got {type(net).__name__}")
    if net.num_inputs != s.n_features:
        raise ValueError(f"the network takes {net.num_inputs} inputs but these feature settings "
                         f"give {s.n_features} features; save it with the settings it was "
                         f"trained with")
    metadata = dict(metadata or {})
    if "audio" in metadata:
        raise ValueError("metadata['audio'] is reserved for the feature settings; "
                         "pass them as settings")
    return save(net, path, metadata={**metadata, "audio": s.to_dict()})


def load_model(path: str | os.PathLike) -> tuple[MLP, FeatureSettings]:
    """Load a model saved by :func:`save_model`: ``(net, settings)``.

    Predict on new files with
    ``net.predict(features_for_files(files, settings))``.

    Raises
    ------
    ValueError
        If the file holds no (or invalid) feature settings, or they do not
        match the network's input size; the message names the file.
    """
    doc = load_metadata(path)
    stored = (doc.get("metadata") or {}).get("audio")
    if stored is None:
        raise ValueError(f"{os.fspath(path)}: holds no audio feature settings (metadata "
                         f"'audio'); it was not saved with numnet.audio.save_model")
    try:
        settings = FeatureSettings.from_dict(stored)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{os.fspath(path)}: invalid audio feature settings: {exc}") from exc
    net = load(path)
    if net.num_inputs != settings.n_features:
        raise ValueError(f"{os.fspath(path)}: the network takes {net.num_inputs} inputs but its "
                         f"feature settings give {settings.n_features} features")
    return net, settings

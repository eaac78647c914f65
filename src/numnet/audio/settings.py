"""How a clip becomes a feature vector: :class:`FeatureSettings`, stored with a model."""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeAlias

import numpy as np

from numnet.validation import check_positive_int

__all__ = ["FEATURE_VERSION", "FRAME_FEATURES", "SETTINGS_VERSION", "FeatureSettings",
           "SettingsLike", "as_settings"]

SETTINGS_VERSION = 2
# The version of the extraction code: a cached feature vector is reused only when it matches.
# 3: the mel spectrogram's product on one BLAS thread (last bits differ from version 2).
FEATURE_VERSION = 3
# Features computed per frame besides the MFCCs, in feature-vector order.
FRAME_FEATURES = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
                  "zero_crossing_rate", "rms")

_COUNTS = ("sample_rate", "n_mfcc", "n_mels", "n_fft", "hop_length", "segments")
_REALS = ("fmin", "fmax", "rolloff_percent", "max_duration", "silence_db", "trim_db", "top_db")
_OPTIONAL = ("fmax", "max_duration", "trim_db")
# What version 1 settings (models written before these fields existed) meant: no trimming,
# no level normalisation, MFCCs and frame features only. ``from_dict`` fills them in.
_VERSION_1 = {"trim_db": None, "normalize": False, "top_db": 80.0, "deltas": 0,
              "mel_stats": False, "segments": 1}


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
        Clips whose loudest frame's RMS level is below this (dB full scale) are
        silent, hence bad (version 1 settings: the whole clip's RMS level).
    trim_db : float or None, default 40
        Frames more than this many dB below the clip's loudest frame are silence:
        trimmed at both ends and left out of every frame statistic, so leading
        and trailing silence, pauses and a noise floor do not move the features.
        None uses every frame (version 1).
    normalize : bool, default True
        Scale each clip so that its loudest frame has RMS 1 first: the features
        do not depend on the recording level.
    top_db : float, default 80
        The log-mel spectrogram (and so the MFCCs) is floored this many dB below
        the clip's loudest mel band.
    deltas : {0, 1, 2}, default 2
        Also summarise the MFCCs' deltas (1), and delta-deltas (2), over frames.
    mel_stats : bool, default True
        Also give the mean and standard deviation of each log-mel band (dB).
    segments : int, default 3
        MFCC means are also taken over this many equal parts of the clip's kept
        frames (1: the whole clip only), which keeps the order of its sounds.

    Raises
    ------
    ValueError
        For a value out of range or settings that contradict each other
        (``n_mfcc > n_mels``, ``fmax`` above ``sample_rate / 2``); TypeError
        for a count that is not an integer.
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
    trim_db: float | None = 40.0
    normalize: bool = True
    top_db: float = 80.0
    deltas: int = 2
    mel_stats: bool = True
    segments: int = 3

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = check_positive_int(getattr(self, name), f"FeatureSettings.{name}")
            object.__setattr__(self, name, value)
        for name in _REALS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            object.__setattr__(self, name, _finite(value, f"FeatureSettings.{name}"))
        for name in ("normalize", "mel_stats"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"FeatureSettings.{name} must be True or False, "
                                f"got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        if isinstance(self.deltas, bool) or self.deltas not in (0, 1, 2):
            raise ValueError(f"FeatureSettings.deltas must be 0, 1 or 2, got {self.deltas!r}")
        object.__setattr__(self, "deltas", int(self.deltas))
        self._check_ranges()

    def _check_ranges(self) -> None:
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
        if self.trim_db is not None and self.trim_db <= 0:
            raise ValueError(f"FeatureSettings.trim_db must be > 0 dB or None, got {self.trim_db}")
        if self.top_db <= 0:
            raise ValueError(f"FeatureSettings.top_db must be > 0 dB, got {self.top_db}")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ValueError(f"FeatureSettings.max_duration must be > 0 seconds or None, "
                             f"got {self.max_duration}")

    @property
    def n_features(self) -> int:
        """Length of a feature vector: a mean and a std of each MFCC (and of its deltas), of
        each frame feature (and of each mel band), plus the segments' MFCC means."""
        per_frame = self.n_mfcc * (1 + self.deltas) + len(FRAME_FEATURES)
        per_frame += self.n_mels if self.mel_stats else 0
        extra = self.n_mfcc * self.segments if self.segments > 1 else 0
        return 2 * per_frame + extra

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-safe dict (with a ``"version"``), for model metadata."""
        return {"version": SETTINGS_VERSION, **asdict(self)}

    def key(self) -> str:
        """A text that differs whenever the features would: settings and extraction version."""
        return json.dumps({"feature_version": FEATURE_VERSION, **self.to_dict()}, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSettings:
        """Settings from :meth:`to_dict`'s output; unknown keys and newer versions are refused.

        Keys left out take their defaults. Version 1 (models saved before trimming,
        normalisation, deltas and mel statistics existed) gives the features it gave then.
        """
        if not isinstance(data, dict):
            raise TypeError(f"feature settings must be a dict, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("version", SETTINGS_VERSION)
        if version not in (1, SETTINGS_VERSION) or isinstance(version, bool):
            raise ValueError(f"feature settings version {version!r} is not one this numnet "
                             f"reads (1 to {SETTINGS_VERSION}); upgrade numnet")
        known = {f.name for f in fields(cls)}
        if version == 1:
            known -= set(_VERSION_1)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown feature setting(s) {unknown}; known: {sorted(known)}")
        if version == 1:
            data.update(_VERSION_1)
        return cls(**data)


# What every function of numnet.audio takes as ``settings``.
SettingsLike: TypeAlias = "FeatureSettings | dict[str, Any] | None"


def as_settings(settings: SettingsLike) -> FeatureSettings:
    """``settings`` as a :class:`FeatureSettings`: None gives the defaults, a dict
    goes through :meth:`FeatureSettings.from_dict`."""
    if settings is None:
        return FeatureSettings()
    if isinstance(settings, FeatureSettings):
        return settings
    if isinstance(settings, dict):
        return FeatureSettings.from_dict(settings)
    raise TypeError(f"settings must be a FeatureSettings, its to_dict() or None, "
                    f"got {type(settings).__name__}")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)

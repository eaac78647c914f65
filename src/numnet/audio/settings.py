"""How a clip becomes a feature vector: :class:`FeatureSettings`, stored with a model."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeAlias

from numnet.validation import check_positive_int

__all__ = ["FRAME_FEATURES", "SETTINGS_VERSION", "FeatureSettings", "SettingsLike",
           "as_settings"]

SETTINGS_VERSION = 1
# Features computed per frame besides the MFCCs, in feature-vector order.
FRAME_FEATURES = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
                  "zero_crossing_rate", "rms")

_COUNTS = ("sample_rate", "n_mfcc", "n_mels", "n_fft", "hop_length")
_REALS = ("fmin", "fmax", "rolloff_percent", "max_duration", "silence_db")
_OPTIONAL = ("fmax", "max_duration")


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

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = check_positive_int(getattr(self, name), f"FeatureSettings.{name}")
            object.__setattr__(self, name, value)
        for name in _REALS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            object.__setattr__(self, name, _finite(value, f"FeatureSettings.{name}"))
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
        if self.max_duration is not None and self.max_duration <= 0:
            raise ValueError(f"FeatureSettings.max_duration must be > 0 seconds or None, "
                             f"got {self.max_duration}")

    @property
    def n_features(self) -> int:
        """Length of a feature vector: ``2 * n_mfcc + 10`` (a mean and a std of each)."""
        return 2 * (self.n_mfcc + len(FRAME_FEATURES))

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

"""Augmented copies of training clips: noise, gain, shift, pitch and tempo, seeded.

:class:`Augment` makes ``copies`` altered versions of each clip, each an extra
training row. Apply it to training clips only: a validation or test clip
that was augmented (or whose copies trained) no longer measures new data.
Each copy's random draws come from ``random_state``, the clip's position and
the copy's number, so the same files and settings give the same rows.

Augmented features are never cached: the cache (:mod:`numnet.audio.cache`)
keys a file's clean features, and a copy is not that file's sound. Many files
are augmented on every core, with the same rows (:mod:`numnet.audio.parallel`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import librosa
import numpy as np

from numnet.engine.threads import limit_blas
from numnet.validation import check_count

from .clips import as_path, load_clip
from .extract import _describe
from .parallel import in_order, worker_count
from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["Augment"]

# The command line's names for the fields (--augment noise=20,gain=6,...).
SHORT_NAMES = {"noise": "noise_snr_db", "gain": "gain_db", "shift": "shift_s",
               "pitch": "pitch_semitones", "stretch": "stretch"}


@dataclass(frozen=True)
class Augment:
    """What each augmented copy of a clip may undergo, drawn at random per copy.

    Parameters
    ----------
    noise_snr_db : float or None
        Add white noise this many dB below the clip's RMS level.
    gain_db : float or None
        Scale the clip by a gain drawn uniformly in ``[-gain_db, gain_db]`` dB.
    shift_s : float or None
        Delay or advance the clip by up to this many seconds (uniform), filling with silence.
    pitch_semitones : float or None
        Shift the pitch by up to this many semitones either way
        (``librosa.effects.pitch_shift``), keeping the duration.
    stretch : float or None
        Change the tempo by a rate drawn in ``[1 - stretch, 1 + stretch]``
        (``librosa.effects.time_stretch``), keeping the pitch; below 1.
    copies : int, default 1
        Augmented copies per clip.
    random_state : int, default 0
        Seeds every draw.
    """

    noise_snr_db: float | None = None
    gain_db: float | None = None
    shift_s: float | None = None
    pitch_semitones: float | None = None
    stretch: float | None = None
    copies: int = 1
    random_state: int = 0

    def __post_init__(self) -> None:
        effects = {k: v for k, v in self.effects().items() if v is not None}
        if not effects:
            raise ValueError(f"Augment needs at least one of {', '.join(SHORT_NAMES.values())}")
        for name, value in effects.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"Augment {name} must be a finite number >= 0, got {value!r}")
        if self.stretch is not None and not self.stretch < 1:
            raise ValueError(f"Augment stretch must be below 1 (the rate is drawn in "
                             f"[1 - stretch, 1 + stretch]), got {self.stretch!r}")
        for name in ("copies", "random_state"):
            check_count(getattr(self, name), f"Augment {name}", least=1 if name == "copies" else 0)

    def effects(self) -> dict[str, float | None]:
        """The effects' fields and values (None: not applied)."""
        return {name: getattr(self, name) for name in SHORT_NAMES.values()}

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (for a model's training record)."""
        return asdict(self)

    @classmethod
    def parse(cls, text: str, copies: int = 1, random_state: int = 0) -> Augment:
        """From the command line's form: ``"noise=20,gain=6,shift=0.1,pitch=2,stretch=0.1"``."""
        values: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = item.partition("=")
            field = SHORT_NAMES.get(key.strip())
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if field is None or not sep or not math.isfinite(number):
                raise ValueError(f"--augment {text!r}: '{item}' is not NAME=NUMBER with NAME "
                                 f"one of {', '.join(SHORT_NAMES)}; e.g. --augment "
                                 f"noise=20,gain=6,shift=0.1,pitch=2,stretch=0.1")
            values[field] = number
        if not values:
            raise ValueError(f"--augment {text!r} names no effect; e.g. --augment noise=20,gain=6")
        return cls(**values, copies=copies, random_state=random_state)

    def rng(self, clip_index: int, copy: int) -> np.random.Generator:
        """The draws of copy ``copy`` of the clip at ``clip_index``.

        Seeded by ``(random_state, clip_index, copy)``, so each copy's draws are
        the same on every run and in any worker process.

        Parameters
        ----------
        clip_index : int
            The clip's position among the files augmented.
        copy : int
            The copy's number, from 0 to ``copies - 1``.

        Returns
        -------
        numpy.random.Generator
            A new generator, for :meth:`apply`.
        """
        return np.random.default_rng([self.random_state, clip_index, copy])

    def apply(self, clip: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """One augmented copy of a mono clip.

        The effects set run in this order: shift, tempo, pitch, gain, then noise
        (relative to the result's level).

        Parameters
        ----------
        clip : ndarray of shape (n_samples,)
            The mono clip, as :func:`~numnet.audio.load_clip` gives it.
        sample_rate : int
            Its sample rate, in Hz.
        rng : numpy.random.Generator
            Where the effects' amounts are drawn from (:meth:`rng` for repeatable copies).

        Returns
        -------
        ndarray of shape (n_augmented,)
            float32; the same length unless ``stretch`` changed the tempo.
        """
        y = np.asarray(clip, dtype=np.float32)
        if self.shift_s is not None:
            y = _shift(y, int(round(rng.uniform(-self.shift_s, self.shift_s) * sample_rate)))
        if self.stretch is not None:
            rate = float(rng.uniform(1 - self.stretch, 1 + self.stretch))
            y = librosa.effects.time_stretch(y, rate=rate)
        if self.pitch_semitones is not None:
            steps = float(rng.uniform(-self.pitch_semitones, self.pitch_semitones))
            y = librosa.effects.pitch_shift(y, sr=sample_rate, n_steps=steps)
        if self.gain_db is not None:
            y = y * np.float32(10 ** (rng.uniform(-self.gain_db, self.gain_db) / 20))
        if self.noise_snr_db is not None:
            level = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0
            noise = rng.standard_normal(len(y)) * level / 10 ** (self.noise_snr_db / 20)
            y = y + noise.astype(np.float32)
        return np.ascontiguousarray(y, dtype=np.float32)

    def features_for_files(self, paths: Iterable[str | bytes | os.PathLike],
                           settings: SettingsLike = None) -> tuple[np.ndarray, np.ndarray]:
        """Features of ``copies`` augmented copies of each file (training files only).

        Parameters
        ----------
        paths : iterable of paths (str, bytes or path-like)
            The training files, in the order of their labels.
        settings : FeatureSettings, its dict, or None, default None
            The feature settings; None is the defaults.

        Returns
        -------
        X : ndarray of shape (n_files * copies, settings.n_features)
            Copy ``c`` of file ``i`` is row ``i * copies + c``.
        source : ndarray of shape (n_files * copies,)
            The index of the file each row copies (to repeat its label: ``y[source]``).

        Raises
        ------
        AudioError
            For a file that is not audio, or a copy left too short or silent (naming the file).
        """
        s = as_settings(settings)
        files: Sequence[str | bytes | os.PathLike] = list(paths)
        items = [(self, i, as_path(path), s) for i, path in enumerate(files)]
        blocks = []
        with limit_blas(1), contextlib.closing(
                in_order(_copies, items, worker_count(len(items)))) as outcomes:
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
                blocks.append(outcome)
        X = np.concatenate(blocks) if blocks else np.zeros((0, s.n_features))
        source = np.repeat(np.arange(len(files), dtype=np.intp), self.copies)
        return X, source


def _copies(augment: Augment, i: int, file: os.PathLike, s: FeatureSettings) -> np.ndarray:
    """The features of ``augment.copies`` copies of the file at position ``i``:
    ``(copies, s.n_features)``."""
    clean = load_clip(file, s)
    rows = [_describe(augment.apply(clean, s.sample_rate, augment.rng(i, c)), s, file)
            for c in range(augment.copies)]
    return np.array(rows, dtype=np.float64).reshape(augment.copies, s.n_features)


def _shift(y: np.ndarray, by: int) -> np.ndarray:
    """``y`` delayed (``by`` > 0) or advanced by ``by`` samples, the gap silent."""
    out = np.zeros_like(y)
    if by >= 0:
        out[by:] = y[:len(y) - by] if by < len(y) else y[:0]
    else:
        out[:by] = y[-by:]
    return out

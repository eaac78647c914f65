"""Audio folders as a sweep's data, and augmentation as a sweep factor (the ``audio`` extra).

``data="audio:FOLDER"`` (``numnet sweep --data audio:FOLDER``) reads the folder's features
once, in the driver (:func:`numnet.audio.load_folder`, or :func:`numnet.audio.load_split`
for a ``train/``, ``test/`` (and ``valid/``) split; features cached per file), never once
per run. A folder of class folders keeps a fixed fifth of its clips as every run's test set
(as arrays given to a sweep do); a split keeps its own parts. The training rows keep their
clips' paths (:class:`AudioClips`), so that a run can augment them.

Each run (:func:`run_sets`) takes its training clips as any run takes rows (``n_samples``
drawn from its seed), holds out ``validation_split`` of them itself, standardises every set
with the mean and deviation of its clean training clips, then adds the augmented copies
that the factors ``augment`` (``"none"``, or :meth:`numnet.audio.Augment.parse`'s
``"noise=20,gain=6,shift=0.1"``) and ``augment_copies`` ask for: copies of its training
clips only, never of a validation or test clip, drawn from the run's seed, so a run repeats
bit for bit on any executor. Augmented runs read the clips again: Dask workers on other
machines need the folder at the same path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numnet.terminal import printable
from numnet.validation import check_count

#: How a sweep's ``data`` names an audio folder (as ``numnet train`` does).
AUDIO_PREFIX = "audio:"
#: The grid factors that augment a run's training clips.
AUGMENT_FACTORS = ("augment", "augment_copies")
#: The ``augment`` value of a run without augmentation (None is read as it).
NO_AUGMENT = "none"
#: The share of a folder of class folders held out, fixed, as every run's test set.
TEST_SHARE = 0.2

Arrays = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class AudioClips:
    """Where a sweep's audio came from: ``folder`` as given, the feature ``settings``
    (:meth:`numnet.audio.FeatureSettings.to_dict`), ``files``: the clip of each training row,
    in row order (absolute paths, so every worker finds them), and ``clips``: the clips
    per part (``{"train": n, "validation": n, "test": n}``) and ``classes``, for the
    report."""

    folder: str
    settings: Mapping[str, Any]
    files: tuple[str, ...]
    clips: Mapping[str, int]
    classes: int

    def identity(self) -> dict[str, Any]:
        """What tells these features apart, beside their digest: their settings."""
        return {"features": dict(self.settings)}

    def about(self) -> dict[str, Any]:
        """What the report says of the data (not part of run keys: a moved folder resumes)."""
        return {"folder": self.folder, "clips": dict(self.clips), "classes": self.classes}


def is_audio(data: Any) -> bool:
    """Whether ``data`` names an audio folder (``"audio:FOLDER"``)."""
    return isinstance(data, str) and data.startswith(AUDIO_PREFIX)


def _audio_module() -> Any:
    """:mod:`numnet.audio`, or an ImportError in one line naming the extra."""
    try:
        from numnet import audio  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        raise ImportError(f"audio folders and augment need the audio extra: pip install "
                          f"'numnet[audio]' ({' '.join(str(exc).split())})") from None
    return audio


def check_folder(data: str) -> str:
    """The folder ``"audio:FOLDER"`` names, refused in one line unless it is one (cheap:
    nothing is read)."""
    folder = data[len(AUDIO_PREFIX):]
    if not folder:
        raise ValueError("audio: names no folder; give audio:FOLDER, a folder with one "
                         "subfolder of clips per class")
    if not os.path.isdir(folder):
        raise ValueError(f"{AUDIO_PREFIX}{printable(folder)}: no such folder (expected one "
                         f"subfolder of clips per class, or train/ and test/ parts)")
    _audio_module()
    return folder


def read_folder(data: str) -> tuple[Arrays, Arrays | None, Arrays | None, AudioClips]:
    """``(train, validation, test, clips)`` of ``"audio:FOLDER"``: every clip's features
    ``(n_clips, n_features)`` and class names ``(n_clips,)``, read once (cached per file).
    A split's parts are its sets; a folder of class folders keeps a fixed
    :data:`TEST_SHARE` of its clips (the same for every sweep of it) as the test set."""
    folder = check_folder(data)
    audio = _audio_module()
    try:
        return _read(audio, folder)
    except audio.AudioError as exc:     # its advice names skip_bad, which sweeps do not take
        problem = exc.problem
        for hint in audio.folders.SKIP_HINTS.values():
            problem = problem.replace(hint, "a sweep reads every clip: fix or remove it")
        if problem == exc.problem:
            raise
        raise audio.AudioError(exc.path, problem) from None


def _read(audio: Any, folder: str) -> tuple[Arrays, Arrays | None, Arrays | None, AudioClips]:
    """:func:`read_folder` of ``folder``, :mod:`numnet.audio` given."""
    settings = audio.FeatureSettings()
    if audio.split_folders(folder) is None:
        X, y, files = audio.load_folder(folder, settings)
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        n_test = int(round(len(X) * TEST_SHARE))
        order = np.random.default_rng(len(X)).permutation(len(X))    # fixed: same test set
        test_rows, train_rows = order[:n_test], order[n_test:]
        train, val = (X[train_rows], y[train_rows]), None
        test = (X[test_rows], y[test_rows]) if n_test else None
        kept = [files[i] for i in train_rows]
    else:
        parts = audio.load_split(folder, settings)
        sets = {name: (np.asarray(got.X, dtype=np.float64), np.asarray(got.y))
                for name, got in parts.items()}
        train, val, test = sets["train"], sets.get("valid"), sets.get("test")
        kept = list(parts["train"].files)
    clips = AudioClips(folder, settings.to_dict(),
                       tuple(os.fspath(os.path.abspath(f)) for f in kept),
                       {name: len(part[0]) for name, part in
                        (("train", train), ("validation", val), ("test", test))
                        if part is not None},
                       len(np.unique(train[1])))
    return train, val, test, clips


def augment_text(value: Any) -> str:
    """An ``augment`` value as a grid keeps it: ``"none"`` (also for None and ``""``), else
    the spec without surrounding spaces; a ValueError for what is not text."""
    if value is None:
        return NO_AUGMENT
    if not isinstance(value, str):
        raise ValueError(f"augment values are text such as 'noise=20,gain=6' or 'none', got "
                         f"{value!r}")
    text = value.strip()
    return NO_AUGMENT if text.lower() in ("", NO_AUGMENT) else text


def check_augment(factors: Iterable[Mapping[str, Sequence[Any]]], data: Any,
                  audio_data: bool) -> None:
    """Refuse, before any run (and before the folder is read), what the grids' ``factors``
    ask of augmentation and cannot be: ``augment`` or ``augment_copies`` on data that is not
    an audio folder (``data``, as given), ``augment_copies`` with no ``augment`` to copy,
    a spec :meth:`numnet.audio.Augment.parse` refuses, or a count of copies below 1. One
    line each (ValueError)."""
    grids = [g for g in factors if any(k in g for k in AUGMENT_FACTORS)]
    if not grids:
        return
    if not audio_data:
        shown = data if isinstance(data, str) else f"data of type {type(data).__name__}"
        raise ValueError(f"augment and augment_copies make copies of training clips: they "
                         f"apply to audio folders only (data 'audio:FOLDER', --data "
                         f"audio:FOLDER), not {printable(shown)}")
    audio = _audio_module()
    for grid in grids:
        specs = [augment_text(v) for v in grid.get("augment", [NO_AUGMENT])]
        copies = list(grid.get("augment_copies", [1]))
        if "augment_copies" in grid and all(s == NO_AUGMENT for s in specs):
            raise ValueError("augment_copies sets how many copies augment makes; give augment "
                             "values too, e.g. augment=['none', 'noise=20'] (--augment "
                             "noise=20)")
        for n in copies:
            check_count(n, "each augment_copies value")
        for spec in specs:
            if spec != NO_AUGMENT:
                audio.Augment.parse(spec, copies=int(copies[0]))    # its one-line ValueError


@dataclass
class RunSets:
    """What one run trains on and is measured on: ``fit`` (clean training rows, then the
    augmented copies), ``train`` (the clean training rows: the training error and the
    baseline), ``validation``, ``test`` (None where absent), all standardised; and
    ``augmented``: the copies' count."""

    fit: Arrays
    train: Arrays
    validation: Arrays | None
    test: Arrays | None
    augmented: int


def run_sets(clips: AudioClips, rows: np.ndarray, train: Arrays, validation: Arrays | None,
             test: Arrays | None, settings: Mapping[str, Any], seed: int,
             rng: np.random.Generator, validation_split: float) -> RunSets:
    """One run's sets from its training ``rows`` (indices of ``clips.files``, whose
    features are ``train``): ``validation_split`` of them held out (``rng``), the rest
    standardised on themselves and the held-out sets alike, then augmented copies of them
    alone, as ``settings['augment']`` asks, drawn from ``seed``."""
    X, y = train
    if validation_split:
        n_val = int(round(len(X) * validation_split))
        if n_val < 1 or n_val >= len(X):
            raise ValueError(f"validation_split={validation_split} leaves {n_val} validation "
                             f"and {len(X) - n_val} training clip(s) of {len(X)}; use a "
                             f"fraction that leaves at least one of each")
        order = rng.permutation(len(X))
        held, kept = order[:n_val], order[n_val:]
        validation = (X[held], y[held])
        X, y, rows = X[kept], y[kept], rows[kept]
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0             # a constant feature is centred, not divided by zero

    def scaled(part: Arrays | None) -> Arrays | None:
        return None if part is None else ((part[0] - mean) / std, part[1])

    clean = ((X - mean) / std, y)
    spec = augment_text(settings.get("augment"))
    if spec == NO_AUGMENT:
        return RunSets(clean, clean, scaled(validation), scaled(test), 0)
    augment = _audio_module().Augment.parse(spec, copies=int(settings.get("augment_copies", 1)),
                                            random_state=int(seed))
    X_aug, source = augment.features_for_files([clips.files[i] for i in rows],
                                               dict(clips.settings))
    fit = (np.vstack([clean[0], (np.asarray(X_aug, dtype=np.float64) - mean) / std]),
           np.concatenate([y, y[source]]))
    return RunSets(fit, clean, scaled(validation), scaled(test), len(X_aug))

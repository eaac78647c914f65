"""Many files: a folder of labelled clips to ``X, y, files``, and a list of files to ``X``.

``path/<class>/**/*.wav|flac|ogg``: every audio file under a subfolder
(searched recursively, in sorted order) is one example of the class named by
the subfolder. Files directly in ``path``, hidden files and folders, and files
that do not end in ``.wav``, ``.flac`` or ``.ogg`` (any case) are not clips
of a class and are ignored, with a log message.

A folder with no audio files in class subfolders, or with only one class, is
an :class:`~numnet.audio.AudioError`. So is a bad file, named with its
position in the folder; with ``skip_bad=True`` bad files are skipped instead:
each is logged as a warning and listed in the result's ``skipped``. A failure
that is not about the audio (out of memory, say) keeps its type and, on
Python 3.11+, carries a note naming the file.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AudioError
from .extract import file_features
from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["AUDIO_EXTENSIONS", "FolderFeatures", "features_for_files", "load_folder"]

logger = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


def features_for_files(paths: str | os.PathLike | Iterable[str | os.PathLike],
                       settings: SettingsLike = None) -> np.ndarray:
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
        For the first bad file (the message names it); see :mod:`numnet.audio`.
    """
    s = as_settings(settings)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = [file_features(Path(p), s) for p in paths]
    return np.array(rows).reshape(len(rows), s.n_features)


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

    def __getnewargs__(self) -> tuple[Any, ...]:
        return self.X, self.y, self.files, self.skipped


def load_folder(path: str | os.PathLike, settings: SettingsLike = None,
                skip_bad: bool = False, progress: bool = False) -> FolderFeatures:
    """Features of a folder of labelled clips: one subfolder per class (module docstring).

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
    s = as_settings(settings)
    root = _check_folder(Path(path))
    todo = _list_clips(root)
    rows, kept, skipped = _read_clips(todo, s, root, skip_bad, progress)
    if skipped:
        logger.warning("skipped %d of %d files in %s", len(skipped), len(todo), root)
        _check_classes_left(root, {label for label, _ in todo}, kept, len(skipped))
    return FolderFeatures(np.array(rows), np.array([label for label, _ in kept]),
                          [file for _, file in kept], skipped)


def _check_folder(root: Path) -> Path:
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder; load_folder expects a folder with one "
                                 f"subfolder of clips per class")
    return root


def _list_clips(root: Path) -> list[tuple[str, Path]]:
    """``(class name, file)`` for every audio file in a class subfolder, sorted; refuses a
    folder without them or with a single class."""
    found: list[tuple[str, Path]] = []
    others: Counter[str] = Counter()
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            if entry.suffix.lower() in AUDIO_EXTENSIONS:
                logger.warning("ignored %s: audio files belong in a class subfolder", entry)
            continue
        clips = _class_clips(entry, others)
        if not clips:
            logger.warning("ignored %s: no audio files in it", entry)
        found.extend((entry.name, p) for p in clips)
    if others:
        logger.info("ignored %d file(s) in %s that are not %s: %s", sum(others.values()), root,
                    "/".join(AUDIO_EXTENSIONS), dict(others))
    _check_found(root, found, others)
    return found


def _class_clips(folder: Path, others: Counter[str]) -> list[Path]:
    """The audio files under ``folder``, sorted; counts the other files' suffixes in ``others``."""
    clips = []
    for p in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(folder).parts) or p.is_dir():
            continue
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS:
            clips.append(p)
        else:
            others[p.suffix.lower() or "(no suffix)"] += 1
    return clips


def _check_found(root: Path, found: list[tuple[str, Path]], others: Counter[str]) -> None:
    if not found:
        seen = (f" (it holds {', '.join(f'{n} {ext}' for ext, n in others.most_common())} "
                f"file(s): convert them)") if others else ""
        raise AudioError(root, f"holds no audio files ({', '.join(AUDIO_EXTENSIONS)}) in class "
                               f"subfolders{seen}; expected {root}/<class>/<clip>.wav")
    classes = sorted({label for label, _ in found})
    if len(classes) < 2:
        raise AudioError(root, f"holds only one class ({classes[0]!r}); a classifier needs at "
                               f"least two subfolders of clips, one per class")


def _read_clips(todo: Sequence[tuple[str, Path]], s: FeatureSettings, root: Path,
                skip_bad: bool, progress: bool
                ) -> tuple[list[np.ndarray], list[tuple[str, Path]], list[tuple[Path, str]]]:
    """Each clip's features: ``(rows, the (label, file) they come from, skipped files)``."""
    rows, kept, skipped = [], [], []
    for i, (label, file) in enumerate(_progress(todo, progress), start=1):
        position = f"file {i} of {len(todo)}"
        try:
            rows.append(_features_noting_file(file, s, position))
        except AudioError as exc:
            where = f"{position} in {root}"
            if not skip_bad:
                raise AudioError(file, f"{exc.problem} [{where}; skip_bad=True skips bad "
                                       f"files]") from None
            logger.warning("skipped %s (%s): %s", file, where, exc.problem)
            skipped.append((file, exc.problem))
        else:
            kept.append((label, file))
    return rows, kept, skipped


def _features_noting_file(file: Path, s: FeatureSettings, position: str) -> np.ndarray:
    """:func:`file_features`; a failure that is not bad audio keeps its type, noting the file."""
    try:
        return file_features(file, s)
    except AudioError:
        raise
    except Exception as exc:
        note = f"while computing the features of {file} ({position})"
        if hasattr(exc, "add_note"):                           # Python 3.11+
            exc.add_note(note)
        else:
            logger.error("%s: %s", type(exc).__name__, note)
        raise


def _check_classes_left(root: Path, classes: set[str], kept: list[tuple[str, Path]],
                        n_skipped: int) -> None:
    """After skipping: refuse fewer than two classes, warn about classes left empty."""
    left = sorted({label for label, _ in kept})
    if len(left) < 2:
        raise AudioError(root, f"after skipping {n_skipped} bad file(s), "
                               f"{'only class ' + repr(left[0]) if left else 'no class'} is left; "
                               f"a classifier needs at least two")
    lost = sorted(classes - set(left))
    if lost:
        logger.warning("class(es) %s in %s have no usable clips and are left out", lost, root)


def _progress(items: Sequence[Any], show: bool) -> Iterable[Any]:
    """``items``, under a tqdm progress bar when ``show`` and tqdm is installed."""
    if not show:
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError:
        logger.info("install tqdm for a progress bar; reading %d files", len(items))
        return items
    return tqdm(items, desc="audio features", unit="file")

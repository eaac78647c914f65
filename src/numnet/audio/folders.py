"""Many files: a folder of labelled clips to ``X, y, files``, and a list of files to ``X``.

``path/<class>/**/*.wav|flac|ogg|mp3|...``: every audio file under a subfolder
(searched recursively, in sorted order) is one example of the class named by
the subfolder. Files directly in ``path``, hidden files and folders, and files
whose suffix is not one of :data:`AUDIO_EXTENSIONS` (any case) are not clips
of a class and are ignored, with a log message.

Features are cached per file (:mod:`numnet.audio.cache`; ``cache=False`` turns
that off), so a second run over the same folder reads no audio. Many uncached
files are computed on every core, in worker processes, with the same results
in the same order (:mod:`numnet.audio.parallel`; ``NUMNET_AUDIO_WORKERS=1``
turns that off). A progress bar (tqdm) shows on a terminal (``progress=None``:
when stderr is one).

A folder with no audio files in class subfolders, or with only one class, is
an :class:`~numnet.audio.AudioError`. So is a bad file, named with its
position in the folder: one that is not audio (see :mod:`numnet.audio.clips`),
or that cannot be read at all (no permission, a broken link, a pipe or a
device with an audio suffix), and a subfolder that cannot be listed (its clips
would be missed). With ``skip_bad=True`` these are skipped instead: each is
logged as a warning and listed in the result's ``skipped``. A failure that is
not about the audio (out of memory, say) keeps its type and, on Python 3.11+,
carries a note naming the file.

Names may hold any bytes. A class is named by its folder as it is (an escape
sequence included: it is escaped where it is printed), except that bytes the
file-system encoding cannot decode are spelled ``\\xNN``, so that every label
is text a model file can store; two folders that would give the same label are
an error. Every message and log line shows names escaped
(:func:`numnet.terminal.printable`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from numnet.terminal import printable

from .cache import CacheLike, FeatureCache, open_cache
from .clips import as_path
from .errors import AudioError
from .parallel import features_in_order
from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["AUDIO_EXTENSIONS", "FileFeatures", "FolderFeatures", "SPLITS", "features_by_file",
           "features_for_files", "load_folder", "load_split", "split_folders"]

logger = logging.getLogger(__name__)

# What soundfile (libsndfile 1.1 or later) reads: WAV and its 64-bit forms, FLAC, Ogg
# (Vorbis, Opus), MP3, AIFF, AU, CAF. Kept equal to numnet.cli.predict.AUDIO_SUFFIXES.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                    ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64")
# How to skip bad files, as the caller spells it: the command line's option or the argument
# (a sweep, which reads every clip, replaces either with its own advice).
SKIP_HINTS = {True: "skip unreadable clips with --skip-bad",
              False: "skip unreadable clips with skip_bad=True"}


def _called_from_cli(depth: int = 2) -> bool:
    """Whether the caller ``depth`` frames up is numnet's command line (``numnet.cli.*``),
    whose users give ``--skip-bad`` rather than ``skip_bad=True``."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return False
    return str(frame.f_globals.get("__name__", "")).startswith("numnet.cli.")


class FileFeatures(NamedTuple):
    """One file's features or why there are none: what :func:`features_by_file` gives.

    A named tuple; its fields, in order, are also its attributes.

    Other Parameters
    ----------------
    path : pathlib.Path
        The file, as given (its name kept as it is).
    features : ndarray of shape (n_features,) or None
        Its feature vector, or None when the file is bad.
    problem : str or None
        Why it is bad (without the file name), or None.
    """

    path: Path
    features: np.ndarray | None       # (n_features,), or None when the file is bad
    problem: str | None               # why it is bad (without the file name), or None


def features_for_files(paths: str | bytes | os.PathLike | Iterable[str | bytes | os.PathLike],
                       settings: SettingsLike = None, *, cache: CacheLike = None,
                       progress: bool | None = False) -> np.ndarray:
    """Feature vectors of audio files (the same as :func:`load_folder` computes).

    Parameters
    ----------
    paths : path or iterable of paths (str, bytes or path-like)
        Audio files in any format soundfile reads, under any name.
    settings : FeatureSettings, its dict (from a model's metadata), or None (defaults)
        The feature settings the model was trained with.
    cache : folder, False or None
        Where features are cached (:mod:`numnet.audio.cache`): None is the user's
        cache folder, False none.
    progress : bool or None, default False
        Show a progress bar (None: when stderr is a terminal).

    Returns
    -------
    ndarray of shape (n_files, settings.n_features)

    Raises
    ------
    AudioError
        For the first bad file (the message names it); see :mod:`numnet.audio`.
        :func:`features_by_file` gives every file's features or reason instead.
    """
    s = as_settings(settings)
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    files = [as_path(p) for p in paths]
    rows = []
    with _features(files, s, open_cache(cache), progress) as outcomes:
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            rows.append(outcome)
    return np.array(rows).reshape(len(rows), s.n_features)


def features_by_file(paths: Iterable[str | bytes | os.PathLike], settings: SettingsLike = None,
                     *, cache: CacheLike = None, progress: bool | None = False
                     ) -> list[FileFeatures]:
    """Each file's features, or why it has none: one :class:`FileFeatures` per path, in order.

    A bad file (see :mod:`numnet.audio`), a missing one, a folder or one the
    system cannot read gets ``features=None`` and its ``problem``; the others
    are computed all the same. A failure that is not about the file (out of
    memory, say) still raises.

    Parameters
    ----------
    paths : iterable of paths (str, bytes or path-like)
        Audio files in any format soundfile reads, under any name.
    settings : FeatureSettings, its dict, or None, default None
        The feature settings; None is the defaults.
    cache : folder, False or None, default None
        Where features are cached (:mod:`numnet.audio.cache`): None is the user's
        cache folder, False none.
    progress : bool or None, default False
        Show a progress bar (None: when stderr is a terminal).

    Returns
    -------
    list of FileFeatures
        One per path, in order.
    """
    s = as_settings(settings)
    files = [as_path(p) for p in paths]
    out = []
    with _features(files, s, open_cache(cache), progress) as outcomes:
        for path, outcome in zip(files, outcomes, strict=True):
            out.append(FileFeatures(path, *_why_not(outcome)))
    return out


def _why_not(outcome: np.ndarray | BaseException) -> tuple[np.ndarray | None, str | None]:
    """``(features, None)``, or ``(None, why)`` for a file that is bad, missing, a folder
    or unreadable; any other failure is raised."""
    if isinstance(outcome, np.ndarray):
        return outcome, None
    if isinstance(outcome, AudioError):
        return None, outcome.problem
    if isinstance(outcome, FileNotFoundError):
        return None, "no such audio file"
    if isinstance(outcome, IsADirectoryError):
        return None, "is a folder, not an audio file"
    if isinstance(outcome, OSError):
        return None, f"cannot be read ({outcome.strerror or outcome})"
    raise outcome


@contextlib.contextmanager
def _features(files: Sequence[Path], s: FeatureSettings, cache: FeatureCache | None,
              progress: bool | None) -> Iterator[Iterable[np.ndarray | BaseException]]:
    """Each file's features or the exception computing them raised, in order, under a
    progress bar (:func:`numnet.audio.parallel.features_in_order`); leaving the block
    stops whatever is still being computed."""
    with contextlib.closing(features_in_order(files, s, cache)) as outcomes:
        yield _progress(outcomes, progress, total=len(files))


class FolderFeatures(tuple):
    """What :func:`load_folder` returns: unpacks as ``X, y, files``; also has ``skipped``.

    The arguments are also its attributes.

    Other Parameters
    ----------------
    X : ndarray of shape (n_files, n_features)
        The feature vectors, one row per file.
    y : ndarray of shape (n_files,)
        Class names (str): each file's subfolder (undecodable bytes as ``\\xNN``).
    files : list of pathlib.Path
        The files, in the rows' order.
    skipped : list of (pathlib.Path, str)
        Bad files (and subfolders that could not be listed) left out with
        ``skip_bad=True``, and why.
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
                skip_bad: bool = False, progress: bool | None = None, *,
                cache: CacheLike = None) -> FolderFeatures:
    """Features of a folder of labelled clips: one subfolder per class (module docstring).

    Parameters
    ----------
    path : str, bytes or path-like
        The folder.
    settings : FeatureSettings, its dict, or None (defaults)
        The feature settings.
    skip_bad : bool, default False
        Skip bad or unreadable files and unlistable subfolders (each logged
        as a warning, all listed in ``skipped``) instead of stopping at the first.
    progress : bool or None, default None
        Show a progress bar (tqdm, when installed); None: when stderr is a terminal.
    cache : folder, False or None
        Where features are cached (:mod:`numnet.audio.cache`): None is the user's
        cache folder (``NUMNET_CACHE_DIR`` or ``XDG_CACHE_HOME``), False none.

    Returns
    -------
    FolderFeatures
        ``X, y, files = load_folder(path)``: ``X`` of shape
        ``(n_files, settings.n_features)``, ``y`` the class names
        ``(n_files,)``, ``files`` the paths; ``.skipped`` lists skipped files.

    Raises
    ------
    AudioError
        For a bad file or an unlistable subfolder (unless ``skip_bad``),
        naming it and its position; for a folder with no audio files in class
        subfolders, fewer than two classes (after skipping), or two class
        folders that give the same label.
    FileNotFoundError, NotADirectoryError
        If ``path`` is not a folder.
    """
    return _load_folder(path, settings, skip_bad, progress, cache, _called_from_cli())


def _load_folder(path: str | os.PathLike, settings: SettingsLike, skip_bad: bool,
                 progress: bool | None, cache: CacheLike, cli: bool) -> FolderFeatures:
    """:func:`load_folder`, its messages worded for the command line (``cli``) or Python."""
    s = as_settings(settings)
    hint = SKIP_HINTS[cli]
    root = _check_folder(as_path(path))
    parts = split_folders(root)
    if parts is not None:
        names = "/, ".join(parts) + "/"
        how = (f"numnet train and numnet evaluate read it whole (audio:{printable(root)}); "
               f"elsewhere give one part, e.g. audio:{printable(parts['train'])}" if cli else
               "read it with numnet.audio.load_split")
        raise AudioError(root, f"holds a data split ({names}), each part with its class "
                               f"folders, not classes named {' and '.join(parts)}; {how}")
    todo, unlisted = _list_clips(root, skip_bad, hint)
    rows, kept, skipped = _read_clips(todo, s, root, skip_bad, progress, hint,
                                      open_cache(cache))
    if skipped or unlisted:
        if skipped:
            logger.warning("skipped %d of %d files in %s", len(skipped), len(todo), printable(root))
        _check_classes_left(root, {label for label, _ in todo}, kept, len(skipped) + len(unlisted))
    X = np.array(rows).reshape(len(rows), s.n_features)
    return FolderFeatures(X, np.array([label for label, _ in kept]),
                          [file for _, file in kept], unlisted + skipped)


SPLITS = {"train": ("train",), "valid": ("valid", "validation", "val"), "test": ("test",)}


def split_folders(path: str | bytes | os.PathLike) -> dict[str, Path] | None:
    """The parts of a folder laid out as a data split, or None.

    A split is a folder whose (non-hidden) entries are exactly ``train/`` and
    ``test/``, optionally with ``valid/`` (or ``validation/``, ``val/``), each
    of which holds class subfolders.

    Parameters
    ----------
    path : str, bytes or path-like
        The folder to look at.

    Returns
    -------
    dict of str to pathlib.Path, or None
        ``{"train": ..., ["valid": ...,] "test": ...}``; None when ``path`` is
        not such a folder (or cannot be listed).
    """
    root = as_path(path)
    try:
        entries = [e for e in root.iterdir() if not e.name.startswith(".")]
    except OSError:
        return None
    found: dict[str, Path] = {}
    for entry in entries:
        part = next((p for p, names in SPLITS.items() if entry.name.lower() in names), None)
        if part is None or part in found or not entry.is_dir():
            return None
        found[part] = entry
    if "train" not in found or "test" not in found:
        return None
    try:
        if not all(any(c.is_dir() and not c.name.startswith(".") for c in folder.iterdir())
                   for folder in found.values()):
            return None
    except OSError:
        return None
    return {part: found[part] for part in SPLITS if part in found}


def load_split(path: str | os.PathLike, settings: SettingsLike = None, skip_bad: bool = False,
               progress: bool | None = None, *, cache: CacheLike = None
               ) -> dict[str, FolderFeatures]:
    """A folder laid out as a data split (:func:`split_folders`), each part read by
    :func:`load_folder`: ``{"train": FolderFeatures, ["valid": ...,] "test": ...}``.

    Parameters
    ----------
    path : str, bytes or path-like
        The folder holding ``train/``, ``test/`` (and ``valid/``).
    settings : FeatureSettings, its dict, or None, default None
        The feature settings; None is the defaults.
    skip_bad : bool, default False
        Skip bad or unreadable files, as :func:`load_folder` does, in each part.
    progress : bool or None, default None
        Show a progress bar (tqdm, when installed); None: when stderr is a terminal.
    cache : folder, False or None, default None
        Where features are cached (:mod:`numnet.audio.cache`): None is the user's
        cache folder, False none.

    Returns
    -------
    dict of str to FolderFeatures
        The parts, in the order train, valid, test.

    Raises
    ------
    AudioError
        If ``path`` is not such a folder, or a part holds a class that ``train/``
        does not (a model could never predict it); and as :func:`load_folder` for each
        part. A class of ``train/`` missing from another part is only logged.
    """
    root = _check_folder(as_path(path))
    parts = split_folders(root)
    if parts is None:
        raise AudioError(root, "is not a data split: expected train/ and test/ (and "
                               "optionally valid/), each with one subfolder per class; "
                               "read a folder of class subfolders with load_folder")
    cli = _called_from_cli()
    out = {part: _load_folder(folder, settings, skip_bad, progress, cache, cli)
           for part, folder in parts.items()}
    known = set(out["train"].y.tolist())
    for part, loaded in out.items():
        extra = sorted(set(loaded.y.tolist()) - known)
        if extra:
            raise AudioError(parts[part], f"holds class(es) {', '.join(map(printable, extra))} "
                                          f"that train/ does not; a model trained on train/ "
                                          f"could never predict them")
        missing = sorted(known - set(loaded.y.tolist()))
        if missing:
            logger.warning("%s has no clips of class(es) %s", printable(parts[part]),
                           ", ".join(map(printable, missing)))
    return out


def _check_folder(root: Path) -> Path:
    if not root.exists():
        raise FileNotFoundError(f"{printable(root)}: no such folder")
    if not root.is_dir():
        raise NotADirectoryError(f"{printable(root)}: not a folder; load_folder expects a folder "
                                 f"with one subfolder of clips per class")
    return root


def _list_clips(root: Path, skip_bad: bool, hint: str
                ) -> tuple[list[tuple[str, Path]], list[tuple[Path, str]]]:
    """``(class name, file)`` for every audio file in a class subfolder, sorted, and the
    subfolders that could not be listed (an error unless ``skip_bad``); refuses a folder
    without clips, with a single class, or with two folders giving one label."""
    found: list[tuple[str, Path]] = []
    others: Counter[str] = Counter()
    unlisted: list[tuple[Path, str]] = []
    folder_of: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            if entry.suffix.lower() in AUDIO_EXTENSIONS:
                logger.warning("ignored %s: audio files belong in a class subfolder",
                               printable(entry))
            continue
        label = _label(entry.name)
        if label in folder_of:
            raise AudioError(root, f"class folders '{printable(folder_of[label].name)}' and "
                                   f"'{printable(entry.name)}' both give the label "
                                   f"'{printable(label)}'; rename one")
        folder_of[label] = entry
        clips = _class_clips(entry, others, unlisted)
        if not clips:
            logger.warning("ignored %s: no audio files in it", printable(entry))
        found.extend((label, p) for p in clips)
    if others:
        logger.info("ignored %d file(s) in %s that are not %s: %s", sum(others.values()),
                    printable(root), "/".join(AUDIO_EXTENSIONS), _counts(others))
    for folder, why in unlisted:
        if not skip_bad:
            raise AudioError(folder, f"{why} [in {printable(root)}; {hint}]")
        logger.warning("skipped %s: %s", printable(folder), why)
    _check_found(root, found, others)
    return found, unlisted


def _label(name: str) -> str:
    """A class folder's name as its label: as it is, but for bytes that the file-system
    encoding cannot decode (surrogate escapes), spelled ``\\xNN``."""
    return os.fsencode(name).decode(sys.getfilesystemencoding(), "backslashreplace")


def _class_clips(folder: Path, others: Counter[str], unlisted: list[tuple[Path, str]]
                 ) -> list[Path]:
    """The audio files under ``folder``, sorted (not hidden ones, nor in hidden or linked
    folders); counts the other files' suffixes in ``others``, notes unlistable folders in
    ``unlisted``. Anything but a folder with an audio suffix is a clip: the reader refuses
    what is not a regular file."""
    def note(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename is not None else folder
        unlisted.append((where, f"is a folder that cannot be listed ({exc.strerror or exc}): "
                                f"the clips in it would be left out"))

    clips = []
    for top, dirs, names in os.walk(folder, onerror=note):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            p = Path(top, name)
            if p.suffix.lower() in AUDIO_EXTENSIONS:
                clips.append(p)
            else:
                others[p.suffix.lower() or "(no suffix)"] += 1
    return sorted(clips)


def _check_found(root: Path, found: list[tuple[str, Path]], others: Counter[str]) -> None:
    if not found:
        seen = f" (it holds {_counts(others)} file(s): convert them)" if others else ""
        raise AudioError(root, f"holds no audio files ({', '.join(AUDIO_EXTENSIONS)}) in class "
                               f"subfolders{seen}; expected {printable(root)}/<class>/<clip>.wav")
    classes = sorted({label for label, _ in found})
    if len(classes) < 2:
        raise AudioError(root, f"holds only one class ('{printable(classes[0])}'); a classifier "
                               f"needs at least two subfolders of clips, one per class")


def _counts(others: Counter[str]) -> str:
    """``"3 .txt, 1 .mp3"``: how many files of each other suffix, most first, escaped."""
    return ", ".join(f"{n} {printable(ext)}" for ext, n in others.most_common())


def _read_clips(todo: Sequence[tuple[str, Path]], s: FeatureSettings, root: Path,
                skip_bad: bool, progress: bool | None, hint: str, cache: FeatureCache | None
                ) -> tuple[list[np.ndarray], list[tuple[str, Path]], list[tuple[Path, str]]]:
    """Each clip's features: ``(rows, the (label, file) they come from, skipped files)``."""
    rows, kept, skipped = [], [], []
    with _features([file for _, file in todo], s, cache, progress) as outcomes:
        for i, ((label, file), outcome) in enumerate(zip(todo, outcomes, strict=True), start=1):
            position = f"file {i} of {len(todo)}"
            try:
                rows.append(_features_noting_file(file, outcome, position))
            except AudioError as exc:
                where = f"{position} in {printable(root)}"
                if not skip_bad:
                    raise AudioError(file, f"{exc.problem} [{where}; {hint}]") from None
                logger.warning("skipped %s (%s): %s", printable(file), where, exc.problem)
                skipped.append((file, exc.problem))
            else:
                kept.append((label, file))
    return rows, kept, skipped


def _features_noting_file(file: Path, outcome: np.ndarray | BaseException,
                          position: str) -> np.ndarray:
    """The features computing ``file`` gave, or the exception it raised: a file the system
    cannot read is bad audio (an AudioError); any other failure keeps its type, noting the
    file."""
    if isinstance(outcome, np.ndarray):
        return outcome
    if isinstance(outcome, AudioError):
        raise outcome
    if isinstance(outcome, OSError):    # no permission, a broken link, a link loop, an I/O error
        raise AudioError(file, f"cannot be read ({outcome.strerror or outcome})") from None
    note = f"while computing the features of {printable(file)} ({position})"
    if hasattr(outcome, "add_note"):                           # Python 3.11+
        outcome.add_note(note)
    else:
        logger.error("%s: %s", type(outcome).__name__, note)
    raise outcome


def _check_classes_left(root: Path, classes: set[str], kept: list[tuple[str, Path]],
                        n_skipped: int) -> None:
    """After skipping: refuse fewer than two classes, warn about classes left empty."""
    left = sorted({label for label, _ in kept})
    if len(left) < 2:
        what = f"only class '{printable(left[0])}'" if left else "no class"
        raise AudioError(root, f"after skipping {n_skipped} bad file(s) or folder(s), {what} is "
                               f"left; a classifier needs at least two")
    lost = sorted(classes - set(left))
    if lost:
        logger.warning("class(es) %s in %s have no usable clips and are left out",
                       ", ".join(f"'{printable(label)}'" for label in lost), printable(root))


def _progress(items: Iterable[Any], show: bool | None, total: int | None = None
              ) -> Iterable[Any]:
    """``items`` (``total`` of them; default ``len(items)``), under a tqdm progress bar when
    ``show`` (None: when stderr is a terminal) and tqdm is installed."""
    if show is None:
        show = _stderr_is_terminal()
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    if not show or total < 2:
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError:
        logger.info("install tqdm for a progress bar; reading %d files", total)
        return items
    return tqdm(items, desc="audio features", unit="file", leave=False, total=total)


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):        # replaced or closed
        return False

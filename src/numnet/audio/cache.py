"""Feature vectors cached per file, so that a second run over the same clips reads no audio.

An entry is keyed on the file's absolute path, size and modification time (ns),
the :class:`~numnet.audio.FeatureSettings`, numnet's feature version
(:data:`~numnet.audio.settings.FEATURE_VERSION`) and librosa's version: change
any of them and the features are computed again. Where entries live:

- ``cache=None`` (the default): ``$NUMNET_CACHE_DIR/audio-features`` if that
  variable is set (``NUMNET_CACHE_DIR=off``, ``0`` or empty turns caching off), else
  ``$XDG_CACHE_HOME/numnet/audio-features`` (``~/.cache/numnet/audio-features``
  when ``XDG_CACHE_HOME`` is not set): a per-user folder, never the data's own;
- ``cache=False``: no cache;
- ``cache=PATH``: that folder (made if missing).

An entry is one ``.npy`` file of bytes (read with ``allow_pickle=False``, never
pickle): a SHA-256 of the key and the features, then the float64 features. It
is used only if that digest matches, its length is the settings' feature count
and every value is finite; anything else (a truncated, foreign or corrupted
file) is ignored and the features are computed and written again. Entries are
written to a temporary name and renamed into place, so a reader never sees half
of one; a cache folder that cannot be written costs the caching, not the run
(logged once). Removing the folder is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import TypeAlias

import librosa
import numpy as np

from numnet.terminal import printable

from .settings import FeatureSettings

__all__ = ["CacheLike", "FeatureCache", "default_cache_dir", "open_cache"]

logger = logging.getLogger(__name__)

ENV = "NUMNET_CACHE_DIR"
_OFF = {"", "0", "off", "false", "no", "none"}
_SUBFOLDER = "audio-features"
_DIGEST = 32                      # bytes of SHA-256 before the features
_LIBROSA_VERSION = str(getattr(librosa, "__version__", "?"))

# What every function that reads files takes as ``cache``.
CacheLike: TypeAlias = "str | os.PathLike[str] | bool | None"


def default_cache_dir() -> Path | None:
    """The folder ``cache=None`` uses, or None when ``NUMNET_CACHE_DIR`` turns caching off."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen) / _SUBFOLDER
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "numnet" / _SUBFOLDER


def open_cache(cache: CacheLike) -> FeatureCache | None:
    """The cache that ``cache`` names (module docstring), or None for no cache."""
    if cache is False:
        return None
    if cache is None or cache is True:
        folder = default_cache_dir()
        return None if folder is None else FeatureCache(folder)
    if isinstance(cache, (str, os.PathLike)):
        return FeatureCache(Path(os.fspath(cache)))
    raise TypeError(f"cache must be a folder, True, False or None, got {type(cache).__name__}")


class FeatureCache:
    """Feature vectors in ``folder``, one verified ``.npy`` file per (file, settings).

    ``hits`` and ``misses`` count this object's look-ups.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = self.misses = 0
        self._write_failed = False

    def key(self, path: Path, s: FeatureSettings) -> bytes | None:
        """What identifies ``path``'s features under ``s``; None if the file cannot be
        stat'ed (the reader then says why)."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        absolute = os.fsencode(os.path.abspath(path))
        return b"\0".join([absolute, str(info.st_size).encode(), str(info.st_mtime_ns).encode(),
                           s.key().encode(), _LIBROSA_VERSION.encode()])

    def _entry(self, key: bytes) -> Path:
        name = hashlib.sha256(key).hexdigest()
        return self.folder / name[:2] / f"{name}.npy"

    def get(self, key: bytes, n_features: int) -> np.ndarray | None:
        """The cached features ``(n_features,)`` for ``key``, or None (absent or not valid)."""
        entry = self._entry(key)
        try:
            raw = np.load(entry, allow_pickle=False)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception as exc:            # not a .npy file, truncated, unreadable: recompute
            logger.debug("ignored cache entry %s: %s", printable(entry), exc)
            self.misses += 1
            return None
        features = _verified(raw, key, n_features)
        if features is None:
            logger.debug("ignored cache entry %s: it does not verify", printable(entry))
            self.misses += 1
            return None
        self.hits += 1
        return features

    def put(self, key: bytes, features: np.ndarray) -> None:
        """Store ``features`` (1-D float64) under ``key``; a failure only logs."""
        payload = np.ascontiguousarray(features, dtype="<f8").tobytes()
        record = np.frombuffer(hashlib.sha256(key + payload).digest() + payload, dtype=np.uint8)
        buffer = io.BytesIO()
        np.save(buffer, record, allow_pickle=False)
        entry = self._entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=entry.parent)
            try:
                with open(fd, "wb") as f:
                    f.write(buffer.getvalue())
                os.replace(tmp, entry)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            if not self._write_failed:
                logger.warning("cannot write the audio feature cache in %s (%s); features are "
                               "computed without it", printable(self.folder),
                               exc.strerror or exc)
                self._write_failed = True


def _verified(raw: np.ndarray, key: bytes, n_features: int) -> np.ndarray | None:
    """The features in a cache record, if it is whole, is this key's and holds
    ``n_features`` finite numbers; else None."""
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size != _DIGEST + 8 * n_features:
        return None
    data = raw.tobytes()
    digest, payload = data[:_DIGEST], data[_DIGEST:]
    if hashlib.sha256(key + payload).digest() != digest:
        return None
    features = np.frombuffer(payload, dtype="<f8").astype(np.float64)
    return features if np.isfinite(features).all() else None

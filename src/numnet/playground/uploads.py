"""Uploaded data files: kept in the server's own temporary folder, read as the CLI reads them.

:class:`Uploads` writes each file (already bounded in size by the request's
reader) under a fresh id in a folder of its own, reads it with
:func:`numnet.cli.data.read_frame` (pandas; nothing is unpickled), refuses
more rows or columns than :data:`~numnet.playground.settings.LIMITS` allow,
and keeps at most ``keep`` files (the oldest go first). :meth:`Uploads.close`
removes the folder; the server calls it when it stops.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numnet.cli import data
from numnet.terminal import one_line, printable

from .settings import LIMITS

__all__ = ["Upload", "Uploads", "UploadError", "SUFFIXES"]

SUFFIXES = (".csv", ".tsv", ".tab")


class UploadError(ValueError):
    """A file the playground cannot use; the message (one line) says what to do."""


@dataclass
class Upload:
    """A stored file: ``name`` as the user's computer names it, ``path`` where it is here."""

    id: str
    name: str
    path: str
    rows: int
    columns: list[str]
    target: str

    def describe(self) -> dict[str, Any]:
        """POST /api/upload's answer."""
        return {"upload_id": self.id, "name": self.name, "rows": self.rows,
                "columns": self.columns, "target": self.target}


class Uploads:
    """The uploaded files of one server, in a temporary folder of its own."""

    def __init__(self, keep: int = 20) -> None:
        self.keep = keep
        self.folder = tempfile.mkdtemp(prefix="numnet-playground-")
        self._files: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def add(self, filename: str, content: bytes) -> Upload:
        """Store and read ``content``, uploaded as ``filename``.

        Raises
        ------
        UploadError
            For another file type than CSV or TSV, a file over the size, row or
            column limits, or one that pandas cannot read as its suffix says.
        """
        # the user's own name for it, its control characters (if any) escaped
        name = printable(Path(filename.replace("\\", "/")).name) or "data.csv"
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            raise UploadError(f"{one_line(name)!r:.80} is not a CSV or TSV file; upload a "
                              f".csv or .tsv (or .tab) file with a header row")
        if len(content) > LIMITS["upload_bytes"]:
            raise UploadError(f"the file is over the limit of {LIMITS['upload_bytes']:,} "
                              f"bytes; upload at most {LIMITS['upload_bytes'] // 1_000_000} MB")
        upload_id = secrets.token_urlsafe(9)
        folder = os.path.join(self.folder, upload_id)
        os.mkdir(folder)
        # the user's name, made safe for any file system; the command line names the original
        path = os.path.join(folder, re.sub(r"[^A-Za-z0-9._-]", "_", name)[-100:] or
                            f"data{suffix}")
        if not path.lower().endswith(suffix):
            path += suffix
        with open(path, "wb") as f:
            f.write(content)
        try:
            frame = data.read_frame(path)
            rows, columns = int(frame.shape[0]), [str(c) for c in frame.columns]
            if rows > LIMITS["upload_rows"]:
                raise UploadError(f"the file has {rows:,} rows, over the limit of "
                                  f"{LIMITS['upload_rows']:,}; upload fewer rows")
            if len(columns) > LIMITS["upload_columns"]:
                raise UploadError(f"the file has {len(columns)} columns, over the limit of "
                                  f"{LIMITS['upload_columns']}; keep the columns you need")
            if len(columns) < 2:
                raise UploadError("the file has one column; a feature and a target need two "
                                  "(is it really comma- or tab-separated?)")
        except (ValueError, ImportError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            message = str(exc).replace(path, name)
            raise UploadError(one_line(message)) from None
        upload = Upload(upload_id, name, path, rows, columns, data.default_target(columns))
        with self._lock:
            self._files[upload_id] = upload
            while len(self._files) > self.keep:
                oldest = next(iter(self._files))
                shutil.rmtree(os.path.dirname(self._files.pop(oldest).path),
                              ignore_errors=True)
        return upload

    def get(self, upload_id: str) -> Upload:
        with self._lock:
            upload = self._files.get(upload_id)
        if upload is None:
            raise UploadError(f"no uploaded file {one_line(upload_id)!r:.40} on this server "
                              f"(it restarted, or newer uploads replaced it); upload it again")
        return upload

    def close(self) -> None:
        """Remove the folder and every file in it."""
        with self._lock:
            self._files.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

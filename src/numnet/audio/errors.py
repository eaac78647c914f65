""":class:`AudioError`: audio that cannot be turned into features, and which file it is.

File and folder names come from the file system and may hold anything: escape
sequences (ESC), newlines, bytes that are not valid in the file-system encoding
(Python spells them as lone surrogates, ``"\\udcff"``). :func:`shown` makes one
safe to print; every message of :mod:`numnet.audio` that names a file uses it,
while the error's ``path`` keeps the name as it is.
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["ARRAY", "AudioError", "shown"]

ARRAY = "<array>"      # the ``path`` of an error about a clip given as an array

# C0 controls, DEL, C1 controls, the Unicode format characters that reorder or hide text (the
# set numnet's command escapes), and lone surrogates (undecodable bytes of a file name).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:               # the byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(name: str | bytes | os.PathLike[Any]) -> str:
    """A file name (or any text from a file) as one printable line.

    Control characters become ``\\xNN`` / ``\\uNNNN`` and a byte the file-system
    encoding cannot decode becomes ``\\xNN``: ``"a\\x1b[2J\\udcff.wav"`` is shown
    as the text ``a\\x1b[2J\\xff.wav``. Encodable to UTF-8, safe for a terminal.
    """
    text = os.fsdecode(name) if isinstance(name, (bytes, os.PathLike)) else str(name)
    return _UNSAFE.sub(_escape, text)


class AudioError(ValueError):
    """Audio that cannot be turned into features.

    The message is ``"{path}: {problem}"``, the path escaped by :func:`shown`.

    Attributes
    ----------
    path : str
        The file (or folder) at fault, as it is (not escaped); ``"<array>"``
        for an array.
    problem : str
        What is wrong with it, and what to do.
    """

    def __init__(self, path: str | bytes | os.PathLike[Any], problem: str) -> None:
        self.path = os.fsdecode(path)
        self.problem = problem
        super().__init__(f"{shown(self.path)}: {problem}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self.path, self.problem)

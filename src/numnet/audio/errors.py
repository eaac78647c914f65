""":class:`AudioError`: audio that cannot be turned into features, and which file it is.

File and folder names come from the file system and may hold anything: escape
sequences (ESC), newlines, bytes that are not valid in the file-system encoding
(Python spells them as lone surrogates, ``"\\udcff"``).
:func:`numnet.terminal.printable` makes one safe to print; every message of
:mod:`numnet.audio` that names a file uses it, while the error's ``path`` keeps
the name as it is.
"""

from __future__ import annotations

import os
from typing import Any

from numnet.terminal import printable

__all__ = ["ARRAY", "AudioError"]

ARRAY = "<array>"      # the ``path`` of an error about a clip given as an array


class AudioError(ValueError):
    """Audio that cannot be turned into features.

    The message is ``"{path}: {problem}"``, the path escaped by
    :func:`numnet.terminal.printable`. ``path`` and ``problem`` are kept as
    attributes (``path`` as a str, decoded by :func:`os.fsdecode`).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file (or folder) at fault, as it is (not escaped); ``"<array>"``
        for an array.
    problem : str
        What is wrong with it, and what to do.
    """

    def __init__(self, path: str | bytes | os.PathLike[Any], problem: str) -> None:
        self.path = os.fsdecode(path)
        self.problem = problem
        super().__init__(f"{printable(self.path)}: {problem}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self.path, self.problem)

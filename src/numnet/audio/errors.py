""":class:`AudioError`: audio that cannot be turned into features, and which file it is."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["ARRAY", "AudioError"]

ARRAY = "<array>"      # the ``path`` of an error about a clip given as an array


class AudioError(ValueError):
    """Audio that cannot be turned into features.

    The message is ``"{path}: {problem}"``.

    Attributes
    ----------
    path : str
        The file (or folder) at fault; ``"<array>"`` for an array.
    problem : str
        What is wrong with it, and what to do.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self.path, self.problem)

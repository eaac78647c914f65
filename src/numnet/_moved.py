"""Old import paths that still work, with a ``FutureWarning`` naming the new one.

Each entry of :data:`MOVED` maps an old module path to where the module is
now and what a user should import instead. Submodules follow their package
(``numnet.files.format`` is ``numnet._files.format``), and the old path gives
the very same module object, so classes compare equal across both paths.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install"]

# old path -> (where the module is now, what to import instead)
MOVED: dict[str, tuple[str, str]] = {
    "numnet.files": ("numnet._files", "numnet.io (save, load, checkpoints)"),
    "numnet.fitting": ("numnet._fitting", "numnet.training (fit, evaluate, History) "
                                          "and numnet.callbacks"),
    "numnet.data": ("numnet.cli.data", "numnet.cli.data (the command line's data sources)"),
}


def _moved(name: str) -> tuple[str, str, str] | None:
    """``(old package, new module name, advice)`` for an old path, or None."""
    for old, (new, advice) in MOVED.items():
        if name == old or name.startswith(old + "."):
            return old, new + name[len(old):], advice
    return None


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the module that now holds it."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if _moved(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        old, new, advice = _moved(spec.name)  # type: ignore[misc]
        if spec.name == old:
            # stacklevel 2: the importing line (warnings skips the import machinery's frames)
            warnings.warn(f"{old} is deprecated and will be removed; import {advice}",
                          FutureWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported under its new name."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())

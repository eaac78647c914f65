"""A griffe extension for numnet's API reference: docstrings as ``help()`` shows them.

griffe reads the source without running it. Two things differ at run time, and the
reference shows the run-time form:

* Sphinx roles (``:func:`numnet.fit```, ``:class:`~numnet.MLP```), which the docstrings use
  for ``help()`` and IDEs, become code spans (Markdown has no roles).
* A class or function whose docstring is completed when its module runs (the estimators
  share their parameters' text) gets the completed docstring.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const)?:`~?([^`]+)`")


class RuntimeDocstrings(griffe.Extension):
    """Roles to code spans; docstrings completed at import taken from the live object."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.is_class or obj.is_function:
            live = _live_docstring(obj)
            if live is not None and obj.docstring is None:
                obj.docstring = griffe.Docstring(live, parent=obj)
            elif live is not None and obj.docstring is not None and live != obj.docstring.value:
                obj.docstring.value = live
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)


def _live_docstring(obj: griffe.Object) -> str | None:
    """The docstring of the object at ``obj.path`` once its module has run, if it has one."""
    module_path = obj.module.path
    name = obj.path[len(module_path) + 1:]
    try:
        target: Any = importlib.import_module(module_path)
        for part in name.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    doc = getattr(target, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else None

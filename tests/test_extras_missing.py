"""A face module whose extra is missing says which extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize("module, hidden, extra", [
    ("numnet.estimators", "sklearn", "numnet[sklearn]"),
    ("numnet.estimators", "scipy", "numnet[sklearn]"),
    ("numnet.onnx", "onnx", "numnet[onnx]"),
])
def test_missing_extra_names_it(monkeypatch, module, hidden, extra):
    for name in list(sys.modules):
        if name == hidden or name.startswith(hidden + ".") or name == module:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, hidden, None)      # "import hidden" now fails
    with pytest.raises(ImportError, match=rf"pip install '{extra}'".replace("[", r"\[")
                       .replace("]", r"\]")):
        importlib.import_module(module)

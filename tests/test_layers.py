"""Every module of the package sits in a layer of the import contract.

``lint-imports`` checks the layers listed in ``pyproject.toml``; a module that
is in no layer is not checked at all. This test fails when a new module (a new
face such as ``numnet.estimators``) is added without a place in the contract.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import numnet

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _layered_modules() -> set[str]:
    tomllib = pytest.importorskip("tomllib")          # Python 3.11+
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}


def test_every_module_has_a_layer():
    modules = {f"numnet.{m.name}" for m in pkgutil.iter_modules(numnet.__path__)}
    missing = sorted(modules - _layered_modules())
    assert not missing, (f"{missing} are in no layer of the import-linter contract in "
                         f"pyproject.toml; add each to its layer (a new face: the first line)")


def test_the_contract_names_only_modules_that_exist():
    modules = {f"numnet.{m.name}" for m in pkgutil.iter_modules(numnet.__path__)}
    assert _layered_modules() <= modules

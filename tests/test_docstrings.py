"""Every public name has a numpydoc docstring, and array arguments give their shapes.

Public means: listed in the ``__all__`` of a module the API reference shows, and the public
methods of those classes. The docstrings are read by griffe, the parser the site's API
reference (mkdocstrings) uses, so what passes here is what the reference shows.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re

import pytest

griffe = pytest.importorskip("griffe", reason="the docstring tests need numnet[test]")

MODULES = ["numnet", "numnet.mlp", "numnet.network", "numnet.tutorial", "numnet.training",
           "numnet.callbacks", "numnet.activations", "numnet.losses", "numnet.initializers",
           "numnet.optimizers", "numnet.gradcheck", "numnet.io", "numnet.datasets",
           "numnet.preprocessing", "numnet.features", "numnet.metrics", "numnet.baselines",
           "numnet.diagnostics", "numnet.plots", "numnet.estimators", "numnet.onnx",
           "numnet.audio", "numnet.experiments"]
ARRAY = re.compile(r"\b(ndarray|array[- ]like|ArrayLike|NDArray)\b", re.I)
# scikit-learn's estimator API: its meaning is scikit-learn's, documented there
INHERITED = {"get_params", "set_params", "get_metadata_routing", "set_fit_request",
             "set_partial_fit_request", "set_score_request", "set_predict_request",
             "set_output", "fit_transform", "__init__"}


def _public() -> list[tuple[str, object]]:
    """The public functions, classes and methods, as ``help()`` shows them.

    The objects are imported, not parsed from source: some docstrings and signatures are
    made when a module runs (``numnet.fit``'s, the estimators' shared parameters).
    """
    found: dict[str, object] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for member in getattr(module, "__all__", []):
            obj = getattr(module, member)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not obj.__module__.startswith("numnet"):
                continue
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
            if inspect.isclass(obj):
                for attribute, method in vars(obj).items():
                    if (inspect.isfunction(method) and not attribute.startswith("_")
                            and attribute not in INHERITED
                            and not any(attribute in vars(base) for base in obj.__mro__[1:])):
                        found.setdefault(f"{obj.__module__}.{method.__qualname__}", method)
    return sorted(found.items())


PUBLIC = _public()


def _problems(obj: object) -> list[str]:
    """What the docstring of one function, method or class lacks."""
    text = inspect.getdoc(obj) if inspect.isfunction(obj) else obj.__doc__
    if not text or not text.strip():
        return ["no docstring"]
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("griffe")
    logger.addHandler(handler)
    try:
        sections = griffe.Docstring(inspect.cleandoc(text), parser="numpy").parse("numpy")
    finally:
        logger.removeHandler(handler)
    problems = [f"docstring: {message}" for message in records]
    documented = {}
    for section in sections:
        if section.kind.value in {"parameters", "other parameters"}:
            for entry in section.value:
                for one in entry.name.split(","):        # "X, y : ndarray"
                    documented[one.strip().lstrip("*")] = entry
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return problems
    for name, parameter in signature.parameters.items():
        if name in {"self", "cls"}:
            continue
        if name not in documented:
            problems.append(f"parameter {name!r} not under Parameters")
            continue
        entry = documented[name]
        said = f"{entry.annotation or ''} {entry.description}"
        annotation = ("" if parameter.annotation is inspect.Parameter.empty
                      else str(parameter.annotation))
        if ARRAY.search(f"{annotation} {entry.annotation or ''}") and \
                "shape" not in said and "(n_" not in said:
            problems.append(f"array parameter {name!r} gives no shape")
    return problems


@pytest.mark.parametrize(("path", "obj"), PUBLIC, ids=[path for path, _ in PUBLIC])
def test_public_name_has_a_numpydoc_docstring(path: str, obj: object) -> None:
    problems = _problems(obj)
    try:
        where = f"{inspect.getsourcefile(obj)}:{inspect.getsourcelines(obj)[1]}"
    except (OSError, TypeError):      # a class whose __module__ is its package's facade
        where = getattr(obj, "__module__", "?")
    assert not problems, f"{path} ({where}): " + "; ".join(problems)


def test_the_check_can_fail() -> None:
    namespace: dict[str, object] = {}
    exec('''
def bare(X): pass

def prose(X):
    """Fit on X."""

def no_shape(X):
    """Fit.

    Parameters
    ----------
    X : ndarray
        The inputs.
    """

def good(X, *, epochs=1):
    """Fit.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The inputs.
    epochs : int, default 1
        Passes over X.
    """
''', namespace)
    got = {name: _problems(namespace[name]) for name in ["bare", "prose", "no_shape", "good"]}
    assert got == {"bare": ["no docstring"], "prose": ["parameter 'X' not under Parameters"],
                   "no_shape": ["array parameter 'X' gives no shape"], "good": []}

"""Whole pipelines (or any estimator) holding numnet estimators, saved without pickle: skops.

:func:`numnet.save` writes one network or one numnet estimator. A scikit-learn
``Pipeline`` (a scaler, then an ``MLPClassifier``, say) goes to skops' format
(:func:`skops.io.dump`): a zip of JSON and ``.npy`` arrays that
:func:`skops.io.load` rebuilds only from types the reader trusts, never
running code from the file. skops trusts scikit-learn's, NumPy's and SciPy's
types by default; a numnet estimator holds no numnet object in such a file
(``BaseMLP.__getstate__`` writes its network, optimizer and settings as
arrays and plain values), so the only numnet types a file names are
:data:`TRUSTED_TYPES`, the estimator classes, whose ``__setstate__`` checks
everything they are given (the network against its config and the
estimator's attributes, the optimizer's arrays against the parameters).
:func:`load_pipeline` trusts those by default and nothing else: any other
type the file names (a function, a callback, a class of another library) is
refused, named, until the caller lists it in ``trusted=``.
``skops.io.dump(pipe, path)`` and ``skops.io.load(path, trusted=TRUSTED_TYPES)``
work as well.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from numnet._files.atomic import atomic_write
from numnet.terminal import printable

__all__ = ["save_pipeline", "load_pipeline", "TRUSTED_TYPES", "UntrustedTypesError"]

#: The numnet types a file written by :func:`save_pipeline` may name, trusted by
#: :func:`load_pipeline` without being listed: the estimators (``__module__`` is the
#: public path), whose ``__setstate__`` takes plain values only and checks them.
TRUSTED_TYPES = ("numnet.estimators.MLPClassifier", "numnet.estimators.MLPRegressor")


def _skops_io() -> ModuleType:
    """``skops.io``, or an ImportError naming the extra that installs it."""
    try:
        import skops.io  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError("saving and loading pipelines needs skops; install it with "
                          "pip install 'numnet[sklearn]'") from exc
    return skops.io


class UntrustedTypesError(TypeError):
    """A file names types that are neither numnet's estimators, skops' defaults nor trusted."""


def _type_names(trusted: Iterable[str | type] | None) -> list[str]:
    """``trusted``'s entries as skops names them: ``"module.Name"`` (types are converted)."""
    if trusted is None:
        return []
    if isinstance(trusted, (str, type)):
        raise TypeError("trusted takes a list of type names or types, e.g. "
                        "trusted=['mymodule.MyTransformer']")
    names = []
    for entry in trusted:
        if isinstance(entry, type):
            names.append(f"{entry.__module__}.{entry.__qualname__}")
        elif isinstance(entry, str):
            names.append(entry)
        else:
            raise TypeError(f"trusted takes type names or types, got {type(entry).__name__}")
    return names


def save_pipeline(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (a Pipeline, or any estimator) to ``path`` in skops' format, atomically.

    Parameters
    ----------
    model : estimator
        Typically a fitted ``sklearn.pipeline.Pipeline`` that holds numnet
        estimators; anything :func:`skops.io.dump` takes.
    path : str or path-like
        The target file (conventionally ``*.skops``); its directory must
        exist. An existing file is replaced whole, or left as it was.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ImportError
        Without skops (``pip install 'numnet[sklearn]'``).
    TypeError
        When skops cannot store an object of ``model`` (its message says which).

    The bytes are read back (every object rebuilt and checked) before the
    file is written, so a file is never written that its own types would not
    load from. Which types a reader must trust beyond numnet's estimators
    and skops' defaults: ``skops.io.get_untrusted_types(file=path)``.
    """
    sio = _skops_io()
    data = sio.dumps(model)
    sio.loads(data, trusted=sio.get_untrusted_types(data=data))   # our own bytes, just made
    return atomic_write(path, data)


def load_pipeline(path: str | os.PathLike[str],
                  trusted: Iterable[str | type] | None = None) -> Any:
    """Load what :func:`save_pipeline` (or :func:`skops.io.dump`) wrote, never running its code.

    Parameters
    ----------
    path : str or path-like
    trusted : list of str or type, optional
        Types to trust besides skops' defaults (scikit-learn, NumPy, SciPy)
        and numnet's estimators (:data:`TRUSTED_TYPES`), by name
        (``"module.Name"``) or as the types; list only types you have checked.

    Returns
    -------
    object
        The pipeline (or estimator) saved.

    Raises
    ------
    ImportError
        Without skops (``pip install 'numnet[sklearn]'``).
    UntrustedTypesError (a TypeError)
        When the file names other types, each named; nothing is built then.
    ValueError
        When the file is not in skops' format (another zip archive, such as an ``.npz``).
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system.
    """
    sio = _skops_io()
    path = Path(os.fspath(path))
    if not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(f"cannot load '{path}': it is a directory")
        raise FileNotFoundError(f"cannot load '{path}': no such file")
    allowed = set(TRUSTED_TYPES) | set(_type_names(trusted))
    try:
        named = sio.get_untrusted_types(file=path)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"cannot load '{printable(path)}': it is not a file in skops' format "
                         f"(nor a numnet model): {printable(str(exc))[:200]}") from None
    refused = sorted(set(named) - allowed)
    if refused:
        names = ", ".join(repr(printable(name))[:200] for name in refused[:20])
        more = f" and {len(refused) - 20} more" if len(refused) > 20 else ""
        raise UntrustedTypesError(
            f"cannot load '{printable(path)}': it holds types that are not trusted: "
            f"{names}{more}; if you know them to be safe, pass them: "
            f"load_pipeline(path, trusted=[...])")
    return sio.load(path, trusted=sorted(allowed & set(named)))

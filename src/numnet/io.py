"""Saving and loading networks, fitted estimators and training checkpoints.

The public face of :mod:`numnet._files`, where the work is done: here
:func:`load` and :func:`load_checkpoint` build a :class:`numnet.MLP`, a
file that holds a fitted estimator comes back as that estimator, and a file
that holds preprocessing (``numnet train``'s) as a
:class:`~numnet.preprocessing.PreprocessedModel`, which applies it.

The file format (safetensors with a JSON header) and its safety guarantees
(loading never runs code, every field is checked before use, writes are
atomic), and how an estimator is stored beside its network, are described
once, in :mod:`numnet._files.format`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._files import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MODEL_FORMAT,
    PREPROCESSING_KEY,
    Checkpoint,
    FormatError,
    load_metadata,
    save_checkpoint,
)
from ._files import load as _load
from ._files import load_checkpoint as _load_checkpoint
from ._files import save as _save
from .mlp import MLP
from .network import Network

__all__ = ["save", "load", "load_metadata", "save_checkpoint", "load_checkpoint",
           "Checkpoint", "FormatError", "FORMAT_VERSION", "MODEL_FORMAT", "CHECKPOINT_FORMAT",
           "ESTIMATOR_LOADERS"]

#: Estimator class name -> ``loader(net, state) -> estimator``, for estimators defined
#: outside numnet; numnet's own (``_OWN_ESTIMATORS``) are rebuilt by
#: :mod:`numnet.estimators`, imported when a file holds one. Names read from a file are
#: only looked up here.
ESTIMATOR_LOADERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}
#: The classes of :mod:`numnet.estimators` (an optional extra), each rebuilt by its
#: ``from_numnet_state``. That package never imports this module, so the import is one-way.
_OWN_ESTIMATORS = ("MLPClassifier", "MLPRegressor")


def save(model: Any, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
         ) -> Path:
    """Write a network, or a fitted numnet estimator, to ``path`` (safetensors), atomically.

    Parameters
    ----------
    model : MLP, PreprocessedModel or fitted numnet estimator
        The network (its weights must be finite), a network with its
        preprocessing (:class:`numnet.preprocessing.PreprocessedModel`, what
        :func:`load` gives for a ``numnet train`` model), or an estimator with
        a ``network_`` and a ``numnet_state()`` (see this module's docstring).
        Any other scikit-learn estimator, a ``Pipeline`` of numnet estimators
        and scikit-learn's preprocessors for one, is written in skops' safe
        format by :func:`numnet.estimators.save_pipeline` (conventionally
        ``*.skops``; the ``sklearn`` extra), which :func:`load` reads back.
    path : str or path-like
        The target file (conventionally ``*.safetensors``); its directory must
        exist. An existing file is replaced, keeping its permissions.
    metadata : dict, optional
        JSON-safe data stored in the file; see :func:`load_metadata`.
        ``metadata["preprocessing"]`` is the preprocessing record
        (:mod:`numnet._files.format`), checked against the network.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If :func:`load` would refuse the file (non-finite weights, classes or
        preprocessing that do not fit the network, ...); nothing is written.
    """
    from .preprocessing import PreprocessedModel
    if isinstance(model, PreprocessedModel):
        return model.save(path, metadata)
    if not isinstance(model, MLP) and hasattr(model, "numnet_state"):
        spec = {"class": type(model).__name__, "state": model.numnet_state()}
        return _save(model.network_, path, metadata, estimator=spec,
                     estimator_loader=_estimator)
    if not isinstance(model, Network) and hasattr(model, "get_params"):
        if metadata is not None:
            raise TypeError(f"numnet.save writes a {type(model).__name__} in skops' format, "
                            f"which keeps no metadata; leave metadata out")
        from .estimators.pipelines import save_pipeline  # the sklearn extra
        return save_pipeline(model, path)
    return _save(model, path, metadata)


def _estimator(net: Network, spec: dict[str, Any]) -> Any:
    """The estimator ``spec`` describes, around ``net``: numnet's own, or a registered one."""
    name = spec["class"]
    if name in _OWN_ESTIMATORS:
        try:
            from . import estimators  # the optional extra, only for files that need it
        except ImportError as exc:
            raise FormatError(f"it holds a numnet {name}, which needs scikit-learn: "
                              f"pip install 'numnet[sklearn]' ({exc})") from exc
        return getattr(estimators, name).from_numnet_state(net, spec["state"])
    loader = ESTIMATOR_LOADERS.get(name)
    if loader is None:
        raise FormatError(f"it holds an estimator of unknown class {name!r:.100}; known: "
                          f"{sorted(set(ESTIMATOR_LOADERS) | set(_OWN_ESTIMATORS))}")
    return loader(net, spec["state"])


def load(path: str | os.PathLike[str], *, trusted: Any = None) -> Any:
    """Load a model from a file written by :func:`save`, :func:`save_checkpoint`, ``numnet train``.

    Never runs code from the file; see :mod:`numnet._files.format` for what is
    checked (a corrupt file is refused). A file in skops' format (a pipeline,
    or any scikit-learn estimator, that :func:`save` wrote) is read by
    :func:`numnet.estimators.load_pipeline`, which refuses types it does not
    trust.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    trusted : list of str or type, optional
        For a skops file only: the types to trust besides numnet's estimators
        and skops' defaults (:func:`numnet.estimators.load_pipeline`).

    Returns
    -------
    PreprocessedModel, MLP or estimator
        For a file that holds preprocessing (``metadata["preprocessing"]``, as
        ``numnet train`` writes, in a model or a checkpoint), a
        :class:`numnet.preprocessing.PreprocessedModel`: ``predict(X_raw)``
        and ``predict_proba`` take raw features and give labels or values in
        the data's units; the bare network, which expects standardised
        inputs, is its ``.net``. Otherwise the :class:`MLP`, with the saved
        architecture, weights (bit for bit), ``classes_`` and ``metadata``
        (the dict given to :func:`save`, ``{}`` if none); or the estimator,
        when the file holds one.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, naming the path.
    FormatError (a ValueError)
        If the file is not a valid numnet model or checkpoint; the message
        names the file and the problem.
    """
    if _is_zip(path):                                   # skops' format: a zip archive
        from .estimators.pipelines import load_pipeline  # the sklearn extra
        return load_pipeline(path, trusted=trusted)
    if trusted is not None:
        raise TypeError("trusted= applies to files in skops' format only (what numnet.save "
                        "writes for a pipeline); a numnet model file never runs code")
    loaded = _load(path, MLP, estimator_loader=_estimator)
    if isinstance(loaded, Network) and PREPROCESSING_KEY in loaded.metadata:
        from .preprocessing import PreprocessedModel
        return PreprocessedModel.from_network(loaded, path)
    return loaded


def _is_zip(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file that starts as a zip archive does (skops' files)."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`; its ``net`` is an :class:`MLP`.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    Checkpoint
        The network, optimizer state, epoch, history, random state and
        ``fit`` arguments, to resume training from.

    Raises
    ------
    FormatError (a ValueError)
        If the file is invalid, or is a plain model (use :func:`load` for those).
    """
    return _load_checkpoint(path, MLP)


"""Model files: :func:`save` a network, :func:`load` it back, read its :func:`load_metadata`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numnet.network import Network

from .decode import _read
from .encode import _model_document, _plain_json, _write
from .format import CHECKPOINT_FORMAT, MODEL_FORMAT, Checkpoint

__all__ = ["save", "load", "load_metadata"]

def save(net: Network, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None,
         estimator: dict[str, Any] | None = None,
         estimator_loader: Callable[[Network, dict[str, Any]], Any] | None = None) -> Path:
    """Write ``net`` to ``path`` as a safetensors file, atomically.

    Parameters
    ----------
    net : Network (numnet.MLP)
        The network; its weights must be finite.
    path : str or path-like
        The target file (conventionally ``*.safetensors``); its directory must
        exist. An existing file is replaced, keeping its permissions.
    metadata : dict, optional
        JSON-safe data (str keys; NumPy scalars and arrays are converted to
        Python numbers and lists) stored in the file, on top of
        ``net.metadata`` (keys given here win). :func:`load` puts it back on
        the network as ``net.metadata``, so saving a loaded network keeps it.
    estimator : dict, optional
        ``{"class": name, "state": {...}}``, JSON-safe: the estimator around
        ``net`` (:mod:`numnet.estimators`), stored as the document's
        ``"estimator"`` field and handed to ``load``'s ``estimator_loader``.
    estimator_loader : callable, optional
        What ``load`` will be given to read the estimator back: it is run on
        the encoded file before it is written, so a state it would refuse is
        refused here.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``net`` is not a network, or ``metadata`` or ``net.classes_`` holds
        something JSON cannot represent.
    ValueError
        If a parameter is NaN or infinite, or :func:`load` would refuse the
        file for any other reason (classes or ``metadata["preprocessing"]``
        that do not fit the network, a header over the size limits, ...):
        numnet never writes a file it would refuse to read. Nothing is
        written then, and an existing file is left as it was.
    """
    doc, tensors = _model_document(net, MODEL_FORMAT, metadata)
    if estimator is not None:
        doc["estimator"] = {"class": str(estimator["class"]),
                            "state": _plain_json(estimator["state"], "estimator state")}
    return _write(path, doc, tensors, estimator_loader)



def load(path: str | os.PathLike[str], network_class: type[Network] = Network,
         estimator_loader: Callable[[Network, dict[str, Any]], Any] | None = None) -> Any:
    """Load a network from a file written by :func:`save` (or :func:`save_checkpoint`).

    Never runs code from the file; see :mod:`numnet._files.format` for what is checked.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    network_class : type, default Network
        What to build: :class:`~numnet.network.Network` or a subclass taking
        the same arguments (:func:`numnet.load` passes :class:`numnet.MLP`).
    estimator_loader : callable, optional
        ``estimator_loader(net, spec)`` builds the estimator a file holds
        (``spec`` is its ``{"class", "state"}``) and is returned instead of
        ``net``; without it, the network alone.

    Returns
    -------
    Network
        Of ``network_class``, with the saved architecture, weights (bit for
        bit), ``classes_`` and ``metadata`` (the dict given to :func:`save`,
        ``{}`` if none).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, naming the path.
    FormatError (a ValueError)
        If the file is not a valid numnet model or checkpoint; the message
        names the file and the problem.
    """
    loaded = _read(path, (MODEL_FORMAT, CHECKPOINT_FORMAT), network_class=network_class,
                   estimator_loader=estimator_loader)
    return loaded.net if isinstance(loaded, Checkpoint) else loaded



def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's JSON document (format, version, config, classes, metadata, ...).

    Reads and checks only the header (every check that needs no tensor
    values, the document's checksum included); builds no network. In a
    checkpoint, arrays inside ``"optimizer"`` and ``"rng_state"`` appear as
    ``{"$tensor": name, "kind": ...}`` references.

    Parameters
    ----------
    path : str or path-like
        A model or checkpoint file.

    Returns
    -------
    dict
        The ``"numnet"`` document of the header (see :mod:`numnet._files.format`).
    """
    return _read(path, (MODEL_FORMAT, CHECKPOINT_FORMAT), header_only=True)

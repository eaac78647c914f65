"""Saving and loading networks and training checkpoints: safetensors + JSON, atomically.

The file format
---------------
A numnet file is a plain `safetensors <https://github.com/huggingface/safetensors>`_
file: an 8-byte little-endian header length ``N``, ``N`` bytes of JSON header,
then the raw little-endian tensor bytes. It holds

- one tensor per parameter, in :meth:`MLP.parameters` order: ``W0, b0, W1,
  b1, ...`` (``W0, W1, ...`` without bias), ``W_i`` of shape ``(n_in, n_out)``
  and ``b_i`` of shape ``(n_out,)``, in the network's dtype (``F32``/``F64``);
- in the header's ``__metadata__`` (a string-to-string map) one key,
  ``"numnet"``, whose value is a JSON document::

      {"format": "numnet-model", "format_version": 1, "numnet_version": "0.1.0",
       "config": {...MLP.get_config()...}, "classes": [...] or null,
       "metadata": {...user and training metadata...}}

A fitted estimator (:mod:`numnet.estimators`) is saved as its network with
one more field, ``"estimator": {"class": "MLPClassifier", "state": {...}}``:
its parameters and fitted attributes as JSON (``estimator.numnet_state()``),
rebuilt on load by the loader registered under that class name
(:data:`ESTIMATOR_LOADERS`), so :func:`load` gives the estimator back.

A checkpoint (:func:`save_checkpoint`) is the same with ``"format":
"numnet-checkpoint"`` and, in the document, ``"epoch"``, ``"history"``,
``"fit_config"``, ``"optimizer"`` and ``"rng_state"``. Arrays and NumPy scalars
inside the optimizer state and the random state are stored as extra tensors
(``optimizer/m.0``, ``rng/state/key``, ...) and appear in the JSON as
``{"$tensor": "optimizer/m.0", "kind": "array"}`` (``"kind": "scalar"`` for a
NumPy scalar, a 0-d tensor), so they come back bit for bit, dtype included.
Python ints of any size (a PCG64 state's 128-bit ints) are JSON integers and
round-trip exactly. Any safetensors reader can open the file; the weights are
ordinary named tensors.

Safety guarantees
-----------------
- **Loading never runs code.** No pickle anywhere: the file is bytes, JSON and
  fixed-size numbers. Names read from a file are only ever looked up in
  numnet's registries (activations, initializers, a fixed list of NumPy bit
  generators).
- **Everything read is checked** before it is used, and a bad file is refused
  with a :class:`FormatError` (a ``ValueError``) whose message names the file
  and the problem: not a safetensors file, truncated, a header length that
  exceeds the file or 100 MB (checked before anything is allocated), header
  not JSON (or with duplicate keys), no ``numnet`` metadata, unknown format or
  newer ``format_version``, config fields missing or of the wrong type,
  missing or extra tensors, shapes and dtypes that do not match the
  architecture, byte ranges that do not match the shapes, non-finite values.
  The architecture is checked against the tensors actually in the file before
  the network is built, so a file cannot make numnet allocate more than its
  own size. Only regular files are read (a FIFO or device is refused, never
  waited on). Operating-system errors keep their types and name the path:
  ``FileNotFoundError`` for a missing file, ``IsADirectoryError`` for a
  directory, ``PermissionError``.
- **Writes are atomic.** The bytes go to a temporary file in the target's
  directory (named ``.<name>.tmp-<host>-<pid>-<random>``), which is flushed,
  fsync'ed and renamed over the target with :func:`os.replace`; then the
  directory is fsync'ed. A crash at any moment leaves either the old file or
  the new one, whole. A temporary file is removed on any exception; one left
  by a killed process (SIGKILL, power loss) is removed by the next save to the
  same target from the same host, once its process is gone.
- Numbers round-trip bit for bit: a loaded network gives identical outputs.
  Non-finite parameters are refused on save as well as on load, so numnet
  never writes a file it would refuse to read.

Only NumPy is needed to import this module; ``safetensors`` (the ``io``
extra) is imported when a file is read or written.

This is the public face of :mod:`numnet.files`, where the work is done;
here :func:`load` and :func:`load_checkpoint` build a :class:`numnet.MLP`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .files import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MODEL_FORMAT,
    Checkpoint,
    FormatError,
    load_metadata,
    save_checkpoint,
)
from .files import load as _load
from .files import load_checkpoint as _load_checkpoint
from .files import save as _save
from .mlp import MLP
from .network import Network

__all__ = ["save", "load", "load_metadata", "save_checkpoint", "load_checkpoint",
           "Checkpoint", "FormatError", "FORMAT_VERSION", "MODEL_FORMAT", "CHECKPOINT_FORMAT",
           "ESTIMATOR_LOADERS"]

#: Estimator class name -> ``loader(net, state) -> estimator``, filled by the modules that
#: define estimators (:mod:`numnet.estimators` registers its own on import). Names read
#: from a file are only looked up here.
ESTIMATOR_LOADERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}
# where the loaders of numnet's own estimators live (an optional extra, imported on demand)
_ESTIMATOR_MODULES = {"MLPClassifier": "numnet.estimators", "MLPRegressor": "numnet.estimators"}


def save(model: Any, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
         ) -> Path:
    """Write a network, or a fitted numnet estimator, to ``path`` (safetensors), atomically.

    Parameters
    ----------
    model : MLP or fitted numnet estimator
        The network (its weights must be finite), or an estimator with a
        ``network_`` and a ``numnet_state()`` (see this module's docstring).
    path : str or path-like
        The target file (conventionally ``*.safetensors``); its directory must
        exist. An existing file is replaced, keeping its permissions.
    metadata : dict, optional
        JSON-safe data stored in the file; see :func:`load_metadata`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(model, MLP) and hasattr(model, "numnet_state"):
        spec = {"class": type(model).__name__, "state": model.numnet_state()}
        return _save(model.network_, path, metadata, estimator=spec)
    return _save(model, path, metadata)


def _estimator(net: Network, spec: dict[str, Any]) -> Any:
    """The estimator ``spec`` describes, around ``net``, by its registered loader."""
    name = spec["class"]
    if name not in ESTIMATOR_LOADERS and name in _ESTIMATOR_MODULES:
        try:
            importlib.import_module(_ESTIMATOR_MODULES[name])   # registers its loaders
        except ImportError as exc:
            raise FormatError(f"it holds a numnet {name}, which needs scikit-learn: "
                              f"pip install 'numnet[sklearn]' ({exc})") from exc
    loader = ESTIMATOR_LOADERS.get(name)
    if loader is None:
        raise FormatError(f"it holds an estimator of unknown class {name!r:.100}; known: "
                          f"{sorted(set(ESTIMATOR_LOADERS) | set(_ESTIMATOR_MODULES))}")
    return loader(net, spec["state"])


def load(path: str | os.PathLike[str]) -> Any:
    """Load a network (or estimator) from a file written by :func:`save`/:func:`save_checkpoint`.

    Never runs code from the file; see this module's docstring for what is checked.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    MLP
        With the saved architecture, weights (bit for bit), ``classes_`` and
        ``metadata`` (the dict given to :func:`save`, ``{}`` if none); or the
        estimator, when the file holds one.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, naming the path.
    FormatError (a ValueError)
        If the file is not a valid numnet model or checkpoint; the message
        names the file and the problem.
    """
    return _load(path, MLP, estimator_loader=_estimator)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`; its ``net`` is an :class:`MLP`.

    Raises
    ------
    FormatError (a ValueError)
        If the file is invalid, or is a plain model (use :func:`load` for those).
    """
    return _load_checkpoint(path, MLP)


"""Writing: a network (and training state) as a JSON document plus tensors, then the file.

Every file is encoded in memory and read back with the reader's own checks
(:mod:`numnet._files.decode`) before it is written, so numnet never writes a
file it would refuse to read.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from numnet.activations import ACTIVATIONS
from numnet.network import Network

from .atomic import atomic_write
from .decode import _decode
from .format import (
    _CODE_OF,
    _DOC_KEY,
    _DOC_SHA_KEY,
    _TENSOR_KEY,
    _TENSORS_SHA_KEY,
    FORMAT_VERSION,
    MAX_HEADER_BYTES,
    MAX_HEADER_ITEMS,
    FormatError,
    _document_sha256,
    _numnet_version,
    _safetensors,
    _tensors_sha256,
    header_items,
)

logger = logging.getLogger("numnet.io")  # the public module: logging set-ups stay valid


def _model_document(net: Network, fmt: str, metadata: dict[str, Any] | None
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the parameter tensors of ``net``."""
    if not isinstance(net, Network):
        raise TypeError(f"expected a numnet MLP, got {type(net).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
    _check_activations_named(net)
    tensors: dict[str, np.ndarray] = {}
    for name, p in zip(net.parameter_names(), net.parameters(), strict=True):
        if not np.isfinite(p).all():
            raise ValueError(f"refusing to save a network whose parameter {name} holds NaN or "
                             f"infinite values: numnet would refuse to load it")
        tensors[name] = p if p.flags.c_contiguous else p.copy(order="C")
    doc = {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "numnet_version": _numnet_version(),
        "config": _plain_json(net.get_config(), "config"),
        "classes": _classes_to_json(getattr(net, "classes_", None)),
        "metadata": _plain_json({**getattr(net, "metadata", {}), **(metadata or {})},
                                "metadata"),
    }
    return doc, tensors


def _check_activations_named(net: Network) -> None:
    """Refuse a network whose activations are not the ones registered under their names.

    A file holds an activation's name, and loading looks the name up
    (:data:`numnet.activations.ACTIVATIONS`): anything else would load as
    another function, or not at all.
    """
    for act in net.activation_fns:
        known = ACTIVATIONS.get(act.name)
        if known is None:
            raise ValueError(f"refusing to save a network with the activation {act.name!r}, "
                             f"which is not registered: files name activations, never hold "
                             f"their code; register it with numnet.activations.register"
                             f"({act.name!r}, forward, derivative) here and before loading")
        if known != act:
            raise ValueError(f"refusing to save a network whose activation {act.name!r} is "
                             f"not the one now registered under that name, which loading "
                             f"would use; build the network with the registered one")


def _classes_to_json(classes: Any) -> list[Any] | None:
    """``net.classes_`` as a JSON list of bool/int/float/str labels (NumPy scalars -> Python)."""
    if classes is None:
        return None
    if isinstance(classes, np.ndarray):
        classes = classes.tolist()
    if not isinstance(classes, (list, tuple)):
        raise TypeError(f"classes_ must be a list of labels or None, got {type(classes).__name__}")
    out = []
    for label in classes:
        if isinstance(label, np.generic):
            label = label.item()
        if not isinstance(label, (bool, int, float, str)):
            raise TypeError(f"class labels must be bool, int, float or str to be saved, "
                            f"got {type(label).__name__}: {label!r}")
        out.append(label)
    return out


def _plain_json(obj: Any, where: str) -> Any:
    """A JSON-safe copy: NumPy scalars -> Python, arrays and tuples -> lists, str keys only."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return _plain_json(obj.item(), where)
    if isinstance(obj, np.ndarray):
        return _plain_json(obj.tolist(), where)
    if isinstance(obj, (list, tuple)):
        return [_plain_json(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} keys must be strings to be saved as JSON, "
                                f"got {type(key).__name__} key {key!r}")
            out[key] = _plain_json(value, f"{where}[{key!r}]")
        return out
    raise TypeError(f"{where} holds a {type(obj).__name__} ({obj!r}), which cannot be saved; "
                    f"use numbers, strings, lists and dicts")


def _encode_state(obj: Any, name: str, tensors: dict[str, np.ndarray], where: str) -> Any:
    """JSON for ``obj``, with each array or NumPy scalar moved to ``tensors[name/...]``."""
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.newbyteorder("=") not in _CODE_OF:
            raise TypeError(f"{where} holds an array of dtype {arr.dtype}, which cannot be "
                            f"saved; use one of {sorted(str(d) for d in _CODE_OF)}")
        if name in tensors:
            raise ValueError(f"{where}: two entries map to the tensor name {name!r}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"refusing to save {where}: it holds NaN or infinite values, "
                             f"which numnet would refuse to load")
        tensors[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")  # keeps 0-d
        return {_TENSOR_KEY: name, "kind": "array" if isinstance(obj, np.ndarray) else "scalar"}
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} keys must be strings, got {type(key).__name__} {key!r}")
            if key == _TENSOR_KEY:
                raise TypeError(f"{where} uses the reserved key {_TENSOR_KEY!r}")
            out[key] = _encode_state(value, f"{name}/{key}", tensors, f"{where}[{key!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [_encode_state(v, f"{name}/{i}", tensors, f"{where}[{i}]")
                for i, v in enumerate(obj)]
    return _plain_json(obj, where)


def _little_endian(arr: np.ndarray) -> memoryview:
    """The raw bytes of ``arr`` as safetensors stores them: C order, little-endian."""
    flat = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).reshape(-1)
    return flat.view(np.uint8).data


def _write(path: str | os.PathLike, doc: dict[str, Any], tensors: dict[str, np.ndarray],
           estimator_loader: Callable[[Network, dict[str, Any]], Any] | None = None) -> Path:
    """Encode ``doc`` and ``tensors``, check the bytes as a reader would, write them atomically.

    ``estimator_loader`` (for a file holding an estimator) is run on the bytes too.
    Raises ValueError, naming ``path``, if the reader would refuse the file: then
    nothing is written and an existing file is left as it was.
    """
    doc[_TENSORS_SHA_KEY] = _tensors_sha256(
        (name, _CODE_OF[arr.dtype.newbyteorder("=")], list(arr.shape), _little_endian(arr))
        for name, arr in tensors.items())
    text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    data = _safetensors().save(tensors, metadata={_DOC_KEY: text,
                                                  _DOC_SHA_KEY: _document_sha256(text)})
    _check_readable(path, data, doc["format"], estimator_loader)
    target = atomic_write(path, data)
    logger.debug("saved %s (%d bytes) to %s", doc["format"], len(data), target)
    return target


def _check_readable(path: str | os.PathLike, data: bytes, fmt: str,
                    estimator_loader: Callable[[Network, dict[str, Any]], Any] | None) -> None:
    """Refuse (ValueError) to write ``data`` if numnet's reader would refuse it."""
    where = f"refusing to save '{os.fspath(path)}'"
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise ValueError(f"{where}: its header (classes, names and metadata) would take {n} "
                         f"bytes, more than the {MAX_HEADER_BYTES} numnet reads; store less "
                         f"metadata with the model")
    items = header_items(data[8:8 + n])
    if items > MAX_HEADER_ITEMS:
        raise ValueError(f"{where}: its header (classes, names and metadata) would hold "
                         f"{items} JSON items, more than the {MAX_HEADER_ITEMS} numnet reads; "
                         f"store less metadata with the model")
    try:
        _decode(io.BytesIO(data), len(data), (fmt,), False, Network, estimator_loader,
                build=False)
    except FormatError as exc:
        raise ValueError(f"{where}: numnet would refuse to load it, as {exc}") from None

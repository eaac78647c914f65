"""Writing: a network (and training state) as a JSON document plus tensors, then the file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from numnet.network import Network

from .atomic import _atomic_write
from .format import _CODE_OF, _TENSOR_KEY, FORMAT_VERSION

logger = logging.getLogger("numnet.io")  # the public module: logging set-ups stay valid


def _model_document(net: Network, fmt: str, metadata: dict[str, Any] | None
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the parameter tensors of ``net``."""
    if not isinstance(net, Network):
        raise TypeError(f"expected a numnet MLP, got {type(net).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
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


def _numnet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("numnet")
    except PackageNotFoundError:
        return "unknown"


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


def _safetensors() -> ModuleType:
    """The safetensors.numpy module, or an ImportError that says how to get it."""
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError("numnet model files need the safetensors package: "
                          "pip install 'numnet[io]'") from exc
    return safetensors.numpy


def _write(path: str | os.PathLike, doc: dict[str, Any], tensors: dict[str, np.ndarray]) -> Path:
    st_save = _safetensors().save
    text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    data = st_save(tensors, metadata={"numnet": text})
    target = _atomic_write(path, data)
    logger.debug("saved %s (%d bytes) to %s", doc["format"], len(data), target)
    return target

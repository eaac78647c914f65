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
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import math
import os
import socket
import stat
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .activations import get_activation
from .initializers import get_initializer
from .network import MLP

__all__ = ["save", "load", "load_metadata", "save_checkpoint", "load_checkpoint",
           "Checkpoint", "FormatError", "FORMAT_VERSION", "MODEL_FORMAT", "CHECKPOINT_FORMAT",
           "ESTIMATOR_LOADERS"]

logger = logging.getLogger(__name__)

MODEL_FORMAT = "numnet-model"
CHECKPOINT_FORMAT = "numnet-checkpoint"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100_000_000      # safetensors' own limit on the JSON header

# safetensors dtype code -> (NumPy dtype, item size); C64 is left out on purpose.
_DTYPES = {
    "F64": np.dtype(np.float64), "F32": np.dtype(np.float32), "F16": np.dtype(np.float16),
    "I64": np.dtype(np.int64), "U64": np.dtype(np.uint64), "I32": np.dtype(np.int32),
    "U32": np.dtype(np.uint32), "I16": np.dtype(np.int16), "U16": np.dtype(np.uint16),
    "I8": np.dtype(np.int8), "U8": np.dtype(np.uint8), "BOOL": np.dtype(np.bool_),
}
_CODE_OF = {dt: code for code, dt in _DTYPES.items()}
_PARAM_CODES = {"float32": "F32", "float64": "F64"}
_CONFIG_FIELDS = ("num_inputs", "hidden_layers", "num_outputs", "activation",
                  "output_activation", "bias", "init", "dtype")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_TENSOR_KEY = "$tensor"

#: Estimator class name -> ``loader(net, state) -> estimator``, filled by the modules that
#: define estimators (:mod:`numnet.estimators` registers its own on import). Names read
#: from a file are only looked up here.
ESTIMATOR_LOADERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}
# where the loaders of numnet's own estimators live (an optional extra, imported on demand)
_ESTIMATOR_MODULES = {"MLPClassifier": "numnet.estimators", "MLPRegressor": "numnet.estimators"}


class FormatError(ValueError):
    """A file is not a numnet model or checkpoint that this numnet can read."""


def _fail(problem: str) -> NoReturn:
    raise FormatError(problem)


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: everything needed to resume training.

    Attributes
    ----------
    net : MLP
        The network, weights restored exactly.
    optimizer_state : dict
        ``Optimizer.state_dict()`` as saved: JSON values, with arrays (writable
        copies) and NumPy scalars restored bit for bit.
    epoch : int
        Epochs completed.
    history : dict
        ``History.to_dict()`` as saved.
    rng_state : dict
        ``Generator.bit_generator.state`` as saved.
    fit_config : dict
        The arguments of the interrupted ``fit`` call (``{}`` if none were saved).
    metadata : dict
        Free-form metadata (``{}`` if none).
    """

    net: MLP
    optimizer_state: dict
    epoch: int
    history: dict
    rng_state: dict
    fit_config: dict
    metadata: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------

def save(net: Any, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write ``net`` to ``path`` as a safetensors file, atomically.

    Parameters
    ----------
    net : MLP or fitted numnet estimator
        The network (its weights must be finite), or an estimator with a
        ``network_`` and a ``numnet_state()`` (see the module docstring).
    path : str or path-like
        The target file (conventionally ``*.safetensors``); its directory must
        exist. An existing file is replaced, keeping its permissions.
    metadata : dict, optional
        JSON-safe data (str keys; NumPy scalars and arrays are converted to
        Python numbers and lists) stored in the file; see :func:`load_metadata`.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``net`` is not an MLP, or ``metadata`` or ``net.classes_`` holds
        something JSON cannot represent.
    ValueError
        If a parameter is NaN or infinite.
    """
    estimator = None
    if not isinstance(net, MLP) and hasattr(net, "numnet_state"):
        estimator = {"class": type(net).__name__,
                     "state": _plain_json(net.numnet_state(), "estimator state")}
        net = net.network_
    doc, tensors = _model_document(net, MODEL_FORMAT, metadata)
    if estimator is not None:
        doc["estimator"] = estimator
    return _write(path, doc, tensors)


def save_checkpoint(path: str | os.PathLike, net: MLP, *, optimizer_state: dict, epoch: int,
                    history: dict, rng_state: dict, fit_config: dict | None = None,
                    metadata: dict | None = None) -> Path:
    """Write a training checkpoint to ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The target file; its directory must exist.
    net : MLP
        The network being trained.
    optimizer_state : dict
        ``Optimizer.state_dict()``: str keys, JSON values, NumPy arrays and
        scalars (restored exactly, dtype included).
    epoch : int
        Epochs completed (>= 0).
    history : dict
        ``History.to_dict()``: JSON-safe.
    rng_state : dict
        ``Generator.bit_generator.state``; restored exactly.
    fit_config : dict, optional
        The ``fit`` arguments, JSON-safe.
    metadata : dict, optional
        Free-form JSON-safe metadata.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
    for value, name in ((optimizer_state, "optimizer_state"), (history, "history"),
                        (rng_state, "rng_state")):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    _check_rng_state(rng_state)          # what load_checkpoint will check
    doc, tensors = _model_document(net, CHECKPOINT_FORMAT, metadata)
    doc["epoch"] = int(epoch)
    doc["history"] = _plain_json(history, "history")
    doc["fit_config"] = _plain_json({} if fit_config is None else fit_config, "fit_config")
    doc["optimizer"] = _encode_state(optimizer_state, "optimizer", tensors, "optimizer_state")
    doc["rng_state"] = _encode_state(rng_state, "rng", tensors, "rng_state")
    return _write(path, doc, tensors)


def _model_document(net: MLP, fmt: str, metadata: dict | None
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the parameter tensors of ``net``."""
    if not isinstance(net, MLP):
        raise TypeError(f"expected a numnet MLP, got {type(net).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
    tensors: dict[str, np.ndarray] = {}
    for name, p in zip(net.parameter_names(), net.parameters()):
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
        "metadata": _plain_json({} if metadata is None else metadata, "metadata"),
    }
    return doc, tensors


def _numnet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("numnet")
    except PackageNotFoundError:
        return "unknown"


def _classes_to_json(classes: Any) -> list | None:
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


def _safetensors():
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


# ---------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------

def _temp_prefix(target: Path) -> str:
    return f".{target.name[:120]}.tmp-"


def _host_tag() -> str:
    return format(zlib.crc32(socket.gethostname().encode("utf-8", "replace")), "08x")


def _atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, whole."""
    target = Path(os.fspath(path))
    if target.is_symlink():                       # replace the file, keep the link
        target = Path(os.path.realpath(target))
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(
            f"cannot save to '{target}': directory '{directory}' does not exist")
    if target.is_dir():
        raise IsADirectoryError(f"cannot save to '{target}': it is a directory")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    _remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(target)}{_host_tag()}-{os.getpid()}-",
                               dir=directory)
    try:
        with open(fd, "wb", closefd=True) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return Path(os.fspath(path))


def _umask() -> int:
    try:                                          # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(target: Path) -> None:
    """Remove temporaries for ``target`` left by dead processes on this host (POSIX only)."""
    if os.name != "posix":          # os.kill(pid, 0) would terminate the process on Windows
        return
    prefix = f"{_temp_prefix(target)}{_host_tag()}-"
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix):].partition("-")[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        with suppress(OSError):
            os.unlink(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

def load(path: str | os.PathLike) -> Any:
    """Load a network (or estimator) from a file written by :func:`save`/:func:`save_checkpoint`.

    Never runs code from the file; see the module docstring for what is checked.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    MLP
        With the saved architecture, weights (bit for bit) and ``classes_``;
        or the estimator, when the file holds one.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, naming the path.
    FormatError (a ValueError)
        If the file is not a valid numnet model or checkpoint; the message
        names the file and the problem.
    """
    loaded = _read(path, want=(MODEL_FORMAT, CHECKPOINT_FORMAT))
    return loaded.net if isinstance(loaded, Checkpoint) else loaded


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    FormatError (a ValueError)
        If the file is invalid, or is a plain model (use :func:`load` for those).
    """
    return _read(path, want=(CHECKPOINT_FORMAT,))


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The file's JSON document (format, version, config, classes, metadata, ...).

    Reads and checks only the header (every check that needs no tensor
    values); builds no network. In a checkpoint, arrays inside ``"optimizer"``
    and ``"rng_state"`` appear as ``{"$tensor": name, "kind": ...}`` references.
    """
    return _read(path, (MODEL_FORMAT, CHECKPOINT_FORMAT), header_only=True)


def _read(path: str | os.PathLike, want: tuple[str, ...], header_only: bool = False) -> Any:
    path = Path(os.fspath(path))
    with _open_regular(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            header, doc, raw = _read_header(f, size)
            fmt = doc["format"]
            if fmt not in want:
                _fail(f"it is a {fmt} file, not a {' or '.join(want)}"
                      + ("; use numnet.io.load for a model" if fmt == MODEL_FORMAT else ""))
            params = _expected_params(doc["config"])
            refs: dict[str, str] = {}
            if fmt == CHECKPOINT_FORMAT:
                _tensor_refs(doc["optimizer"], "optimizer", refs, "optimizer")
                _tensor_refs(doc["rng_state"], "rng", refs, "rng_state")
            _check_entries(header, params, refs, size - 8 - len(raw))
            if header_only:
                return doc
            return _read_tensors(f, size, raw, doc, params, refs)
        except FormatError as exc:
            raise FormatError(f"cannot load '{path}': {exc}") from exc.__cause__
        except RecursionError:
            raise FormatError(f"cannot load '{path}': its JSON is nested too deeply") from None


def _open_regular(path: Path):
    """Open ``path`` for reading if it is a regular file; never blocks on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)          # FileNotFoundError / PermissionError name the path
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"cannot load '{path}': it is a directory, not a model file")
        if not stat.S_ISREG(mode):
            raise FormatError(f"cannot load '{path}': not a regular file (a device, FIFO or "
                              f"socket); numnet reads models from files only")
        return open(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _read_exact(f, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        _fail(f"the file is truncated: expected {n} bytes of {what}, found {len(data)}")
    return data


def _read_header(f, size: int) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """``(header, numnet document, raw header bytes)``, all checked; reads ``8 + N`` bytes."""
    if size < 8:
        _fail(f"not a safetensors file: it has {size} bytes, fewer than the 8-byte header "
              f"length (empty or truncated)")
    n = int.from_bytes(_read_exact(f, 8, "header length"), "little")
    if n > MAX_HEADER_BYTES or n > size - 8:
        _fail(f"not a safetensors file (or truncated): its first 8 bytes claim a "
              f"{n}-byte header, but the file has {size} bytes"
              + (f" and headers are limited to {MAX_HEADER_BYTES} bytes"
                 if n > MAX_HEADER_BYTES else ""))
    if n < 2:
        _fail(f"not a safetensors file: a {n}-byte header cannot hold a JSON object")
    raw = _read_exact(f, n, "header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not a safetensors file: its header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        _fail(f"not a safetensors file: its header is JSON {type(header).__name__}, not an object")
    meta = header.get("__metadata__")
    if meta is None or (isinstance(meta, dict) and "numnet" not in meta):
        _fail("it is a safetensors file but not a numnet model (no 'numnet' entry in its "
              "metadata); numnet.io.load reads files written by numnet.io.save")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail("not a safetensors file: '__metadata__' must map strings to strings")
    try:
        doc = json.loads(meta["numnet"], object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise FormatError(f"its 'numnet' metadata is not valid JSON ({exc})") from exc
    _check_document(doc)
    return header, doc, raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = {}
    for key, value in pairs:
        if key in out:
            _fail(f"its JSON has the key {key!r} twice")
        out[key] = value
    return out


def _no_constants(name: str) -> NoReturn:
    _fail(f"not a safetensors file: its header holds {name}, which is not JSON")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_document(doc: Any) -> None:
    """The document's format, version and fields (not the tensors)."""
    if not isinstance(doc, dict):
        _fail(f"its 'numnet' metadata is JSON {type(doc).__name__}, not an object")
    fmt = doc.get("format")
    if fmt not in (MODEL_FORMAT, CHECKPOINT_FORMAT):
        _fail(f"unknown format {fmt!r}; expected {MODEL_FORMAT!r} or {CHECKPOINT_FORMAT!r}")
    version = doc.get("format_version")
    if not _is_int(version) or version < 1:
        _fail(f"format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        _fail(f"it is {fmt} format version {version}, written by numnet "
              f"{doc.get('numnet_version', '?')}; this numnet ({_numnet_version()}) reads "
              f"versions up to {FORMAT_VERSION}: upgrade numnet to load it")
    required = ["numnet_version", "config", "classes", "metadata"]
    if fmt == CHECKPOINT_FORMAT:
        required += ["epoch", "history", "fit_config", "optimizer", "rng_state"]
    missing = [k for k in required if k not in doc]
    if missing:
        _fail(f"its {fmt} document is missing {missing}")
    if not isinstance(doc["numnet_version"], str):
        _fail(f"numnet_version must be a string, got {doc['numnet_version']!r}")
    _check_config(doc["config"])
    classes = doc["classes"]
    if classes is not None and not (
            isinstance(classes, list)
            and all(isinstance(c, (bool, int, float, str)) for c in classes)):
        _fail(f"classes must be null or a list of bool/int/float/str labels, got {classes!r:.200}")
    if not isinstance(doc["metadata"], dict):
        _fail(f"metadata must be a JSON object, got {type(doc['metadata']).__name__}")
    estimator = doc.get("estimator")
    if estimator is not None and not (
            fmt == MODEL_FORMAT and isinstance(estimator, dict)
            and isinstance(estimator.get("class"), str)
            and isinstance(estimator.get("state"), dict)):
        _fail("estimator must be a JSON object with a 'class' name and a 'state' object, "
              "in a model file")
    if fmt == CHECKPOINT_FORMAT:
        if not _is_int(doc["epoch"]) or doc["epoch"] < 0:
            _fail(f"epoch must be a non-negative integer, got {doc['epoch']!r}")
        for key in ("history", "fit_config", "optimizer", "rng_state"):
            if not isinstance(doc[key], dict):
                _fail(f"{key} must be a JSON object, got {type(doc[key]).__name__}")


def _check_config(config: Any) -> None:
    """The fields ``MLP(**config)`` needs, with the types and values it accepts."""
    if not isinstance(config, dict):
        _fail(f"config must be a JSON object, got {type(config).__name__}")
    missing = [k for k in _CONFIG_FIELDS if k not in config]
    if missing:
        _fail(f"config is missing {missing}")
    extra = sorted(set(config) - set(_CONFIG_FIELDS) - _constructor_arguments())
    if extra:
        _fail(f"config has unknown fields {extra}; it may come from a newer numnet")
    for key in ("num_inputs", "num_outputs"):
        if not _is_int(config[key]) or config[key] < 1:
            _fail(f"config {key} must be a positive integer, got {config[key]!r}")
    hidden = config["hidden_layers"]
    if not isinstance(hidden, list) or not all(_is_int(h) and h >= 1 for h in hidden):
        _fail(f"config hidden_layers must be a list of positive integers, got {hidden!r:.200}")
    for key in ("activation", "output_activation", "init"):
        value = config[key]
        if value is None and key != "activation":
            continue
        if not isinstance(value, str):
            _fail(f"config {key} must be a name (string), got {value!r:.200}")
        try:
            (get_initializer if key == "init" else get_activation)(value)
        except (ValueError, TypeError) as exc:
            raise FormatError(f"config {key}: {exc}") from None
    if config["hidden_layers"] and get_activation(config["activation"]).name == "softmax":
        _fail("config activation 'softmax' is only valid as output_activation")
    if not isinstance(config["bias"], bool):
        _fail(f"config bias must be true or false, got {config['bias']!r:.200}")
    if config["dtype"] not in _PARAM_CODES:
        _fail(f"config dtype must be 'float32' or 'float64', got {config['dtype']!r:.200}")


def _constructor_arguments() -> set[str]:
    """Keyword arguments of ``MLP`` that a config may carry (``MLP`` checks their values)."""
    params = inspect.signature(MLP).parameters
    return {name for name, p in params.items()
            if name != "random_state" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _expected_params(config: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Parameter tensor name -> (dtype code, shape) for a checked config."""
    sizes = [config["num_inputs"], *config["hidden_layers"], config["num_outputs"]]
    code = _PARAM_CODES[config["dtype"]]
    out = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"W{i}"] = (code, (n_in, n_out))
        if config["bias"]:
            out[f"b{i}"] = (code, (n_out,))
    return out


def _tensor_refs(obj: Any, prefix: str, refs: dict[str, str], where: str) -> None:
    """Collect ``{"$tensor": name, "kind": ...}`` references in ``obj`` into ``refs``."""
    if isinstance(obj, dict):
        if _TENSOR_KEY in obj:
            name, kind = obj.get(_TENSOR_KEY), obj.get("kind")
            if set(obj) != {_TENSOR_KEY, "kind"} or kind not in ("array", "scalar") \
                    or not isinstance(name, str) or not name.startswith(prefix + "/"):
                _fail(f"{where} has a malformed tensor reference {obj!r:.200}")
            if name in refs:
                _fail(f"{where} refers to tensor {name!r} twice")
            refs[name] = kind
            return
        for key, value in obj.items():
            _tensor_refs(value, prefix, refs, f"{where}[{key!r}]")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _tensor_refs(value, prefix, refs, f"{where}[{i}]")


def _check_entries(header: dict[str, Any], params: dict[str, tuple[str, tuple[int, ...]]],
                   refs: dict[str, str], data_len: int) -> None:
    """Every tensor entry: expected name, dtype, shape, and a byte range that fits."""
    names = [k for k in header if k != "__metadata__"]
    expected = list(params) + list(refs)
    missing = [k for k in expected if k not in header]
    extra = [k for k in names if k not in params and k not in refs]
    if missing or extra:
        _fail("its tensors do not match the architecture: "
              + "; ".join(filter(None, [missing and f"missing {missing}"[:300],
                                        extra and f"unexpected {extra}"[:300]])))
    for name in names:
        entry = header[name]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            _fail(f"tensor {name!r}: malformed header entry {entry!r:.200}")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(shape, list) or not all(_is_int(s) and s >= 0 for s in shape):
            _fail(f"tensor {name!r}: shape must be a list of non-negative integers, "
                  f"got {shape!r:.200}")
        if name in params:
            code, want = params[name]
            if dtype != code:
                _fail(f"tensor {name!r} has dtype {dtype!r}, but the config says "
                      f"{_DTYPES[code].name} ({code})")
            if tuple(shape) != want:
                _fail(f"tensor {name!r} has shape {tuple(shape)}, but the architecture "
                      f"needs {want}")
        else:
            if dtype not in _DTYPES:
                _fail(f"tensor {name!r} has unsupported dtype {dtype!r:.50}")
            if refs[name] == "scalar" and shape:
                _fail(f"tensor {name!r} should be a scalar, got shape {tuple(shape)}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))
                and 0 <= offsets[0] <= offsets[1] <= data_len):
            _fail(f"tensor {name!r}: data_offsets {offsets!r:.100} do not fit the "
                  f"{data_len} bytes of tensor data (truncated?)")
        nbytes = math.prod(shape) * _DTYPES[dtype].itemsize
        if offsets[1] - offsets[0] != nbytes:
            _fail(f"tensor {name!r}: shape {tuple(shape)} needs {nbytes} bytes, its "
                  f"data_offsets span {offsets[1] - offsets[0]}")
    # The byte ranges must tile the data exactly: no gaps, overlaps or trailing bytes.
    end = 0
    for start, stop, name in sorted((*header[k]["data_offsets"], k) for k in names):
        if start != end:
            _fail(f"tensor {name!r} starts at byte {start} of the data, expected {end} "
                  f"(overlapping or misplaced tensors)")
        end = stop
    if end != data_len:
        _fail(f"the tensors cover {end} bytes but the file holds {data_len} bytes of data "
              f"(truncated, or trailing bytes)")


def _read_tensors(f, size: int, raw: bytes, doc: dict[str, Any],
                  params: dict[str, tuple[str, tuple[int, ...]]], refs: dict[str, str]) -> Any:
    """Read the checked file's tensors; an :class:`MLP` or a :class:`Checkpoint`."""
    n, fmt, config = len(raw), doc["format"], doc["config"]
    f.seek(0)
    data = _read_exact(f, size, "data")
    if int.from_bytes(data[:8], "little") != n or data[8:8 + n] != raw:
        _fail("the file changed while it was being read")
    st_load = _safetensors().load
    try:
        tensors = st_load(data)
    except Exception as exc:            # SafetensorError, KeyError for unknown dtypes, ...
        raise FormatError(f"not a valid safetensors file ({type(exc).__name__}: {exc})") from exc
    if set(tensors) != set(params) | set(refs):
        _fail("safetensors and numnet disagree about the tensors in the header")
    for name in params:
        if not np.isfinite(tensors[name]).all():
            _fail(f"tensor {name!r} holds NaN or infinite values")
    for name in refs:
        if tensors[name].dtype.kind == "f" and not np.isfinite(tensors[name]).all():
            _fail(f"tensor {name!r} holds NaN or infinite values")

    try:
        net = MLP(**config, random_state=0)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"config does not describe a valid network: {exc}") from exc
    for p, name in zip(net.parameters(), net.parameter_names()):
        p[...] = tensors[name]
    net.classes_ = None if doc["classes"] is None else list(doc["classes"])
    if fmt == MODEL_FORMAT:
        return net if doc.get("estimator") is None else _estimator(net, doc["estimator"])

    rng_state = _decode_state(doc["rng_state"], tensors)
    _check_rng_state(rng_state)
    return Checkpoint(net=net, optimizer_state=_decode_state(doc["optimizer"], tensors),
                      epoch=doc["epoch"], history=doc["history"], rng_state=rng_state,
                      fit_config=doc["fit_config"], metadata=doc["metadata"])


def _estimator(net: MLP, spec: dict[str, Any]) -> Any:
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
        _fail(f"it holds an estimator of unknown class {name!r:.100}; known: "
              f"{sorted(set(ESTIMATOR_LOADERS) | set(_ESTIMATOR_MODULES))}")
    try:
        return loader(net, spec["state"])
    except (ValueError, TypeError, KeyError) as exc:
        raise FormatError(f"its {name} state is invalid: {exc}") from exc


def _decode_state(obj: Any, tensors: dict[str, np.ndarray]) -> Any:
    """Replace tensor references with writable arrays (or NumPy scalars)."""
    if isinstance(obj, dict):
        if _TENSOR_KEY in obj:
            arr = tensors[obj[_TENSOR_KEY]]
            return arr[()] if obj["kind"] == "scalar" else arr.copy()
        return {k: _decode_state(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_state(v, tensors) for v in obj]
    return obj


def _check_rng_state(state: dict[str, Any]) -> None:
    """The random state must restore into the NumPy bit generator it names."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        _fail(f"rng_state names bit generator {name!r:.100}; expected one of {_BIT_GENERATORS}")
    try:
        getattr(np.random, name)().state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise FormatError(f"rng_state does not restore into {name}: {exc}") from exc

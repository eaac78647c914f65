"""Reading: every byte of a file checked before it is used, then the network or checkpoint.

See :mod:`numnet._files.format` for what is checked; a bad file is refused with
a :class:`~numnet._files.format.FormatError` that names the file and the problem.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TypeGuard

import numpy as np

from numnet.activations import check_activation_name, get_activation
from numnet.initializers import get_initializer
from numnet.network import Network

from .format import (
    _BIT_GENERATORS,
    _CONFIG_FIELDS,
    _DOC_KEY,
    _DOC_SHA_KEY,
    _DTYPES,
    _PARAM_CODES,
    _TENSOR_KEY,
    _TENSORS_SHA_KEY,
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MAX_HEADER_BYTES,
    MAX_HEADER_ITEMS,
    MODEL_FORMAT,
    PREPROCESSING_KEY,
    PREPROCESSING_VERSION,
    TASKS,
    Checkpoint,
    FormatError,
    _document_sha256,
    _fail,
    _numnet_version,
    _tensors_sha256,
    header_items,
)

__all__ = ["check_preprocessing"]

_MODEL_FIELDS = ("format", "format_version", "numnet_version", "config", "classes", "metadata",
                 _TENSORS_SHA_KEY, "estimator")
_CHECKPOINT_FIELDS = ("epoch", "history", "fit_config", "optimizer", "rng_state")
_HEX = frozenset("0123456789abcdef")


def _read(path: str | os.PathLike[str], want: tuple[str, ...], header_only: bool = False,
          network_class: type[Network] = Network,
          estimator_loader: Callable[[Network, dict[str, Any]], Any] | None = None) -> Any:
    path = Path(os.fspath(path))
    with _open_regular(path) as f:
        try:
            return _decode(f, os.fstat(f.fileno()).st_size, want, header_only, network_class,
                           estimator_loader)
        except FormatError as exc:
            raise FormatError(f"cannot load '{path}': {exc}") from exc.__cause__


def _decode(f: BinaryIO, size: int, want: tuple[str, ...], header_only: bool,
            network_class: type[Network],
            estimator_loader: Callable[[Network, dict[str, Any]], Any] | None,
            build: bool = True) -> Any:
    """Check and decode the ``size`` bytes of ``f`` (a file, or a writer's bytes in memory).

    With ``build=False`` (a writer checking its bytes) every check runs but nothing
    is built, except the network an estimator's loader needs; returns None then.
    """
    try:
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
        spec = doc.get("estimator")
        needs_net = spec is not None and estimator_loader is not None and fmt == MODEL_FORMAT
        loaded = _read_tensors(f, size, raw, header, doc, params, refs, network_class,
                               build=build or needs_net)
        if not needs_net:
            return loaded if build else None
        assert estimator_loader is not None and spec is not None
        try:
            estimator = estimator_loader(loaded, spec)
        except (ValueError, TypeError, KeyError) as exc:
            raise FormatError(f"its {spec['class']} state is invalid: {exc}") from exc
        return estimator if build else None
    except RecursionError:
        raise FormatError("its JSON is nested too deeply") from None


def _open_regular(path: Path) -> BinaryIO:
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


def _read_exact(f: BinaryIO, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        _fail(f"the file is truncated: expected {n} bytes of {what}, found {len(data)}")
    return data


def _read_header(f: BinaryIO, size: int) -> tuple[dict[str, Any], dict[str, Any], bytes]:
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
    items = header_items(raw)
    if items > MAX_HEADER_ITEMS:
        _fail(f"its header holds {items} JSON items (commas and brackets), more than the "
              f"{MAX_HEADER_ITEMS} numnet reads; numnet does not write such files")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not a safetensors file: its header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        _fail(f"not a safetensors file: its header is JSON {type(header).__name__}, not an object")
    meta = header.get("__metadata__")
    if meta is None or (isinstance(meta, dict) and _DOC_KEY not in meta):
        _fail("it is a safetensors file but not a numnet model (no 'numnet' entry in its "
              "metadata); numnet.io.load reads files written by numnet.io.save")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail("not a safetensors file: '__metadata__' must map strings to strings")
    if _DOC_SHA_KEY in meta and meta[_DOC_SHA_KEY] != _document_sha256(meta[_DOC_KEY]):
        _fail(f"it is corrupt: its numnet document does not match the SHA-256 recorded when "
              f"it was saved ({_DOC_SHA_KEY}); use a good copy of the file, or save the model "
              f"again")
    try:
        doc = json.loads(meta[_DOC_KEY], object_pairs_hook=_no_duplicates)
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


def _is_int(value: Any) -> TypeGuard[int]:
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
    known = _MODEL_FIELDS + (_CHECKPOINT_FIELDS if fmt == CHECKPOINT_FORMAT else ())
    unknown = [k for k in doc if k not in known]
    if unknown:
        _fail(f"its {fmt} document has unknown fields {unknown}"[:300]
              + "; it may come from a newer numnet: upgrade numnet to load it")
    checksum = doc.get(_TENSORS_SHA_KEY)
    if _TENSORS_SHA_KEY in doc and not (isinstance(checksum, str) and len(checksum) == 64
                                         and set(checksum) <= _HEX):
        _fail(f"{_TENSORS_SHA_KEY} must be 64 lowercase hex digits, got {checksum!r:.100}")
    if not isinstance(doc["numnet_version"], str):
        _fail(f"numnet_version must be a string, got {doc['numnet_version']!r}")
    _check_config(doc["config"])
    classes = doc["classes"]
    if classes is not None and not (
            isinstance(classes, list)
            and all(isinstance(c, (bool, int, float, str)) for c in classes)):
        _fail(f"classes must be null or a list of bool/int/float/str labels, got {classes!r:.200}")
    config = doc["config"]
    if classes is not None:
        _check_classes_fit(classes, config["num_outputs"], "its classes")
    if not isinstance(doc["metadata"], dict):
        _fail(f"metadata must be a JSON object, got {type(doc['metadata']).__name__}")
    estimator = doc.get("estimator")
    if estimator is not None and not (
            fmt == MODEL_FORMAT and isinstance(estimator, dict)
            and isinstance(estimator.get("class"), str)
            and isinstance(estimator.get("state"), dict)):
        _fail("estimator must be a JSON object with a 'class' name and a 'state' object, "
              "in a model file")
    if PREPROCESSING_KEY in doc["metadata"]:
        if estimator is not None:
            _fail(f"it holds a fitted estimator and metadata[{PREPROCESSING_KEY!r}], which "
                  f"the estimator would not apply; put an estimator's preprocessing in a "
                  f"scikit-learn Pipeline instead")
        check_preprocessing(doc["metadata"][PREPROCESSING_KEY], config["num_inputs"],
                            config["num_outputs"])
    if fmt == CHECKPOINT_FORMAT:
        if not _is_int(doc["epoch"]) or doc["epoch"] < 0:
            _fail(f"epoch must be a non-negative integer, got {doc['epoch']!r}")
        for key in ("history", "fit_config", "optimizer", "rng_state"):
            if not isinstance(doc[key], dict):
                _fail(f"{key} must be a JSON object, got {type(doc[key]).__name__}")


def _check_classes_fit(classes: list[Any], num_outputs: int, whose: str) -> None:
    """A classifier's labels: one per output, or two for a single (sigmoid) output."""
    want = 2 if num_outputs == 1 else num_outputs
    if len(classes) != want:
        _fail(f"{whose} list {len(classes)} label(s) but the network has {num_outputs} "
              f"output(s), which tell {want} classes apart (one output per class, or one "
              f"sigmoid output for two classes)")


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:              # an int beyond float64's range
        return False


def _check_scaling(record: Any, key: str, n: int, what: str) -> None:
    """A standardisation record: ``n`` finite means and ``n`` finite positive scales."""
    if record is None:
        return
    if not isinstance(record, dict) or set(record) != {"method", "mean", "scale"} \
            or record["method"] != "standardise":
        _fail(f"preprocessing {key} must be a standardisation record "
              f"{{'method': 'standardise', 'mean': [...], 'scale': [...]}}, got {record!r:.100}")
    for part in ("mean", "scale"):
        values = record[part]
        if not isinstance(values, list):
            _fail(f"preprocessing {key} {part} must be a list of numbers, got {values!r:.100}")
        if len(values) != n:
            _fail(f"preprocessing {key} {part} has {len(values)} value(s) for {n} {what}(s)")
        bad = [v for v in values if not _finite(v)]
        if bad:
            _fail(f"preprocessing {key} {part} must be {n} finite numbers, found {bad[0]!r:.50}")
    bad = [v for v in record["scale"] if not v > 0]
    if bad:
        _fail(f"preprocessing {key} scale must be positive, found {bad[0]!r:.50}")


def check_preprocessing(record: Any, num_inputs: int | None = None,
                        num_outputs: int | None = None) -> None:
    """Check a :mod:`numnet.preprocessing` record (a file's ``metadata["preprocessing"]``).

    Every field's type and value, and, when given, that it describes a network
    with ``num_inputs`` inputs and ``num_outputs`` outputs (see the file format
    in :mod:`numnet._files.format`). Raises :class:`FormatError` (a ValueError).
    """
    version = record.get("version") if isinstance(record, dict) else None
    if not (_is_int(version) and version == PREPROCESSING_VERSION):
        _fail(f"unreadable preprocessing record (version {version!r:.50}); this numnet reads "
              f"version {PREPROCESSING_VERSION}")
    assert isinstance(record, dict)
    unknown = sorted(set(record) - {"version", "task", "features", "targets", "scaling",
                                    "classes", "target_scaling"})
    if unknown:
        _fail(f"preprocessing record has unknown fields {unknown}"[:200])
    task = record.get("task")
    if task not in TASKS:
        _fail(f"preprocessing task must be one of {TASKS}, got {task!r:.50}")
    names: dict[str, list[str]] = {}
    for key in ("features", "targets"):
        value = record.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            _fail(f"preprocessing {key} must be a list of column names")
        names[key] = value
    features, targets = names["features"], names["targets"]
    if num_inputs is not None and len(features) != num_inputs:
        _fail(f"its preprocessing names {len(features)} feature(s) but the network takes "
              f"{num_inputs} input(s)")
    _check_scaling(record.get("scaling"), "scaling", len(features), "feature")
    classes = record.get("classes")
    if task == "classification":
        if not (isinstance(classes, list) and len(classes) >= 2
                and all(isinstance(c, (bool, int, float, str)) for c in classes)):
            _fail("preprocessing classes must be a list of at least two labels")
        if num_outputs is not None:
            _check_classes_fit(classes, num_outputs, "its preprocessing classes")
        if record.get("target_scaling") is not None:
            _fail("preprocessing target_scaling must be null for a classifier")
        return
    if classes is not None:
        _fail("preprocessing classes must be null for a regression")
    if num_outputs is not None and len(targets) != num_outputs:
        _fail(f"its preprocessing names {len(targets)} target(s) but the network has "
              f"{num_outputs} output(s)")
    _check_scaling(record.get("target_scaling"), "target_scaling", len(targets), "target")


def _check_config(config: Any) -> None:
    """The fields ``Network(**config)`` needs, with the types and values it accepts.

    Activation names must be plain names (:func:`numnet.activations.check_activation_name`)
    registered in this process: a custom activation's code is never in the file, only
    its name.
    """
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
    # activation and init: one name, or a list of one per hidden layer (activation) or per
    # layer (init)
    lengths = {"activation": len(hidden), "output_activation": None, "init": len(hidden) + 1}
    for key, length in lengths.items():
        value = config[key]
        if value is None and key != "activation":
            continue
        names = value if isinstance(value, list) and length is not None else [value]
        if not all(isinstance(name, str) for name in names) or (
                isinstance(value, list) and len(value) != length):
            what = "a name (string)" if length is None else \
                f"a name (string) or a list of {length} names"
            _fail(f"config {key} must be {what}, got {value!r:.200}")
        for name in names:
            if key == "init":
                try:
                    get_initializer(name)
                except (ValueError, TypeError) as exc:
                    raise FormatError(f"config {key}: {exc}") from None
            else:
                _check_activation(key, name)
    hidden_names = config["activation"] if isinstance(config["activation"], list) \
        else [config["activation"]] * bool(hidden)
    for name in hidden_names:
        if get_activation(name).output_only:
            _fail(f"config activation {get_activation(name).name!r} is only valid as "
                  f"output_activation")
    if not isinstance(config["bias"], bool):
        _fail(f"config bias must be true or false, got {config['bias']!r:.200}")
    if config["dtype"] not in _PARAM_CODES:
        _fail(f"config dtype must be 'float32' or 'float64', got {config['dtype']!r:.200}")


def _registered(name: str) -> bool:
    try:
        get_activation(name)
    except ValueError:
        return False
    return True


def _check_activation(key: str, name: str) -> None:
    """A config's activation name: a plain name, registered in this process."""
    try:
        check_activation_name(name.lower())
    except ValueError:
        _fail(f"config {key} {name!r:.80} is not an activation name (lowercase letters, "
              f"digits and '_')")
    if not _registered(name):
        _fail(f"its {key} {name!r} is not an activation this process knows: a custom "
              f"activation is saved by name, never as code; register it before loading, with "
              f"numnet.activations.register({name.lower()!r}, forward, derivative)")


def _constructor_arguments() -> set[str]:
    """Keyword arguments of ``Network`` that a config may carry (it checks their values)."""
    params = inspect.signature(Network).parameters
    return {name for name, p in params.items()
            if name != "random_state" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _expected_params(config: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Parameter tensor name -> (dtype code, shape) for a checked config."""
    sizes = [config["num_inputs"], *config["hidden_layers"], config["num_outputs"]]
    code = _PARAM_CODES[config["dtype"]]
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
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
        problems = ([f"missing {missing}"[:300]] if missing else []) + (
            [f"unexpected {extra}"[:300]] if extra else [])
        _fail("its tensors do not match the architecture: " + "; ".join(problems))
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


def _read_tensors(f: BinaryIO, size: int, raw: bytes, header: dict[str, Any],
                  doc: dict[str, Any], params: dict[str, tuple[str, tuple[int, ...]]],
                  refs: dict[str, str], network_class: type[Network], build: bool = True) -> Any:
    """Check the file's tensors (checksum, finite values); then a network or a
    :class:`Checkpoint`, or None if not ``build`` (a writer checking its own bytes)."""
    n, fmt, config = len(raw), doc["format"], doc["config"]
    f.seek(0)
    data = _read_exact(f, size, "data")
    if int.from_bytes(data[:8], "little") != n or data[8:8 + n] != raw:
        _fail("the file changed while it was being read")
    region = memoryview(data)[8 + n:]
    names = [name for name in header if name != "__metadata__"]
    if _TENSORS_SHA_KEY in doc:
        entries = [(name, header[name]["dtype"], header[name]["shape"],
                    region[slice(*header[name]["data_offsets"])]) for name in names]
        if _tensors_sha256(entries) != doc[_TENSORS_SHA_KEY]:
            _fail(f"it is corrupt: its tensor data does not match the SHA-256 recorded when it "
                  f"was saved ({_TENSORS_SHA_KEY}); use a good copy of the file, or save the "
                  f"model again")
    # Read-only views of the byte ranges _check_entries checked: no copy, nothing to parse.
    tensors = {name: np.frombuffer(region[slice(*header[name]["data_offsets"])],
                                   dtype=_DTYPES[header[name]["dtype"]].newbyteorder("<")
                                   ).reshape(header[name]["shape"]) for name in names}
    for name in names:
        if tensors[name].dtype.kind == "f" and not np.isfinite(tensors[name]).all():
            _fail(f"tensor {name!r} holds NaN or infinite values")
    rng_state = _decode_state(doc["rng_state"], tensors) if fmt == CHECKPOINT_FORMAT else None
    if rng_state is not None:
        _check_rng_state(rng_state)
    if not build:
        return None

    try:
        net = network_class(**config, random_state=0)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"config does not describe a valid network: {exc}") from exc
    for p, name in zip(net.parameters(), net.parameter_names(), strict=True):
        p[...] = tensors[name]
    net.classes_ = None if doc["classes"] is None else list(doc["classes"])
    net.metadata = doc["metadata"]
    net.rng = None          # built with a dummy seed; a loaded network has no seed of its own
    if fmt == MODEL_FORMAT:
        return net
    assert rng_state is not None
    return Checkpoint(net=net, optimizer_state=_decode_state(doc["optimizer"], tensors),
                      epoch=doc["epoch"], history=doc["history"], rng_state=rng_state,
                      fit_config=doc["fit_config"], metadata=doc["metadata"])


def _decode_state(obj: Any, tensors: dict[str, np.ndarray]) -> Any:
    """Replace tensor references with writable arrays (or NumPy scalars)."""
    if isinstance(obj, dict):
        if _TENSOR_KEY in obj:
            arr = tensors[obj[_TENSOR_KEY]]          # a read-only little-endian view
            if obj["kind"] == "scalar":
                return arr[()]
            return np.array(arr, dtype=arr.dtype.newbyteorder("="))   # writable, native
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

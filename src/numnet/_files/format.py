"""The numnet file format: its constants, its errors, and what a checkpoint holds.

**The file format**

A numnet file is a plain `safetensors <https://github.com/huggingface/safetensors>`_
file: an 8-byte little-endian header length ``N``, ``N`` bytes of JSON header,
then the raw little-endian tensor bytes. It holds

- one tensor per parameter, in :meth:`Network.parameters` order: ``W0, b0, W1,
  b1, ...`` (``W0, W1, ...`` without bias), ``W_i`` of shape ``(n_in, n_out)``
  and ``b_i`` of shape ``(n_out,)``, in the network's dtype (``F32``/``F64``);
- in the header's ``__metadata__`` (a string-to-string map) the key
  ``"numnet"``, whose value is a JSON document::

      {"format": "numnet-model", "format_version": 1, "numnet_version": "0.1.0",
       "config": {...Network.get_config()...}, "classes": [...] or null,
       "metadata": {...user and training metadata...},
       "tensors_sha256": "<64 hex digits>"}

  and the key ``"numnet_sha256"``: the SHA-256 (hex) of the ``"numnet"``
  value's UTF-8 bytes, so that damage to the document is detected too.

``tensors_sha256`` is the SHA-256 (hex) of every tensor in the file, in order
of name (sorted by code point): for each, the ASCII JSON ``[name, dtype,
shape]`` (compact, e.g. ``["W0","F64",[2,3]]``) and a newline, then its raw
little-endian bytes. It does not depend on where safetensors places the
tensors, so any reader can recompute it. On load, a file whose checksums do
not match is refused as corrupt. Files written before the checksums existed
have neither key and still load (without the integrity check).

``classes`` (null for a regression network) lists one label per output, or two
labels for a network with one (sigmoid) output. ``metadata["preprocessing"]``,
when present, is what ``numnet train`` stores (:mod:`numnet.preprocessing`)::

    {"version": 1, "task": "classification" | "regression",
     "features": [names, one per network input], "targets": [names],
     "scaling": null | {"method": "standardise", "mean": [...], "scale": [...]},
     "classes": [labels] (classification) or null,
     "target_scaling": null | {"method": "standardise", "mean": [...], "scale": [...]}}

``scaling`` has one finite mean and one finite positive scale per input (the
network sees ``(x - mean) / scale``); a classifier's ``classes`` follow the
rule for ``classes`` above; a regression has one target per output and
``target_scaling`` one mean and scale per target (predictions are ``y * scale
+ mean``). :func:`numnet.load` of a file that holds it gives a
:class:`~numnet.preprocessing.PreprocessedModel`, which applies it.

A fitted estimator (:mod:`numnet.estimators`) is saved as its network with
one more field, ``"estimator": {"class": "MLPClassifier", "state": {...}}``:
its parameters and fitted attributes as JSON (``estimator.numnet_state()``),
rebuilt on load by the ``estimator_loader`` the reader is given (numnet.io's
builds numnet's own estimators with ``from_numnet_state``, and others from
:data:`numnet.io.ESTIMATOR_LOADERS`), so :func:`load` gives the estimator back.
Its loader checks the state against the network (features, outputs, classes);
such a file holds no ``metadata["preprocessing"]``, which the estimator would
not apply (that key is reserved for the record above).

A checkpoint (:func:`save_checkpoint`) is the same with ``"format":
"numnet-checkpoint"`` and, in the document, ``"epoch"``, ``"history"``,
``"fit_config"``, ``"optimizer"`` and ``"rng_state"``; its ``"metadata"`` is
that of the model it will become (``ModelCheckpoint(..., metadata=...)``), so
a checkpoint with preprocessing predicts as that model does. Arrays and NumPy scalars
inside the optimizer state and the random state are stored as extra tensors
(``optimizer/m.0``, ``rng/state/key``, ...) and appear in the JSON as
``{"$tensor": "optimizer/m.0", "kind": "array"}`` (``"kind": "scalar"`` for a
NumPy scalar, a 0-d tensor), so they come back bit for bit, dtype included.
Python ints of any size (a PCG64 state's 128-bit ints) are JSON integers and
round-trip exactly. Any safetensors reader can open the file; the weights are
ordinary named tensors.

**Safety guarantees**

- **Loading never runs code.** No pickle anywhere: the file is bytes, JSON and
  fixed-size numbers. Names read from a file are only ever looked up in
  numnet's registries (activations, initializers, a fixed list of NumPy bit
  generators). A custom activation (:func:`numnet.activations.register`) is
  saved by its name alone, a plain name of lowercase letters, digits and
  ``_``: the file loads in a process that has registered that name, and is
  refused otherwise, with a message naming ``numnet.activations.register``.
  Saving refuses a network whose activation is not the one registered under
  its name.
- **Everything read is checked** before it is used, and a bad file is refused
  with a :class:`FormatError` (a ``ValueError``) whose message names the file
  and the problem: not a safetensors file, truncated, a header length that
  exceeds the file or :data:`MAX_HEADER_BYTES` (16 MiB, checked before
  anything is allocated), a header of more than :data:`MAX_HEADER_ITEMS` JSON
  items (commas and brackets, counted before parsing), header not JSON (or
  with duplicate keys), no ``numnet`` metadata, unknown format or newer
  ``format_version``, unknown document fields, config fields missing or of the
  wrong type, classes or preprocessing that do not match the network's inputs
  and outputs, missing or extra tensors, shapes and dtypes that do not match
  the architecture, byte ranges that do not match the shapes, non-finite
  values, checksums that do not match (a corrupt file).
- **Bounded reads.** The limits leave room over the largest realistic file,
  measured: a classifier with 100,000 string classes of 20 characters, 10,000
  named features and full training metadata has a 5.6 MB header of 230,000
  items; its checkpoint, with 10,000 epochs of history, 6.6 MB and 280,000
  (with 40-character classes, 9.1 and 10.0 MB). So the costliest header a
  reader parses takes about 100 MB of memory to refuse (measured: 104 MB for
  500,000 small objects), where a 93 MB header used to take 2.3 GB.
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
- **numnet never writes a file it would refuse to read.** Every writer
  encodes the file in memory and runs the reader's checks on those bytes
  (and, for an estimator, its loader) before the atomic write; a refusal
  (a ``ValueError`` that says what is wrong) leaves no file behind and an
  existing file untouched.

The files layer (:mod:`numnet._files`) writes and reads these files: arrays
and JSON. It builds a :class:`~numnet.network.Network` (or the class it is
given, such as :class:`numnet.MLP`) and never imports the public faces.
Only NumPy is needed to import it, and to read a file: once the header is
checked, the tensors are read in place from the checked byte ranges.
``safetensors`` (the ``io`` extra) is imported when a file is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

from numnet.network import Network

__all__ = ["FormatError", "Checkpoint", "FORMAT_VERSION", "MODEL_FORMAT", "CHECKPOINT_FORMAT",
           "MAX_HEADER_BYTES", "MAX_HEADER_ITEMS", "PREPROCESSING_KEY", "TASKS"]

MODEL_FORMAT = "numnet-model"
CHECKPOINT_FORMAT = "numnet-checkpoint"
FORMAT_VERSION = 1
# About three times the largest realistic header (see "Bounded reads" above), so that a
# hostile header costs a bounded amount of memory to refuse.
MAX_HEADER_BYTES = 16 * 2 ** 20
MAX_HEADER_ITEMS = 1_000_000        # commas, '[' and '{' in the header, counted before parsing
PREPROCESSING_KEY = "preprocessing"  # metadata key of numnet.preprocessing's record


def header_items(header: bytes) -> int:
    """An upper bound on the JSON items in ``header``: its commas, '[' and '{', counted
    without parsing, to compare with :data:`MAX_HEADER_ITEMS`."""
    return header.count(b",") + header.count(b"[") + header.count(b"{")
PREPROCESSING_VERSION = 1
TASKS = ("regression", "classification")

# safetensors dtype code -> (NumPy dtype, item size); C64 is left out on purpose.
_DTYPES: dict[str, np.dtype] = {
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
_DOC_KEY, _DOC_SHA_KEY, _TENSORS_SHA_KEY = "numnet", "numnet_sha256", "tensors_sha256"


class FormatError(ValueError):
    """A file is not a numnet model or checkpoint that this numnet can read."""


def _fail(problem: str) -> NoReturn:
    raise FormatError(problem)


def _tensors_sha256(tensors: Iterable[tuple[str, str, list[int], bytes | memoryview]]) -> str:
    """``tensors_sha256`` of ``(name, dtype code, shape, raw little-endian bytes)`` entries."""
    digest = hashlib.sha256()
    for name, code, shape, data in sorted(tensors, key=lambda t: t[0]):
        digest.update(json.dumps([name, code, list(shape)], separators=(",", ":"),
                                 ensure_ascii=True).encode("ascii") + b"\n")
        digest.update(data)
    return digest.hexdigest()


def _document_sha256(text: str) -> str:
    """``numnet_sha256``: the SHA-256 of the document's text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _numnet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("numnet")
    except PackageNotFoundError:
        return "unknown"


def _safetensors() -> ModuleType:
    """The safetensors.numpy module, or an ImportError that says how to get it."""
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError("numnet model files need the safetensors package: "
                          "pip install 'numnet[io]'") from exc
    return safetensors.numpy


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: everything needed to resume training.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    net : Network
        The network (of the class ``load_checkpoint`` was given, by default
        :class:`~numnet.network.Network`), weights restored exactly.
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
        The metadata of the model the checkpoint will become (``{}`` if
        none), as ``ModelCheckpoint(..., metadata=...)`` stored it.
    """

    net: Network
    optimizer_state: dict[str, Any]
    epoch: int
    history: dict[str, Any]
    rng_state: dict[str, Any]
    fit_config: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

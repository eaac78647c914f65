"""The numnet file format: its constants, its errors, and what a checkpoint holds.

The file format
---------------
A numnet file is a plain `safetensors <https://github.com/huggingface/safetensors>`_
file: an 8-byte little-endian header length ``N``, ``N`` bytes of JSON header,
then the raw little-endian tensor bytes. It holds

- one tensor per parameter, in :meth:`Network.parameters` order: ``W0, b0, W1,
  b1, ...`` (``W0, W1, ...`` without bias), ``W_i`` of shape ``(n_in, n_out)``
  and ``b_i`` of shape ``(n_out,)``, in the network's dtype (``F32``/``F64``);
- in the header's ``__metadata__`` (a string-to-string map) one key,
  ``"numnet"``, whose value is a JSON document::

      {"format": "numnet-model", "format_version": 1, "numnet_version": "0.1.0",
       "config": {...Network.get_config()...}, "classes": [...] or null,
       "metadata": {...user and training metadata...}}

A fitted estimator (:mod:`numnet.estimators`) is saved as its network with
one more field, ``"estimator": {"class": "MLPClassifier", "state": {...}}``:
its parameters and fitted attributes as JSON (``estimator.numnet_state()``),
rebuilt on load by the loader registered under that class name
(:data:`numnet.io.ESTIMATOR_LOADERS`), so :func:`load` gives the estimator back.

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

The files layer (:mod:`numnet.files`) writes and reads these files: arrays
and JSON. It builds a :class:`~numnet.network.Network` (or the class it is
given, such as :class:`numnet.MLP`) and never imports the public faces.
Only NumPy is needed to import it; ``safetensors`` (the ``io`` extra) is
imported when a file is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from numnet.network import Network

__all__ = ["FormatError", "Checkpoint", "FORMAT_VERSION", "MODEL_FORMAT", "CHECKPOINT_FORMAT",
           "MAX_HEADER_BYTES"]

MODEL_FORMAT = "numnet-model"
CHECKPOINT_FORMAT = "numnet-checkpoint"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100_000_000      # safetensors' own limit on the JSON header

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


class FormatError(ValueError):
    """A file is not a numnet model or checkpoint that this numnet can read."""


def _fail(problem: str) -> NoReturn:
    raise FormatError(problem)


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: everything needed to resume training.

    Attributes
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
        Free-form metadata (``{}`` if none).
    """

    net: Network
    optimizer_state: dict[str, Any]
    epoch: int
    history: dict[str, Any]
    rng_state: dict[str, Any]
    fit_config: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

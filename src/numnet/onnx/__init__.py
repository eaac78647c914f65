"""Export to ONNX: numnet networks and estimators, alone or inside scikit-learn pipelines.

:func:`export` writes a standard ONNX graph (opset 17) that ONNX Runtime runs
with numnet's outputs, to float tolerance:

- the input ``"X"`` of shape ``(N, n_features)``, ``N`` a dynamic batch size;
- each layer a ``Gemm`` (``Z = A @ W + b``; ``MatMul`` without bias), then its
  activation;
- outputs: ``"output"`` ``(N, n_outputs)`` for a network or a regressor;
  ``"label"`` and ``"probabilities"`` for a classifier (and for an
  :class:`~numnet.MLP` fitted on labels): labels ``(N,)`` as int64 or string
  tensors (``(N, n_labels)`` 0/1 int64 for multilabel), probabilities
  ``(N, n_classes)`` in ``classes_`` order;
- numnet's metadata (version, architecture, classes) in ``metadata_props``;
- with ``preprocessing`` (what ``numnet train`` stores in a model file, see
  :mod:`numnet.preprocessing`), the standardisation as ``Sub`` and ``Div``
  nodes at the input, so that the graph takes raw features, and for
  regression ``Mul`` and ``Add`` nodes at the output, so that it gives values
  in the data's units.

Every numnet activation has one ONNX form (:data:`ACTIVATIONS`): ONNX
Runtime's own operator where it has an exact kernel for the dtype, else the
formula from basic operators (float64 ``LeakyRelu``, ``Elu`` and
``Softplus``, which ONNX Runtime lacks or computes with a float32 constant).
``exp`` (the output of ``MLPRegressor(loss="poisson")``) is an ``Exp`` node.
An activation of your own (:func:`numnet.activations.register`) is refused
until its form is added to :data:`ACTIVATIONS` under its name (see
:mod:`numnet.onnx.activations`).
The same code builds the graph for :func:`export` and for the skl2onnx
converter (:func:`register_skl2onnx`, done on import), so that
``skl2onnx.to_onnx(Pipeline([..., numnet_estimator]), X[:1])`` works.

The modules, one concept each: ``builder`` (where nodes go: the
``Builder`` interface, a plain ``Graph``), ``activations`` (one ONNX form
per numnet activation), ``graph`` (layers, labels, the preprocessing's
nodes), ``models`` (what a model is, for export), ``exporter`` (``export``,
``to_onnx_model``, pipelines) and ``converter`` (skl2onnx's shape
calculator and converter).

>>> import numpy as np, onnxruntime as ort
>>> from numnet import MLP
>>> from numnet.onnx import export
>>> net = MLP(3, [8], 2, activation="tanh", output_activation="identity", random_state=0)
>>> path = export(net, "net.onnx")                                   # doctest: +SKIP
>>> session = ort.InferenceSession("net.onnx")                       # doctest: +SKIP
>>> session.run(["output"], {"X": np.ones((4, 3))})[0].shape        # doctest: +SKIP
(4, 2)
"""

from __future__ import annotations

import importlib


def _require_extra() -> None:
    """Name the extra to install when onnx is missing.

    Checked here, before any submodule is imported, so that the message is
    the same however ``numnet.onnx`` is reached.
    """
    try:
        importlib.import_module("onnx")
    except ImportError as exc:
        raise ImportError("numnet.onnx needs onnx (and onnxruntime to run the files); install "
                          "them with pip install 'numnet[onnx]'") from exc


_require_extra()

from .activations import ACTIVATIONS  # noqa: E402  (after the check of the extra)
from .builder import OPSET  # noqa: E402
from .converter import register_skl2onnx  # noqa: E402
from .exporter import export, to_onnx_model  # noqa: E402

__all__ = ["export", "to_onnx_model", "ACTIVATIONS", "OPSET", "register_skl2onnx"]

register_skl2onnx()

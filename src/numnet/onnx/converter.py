"""numnet's skl2onnx converter: numnet estimators inside scikit-learn pipelines.

:func:`register_skl2onnx` (done when :mod:`numnet.onnx` is imported) gives
skl2onnx a shape calculator and a converter for
:class:`~numnet.estimators.MLPClassifier` and
:class:`~numnet.estimators.MLPRegressor`; the converter builds the same nodes
as :func:`numnet.onnx.export` (:mod:`.graph`) into skl2onnx's container, so
that ``skl2onnx.to_onnx(Pipeline([..., numnet_estimator]), X[:1])`` works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto, helper

from .builder import OPSET
from .graph import labels, network, onnx_classes
from .models import describe


def import_skl2onnx() -> Any:
    """The ``skl2onnx`` module; ImportError naming the extra when it is missing."""
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError("exporting scikit-learn pipelines needs skl2onnx; install it with "
                          "pip install 'numnet[onnx]'") from exc
    return skl2onnx


class _Skl2OnnxGraph:
    """The :class:`~.builder.Builder` interface on a skl2onnx scope and container."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container

    def unique(self, hint: str) -> str:
        return self.scope.get_unique_variable_name(hint)

    def const(self, value: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        value = np.asarray(value)
        if value.dtype.kind in "UO":
            self.container.add_initializer(name, TensorProto.STRING, list(value.shape),
                                           [str(v).encode() for v in value.ravel()])
        else:
            code = helper.np_dtype_to_tensor_dtype(value.dtype)
            self.container.add_initializer(name, code, list(value.shape), value.ravel().tolist())
        return name

    def node(self, op: str, inputs: list[str], hint: str, out: str | None = None,
             **attrs: Any) -> str:
        out = out if out is not None else self.unique(hint)
        self.container.add_node(op, inputs, [out], name=self.scope.get_unique_operator_name(
            f"{hint}_{op}"), op_version=OPSET, **attrs)
        return out


def _shape_calculator(operator: Any) -> None:
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    est = operator.raw_operator
    net, kind, classes = describe(est)
    input_type = operator.inputs[0].type.__class__
    N = operator.inputs[0].get_first_dimension()
    if kind == "regression":
        operator.outputs[0].type = input_type([N, net.num_outputs])
        return
    label_type = StringTensorType if onnx_classes(classes).dtype == object else Int64TensorType
    operator.outputs[0].type = label_type([N, net.num_outputs] if kind == "multilabel" else [N])
    if _zipmap_needs_float(operator.scope_inst, est, input_type):
        input_type = FloatTensorType
    operator.outputs[1].type = input_type([N, net.num_outputs if kind != "binary" else 2])


def _zipmap_needs_float(scope: Any, est: Any, input_type: type) -> bool:
    """Whether skl2onnx will put a ZipMap (float32 only) after float64 probabilities."""
    from skl2onnx.common.data_types import DoubleTensorType
    zipmap = scope.get_options(est, {"zipmap": True})["zipmap"]
    return zipmap is not False and issubclass(input_type, DoubleTensorType)


def _converter(scope: Any, operator: Any, container: Any) -> None:
    from skl2onnx.common.data_types import guess_numpy_type
    est = operator.raw_operator
    net, kind, classes = describe(est)
    dtype = np.dtype(guess_numpy_type(operator.inputs[0].type))
    g = _Skl2OnnxGraph(scope, container)
    X = operator.inputs[0].full_name
    if kind == "regression":
        network(g, net, X, dtype, out=operator.outputs[0].full_name)
        return
    P = network(g, net, X, dtype)
    proba_out = operator.outputs[1].full_name
    if _zipmap_needs_float(scope, est, operator.inputs[0].type.__class__):
        _, P64 = labels(g, P, classes, kind, dtype, operator.outputs[0].full_name, None)
        g.node("Cast", [P64], "probabilities", out=proba_out, to=TensorProto.FLOAT)
        return
    labels(g, P, classes, kind, dtype, operator.outputs[0].full_name, proba_out)


def register_skl2onnx() -> bool:
    """Register numnet's estimators with skl2onnx; False when skl2onnx or sklearn is missing."""
    try:
        skl2onnx = import_skl2onnx()
        from numnet.estimators import MLPClassifier, MLPRegressor
    except ImportError:
        return False
    skl2onnx.update_registered_converter(MLPRegressor, "NumnetMLPRegressor", _shape_calculator,
                                         _converter)
    skl2onnx.update_registered_converter(MLPClassifier, "NumnetMLPClassifier",
                                         _shape_calculator, _converter,
                                         options={"zipmap": [True, False, "columns"],
                                                  "nocl": [False]})
    return True

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

Every numnet activation has one ONNX form here (:data:`ACTIVATIONS`): ONNX
Runtime's own operator where it has an exact kernel for the dtype, else the
formula from basic operators (float64 ``LeakyRelu``, ``Elu`` and
``Softplus``, which ONNX Runtime lacks or computes with a float32 constant).
The same code builds the graph for :func:`export` and for the skl2onnx
converter (:func:`register_skl2onnx`, done on import), so that
``skl2onnx.to_onnx(Pipeline([..., numnet_estimator]), X[:1])`` works.

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

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as exc:  # pragma: no cover - exercised with the module hidden
    raise ImportError(
        "numnet.onnx needs onnx (and onnxruntime to run the files); install them with "
        "pip install 'numnet[onnx]'"
    ) from exc

import numnet
from numnet import MLP, activations

__all__ = ["export", "to_onnx_model", "ACTIVATIONS", "OPSET", "register_skl2onnx"]

OPSET = 17
IR_VERSION = 8            # what opset 17 needs; readable by ONNX Runtime >= 1.13
_DTYPES = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE}


# --- building graphs -------------------------------------------------------------------

class _Builder(Protocol):
    """Where graph code adds nodes: a plain graph (:class:`_Graph`) or skl2onnx's container."""

    def unique(self, hint: str) -> str: ...

    def const(self, value: np.ndarray, hint: str) -> str: ...

    def node(self, op: str, inputs: list[str], hint: str, out: str | None = None,
             **attrs: Any) -> str: ...


class _Graph:
    """Nodes and initializers of one ONNX graph, with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def unique(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            name, i = f"{hint}_{i}", i + 1
        self._names.add(name)
        return name

    def const(self, value: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        value = np.asarray(value)
        if value.dtype.kind == "U":
            value = value.astype(object)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, out: str | None = None,
             **attrs: Any) -> str:
        out = out if out is not None else self.unique(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.unique(f"{hint}_{op}"),
                                           **attrs))
        return out


class _Skl2OnnxGraph:
    """The :class:`_Graph` interface on a skl2onnx scope and container."""

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


# --- activations: one ONNX form each ------------------------------------------------------

def _scalar(g: _Builder, value: float, dtype: np.dtype, hint: str) -> str:
    return g.const(np.array(value, dtype=dtype), hint)


def _leaky_relu(g: _Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    if dtype == np.float32:      # ONNX Runtime's alpha is a float32 attribute: exact here only
        return g.node("LeakyRelu", [Z], hint, alpha=activations.LEAKY_SLOPE)
    positive = g.node("Greater", [Z, _scalar(g, 0.0, dtype, "zero")], f"{hint}_pos")
    scaled = g.node("Mul", [Z, _scalar(g, activations.LEAKY_SLOPE, dtype, "slope")],
                    f"{hint}_scaled")
    return g.node("Where", [positive, Z, scaled], hint)


def _elu(g: _Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    if dtype == np.float32:
        return g.node("Elu", [Z], hint, alpha=activations.ELU_ALPHA)
    zero = _scalar(g, 0.0, dtype, "zero")
    positive = g.node("Greater", [Z, zero], f"{hint}_pos")
    exp = g.node("Exp", [g.node("Min", [Z, zero], f"{hint}_neg")], f"{hint}_exp")
    expm1 = g.node("Sub", [exp, _scalar(g, 1.0, dtype, "one")], f"{hint}_expm1")
    negative = g.node("Mul", [expm1, _scalar(g, activations.ELU_ALPHA, dtype, "alpha")],
                      f"{hint}_scaled")
    return g.node("Where", [positive, Z, negative], hint)


def _softplus(g: _Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    # max(Z, 0) + log(1 + exp(-|Z|)), numnet's stable form, in every dtype: ONNX Runtime's
    # float32 Softplus loses accuracy for large |Z| and has no float64 kernel
    zero, one = _scalar(g, 0.0, dtype, "zero"), _scalar(g, 1.0, dtype, "one")
    exp = g.node("Exp", [g.node("Neg", [g.node("Abs", [Z], f"{hint}_abs")], f"{hint}_neg")],
                 f"{hint}_exp")
    log1p = g.node("Log", [g.node("Add", [one, exp], f"{hint}_1p")], f"{hint}_log1p")
    return g.node("Add", [g.node("Max", [Z, zero], f"{hint}_relu"), log1p], hint)


def _unary(op: str, **attrs: Any) -> Callable[..., str]:
    def build(g: _Builder, Z: str, dtype: np.dtype, hint: str) -> str:
        return g.node(op, [Z], hint, **attrs)
    return build


def _identity(g: _Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    return Z


#: numnet activation name -> ``build(graph, Z, dtype, hint) -> name of A``.
ACTIVATIONS: dict[str, Callable[..., str]] = {
    "identity": _identity,
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "relu": _unary("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "softmax": _unary("Softmax", axis=-1),
}


def _check_exportable(net: MLP) -> None:
    unknown = sorted({a.name for a in net.activation_fns} - set(ACTIVATIONS))
    if unknown:
        raise ValueError(f"cannot export activation(s) {unknown} to ONNX: numnet.onnx knows "
                         f"{sorted(ACTIVATIONS)}; add a builder to numnet.onnx.ACTIVATIONS")


def _network(g: _Builder, net: MLP, X: str, dtype: np.dtype, out: str | None = None) -> str:
    """Emit ``net``'s forward pass on input ``X``; returns the output's name."""
    _check_exportable(net)
    A = X
    last = net.num_layers - 1
    for i, (W, act) in enumerate(zip(net.weights, net.activation_fns, strict=True)):
        W_name = g.const(W.astype(dtype), f"W{i}")
        if net.biases is not None:
            b_name = g.const(net.biases[i].astype(dtype), f"b{i}")
            Z = g.node("Gemm", [A, W_name, b_name], f"Z{i}")
        else:
            Z = g.node("MatMul", [A, W_name], f"Z{i}")
        A = ACTIVATIONS[act.name](g, Z, dtype, f"A{i}")
        if i == last and out is not None:
            A = g.node("Identity", [A], "output", out=out)
    return A


def _labels(g: _Builder, P: str, classes: Any, kind: str, dtype: np.dtype,
            label_out: str | None, proba_out: str | None) -> tuple[str, str]:
    """Labels and probabilities from the network's output ``P``.

    ``kind`` is ``"multiclass"`` (softmax: argmax), ``"binary"`` (one sigmoid
    unit ``p``: probabilities ``[1 - p, p]``, label ``p > 0.5``) or
    ``"multilabel"`` (sigmoids: 0/1 per label, ``p > 0.5``).
    """
    if kind == "multilabel":
        probabilities = g.node("Identity", [P], "probabilities", out=proba_out)
        half = _scalar(g, 0.5, dtype, "half")
        label = g.node("Cast", [g.node("Greater", [P, half], "above")], "label",
                       out=label_out, to=TensorProto.INT64)
        return label, probabilities
    if kind == "binary":
        one_minus = g.node("Sub", [_scalar(g, 1.0, dtype, "one"), P], "one_minus_p")
        probabilities = g.node("Concat", [one_minus, P], "probabilities", out=proba_out, axis=1)
        half = _scalar(g, 0.5, dtype, "half")
        index = g.node("Cast", [g.node("Greater", [P, half], "above")], "index",
                       to=TensorProto.INT64)
        index = g.node("Reshape", [index, g.const(np.array([-1], np.int64), "flat")], "index")
    else:
        probabilities = g.node("Identity", [P], "probabilities", out=proba_out)
        index = g.node("ArgMax", [P], "index", axis=1, keepdims=0)
    label = g.node("Gather", [g.const(_onnx_classes(classes), "classes"), index], "label",
                   out=label_out, axis=0)
    return label, probabilities


def _onnx_classes(classes: Any) -> np.ndarray:
    """Class labels as an int64 or string array (what ONNX tensors can hold)."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        return classes.astype(np.int64)
    if classes.dtype.kind in "UO":
        return np.array([str(c) for c in classes], dtype=object)
    raise ValueError(f"cannot export class labels of dtype {classes.dtype} to ONNX; use "
                     f"ints or strings")


# --- preprocessing: raw features in, the data's units out -----------------------------

def _preprocessing(preprocessing: Any, net: MLP) -> dict[str, Any] | None:
    """A checked :meth:`numnet.preprocessing.Preprocessing.to_dict` record, or None."""
    if preprocessing is None:
        return None
    from numnet.preprocessing import Preprocessing
    if not isinstance(preprocessing, Preprocessing):
        preprocessing = Preprocessing.from_dict(preprocessing)
    if preprocessing.n_features != net.num_inputs:
        raise ValueError(f"the preprocessing has {preprocessing.n_features} features but the "
                         f"network takes {net.num_inputs} inputs")
    return preprocessing.to_dict()


def _standardise(g: _Builder, X: str, scaling: dict[str, Any] | None, dtype: np.dtype) -> str:
    """``(X - mean) / scale`` (``X`` itself without scaling)."""
    if scaling is None:
        return X
    mean = g.const(np.asarray(scaling["mean"], dtype=dtype), "feature_mean")
    scale = g.const(np.asarray(scaling["scale"], dtype=dtype), "feature_scale")
    return g.node("Div", [g.node("Sub", [X, mean], "centred"), scale], "standardised")


def _unstandardise(g: _Builder, Y: str, scaling: dict[str, Any], dtype: np.dtype, out: str) -> str:
    """``Y * scale + mean``: standardised regression outputs back in the data's units."""
    scale = g.const(np.asarray(scaling["scale"], dtype=dtype), "target_scale")
    mean = g.const(np.asarray(scaling["mean"], dtype=dtype), "target_mean")
    return g.node("Add", [g.node("Mul", [Y, scale], "scaled"), mean], "output", out=out)


# --- what a model is, for export --------------------------------------------------------

def _describe(model: Any) -> tuple[MLP, str, np.ndarray | None]:
    """``(network, kind, classes)``; kind is "regression", "multiclass", "binary", "multilabel"."""
    if isinstance(model, MLP):
        if model.classes_ is None:
            return model, "regression", None
        kind = "multiclass" if model.output_activation == "softmax" else "binary"
        return model, kind, np.asarray(model.classes_)
    try:
        from numnet.estimators import MLPClassifier, MLPRegressor
    except ImportError:
        MLPClassifier = MLPRegressor = ()   # type: ignore[assignment,misc]
    if isinstance(model, (MLPClassifier, MLPRegressor)):
        net = model.network_                 # raises NotFittedError when unfitted
        if isinstance(model, MLPRegressor):
            return net, "regression", None
        if model.out_activation_ == "softmax":
            kind = "multiclass"
        else:
            kind = "binary" if model.n_outputs_ == 1 else "multilabel"
        return net, kind, np.asarray(model.classes_)
    raise TypeError(f"numnet.onnx exports a numnet.MLP, a fitted numnet estimator or a "
                    f"scikit-learn pipeline holding one, got {type(model).__name__}")


def _metadata(net: MLP, kind: str, classes: np.ndarray | None, model: Any) -> dict[str, str]:
    meta = {"numnet_version": numnet.__version__, "numnet_model": type(model).__name__,
            "numnet_config": json.dumps(net.get_config()), "numnet_task": kind}
    if classes is not None:
        meta["numnet_classes"] = json.dumps(_onnx_classes(classes).tolist())
    return meta


def to_onnx_model(model: Any, dtype: str | np.dtype | None = None,
                  preprocessing: Any = None) -> onnx.ModelProto:
    """The ONNX model :func:`export` writes (see there), checked by ``onnx.checker``."""
    net, kind, classes = _describe(model)
    prep = _preprocessing(preprocessing, net)
    dtype = np.dtype(dtype) if dtype is not None else net.dtype
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    g = _Graph()
    X = g.unique("X")
    elem = _DTYPES[dtype]
    inputs = [helper.make_tensor_value_info(X, elem, ["N", net.num_inputs])]
    X_net = _standardise(g, X, prep["scaling"] if prep else None, dtype)
    if kind == "regression":
        if prep and prep["target_scaling"] is not None:
            Y = _network(g, net, X_net, dtype)
            _unstandardise(g, Y, prep["target_scaling"], dtype, out=g.unique("output"))
        else:
            _network(g, net, X_net, dtype, out=g.unique("output"))
        outputs = [helper.make_tensor_value_info("output", elem, ["N", net.num_outputs])]
    else:
        P = _network(g, net, X_net, dtype)
        label_name, proba_name = g.unique("label"), g.unique("probabilities")
        _labels(g, P, classes, kind, dtype, label_name, proba_name)
        n_classes = net.num_outputs if kind != "binary" else 2
        label_type = TensorProto.STRING if _onnx_classes(classes).dtype == object \
            else TensorProto.INT64
        label_shape: list[str | int] = ["N", net.num_outputs] if kind == "multilabel" else ["N"]
        outputs = [helper.make_tensor_value_info(label_name, label_type, label_shape),
                   helper.make_tensor_value_info(proba_name, elem, ["N", n_classes])]
    graph = helper.make_graph(g.nodes, f"numnet_{type(model).__name__}", inputs, outputs,
                              initializer=g.initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="numnet", producer_version=numnet.__version__)
    onnx_model.ir_version = IR_VERSION
    props = _metadata(net, kind, classes, model)
    if prep is not None:
        props["numnet_preprocessing"] = json.dumps(prep)
    helper.set_model_props(onnx_model, props)
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def export(model: Any, path: str | os.PathLike, dtype: str | np.dtype | None = None,
           preprocessing: Any = None) -> Path:
    """Write ``model`` as an ONNX file that ONNX Runtime runs with numnet's outputs.

    Parameters
    ----------
    model : numnet.MLP, fitted numnet estimator, or scikit-learn Pipeline
        A pipeline goes through skl2onnx (with numnet's converter); its
        input is ``"X"`` of the pipeline's ``n_features_in_``.
    path : str or path
    dtype : {"float32", "float64"} or None
        Of the input, weights and outputs; None keeps the model's.
    preprocessing : numnet.preprocessing.Preprocessing or its dict, optional
        Built into the graph (see the module docstring): the input takes raw
        features. For a network or an estimator, not a pipeline (whose own
        steps preprocess).

    Returns
    -------
    Path
        Where the file was written.

    Raises
    ------
    ValueError
        For an activation without an ONNX form, or class labels that are
        neither ints nor strings.
    TypeError
        For anything that is not one of the models above.
    """
    if isinstance(model, MLP) or type(model).__module__ == "numnet.estimators":
        onnx_model = to_onnx_model(model, dtype, preprocessing)
    elif preprocessing is not None:
        raise TypeError("preprocessing is for a network or an estimator; a pipeline's own "
                        "steps preprocess its input")
    else:
        onnx_model = _pipeline_model(model, dtype)
    path = Path(path)
    data = onnx_model.SerializeToString()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _pipeline_model(model: Any, dtype: str | np.dtype | None) -> onnx.ModelProto:
    if not hasattr(model, "n_features_in_") or not hasattr(model, "steps"):
        raise TypeError(f"numnet.onnx exports a numnet.MLP, a fitted numnet estimator or a "
                        f"fitted scikit-learn Pipeline, got {type(model).__name__}")
    skl2onnx = _skl2onnx()
    dtype = np.dtype(dtype) if dtype is not None else np.dtype("float64")
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    kind = FloatTensorType if dtype == np.float32 else DoubleTensorType
    options = {id(step): {"zipmap": False} for _, step in model.steps
               if hasattr(step, "predict_proba")}
    return skl2onnx.to_onnx(model, initial_types=[("X", kind([None, model.n_features_in_]))],
                            target_opset=OPSET, options=options)


# --- the skl2onnx converter ---------------------------------------------------------------

def _skl2onnx() -> Any:
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError("exporting scikit-learn pipelines needs skl2onnx; install it with "
                          "pip install 'numnet[onnx]'") from exc
    return skl2onnx


def _shape_calculator(operator: Any) -> None:
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    est = operator.raw_operator
    net, kind, classes = _describe(est)
    input_type = operator.inputs[0].type.__class__
    N = operator.inputs[0].get_first_dimension()
    if kind == "regression":
        operator.outputs[0].type = input_type([N, net.num_outputs])
        return
    labels = StringTensorType if _onnx_classes(classes).dtype == object else Int64TensorType
    operator.outputs[0].type = labels([N, net.num_outputs] if kind == "multilabel" else [N])
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
    net, kind, classes = _describe(est)
    dtype = np.dtype(guess_numpy_type(operator.inputs[0].type))
    g = _Skl2OnnxGraph(scope, container)
    X = operator.inputs[0].full_name
    if kind == "regression":
        _network(g, net, X, dtype, out=operator.outputs[0].full_name)
        return
    P = _network(g, net, X, dtype)
    proba_out = operator.outputs[1].full_name
    if _zipmap_needs_float(scope, est, operator.inputs[0].type.__class__):
        _, P64 = _labels(g, P, classes, kind, dtype, operator.outputs[0].full_name, None)
        g.node("Cast", [P64], "probabilities", out=proba_out, to=TensorProto.FLOAT)
        return
    _labels(g, P, classes, kind, dtype, operator.outputs[0].full_name, proba_out)


def register_skl2onnx() -> bool:
    """Register numnet's estimators with skl2onnx; False when skl2onnx or sklearn is missing."""
    try:
        skl2onnx = _skl2onnx()
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


register_skl2onnx()

"""``export`` and ``to_onnx_model``: a network, an estimator or a pipeline as an ONNX file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

import numnet
from numnet import MLP
from numnet._files import atomic_write
from numnet.preprocessing import PreprocessedModel, Preprocessing

from .builder import OPSET, Graph
from .converter import import_skl2onnx
from .graph import labels, network, onnx_classes, standardise, unstandardise
from .models import describe, is_numnet_model

IR_VERSION = 8            # what opset 17 needs; readable by ONNX Runtime >= 1.13
_DTYPES = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE}


def _preprocessing(preprocessing: Any, net: MLP) -> dict[str, Any] | None:
    """A checked :meth:`numnet.preprocessing.Preprocessing.to_dict` record, or None."""
    if preprocessing is None:
        return None
    if not isinstance(preprocessing, Preprocessing):
        preprocessing = Preprocessing.from_dict(preprocessing)
    if preprocessing.n_features != net.num_inputs:
        raise ValueError(f"the preprocessing has {preprocessing.n_features} features but the "
                         f"network takes {net.num_inputs} inputs")
    return preprocessing.to_dict()


def _metadata(net: MLP, kind: str, classes: np.ndarray | None, model: Any) -> dict[str, str]:
    meta = {"numnet_version": numnet.__version__, "numnet_model": type(model).__name__,
            "numnet_config": json.dumps(net.get_config()), "numnet_task": kind}
    if classes is not None:
        meta["numnet_classes"] = json.dumps(onnx_classes(classes).tolist())
    return meta


def to_onnx_model(model: Any, dtype: str | np.dtype | None = None,
                  preprocessing: Any = None) -> onnx.ModelProto:
    """The ONNX model :func:`export` writes (see there), checked by ``onnx.checker``.

    Parameters
    ----------
    model : numnet.MLP or fitted numnet estimator
        The network, or the :class:`~numnet.estimators.MLPClassifier` or
        :class:`~numnet.estimators.MLPRegressor` around one (not a pipeline,
        nor a :class:`~numnet.preprocessing.PreprocessedModel`: give its
        ``net`` and ``preprocessing``, or use :func:`export`).
    dtype : {"float32", "float64"} or None, default None
        Of the input, weights and outputs; None keeps the network's.
    preprocessing : numnet.preprocessing.Preprocessing, its dict or None, default None
        Standardisation built into the graph, so that the input takes raw
        features; its features must match the network's inputs.

    Returns
    -------
    onnx.ModelProto
        The model in memory; ``SerializeToString()`` gives the file's bytes.

    Raises
    ------
    ValueError
        For a dtype other than float32 or float64, a preprocessing that does
        not fit the network, an activation without an ONNX form, or class
        labels that are neither ints nor strings.
    TypeError
        For anything that is neither a network nor a numnet estimator.
    """
    net, kind, classes = describe(model)
    prep = _preprocessing(preprocessing, net)
    dtype = np.dtype(dtype) if dtype is not None else net.dtype
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    g = Graph()
    X = g.unique("X")
    elem = _DTYPES[dtype]
    inputs = [helper.make_tensor_value_info(X, elem, ["N", net.num_inputs])]
    X_net = standardise(g, X, prep["scaling"] if prep else None, dtype)
    if kind == "regression":
        if prep and prep["target_scaling"] is not None:
            Y = network(g, net, X_net, dtype)
            unstandardise(g, Y, prep["target_scaling"], dtype, out=g.unique("output"))
        else:
            network(g, net, X_net, dtype, out=g.unique("output"))
        outputs = [helper.make_tensor_value_info("output", elem, ["N", net.num_outputs])]
    else:
        P = network(g, net, X_net, dtype)
        label_name, proba_name = g.unique("label"), g.unique("probabilities")
        labels(g, P, classes, kind, dtype, label_name, proba_name)
        n_classes = net.num_outputs if kind != "binary" else 2
        label_type = TensorProto.STRING if onnx_classes(classes).dtype == object \
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
    model : numnet.MLP, PreprocessedModel, fitted numnet estimator, or scikit-learn Pipeline
        A pipeline goes through skl2onnx (with numnet's converter); its
        input is ``"X"`` of the pipeline's ``n_features_in_``. A
        :class:`~numnet.preprocessing.PreprocessedModel` (what :func:`numnet.load`
        gives for a model trained by ``numnet train``) exports its network
        with its preprocessing.
    path : str or path
        The ``.onnx`` file to write, replaced atomically.
    dtype : {"float32", "float64"} or None, default None
        Of the input, weights and outputs; None keeps the model's (float64
        for a pipeline).
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
    if isinstance(model, PreprocessedModel):
        if preprocessing is not None:
            raise TypeError("this model carries its own preprocessing; export it without "
                            "preprocessing=, or export model.net with the other one")
        model, preprocessing = model.net, model.preprocessing
    if is_numnet_model(model):
        onnx_model = to_onnx_model(model, dtype, preprocessing)
    elif preprocessing is not None:
        raise TypeError("preprocessing is for a network or an estimator; a pipeline's own "
                        "steps preprocess its input")
    else:
        onnx_model = _pipeline_model(model, dtype)
    return atomic_write(path, onnx_model.SerializeToString())


def _pipeline_model(model: Any, dtype: str | np.dtype | None) -> onnx.ModelProto:
    if not hasattr(model, "n_features_in_") or not hasattr(model, "steps"):
        raise TypeError(f"numnet.onnx exports a numnet.MLP, a fitted numnet estimator or a "
                        f"fitted scikit-learn Pipeline, got {type(model).__name__}")
    skl2onnx = import_skl2onnx()
    dtype = np.dtype(dtype) if dtype is not None else np.dtype("float64")
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    kind = FloatTensorType if dtype == np.float32 else DoubleTensorType
    options = {id(step): {"zipmap": False} for _, step in model.steps
               if hasattr(step, "predict_proba")}
    return skl2onnx.to_onnx(model, initial_types=[("X", kind([None, model.n_features_in_]))],
                            target_opset=OPSET, options=options)

"""numnet.onnx: ONNX Runtime gives numnet's outputs, for every activation, task and dtype."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")                      # the onnx extra
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
pytest.importorskip("sklearn")                          # the sklearn extra

from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import numnet  # noqa: E402
from numnet import MLP, activations  # noqa: E402
from numnet.estimators import MLPClassifier, MLPRegressor  # noqa: E402
from numnet.onnx import ACTIVATIONS, export, to_onnx_model  # noqa: E402

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-9}
BATCHES = (1, 7, 256)
BUILTINS = [a for a in activations.ACTIVATIONS.values() if a.name in activations.BUILTIN]
HIDDEN = [a.name for a in BUILTINS if not a.output_only]
OUTPUT_ONLY = [a.name for a in BUILTINS if a.output_only]


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _inputs(n_features: int, dtype, n: int = 256) -> np.ndarray:
    # wide enough to reach every activation's saturated and negative parts
    return (3.0 * np.random.default_rng(0).standard_normal((n, n_features))).astype(dtype)


def _assert_runs_like(session, X, expected: dict[str, np.ndarray], dtype,
                      relative: bool = False) -> None:
    """Outputs at batch sizes 1, 7 and 256 of one session equal ``expected``'s rows.

    Within ``TOLERANCE`` absolutely, or relatively with ``relative`` (an exp
    output: unbounded, as large as 1e3 here, so that one float32 ulp exceeds 1e-5).
    """
    rtol, atol = (TOLERANCE[dtype], 0) if relative else (0, TOLERANCE[dtype])
    for n in BATCHES:
        got = dict(zip([o.name for o in session.get_outputs()],
                       session.run(None, {"X": X[:n]}), strict=True))
        for name, want in expected.items():
            assert got[name].shape == want[:n].shape, name
            if want.dtype.kind == "f":
                assert got[name].dtype == dtype
                np.testing.assert_allclose(got[name], want[:n], rtol=rtol, atol=atol)
            else:
                np.testing.assert_array_equal(got[name], want[:n])


def test_every_activation_has_an_onnx_form():
    # every built-in; one of your own has one once you add it (test_custom_functions.py)
    assert {a.name for a in BUILTINS} <= set(ACTIVATIONS)
    assert sorted(OUTPUT_ONLY) == ["exp", "softmax"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", HIDDEN)
def test_networks(activation, dtype):
    # each hidden-capable activation as hidden and output, and each output-only one after it
    for output in (activation, *OUTPUT_ONLY):
        net = MLP(5, [9, 6], 3, activation=activation, output_activation=output,
                  dtype=dtype, random_state=0)
        X = _inputs(5, dtype)
        _assert_runs_like(_session(to_onnx_model(net)), X, {"output": net.forward(X)}, dtype,
                          relative=output == "exp")


def test_network_without_bias_and_dtype_conversion():
    net = MLP(4, [8], 2, activation="tanh", bias=False, random_state=0)
    model = to_onnx_model(net, dtype="float32")
    assert not [n for n in model.graph.node if n.op_type == "Gemm"]
    X = _inputs(4, np.float32)
    _assert_runs_like(_session(model), X, {"output": net.astype("float32").forward(X)},
                      np.float32)


def _fit(est, X, y):
    """``est.fit(X, y)`` for a few iterations: enough to export and compare, so the
    estimators' "not converged yet" is expected and not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor(dtype):
    X = _inputs(4, dtype)
    y = np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]]
    reg = _fit(MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", max_iter=20,
                            random_state=0), X, y)
    _assert_runs_like(_session(to_onnx_model(reg)), X, {"output": reg.predict(X)}, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels", ["int", "str", "binary"])
def test_classifier(labels, dtype):
    X = _inputs(4, dtype)
    index = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1) if labels != "binary" else X[:, 0] > 0
    names = {"int": np.array([3, 5, 9]), "str": np.array(["cat", "dog", "eel"]),
             "binary": np.array([-1, 1])}[labels]
    y = names[index.astype(int)]
    clf = _fit(MLPClassifier((16,), max_iter=30, random_state=0), X, y)
    model = to_onnx_model(clf)
    expected = {"label": clf.predict(X), "probabilities": clf.predict_proba(X)}
    _assert_runs_like(_session(model), X, expected, dtype)
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["numnet_classes"]) == names.tolist()
    assert meta["numnet_version"] == numnet.__version__ and meta["numnet_model"] == "MLPClassifier"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel(dtype):
    X = _inputs(4, dtype)
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 2] > 1].astype(int)
    clf = _fit(MLPClassifier((16,), max_iter=30, random_state=0), X, Y)
    expected = {"label": clf.predict(X), "probabilities": clf.predict_proba(X)}
    _assert_runs_like(_session(to_onnx_model(clf)), X, expected, dtype)


def test_mlp_fitted_on_labels():
    X = _inputs(3, np.float64)
    y = np.where(X[:, 0] > 0, "yes", "no")
    net = MLP(3, [8], 1, activation="relu", output_activation="sigmoid", random_state=0)
    net.fit(X, y, loss="bce", epochs=3, verbose=False, random_state=0)
    expected = {"label": net.predict(X), "probabilities": net.predict_proba(X)}
    _assert_runs_like(_session(to_onnx_model(net)), X, expected, np.float64)


def _pipeline():
    X = _inputs(4, np.float64) * 10 + 5
    y = (X[:, 0] > 5).astype(int) + (X[:, 1] > 15)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier((16,), max_iter=30, random_state=0))])
    return _fit(pipe, X, y), X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline(tmp_path, dtype):
    pipe, X = _pipeline()
    X = X.astype(dtype)
    path = export(pipe, tmp_path / "pipe.onnx", dtype=dtype)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    if dtype == np.float32:
        # the pipeline runs in float64 (StandardScaler's statistics are float64), so compare
        # with the same pipeline run on the float32 model's own inputs and weights
        pipe = Pipeline([("scale", pipe[0]), ("mlp", _float32_copy(pipe[1]))])
    expected = dict(zip(names, [pipe.predict(X), pipe.predict_proba(X).astype(dtype)],
                        strict=True))
    _assert_runs_like(session, X, expected, dtype)


def _float32_copy(clf):
    twin = pickle.loads(pickle.dumps(clf))
    twin.set_params(dtype="float32")
    twin._net = twin._net.astype("float32")
    return twin


def test_skl2onnx_to_onnx_with_zipmap():
    pipe, X = _pipeline()
    session = _session(skl2onnx.to_onnx(pipe, X[:1]))      # float64 input, ZipMap output
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_array_equal(labels, pipe.predict(X))
    P = pipe.predict_proba(X)
    got = np.array([[row[c] for c in pipe.classes_] for row in probabilities])
    np.testing.assert_allclose(got, P, atol=1e-6)           # ZipMap holds float32
    reg = Pipeline([("scale", StandardScaler()),
                    ("mlp", MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0))])
    target = X[:, 0] - X[:, 1]          # on a scale of ~40: scaled to 1, as a regressor's
    _fit(reg, X, target / target.std())  # targets should be (else fit warns it learned nothing)
    session = _session(skl2onnx.to_onnx(reg, X[:1]))
    out = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(out.ravel(), reg.predict(X), atol=1e-9)


def test_file_is_a_checked_model_with_a_dynamic_batch(tmp_path):
    net = MLP(3, [4], 2, activation="elu", random_state=0)
    path = export(net, tmp_path / "net.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert model.graph.input[0].name == "X" and dims[0].dim_param == "N" and dims[1].dim_value == 3
    assert model.opset_import[0].version == 17
    assert json.loads({p.key: p.value for p in model.metadata_props}["numnet_config"]) == \
        net.get_config()


def test_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(NotFittedError):
        export(MLPClassifier(), tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="got StandardScaler"):
        export(StandardScaler(), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="float32 or float64"):
        to_onnx_model(MLP(2, [2], 1), dtype="float16")
    cube = activations.Activation("cube", lambda Z: Z ** 3, lambda Z, A, dA: 3 * Z * Z * dA)
    monkeypatch.setitem(activations.ACTIVATIONS, "cube", cube)
    with pytest.raises(ValueError, match=r"cannot export activation\(s\) \['cube'\]"):
        to_onnx_model(MLP(2, [3], 1, activation="cube"))
    assert not (tmp_path / "x.onnx").exists()

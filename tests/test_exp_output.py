"""``exp``, the output of a log link: registered, output-only, in files and in ONNX.

``numnet.activations.EXP`` is ``ACTIVATIONS["exp"]``: a network ends in it by name,
saves and loads it, and exports it as an ``Exp`` node; ``MLPRegressor(loss="poisson")``
with it round-trips through ``numnet.save``/``numnet.load`` and ONNX.

ONNX tolerances, relative (exp's outputs are unbounded): measured over 40 networks
(5-9-6-3, hidden tanh/relu/sigmoid/softplus, seeds 0-9, inputs 3 N(0, 1)), the worst
ONNX Runtime output differed from numnet's by 1.04e-6 in float32 and 1.9e-15 in float64:
exp's relative error is its input's absolute error, which grows with |Z|. The networks
here measure at most 3.2e-7 (float32) and 6.2e-16 (float64), and the Poisson regressor
1.6e-7 and 2.1e-16: the bounds below are 1e-6 and 1e-13.
"""

from __future__ import annotations

import importlib.util
import json
import warnings

import numpy as np
import pytest

import numnet
from numnet import MLP, activations, fit
from numnet.activations import ACTIVATIONS, EXP, get_activation

safetensors_numpy = pytest.importorskip("safetensors.numpy")      # the io extra
from safetensors import safe_open  # noqa: E402

RELATIVE = {np.float32: 1e-6, np.float64: 1e-13}


def _net(dtype=np.float64, hidden="tanh", seed=0):
    return MLP(5, [9, 6], 3, activation=hidden, output_activation="exp", dtype=dtype,
               random_state=seed)


def _inputs(dtype, n=256, seed=0):
    return (3.0 * np.random.default_rng(seed).standard_normal((n, 5))).astype(dtype)


def _counts(n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, rng.poisson(np.exp(np.c_[0.5 * X[:, 0] - 0.3 * X[:, 1], 0.2 * X[:, 2]])
                          ).astype(float)


def _relative(got, want):
    return float(np.max(np.abs(got - want) / np.abs(want)))


# --- registered, output-only ---------------------------------------------------------------

def test_exp_is_registered_as_an_output_only_activation():
    assert ACTIVATIONS["exp"] is EXP and get_activation("EXP") is EXP
    assert EXP.output_only and EXP.forward_into is not None and EXP.backward_into is not None
    net = _net()
    assert net.output_activation == "exp" and net.activation_fns[-1] is EXP
    assert (net.forward(_inputs(np.float64, 4)) > 0).all()


@pytest.mark.parametrize("name", ["softmax", "exp"])
@pytest.mark.parametrize("form", ["one name", "per layer"])
def test_output_only_activations_are_refused_in_hidden_layers(name, form):
    activation = name if form == "one name" else ["relu", name]
    with pytest.raises(ValueError, match=f"^{name} is an output activation; use it as "
                                         f"output_activation and pick e.g. 'relu'") as info:
        MLP(2, [3, 3], 1, activation=activation, output_activation="identity")
    assert "\n" not in str(info.value)


def _file_with_config(tmp_path, **config):
    """A saved exp-output network whose config has ``config`` written over it (no checksums,
    as a file from another writer: the config's own check is what refuses it)."""
    path = numnet.save(_net(), tmp_path / "good.safetensors")
    with safe_open(path, framework="numpy") as f:
        doc = json.loads(f.metadata()["numnet"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    doc.pop("tensors_sha256")
    doc["config"].update(config)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(safetensors_numpy.save(tensors, metadata={"numnet": json.dumps(doc)}))
    return bad


@pytest.mark.parametrize("activation", ["exp", ["tanh", "exp"], "softmax"])
def test_a_file_with_an_output_only_activation_in_a_hidden_layer_is_refused(tmp_path,
                                                                           activation):
    path = _file_with_config(tmp_path, activation=activation, init="glorot_uniform")
    name = activation if isinstance(activation, str) else activation[-1]
    with pytest.raises(ValueError, match=f"config activation '{name}' is only valid as "
                                         f"output_activation"):
        numnet.load(path)


# --- model files ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_output_round_trips_through_a_file(tmp_path, dtype):
    net = _net(dtype)
    X = _inputs(dtype)
    Y = np.random.default_rng(1).poisson(1.0, size=(len(X), 3)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numnet.TrainingWarning)
        fit(net, X / 3, Y, loss="poisson", optimizer="adam", learning_rate=0.01, epochs=2,
            verbose=False, random_state=0)
    path = numnet.save(net, tmp_path / "exp.safetensors")
    assert numnet.io.load_metadata(path)["config"]["output_activation"] == "exp"
    loaded = numnet.load(path)
    assert loaded.activation_fns[-1] is EXP and loaded.dtype == dtype
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    np.testing.assert_array_equal(loaded.flat_parameters, net.flat_parameters)


def test_exp_output_overflow_is_an_error_on_every_inference_path():
    """exp of a finite weighted sum can be inf: every path (one row, many rows, the
    reference) refuses it with the network's error, never returns inf."""
    net = MLP(1, [], 1, activation="identity", output_activation="exp", random_state=0)
    net.weights[0][...] = 1.0
    net.biases[0][...] = 0.0
    for X in (np.full((1, 1), 800.0), np.full((50, 1), 800.0), np.full((5000, 1), 800.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="X values up to 800 overflow"):
                net.forward(X)
    assert net.forward([700.0]) == pytest.approx(np.exp(700.0))


# --- ONNX ---------------------------------------------------------------------------------------

def _has_onnx() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def _session(model):
    import onnxruntime as ort
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.skipif(not _has_onnx(), reason="the onnx extra")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_exp_output_exports_to_onnx_as_an_exp_node(tmp_path, hidden, dtype):
    from numnet.onnx import export, to_onnx_model
    net = _net(dtype, hidden)
    model = to_onnx_model(net)
    assert model.graph.node[-2].op_type == "Exp"           # then the "output" Identity
    X = _inputs(dtype)
    for n in (1, 7, 256):
        got = _session(model).run(["output"], {"X": X[:n]})[0]
        assert got.dtype == dtype and got.shape == (n, 3)
        assert _relative(got, net.forward(X[:n])) < RELATIVE[dtype]
    path = export(numnet.load(numnet.save(net, tmp_path / "exp.safetensors")),
                  tmp_path / "exp.onnx")
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert _relative(session.run(["output"], {"X": X})[0], net.forward(X)) < RELATIVE[dtype]


# --- MLPRegressor(loss="poisson") -----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_regressor_round_trips_through_numnet_files_and_onnx(tmp_path, dtype):
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    from numnet.estimators import MLPRegressor
    X, Y = (a.astype(dtype) for a in _counts())
    est = MLPRegressor("poisson", hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
    path = numnet.save(est, tmp_path / "poisson.safetensors")
    loaded = numnet.load(path)
    assert type(loaded) is MLPRegressor and loaded.loss == "poisson"
    assert loaded.out_activation_ == "exp" and loaded.network_.activation_fns[-1] is EXP
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.score(X, Y) == est.score(X, Y) and loaded.n_iter_ == est.n_iter_
    assert loaded.get_params() == est.get_params()
    if not _has_onnx():
        pytest.skip("the onnx extra")
    from numnet.onnx import to_onnx_model
    for model in (est, loaded):
        got = _session(to_onnx_model(model)).run(["output"], {"X": X})[0]
        assert got.dtype == dtype and got.shape == Y.shape
        assert _relative(got, est.predict(X)) < RELATIVE[dtype]


@pytest.mark.skipif(not _has_onnx(), reason="the onnx extra")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_regressor_exports_inside_a_pipeline(dtype):
    """Through skl2onnx and numnet's converter. Measured: 5.6e-7 (float32), 2.1e-16
    (float64); the scaler's own rounding adds to exp's, hence 2e-6 in float32."""
    pytest.importorskip("skl2onnx")
    import skl2onnx
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import numnet.onnx  # noqa: F401  (registers the converter)
    from numnet.estimators import MLPRegressor
    X, Y = (a.astype(dtype) for a in _counts())
    pipe = make_pipeline(StandardScaler(), MLPRegressor("poisson", hidden_layer_sizes=(8,),
                                                        max_iter=30, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, Y)
    got = _session(skl2onnx.to_onnx(pipe, X[:1])).run(None, {"X": X})[0]
    assert got.shape == Y.shape
    assert _relative(got, pipe.predict(X)) < {np.float32: 2e-6, np.float64: 1e-13}[dtype]


def test_the_activations_module_names_exp():
    assert "exp" in activations.BUILTIN and "exp" in activations.__all__

"""One activation per hidden layer (scikit-learn PR #10097, closed unmerged): MLP, fit on every
runner, files, ONNX and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import numnet
from numnet import MLP, engine, fit
from numnet.network import Network


def _net(**kw):
    kw.setdefault("output_activation", "identity")
    return MLP(3, [8, 6, 4], 2, activation=["relu", "tanh", "sigmoid"], random_state=0, **kw)


def test_each_hidden_layer_has_its_activation_and_a_fitting_initializer():
    net = _net()
    assert [a.name for a in net.activation_fns] == ["relu", "tanh", "sigmoid", "identity"]
    assert net.activation == ["relu", "tanh", "sigmoid"]
    assert net.init == ["he_uniform", "glorot_uniform", "glorot_uniform", "glorot_uniform"]
    assert "activation=['relu', 'tanh', 'sigmoid']" in repr(net)


def test_one_name_repeated_is_the_single_name_bit_for_bit():
    listed = MLP(3, [8, 6], 2, activation=["relu", "relu"], random_state=0)
    named = MLP(3, [8, 6], 2, activation="relu", random_state=0)
    assert listed.activation == "relu" and listed.init == named.init == "he_uniform"
    np.testing.assert_array_equal(listed.flat_parameters, named.flat_parameters)


@pytest.mark.parametrize("activation, match", [
    (["relu", "tanh"], r"one name per hidden layer; got \['relu', 'tanh'\] for 3 hidden"),
    (["relu", "softmax", "tanh"], "softmax is an output activation"),
    (["relu", "nope", "tanh"], "unknown activation 'nope'"),
    (["relu", 3, "tanh"], "one name per hidden layer"),
])
def test_bad_lists_are_refused_in_one_line(activation, match):
    with pytest.raises(ValueError, match=match) as info:
        MLP(3, [8, 6, 4], 2, activation=activation)
    assert "\n" not in str(info.value)


def test_without_hidden_layers_a_list_needs_the_output_activation():
    with pytest.raises(ValueError, match="give it, e.g. 'identity'"):
        MLP(3, [], 2, activation=[])
    assert MLP(3, [], 2, activation=[], output_activation="tanh").output_activation == "tanh"


@pytest.mark.parametrize("prefer, batch_size", [("numpy", 4), ("buffered", 4),
                                                 ("compiled", 1), ("compiled", 4)])
def test_every_runner_trains_it_as_the_reference_does(prefer, batch_size):
    if prefer == "compiled" and not engine.compiled_available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((24, 3)), rng.standard_normal((24, 2))
    nets = {}
    for way in ("numpy", prefer):
        net = _net()
        with engine.preferred_runner(way):
            history = fit(net, X, Y, batch_size=batch_size, epochs=3, learning_rate=0.05,
                          verbose=False, random_state=0)
        nets[way] = (net, history.runner)
    assert nets["numpy"][1] == "reference"
    np.testing.assert_allclose(nets[prefer][0].flat_parameters, nets["numpy"][0].flat_parameters,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(nets[prefer][0].forward(X), Network._forward_checked(
        nets[prefer][0], X), rtol=1e-12, atol=1e-12)


def test_saved_and_loaded_in_a_fresh_process(tmp_path):
    net = _net()
    path = tmp_path / "mixed.safetensors"
    numnet.save(net, path)
    X = np.random.default_rng(2).standard_normal((5, 3))
    code = (f"import numnet, numpy as np, json\n"
            f"net = numnet.load({str(path)!r})\n"
            f"X = np.array({X.tolist()!r})\n"
            f"print(json.dumps({{'activation': net.activation, 'init': net.init, "
            f"'out': net.forward(X).tolist()}}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout)
    assert got["activation"] == ["relu", "tanh", "sigmoid"] and got["init"] == net.init
    np.testing.assert_array_equal(np.array(got["out"]), net.forward(X))


@pytest.mark.parametrize("field, value, match", [
    ("activation", ["relu", "tanh"], "activation must be a name .string. or a list of 3 names"),
    ("activation", ["relu", "softmax", "tanh"], "'softmax' is only valid as output_activation"),
    ("init", ["he_uniform"], "init must be a name .string. or a list of 4 names"),
])
def test_a_file_with_a_bad_list_is_refused(tmp_path, field, value, match):
    """Rewritten as another writer would (no checksums), so the config check is reached."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    from numnet.io import FormatError

    path = numnet.save(_net(), tmp_path / "m.safetensors")
    with safe_open(path, framework="numpy") as f:
        doc = json.loads(f.metadata()["numnet"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    doc.pop("tensors_sha256", None)
    doc["config"][field] = value
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(safetensors_numpy.save(tensors, metadata={"numnet": json.dumps(doc)}))
    with pytest.raises(FormatError, match=match):
        numnet.load(bad)


def test_onnx_export_computes_each_layer_with_its_activation(tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    import numnet.onnx

    net = _net(dtype="float32")
    path = tmp_path / "mixed.onnx"
    numnet.onnx.export(net, path)
    X = np.random.default_rng(3).standard_normal((7, 3)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got, net.forward(X), rtol=1e-5, atol=1e-6)


def test_the_cli_takes_one_activation_per_hidden_layer(tmp_path):
    run = [sys.executable, "-m", "numnet"]
    out = subprocess.run([*run, "train", "sine", "--hidden", "16,8", "--activation",
                          "relu,tanh", "--epochs", "2", "--out", "m.safetensors"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "(relu, tanh, identity output" in out.stderr          # the progress lines
    finder = subprocess.run([*run, "lr-find", "sine", "--hidden", "16,8", "--activation",
                             "relu,tanh", "--steps", "30"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert finder.returncode == 0, finder.stderr
    assert "--activation relu,tanh --lr" in finder.stdout
    info = subprocess.run([*run, "info", "m.safetensors"], capture_output=True, text=True,
                          cwd=tmp_path, check=True)
    assert "activation relu, tanh, output identity" in info.stdout
    bad = subprocess.run([*run, "train", "sine", "--hidden", "16,8", "--activation",
                          "relu,tanh,elu", "--out", "m2.safetensors"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and not (tmp_path / "m2.safetensors").exists()
    assert bad.stderr.strip().splitlines()[-1:] == [
        "Error: activation is one name, or a list of one name per hidden layer; got "
        "['relu', 'tanh', 'elu'] for 2 hidden layer(s)"]

"""Your own activation and loss: registered, checked, trained, saved by name, exported.

``numnet.activations.register`` and ``numnet.losses.register`` add to the registries
that networks, ``fit`` and model files name things from. A registered function is held
to the built-in it copies (bit for bit on the reference runner), its derivative to
central differences (``register`` and ``numnet.gradcheck``), and a file that names it
loads only in a process that has registered that name (tested in fresh subprocesses).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet import MLP, activations, fit, gradcheck, losses
from numnet.activations import ACTIVATIONS, Activation, check_hidden
from numnet.engine import choose_runner, compiled_available, preferred_runner
from numnet.losses import LOSSES, Loss
from numnet.optimizers import SGD

pytest.importorskip("safetensors")                      # the io extra, for the files

SRC = Path(__file__).resolve().parents[1] / "src"
HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


@pytest.fixture(autouse=True)
def registries():
    """Each test registers into copies: the registries are as before once it ends."""
    saved = dict(ACTIVATIONS), dict(LOSSES)
    onnx_saved = None
    if "numnet.onnx" in sys.modules:
        onnx_saved = dict(sys.modules["numnet.onnx"].ACTIVATIONS)
    yield
    for registry, before in zip((ACTIVATIONS, LOSSES), saved, strict=True):
        registry.clear()
        registry.update(before)
    if onnx_saved is not None:
        sys.modules["numnet.onnx"].ACTIVATIONS.clear()
        sys.modules["numnet.onnx"].ACTIVATIONS.update(onnx_saved)
    elif "numnet.onnx" in sys.modules:
        onnx_acts = sys.modules["numnet.onnx"].ACTIVATIONS
        for name in [n for n in onnx_acts if n not in activations.BUILTIN]:
            del onnx_acts[name]


# swish as a README reader writes it: derivative from A = swish(Z) and sigmoid(Z)
SWISH = """
import numpy as np
from numnet import activations

def swish(Z):
    return Z * activations.sigmoid(Z)

def swish_derivative(Z, A):
    s = activations.sigmoid(Z)
    return s + A * (1 - s)
"""


def _register_swish():
    namespace: dict = {}
    exec(SWISH, namespace)
    return activations.register("swish", namespace["swish"], namespace["swish_derivative"])


def _data(n=64, n_in=3, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    return X, np.tanh(X[:, :n_out] - 0.5 * X[:, -n_out:])


# --- activations: register, check, train ------------------------------------------------

def test_registered_activation_trains_bit_for_bit_as_the_builtin_it_copies():
    activations.register("my_tanh", np.tanh, lambda Z, A: 1.0 - A * A)
    X, Y = _data()
    mine = MLP(3, [8, 5], 2, activation="my_tanh", output_activation="identity",
               random_state=0)
    builtin = MLP(3, [8, 5], 2, activation="tanh", output_activation="identity",
                  random_state=0)
    np.testing.assert_array_equal(mine.flat_parameters, builtin.flat_parameters)
    kwargs = dict(optimizer="adam", learning_rate=0.01, epochs=5, batch_size=8, verbose=False,
                  random_state=0)
    history = fit(mine, X, Y, **kwargs)
    with preferred_runner("numpy"):
        reference = fit(builtin.copy(), X, Y, **kwargs)
    fast = fit(builtin, X, Y, **kwargs)                 # compiled or buffered: to rounding
    assert history.runner == "reference" and fast.runner != "reference"
    assert history.loss == reference.loss
    np.testing.assert_allclose(history.loss, fast.loss, rtol=1e-10)
    np.testing.assert_allclose(mine.flat_parameters, builtin.flat_parameters, rtol=1e-9,
                               atol=1e-12)
    report = gradcheck(mine, X[:16], Y[:16], l2=0.01)
    assert report and report.max_error < 1e-7, str(report)


def test_summary_and_history_say_the_reference_runner_trains_a_registered_activation():
    _register_swish()
    net = MLP(3, [4], 1, activation="swish", output_activation="identity", random_state=0)
    summary = net.summary(batch_size=1, optimizer="sgd")
    assert "hidden 1       4  swish" in summary
    assert "trains with the reference runner" in summary
    assert "(rule: an activation has no in-place form)" in summary
    if compiled_available():
        with pytest.raises(ValueError, match=r"no compiled runner for this configuration: "
                                             r"activations \['swish'\]"):
            choose_runner(net, losses.get_loss("mse"), SGD(0.1), 1, prefer="compiled")
    X, Y = _data(n_out=1)
    assert fit(net, X, Y, batch_size=1, epochs=1, verbose=False).runner == "reference"
    assert net.predict(X).shape == (64, 1)             # inference: the NumPy reference pass


def test_register_refuses_a_wrong_derivative_and_gradcheck_catches_an_unchecked_one():
    with pytest.raises(ValueError, match=r"^the derivative of activation 'cube' does not "
                                         r"match its forward pass: relative error 0.2") as info:
        activations.register("cube", lambda Z: Z ** 3, lambda Z, A: 2 * Z * Z)
    assert "\n" not in str(info.value) and "cube" not in ACTIVATIONS
    activations.register("cube", lambda Z: Z ** 3, lambda Z, A: 2 * Z * Z, check=False)
    X, Y = _data(n_out=1)
    net = MLP(3, [4], 1, activation="cube", output_activation="identity", random_state=0)
    report = gradcheck(net, X[:8] / 3, Y[:8])
    assert not report and report.max_error > 0.01
    activations.register("cube", lambda Z: Z ** 3, lambda Z, A: 3 * Z * Z)   # replaced
    net = MLP(3, [4], 1, activation="cube", output_activation="identity", random_state=0)
    assert gradcheck(net, X[:8] / 3, Y[:8])


def test_register_takes_backward_for_a_row_wise_activation_and_output_only():
    def normalise(Z):
        return Z / np.sqrt(1.0 + np.sum(Z * Z, axis=-1, keepdims=True))

    def normalise_backward(Z, A, dA):
        norm = np.sqrt(1.0 + np.sum(Z * Z, axis=-1, keepdims=True))
        return (dA - A * np.sum(dA * A, axis=-1, keepdims=True)) / norm

    act = activations.register("normalise", normalise, backward=normalise_backward,
                               output_only=True)
    assert act.output_only and ACTIVATIONS["normalise"] is act
    with pytest.raises(ValueError, match="^normalise is an output activation"):
        check_hidden(act)
    X, Y = _data(n_out=3)
    net = MLP(3, [4], 3, activation="tanh", output_activation="normalise", random_state=0)
    assert gradcheck(net, X[:8], Y[:8])
    with pytest.raises(ValueError, match="derivative of activation 'bad_normalise'"):
        activations.register("bad_normalise", normalise,
                             backward=lambda Z, A, dA: dA / np.sqrt(1.0 + Z * Z))


@pytest.mark.parametrize("args, kwargs, error, match", [
    (("relu", np.tanh, lambda Z, A: 1 - A * A), {}, ValueError, "'relu' is a built-in"),
    (("linear", np.tanh, lambda Z, A: 1 - A * A), {}, ValueError, "'linear' is a built-in"),
    (("Swish", np.tanh, lambda Z, A: 1 - A * A), {}, ValueError, "not a plain name"),
    (("my-act", np.tanh, lambda Z, A: 1 - A * A), {}, ValueError, "not a plain name"),
    (("a\x1b[31m", np.tanh, lambda Z, A: 1 - A * A), {}, ValueError, "not a plain name"),
    ((3, np.tanh, lambda Z, A: 1 - A * A), {}, TypeError, "name is a str"),
    (("f", np.tanh), {}, TypeError, "one of the two"),
    (("f", np.tanh, lambda Z, A: 1 - A * A), {"backward": lambda Z, A, dA: dA},
     TypeError, "one of the two"),
    (("f", "tanh", lambda Z, A: 1 - A * A), {}, TypeError, "forward as a function"),
    (("f", lambda Z: Z[:, :1], lambda Z, A: 1), {}, ValueError, "must keep the shape"),
    (("f", np.log, lambda Z, A: 1 / Z), {}, ValueError, "pass check=False"),
])
def test_register_refuses_bad_arguments_in_one_line(args, kwargs, error, match):
    before = dict(ACTIVATIONS)
    with pytest.raises(error, match=match) as info:
        activations.register(*args, **kwargs)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)
    assert ACTIVATIONS == before


def test_an_activation_object_is_taken_as_output_and_registered_as_it_is(tmp_path):
    scaled = Activation("scaled_tanh", lambda Z: 2 * np.tanh(Z),
                        lambda Z, A, dA: dA * (2 - A * A / 2),
                        scalar=lambda z, cast: 2 * np.tanh(z))
    net = MLP(3, [4], 2, activation="relu", output_activation=scaled, random_state=0)
    X, Y = _data()
    fit(net, X, Y, epochs=1, verbose=False)             # works unregistered
    with pytest.raises(ValueError, match=r"^refusing to save a network with the activation "
                                         r"'scaled_tanh', which is not registered.*"
                                         r"numnet.activations.register\('scaled_tanh'"):
        numnet.save(net, tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())
    registered = activations.register(scaled)
    assert registered.scalar is None and registered.forward is scaled.forward
    with pytest.raises(ValueError, match="not the one now registered under that name"):
        numnet.save(net, tmp_path / "m.safetensors")    # the object before registering
    net2 = MLP(3, [4], 2, activation="relu", output_activation="scaled_tanh", random_state=0)
    loaded = numnet.load(numnet.save(net2, tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(loaded.forward(X), net2.forward(X))
    assert not list(tmp_path.glob(".*tmp*"))


def test_an_object_named_like_a_registered_activation_is_refused():
    fake = Activation("relu", np.tanh, lambda Z, A, dA: dA * (1 - A * A))
    with pytest.raises(ValueError, match=r"^this Activation is named 'relu' but is not the "
                                         r"activation registered under that name"):
        MLP(2, [3], 1, output_activation=fake)
    assert activations.get_activation(ACTIVATIONS["relu"]) is ACTIVATIONS["relu"]


def test_unknown_names_point_to_register():
    with pytest.raises(ValueError, match=r"unknown activation 'never_registered'; choose one "
                                         r"of .*, or register your own with "
                                         r"numnet.activations.register"):
        MLP(2, [3], 1, activation="never_registered")
    with pytest.raises(ValueError, match=r"unknown loss 'never_registered'; choose one of .*, "
                                         r"or register your own with numnet.losses.register"):
        fit(MLP(2, [3], 1), np.zeros((4, 2)), np.zeros(4), loss="never_registered")


# --- model files: by name, in a fresh process -------------------------------------------

def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_saved_custom_activation_loads_only_where_it_is_registered(tmp_path):
    _register_swish()
    X, Y = _data(n_out=1)
    net = MLP(3, [6], 1, activation="swish", output_activation="identity", random_state=0)
    fit(net, X, Y, epochs=3, verbose=False)
    path = numnet.save(net, tmp_path / "swish.safetensors")
    before = path.read_bytes()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", net.forward(X))

    unregistered = _python("""
        import numnet
        for load in (numnet.load, numnet.io.load_metadata):
            try:
                load("swish.safetensors")
            except ValueError as exc:
                print(type(exc).__name__, exc)
    """, tmp_path)
    assert unregistered.returncode == 0, unregistered.stderr
    expected = (
        "FormatError cannot load 'swish.safetensors': its activation 'swish' is not an "
        "activation this process knows: a custom activation is saved by name, never as code; "
        "register it before loading, with numnet.activations.register('swish', forward, "
        "derivative)")
    assert unregistered.stdout.splitlines() == [expected, expected]      # one line each

    registered = _python(SWISH + textwrap.dedent("""
        import numnet
        activations.register("swish", swish, swish_derivative)
        net = numnet.load("swish.safetensors")
        X, expected = np.load("X.npy"), np.load("expected.npy")
        assert (net.forward(X) == expected).all()
        print(net.activation, net.activation_fns[0].forward is swish)
    """), tmp_path)
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.split() == ["swish", "True"]

    cli = subprocess.run([sys.executable, "-m", "numnet", "info", "swish.safetensors"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin",
                              "HOME": str(tmp_path)})
    assert cli.returncode == 1 and cli.stdout == ""
    assert cli.stderr.count("\n") == 1 and cli.stderr.startswith("Error: ")
    assert "numnet.activations.register('swish', forward, derivative)" in cli.stderr
    assert path.read_bytes() == before


def test_training_resumes_from_a_checkpoint_of_a_registered_activation(tmp_path):
    _register_swish()
    X, Y = _data(n_out=1)
    net = MLP(3, [6], 1, activation="swish", output_activation="identity", random_state=0)
    kwargs = dict(optimizer="adam", learning_rate=0.01, batch_size=16, verbose=False,
                  random_state=0)
    straight = net.copy()
    fit(straight, X, Y, epochs=4, **kwargs)
    ckpt = tmp_path / "ck.safetensors"
    fit(net.copy(), X, Y, epochs=2, callbacks=[numnet.callbacks.ModelCheckpoint(ckpt)],
        **kwargs)
    assert numnet.load(ckpt).activation == "swish"
    resumed = net.copy()
    fit(resumed, X, Y, epochs=4, resume_from=ckpt, **kwargs)
    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)


# --- ONNX: refused in one line, exported once given its form ---------------------------

@pytest.mark.skipif(not HAS_ONNX, reason="the onnx extra")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_refuses_a_custom_activation_until_it_is_given_its_form(tmp_path, dtype):
    import onnxruntime as ort

    import numnet.onnx
    _register_swish()
    net = MLP(3, [6], 2, activation="swish", output_activation="identity", dtype=dtype,
              random_state=0)
    with pytest.raises(ValueError, match=r"^cannot export activation\(s\) \['swish'\] to "
                                         r"ONNX: .*numnet.onnx.ACTIVATIONS\['swish'\] = "
                                         r"build") as info:
        numnet.onnx.export(net, tmp_path / "swish.onnx")
    assert "\n" not in str(info.value) and not (tmp_path / "swish.onnx").exists()
    numnet.onnx.ACTIVATIONS["swish"] = lambda g, Z, dtype, hint: g.node(
        "Mul", [Z, g.node("Sigmoid", [Z], hint + "_sigmoid")], hint)
    path = numnet.onnx.export(net, tmp_path / "swish.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = (3 * np.random.default_rng(0).standard_normal((256, 3))).astype(dtype)
    got = session.run(["output"], {"X": X})[0]
    # measured: 7.2e-7 (float32), 8.9e-16 (float64) absolute, outputs up to 6.3
    np.testing.assert_allclose(got, net.forward(X), rtol=0,
                               atol={np.float32: 1e-5, np.float64: 1e-12}[dtype])


# --- losses -------------------------------------------------------------------------------

def _my_mse():
    return losses.register("my_mse", lambda P, Y: float(np.mean(np.square(Y - P))),
                           lambda P, Y: (2.0 / P.size) * (P - Y),
                           sample_values=lambda P, Y: np.mean((Y - P) ** 2, axis=1))


def test_registered_loss_trains_as_the_builtin_it_copies():
    _my_mse()
    X, Y = _data()
    kwargs = dict(optimizer="adam", learning_rate=0.01, epochs=4, batch_size=8, verbose=False,
                  random_state=0)
    nets = {}
    for loss in ("mse", "my_mse"):
        for prefer in ("numpy", "auto"):
            net = MLP(3, [8], 2, activation="tanh", output_activation="identity",
                      random_state=0)
            with preferred_runner(prefer):
                nets[loss, prefer] = net, fit(net, X, Y, loss=loss, **kwargs)
    assert nets["my_mse", "auto"][1].runner in ("buffered", "reference")   # never compiled
    assert nets["my_mse", "numpy"][1].loss == nets["mse", "numpy"][1].loss
    np.testing.assert_array_equal(nets["my_mse", "numpy"][0].flat_parameters,
                                  nets["mse", "numpy"][0].flat_parameters)
    for key in (("my_mse", "auto"), ("mse", "auto")):
        np.testing.assert_allclose(nets[key][0].flat_parameters,
                                   nets["mse", "numpy"][0].flat_parameters, rtol=1e-9,
                                   atol=1e-12)
    net = nets["my_mse", "numpy"][0]
    assert gradcheck(net, X[:16], Y[:16], loss="my_mse")
    weights = np.linspace(0.0, 2.0, len(X))
    fit(net, X, Y, loss="my_mse", sample_weight=weights, epochs=1, verbose=False)
    summary = net.summary(loss="my_mse", batch_size=1)
    assert "loss='my_mse'" in summary and "runner" in summary


def test_a_loss_object_works_unregistered_and_one_named_like_a_builtin_is_refused():
    log_cosh = Loss("log_cosh", lambda P, Y: float(np.mean(np.log(np.cosh(P - Y)))),
                    lambda P, Y: np.tanh(P - Y) / P.size)
    X, Y = _data()
    net = MLP(3, [8], 2, activation="tanh", output_activation="identity", random_state=0)
    history = fit(net, X, Y, loss=log_cosh, epochs=20, learning_rate=0.5, verbose=False)
    assert history.loss[-1] < history.loss[0]
    with pytest.raises(ValueError, match="has no sample_values form"):
        fit(net, X, Y, loss=log_cosh, sample_weight=np.ones(len(X)), epochs=1, verbose=False)
    fake = Loss("mse", log_cosh.value, log_cosh.gradient)
    with pytest.raises(ValueError, match=r"^this Loss is named 'mse' but is not the loss "
                                         r"registered under that name"):
        fit(net, X, Y, loss=fake, epochs=1, verbose=False)
    registered = losses.register(log_cosh)
    assert LOSSES["log_cosh"] is registered
    fit(net, X, Y, loss="log_cosh", epochs=1, verbose=False)


@pytest.mark.parametrize("args, kwargs, error, match", [
    (("wrong_mse", lambda P, Y: float(np.mean((P - Y) ** 2)), lambda P, Y: 2 * (P - Y)), {},
     ValueError, r"gradient of loss 'wrong_mse' does not match its value: relative error "
                 r"0\.8.*carries its 1 / n"),
    (("mse", lambda P, Y: 0.0, lambda P, Y: 0 * P), {}, ValueError, "'mse' is a built-in"),
    (("bce", lambda P, Y: 0.0, lambda P, Y: 0 * P), {}, ValueError, "'bce' is a built-in"),
    (("My Loss", lambda P, Y: 0.0, lambda P, Y: 0 * P), {}, ValueError, "not a plain name"),
    (("f", lambda P, Y: P, lambda P, Y: 0 * P), {}, ValueError, "one finite number"),
    (("f", lambda P, Y: 0.0, lambda P, Y: 0.0), {}, ValueError, "P's shape"),
    (("f", lambda P, Y: 0.0, None), {}, TypeError, "gradient as a function"),
    (("f", lambda P, Y: float(np.mean(P)), lambda P, Y: np.ones_like(P) / P.size),
     {"sample_values": lambda P, Y: np.sum(P, axis=1)}, ValueError, "whose mean is value"),
])
def test_loss_register_refuses_bad_arguments_in_one_line(args, kwargs, error, match):
    before = dict(LOSSES)
    with pytest.raises(error, match=match) as info:
        losses.register(*args, **kwargs)
    assert "\n" not in str(info.value)
    assert LOSSES == before


def test_register_keeps_custom_functions_out_of_the_compiled_kernels():
    scalar = losses.LOSSES["mse"].scalar
    registered = losses.register(Loss("twice_mse", lambda P, Y: 2 * float(np.mean((P - Y) ** 2)),
                                      lambda P, Y: (4.0 / P.size) * (P - Y), scalar=scalar))
    assert registered.scalar is None
    act = activations.register(ACTIVATIONS["tanh"]._replace(name="tanh_copy"))
    assert act.scalar is None and act.scalar_derivative is None
    net = MLP(2, [3], 1, activation="tanh_copy", output_activation="identity", random_state=0)
    # its in-place forms are kept: the buffered runner, all in NumPy
    assert choose_runner(net, registered, SGD(0.1), 1).runner == "buffered"
    X, Y = _data(n_in=2, n_out=1)
    twin = net.copy()
    history = fit(net, X, Y, loss=registered, batch_size=1, epochs=2, verbose=False,
                  random_state=0)
    with preferred_runner("numpy"):
        expected = fit(twin, X, Y, loss=registered, batch_size=1, epochs=2, verbose=False,
                       random_state=0)
    assert history.runner == "buffered" and expected.runner == "reference"
    np.testing.assert_allclose(net.flat_parameters, twin.flat_parameters, rtol=1e-10)

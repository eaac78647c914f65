"""The runners of ``numnet.engine`` against the reference ``NumpyRunner``.

Each faster runner trains a copy of the same network, from the same weights,
on the same data in the same order, and must end with the reference's
parameters, per-epoch losses and optimizer state (``t``, velocity, Adam's m
and v). Measured when these tests were written (3 epochs, 37 samples): the
buffered runner matches to ~1e-15 relative in float64 (it makes the same
BLAS calls), the compiled ones to ~3e-14 (their sums run in another order)
and float32 to ~5e-6; the tolerances below leave room above that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet import MLP, engine, fit, optimizers
from numnet.engine import (
    BufferedRunner,
    ExampleRunner,
    NumpyRunner,
    SmallBatchRunner,
    preferred_runner,
    select_runner,
)
from numnet.losses import get_loss

N_SAMPLES = 37          # not a multiple of the batch sizes below: a short last batch
EPOCHS = 3

# (hidden activation, output activation, loss, optimizer, batch size, dtype, bias, l2)
CONFIGS = [
    ("sigmoid", "sigmoid", "mse", "sgd", 1, "float64", False, 0.0),          # the tutorial's
    ("tanh", "identity", "mse", "nesterov", 1, "float64", True, 0.01),
    ("relu", "softmax", "categorical_cross_entropy", "adam", 1, "float32", True, 0.0),
    ("elu", "sigmoid", "binary_cross_entropy", "adamw", 8, "float64", False, 0.0),
    ("leaky_relu", "softplus", "mse", "momentum", 5, "float64", True, 0.1),
    ("softplus", "softmax", "mse", "adam_wd", 6, "float64", True, 0.0),
    ("sigmoid", "softmax", "categorical_cross_entropy", "adam", 6, "float32", True, 0.0),
    ("relu", "identity", "mse", "sgd_wd", 16, "float32", True, 0.01),
    ("tanh", "identity", "mse", "sgd_wd", 1, "float64", True, 0.01),      # no state, l2
]
CONFIG_IDS = [f"{c[0]}-{c[1]}-{c[2][:3]}-{c[3]}-bs{c[4]}-{c[5][-2:]}-{'b' if c[6] else 'nob'}"
              f"{'-l2' if c[7] else ''}" for c in CONFIGS]


def _optimizer(kind: str):
    return {
        "sgd": lambda: optimizers.SGD(0.1),
        "momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
        "nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        "sgd_wd": lambda: optimizers.SGD(0.05, weight_decay=0.01),
        "adam": lambda: optimizers.Adam(0.01),
        "adam_wd": lambda: optimizers.Adam(0.01, weight_decay=0.01),
        "adamw": lambda: optimizers.AdamW(0.01),
        "rmsprop": lambda: optimizers.RMSprop(0.01),
    }[kind]()


def _problem(activation, output, loss, dtype, bias, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    n_out = 1 if loss == "binary_cross_entropy" else n_out
    net = MLP(4, [6, 5], n_out, activation=activation, output_activation=output, bias=bias,
              dtype=dtype, random_state=seed)
    X = rng.standard_normal((N_SAMPLES, 4)).astype(dtype)
    if loss == "categorical_cross_entropy":
        Y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, N_SAMPLES)]
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (N_SAMPLES, 1)).astype(dtype)
    else:
        Y = rng.random((N_SAMPLES, n_out)).astype(dtype)
    return net, X, Y


def _train(runner_for, config, epochs=EPOCHS):
    """Train with ``runner_for(net, lossfn, optimizer, batch_size, l2)``; return the results."""
    activation, output, loss, opt_kind, batch_size, dtype, bias, l2 = config
    net, X, Y = _problem(activation, output, loss, dtype, bias)
    lossfn, opt = get_loss(loss), _optimizer(opt_kind)
    runner = runner_for(net, lossfn, opt, batch_size, l2)
    steps = -(-N_SAMPLES // batch_size)
    shuffles = np.random.default_rng(1)
    losses = []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = shuffles.permutation(N_SAMPLES)
            total = runner.run(X, Y, order, 0, steps // 2, batch_size)     # two calls an epoch
            total += runner.run(X, Y, order, steps // 2, steps, batch_size)
            losses.append(total / N_SAMPLES)
    return runner, net, opt, np.array(losses)


def _reference(net, lossfn, opt, batch_size, l2):
    return NumpyRunner(net, lossfn, opt, l2, 0.0, np.random.default_rng(0))


def _assert_same(got, ref, dtype):
    rtol = 1e-9 if dtype == "float64" else 1e-4
    _, net, opt, losses = got
    _, ref_net, ref_opt, ref_losses = ref
    scale = np.max(np.abs(ref_net.flat_parameters))
    np.testing.assert_allclose(net.flat_parameters, ref_net.flat_parameters,
                               rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(losses, ref_losses, rtol=rtol)
    assert opt.t == ref_opt.t
    assert sorted(opt.state) == sorted(ref_opt.state)
    for name, arrays in ref_opt.state.items():
        for a, b in zip(opt.state[name], arrays, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.max(np.abs(b)))


# --- the buffered runner ----------------------------------------------------------------

@pytest.mark.parametrize("with_numba", [False, True], ids=["numpy-ufuncs", "numba-helpers"])
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_buffered_matches_reference(config, with_numba):
    kernels = pytest.importorskip("numnet.engine.kernels") if with_numba else None

    def buffered(net, lossfn, opt, batch_size, l2):
        return BufferedRunner(net, lossfn, opt, l2, batch_size, kernels)

    got = _train(buffered, config)
    assert isinstance(got[0], BufferedRunner)
    _assert_same(got, _train(_reference, config), config[5])


@pytest.mark.parametrize("with_numba", [False, True], ids=["numpy-ufuncs", "numba-helpers"])
def test_buffered_with_other_losses_and_optimizers(with_numba):
    kernels = pytest.importorskip("numnet.engine.kernels") if with_numba else None
    for config in [("sigmoid", "tanh", "mae", "rmsprop", 6, "float64", True, 0.0),
                   ("relu", "sigmoid", "huber", "sgd", 4, "float64", True, 0.01),
                   ("tanh", "softmax", "mse", "rmsprop", 5, "float32", False, 0.0)]:
        def buffered(net, lossfn, opt, batch_size, l2):
            return BufferedRunner(net, lossfn, opt, l2, batch_size, kernels)

        _assert_same(_train(buffered, config), _train(_reference, config), config[5])


def test_buffered_steps_large_networks_layer_by_layer(monkeypatch):
    pytest.importorskip("numnet.engine.kernels")
    monkeypatch.setattr(engine.buffered, "STEP_BY_LAYER_BYTES", 0)
    config = ("relu", "softmax", "categorical_cross_entropy", "momentum", 8, "float64", True,
              0.01)

    def buffered(net, lossfn, opt, batch_size, l2):
        runner = select_runner(net, lossfn, opt, batch_size, l2, 0.0, None, prefer="buffered")
        assert runner.segments is not None
        return runner

    _assert_same(_train(buffered, config), _train(_reference, config), "float64")


# --- the compiled runners ---------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_compiled_matches_reference(config):
    pytest.importorskip("numba")

    def compiled(net, lossfn, opt, batch_size, l2):
        return select_runner(net, lossfn, opt, batch_size, l2, 0.0, None, prefer="compiled")

    got = _train(compiled, config)
    assert isinstance(got[0], ExampleRunner if config[4] == 1 else SmallBatchRunner)
    _assert_same(got, _train(_reference, config), config[5])


@pytest.mark.parametrize("prefer", ["compiled", "buffered"])
def test_switching_runners_mid_training_is_seamless(prefer):
    """Epochs 1-2 on a fast runner, 3-4 on the reference == 4 epochs on the reference."""
    pytest.importorskip("numba")
    for config in [("tanh", "identity", "mse", "nesterov", 1, "float64", True, 0.0),
                   ("relu", "softmax", "categorical_cross_entropy", "adam", 5, "float64",
                    True, 0.0)]:
        activation, output, loss, opt_kind, batch_size, dtype, bias, _ = config
        results = []
        for first in (prefer, "numpy"):
            net, X, Y = _problem(activation, output, loss, dtype, bias)
            lossfn, opt = get_loss(loss), _optimizer(opt_kind)
            losses = []
            for epoch in range(4):
                with preferred_runner(first if epoch < 2 else "numpy"):
                    history = fit(net, X, Y, loss=lossfn, optimizer=opt, epochs=1,
                                  batch_size=batch_size, verbose=False, random_state=epoch)
                losses.append(history.loss[0])
            results.append((None, net, opt, np.array(losses)))
        _assert_same(results[0], results[1], dtype)


def test_fit_gives_the_same_history_on_every_path():
    pytest.importorskip("numba")
    rng = np.random.default_rng(0)
    X = rng.random((50, 2))
    y = X.sum(axis=1)
    runs = {}
    for prefer in ("numpy", "buffered", "auto"):
        for batch_size in (1, 7):
            net = MLP(2, [5], 1, random_state=0)
            with preferred_runner(prefer):
                history = fit(net, X, y, optimizer=optimizers.SGD(0.5, momentum=0.5),
                              epochs=4, batch_size=batch_size, verbose=False, random_state=3)
            runs[prefer, batch_size] = (history.loss, net.flat_parameters)
    for (_, batch_size), (loss, params) in runs.items():
        ref_loss, ref_params = runs["numpy", batch_size]
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-9)
        np.testing.assert_allclose(params, ref_params, rtol=1e-9, atol=1e-12)


# --- selection --------------------------------------------------------------------------

def _select(prefer=None, batch_size=1, dropout=0.0, optimizer=None, loss="mse",
            sizes=(2, [5], 1), output="sigmoid", dtype="float64"):
    net = MLP(sizes[0], sizes[1], sizes[2], output_activation=output, dtype=dtype,
              random_state=0)
    return select_runner(net, get_loss(loss), optimizer or optimizers.SGD(0.1), batch_size,
                         0.0, dropout, np.random.default_rng(0), prefer=prefer)


def test_selection_rule():
    pytest.importorskip("numba")
    assert isinstance(_select(batch_size=1), ExampleRunner)
    assert _select(batch_size=1).name == "compiled per-example"
    assert isinstance(_select(batch_size=32), SmallBatchRunner)
    assert _select(batch_size=32).name == "compiled small-batch"
    assert isinstance(_select(batch_size=64, sizes=(64, [128, 64], 10), output="softmax",
                              loss="categorical_cross_entropy"), BufferedRunner)
    # what the kernels lack goes to the buffered runner, whatever the batch size
    assert isinstance(_select(batch_size=1, optimizer=optimizers.RMSprop()), BufferedRunner)
    assert isinstance(_select(batch_size=1, loss="mae"), BufferedRunner)
    assert isinstance(_select(batch_size=1, loss="categorical_cross_entropy", output="sigmoid",
                              sizes=(2, [5], 3)), BufferedRunner)


@pytest.mark.parametrize("prefer", [None, "numpy", "buffered", "compiled"])
def test_choose_runner_names_what_select_runner_builds(prefer):
    """One choice: the rule ``choose_runner`` picks names the runner ``select_runner`` builds."""
    by_name = {cls.name: cls for cls in engine.RUNNERS}
    seen = set()
    for batch_size in (1, 8, 64):
        for opt in (optimizers.SGD(0.1), optimizers.Adam(), optimizers.RMSprop()):
            for dropout in (0.0, 0.3):
                for sizes in ((2, [5], 1), (64, [128], 10)):
                    net = MLP(*sizes, random_state=0)
                    args = (net, get_loss("mse"), opt, batch_size)
                    try:
                        rule = engine.choose_runner(*args, dropout, prefer)
                    except ValueError as exc:
                        assert prefer == "compiled" and "no compiled runner" in str(exc)
                        with pytest.raises(ValueError, match="no compiled runner"):
                            select_runner(*args, 0.0, dropout, None, prefer=prefer)
                        continue
                    runner = select_runner(*args, 0.0, dropout, np.random.default_rng(0),
                                           prefer=prefer)
                    assert type(runner) is by_name[rule.runner] and runner.name == rule.runner
                    seen.add(rule.runner)
    assert seen


@pytest.mark.parametrize("prefer", [None, "auto", "buffered"])
def test_dropout_falls_back_to_the_reference(prefer):
    runner = _select(prefer=prefer, dropout=0.5)
    assert type(runner) is NumpyRunner and runner.dropout == 0.5


def test_forcing_a_path():
    assert type(_select(prefer="numpy")) is NumpyRunner
    assert isinstance(_select(prefer="buffered"), BufferedRunner)
    with preferred_runner("numpy"):
        assert type(_select()) is NumpyRunner
        assert isinstance(_select(prefer="buffered"), BufferedRunner)   # the argument wins
    with pytest.raises(ValueError, match="prefer must be one of"):
        _select(prefer="fast")
    with pytest.raises(ValueError, match="prefer must be one of"):
        with preferred_runner("fast"):
            pass


def test_forcing_compiled_says_why_it_cannot():
    pytest.importorskip("numba")
    assert isinstance(_select(prefer="compiled", batch_size=512), SmallBatchRunner)
    with pytest.raises(ValueError, match="dropout"):
        _select(prefer="compiled", dropout=0.1)
    with pytest.raises(ValueError, match="RMSprop"):
        _select(prefer="compiled", optimizer=optimizers.RMSprop())
    with pytest.raises(ValueError, match="mae"):
        _select(prefer="compiled", loss="mae")


def test_without_numba_everything_runs_in_numpy(monkeypatch):
    monkeypatch.setattr(engine.selection, "load_kernels", lambda: None)
    assert not engine.compiled_available()
    for batch_size in (1, 32):
        runner = _select(batch_size=batch_size)
        assert isinstance(runner, BufferedRunner) and runner.kernels is None
    with pytest.raises(ValueError, match="numba is not installed"):
        _select(prefer="compiled")
    config = ("sigmoid", "sigmoid", "mse", "adam", 1, "float64", True, 0.0)

    def auto(net, lossfn, opt, batch_size, l2):
        return select_runner(net, lossfn, opt, batch_size, l2, 0.0, None)

    _assert_same(_train(auto, config), _train(_reference, config), "float64")


# --- dtype ------------------------------------------------------------------------------

def _float_arrays(obj):
    """Every floating ndarray an object holds, in attributes and lists of them."""
    found = {}
    for name, value in vars(obj).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for i, v in enumerate(values):
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                found[f"{name}[{i}]"] = v
    return found


@pytest.mark.parametrize("prefer, batch_size", [("buffered", 1), ("buffered", 8),
                                                ("compiled", 1), ("compiled", 8)])
def test_float32_stays_float32(prefer, batch_size):
    if prefer == "compiled":
        pytest.importorskip("numba")
    config = ("relu", "softmax", "categorical_cross_entropy", "adam", batch_size, "float32",
              True, 0.01)

    def runner_for(net, lossfn, opt, bs, l2):
        return select_runner(net, lossfn, opt, bs, l2, 0.0, None, prefer=prefer)

    runner, net, opt, _ = _train(runner_for, config, epochs=1)
    arrays = _float_arrays(runner)
    if isinstance(runner, BufferedRunner):
        arrays.update({f"scratch.{k}": v for k, v in _float_arrays(runner.scratch).items()})
    arrays.pop("_hyper[0]", None)     # the kernels' hyperparameters: float64 by contract,
    assert arrays                     # cast to the parameters' dtype inside the kernels
    assert {name: a.dtype for name, a in arrays.items() if a.dtype != np.float32} == {}
    assert net.flat_parameters.dtype == np.float32
    assert all(a.dtype == np.float32 for arrays in opt.state.values() for a in arrays)


# --- plain SGD folded into the weight gradient's product ----------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
def test_plain_sgd_fused_into_the_gradient_product_matches_reference(dtype, bias):
    config = ("relu", "softmax", "categorical_cross_entropy", "sgd", 7, dtype, bias, 0.0)

    def buffered(net, lossfn, opt, batch_size, l2):
        return BufferedRunner(net, lossfn, opt, l2, batch_size, None)

    got = _train(buffered, config)
    assert got[0]._fused_rate() == 0.1
    _assert_same(got, _train(_reference, config), dtype)


def test_engine_reaches_blas_only_through_numpy():
    """No ctypes, no loading of a wheel's private libraries: BLAS is NumPy's ``matmul``."""
    engine = Path(numnet.__file__).parent / "engine"
    for path in engine.rglob("*.py"):
        text = path.read_text()
        assert "ctypes" not in text and "numpy.libs" not in text, path


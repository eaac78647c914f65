"""The inference paths (numnet.engine.inference) give the reference pass's outputs and errors."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from numnet import MLP
from numnet.engine import compiled_available, inference
from numnet.network import Network

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"]
OUTPUTS = ["identity", "sigmoid", "softmax"]


def _reference(net: Network, X: np.ndarray) -> np.ndarray:
    return Network._forward_checked(net, X)              # the readable pass, layer by layer


def _net(hidden, activation, output, dtype, bias=True, seed=0):
    return MLP(5, hidden, 3, activation=activation, output_activation=output, dtype=dtype,
               bias=bias, random_state=seed)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("n_rows", [1, 7, 3000])
def test_paths_match_the_reference(dtype, activation, output, n_rows):
    net = _net([16, 8], activation, output, dtype)
    X = np.random.default_rng(1).standard_normal((n_rows, 5)).astype(dtype)
    got = net.forward(X)
    assert got.dtype == np.dtype(dtype) and got.shape == (n_rows, 3)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, _reference(net, X), rtol=tol, atol=tol)


@pytest.mark.parametrize("bias", [True, False])
def test_without_bias_and_without_hidden_layers(bias):
    for hidden in ([], [4]):
        net = _net(hidden, "tanh", "softmax", "float64", bias=bias)
        for n in (1, 2000):
            X = np.random.default_rng(2).standard_normal((n, 5))
            np.testing.assert_allclose(net.forward(X), _reference(net, X), rtol=1e-12,
                                       atol=1e-12)


def test_the_path_depends_on_size():
    net = _net([16, 8], "relu", "softmax", "float32")
    expected_small = "compiled rows" if compiled_available() else "blocked"
    assert inference.inference_path(net, 1) == expected_small
    assert inference.inference_path(net, 100_000) == "blocked"


def test_blocks_cover_every_row_of_a_large_batch():
    """More rows than one block holds, and a last block that is partly full."""
    net = _net([32], "sigmoid", "identity", "float64")
    rows = inference._plan(net).block_rows * 3 + 5
    X = np.random.default_rng(3).standard_normal((rows, 5))
    np.testing.assert_allclose(net.forward(X), _reference(net, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_rows", [1, 5000])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_give_the_reference_error(n_rows, bad):
    net = _net([8], "relu", "softmax", "float64")
    X = np.zeros((n_rows, 5))
    X[-1, 2] = bad
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value\(s\)"):
        net.forward(X)


@pytest.mark.parametrize("n_rows", [1, 5000])
def test_overflow_hidden_by_a_saturating_activation_is_refused(n_rows):
    """sigmoid(inf) is a finite 1.0: the pass itself must see the overflow."""
    net = _net([8], "sigmoid", "sigmoid", "float64")
    net.weights[0][...] = 2.0                            # 5 * 2 * 1e308 overflows to inf
    X = np.full((n_rows, 5), 1e308)
    with pytest.raises(ValueError, match="overflow the network's arithmetic"):
        _reference(net, X)                               # as the reference says
    with pytest.raises(ValueError, match="overflow the network's arithmetic"):
        net.forward(X)


@pytest.mark.parametrize("epilogue", ["compiled", "numpy"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_either_bias_and_activation_pass_matches_the_reference(epilogue, output):
    """The blocked path adds the bias and activates in one compiled pass (finish_layer), or
    in NumPy's calls without numba or for an activation of your own."""
    net = _net([16, 8], "tanh", output, "float32")
    plan = inference._plan(net)
    if epilogue == "numpy":
        plan.codes = None
    elif plan.codes is None:
        pytest.skip("numba is not installed")
    X = np.random.default_rng(4).standard_normal((plan.block_rows * 2 + 3, 5), np.float32)
    np.testing.assert_allclose(net.forward(X), _reference(net, X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("epilogue", ["compiled", "numpy"])
def test_an_overflow_in_one_row_of_a_late_block_is_refused(monkeypatch, epilogue):
    """Only the last row's weighted sums overflow, hidden by sigmoid: still refused."""
    monkeypatch.setattr(inference, "cores", lambda: 2)
    net = _net([8], "sigmoid", "sigmoid", "float64")
    net.weights[0][...] = 2.0
    plan = inference._plan(net)
    if epilogue == "numpy":
        plan.codes = None
    X = np.zeros((2 * inference.PARALLEL_BLOCKS * plan.block_rows + 11, 5))
    X[-1] = 1e308
    with pytest.raises(ValueError, match="overflow the network's arithmetic"):
        net.forward(X)


def test_parameters_changed_in_place_or_replaced_are_used():
    net = _net([8], "tanh", "identity", "float64")
    X = np.random.default_rng(4).standard_normal((3, 5))
    before = net.forward(X)
    net.weights[0] *= 2.0                                # in place: the same vector
    assert not np.allclose(net.forward(X), before)
    np.testing.assert_allclose(net.forward(X), _reference(net, X), rtol=1e-12)
    twin = net.astype("float32")                         # another vector, another dtype
    assert twin.forward(X.astype(np.float32)).dtype == np.float32


def test_threads_sharing_a_network_get_their_own_answers():
    net = _net([64, 32], "relu", "softmax", "float64")
    inputs = [np.random.default_rng(s).standard_normal((n, 5)) for s, n in
              enumerate([1, 2, 3, 500, 4000, 1, 7, 2500])]
    expected = [_reference(net, X) for X in inputs]
    results: dict[int, list[bool]] = {}

    def work(k: int) -> None:
        results[k] = [np.allclose(net.forward(inputs[k]), expected[k], rtol=1e-12)
                      for _ in range(30)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(all(v) for v in results.values())


def _parallel_net(dtype: str = "float64") -> tuple[MLP, np.ndarray]:
    """A network and enough rows for the blocked path to run one part per core (two)."""
    net = MLP(64, [128, 64], 10, activation="relu", output_activation="softmax",
              dtype=dtype, random_state=0)
    rows = 2 * inference.PARALLEL_BLOCKS * inference._plan(net).block_rows + 37
    X = np.random.default_rng(1).standard_normal((rows, 64)).astype(dtype)
    return net, X


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rows_split_over_the_cores_give_the_one_part_answer(monkeypatch, dtype):
    """Each core's part of a large pass gives its rows' outputs exactly as one part does
    (each product on one BLAS thread either way), and the reference's to rounding."""
    net, X = _parallel_net(dtype)
    monkeypatch.setattr(inference, "cores", lambda: 2)
    split = inference.forward(net, X)
    monkeypatch.setattr(inference, "cores", lambda: 1)
    with inference.limit_blas(1):
        whole = inference.forward(net, X)
    np.testing.assert_array_equal(split, whole)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(split, Network._forward_checked(net, X, "X"), atol=tol)


def test_a_non_finite_row_in_any_part_gives_the_reference_error(monkeypatch):
    net, X = _parallel_net()
    monkeypatch.setattr(inference, "cores", lambda: 2)
    X[-1, 3] = np.nan                                       # in the second part
    with pytest.raises(ValueError, match="NaN|finite"):
        inference.forward(net, X)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_predicts_on_threads_of_its_own(monkeypatch):
    """The parts' threads do not survive a fork: a child that predicts after its parent did
    makes its own instead of waiting forever for the parent's."""
    net, X = _parallel_net()
    monkeypatch.setattr(inference, "cores", lambda: 2)
    expected = inference.forward(net, X)                # the parent's threads now exist
    pid = os.fork()
    if pid == 0:                                        # the child: exit 0 if it matches
        ok = False
        try:
            ok = np.array_equal(inference.forward(net, X), expected)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's prediction hung")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0

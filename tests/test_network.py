"""MLP: shapes, single examples, parameters as views, dtype, determinism, bad arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet import MLP


def test_shapes_and_parameter_views(rng):
    net = MLP(4, [8, 6], 3, random_state=rng)
    assert [W.shape for W in net.weights] == [(4, 8), (8, 6), (6, 3)]
    assert [b.shape for b in net.biases] == [(8,), (6,), (3,)]
    assert net.num_parameters == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
    params = net.parameters()
    params[0][0, 0] = 42.0                      # views: writes reach the network
    assert net.flat_parameters[0] == 42.0
    assert net.forward(rng.random((5, 4))).shape == (5, 3)


@settings(max_examples=40, deadline=None)
@given(n_in=st.integers(1, 6), hidden=st.lists(st.integers(1, 8), max_size=3),
       n_out=st.integers(1, 5), n=st.integers(1, 9))
def test_output_shapes(n_in, hidden, n_out, n):
    net = MLP(n_in, hidden, n_out, random_state=0)
    X = np.random.default_rng(n).random((n, n_in))
    assert net.forward(X).shape == (n, n_out)
    assert net.forward(X[0]).shape == (n_out,)              # 1-D in, 1-D out
    np.testing.assert_allclose(net.forward(X[0]), net.forward(X)[0])


def test_scalar_in_scalar_out():
    net = MLP(1, [3], 1, random_state=0)
    y = net.forward(0.25)
    assert np.ndim(y) == 0
    assert y == pytest.approx(net.forward([[0.25]])[0, 0])


def test_float32_end_to_end(rng):
    net = MLP(3, [5], 2, dtype="float32", random_state=rng)
    assert net.flat_parameters.dtype == np.float32
    X = rng.random((4, 3))                      # float64 in, float32 out
    assert net.forward(X).dtype == np.float32
    _, grads = net.loss_and_gradients(X, rng.random((4, 2)))
    assert all(g.dtype == np.float32 for g in grads)


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (MLP(3, [4], 2, random_state=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)
    assert not np.array_equal(a.flat_parameters, c.flat_parameters)


def test_default_initializer_follows_activation():
    assert MLP(2, [3], 1, activation="relu").init == "he_uniform"
    assert MLP(2, [3], 1).init == "glorot_uniform"
    assert np.all(MLP(2, [3], 1, bias=True).biases[0] == 0)


def test_copy_is_independent(rng):
    net = MLP(2, [3], 1, random_state=rng)
    twin = net.copy()
    twin.weights[0][...] = 0
    assert not np.all(net.weights[0] == 0)


def test_loss_and_gradients_match_parameters(rng):
    net = MLP(3, [4], 2, bias=False, random_state=rng)
    loss, grads = net.loss_and_gradients(rng.random((6, 3)), rng.random((6, 2)))
    assert isinstance(loss, float)
    assert [g.shape for g in grads] == [p.shape for p in net.parameters()]


def test_repr_and_config():
    net = MLP(2, [5], 1, activation="relu", output_activation="identity")
    assert "MLP(2, [5], 1" in repr(net)
    assert MLP(**net.get_config()).get_config() == net.get_config()


@pytest.mark.parametrize("hidden, match", [
    ([0, 3], r"positive integers, got \[0, 3\]; try"),
    ([-1], "positive integers"),
    ([2.5], "positive integers"),
    (["4"], "positive integers"),
    ("5", "list of positive integers"),
])
def test_bad_hidden_layers(hidden, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MLP(2, hidden, 1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_inputs": 0}, ValueError, "num_inputs must be a positive integer"),
    ({"num_outputs": 1.5}, TypeError, "num_outputs must be a positive integer"),
    ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
    ({"output_activation": "nope"}, ValueError, "unknown activation 'nope'"),
    ({"init": "zeros"}, ValueError, "unknown init 'zeros'"),
    ({"dtype": "int32"}, ValueError, "float32' or 'float64"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"activation": "softmax"}, ValueError, "output activation"),
])
def test_bad_constructor_arguments(kwargs, error, match):
    args = {"num_inputs": 2, "hidden_layers": [3], "num_outputs": 1, **kwargs}
    with pytest.raises(error, match=match):
        MLP(**args)


@pytest.mark.parametrize("X, match", [
    (np.zeros((4, 3)), "3 feature"),
    (np.zeros(3), "1-D with 3 values"),
    (np.array([[np.nan, 1.0]]), "NaN or infinite"),
    (np.array([[np.inf, 1.0]]), "NaN or infinite"),
    (np.zeros((0, 2)), "empty"),
    ([[1.0, 2.0], [3.0]], "ragged"),
    ([["a", "b"]], "numbers"),
    (np.zeros((2, 2, 2)), "2-D"),
    ("hello", "string"),
])
def test_bad_inputs_are_explained(X, match):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises((ValueError, TypeError), match=match):
        net.forward(X)


def test_bad_targets_are_explained(rng):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="2 sample.* y has 3"):
        net.loss_and_gradients(rng.random((2, 2)), rng.random((3, 1)))
    with pytest.raises(ValueError, match="2 value"):
        net.loss_and_gradients(rng.random((2, 2)), rng.random((2, 2)))
    with pytest.raises(ValueError, match="unknown loss"):
        net.loss_and_gradients(rng.random((2, 2)), rng.random((2, 1)), loss="hinge")

"""Activations: values, derivatives (by central differences), stability, dtype, registry."""

import warnings

import numpy as np
import pytest

from numnet.activations import (
    ACTIVATIONS,
    BUILTIN,
    check_hidden,
    get_activation,
    sigmoid,
    sigmoid_derivative,
)

ELEMENTWISE = [n for n in ACTIVATIONS if n != "softmax"]
# the built-ins, as collected: activations registered by other tests or README examples
# are tested where they are registered
NAMES = [n for n in ACTIVATIONS if n in BUILTIN]


def numeric_backward(act, Z, dA, eps=1e-6):
    """sum(dA * f(Z)) differentiated by central differences, entry by entry."""
    dZ = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        dZ[idx] = (np.sum(dA * act.forward(Zp)) - np.sum(dA * act.forward(Zm))) / (2 * eps)
    return dZ


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name, rng):
    act = get_activation(name)
    Z = rng.normal(size=(4, 5)) * 2
    Z[np.abs(Z) < 1e-3] = 0.5            # keep kinks (relu, leaky_relu, elu) off 0
    dA = rng.normal(size=Z.shape)
    A = act.forward(Z)
    np.testing.assert_allclose(act.backward(Z, A, dA), numeric_backward(act, Z, dA),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_no_overflow_at_extremes(name):
    """No warning anywhere; finite wherever the exact value is within float64's range.

    Hidden activations grow at most linearly, so they are finite for any finite
    input (the network's overflow bound relies on it). An output-only one may
    not be: exp(1000) is beyond the float range and is inf, without a warning,
    for the network's output checks to catch; never NaN.
    """
    act = get_activation(name)
    Z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = act.forward(Z)
        dZ = act.backward(Z, A, np.ones_like(Z))
    assert not np.isnan(A).any() and not np.isnan(dZ).any()
    assert np.isfinite(A[:, 1:4]).all() and np.isfinite(dZ[:, 1:4]).all()   # |z| <= 50
    if not act.output_only:
        assert np.isfinite(A).all() and np.isfinite(dZ).all()
    elif name == "exp":
        assert A[0, 0] == 0.0 and A[0, -1] == np.inf


def test_output_only_activations_are_refused_in_hidden_layers():
    output_only = sorted(n for n in NAMES if ACTIVATIONS[n].output_only)
    assert output_only == ["exp", "softmax"]
    for name in output_only:
        with pytest.raises(ValueError, match=f"{name} is an output activation; use it as "
                                             f"output_activation"):
            check_hidden(ACTIVATIONS[name])
    for name in set(NAMES) - set(output_only):
        assert check_hidden(ACTIVATIONS[name]) is ACTIVATIONS[name]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_is_kept(name, rng):
    act = get_activation(name)
    Z = rng.normal(size=(3, 4)).astype(np.float32)
    A = act.forward(Z)
    assert A.dtype == np.float32
    assert act.backward(Z, A, np.ones_like(Z)).dtype == np.float32


def test_known_values():
    np.testing.assert_allclose(sigmoid(np.array([0.0, 1000.0, -1000.0])), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(sigmoid_derivative(np.array([0.5])), [0.25])   # y * (1 - y)
    Z = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(get_activation("softmax").forward(Z).sum(), 1.0)
    np.testing.assert_allclose(get_activation("softplus").forward(np.array([0.0])), [np.log(2)])
    np.testing.assert_allclose(get_activation("leaky_relu").forward(np.array([-2.0, 3.0])),
                               [-0.02, 3.0])
    np.testing.assert_allclose(get_activation("elu").forward(np.array([-1.0])), [np.exp(-1) - 1])


def test_softmax_is_shift_invariant_and_stable():
    sm = get_activation("softmax").forward
    Z = np.array([[1000.0, 1001.0, 1002.0]])
    np.testing.assert_allclose(sm(Z), sm(Z - 1000.0))


def test_aliases_and_unknown_names():
    assert get_activation("linear").name == "identity"
    assert get_activation("LOGISTIC").name == "sigmoid"
    with pytest.raises(ValueError, match="unknown activation 'swish'.*sigmoid"):
        get_activation("swish")
    with pytest.raises(TypeError, match="activation must be a name"):
        get_activation(3)

"""A 2-2-1 sigmoid network, forward and backward worked out by hand."""

import numpy as np
import pytest

from numnet import MLP


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_two_two_one_by_hand():
    net = MLP(2, [2], 1, bias=True, random_state=0)
    W0, b0, W1, b1 = net.parameters()
    W0[...] = [[0.1, 0.2], [0.3, 0.4]]
    b0[...] = [0.5, -0.5]
    W1[...] = [[0.6], [-0.7]]
    b1[...] = [0.2]
    x, t = np.array([[1.0, 2.0]]), np.array([[0.25]])

    # forward, by hand
    z1 = [1 * 0.1 + 2 * 0.3 + 0.5, 1 * 0.2 + 2 * 0.4 - 0.5]        # [1.2, 0.5]
    assert z1 == pytest.approx([1.2, 0.5])
    a1 = [sig(z1[0]), sig(z1[1])]                                 # [0.76852478, 0.62245933]
    z2 = a1[0] * 0.6 + a1[1] * -0.7 + 0.2
    a2 = sig(z2)
    assert net.forward(x)[0, 0] == pytest.approx(a2, rel=1e-12)
    assert a2 == pytest.approx(0.5561110, rel=1e-6)

    # backward for L = (a2 - t)^2 (mse of one output)
    d2 = 2 * (a2 - 0.25) * a2 * (1 - a2)                          # dL/dz2
    dW1 = [[a1[0] * d2], [a1[1] * d2]]
    db1 = [d2]
    d1 = [0.6 * d2 * a1[0] * (1 - a1[0]), -0.7 * d2 * a1[1] * (1 - a1[1])]
    dW0 = [[1 * d1[0], 1 * d1[1]], [2 * d1[0], 2 * d1[1]]]        # input x times delta
    db0 = d1
    loss, (gW0, gb0, gW1, gb1) = net.loss_and_gradients(x, t, "mse")
    assert loss == pytest.approx((a2 - 0.25) ** 2, rel=1e-12)
    np.testing.assert_allclose(gW1, dW1, rtol=1e-12)
    np.testing.assert_allclose(gb1, db1, rtol=1e-12)
    np.testing.assert_allclose(gW0, dW0, rtol=1e-12)
    np.testing.assert_allclose(gb0, db0, rtol=1e-12)
    assert d2 == pytest.approx(0.1511279, rel=1e-6)


def test_one_sgd_step_by_hand():
    """One tutorial step, W += dW * lr with dW = -dE/dW, E = 0.5 (t - o)^2."""
    net = MLP(1, [], 1, bias=False, random_state=0)
    net.weights[0][...] = 0.5
    o = net.forward_propagate([2.0])                # sig(1.0)
    assert o[0] == pytest.approx(sig(1.0))
    net.back_propagate([1.0] - o)
    net.gradient_descent(0.1)
    expected = 0.5 + 0.1 * (1.0 - sig(1.0)) * sig(1.0) * (1 - sig(1.0)) * 2.0
    assert net.weights[0][0, 0] == pytest.approx(expected, rel=1e-12)

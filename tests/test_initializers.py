"""Initializers: ranges and variances as documented, seeds, dtype, defaults."""

import numpy as np
import pytest

from numnet.initializers import INITIALIZERS, check_random_state, default_for, get_initializer

FAN_IN, FAN_OUT = 400, 300          # 120,000 draws: sample variances within ~1% of the truth


@pytest.mark.parametrize("name, low, high, variance", [
    ("uniform", 0.0, 1.0, 1 / 12),                                   # the tutorial's rand()
    ("uniform_symmetric", -1.0, 1.0, 1 / 3),
    ("glorot_uniform", -np.sqrt(6 / 700), np.sqrt(6 / 700), 2 / 700),
    ("he_uniform", -np.sqrt(6 / 400), np.sqrt(6 / 400), 2 / 400),
    ("glorot_normal", -np.inf, np.inf, 2 / 700),
    ("he_normal", -np.inf, np.inf, 2 / 400),
])
def test_range_and_variance(name, low, high, variance):
    W = get_initializer(name)(FAN_IN, FAN_OUT, np.random.default_rng(0), np.float64)
    assert W.shape == (FAN_IN, FAN_OUT)
    assert W.min() >= low and W.max() < high
    assert W.var() == pytest.approx(variance, rel=0.03)


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_seed_and_dtype(name):
    init = get_initializer(name)
    a = init(3, 4, np.random.default_rng(5), np.float32)
    b = init(3, 4, np.random.default_rng(5), np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_defaults_and_names():
    assert default_for("relu") == default_for("elu") == "he_uniform"
    assert default_for("sigmoid") == default_for("tanh") == "glorot_uniform"
    assert get_initializer("Xavier") is get_initializer("glorot_uniform")
    assert get_initializer("uniform(-1, 1)") is get_initializer("uniform_symmetric")
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        get_initializer("zeros")


def test_check_random_state():
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    assert check_random_state(3).random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="non-negative"):
        check_random_state(-1)
    with pytest.raises(TypeError, match="random_state"):
        check_random_state(True)

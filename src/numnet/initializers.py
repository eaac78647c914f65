"""Weight initializers: ``init(fan_in, fan_out, rng, dtype) -> W of shape (fan_in, fan_out)``.

``uniform`` is the tutorial's ``np.random.rand``: uniform on [0, 1), which
works for the tiny sigmoid nets of the tutorial and saturates larger ones.
Glorot (Xavier) keeps the variance of sigmoid/tanh layers steady; He does the
same for the ReLU family. :func:`default_for` picks one from the activation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .validation import check_name

__all__ = ["INITIALIZERS", "get_initializer", "default_for", "weight_std", "RELU_FAMILY",
           "check_random_state"]

Initializer = Callable[[int, int, np.random.Generator, np.dtype], np.ndarray]


def check_random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``random_state`` (None, an int seed or a Generator) into a Generator, once.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        A non-negative seed (a new generator), a Generator (returned as it
        is, not copied), or None (a generator seeded from fresh entropy).

    Returns
    -------
    numpy.random.Generator
        The generator to draw from.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, a non-negative int or a numpy.random.Generator, "
        f"got {type(random_state).__name__}: {random_state!r}"
    )


def uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """The tutorial's weights: uniform on [0, 1)."""
    return rng.random((fan_in, fan_out)).astype(dtype, copy=False)


def uniform_symmetric(fan_in: int, fan_out: int, rng: np.random.Generator,
                      dtype: np.dtype) -> np.ndarray:
    """Uniform on [-1, 1)."""
    return rng.uniform(-1.0, 1.0, (fan_in, fan_out)).astype(dtype, copy=False)


def weight_std(name: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation of the weights a Glorot or He initializer draws.

    Parameters
    ----------
    name : str
        ``"glorot_uniform"``, ``"glorot_normal"``, ``"he_uniform"`` or ``"he_normal"``.
    fan_in, fan_out : int
        The layer's inputs and outputs.

    Returns
    -------
    float
        ``sqrt(2 / fan_in)`` for He, ``sqrt(2 / (fan_in + fan_out))`` for Glorot
        (uniform and normal draws alike).
    """
    return math.sqrt(2.0 / fan_in) if name.startswith("he") else \
        math.sqrt(2.0 / (fan_in + fan_out))


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator,
                   dtype: np.dtype) -> np.ndarray:
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)): Var = 2 / (fan_in + fan_out)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype, copy=False)


def glorot_normal(fan_in: int, fan_out: int, rng: np.random.Generator,
                  dtype: np.dtype) -> np.ndarray:
    """N(0, 2 / (fan_in + fan_out))."""
    std = weight_std("glorot_normal", fan_in, fan_out)
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype, copy=False)


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """U(-l, l) with l = sqrt(6 / fan_in): Var = 2 / fan_in, for ReLU layers."""
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype, copy=False)


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """N(0, 2 / fan_in), for ReLU layers."""
    std = weight_std("he_normal", fan_in, fan_out)
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype, copy=False)


INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "uniform_symmetric": uniform_symmetric,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}
_ALIASES = {"uniform(-1, 1)": "uniform_symmetric", "uniform(-1,1)": "uniform_symmetric",
            "glorot": "glorot_uniform", "xavier": "glorot_uniform", "he": "he_uniform"}

# The hidden activations He initialisation is for, whose gradients do not vanish through
# many layers.
RELU_FAMILY = {"relu", "leaky_relu", "elu"}


def default_for(activation: str) -> str:
    """He for the ReLU family, Glorot for everything else.

    Parameters
    ----------
    activation : str
        An activation's name, e.g. ``"relu"``.

    Returns
    -------
    str
        ``"he_uniform"`` for relu, leaky_relu and elu; else ``"glorot_uniform"``.
    """
    return "he_uniform" if activation in RELU_FAMILY else "glorot_uniform"


def get_initializer(name: str) -> Initializer:
    """Look an initializer up by name (``"glorot"``, ``"he"``, ``"uniform(-1, 1)"`` are aliases).

    Parameters
    ----------
    name : str
        A key of :data:`INITIALIZERS`, or an alias.

    Returns
    -------
    callable
        ``init(fan_in, fan_out, rng, dtype) -> W`` of shape ``(fan_in, fan_out)``.
    """
    return check_name(name, "init", INITIALIZERS, _ALIASES)

"""Each formula's other forms agree with its reference form.

An activation carries its NumPy pair, an in-place form (the buffered runner's)
and a scalar form (compiled into the kernels); an optimizer its NumPy step and
a KernelRule for one element. These tests hold the forms to each other in
plain Python, without numba; ``tests/test_engine.py`` holds the runners that
use them to the reference. Tolerances: the forms compute the same operations,
so float64 agrees to a few ulp (1e-12 relative with margin), float32 to 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet import optimizers
from numnet.activations import ACTIVATIONS, BUILTIN, Workspace
from numnet.losses import LOSSES

# the built-ins (activations registered elsewhere have no in-place or scalar forms)
BUILTINS = [a for a in ACTIVATIONS.values() if a.name in BUILTIN]
ELEMENTWISE = [a for a in BUILTINS if a.scalar is not None]
RTOL = {"float64": 1e-12, "float32": 1e-5}


def _inputs(dtype, shape=(4, 7)):
    rng = np.random.default_rng(0)
    Z = (rng.standard_normal(shape) * 4).astype(dtype)
    Z[0, :3] = [-1000.0, 1000.0, 0.25]              # saturation, no overflow warnings
    return Z


def _workspace(Z):
    return Workspace(np.empty_like(Z), np.empty_like(Z), np.empty(Z.shape, bool),
                     np.empty((Z.shape[0], 1), Z.dtype))


def test_every_hidden_activation_has_a_scalar_form():
    # the output-only ones have none: softmax is row-wise, and exp's would let the
    # compiled inference kernel return inf (it checks the weighted sums, not the outputs)
    assert {a.name for a in ELEMENTWISE} == {a.name for a in BUILTINS if not a.output_only}
    assert {a.name for a in BUILTINS if a.output_only} == {"softmax", "exp"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ELEMENTWISE, ids=lambda a: a.name)
def test_scalar_form_matches_the_pair(act, dtype):
    cast = np.dtype(dtype).type
    Z = _inputs(dtype)
    dA = np.random.default_rng(1).standard_normal(Z.shape).astype(dtype)
    with np.errstate(over="raise"):
        A = act.forward(Z)
        dZ = act.backward(Z, A, dA)
        a = np.array([act.scalar(z, cast) for z in Z.ravel()]).reshape(Z.shape)
        d = np.array([act.scalar_derivative(z, y, cast) for z, y in zip(Z.ravel(), A.ravel(),
                                                                       strict=True)])
    np.testing.assert_allclose(a, A, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(d.reshape(Z.shape) * dA, dZ, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", BUILTINS, ids=lambda a: a.name)
def test_in_place_form_matches_the_pair(act, dtype):
    Z = _inputs(dtype)
    dA = np.random.default_rng(1).standard_normal(Z.shape).astype(dtype)
    A, D = np.empty_like(Z), dA.copy()
    with np.errstate(over="raise"):
        act.forward_into(Z, A, _workspace(Z))
        act.backward_into(Z, A, D, _workspace(Z))
    assert A.dtype == D.dtype == Z.dtype
    np.testing.assert_allclose(A, act.forward(Z), rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(D, act.backward(Z, act.forward(Z), dA), rtol=RTOL[dtype],
                               atol=RTOL[dtype])


@pytest.mark.parametrize("name", ["mse", "binary_cross_entropy", "categorical_cross_entropy"])
def test_in_place_loss_forms_match_the_reference(name):
    loss = LOSSES[name]
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 3 if name != "binary_cross_entropy" else 1))
    output = {"mse": "sigmoid", "binary_cross_entropy": "sigmoid",
              "categorical_cross_entropy": "softmax"}[name]
    P = ACTIVATIONS[output].forward(Z)
    Y = np.eye(Z.shape[1])[rng.integers(0, Z.shape[1], 5)] if Z.shape[1] > 1 else \
        rng.integers(0, 2, Z.shape).astype(float)
    D = np.empty_like(Z)
    if loss.delta_into is not None:
        value = loss.delta_into(Z, P, Y, D, _workspace(Z))
        assert value == pytest.approx(loss.value_from_logits(Z, Y), rel=1e-12)
        np.testing.assert_allclose(D, loss.delta(P, Y), rtol=1e-12)
    else:
        value = loss.gradient_into(P, Y, D, _workspace(Z))
        assert value == pytest.approx(loss.value(P, Y), rel=1e-12)
        np.testing.assert_allclose(D, loss.gradient(P, Y), rtol=1e-12)


OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "momentum": lambda: optimizers.SGD(0.05, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01, weight_decay=0.01),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_kernel_rule_matches_the_numpy_step(kind, dtype):
    """Three steps of the rule, one element at a time, equal three ``step`` calls."""
    rng = np.random.default_rng(0)
    reference, compiled = OPTIMIZERS[kind](), OPTIMIZERS[kind]()
    p_ref = rng.standard_normal(6).astype(dtype)
    p = p_ref.copy()
    cast = np.dtype(dtype).type
    for _ in range(3):
        g = rng.standard_normal(6).astype(dtype)
        reference.step([p_ref], [g])
        spec = compiled.kernel_spec()
        state = compiled.state_vectors(p)
        s1, s2 = (*state, np.zeros_like(p), np.zeros_like(p))[:2]
        h = spec.rule.constants(spec.hyper, compiled.advance(), cast)
        assert len(h) == optimizers.base.RULE_CONSTANTS
        for q in range(p.size):
            p[q], s1[q], s2[q] = spec.rule.update(p[q], g[q], s1[q], s2[q], h)
    assert compiled.t == reference.t == 3
    np.testing.assert_allclose(p, p_ref, rtol=RTOL[dtype], atol=RTOL[dtype])
    for name, arrays in reference.state.items():
        np.testing.assert_allclose(compiled.state[name][0], arrays[0], rtol=RTOL[dtype],
                                   atol=RTOL[dtype])


def test_optimizers_without_a_compiled_form_say_so():
    assert optimizers.RMSprop().kernel_spec() is None
    assert optimizers.Adagrad().kernel_spec() is None

    class Clipped(optimizers.SGD):
        def _update(self, i, p, g, lr, scratch):
            super()._update(i, p, np.clip(g, -1.0, 1.0), lr, scratch)

    assert Clipped(0.1).kernel_spec() is None and Clipped(0.1).linear_rate() is None
    assert optimizers.SGD(0.1).linear_rate() == 0.1
    assert optimizers.SGD(0.1, momentum=0.9).linear_rate() is None


def test_compiled_kernels_are_keyed_on_the_formulas():
    """numba keys its disk cache on a kernel's closure: each holds the formulas' fingerprint."""
    kernels = pytest.importorskip("numnet.engine.kernels")
    from numnet.engine.kernels import formulas

    assert formulas.FINGERPRINT == formulas._fingerprint()
    for kernel in (kernels.train_examples, kernels.train_batches, kernels.optimizer_step,
                   kernels.bias_activate, kernels.output_delta, kernels.backprop_activation):
        cells = [c.cell_contents for c in kernel.py_func.__closure__]
        assert cells == [formulas.FINGERPRINT]

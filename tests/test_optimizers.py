"""Tests for numnet.optimizers: update rules, state, schedules, validation."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Constant,
    CosineDecay,
    ExponentialDecay,
    Optimizer,
    ReduceLROnPlateau,
    RMSprop,
    StepDecay,
    get_optimizer,
    get_schedule,
    optimizer_from_config,
    schedule_from_config,
)

# One factory per interesting configuration; used by several parametrized tests.
CONFIGS = {
    "sgd": lambda: SGD(0.1),
    "sgd_l2": lambda: SGD(0.1, weight_decay=0.05),
    "momentum": lambda: SGD(0.05, momentum=0.9),
    "momentum_l2": lambda: SGD(0.05, momentum=0.9, weight_decay=0.05),
    "nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "nesterov_l2": lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.05),
    "adam": lambda: Adam(0.01),
    "adam_l2": lambda: Adam(0.01, weight_decay=0.05),
    "adamw": lambda: AdamW(0.01, weight_decay=0.05),
    "rmsprop": lambda: RMSprop(0.01),
    "rmsprop_full": lambda: RMSprop(0.01, momentum=0.5, centered=True, weight_decay=0.05),
    "adagrad": lambda: Adagrad(0.1, initial_accumulator_value=0.1, weight_decay=0.05),
}
config_ids = pytest.mark.parametrize("make", list(CONFIGS.values()), ids=list(CONFIGS))


def random_params(rng, dtype=np.float64):
    return [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=4).astype(dtype),
            rng.normal(size=(1,)).astype(dtype)]


def random_grads(rng, params):
    return [rng.normal(size=p.shape).astype(p.dtype) for p in params]


def split_state(state):
    """(JSON-safe part, arrays) of a state_dict."""
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    rest = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    return rest, arrays


# --- convergence to the known minimum -----------------------------------------

def regression_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(64, 1))
    return X, y


def lstsq_solution(X, y, weight_decay=0.0):
    """Minimiser of mean((X W + b - y)^2) / 2 + weight_decay / 2 * (|W|^2 + b^2)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    if weight_decay == 0.0:
        theta = np.linalg.lstsq(A, y, rcond=None)[0]
    else:  # ridge: the fixed point of an L2 penalty added to the gradient of every param
        theta = np.linalg.solve(A.T @ A / len(X) + weight_decay * np.eye(4), A.T @ y / len(X))
    return theta[:3], theta[3:].ravel()


def run_regression(opt, steps=1500, epoch_len=100):
    X, y = regression_problem()
    W, b = np.zeros((3, 1)), np.zeros(1)
    for k in range(steps):
        if k % epoch_len == 0:
            opt.start_epoch(k // epoch_len)
        R = X @ W + b - y                                 # dL/dZ * n for L = mean(R^2) / 2
        opt.step([W, b], [X.T @ R / len(X), R.mean(axis=0)])
    return W, b


# Measured max |error| after 1500 full-batch steps: <= 4e-14 for every case below;
# RMSprop wobbles near an exact minimum (its denominator shrinks with the gradient):
# up to 2e-8 at neighbouring step counts. Tolerance 1e-6 leaves a wide margin.
CONVERGENCE_ATOL = 1e-6


@pytest.mark.parametrize("make, weight_decay", [
    (lambda: SGD(0.1), 0.0),
    (lambda: SGD(0.05, momentum=0.9), 0.0),
    (lambda: SGD(0.05, momentum=0.9, nesterov=True), 0.0),
    (lambda: Adam(0.05, schedule=ExponentialDecay(0.7)), 0.0),
    (lambda: AdamW(0.05, weight_decay=0.0, schedule=ExponentialDecay(0.7)), 0.0),
    (lambda: RMSprop(0.01, schedule=ExponentialDecay(0.7)), 0.0),
    (lambda: RMSprop(0.01, momentum=0.5, schedule=ExponentialDecay(0.7)), 0.0),
    (lambda: Adagrad(0.5), 0.0),
    (lambda: SGD(0.1, momentum=0.5, weight_decay=0.1), 0.1),
    (lambda: Adam(0.05, weight_decay=0.1, schedule=ExponentialDecay(0.7)), 0.1),
    (lambda: RMSprop(0.01, weight_decay=0.1, schedule=ExponentialDecay(0.7)), 0.1),
    (lambda: Adagrad(0.5, weight_decay=0.1), 0.1),
], ids=["sgd", "momentum", "nesterov", "adam", "adamw_no_decay", "rmsprop", "rmsprop_momentum",
        "adagrad", "sgd_ridge", "adam_ridge", "rmsprop_ridge", "adagrad_ridge"])
def test_reaches_least_squares_minimum(make, weight_decay):
    X, y = regression_problem()
    W_star, b_star = lstsq_solution(X, y, weight_decay)
    W, b = run_regression(make())
    np.testing.assert_allclose(W, W_star, rtol=0, atol=CONVERGENCE_ATOL)
    np.testing.assert_allclose(b, b_star, rtol=0, atol=CONVERGENCE_ATOL)


def test_adamw_decay_pulls_towards_zero():
    X, y = regression_problem()
    W_star, _ = lstsq_solution(X, y)
    W, _ = run_regression(AdamW(0.05, weight_decay=0.5, schedule=ExponentialDecay(0.7)))
    assert np.linalg.norm(W) < np.linalg.norm(W_star)


# --- the first two steps, by hand ---------------------------------------------
# p0 = [1, -2]; g1 = [0.5, 1]; g2 = [-0.5, 2]. Expected values written from the formulas.

P0 = [1.0, -2.0]
G1 = [0.5, 1.0]
G2 = [-0.5, 2.0]

# Adam, lr 0.1, betas 0.9/0.999, eps 1e-8:
# step 1: m = [0.05, 0.1], v = [0.00025, 0.001]; m_hat = g1 = [0.5, 1], v_hat = g1^2 = [0.25, 1]
# step 2: m = 0.9 m + 0.1 g2 = [-0.005, 0.29], v = 0.999 v + 0.001 g2^2 = [0.00049975, 0.004999]
#         m_hat = m / 0.19, v_hat = v / 0.001999 = [0.25, 0.004999 / 0.001999]
ADAM_STEP1 = np.array([0.1 * 0.5 / (0.5 + 1e-8), 0.1 * 1.0 / (1.0 + 1e-8)])
ADAM_STEP2 = 0.1 * np.array([-0.005 / 0.19, 0.29 / 0.19]) / (
    np.sqrt([0.25, 0.004999 / 0.001999]) + 1e-8)

HAND = {
    # p1 = p0 - 0.1 g1; p2 = p1 - 0.1 g2
    "sgd": (lambda: SGD(0.1), [0.95, -2.1], [1.0, -2.3]),
    # g' = g + 0.1 p: [0.6, 0.8] -> p1 = [0.94, -2.08]; [-0.406, 1.792] -> p2
    "sgd_l2": (lambda: SGD(0.1, weight_decay=0.1), [0.94, -2.08], [0.9806, -2.2592]),
    # v1 = g1, p1 = p0 - 0.1 v1; v2 = 0.9 v1 + g2 = [-0.05, 2.9], p2 = p1 - 0.1 v2
    "momentum": (lambda: SGD(0.1, momentum=0.9), [0.95, -2.1], [0.955, -2.39]),
    # d1 = g1 + 0.9 v1 = [0.95, 1.9]; d2 = g2 + 0.9 v2 = [-0.545, 4.61]
    "nesterov": (lambda: SGD(0.1, momentum=0.9, nesterov=True),
                 [0.905, -2.19], [0.9595, -2.651]),
    "adam": (lambda: Adam(0.1), np.array(P0) - ADAM_STEP1, np.array(P0) - ADAM_STEP1 - ADAM_STEP2),
    # AdamW: p *= 1 - 0.1 * 0.1 before the same Adam step
    "adamw": (lambda: AdamW(0.1, weight_decay=0.1),
              0.99 * np.array(P0) - ADAM_STEP1,
              0.99 * (0.99 * np.array(P0) - ADAM_STEP1) - ADAM_STEP2),
    # rho 0.9: sq1 = 0.1 g1^2 = [0.025, 0.1]; sq2 = 0.9 sq1 + 0.1 g2^2 = [0.0475, 0.49]
    "rmsprop": (lambda: RMSprop(0.01, rho=0.9),
                [1.0 - 0.01 * 0.5 / (math.sqrt(0.025) + 1e-8),
                 -2.0 - 0.01 * 1.0 / (math.sqrt(0.1) + 1e-8)],
                [1.0 - 0.01 * 0.5 / (math.sqrt(0.025) + 1e-8)
                 + 0.01 * 0.5 / (math.sqrt(0.0475) + 1e-8),
                 -2.0 - 0.01 * 1.0 / (math.sqrt(0.1) + 1e-8) - 0.01 * 2.0 / (0.7 + 1e-8)]),
    # acc0 = 0.1: acc1 = [0.35, 1.1], acc2 = [0.6, 5.1]
    "adagrad": (lambda: Adagrad(0.1, initial_accumulator_value=0.1),
                [1.0 - 0.1 * 0.5 / (math.sqrt(0.35) + 1e-10),
                 -2.0 - 0.1 * 1.0 / (math.sqrt(1.1) + 1e-10)],
                [1.0 - 0.1 * 0.5 / (math.sqrt(0.35) + 1e-10)
                 + 0.1 * 0.5 / (math.sqrt(0.6) + 1e-10),
                 -2.0 - 0.1 * 1.0 / (math.sqrt(1.1) + 1e-10)
                 - 0.1 * 2.0 / (math.sqrt(5.1) + 1e-10)]),
}


@pytest.mark.parametrize("make, expected1, expected2", list(HAND.values()), ids=list(HAND))
def test_first_two_steps_by_hand(make, expected1, expected2):
    opt = make()
    p = np.array(P0)
    opt.step([p], [np.array(G1)])
    np.testing.assert_allclose(p, expected1, rtol=1e-12, atol=1e-15)
    opt.step([p], [np.array(G2)])
    np.testing.assert_allclose(p, expected2, rtol=1e-12, atol=1e-15)
    assert opt.t == 2


def test_adam_state_after_two_steps_by_hand():
    opt = Adam(0.1)
    p = np.array(P0)
    opt.step([p], [np.array(G1)])
    opt.step([p], [np.array(G2)])
    np.testing.assert_allclose(opt.m[0], [-0.005, 0.29], rtol=1e-12)
    np.testing.assert_allclose(opt.v[0], [0.00049975, 0.004999], rtol=1e-12)


# --- against straightforward reference implementations -----------------------

def reference_sgd(params, grad_seq, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    params = [p.copy() for p in params]
    velocity = [np.zeros_like(p) for p in params]
    for grads in grad_seq:
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + weight_decay * p
            if momentum:
                velocity[i] = momentum * velocity[i] + g
                g = g + momentum * velocity[i] if nesterov else velocity[i]
            params[i] = p - lr * g
    return params


def reference_adam(params, grad_seq, lr, beta_1, beta_2, epsilon, weight_decay=0.0,
                   decoupled=False):
    """Kingma & Ba, Algorithm 1 (plus PyTorch's L2 / AdamW decay)."""
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(grad_seq, start=1):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if decoupled:
                p = p - lr * weight_decay * p
            else:
                g = g + weight_decay * p
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g ** 2
            m_hat = m[i] / (1 - beta_1 ** t)
            v_hat = v[i] / (1 - beta_2 ** t)
            params[i] = p - lr * m_hat / (np.sqrt(v_hat) + epsilon)
    return params


def reference_rmsprop(params, grad_seq, lr, rho, epsilon, momentum=0.0, centered=False):
    params = [p.copy() for p in params]
    sq = [np.zeros_like(p) for p in params]
    ga = [np.zeros_like(p) for p in params]
    buf = [np.zeros_like(p) for p in params]
    for grads in grad_seq:
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            sq[i] = rho * sq[i] + (1 - rho) * g ** 2
            if centered:
                ga[i] = rho * ga[i] + (1 - rho) * g
                avg = np.sqrt(sq[i] - ga[i] ** 2) + epsilon
            else:
                avg = np.sqrt(sq[i]) + epsilon
            if momentum:
                buf[i] = momentum * buf[i] + g / avg
                params[i] = p - lr * buf[i]
            else:
                params[i] = p - lr * g / avg
    return params


def reference_adagrad(params, grad_seq, lr, epsilon, initial):
    params = [p.copy() for p in params]
    acc = [np.full_like(p, initial) for p in params]
    for grads in grad_seq:
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            acc[i] = acc[i] + g ** 2
            params[i] = p - lr * g / (np.sqrt(acc[i]) + epsilon)
    return params


REFERENCES = {
    "sgd": (lambda: SGD(0.05), lambda p, gs: reference_sgd(p, gs, 0.05)),
    "momentum": (lambda: SGD(0.05, momentum=0.9),
                 lambda p, gs: reference_sgd(p, gs, 0.05, momentum=0.9)),
    "nesterov": (lambda: SGD(0.05, momentum=0.9, nesterov=True),
                 lambda p, gs: reference_sgd(p, gs, 0.05, momentum=0.9, nesterov=True)),
    "nesterov_l2": (lambda: SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
                    lambda p, gs: reference_sgd(p, gs, 0.05, 0.8, True, 0.1)),
    "adam": (lambda: Adam(0.01),
             lambda p, gs: reference_adam(p, gs, 0.01, 0.9, 0.999, 1e-8)),
    "adam_betas": (lambda: Adam(0.02, beta_1=0.5, beta_2=0.9, epsilon=1e-6),
                   lambda p, gs: reference_adam(p, gs, 0.02, 0.5, 0.9, 1e-6)),
    "adam_l2": (lambda: Adam(0.01, weight_decay=0.1),
                lambda p, gs: reference_adam(p, gs, 0.01, 0.9, 0.999, 1e-8, 0.1)),
    "adamw": (lambda: AdamW(0.01, weight_decay=0.1),
              lambda p, gs: reference_adam(p, gs, 0.01, 0.9, 0.999, 1e-8, 0.1, decoupled=True)),
    "rmsprop": (lambda: RMSprop(0.01),
                lambda p, gs: reference_rmsprop(p, gs, 0.01, 0.99, 1e-8)),
    "rmsprop_full": (lambda: RMSprop(0.01, rho=0.9, momentum=0.5, centered=True),
                     lambda p, gs: reference_rmsprop(p, gs, 0.01, 0.9, 1e-8, 0.5, True)),
    "adagrad": (lambda: Adagrad(0.1, initial_accumulator_value=0.1),
                lambda p, gs: reference_adagrad(p, gs, 0.1, 1e-10, 0.1)),
}


@pytest.mark.parametrize("make, reference", list(REFERENCES.values()), ids=list(REFERENCES))
def test_matches_reference_over_ten_steps(make, reference):
    rng = np.random.default_rng(1)
    params = random_params(rng)
    # gradients on different scales, so that epsilon and the averages matter
    grad_seq = [[g * 10.0 ** rng.integers(-3, 2) for g in random_grads(rng, params)]
                for _ in range(10)]
    expected = reference(params, grad_seq)
    opt = make()
    for grads in grad_seq:
        opt.step(params, grads)
    for p, e in zip(params, expected, strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make, torch_make", [
    (lambda: SGD(0.1, momentum=0.9, weight_decay=0.01),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    (lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (lambda: Adam(0.01, weight_decay=0.1),
     lambda t, p: t.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    (lambda: AdamW(0.01, weight_decay=0.1),
     lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    (lambda: RMSprop(0.01),
     lambda t, p: t.optim.RMSprop(p, lr=0.01)),
    (lambda: RMSprop(0.01, momentum=0.5, centered=True, weight_decay=0.1),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    (lambda: Adagrad(0.1, initial_accumulator_value=0.1, weight_decay=0.1),
     lambda t, p: t.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, weight_decay=0.1)),
], ids=["sgd", "nesterov", "adam", "adamw", "rmsprop", "rmsprop_full", "adagrad"])
def test_matches_torch(make, torch_make):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    params = random_params(rng)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt, topt = make(), torch_make(torch, tparams)
    for _ in range(20):
        grads = random_grads(rng, params)
        opt.step(params, grads)
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


# --- dtype, shapes, in-place ----------------------------------------------------

@config_ids
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_stays_float32(make, grad_dtype):
    rng = np.random.default_rng(3)
    params32 = random_params(rng, np.float32)
    params64 = [p.astype(np.float64) for p in params32]
    opt32, opt64 = make(), make()
    for _ in range(5):
        grads = random_grads(rng, params64)
        opt32.step(params32, [g.astype(grad_dtype) for g in grads])
        opt64.step(params64, [g.astype(np.float32).astype(np.float64) for g in grads])
    assert all(p.dtype == np.float32 for p in params32)
    for arrays in opt32.state.values():
        assert all(a.dtype == np.float32 for a in arrays)
    _, saved = split_state(opt32.state_dict())
    assert all(a.dtype == np.float32 for a in saved.values())
    for p32, p64 in zip(params32, params64, strict=True):  # same maths, float32 rounding
        np.testing.assert_allclose(p32, p64, rtol=1e-4, atol=1e-5)


@config_ids
def test_several_shapes_equal_one_flat_array_and_separate_optimizers(make):
    rng = np.random.default_rng(4)
    params = random_params(rng)
    flat = np.concatenate([p.ravel() for p in params])
    separate = [p.copy() for p in params]
    opt_list, opt_flat = make(), make()
    opt_each = [make() for _ in params]
    for _ in range(6):
        grads = random_grads(rng, params)
        opt_list.step(params, grads)
        opt_flat.step([flat], [np.concatenate([g.ravel() for g in grads])])
        for o, p, g in zip(opt_each, separate, grads, strict=True):
            o.step([p], [g])
    # the rules are elementwise, so the three ways agree bit for bit
    assert np.array_equal(flat, np.concatenate([p.ravel() for p in params]))
    for p, s in zip(params, separate, strict=True):
        assert np.array_equal(p, s)
    for arrays in opt_list.state.values():
        assert [a.shape for a in arrays] == [(3, 4), (4,), (1,)]


@config_ids
def test_updates_in_place_and_leaves_grads_alone(make):
    rng = np.random.default_rng(5)
    buffer = rng.normal(size=16)
    W, b = buffer[:12].reshape(3, 4), buffer[12:]           # views, like MLP.parameters()
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    grads_before = [g.copy() for g in grads]
    buffer_before = buffer.copy()
    make().step([W, b], grads)
    assert not np.array_equal(buffer, buffer_before)
    assert np.array_equal(buffer[:12].reshape(3, 4), W)
    for g, g0 in zip(grads, grads_before, strict=True):
        assert np.array_equal(g, g0)


@config_ids
def test_no_param_sized_allocations_per_step(make):
    rng = np.random.default_rng(6)
    n = 1 << 18                                             # 2 MiB of float64
    params, grads = [rng.normal(size=n)], [rng.normal(size=n)]
    opt = make()
    opt.step(params, grads)                                 # state and scratch are made here
    tracemalloc.start()
    try:
        for _ in range(3):
            opt.step(params, grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * 8 // 8, f"step allocated {peak} bytes at peak"


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
                       min_size=1, max_size=4),
       name=st.sampled_from(sorted(CONFIGS)), steps=st.integers(1, 4))
def test_state_matches_param_shapes(shapes, name, steps):
    rng = np.random.default_rng(7)
    params = [rng.normal(size=s) for s in shapes]
    opt = CONFIGS[name]()
    for _ in range(steps):
        opt.step(params, random_grads(rng, params))
    assert opt.t == steps
    for arrays in opt.state.values():
        assert [a.shape for a in arrays] == [p.shape for p in params]
    assert all(np.isfinite(p).all() for p in params)


# --- state_dict round trips -------------------------------------------------------

SCHEDULED = {
    **CONFIGS,
    "sgd_step": lambda: SGD(0.1, momentum=0.9, schedule=StepDecay(2, gamma=0.5)),
    "adam_cosine": lambda: Adam(0.01, schedule=CosineDecay(6, min_lr=1e-4)),
    "rmsprop_plateau": lambda: RMSprop(0.01, schedule=ReduceLROnPlateau(0.5, patience=1)),
    # the rate is 0 from epoch 2 on, so the state is saved with learning_rate == 0.0
    "sgd_cosine_to_zero": lambda: SGD(0.1, momentum=0.9, schedule=CosineDecay(2)),
}


@pytest.mark.parametrize("make", list(SCHEDULED.values()), ids=list(SCHEDULED))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_dict_round_trip_continues_bit_identically(make, dtype):
    rng = np.random.default_rng(8)
    params = random_params(rng, dtype)
    grad_seq = [random_grads(rng, params) for _ in range(12)]
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5]

    def run(opt, params, epochs):
        for epoch in epochs:
            opt.start_epoch(epoch)
            for grads in grad_seq[2 * epoch:2 * epoch + 2]:
                opt.step(params, grads)
            opt.end_epoch(epoch, metrics[epoch])

    straight, params_straight = make(), [p.copy() for p in params]
    run(straight, params_straight, range(6))

    first = make()
    run(first, params, range(3))
    scalars, arrays = split_state(first.state_dict())
    scalars = json.loads(json.dumps(scalars, allow_nan=False))   # through a JSON file
    resumed = type(first)()                                      # defaults: all comes from state
    resumed.load_state_dict({**scalars, **arrays})
    assert resumed.get_config() == first.get_config()
    assert resumed.t == first.t and resumed.learning_rate == first.learning_rate
    run(resumed, params, range(3, 6))

    for p, q in zip(params, params_straight, strict=True):
        assert p.dtype == dtype
        assert np.array_equal(p, q)
    assert resumed.learning_rate == straight.learning_rate
    assert resumed.state_dict().keys() == straight.state_dict().keys()


def test_state_dict_layout():
    opt = Adam(0.01, schedule=ReduceLROnPlateau())
    rng = np.random.default_rng(9)
    params = random_params(rng)
    opt.step(params, random_grads(rng, params))
    state = opt.state_dict()
    scalars, arrays = split_state(state)
    assert sorted(arrays) == ["m.0", "m.1", "m.2", "v.0", "v.1", "v.2"]
    assert scalars["type"] == "Adam" and scalars["t"] == 1
    assert scalars["beta_1"] == 0.9 and scalars["initial_learning_rate"] == 0.01
    assert scalars["schedule"]["type"] == "ReduceLROnPlateau"
    assert scalars["schedule_state"] == {"best": None, "wait": 0, "num_reductions": 0}
    json.dumps(scalars, allow_nan=False)
    arrays["m.0"][...] = 0.0                                   # a copy, not the live state
    assert not np.array_equal(opt.m[0], arrays["m.0"])
    assert SGD().state_dict()["t"] == 0 and "velocity.0" not in SGD(momentum=0.9).state_dict()


def _stepped_adam_state():
    opt = Adam()
    opt.step([np.zeros((2, 3)), np.zeros(3)], [np.ones((2, 3)), np.ones(3)])
    return opt.state_dict()


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.update(type="SGD"), "SGD"),
    (lambda s: s.pop("beta_1"), "beta_1"),
    (lambda s: s.pop("v.1"), "indices"),
    (lambda s: [s.pop("v.0"), s.pop("v.1")], "none for"),
    (lambda s: s.update({"v.1": np.zeros(4)}), "shape"),
    (lambda s: s.update({"velocity.0": np.zeros(3)}), "velocity.0"),
    (lambda s: s.update(beta_1=1.5), "beta_1"),
    (lambda s: s.update(t=-1), "t must"),
])
def test_load_state_dict_rejects_bad_state(edit, match):
    state = _stepped_adam_state()
    edit(state)
    opt = Adam()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(state)
    assert opt.t == 0 and not opt.state                        # left untouched


def test_loaded_state_must_fit_the_params():
    opt = Adam()
    opt.load_state_dict(_stepped_adam_state())
    with pytest.raises(ValueError, match=r"shape \(3, 3\).*\(2, 3\)"):
        opt.step([np.zeros((3, 3)), np.zeros(3)], [np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="holds 2 parameter"):
        opt.step([np.zeros((2, 3))], [np.zeros((2, 3))])


def test_config_round_trip():
    for make in SCHEDULED.values():
        opt = make()
        config = json.loads(json.dumps(opt.get_config()))
        rebuilt = optimizer_from_config(config)
        assert type(rebuilt) is type(opt) and rebuilt.get_config() == opt.get_config()
        assert repr(rebuilt) == repr(opt)
        assert get_optimizer(config).get_config() == opt.get_config()


# --- epochs, schedules ------------------------------------------------------------

def test_schedule_values_by_hand():
    step = StepDecay(step_size=3, gamma=0.5)
    assert [step.lr_at(e, 0.8) for e in (0, 1, 2, 3, 5, 6, 9)] == [
        0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.1]
    expo = ExponentialDecay(0.5)
    assert [expo.lr_at(e, 1.0) for e in (0, 1, 2, 10)] == [1.0, 0.5, 0.25, 1 / 1024]
    cosine = CosineDecay(total_epochs=4, min_lr=0.1)
    # min + (1.1 - min) (1 + cos(pi e / 4)) / 2, cos(pi / 4) = 0.70710678...
    np.testing.assert_allclose(
        [cosine.lr_at(e, 1.1) for e in range(7)],
        [1.1, 0.1 + (1 + 0.7071067811865476) / 2, 0.6, 0.1 + (1 - 0.7071067811865476) / 2,
         0.1, 0.1, 0.1], rtol=1e-14)
    assert [Constant().lr_at(e, 0.3) for e in (0, 7, 1000)] == [0.3, 0.3, 0.3]
    assert CosineDecay(10).lr_at(10, 1.0) == 0.0


def test_optimizer_applies_schedule_each_epoch():
    opt = SGD(1.0, schedule=StepDecay(2, gamma=0.5))
    p = np.zeros(1)
    for epoch, expected_lr in enumerate([1.0, 1.0, 0.5, 0.5, 0.25]):
        opt.start_epoch(epoch)
        assert opt.learning_rate == expected_lr
        before = p.copy()
        opt.step([p], [np.ones(1)])
        assert p[0] == before[0] - expected_lr             # the step uses the current rate
        opt.end_epoch(epoch, 0.0)                          # no-op for a stateless schedule
        assert opt.learning_rate == expected_lr
    assert opt.initial_learning_rate == 1.0


def test_no_schedule_keeps_learning_rate():
    opt = Adam(0.02)
    opt.start_epoch(5)
    opt.end_epoch(5, 1.0)
    opt.end_epoch(6, None)
    assert opt.learning_rate == 0.02 and opt.schedule is None


PLATEAU_METRICS = [1.0, 0.995, 0.9, float("nan"), 0.895, 0.95, 0.95, 0.8, 0.81, 0.81, 0.81, 0.81]
# factor 0.5, patience 2, min_delta 0.01, min_lr 0.2, from 1.0:
# 0.995 is not 0.01 better than 1.0; NaN never improves; reductions at epochs 4, 6, 9, 11
# (the last two floored at 0.2).
PLATEAU_LRS = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2]


def test_reduce_on_plateau_by_hand():
    opt = SGD(1.0, schedule=ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.01,
                                                min_lr=0.2))
    lrs = []
    for epoch, metric in enumerate(PLATEAU_METRICS):
        opt.start_epoch(epoch)
        opt.end_epoch(epoch, metric)
        lrs.append(opt.learning_rate)
        opt.start_epoch(epoch + 1)                          # start_epoch keeps the reduction
        assert opt.learning_rate == lrs[-1]
    assert lrs == PLATEAU_LRS
    assert opt.schedule.num_reductions == 4 and opt.schedule.best == 0.8


def test_reduce_on_plateau_details():
    sched = ReduceLROnPlateau(factor=0.5, patience=0)
    assert sched.update(float("nan")) is True               # first metric NaN: no best yet
    assert sched.best is None and sched.lr_at(0, 1.0) == 0.5
    assert sched.update(3.0) is False and sched.best == 3.0
    assert sched.update(3.0) is True and sched.lr_at(0, 1.0) == 0.25
    high = ReduceLROnPlateau(factor=0.5, patience=1, mode="max")
    assert [high.update(m) for m in (0.5, 0.7, 0.6, 0.9)] == [False, False, True, False]
    below = ReduceLROnPlateau(factor=0.5, patience=0, min_lr=0.5)
    below.update(1.0), below.update(1.0)
    assert below.lr_at(0, 0.1) == 0.1                        # never raises a rate to min_lr
    lr = below.lr_at(3, 1.0)
    assert below.lr_at(3, 1.0) == lr                         # lr_at is pure
    with pytest.raises(ValueError, match="metric"):
        SGD(schedule=ReduceLROnPlateau()).end_epoch(0, None)
    with pytest.raises(TypeError, match="metric"):
        sched.update("low")


def test_reduce_on_plateau_state_round_trip():
    def make():
        return ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.01, min_lr=0.2)

    straight, first = make(), make()
    for m in PLATEAU_METRICS:
        straight.update(m)
    for m in PLATEAU_METRICS[:6]:
        first.update(m)
    state = json.loads(json.dumps(first.state_dict(), allow_nan=False))
    assert state == {"best": 0.9, "wait": 1, "num_reductions": 1}
    resumed = make()
    resumed.load_state_dict(state)
    for m in PLATEAU_METRICS[6:]:
        resumed.update(m)
    assert resumed.state_dict() == straight.state_dict()
    assert resumed == straight
    with pytest.raises(ValueError, match="missing"):
        make().load_state_dict({"best": 1.0})
    with pytest.raises(ValueError, match="stateless"):
        StepDecay(2).load_state_dict({"wait": 1})


def test_get_schedule():
    assert isinstance(get_schedule("STEP", step_size=3), StepDecay)
    assert get_schedule("cosine", total_epochs=5, min_lr=0.1).get_config() == {
        "type": "CosineDecay", "total_epochs": 5, "min_lr": 0.1}
    for name in SCHEDULES:
        assert name in ("constant", "step", "exponential", "cosine", "plateau")
    sched = ExponentialDecay(0.9)
    assert get_schedule(sched) is sched and get_schedule(None) is None
    assert get_schedule("exponentialdecay", gamma=0.5) == ExponentialDecay(0.5)
    for s in (Constant(), StepDecay(4, 0.3), ExponentialDecay(0.9), CosineDecay(7, 0.01),
              ReduceLROnPlateau(0.2, 3, 0.0, 1e-5, "max")):
        assert schedule_from_config(json.loads(json.dumps(s.get_config()))) == s
    with pytest.raises(ValueError, match="constant, step, exponential, cosine, plateau"):
        get_schedule("linear")
    with pytest.raises(ValueError, match="unknown schedule argument"):
        schedule_from_config({"type": "StepDecay", "step_size": 2, "decay": 0.5})
    with pytest.raises(ValueError, match="only be given with a schedule name"):
        get_schedule(sched, gamma=0.5)
    assert SGD(schedule="plateau").schedule == ReduceLROnPlateau()


# --- names and validation ---------------------------------------------------------

def test_get_optimizer():
    assert sorted(OPTIMIZERS) == ["adagrad", "adam", "adamw", "rmsprop", "sgd"]
    for name, cls in [("sgd", SGD), ("Adam", Adam), ("ADAMW", AdamW), ("rmsprop", RMSprop),
                      ("adagrad", Adagrad)]:
        opt = get_optimizer(name)
        assert type(opt) is cls and opt.learning_rate == cls().learning_rate
        assert get_optimizer(name, learning_rate=0.5).learning_rate == 0.5
    opt = Adam()
    assert get_optimizer(opt) is opt
    with pytest.raises(ValueError, match="sgd, adam, adamw, rmsprop, adagrad"):
        get_optimizer("adamax")
    with pytest.raises(TypeError, match="optimizer name"):
        get_optimizer(3)
    with pytest.raises(ValueError, match="unknown optimizer argument"):
        optimizer_from_config({"type": "SGD", "lr": 0.1})
    with pytest.raises(ValueError, match="'type'"):
        optimizer_from_config({"learning_rate": 0.1})


def test_defaults():
    assert SGD().get_config() == {"type": "SGD", "learning_rate": 0.01, "momentum": 0.0,
                                  "nesterov": False, "weight_decay": 0.0, "schedule": None}
    assert Adam().get_config() == {"type": "Adam", "learning_rate": 0.001, "beta_1": 0.9,
                                   "beta_2": 0.999, "epsilon": 1e-8, "weight_decay": 0.0,
                                   "schedule": None}
    assert AdamW().weight_decay == 0.01
    rms = RMSprop()
    assert (rms.learning_rate, rms.rho, rms.epsilon, rms.momentum, rms.centered) == (
        0.001, 0.99, 1e-8, 0.0, False)
    ada = Adagrad()
    assert (ada.learning_rate, ada.epsilon, ada.initial_accumulator_value) == (0.01, 1e-10, 0.0)


@pytest.mark.parametrize("build, exc, match", [
    (lambda: SGD(learning_rate=-0.1), ValueError, r"^learning_rate must be > 0, got -0\.1$"),
    (lambda: Adam(learning_rate=0), ValueError, "learning_rate"),
    (lambda: Adam(learning_rate=float("nan")), ValueError, "learning_rate"),
    (lambda: SGD(learning_rate=True), TypeError, "learning_rate"),
    (lambda: SGD(learning_rate="0.1"), TypeError, "learning_rate"),
    (lambda: SGD(momentum=-0.5), ValueError, "momentum"),
    (lambda: SGD(momentum=None), TypeError, "momentum"),
    (lambda: SGD(nesterov=True), ValueError, "nesterov.*momentum"),
    (lambda: SGD(momentum=0.9, nesterov=1), TypeError, "nesterov"),
    (lambda: SGD(weight_decay=-1.0), ValueError, "weight_decay"),
    (lambda: Adam(beta_1=1.0), ValueError, r"beta_1 must be in \[0, 1\)"),
    (lambda: Adam(beta_2=-0.1), ValueError, "beta_2"),
    (lambda: Adam(beta_1=False), TypeError, "beta_1"),
    (lambda: Adam(epsilon=0.0), ValueError, "epsilon"),
    (lambda: AdamW(weight_decay=-0.01), ValueError, "weight_decay"),
    (lambda: RMSprop(rho=1.0), ValueError, "rho"),
    (lambda: RMSprop(momentum=-1.0), ValueError, "momentum"),
    (lambda: RMSprop(centered="yes"), TypeError, "centered"),
    (lambda: Adagrad(initial_accumulator_value=-1.0), ValueError, "initial_accumulator_value"),
    (lambda: Adagrad(epsilon=-1e-10), ValueError, "epsilon"),
    (lambda: SGD(schedule=3), TypeError, "schedule"),
    (lambda: StepDecay(0), ValueError, "step_size"),
    (lambda: StepDecay(2.5), TypeError, "step_size"),
    (lambda: StepDecay(2, gamma=0.0), ValueError, "gamma"),
    (lambda: ExponentialDecay(1.5), ValueError, "gamma"),
    (lambda: CosineDecay(0), ValueError, "total_epochs"),
    (lambda: CosineDecay(10, min_lr=-1.0), ValueError, "min_lr"),
    (lambda: ReduceLROnPlateau(factor=1.0), ValueError, "factor"),
    (lambda: ReduceLROnPlateau(patience=-1), ValueError, "patience"),
    (lambda: ReduceLROnPlateau(patience=True), TypeError, "patience"),
    (lambda: ReduceLROnPlateau(min_delta=-1.0), ValueError, "min_delta"),
    (lambda: ReduceLROnPlateau(mode="avg"), ValueError, "mode"),
    (lambda: StepDecay(2).lr_at(-1, 0.1), ValueError, "epoch"),
    (lambda: SGD().start_epoch(1.5), TypeError, "epoch"),
])
def test_bad_arguments_raise_clear_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("params, grads, exc, match", [
    ([np.zeros(3)], [np.zeros(3), np.zeros(2)], ValueError, "1 params but 2 grads"),
    ([np.zeros((2, 3))], [np.zeros((3, 2))], ValueError, r"grads\[0\] has shape \(3, 2\)"),
    ([np.zeros(3, dtype=int)], [np.zeros(3)], TypeError, r"params\[0\].*floating"),
    ([[0.0, 1.0]], [np.zeros(2)], TypeError, r"params\[0\]"),
    (np.zeros(3), [np.zeros(3)], TypeError, r"params must be a list.*\[param\]"),
    ([np.zeros(3)], np.zeros(3), TypeError, "grads must be a list"),
])
def test_bad_step_arguments(params, grads, exc, match):
    opt = Adam()
    with pytest.raises(exc, match=match):
        opt.step(params, grads)
    assert opt.t == 0


def test_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer(0.1).step([np.zeros(1)], [np.zeros(1)])

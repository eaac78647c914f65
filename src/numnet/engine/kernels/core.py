"""What every compiled kernel shares: codes, scalar formulas, the optimizer update.

See :mod:`numnet.engine.kernels` for the conventions (codes, ``hyper``, offsets).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from numnet.activations import ELU_ALPHA, LEAKY_SLOPE

# activation codes (softmax only as the output)
IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTPLUS, SOFTMAX = range(8)
ACTIVATION_CODES = {"identity": IDENTITY, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
                    "leaky_relu": LEAKY_RELU, "elu": ELU, "softplus": SOFTPLUS,
                    "softmax": SOFTMAX}

# losses: mse with any output; the cross-entropies fused with their output activation
LOSS_MSE, LOSS_BCE, LOSS_CCE = 0, 1, 2

# optimizers (numnet.optimizers.SGD, Adam, AdamW)
OPT_SGD, OPT_ADAM, OPT_ADAMW = 0, 1, 2

# positions in ``hyper``: the KernelSpec.hyper of numnet.optimizers, then l2
H_LR, H_MOMENTUM, H_NESTEROV, H_WEIGHT_DECAY, H_BETA_1, H_BETA_2, H_EPSILON, H_L2 = range(8)
H_SIZE = 8


# --- scalar pieces ---------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def scalars(params):
    """``(1, 0, LEAKY_SLOPE, ELU_ALPHA)`` in the parameters' dtype."""
    cast = params.dtype.type
    return cast(1.0), cast(0.0), cast(LEAKY_SLOPE), cast(ELU_ALPHA)


@njit(cache=True, error_model="numpy")
def activate(code, z, c):
    """``f(z)`` for one element (not softmax), as :mod:`numnet.activations` computes it.

    ``c`` is :func:`scalars`: constants in the parameters' dtype.
    """
    one, zero, slope, alpha = c
    if code == SIGMOID:                         # 1 / (1 + E) or E / (1 + E), E = exp(-|z|)
        e = np.exp(-abs(z))
        return (one if z >= 0 else e) / (one + e)
    if code == TANH:
        return np.tanh(z)
    if code == RELU:
        return z if (z >= 0 or z != z) else zero       # np.maximum(z, 0), NaN kept
    if code == LEAKY_RELU:
        return z if z > 0 else slope * z
    if code == ELU:
        return z if z > 0 else alpha * np.expm1(min(z, zero))
    if code == SOFTPLUS:
        return max(z, zero) + np.log1p(np.exp(-abs(z)))
    return z


@njit(cache=True, error_model="numpy")
def derivative(code, z, a, c):
    """``f'(z)`` for one element (not softmax), with the output ``a`` where NumPy's path uses it."""
    one, zero, slope, alpha = c
    if code == SIGMOID:
        return a * (one - a)
    if code == TANH:
        return one - a * a
    if code == RELU:
        return one if z > 0 else zero
    if code == LEAKY_RELU:
        return one if z > 0 else slope
    if code == ELU:
        return one if z > 0 else a + alpha
    if code == SOFTPLUS:
        return activate(SIGMOID, z, c)
    return one


@njit(cache=True, error_model="numpy")
def activate_range(Z, A, lo, hi, code, c):
    """``A[lo:hi] = f(Z[lo:hi])`` (not softmax); one loop per activation, each vectorizing."""
    zero, slope = c[1], c[2]
    z, a = Z[lo:hi], A[lo:hi]
    if code == RELU and Z.ctypes.data == A.ctypes.data:      # in place: one array, vectorizes
        for q in range(hi - lo):
            if z[q] < zero:
                z[q] = zero
    elif code == RELU:
        for q in range(hi - lo):
            a[q] = z[q] if (z[q] >= zero or z[q] != z[q]) else zero
    elif code == LEAKY_RELU:
        for q in range(hi - lo):
            a[q] = z[q] if z[q] > 0 else slope * z[q]
    elif code == SIGMOID:
        one = c[0]
        for q in range(hi - lo):
            e = np.exp(-abs(z[q]))
            a[q] = (one if z[q] >= 0 else e) / (one + e)
    elif code == IDENTITY:
        for q in range(hi - lo):
            a[q] = z[q]
    else:
        for q in range(hi - lo):
            a[q] = activate(code, z[q], c)


@njit(cache=True, error_model="numpy")
def derivative_range(D, Z, A, lo, hi, code, c):
    """``D[lo:hi] *= f'(Z[lo:hi])`` (not softmax); one loop per activation."""
    one, zero, slope = c[0], c[1], c[2]
    d, z, a = D[lo:hi], Z[lo:hi], A[lo:hi]
    if code == RELU:
        for q in range(hi - lo):
            d[q] = d[q] * (one if z[q] > 0 else zero)
    elif code == LEAKY_RELU:
        for q in range(hi - lo):
            d[q] = d[q] * (one if z[q] > 0 else slope)
    elif code == SIGMOID:
        for q in range(hi - lo):
            d[q] = d[q] * (a[q] * (one - a[q]))
    elif code == TANH:
        for q in range(hi - lo):
            d[q] = d[q] * (one - a[q] * a[q])
    elif code != IDENTITY:
        for q in range(hi - lo):
            d[q] = d[q] * derivative(code, z[q], a[q], c)


@njit(cache=True, error_model="numpy")
def constants(params, opt, hyper, t):
    """What :func:`apply` needs at step ``t`` (1-based), in the parameters' dtype.

    ``(lr, momentum, weight_decay, beta_1, 1 - beta_1, beta_2, 1 - beta_2,
    epsilon, lr / (1 - beta_1**t), 1 / sqrt(1 - beta_2**t), 1 - lr * weight_decay)``,
    each computed in float64 as the Python code does, then cast.
    """
    cast = params.dtype.type
    lr, b1, b2, wd = hyper[H_LR], hyper[H_BETA_1], hyper[H_BETA_2], hyper[H_WEIGHT_DECAY]
    step_size, inv_bc2 = 1.0, 1.0
    if opt != OPT_SGD:
        step_size = lr / (1.0 - b1 ** float(t))
        inv_bc2 = 1.0 / np.sqrt(1.0 - b2 ** float(t))
    return (cast(lr), cast(hyper[H_MOMENTUM]), cast(wd), cast(b1), cast(1.0 - b1), cast(b2),
            cast(1.0 - b2), cast(hyper[H_EPSILON]), cast(step_size), cast(inv_bc2),
            cast(1.0 - lr * wd))


@njit(cache=True, error_model="numpy")
def apply(opt, nesterov, h, p, g, s1, s2):
    """One optimizer update of a parameter ``p`` with gradient ``g``, as numnet.optimizers does it.

    ``s1, s2`` are its state (velocity; or Adam's m, v; ignored otherwise);
    returns the new ``(p, s1, s2)``. ``h`` is :func:`constants`. Adam's
    ``sqrt(v) / sqrt(1 - beta_2**t)`` is a product with the reciprocal here, a
    division there (the update is division-bound): they differ in the last bit.
    """
    lr, mom, wd, b1, omb1, b2, omb2, eps, step_size, inv_bc2, decay = h
    if opt == OPT_SGD:
        if wd > 0:
            g = p * wd + g                          # g + weight_decay * p
        if mom > 0:
            s1 = s1 * mom + g                       # velocity = momentum * velocity + g
            d = s1 * mom + g if nesterov else s1
        else:
            d = g
        return p - d * lr, s1, s2
    if wd > 0:
        if opt == OPT_ADAMW:
            p = p * decay                           # p *= 1 - lr * weight_decay
        else:
            g = p * wd + g
    s1 = s1 * b1 + g * omb1                         # m
    s2 = s2 * b2 + (g * g) * omb2                   # v
    return p - (s1 / (np.sqrt(s2) * inv_bc2 + eps)) * step_size, s1, s2


@njit(cache=True, error_model="numpy")
def step_all(params, grad, opt, nesterov, h, s1, s2):
    """:func:`apply` over the whole flat vector (one loop per kind of state)."""
    zero = params.dtype.type(0.0)
    if s1.shape[0] == 0:
        for q in range(params.shape[0]):
            params[q] = apply(opt, nesterov, h, params[q], grad[q], zero, zero)[0]
    elif s2.shape[0] == 0:
        for q in range(params.shape[0]):
            params[q], s1[q], _ = apply(opt, nesterov, h, params[q], grad[q], s1[q], zero)
    else:
        for q in range(params.shape[0]):
            params[q], s1[q], s2[q] = apply(opt, nesterov, h, params[q], grad[q], s1[q], s2[q])


@njit(cache=True, error_model="numpy")
def sum_of_squared_weights(params, sizes, w_off):
    """``sum(W ** 2)`` over every weight matrix (biases excluded), in float64."""
    total = 0.0
    for i in range(sizes.shape[0] - 1):
        for q in range(w_off[i], w_off[i] + sizes[i] * sizes[i + 1]):
            total += float(params[q]) * float(params[q])
    return total



@njit(cache=True, error_model="numpy")
def strided_max(Z, start, stride, count):
    """max of Z[start], Z[start + stride], ... (count values); NaN wins, so it propagates."""
    mx = Z[start]
    for j in range(1, count):
        zz = Z[start + j * stride]
        if zz > mx or zz != zz:
            mx = zz
    return mx



@njit(cache=True, error_model="numpy")
def column_sums(D, db):
    """``db = D.sum(axis=0)``, rows added in order as NumPy does; nothing if ``db`` is empty."""
    if db.shape[0] == 0:
        return
    n, m = D.shape
    for j in range(m):
        db[j] = D[0, j]
    for s in range(1, n):
        for j in range(m):
            db[j] += D[s, j]

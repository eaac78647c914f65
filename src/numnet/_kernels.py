"""Compiled training loops (numba): whole epochs of small networks without Python.

Imported only by :mod:`numnet.engine`, and only when numba is installed (the
import fails with ``ImportError`` otherwise and the engine uses NumPy).

Two kernels do what :class:`numnet.engine.NumpyRunner` does for a range of
batches of one epoch, and return the same size-weighted loss sum:

* :func:`train_examples`, batch size 1 (the tutorial's per-example SGD): one
  sample forward, its loss, then backward layer by layer, each weight row
  updated as soon as its share of ``dA_prev`` has been taken with the old
  weights. No gradient buffer.
* :func:`train_batches`, mini-batches of small layers: forward, loss, the
  flat gradient as ``NumpyRunner`` builds it, then one optimizer pass. Its
  work buffers are unit-major (a unit's values for the whole batch are
  contiguous), so the inner loops run over the batch and vectorize.

Smaller helpers serve :class:`numnet.engine.BufferedRunner` between its BLAS
products: :func:`bias_activate`, :func:`output_delta`,
:func:`backprop_activation` (one pass each instead of several ufunc calls)
and :func:`optimizer_step`.

The network is described by arrays, so one compiled function serves every
depth: ``sizes`` (layer sizes), ``w_off``/``b_off`` (where each ``W_i``, ``b_i``
starts in the flat parameter vector; ``b_off[i] < 0`` without bias), ``u_off``
(``[0, cumsum(sizes)]``: where each layer's units start in the work buffers
``Z``, ``A``, ``D``, pre-activation, activation and ``dL/dZ``; the input
layer's slot of ``A`` holds the samples) and ``acts`` (activation codes).
Loss and optimizer are codes too; hyperparameters arrive as one float64
array ``hyper`` (see ``H_*``).

The arithmetic follows NumPy's path operation by operation: the same
formulas, the optimizer's updates in the same order, constants cast to the
network's dtype where NumPy casts a Python float (float32 stays float32;
only loss sums are float64). Results agree to rounding: sums inside the
matrix products run in another order than BLAS's, and Adam multiplies by
``1 / sqrt(1 - beta_2**t)`` where ``numnet.optimizers`` divides by its root.
Optimizer state (``velocity``, or Adam's ``m`` and ``v``) is the optimizer's
own flat arrays, updated in place; the caller advances ``optimizer.t``.

Performance notes, measured: a numba call that takes arrays costs more than a
small layer's arithmetic, so row loops are written out where they are used
and helpers inside loops take scalars; loops over contiguous slices (views)
vectorize, loops over computed flat indices do not; and nothing here is
multi-threaded, because numba's threads fight BLAS's idle ones for the cores
(a parallel optimizer step made the 784-1024-1024-10 epoch 2.7x slower).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .activations import ELU_ALPHA, LEAKY_SLOPE

__all__ = ["ACTIVATION_CODES", "LOSS_MSE", "LOSS_BCE", "LOSS_CCE", "OPT_SGD", "OPT_ADAM",
           "OPT_ADAMW", "H_SIZE", "train_examples", "train_batches", "optimizer_step",
           "bias_activate", "output_delta", "backprop_activation"]

# activation codes (softmax only as the output)
IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTPLUS, SOFTMAX = range(8)
ACTIVATION_CODES = {"identity": IDENTITY, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
                    "leaky_relu": LEAKY_RELU, "elu": ELU, "softplus": SOFTPLUS,
                    "softmax": SOFTMAX}

# losses: mse with any output; the cross-entropies fused with their output activation
LOSS_MSE, LOSS_BCE, LOSS_CCE = 0, 1, 2

# optimizers (numnet.optimizers.SGD, Adam, AdamW)
OPT_SGD, OPT_ADAM, OPT_ADAMW = 0, 1, 2

# positions in ``hyper`` (numnet.engine._hyperparameters builds it)
H_LR, H_MOMENTUM, H_NESTEROV, H_WEIGHT_DECAY, H_BETA_1, H_BETA_2, H_EPSILON, H_L2 = range(8)
H_SIZE = 8


# --- scalar pieces ---------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _scalars(params):
    """``(1, 0, LEAKY_SLOPE, ELU_ALPHA)`` in the parameters' dtype."""
    cast = params.dtype.type
    return cast(1.0), cast(0.0), cast(LEAKY_SLOPE), cast(ELU_ALPHA)


@njit(cache=True, error_model="numpy")
def _activate(code, z, c):
    """``f(z)`` for one element (not softmax), as :mod:`numnet.activations` computes it.

    ``c`` is :func:`_scalars`: constants in the parameters' dtype.
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
def _derivative(code, z, a, c):
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
        return _activate(SIGMOID, z, c)
    return one


@njit(cache=True, error_model="numpy")
def _activate_range(Z, A, lo, hi, code, c):
    """``A[lo:hi] = f(Z[lo:hi])`` (not softmax); one loop per activation, so that each vectorizes."""
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
            a[q] = _activate(code, z[q], c)


@njit(cache=True, error_model="numpy")
def _derivative_range(D, Z, A, lo, hi, code, c):
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
            d[q] = d[q] * _derivative(code, z[q], a[q], c)


@njit(cache=True, error_model="numpy")
def _constants(params, opt, hyper, t):
    """What :func:`_apply` needs at step ``t`` (1-based), in the parameters' dtype.

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
def _apply(opt, nesterov, h, p, g, s1, s2):
    """One optimizer update of a parameter ``p`` with gradient ``g``, as numnet.optimizers does it.

    ``s1, s2`` are its state (velocity; or Adam's m, v; ignored otherwise);
    returns the new ``(p, s1, s2)``. ``h`` is :func:`_constants`. Adam's
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
def _step_all(params, grad, opt, nesterov, h, s1, s2):
    """:func:`_apply` over the whole flat vector (one loop per kind of state)."""
    zero = params.dtype.type(0.0)
    if s1.shape[0] == 0:
        for q in range(params.shape[0]):
            params[q] = _apply(opt, nesterov, h, params[q], grad[q], zero, zero)[0]
    elif s2.shape[0] == 0:
        for q in range(params.shape[0]):
            params[q], s1[q], _ = _apply(opt, nesterov, h, params[q], grad[q], s1[q], zero)
    else:
        for q in range(params.shape[0]):
            params[q], s1[q], s2[q] = _apply(opt, nesterov, h, params[q], grad[q], s1[q], s2[q])


@njit(cache=True, error_model="numpy")
def _sum_of_squared_weights(params, sizes, w_off):
    """``sum(W ** 2)`` over every weight matrix (biases excluded), in float64."""
    total = 0.0
    for i in range(sizes.shape[0] - 1):
        for q in range(w_off[i], w_off[i] + sizes[i] * sizes[i + 1]):
            total += float(params[q]) * float(params[q])
    return total


# --- mini-batches ------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _strided_max(Z, start, stride, count):
    """max of Z[start], Z[start + stride], ... (count values); NaN wins, so it propagates."""
    mx = Z[start]
    for j in range(1, count):
        zz = Z[start + j * stride]
        if zz > mx or zz != zz:
            mx = zz
    return mx


@njit(cache=True, error_model="numpy")
def train_batches(X, Y, order, first, last, batch_size, params, grad, sizes, w_off, b_off,
                  u_off, acts, loss, Z, A, D, opt, hyper, t0, s1, s2):
    """Mini-batch training on batches ``first..last-1``; returns the size-weighted loss sum.

    Parameters
    ----------
    X, Y : ndarray of shape (n_samples, n_in), (n_samples, n_out), C-contiguous
    order : int64 ndarray of shape (n_samples,), the epoch's sample order
    first, last, batch_size : int
    params : ndarray of shape (num_parameters,), updated in place
    grad : ndarray of shape (num_parameters,), work buffer
    sizes, w_off, b_off, u_off, acts : int64 ndarrays describing the network
    loss, opt : int codes
    Z, A, D : ndarray of shape (batch_size * u_off[-1],), unit-major work
        buffers: unit ``j`` of layer ``i`` for sample ``s`` of the batch at
        ``batch_size * (u_off[i + 1] + j) + s``; block 0 of ``A`` holds the inputs
    hyper : float64 ndarray of shape (H_SIZE,)
    t0 : int, optimizer steps taken before this call
    s1, s2 : optimizer state (velocity; or m, v), parameter-sized or empty

    ``dW`` and ``db`` sum over the batch in four interleaved partial sums.
    """
    c = _scalars(params)
    zero = c[1]
    cast = params.dtype.type
    bs = batch_size
    n_layers = sizes.shape[0] - 1
    top = n_layers - 1
    n_x, n_out = sizes[0], sizes[n_layers]
    n_total = order.shape[0]
    nesterov = hyper[H_NESTEROV] != 0.0
    l2 = hyper[H_L2]
    l2c = cast(l2)
    total = 0.0
    for bi in range(first, last):
        start = bi * bs
        n = min(bs, n_total - start)
        for s in range(n):                          # gather the batch's inputs
            row = order[start + s]
            for k in range(n_x):
                A[k * bs + s] = X[row, k]
        # forward: Z = A_prev @ W + b, A = f(Z)
        for i in range(n_layers):
            n_in, n_o, wo, bo, act = sizes[i], sizes[i + 1], w_off[i], b_off[i], acts[i]
            pi, lo = bs * u_off[i], bs * u_off[i + 1]
            for j in range(n_o):
                zj = lo + j * bs
                z = Z[zj:zj + n]                    # views: their loops vectorize
                a = A[pi:pi + n]
                w = params[wo + j]
                for s in range(n):
                    z[s] = a[s] * w
                for k in range(1, n_in):
                    a = A[pi + k * bs:pi + k * bs + n]
                    w = params[wo + k * n_o + j]
                    for s in range(n):
                        z[s] += a[s] * w
                if bo >= 0:
                    b = params[bo + j]
                    for s in range(n):
                        z[s] += b
                if act != SOFTMAX and n < bs:
                    _activate_range(Z, A, zj, zj + n, act, c)
            if act != SOFTMAX and n == bs:
                _activate_range(Z, A, lo, lo + n_o * bs, act, c)
            elif act == SOFTMAX:                      # exp(Z - max) / sum, per sample
                for s in range(n):
                    mx = _strided_max(Z, lo + s, bs, n_o)
                    total_e = zero
                    for j in range(n_o):
                        e = np.exp(Z[lo + j * bs + s] - mx)
                        A[lo + j * bs + s] = e
                        total_e += e
                    for j in range(n_o):
                        A[lo + j * bs + s] = A[lo + j * bs + s] / total_e
        # loss, and D = dL/dZ of the output layer
        lo, out_act = bs * u_off[n_layers], acts[top]
        if loss == LOSS_MSE:
            scale = cast(2.0 / (n * n_out))
        elif loss == LOSS_BCE:
            scale = cast(1.0 / (n * n_out))
        else:
            scale = cast(1.0 / n)
        value = 0.0
        if loss == LOSS_CCE:                        # -sum y (z - max - log sum exp(z - max))
            for s in range(n):
                row = order[start + s]
                mx = _strided_max(Z, lo + s, bs, n_out)
                total_e = zero
                for j in range(n_out):
                    total_e += np.exp(Z[lo + j * bs + s] - mx)
                lse = np.log(total_e)
                for j in range(n_out):
                    q = lo + j * bs + s
                    value -= Y[row, j] * ((Z[q] - mx) - lse)
                    D[q] = (A[q] - Y[row, j]) * scale
            value /= n
        else:
            for s in range(n):
                row = order[start + s]
                for j in range(n_out):
                    q = lo + j * bs + s
                    if loss == LOSS_MSE:            # mean((Y - P)^2); dA = 2 (P - Y) / size
                        r = Y[row, j] - A[q]
                        value += r * r
                        D[q] = scale * (A[q] - Y[row, j])
                    else:                           # max(z, 0) - z y + log1p(exp(-|z|))
                        z = Z[q]
                        value += max(z, zero) - z * Y[row, j] + np.log1p(np.exp(-abs(z)))
                        D[q] = (A[q] - Y[row, j]) * scale
            value /= n * n_out
            if loss == LOSS_MSE and out_act == SOFTMAX:     # dZ = A (dA - sum(dA A))
                for s in range(n):
                    dot = zero
                    for j in range(n_out):
                        dot += D[lo + j * bs + s] * A[lo + j * bs + s]
                    for j in range(n_out):
                        q = lo + j * bs + s
                        D[q] = A[q] * (D[q] - dot)
            elif loss == LOSS_MSE:
                for j in range(n_out):
                    _derivative_range(D, Z, A, lo + j * bs, lo + j * bs + n, out_act, c)
        if l2 > 0:
            value += 0.5 * l2 * _sum_of_squared_weights(params, sizes, w_off)
        total += value * n
        # backward: dW = A_prev.T @ dZ (+ l2 W), db = sum(dZ), dZ_prev = (dZ @ W.T) f'
        for i in range(top, -1, -1):
            n_in, n_o, wo, bo = sizes[i], sizes[i + 1], w_off[i], b_off[i]
            pi, lo = bs * u_off[i], bs * u_off[i + 1]
            n4 = n - n % 4
            for j in range(n_o):                    # dW[:, j], db[j]: sums over the batch,
                dj = lo + j * bs                    # in four interleaved partial sums
                d = D[dj:dj + n]
                for k in range(n_in):
                    a = A[pi + k * bs:pi + k * bs + n]
                    p0 = p1 = p2 = p3 = zero
                    for s in range(0, n4, 4):
                        p0 += a[s] * d[s]
                        p1 += a[s + 1] * d[s + 1]
                        p2 += a[s + 2] * d[s + 2]
                        p3 += a[s + 3] * d[s + 3]
                    for s in range(n4, n):
                        p0 += a[s] * d[s]
                    q = wo + k * n_o + j
                    g = (p0 + p1) + (p2 + p3)
                    grad[q] = g + l2c * params[q] if l2 > 0 else g
                if bo >= 0:
                    p0 = p1 = p2 = p3 = zero
                    for s in range(0, n4, 4):
                        p0 += d[s]
                        p1 += d[s + 1]
                        p2 += d[s + 2]
                        p3 += d[s + 3]
                    for s in range(n4, n):
                        p0 += d[s]
                    grad[bo + j] = (p0 + p1) + (p2 + p3)
            if i > 0:
                prev_act = acts[i - 1]
                for k in range(n_in):
                    dk = pi + k * bs
                    wk = wo + k * n_o
                    dprev = D[dk:dk + n]
                    d = D[lo:lo + n]
                    w = params[wk]
                    for s in range(n):
                        dprev[s] = d[s] * w
                    for j in range(1, n_o):
                        d = D[lo + j * bs:lo + j * bs + n]
                        w = params[wk + j]
                        for s in range(n):
                            dprev[s] += d[s] * w
                    if n < bs:
                        _derivative_range(D, Z, A, dk, dk + n, prev_act, c)
                if n == bs:
                    _derivative_range(D, Z, A, pi, pi + n_in * bs, prev_act, c)
        # the optimizer's step
        _step_all(params, grad, opt, nesterov, _constants(params, opt, hyper, t0 + bi - first + 1),
                  s1, s2)
    return total


# --- batch size 1 ------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def train_examples(X, Y, order, first, last, params, sizes, w_off, b_off, u_off, acts,
                   loss, Z, A, D, opt, hyper, t0, s1, s2):
    """Per-example training on samples ``order[first:last]``; returns the loss sum.

    Arguments as :func:`train_batches` without ``batch_size`` and ``grad``;
    ``Z``, ``A``, ``D`` have shape (u_off[-1],). Row ``k`` of ``W_i`` is updated
    right after ``dA_prev[k] = dZ . W_i[k]`` has used it, so the update order
    per parameter is the reference's.
    """
    c = _scalars(params)
    one, zero = c[0], c[1]
    cast = params.dtype.type
    n_layers = sizes.shape[0] - 1
    top = n_layers - 1
    n_x, n_out = sizes[0], sizes[n_layers]
    nesterov = hyper[H_NESTEROV] != 0.0
    has1, has2 = s1.shape[0] > 0, s2.shape[0] > 0
    l2 = hyper[H_L2]
    l2c = cast(l2)
    if loss == LOSS_MSE:
        scale = cast(2.0 / n_out)
    elif loss == LOSS_BCE:
        scale = cast(1.0 / n_out)
    else:
        scale = one
    h = _constants(params, opt, hyper, t0 + 1)
    total = 0.0
    for e in range(first, last):
        row = order[e]
        for k in range(n_x):
            A[k] = X[row, k]
        # forward: Z = A_prev @ W + b, A = f(Z)
        for i in range(n_layers):
            n_in, n_o, wo, bo, act = sizes[i], sizes[i + 1], w_off[i], b_off[i], acts[i]
            ps, zs = u_off[i], u_off[i + 1]
            z = Z[zs:zs + n_o]                      # views: their loops vectorize
            a_k = A[ps]
            w = params[wo:wo + n_o]
            for j in range(n_o):
                z[j] = a_k * w[j]
            for k in range(1, n_in):
                a_k = A[ps + k]
                w = params[wo + k * n_o:wo + (k + 1) * n_o]
                for j in range(n_o):
                    z[j] += a_k * w[j]
            if act == SOFTMAX:
                if bo >= 0:
                    for j in range(n_o):
                        Z[zs + j] += params[bo + j]
                mx = _strided_max(Z, zs, 1, n_o)
                total_e = zero
                for j in range(n_o):
                    A[zs + j] = np.exp(Z[zs + j] - mx)
                    total_e += A[zs + j]
                for j in range(n_o):
                    A[zs + j] = A[zs + j] / total_e
            elif bo >= 0:
                for j in range(n_o):
                    z = Z[zs + j] + params[bo + j]
                    Z[zs + j] = z
                    A[zs + j] = _activate(act, z, c)
            else:
                for j in range(n_o):
                    A[zs + j] = _activate(act, Z[zs + j], c)
        # loss, and D = dL/dZ of the output layer
        zs, out_act = u_off[n_layers], acts[top]
        value = 0.0
        if loss == LOSS_MSE:
            for j in range(n_out):
                r = Y[row, j] - A[zs + j]
                value += r * r
                D[zs + j] = scale * (A[zs + j] - Y[row, j])
            value /= n_out
            if out_act == SOFTMAX:
                dot = zero
                for j in range(n_out):
                    dot += D[zs + j] * A[zs + j]
                for j in range(n_out):
                    D[zs + j] = A[zs + j] * (D[zs + j] - dot)
            elif out_act != IDENTITY:
                for j in range(n_out):
                    D[zs + j] = D[zs + j] * _derivative(out_act, Z[zs + j], A[zs + j], c)
        elif loss == LOSS_BCE:
            for j in range(n_out):
                z = Z[zs + j]
                value += max(z, zero) - z * Y[row, j] + np.log1p(np.exp(-abs(z)))
                D[zs + j] = (A[zs + j] - Y[row, j]) * scale
            value /= n_out
        else:
            mx = _strided_max(Z, zs, 1, n_out)
            total_e = zero
            for j in range(n_out):
                total_e += np.exp(Z[zs + j] - mx)
            lse = np.log(total_e)
            for j in range(n_out):
                value -= Y[row, j] * ((Z[zs + j] - mx) - lse)
                D[zs + j] = (A[zs + j] - Y[row, j]) * scale
        if l2 > 0:
            value += 0.5 * l2 * _sum_of_squared_weights(params, sizes, w_off)
        total += value
        # backward, each weight row updated once its dA_prev term (old weights) is taken
        if opt != OPT_SGD:
            h = _constants(params, opt, hyper, t0 + e - first + 1)
        for i in range(top, -1, -1):
            n_in, n_o, wo, bo = sizes[i], sizes[i + 1], w_off[i], b_off[i]
            ps, zs = u_off[i], u_off[i + 1]
            prev_act = acts[i - 1] if i > 0 else IDENTITY
            d = D[zs:zs + n_o]
            for k in range(n_in):
                a_k = A[ps + k]
                wk = wo + k * n_o
                w = params[wk:wk + n_o]
                if i > 0:                           # dA_prev[k] = dZ . W[k], old W[k]
                    acc = zero
                    for j in range(n_o):
                        acc += d[j] * w[j]
                    D[ps + k] = acc * _derivative(prev_act, Z[ps + k], A[ps + k], c)
                if not (has1 or has2 or l2 > 0):
                    for j in range(n_o):            # dW[k, j] = a_k dZ[j]
                        w[j] = _apply(opt, nesterov, h, w[j], a_k * d[j], zero, zero)[0]
                    continue
                for j in range(n_o):
                    q = wk + j
                    g = a_k * d[j]
                    if l2 > 0:
                        g = g + l2c * w[j]
                    w[j], u, v = _apply(opt, nesterov, h, w[j], g,
                                        s1[q] if has1 else zero, s2[q] if has2 else zero)
                    if has1:
                        s1[q] = u
                    if has2:
                        s2[q] = v
            if bo >= 0:
                for j in range(n_o):
                    q = bo + j
                    params[q], u, v = _apply(opt, nesterov, h, params[q], D[zs + j],
                                             s1[q] if has1 else zero, s2[q] if has2 else zero)
                    if has1:
                        s1[q] = u
                    if has2:
                        s2[q] = v
    return total


@njit(cache=True, error_model="numpy")
def optimizer_step(params, grad, opt, hyper, t, s1, s2, lo, hi):
    """Step ``t`` (counted after it) of the optimizer on ``params[lo:hi]`` with ``grad[lo:hi]``.

    The update is elementwise, so stepping a vector in pieces is one step.
    """
    _step_all(params[lo:hi], grad[lo:hi], opt, hyper[H_NESTEROV] != 0.0,
              _constants(params, opt, hyper, t), s1[lo:hi], s2[lo:hi])


# --- elementwise helpers for the buffered NumPy path -------------------------------

@njit(cache=True, error_model="numpy")
def bias_activate(Z, b, A, code):
    """``Z += b`` (unless ``b`` is empty), then ``A = f(Z)``; C-contiguous ``(n, m)`` arrays.

    ``A`` may be ``Z`` itself for relu (the buffered runner's choice: one array
    to write, and relu'(z) > 0 exactly where relu(z) > 0).
    """
    c = _scalars(Z)
    n, m = Z.shape
    if b.shape[0] > 0:
        for s in range(n):
            for j in range(m):
                Z[s, j] += b[j]
    if code != SOFTMAX:
        _activate_range(Z.reshape(-1), A.reshape(-1), 0, n * m, code, c)
    else:
        for s in range(n):
            mx = _strided_max(Z[s], 0, 1, m)
            total_e = c[1]
            for j in range(m):
                A[s, j] = np.exp(Z[s, j] - mx)
                total_e += A[s, j]
            for j in range(m):
                A[s, j] = A[s, j] / total_e


@njit(cache=True, error_model="numpy")
def output_delta(Z, A, Y, D, loss, code, db):
    """The batch's loss on ``(A, Y)``; ``D`` = the output layer's ``dL/dZ``, ``db`` its column sums.

    ``(n, m)`` arrays; ``code`` is the output activation (backpropagated for
    mse; the cross-entropies are fused with it); ``db`` may be empty.
    """
    c = _scalars(Z)
    zero = c[1]
    cast = Z.dtype.type
    n, m = Z.shape
    value = 0.0
    if loss == LOSS_CCE:
        scale = cast(1.0 / n)
        for s in range(n):
            mx = _strided_max(Z[s], 0, 1, m)
            total_e = zero
            for j in range(m):
                total_e += np.exp(Z[s, j] - mx)
            lse = np.log(total_e)
            for j in range(m):
                value -= Y[s, j] * ((Z[s, j] - mx) - lse)
                D[s, j] = (A[s, j] - Y[s, j]) * scale
        value /= n
    elif loss == LOSS_BCE:
        scale = cast(1.0 / (n * m))
        for s in range(n):
            for j in range(m):
                z = Z[s, j]
                value += max(z, zero) - z * Y[s, j] + np.log1p(np.exp(-abs(z)))
                D[s, j] = (A[s, j] - Y[s, j]) * scale
        value /= n * m
    else:
        scale = cast(2.0 / (n * m))
        for s in range(n):
            for j in range(m):
                r = Y[s, j] - A[s, j]
                value += r * r
                D[s, j] = scale * (A[s, j] - Y[s, j])
            if code == SOFTMAX:
                dot = zero
                for j in range(m):
                    dot += D[s, j] * A[s, j]
                for j in range(m):
                    D[s, j] = A[s, j] * (D[s, j] - dot)
        if code != SOFTMAX:
            _derivative_range(D.reshape(-1), Z.reshape(-1), A.reshape(-1), 0, n * m, code, c)
        value /= n * m
    _column_sums(D, db)
    return value


@njit(cache=True, error_model="numpy")
def backprop_activation(D, Z, A, code, db):
    """``D = dL/dA`` becomes ``dL/dZ = D * f'(Z)`` in place (not softmax); ``db`` its column sums."""
    n, m = Z.shape
    _derivative_range(D.reshape(-1), Z.reshape(-1), A.reshape(-1), 0, n * m, code, _scalars(Z))
    _column_sums(D, db)


@njit(cache=True, error_model="numpy")
def _column_sums(D, db):
    """``db = D.sum(axis=0)``, rows added in order as NumPy does; nothing if ``db`` is empty."""
    if db.shape[0] == 0:
        return
    n, m = D.shape
    for j in range(m):
        db[j] = D[0, j]
    for s in range(1, n):
        for j in range(m):
            db[j] += D[s, j]

"""Batch size 1 in one compiled loop: :func:`train_examples`."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .core import H_L2, dot_product, logsumexp, strided_max, sum_of_squared_weights
from .formulas import (
    IDENTITY,
    SOFTMAX,
    activate,
    constants,
    derivative,
    loss_delta,
    loss_fused,
    loss_logsumexp,
    loss_per_sample,
    loss_scale,
    loss_value,
    per_step,
    step_all,
    update_row,
)


def build(fingerprint: int) -> Any:
    """Compile (or load from cache) :func:`train_examples`.

    ``fingerprint`` (:data:`.formulas.FINGERPRINT`) is in each kernel's closure,
    so that numba's disk cache of them is keyed on the formulas they compile in.
    """
    @njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
    def train_examples(X, Y, order, first, last, params, sizes, w_off, b_off, u_off, acts,
                       loss, Z, A, D, opt, hyper, t0, s1, s2, rate):
        """Per-example training on samples ``order[first:last]``; returns the loss sum.

        Arguments as :func:`train_batches` without ``batch_size`` and ``grad``;
        ``Z``, ``A``, ``D`` have shape (u_off[-1],). Row ``k`` of ``W_i`` is updated
        right after ``dA_prev[k] = dZ . W_i[k]`` has used it, so the update order
        per parameter is the reference's. ``rate > 0`` says the weights' update is
        exactly ``w -= rate * g`` (the optimizer's ``linear_rate()``), which is
        then written out so that it vectorizes, in the same pass over ``W_i[k]``
        as the dot product that sends the error back.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = params.dtype.type
        zero = cast(0.0)
        n_layers = sizes.shape[0] - 1
        top = n_layers - 1
        n_x, n_out = sizes[0], sizes[n_layers]
        has1, has2 = s1.shape[0] > 0, s2.shape[0] > 0
        rate_c = cast(rate)
        l2 = hyper[H_L2]
        l2c = cast(l2)
        count = 1 if loss_per_sample(loss) else n_out
        scale = loss_scale(loss, count, cast)
        h = constants(opt, hyper, t0 + 1, cast)
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
                    mx = strided_max(Z, zs, 1, n_o)
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
                        A[zs + j] = activate(act, z, cast)
                else:
                    for j in range(n_o):
                        A[zs + j] = activate(act, Z[zs + j], cast)
            # loss, and D = dL/dZ of the output layer
            zs, out_act = u_off[n_layers], acts[top]
            mx, lse = zero, zero
            if loss_logsumexp(loss):
                mx, lse = logsumexp(Z, zs, 1, n_out)
            value = 0.0
            for j in range(n_out):
                q = zs + j
                value += loss_value(loss, Z[q], A[q], Y[row, j], mx, lse, cast)
                D[q] = loss_delta(loss, Z[q], A[q], Y[row, j], scale, cast)
            value /= count
            if not loss_fused(loss) and out_act == SOFTMAX:     # dZ = A (dA - sum(dA A))
                dot = zero
                for j in range(n_out):
                    dot += D[zs + j] * A[zs + j]
                for j in range(n_out):
                    D[zs + j] = A[zs + j] * (D[zs + j] - dot)
            elif not loss_fused(loss) and out_act != IDENTITY:
                for j in range(n_out):
                    D[zs + j] = D[zs + j] * derivative(out_act, Z[zs + j], A[zs + j], cast)
            if l2 > 0:
                value += 0.5 * l2 * sum_of_squared_weights(params, sizes, w_off)
            total += value
            # backward, each weight row updated once its dA_prev term (old weights) is taken
            if per_step(opt):
                h = constants(opt, hyper, t0 + e - first + 1, cast)
            for i in range(top, -1, -1):
                n_in, n_o, wo, bo = sizes[i], sizes[i + 1], w_off[i], b_off[i]
                ps, zs = u_off[i], u_off[i + 1]
                prev_act = acts[i - 1] if i > 0 else IDENTITY
                d = D[zs:zs + n_o]
                for k in range(n_in):
                    a_k = A[ps + k]
                    wk = wo + k * n_o
                    w = params[wk:wk + n_o]
                    if rate > 0:                        # exactly w -= rate * a_k dZ
                        step = rate_c * a_k
                        if i == 0:
                            for j in range(n_o):
                                w[j] -= step * d[j]
                            continue
                        # one pass over W[k]: dA_prev[k] = dZ . W[k] with each old weight
                        # read just before it is updated. Two passes (dot_product, then the
                        # update) read wide layers twice: MLP(1, [1024] * 5, 1) took 3.0 ms
                        # per example in float32 and 6.2 in float64, one pass 2.2 and 5.5.
                        acc = zero
                        for j in range(n_o):
                            acc += w[j] * d[j]
                            w[j] -= step * d[j]
                        D[ps + k] = acc * derivative(prev_act, Z[ps + k], A[ps + k], cast)
                        continue
                    if i > 0:                           # dA_prev[k] = dZ . W[k], old W[k]
                        D[ps + k] = (dot_product(d, w)
                                     * derivative(prev_act, Z[ps + k], A[ps + k], cast))
                    # dW[k, j] = a_k dZ[j] (+ l2 W[k, j]), the row in one vectorized pass
                    update_row(w, a_k, d, l2c, opt, h, s1[wk:wk + n_o] if has1 else s1,
                               s2[wk:wk + n_o] if has2 else s2)
                if bo >= 0 and rate > 0:                # exactly b -= rate * dZ
                    for j in range(n_o):
                        params[bo + j] -= rate_c * d[j]
                elif bo >= 0:
                    step_all(params[bo:bo + n_o], d, opt, h,
                             s1[bo:bo + n_o] if has1 else s1, s2[bo:bo + n_o] if has2 else s2)
        return total

    return train_examples

"""Mini-batches of small layers in one compiled loop: :func:`train_batches`."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .core import H_L2, logsumexp, strided_max, sum_of_squared_weights
from .formulas import (
    SOFTMAX,
    activate_range,
    constants,
    derivative_range,
    loss_delta,
    loss_fused,
    loss_logsumexp,
    loss_per_sample,
    loss_scale,
    loss_value,
    step_all,
)


def build(fingerprint: int) -> Any:
    """Compile (or load from cache) :func:`train_batches`.

    ``fingerprint`` (:data:`.formulas.FINGERPRINT`) is in each kernel's closure,
    so that numba's disk cache of them is keyed on the formulas they compile in.
    """
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
        The stages (gather, forward, loss, backward, step) are written out in
        one loop on purpose: as separate numba functions (inlined or called)
        they made a 2-5-1 batch of 32 about 10% slower, measured.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = params.dtype.type
        zero = cast(0.0)
        bs = batch_size
        n_layers = sizes.shape[0] - 1
        top = n_layers - 1
        n_x, n_out = sizes[0], sizes[n_layers]
        n_total = order.shape[0]
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
                        activate_range(Z, A, zj, zj + n, act, cast)
                if act != SOFTMAX and n == bs:
                    activate_range(Z, A, lo, lo + n_o * bs, act, cast)
                elif act == SOFTMAX:                      # exp(Z - max) / sum, per sample
                    for s in range(n):
                        mx = strided_max(Z, lo + s, bs, n_o)
                        total_e = zero
                        for j in range(n_o):
                            e = np.exp(Z[lo + j * bs + s] - mx)
                            A[lo + j * bs + s] = e
                            total_e += e
                        for j in range(n_o):
                            A[lo + j * bs + s] = A[lo + j * bs + s] / total_e
            # loss, and D = dL/dZ of the output layer
            lo, out_act = bs * u_off[n_layers], acts[top]
            count = n if loss_per_sample(loss) else n * n_out
            scale = loss_scale(loss, count, cast)
            needs_lse = loss_logsumexp(loss)
            value = 0.0
            mx, lse = zero, zero
            for s in range(n):
                row = order[start + s]
                if needs_lse:
                    mx, lse = logsumexp(Z, lo + s, bs, n_out)
                for j in range(n_out):
                    q = lo + j * bs + s
                    value += loss_value(loss, Z[q], A[q], Y[row, j], mx, lse, cast)
                    D[q] = loss_delta(loss, Z[q], A[q], Y[row, j], scale, cast)
            value /= count
            if not loss_fused(loss) and out_act == SOFTMAX:     # dZ = A (dA - sum(dA A))
                for s in range(n):
                    dot = zero
                    for j in range(n_out):
                        dot += D[lo + j * bs + s] * A[lo + j * bs + s]
                    for j in range(n_out):
                        q = lo + j * bs + s
                        D[q] = A[q] * (D[q] - dot)
            elif not loss_fused(loss):
                for j in range(n_out):
                    derivative_range(D, Z, A, lo + j * bs, lo + j * bs + n, out_act, cast)
            if l2 > 0:
                value += 0.5 * l2 * sum_of_squared_weights(params, sizes, w_off)
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
                            derivative_range(D, Z, A, dk, dk + n, prev_act, cast)
                    if n == bs:
                        derivative_range(D, Z, A, pi, pi + n_in * bs, prev_act, cast)
            # the optimizer's step
            step_all(params, grad, opt, constants(opt, hyper, t0 + bi - first + 1, cast), s1, s2)
        return total

    return train_batches

"""What the compiled kernels share besides the formulas: codes, positions, small loops.

See :mod:`numnet.engine.kernels` for the conventions (codes, ``hyper``,
offsets). The formulas themselves come from :mod:`.formulas`. None of these
functions is cached on its own: each is compiled into the kernels that call
it, which are (see :mod:`.formulas` on what keys their cache).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ``hyper``: the optimizer's KernelSpec.hyper (its rule's own layout), then l2
H_L2 = 7
H_SIZE = 8


@njit(error_model="numpy", fastmath={"reassoc"})
def dot_product(x, y):
    """``sum(x * y)`` over two equal-length 1-D views, in any order (so it vectorizes).

    Reassociating the sum changes its last bits, not its accuracy: the same
    freedom BLAS takes in every matrix product.
    """
    acc = x.dtype.type(0.0)
    for j in range(x.shape[0]):
        acc += x[j] * y[j]
    return acc


@njit(error_model="numpy", fastmath={"reassoc"})
def all_finite(x):
    """Whether every value of the 1-D view ``x`` is finite: ``sum(x * 0)`` is NaN exactly
    when one is NaN or infinite. Summed in any order, so it vectorizes (in order, the sum's
    chain of additions made a layer's bias and activation pass six times slower)."""
    zero = x.dtype.type(0.0)
    acc = zero
    for j in range(x.shape[0]):
        acc += x[j] * zero
    return acc == acc


@njit(error_model="numpy")
def sum_of_squared_weights(params, sizes, w_off):
    """``sum(W ** 2)`` over every weight matrix (biases excluded), in float64."""
    total = 0.0
    for i in range(sizes.shape[0] - 1):
        for q in range(w_off[i], w_off[i] + sizes[i] * sizes[i + 1]):
            total += float(params[q]) * float(params[q])
    return total


@njit(error_model="numpy")
def strided_max(Z, start, stride, count):
    """max of Z[start], Z[start + stride], ... (count values); NaN wins, so it propagates."""
    mx = Z[start]
    for j in range(1, count):
        zz = Z[start + j * stride]
        if zz > mx or zz != zz:
            mx = zz
    return mx


@njit(error_model="numpy")
def softmax_rows(Z, A):
    """``A[s] = exp(Z[s] - max Z[s]) / sum`` for each row ``s`` of ``Z`` (n, m)."""
    n, m = Z.shape
    for s in range(n):
        mx = strided_max(Z[s], 0, 1, m)
        total = Z.dtype.type(0.0)
        for j in range(m):
            A[s, j] = np.exp(Z[s, j] - mx)
            total += A[s, j]
        for j in range(m):
            A[s, j] = A[s, j] / total


@njit(error_model="numpy")
def logsumexp(Z, start, stride, count):
    """``(mx, log(sum(exp(z - mx))))`` over Z[start], Z[start + stride], ... (count values)."""
    mx = strided_max(Z, start, stride, count)
    total = Z.dtype.type(0.0)
    for j in range(count):
        total += np.exp(Z[start + j * stride] - mx)
    return mx, np.log(total)


@njit(error_model="numpy")
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

"""One compiled pass each for the buffered runner's elementwise work and its update."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .core import LOSS_BCE, LOSS_CCE, column_sums, step_all, strided_max
from .formulas import SOFTMAX, activate_range, constants, derivative_range


def build(fingerprint: int) -> tuple[Any, Any, Any, Any]:
    """Compile (or load from cache) the buffered runner's helpers.

    ``fingerprint`` (:data:`.formulas.FINGERPRINT`) is in each kernel's closure,
    so that numba's disk cache of them is keyed on the formulas they compile in.
    """
    @njit(cache=True, error_model="numpy")
    def optimizer_step(params, grad, opt, hyper, t, s1, s2, lo, hi):
        """Step ``t`` (counted after it) of the optimizer on ``params[lo:hi]`` with ``grad[lo:hi]``.

        The update is elementwise, so stepping a vector in pieces is one step.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        step_all(params[lo:hi], grad[lo:hi], opt, constants(opt, hyper, t, params.dtype.type),
                 s1[lo:hi], s2[lo:hi])

    # --- elementwise helpers for the buffered NumPy path -------------------------------

    @njit(cache=True, error_model="numpy")
    def bias_activate(Z, b, A, code):
        """``Z += b`` (unless ``b`` is empty), then ``A = f(Z)``; C-contiguous ``(n, m)`` arrays.

        ``A`` may be ``Z`` itself for relu (the buffered runner's choice: one array
        to write, and relu'(z) > 0 exactly where relu(z) > 0).
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = Z.dtype.type
        n, m = Z.shape
        if b.shape[0] > 0:
            for s in range(n):
                for j in range(m):
                    Z[s, j] += b[j]
        if code != SOFTMAX:
            activate_range(Z.reshape(-1), A.reshape(-1), 0, n * m, code, cast)
        else:
            for s in range(n):
                mx = strided_max(Z[s], 0, 1, m)
                total_e = cast(0.0)
                for j in range(m):
                    A[s, j] = np.exp(Z[s, j] - mx)
                    total_e += A[s, j]
                for j in range(m):
                    A[s, j] = A[s, j] / total_e

    @njit(cache=True, error_model="numpy")
    def output_delta(Z, A, Y, D, loss, code, db):
        """The batch's loss on ``(A, Y)``; ``D``: the output layer's ``dL/dZ``, ``db``: its sums.

        ``(n, m)`` arrays; ``code`` is the output activation (backpropagated for
        mse; the cross-entropies are fused with it); ``db`` may be empty.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = Z.dtype.type
        zero = cast(0.0)
        n, m = Z.shape
        value = 0.0
        if loss == LOSS_CCE:
            scale = cast(1.0 / n)
            for s in range(n):
                mx = strided_max(Z[s], 0, 1, m)
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
                derivative_range(D.reshape(-1), Z.reshape(-1), A.reshape(-1), 0, n * m, code, cast)
            value /= n * m
        column_sums(D, db)
        return value

    @njit(cache=True, error_model="numpy")
    def backprop_activation(D, Z, A, code, db):
        """``D = dL/dA`` becomes ``dL/dZ = D * f'(Z)`` in place (not softmax); ``db``: sums."""
        _ = fingerprint                 # part of numba's cache key: see .formulas
        n, m = Z.shape
        derivative_range(D.reshape(-1), Z.reshape(-1), A.reshape(-1), 0, n * m, code,
                         Z.dtype.type)
        column_sums(D, db)

    return optimizer_step, bias_activate, output_delta, backprop_activation

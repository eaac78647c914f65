"""One compiled pass each for the buffered runner's elementwise work and its update."""

from __future__ import annotations

from typing import Any

from numba import njit

from .core import column_sums, logsumexp, softmax_rows
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
        if code == SOFTMAX:
            softmax_rows(Z, A)
        else:
            activate_range(Z.reshape(-1), A.reshape(-1), 0, n * m, code, cast)

    @njit(cache=True, error_model="numpy")
    def output_delta(Z, A, Y, D, loss, code, db):
        """The batch's loss on ``(A, Y)``; ``D``: the output layer's ``dL/dZ``, ``db``: its sums.

        ``(n, m)`` arrays; ``code`` is the output activation (backpropagated
        unless the loss is fused with it); ``db`` may be empty.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = Z.dtype.type
        zero = cast(0.0)
        n, m = Z.shape
        count = n if loss_per_sample(loss) else n * m
        scale = loss_scale(loss, count, cast)
        needs_lse = loss_logsumexp(loss)
        value = 0.0
        mx, lse = zero, zero
        for s in range(n):
            if needs_lse:
                mx, lse = logsumexp(Z[s], 0, 1, m)
            for j in range(m):
                value += loss_value(loss, Z[s, j], A[s, j], Y[s, j], mx, lse, cast)
                D[s, j] = loss_delta(loss, Z[s, j], A[s, j], Y[s, j], scale, cast)
        value /= count
        if not loss_fused(loss) and code == SOFTMAX:        # dZ = A (dA - sum(dA A))
            for s in range(n):
                dot = zero
                for j in range(m):
                    dot += D[s, j] * A[s, j]
                for j in range(m):
                    D[s, j] = A[s, j] * (D[s, j] - dot)
        elif not loss_fused(loss):
            derivative_range(D.reshape(-1), Z.reshape(-1), A.reshape(-1), 0, n * m, code, cast)
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

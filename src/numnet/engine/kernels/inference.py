"""Inference kernels: a few rows through the network in one compiled call
(:func:`forward_rows`), and a layer's bias and activation over a block of many rows
in one pass (:func:`finish_layer`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .core import all_finite, softmax_rows, strided_max
from .formulas import SOFTMAX, activate, activate_range


def build(fingerprint: int) -> tuple[Any, Any]:
    """Compile (or load from cache) :func:`forward_rows` and :func:`finish_layer`.

    ``fingerprint`` (:data:`.formulas.FINGERPRINT`) is in the kernel's closure,
    so that numba's disk cache of it is keyed on the formulas it compiles in.
    """
    @njit(cache=True, error_model="numpy")
    def forward_rows(X, params, layout, out, work):
        """``out = net(X)``: ``X: (n, sizes[0])``, ``out: (n, sizes[-1])``; returns 0, or 1.

        ``layout`` is the training kernels' layout arrays (see
        :mod:`numnet.engine.kernels`) in one, ``[n_layers, sizes, w_off,
        b_off, u_off, acts]`` (:meth:`numnet.engine.compiled.Layout.packed`),
        and ``work`` holds ``Z`` then ``A``, ``u_off[-1]`` each: every array
        argument costs a numba call time, and a one-row call is mostly that. Returns 1 as soon as a
        weighted sum is NaN or infinite (a non-finite input, or an overflow a
        saturating activation would hide), leaving ``out`` unfinished: the
        caller then raises :meth:`numnet.network.Network.forward`'s error.
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = params.dtype.type
        n_layers = layout[0]
        sizes = layout[1:n_layers + 2]
        w_off = layout[n_layers + 2:2 * n_layers + 2]
        b_off = layout[2 * n_layers + 2:3 * n_layers + 2]
        u_off = layout[3 * n_layers + 2:4 * n_layers + 4]
        acts = layout[4 * n_layers + 4:5 * n_layers + 4]
        units = u_off[n_layers + 1]
        Z, A = work[:units], work[units:2 * units]
        n_x, n_out = sizes[0], sizes[n_layers]
        for s in range(X.shape[0]):
            for k in range(n_x):
                A[k] = X[s, k]
            for i in range(n_layers):
                n_in, n_o, wo, bo, act = sizes[i], sizes[i + 1], w_off[i], b_off[i], acts[i]
                ps, zs = u_off[i], u_off[i + 1]
                z = Z[zs:zs + n_o]                      # views: their loops vectorize
                a = A[zs:zs + n_o]
                if bo >= 0:
                    z[:] = params[bo:bo + n_o]
                else:
                    z[:] = cast(0.0)
                for k in range(n_in):                   # z += a_prev[k] * W[k, :]
                    a_k = A[ps + k]
                    w = params[wo + k * n_o:wo + (k + 1) * n_o]
                    for j in range(n_o):
                        z[j] += a_k * w[j]
                for j in range(n_o):
                    if not np.isfinite(z[j]):
                        return 1
                if act == SOFTMAX:
                    mx = strided_max(Z, zs, 1, n_o)
                    total = cast(0.0)
                    for j in range(n_o):
                        a[j] = np.exp(z[j] - mx)
                        total += a[j]
                    for j in range(n_o):
                        a[j] = a[j] / total
                else:
                    for j in range(n_o):
                        a[j] = activate(act, z[j], cast)
            last = u_off[n_layers]
            for j in range(n_out):
                out[s, j] = A[last + j]
        return 0

    @njit(cache=True, error_model="numpy", nogil=True)   # threads run blocks side by side
    def finish_layer(Z, b, A, code):
        """``Z += b`` (unless ``b`` is empty), then ``A = f(Z)``, in one pass over a block of
        rows while it is in cache; returns 1, leaving ``A`` unfinished, when a weighted sum
        is NaN or infinite (an overflow a saturating activation would hide), else 0.

        ``Z``, ``A``: C-contiguous ``(n, m)``; ``A`` may be ``Z`` itself (relu, identity).
        """
        _ = fingerprint                 # part of numba's cache key: see .formulas
        cast = Z.dtype.type
        n, m = Z.shape
        for s in range(n):
            z = Z[s]                                    # a view: its loops vectorize
            if b.shape[0] > 0:
                for j in range(m):
                    z[j] += b[j]
            if not all_finite(z):
                return 1
        if code == SOFTMAX:
            softmax_rows(Z, A)
        else:
            activate_range(Z.reshape(-1), A.reshape(-1), 0, n * m, code, cast)
        return 0

    return forward_rows, finish_layer


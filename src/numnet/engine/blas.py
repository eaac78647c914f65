"""BLAS's ``gemm`` through SciPy, for a product NumPy cannot write in place: ``C += a * A.T @ B``.

Plain SGD updates a weight matrix with ``W -= lr * (A_prev.T @ dZ)``. NumPy
must write the product to a buffer and then read it again to subtract it;
BLAS's ``gemm`` does both in one pass (``C = alpha * A @ B + beta * C`` with
``beta = 1``). On a large network that pass is about 5% of a batch.

The call goes through :mod:`scipy.linalg.blas`, SciPy's maintained interface
to whichever BLAS it was built with (the ``fast`` extra installs SciPy). A
row-major ``C`` is a column-major ``C.T``, so ``C.T += alpha * B.T @ A`` is
one Fortran ``gemm`` on the arrays as they are, with no copy. Without SciPy,
or when a self-test against ``np.matmul`` disagrees or finds that SciPy did
not write in place, :func:`gemm_accumulate` uses NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["available", "gemm_accumulate"]

_FUNCS: dict[np.dtype, Any] | None = None     # dtype -> scipy's sgemm / dgemm


def _load() -> dict[np.dtype, Any]:
    """SciPy's ``sgemm``/``dgemm``, each kept only if it passes :func:`_self_test`."""
    try:
        from scipy.linalg import blas
    except ImportError:
        return {}
    funcs = {}
    for dtype, fn in ((np.dtype(np.float32), blas.sgemm), (np.dtype(np.float64), blas.dgemm)):
        if _self_test(fn, dtype):
            funcs[dtype] = fn
    return funcs


def _self_test(fn: Any, dtype: np.dtype) -> bool:
    rng = np.random.default_rng(0)
    A, B, C = (rng.standard_normal(s).astype(dtype) for s in ((7, 5), (7, 3), (5, 3)))
    expected = C - 0.5 * (A.T @ B)
    # C += alpha * A.T @ B, written as C.T += alpha * B.T @ A (column-major, no copy)
    out = fn(-0.5, B.T, A.T, beta=1.0, c=C.T, trans_b=1, overwrite_c=1)
    in_place = np.shares_memory(out, C)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    return in_place and bool(np.allclose(C, expected, rtol=tol, atol=tol))


def available(dtype: np.dtype) -> bool:
    """Whether :func:`gemm_accumulate` runs in BLAS for this dtype."""
    global _FUNCS
    if _FUNCS is None:
        _FUNCS = _load()
    return np.dtype(dtype) in _FUNCS


def gemm_accumulate(A: np.ndarray, B: np.ndarray, C: np.ndarray, alpha: float) -> None:
    """``C += alpha * A.T @ B`` in place: ``A: (k, m)``, ``B: (k, n)``, ``C: (m, n)``.

    One BLAS call when available and the three arrays are C-contiguous in one
    dtype (their transposes are then the column-major arrays BLAS takes); NumPy
    otherwise.
    """
    fn = _FUNCS.get(C.dtype) if _FUNCS is not None else None
    if (fn is not None and A.dtype == B.dtype == C.dtype and A.shape[0] == B.shape[0]
            and C.shape == (A.shape[1], B.shape[1]) and C.flags.writeable
            and all(x.flags.c_contiguous for x in (A, B, C))):
        out = fn(alpha, B.T, A.T, beta=1.0, c=C.T, trans_b=1, overwrite_c=1)
        if not np.shares_memory(out, C):      # ruled out by the self-test; correct regardless
            C[...] = out.T
        return
    C += alpha * (A.T @ B)

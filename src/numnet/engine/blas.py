"""NumPy's own BLAS, for the one product NumPy cannot write in place: ``C += alpha * A.T @ B``.

Plain SGD updates a weight matrix with ``W -= lr * (A_prev.T @ dZ)``. NumPy
must write the product to a buffer and then read it again to subtract it;
BLAS's ``gemm`` does both in one pass (``C = alpha * A @ B + beta * C`` with
``beta = 1``). On a large network that pass is about 5% of a batch.

Only NumPy's bundled OpenBLAS (the ``scipy-openblas`` wheels, 64-bit
integers) is used, through the very library NumPy has loaded, so its thread
pool is shared. Anything else (another BLAS, another build, a self-test that
disagrees with ``np.matmul``) leaves :func:`gemm_accumulate` unavailable and
callers use NumPy.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

import numpy as np

__all__ = ["available", "gemm_accumulate"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_FUNCS: dict[np.dtype, Any] | None = None     # dtype -> ctypes gemm function


def _load() -> dict[np.dtype, Any]:
    """The cblas ``sgemm``/``dgemm`` of NumPy's OpenBLAS, checked against ``np.matmul``."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return {}
    if blas.get("name") != "scipy-openblas" or "USE64BITINT" not in str(
            blas.get("openblas configuration", "")):
        return {}
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                  "libscipy_openblas64_*"))
    if len(libs) != 1:
        return {}
    try:
        lib = ctypes.CDLL(os.path.realpath(libs[0]))
    except OSError:
        return {}
    funcs = {}
    for dtype, name, real in ((np.dtype(np.float32), "scipy_cblas_sgemm64_", ctypes.c_float),
                              (np.dtype(np.float64), "scipy_cblas_dgemm64_", ctypes.c_double)):
        fn = getattr(lib, name, None)
        if fn is None:
            continue
        i64, ptr = ctypes.c_int64, ctypes.c_void_p
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, real, ptr, i64,
                       ptr, i64, real, ptr, i64]
        fn.restype = None
        if _self_test(fn, dtype):
            funcs[dtype] = fn
    return funcs


def _call(fn: Any, A: np.ndarray, B: np.ndarray, C: np.ndarray, alpha: float) -> None:
    k, m = A.shape
    n = B.shape[1]
    fn(_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, alpha, A.ctypes.data, A.strides[0] // A.itemsize,
       B.ctypes.data, B.strides[0] // B.itemsize, 1.0, C.ctypes.data, C.strides[0] // C.itemsize)


def _self_test(fn: Any, dtype: np.dtype) -> bool:
    rng = np.random.default_rng(0)
    A, B, C = (rng.standard_normal(s).astype(dtype) for s in ((7, 5), (7, 3), (5, 3)))
    expected = C - 0.5 * (A.T @ B)
    _call(fn, A, B, C, -0.5)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    return bool(np.allclose(C, expected, rtol=tol, atol=tol))


def available(dtype: np.dtype) -> bool:
    """Whether :func:`gemm_accumulate` runs in BLAS for this dtype."""
    global _FUNCS
    if _FUNCS is None:
        _FUNCS = _load()
    return np.dtype(dtype) in _FUNCS


def gemm_accumulate(A: np.ndarray, B: np.ndarray, C: np.ndarray, alpha: float) -> None:
    """``C += alpha * A.T @ B`` in place: ``A: (k, m)``, ``B: (k, n)``, ``C: (m, n)``.

    One BLAS call when available and the arrays are row-major with unit
    column stride in one dtype; NumPy otherwise.
    """
    fn = _FUNCS.get(C.dtype) if _FUNCS is not None else None
    if (fn is not None and A.dtype == B.dtype == C.dtype and A.shape[0] == B.shape[0]
            and C.shape == (A.shape[1], B.shape[1])
            and all(x.strides[1] == x.itemsize and x.strides[0] >= x.shape[1] * x.itemsize
                    for x in (A, B, C))
            and C.flags.writeable):
        _call(fn, A, B, C, alpha)
    else:
        C += alpha * (A.T @ B)

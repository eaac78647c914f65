"""``X`` as the estimators hold it: a dense array, or sparse rows densified a block at a time.

scikit-learn's MLPs take scipy.sparse CSR and CSC input (``csr_matrix``,
``csr_array``, ...); numnet's network multiplies dense rows. A sparse ``X``
stays sparse here (as CSR, whose rows slice cheaply) and reaches the network
in blocks of rows, each densified on its own (at most :data:`BLOCK_BYTES`):
the ``lbfgs`` objective sums its loss and gradient over the blocks, and
prediction writes each block's outputs into one array. A dense ``X`` is one
block, passed as it is. ``sgd`` and ``adam`` hand :func:`numnet.fit` a
:class:`SparseRows` (its ``RowSource``), which densifies the rows of a few
mini-batches at a time, in the order they train.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse

from numnet.network import Network

#: The sparse formats ``validate_data`` keeps (it converts the others to CSR), as scikit-learn's.
SPARSE_FORMATS = ["csr", "csc"]
#: Bytes of densified rows per block of a sparse ``X``.
BLOCK_BYTES = 1 << 22


def is_sparse(X: Any) -> bool:
    return bool(scipy.sparse.issparse(X))


def in_dtype(X: Any, dtype: np.dtype) -> Any:
    """``X (n_samples, n_features)`` in ``dtype``: an ndarray, or a sparse X as CSR (not dense)."""
    if is_sparse(X):
        return X.tocsr().astype(dtype, copy=False)
    return np.asarray(X, dtype=dtype)


def block_rows(X: Any) -> int:
    """Rows per densified block of a sparse ``X``: :data:`BLOCK_BYTES` of them, at least one."""
    return max(1, BLOCK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))


def blocks(X: Any) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, dense X[start:stop])`` covering ``X``; a dense ``X`` is one block."""
    n = X.shape[0]
    if not is_sparse(X):
        yield 0, n, X
        return
    step = block_rows(X)
    for start in range(0, n, step):
        stop = min(start + step, n)
        yield start, stop, X[start:stop].toarray()


class SparseRows:
    """A CSR ``X (n_samples, n_features)`` as the rows :func:`numnet.fit` trains on
    (:class:`numnet._fitting.loop.RowSource`): dense only the rows asked for."""

    def __init__(self, X: Any) -> None:
        self.X = X.tocsr()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.X.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.X.dtype)

    @property
    def nbytes(self) -> int:
        """Bytes of the sparse arrays (values, column indices, row pointers)."""
        return int(self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes)

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def dense_rows(self, index: np.ndarray) -> np.ndarray:
        """Rows ``index``, in that order, as a dense C-contiguous ``(len(index), n_features)``."""
        return np.ascontiguousarray(self.X[index].toarray())


def trainable(X: Any) -> Any:
    """``X`` as :func:`numnet.fit` takes it: a dense array as it is, a sparse one as
    :class:`SparseRows`."""
    return SparseRows(X) if is_sparse(X) else X


def forward(net: Network, X: Any) -> np.ndarray:
    """``net``'s outputs ``(n_samples, num_outputs)`` for ``X`` in its dtype, block by block."""
    if not is_sparse(X):
        return net.forward(X)
    out = np.empty((X.shape[0], net.num_outputs), dtype=net.dtype)
    for start, stop, block in blocks(X):
        out[start:stop] = net.forward(block)
    return out


def check_overflow(net: Network, X: Any) -> None:
    """:meth:`Network.check_overflow` on ``X`` block by block: its ValueError if ``X`` overflows."""
    for _, _, block in blocks(X):
        net.check_overflow(block)

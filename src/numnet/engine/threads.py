"""BLAS threads per shape: a network's small matrix products run on one thread.

NumPy's BLAS (OpenBLAS in NumPy's wheels) splits a product over all its threads
once it passes a fixed size. Below about a million multiply-adds the split
saves little or nothing on an idle machine, and when another process holds a
core the split product waits for it. Measured on 2 cores (best of 200 calls,
float32 / float64, one thread against two): 64x64 @ 64x128 18 vs 24 us / 28 vs
33 us; 128x64 @ 64x64 18 vs 15 / 28 vs 18; 256x128 @ 128x64 (2.1 million)
49 vs 33 / 105 vs 57. With another process busy, W3's epoch (64-128-64-10,
batch 64) took 0.054 s on one thread and 0.43-0.65 s on two.

:func:`blas_threads` says how many threads a network's products at a batch
size should use (1, or None to leave BLAS as it is); :func:`limit_blas`
applies it for a block, through :mod:`threadpoolctl` (the ``fast`` extra),
and does nothing without it. The rule depends on the shapes only, so a seeded
run repeats bit for bit on any machine with the same BLAS; against two
threads, OpenBLAS's float32 products can differ in the last bit (it picks
another kernel for one thread), as results differ between BLAS builds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from numnet.network import Network

__all__ = ["SINGLE_THREAD_MACS", "largest_product", "blas_threads", "limit_blas", "cores",
           "can_limit_blas"]

# multiply-adds of a product below which it runs on one thread (the measurements above)
SINGLE_THREAD_MACS = 1 << 20


def largest_product(net: Network, batch_size: int) -> int:
    """Multiply-adds of the largest product in a batch's forward or backward pass.

    Each layer's products (``A_prev @ W``, ``dZ @ W.T``, ``A_prev.T @ dZ``) all
    take ``batch_size * n_in * n_out`` multiply-adds.
    """
    sizes = net.layer_sizes
    return batch_size * max(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def blas_threads(net: Network, batch_size: int) -> int | None:
    """1 when every product of a batch is below :data:`SINGLE_THREAD_MACS`, else None."""
    return 1 if largest_product(net, batch_size) < SINGLE_THREAD_MACS else None


_lock = threading.Lock()
_depth = 0                            # blocks inside limit_blas(1), over all threads
_saved: list[tuple[Any, int]] = []    # (library controller, its threads before the first)
_controllers: tuple[int, list[Any]] | None = None    # (modules imported then, controllers)


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_limit_blas() -> bool:
    """Whether :func:`limit_blas` can set BLAS's threads (threadpoolctl sees a BLAS)."""
    return bool(_blas_controllers())


def _blas_controllers() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded now ([] without it).

    Finding them takes about 5 ms, so the list is kept, and made again once more
    modules have been imported: a BLAS arrives with the extension that links it
    (scipy's own with ``scipy.linalg``, which librosa and scikit-learn use), and a
    list made before would leave it on all its threads.
    """
    global _controllers
    imported = len(sys.modules)
    if _controllers is None or _controllers[0] != imported:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            found: list[Any] = []
        else:
            found = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        _controllers = (len(sys.modules), found)
    return _controllers[1]


@contextlib.contextmanager
def limit_blas(threads: int | None) -> Iterator[None]:
    """Within the block, BLAS uses ``threads`` threads (None: as it is).

    Blocks may nest and run in several Python threads at once: the first to
    enter sets the limit, the last to leave restores what was there before.
    """
    global _depth
    if threads is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved[:] = [(lib, lib.get_num_threads()) for lib in _blas_controllers()]
            for lib, _ in _saved:
                lib.set_num_threads(threads)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for lib, before in _saved:
                    lib.set_num_threads(before)

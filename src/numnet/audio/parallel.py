"""Features of many files: cached ones read, the others computed on every core, in file order.

Computing a clip's features is many small NumPy and librosa calls that hold
the GIL, so threads do not run them side by side; worker processes do. On
Linux, when at least :data:`MIN_FILES_PER_WORKER` uncached files per worker
are left, the process's cores (``os.sched_getaffinity``) compute them in worker
processes started by ``fork``, which inherit librosa as the first file left it
(imported, compiled), so a worker costs milliseconds to start. Elsewhere
(``fork`` is unsafe on macOS and missing on Windows; starting a fresh
interpreter costs seconds per worker), in a thread other than the main one
(BLAS's settings, below), in a worker of a multiprocessing pool, where no
process can start, and for fewer files, files are computed one at a time in the
calling process. ``NUMNET_AUDIO_WORKERS=N`` caps the processes (``1``: never
start any).

Measured on 2 cores, 880 words spoken by espeak-ng (0.5 to 1.2 s, 22.05 kHz
WAV), best of interleaved runs on a shared machine:
:func:`~numnet.audio.load_split` one file at a time 2.06 s, in two processes
1.16 s (their CPU time 9 % more: forks and hand-overs); two threads took as
long as one (3.3 s against 3.2 s, in a busier hour). Two processes pay from
about 32 files (48 files: 106 ms one at a time, 89 ms in two processes; 128
files: 289 and 183 ms); while another program keeps the other core busy, only
from about 80, and they gain little.

Every path gives the same numbers, bit for bit: a clip's matrix products run on
one BLAS thread (OpenBLAS rounds a product differently on one thread and on
two), in the calling process under :func:`numnet.engine.threads.limit_blas`,
which the workers inherit with the fork; results come back in file order. A worker
that raises hands the exception back to be handled as one raised in the
calling process (an :class:`~numnet.audio.AudioError` keeps its file and
message). Workers ignore Ctrl-C: the calling process stops them, after the
files under way, when it is interrupted or stops at a bad file.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from numnet.engine.threads import limit_blas

from . import extract
from .cache import FeatureCache
from .clips import load_clip
from .settings import FeatureSettings

__all__ = ["ENV", "MIN_FILES_PER_WORKER", "features_in_order", "in_order", "worker_count"]

ENV = "NUMNET_AUDIO_WORKERS"
# Uncached files per worker process below which files are computed one at a time: two workers
# pay from about 32 files on (module docstring); 2 x 24 keeps a margin.
MIN_FILES_PER_WORKER = 24

# Items handed to a worker at a time: one by one, the calling process spends about 0.3 ms on
# each (measured: 0.3 s of 2.5 s for 880 files), 8 at a time 0.04 ms.
CHUNK = 8

# One task's outcome: what it returned, or the exception it raised.
Outcome = Any


def worker_count(n_files: int) -> int:
    """Worker processes for ``n_files`` uncached files: 1 (none: the calling process computes
    them) unless each of 2 or more workers would get :data:`MIN_FILES_PER_WORKER` files."""
    if not _can_fork():
        return 1
    return max(1, min(_cores(), _cap(), n_files // MIN_FILES_PER_WORKER))


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _can_fork() -> bool:
    """Workers start by fork: on Linux, from the main thread (a BLAS thread count set by
    another thread may not apply; module docstring), not in a daemonic process (a worker of
    a multiprocessing pool, which may not have children)."""
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.current_thread() is threading.main_thread()
            and not multiprocessing.current_process().daemon)


def _cap() -> int:
    """``NUMNET_AUDIO_WORKERS``, or no cap."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return sys.maxsize
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{ENV}={text!r} is not a number of worker processes; give a whole "
                         f"number >= 1 (1: compute audio features in this process only) or "
                         f"unset it")
    return value


def in_order(task: Callable[..., Any], items: Sequence[tuple[Any, ...]], workers: int
             ) -> Generator[Outcome, None, None]:
    """``task(*item)`` for each item, in order: what it returned or the exception it raised.

    With ``workers`` > 1 the first item is computed here (librosa's lazy imports and
    compiled functions are then inherited) and the rest by that many forked processes,
    :data:`CHUNK` items at a time; with 1, each item when it is asked for. Closing the
    iterator early stops the workers after the items under way. Call it under
    ``limit_blas(1)``: workers inherit it.
    """
    if workers <= 1 or len(items) < 2:
        for item in items:
            yield _outcome(task, item)
        return
    yield _outcome(task, items[0])
    chunks = [items[i:i + CHUNK] for i in range(1, len(items), CHUNK)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker)
    try:
        try:
            futures = [pool.submit(_outcomes, task, chunk) for chunk in chunks]
        except OSError:         # no process could start (a process limit, no memory): here
            futures = []
        if not futures:
            pool.shutdown(wait=True, cancel_futures=True)
            for item in items[1:]:
                yield _outcome(task, item)
        for future, chunk in zip(futures, chunks, strict=True):
            yield from _results(future, len(chunk))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _outcome(task: Callable[..., Any], item: tuple[Any, ...]) -> Outcome:
    try:
        return task(*item)
    except Exception as exc:        # handed to the caller, as a worker's would be
        return exc


def _outcomes(task: Callable[..., Any], chunk: Sequence[tuple[Any, ...]]) -> list[Outcome]:
    """In a worker: the outcome of each item of ``chunk``."""
    return [_outcome(task, item) for item in chunk]


def _results(future: Future[list[Outcome]], n: int) -> list[Outcome]:
    """A chunk's ``n`` outcomes; if a worker died or the answer could not be sent, that
    error for each."""
    try:
        return future.result()
    except BrokenProcessPool:
        died = BrokenProcessPool(f"a worker process died while computing audio features (out "
                                 f"of memory, or a decoder crashed on a file); run with {ENV}=1 "
                                 f"to compute them in this process and see which file")
        return [died] * n
    except Exception as exc:
        return [exc] * n


def _start_worker() -> None:
    """In each worker: Ctrl-C is the calling process's to handle. (BLAS's thread count
    comes with the fork: the calling process's, under ``limit_blas(1)``.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def compute(file: Path, s: FeatureSettings) -> np.ndarray:
    """One file's features, not cached: ``(s.n_features,)``."""
    return extract._describe(load_clip(file, s), s, file)


def features_in_order(files: Sequence[Path], s: FeatureSettings, cache: FeatureCache | None
                      ) -> Generator[Outcome, None, None]:
    """Each file's features ``(s.n_features,)`` or the exception computing them raised, in
    order: cached ones read, the others computed (in workers when they are many) and cached.

    Close it (``contextlib.closing``) when stopping early: that stops the workers.
    """
    keys = [cache.key(file, s) if cache is not None else None for file in files]
    found = [cache.get(key, s.n_features) if cache is not None and key is not None else None
             for key in keys]
    todo = [i for i, features in enumerate(found) if features is None]
    with limit_blas(1), contextlib.closing(
            in_order(compute, [(files[i], s) for i in todo], worker_count(len(todo)))) as computed:
        for file, key, features in zip(files, keys, found, strict=True):
            if features is None:
                features = next(computed)
                if cache is not None and key is not None and isinstance(features, np.ndarray) \
                        and cache.key(file, s) == key:        # not changed since
                    cache.put(key, features)
            yield features

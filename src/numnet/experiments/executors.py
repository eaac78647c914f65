"""Where runs execute: here, on local processes, or on a Dask cluster.

Every executor takes run specs and yields each run's result as it
completes, in the driver, which writes it to the store; workers never touch
the store. The distribution is the library's: :mod:`concurrent.futures` for
local processes, ``distributed`` (``client.submit`` / ``as_completed``, its
``retries=`` and its rescheduling of the tasks of a lost worker) for Dask.

Each run does its BLAS work on one thread (with :mod:`threadpoolctl`, when
installed), on every executor: the same seed then gives bit-identical
results here, in a process pool and on a Dask worker (the test suite checks
it), and a pool of ``n`` single-run workers does not oversubscribe ``n``
cores.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .runs import RunSpec, empty_result, execute_run

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "get_executor",
           "run_single_threaded"]

logger = logging.getLogger(__name__)

Result = dict[str, Any]


def _blas_single_thread() -> contextlib.AbstractContextManager:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: results are still deterministic within one process
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_single_threaded(spec: RunSpec) -> Result:
    """:func:`~numnet.experiments.runs.execute_run` with BLAS limited to one thread."""
    with _blas_single_thread():
        return execute_run(spec)


def _failed(spec: RunSpec, exc: BaseException) -> Result:
    """The result of a run that never returned (its worker died, the task was lost)."""
    return {**empty_result(spec), "status": "failed", "error": f"{type(exc).__name__}: {exc}"}


class Executor:
    """Runs specs and yields their results as they complete (in any order)."""

    name = "executor"

    def run(self, specs: list[RunSpec], fn: Callable[[RunSpec], Result] = run_single_threaded
            ) -> Iterator[Result]:
        """Yield ``fn(spec)`` for every spec, as each completes."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the executor started (workers, clusters)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One run after another, in this process."""

    name = "serial"

    def run(self, specs: list[RunSpec], fn: Callable[[RunSpec], Result] = run_single_threaded
            ) -> Iterator[Result]:
        for spec in specs:
            yield fn(spec)


def _default_context() -> multiprocessing.context.BaseContext:
    # Never fork: a forked child inherits the parent's threads and locks (numba's,
    # BLAS's, the store's), which can deadlock. forkserver forks from a clean server.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class ProcessExecutor(Executor):
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`).

    Parameters
    ----------
    max_workers : int, optional
        Default: every core (``os.cpu_count()``), but never more than the runs.
    context : str, optional
        ``"forkserver"`` (default where available) or ``"spawn"``; ``"fork"``
        is refused (unsafe with numba's and BLAS's threads).
    """

    name = "processes"

    def __init__(self, max_workers: int | None = None, context: str | None = None) -> None:
        if max_workers is not None and (isinstance(max_workers, bool) or
                                        not isinstance(max_workers, int) or max_workers < 1):
            raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
        if context == "fork":
            raise ValueError("context='fork' is unsafe with numba and BLAS threads; "
                             "use 'forkserver' or 'spawn'")
        if context not in (None, "forkserver", "spawn"):
            raise ValueError(f"context must be 'forkserver' or 'spawn', got {context!r}")
        self.max_workers = max_workers
        self.context = _default_context() if context is None else multiprocessing.get_context(
            context)

    def run(self, specs: list[RunSpec], fn: Callable[[RunSpec], Result] = run_single_threaded
            ) -> Iterator[Result]:
        if not specs:
            return
        workers = min(self.max_workers or os.cpu_count() or 1, len(specs))
        with ProcessPoolExecutor(workers, mp_context=self.context) as pool:
            futures: dict[Future, RunSpec] = {pool.submit(fn, s): s for s in specs}
            try:
                for future in as_completed(futures):
                    spec = futures.pop(future)
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        # Not the run's fault: a worker died (killed, out of memory). Record
                        # nothing for the runs still pending, so that a restart runs them.
                        raise RuntimeError(f"a worker process died ({exc}); every finished run "
                                           f"is stored: run the sweep again to continue") from exc
                    yield _failed(spec, exc) if exc is not None else future.result()
            finally:
                for future in futures:          # the driver stopped early: drop the rest
                    future.cancel()


class DaskExecutor(Executor):
    """Runs as Dask tasks: on a new ``LocalCluster``, or on a running cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        A scheduler address (``"tcp://10.0.0.5:8786"``) or a connected
        ``distributed.Client``. Default: start a ``distributed.LocalCluster``
        with ``n_workers`` single-threaded worker processes, closed at the end.
    n_workers : int, optional
        Workers of the ``LocalCluster`` (default: one per core).
    retries : int, default 2
        Dask's ``retries=`` for each task. A task whose worker dies is
        rescheduled by the scheduler on another worker regardless (up to its
        ``allowed-failures``); a run that raises is a failed *result*, not a
        retried task.
    """

    name = "dask"

    def __init__(self, scheduler: Any = None, n_workers: int | None = None,
                 retries: int = 2) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ImportError("the Dask executor needs dask.distributed: "
                              "pip install 'numnet[dask]'") from exc
        self._distributed = distributed
        self._owned: list[Any] = []
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
        elif scheduler is None:
            cluster = distributed.LocalCluster(n_workers=n_workers or os.cpu_count() or 1,
                                               threads_per_worker=1, processes=True,
                                               dashboard_address=None)
            self.client = distributed.Client(cluster)
            self._owned = [self.client, cluster]
        elif isinstance(scheduler, str):
            self.client = distributed.Client(scheduler)
            self._owned = [self.client]
        else:
            raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786' or a "
                            f"distributed.Client, got {type(scheduler).__name__}")
        self.retries = retries

    def run(self, specs: list[RunSpec], fn: Callable[[RunSpec], Result] = run_single_threaded
            ) -> Iterator[Result]:
        if not specs:
            return
        shared = _share_arrays(self.client, specs)
        futures = {self.client.submit(_run_on_worker, fn, s, shared.get(id(s.data)),
                                      key=f"numnet-run-{s.key}", retries=self.retries,
                                      pure=False): s for s in specs}
        try:
            for future in self._distributed.as_completed(list(futures)):
                spec = futures.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 (a lost task is a failed run)
                    result = _failed(spec, exc)
                future.release()
                yield result
        finally:
            if futures:
                self.client.cancel(list(futures))

    def close(self) -> None:
        for thing in self._owned:
            thing.close()
        self._owned = []


def _share_arrays(client: Any, specs: list[RunSpec]) -> dict[int, Any]:
    """Send each DataSource that holds arrays to the workers once, not once per task.

    Returns Dask futures by ``id`` of the source; a task gets its source's
    future as an argument, which Dask resolves on the worker.
    """
    sources = {id(s.data): s.data for s in specs if s.data.train is not None}
    return {k: client.scatter(v, broadcast=True) for k, v in sources.items()}


def _run_on_worker(fn: Callable[[RunSpec], Result], spec: RunSpec, data: Any) -> Result:
    if data is not None:
        spec = dataclasses.replace(spec, data=data)
    return fn(spec)


def get_executor(executor: str | Executor = "serial", *, scheduler: Any = None,
                 workers: int | None = None) -> Executor:
    """An executor by name (``"serial"``, ``"processes"``, ``"dask"``) or the one given.

    A ``scheduler`` (address or ``distributed.Client``) implies ``"dask"``.
    """
    if isinstance(executor, Executor):
        return executor
    if scheduler is not None:
        if executor not in ("dask", "serial"):
            raise ValueError(f"a scheduler address runs on Dask; drop executor={executor!r} "
                             f"or use executor='dask'")
        return DaskExecutor(scheduler)
    if executor == "serial":
        return SerialExecutor()
    if executor == "processes":
        return ProcessExecutor(workers)
    if executor == "dask":
        return DaskExecutor(None, n_workers=workers)
    raise ValueError(f"executor must be 'serial', 'processes' or 'dask' (or an Executor), "
                     f"got {executor!r}")

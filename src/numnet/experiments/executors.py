"""Where runs execute: here, on local processes, or on a Dask cluster.

An :class:`Executor` yields each run's result to the driver as it completes (only the
driver writes the store). Both pools are a :class:`concurrent.futures.Executor` (a
``ProcessPoolExecutor``, Dask's ``Client.get_executor()``) driven by one loop,
:func:`_as_completed`: it hands runs out a few at a time as workers free up, so a sweep of
any length holds only those in flight. Each run's BLAS uses one thread
(:mod:`threadpoolctl`), so a seed gives bit-identical results on every executor. Pool
workers exit when the driver ends, however it ends; a Dask sweep waits a bounded time for
its scheduler and workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, runtime_checkable

from .runs import RunSpec, empty_result, execute_run

Result = dict[str, Any]
RunFn = Callable[[RunSpec], Result]
_STORED = "every finished run is stored"


def run_single_threaded(spec: RunSpec) -> Result:
    """:func:`~numnet.experiments.runs.execute_run` with BLAS limited to one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: results are still deterministic within one process
        return execute_run(spec)
    with threadpool_limits(limits=1, user_api="blas"):
        return execute_run(spec)


@runtime_checkable
class Executor(Protocol):
    """Runs specs and yields their results as they complete, in any order; ``specs`` is
    read as runs are handed out, so it may be a generator of any length."""

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]: ...

    def close(self) -> None: ...


def _as_completed(specs: Iterator[RunSpec], limit: int, submit: Callable[[RunSpec], Future],
                  stop: Callable[[BaseException], Exception | None],
                  watch: Callable[[bool], None] = lambda progressed: None) -> Iterator[Result]:
    """Keep ``limit`` runs submitted and yield each result as its run ends; a run that
    raised is a failed result, unless ``stop(exc)`` gives the error that ends the sweep (a
    lost worker or cluster: not the run's fault). ``watch(progressed)`` follows every wait
    of at most 0.5 s. What is still pending is cancelled when the driver stops."""
    pending: dict[Future, RunSpec] = {}
    try:
        while True:
            for spec in itertools.islice(specs, limit - len(pending)):
                pending[submit(spec)] = spec
            if not pending:
                return
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            watch(bool(done))
            for future in done:
                spec = pending.pop(future)
                exc = CancelledError() if future.cancelled() else future.exception()
                if exc is None:
                    yield future.result()
                    continue
                error = stop(exc)
                if error is not None:
                    raise error from exc
                yield {**empty_result(spec), "status": "failed",
                       "error": f"{type(exc).__name__}: {exc}"}
    finally:
        for future in pending:
            future.cancel()


class SerialExecutor:
    """One run after another, in this process."""

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]:
        return map(fn, specs)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`), at most
    ``max_workers`` (default: every core, never more than the runs); ``context``
    ``"forkserver"`` (default) or ``"spawn"``: ``fork`` is unsafe with numba's and BLAS's
    threads. No worker outlives the driver, even after ``kill -9``."""

    def __init__(self, max_workers: int | None = None, context: str | None = None) -> None:
        if max_workers is not None and (isinstance(max_workers, bool) or
                                        not isinstance(max_workers, int) or max_workers < 1):
            raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
        if context == "fork":
            raise ValueError("context='fork' is unsafe with numba and BLAS threads; "
                             "use 'forkserver' or 'spawn'")
        if context not in (None, "forkserver", "spawn"):
            raise ValueError(f"context must be 'forkserver' or 'spawn', got {context!r}")
        if context is None:
            context = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
                else "spawn"
        self.max_workers = max_workers
        self.context = multiprocessing.get_context(context)

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]:
        queue = iter(specs)
        first = list(itertools.islice(queue, self.max_workers or os.cpu_count() or 1))
        if not first:
            return
        watched, held = self.context.Pipe(duplex=False)     # only the driver holds `held`
        try:
            with ProcessPoolExecutor(len(first), mp_context=self.context,
                                     initializer=_start_worker,
                                     initargs=(watched, len(first))) as pool:
                yield from _as_completed(itertools.chain(first, queue), 2 * len(first),
                                         lambda spec: pool.submit(fn, spec), _dead_worker)
        finally:
            held.close()
            watched.close()

    def close(self) -> None:
        pass


def _dead_worker(exc: BaseException) -> Exception | None:
    """A killed worker (or one out of memory) stops the sweep, its run unrecorded, so that
    a restart runs it."""
    if isinstance(exc, BrokenProcessPool):
        return RuntimeError(f"a worker process died ({exc}); {_STORED}: run the sweep again "
                            f"to continue")
    return None


#: The variable that caps the processes :mod:`numnet.audio` starts for many clips' features.
AUDIO_WORKERS = "NUMNET_AUDIO_WORKERS"


def _start_worker(driver: Any, pool_size: int) -> None:
    """A pool worker's initializer: :func:`_exit_with_driver`, and, in a pool of several
    workers (each core already runs a run), augmented clips' features computed in the
    worker itself rather than in processes of its own (unless the user capped them)."""
    if pool_size > 1:
        os.environ.setdefault(AUDIO_WORKERS, "1")
    _exit_with_driver(driver)


def _exit_with_driver(driver: Any) -> None:
    """A pool worker's initializer: exit when the driver's end of the pipe ``driver``
    closes, as it does when the driver ends (its parent is the fork server, not the driver)."""
    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            driver.recv_bytes()         # the driver never writes: this returns at its end
        os._exit(1)

    threading.Thread(target=watch, name="numnet-driver-watch", daemon=True).start()


class DaskExecutor:
    """Runs as Dask tasks, on a running cluster or on a new ``LocalCluster``.

    ``scheduler``: an address (``"tcp://10.0.0.5:8786"``) or a ``distributed.Client``;
    default a ``LocalCluster`` of ``n_workers`` single-threaded processes, closed at the
    end. ``retries``: Dask's, per task (a lost worker's tasks are rescheduled anyway; a run
    that raises is a failed result). ``timeout``: seconds to wait for the scheduler, and
    for a worker when there is none; then a ``RuntimeError``, every finished run stored.
    """

    def __init__(self, scheduler: Any = None, n_workers: int | None = None,
                 retries: int = 2, timeout: float = 10.0) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ImportError("the Dask executor needs dask.distributed: "
                              "pip install 'numnet[dask]'") from exc
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout, self.retries = float(timeout), retries
        self._owned: list[Any] = []       # what close() closes: what this executor opened
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
            self.address = str(getattr(scheduler.scheduler, "address", "the scheduler"))
        elif scheduler is None:
            cluster = distributed.LocalCluster(n_workers=n_workers or os.cpu_count() or 1,
                                               threads_per_worker=1, processes=True,
                                               dashboard_address=":0")
            self.client = distributed.Client(cluster)
            self._owned = [self.client, cluster]
            self.address = str(cluster.scheduler_address)
        elif isinstance(scheduler, str):
            self.address = scheduler
            try:
                self.client = distributed.Client(scheduler, timeout=self.timeout)
            except (OSError, TimeoutError) as exc:
                raise RuntimeError(f"no Dask scheduler answered at {scheduler} within "
                                   f"{self.timeout:g} s; check the address and that `dask "
                                   f"scheduler` runs there (or wait longer with --timeout)"
                                   ) from exc
            except ValueError as exc:
                raise ValueError(f"{scheduler} is not a Dask scheduler address ({exc}); give "
                                 f"one such as tcp://10.0.0.5:8786") from exc
            self._owned = [self.client]
        else:
            raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786' or a "
                            f"distributed.Client, got {type(scheduler).__name__}")

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]:
        queue = iter(specs)
        first = next(queue, None)
        if first is None:
            return
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except (TimeoutError, OSError) as exc:
            raise RuntimeError(f"the Dask scheduler at {self.address} has no worker (waited "
                               f"{self.timeout:g} s); start workers (dask worker "
                               f"{self.address}) and run the sweep again") from exc
        pool = self.client.get_executor(pure=False, retries=self.retries)
        shared: dict[int, tuple[Any, Any]] = {}    # id -> (the source, kept; its scattered copy)

        def submit(spec: RunSpec) -> Future:
            data = None
            if spec.data.train is not None:         # arrays go to the workers once
                if id(spec.data) not in shared:
                    shared[id(spec.data)] = (spec.data, self.client.scatter(
                        spec.data, broadcast=True, timeout=self.timeout))
                data = shared[id(spec.data)][1]
            return pool.submit(_run_on_worker, fn, spec, data, key=f"numnet-run-{spec.key}")

        yield from _as_completed(itertools.chain([first], queue),
                                 max(64, 4 * sum(self.client.nthreads().values())), submit,
                                 self._dropped, self._watchdog())

    def _dropped(self, exc: BaseException) -> Exception | None:
        if isinstance(exc, CancelledError):
            return RuntimeError(f"the Dask scheduler at {self.address} dropped the sweep's "
                                f"tasks (it restarted or went away); {_STORED}: run the sweep "
                                f"again when it is back")
        return None

    def _watchdog(self) -> Callable[[bool], None]:
        """A RuntimeError once the cluster has had no worker (or scheduler) for ``timeout``
        with no run finishing."""
        idle_since: float | None = None

        def watch(progressed: bool) -> None:
            nonlocal idle_since
            workers = None
            if not progressed and self.client.status == "running":
                with contextlib.suppress(OSError, TimeoutError, KeyError):
                    workers = len(self.client.scheduler_info()["workers"])
            now = time.monotonic()
            idle_since = None if progressed or workers else idle_since or now
            if idle_since is None or now - idle_since < self.timeout:
                return
            if workers is None:
                raise RuntimeError(f"lost the Dask scheduler at {self.address} for "
                                   f"{self.timeout:g} s; {_STORED}: run the sweep again when "
                                   f"the scheduler is back")
            raise RuntimeError(f"the Dask scheduler at {self.address} has had no worker for "
                               f"{self.timeout:g} s; {_STORED}: start workers (dask worker "
                               f"{self.address}) and run the sweep again")
        return watch

    def close(self) -> None:
        # A client whose scheduler went away logs its reconnection's traceback on closing:
        # the sweep has already said what happened, in one line.
        logs = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name == "distributed" or name.startswith("distributed.")]
        levels = [log.level for log in logs]
        for log in logs:                    # Dask's own loggers only: others keep logging
            log.setLevel(logging.CRITICAL + 1)
        try:
            for thing in self._owned:
                with contextlib.suppress(Exception):
                    thing.close()
        finally:
            for log, level in zip(logs, levels, strict=True):
                log.setLevel(level)
        self._owned = []


def _run_on_worker(fn: RunFn, spec: RunSpec, data: Any) -> Result:
    return fn(spec if data is None else dataclasses.replace(spec, data=data))


def get_executor(executor: str | Executor = "serial", *, scheduler: Any = None,
                 workers: int | None = None, timeout: float = 10.0) -> Executor:
    """An executor by name (``"serial"``, ``"processes"``, ``"dask"``) or the one given; a
    ``scheduler`` (address or ``distributed.Client``) implies ``"dask"``."""
    if isinstance(executor, Executor):
        return executor
    if scheduler is not None:
        if executor not in ("dask", "serial"):
            raise ValueError(f"a scheduler address runs on Dask; drop executor={executor!r} "
                             f"or use executor='dask'")
        return DaskExecutor(scheduler, timeout=timeout)
    if executor == "serial":
        return SerialExecutor()
    if executor == "processes":
        return ProcessExecutor(workers)
    if executor == "dask":
        return DaskExecutor(None, n_workers=workers, timeout=timeout)
    raise ValueError(f"executor must be 'serial', 'processes' or 'dask' (or an Executor), "
                     f"got {executor!r}")

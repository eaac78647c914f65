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

Runs are handed out as workers free up, a few at a time, so a sweep of a
million runs never holds a million tasks. Worker processes end with their
driver, however it ends (``kill -9`` included): each watches a pipe from the
driver and exits when it closes. A Dask sweep waits a bounded time for its
scheduler and for a worker, then stops with every finished run stored.
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

    def run(self, specs: Iterable[RunSpec],
            fn: Callable[[RunSpec], Result] = run_single_threaded) -> Iterator[Result]:
        """Yield ``fn(spec)`` for every spec, as each completes; ``specs`` is read as
        runs are handed out, so it may be a generator of any length."""
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

    def run(self, specs: Iterable[RunSpec],
            fn: Callable[[RunSpec], Result] = run_single_threaded) -> Iterator[Result]:
        for spec in specs:
            yield fn(spec)


def _default_context() -> multiprocessing.context.BaseContext:
    # Never fork: a forked child inherits the parent's threads and locks (numba's,
    # BLAS's, the store's), which can deadlock. forkserver forks from a clean server.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _exit_with_driver(driver: Any) -> None:
    """A pool worker's initializer: exit as soon as the driver's end of ``driver`` (a pipe)
    closes, which the system does when the driver ends, however it ends.

    The worker's parent is the fork server, not the driver, so watching the
    parent would not do; the pipe's other end is held by the driver alone.
    """
    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            driver.recv_bytes()         # the driver never writes: this returns at its end
        os._exit(1)

    threading.Thread(target=watch, name="numnet-driver-watch", daemon=True).start()


class ProcessExecutor(Executor):
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`).

    Parameters
    ----------
    max_workers : int, optional
        Default: every core (``os.cpu_count()``), but never more than the runs.
    context : str, optional
        ``"forkserver"`` (default where available) or ``"spawn"``; ``"fork"``
        is refused (unsafe with numba's and BLAS's threads).

    Each worker exits when the driver ends, even when it is killed (``kill
    -9``): no worker outlives the sweep that started it.
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

    def run(self, specs: Iterable[RunSpec],
            fn: Callable[[RunSpec], Result] = run_single_threaded) -> Iterator[Result]:
        queue = iter(specs)
        first = list(itertools.islice(queue, self.max_workers or os.cpu_count() or 1))
        if not first:
            return
        workers = len(first)
        queue = itertools.chain(first, queue)
        # The workers get the reading end; only this process holds the writing end.
        watched, held = self.context.Pipe(duplex=False)
        try:
            with ProcessPoolExecutor(workers, mp_context=self.context,
                                     initializer=_exit_with_driver,
                                     initargs=(watched,)) as pool:
                yield from self._results(pool, queue, fn, 2 * workers)
        finally:
            held.close()
            watched.close()

    @staticmethod
    def _results(pool: ProcessPoolExecutor, queue: Iterator[RunSpec],
                 fn: Callable[[RunSpec], Result], in_flight: int) -> Iterator[Result]:
        """Keep ``in_flight`` runs submitted, yield each result as it completes."""
        pending: dict[Future, RunSpec] = {}
        try:
            while True:
                for spec in itertools.islice(queue, in_flight - len(pending)):
                    pending[pool.submit(fn, spec)] = spec
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    spec = pending.pop(future)
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        # Not the run's fault: a worker died (killed, out of memory). Record
                        # nothing for the runs still pending, so that a restart runs them.
                        raise RuntimeError(f"a worker process died ({exc}); every finished run "
                                           f"is stored: run the sweep again to continue") from exc
                    yield _failed(spec, exc) if exc is not None else future.result()
        finally:
            for future in pending:              # the driver stopped early: drop the rest
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
    timeout : float, default 10
        Seconds to wait for the scheduler to answer when connecting, and for
        a worker when the cluster has none (at the start, or after losing
        them all): then the sweep stops with a ``RuntimeError``, every run
        finished so far already stored.
    """

    name = "dask"

    def __init__(self, scheduler: Any = None, n_workers: int | None = None,
                 retries: int = 2, timeout: float = 10.0) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ImportError("the Dask executor needs dask.distributed: "
                              "pip install 'numnet[dask]'") from exc
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._distributed = distributed
        self._owned: list[Any] = []
        self.timeout = float(timeout)
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
            self.address = str(getattr(scheduler.scheduler, "address", "the scheduler"))
        elif scheduler is None:
            cluster = distributed.LocalCluster(n_workers=n_workers or os.cpu_count() or 1,
                                               threads_per_worker=1, processes=True,
                                               dashboard_address=None)
            self.client = distributed.Client(cluster)
            self._owned = [self.client, cluster]
            self.address = str(cluster.scheduler_address)
        elif isinstance(scheduler, str):
            self.address = scheduler
            self.client = self._connect(scheduler)
            self._owned = [self.client]
        else:
            raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786' or a "
                            f"distributed.Client, got {type(scheduler).__name__}")
        self.retries = retries

    def _connect(self, address: str) -> Any:
        """A client of the scheduler at ``address``, or a one-line RuntimeError within
        ``timeout`` seconds."""
        try:
            return self._distributed.Client(address, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"no Dask scheduler answered at {address} within "
                               f"{self.timeout:g} s; check the address and that `dask "
                               f"scheduler` runs there (or wait longer with --timeout)") from exc
        except ValueError as exc:
            raise ValueError(f"{address} is not a Dask scheduler address ({exc}); give one "
                             f"such as tcp://10.0.0.5:8786") from exc

    def _workers(self) -> int | None:
        """How many workers the scheduler has now; None when the scheduler is not reachable."""
        if self.client.status != "running":
            return None
        try:
            return len(self.client.scheduler_info()["workers"])
        except (OSError, TimeoutError, KeyError):
            return None

    def _stop(self, since: float, workers: int | None) -> None:
        """Raise when the cluster has had no worker (or no scheduler) for ``timeout`` s."""
        if time.monotonic() - since < self.timeout:
            return
        if workers is None:
            raise RuntimeError(f"lost the Dask scheduler at {self.address} for "
                               f"{self.timeout:g} s; every finished run is stored: run the "
                               f"sweep again when the scheduler is back")
        raise RuntimeError(f"the Dask scheduler at {self.address} has had no worker for "
                           f"{self.timeout:g} s; every finished run is stored: start workers "
                           f"(dask worker {self.address}) and run the sweep again")

    def run(self, specs: Iterable[RunSpec],
            fn: Callable[[RunSpec], Result] = run_single_threaded) -> Iterator[Result]:
        queue = iter(specs)
        first = next(queue, None)
        if first is None:
            return
        queue = itertools.chain([first], queue)
        self._wait_for_a_worker()
        in_flight = max(64, 4 * sum(self.client.nthreads().values()))
        shared: dict[int, tuple[Any, Any]] = {}
        pending: dict[Any, RunSpec] = {}
        done = self._distributed.as_completed(loop=self.client.loop)
        idle_since: float | None = None
        checked = time.monotonic()
        try:
            while True:
                for spec in itertools.islice(queue, in_flight - len(pending)):
                    future = self._submit(spec, fn, shared)
                    pending[future] = spec
                    done.add(future)
                if not pending:
                    return
                progressed = False
                for future in done.next_batch(block=False):
                    result = self._result(future, pending[future])
                    if result is None:          # not fetched (its worker died): wait again
                        done.add(future)
                        continue
                    del pending[future]
                    progressed = True
                    yield result
                if progressed:
                    idle_since = None
                    continue
                time.sleep(0.05)
                if time.monotonic() - checked >= 0.5:      # is anyone still working?
                    checked = time.monotonic()
                    workers = self._workers()
                    idle_since = None if workers else idle_since or checked
                    if idle_since is not None:
                        self._stop(idle_since, workers)
        finally:
            if pending:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(pending))

    def _wait_for_a_worker(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except (TimeoutError, OSError) as exc:
            raise RuntimeError(f"the Dask scheduler at {self.address} has no worker (waited "
                               f"{self.timeout:g} s); start workers (dask worker "
                               f"{self.address}) and run the sweep again") from exc

    def _submit(self, spec: RunSpec, fn: Callable[[RunSpec], Result],
                shared: dict[int, tuple[Any, Any]]) -> Any:
        """Submit one run; its data, when arrays, is sent to the workers once per source."""
        data = None
        if spec.data.train is not None:
            if id(spec.data) not in shared:     # the source is kept: its id stays its own
                shared[id(spec.data)] = (spec.data, self.client.scatter(
                    spec.data, broadcast=True, timeout=self.timeout))
            data = shared[id(spec.data)][1]
        return self.client.submit(_run_on_worker, fn, spec, data, key=f"numnet-run-{spec.key}",
                                  retries=self.retries, pure=False)

    def _result(self, future: Any, spec: RunSpec) -> Result | None:
        """The run's result; None when it cannot be fetched within ``timeout`` (its worker
        died holding it, and the scheduler computes it again; or the scheduler is away).

        Only a task that raised is recorded as a failed run: a result lost in
        transit, or a task the cluster dropped, is not (a rerun runs it).
        """
        if future.status == "cancelled":
            raise RuntimeError(f"the Dask scheduler at {self.address} dropped the sweep's tasks "
                               f"(it restarted or went away); every finished run is stored: run "
                               f"the sweep again when it is back")
        try:
            if future.status == "error":
                error = future.exception(timeout=self.timeout)
                result = _failed(spec, error)
            else:
                result = future.result(timeout=self.timeout)
        except (TimeoutError, OSError):       # OSError: distributed's CommClosedError
            return None
        except CancelledError:
            return None                         # seen as cancelled on the next pass
        except Exception as exc:  # noqa: BLE001 (a task that raised is a failed run)
            result = _failed(spec, exc)
        future.release()
        return result

    def close(self) -> None:
        # Closing a client whose scheduler went away logs its reconnection's traceback:
        # the sweep has already said what happened, in one line.
        logs = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name == "distributed" or name.startswith("distributed.")]
        levels = [log.level for log in logs]
        for log in logs:
            log.setLevel(logging.CRITICAL + 1)
        try:
            for thing in self._owned:
                with contextlib.suppress(Exception):
                    thing.close()
        finally:
            for log, level in zip(logs, levels, strict=True):
                log.setLevel(level)
        self._owned = []


def _run_on_worker(fn: Callable[[RunSpec], Result], spec: RunSpec, data: Any) -> Result:
    if data is not None:
        spec = dataclasses.replace(spec, data=data)
    return fn(spec)


def get_executor(executor: str | Executor = "serial", *, scheduler: Any = None,
                 workers: int | None = None, timeout: float = 10.0) -> Executor:
    """An executor by name (``"serial"``, ``"processes"``, ``"dask"``) or the one given.

    A ``scheduler`` (address or ``distributed.Client``) implies ``"dask"``;
    ``timeout`` is the Dask executor's (seconds to wait for the scheduler and
    for a worker).
    """
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

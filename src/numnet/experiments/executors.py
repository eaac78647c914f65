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

import ast
import contextlib
import dataclasses
import itertools
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from numnet.validation import check_count, check_positive_float

from .runs import RunSpec, empty_result, execute_run, spelled

Result = dict[str, Any]
RunFn = Callable[[RunSpec], Result]
_STORED = "every finished run is stored"
#: The line under which a script keeps what must not run again in its worker processes.
GUARD = 'if __name__ == "__main__":'
#: What the processes and Dask executors start, as their refusals name it.
PROCESSES, LOCAL_CLUSTER = ('worker processes (executor="processes")',
                            'a Dask LocalCluster of worker processes (executor="dask")')


def _main_script() -> str | None:
    """The file of the main module that a new worker process runs again as it starts (as
    Python's spawn and forkserver do), or None: no file (``python -c``, a notebook), or a
    package's ``__main__`` (``python -m package``), which they never run again."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    name = str(getattr(getattr(main, "__spec__", None), "name", None) or "")
    if not path or name == "__main__" or name.endswith(".__main__"):
        return None
    return str(path)


def _guarded(path: str, line: int) -> bool | None:
    """Whether ``line`` of the script ``path`` is under an ``if`` on ``__name__`` (the
    guard, or any test of it); None when the source cannot be read or parsed."""
    try:
        tree = ast.parse(Path(path).read_bytes(), path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and node.lineno <= line <= (node.end_lineno or line) \
                and any(isinstance(n, ast.Name) and n.id == "__name__"
                        for n in ast.walk(node.test)):
            return True
    return False


def refuse_unguarded_main(starts: str) -> None:
    """Refuse, before anything starts, to start ``starts`` (worker processes) from a
    script's top-level code that is not under ``if __name__ == "__main__":``.

    Each worker process starts by running the main script again (Python's spawn and
    forkserver; Dask's local workers too): a script that starts a sweep at import would
    start it again in each, and each would die in its bootstrapping phase. Two cases are
    caught, each a RuntimeError in one line: the main script, while it runs its top-level
    code, calls this from a line outside the guard (read from its source; nothing is
    refused when the source cannot be read); or this process is a worker running the main
    script again as it starts (``__mp_main__``).

    Parameters
    ----------
    starts : str
        What would start, as the message names it (e.g. :data:`PROCESSES`).

    Raises
    ------
    RuntimeError
        In either case, with the fix: that code under ``if __name__ == "__main__":``.
    """
    fix = (f"put the code that starts them under '{GUARD}' (add that line and indent the "
           f"code beneath it)")
    frame = sys._getframe(1)
    reimport = None
    main = sys.modules.get("__main__")
    top: Any = None
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            if frame.f_globals.get("__name__") == "__mp_main__":
                reimport = frame
            elif main is not None and frame.f_globals is vars(main):
                top = frame
        frame = frame.f_back    # type: ignore[assignment]
    if reimport is not None:
        script = reimport.f_code.co_filename
        raise RuntimeError(f"{script} line {reimport.f_lineno} starts {starts} again in a "
                           f"worker process that is running the script as it starts: {fix}")
    script = _main_script()
    if script is None or top is None or _guarded(script, top.f_lineno) is not False:
        return
    raise RuntimeError(f"{script} line {top.f_lineno} starts {starts} when the script runs, "
                       f"and each worker runs the script again as it starts: {fix}")


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
    read as runs are handed out, so it may be a generator of any length.

    A protocol: anything with these two methods is an executor (``isinstance(x,
    Executor)``), and :func:`~numnet.experiments.sweep` takes it as ``executor``.

    Parameters
    ----------
    *args, **kwargs : Any
        None taken: a protocol is matched, not made.
    """

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]:
        """Run each spec and yield its result as it ends.

        Parameters
        ----------
        specs : iterable of RunSpec
            The runs, read as they are handed out.
        fn : callable, default run_single_threaded
            Runs one spec and returns its result (a dict of
            :data:`~numnet.experiments.runs.RESULT_FIELDS`).

        Returns
        -------
        iterator of dict
            One result per spec, in the order the runs end.
        """
        ...

    def close(self) -> None:
        """Release what the executor opened (nothing for most)."""
        ...


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
        """Run each spec in turn, here, and yield its result.

        Parameters
        ----------
        specs : iterable of RunSpec
            The runs, read one at a time.
        fn : callable, default run_single_threaded
            Runs one spec and returns its result.

        Returns
        -------
        iterator of dict
            One result per spec, in their order.
        """
        return map(fn, specs)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`). No
    worker outlives the driver, even after ``kill -9``.

    Each worker starts by running the main script again (as ``spawn`` and ``forkserver``
    do), so a script must start the sweep under ``if __name__ == "__main__":``; one that
    does not is refused before any worker starts (:func:`refuse_unguarded_main`).

    Parameters
    ----------
    max_workers : int or None, default None
        The most worker processes, a positive integer; None: one per core. Never more
        than the runs.
    context : {"forkserver", "spawn"} or None, default None
        How workers start; None: ``"forkserver"`` where the platform has it, else
        ``"spawn"``. ``"fork"`` is refused: it is unsafe with numba's and BLAS's threads.

    Raises
    ------
    ValueError
        For a ``max_workers`` or ``context`` outside those.
    """

    def __init__(self, max_workers: int | None = None, context: str | None = None) -> None:
        if max_workers is not None:
            check_count(max_workers, "max_workers")
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
        """Run the specs on a pool of worker processes, a few ahead of the free workers.

        Parameters
        ----------
        specs : iterable of RunSpec
            The runs, read as workers free up (never all at once).
        fn : callable, default run_single_threaded
            Runs one spec in a worker; importable there (a module's function).

        Returns
        -------
        iterator of dict
            One result per spec, as the runs end; a run that raised is a failed result.

        Raises
        ------
        RuntimeError
            When a worker dies (its run unrecorded, so that the sweep can run it again),
            when the workers die as they start, or for a script without the main guard.
        """
        queue = iter(specs)
        first = list(itertools.islice(queue, self.max_workers or os.cpu_count() or 1))
        if not first:
            return
        refuse_unguarded_main(PROCESSES)
        watched, held = self.context.Pipe(duplex=False)     # only the driver holds `held`
        started = self.context.Value("i", 0)        # workers that got past their start
        try:
            with ProcessPoolExecutor(len(first), mp_context=self.context,
                                     initializer=_start_worker,
                                     initargs=(watched, len(first), started)) as pool:
                yield from _as_completed(itertools.chain(first, queue), 2 * len(first),
                                         lambda spec: pool.submit(fn, spec),
                                         lambda exc: _dead_worker(exc, started.value))
        finally:
            held.close()
            watched.close()

    def close(self) -> None:
        """Nothing to release: each :meth:`run` closes its own pool."""


def starts_processes(executor: Any, scheduler: Any = None) -> str | None:
    """What ``executor`` (a name or an :class:`Executor`) and ``scheduler`` start on this
    machine, as :func:`refuse_unguarded_main` names it: worker processes, a Dask
    LocalCluster, or nothing (None: serial, a scheduler's cluster, an executor made)."""
    if isinstance(executor, ProcessExecutor) or (executor == "processes" and scheduler is None):
        return PROCESSES
    if executor == "dask" and scheduler is None:
        return LOCAL_CLUSTER
    return None


def _dead_worker(exc: BaseException, started: int = 1) -> Exception | None:
    """A killed worker (or one out of memory) stops the sweep, its run unrecorded, so that
    a restart runs it; when no worker got as far as its first run (``started`` 0), they
    died starting, and running the sweep again would not help."""
    if not isinstance(exc, BrokenProcessPool):
        return None
    if not started:
        return RuntimeError(_died_starting("the worker processes"))
    return RuntimeError(f"a worker process died ({exc}); {_STORED}: run the sweep again "
                        f"to continue")


def _died_starting(who: str) -> str:
    """Why ``who`` (new worker processes) died before any run, and what to do."""
    script = _main_script()
    if script is None:
        return f"{who} died as they started, before any run (what they printed is above)"
    return (f"{who} died as they started, before any run (what they printed is above); each "
            f"runs the main script {script} again first: if the script starts the sweep when "
            f"it runs, put that code under '{GUARD}' (add that line and indent the code "
            f"beneath it)")


#: The variable that caps the processes :mod:`numnet.audio` starts for many clips' features.
AUDIO_WORKERS = "NUMNET_AUDIO_WORKERS"


def _start_worker(driver: Any, pool_size: int, started: Any = None) -> None:
    """A pool worker's initializer: :func:`_exit_with_driver`, and, in a pool of several
    workers (each core already runs a run), augmented clips' features computed in the
    worker itself rather than in processes of its own (unless the user capped them);
    counts itself in ``started`` (a shared integer), as it is past its start."""
    if pool_size > 1:
        os.environ.setdefault(AUDIO_WORKERS, "1")
    _exit_with_driver(driver)
    if started is not None:
        with started.get_lock():
            started.value += 1


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

    Parameters
    ----------
    scheduler : str, distributed.Client or None, default None
        A running scheduler's address (``"tcp://10.0.0.5:8786"``) or a client of one;
        None: a new ``LocalCluster`` of ``n_workers`` single-threaded processes, closed by
        :meth:`close` (its workers run the main script again as they start, so a script
        must start it under ``if __name__ == "__main__":``).
    n_workers : int or None, default None
        The ``LocalCluster``'s worker processes, a positive integer; None: one per core.
        A running scheduler's cluster has its own.
    retries : int, default 2
        Dask's retries of each task (0 or more); a lost worker's tasks are rescheduled
        anyway, and a run that raises is a failed result.
    timeout : float, default 10.0
        Seconds to wait for the scheduler, and for a worker when there is none; then a
        ``RuntimeError``, every finished run stored.

    Raises
    ------
    ImportError
        Without ``dask.distributed`` (``numnet[dask]``).
    ValueError
        For a count or timeout out of range (a timeout must be finite and above 0), or an
        address that is none.
    TypeError
        For a timeout that is not a number.
    RuntimeError
        When no scheduler answers within ``timeout``, or the local workers cannot start.
    """

    def __init__(self, scheduler: Any = None, n_workers: int | None = None,
                 retries: int = 2, timeout: float = 10.0) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ImportError("the Dask executor needs dask.distributed: "
                              "pip install 'numnet[dask]'") from exc
        self.timeout = check_positive_float(timeout, "timeout")      # NaN would never expire
        if n_workers is not None:
            check_count(n_workers, "n_workers")
        self.retries = check_count(retries, "retries", least=0)
        self._owned: list[Any] = []       # what close() closes: what this executor opened
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
            self.address = str(getattr(scheduler.scheduler, "address", "the scheduler"))
        elif scheduler is None:
            refuse_unguarded_main(LOCAL_CLUSTER)
            try:
                cluster = distributed.LocalCluster(n_workers=n_workers or os.cpu_count() or 1,
                                                   threads_per_worker=1, processes=True,
                                                   dashboard_address=":0")
            except RuntimeError as exc:     # "Nanny failed to start."
                raise RuntimeError(f"{_died_starting('Dask local worker processes')} "
                                   f"({exc})") from exc
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
                                   f"scheduler` runs there (or wait longer with "
                                   f"{spelled('timeout=', '--timeout')})") from exc
            except ValueError as exc:
                raise ValueError(f"{scheduler} is not a Dask scheduler address ({exc}); give "
                                 f"one such as tcp://10.0.0.5:8786") from exc
            self._owned = [self.client]
        else:
            raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786' or a "
                            f"distributed.Client, got {type(scheduler).__name__}")

    def run(self, specs: Iterable[RunSpec], fn: RunFn = run_single_threaded
            ) -> Iterator[Result]:
        """Run the specs as Dask tasks, the data scattered to the workers once.

        Parameters
        ----------
        specs : iterable of RunSpec
            The runs, read as tasks are handed out (at most 64, or four per worker
            thread, in flight).
        fn : callable, default run_single_threaded
            Runs one spec on a worker; importable there.

        Returns
        -------
        iterator of dict
            One result per spec, as the runs end; a run that raised is a failed result.

        Raises
        ------
        RuntimeError
            When the cluster has no worker, or loses its scheduler or every worker, for
            ``timeout`` seconds; every finished run is stored.
        """
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
        """Close the client and ``LocalCluster`` this executor opened (a client given to it
        stays open), quietly."""
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
    """An executor by name, or the one given.

    Parameters
    ----------
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        The executor's name, or an :class:`Executor`, returned as it is.
    scheduler : str, distributed.Client or None, default None
        A running Dask scheduler (address or client): implies ``"dask"``.
    workers : int or None, default None
        Worker processes of ``"processes"`` or of Dask's ``LocalCluster``, a positive
        integer; None: one per core.
    timeout : float, default 10.0
        Dask: seconds to wait for the scheduler, and for a worker when there is none.

    Returns
    -------
    Executor
        A :class:`SerialExecutor`, :class:`ProcessExecutor` or :class:`DaskExecutor`.

    Raises
    ------
    ValueError
        For an unknown name, a count of workers that is not positive, or a scheduler with
        an executor other than Dask.
    """
    if isinstance(executor, Executor):
        return executor
    if workers is not None:
        check_count(workers, "workers")
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

"""What the sweep tests share: child processes that import this tree, waiting on them,
counting stored runs, and a Dask cluster of real processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"


def env() -> dict[str, str]:
    """This process's environment, with this tree's ``src`` first on ``PYTHONPATH``."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [out.get("PYTHONPATH")])])
    return out


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll ``predicate`` every 50 ms until it is truthy; TimeoutError after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"waited {timeout} s for {what}")


def stored_runs(path: Path) -> int:
    """Runs in the results store at ``path`` (0 while it does not exist yet)."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0


@contextlib.contextmanager
def dask_processes(tmp_path: Path, n_workers: int, timeout: float = 60
                   ) -> Iterator[tuple[str, subprocess.Popen, list[subprocess.Popen]]]:
    """A ``dask scheduler`` and ``n_workers`` single-threaded ``dask worker`` processes on
    127.0.0.1 (no nanny: killing a worker's process kills the worker), stopped at the end.

    Yields ``(address, scheduler, workers)``.
    """
    import distributed

    scheduler_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "dask.log", "wb")
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            env=env(), stdout=log, stderr=log))
        wait_for(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0,
                 "the scheduler file", timeout)
        address = json.loads(scheduler_file.read_text())["address"]
        workers = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             str(scheduler_file), "--nthreads", "1", "--nworkers", "1", "--no-nanny",
             "--no-dashboard", "--host", "127.0.0.1"],
            env=env(), stdout=log, stderr=log) for _ in range(n_workers)]
        procs += workers
        with distributed.Client(address, timeout=timeout) as client:
            client.wait_for_workers(n_workers, timeout=timeout)
        yield address, procs[0], workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()

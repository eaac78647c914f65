"""Sweeps on other processes: a process pool, Dask in-process and as separate processes,
and what happens when the driver or a worker is killed part-way."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
from sweep_processes import dask_processes, env, stored_runs, wait_for

from numnet.experiments import ProcessExecutor, ResultStore, sweep

distributed = pytest.importorskip("distributed")

TINY = {"hidden_layers": [[2], [4]], "n_samples": [30], "learning_rate": [0.1, 0.5]}
TINY_FIT = {"epochs": 3, "batch_size": 1}
# Runs of ~0.1 s each on this project's 2-core machine (measured: 0.12 s), so that a kill
# lands while runs are still going; 20 of them.
SLOW = {"hidden_layers": [[64, 64]], "n_samples": [2000]}
SLOW_FIT = {"epochs": 5, "batch_size": 16}
SLOW_SEEDS = 20


def _comparable(runs):
    """Per-run results without what depends on where and when they ran."""
    drop = {"wall_time", "worker", "finished_at"}
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in runs),
                  key=lambda r: r["key"])


def test_the_same_seeds_give_identical_runs_on_every_executor(tmp_path):
    # Two joined grids, one of them a network that cannot be built: a failed run, on each.
    grids = [TINY, {"hidden_layers": [[0]], "n_samples": [30]}]
    kw = {"repeats": 2, "fit_kwargs": TINY_FIT, "progress": False}
    serial = sweep(grids, **kw)
    assert serial.failed == 2 and len(serial.runs) == 10
    expected = _comparable(serial.runs)

    on_processes = sweep(grids, executor=ProcessExecutor(max_workers=2), **kw)
    assert _comparable(on_processes.runs) == expected

    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        in_process = sweep(grids, scheduler=client, **kw)
    assert _comparable(in_process.runs) == expected

    with dask_processes(tmp_path, n_workers=1) as (address, _, _):
        remote = sweep(grids, scheduler=address, **kw)
    assert _comparable(remote.runs) == expected
    assert {r["worker"].split(":")[1] for r in remote.runs} != {str(os.getpid())}


def test_a_dead_pool_process_stops_the_sweep_and_records_nothing_for_it(tmp_path, monkeypatch):
    # A run function that kills its process, importable by the pool's fresh processes.
    (tmp_path / "dying_run.py").write_text("import os\n\ndef die(spec):\n    os._exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import dying_run

    from numnet.experiments import DataSource, RunSpec
    specs = [RunSpec(f"k{i}", {"n_samples": 10}, i, DataSource(name="one_minus_x")) for i in
             range(3)]
    with pytest.raises(RuntimeError, match="worker process died.*run the sweep again"):
        list(ProcessExecutor(max_workers=1).run(specs, fn=dying_run.die))


def test_the_process_pool_takes_runs_as_workers_free_up():
    # A generator of runs that never ends: the pool reads a few ahead, never all of them.
    import itertools

    from numnet.experiments import DataSource, RunSpec
    taken = []

    def runs():
        for i in itertools.count():
            taken.append(i)
            yield RunSpec(f"k{i}", {"n_samples": 10, "epochs": 1}, i, DataSource(name="sine"))

    results = ProcessExecutor(max_workers=2).run(runs())
    firsts = [next(results) for _ in range(3)]
    results.close()
    assert all(r["status"] == "ok" for r in firsts)
    assert len(taken) <= 3 + 2 * 2 + 1          # what ran, plus two per worker in flight


def test_processes_executor_refuses_fork():
    with pytest.raises(ValueError, match="forkserver"):
        ProcessExecutor(context="fork")


DRIVER = """
import sys
from numnet.experiments import sweep
sweep({grid!r}, "sine", repeats={seeds}, fit_kwargs={fit!r}, store=sys.argv[1],
      progress=False)
"""


def test_a_killed_driver_restarted_completes_every_run_exactly_once(tmp_path):
    store = tmp_path / "runs.sqlite"
    code = DRIVER.format(grid=SLOW, seeds=SLOW_SEEDS, fit=SLOW_FIT)
    driver = subprocess.Popen([sys.executable, "-c", code, str(store)], env=env())
    try:
        wait_for(lambda: stored_runs(store) >= 3 or driver.poll() is not None, "3 stored runs", 120)
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.wait()
    assert driver.returncode == -signal.SIGKILL
    with contextlib.closing(sqlite3.connect(store)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT status, settings, loss_curve, finished_at FROM runs").fetchall()
    before = len(rows)
    assert 3 <= before < SLOW_SEEDS                 # killed part-way
    for status, settings, curve, finished in rows:   # every stored row is whole
        assert status == "ok" and finished
        assert len(json.loads(curve)) == SLOW_FIT["epochs"] and json.loads(settings)

    again = sweep(SLOW, "sine", repeats=SLOW_SEEDS, fit_kwargs=SLOW_FIT, store=store,
                  progress=False)
    assert (again.skipped, again.ran) == (before, SLOW_SEEDS - before)
    assert len(again.runs) == SLOW_SEEDS and again.failed == 0
    with ResultStore(store) as s:
        assert len(s) == SLOW_SEEDS
        assert sorted(r["seed"] for r in s.results()) == list(range(SLOW_SEEDS))


def test_ctrl_c_stops_the_sweep_without_recording_a_cut_short_run(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "numnet", "sweep", "--data", "sine", "--hidden",
           "64,64", "--n-samples", "2000", "--batch-size", "16", "--epochs", "5",
           "--repeats", str(SLOW_SEEDS), "--out", str(out), "--no-progress"]
    driver = subprocess.Popen(cmd, env=env(), stderr=subprocess.PIPE, text=True)
    store = out / "results.sqlite"
    try:
        wait_for(lambda: stored_runs(store) >= 2 or driver.poll() is not None, "2 stored runs", 120)
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 130, err
    assert "run the same command again" in err
    with ResultStore(store) as s:
        runs = s.results()
    assert 2 <= len(runs) < SLOW_SEEDS
    assert all(r["status"] == "ok" and r["epochs_run"] == 5 for r in runs)


def test_a_killed_dask_worker_still_yields_every_run_exactly_once(tmp_path):
    store = tmp_path / "runs.sqlite"
    with dask_processes(tmp_path, n_workers=2) as (address, _, workers):
        outcome: dict = {}

        def drive():
            try:
                outcome["result"] = sweep(SLOW, "sine", repeats=SLOW_SEEDS, fit_kwargs=SLOW_FIT,
                                          scheduler=address, store=store, progress=False)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                outcome["error"] = exc

        thread = threading.Thread(target=drive)
        thread.start()
        try:
            wait_for(lambda: stored_runs(store) >= 3 or not thread.is_alive(), "3 stored runs", 120)
            assert thread.is_alive(), "the sweep ended before a worker could be killed"
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
        finally:
            thread.join(timeout=180)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert len(result.runs) == SLOW_SEEDS and result.failed == 0
    with ResultStore(store) as s:
        runs = s.results()
    assert len(runs) == SLOW_SEEDS and len({r["key"] for r in runs}) == SLOW_SEEDS
    killed = str(workers[0].pid)
    survivors = {r["worker"] for r in runs if not r["worker"].endswith(":" + killed)}
    assert survivors                                  # the other worker finished the rest


def test_a_local_cluster_sweep_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from numnet.cli.sweep import sweep_command
    result = CliRunner().invoke(sweep_command, [
        "--hidden", "2", "--n-samples", "20", "--epochs", "2", "--repeats", "2",
        "--backend", "dask", "--workers", "1", "--out", str(tmp_path), "--no-progress"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 runs (2 run now, 0 already stored), 0 failed" in result.output


def _search(estimator, X, y, backend: str | None):
    import joblib
    from sklearn.model_selection import GridSearchCV
    search = GridSearchCV(estimator, {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-2]},
                          cv=3, n_jobs=2 if backend else None)
    if backend is None:
        return search.fit(X, y)
    with joblib.parallel_backend(backend):
        return search.fit(X, y)


def _spirals():
    from numnet import datasets
    return datasets.spirals(90, random_state=np.random.default_rng(0))


def _search_on_dask(estimator):
    from sklearn.exceptions import ConvergenceWarning
    X, y = _spirals()
    # max_iter=20 keeps the 26 fits quick, and the test compares the searches' scores, not
    # how well they fit: every fit stops before converging and says so.
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(20\) reached"):
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                      dashboard_address=":0") as cluster, \
                distributed.Client(cluster):
            on_dask = _search(estimator, X, y, "dask")
        here = _search(estimator, X, y, None)
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"],
                                  here.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == here.best_params_


def test_grid_search_over_numnet_estimators_on_dask():
    pytest.importorskip("sklearn")        # numnet.estimators needs the sklearn extra
    estimators = pytest.importorskip("numnet.estimators")
    _search_on_dask(estimators.MLPClassifier(max_iter=20, random_state=0))


def test_grid_search_on_dask_mechanism_with_sklearns_own_estimator():
    # An extra check of joblib's dask backend; the numnet estimator test above is the real one.
    sklearn_nn = pytest.importorskip("sklearn.neural_network")
    _search_on_dask(sklearn_nn.MLPClassifier(max_iter=20, random_state=0))

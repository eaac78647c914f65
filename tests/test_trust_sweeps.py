"""``numnet sweep`` under a careful, hostile user: each case is the real command in a
subprocess, with the bytes of every file at stake compared before and after.

The classes: a sweep too large to plan is refused in one line, in little memory; a
store that numnet cannot use is named for what it is and never changed; no worker
process outlives a killed driver; a Dask cluster that cannot be reached, or that
loses every worker or its scheduler, ends the sweep in one line with the finished
runs kept; no output is written over an input or another output; the report says
what ran; names read from files reach the terminal escaped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_processes import dask_processes, env, stored_runs, wait_for

from numnet.experiments import store as store_module
from numnet.experiments.store import ResultStore, StoreError

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

TINY = ["--hidden", "2", "--n-samples", "10", "--epochs", "1", "--no-progress"]
# Runs of ~0.1 s each (measured 0.12 s on a 2-core machine): a kill lands mid-sweep.
SLOW = ["--data", "sine", "--hidden", "64,64", "--n-samples", "2000", "--batch-size", "16",
        "--epochs", "5", "--no-progress"]
# Bounds on waiting for something that should happen in a second or two, generous so
# that a slow machine never fails them; they bound a hang, they time nothing.
BOUND = 120


def _numnet(*args: str) -> list[str]:
    return [sys.executable, "-m", "numnet", "sweep", *map(str, args)]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=BOUND, **kw)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(result: subprocess.CompletedProcess, exit_code: int = 1) -> str:
    """The command failed with one ``Error:`` line and no traceback; that line."""
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [t for t in result.stderr.splitlines() if t.strip()]
    assert lines and lines[-1].startswith("Error: "), result.stderr
    if exit_code == 1:
        assert len(lines) == 1, result.stderr
    return lines[-1]


# --- 1. a sweep too large to plan -----------------------------------------------------------

# Runs the command given as its arguments and prints its peak resident memory (KiB on
# Linux), so that the figure is this command's alone.
PEAK = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stderr.write(r.stderr)
sys.exit(r.returncode)
"""


def test_a_hundred_million_repeats_is_refused_at_once_in_little_memory(tmp_path):
    # Before: 4.3 GB resident after 60 s, no run started. Measured now: 43 MB, 0.6 s.
    out = tmp_path / "out"
    result = _run([sys.executable, "-c", PEAK, *_numnet(*TINY, "--repeats", 100_000_000,
                                                        "--out", out)])
    line = _one_line_error(result)
    assert "100,000,000 runs (1 setting × 100,000,000 seeds)" in line
    assert "limit of 100,000 runs" in line and "--max-runs 100000000" in line
    assert not out.exists()
    if sys.platform.startswith("linux"):              # ru_maxrss is KiB there
        assert int(result.stdout) < 300 * 1024         # measured 43 MB; 300 MB is margin


def test_a_million_setting_grid_file_is_refused_and_max_runs_lifts_the_limit(tmp_path):
    grid = tmp_path / "million.json"
    grid.write_text(json.dumps({"n_samples": list(range(1, 1001)),
                                "learning_rate": [i / 1000 for i in range(1, 1001)]}))
    line = _one_line_error(_run(_numnet("--grid", grid, "--out", tmp_path / "a")))
    assert "1,000,000 runs (1,000,000 settings × 1 seed)" in line and "--max-runs" in line

    # the preset's joined grids share a setting: the count is of distinct settings
    line = _one_line_error(_run(_numnet("--preset", "tutorial", "--repeats", 1, "--max-runs",
                                        21, "--out", tmp_path / "b")))
    assert "22 runs (22 settings × 1 seed)" in line and "limit of 21 runs" in line

    # --max-runs lifts the limit: the command goes on to its next check (here a store that
    # is a CSV file, refused before any run; sweep(max_runs=) runs in test_experiments.py)
    line = _one_line_error(_run(_numnet(*TINY, "--repeats", 3, "--max-runs", 2, "--store",
                                        _not_sqlite(tmp_path / "s.csv"), "--out", tmp_path)))
    assert "3 runs (1 setting × 3 seeds)" in line and "--max-runs 3" in line
    line = _one_line_error(_run(_numnet(*TINY, "--repeats", 3, "--max-runs", 3, "--store",
                                        tmp_path / "s.csv", "--out", tmp_path)))
    assert "is not an SQLite file" in line


# --- 2. stores numnet cannot use -----------------------------------------------------------


def _numnet_store(path: Path, runs: int = 6) -> Path:
    """A store as a sweep leaves it (runs with long loss curves: several pages)."""
    with ResultStore(path) as s:
        for i in range(runs):
            s.add({"key": f"k{i}", "status": "ok", "settings": {"n_samples": 10}, "seed": i,
                   "loss_curve": [0.5] * 300, "final_loss": 0.5})
    return path


def _foreign(path: Path) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('ann')")
        conn.commit()
    return path


def _damaged(path: Path) -> Path:
    _numnet_store(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for i in range(page, page + 32):         # the b-tree header of the second page
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _not_sqlite(path: Path) -> Path:
    path.write_text("x,y\n0.1,0.9\n")
    return path


@pytest.mark.parametrize("make, says", [
    (_foreign, "another program's SQLite database (tables: 'people')"),
    (_not_sqlite, "is not an SQLite file"),
    (_damaged, "is a damaged SQLite file"),
], ids=["another-programs-database", "not-sqlite", "bit-flipped"])
def test_a_store_numnet_cannot_use_is_named_and_left_untouched(tmp_path, make, says):
    path = make(tmp_path / "their.db")
    before = _digest(path)
    line = _one_line_error(_run(_numnet(*TINY, "--store", path, "--out", tmp_path / "out")))
    assert says in line and "--store" in line
    assert "delete" not in line
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["their.db"]   # no -wal, -shm, out


def _read_only_folder_command(folder: Path, cmd: list[str]) -> list[str] | None:
    """``cmd`` run where ``folder`` is read-only: a read-only bind mount in a private mount
    namespace (root), or a folder without write permission (others); None when neither
    can be had (root without the right to mount)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return cmd
    unshare = shutil.which("unshare")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    wrapped = [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh",
               str(folder), *cmd] if unshare else None
    if wrapped is None or subprocess.run(wrapped[:-len(cmd)] + ["true"],
                                         capture_output=True).returncode != 0:
        return None
    return wrapped


def test_a_valid_store_in_a_read_only_folder_is_reported_as_read_only(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    store = _numnet_store(folder / "results.sqlite")
    before = _digest(store)
    cmd = _read_only_folder_command(folder, _numnet(*TINY, "--store", store, "--out",
                                                    tmp_path / "out"))
    if cmd is None:
        pytest.skip("cannot make a read-only folder here (root without mount rights); "
                    "the classification tests below still run")
    try:
        line = _one_line_error(_run(cmd))
    finally:
        folder.chmod(0o755)
    assert "is a numnet results store (6 runs)" in line and "is read-only" in line
    assert "intact" in line and "delete" not in line
    assert _digest(store) == before
    assert sorted(p.name for p in folder.iterdir()) == ["results.sqlite"]


@pytest.mark.parametrize("probe, says", [
    ("_cannot_create_in", "its folder"),
    ("_cannot_write", "cannot be written (Read-only file system)"),
])
def test_read_only_stores_are_classified_as_read_only(tmp_path, monkeypatch, probe, says):
    # The same check with the file system's answer given: how it reads as root on a
    # read-only file system, or as a user without write permission.
    store = _numnet_store(tmp_path / "results.sqlite")
    before = _digest(store)
    monkeypatch.setattr(store_module, probe, lambda path: "Read-only file system")
    with pytest.raises(StoreError) as caught:
        ResultStore(store)
    message = str(caught.value)
    assert "numnet results store (6 runs)" in message and says in message
    assert "intact" in message and "delete" not in message and "\n" not in message
    assert _digest(store) == before


def test_a_store_that_turns_read_only_mid_sweep_says_so(tmp_path):
    # SQLite's own read-only mode stands in for a file system remounted read-only.
    path = _numnet_store(tmp_path / "results.sqlite")
    with ResultStore(path) as s:
        s._conn.close()
        s._conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True,
                                  isolation_level=None)
        with pytest.raises(StoreError, match="cannot be written.*read-only.*intact"):
            s.add({"key": "new", "status": "ok", "settings": {}, "seed": 0})
    with ResultStore(path) as s:
        assert len(s) == 6


# --- 3. no orphans ------------------------------------------------------------------------


def _alive_in_session(sid: int) -> list[str]:
    """Processes of session ``sid`` that are not zombies: their pid and command line."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:                   # ended while we looked
            continue
        state, _, _, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) == sid and state != "Z":
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            alive.append(f"{entry}: {command[:80]}")
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_no_process_outlives_a_killed_sweep(tmp_path):
    # Before: the fork server, the resource tracker and two workers still alive 9 minutes
    # after `kill -9` of the driver. Measured now: all gone within 0.5 s. (A Dask
    # LocalCluster's workers already ended with their driver: Dask watches it the same way.)
    out = tmp_path / "out"
    driver = subprocess.Popen(_numnet(*SLOW, "--repeats", 40, "--backend", "processes",
                                      "--workers", 2, "--out", out),
                              env=env(), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sid = driver.pid
    try:
        wait_for(lambda: stored_runs(out / "results.sqlite") >= 1 or driver.poll() is not None,
                 "a stored run")
        assert driver.poll() is None, "the sweep ended before it could be killed"
        assert len(_alive_in_session(sid)) >= 3          # the driver and its workers
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        try:   # not a timing: a bound on waiting for processes that should end at once
            wait_for(lambda: not _alive_in_session(sid), "the workers to end", timeout=10)
        except TimeoutError:
            pytest.fail(f"still alive 10 s after kill -9: {_alive_in_session(sid)}")
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        for line in _alive_in_session(sid):              # never leave ours behind
            with contextlib.suppress(OSError):
                os.kill(int(line.split(":")[0]), signal.SIGKILL)


# --- 4. Dask: an unreachable scheduler, a cluster that loses its workers or scheduler -------


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(tmp_path):
    # Before: a traceback after 30 s. Now: one line after --timeout (1 s here).
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    line = _one_line_error(_run(_numnet(*TINY, "--scheduler", "tcp://127.0.0.1:1",
                                        "--timeout", 1, "--out", out)))
    assert "no Dask scheduler answered at tcp://127.0.0.1:1 within 1 s" in line
    assert not out.exists()


@pytest.mark.parametrize("lost, says", [
    ("worker", "has had no worker for 1 s"),
    ("scheduler", "dropped the sweep's tasks"),
])
def test_a_cluster_that_loses_its_workers_or_scheduler_stops_in_one_line(tmp_path, lost, says):
    # Before: losing every worker hung with no output. Measured now: one line 3.6 s after
    # the last worker died (with --timeout 3), 1.7 s after the scheduler did.
    pytest.importorskip("distributed")
    store = tmp_path / "out" / "results.sqlite"
    with dask_processes(tmp_path, 1, BOUND) as (address, scheduler, (worker,)):
        sweep = subprocess.Popen(_numnet(*SLOW, "--repeats", 40, "--scheduler", address,
                                         "--timeout", 1, "--out", tmp_path / "out"),
                                 env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            wait_for(lambda: stored_runs(store) >= 2 or sweep.poll() is not None, "2 stored runs")
            assert sweep.poll() is None, "the sweep ended before the cluster could fail"
            victim = worker if lost == "worker" else scheduler
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            out, err = sweep.communicate(timeout=BOUND)
        finally:
            if sweep.poll() is None:
                sweep.kill()
                sweep.communicate()
    line = _one_line_error(subprocess.CompletedProcess(sweep.args, sweep.returncode, out, err))
    assert says in line and "every finished run is stored" in line
    with ResultStore(store) as s:
        runs = s.results()
    assert 2 <= len(runs) < 40
    assert all(r["status"] == "ok" for r in runs)     # nothing lost was recorded as failed


# --- 5. outputs are never inputs, nor each other ---------------------------------------------


@pytest.mark.parametrize("case", ["store-is-grid", "report-is-grid", "store-is-csv",
                                  "store-is-plot", "out-under-a-file"])
def test_outputs_are_checked_before_any_run(tmp_path, case):
    grid = tmp_path / "sweep.json"
    grid.write_text(json.dumps({"hidden_layers": [[2], [3]], "n_samples": [10]}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text(grid.read_text())
    args, says = {
        "store-is-grid": (["--grid", grid, "--store", grid, "--out", out],
                          "--store {grid} is the --grid file this command reads"),
        "report-is-grid": (["--grid", out / "sweep.json", "--out", out],
                           "the report's sweep.json {out}/sweep.json is the --grid file"),
        "store-is-csv": (["--grid", grid, "--store", out / "results.csv", "--out", out],
                         "--store and the report's results.csv both name"),
        "store-is-plot": (["--grid", grid, "--store", out / "error_vs_hidden_layers.png",
                           "--out", out],
                          "--store and the report's error_vs_hidden_layers.png both name"),
        "out-under-a-file": (["--grid", grid, "--out", grid / "out"],
                             "--out {grid}/out: {grid} is a file, not a folder"),
    }[case]
    files = {p: p.read_bytes() for p in (grid, out / "sweep.json")}
    line = _one_line_error(_run(_numnet(*args, "--epochs", 1, "--no-progress")))
    assert says.format(grid=grid, out=out) in line
    assert {p: p.read_bytes() for p in files} == files
    assert sorted(p.name for p in out.iterdir()) == ["sweep.json"]      # nothing ran


def test_an_out_folder_that_cannot_be_written_is_refused_before_any_run(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    cmd = _read_only_folder_command(folder, _numnet(*TINY, "--out", folder / "sweep"))
    if cmd is None:
        pytest.skip("cannot make a read-only folder here (root without mount rights)")
    try:
        line = _one_line_error(_run(cmd))
    finally:
        folder.chmod(0o755)
    assert f"cannot create the store {folder}/sweep/results.sqlite" in line or \
        f"--out {folder}/sweep: cannot write in {folder}" in line
    assert list(folder.iterdir()) == []


# --- 6. the report says what ran; names from files reach the terminal escaped -------------


def test_the_tutorial_report_states_the_epochs_and_networks_that_ran(tmp_path):
    # Before: "--preset tutorial --epochs 5" opened its report with "50 epochs".
    out = tmp_path / "out"
    result = _run(_numnet("--preset", "tutorial", "--epochs", 1, "--repeats", 1,
                          "--optimizer", "adam", "--out", out, "--no-progress"))
    assert result.returncode == 0, result.stderr
    opening = (out / "report.md").read_text().split("\n\n")[1]
    assert "1 epoch of per-example adam, 1 network per setting" in opening
    assert "50 epochs" not in opening and "10 networks" not in opening
    assert "one SGD step each" not in opening           # not the tutorial's train with adam
    notes = json.loads((out / "sweep.json").read_text())["notes"]
    assert notes["description"] == opening and notes["fit"]["epochs"] == 1


def test_the_preset_description_follows_every_option_and_is_unchanged_by_default():
    from numnet.experiments import Grid, tutorial_preset
    p = tutorial_preset()
    assert p.description.startswith(
        "The tutorial's own answer to its challenge: three one-factor explorations on `1 - x` "
        "(inputs `x / N` for `x < N`, shuffled), 50 epochs of per-example SGD, 10 networks per "
        "setting: hidden layers (1,), (3,), (3, 2), (9, 6), (32, 16) at N = 100 and learning "
        "rate 0.1;")
    assert p.describe() == p.description
    assert "on `sine`" in p.describe(data="sine")
    batched = [Grid({**g.factors, "batch_size": [32]}, g.label) for g in p.grids]
    text = p.describe(grids=batched)
    assert "SGD with batch size 32" in text and "one SGD step each" not in text
    rates = [Grid({**g.factors, "learning_rate": [0.5, 2.0]}, g.label) for g in p.grids]
    text = p.describe(grids=rates)
    assert "three explorations" in text and "learning rate 0.5, 2.0" in text
    assert "learning rates 0.1, 0.3, 1.0, 3.0" not in text


def test_a_fit_argument_a_grid_varies_is_not_reported_as_fixed():
    # [fit] epochs = 5 with a grid of epochs [1, 2]: the runs used 1 and 2, so the report's
    # "Fixed fit arguments" must not say epochs=5 (each section states its grid's values).
    from numnet.experiments import Grid, make_data_source
    from numnet.experiments.sweep import _notes
    notes = _notes({"epochs": 5, "batch_size": 1}, [Grid({"n_samples": [10], "epochs": [1, 2]})],
                   make_data_source("sine"), range(3), None)
    assert notes["fit"] == {"batch_size": 1} and notes["seeds"] == [0, 1, 2]


@pytest.mark.parametrize("config", [
    {"data": "si\u001b]0;owned\u0007ne", "grids": [{"hidden_layers": [[2]]}]},
    {"hidden_layers": [[2]], "n_samples": [10], "activation": ["re\u001b[31mlu\u202e"]},
    {"hidden_lay\u001b[5mers": [[2]]},
], ids=["data-name", "factor-value", "factor-name"])
def test_names_from_a_sweep_file_reach_the_terminal_escaped(tmp_path, config):
    # The command alone, without the stream-level escaping numnet's main() installs.
    grid = tmp_path / "sweep.json"
    grid.write_text(json.dumps(config))
    alone = "from numnet.cli.sweep import sweep_command; sweep_command()"
    result = _run([sys.executable, "-c", alone, "--grid", str(grid),
                   "--epochs", "1", "--out", str(tmp_path / "out"), "--no-progress"])
    shown = result.stdout + result.stderr
    assert "\\x1b" in shown                                   # the name is there, escaped
    for raw in ("\u001b", "\u0007", "\u202e"):
        assert raw not in shown

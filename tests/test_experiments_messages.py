"""What a sweep says when it cannot go on: one line that names what its reader gave (Python's
arguments from Python, options and the grid file's keys from ``numnet sweep`` and ``numnet
curve``), and the advice that fits (a script without ``if __name__ == "__main__":`` is
told to add it, not to run the sweep again)."""

from __future__ import annotations

import json
import py_compile
import re
import subprocess
import sys
import textwrap

import pytest
from sweep_processes import env

from numnet.experiments import ProcessExecutor, get_executor, sweep

GUARD = 'if __name__ == "__main__":'
# The README's block, as a reader saves it in an empty folder: no guard.
SCRIPT = """\
from numnet.experiments import sweep
results = sweep({"hidden_layers": [[1], [3]]}, data="one_minus_x", repeats=2,
                fit_kwargs={"epochs": 2}, executor=EXECUTOR, out="o", progress=False)
print(results.summary())
"""


def _python(folder, script, timeout=120):
    return subprocess.run([sys.executable, script], cwd=folder, capture_output=True,
                          text=True, env=env(), timeout=timeout)


def _invoke(command, *args):
    from click.testing import CliRunner
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


# --- a script that starts workers outside `if __name__ == "__main__":` ------------------------


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_a_script_without_the_main_guard_is_refused_in_one_line_before_any_worker(
        tmp_path, executor):
    (tmp_path / "s.py").write_text(SCRIPT.replace("EXECUTOR", repr(executor)))
    result = _python(tmp_path, "s.py")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: ") and str(tmp_path / "s.py") + " line 2 " in last
    assert f"under '{GUARD}' (add that line and indent the code beneath it)" in last
    # no worker started: one traceback (the script's own), nothing stored, no folder made
    assert result.stderr.count("Traceback") == 1 and "bootstrapping" not in result.stderr
    assert "run the sweep again" not in result.stderr + result.stdout
    assert not (tmp_path / "o").exists()


def test_the_same_script_under_the_guard_runs_on_processes(tmp_path):
    body = SCRIPT.replace("EXECUTOR", "'processes'").replace(", out=\"o\"", "").splitlines()
    (tmp_path / "g.py").write_text("\n".join([body[0], GUARD, *("    " + b for b in body[1:])]))
    result = _python(tmp_path, "g.py")
    assert result.returncode == 0, result.stderr
    assert '{"hidden_layers":[3]}' in result.stdout


def test_workers_that_die_as_they_start_say_so_not_to_run_the_sweep_again(tmp_path):
    # The guard is there, but the script fails when a worker runs it again as it starts.
    (tmp_path / "r.py").write_text(textwrap.dedent(f"""\
        from numnet.experiments import sweep
        if __name__ == "__mp_main__":
            raise ImportError("this script cannot run in a worker")
        {GUARD}
            sweep({{"hidden_layers": [[1], [3]]}}, repeats=2, fit_kwargs={{"epochs": 1}},
                  executor="processes", workers=2, progress=False)
        """))
    result = _python(tmp_path, "r.py")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: the worker processes died as they started, before "
                           "any run (what they printed is above); each runs the main script ")
    assert last.endswith(f"r.py again first: if the script starts the sweep when it runs, put "
                         f"that code under '{GUARD}' (add that line and indent the code "
                         f"beneath it)")
    assert "ImportError: this script cannot run in a worker" in result.stderr
    assert "run the sweep again" not in result.stderr


def test_a_worker_running_an_unguarded_script_it_cannot_read_says_so(tmp_path):
    # Compiled, the script's source cannot be read before the workers start: each worker,
    # running it again, stops at the sweep it would start, and the driver says why.
    (tmp_path / "s.py").write_text(SCRIPT.replace("EXECUTOR", "'processes'"))
    py_compile.compile(str(tmp_path / "s.py"), cfile=str(tmp_path / "c.pyc"), doraise=True)
    (tmp_path / "s.py").unlink()
    result = _python(tmp_path, "c.pyc")
    assert result.returncode == 1
    assert re.search(r"RuntimeError: .*s\.py line 2 starts worker processes "
                     r"\(executor=\"processes\"\) again in a worker process that is running "
                     r"the script as it starts: put the code that starts them under", result.stderr)
    assert result.stderr.strip().splitlines()[-1].startswith(
        "RuntimeError: the worker processes died as they started")
    assert "run the sweep again" not in result.stderr and "bootstrapping" not in result.stderr


def test_a_worker_killed_in_a_run_still_says_to_run_the_sweep_again():
    from concurrent.futures.process import BrokenProcessPool

    from numnet.experiments.executors import _dead_worker
    said = str(_dead_worker(BrokenProcessPool("terminated"), started=1))
    assert "a worker process died" in said and "run the sweep again to continue" in said
    assert _dead_worker(ValueError("a run's own error")) is None


# --- the caller's own words --------------------------------------------------------------------


def test_an_unanswered_scheduler_names_timeout_as_its_caller_gave_it(tmp_path):
    pytest.importorskip("distributed")
    from numnet.cli.sweep import sweep_command
    with pytest.raises(RuntimeError, match=r"wait longer with timeout=\)$") as python:
        sweep({"hidden_layers": [[1]]}, executor="dask", scheduler="tcp://127.0.0.1:1",
              timeout=1, progress=False)
    assert "--timeout" not in str(python.value)
    result = _invoke(sweep_command, "--hidden", "1", "--scheduler", "tcp://127.0.0.1:1",
                     "--timeout", "1", "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 1
    assert result.output.strip().endswith("(or wait longer with --timeout)")


def test_fit_arguments_a_sweep_sets_are_refused_in_the_callers_words(tmp_path):
    from numnet.cli.sweep import sweep_command
    with pytest.raises(ValueError, match=r"^fit_kwargs cannot set 'random_state': each run "
                                         r"is seeded from its seed; give seeds= or repeats=$"):
        sweep({"hidden_layers": [[1]]}, fit_kwargs={"random_state": 1}, progress=False)
    with pytest.raises(ValueError, match=r"^fit_kwargs has 'foo', which numnet.fit"):
        sweep({"hidden_layers": [[1]]}, fit_kwargs={"foo": 1}, progress=False)
    for fit, said in (("random_state = 1", "Error: the grid file's [fit] cannot set "
                                           "'random_state': each run is seeded from its "
                                           "seed; give --seeds or --repeats"),
                      ("foo = 1", "Error: the grid file's [fit] has 'foo', which numnet.fit")):
        path = tmp_path / "sweep.toml"
        path.write_text(f"[fit]\n{fit}\n[[grids]]\nhidden_layers = [[1]]\n")
        result = _invoke(sweep_command, "--grid", path, "--out", tmp_path / "o")
        assert result.exit_code == 1 and result.output.startswith(said), result.output
        assert "fit_kwargs" not in result.output and "seeds=" not in result.output


def test_seeds_and_repeats_together_are_refused_in_the_callers_words(tmp_path):
    from numnet.cli.sweep import sweep_command
    with pytest.raises(ValueError, match=r"^give seeds= or repeats=, not both$"):
        sweep({"hidden_layers": [[1]]}, seeds=[0], repeats=2, progress=False)
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"seeds": [0], "repeats": 2, "grid": {"hidden_layers": [[1]]}}))
    result = _invoke(sweep_command, "--grid", path, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert f"{path}: give seeds or repeats, not both" in result.output
    assert "--seeds" not in result.output and "seeds=" not in result.output
    both = _invoke(sweep_command, "--hidden", "1", "--seeds", "0", "--repeats", "2")
    assert both.exit_code == 2 and "give --seeds or --repeats, not both" in both.output


def test_an_unknown_data_set_is_refused_with_what_its_caller_can_give(tmp_path):
    from numnet.cli.sweep import sweep_command
    with pytest.raises(ValueError, match=r"unknown data set 'foo'; .*, or pass arrays \(X, y\)$"):
        sweep({"hidden_layers": [[1]]}, data="foo", progress=False)
    result = _invoke(sweep_command, "--hidden", "1", "--data", "foo", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "or give a data file (.csv, .tsv, .parquet, .npz) or audio:FOLDER (a folder of clips)")
    assert "arrays" not in result.output


def test_an_object_in_a_grid_file_is_not_told_to_go_through_fit_kwargs(tmp_path):
    from numnet.cli.sweep import sweep_command
    from numnet.experiments import Grid
    with pytest.raises(ValueError, match="pass objects through fit_kwargs instead$"):
        Grid({"activation": [{"a": 1}]})
    path = tmp_path / "sweep.toml"
    path.write_text("[[grids]]\nhidden_layers = [[1]]\nactivation = [{a = 1}]\n")
    result = _invoke(sweep_command, "--grid", path, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "got {'a': 1} (dict)" in result.output and "fit_kwargs" not in result.output


def test_a_fixed_value_of_what_a_curve_varies_is_refused_in_the_callers_words(tmp_path):
    from numnet.cli.sweep import curve_command
    from numnet.experiments import curve
    with pytest.raises(ValueError, match="^hidden_layers is what the curve varies; give its "
                                         "values, not a fixed one$"):
        curve("one_minus_x", "hidden", [[2], [3]], hidden_layers=[3], progress=False)
    result = _invoke(curve_command, "one_minus_x", "--vary", "hidden", "--values", "2,3",
                     "--hidden", "3", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert ("--vary hidden varies hidden layers: give its values with --values, not a fixed "
            "one with --hidden") in result.output


def test_an_unreadable_clip_is_not_told_to_use_skip_bad(tmp_path):
    # Neither sweep() nor numnet sweep takes skip_bad: numnet.audio's advice is replaced.
    soundfile = pytest.importorskip("soundfile")
    pytest.importorskip("librosa")
    from numnet import datasets
    from numnet.cli.sweep import sweep_command
    clips, y, rate = datasets.tones(6, classes=("sine", "noise"), return_audio=True,
                                    random_state=0)
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        folder = tmp_path / "sounds" / ("sine", "noise")[label]
        folder.mkdir(parents=True, exist_ok=True)
        soundfile.write(folder / f"{k}.wav", clip, rate)
    (tmp_path / "sounds" / "sine" / "bad.wav").write_bytes(b"not audio")
    data = f"audio:{tmp_path / 'sounds'}"
    with pytest.raises(ValueError, match=r"bad\.wav: .*; a sweep reads every clip: fix or "
                                         r"remove it\]$") as python:
        sweep({"hidden_layers": [[2]]}, data=data, progress=False)
    result = _invoke(sweep_command, "--hidden", "2", "--data", data, "--out", tmp_path / "o",
                     "--no-progress")
    assert result.exit_code == 1
    assert result.output.strip().endswith("a sweep reads every clip: fix or remove it]")
    assert "skip" not in str(python.value) + result.output


# --- counts of workers -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -2, True, 1.5])
def test_every_executor_refuses_a_count_of_workers_that_is_not_positive(count):
    distributed = pytest.importorskip("distributed")
    from numnet.experiments import DaskExecutor
    with pytest.raises(ValueError, match=rf"^max_workers must be a positive integer, got "
                                         rf"{re.escape(repr(count))}$"):
        ProcessExecutor(max_workers=count)
    started = []
    real = distributed.LocalCluster

    def cluster(*args, **kwargs):        # refused before any cluster starts
        started.append(kwargs)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distributed, "LocalCluster", cluster)
        with pytest.raises(ValueError, match=rf"^n_workers must be a positive integer, got "
                                             rf"{re.escape(repr(count))}$"):
            DaskExecutor(n_workers=count)
        for name in ("processes", "dask"):
            with pytest.raises(ValueError, match=rf"^workers must be a positive integer, got "
                                                 rf"{re.escape(repr(count))}$"):
                get_executor(name, workers=count)
    assert started == []


def test_dask_refuses_negative_retries():
    pytest.importorskip("distributed")
    from numnet.experiments import DaskExecutor
    with pytest.raises(ValueError, match=r"^retries must be a non-negative integer, got -1$"):
        DaskExecutor("tcp://127.0.0.1:1", retries=-1)


def test_a_sweep_refuses_a_bad_count_of_workers_before_making_anything(tmp_path):
    with pytest.raises(ValueError, match=r"^workers must be a positive integer, got 0$"):
        sweep({"hidden_layers": [[1]]}, executor="processes", workers=0, out=tmp_path / "o",
              progress=False)
    assert not (tmp_path / "o").exists()

"""numnet.experiments in one process: grids, runs, the store, sweeps, reports, the command."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numnet import MLP
from numnet.experiments import (
    DataSource,
    Grid,
    ResultStore,
    RunSpec,
    as_grids,
    execute_run,
    expand,
    one_minus_x_grid,
    run_key,
    sweep,
    tutorial_preset,
)
from numnet.experiments.runs import RESULT_FIELDS

pd = pytest.importorskip("pandas")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tutorial-challenge"
TINY = {"hidden_layers": [[2], [4]], "n_samples": [30]}
TINY_FIT = {"epochs": 3, "batch_size": 1}


# --- grids -----------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_last_factor_fastest():
    g = Grid({"hidden_layers": [[3], [9, 6]], "learning_rate": [0.1, 1.0], "epochs": 5})
    assert g.settings() == [
        {"hidden_layers": [3], "learning_rate": 0.1, "epochs": 5},
        {"hidden_layers": [3], "learning_rate": 1.0, "epochs": 5},
        {"hidden_layers": [9, 6], "learning_rate": 0.1, "epochs": 5},
        {"hidden_layers": [9, 6], "learning_rate": 1.0, "epochs": 5},
    ]
    assert g.varying == ["hidden_layers", "learning_rate"]
    assert g.fixed == {"epochs": 5}


def test_hidden_layers_forms():
    assert Grid({"hidden_layers": [9, 6]}).factors["hidden_layers"] == [[9, 6]]  # one network
    assert Grid({"hidden_layers": [(3,), (9, 6)]}).factors["hidden_layers"] == [[3], [9, 6]]
    assert Grid({"hidden_layers": [[3], 5]}).factors["hidden_layers"] == [[3], [5]]


def test_joined_grids_run_a_shared_setting_once():
    a = {"hidden_layers": [[1], [3]], "n_samples": [100]}
    b = {"hidden_layers": [[3]], "n_samples": [10, 100]}
    settings = expand([a, b])
    assert len(settings) == 3
    assert settings[-1] == {"hidden_layers": [3], "n_samples": 10}
    assert [g.factors for g in as_grids([a, b])] == [a, b]


@pytest.mark.parametrize("grid, match", [
    ({"hiden_layers": [[3]]}, "unknown factor"),
    ({"learning_rate": []}, "no values"),
    ({"learning_rate": [0.1, 0.1]}, "repeats a value"),
    ({"hidden_layers": ["3"]}, "lists of layer widths"),
    ({"optimizer": [object()]}, "fit_kwargs"),
])
def test_bad_grids_say_what_came(grid, match):
    with pytest.raises(ValueError, match=match):
        Grid(grid)


def _expand_with_a_set(grids):
    """The settings of joined grids as they were first defined: keep a set of those seen."""
    from numnet.experiments.grid import canonical_json
    seen, out = set(), []
    for g in as_grids(grids):
        for s in g.settings():
            if canonical_json(s) not in seen:
                seen.add(canonical_json(s))
                out.append(s)
    return out


def test_settings_made_one_at_a_time_are_those_of_the_set_of_settings_seen():
    from numnet.experiments.grid import count_settings, iter_settings
    rng = np.random.default_rng(0)
    pool = {"hidden_layers": [[1], [3], [9, 6]], "n_samples": [10, 20, 30],
            "learning_rate": [0.1, 1.0], "bias": [True, False]}
    for _ in range(200):
        grids = []
        for _ in range(int(rng.integers(1, 5))):
            names = [k for k in pool if rng.random() < 0.7] or ["n_samples"]
            grids.append({k: [pool[k][i] for i in sorted(rng.choice(
                len(pool[k]), int(rng.integers(1, len(pool[k]) + 1)), replace=False))]
                for k in names})
        expected = _expand_with_a_set(grids)
        assert list(iter_settings(grids)) == expected == expand(grids)
        assert count_settings(grids) == (len(expected), True)
    tutorial = tutorial_preset().grids
    assert count_settings(tutorial) == (22, True) and count_settings(tutorial, 5) == (6, False)


def test_a_grid_is_sized_without_making_its_settings():
    huge = Grid({"n_samples": list(range(1, 10_001)), "learning_rate": [i / 1e4 for i in
                                                                       range(1, 10_001)]})
    assert len(huge) == 10**8                          # would be minutes and gigabytes
    first = next(huge.iter_settings())
    assert first == {"n_samples": 1, "learning_rate": 1e-4}


def test_a_sweep_above_max_runs_is_refused_before_anything_runs(tmp_path):
    from numnet.experiments.sweep import SweepTooLarge
    with pytest.raises(SweepTooLarge, match=r"10,000,000,000 runs .*max_runs=10000000000"):
        sweep(TINY, repeats=5 * 10**9, store=tmp_path / "s.sqlite", progress=False)
    assert not (tmp_path / "s.sqlite").exists()
    assert sweep(TINY, repeats=2, fit_kwargs=TINY_FIT, max_runs=4, progress=False).ran == 4
    with pytest.raises(ValueError, match="max_runs must be a positive integer"):
        sweep(TINY, max_runs=0, progress=False)


def test_run_keys_are_stable_across_processes_and_order_of_settings():
    k = run_key({"a": 1, "b": [3, 2]}, 7)
    assert k == run_key({"b": [3, 2], "a": 1}, 7)
    assert k != run_key({"a": 1, "b": [3, 2]}, 8)
    code = "from numnet.experiments import run_key; print(run_key({'a': 1, 'b': [3, 2]}, 7))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other == k


def test_tutorial_preset_matches_the_issue():
    p = tutorial_preset()
    settings = expand(p.grids)
    assert len(settings) == 22         # 3 explorations x 2 networks, the shared setting once
    assert p.seeds == list(range(10))
    assert p.fit_kwargs == {"epochs": 50, "batch_size": 1, "shuffle": False, "optimizer": "sgd"}
    exact = [s for s in settings if s["bias"] is False]
    assert {tuple(s["hidden_layers"]) for s in exact} == {(1,), (3,), (3, 2), (9, 6), (32, 16)}
    assert {s["n_samples"] for s in exact} == {10, 100, 500, 1000}
    assert {s["learning_rate"] for s in exact} == {0.1, 0.3, 1.0, 3.0}
    assert all(s["init"] == "uniform" and s["lr_scale"] == "tutorial" for s in exact)


def test_one_minus_x_grid_is_the_tutorials_data():
    X, y = one_minus_x_grid(8, random_state=0)
    assert sorted(X[:, 0]) == [i / 8 for i in range(8)]
    assert not np.array_equal(X[:, 0], np.arange(8) / 8)        # shuffled
    np.testing.assert_array_equal(y, 1.0 - X)


# --- one run ------------------------------------------------------------------------------


def _spec(settings, seed=0, data="one_minus_x", fit_kwargs=TINY_FIT, **source):
    return RunSpec(run_key(settings, seed), settings, seed, DataSource(name=data, **source),
                   dict(fit_kwargs))


def test_a_run_records_everything():
    r = execute_run(_spec({"hidden_layers": [3], "n_samples": 30}))
    assert set(r) == set(RESULT_FIELDS)
    assert r["status"] == "ok" and r["error"] is None
    assert r["num_parameters"] == MLP(1, [3], 1).num_parameters
    assert r["epochs_run"] == 3 and len(r["loss_curve"]) == 3
    assert r["final_loss"] == r["loss_curve"][-1]
    for name in ("train_error", "validation_error", "test_error", "wall_time"):
        assert math.isfinite(r[name]) and r[name] >= 0
    assert r["diverged"] is False
    json.dumps(r)                                   # plain data: it can go anywhere


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    settings = {"hidden_layers": [4], "n_samples": 30}
    a, b = execute_run(_spec(settings, 3)), execute_run(_spec(settings, 3))
    c = execute_run(_spec(settings, 4))
    assert a["loss_curve"] == b["loss_curve"] and a["test_error"] == b["test_error"]
    assert a["loss_curve"] != c["loss_curve"]


def test_tutorial_scale_run_is_the_tutorials_train_on_the_same_data(capsys):
    # The preset's run must be exactly MLP.train (per-example SGD on E = 0.5 sum (t - o)^2,
    # in the data's order) on the exact network, from the run's seed streams.
    settings = {"hidden_layers": [3], "n_samples": 20, "learning_rate": 0.5, "bias": False,
                "init": "uniform", "lr_scale": "tutorial"}
    fit_kwargs = {"epochs": 4, "batch_size": 1, "shuffle": False, "optimizer": "sgd"}
    r = execute_run(_spec(settings, 5, "one_minus_x_grid", fit_kwargs))
    init_seq, data_seq, _ = np.random.SeedSequence(5).spawn(3)
    X, y = one_minus_x_grid(20, np.random.default_rng(data_seq))
    net = MLP(1, [3], 1, bias=False, init="uniform", random_state=np.random.default_rng(init_seq))
    assert net.train(X, y, epochs=4, learning_rate=0.5) == r["final_loss"]
    assert "Training complete!" in capsys.readouterr().out


def test_a_run_that_raises_is_a_failed_result():
    r = execute_run(_spec({"hidden_layers": [0], "n_samples": 30}))
    assert r["status"] == "failed"
    assert "ValueError" in r["error"] and "hidden_layers" in r["error"]
    assert r["test_error"] is None and r["wall_time"] >= 0


def test_arrays_as_data_train_on_n_samples_rows():
    rng = np.random.default_rng(0)
    X = rng.random((50, 2))
    y = X.sum(axis=1, keepdims=True) / 2
    res = sweep({"hidden_layers": [[3]], "n_samples": [10, 40]}, (X, y), repeats=2,
                fit_kwargs=TINY_FIT, progress=False)
    assert res.failed == 0 and len(res.runs) == 4
    too_many = sweep({"n_samples": [41]}, (X, y), fit_kwargs=TINY_FIT, progress=False)
    assert too_many.failed == 1 and "n_samples=41" in too_many.runs[0]["error"]


def test_class_labels_give_a_misclassification_rate():
    res = sweep({"hidden_layers": [[8]], "n_samples": [60]}, "spirals",
                fit_kwargs={"epochs": 3}, progress=False)
    (r,) = res.runs
    assert r["status"] == "ok", r["error"]
    assert 0.0 <= r["test_error"] <= 1.0
    # an error rate is a multiple of 1 / n_test
    assert r["test_error"] * 1000 == pytest.approx(round(r["test_error"] * 1000))


# --- the store -------------------------------------------------------------------------------


def test_store_records_a_run_once_and_survives_reopening(tmp_path):
    path = tmp_path / "s" / "runs.sqlite"
    r = execute_run(_spec({"hidden_layers": [3], "n_samples": 30}))
    with ResultStore(path) as store:
        assert store.add(r) is True
        assert store.add(r) is False
        assert len(store) == 1
    with ResultStore(path) as store:
        (back,) = store.results()
    assert {k: back[k] for k in RESULT_FIELDS} == r
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_store_replaces_a_failed_run_only_when_asked(tmp_path):
    ok = execute_run(_spec({"hidden_layers": [3], "n_samples": 30}))
    failed = dict(ok, status="failed", error="boom")
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.add(failed)
        assert store.add(ok) is False
        assert store.add(ok, replace_failed=True) is True
        assert store.add(failed, replace_failed=True) is False     # ok is never replaced
        assert store.results()[0]["status"] == "ok"


def test_store_refuses_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(ValueError, match="not a numnet results store"):
        ResultStore(bad)


def test_a_restarted_sweep_runs_only_what_is_missing(tmp_path):
    store = tmp_path / "runs.sqlite"
    first = sweep(TINY, repeats=1, fit_kwargs=TINY_FIT, store=store, progress=False)
    again = sweep(TINY, repeats=2, fit_kwargs=TINY_FIT, store=store, progress=False)
    assert (first.ran, again.ran, again.skipped) == (2, 2, 2)
    assert [r["key"] for r in again.runs[::2]] == [r["key"] for r in first.runs]
    other = sweep(TINY, repeats=1, fit_kwargs={"epochs": 4, "batch_size": 1}, store=store,
                  progress=False)
    assert other.ran == 2                        # other fit arguments, other runs
    with ResultStore(store) as s:
        assert len(s) == 6


def test_a_failing_run_does_not_stop_the_sweep_and_is_not_rerun(tmp_path):
    grid = {"hidden_layers": [[3], [0], [2]], "n_samples": [30]}
    res = sweep(grid, fit_kwargs=TINY_FIT, store=tmp_path / "s.sqlite", progress=False)
    assert [r["status"] for r in res.runs] == ["ok", "failed", "ok"]
    assert sweep(grid, fit_kwargs=TINY_FIT, store=tmp_path / "s.sqlite", progress=False).ran == 0
    retry = sweep(grid, fit_kwargs=TINY_FIT, store=tmp_path / "s.sqlite", progress=False,
                  retry_failed=True)
    assert retry.ran == 1 and retry.failed == 1          # retried, failed again, kept once
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert len(store) == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"seeds": [0], "repeats": 2}, "not both"),
    ({"repeats": 0}, "positive integer"),
    ({"seeds": [1, 1]}, "repeat"),
    ({"fit_kwargs": {"verbose": True}}, "always quiet"),
    ({"fit_kwargs": {"epoch": 3}}, "does not take"),
    ({"executor": "threads"}, "serial"),
])
def test_bad_sweep_arguments_say_what_to_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep(TINY, progress=False, **kwargs)


def test_unknown_data_set_is_refused_before_anything_runs():
    with pytest.raises(ValueError, match="unknown data set 'moon'.*one_minus_x"):
        sweep(TINY, "moon", progress=False)


# --- reports ----------------------------------------------------------------------------------


def test_report_from_a_sweep_and_regenerated_from_its_csv(tmp_path):
    grid = [Grid({"hidden_layers": [[1], [4]], "n_samples": [10, 40]}),
            Grid({"hidden_layers": [[2]], "learning_rate": [0.1, 3.0], "n_samples": [20]})]
    res = sweep(grid, repeats=2, fit_kwargs=TINY_FIT, out=tmp_path / "a", progress=False)
    names = {p.name for p in res.files}
    assert {"results.csv", "summary.csv", "report.md", "loss_curves.png",
            "heatmap_hidden_layers_n_samples.png", "error_vs_hidden_layers.png",
            "error_vs_n_samples.png", "error_vs_learning_rate.png"} <= names
    # two factors: each is also described averaged over the other, from the numbers of the
    # runs that learned something (those that did not are named, and left out of the trend)
    report = (tmp_path / "a" / "report.md").read_text()
    line = next(t for t in report.splitlines()
                if "hidden layers, averaged over training samples (N):" in t)
    runs = [r for r in res.runs if "learning_rate" not in r["settings"]]
    assert all(isinstance(r["learned_nothing"], bool) for r in runs)
    for width in (1, 4):
        errors = [r["test_error"] for r in runs if r["settings"]["hidden_layers"] == [width]
                  and not r["learned_nothing"]]
        if errors:
            assert f"{np.mean(errors):.3g} (({width},)," in line
        else:
            assert f"(({width},)," not in line
    from numnet.experiments.report import report_from_csv
    report_from_csv(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a" / "report.md").read_text() == (tmp_path / "b" / "report.md").read_text()
    frame = pd.read_csv(tmp_path / "a" / "results.csv")
    assert len(frame) == 12 and frame["key"].is_unique


def test_report_needs_the_plots_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"numnet\[plots\]"):
        sweep(TINY, out=tmp_path, progress=False)


def test_dask_executor_needs_the_dask_extra(monkeypatch):
    from numnet.experiments import DaskExecutor
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"numnet\[dask\]"):
        DaskExecutor()


def _committed() -> Path:
    if not (EXAMPLE / "results.csv").exists():
        pytest.skip("examples/tutorial-challenge has not been generated")
    return EXAMPLE


def test_committed_tutorial_report_is_its_csv_regenerated(tmp_path):
    from numnet.experiments.report import report_from_csv
    report_from_csv(_committed(), tmp_path)
    assert (tmp_path / "report.md").read_text() == (EXAMPLE / "report.md").read_text()


def test_committed_tutorial_report_states_its_own_numbers():
    """Recompute the means from results.csv by hand and check the report's sentences."""
    frame = pd.read_csv(_committed() / "results.csv")
    report = (EXAMPLE / "report.md").read_text()
    assert len(frame) == 220 and frame["key"].is_unique and (frame["status"] == "ok").all()
    # the trends are of the runs that learned: the others are named, not averaged in
    learners = frame[~frame["learned_nothing"].astype(bool)]
    means = learners.groupby("settings", sort=False)["test_error"].mean()

    def mean(**fixed):
        for settings, value in means.items():
            s = json.loads(settings)
            if all(s.get(k) == v for k, v in fixed.items()):
                return value
        return None                 # every run of the setting learned nothing

    sections = dict(re.findall(r"## ([^\n]+)\n(.*?)(?=\n## |\Z)", report, re.S))
    for title, factor, values in [("Hidden layers", "hidden_layers",
                                   [[1], [3], [3, 2], [9, 6], [32, 16]]),
                                  ("Training samples (N)", "n_samples", [10, 100, 500, 1000]),
                                  ("Learning rate", "learning_rate", [0.1, 0.3, 1.0, 3.0])]:
        base = {"hidden_layers": [3], "n_samples": 100, "learning_rate": 0.1}
        for bias, who in ((False, "tutorial's network"), (True, "numnet's defaults")):
            line = next(t for t in sections[title].splitlines() if t.startswith(f"- **{who}**"))
            path = re.search(r"Mean test error: (.*)\.$", line).group(1)
            shown = [float(m) for m in re.findall(r"(?:^| → )([0-9.e+-]+) \(", path)]
            expected = [m for m in (mean(**{**base, factor: v, "bias": bias}) for v in values)
                        if m is not None]
            # (hidden layers are listed by parameter count: here also the widths' order)
            assert shown == pytest.approx(expected, rel=5e-3)
            if factor == "n_samples":         # the first step within two standard errors
                ok = frame[frame["status"] == "ok"]
                parsed = ok["settings"].map(json.loads).tolist()
                wanted = [{**base, "n_samples": v, "bias": bias, "lr_scale": "tutorial",
                           "init": None if bias else "uniform"} for v in values]
                learned = ~ok["learned_nothing"].astype(bool).to_numpy()
                stats = [ok[np.array([p == w for p in parsed]) & learned]["test_error"]
                         for w in wanted]
                stop = next((values[i] for i in range(len(values) - 1)
                             if stats[i].mean() - stats[i + 1].mean() <= 2 * math.sqrt(
                                 stats[i].var() / len(stats[i])
                                 + stats[i + 1].var() / len(stats[i + 1]))), None)
                if stop is None:
                    assert "more data helped at every step" in line
                else:
                    assert f"more data stopped helping at N = {stop}:" in line
            if factor == "learning_rate":
                assert ("no learning rate diverged" in line) == (
                    not frame[frame["settings"].str.contains(f'"bias":{str(bias).lower()}')]
                    ["diverged"].any())
                best = values[int(np.argmin(expected))]     # every rate learned something
                assert re.search(rf"lowest mean test error at lr = {best}[ .]", line)


# --- the command ---------------------------------------------------------------------------


def _invoke(*args):
    from click.testing import CliRunner

    from numnet.cli.sweep import sweep_command
    return CliRunner().invoke(sweep_command, list(args), catch_exceptions=False)


def test_command_help_has_an_example():
    result = _invoke("--help")
    assert result.exit_code == 0
    assert "numnet sweep --preset tutorial" in result.output and "--scheduler" in result.output


def test_command_runs_a_grid_from_options_and_resumes(tmp_path):
    args = ["--hidden", "2", "--hidden", "3,2", "--n-samples", "20", "--epochs", "2",
            "--repeats", "2", "--out", str(tmp_path), "--no-progress"]
    first = _invoke(*args)
    assert first.exit_code == 0, first.output
    assert "4 runs (4 run now, 0 already stored), 0 failed" in first.output
    assert (tmp_path / "report.md").exists() and (tmp_path / "results.sqlite").exists()
    again = _invoke(*args)
    assert "4 runs (0 run now, 4 already stored)" in again.output


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_command_reads_a_grid_file(tmp_path, suffix):
    path = tmp_path / f"sweep{suffix}"
    if suffix == ".toml":
        pytest.importorskip("tomllib")
        path.write_text('data = "sine"\nseeds = [3]\n[fit]\nepochs = 2\n'
                        '[[grids]]\nhidden_layers = [[2], [5]]\nn_samples = [25]\n')
    else:
        path.write_text(json.dumps({"hidden_layers": [[2], [5]], "n_samples": [25]}))
    result = _invoke("--grid", str(path), "--out", str(tmp_path / "out"), "--no-progress",
                     "--epochs", "2")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(frame) == 2 and (frame["status"] == "ok").all()
    if suffix == ".toml":
        assert set(frame["seed"]) == {3}


@pytest.mark.parametrize("args, match", [
    ([], "nothing to sweep"),
    (["--preset", "tutorial", "--grid", __file__], "not both"),
    (["--hidden", "3", "--lr", "fast"], "comma-separated floats"),
    (["--hidden", "3", "--backend", "processes", "--scheduler", "tcp://127.0.0.1:1"],
     "runs on Dask"),
])
def test_command_usage_errors(tmp_path, args, match):
    result = _invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert re.search(match, result.output), result.output

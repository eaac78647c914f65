"""Sweeps measure every run against its baseline, and the report says which learned nothing.

Each run records the constant prediction's error (fitted on its own training split, scored
on each set) and ``learned_nothing``; the report draws the baseline on every plot, puts it
in every table, and leaves the runs that learned nothing out of its trends, naming them.
Stores and CSV files from before the baselines still load, and say they lack one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from numnet.baselines import Baseline, baseline_accuracy, learned_nothing
from numnet.experiments import DataSource, Grid, ResultStore, report, sweep
from numnet.experiments.runs import RESULT_FIELDS

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

# (3,) at rate 1.0, one example per step, learns 1 - x in 20 epochs on 40 points (test error
# 0.001-0.01 measured, seeds 0-1, against a baseline of 0.083); (9, 6) at rate 0.01 for one
# epoch learns nothing (test error 1.0-1.6 times the baseline, measured, seeds 0-1).
LEARNS = Grid({"hidden_layers": [[3]], "learning_rate": [1.0], "epochs": [20]}, "learns")
NOTHING = Grid({"hidden_layers": [[9, 6]], "learning_rate": [0.01], "epochs": [1]}, "nothing")
FIT = {"batch_size": 1}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One sweep with settings that learn and settings that learn nothing, and its folder."""
    out = tmp_path_factory.mktemp("mixed")
    grids = [Grid({"hidden_layers": [[3], [9, 6]], "learning_rate": [0.01, 1.0],
                   "epochs": [1, 20], "n_samples": [40]})]
    res = sweep(grids, "one_minus_x", repeats=2, fit_kwargs=FIT, out=out, progress=False,
                n_validation=50, n_test=200)
    return res, out


def test_every_run_records_its_baseline_from_its_own_training_split(mixed):
    res, _ = mixed
    assert {"train_baseline", "validation_baseline", "test_baseline", "loss_baseline",
            "learned_nothing"} <= set(RESULT_FIELDS)
    for r in res.runs:
        # the run's own training split, from its seed, as the run drew it
        _, data_seq, _ = np.random.SeedSequence(r["seed"]).spawn(3)
        source = DataSource(name="one_minus_x", n_validation=50, n_test=200)
        (X, y), _, (Xt, yt) = source.make(r["settings"]["n_samples"],
                                          np.random.default_rng(data_seq))
        assert r["test_baseline"] == pytest.approx(Baseline.fit(y).score(yt), rel=1e-12)
        assert r["train_baseline"] == pytest.approx(Baseline.fit(y).score(y), rel=1e-12)
        assert r["loss_baseline"] == pytest.approx(Baseline.fit(y).score(y), rel=1e-12)
        assert r["learned_nothing"] == learned_nothing(r["test_error"], r["test_baseline"])
    marks = [r["learned_nothing"] for r in res.runs]
    assert True in marks and False in marks          # the grid has both kinds


def test_the_marks_recomputed_from_the_csv_are_the_csvs(mixed):
    _, out = mixed
    frame = pd.read_csv(out / "results.csv")
    assert {"test_baseline", "validation_baseline", "train_baseline", "loss_baseline",
            "learned_nothing"} <= set(frame.columns)
    for _, row in frame.iterrows():
        assert bool(row["learned_nothing"]) == learned_nothing(row["test_error"],
                                                               row["test_baseline"])
    summary = pd.read_csv(out / "summary.csv")
    for _, row in summary.iterrows():
        runs = frame[frame["settings"] == row["settings"]]
        assert row["learned_nothing"] == int(runs["learned_nothing"].sum())
        assert row["test_baseline_mean"] == pytest.approx(runs["test_baseline"].mean())


def test_class_labels_are_measured_against_the_majority_class():
    res = sweep({"hidden_layers": [[4]], "n_samples": [60]}, "spirals", fit_kwargs={"epochs": 1},
                progress=False, n_test=300)
    (r,) = res.runs
    _, data_seq, _ = np.random.SeedSequence(0).spawn(3)
    (_, y), _, (_, yt) = DataSource(name="spirals", n_test=300).make(
        60, np.random.default_rng(data_seq))
    assert r["test_baseline"] == pytest.approx(1.0 - baseline_accuracy(y, yt))
    assert isinstance(r["learned_nothing"], bool)


def test_a_failed_run_has_no_mark():
    res = sweep({"hidden_layers": [[0]], "n_samples": [20]}, fit_kwargs={"epochs": 1},
                progress=False)
    assert res.runs[0]["status"] == "failed" and res.runs[0]["learned_nothing"] is None


def test_the_trends_leave_out_and_name_the_runs_that_learned_nothing(mixed):
    res, out = mixed
    text = (out / "report.md").read_text()
    nothing = [r for r in res.runs if r["learned_nothing"]]
    assert f"{len(nothing)} learned nothing" in text.split("\n\n")[2]
    line = next(t for t in text.splitlines() if "runs learned nothing (their test error" in t)
    assert line.startswith(f"- {len(nothing)} of {len(res.runs)} runs learned nothing")
    # the best setting named in the trend is the best of the runs that learned
    learners = [r for r in res.runs if not r["learned_nothing"]]
    by_setting: dict[str, list[float]] = {}
    for r in learners:
        by_setting.setdefault(json.dumps(r["settings"], sort_keys=True), []).append(
            r["test_error"])
    best = min(np.mean(v) for v in by_setting.values())
    assert f"lowest mean test error {best:.3g} at" in line


def test_every_table_has_a_baseline_and_a_learned_nothing_column(mixed):
    _, out = mixed
    tables = [t for t in (out / "report.md").read_text().split("\n\n") if t.startswith("| ")]
    heads = [t.splitlines()[0] for t in tables if "factor" not in t.splitlines()[0]]
    assert len(heads) >= 2
    for head in heads:
        assert "| baseline" in head and "| learned nothing" in head


def test_every_plot_draws_the_baseline(tmp_path, monkeypatch):
    drawn = []
    real_lines, real_curves = report.plot_lines, report.plot_curves
    real_heatmaps = report.plot_heatmaps

    def heatmaps(panels, *args, **kwargs):
        drawn.append([np.array([p.baseline]) for p in panels])
        return real_heatmaps(panels, *args, **kwargs)

    def lines(charts, *args, **kwargs):
        drawn.append([c.baseline for c in charts])
        return real_lines(charts, *args, **kwargs)

    def curves(lines_, baselines, *args, **kwargs):
        drawn.append([np.array(baselines)])
        return real_curves(lines_, baselines, *args, **kwargs)

    monkeypatch.setattr(report, "plot_lines", lines)
    monkeypatch.setattr(report, "plot_curves", curves)
    monkeypatch.setattr(report, "plot_heatmaps", heatmaps)
    grids = [Grid({"hidden_layers": [[2], [3]]}), Grid({"hidden_layers": [[2]],
                                                        "n_samples": [10, 20],
                                                        "learning_rate": [0.1, 1.0]})]
    res = sweep(grids, repeats=1, fit_kwargs={"epochs": 2}, out=tmp_path, progress=False,
                n_validation=20, n_test=50)
    pngs = [p for p in res.files if p.suffix == ".png"]
    assert len(drawn) == len(pngs) >= 5
    for baselines in drawn:
        for b in baselines:
            assert np.isfinite(b).all()


def _old_store(path, runs):
    """A store as numnet wrote it before the baselines: their columns absent."""
    from numnet.experiments.store import _COLUMNS, _FIRST_COLUMNS, APPLICATION_ID, _to_sql
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        columns = ", ".join(f"{k} {_COLUMNS[k]}" for k in _FIRST_COLUMNS)
        conn.execute(f"CREATE TABLE runs ({columns})")
        conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for r in runs:
            row = {k: _to_sql(k, r.get(k)) for k in _FIRST_COLUMNS if k != "finished_at"}
            row["finished_at"] = "2025-01-01T00:00:00+00:00"
            conn.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES "
                         f"({', '.join('?' * len(row))})", list(row.values()))
        conn.commit()


def test_runs_stored_before_the_baselines_load_and_say_so(tmp_path):
    grid = {"hidden_layers": [[2], [3]], "n_samples": [20]}
    fresh = sweep(grid, repeats=2, fit_kwargs={"epochs": 2}, progress=False)
    store = tmp_path / "old.sqlite"
    _old_store(store, fresh.runs)
    res = sweep(grid, repeats=2, fit_kwargs={"epochs": 2}, store=store, out=tmp_path / "out",
                progress=False)
    assert res.ran == 0 and res.skipped == 4
    assert all(r["learned_nothing"] is None and r["test_baseline"] is None for r in res.runs)
    text = (tmp_path / "out" / "report.md").read_text()
    assert "baseline not recorded" in text and "nan" not in text
    # the store was given the new columns; a new run in it records its baseline
    more = sweep({"hidden_layers": [[4]], "n_samples": [20]}, fit_kwargs={"epochs": 2},
                 store=store, progress=False)
    assert isinstance(more.runs[0]["learned_nothing"], bool)
    with ResultStore(store) as s:
        assert len(s) == 5


def test_a_results_csv_from_before_the_baselines_reports(tmp_path, mixed):
    _, out = mixed
    old = tmp_path / "old"
    old.mkdir()
    frame = pd.read_csv(out / "results.csv")
    frame.drop(columns=["test_baseline", "validation_baseline", "train_baseline",
                        "loss_baseline", "learned_nothing"]).to_csv(old / "results.csv",
                                                                    index=False)
    (old / "sweep.json").write_text((out / "sweep.json").read_text())
    report.report_from_csv(old)
    text = (old / "report.md").read_text()
    assert "baseline not recorded" in text and "learned nothing (their" not in text
    assert "| not recorded |" in text


def test_the_command_says_how_many_runs_learned_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "numnet", "sweep", "--hidden", "9,6", "--lr", "0.01",
         "--n-samples", "20", "--epochs", "1", "--batch-size", "1", "--repeats", "2",
         "--out", str(tmp_path), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(tmp_path / "results.csv")
    nothing = int(frame["learned_nothing"].sum())
    assert nothing == 2                                     # measured: both seeds
    assert f"0 failed, {nothing} learned nothing" in result.stdout
    assert "TrainingWarning" not in result.stderr and "learned nothing:" not in result.stderr
    assert frame["test_baseline"].notna().all()

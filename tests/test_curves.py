"""Learning and validation curves: ``numnet.experiments.curve`` and ``numnet curve``, on the
sweep's machinery (any executor, Dask included), with seeds as bands and the baseline."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sweep_processes import env

from numnet.experiments import curve
from numnet.experiments.curves import curve_grid

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

FIT = {"epochs": 5, "batch_size": 1, "learning_rate": 1.0}


def _numnet(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numnet", "curve", *map(str, args)],
                          capture_output=True, text=True, env=env(), timeout=120)


def test_a_learning_curve_from_python(tmp_path):
    res = curve("one_minus_x", "n_samples", [10, 40], seeds=2, hidden_layers=[3],
                fit_kwargs={"epochs": 5, "batch_size": 1}, learning_rate=1.0,
                out=tmp_path, progress=False, n_validation=20, n_test=100)
    assert len(res.runs) == 4 and res.failed == 0
    assert {r["settings"]["n_samples"] for r in res.runs} == {10, 40}
    assert all(r["settings"]["hidden_layers"] == [3] for r in res.runs)
    assert (tmp_path / "curve.png") in res.files and (tmp_path / "curve.png").stat().st_size
    text = (tmp_path / "report.md").read_text()
    assert "## The curve" in text and "![the curve](curve.png)" in text
    # the sentence states the medians over seeds, from the runs
    frame = pd.read_csv(tmp_path / "results.csv")
    for n in (10, 40):
        rows = frame[frame["n_samples"] == n]
        assert (f"{n}: {rows['train_error'].median():.3g} / {rows['test_error'].median():.3g}"
                in text)


@pytest.mark.parametrize("vary, values, fixed, match", [
    ("width", [1, 2], {}, "a curve varies one of"),
    ("n_samples", [10], {}, "at least two values"),
    ("hidden", [[1], [2]], {"hidden_layers": [3]}, "what the curve varies"),
])
def test_a_curve_refuses_what_it_cannot_draw(vary, values, fixed, match):
    with pytest.raises(ValueError, match=match):
        curve_grid(vary, values, **fixed)


def test_a_validation_curve_on_the_command_line(tmp_path):
    args = ["one_minus_x", "--vary", "hidden", "--values", "1;3;9,6", "--n-samples", 30,
            "--epochs", 3, "--batch-size", 1, "--lr", 1.0, "--seeds", 2, "--out", tmp_path,
            "--no-progress"]
    first = _numnet(*args)
    assert first.returncode == 0, first.stderr
    assert "6 runs (6 run now, 0 already stored), 0 failed" in first.stdout
    assert "learned nothing" in first.stdout and "curve.png" in first.stdout
    frame = pd.read_csv(tmp_path / "results.csv")
    assert sorted(set(frame["hidden_layers"])) == ["(1,)", "(3,)", "(9, 6)"]


def test_a_curve_of_a_data_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random(80)
    data = tmp_path / "line.csv"
    pd.DataFrame({"x": x, "y": 1.0 - x}).to_csv(data, index=False)
    before = data.read_bytes()
    result = _numnet(data, "--vary", "learning_rate", "--values", "0.1,1.0", "--epochs", 2,
                     "--batch-size", 1, "--seeds", 1, "--out", tmp_path / "out",
                     "--no-progress")
    assert result.returncode == 0, result.stderr
    assert data.read_bytes() == before
    frame = pd.read_csv(tmp_path / "out" / "results.csv")
    assert sorted(frame["learning_rate"]) == [0.1, 1.0] and frame["test_baseline"].notna().all()


@pytest.mark.parametrize("args, code, says", [
    (["one_minus_x", "--vary", "hidden", "--values", "1,2", "--hidden", "3"], 2,
     "varies hidden layers: give its values with --values"),
    (["one_minus_x", "--vary", "n_samples", "--values", "10,many"], 2, "comma-separated ints"),
    (["no_such_set", "--vary", "n_samples", "--values", "10,20"], 1,
     "unknown data set 'no_such_set'; choose from ['circles', "),
    (["no_such_set", "--vary", "n_samples", "--values", "10,20"], 1,
     "or give a data file (.csv, .tsv, .parquet, .npz) or audio:FOLDER"),
])
def test_curve_errors_are_one_line(tmp_path, args, code, says):
    result = _numnet(*args, "--out", tmp_path / "out", "--no-progress")
    assert result.returncode == code, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_curve_runs_on_dask_as_it_runs_here():
    distributed = pytest.importorskip("distributed")
    kw = {"seeds": 2, "hidden_layers": [2], "fit_kwargs": FIT, "progress": False,
          "n_validation": 20, "n_test": 50}
    here = curve("one_minus_x", "n_samples", [10, 20], **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        there = curve("one_minus_x", "n_samples", [10, 20], scheduler=client, **kw)
    keep = ("key", "test_error", "test_baseline", "learned_nothing")
    assert sorted(tuple(r[k] for k in keep) for r in there.runs) == sorted(
        tuple(r[k] for k in keep) for r in here.runs)


def test_numnet_lists_the_curve_command():
    listed = subprocess.run([sys.executable, "-m", "numnet", "--help"], capture_output=True,
                            text=True, env=env(), timeout=60)
    assert "curve" in listed.stdout
    helped = _numnet("--help")
    assert helped.returncode == 0 and "numnet curve one_minus_x --vary n_samples" in helped.stdout

"""A verbose ``numnet train`` says the baseline once: in its table, in the data's units.

fit's own verbose baseline line (``baseline loss=... (always predicting ...)``) and
its ``learned nothing`` line would repeat the table's rows and verdict in another
form; fit's notes stay: the loss still falling at the end, features on scales far
apart. The real command in subprocesses, started together.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")                           # the cli extra
pytest.importorskip("click")

SRC = Path(__file__).resolve().parent.parent / "src"

# name: (numnet train's arguments, the scored sets of its table)
RUNS = {
    # adam at its default rate: 30 epochs leave the loss falling by ~5% of the baseline's
    # loss per 6 epochs (measured 5.7%), far above the note's 1%
    "falling": (("sum_of_two", "--samples", "200", "--epochs", "30", "--hidden", "4",
                 "--validation-split", "0.2"), ["train", "validation"]),
    "falling_quiet": (("sum_of_two", "--samples", "200", "--epochs", "30", "--hidden", "4",
                       "--validation-split", "0.2", "--quiet"), ["train", "validation"]),
    # features whose standard deviations are 1e4 apart, left unscaled
    "scales": (("far.csv", "--no-scale", "--epochs", "2", "--hidden", "3"), ["train"]),
    # 3 epochs at adam's default rate: accuracy 0.2 against the majority's 0.5 (measured)
    "nothing": (("moons", "--samples", "100", "--epochs", "3", "--hidden", "3"), ["train"]),
}
STILL_FALLING = "note: the loss was still falling at the last epoch ("
SCALES = "note: the features' scales differ by ~1e4 "


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    rng = np.random.default_rng(0)
    small, large = rng.normal(0, 1e-3, 60), rng.normal(0, 10.0, 60)
    np.savetxt(folder / "far.csv", np.c_[small, large, 1e3 * small + large / 10],
               delimiter=",", header="a,b,y", comments="")

    def run(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "numnet", "train", *RUNS[name][0],
                               "--out", f"{name}.safetensors"], cwd=folder, text=True,
                              capture_output=True, env=_env(), timeout=300)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(RUNS, pool.map(run, RUNS), strict=True))


@pytest.mark.parametrize("name", RUNS)
def test_the_baseline_is_said_once_in_the_table(ran, name):
    result = ran[name]
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    said = [line.strip() for line in lines if "baseline" in line.split("(")[0]]
    rows = [f"baseline on {part}" for part in RUNS[name][1]]
    assert [line for line in said if not line.startswith("baseline:")] == [
        line for line in said if line.startswith(tuple(rows))]      # only the table's rows
    for row in rows:
        assert sum(line.startswith(row) for line in said) == 1, said
    assert sum(line.startswith("baseline: always predicting") for line in said) == 1, said
    assert not any(line.startswith("baseline ") for line in lines), said    # fit's form


def test_verbose_progress_is_kept(ran):
    epochs = [line for line in ran["falling"].stderr.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 30 and epochs[-1].startswith("epoch 30/30 loss=")   # one a line
    assert epochs[0].startswith("epoch 1/30 loss=") and ", training with the " in epochs[0]
    assert not any(line.startswith("epoch ") for line in ran["falling_quiet"].stderr.splitlines())


def test_the_loss_still_falling_is_noted_once(ran):
    assert ran["falling"].stderr.count(STILL_FALLING) == 1, ran["falling"].stderr
    assert "more --epochs may help" in ran["falling"].stderr
    assert STILL_FALLING not in ran["falling_quiet"].stderr + ran["falling_quiet"].stdout
    assert STILL_FALLING not in ran["nothing"].stderr           # it learned nothing: not that


def test_features_on_scales_far_apart_are_noted_once(ran):
    result = ran["scales"]
    assert result.stderr.count(SCALES) == 1, result.stderr
    assert SCALES not in ran["falling"].stderr                  # standardised by train


def test_learned_nothing_is_said_once(ran):
    result = ran["nothing"]
    lines = (result.stdout + result.stderr).splitlines()
    nothing = [line for line in lines if "learned nothing" in line]
    assert len(nothing) == 1, nothing
    assert nothing[0].startswith("learned nothing: the model does no better than always "
                                 "predicting the training rows' majority class")
    assert "learned nothing" not in ran["falling"].stdout + ran["falling"].stderr

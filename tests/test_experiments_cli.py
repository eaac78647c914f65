"""``numnet sweep`` is a command of the ``numnet`` program, as the README shows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_numnet_has_the_sweep_command():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    listed = subprocess.run([sys.executable, "-m", "numnet", "--help"], capture_output=True,
                            text=True, env=env, check=True)
    assert "sweep" in listed.stdout
    helped = subprocess.run([sys.executable, "-m", "numnet", "sweep", "--help"],
                            capture_output=True, text=True, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "--preset" in helped.stdout and "numnet sweep --preset tutorial" in helped.stdout


def _sweep(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "numnet", "sweep", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=cwd)


def test_the_learning_rate_preset_sets_lr_finds_suggestion_beside_the_rates(tmp_path):
    import pandas as pd
    result = _sweep("--preset", "learning-rate", "--repeats", 1, "--epochs", 3, "--out",
                    tmp_path, "--no-progress")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "report.md").read_text()
    opening = report.split("\n\n")[1]
    assert "3 epoch(s) with optimizer sgd, batch size 1" in opening and "20 epoch" not in opening
    section = report.split("## lr_find's suggestion\n\n")[1].split("\n")[0]
    suggestion = float(re.search(r"suggests a learning rate of ([0-9.e+-]+)\. ", section)[1])
    frame = pd.read_csv(tmp_path / "results.csv")
    learned = frame[~frame["learned_nothing"].astype(bool)]
    best = learned.groupby("learning_rate")["test_error"].mean().idxmin()
    assert f"is {best:g} (" in section
    assert f"the suggestion is {suggestion / best:.2g} times it" in section
    assert ("near it (within" in section) == (1 / 3 <= suggestion / best <= 3)
    assert (tmp_path / "error_vs_learning_rate.png").exists()


def test_the_capacity_preset_runs_on_noisy_spirals_and_states_what_ran(tmp_path):
    result = _sweep("--preset", "capacity", "--repeats", 1, "--epochs", 2, "--out",
                    tmp_path, "--no-progress")
    assert result.returncode == 0, result.stderr
    opening = (tmp_path / "report.md").read_text().split("\n\n")[1]
    assert ("(1,), (2,), (4,), (8,), (16,), (32,), (64,), (96,), (128,), (192,), (256,), "
            "(512,)") in opening
    assert "15% of the labels flipped" in opening and "2 epoch(s) with optimizer adam" in opening
    assert "10000 epoch" not in opening and "1 network per setting" in opening


def test_noisy_spirals_flip_a_sixth_of_the_labels():
    import numpy as np

    from numnet.datasets import spirals
    from numnet.experiments.runs import noisy_spirals
    X, y = noisy_spirals(4000, random_state=np.random.default_rng(3))
    X0, y0 = spirals(4000, noise=0.2, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(X, X0)
    assert 0.13 < float(np.mean(y != y0)) < 0.17          # 15% flipped, 4000 draws


def test_the_preset_help_states_the_presets_own_widths_and_rates(monkeypatch):
    from click.testing import CliRunner

    from numnet.cli import sweep as command
    from numnet.experiments import Grid, capacity_preset, learning_rate_preset
    text = " ".join(CliRunner().invoke(command.sweep_command, ["--help"]).output.split())
    widths = [layers[0] for layers in capacity_preset().grids[0].factors["hidden_layers"]]
    rates = learning_rate_preset().grids[0].factors["learning_rate"]
    assert (widths[0], widths[-1], rates[0], rates[-1]) == (1, 512, 0.01, 30.0)
    assert "'capacity' is widths 1 to 512 on noisy spirals (15% flipped labels)" in text
    assert "beside a sweep of rates 0.01 to 30." in text and "256" not in text
    # read from the preset, not a copy of it: a preset that changes changes the help
    preset = capacity_preset()
    preset.grids = [Grid({"hidden_layers": [[2], [1024]]})]
    monkeypatch.setattr(command, "capacity_preset", lambda: preset)
    assert "'capacity' is widths 2 to 1024 on" in command._preset_help()


def test_a_sweep_of_a_data_file_as_numnet_train_reads_it(tmp_path):
    """--data takes a data file and --target its column, as numnet train and numnet curve
    do; the report names the file, and the file is left as it was."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{x:.3f},{z:.3f},{'hi' if x + z > 1 else 'lo'}"
                            for x, z in rng.random((40, 2))]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = data.read_bytes()
    done = _sweep("--data", "d.csv", "--target", "label", "--hidden", 2, "--hidden", 4,
                  "--repeats", 2, "--epochs", 3, "--out", "o", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4 runs (4 run now, 0 already stored), 0 failed" in done.stdout
    report = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert "- Data: the file `d.csv`, target `label`; a fixed fifth of its rows" in report
    assert data.read_bytes() == before
    wrong = _sweep("--data", "one_minus_x", "--target", "y", "--hidden", 2, "--out", "p",
                   cwd=tmp_path)
    assert wrong.returncode == 2 and not (tmp_path / "p").exists()
    assert wrong.stderr.strip().splitlines()[-1] == (
        "Error: --target names a column of a data file; --data 'one_minus_x' is a built-in "
        "data set")

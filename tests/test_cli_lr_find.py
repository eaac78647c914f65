"""``numnet lr-find``, run as users run it: the real command in a subprocess.

It prints the suggested rate, a table of rate -> smoothed loss and the ``numnet
train`` command to use it with; it prepares the data as ``numnet train`` does
(standardised), writes the plot asked for, and never writes over its input.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("click")                            # the cli extra

PNG = b"\x89PNG\r\n\x1a\n"


def numnet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "numnet", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def suggestion(stdout: str) -> float:
    (rate,) = re.findall(r"^suggested learning rate: (\S+)$", stdout, re.M)
    return float(rate)


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    np.savetxt(path, np.c_[x, y], delimiter=",", header="x,y", comments="")
    return path


def test_prints_the_suggestion_a_table_and_the_train_command_and_writes_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "lr.png"
    result = numnet("lr-find", "one_minus_x", "--optimizer", "sgd", "--batch-size", "1",
                    "--samples", "500", "--start", "1e-4", "--stop", "100", "--steps", "1000",
                    "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rate = suggestion(out)
    assert 1e-4 <= rate <= 100
    assert re.search(r"^\s+learning rate\s+smoothed loss$", out, re.M)
    assert len(re.findall(r"<- suggested$", out, re.M)) == 1
    rows = re.findall(r"^  (\d\S*)\s+(\S+)(?:\s+<- suggested)?$", out, re.M)
    rates = [float(r) for r, _ in rows]
    assert len(rows) >= 10 and rates == sorted(rates) and rates[0] == pytest.approx(1e-4)
    assert f"numnet train one_minus_x --optimizer sgd --batch-size 1 --samples 500 " \
           f"--lr {rate:.3g}" in out
    assert plot.read_bytes()[:8] == PNG and f"saved {plot}" in out


def test_standardises_the_data_as_numnet_train_does(tmp_path):
    """Features and targets on another scale and offset give the same test once
    standardised: the same suggestion and table (on the raw values the losses of the
    large set would be about 1e5 times larger)."""
    x = np.random.default_rng(0).random(200)
    small = write_csv(tmp_path / "small.csv", x, 1 - x)
    large = write_csv(tmp_path / "large.csv", 1000 * x + 7, 500 * (1 - x) - 3)
    runs = [numnet("lr-find", str(small)), numnet("lr-find", str(large))]
    for run in runs:
        assert run.returncode == 0, run.stderr
    tables = [re.findall(r"^  \d.*$", run.stdout, re.M) for run in runs]
    assert suggestion(runs[0].stdout) == suggestion(runs[1].stdout)
    assert tables[0] == tables[1] and len(tables[0]) >= 10
    assert f"numnet train {large} --lr {suggestion(runs[1].stdout):.3g}" in runs[1].stdout


@pytest.mark.parametrize("form", ["the file", "a symlink", "a hard link"])
def test_refuses_to_write_the_plot_over_its_input(tmp_path, form):
    """Every way of naming the input: refused before any work, its bytes unchanged."""
    x = np.linspace(0, 1, 50)
    data = write_csv(tmp_path / "data.csv", x, 1 - x)
    before = data.read_bytes()
    plot = {"the file": data, "a symlink": tmp_path / "link.png",
            "a hard link": tmp_path / "hard.png"}[form]
    if form == "a symlink":
        plot.symlink_to(data)
    elif form == "a hard link":
        os.link(data, plot)
    result = numnet("lr-find", str(data), "--plot", str(plot))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: --plot") and "never writes over its input" in line
    assert data.read_bytes() == before


@pytest.mark.parametrize("args, words", [
    (["--start", "1", "--stop", "0.5"], "--stop 0.5 must be larger than --start 1"),
    (["--steps", "3"], "at least 8 steps"),
    (["--samples", "10"], "--samples sets the size of a generated data set"),
    (["--plot", "missing/lr.png"], "does not exist"),
])
def test_bad_options_give_one_line_errors(tmp_path, args, words):
    x = np.linspace(0, 1, 50)
    data = write_csv(tmp_path / "data.csv", x, 1 - x)
    before = data.read_bytes()
    result = numnet("lr-find", str(data), *args, cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error:") and words in line, line
    assert data.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["data.csv"]

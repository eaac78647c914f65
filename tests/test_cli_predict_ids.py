"""`numnet predict DATA --id COLUMN`: predictions that name their rows."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd
import pytest

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def numnet(folder, *args):
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)], cwd=folder,
                          capture_output=True, text=True, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ids")
    rows = [f"S{k:03d},{k % 7 / 7:.3f},{k % 5 / 5:.3f},{'ab'[k % 2]}" for k in range(40)]
    (root / "d.csv").write_text("sample,x1,x2,label\n" + "\n".join(rows) + "\n")
    made = numnet(root, "train", "d.csv", "--target", "label", "--features", "x1,x2",
                  "--epochs", 2, "--quiet", "--out", "m.safetensors")
    assert made.returncode == 0, made.stderr
    return root


def test_the_id_column_comes_first_row_for_row_printed_and_written(folder):
    printed = numnet(folder, "predict", "m.safetensors", "d.csv", "--id", "sample", "--proba")
    assert printed.returncode == 0, printed.stderr
    frame = pd.read_csv(folder / "d.csv")
    shown = pd.read_csv(io.StringIO(printed.stdout))
    assert list(shown.columns[:2]) == ["sample", "label"]
    assert shown["sample"].tolist() == frame["sample"].tolist()
    written = numnet(folder, "predict", "m.safetensors", "d.csv", "--id", "sample", "--out",
                     "p.csv")
    assert written.returncode == 0, written.stderr
    assert pd.read_csv(folder / "p.csv")["sample"].tolist() == frame["sample"].tolist()


@pytest.mark.parametrize("args, said", [
    (["d.csv", "--id", "nope"], "no column 'nope' for --id; its columns are sample, x1"),
    (["d.csv", "--id", "label"], "--id label: the predictions have a column of that name"),
    (["--values", "0.1,0.2", "--id", "sample"], "--id names a column of a DATA file"),
    (["xor", "--id", "sample"], "--id names a column of a DATA file"),
])
def test_an_id_that_cannot_apply_is_one_line(folder, args, said):
    result = numnet(folder, "predict", "m.safetensors", *args)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert said in result.stderr

"""`numnet train` times the training alone: reading the data (an audio folder's feature
extraction) is timed apart, in the summary and in the model's record."""

from __future__ import annotations

import re
import time

from click.testing import CliRunner

import numnet
from numnet.cli import cli, data


def test_the_training_time_leaves_out_the_time_spent_reading_the_data(tmp_path, monkeypatch):
    load_table = data.load_table

    def slow_load_table(*args, **kwargs):        # as a folder of clips takes to extract
        time.sleep(1.0)
        return load_table(*args, **kwargs)

    warm = CliRunner().invoke(cli, ["train", "xor", "--epochs", "2", "--quiet", "--out",
                                    str(tmp_path / "warm.safetensors")])
    assert warm.exit_code == 0, warm.output      # numba's kernels loaded: not timed below
    monkeypatch.setattr(data, "load_table", slow_load_table)
    out = tmp_path / "m.safetensors"
    result = CliRunner().invoke(cli, ["train", "xor", "--epochs", "2", "--quiet",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = numnet.io.load_metadata(out)["metadata"]["training"]
    assert record["data_seconds"] >= 1.0
    assert record["seconds"] < 1.0                # two epochs on 200 rows: measured ~0.05 s
    shown = re.search(r"2 epoch\(s\) in ([0-9.]+) s \(after ([0-9.]+) s reading the data\)",
                      result.output)
    assert shown is not None, result.output
    assert float(shown.group(1)) == round(record["seconds"], 2)

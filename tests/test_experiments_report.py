"""The report's tables when a setting has no finished run."""

from __future__ import annotations

import pytest

from numnet.experiments import sweep

pd = pytest.importorskip("pandas")


def test_a_setting_that_always_fails_keeps_parameter_counts_integers(tmp_path):
    # hidden_layers [0] is refused by MLP: every run of that setting fails
    grid = {"hidden_layers": [[2], [0]], "n_samples": [20]}
    sweep(grid, repeats=2, fit_kwargs={"epochs": 2}, out=tmp_path, progress=False)
    summary = pd.read_csv(tmp_path / "summary.csv", dtype=str, keep_default_na=False)
    assert summary["num_parameters"].tolist() == ["7", ""]     # 1*2 + 2 + 2*1 + 1 = 7
    report = (tmp_path / "report.md").read_text()
    assert "| (2,) | 7 |" in report and "| (0,) | – |" in report
    assert "10.0" not in report and "nan" not in report

"""The report's tables when a setting has no finished run."""

from __future__ import annotations

import numpy as np
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


# --- the words say what ran; the plots keep interactions and stay honest --------------------


def _runs(settings_list, error, seeds=(0, 1, 2)):
    """Synthetic finished runs: ``error(settings, seed)`` as every error, baseline 1."""
    runs = []
    for i, settings in enumerate(settings_list):
        for seed in seeds:
            e = error(settings, seed)
            runs.append({"key": f"k{i}-{seed}", "status": "ok", "seed": seed,
                         "settings": settings, "num_parameters": 7, "final_loss": e,
                         "train_error": e, "validation_error": e, "test_error": e,
                         "test_baseline": 1.0, "validation_baseline": 1.0,
                         "train_baseline": 1.0, "loss_baseline": 1.0,
                         "learned_nothing": e >= 0.99, "epochs_run": 1, "diverged": False,
                         "loss_curve": [1.0, e]})
    return runs


def test_the_first_sentence_states_the_training_that_ran(tmp_path):
    sweep({"hidden_layers": [[2]], "learning_rate": [0.01, 0.1], "n_samples": [20]},
          fit_kwargs={"epochs": 2, "optimizer": "adam", "batch_size": 4}, out=tmp_path,
          progress=False, n_validation=10, n_test=20)
    opening = (tmp_path / "report.md").read_text().split("\n\n")[1]
    assert opening == ("Each run trained for 2 epoch(s) with optimizer adam, batch size 4, "
                       "learning rate 0.01, 0.1 and loss default (`default`: chosen for "
                       "the network and data: binary or categorical cross-entropy for class "
                       "labels, else the mean squared error; for the rate, the optimizer's "
                       "own).")


def test_heatmaps_only_where_exactly_two_factors_vary(tmp_path):
    from numnet.experiments import Grid
    from numnet.experiments.report import report_files
    for factors, heatmaps in ((1, 0), (2, 1), (3, 0)):
        grid = Grid(dict(list({"hidden_layers": [[2], [3]], "n_samples": [10, 20],
                               "learning_rate": [0.1, 1.0]}.items())[:factors]))
        names = [p.name for p in report_files([grid], tmp_path)]
        assert sum(n.startswith("heatmap") for n in names) == heatmaps, names
        assert sum(n.startswith("error_vs_") for n in names) == factors
    variants = [Grid({"n_samples": [10, 20], "bias": [b]}) for b in (True, False)]
    assert not any(p.name.startswith("heatmap") for p in report_files(variants, tmp_path))


def test_lines_keep_each_level_of_the_second_factor_and_bands_stay_positive():
    from numnet.experiments import Grid
    from numnet.experiments.report import Study, _charts, results_frame
    rng = np.random.default_rng(0)
    grid = Grid({"n_samples": [10, 20, 40], "learning_rate": [0.1, 1.0]})
    # an interaction: more data helps at rate 1.0 only; lognormal noise over seeds
    noise = {(n, lr, s): float(rng.lognormal(0, 1)) for n in (10, 20, 40) for lr in (0.1, 1.0)
             for s in range(5)}
    runs = _runs(grid.settings(), lambda st, s: 0.01 * noise[st["n_samples"],
                                                              st["learning_rate"], s]
                 * (10 / st["n_samples"] if st["learning_rate"] == 1.0 else 1.0),
                 seeds=range(5))
    frame = results_frame(runs)
    (chart,) = _charts(frame, Study(grid.varying, [("", grid)], []), "n_samples", "test_error")
    assert [line.legend for line in chart.lines] == ["learning rate = 0.1",
                                                     "learning rate = 1.0"]
    for line, lr in zip(chart.lines, (0.1, 1.0), strict=True):
        for i, n in enumerate((10, 20, 40)):
            errors = [r["test_error"] for r in runs if r["settings"] == {"n_samples": n,
                                                                         "learning_rate": lr}]
            assert line.mid[i] == pytest.approx(np.median(errors))
            assert 0 < line.low[i] <= line.mid[i] <= line.high[i]
    np.testing.assert_allclose(chart.baseline, 1.0)


def test_legends_cover_no_axes(tmp_path, monkeypatch):
    from numnet.experiments import report
    figures = []
    monkeypatch.setattr(report, "_save", lambda fig, path: figures.append(fig))
    grids = [{"hidden_layers": [[2], [3]]},
             {"hidden_layers": [[2]], "n_samples": [10, 20], "learning_rate": [0.1, 1.0]}]
    sweep(grids, fit_kwargs={"epochs": 2}, out=tmp_path, progress=False, n_validation=10,
          n_test=20)
    checked = 0
    for fig in figures:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = [leg for ax in fig.axes if (leg := ax.get_legend()) is not None]
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in fig.axes:
                if ax.get_label() == "<colorbar>":
                    continue
                assert not box.overlaps(ax.get_window_extent(renderer))
            checked += 1
    assert checked >= 4


def test_importance_names_the_factor_that_matters_for_three_factors(tmp_path):
    from numnet.experiments import Grid
    from numnet.experiments.report import importance, results_frame
    grid = Grid({"hidden_layers": [[2], [3]], "n_samples": [10, 20], "learning_rate": [0.1, 1.0]})
    runs = _runs(grid.settings(), lambda st, s: (0.5 if st["learning_rate"] == 0.1 else 0.1)
                 + 0.001 * s)
    found = {f: share for f, share, _ in importance(results_frame(runs), grid, grid.varying,
                                                       "test_error")}
    assert found["learning_rate"] > 0.99 and found["hidden_layers"] < 0.01
    assert 0.0 <= sum(found.values()) <= 1.0 + 1e-9

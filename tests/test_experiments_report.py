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
    # no run of (0,) finished: it has no baseline and no verdict, not an unrecorded one
    row = next(line for line in report.splitlines() if line.startswith("| (0,) |"))
    assert "not recorded" not in row and "0/0" not in row


def test_a_sweep_whose_every_run_failed_says_none_was_judged(tmp_path):
    """Not "baseline not recorded (these runs were stored before numnet recorded one)":
    nothing finished, so there is nothing a baseline could judge."""
    sweep({"hidden_layers": [[0]], "n_samples": [20]}, repeats=1, fit_kwargs={"epochs": 2},
          out=tmp_path, progress=False)
    report = (tmp_path / "report.md").read_text()
    assert ("1 run: 1 setting × 1 seed(s) (seeds 0); 0 finished, 1 failed, 0 diverged, none "
            "to judge against its baseline.") in report
    assert "stored before numnet recorded" not in report


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


# --- sentences that stay true: too few settings, ties, edges, where more data stops helping ----


def _report(tmp_path, grid, error, seeds=(0, 1, 2), baseline=1.0):
    """report.md of synthetic runs of ``grid`` (a Grid), ``error(settings, seed)`` each."""
    from numnet.experiments.report import write_report
    runs = _runs(grid.settings(), error, seeds)
    for r in runs:
        r["learned_nothing"] = r["test_error"] >= baseline * 0.99
    write_report(runs, [grid], tmp_path)
    return (tmp_path / "report.md").read_text()


def _finding(report, section):
    return next(line for line in report.split(f"## {section}\n\n")[1].splitlines()
                if line.startswith("- "))


def test_one_setting_left_is_not_both_the_lowest_and_the_highest(tmp_path):
    from numnet.experiments import Grid
    grid = Grid({"hidden_layers": [[1], [3], [3, 2]]})
    report = _report(tmp_path, grid, lambda st, s: 0.0809 if st["hidden_layers"] == [3]
                     else 1.0)
    line = _finding(report, "Hidden layers")
    assert line.endswith("among the runs that learned, only (3,) has runs to compare (mean "
                         "test error 0.0809): too few settings to say what hidden layers did.")
    assert "highest" not in report and "lowest" not in line
    assert "## Loss curve of the only setting" not in report    # the others finished
    assert "- best: hidden_layers=(3,)" in report


def test_tied_settings_are_said_to_tie_not_named_best_and_worst(tmp_path):
    from numnet.experiments import Grid
    grid = Grid({"augment": ["none", "noise=20"]})
    report = _report(tmp_path, grid, lambda st, s: 0.25)
    assert _finding(report, "Augmentation").endswith(
        "the mean test error was 0.25 for every value of augmentation (none, noise=20): no "
        "value did better.")
    assert "highest" not in report and "## Loss curves of the best and the worst" not in report
    assert ("- all 2 settings that finished had the same mean test error, so none is the best "
            "or the worst; the first: augment=none") in report


def test_a_single_setting_has_one_loss_curve(tmp_path):
    from numnet.experiments import Grid
    report = _report(tmp_path, Grid({"hidden_layers": [[3]]}), lambda st, s: 0.1 + 0.01 * s)
    assert "## Loss curve of the only setting" in report
    assert "- the only setting that finished: hidden_layers=(3,)" in report
    assert "best" not in report and "worst" not in report


def test_the_best_rate_below_one_that_learned_nothing_is_not_the_largest_tried(tmp_path):
    from numnet.experiments import Grid
    grid = Grid({"learning_rate": [0.1, 1.0, 10.0, 30.0]})
    errors = {0.1: 0.5, 1.0: 0.1, 10.0: 0.01, 30.0: 1.0}
    report = _report(tmp_path, grid, lambda st, s: errors[st["learning_rate"]] + 0.001 * s)
    line = _finding(report, "Learning rate")
    assert ("lowest mean test error at lr = 10.0 (the largest rate that learned: no run at "
            "30.0 did).") in line
    assert "largest rate tried" not in line
    # and where the largest rate tried did best, that is what it says
    grid = Grid({"learning_rate": [0.1, 1.0, 10.0]})
    report = _report(tmp_path, grid, lambda st, s: errors[st["learning_rate"]] + 0.001 * s)
    assert "(the largest rate tried: a larger one may do better still)" in _finding(
        report, "Learning rate")


def test_more_data_is_judged_within_each_setting_of_the_other_factors(tmp_path):
    # As examples/sweep_dask.py found: every combination of hidden layers and rate is better
    # at N = 1000 than at 100, but one noisy combination (a seed far off) spreads the pooled
    # runs so wide that the pooled two-standard-error rule said "stopped helping at N = 100".
    from numnet.experiments import Grid
    grid = Grid({"hidden_layers": [[1], [3]], "n_samples": [10, 100, 1000],
                 "learning_rate": [0.1, 1.0]})
    base = {10: 0.05, 100: 0.004, 1000: 0.001}

    def error(st, seed):
        e = base[st["n_samples"]] * (1.5 if st["learning_rate"] == 0.1 else 1.0) \
            * (1 + 0.02 * seed)
        if st == {"hidden_layers": [3], "n_samples": 100, "learning_rate": 0.1} and seed == 4:
            e = 0.2                 # one seed of one setting far off
        return e

    report = _report(tmp_path, grid, error, seeds=range(5))
    line = next(t for t in report.splitlines() if "training samples (N), averaged" in t)
    assert "stopped helping" not in line
    assert ("more data helped at every step, up to the largest N = 1000 (the mean test error "
            "fell by more than two standard errors from N = 10 to 100 in 3 of 4 and from "
            "N = 100 to 1000 in 3 of 4 combinations of hidden layers and learning rate, each "
            "compared with itself over its seeds)") in line
    # the pooled rule of before would have stopped at N = 100
    from numnet.experiments.report import marginal_rows, read_results
    rows = marginal_rows(read_results(tmp_path / "results.csv"), grid, "n_samples")
    (m1, s1, c1), (m2, s2, c2) = [(r["test_error_mean"], r["test_error_std"], r["runs"])
                                  for _, r in rows.iloc[1:].iterrows()]
    assert m1 - m2 <= 2 * (s1 ** 2 / c1 + s2 ** 2 / c2) ** 0.5


def test_more_data_never_stopped_helping_where_a_larger_n_did_clearly_better(tmp_path):
    # From N = 10 to 30 the error barely moves (within the noise), then falls a hundredfold:
    # the rule of before said "stopped helping at N = 10 ... helped again at N = 100, 300".
    from numnet.experiments import Grid
    grid = Grid({"n_samples": [10, 30, 100, 300]})
    means = {10: 0.054, 30: 0.051, 100: 0.0044, 300: 0.0015}
    spread = {10: 0.02, 30: 0.02, 100: 0.0004, 300: 0.0001}
    report = _report(tmp_path, grid, lambda st, s: means[st["n_samples"]]
                     + spread[st["n_samples"]] * (s - 1))
    line = _finding(report, "Training samples (N)")
    assert "stopped helping" not in line and "helped again" not in line
    assert line.startswith("- more data helped up to the largest N = 300, though not at every "
                           "step (from N = 10 to 30 the mean test error fell by 0.003, within "
                           "two standard errors (0.033)): each smaller N had a larger one "
                           "whose mean test error was lower by more than two standard errors.")


def test_more_data_stopped_helping_where_no_larger_n_did_better(tmp_path):
    from numnet.experiments import Grid
    grid = Grid({"n_samples": [10, 100, 500, 1000]})
    means = {10: 0.05, 100: 0.002, 500: 0.0019, 1000: 0.0021}
    report = _report(tmp_path, grid, lambda st, s: means[st["n_samples"]] + 0.0005 * (s - 1))
    line = _finding(report, "Training samples (N)")
    assert line.startswith("- more data stopped helping at N = 100: no larger N had a mean test "
                           "error lower by more than two standard errors (from N = 100 to 500 "
                           "the mean test error fell by 0.0001, within two standard errors "
                           "(0.00082); from N = 100 to 1000 the mean test error rose by 0.0001, "
                           "within two standard errors (0.00082)).")
    grid = Grid({"n_samples": [10, 100, 1000]})
    line = _finding(_report(tmp_path, grid, lambda st, s: means[st["n_samples"]]
                            + 0.0005 * (s - 1)), "Training samples (N)")
    assert line.startswith("- more data stopped helping at N = 100: from N = 100 to 1000 the "
                           "mean test error rose by 0.0001, within two standard errors "
                           "(0.00082).")

"""From a sweep's runs to ``results.csv``, ``summary.csv``, plots and ``report.md``.

Everything in the report is computed from the runs' numbers: the tables of
means and standard deviations over seeds (:mod:`~numnet.experiments.tables`),
the plots (:mod:`~numnet.experiments.figures`) and the sentences that say
what each factor did (:mod:`~numnet.experiments.findings`): where more data
stopped helping, which learning rates diverged, how the error moved with the
parameter count, and, when the same study runs on several networks, which
was better where. This module writes them and ``report.md``, one section per
study (:mod:`~numnet.experiments.studies`).

The report is written from ``results.csv`` as read back from disk, so
:func:`report_from_csv` regenerates the same ``report.md`` from the files
alone. Needs pandas and matplotlib: ``pip install 'numnet[plots]'``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .figures import plot_factor, plot_heatmap, plot_loss_curves
from .findings import analyse
from .formatting import METRIC_NAMES, factor_name, fmt, label, plus_minus, setting_text
from .grid import Grid
from .studies import PngNames, Study, report_files, require_report_extras, studies
from .tables import (
    aggregate,
    factor_columns,
    marginal_rows,
    primary_metric,
    read_results,
    results_frame,
    rows_for,
)

__all__ = ["write_report", "report_from_csv", "require_report_extras", "report_files",
           # re-exported from the modules that define them, where they were first documented
           "results_frame", "aggregate", "analyse", "Study", "studies", "marginal_rows", "label",
           "plot_factor", "plot_heatmap", "plot_loss_curves"]

Lines = list[str]


def write_report(runs: Sequence[dict[str, Any]], grids: Sequence[Grid], out: str | os.PathLike,
                 *, title: str | None = None, notes: dict[str, Any] | None = None
                 ) -> list[Path]:
    """Write ``results.csv``, ``sweep.json``, ``summary.csv``, plots and ``report.md``.

    Parameters
    ----------
    runs : list of dict
        The sweep's runs (:attr:`SweepResults.runs`).
    grids : list of Grid
        The grids they came from: they define the studies of the report.
    out : path
        Folder to write into (created if missing).
    title : str, optional
    notes : dict, optional
        The fixed ``fit`` arguments, data and seeds, stated in the report.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "results.csv"
    results_frame(runs).to_csv(csv, index=False)
    meta = out / "sweep.json"
    meta.write_text(json.dumps({"title": title, "grids": [g.to_dict() for g in grids],
                                "notes": notes or {}}, indent=1) + "\n")
    return [csv, meta, *_write_from_csv(csv, list(grids), out, title, notes or {})]


def report_from_csv(folder: str | os.PathLike, out: str | os.PathLike | None = None
                    ) -> list[Path]:
    """Regenerate ``summary.csv``, plots and ``report.md`` from ``results.csv`` and
    ``sweep.json`` in ``folder`` (into ``out``, default the same folder)."""
    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text())
    grids = [Grid.from_dict(g) for g in meta["grids"]]
    target = Path(out) if out is not None else folder
    target.mkdir(parents=True, exist_ok=True)
    return _write_from_csv(folder / "results.csv", grids, target, meta.get("title"),
                           meta.get("notes", {}))


def _write_from_csv(csv: Path, grids: list[Grid], out: Path, title: str | None,
                    notes: dict[str, Any]) -> list[Path]:
    """``summary.csv``, the plots and ``report.md`` in ``out``, from the runs in ``csv``."""
    frame = read_results(csv)
    summary = aggregate(frame)
    metric = primary_metric(summary)
    files = [out / "summary.csv"]
    summary.to_csv(files[0], index=False)

    md = _header(frame, summary, metric, title, notes)
    png = PngNames(out)
    epochs = (notes.get("fit") or {}).get("epochs")
    for study in studies(grids):
        if study.factors:
            lines, plots = _study_section(frame, summary, study, metric, epochs, png)
            md += lines
            files += plots
    curves = out / "loss_curves.png"
    lines = _loss_curve_section(frame, summary, metric, curves)
    md += lines
    files += [curves] if lines else []
    md += _failed_section(frame) + _every_setting_section(summary, metric)

    report = out / "report.md"
    report.write_text("\n".join(md))
    return [*files, report]


# --- sections of report.md ------------------------------------------------------------


def _header(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, title: str | None,
            notes: dict[str, Any]) -> Lines:
    """The title, what the sweep asks, how many runs ran and what the numbers mean."""
    n_ok = int((frame["status"] == "ok").sum())
    n_div = int(frame.loc[frame["status"] == "ok", "diverged"].astype(bool).sum())
    seeds = sorted(set(frame["seed"].astype(int)))
    md = [f"# {title or 'Sweep report'}", ""]
    if notes.get("description"):
        md += [notes["description"], ""]
    md.append(f"{len(frame)} runs: {len(summary)} settings × {len(seeds)} seed(s) "
              f"({_seed_text(seeds)}); {n_ok} finished, {len(frame) - n_ok} failed, "
              f"{n_div} diverged.")
    md.append("")
    md += _notes_text(notes, metric, frame)
    md.append("")
    return md


def _study_section(frame: pd.DataFrame, summary: pd.DataFrame, study: Study, metric: str,
                   epochs: Any, png: PngNames) -> tuple[Lines, list[Path]]:
    """One study: its fixed factors, findings, table, a plot per factor, and a heatmap
    when it has two factors or several variants. Returns its lines and its plots."""
    md = [f"## {study.title[0].upper() + study.title[1:]}", ""]
    fixed = _fixed_text(study)
    if fixed:
        md += [fixed, ""]
    md += [f"- {line}" for line in analyse(summary, study, metric, frame)]
    if "n_samples" in study.factors and isinstance(epochs, int):
        md.append(f"- Every run trains for {epochs} epoch{'s' if epochs != 1 else ''}, so N "
                  f"also sets the number of "
                  f"examples seen ({epochs} × N): part of what more data does here is "
                  f"more training.")
    md += ["", _study_table(summary, study, metric), ""]
    plots = []
    for factor in study.factors:
        path = png(f"error_vs_{factor}")
        _plot_study_factor(frame, summary, study, factor, metric, path)
        plots.append(path)
        md += [f"![{METRIC_NAMES[metric]} against {factor_name(factor)}]({path.name})", ""]
    if len(study.factors) == 2 or len(study.variants) >= 2:
        path = png(f"heatmap_{study.slug}")
        plot_heatmap(summary, study, metric, path)
        plots.append(path)
        md += [f"![heatmap of {study.title}]({path.name})", ""]
    return md, plots


def _plot_study_factor(frame: pd.DataFrame, summary: pd.DataFrame, study: Study, factor: str,
                       metric: str, path: Path) -> None:
    """``metric`` against ``factor``: per setting in a one-factor study, else averaged over
    the other factors."""
    one = len(study.factors) == 1
    per_variant = [(v, rows_for(summary, g) if one else marginal_rows(frame, g, factor))
                   for v, g in study.variants]
    others = ", ".join(factor_name(f) for f in study.factors if f != factor)
    plot_factor(per_variant, factor, study.variants[0][1].factors[factor], metric, path,
                "" if one else f"\n(averaged over {others})")


def _loss_curve_section(frame: pd.DataFrame, summary: pd.DataFrame, metric: str,
                        path: Path) -> Lines:
    """The best and the worst setting and their loss curves (nothing if no run finished)."""
    picked = plot_loss_curves(frame, summary, metric, path)
    if picked is None:
        return []
    md = ["## Loss curves of the best and the worst setting", ""]
    for tag, s in zip(("best", "worst"), picked, strict=True):
        row = summary[summary["settings"] == s].iloc[0]
        md.append(f"- {tag}: {setting_text(s)}: mean {METRIC_NAMES[metric]} "
                  f"{plus_minus(row[f'{metric}_mean'], row[f'{metric}_std'])}")
    return md + ["", f"![loss curves]({path.name})", ""]


def _failed_section(frame: pd.DataFrame) -> Lines:
    """A table of the runs that raised, with their errors (nothing if none did)."""
    failed = frame[frame["status"] == "failed"]
    if not len(failed):
        return []
    md = ["## Failed runs", "", "| settings | seed | error |", "|---|---|---|"]
    for _, r in failed.iterrows():
        md.append(f"| {setting_text(r['settings'])} | {r['seed']} | "
                  f"{str(r['error']).replace('|', '/')} |")
    return md + [""]


def _every_setting_section(summary: pd.DataFrame, metric: str) -> Lines:
    return ["## Every setting", "", _summary_table(summary, metric), "",
            "Mean ± sample standard deviation over the seeds that finished. One row per run "
            "in [results.csv](results.csv), these means in [summary.csv](summary.csv).", ""]


# --- markdown tables ------------------------------------------------------------------


def _markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def _study_table(summary: pd.DataFrame, study: Study, metric: str) -> str:
    """One row per setting of the study, its variants' columns side by side."""
    per_variant = [(v, rows_for(summary, g)) for v, g in study.variants]
    head = [factor_name(f) for f in study.factors]
    for v, _ in per_variant:
        tag = f" ({v})" if v else ""
        head += [f"parameters{tag}", f"{METRIC_NAMES[metric]}{tag}", f"final loss{tag}",
                 f"diverged{tag}"]
    base = per_variant[0][1]
    rows = []
    for i in range(len(base)):
        cells = [str(base.iloc[i][f]) for f in study.factors]
        for _, variant_rows in per_variant:
            if i >= len(variant_rows):
                cells += ["–"] * 4
                continue
            r = variant_rows.iloc[i]
            cells += [_count_text(r["num_parameters"]),
                      plus_minus(r[f"{metric}_mean"], r[f"{metric}_std"]),
                      plus_minus(r["final_loss_mean"], r["final_loss_std"]),
                      f"{r['diverged']}/{r['runs'] - r['failed']}"]
        rows.append(cells)
    return _markdown_table(head, rows)


def _summary_table(summary: pd.DataFrame, metric: str) -> str:
    """Every setting: counts, parameters, errors, final loss and epochs run."""
    factors = factor_columns(summary)
    head = [*factors, "runs", "failed", "diverged", "parameters", METRIC_NAMES[metric],
            "training error", "final loss", "epochs"]
    rows = []
    for _, r in summary.iterrows():
        cells = [str(r[c]) for c in factors]
        cells += [str(r["runs"]), str(r["failed"]), str(r["diverged"]),
                  _count_text(r["num_parameters"]),
                  plus_minus(r[f"{metric}_mean"], r[f"{metric}_std"]),
                  plus_minus(r["train_error_mean"], r["train_error_std"]),
                  plus_minus(r["final_loss_mean"], r["final_loss_std"]),
                  fmt(r["epochs_run_mean"])]
        rows.append(cells)
    return _markdown_table(head, rows)


def _count_text(value: Any) -> str:
    """A parameter count, or a dash where no run finished to have one."""
    return "–" if value is None or pd.isna(value) else str(int(value))


# --- what the header says ---------------------------------------------------------------


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def _fixed_text(study: Study) -> str:
    """The fixed factors the study's variants share (``lr_scale`` is said in the notes)."""
    shown = [f"{k} = {label(k, v)}" for k, v in study.shared_fixed().items() if k != "lr_scale"]
    return ("Fixed: " + ", ".join(shown) + ".") if shown else ""


def _notes_text(notes: dict[str, Any], metric: str, frame: pd.DataFrame) -> Lines:
    """Bullets on the data, the fixed fit arguments and what the measurements mean."""
    lines = []
    data = notes.get("data", {})
    if "name" in data:
        lines.append(f"- Data: `{data['name']}`; each run draws its training set from its seed; "
                     f"validation ({data.get('n_validation')} samples) and test "
                     f"({data.get('n_test')} samples) sets are the same for every run.")
    elif data:
        lines.append("- Data: arrays given to the sweep (digest "
                     f"`{data.get('arrays', '?')}`).")
    fit = notes.get("fit")
    if fit:
        lines.append("- Fixed fit arguments: " + ", ".join(f"{k}={v}" for k, v in fit.items())
                     + ".")
    lines.append(f"- Errors are the loss each network trained on (the mean squared error "
                 f"unless a loss is set; the misclassification rate for class labels), measured "
                 f"after training on the training, validation and test sets; the conclusions "
                 f"use the {METRIC_NAMES[metric]}. \"Final loss\" is "
                 f"the last epoch's running training loss, the tutorial's printed `Error`. "
                 f"\"Diverged\" counts runs whose loss became NaN/inf or exploded (numnet's "
                 f"divergence guard stopped them).")
    if frame["settings"].str.contains('"lr_scale":"tutorial"').any():
        lines.append("- Learning rates are on the tutorial's scale: its rate `lr` on "
                     "`E = 0.5 * sum((t - o) ** 2)` is SGD on the mean squared error at "
                     "`lr * num_outputs / 2`, which is what ran.")
    return lines

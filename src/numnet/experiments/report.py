"""From a sweep's runs to ``results.csv``, ``summary.csv``, plots and ``report.md``.

Everything in the report is computed from the runs' numbers: the table of
means and standard deviations over seeds per setting (:func:`aggregate`),
and the sentences that say what each factor did (:func:`analyse`): where
more data stopped helping (the first step up in ``n_samples`` whose
improvement is within two standard errors), which learning rates diverged,
how the error moved with the parameter count (with the rank correlation),
and, when the same study runs on several networks, which was better where.

The report is written from ``results.csv`` as read back from disk, so
:func:`report_from_csv` regenerates the same ``report.md`` from the files
alone. Needs pandas and matplotlib: ``pip install 'numnet[plots]'``.

The parts are modules of their own: the tables in :mod:`.tables`, the
sentences in :mod:`.analysis`, the pictures in :mod:`.plots`; this module
puts them together into the report folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .analysis import (
    _METRIC_NAMES,
    Study,
    _primary_metric,
    _rows_for,
    _summary_table,
    _table,
    analyse,
    marginal_rows,
    studies,
)
from .grid import Grid, canonical_json
from .plots import _setting_text, plot_factor, plot_heatmap, plot_loss_curves
from .tables import (
    _LAST,
    _NAMES,
    Frame,
    _pd,
    _pm,
    aggregate,
    label,
    require_report_extras,
    results_frame,
)

__all__ = ["results_frame", "aggregate", "analyse", "write_report", "report_from_csv",
           "require_report_extras", "Study"]


# --- the report --------------------------------------------------------------------


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
    pd = _pd()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "results.csv"
    results_frame(runs).to_csv(csv, index=False)
    meta = out / "sweep.json"
    meta.write_text(json.dumps({"title": title, "grids": [g.to_dict() for g in grids],
                                "notes": notes or {}}, indent=1) + "\n")
    frame = pd.read_csv(csv, keep_default_na=False,
                        na_values={c: [""] for c in _LAST})
    return [csv, meta, *_write_from_frame(frame, list(grids), out, title, notes or {})]


def report_from_csv(folder: str | os.PathLike, out: str | os.PathLike | None = None
                    ) -> list[Path]:
    """Regenerate ``summary.csv``, plots and ``report.md`` from ``results.csv`` and
    ``sweep.json`` in ``folder`` (into ``out``, default the same folder)."""
    pd = _pd()
    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text())
    grids = [Grid.from_dict(g) for g in meta["grids"]]
    frame = pd.read_csv(folder / "results.csv",
                        keep_default_na=False, na_values={c: [""] for c in _LAST})
    target = Path(out) if out is not None else folder
    target.mkdir(parents=True, exist_ok=True)
    return _write_from_frame(frame, grids, target, meta.get("title"), meta.get("notes", {}))


def _write_from_frame(frame: Frame, grids: list[Grid], out: Path, title: str | None,
                      notes: dict[str, Any]) -> list[Path]:
    for col in ("final_loss", "train_error", "validation_error", "test_error", "wall_time"):
        frame[col] = frame[col].astype(float)
    summary = aggregate(frame)
    metric = _primary_metric(summary)
    files = [out / "summary.csv"]
    summary.to_csv(files[0], index=False)

    n_ok = int((frame["status"] == "ok").sum())
    n_failed = len(frame) - n_ok
    n_div = int(frame.loc[frame["status"] == "ok", "diverged"].astype(bool).sum())
    seeds = sorted(set(frame["seed"].astype(int)))
    md = [f"# {title or 'Sweep report'}", ""]
    if notes.get("description"):
        md += [notes["description"], ""]
    md.append(f"{len(frame)} runs: {len(summary)} settings × {len(seeds)} seed(s) "
              f"({_seed_text(seeds)}); {n_ok} finished, {n_failed} failed, {n_div} diverged.")
    md.append("")
    md += _notes_text(notes, metric, frame)
    md.append("")

    taken: set[str] = set()

    def unique(stem: str) -> Path:
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}_{k}"
        taken.add(name)
        return out / f"{name}.png"

    for study in studies(grids):
        if not study.factors:
            continue
        md += [f"## {study.title[0].upper() + study.title[1:]}", ""]
        fixed = _fixed_text(study)
        if fixed:
            md += [fixed, ""]
        md += [f"- {line}" for line in analyse(summary, study, metric, frame)]
        epochs = (notes.get("fit") or {}).get("epochs")
        if "n_samples" in study.factors and isinstance(epochs, int):
            md.append(f"- Every run trains for {epochs} epochs, so N also sets the number of "
                      f"examples seen ({epochs} × N): part of what more data does here is "
                      f"more training.")
        md += ["", _table(summary, study, metric), ""]
        for factor in study.factors:
            one = len(study.factors) == 1
            per_variant = [(v, _rows_for(summary, g) if one else marginal_rows(frame, g, factor))
                           for v, g in study.variants]
            path = unique(f"error_vs_{factor}")
            others = ", ".join(_NAMES.get(f, f) for f in study.factors if f != factor)
            plot_factor(per_variant, factor, study.variants[0][1].factors[factor], metric, path,
                        "" if one else f"\n(averaged over {others})")
            files.append(path)
            md += [f"![{_METRIC_NAMES[metric]} against {_NAMES.get(factor, factor)}]"
                   f"({path.name})", ""]
        if len(study.factors) == 2 or len(study.variants) >= 2:
            path = unique(f"heatmap_{study.slug}")
            plot_heatmap(summary, study, metric, path)
            files.append(path)
            md += [f"![heatmap of {study.title}]({path.name})", ""]

    curves = out / "loss_curves.png"
    picked = plot_loss_curves(frame, summary, metric, curves)
    if picked is not None:
        files.append(curves)
        md += ["## Loss curves of the best and the worst setting", ""]
        for tag, s in zip(("best", "worst"), picked, strict=True):
            row = summary[summary["settings"] == s].iloc[0]
            md.append(f"- {tag}: {_setting_text(s)}: mean {_METRIC_NAMES[metric]} "
                      f"{_pm(row[f'{metric}_mean'], row[f'{metric}_std'])}")
        md += ["", f"![loss curves]({curves.name})", ""]

    failed = frame[frame["status"] == "failed"]
    if len(failed):
        md += ["## Failed runs", "", "| settings | seed | error |", "|---|---|---|"]
        for _, r in failed.iterrows():
            md.append(f"| {_setting_text(r['settings'])} | {r['seed']} | "
                      f"{str(r['error']).replace('|', '/')} |")
        md.append("")

    md += ["## Every setting", "", _summary_table(summary, metric), "",
           "Mean ± sample standard deviation over the seeds that finished. One row per run "
           "in [results.csv](results.csv), these means in [summary.csv](summary.csv).", ""]
    report = out / "report.md"
    report.write_text("\n".join(md))
    files.append(report)
    return files


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def _fixed_text(study: Study) -> str:
    common = None
    for _, g in study.variants:
        items = {k: canonical_json(v) for k, v in g.fixed.items()}
        common = items if common is None else {k: v for k, v in common.items()
                                               if items.get(k) == v}
    g0 = study.variants[0][1]
    shown = [f"{k} = {label(k, g0.fixed[k])}" for k in (common or {}) if k != "lr_scale"]
    return ("Fixed: " + ", ".join(shown) + ".") if shown else ""


def _notes_text(notes: dict[str, Any], metric: str, frame: Frame) -> list[str]:
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
                 f"use the {_METRIC_NAMES[metric]}. \"Final loss\" is "
                 f"the last epoch's running training loss, the tutorial's printed `Error`. "
                 f"\"Diverged\" counts runs whose loss became NaN/inf or exploded (numnet's "
                 f"divergence guard stopped them).")
    if frame["settings"].str.contains('"lr_scale":"tutorial"').any():
        lines.append("- Learning rates are on the tutorial's scale: its rate `lr` on "
                     "`E = 0.5 * sum((t - o) ** 2)` is SGD on the mean squared error at "
                     "`lr * num_outputs / 2`, which is what ran.")
    return lines

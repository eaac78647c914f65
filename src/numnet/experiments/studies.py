"""Studies: the grids of a sweep that ask one question, each a section of the report.

Also what a report needs and which files it writes (:func:`report_files`),
known from the grids alone, without importing pandas or matplotlib, so that
a sweep checks them before it runs.

Joined grids that vary the same factors over the same values form one
study; when they differ in a fixed factor (the tutorial preset runs each
exploration on the tutorial's network and on numnet's defaults), each grid
is a *variant* of the study, and the report sets the variants side by side.

>>> from numnet.experiments import Grid
>>> a = Grid({"n_samples": [10, 100], "bias": False}, "no biases")
>>> b = Grid({"n_samples": [10, 100], "bias": True}, "biases")
>>> [(s.title, [v for v, _ in s.variants]) for s in studies([a, b])]
[('training samples (N)', ['no biases', 'biases'])]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .formatting import FACTOR_NAMES, label
from .grid import Grid, canonical_json

__all__ = ["Study", "studies", "report_files", "require_report_extras", "PngNames"]


@dataclass
class Study:
    """Grids that vary the same factors over the same values, one per variant.

    Attributes
    ----------
    factors : list of str
        The factors the grids vary, in grid order.
    variants : list of (str, Grid)
        Each grid with its label in the report (``""`` for a study of one grid).
    """

    factors: list[str]
    variants: list[tuple[str, Grid]]

    @property
    def title(self) -> str:
        """The study's heading: its factors, ``"hidden layers × learning rate"``."""
        return " × ".join(FACTOR_NAMES.get(f, f.replace("_", " ")) for f in self.factors) \
            or "fixed"

    @property
    def slug(self) -> str:
        """The study's name in file names: ``"hidden_layers_learning_rate"``."""
        return "_".join(self.factors) or "fixed"

    def shared_fixed(self) -> dict[str, Any]:
        """The fixed factors every variant sets to the same value, and that value."""
        common: dict[str, str] | None = None
        for _, g in self.variants:
            items = {k: canonical_json(v) for k, v in g.fixed.items()}
            common = items if common is None else {k: v for k, v in common.items()
                                                   if items.get(k) == v}
        first = self.variants[0][1].fixed
        return {k: first[k] for k in common or {}}


def studies(grids: Sequence[Grid]) -> list[Study]:
    """Group joined grids into studies: same varying factors and values, different fixed ones."""
    groups: dict[str, list[Grid]] = {}
    for g in grids:
        k = canonical_json([[f, g.factors[f]] for f in g.varying])
        groups.setdefault(k, []).append(g)
    return [Study(members[0].varying, [(_variant_label(g, members), g) for g in members])
            for members in groups.values()]


def _variant_label(g: Grid, members: list[Grid]) -> str:
    """``g``'s own label, else the fixed factors that tell it from the other members."""
    if g.label:
        return g.label
    if len(members) == 1:
        return ""
    differ = sorted({k for m in members for k, v in m.fixed.items()
                     if any(o.fixed.get(k, "\0") != v for o in members)})
    return ", ".join(f"{k}={label(k, g.fixed.get(k))}" for k in differ) or "grid"


def require_report_extras() -> None:
    """Raise an ImportError naming the extra when pandas or matplotlib is missing.

    Asked at the start of a sweep that writes a report, so that a missing
    extra stops it before any run, not after the last.
    """
    missing = []
    for module in ("pandas", "matplotlib"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"sweep reports need {' and '.join(missing)}: "
                          f"pip install 'numnet[plots]'")


class PngNames:
    """PNG paths in ``out``, each name once: a second ``error_vs_n_samples`` is ``..._2``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.taken: set[str] = set()

    def __call__(self, stem: str) -> Path:
        name, k = stem, 1
        while name in self.taken:
            k += 1
            name = f"{stem}_{k}"
        self.taken.add(name)
        return self.out / f"{name}.png"


def report_files(grids: Sequence[Grid], out: str | os.PathLike) -> list[Path]:
    """Every file the report of ``grids`` may write in ``out``
    (:func:`numnet.experiments.report.write_report`), known before any run."""
    out = Path(out)
    png = PngNames(out)
    files = [out / "results.csv", out / "sweep.json", out / "summary.csv"]
    for study in studies(list(grids)):
        if study.factors:
            files += [png(f"error_vs_{factor}") for factor in study.factors]
            if len(study.factors) == 2 or len(study.variants) >= 2:
                files.append(png(f"heatmap_{study.slug}"))
    return [*files, out / "loss_curves.png", out / "report.md"]

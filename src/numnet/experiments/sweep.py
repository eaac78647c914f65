"""``sweep``: every setting of a grid times every seed, on an executor, into a store.

>>> from numnet.experiments import sweep
>>> res = sweep({"hidden_layers": [[1], [3]], "n_samples": [20]}, data="one_minus_x",
...             repeats=2, fit_kwargs={"epochs": 2}, progress=False)
>>> len(res.runs), res.ran, res.failed
(4, 4, 0)
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet import fit

from .executors import Executor, get_executor
from .grid import Grid, GridLike, as_grids, canonical_json, expand, run_key
from .runs import DataSource, RunSpec
from .store import ResultStore

if TYPE_CHECKING:                   # pandas is the optional extra numnet[plots]
    import pandas as pd

__all__ = ["sweep", "SweepResults", "make_data_source"]

logger = logging.getLogger(__name__)

_FIT_PARAMS = set(inspect.signature(fit).parameters) - {"net", "X", "y"}
_OWNED_BY_SWEEP = {"verbose": "runs are always quiet; the sweep has the progress bar",
                   "random_state": "each run is seeded from its seed; pass seeds= or repeats=",
                   "resume_from": "a sweep resumes from its store"}


@dataclass
class SweepResults:
    """What a :func:`sweep` produced.

    Attributes
    ----------
    runs : list of dict
        Every run of the sweep (this call's and those already in the store),
        in grid order: settings, seed, errors, loss curve ... (see
        :func:`numnet.experiments.runs.execute_run`).
    grids : list of Grid
    ran, skipped : int
        Runs executed by this call, and runs found in the store already.
    store : str
        Path of the SQLite store (``":memory:"`` when none was asked for).
    out : Path or None
        The folder with ``results.csv``, ``summary.csv``, plots and ``report.md``.
    """

    runs: list[dict[str, Any]]
    grids: list[Grid]
    ran: int = 0
    skipped: int = 0
    store: str = ":memory:"
    out: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Runs recorded as failed."""
        return sum(r["status"] == "failed" for r in self.runs)

    def to_frame(self) -> pd.DataFrame:
        """One row per run (a pandas DataFrame; needs ``numnet[plots]``)."""
        from .tables import results_frame
        return results_frame(self.runs)

    def summary(self) -> pd.DataFrame:
        """Mean and std over seeds per setting (a pandas DataFrame)."""
        from .tables import aggregate
        return aggregate(self.to_frame())


def make_data_source(data: Any, n_validation: int = 200, n_test: int = 1000,
                     test_size: float = 0.2) -> DataSource:
    """A :class:`~numnet.experiments.runs.DataSource` from what ``sweep(data=...)`` accepts.

    ``data`` is a built-in set's name (``"one_minus_x"``, ``"sine"``,
    ``"one_minus_x_grid"`` ...), a ``DataSource``, arrays ``(X, y)`` (a fixed
    ``test_size`` fraction is held out as the test set, the same for every
    run), or ``{"train": (X, y), "validation": (X, y), "test": (X, y)}``.
    """
    if isinstance(data, DataSource):
        return data
    if isinstance(data, str):
        return DataSource(name=data, n_validation=n_validation, n_test=n_test)
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"train", "validation", "test"})
        if unknown or "train" not in data:
            raise ValueError(f"data as a mapping needs 'train' (and optionally 'validation', "
                             f"'test'), got keys {sorted(data)}")
        parts = {k: _pair(v, k) for k, v in data.items()}
        return DataSource(train=parts["train"], validation=parts.get("validation"),
                          test=parts.get("test"))
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = _pair(data, "data")
        if not 0.0 <= test_size < 1.0:
            raise ValueError(f"test_size must be in [0, 1), got {test_size}")
        n_test_rows = int(round(len(X) * test_size))
        if n_test_rows < 1 or n_test_rows >= len(X):
            return DataSource(train=(X, y))
        order = np.random.default_rng(len(X)).permutation(len(X))   # fixed: same test set
        test, train = order[:n_test_rows], order[n_test_rows:]
        return DataSource(train=(X[train], y[train]), test=(X[test], y[test]))
    raise TypeError(f"data must be a data set name, (X, y) arrays, a mapping of 'train'/"
                    f"'validation'/'test' to (X, y), or a DataSource; got {type(data).__name__}")


def _pair(value: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (X, y) of arrays")
    X, y = np.asarray(value[0]), np.asarray(value[1])
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}")
    return X, y


def _seeds(seeds: Sequence[int] | None, repeats: int | None) -> list[int]:
    if seeds is not None and repeats is not None:
        raise ValueError("give seeds= or repeats=, not both")
    if repeats is not None:
        if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) \
                or repeats < 1:
            raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
        return list(range(int(repeats)))
    if seeds is None:
        return [0]
    if isinstance(seeds, (int, np.integer)):
        seeds = [int(seeds)]
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {list(seeds)!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise ValueError(f"seeds repeat a value: {out}")
    if not out:
        raise ValueError("seeds is empty; give at least one seed")
    return out


def _describe(value: Any) -> Any:
    """A JSON-safe description of a ``fit`` argument, for run keys."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _describe(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    get_config = getattr(value, "get_config", None)
    if callable(get_config):
        return {"class": type(value).__name__, "config": _describe(get_config())}
    return {"class": type(value).__name__, "repr": repr(value)}


def _check_fit_kwargs(fit_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    fit_kwargs = dict(fit_kwargs or {})
    for name in fit_kwargs:
        if name in _OWNED_BY_SWEEP:
            raise ValueError(f"fit_kwargs cannot set {name!r}: {_OWNED_BY_SWEEP[name]}")
        if name not in _FIT_PARAMS:
            raise ValueError(f"fit_kwargs has {name!r}, which numnet.fit does not take; "
                             f"it takes {sorted(_FIT_PARAMS - set(_OWNED_BY_SWEEP))}")
    return fit_kwargs


def _open_store(store: Any, out: Path | None) -> tuple[ResultStore, bool]:
    if isinstance(store, ResultStore):
        return store, False
    if store is None:
        store = ":memory:" if out is None else out / "results.sqlite"
    return ResultStore(store), True


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        logger.info("install tqdm (numnet[cli]) for a progress bar")
        return None
    return tqdm(total=total, desc="sweep", unit="run", dynamic_ncols=True)


def sweep(
    grid: GridLike,
    data: Any = "one_minus_x",
    *,
    seeds: Sequence[int] | None = None,
    repeats: int | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    executor: str | Executor = "serial",
    scheduler: Any = None,
    workers: int | None = None,
    store: str | os.PathLike | ResultStore | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    n_validation: int = 200,
    n_test: int = 1000,
    retry_failed: bool = False,
    title: str | None = None,
    description: str | None = None,
) -> SweepResults:
    """Run every setting of ``grid`` once per seed; record each run as it finishes.

    Parameters
    ----------
    grid : Grid, mapping, or list of them
        Factors and their values, e.g. ``{"hidden_layers": [[3], [9, 6]],
        "n_samples": [100, 1000], "learning_rate": [0.1, 1.0]}``; a list
        joins grids (each distinct setting runs once). See :class:`Grid`.
    data : str, (X, y), mapping or DataSource, default "one_minus_x"
        A built-in set by name (each run draws ``n_samples`` from its seed;
        shared validation and test sets of ``n_validation`` and ``n_test``
        samples), or arrays (see :func:`make_data_source`).
    seeds : list of int, optional
        One run per setting and seed. Default ``[0]``.
    repeats : int, optional
        Instead of ``seeds``: seeds ``0 .. repeats - 1``.
    fit_kwargs : dict, optional
        Fixed :func:`numnet.fit` arguments (``epochs``, ``batch_size``,
        ``optimizer`` ...); grid factors of the same name override them.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where runs execute: here, on local processes (every core unless
        ``workers``), or on Dask (a new ``LocalCluster`` unless ``scheduler``).
    scheduler : str or distributed.Client, optional
        A running Dask cluster (``"tcp://host:8786"``); implies ``"dask"``.
    workers : int, optional
        Processes for ``"processes"``, workers of a new ``LocalCluster``.
    store : path or ResultStore, optional
        The SQLite store. Default ``out/results.sqlite`` with ``out``, else in
        memory. Runs already in it are not run again (failed ones neither,
        unless ``retry_failed``).
    out : path, optional
        Write ``results.csv``, ``summary.csv``, plots and ``report.md`` here
        (needs ``numnet[plots]``).
    progress : bool, default True
        A progress bar over runs (tqdm).
    title, description : str, optional
        The report's title, and a paragraph under it saying what the sweep asks.

    Returns
    -------
    SweepResults
        Every run of the sweep, in grid order, and where things were written.

    Notes
    -----
    Each run's key digests its settings, the fixed ``fit`` arguments, the
    data and the seed (:func:`run_key`), so a store shared by different
    sweeps never confuses their runs. The same seed gives the same initial
    weights, data and order on every executor: per-run results are
    identical wherever they ran.
    """
    grids = as_grids(grid)
    seed_list = _seeds(seeds, repeats)
    fit_kwargs = _check_fit_kwargs(fit_kwargs)
    source = make_data_source(data, n_validation, n_test)
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        _check_report_extra()
        out_dir.mkdir(parents=True, exist_ok=True)
    specs, meta = _plan(grids, seed_list, source, fit_kwargs)

    db, owned = _open_store(store, out_dir)
    try:
        db.set_meta(f"sweep:{run_key(meta, 0)}", meta)
        todo = _missing(specs, db, retry_failed)
        ran = _execute(todo, executor, scheduler, workers, db, retry_failed, progress)
        runs = db.results([s.key for s in specs])
    finally:
        if owned:
            db.close()
    result = SweepResults(runs=runs, grids=grids, ran=ran, skipped=len(specs) - len(todo),
                          store=db.path, out=out_dir)
    if out_dir is not None:
        from .report import write_report
        result.files = write_report(runs, grids, out_dir, title=title,
                                    notes=_notes(fit_kwargs, source, seed_list, description))
    return result


def _plan(grids: list[Grid], seeds: list[int], source: DataSource, fit_kwargs: dict[str, Any]
          ) -> tuple[list[RunSpec], dict[str, Any]]:
    """Every run of the sweep, in grid order (each setting times each seed), and what
    describes the sweep in the store: its grids, seeds, fixed ``fit`` arguments and data."""
    fixed = {"fit": _describe(fit_kwargs), "data": source.identity()}
    specs = [RunSpec(run_key({**fixed, "settings": s}, seed), s, seed, source, fit_kwargs)
             for s in expand(grids) for seed in seeds]
    return specs, {"grids": [g.to_dict() for g in grids], "seeds": seeds, **fixed}


def _missing(specs: list[RunSpec], db: ResultStore, retry_failed: bool) -> list[RunSpec]:
    """The runs the store does not hold yet (nor as failed, unless ``retry_failed``)."""
    done = db.keys("ok") | (set() if retry_failed else db.keys("failed"))
    todo = [s for s in specs if s.key not in done]
    if len(todo) < len(specs):
        logger.info("%d of %d runs already in %s; running the other %d",
                    len(specs) - len(todo), len(specs), db.path, len(todo))
    return todo


def _execute(todo: list[RunSpec], executor: Any, scheduler: Any, workers: int | None,
             db: ResultStore, retry_failed: bool, progress: bool) -> int:
    if not todo:
        return 0
    ex = get_executor(executor, scheduler=scheduler, workers=workers)
    owned = not isinstance(executor, Executor)
    bar = _progress_bar(len(todo), progress)
    ran = failed = 0
    try:
        for result in ex.run(todo):
            if db.add(result, replace_failed=retry_failed):
                ran += 1
                failed += result["status"] == "failed"
                if result["status"] == "failed":
                    logger.warning("run %s (%s, seed %d) failed: %s", result["key"],
                                   canonical_json(result["settings"]), result["seed"],
                                   result["error"])
            if bar is not None:
                bar.update(1)
                if failed:
                    bar.set_postfix(failed=failed)
    finally:
        if bar is not None:
            bar.close()
        if owned:
            ex.close()
    return ran


def _notes(fit_kwargs: dict[str, Any], source: DataSource, seeds: list[int],
           description: str | None) -> dict[str, Any]:
    notes = {"fit": json.loads(canonical_json(_describe(fit_kwargs))),
             "data": source.identity(), "seeds": seeds}
    if description:
        notes["description"] = description
    return notes


def _check_report_extra() -> None:
    from .report import require_report_extras
    require_report_extras()

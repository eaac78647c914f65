"""``sweep``: every setting of a grid times every seed, on an executor, into a store.

What a sweep is given is checked before anything starts, by the functions here that
``numnet sweep`` calls too (``seeds_of``, ``check_fit_kwargs``, ``check_size``). Runs are
planned one at a time, never all in memory; a sweep of more than ``max_runs`` runs is
refused (:class:`SweepTooLarge`), and so is augmentation that cannot be
(:func:`~numnet.experiments.audio.check_augment`). A :class:`Preset` is a whole sweep by name
(:data:`PRESETS`: ``tutorial``, ``capacity``, ``learning-rate``).
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import numbers
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet import fit
from numnet.validation import check_count

from .audio import check_augment, is_audio
from .executors import (
    Executor,
    SerialExecutor,
    get_executor,
    refuse_unguarded_main,
    starts_processes,
)
from .grid import (
    Grid,
    GridLike,
    as_grids,
    canonical_json,
    count_settings,
    iter_settings,
    label,
    run_key,
)
from .plugins import worker_plugins
from .report import (
    EXPLORATIONS,
    NUMNET_DEFAULTS,
    TUTORIAL_NETWORK,
    aggregate,
    report_files,
    require_report_extras,
    results_frame,
    training_sentence,
    tutorial_description,
    write_report,
)
from .runs import FLIPPED, SPIRAL_NOISE, DataSource, RunSpec, make_data_source, spelled
from .store import ResultStore

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: The most runs a sweep starts unless told more (``max_runs=``, ``--max-runs``).
DEFAULT_MAX_RUNS = 100_000
_EXACT_COUNT = 100_000      # joined grids sharing settings are counted up to this many
_FIT_PARAMS = set(inspect.signature(fit).parameters) - {"net", "X", "y"}
_OWNED_BY_SWEEP = {"verbose": "runs are always quiet; the sweep has the progress bar",
                   "random_state": "each run is seeded from its seed; give {seeds}",
                   "resume_from": "a sweep resumes from its store"}


class SweepTooLarge(ValueError):
    """A sweep of more runs than its limit: a ValueError whose message says how to lift it.

    Parameters
    ----------
    runs : int
        The sweep's runs (a lower bound unless ``exact``).
    settings : int
        Its settings (a lower bound unless ``exact``).
    seeds : int
        Its seeds per setting.
    limit : int
        The most runs allowed (``max_runs``).
    exact : bool
        Whether ``runs`` and ``settings`` were counted to the end.
    """

    def __init__(self, runs: int, settings: int, seeds: int, limit: int, exact: bool) -> None:
        self.runs, self.settings, self.seeds, self.limit, self.exact = (
            runs, settings, seeds, limit, exact)
        super().__init__(self.describe("max_runs="))

    def describe(self, option: str) -> str:
        """The refusal in one line, naming the way to lift the limit.

        Parameters
        ----------
        option : str
            The limit as the reader sets it: ``"max_runs="`` (Python) or
            ``"--max-runs"`` (the command line).

        Returns
        -------
        str
            The message.
        """
        if self.exact:
            size = (f"{self.runs:,} runs ({self.settings:,} setting"
                    f"{'s' if self.settings != 1 else ''} × {self.seeds:,} seed"
                    f"{'s' if self.seeds != 1 else ''})")
            lift = f"{option}{'' if option.endswith('=') else ' '}{self.runs}"
        else:
            size, lift = f"more than {self.limit:,} runs", f"a larger {option.rstrip('=')}"
        return (f"this sweep is {size}, more than the limit of {self.limit:,} runs; give fewer "
                f"values or seeds, or pass {lift} to run it")


@dataclass
class SweepResults:
    """What a :func:`sweep` returns.

    Parameters
    ----------
    runs : list of dict
        Every run of the grids (this call's and the store's), in grid order.
    grids : list of Grid
        The grids.
    ran : int, default 0
        Runs made and stored by this call.
    skipped : int, default 0
        Runs already in the store, not run again.
    store : str, default ":memory:"
        The store's path.
    out : pathlib.Path or None, default None
        The report's folder, if one was written.
    files : list of pathlib.Path, default []
        The report's files.
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
        """One row per run, as ``results.csv`` (pandas; needs ``numnet[plots]``)."""
        return results_frame(self.runs)

    def summary(self) -> pd.DataFrame:
        """Mean and std over seeds per setting, as ``summary.csv`` (pandas)."""
        return aggregate(self.to_frame())


def seeds_of(seeds: Sequence[int] | None, repeats: int | None) -> Sequence[int]:
    """The seeds of a sweep: ``seeds``, or ``range(repeats)`` (never made into a list)."""
    if seeds is not None and repeats is not None:
        raise ValueError(f"give {spelled('seeds= or repeats=', 'seeds or repeats')}, not both")
    if repeats is not None:
        return range(check_count(repeats, "repeats"))
    if seeds is None:
        return [0]
    seeds = [int(seeds)] if isinstance(seeds, (int, np.integer)) else list(seeds)
    for s in seeds:
        check_count(s, "each seed", least=0, hint=f" in seeds {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat a value: {seeds}")
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed")
    return [int(s) for s in seeds]


def check_fit_kwargs(fit_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """``fit_kwargs`` as a dict; a ValueError for one ``fit`` does not take or the sweep sets."""
    fit_kwargs = dict(fit_kwargs or {})
    given = spelled("fit_kwargs", "the grid file's [fit]")
    for name in fit_kwargs:
        if name in ("augment", "augment_copies"):
            raise ValueError(f"{name} is a grid factor, not a fit argument: give it in the "
                             f"grid (one value applies it to every run)")
        if name in _OWNED_BY_SWEEP:
            seeds = spelled("seeds= or repeats=", "--seeds or --repeats")
            raise ValueError(f"{given} cannot set {name!r}: "
                             f"{_OWNED_BY_SWEEP[name].format(seeds=seeds)}")
        if name not in _FIT_PARAMS:
            raise ValueError(f"{given} has {name!r}, which numnet.fit does not take; "
                             f"it takes {sorted(_FIT_PARAMS - set(_OWNED_BY_SWEEP))}")
        value = fit_kwargs[name]
        if isinstance(value, numbers.Real) and not math.isfinite(value):
            raise ValueError(f"{given} has {name} = {value!r}: give a finite number")
    return fit_kwargs


def check_size(grids: list[Grid], seeds: Sequence[int], max_runs: int | None) -> int:
    """The number of runs, counted without making the settings; :class:`SweepTooLarge`
    above ``max_runs`` (None: no limit)."""
    if max_runs is not None:
        check_count(max_runs, "max_runs")
    # Counting past the limit (in constant memory) lets a refusal say the exact count.
    stop = None if max_runs is None else max(max_runs // len(seeds), _EXACT_COUNT)
    settings, exact = count_settings(grids, stop_after=stop)
    runs = settings * len(seeds)
    if max_runs is not None and runs > max_runs:
        raise SweepTooLarge(runs, settings, len(seeds), int(max_runs), exact)
    return runs


def sweep(grid: GridLike, data: Any = "one_minus_x", *, seeds: Sequence[int] | None = None,
          repeats: int | None = None, fit_kwargs: Mapping[str, Any] | None = None,
          executor: str | Executor = "serial", scheduler: Any = None, workers: int | None = None,
          store: str | os.PathLike | ResultStore | None = None,
          out: str | os.PathLike | None = None, progress: bool = True, n_validation: int = 200,
          n_test: int = 1000, retry_failed: bool = False, title: str | None = None,
          description: str | None = None, max_runs: int | None = DEFAULT_MAX_RUNS,
          timeout: float = 10.0, notes: Mapping[str, Any] | None = None,
          plugins: Sequence[str] = ()) -> SweepResults:
    """Run every setting of a grid once per seed, and record each run as it ends.

    A run's key digests its settings, the fixed ``fit`` arguments, the data and the
    seed, so sweeps sharing a store never confuse their runs; a seed gives identical
    results on every executor.

    Activations and losses registered by name (:func:`numnet.activations.register`,
    :func:`numnet.losses.register`) work on every executor: each run first imports the
    module that defined their functions, and ``plugins``, in whichever process it runs
    (:mod:`~numnet.experiments.plugins`). Functions defined in ``__main__`` are refused,
    before any run, off the serial executor.

    The processes executor and Dask's ``LocalCluster`` start worker processes that run the
    main script again as they start: a script must call this under ``if __name__ ==
    "__main__":``. One that does not is refused in one line before anything starts.

    An audio folder (``data="audio:FOLDER"``: class folders of clips, or ``train/``,
    ``test/`` (and ``valid/``) parts; the ``audio`` extra) is read once, here, its features
    cached per file; a fixed fifth of a folder's clips (a split: its ``test/``) is every
    run's test set. Each run standardises its sets on its clean training clips, and the
    factors ``augment`` (``"none"`` or a spec such as ``"noise=20,gain=6,shift=0.1"``:
    :meth:`numnet.audio.Augment.parse`) and ``augment_copies`` (copies per clip, default 1)
    add augmented copies of its training clips, never of its validation (``validation_split``
    is held out first) or test clips, drawn from its seed::

        sweep({"augment": ["none", "noise=20", "noise=20,gain=6,shift=0.1"],
               "hidden_layers": [[16]]}, data="audio:sounds", repeats=5)

    A spec that cannot be parsed, or augmentation of other data, is refused before the
    folder is read. Augmented runs read the clips again, so Dask workers elsewhere need the
    folder at the same path.

    Parameters
    ----------
    grid : Grid, mapping or sequence of them
        The factors and their values (:func:`~numnet.experiments.grid.as_grids`); joined
        grids run each distinct setting once.
    data : str, tuple, mapping or DataSource, default "one_minus_x"
        A data set's name, ``"audio:FOLDER"``, arrays ``(X, y)`` (X of shape
        (n_rows, n_features), y of shape (n_rows,) or (n_rows, n_outputs)) or a mapping of
        sets, as :func:`~numnet.experiments.runs.make_data_source` takes it.
    seeds : sequence of int or None, default None
        The seeds of each setting (distinct, non-negative); with neither this nor
        ``repeats``, seed 0 only.
    repeats : int or None, default None
        Seeds ``0 .. repeats - 1`` instead of ``seeds`` (not both).
    fit_kwargs : mapping or None, default None
        Fixed :func:`numnet.fit` arguments, which grid factors override; those a sweep
        sets itself (``random_state``, ``verbose``, ``resume_from``) are refused.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where runs execute: here, local worker processes, or Dask (a ``LocalCluster``
        unless ``scheduler``); or an executor made (:func:`get_executor`).
    scheduler : str, distributed.Client or None, default None
        A running Dask scheduler, address or client: the runs go there.
    workers : int or None, default None
        Worker processes of ``"processes"`` or of the ``LocalCluster`` (positive); None:
        one per core.
    store : str, os.PathLike, ResultStore or None, default None
        The SQLite store; None: ``out/results.sqlite``, or memory without ``out``. Runs
        already in it are not run again (nor failed ones, unless ``retry_failed``).
    out : str, os.PathLike or None, default None
        A folder for the report (``results.csv``, ``summary.csv``, plots, ``report.md``;
        ``numnet[plots]``); None: no report.
    progress : bool, default True
        A progress bar over runs (with tqdm).
    n_validation, n_test : int, default 200, 1000
        A named set's held-out rows, the same for every run.
    retry_failed : bool, default False
        Run again the runs the store holds as failed.
    title : str or None, default None
        The report's title.
    description : str or None, default None
        The report's opening, instead of the sentence on how every run trained.
    max_runs : int or None, default 100_000
        Refuse a sweep of more runs than this, before it starts (:class:`SweepTooLarge`);
        None: no limit.
    timeout : float, default 10.0
        Dask: seconds to wait for the scheduler, and for a worker when there is none.
    notes : mapping or None, default None
        What the report states beside the runs, e.g. ``{"lr_find": lr_find_notes(...)}``.
    plugins : sequence of str, default ()
        Modules each run imports first, wherever it runs (as ``numnet --plugin``).

    Returns
    -------
    SweepResults
        Every run of the grid, this call's and the store's, in grid order.

    Raises
    ------
    ValueError
        For arguments that cannot be run (checked before any run), or
        :class:`SweepTooLarge`.
    RuntimeError
        For a script that starts worker processes outside ``if __name__ ==
        "__main__":``, or when workers or a cluster are lost (every finished run stored).
    """
    grids = as_grids(grid)
    seed_list = seeds_of(seeds, repeats)
    fit_kwargs = check_fit_kwargs(fit_kwargs)
    check_augment([g.factors for g in grids], data, is_audio(data) or (
        isinstance(data, DataSource) and data.clips is not None))
    loads = worker_plugins([g.factors for g in grids], fit_kwargs, plugins,
                           here=_here(executor, scheduler))
    total = check_size(grids, seed_list, max_runs)
    if workers is not None:
        check_count(workers, "workers")
    starts = starts_processes(executor, scheduler)
    if starts is not None:          # before any folder, store or data: one line
        refuse_unguarded_main(starts)
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        require_report_extras()
        if store is not None and not isinstance(store, ResultStore) and store != ":memory:":
            for path in report_files(grids, out_dir):   # the report would write over it
                if os.path.realpath(path) == os.path.realpath(store):
                    raise ValueError(f"the store {store} is the report's {path.name}, which the "
                                     f"sweep writes at the end; give the store another path")
    source = make_data_source(data, n_validation, n_test)   # an audio folder: read here, once
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    fixed = {"fit": _describe(fit_kwargs), "data": source.identity()}

    def specs() -> Iterator[RunSpec]:           # grid order: each setting times each seed
        for s in iter_settings(grids):
            for seed in seed_list:
                yield RunSpec(run_key({**fixed, "settings": s}, seed), s, seed, source,
                              fit_kwargs, loads)

    meta = {"grids": [g.to_dict() for g in grids], "seeds": _seeds_json(seed_list), **fixed}
    owned = not isinstance(store, ResultStore)
    db = store if isinstance(store, ResultStore) else ResultStore(
        store if store is not None else ":memory:" if out_dir is None
        else out_dir / "results.sqlite")
    try:
        db.set_meta(f"sweep:{run_key(meta, 0)}", meta)
        done = db.keys("ok") | (set() if retry_failed else db.keys("failed"))
        skipped = sum(s.key in done for s in specs()) if done else 0
        if skipped:
            logger.info("%d of %d runs already in %s; running the other %d",
                        skipped, total, db.path, total - skipped)
        todo = (s for s in specs() if s.key not in done)
        ran = _execute(todo, total - skipped, executor, scheduler, workers, timeout, db,
                       retry_failed, progress)
        runs = db.results(s.key for s in specs())
    finally:
        if owned:
            db.close()
    result = SweepResults(runs=runs, grids=grids, ran=ran, skipped=skipped, store=db.path,
                          out=out_dir)
    if out_dir is not None:
        result.files = write_report(runs, grids, out_dir, title=title, notes={**_notes(
            fit_kwargs, grids, source, seed_list, description), **(notes or {})})
    return result


def _here(executor: Any, scheduler: Any) -> bool:
    """Whether every run executes in this process (the serial executor)."""
    return scheduler is None and (isinstance(executor, SerialExecutor) or executor == "serial")


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
    if callable(getattr(value, "get_config", None)):
        return {"class": type(value).__name__, "config": _describe(value.get_config())}
    return {"class": type(value).__name__, "repr": repr(value)}


def _seeds_json(seeds: Sequence[int]) -> Any:
    """The seeds as stored: a list, or ``{"range": [start, stop]}`` for many repeats."""
    if isinstance(seeds, range) and len(seeds) > 1000:
        return {"range": [seeds.start, seeds.stop]}
    return list(seeds)


def _execute(todo: Iterator[RunSpec], total: int, executor: Any, scheduler: Any,
             workers: int | None, timeout: float, db: ResultStore, retry_failed: bool,
             progress: bool) -> int:
    """Run ``todo`` and store each result as it comes; the number stored."""
    if total <= 0:
        return 0
    ex = get_executor(executor, scheduler=scheduler, workers=workers, timeout=timeout)
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=total, desc="sweep", unit="run", dynamic_ncols=True)
        except ImportError:
            logger.info("install tqdm (numnet[cli]) for a progress bar")
    ran = failed = 0
    try:
        for result in ex.run(todo):
            if db.add(result, replace_failed=retry_failed):
                ran += 1
                if result["status"] == "failed":
                    failed += 1
                    logger.warning("run %s (%s, seed %d) failed: %s", result["key"],
                                   canonical_json(result["settings"]), result["seed"],
                                   " ".join(str(result["error"]).split()))
            if bar is not None:
                bar.update(1)
                if failed:
                    bar.set_postfix(failed=failed)
    finally:
        if bar is not None:
            bar.close()
        if ex is not executor:
            ex.close()
    return ran


def _notes(fit_kwargs: dict[str, Any], grids: list[Grid], source: DataSource,
           seeds: Sequence[int], description: str | None) -> dict[str, Any]:
    """What the report states about the sweep; the fixed ``fit`` arguments are those no
    grid sets (a section states its grid's)."""
    in_grids = {k for g in grids for k in g.factors}
    fixed = {k: v for k, v in fit_kwargs.items() if k not in in_grids}
    notes = {"fit": json.loads(canonical_json(_describe(fixed))), "data": source.about(),
             "seeds": _seeds_json(seeds)}
    if description:
        notes["description"] = description
    return notes


@dataclass
class Preset:
    """A whole sweep by name (``numnet sweep --preset NAME``, :data:`PRESETS`).

    Parameters
    ----------
    name : str
        Its name.
    grids : list of Grid
        Its grids.
    data : str
        Its data set's name.
    seeds : list of int
        Its seeds.
    fit_kwargs : dict
        Its fixed :func:`numnet.fit` arguments.
    title : str, default ""
        Its report's title.
    lead : callable or None, default None
        ``lead(grids, data)``: the report's opening words, before what ran; None: the
        tutorial's own description (:func:`~numnet.experiments.report.tutorial_description`).
    notes : callable or None, default None
        ``notes(grids, data, fit_kwargs)``: what it measures beside the runs, for the
        report (e.g. :func:`lr_find_notes`); None: nothing.
    """

    name: str
    grids: list[Grid]
    data: str
    seeds: list[int]
    fit_kwargs: dict[str, Any]
    title: str = ""
    lead: Callable[[Sequence[Grid], str], str] | None = None
    notes: Callable[[Sequence[Grid], str, Mapping[str, Any]], dict[str, Any]] | None = None

    @property
    def description(self) -> str:
        """What the preset runs as it stands, in words."""
        return self.describe()

    def describe(self, grids: Sequence[Grid] | None = None, data: str | None = None,
                 n_seeds: int | None = None, fit_kwargs: Mapping[str, Any] | None = None
                 ) -> str:
        """What runs, in words, when a sweep replaces the parts given.

        Parameters
        ----------
        grids : sequence of Grid or None, default None
            The grids that run; None: the preset's.
        data : str or None, default None
            The data set's name; None: the preset's.
        n_seeds : int or None, default None
            Seeds per setting; None: the preset's.
        fit_kwargs : mapping or None, default None
            The fixed ``fit`` arguments; None: the preset's.

        Returns
        -------
        str
            The report's opening: what ran, every figure from what runs.
        """
        grids = self.grids if grids is None else grids
        data = self.data if data is None else data
        n_seeds = len(self.seeds) if n_seeds is None else n_seeds
        fit_kwargs = self.fit_kwargs if fit_kwargs is None else fit_kwargs
        if self.lead is None:
            return tutorial_description(grids, data, n_seeds, fit_kwargs)
        return (f"{self.lead(grids, data)} {n_seeds} network{'s' if n_seeds != 1 else ''} "
                f"per setting. "
                f"{training_sentence(grids, fit_kwargs)}")


def tutorial_preset() -> Preset:
    """The tutorial's answer to its challenge: three one-factor explorations on ``1 - x``
    (:func:`~numnet.experiments.runs.one_minus_x_grid`), 50 epochs of per-example SGD, 10
    networks each, on the tutorial's exact network and on numnet's defaults."""
    networks: list[tuple[str, dict[str, list[Any]]]] = [
        (TUTORIAL_NETWORK, {"bias": [False], "init": ["uniform"]}),
        (NUMNET_DEFAULTS, {"bias": [True], "init": [None]})]
    grids = [Grid({**factors, **net, "lr_scale": ["tutorial"]}, name)
             for factors, _ in EXPLORATIONS for name, net in networks]
    return Preset("tutorial", grids, "one_minus_x_grid", list(range(10)),
                  {"epochs": 50, "batch_size": 1, "shuffle": False, "optimizer": "sgd"},
                  title="The tutorial's challenge, answered (tutorial preset)")


def _capacity_lead(grids: Sequence[Grid], data: str) -> str:
    widths = [w for g in grids for w in g.factors.get("hidden_layers", [])]
    sizes = sorted({v for g in grids for v in g.factors.get("n_samples", [])})
    on = (f"two-class spirals with noise {SPIRAL_NOISE} and {FLIPPED:.0%} of the labels "
          f"flipped (`noisy_spirals`)" if data == "noisy_spirals" else f"`{data}`")
    return (f"Test error against the parameter count: networks of hidden layers "
            f"{', '.join(label('hidden_layers', w) for w in widths)} on {on}, "
            f"N = {', '.join(map(str, sizes)) or 'default'} training points. Where the "
            f"parameter count passes the number of training points a network can fit every "
            f"label, flips included; the test error may rise there and fall again beyond "
            f"(double descent).")


def capacity_preset() -> Preset:
    """Width 1 to 512 (one ReLU layer, a sigmoid output) on 200 noisy two-class spirals with
    15% flipped labels, 10,000 full-batch epochs of Adam, 5 seeds: test error against
    parameter count, where double descent may show.

    Full batches for long: with 1,000 epochs of batches of 32 the test error only fell
    with width. Here (examples/diagnostics/capacity) its median falls to 0.37 at width 32
    (129 parameters), rises to 0.40 at 96 (385, about twice the training points) and
    falls again to 0.36 at 512. About 2.5 minutes on 2 cores."""
    grid = Grid({"hidden_layers": [[w] for w in (1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256,
                                                 512)],
                 "n_samples": [200], "activation": ["relu"], "output_activation": ["sigmoid"]})
    return Preset("capacity", [grid], "noisy_spirals", list(range(5)),
                  {"epochs": 10_000, "optimizer": "adam", "learning_rate": 0.01,
                   "batch_size": None},
                  title="Capacity: test error against the parameter count (capacity preset)",
                  lead=_capacity_lead)


def _rate_lead(grids: Sequence[Grid], data: str) -> str:
    rates = [v for g in grids for v in g.factors.get("learning_rate", [])]
    return (f"Does `numnet.diagnostics.lr_find` suggest a good rate? Its suggestion, from "
            f"one range test, beside a sweep of learning rates "
            f"{', '.join(map(str, rates))} on `{data}`.")


def lr_find_notes(grids: Sequence[Grid], data: str, fit_kwargs: Mapping[str, Any]
                  ) -> dict[str, Any]:
    """``lr_find``'s suggestion for the first grid's network (its fixed hidden layers, N and
    activation) on the training set of seed 0, with the sweep's batch size and optimizer:
    ``{"suggestion": rate, ...}``, for the report's ``lr_find`` section."""
    from numnet import MLP
    from numnet.diagnostics import lr_find

    fixed = grids[0].fixed
    hidden = fixed.get("hidden_layers", [3])
    n = fixed.get("n_samples")
    (X, y), _, _ = make_data_source(data, 0, 0).make(n, np.random.default_rng(0))
    net = MLP(X.shape[1], hidden, 1 if np.ndim(y) == 1 else np.shape(y)[1],
              **({"activation": fixed["activation"]} if "activation" in fixed else {}),
              random_state=0)
    found = lr_find(net, X, y, optimizer=fit_kwargs.get("optimizer"),
                    batch_size=fit_kwargs.get("batch_size", "auto"), start=1e-4, stop=100.0,
                    steps=1000, random_state=0)
    return {"suggestion": float(found.suggestion), "hidden_layers": hidden, "n_samples": n,
            "start": 1e-4, "stop": 100.0, "steps": 1000}


def learning_rate_preset() -> Preset:
    """Rates 0.01 to 30 for (3,) on 200 points of ``1 - x``, 20 epochs of per-example SGD,
    5 seeds, and :func:`numnet.diagnostics.lr_find`'s suggestion beside them. Seconds."""
    grid = Grid({"hidden_layers": [[3]], "n_samples": [200],
                 "learning_rate": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]})
    return Preset("learning-rate", [grid], "one_minus_x", list(range(5)),
                  {"epochs": 20, "batch_size": 1, "optimizer": "sgd"},
                  title="Learning rates, and lr_find's suggestion (learning-rate preset)",
                  lead=_rate_lead, notes=lambda g, d, f: {"lr_find": lr_find_notes(g, d, f)})


#: Every preset by name (``numnet sweep --preset NAME``).
PRESETS: dict[str, Callable[[], Preset]] = {"tutorial": tutorial_preset,
                                            "capacity": capacity_preset,
                                            "learning-rate": learning_rate_preset}

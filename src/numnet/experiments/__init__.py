"""The tutorial's challenge, answered: sweeps over network size, data and learning rate.

The tutorial ends with a challenge: change the network size, the amount of
training data and the learning rate, and see what each does. A sweep runs
every setting of a grid once per seed, on this machine or a Dask cluster,
records each run in a SQLite store as it finishes, and ends as a CSV, plots
and a report that says what each factor did::

    from numnet.experiments import sweep
    results = sweep({"hidden_layers": [[1], [3], [9, 6]], "n_samples": [100, 1000]},
                    data="one_minus_x", repeats=5, fit_kwargs={"epochs": 50},
                    executor="processes", out="sweep-out")

``numnet sweep --preset tutorial`` runs the tutorial's own answer.

Modules, in the order a sweep uses them: :mod:`~numnet.experiments.grid`
(grids, presets, run keys), :mod:`~numnet.experiments.runs` (one run),
:mod:`~numnet.experiments.executors` (serial, processes, Dask),
:mod:`~numnet.experiments.store` (SQLite), :mod:`~numnet.experiments.sweep`
(the whole sweep); then the report (``numnet[plots]``):
:mod:`~numnet.experiments.tables` (``results.csv``, ``summary.csv``: pandas),
:mod:`~numnet.experiments.studies` (which grids form a section),
:mod:`~numnet.experiments.findings` (the sentences computed from the tables),
:mod:`~numnet.experiments.figures` (the PNGs: matplotlib),
:mod:`~numnet.experiments.formatting` (how values are written) and
:mod:`~numnet.experiments.report` (writes them all and ``report.md``);
:mod:`~numnet.experiments.command` is ``numnet sweep`` (``numnet[cli]``).
"""

from __future__ import annotations

from .executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor, get_executor
from .grid import PRESETS, Grid, Preset, as_grids, expand, run_key, tutorial_preset
from .runs import DataSource, RunSpec, execute_run, one_minus_x_grid
from .store import ResultStore, StoreError
from .sweep import SweepResults, SweepTooLarge, make_data_source, sweep

__all__ = ["sweep", "SweepResults", "Grid", "as_grids", "expand", "run_key", "Preset",
           "PRESETS", "tutorial_preset", "DataSource", "RunSpec", "execute_run",
           "one_minus_x_grid", "make_data_source", "ResultStore", "StoreError", "SweepTooLarge",
           "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "get_executor"]

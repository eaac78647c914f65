"""Sweeps over network size, data and learning rate: the tutorial's challenge, answered.

A sweep runs every setting of a grid once per seed (here, on local processes or
on Dask), records each run in an SQLite store as it finishes, and ends as a
CSV, plots and a report that says what each factor did::

    from numnet.experiments import sweep

    if __name__ == "__main__":
        results = sweep({"hidden_layers": [[1], [3], [9, 6]], "n_samples": [100, 1000]},
                        data="one_minus_x", repeats=5, fit_kwargs={"epochs": 50},
                        executor="processes", out="sweep-out")

Worker processes (``executor="processes"``, Dask's ``LocalCluster``) start by running
the main script again: a script starts its sweep under ``if __name__ == "__main__":``,
and one that does not is refused, in one line, before any worker starts.

On an audio folder (``data="audio:FOLDER"``) the factors ``augment`` and ``augment_copies``
add augmented copies of each run's training clips (never of its held-out clips)::

    sweep({"augment": ["none", "noise=20"], "hidden_layers": [[16]]}, data="audio:sounds",
          repeats=5, executor="processes", out="augment-out")    # under the guard too

Modules: ``grid`` (grids, run keys), ``runs`` (one run), ``audio`` (audio folders read once
per sweep; each run's sets, augmented), ``executors``, ``plugins`` (the
modules that register a sweep's own activations and losses, imported by every run wherever
it runs), ``store``,
``sweep`` (the sweep, its checks, the tutorial preset); ``curves`` (learning and validation
curves: one-factor sweeps, drawn); ``report`` (every word of the
report, its numbers and plots: ``numnet[plots]``); ``command`` is ``numnet sweep`` and
``numnet curve``.
"""

from __future__ import annotations

from .curves import curve
from .executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor, get_executor
from .grid import Grid, as_grids, expand, run_key
from .runs import DataSource, RunSpec, execute_run, make_data_source, one_minus_x_grid
from .store import ResultStore, StoreError
from .sweep import (
    PRESETS,
    Preset,
    SweepResults,
    SweepTooLarge,
    capacity_preset,
    learning_rate_preset,
    sweep,
    tutorial_preset,
)

__all__ = ["sweep", "curve", "SweepResults", "Grid", "as_grids", "expand", "run_key", "Preset",
           "tutorial_preset", "capacity_preset", "learning_rate_preset", "PRESETS",
           "DataSource", "RunSpec", "execute_run", "one_minus_x_grid", "make_data_source",
           "ResultStore", "StoreError", "SweepTooLarge", "Executor", "SerialExecutor",
           "ProcessExecutor", "DaskExecutor", "get_executor"]

"""The tutorial's challenge as one sweep on Dask: hidden layers x data size x learning rate.

The tutorial ends with a challenge: change the network size, the amount of training data
and the learning rate, and see what each does. Here every combination of the three runs
with several seeds, as Dask tasks, through ``numnet.experiments.sweep(...,
executor="dask")``:

* data ``one_minus_x`` (``y = 1 - x`` for ``x`` uniform on [0, 1), ``X (N, 1)``): each run
  draws its own N training points from its seed and is measured on the same 1,000 test
  points as every other run;
* hidden layers ``(1,)``, ``(3,)``, ``(9, 6)``; N = 10, 100, 1000; learning rates 0.1,
  0.3, 1.0 (on the mean squared error: ``numnet.fit``'s scale); sigmoid layers, numnet's
  defaults (biases, Glorot initialisation);
* 50 epochs of per-example SGD (``batch_size=1``), 5 seeds per setting.

By default Dask starts a ``LocalCluster`` on this machine (one single-threaded worker
process per core, closed at the end); ``--scheduler tcp://HOST:PORT`` runs on a cluster
that is already up (``dask scheduler`` there, and ``dask worker tcp://HOST:PORT`` on each
machine, with numnet installed; ``--timeout`` seconds for it to answer). A seed gives the
same result on any executor.

It prints the summary table (test error, the mean squared error on the test points: mean
and standard deviation over seeds, and the baseline: the constant prediction fitted on
each run's training targets, which scores about 0.08 here) and the best setting against
that baseline. ``--out FOLDER`` also writes the sweep's report there (``results.csv``,
``summary.csv``, plots, ``report.md``; ``results.sqlite`` lets a sweep that was stopped
carry on where it was).

Run ``python examples/sweep_dask.py`` (135 runs, under a minute on 2 cores), or with
``--quick`` (2 x 2 x 2 settings, 2 seeds, 10 epochs: 16 runs). Needs the ``dask`` and
``plots`` extras: ``pip install 'numnet[dask,plots]'``. Everything runs from ``main()``
under ``if __name__ == "__main__":``: a LocalCluster's worker processes start by
importing this script.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from numnet.experiments import sweep

GRID = {"hidden_layers": [[1], [3], [9, 6]], "n_samples": [10, 100, 1000],
        "learning_rate": [0.1, 0.3, 1.0]}
QUICK_GRID = {"hidden_layers": [[1], [3]], "n_samples": [20, 100], "learning_rate": [0.3, 1.0]}
COLUMNS = ["hidden_layers", "n_samples", "learning_rate", "test_error_mean", "test_error_std",
           "test_baseline_mean", "learned_nothing", "judged"]


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="8 settings x 2 seeds, 10 epochs, not 27 settings x 5 seeds, "
                             "50 epochs")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="a running Dask scheduler (default: a LocalCluster here)")
    parser.add_argument("--workers", type=int,
                        help="the LocalCluster's worker processes (default: one per core)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the scheduler, and for a worker when the "
                             "cluster has none (default 10)")
    parser.add_argument("--out", type=Path, help="write the sweep's report in this folder")
    args = parser.parse_args(argv)
    if args.scheduler is not None and args.workers is not None:
        parser.error("--workers sizes the LocalCluster; a --scheduler's cluster has its own")
    grid, repeats, epochs = (QUICK_GRID, 2, 10) if args.quick else (GRID, 5, 50)

    where = args.scheduler or "a LocalCluster on this machine"
    print(f"sweep on Dask ({where}): {', '.join(f'{k} {v}' for k, v in grid.items())}; "
          f"{repeats} seeds, {epochs} epochs of per-example SGD")
    results = sweep(grid, data="one_minus_x", repeats=repeats,
                    fit_kwargs={"epochs": epochs, "batch_size": 1, "optimizer": "sgd"},
                    executor="dask", scheduler=args.scheduler, workers=args.workers,
                    timeout=args.timeout, out=args.out, progress=False,
                    title="The tutorial's challenge on Dask (examples/sweep_dask.py)")
    workers = {run["worker"] for run in results.runs if run["worker"]}
    print(f"{len(results.runs)} runs on {len(workers)} Dask worker processes ({results.ran} "
          f"now, {results.skipped} already in the store), {results.failed} failed"
          + (f"; report in {results.out}" if results.out else ""))

    summary = results.summary()
    table = summary[COLUMNS].rename(columns={
        "hidden_layers": "hidden", "n_samples": "N", "learning_rate": "lr",
        "test_error_mean": "test MSE", "test_error_std": "± std",
        "test_baseline_mean": "baseline", "learned_nothing": "learned nothing",
        "judged": "of"})
    print(table.to_string(index=False, float_format=lambda v: f"{v:.5f}"))

    if summary["test_error_mean"].isna().all():
        raise SystemExit("no run finished: nothing to compare")
    best = summary.loc[summary["test_error_mean"].idxmin()]
    error, spread = best["test_error_mean"], best["test_error_std"]
    baseline = best["test_baseline_mean"]
    ratio = f" ({baseline / error:.0f} times lower)" if error > 0 else ""
    print(f"best setting: hidden {best['hidden_layers']}, N = {best['n_samples']}, learning "
          f"rate {best['learning_rate']}: test MSE {error:.5f} ± {spread:.5f} against the "
          f"baseline's {baseline:.5f}{ratio}")
    return float(error)


if __name__ == "__main__":
    main()

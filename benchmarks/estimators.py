"""numnet's scikit-learn estimators against scikit-learn's own, same hyperparameters.

``python -m benchmarks.estimators [--quick]`` prints one table; ``python -m
benchmarks.run`` runs it after the training workloads and adds the table to
its report. Each (case, implementation) runs in its own process
(``python -m benchmarks.estimators measure CASE IMPL``), like the workers.

Cases (``CASES``):

- ``digits-adam``: ``MLPClassifier()`` defaults (100 ReLU units, Adam,
  batch 200) on load_digits / 16, 75/25 split, a fixed number of epochs
  (``tol=0``, ``n_iter_no_change=max_iter``: no early stop, both do the same work).
- ``W3-adam``: W3's network and data (64->[128, 64]->10 ReLU, Adam lr 1e-3,
  batch 64, 20,000 gaussian-blob samples, 75/25 split).
- ``diabetes-lbfgs``: ``MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs")``
  on standardised load_diabetes (L-BFGS until it converges or ``max_iter``).

For each: seconds per epoch (fit time / ``n_iter_``; per L-BFGS iteration for
lbfgs), the final training loss as the estimator reports it (``loss_``) and
the held-out score (accuracy, or R^2). The median of 3 fits (1 with
``--quick``) after a one-epoch warm-up fit (numnet's compiled kernels load
from numba's cache there: about 0.3 s once per process), whose time is kept
as ``warm_up_s``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .report import render
from .workloads import WORKLOADS, make_data

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "ESTIMATOR_RESULT "
IMPLS = ("numnet", "sklearn")

CASES: dict[str, dict[str, Any]] = {
    "digits-adam": dict(title="load_digits, MLPClassifier() defaults (Adam)", data="digits",
                        classifier=True, params=dict(max_iter=100), quick=dict(max_iter=30)),
    "W3-adam": dict(title="W3: 64->[128, 64]->10 ReLU, Adam, batch 64, 20k blobs", data="W3",
                    classifier=True,
                    params=dict(hidden_layer_sizes=(128, 64), batch_size=64, max_iter=5),
                    quick=dict(max_iter=2)),
    "diabetes-lbfgs": dict(title="load_diabetes, MLPRegressor((32,), solver='lbfgs')",
                           data="diabetes", classifier=False,
                           params=dict(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=300),
                           quick=dict(max_iter=100)),
}


def _data(name: str) -> tuple[Any, Any]:
    import numpy as np
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.preprocessing import StandardScaler
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    data = make_data(WORKLOADS["W3"])
    return data["X"], np.asarray(data["labels"])


def measure(case: str, impl: str, quick: bool) -> dict[str, Any]:
    """Fit ``impl``'s estimator on ``case`` ``repeats`` times; the median timings."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    module = importlib.import_module("numnet.estimators" if impl == "numnet"
                                     else "sklearn.neural_network")
    spec = CASES[case]
    params = {**spec["params"], **(spec["quick"] if quick else {}), "random_state": 0}
    if params.get("solver", "adam") != "lbfgs":
        params.update(tol=0.0, n_iter_no_change=params["max_iter"])
    Est = module.MLPClassifier if spec["classifier"] else module.MLPRegressor
    X, y = _data(spec["data"])
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    with warnings.catch_warnings():        # a warm-up: numba's compiled kernels load here
        warnings.simplefilter("ignore", ConvergenceWarning)
        began = time.perf_counter()
        Est(**{**params, "max_iter": 1}).fit(X_train, y_train)
        warm_up_s = time.perf_counter() - began
    runs = []
    for _ in range(1 if quick else 3):
        est = Est(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            began = time.perf_counter()
            est.fit(X_train, y_train)
            seconds = time.perf_counter() - began
        runs.append({"fit_s": seconds, "n_iter": est.n_iter_, "s_per_epoch": seconds / est.n_iter_,
                     "loss": float(est.loss_), "score": float(est.score(X_test, y_test))})
    best = min(runs, key=lambda r: r["s_per_epoch"])
    return {"status": "ok", "case": case, "impl": impl,
            "s_per_epoch": statistics.median(r["s_per_epoch"] for r in runs),
            "warm_up_s": warm_up_s, "n_iter": best["n_iter"], "loss": best["loss"],
            "score": best["score"], "runs": runs}


def run_one(case: str, impl: str, quick: bool, timeout: float = 600.0) -> dict[str, Any]:
    """:func:`measure` in a fresh process (an error result on failure)."""
    cmd = [sys.executable, "-m", "benchmarks.estimators", "measure", case, impl,
           *(["--quick"] if quick else [])]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "error", "case": case, "impl": impl, "error": "timed out"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
    return {"status": "error", "case": case, "impl": impl,
            "error": f"exit code {proc.returncode}: {tail}"}


def run_all(quick: bool, progress: Callable[[str], None] | None = None
            ) -> list[dict[str, Any]]:
    """Every case with both implementations."""
    results = []
    for case in CASES:
        for impl in IMPLS:
            if progress:
                progress(f"estimators {case} {impl} ...")
            results.append(run_one(case, impl, quick))
    return results


def _fmt(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def table(results: list[dict[str, Any]]) -> str:
    """Markdown: per case, both implementations side by side."""
    by = {(r["case"], r["impl"]): r for r in results}
    rows = []
    for case, spec in CASES.items():
        ours, theirs = by.get((case, "numnet"), {}), by.get((case, "sklearn"), {})
        if ours.get("status") != "ok" or theirs.get("status") != "ok":
            errors = "; ".join(f"{r.get('impl')}: {r.get('error')}" for r in (ours, theirs)
                               if r and r.get("status") != "ok")
            rows.append([case, spec["title"], "", "", "", "", "", "", errors[:120]])
            continue
        rows.append([case, spec["title"], str(ours["n_iter"]) + " / " + str(theirs["n_iter"]),
                     _fmt(ours["s_per_epoch"]), _fmt(theirs["s_per_epoch"]),
                     f"{theirs['s_per_epoch'] / ours['s_per_epoch']:.2f}x",
                     f"{_fmt(ours['loss'], 4)} / {_fmt(theirs['loss'], 4)}",
                     f"{ours['score']:.3f} / {theirs['score']:.3f}", ""])
    headers = ["case", "what", "epochs numnet / sklearn", "numnet s/epoch", "sklearn s/epoch",
               "speed-up", "loss_ numnet / sklearn", "test score numnet / sklearn", "error"]
    return ("## numnet.estimators vs sklearn.neural_network (same hyperparameters)\n\n"
            + render(headers, rows) + "\n\ns/epoch: fit time / n_iter_ (per L-BFGS iteration "
            "for lbfgs), median of the fits after a one-epoch warm-up; score: accuracy "
            "(classifiers) or R^2 on a 25% held-out split.\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.estimators", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", default="all", choices=["all", "measure"])
    p.add_argument("case", nargs="?", choices=list(CASES))
    p.add_argument("impl", nargs="?", choices=list(IMPLS))
    p.add_argument("--quick", action="store_true", help="fewer epochs, one fit each")
    args = p.parse_args(argv)
    if args.command == "measure":
        try:
            result = measure(args.case, args.impl, args.quick)
        except Exception as exc:  # a failure is a result too
            result = {"status": "error", "case": args.case, "impl": args.impl,
                      "error": f"{type(exc).__name__}: {exc}"}
        print(RESULT_PREFIX + json.dumps(result))
        return 0
    print(table(run_all(args.quick, lambda m: print(m, file=sys.stderr, flush=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

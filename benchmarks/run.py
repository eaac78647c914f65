"""Run every benchmark, each in its own process, and report.

``python -m benchmarks.run [--quick] [--only W1,W5,W6a] [--impl numnet,jax] [--no-estimators]``

Prints the machine's limits (GEMM peak, memory bandwidth), a table of seconds
per epoch with speedups against every peer and the issue's targets
(PASS/MISS), GFLOP/s and peak memory, a second table for the per-example,
inference and per-call workloads (W5, W6a, W6b, C), then numnet's
scikit-learn estimators against scikit-learn's (:mod:`benchmarks.estimators`),
and writes ``benchmarks/results/latest.json`` and ``latest.md``. This process
imports neither NumPy nor PyTorch nor JAX: all measuring happens in
:mod:`benchmarks.worker` subprocesses, one per (workload, implementation), so
their thread pools never share a process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from . import estimators, report
from .impls import DEFAULT_IMPLS, TABLE_ORDER, not_applicable
from .worker import RESULT_PREFIX, _machine_busy_s
from .workloads import WORKLOADS, Workload, selected

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Reported (never changed): they decide which kernels and how many threads the BLAS uses.
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


# --- workers ---------------------------------------------------------------------------

def run_worker(args: list[str], timeout: float) -> dict:
    """Run ``python -m benchmarks.worker ARGS`` and return its JSON result.

    The environment is passed through unchanged. A crash, a timeout or a
    missing result line becomes an ``error`` result.
    """
    cmd = [sys.executable, "-m", "benchmarks.worker", *args]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    return {"status": "error", "error": f"worker exited with code {proc.returncode}: {tail}"}


def wait_until_quiet(max_wait_s: float = 30.0, window_s: float = 1.0) -> float | None:
    """Wait, at most ``max_wait_s``, for a ``window_s`` in which other processes use
    no more than ``report.NOISY_PCT`` of the CPU; return the last load seen (%).

    This process is idle meanwhile, so all the machine's busy time is others'.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        before = _machine_busy_s()
        time.sleep(window_s)
        after = _machine_busy_s()
        if before is None or after is None:
            return None
        load = 100.0 * (after - before) / (window_s * (os.cpu_count() or 1))
        if load <= report.NOISY_PCT or time.monotonic() >= deadline:
            return load


def run_measurement(args: list[str], timeout: float, retries: int) -> dict:
    """:func:`run_worker`, repeated up to ``retries`` more times while other
    processes disturb it (see :func:`report.is_noisy`), each time after waiting
    for the machine to quieten down; keeps the quietest run."""
    best = run_worker(args, timeout)
    for attempt in range(retries):
        if best.get("status") != "ok" or not report.is_noisy(best):
            break
        progress(f"  other processes used {best['other_load_pct']:.0f}% of the CPU; "
                 f"waiting for a quiet moment and measuring again ({attempt + 1}/{retries})")
        wait_until_quiet()
        again = run_worker(args, timeout)
        quieter = (again.get("other_load_pct") or 0) < best["other_load_pct"]
        if again.get("status") == "ok" and quieter:
            best = again
    return best


def impls_for(w: Workload, selected: list[str] | None) -> list[str]:
    """The implementations listed for ``w``, in table order, after the ``--impl`` filter.

    A filter name selects itself and its variants ("numnet" also selects
    "numnet-tutorial").
    """
    if w.impls is not None:
        names = [n for n in TABLE_ORDER if n in w.impls]
    else:
        names = [n for n in TABLE_ORDER if n in DEFAULT_IMPLS or n in w.extra_impls]
    if selected is None:
        return names
    return [n for n in names if any(n == s or n.startswith(s + "-") for s in selected)]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summarize(r: dict, w: Workload | None = None) -> str:
    if r.get("status") != "ok":
        return f"{r.get('status')}: {r.get('error', '')}"[:160]
    if w is not None and w.per != "epoch":
        return (f"{report.fmt_in(r['time_s'], w.unit)} {w.label} ({r['dtype']}), "
                f"compile {report.fmt_s(r['compile_s'])} s, {r['peak_rss_mib']:.0f} MiB, "
                f"other CPU {r['other_load_pct'] or 0:.0f}%")
    return (f"{report.fmt_s(r['s_per_epoch'])} s/epoch ({r['dtype']}), "
            f"compile {report.fmt_s(r['compile_s'])} s, {r['peak_rss_mib']:.0f} MiB, "
            f"other CPU {r['other_load_pct'] or 0:.0f}%")


# --- machine ----------------------------------------------------------------------------

def cpu_description() -> dict:
    """CPU model and core counts from /proc/cpuinfo (Linux), with fallbacks."""
    model, cores = platform.processor() or "unknown", set()
    physical = core = None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name" and model in ("unknown", platform.processor()):
            model = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
            cores.add((physical, core))
    logical = os.cpu_count() or 1
    return {"cpu_model": model, "logical_cpus": logical, "physical_cores": len(cores) or logical}


def machine_description() -> dict:
    """CPU, OS, start time and the thread/core-type environment variables (as set)."""
    return {**cpu_description(), "platform": platform.platform(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "env": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
            "python_executable": sys.executable}


# --- main --------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="fewer repeats, a smaller W4 and W5 (a smoke run, a few minutes on an "
                        "idle 2-core machine)")
    p.add_argument("--only", metavar="W1,W3",
                   help=f"comma-separated workload ids ({', '.join(WORKLOADS)}; W5 and W6b "
                        f"select both dtypes)")
    p.add_argument("--impl", metavar="numnet,sklearn",
                   help=f"comma-separated implementations ({', '.join(TABLE_ORDER)})")
    p.add_argument("--retry-noisy", type=int, default=1, metavar="N",
                   help="measure again, up to N times, when other processes used over "
                        f"{report.NOISY_PCT:g}%% of the CPU meanwhile (default: 1)")
    p.add_argument("--no-estimators", action="store_true",
                   help="skip the numnet.estimators vs sklearn.neural_network table")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                   help="where latest.json and latest.md go (default: benchmarks/results)")
    args = p.parse_args(argv)
    try:
        args.workloads = selected(_names(args.only)) if args.only else list(WORKLOADS)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    args.impls = _split(args.impl, TABLE_ORDER, "implementation") if args.impl else None
    return args


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _split(value: str | None, known, what: str) -> list[str]:
    if not value:
        return list(known)
    names = _names(value)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = ["--quick"] if args.quick else []
    started = time.perf_counter()
    machine = machine_description()

    progress("machine info ...")
    libraries = run_worker(["info"], timeout=120)
    gemm = {}
    for lib in ("numpy", "torch", "jax"):
        if lib == "numpy" or args.impls is None or lib in args.impls:
            gemm[lib] = run_measurement(["gemm", lib, *quick], 300, args.retry_noisy)
            progress(f"  {lib} GEMM: {summarize_gemm(gemm[lib])}")
    bandwidth = run_measurement(["bandwidth", *quick], 300, args.retry_noisy)
    progress(f"  memory bandwidth: {summarize_bandwidth(bandwidth)}")

    workloads, results = {}, []
    for wid in args.workloads:
        w = WORKLOADS[wid].quick_version() if args.quick else WORKLOADS[wid]
        workloads[wid] = w.describe()
        for impl in impls_for(w, args.impls):
            progress(f"{wid} {impl} ...")
            reason = not_applicable(impl, w.mode)
            if reason is not None:
                r = {"status": "n/a", "error": reason}
            else:
                r = run_measurement([w.mode, wid, impl, *quick], w.timeout_s, args.retry_noisy)
            results.append({"workload": wid, "impl": impl, **r})
            progress(f"  {summarize(r, w)}")

    estimator_results = [] if args.no_estimators else estimators.run_all(args.quick, progress)

    report.derive(results, workloads, gemm, bandwidth)
    doc = {"quick": args.quick, "command": " ".join([Path(sys.executable).name, "-m",
                                                      "benchmarks.run", *(argv or sys.argv[1:])]),
           "machine": {**machine, "libraries": libraries}, "gemm": gemm,
           "bandwidth": bandwidth,
           "workloads": workloads, "results": results,
           "targets": report.check_targets(results), "estimators": estimator_results,
           "elapsed_s": time.perf_counter() - started}
    text = report.markdown_report(doc)
    if estimator_results:
        text += "\n" + estimators.table(estimator_results)
    print(text)
    write_results(doc, text, args.results_dir)
    progress(f"wrote {args.results_dir / 'latest.json'} and latest.md "
             f"({doc['elapsed_s']:.0f} s in all)")
    return 0


def summarize_gemm(g: dict) -> str:
    if g.get("status") != "ok":
        return f"{g.get('status')}: {g.get('error', '')}"
    return (f"float32 {g['float32']['gflops']:.1f}, float64 {g['float64']['gflops']:.1f} "
            f"GFLOP/s, other CPU {g['other_load_pct'] or 0:.0f}%")


def summarize_bandwidth(b: dict) -> str:
    if b.get("status") != "ok":
        return f"{b.get('status')}: {b.get('error', '')}"
    return (f"copy {b['one_thread']['gbps']:.1f} GB/s on 1 thread, "
            f"{b['all_threads']['gbps']:.1f} GB/s on {b['threads']}, "
            f"other CPU {b['other_load_pct'] or 0:.0f}%")


def write_results(doc: dict, markdown: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    (directory / "latest.md").write_text(markdown)


if __name__ == "__main__":
    sys.exit(main())

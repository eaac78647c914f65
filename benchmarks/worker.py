"""One measurement in its own process; the result is one JSON line on stdout.

Usage (normally called by :mod:`benchmarks.run`)::

    python -m benchmarks.worker train W3 torch [--quick]
    python -m benchmarks.worker gemm numpy|torch [--quick]
    python -m benchmarks.worker info

A separate process per measurement keeps thread pools apart: NumPy's
OpenBLAS threads and PyTorch's OpenMP threads, alive in one process, fight for
the same cores and each loses about half its throughput.

The result line starts with :data:`RESULT_PREFIX`, so anything a library
prints on stdout cannot be mistaken for it. Failures are results too
(``status`` "error" or "not installed"); the exit code is 0 whenever a result
was printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "
GEMM_N = 2048


# --- timing helpers ----------------------------------------------------------------

def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn()`` takes (``time.perf_counter``)."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_calls(fn: Callable[[], Any], min_repeats: int, max_repeats: int,
               budget_s: float) -> list[float]:
    """Times of repeated ``fn()`` calls: at least ``min_repeats``, then more
    while the total stays under ``budget_s``, never more than ``max_repeats``."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max(min_repeats, 1) or (
            len(times) < max_repeats and time.perf_counter() - start < budget_s):
        times.append(timed(fn))
    return times


class OtherLoad:
    """Context manager: how busy *other* processes kept the machine meanwhile.

    Machine-wide busy CPU time (``/proc/stat``) minus this process's own CPU
    time (all its threads), as a percentage of ``wall time x logical CPUs``.
    A few percent is noise; tens of percent mean the timings are inflated by
    something else running. ``percent`` stays None where ``/proc/stat`` is
    unavailable.
    """

    percent: float | None = None

    def __enter__(self) -> OtherLoad:
        self._start = (time.perf_counter(), _machine_busy_s(), _own_cpu_s())
        return self

    def __exit__(self, *exc: Any) -> None:
        wall0, busy0, own0 = self._start
        wall, busy = time.perf_counter() - wall0, _machine_busy_s()
        if busy is None or busy0 is None or wall <= 0:
            return
        other = max(0.0, (busy - busy0) - (_own_cpu_s() - own0))
        self.percent = min(100.0, 100.0 * other / (wall * (os.cpu_count() or 1)))


def _machine_busy_s() -> float | None:
    """Seconds of CPU time all CPUs spent not idle since boot (Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields + [0] * (8 - len(fields))
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def peak_rss_mib() -> float:
    """This process's peak resident set size (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- training measurement ------------------------------------------------------------

def training_loss(w, trainer, data, limit: int = 5000) -> float:
    """Loss of the trained model on the first ``limit`` examples, same formula for
    every implementation: mean squared error, or mean cross-entropy."""
    import numpy as np

    X, Y = data["X"][:limit], data["Y"][:limit].astype(np.float64)
    P = np.asarray(trainer.predict(X), dtype=np.float64).reshape(Y.shape)
    if w.is_classification:
        return float(-np.mean(np.log(np.clip((P * Y).sum(axis=1), 1e-12, None))))
    return float(np.mean((P - Y) ** 2))


def measure_training(workload_id: str, impl: str, quick: bool) -> dict[str, Any]:
    """Build data and model, warm up (timed as the first call), then time epochs."""
    from .impls import load
    from .workloads import WORKLOADS, make_data

    w = WORKLOADS[workload_id]
    if quick:
        w = w.quick_version()
    data = make_data(w)
    trainer = load(impl)(w, data)

    first = timed(lambda: trainer.train(1))
    E = w.multi_epochs if trainer.single_call else 1
    multi: list[float] = []
    with OtherLoad() as other:
        per_call = time_calls(lambda: trainer.train(1), w.min_repeats, w.max_repeats,
                              w.budget_s)
        if trainer.single_call:
            multi = time_calls(lambda: trainer.train(E), max(1, w.min_repeats // 2),
                               w.max_repeats, w.budget_s)
    per_call_s = statistics.median(per_call)
    return {
        "s_per_epoch": statistics.median(multi) / E if multi else per_call_s,
        "per_call_s": per_call_s,
        "compile_s": max(0.0, first - per_call_s),
        "first_call_s": first,
        "min_s_per_epoch": min(per_call + [t / E for t in multi]),
        "epochs_per_call": E,
        "per_call_times": per_call,
        "multi_call_times": multi,
        "epochs_trained": 1 + len(per_call) + E * len(multi),
        "other_load_pct": other.percent,
        "train_loss": training_loss(w, trainer, data),
        "dtype": trainer.actual_dtype() if trainer.actual_dtype else trainer.dtype,
        "notes": trainer.notes,
        "info": trainer.info,
        "n_examples": w.n_examples,
        "data_mib": sum(a.nbytes for a in data.values()) / 2**20,
    }


# --- GEMM peak and machine info -----------------------------------------------------------

def measure_gemm(library: str, quick: bool) -> dict[str, Any]:
    """Median GFLOP/s of a 2048x2048 ``A @ B`` (2 n^3 flops) in float32 and float64."""
    repeats = 5 if quick else 9
    flops = 2.0 * GEMM_N ** 3
    out: dict[str, Any] = {"n": GEMM_N, "repeats": repeats}
    if library == "torch":
        try:
            import torch
        except ImportError as exc:
            from .impls import NotInstalled
            raise NotInstalled(f"torch: {exc}") from exc
        torch.set_num_threads(os.cpu_count() or 1)
        out["threads"] = torch.get_num_threads()
        mats = {name: [torch.randn(GEMM_N, GEMM_N, dtype=dt) for _ in range(3)]
                for name, dt in (("float32", torch.float32), ("float64", torch.float64))}
        def matmul(A, B, C):
            return torch.mm(A, B, out=C)
    else:
        import numpy as np
        rng = np.random.default_rng(0)
        mats = {name: [rng.standard_normal((GEMM_N, GEMM_N), dtype=name) for _ in range(3)]
                for name in ("float32", "float64")}
        def matmul(A, B, C):
            return np.matmul(A, B, out=C)
    with OtherLoad() as other:
        for name, (A, B, C) in mats.items():
            matmul(A, B, C)  # warm-up
            times = [timed(functools.partial(matmul, A, B, C)) for _ in range(repeats)]
            out[name] = {"gflops": flops / statistics.median(times) / 1e9, "times": times}
    out["other_load_pct"] = other.percent
    return out


def machine_info() -> dict[str, Any]:
    """Library versions and BLAS details, as seen from a fresh process."""
    import platform

    import numpy as np

    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = threadpool_info()
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    for name in ("sklearn", "numba", "torch", "numnet"):
        info[name] = _version_of(name)
    return info


def _version_of(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        if module == "numnet":
            from .impls.numnet_impl import SRC
            return f"not installed (source in {SRC})"
        return "not installed"
    except Exception as exc:  # a half-written library may fail on import
        return f"error on import: {type(exc).__name__}: {exc}"
    return str(getattr(mod, "__version__", "unknown"))


# --- entry point ----------------------------------------------------------------------------

def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("train", help="time one implementation on one workload")
    t.add_argument("workload")
    t.add_argument("impl")
    t.add_argument("--quick", action="store_true")
    g = sub.add_parser("gemm", help="GEMM peak of numpy or torch")
    g.add_argument("library", choices=["numpy", "torch"])
    g.add_argument("--quick", action="store_true")
    sub.add_parser("info", help="library versions and BLAS info")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from .impls import NotInstalled

    try:
        if args.mode == "train":
            result = {"status": "ok", **measure_training(args.workload, args.impl, args.quick)}
        elif args.mode == "gemm":
            result = {"status": "ok", **measure_gemm(args.library, args.quick)}
        else:
            result = {"status": "ok", **machine_info()}
    except NotInstalled as exc:
        result = {"status": "not installed", "error": str(exc)}
    except Exception as exc:  # report, don't crash: the table shows the error
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    result["peak_rss_mib"] = peak_rss_mib()
    sys.__stdout__.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.__stdout__.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One measurement in its own process; the result is one JSON line on stdout.

Usage (normally called by :mod:`benchmarks.run`)::

    python -m benchmarks.worker train W3 torch [--quick]
    python -m benchmarks.worker predict W6a onnxruntime [--quick]
    python -m benchmarks.worker gemm numpy|torch|jax [--quick]
    python -m benchmarks.worker bandwidth [--quick]
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
COPY_BYTES = 256 * 2**20       # each of the copy's two arrays: far beyond any cache


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
    multi_call = trainer.single_call and w.per != "call"
    E = w.multi_epochs if multi_call else 1
    multi: list[float] = []
    with OtherLoad() as other:
        per_call = time_calls(lambda: trainer.train(1), w.min_repeats, w.max_repeats,
                              w.budget_s)
        if multi_call:
            multi = time_calls(lambda: trainer.train(E), max(1, w.min_repeats // 2),
                               w.max_repeats, w.budget_s)
    per_call_s = statistics.median(per_call)
    s_per_epoch = statistics.median(multi) / E if multi else per_call_s
    min_s_per_epoch = min(per_call + [t / E for t in multi])
    if w.per == "call":
        headline, best = per_call_s, min(per_call)
    else:
        scale = w.n_examples if w.per == "example" else 1
        headline, best = s_per_epoch / scale, min_s_per_epoch / scale
    return {
        "s_per_epoch": s_per_epoch,
        "time_s": headline,
        "best_s": best,
        "per_call_s": per_call_s,
        "compile_s": max(0.0, first - per_call_s),
        "first_call_s": first,
        "min_s_per_epoch": min_s_per_epoch,
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


# --- predict measurement ------------------------------------------------------------

def reference_probabilities(w, X):
    """Float64 NumPy forward pass (softmax output) of numnet's initial weights on ``X``."""
    import numpy as np

    from .impls.numnet_impl import initial_network

    net = initial_network(w)
    A = np.asarray(X, dtype=np.float64)
    last = len(net.weights) - 1
    for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        Z = A @ W.astype(np.float64) + b.astype(np.float64)
        if i < last:
            A = np.maximum(Z, 0.0) if w.activation == "relu" else 1.0 / (1.0 + np.exp(-Z))
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            A = E / E.sum(axis=1, keepdims=True)
    return A


def measure_predict(workload_id: str, impl: str, quick: bool) -> dict[str, Any]:
    """Build the predictor, call it once (timed as the first call), then time calls.

    Calls are timed ``w.calls_per_timing`` at a time (each time divided by
    their number); the result's ``max_abs_diff`` compares the first call's
    probabilities with :func:`reference_probabilities`.
    """
    import numpy as np

    from .impls import load
    from .workloads import WORKLOADS, make_data

    w = WORKLOADS[workload_id]
    if quick:
        w = w.quick_version()
    data = make_data(w)
    X = data["X"]
    predictor = load(impl, "predict")(w, data)
    predict, k = predictor.predict, w.calls_per_timing

    t0 = time.perf_counter()
    out = predict(X)
    first = time.perf_counter() - t0

    def block() -> None:
        for _ in range(k):
            predict(X)

    with OtherLoad() as other:
        times = [t / k for t in time_calls(block, w.min_repeats, w.max_repeats, w.budget_s)]
    median = statistics.median(times)
    P = np.asarray(predictor.to_numpy(out), dtype=np.float64)
    diff = float(np.max(np.abs(P.reshape(len(X), -1) - reference_probabilities(w, X))))
    return {
        "time_s": min(times) if w.statistic == "best" else median,
        "best_s": min(times),
        "median_s": median,
        "compile_s": max(0.0, first - median),
        "first_call_s": first,
        "call_times": times,
        "calls_per_timing": k,
        "calls_timed": k * len(times),
        "other_load_pct": other.percent,
        "max_abs_diff": diff,
        "dtype": predictor.dtype,
        "notes": predictor.notes,
        "info": predictor.info,
        "n_examples": w.n_examples,
        "data_mib": X.nbytes / 2**20,
    }


# --- GEMM peak, memory bandwidth and machine info ------------------------------------------

def measure_gemm(library: str, quick: bool) -> dict[str, Any]:
    """Median GFLOP/s of a 2048x2048 ``A @ B`` (2 n^3 flops) in float32 and float64, in
    ``library`` (NumPy's BLAS, PyTorch's, or XLA's through a jitted ``jnp.matmul``)."""
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
    elif library == "jax":
        try:
            import jax
            import jax.numpy as jnp
        except ImportError as exc:
            from .impls import NotInstalled
            raise NotInstalled(f"jax: {exc}") from exc
        import numpy as np
        jax.config.update("jax_enable_x64", True)
        rng = np.random.default_rng(0)
        mats = {name: [jnp.asarray(rng.standard_normal((GEMM_N, GEMM_N), dtype=name))
                       for _ in range(2)] + [None] for name in ("float32", "float64")}
        mm = jax.jit(jnp.matmul)

        def matmul(A, B, C):
            return jax.block_until_ready(mm(A, B))
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


def measure_bandwidth(quick: bool) -> dict[str, Any]:
    """Memory bandwidth: GB/s of ``np.copyto`` between two 256 MiB float64 arrays.

    Counted as STREAM counts a copy, bytes read plus bytes written, per call;
    once on one thread and once split across every logical CPU (threads, as
    NumPy's copy releases the GIL). ``gbps`` is the larger median.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    repeats = 5 if quick else 9
    src = np.ones(COPY_BYTES // 8)
    dst = np.empty_like(src)
    threads = os.cpu_count() or 1
    bounds = np.linspace(0, src.size, threads + 1).astype(int)
    parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    out: dict[str, Any] = {"bytes": 2 * src.nbytes, "repeats": repeats, "threads": threads}
    with ThreadPoolExecutor(threads) as pool, OtherLoad() as other:
        def parallel() -> None:
            list(pool.map(lambda part: np.copyto(dst[part], src[part]), parts))

        for name, copy in (("one_thread", lambda: np.copyto(dst, src)),
                           ("all_threads", parallel)):
            copy()  # warm-up: touches every page
            times = [timed(copy) for _ in range(repeats)]
            out[name] = {"gbps": 2 * src.nbytes / statistics.median(times) / 1e9,
                         "times": times}
    out["gbps"] = max(out["one_thread"]["gbps"], out["all_threads"]["gbps"])
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
    for name in ("sklearn", "numba", "torch", "jax", "onnxruntime", "numnet"):
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
    t = sub.add_parser("predict", help="time one implementation's predict on one workload")
    t.add_argument("workload")
    t.add_argument("impl")
    t.add_argument("--quick", action="store_true")
    g = sub.add_parser("gemm", help="GEMM peak of numpy, torch or jax")
    g.add_argument("library", choices=["numpy", "torch", "jax"])
    g.add_argument("--quick", action="store_true")
    b = sub.add_parser("bandwidth", help="memory bandwidth of a large NumPy copy")
    b.add_argument("--quick", action="store_true")
    sub.add_parser("info", help="library versions and BLAS info")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from .impls import NotApplicable, NotInstalled

    try:
        if args.mode == "train":
            result = {"status": "ok", **measure_training(args.workload, args.impl, args.quick)}
        elif args.mode == "predict":
            result = {"status": "ok", **measure_predict(args.workload, args.impl, args.quick)}
        elif args.mode == "gemm":
            result = {"status": "ok", **measure_gemm(args.library, args.quick)}
        elif args.mode == "bandwidth":
            result = {"status": "ok", **measure_bandwidth(args.quick)}
        else:
            result = {"status": "ok", **machine_info()}
    except NotInstalled as exc:
        result = {"status": "not installed", "error": str(exc)}
    except NotApplicable as exc:
        result = {"status": "n/a", "error": str(exc)}
    except Exception as exc:  # report, don't crash: the table shows the error
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    result["peak_rss_mib"] = peak_rss_mib()
    sys.__stdout__.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.__stdout__.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

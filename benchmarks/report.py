"""Turn raw worker results into ratios, target checks and tables.

Pure functions over the JSON-able dicts that :mod:`benchmarks.run` collects;
no measurement happens here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PEERS = ("sklearn", "torch", "numpy", "jax", "onnxruntime")
EPOCH_PEERS = ("sklearn", "torch", "numpy", "jax")     # the seconds-per-epoch table's columns
UNIT_SCALE = {"s": 1.0, "ms": 1e3, "µs": 1e6}


@dataclass(frozen=True)
class Target:
    """A goal from the issue, checked against one numnet row.

    ``kind`` is "speedup" (``peer_time / numnet_time >= threshold``), "peak"
    (% of the GEMM peak ``>= threshold``) or "memory" (peak RSS ``<=`` the peer's).
    """

    workload: str
    row: str
    kind: str
    threshold: float = 0.0
    peer: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "speedup":
            return f"{self.workload} {self.row} >= {self.threshold:g}x {self.peer}"
        if self.kind == "peak":
            return f"{self.workload} {self.row} >= {self.threshold:g}% of GEMM peak"
        return f"{self.workload} {self.row} peak memory <= {self.peer}'s"


def _speedups(workload: str, rows: Iterable[str], sklearn: float, torch: float) -> list[Target]:
    return [Target(workload, row, "speedup", threshold, peer)
            for row in rows for peer, threshold in (("sklearn", sklearn), ("torch", torch))]


TARGETS: list[Target] = [
    *_speedups("W1", ("numnet", "numnet-tutorial"), 300, 1000),
    *_speedups("W2", ("numnet",), 15, 50),
    *_speedups("W3", ("numnet",), 2, 2),
    Target("W4", "numnet", "speedup", 1.0, "torch"),
    Target("W4", "numnet", "peak", 85.0),
    Target("W4", "numnet", "memory", peer="torch"),
]


# --- derived numbers ----------------------------------------------------------------

def _ok(r: dict | None) -> bool:
    return bool(r) and r.get("status") == "ok"


def figure(r: dict) -> float:
    """A row's headline time in seconds: per epoch, per example or per call."""
    return r["time_s"] if "time_s" in r else r["s_per_epoch"]


def is_epoch_workload(w: dict) -> bool:
    """Reported in seconds per epoch, in the first table (W1-W4)."""
    return w.get("per", "epoch") == "epoch" and w.get("mode", "train") == "train"


def derive(results: list[dict], workloads: dict[str, dict], gemm: dict | None,
           bandwidth: dict | None = None) -> None:
    """Add ``gflops``, ``pct_peak``, ``vs_<peer>`` speedups and, where the workload
    names one, the machine ``floor_s`` and ``x_floor`` to each ok row, in place.

    The floor is the time the row would take at the machine's measured limit:
    "memory", every parameter read and written once per example at the copy
    bandwidth; "gemm", the forward's flops at the GEMM peak for the row's dtype.
    Both limits are the fastest repeat of the fastest library or thread count
    (:func:`best_limits`), as other processes can only lower them. ``pct_peak``
    stays against NumPy's median GEMM peak.
    """
    numpy_gemm = (gemm or {}).get("numpy", {})
    peaks = numpy_gemm if _ok(numpy_gemm) else {}
    best_peak, gbps = best_limits(gemm, bandwidth)
    by_key = {(r["workload"], r["impl"]): r for r in results}
    for r in results:
        if not _ok(r):
            continue
        w = workloads[r["workload"]]
        t = figure(r)
        peak = peaks.get(r.get("dtype"), {}).get("gflops")
        if is_epoch_workload(w):
            flops = w["flops_per_epoch"]
        else:
            flops = w["flops_per_call"] if w.get("mode") == "predict" else None
        r["gflops"] = flops / t / 1e9 if flops else None
        r["pct_peak"] = 100.0 * r["gflops"] / peak if peak and r["gflops"] else None
        floor = None
        if w.get("floor") == "memory" and gbps:
            itemsize = 8 if r.get("dtype") == "float64" else 4
            floor = 2 * w["num_parameters"] * itemsize / (gbps * 1e9)
        elif w.get("floor") == "gemm" and best_peak.get(r.get("dtype")):
            floor = w["flops_per_call"] / (best_peak[r["dtype"]] * 1e9)
        r["floor_s"] = floor
        r["x_floor"] = t / floor if floor else None
        if r["impl"].startswith("numnet"):
            for peer in PEERS:
                p = by_key.get((r["workload"], peer))
                r[f"vs_{peer}"] = figure(p) / t if _ok(p) else None


def best_limits(gemm: dict | None, bandwidth: dict | None
                ) -> tuple[dict[str, float | None], float | None]:
    """``({dtype: GFLOP/s}, GB/s)``: the fastest GEMM repeat of any library per dtype,
    and the fastest copy repeat on one thread or all (None where not measured)."""
    peaks: dict[str, float | None] = {}
    for dtype in ("float32", "float64"):
        rates = [2.0 * g["n"] ** 3 / min(g[dtype]["times"]) / 1e9
                 for g in (gemm or {}).values() if _ok(g) and g.get(dtype, {}).get("times")]
        peaks[dtype] = max(rates, default=None)
    gbps = None
    if _ok(bandwidth):
        gbps = max(bandwidth["bytes"] / min(bandwidth[k]["times"])
                   for k in ("one_thread", "all_threads")) / 1e9
    return peaks, gbps


def check_targets(results: list[dict]) -> list[dict]:
    """Each of :data:`TARGETS` whose numnet row was run: measured value and PASS/MISS/n/a."""
    by_key = {(r["workload"], r["impl"]): r for r in results}
    checks = []
    for tg in TARGETS:
        if (tg.workload, tg.row) not in by_key:
            continue
        row, peer = by_key.get((tg.workload, tg.row)), by_key.get((tg.workload, tg.peer))
        value = None
        if _ok(row):
            if tg.kind == "speedup":
                value = row.get(f"vs_{tg.peer}")
            elif tg.kind == "peak":
                value = row.get("pct_peak")
            elif _ok(peer):
                value = row["peak_rss_mib"]
        if value is None:
            status = "n/a"
        elif tg.kind == "memory":
            status = "PASS" if value <= peer["peak_rss_mib"] else "MISS"
        else:
            status = "PASS" if value >= tg.threshold else "MISS"
        checks.append({"workload": tg.workload, "row": tg.row, "kind": tg.kind,
                       "peer": tg.peer, "threshold": tg.threshold, "label": tg.label,
                       "value": value, "status": status})
    return checks


# --- formatting ------------------------------------------------------------------------

def fmt_s(x: float | None) -> str:
    """Seconds, 3 significant digits, no exponent."""
    if x is None:
        return ""
    if x == 0 or x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if x >= 1e-4 else f"{x:.2e}"


def fmt_in(x: float | None, unit: str) -> str:
    """Seconds ``x`` shown in ``unit`` ("s", "ms" or "µs"), 3 significant digits."""
    if x is None:
        return ""
    v = x * UNIT_SCALE[unit]
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x"


def fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}" if abs(x) >= 10 ** digits else f"{x:.{digits}g}"


def render(headers: list[str], rows: list[list[str]]) -> str:
    """A markdown table, padded so it also reads well as plain text."""
    rows = [[c.replace("|", "\\|") for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


HEADERS = ["workload", "impl", "dtype", "s/epoch", "1-epoch call s", "compile s",
           "vs sklearn (target)", "vs torch (target)", "vs numpy", "vs jax", "GFLOP/s", "% peak",
           "peak MiB", "loss", "other CPU %"]

OTHER_HEADERS = ["workload", "impl", "dtype", "unit", "time", "best", "compile s",
                 *(f"vs {p}" for p in PEERS), "floor", "x floor", "peak MiB", "check",
                 "other CPU %"]

NOISY_PCT = 10.0  # other processes' CPU share above which a row is flagged


def _with_target(value: float | None, check: dict | None) -> str:
    text = fmt_ratio(value)
    if check:
        text = f"{text or '-'} (>={check['threshold']:g} {check['status']})"
    return text


def results_table(results: list[dict], workloads: dict[str, dict], checks: list[dict]
                  ) -> tuple[str, list[str]]:
    """``(table, footnotes)``: one row per measurement of a seconds-per-epoch
    workload (W1-W4), errors shown in the row."""
    check_of = {(c["workload"], c["row"], c["peer"]): c for c in checks if c["kind"] == "speedup"}
    footnotes: list[str] = []
    rows = []
    for r in results:
        if not is_epoch_workload(workloads[r["workload"]]):
            continue
        head = [r["workload"], _impl_cell(r, footnotes)]
        if r.get("status") != "ok":
            rows.append(head + ["", _message(r)] + [""] * (len(HEADERS) - 4))
            continue
        flops = workloads[r["workload"]]["report_flops"]
        def get(peer, r=r):
            return check_of.get((r["workload"], r["impl"], peer))

        rows.append(head + [
            r["dtype"], fmt_s(r["s_per_epoch"]), fmt_s(r["per_call_s"]), fmt_s(r["compile_s"]),
            _with_target(r.get("vs_sklearn"), get("sklearn")),
            _with_target(r.get("vs_torch"), get("torch")),
            fmt_ratio(r.get("vs_numpy")), fmt_ratio(r.get("vs_jax")),
            fmt_num(r["gflops"]) if flops else "",
            fmt_num(r["pct_peak"]) if flops and r.get("pct_peak") is not None else "",
            f"{r['peak_rss_mib']:.0f}", f"{r['train_loss']:.4g}",
            _fmt_load(r.get("other_load_pct")),
        ])
    return render(HEADERS, rows), footnotes


def _message(r: dict) -> str:
    """A failed row's status and error on one line, at most 100 characters."""
    text = " ".join(f"{r.get('status', 'error')}: {r.get('error', '')}".split())
    return text[:100]


def _impl_cell(r: dict, footnotes: list[str]) -> str:
    """The row's implementation name with its footnote marks, adding new notes to
    ``footnotes``."""
    impl = r["impl"]
    for note in r.get("notes", []):
        if note not in footnotes:
            footnotes.append(note)
        impl += f" [{footnotes.index(note) + 1}]"
    return impl


def other_table(results: list[dict], workloads: dict[str, dict], footnotes: list[str]) -> str:
    """The per-example, inference and per-call workloads (W5, W6a, W6b, C), each in its
    own unit; rows that cannot run say "n/a" and why. Adds notes to ``footnotes``."""
    rows = []
    for r in results:
        w = workloads[r["workload"]]
        if is_epoch_workload(w):
            continue
        head = [r["workload"], _impl_cell(r, footnotes)]
        if r.get("status") != "ok":
            rows.append(head + ["", w["label"], _message(r)] + [""] * (len(OTHER_HEADERS) - 5))
            continue
        unit = w["unit"]
        if "max_abs_diff" in r:
            check = f"max|dp| {r['max_abs_diff']:.1e}"
        else:
            check = f"loss {r['train_loss']:.4g}"
        rows.append(head + [
            r["dtype"], w["label"], fmt_in(figure(r), unit), fmt_in(r.get("best_s"), unit),
            fmt_s(r["compile_s"]), *(fmt_ratio(r.get(f"vs_{p}")) for p in PEERS),
            fmt_in(r.get("floor_s"), unit), fmt_ratio(r.get("x_floor")),
            f"{r['peak_rss_mib']:.0f}", check, _fmt_load(r.get("other_load_pct")),
        ])
    return render(OTHER_HEADERS, rows)


def _fmt_load(pct: float | None, unit: str = "") -> str:
    if pct is None:
        return "?" if unit else ""
    return f"{pct:.0f}{unit}" + (" (noisy)" if is_noisy({"other_load_pct": pct}) else "")


def is_noisy(result: dict) -> bool:
    """Measured while other processes used more than :data:`NOISY_PCT` of the CPU."""
    return (result.get("other_load_pct") or 0) > NOISY_PCT


def noisy_rows(results: list[dict], gemm: dict, bandwidth: dict | None = None) -> list[str]:
    """``"W4 numnet"`` for each measurement taken while other processes were busy."""
    return ([f"{lib} GEMM peak" for lib, g in gemm.items() if is_noisy(g)] +
            (["memory bandwidth"] if bandwidth and is_noisy(bandwidth) else []) +
            [f"{r['workload']} {r['impl']}" for r in results if is_noisy(r)])


def targets_table(checks: list[dict]) -> str:
    rows = []
    for c in checks:
        if c["value"] is None:
            measured = ""
        elif c["kind"] == "speedup":
            measured = fmt_ratio(c["value"])
        elif c["kind"] == "peak":
            measured = f"{c['value']:.1f}%"
        else:
            measured = f"{c['value']:.0f} MiB"
        rows.append([c["label"], measured, c["status"]])
    return render(["target", "measured", "result"], rows)


GENERAL_NOTES = [
    "s/epoch: median seconds per full pass over the data. For numnet rows it is one "
    "`fit(..., epochs=E)` (tutorial: `net.train(X, y, E, lr)`) call divided by E; "
    "'1-epoch call s' is the median `epochs=1` call, so per-call overhead is the difference.",
    "compile s: first call minus a steady 1-epoch call (JIT compilation, lazy setup).",
    "vs <peer>: peer's s/epoch divided by numnet's (higher is better), with the issue's target.",
    "JAX: one jax.jit call per epoch (lax.scan over the mini-batches), numnet's initial weights "
    "and dtype; its trace and XLA compilation show in 'compile s'.",
    "GFLOP/s = 6 x parameters x examples / s-per-epoch; % peak is against NumPy's measured "
    "2048x2048 GEMM peak for the row's dtype (PyTorch uses its own BLAS, so it can exceed 100%).",
    "PyTorch runs float32 on W1-W4 and uses CrossEntropyLoss on logits (fused log-softmax).",
    "loss: after all timed epochs, MSE or cross-entropy on the first 5,000 examples, same "
    "formula for every row (a check that each row really trained).",
    "peak MiB: the worker process's ru_maxrss (includes the interpreter, imported libraries "
    "and the data).",
    f"other CPU %: share of the machine's CPU time used by other processes while the row was "
    f"timed (/proc/stat minus the worker's own CPU time); above {NOISY_PCT:g}% the row is "
    f"flagged noisy and its times are inflated: rerun it on a quiet machine.",
]


OTHER_NOTES = [
    "time: the workload's unit; the median of the timed epochs or calls, except W6a: the best "
    "of many calls (blocks of 100 calls, each block's time / 100), as one call lasts "
    "microseconds. best: the fastest.",
    "W5: an epoch's time / its examples (numnet rows: one fit(..., epochs=E) call / E). "
    "C: one epochs=1 training call on 10 examples.",
    "vs <peer>: peer's time divided by numnet's (higher is better).",
    "floor: the time at the machine limit measured above (its fastest repeat, of any library "
    "or thread count): W5, every parameter read once and written once per example at the "
    "copy bandwidth (weights that stay in cache can beat it); W6b, the forward's "
    "2 x weights x rows flops at the GEMM peak for the dtype. x floor: time / floor (below 1 "
    "only when the limit was measured while other processes were busy).",
    "check: training rows, the loss after the timed epochs (as above); inference rows, the "
    "largest difference of any probability from a float64 NumPy forward pass of the same "
    "weights (numnet's initial ones, which every inference row copies).",
    "Inference rows take a NumPy array and return the probabilities: numnet predict_proba, "
    "scikit-learn predict_proba, ONNX Runtime session.run on numnet.onnx.export's graph, "
    "PyTorch under inference_mode, JAX jit with block_until_ready (the NumPy input's transfer "
    "included); PyTorch computes in the workload's dtype here.",
]


def bandwidth_line(bandwidth: dict | None) -> str | None:
    """The machine section's memory-bandwidth line, or None when it was not measured."""
    if not bandwidth:
        return None
    if not _ok(bandwidth):
        return f"memory bandwidth: {bandwidth.get('status')}: {bandwidth.get('error', '')}"
    _, fastest = best_limits(None, bandwidth)
    return (f"memory bandwidth (np.copyto of {bandwidth['bytes'] // 2 // 2**20} MiB, read + "
            f"written bytes, median of {bandwidth['repeats']}): "
            f"{bandwidth['one_thread']['gbps']:.1f} GB/s on 1 thread, "
            f"{bandwidth['all_threads']['gbps']:.1f} GB/s on {bandwidth['threads']} threads; "
            f"fastest repeat {fastest:.1f} GB/s"
            f" (other processes' CPU: {_fmt_load(bandwidth.get('other_load_pct'), '%')})")


def machine_lines(machine: dict, gemm: dict, bandwidth: dict | None = None) -> list[str]:
    """Bullet lines describing the machine, libraries and its measured limits."""
    info = machine.get("libraries", {})
    lines = [f"CPU: {machine['cpu_model']} ({machine['logical_cpus']} logical CPUs, "
             f"{machine['physical_cores']} physical cores)",
             f"OS: {machine['platform']}; Python {info.get('python', '?')}",
             f"date: {machine['date']}"]
    lines.append(f"numpy {info.get('numpy', '?')}; BLAS: {blas_summary(info.get('threadpools'))}")
    for lib in ("torch", "jax", "onnxruntime", "sklearn", "numba", "numnet"):
        lines.append(f"{lib}: {info.get(lib, '?')}")
    env = machine.get("env", {})
    lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or
                                    "no OPENBLAS_*/OMP_*/MKL_* thread or core-type variables set"))
    for lib, g in gemm.items():
        if _ok(g):
            best = {d: 2.0 * g["n"] ** 3 / min(g[d]["times"]) / 1e9 for d in ("float32", "float64")}
            lines.append(f"GEMM peak ({lib}, {g['n']}x{g['n']}, median of {g['repeats']}): "
                         f"float32 {g['float32']['gflops']:.1f} GFLOP/s, "
                         f"float64 {g['float64']['gflops']:.1f} GFLOP/s; fastest repeat "
                         f"{best['float32']:.1f} and {best['float64']:.1f}"
                         f" (other processes' CPU: {_fmt_load(g.get('other_load_pct'), '%')})")
        else:
            lines.append(f"GEMM peak ({lib}): {g.get('status')}: {g.get('error', '')}")
    line = bandwidth_line(bandwidth)
    if line:
        lines.append(line)
    return lines


def blas_summary(pools: Any) -> str:
    if not isinstance(pools, list):
        return str(pools)
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} "
                     f"({p.get('architecture', '?')}, {p.get('num_threads')} threads, "
                     f"{p.get('threading_layer', '?')})" for p in pools) or "none found"


def markdown_report(doc: dict) -> str:
    """The full markdown document: machine, results table, footnotes, targets."""
    bandwidth = doc.get("bandwidth")
    workloads = doc["workloads"]
    table, footnotes = results_table(doc["results"], workloads, doc["targets"])
    epoch_rows = any(is_epoch_workload(workloads[r["workload"]]) for r in doc["results"])
    other_rows = any(not is_epoch_workload(workloads[r["workload"]]) for r in doc["results"])
    other = other_table(doc["results"], workloads, footnotes) if other_rows else ""
    parts = ["# numnet benchmarks" + (" (quick run)" if doc["quick"] else ""), "",
             "## Machine", "",
             *(f"- {line}" for line in machine_lines(doc["machine"], doc["gemm"], bandwidth)),
             "", "## Workloads", ""]
    for w in workloads.values():
        net = (f"{w['architecture']} {w['activation']}/{w['output_activation']}")
        if w.get("mode", "train") == "predict":
            parts.append(f"- **{w['id']}** {w['title']}: {net}, predict_proba on "
                         f"{w['n_examples']:,} row(s) per call, {w['dtype']}, "
                         f"{w['num_parameters']:,} parameters; {w['label']}")
            continue
        parts.append(f"- **{w['id']}** {w['title']}: {net}, {w['loss']}, {w['optimizer']} "
                     f"lr {w['lr']:g}, batch {w['batch_size']}, {w['n_examples']:,} examples, "
                     f"{w['dtype']}, {w['num_parameters']:,} parameters"
                     + (f"; {w['label']}" if not is_epoch_workload(w) else ""))
    if epoch_rows:
        parts += ["", "## Results (seconds per epoch, lower is better)", "", table, ""]
    if other_rows:
        parts += ["", "## Per-example, inference and per-call workloads (lower is better)", "",
                  other, ""]
    noisy = noisy_rows(doc["results"], doc["gemm"], bandwidth)
    if noisy:
        parts += [f"**Warning:** other processes used over {NOISY_PCT:g}% of the CPU while "
                  f"timing {', '.join(noisy)}; those figures are unreliable.", ""]
    if footnotes:
        parts += [*(f"[{i}] {note}" for i, note in enumerate(footnotes, 1)), ""]
    if epoch_rows:
        parts += [*(f"- {note}" for note in GENERAL_NOTES), ""]
    if other_rows:
        parts += ["Per-example, inference and per-call workloads:", "",
                  *(f"- {note}" for note in OTHER_NOTES), ""]
    if epoch_rows:
        parts += ["## Targets", "", targets_table(doc["targets"]), ""]
    return "\n".join(parts)

"""Turn raw worker results into ratios, target checks and tables.

Pure functions over the JSON-able dicts that :mod:`benchmarks.run` collects;
no measurement happens here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PEERS = ("sklearn", "torch", "numpy")


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


def derive(results: list[dict], workloads: dict[str, dict], gemm: dict | None) -> None:
    """Add ``gflops``, ``pct_peak`` and ``vs_<peer>`` speedups to each ok row, in place."""
    numpy_gemm = (gemm or {}).get("numpy", {})
    peaks = numpy_gemm if _ok(numpy_gemm) else {}
    by_key = {(r["workload"], r["impl"]): r for r in results}
    for r in results:
        if not _ok(r):
            continue
        w = workloads[r["workload"]]
        t = r["s_per_epoch"]
        r["gflops"] = w["flops_per_epoch"] / t / 1e9
        peak = peaks.get(r.get("dtype"), {}).get("gflops")
        r["pct_peak"] = 100.0 * r["gflops"] / peak if peak else None
        if r["impl"].startswith("numnet"):
            for peer in PEERS:
                p = by_key.get((r["workload"], peer))
                r[f"vs_{peer}"] = p["s_per_epoch"] / t if _ok(p) else None


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
           "vs sklearn (target)", "vs torch (target)", "vs numpy", "GFLOP/s", "% peak",
           "peak MiB", "loss", "other CPU %"]

NOISY_PCT = 10.0  # other processes' CPU share above which a row is flagged


def _with_target(value: float | None, check: dict | None) -> str:
    text = fmt_ratio(value)
    if check:
        text = f"{text or '-'} (>={check['threshold']:g} {check['status']})"
    return text


def results_table(results: list[dict], workloads: dict[str, dict], checks: list[dict]
                  ) -> tuple[str, list[str]]:
    """``(table, footnotes)``: one row per measurement, errors shown in the row."""
    check_of = {(c["workload"], c["row"], c["peer"]): c for c in checks if c["kind"] == "speedup"}
    footnotes: list[str] = []
    rows = []
    for r in results:
        impl = r["impl"]
        for note in r.get("notes", []):
            if note not in footnotes:
                footnotes.append(note)
            impl += f" [{footnotes.index(note) + 1}]"
        head = [r["workload"], impl]
        if r.get("status") != "ok":
            message = f"{r.get('status', 'error')}: {r.get('error', '')}"
            rows.append(head + ["", message[:100]] + [""] * (len(HEADERS) - 4))
            continue
        flops = workloads[r["workload"]]["report_flops"]
        def get(peer, r=r):
            return check_of.get((r["workload"], r["impl"], peer))

        rows.append(head + [
            r["dtype"], fmt_s(r["s_per_epoch"]), fmt_s(r["per_call_s"]), fmt_s(r["compile_s"]),
            _with_target(r.get("vs_sklearn"), get("sklearn")),
            _with_target(r.get("vs_torch"), get("torch")),
            fmt_ratio(r.get("vs_numpy")),
            fmt_num(r["gflops"]) if flops else "",
            fmt_num(r["pct_peak"]) if flops and r.get("pct_peak") is not None else "",
            f"{r['peak_rss_mib']:.0f}", f"{r['train_loss']:.4g}",
            _fmt_load(r.get("other_load_pct")),
        ])
    return render(HEADERS, rows), footnotes


def _fmt_load(pct: float | None, unit: str = "") -> str:
    if pct is None:
        return "?" if unit else ""
    return f"{pct:.0f}{unit}" + (" (noisy)" if is_noisy({"other_load_pct": pct}) else "")


def is_noisy(result: dict) -> bool:
    """Measured while other processes used more than :data:`NOISY_PCT` of the CPU."""
    return (result.get("other_load_pct") or 0) > NOISY_PCT


def noisy_rows(results: list[dict], gemm: dict) -> list[str]:
    """``"W4 numnet"`` for each measurement taken while other processes were busy."""
    return ([f"{lib} GEMM peak" for lib, g in gemm.items() if is_noisy(g)] +
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
    "GFLOP/s = 6 x parameters x examples / s-per-epoch; % peak is against NumPy's measured "
    "2048x2048 GEMM peak for the row's dtype (PyTorch uses its own BLAS, so it can exceed 100%).",
    "PyTorch runs float32 throughout and uses CrossEntropyLoss on logits (fused log-softmax).",
    "loss: after all timed epochs, MSE or cross-entropy on the first 5,000 examples, same "
    "formula for every row (a check that each row really trained).",
    "peak MiB: the worker process's ru_maxrss (includes the interpreter, imported libraries "
    "and the data).",
    f"other CPU %: share of the machine's CPU time used by other processes while the row was "
    f"timed (/proc/stat minus the worker's own CPU time); above {NOISY_PCT:g}% the row is "
    f"flagged noisy and its times are inflated: rerun it on a quiet machine.",
]


def machine_lines(machine: dict, gemm: dict) -> list[str]:
    """Bullet lines describing the machine and libraries."""
    info = machine.get("libraries", {})
    lines = [f"CPU: {machine['cpu_model']} ({machine['logical_cpus']} logical CPUs, "
             f"{machine['physical_cores']} physical cores)",
             f"OS: {machine['platform']}; Python {info.get('python', '?')}",
             f"date: {machine['date']}"]
    lines.append(f"numpy {info.get('numpy', '?')}; BLAS: {blas_summary(info.get('threadpools'))}")
    for lib in ("torch", "sklearn", "numba", "numnet"):
        lines.append(f"{lib}: {info.get(lib, '?')}")
    env = machine.get("env", {})
    lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or
                                    "no OPENBLAS_*/OMP_*/MKL_* thread or core-type variables set"))
    for lib, g in gemm.items():
        if _ok(g):
            lines.append(f"GEMM peak ({lib}, {g['n']}x{g['n']}, median of {g['repeats']}): "
                         f"float32 {g['float32']['gflops']:.1f} GFLOP/s, "
                         f"float64 {g['float64']['gflops']:.1f} GFLOP/s"
                         f" (other processes' CPU: {_fmt_load(g.get('other_load_pct'), '%')})")
        else:
            lines.append(f"GEMM peak ({lib}): {g.get('status')}: {g.get('error', '')}")
    return lines


def blas_summary(pools: Any) -> str:
    if not isinstance(pools, list):
        return str(pools)
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} "
                     f"({p.get('architecture', '?')}, {p.get('num_threads')} threads, "
                     f"{p.get('threading_layer', '?')})" for p in pools) or "none found"


def markdown_report(doc: dict) -> str:
    """The full markdown document: machine, results table, footnotes, targets."""
    table, footnotes = results_table(doc["results"], doc["workloads"], doc["targets"])
    parts = ["# numnet benchmarks" + (" (quick run)" if doc["quick"] else ""), "",
             "## Machine", "",
             *(f"- {line}" for line in machine_lines(doc["machine"], doc["gemm"])),
             "", "## Workloads", ""]
    for w in doc["workloads"].values():
        parts.append(f"- **{w['id']}** {w['title']}: {w['architecture']} {w['activation']}/"
                     f"{w['output_activation']}, {w['loss']}, {w['optimizer']} lr {w['lr']:g}, "
                     f"batch {w['batch_size']}, {w['n_examples']:,} examples, {w['dtype']}, "
                     f"{w['num_parameters']:,} parameters")
    parts += ["", "## Results (seconds per epoch, lower is better)", "", table, ""]
    noisy = noisy_rows(doc["results"], doc["gemm"])
    if noisy:
        parts += [f"**Warning:** other processes used over {NOISY_PCT:g}% of the CPU while "
                  f"timing {', '.join(noisy)}; those figures are unreliable.", ""]
    if footnotes:
        parts += [*(f"[{i}] {note}" for i, note in enumerate(footnotes, 1)), ""]
    parts += [*(f"- {note}" for note in GENERAL_NOTES), "", "## Targets", "",
              targets_table(doc["targets"]), ""]
    return "\n".join(parts)

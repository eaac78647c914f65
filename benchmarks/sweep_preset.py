"""How long ``numnet sweep --preset tutorial`` takes, on each backend, from a cold start.

Each backend runs the whole preset (22 settings × 10 seeds = 220 runs) in a
fresh Python process, as a user would type it, into its own folder; the time
includes starting Python, importing numnet, starting workers or a Dask
LocalCluster, and writing the CSV, plots and report. The per-run results of
every backend are then compared with the serial ones (everything but wall
time and worker name must be identical).

    PYTHONPATH=src python benchmarks/sweep_preset.py                # all backends
    PYTHONPATH=src python benchmarks/sweep_preset.py --keep examples/tutorial-challenge

``--keep DIR`` writes the serial run's output to DIR (the committed example).
Exits non-zero if a backend fails, takes a minute or more, or disagrees.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKENDS = ("serial", "processes", "dask")
LIMIT = 60.0     # seconds: the bound on a 2-core machine


def run(backend: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "numnet", "sweep", "--preset", "tutorial",
           "--backend", backend, "--out", str(out), "--no-progress"]
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ))
    return time.perf_counter() - began


def comparable(folder: Path):
    import pandas as pd
    frame = pd.read_csv(folder / "results.csv")
    return frame.drop(columns=["wall_time", "worker"]).sort_values("key").reset_index(drop=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--keep", type=Path, help="write the serial run's output here")
    args = parser.parse_args()
    backends = args.backends.split(",")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folders = {b: Path(tmp) / b for b in backends}
        times = {b: run(b, folders[b]) for b in backends}
        print(f"numnet sweep --preset tutorial (220 runs) on {os.cpu_count()} cores")
        print(f"{'backend':<10} {'seconds':>8}  {'runs/s':>7}  identical to serial")
        reference = comparable(folders[backends[0]])
        for b in backends:
            same = comparable(folders[b]).equals(reference)
            ok &= same and times[b] < LIMIT
            print(f"{b:<10} {times[b]:8.2f}  {220 / times[b]:7.1f}  {'yes' if same else 'NO'}")
        if args.keep is not None:
            source = folders["serial"] if "serial" in folders else folders[backends[0]]
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in source.iterdir():
                if f.suffix in (".csv", ".json", ".md", ".png"):
                    shutil.copy2(f, args.keep / f.name)
    print("all under a minute and identical" if ok else "FAILED: too slow or not identical")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``numnet compile``: the kernels compiled (or loaded from numba's cache) ahead of use."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("numba")


def test_compile_readies_every_kernel_set():
    out = subprocess.run([sys.executable, "-m", "numnet", "compile"], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    ready = [line for line in out.stderr.splitlines() if line.endswith("s)")]
    assert len(ready) == 8 and all(": ready (" in line for line in ready)
    for dtype in ("float32", "float64"):
        for what in ("per-example training", "small-batch training",
                     "the large-network update", "inference"):
            assert f"  {what}, {dtype}: ready" in out.stderr
    assert out.stdout.startswith("compiled 8 kernel sets in ")


def test_compile_without_numba_says_what_to_install():
    code = ("import sys; sys.modules['numba'] = None\n"
            "from numnet.cli import main; main(['compile'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip() == ("Error: numba is not installed, so there is nothing to "
                                  "compile; install it with: pip install 'numnet[fast]'")

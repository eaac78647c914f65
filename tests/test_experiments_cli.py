"""``numnet sweep`` is a command of the ``numnet`` program, as the README shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_numnet_has_the_sweep_command():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    listed = subprocess.run([sys.executable, "-m", "numnet", "--help"], capture_output=True,
                            text=True, env=env, check=True)
    assert "sweep" in listed.stdout
    helped = subprocess.run([sys.executable, "-m", "numnet", "sweep", "--help"],
                            capture_output=True, text=True, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "--preset" in helped.stdout and "numnet sweep --preset tutorial" in helped.stdout

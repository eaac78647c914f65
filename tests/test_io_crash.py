"""numnet.io writes are crash-safe: SIGKILL at any moment leaves the old file or the new one.

A child process saves a ~1.6M-parameter model (6 MB) to the same path in a
loop; the parent kills it with SIGKILL many times, at seeded random moments
and at moments when a temporary file is known to be mid-write, and after each
kill checks that the target is either absent (no save finished yet) or a whole,
loadable model from one single save. A kill can leave that child's one
temporary file (``.<name>.tmp-<host>-<pid>-<random>``); the next save to the
same target removes it, so at most one is ever lying around.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from numnet import MLP
from numnet import io as nio

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

SRC = Path(__file__).resolve().parents[1] / "src"
ARCH = dict(num_inputs=512, hidden_layers=[1024, 1024], num_outputs=10, activation="relu",
            dtype="float32")
KILLS = 24

CHILD = rf"""
import sys
from pathlib import Path
from numnet import MLP
from numnet import io as nio
from numnet._files.atomic import _remove_stale_temps as remove_stale_temps

target = Path(sys.argv[1])
net = MLP(**{ARCH!r}, random_state=0)
remove_stale_temps(target)          # what every save does first; done here so the parent
print("ready", flush=True)          # knows earlier children's temporaries are gone
i = 0
while True:
    i += 1
    net.flat_parameters[0] = i      # each save is different; the file says which it is
    nio.save(net, target, metadata={{"i": i}})
    print("saved", i, flush=True)
"""


def _temps(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.tmp-*"))


def _wait_for_temp(target: Path, deadline: float) -> None:
    while not _temps(target) and time.monotonic() < deadline:
        pass


def test_sigkill_never_leaves_a_broken_file(tmp_path):
    faulthandler.dump_traceback_later(120, exit=True)     # a hang fails loudly
    try:
        _run_kills(tmp_path)
    finally:
        faulthandler.cancel_dump_traceback_later()


def _run_kills(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    reference = MLP(**ARCH, random_state=0).flat_parameters
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]))
    rng = np.random.default_rng(20240601)
    completed_saves = 0
    kills_leaving_a_temp = 0

    for k in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            ready = child.stdout.readline()
            assert ready == b"ready\n", child.communicate()[1].decode(errors="replace")
            first: list[bytes] = []
            if k == 0:
                pass                                   # kill at once: before any save ends
            elif k % 4 == 1:                           # after a whole save, however slow the
                first.append(child.stdout.readline())  # machine: the target must then stay
                time.sleep(rng.uniform(0.0, 0.05))     # whole through the next ones
            elif k % 2:
                time.sleep(rng.uniform(0.0, 0.1))      # anywhere in the save loop
            else:                                      # while a temporary file is being written
                time.sleep(rng.uniform(0.0, 0.05))
                _wait_for_temp(target, time.monotonic() + 5.0)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        output, _ = child.communicate()
        output = b"".join(first) + output
        assert child.returncode == -signal.SIGKILL
        reported = sum(line.startswith(b"saved") for line in output.splitlines())
        completed_saves += reported

        temps = _temps(target)
        assert len(temps) <= 1, [p.name for p in temps]      # never more than the one in flight
        kills_leaving_a_temp += bool(temps)
        if not target.exists():
            assert completed_saves == 0, f"kill {k}: the target vanished after a save"
            continue
        net = nio.load(target)                       # whole and valid, or this raises
        i = nio.load_metadata(target)["metadata"]["i"]
        # Weights and header come from the same save, and the weights are all there.
        assert net.flat_parameters[0] == i
        assert np.array_equal(net.flat_parameters[1:], reference[1:])
        assert i >= reported                          # at least as new as the last reported

    assert completed_saves > 0                          # the loop did reach whole files
    assert kills_leaving_a_temp > 0                     # and did kill mid-write

    # A later save works and clears what killed writers left behind.
    final = MLP(**ARCH, random_state=0)
    nio.save(final, target, metadata={"i": -1})
    assert _temps(target) == []
    assert np.array_equal(nio.load(target).flat_parameters, final.flat_parameters)

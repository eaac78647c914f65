"""Every file numnet writes is a regular file: a device, a named pipe or a socket (or a link
to one) is refused, never replaced.

Writes go through an atomic rename, which put a regular file in the place of what was
there: ``numnet.save(net, "/dev/null")`` run as root replaced the device with a file.
These tests use a named pipe in a temporary folder (and a link to it), never a device,
so that a regression cannot harm the machine running them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from numnet import MLP
from numnet import io as nio

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@pytest.fixture(params=["pipe", "link to a pipe"])
def special(request, tmp_path) -> Path:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    if request.param == "pipe":
        return pipe
    link = tmp_path / "link"
    link.symlink_to(pipe)
    return link


def _still_a_pipe(path: Path) -> bool:
    return stat.S_ISFIFO(os.stat(path).st_mode)


def _only(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_save_refuses_a_pipe_and_leaves_it(special):
    before = _only(special.parent)
    with pytest.raises(OSError, match="is a named pipe, not a regular file"):
        nio.save(MLP(1, [2], 1, random_state=0), special)
    assert _still_a_pipe(special) and _only(special.parent) == before   # no temporary left


def test_a_checkpoint_refuses_a_pipe(special):
    from numnet.callbacks import ModelCheckpoint

    X = np.linspace(0, 1, 8)
    with pytest.raises(OSError, match="not a regular file"):
        MLP(1, [2], 1, random_state=0).fit(X, 1 - X, epochs=1, verbose=False,
                                            callbacks=[ModelCheckpoint(special)])
    assert _still_a_pipe(special)


def test_a_plot_refuses_a_pipe(special):
    pytest.importorskip("matplotlib")
    from numnet import plots

    with pytest.raises(OSError, match="not a regular file"):
        plots.loss_curve([0.3, 0.2, 0.1], path=special)
    assert _still_a_pipe(special)


def test_an_onnx_export_refuses_a_pipe(special):
    pytest.importorskip("onnx")
    from numnet.onnx import export

    with pytest.raises(OSError, match="not a regular file"):
        export(MLP(1, [2], 1, random_state=0), special)
    assert _still_a_pipe(special)


def test_a_regular_file_behind_a_link_is_written_and_the_link_kept(tmp_path):
    real, link = tmp_path / "m.safetensors", tmp_path / "link.safetensors"
    real.write_bytes(b"old")
    link.symlink_to(real)
    nio.save(MLP(1, [2], 1, random_state=0), link)
    assert link.is_symlink() and nio.load(link).layer_sizes == [1, 2, 1]


def test_a_sweep_report_refuses_a_pipe_in_its_folder(tmp_path):
    """The sweep's files go through the same atomic write: a pipe in the folder is refused
    (``write_text`` used to block on it until something read it)."""
    pytest.importorskip("pandas")
    from numnet.experiments import sweep
    from numnet.experiments.report import report_from_csv

    out = tmp_path / "sweep"
    sweep({"hidden_layers": [[2]], "n_samples": [20]}, repeats=1, fit_kwargs={"epochs": 1},
          out=out, progress=False)
    (out / "report.md").unlink()
    os.mkfifo(out / "report.md")
    with pytest.raises(OSError, match="report.md': it is a named pipe"):
        report_from_csv(out)
    assert _still_a_pipe(out / "report.md")

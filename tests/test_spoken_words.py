"""examples/spoken_words.py --quick, run as a user runs it: on spoken digits in two accents it
never heard, numnet is at least as accurate as librosa MFCC + SVC, and noise at -90 dBFS, a
40 dB cut or 2 s of silence cost it at most 0.02 of its accuracy."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("soundfile")
pytest.importorskip("librosa")
pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "spoken_words.py"
VARIATIONS = ("clean", "noise -90 dBFS", "40 dB quieter", "2 s silence")
# The bar: no variation of the held-out clips may cost more than this much accuracy.
MAX_DROP = 0.02

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


def table_row(printed, label):
    """The accuracies the example prints on the row ``label``, by variation."""
    lines = [line for line in printed.splitlines() if line.startswith(label + "  ")]
    assert len(lines) == 1, printed
    values = [float(x) for x in lines[0][len(label):].split()]
    assert len(values) == len(VARIATIONS), lines[0]
    return dict(zip(VARIATIONS, values, strict=True))


@needs_espeak
def test_numnet_beats_the_mfcc_svc_baseline_on_unheard_accents_and_holds_up(tmp_path):
    out = tmp_path / "spoken"
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout
    assert "80 held-out clips (en-gb-scotland, en-029)" in printed
    accents = {part: {p.stem.rsplit("_", 1)[0] for p in (out / "words" / part).rglob("*.wav")}
               for part in ("train", "test")}                  # <accent>_<variant>.wav
    assert accents["test"] == {"en-gb-scotland", "en-029"} and len(accents["train"]) == 6
    assert not accents["test"] & accents["train"]

    ours, baseline = table_row(printed, "numnet"), table_row(printed, "librosa MFCC + SVC")
    assert ours["clean"] >= baseline["clean"], printed
    for name in VARIATIONS[1:]:
        assert ours["clean"] - ours[name] <= MAX_DROP, (name, printed)
    evaluated = re.search(r"^accuracy ([0-9.]+) on 80 samples$", printed, re.MULTILINE)
    assert evaluated and round(float(evaluated[1]), 3) == ours["clean"]   # numnet evaluate's


def test_without_espeak_the_example_says_so_and_exits_0(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick"], capture_output=True,
                          text=True, timeout=120, env={"PATH": str(bare)})
    assert done.returncode == 0, done.stderr
    assert "espeak-ng is not installed" in done.stdout

"""No control character read from a file reaches the terminal raw, whatever prints it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("click")

from numnet.terminal import EscapingStream, printable  # noqa: E402

# a CSI colour, an OSC window title (BEL-terminated) and an OSC 52 clipboard write (ST-terminated)
HOSTILE = ["\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07", "\x1b]52;c;aGk=\x1b\\", "a\x9bb", "x\u202ey"]


@given(st.text())
def test_printable_leaves_no_control_character(text: str) -> None:
    out = printable(text)
    out.encode("utf-8")
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in out)
    assert "\u202e" not in out


def test_printable_keeps_ordinary_text() -> None:
    ordinary = "setosa, versicolor: 5.1 cm, naïve, 日本"
    assert printable(ordinary) == ordinary
    assert printable("\x1b[31m") == "\\x1b[31m"
    assert printable("a\nb") == "a\\x0ab"
    assert printable("clip\udcff.wav") == "clip\\xff.wav"          # an undecodable byte
    assert printable(b"clip\xff.wav") == "clip\\xff.wav"
    printable("\ud800x").encode("utf-8")                          # strict: nothing left over


@given(st.text())
def test_the_stream_keeps_newlines_tabs_and_carriage_returns_only(text: str) -> None:
    sink = io.StringIO()
    EscapingStream(sink).write(text)
    out = sink.getvalue()
    assert not any((ord(c) < 0x20 and c not in "\n\t\r") or 0x7f <= ord(c) <= 0x9f for c in out)
    assert out.count("\n") == text.count("\n")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "numnet", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A CSV whose class labels and a column name hold escape sequences, and a model of it."""
    folder = tmp_path_factory.mktemp("hostile")
    feature = "len\x1b]0;title\x07gth"
    rows = [f"{feature},width,species"]
    for i in range(40):
        label = HOSTILE[i % len(HOSTILE)]
        rows.append(f"{i % 7 + 0.5 * (i % len(HOSTILE))},{i % 3},{label}")
    data = folder / "flowers.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = folder / "m.safetensors"
    result = _run("train", str(data), "--target", "species", "--epochs", "2", "--hidden", "4",
                  "--out", str(model), cwd=folder)
    assert result.returncode == 0, result.stderr
    return data, model


@pytest.mark.parametrize("command", [
    ["train", "{data}", "--target", "species", "--epochs", "1", "--out", "{out}"],
    ["evaluate", "{model}", "{data}"],
    ["predict", "{model}", "{data}"],
    ["predict", "{model}", "{data}", "--proba"],
    ["info", "{model}"],
    ["evaluate", "{model}", "{data}", "--target", "no\x1b[2Jsuch"],   # an error naming it
], ids=["train", "evaluate", "predict", "predict-proba", "info", "error"])
def test_no_command_prints_an_escape_from_a_file(command: list[str],
                                                 hostile_model: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    data, model = hostile_model
    args = [a.format(data=data, model=model, out=tmp_path / "o.safetensors") for a in command]
    result = _run(*args, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
        assert "\u202e" not in stream
    # the labels are there, escaped, where the command shows them
    if command[0] in ("predict", "evaluate") and len(command) == 3:
        assert "\\x1b]" in result.stdout or "\\x1b[31m" in result.stdout
    if command[0] == "info":        # shown escaped, not stripped (output is a pipe here)
        assert "\\x1b[31mred\\x1b[0m" in result.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """`numnet info m | head -1`: no 'Error: [Errno 32] Broken pipe', no traceback.

    The reading end is closed before the command writes, so every write fails.
    """
    import subprocess
    import sys

    run = [sys.executable, "-m", "numnet"]
    subprocess.run([*run, "train", "sine", "--epochs", "1", "--out", "m.safetensors", "-q"],
                   cwd=tmp_path, check=True, capture_output=True)
    for command in (["info", "m.safetensors"], ["predict", "m.safetensors", "--values", "0.5"],
                    ["--help"]):
        proc = subprocess.Popen([*run, *command], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()                                   # the reader is gone
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=120)
        assert stderr == "", (command, stderr)

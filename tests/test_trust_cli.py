"""The numnet command can be trusted with a person's files, options and terminal.

Every case is the real command in a subprocess, with the bytes of the files at
stake compared before and after. The commands run side by side (a thread
pool over subprocesses, each in a folder of its own) so that the ~80 runs
take seconds; each test then checks the runs it names.

The classes checked for every command and output option: an output that is
one of the command's inputs (also through a link), or another output, is
refused with one ``Error:`` line and touches nothing; an output that cannot be
written (a missing folder, a read-only one under /proc) is refused before any
data is read. Then the single cases: labels a model never saw, options that
would be ignored, a resumed run on other data, divergence, memory, named
pipes, and escape sequences in names.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet.preprocessing import PreprocessedModel

SRC = Path(__file__).resolve().parent.parent / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
ESC_LABEL = "\x1b[31mred\x1b]0;pwned\x07"         # a CSI colour and an OSC window title


def numnet_cmd(*args: object, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)], cwd=cwd,
                          capture_output=True, env=ENV, timeout=120)


def write_rows(path: Path, n: int = 20, labels: tuple[str, str] = ("a", "b"),
               header: str = "x1,x2,label") -> None:
    """``n`` rows of two features and a label that the first feature decides."""
    X = np.random.default_rng(0).normal(size=(n, 2))
    rows = [f"{p:.6f},{q:.6f},{labels[0] if p > 0 else labels[1]}" for p, q in X]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` (not following links), by name: its bytes."""
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.is_file() and not p.is_symlink()}


def one_error(run: subprocess.CompletedProcess[bytes]) -> str:
    """The single ``Error:`` line of a refused run (exit 1, nothing on stdout)."""
    err = run.stderr.decode()
    assert run.returncode == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    return lines[0]


@dataclass
class Case:
    """Commands run one after the other in ``folder``, whose files were ``before``."""

    steps: list[list[object]]
    folder: Path
    before: dict[str, bytes]
    runs: list[subprocess.CompletedProcess[bytes]] | None = None

    def execute(self) -> None:
        self.runs = [numnet_cmd(*args, cwd=self.folder) for args in self.steps]

    @property
    def after(self) -> dict[str, bytes]:
        return snapshot(self.folder)


# --- the files every case starts from ------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """d.csv (20 rows), the model m.safetensors and checkpoint c.safetensors trained on it."""
    folder = tmp_path_factory.mktemp("base")
    write_rows(folder / "d.csv")
    done = numnet_cmd("train", "d.csv", "--epochs", 2, "--quiet", "--out", "m.safetensors",
                      "--checkpoint", "c.safetensors", cwd=folder)
    assert done.returncode == 0, done.stderr.decode()
    return folder


INPUTS = {"DATA": "d.csv", "MODEL": "m.safetensors", "--resume": "c.safetensors"}

# Every output option of every command, with every input it could be pointed at.
SAME_FILE = [("train", "--out", "DATA"), ("train", "--checkpoint", "DATA"),
             ("train", "--plot", "DATA"), ("train", "--out", "--resume"),
             ("train", "--plot", "--resume"), ("predict", "--out", "MODEL"),
             ("predict", "--out", "DATA"), ("export", "--out", "MODEL"),
             ("evaluate", "--plot", "MODEL"), ("evaluate", "--plot", "DATA")]
OUTPUTS = [("train", "--out"), ("train", "--checkpoint"), ("train", "--plot"),
           ("predict", "--out"), ("export", "--out"), ("evaluate", "--plot"),
           ("demo", "--plot")]
COLLISIONS = [("--out", "--checkpoint"), ("--out", "--plot"), ("--checkpoint", "--plot")]


def command(name: str, options: dict[str, str]) -> list[object]:
    """``name`` run on the case folder's d.csv / m.safetensors with ``options``."""
    flat = [part for item in options.items() for part in item]
    if name == "train":
        return ["train", "d.csv", "--epochs", 2, "--quiet", *flat]
    if name in ("predict", "evaluate"):
        return [name, "m.safetensors", "d.csv", *flat]
    if name == "export":
        return ["export", "m.safetensors", *flat]
    return ["demo", "--epochs", 1, "--samples", 5, *flat]


def _cases(base: Path, root: Path) -> dict[str, Case]:
    cases: dict[str, Case] = {}

    def case(key: str, *steps: list[object], setup: dict[str, str | bytes] | None = None,
             links: dict[str, str] | None = None) -> None:
        folder = root / re.sub(r"[^\w.-]+", "_", key)
        folder.mkdir()
        for name in INPUTS.values():
            shutil.copyfile(base / name, folder / name)
        for name, content in (setup or {}).items():
            target = folder / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        for name, points_to in (links or {}).items():
            (folder / name).symlink_to(points_to)
        cases[key] = Case(list(steps), folder, snapshot(folder))

    for cmd, option, what in SAME_FILE:
        for via in ("path", "link"):
            target = INPUTS[what]
            link = f"link{Path(target).suffix}"
            options = {"--out": "out.safetensors"} if cmd == "train" else {}
            options[option] = target if via == "path" else link
            if what == "--resume":
                options["--resume"] = "c.safetensors"
            case(f"same {cmd} {option} {what} {via}", command(cmd, options),
                 links={link: target} if via == "link" else None)
    for first, second in COLLISIONS:
        case(f"collide {first} {second}", command("train", {first: "both.png",
                                                            second: "both.png"}))
    for cmd, option in OUTPUTS:
        name = "x.png" if option == "--plot" else "x.csv" if cmd == "predict" else "x.onnx" \
            if cmd == "export" else "x.safetensors"
        for where, path in (("missing", f"no-such-folder/{name}"), ("proc", f"/proc/{name}")):
            options = {"--out": "out.safetensors"} if cmd == "train" else {}
            options[option] = path
            case(f"unwritable {cmd} {option} {where}", command(cmd, options))

    # the single cases
    resume = ["train", "d.csv", "--quiet", "--task", "classification", "--out", "r.safetensors"]
    case("resume lr", [*resume, "--epochs", 3, "--resume", "c.safetensors", "--checkpoint",
                       "c.safetensors", "--lr", 0.05])
    other = (base / "d.csv").read_text().replace("0,", "1,", 1)
    case("resume other data", [*resume[:1], "other.csv", *resume[2:], "--epochs", 3,
                               "--resume", "c.safetensors"], setup={"other.csv": other})
    case("resume other seed", [*resume, "--epochs", 3, "--resume", "c.safetensors",
                               "--seed", 5])
    case("resume other split", [*resume, "--epochs", 3, "--resume", "c.safetensors",
                                "--validation-split", 0.25])
    case("resume no more epochs", [*resume, "--epochs", 2, "--resume", "c.safetensors"])
    case("resume other optimizer", [*resume, "--epochs", 3, "--resume", "c.safetensors",
                                    "--optimizer", "sgd"])
    rows = (base / "d.csv").read_text().splitlines()
    unseen = [rows[0], *rows[1:16], *(r.rsplit(",", 1)[0] + ",c" for r in rows[16:20]),
              rows[20].rsplit(",", 1)[0] + ",zz"]
    case("evaluate unseen", ["evaluate", "m.safetensors", "unseen.csv"],
         setup={"unseen.csv": "\n".join(unseen) + "\n"})
    disjoint = [rows[0], *(r.rsplit(",", 1)[0] + ",p" for r in rows[1:])]
    case("evaluate disjoint", ["evaluate", "m.safetensors", "disjoint.csv"],
         setup={"disjoint.csv": "\n".join(disjoint) + "\n"})
    case("features twice", command("train", {"--features": "x1,x1"}))
    case("target twice", command("train", {"--target": "label,label"}))
    case("train samples file", command("train", {"--samples": "5"}))
    case("train samples bundled", ["train", "iris", "--epochs", 1, "--quiet", "--samples", 5])
    case("train skip-bad csv", [*command("train", {}), "--skip-bad"])
    case("evaluate samples file", command("evaluate", {"--samples": "5"}))
    case("evaluate seed file", command("evaluate", {"--seed": "5"}))
    case("predict samples values", ["predict", "m.safetensors", "--values", "1,2",
                                    "--samples", 5])
    case("predict seed file", command("predict", {"--seed": "3"}))
    case("duplicate header", ["train", "dup.csv", "--epochs", 1, "--quiet"],
         setup={"dup.csv": "a,a,label\n" + "\n".join(f"{i},{i % 3},{'xy'[i % 2]}"
                                                     for i in range(20)) + "\n"})
    big = "\n".join(f"{1000 * i},{5000 * (i * 37 % 11)},{1000 * i * i}" for i in range(1, 21))
    diverge = ["train", "big.csv", "--no-scale", "--task", "regression", "--optimizer", "sgd",
               "--lr", 0.5, "--epochs", 10, "--quiet", "--out", "big.safetensors"]
    case("diverge", diverge, setup={"big.csv": "x1,x2,y\n" + big + "\n"})
    case("diverge --keep-diverged", [*diverge, "--keep-diverged"],   # then a regression model:
         ["predict", "big.safetensors", "--values", "1,2", "--proba"],
         setup={"big.csv": "x1,x2,y\n" + big + "\n"})
    case("huge hidden", command("train", {"--hidden": "100000000,100000000",
                                          "--task": "classification"}))
    for suffix in (".csv", ".tsv", ".parquet", ".npz"):
        case(f"fifo {suffix}", ["train", f"pipe{suffix}", "--epochs", 1, "--quiet"])
        os.mkfifo(cases[f"fifo {suffix}"].folder / f"pipe{suffix}")
    case("fifo model", ["predict", "pipe.safetensors", "d.csv"])
    os.mkfifo(cases["fifo model"].folder / "pipe.safetensors")
    case("fifo resume", [*resume, "--epochs", 3, "--resume", "pipe.safetensors"])
    os.mkfifo(cases["fifo resume"].folder / "pipe.safetensors")
    case("output device", command("train", {"--out": "/dev/null"}))
    escaping = "x1,x2,label\n" + "\n".join(
        f"{i},{(i * 7) % 5},{ESC_LABEL if i % 2 else 'blue'}" for i in range(20)) + "\n"
    case("escape", ["train", "esc.csv", "--epochs", 1, "--out", "e.safetensors"],
         ["evaluate", "e.safetensors", "esc.csv"],
         ["predict", "e.safetensors", "esc.csv", "--proba"],
         ["predict", "e.safetensors", "--values", "1,4", "--proba"],
         ["predict", "e.safetensors", "esc.csv", "--proba", "--out", "p.csv"],
         setup={"esc.csv": escaping})
    return cases


@pytest.fixture(scope="module")
def runs(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Every case of this file, run side by side once."""
    cases = _cases(base, tmp_path_factory.mktemp("cases"))
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        for done in pool.map(Case.execute, cases.values()):
            assert done is None
    return cases


def _run(case: Case, step: int = 0) -> subprocess.CompletedProcess[bytes]:
    assert case.runs is not None
    return case.runs[step]


# --- 1. an output is never one of the inputs, nor another output ---------------------------

@pytest.mark.parametrize("via", ["path", "link"])
@pytest.mark.parametrize("cmd, option, what", SAME_FILE)
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(runs, cmd, option, what,
                                                                   via):
    case = runs[f"same {cmd} {option} {what} {via}"]
    line = one_error(_run(case))
    assert f"is the {what} file this command reads" in line and option in line
    assert case.after == case.before          # byte for byte, and nothing new written


@pytest.mark.parametrize("first, second", COLLISIONS)
def test_two_outputs_in_one_file_are_refused(runs, first, second):
    case = runs[f"collide {first} {second}"]
    line = one_error(_run(case))
    assert "both name both.png" in line and first in line and second in line
    assert case.after == case.before


def test_checkpoint_may_be_the_resumed_file_and_lr_is_applied(runs):
    case = runs["resume lr"]
    assert _run(case).returncode == 0, _run(case).stderr.decode()
    assert case.after["c.safetensors"] != case.before["c.safetensors"]   # kept checkpointing
    ckpt = numnet.io.load_checkpoint(case.folder / "c.safetensors")
    assert ckpt.epoch == 3
    assert ckpt.optimizer_state["learning_rate"] == 0.05           # --lr, not adam's 0.001
    assert ckpt.history["learning_rate"] == [0.001, 0.001, 0.05]
    record = PreprocessedModel.load(case.folder / "r.safetensors").metadata["training"]
    assert record["learning_rate"] == 0.05 and record["epochs"] == 3


# --- 2. an output that cannot be written is refused before any work ------------------------

@pytest.mark.parametrize("where", ["missing", "proc"])
@pytest.mark.parametrize("cmd, option", OUTPUTS)
def test_an_unwritable_output_is_refused_before_any_work(runs, cmd, option, where):
    case = runs[f"unwritable {cmd} {option} {where}"]
    line = one_error(_run(case))
    assert line.startswith(f"Error: {option} ")
    assert "does not exist" in line if where != "proc" else "cannot write in /proc" in line
    assert _run(case).stdout == b""            # nothing trained, evaluated or predicted
    assert b"task:" not in _run(case).stderr   # the data was not even read
    assert case.after == case.before


def test_an_output_that_is_a_device_is_refused(runs):
    line = one_error(_run(runs["output device"]))
    assert "--out /dev/null is a character device, not a regular file" in line


# --- 3. every row counts in every figure ---------------------------------------------------

def test_labels_the_model_never_saw_are_named_and_counted(runs):
    run = _run(runs["evaluate unseen"])
    assert run.returncode == 0, run.stderr.decode()
    out = run.stdout.decode()
    assert "note: 5 of the 20 rows have label(s) the model never saw: c (4 rows), zz (1 row)" \
        in out
    table = out.split("confusion matrix")[0].split("support")[1].strip().splitlines()
    supports = {line.rsplit(None, 4)[0].strip(): int(line.split()[-1]) for line in table}
    labels = [line.rsplit(",", 1)[1] for line in
              (runs["evaluate unseen"].folder / "unseen.csv").read_text().splitlines()[1:]]
    assert supports == {"a": labels.count("a"), "b": labels.count("b"), "c (unseen)": 4,
                        "zz (unseen)": 1, "macro average": 20}
    assert [line.split() for line in table if "c (unseen)" in line] == [
        ["c", "(unseen)", "-", "0", "0", "4"]]       # no precision: the model cannot say c
    matrix = out.split("confusion matrix")[1].splitlines()[2:]
    counts = [sum(map(int, line.split()[-2:])) for line in matrix if line.strip()]
    assert sum(counts) == 20 and len(counts) == 4          # a, b, c (unseen), zz (unseen)


def test_labels_disjoint_from_the_model_are_an_error(runs):
    line = one_error(_run(runs["evaluate disjoint"]))
    assert "none of the 20 rows has a label the model knows" in line
    assert "holds p" in line and "classes are a, b" in line


# --- 4. every option is applied or refused -------------------------------------------------

@pytest.mark.parametrize("key, message", [
    ("resume other data", "was trained on other data (d.csv, 20 rows"),
    ("resume other seed", "was trained with --seed 0, and this run is with --seed 5"),
    ("resume other split", "was trained with --validation-split 0.0"),
    ("resume no more epochs", "has already trained 2 epoch(s) and --epochs 2 is the total"),
    ("resume other optimizer", "was trained with the Adam optimizer, not --optimizer sgd"),
    ("fifo resume", "--resume pipe.safetensors is a named pipe (FIFO)"),
])
def test_a_resume_that_does_not_match_its_checkpoint_is_refused(runs, key, message):
    case = runs[key]
    assert message in one_error(_run(case))
    assert case.after == case.before              # the checkpoint untouched, no model


@pytest.mark.parametrize("key, message", [
    ("features twice", "--features names column 'x1' more than once"),
    ("target twice", "--target names column 'label' more than once"),
    ("train samples file", "--samples sets the size of a generated data set"),
    ("train samples bundled", "iris has its own rows"),
    ("train skip-bad csv", "--skip-bad applies to audio folders"),
    ("evaluate samples file", "--samples chooses the rows of a generated data set"),
    ("evaluate seed file", "--seed chooses the rows of a generated data set"),
    ("predict samples values", "--values is one sample"),
    ("predict seed file", "d.csv has its own rows"),
    ("duplicate header", "column names repeat in the header ('a' is columns 1, 2)"),
])
def test_an_option_that_would_be_ignored_is_refused(runs, key, message):
    case = runs[key]
    assert message in one_error(_run(case))
    assert case.after == case.before


# --- 5. divergence is a failure ------------------------------------------------------------

def test_a_diverged_run_fails_and_saves_no_model(runs):
    case = runs["diverge"]
    line = one_error(_run(case))
    assert line.startswith("Error: training diverged: the loss")
    assert "leave out --no-scale so that they are standardised" in line     # the CLI's advice
    assert "largest |x| 5e+04, |y| 4e+05" in line                          # fit's figures
    assert case.after == case.before


def test_keep_diverged_saves_the_model_when_asked(runs):
    run = _run(runs["diverge --keep-diverged"])
    assert run.returncode == 0, run.stderr.decode()
    assert b"stopped: diverged" in run.stderr
    assert (runs["diverge --keep-diverged"].folder / "big.safetensors").exists()
    proba = _run(runs["diverge --keep-diverged"], 1)       # --proba on a regression model
    assert "--proba gives class probabilities, and this model is a regression" in one_error(
        proba)


# --- 6. memory and file kinds: one line, never a traceback nor a hang ----------------------

def test_a_network_too_large_for_memory_is_one_line(runs):
    line = one_error(_run(runs["huge hidden"]))
    assert "would have 10,000,000,500,000,001 parameters" in line
    assert "memory; use fewer or narrower hidden layers" in line


def test_memory_error_is_one_line_with_the_size_asked_for():
    import click

    from numnet.cli._common import user_errors

    @user_errors
    def allocate() -> None:
        np.empty(2 ** 47)                       # 1 PiB: beyond any machine's memory
    with pytest.raises(click.ClickException, match=r"out of memory: an array of shape "
                       r"\(140737488355328,\) \(float64\) needs 1\.0 PiB; use narrower"):
        allocate()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".npz"])
def test_a_named_pipe_is_refused_without_reading_it(runs, suffix):
    line = one_error(_run(runs[f"fifo {suffix}"]))     # a read would block: timeout=120
    assert f"'pipe{suffix}' is a named pipe (FIFO), not a data file" in line


def test_a_named_pipe_as_model_is_refused(runs):
    assert "'pipe.safetensors' is a named pipe (FIFO), not a model file" in one_error(
        _run(runs["fifo model"]))


# --- 7. names from files never reach the terminal raw --------------------------------------

def test_escape_sequences_in_labels_never_reach_the_terminal(runs):
    case = runs["escape"]
    assert case.runs is not None
    trained, evaluate, shown, one, written = case.runs
    for done in case.runs:
        assert done.returncode == 0, done.stderr.decode()
        assert b"\x1b" not in done.stdout + done.stderr, done.stdout
        assert b"\x07" not in done.stdout + done.stderr
    assert b"\\x1b[31mred\\x1b]0;pwned\\x07" in evaluate.stdout      # shown, escaped
    assert b"p(\\x1b[31mred\\x1b]0;pwned\\x07)" in shown.stdout.splitlines()[0]
    assert b"p(\\x1b[31mred\\x1b]0;pwned\\x07)=" in one.stdout
    assert b"task: classification (target 'label' holds text labels" in trained.stderr
    import pandas as pd
    csv = pd.read_csv(case.folder / "p.csv")                  # the file holds the labels exactly
    assert f"p({ESC_LABEL})" in csv.columns
    assert set(csv["label"]) <= {ESC_LABEL, "blue"}

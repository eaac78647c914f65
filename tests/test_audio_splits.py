"""`numnet train`/`evaluate` on an audio folder laid out as a data split (train/, valid/,
test/), and `--group-by`: validation splits that keep each group of clips on one side."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import soundfile  # noqa: E402

from numnet import datasets, io  # noqa: E402
from numnet.cli._common import CliError  # noqa: E402
from numnet.cli.train import split_groups  # noqa: E402

CLASSES = ("sine", "noise")
SPEAKERS = ("ann", "bob", "cyd", "dee", "eve", "fay")
SPEAKER = r"^[^/]+/([a-z]+)_"              # the speaker prefix of class/speaker_k.wav
FAST = ("--hidden", "8", "--epochs", "20", "--lr", "0.01", "-q")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Features cached in the test session's folder, never the user's."""
    return {**os.environ, "PYTHONIOENCODING": "utf-8",
            "NUMNET_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "cache")}


def numnet(env, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def write_clips(root: Path, n: int, seed: int, layout: str = "prefix") -> list[Path]:
    """``n`` tone clips under ``root/<class>/``, named by speaker: ``<spk>_<k>.wav``
    (``prefix``) or ``<spk>/<k>.wav`` (``folder``)."""
    clips, y, rate = datasets.tones(n, classes=CLASSES, return_audio=True, random_state=seed)
    written = []
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        speaker = SPEAKERS[k % len(SPEAKERS)]
        name = f"{speaker}_{k}.wav" if layout == "prefix" else f"{speaker}/{k}.wav"
        path = root / CLASSES[label] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, clip, rate)
        written.append(path)
    return written


def snapshot(root: Path) -> dict[str, str]:
    return {os.fspath(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """train/, valid/ and test/, test/ with its labels swapped (sine clips under noise/ and
    noise clips under sine/): a model that never trained on test/ scores 0 on it."""
    root = tmp_path_factory.mktemp("split") / "sounds"
    for part, n, seed in (("train", 18, 0), ("valid", 6, 1), ("test", 8, 2)):
        write_clips(root / part, n, seed)
    for clip in sorted((root / "test").rglob("*.wav")):
        other = CLASSES[1 - CLASSES.index(clip.parent.name)]
        clip.rename(root / "test" / other / f"swapped_{clip.name}")
    return root


@pytest.fixture(scope="module")
def split_no_valid(tmp_path_factory):
    root = tmp_path_factory.mktemp("split2") / "sounds"
    for part, n, seed in (("train", 24, 3), ("test", 4, 4)):
        write_clips(root / part, n, seed)
    return root


def record(model: Path) -> dict:
    return io.load_metadata(model)["metadata"]["training"]


def table_rows(stdout: str) -> dict[str, list[float]]:
    """The summary table's rows by name: ``{"train": [accuracy, macro_f1], ...}``."""
    rows = {}
    for line in stdout.splitlines():
        found = re.fullmatch(r"  ([a-z ]+?) +([0-9.]+) +([0-9.]+)", line)
        if found:
            rows[found.group(1)] = [float(found.group(2)), float(found.group(3))]
    return rows


# --- train and evaluate on a split -------------------------------------------------------

def test_train_reads_a_split_and_scores_test_which_evaluate_reproduces(split, tmp_path, env):
    before = snapshot(split)
    model = tmp_path / "m.safetensors"
    result = numnet(env, "train", f"audio:{split}", *FAST, "--out", model)
    assert result.returncode == 0, result.stderr
    assert (f"audio:{split} is a data split: training on train/ (18 clips), validating on "
            f"valid/ (6 clips), testing on test/ (8 clips)") in result.stderr
    rows = table_rows(result.stdout)
    assert list(rows) == ["train", "validation", "test", "baseline on train",
                          "baseline on validation", "baseline on test"]
    saved = record(model)
    assert saved["parts"] == {"train": {"folder": "train", "rows": 18},
                              "validation": {"folder": "valid", "rows": 6},
                              "test": {"folder": "test", "rows": 8}}
    assert (saved["train_rows"], saved["validation_rows"], saved["test_rows"]) == (18, 6, 8)
    assert saved["test_scores"]["accuracy"] == pytest.approx(rows["test"][0], abs=5e-4)
    # test/ never trained: its swapped labels are all wrong while train/ and valid/ are
    # right (measured: 1.0, 1.0 and 0.0; a model that trained on test/ could not do both)
    assert rows["train"][0] == 1.0 and rows["validation"][0] == 1.0 and rows["test"][0] == 0.0
    assert snapshot(split) == before                          # the data is only read

    evaluated = numnet(env, "evaluate", model, f"audio:{split}")
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"audio:{split} is a data split: evaluating on test/ (8 clips)" in evaluated.stderr
    accuracy = float(re.search(r"accuracy ([0-9.]+) on 8 samples", evaluated.stdout).group(1))
    assert accuracy == pytest.approx(saved["test_scores"]["accuracy"], abs=5e-5)


def test_validation_split_and_group_by_within_train(split_no_valid, tmp_path, env):
    model = tmp_path / "m.safetensors"
    result = numnet(env, "train", f"audio:{split_no_valid}", *FAST, "--out", model,
                    "--validation-split", "0.3", "--group-by", SPEAKER)
    assert result.returncode == 0, result.stderr
    saved = record(model)
    n_val = saved["validation_rows"]
    assert (f"training on train/ ({24 - n_val} clips), validating on 30% of train/ "
            f"({n_val} clips), testing on test/ (4 clips)") in result.stderr
    assert saved["parts"]["validation"] == {"folder": "train", "fraction": 0.3, "rows": n_val}
    train_dir = split_no_valid / "train"
    files = {p.relative_to(train_dir).as_posix() for p in train_dir.rglob("*.wav")}
    held = set(saved["validation_files"])
    assert len(held) == n_val and held <= files
    group = {f: re.search(SPEAKER, f).group(1) for f in files}   # recomputed, not the record's
    val_groups = {group[f] for f in held}
    train_groups = {group[f] for f in files - held}
    assert not val_groups & train_groups and val_groups | train_groups == set(SPEAKERS)
    assert sorted(val_groups) == saved["groups"]["validation"]
    assert (f"--group-by {SPEAKER}: 6 groups, {len(train_groups)} ({24 - n_val} clips) to "
            f"training, {len(val_groups)} ({n_val} clips) to validation") in result.stderr
    assert abs(n_val - 0.3 * 24) <= 4                          # whole groups of 4 clips


def test_group_by_level_keeps_speaker_folders_whole(tmp_path, env):
    root = tmp_path / "clips"
    write_clips(root, 24, 5, layout="folder")                 # class/speaker/k.wav
    model = tmp_path / "m.safetensors"
    result = numnet(env, "train", f"audio:{root}", *FAST, "--out", model,
                    "--validation-split", "0.25", "--group-by", "level:2")
    assert result.returncode == 0, result.stderr
    assert "to validation" in result.stderr and "data split" not in result.stderr
    saved = record(model)
    held = {f.split("/")[1] for f in saved["validation_files"]}
    kept = {p.parent.name for p in root.rglob("*.wav")
            if p.relative_to(root).as_posix() not in saved["validation_files"]}
    assert held and kept and not held & kept
    assert saved["groups"] == {"train": sorted(kept), "validation": sorted(held)}


# --- one-line refusals -------------------------------------------------------------------

def refusals(split, split_no_valid, folder):
    return {
        "validation-split beside valid/": (
            ["train", f"audio:{split}", "--validation-split", "0.2"],
            "--validation-split is not needed: .* with its own validation part \\(valid/\\)"),
        "group-by beside valid/": (
            ["train", f"audio:{split}", "--group-by", SPEAKER],
            "--group-by is not needed: .* its own validation part"),
        "group-by not audio": (
            ["train", "iris", "--validation-split", "0.2", "--group-by", "x"],
            "--group-by applies to audio folders"),
        "group-by without a split": (
            ["train", f"audio:{split_no_valid}", "--group-by", SPEAKER],
            "give --validation-split too"),
        "group-by unmatched": (
            ["train", f"audio:{folder}", "--validation-split", "0.2", "--group-by", "^sine/"],
            "--group-by \\^sine/: clip noise/.*\\.wav does not match it \\(.* clips do not"),
        "group-by bad regex": (
            ["train", f"audio:{folder}", "--validation-split", "0.2", "--group-by", "(a"],
            "is not a regular expression"),
        "lr-find on a split": (
            ["lr-find", f"audio:{split}"],
            "is a data split \\(train/, valid/, test/\\): numnet train and numnet evaluate "
            "read it whole; here give one of its parts: audio:.*train"),
    }


@pytest.mark.parametrize("case", ["validation-split beside valid/", "group-by beside valid/",
                                  "group-by not audio", "group-by without a split",
                                  "group-by unmatched", "group-by bad regex",
                                  "lr-find on a split"])
def test_refusals_are_one_line_and_write_nothing(case, split, split_no_valid, tmp_path, env):
    folder = split_no_valid / "train"
    args, message = refusals(split, split_no_valid, folder)[case]
    out = tmp_path / "m.safetensors"
    result = numnet(env, *args, *(["--out", out] if args[0] == "train" else []))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert not out.exists()


# --- the grouped split itself, over many seeds and group sizes ---------------------------

@pytest.mark.parametrize("seed", range(40))
def test_split_groups_keeps_groups_whole_and_near_the_fraction(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, size=rng.integers(2, 15))
    groups = np.repeat([f"g{i}" for i in range(len(sizes))], sizes)
    rng.shuffle(groups)
    fraction = float(rng.uniform(0.1, 0.5))
    train, val = split_groups(groups, fraction, np.random.default_rng(seed))
    assert len(train) and len(val) and len(train) + len(val) == len(groups)
    assert not set(groups[train]) & set(groups[val])
    assert abs(len(val) - fraction * len(groups)) <= sizes.max()
    again = split_groups(groups, fraction, np.random.default_rng(seed))
    assert np.array_equal(again[1], val)


def test_split_groups_refuses_a_single_group():
    with pytest.raises(CliError, match="all 5 clips in one group"):
        split_groups(np.array(["a"] * 5), 0.2, np.random.default_rng(0))


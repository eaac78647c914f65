"""Augmentation as a sweep factor: `numnet sweep --data audio:FOLDER --augment ...` and
`sweep(data="audio:FOLDER", ...)` read the folder once, add seeded copies of each run's
training clips only, repeat bit for bit on every executor, and report the factor."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sweep_processes import env

pytest.importorskip("soundfile")
pytest.importorskip("librosa")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

import soundfile  # noqa: E402

from numnet import datasets  # noqa: E402
from numnet.experiments import DataSource, ResultStore, make_data_source, sweep  # noqa: E402

CLASSES = ("sine", "noise")
N_CLIPS = 16
# A folder of class folders keeps a fixed fifth as the test set: round(16 * 0.2) = 3 clips;
# the other 13 train, of which validation_split 0.25 holds out round(13 * 0.25) = 3.
TEST, TRAIN, VALIDATION = 3, 10, 3
COPIES = 2
FIT = {"epochs": 10, "batch_size": 4, "validation_split": 0.25}
SEEDS = 2
# What differs between equal runs only by where and when they ran.
PLACE = {"wall_time", "worker", "finished_at"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """16 clips of 0.25 s in sine/ and noise/."""
    clips, y, rate = datasets.tones(N_CLIPS, classes=CLASSES, return_audio=True,
                                    random_state=0)
    root = tmp_path_factory.mktemp("clips") / "sounds"
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        (root / CLASSES[label]).mkdir(parents=True, exist_ok=True)
        soundfile.write(root / CLASSES[label] / f"{k}.wav", clip, rate)
    return root


def numnet(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)],
                          capture_output=True, text=True, env=env(), timeout=300)


def _comparable(runs):
    return {r["key"]: {k: v for k, v in r.items() if k not in PLACE} for r in runs}


@pytest.fixture(scope="module")
def on_processes(folder, tmp_path_factory):
    """The sweep as users run it: two levels, two seeds, on two worker processes."""
    tmp = tmp_path_factory.mktemp("sweep")
    grid = tmp / "sweep.toml"
    grid.write_text("[fit]\n" + "".join(f"{k} = {v}\n" for k, v in FIT.items())
                    + "[[grids]]\nhidden_layers = [[8]]\n")
    out = tmp / "out"
    result = numnet("sweep", "--grid", grid, "--data", f"audio:{folder}", "--augment", "none",
                    "--augment", "noise=20", "--augment-copies", COPIES, "--repeats", SEEDS,
                    "--backend", "processes", "--workers", 2, "--out", out, "--no-progress")
    assert result.returncode == 0, result.stderr
    with ResultStore(out / "results.sqlite") as store:
        runs = store.results()
    return result, out, runs


def test_every_run_completes_and_the_store_records_the_factor(on_processes):
    result, _, runs = on_processes
    assert "4 runs (4 run now, 0 already stored), 0 failed" in result.stdout
    assert len(runs) == 2 * SEEDS and all(r["status"] == "ok" for r in runs)
    assert sorted((r["settings"]["augment"], r["seed"]) for r in runs) == [
        ("noise=20", 0), ("noise=20", 1), ("none", 0), ("none", 1)]
    assert {r["settings"]["augment_copies"] for r in runs} == {COPIES}


def test_augmented_rows_are_copies_of_training_clips_only(on_processes):
    _, _, runs = on_processes
    by = {(r["settings"]["augment"], r["seed"]): r for r in runs}
    for seed in range(SEEDS):
        plain, augmented = by["none", seed], by["noise=20", seed]
        assert (plain["train_rows"], plain["augmented_rows"]) == (TRAIN, 0)
        # the run's own training clips, each copied twice; held-out sets as they were
        assert augmented["augmented_rows"] == COPIES * TRAIN
        assert augmented["train_rows"] == TRAIN + COPIES * TRAIN
        for r in (plain, augmented):
            assert (r["validation_rows"], r["test_rows"]) == (VALIDATION, TEST)
        # the same clean clips trained and were held out: the same constant predictions
        for name in ("train", "validation", "test"):
            assert augmented[f"{name}_baseline"] == plain[f"{name}_baseline"]
        assert augmented["loss_curve"] != plain["loss_curve"]


def test_runs_repeat_bit_for_bit_on_every_executor(on_processes, folder):
    _, _, runs = on_processes
    expected = _comparable(runs)
    source = make_data_source(f"audio:{folder}")       # read once, for both sweeps below
    assert isinstance(source, DataSource) and source.clips is not None
    kw = {"seeds": list(range(SEEDS)), "fit_kwargs": FIT, "progress": False}
    grid = {"hidden_layers": [[8]], "augment": ["none", "noise=20"], "augment_copies": [COPIES]}
    assert _comparable(sweep(grid, source, **kw).runs) == expected       # here: serial
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        assert _comparable(sweep(grid, source, scheduler=client, **kw).runs) == expected


def test_the_report_gives_each_level_beside_its_baseline(on_processes):
    _, out, runs = on_processes
    text = (out / "report.md").read_text()
    assert "## Augmentation" in text and (out / "error_vs_augment.png").exists()
    assert "| augmentation | parameters | test error | baseline |" in text
    for level in ("none", "noise=20"):
        assert f"\n| {level} | " in text
    assert "validation and test clips are never augmented" in text
    csv = (out / "results.csv").read_text().splitlines()
    assert {"augment", "augmented_rows", "train_rows"} <= set(csv[0].split(","))
    assert json.loads((out / "sweep.json").read_text())["grids"][0]["factors"]["augment"] == [
        "none", "noise=20"]


@pytest.mark.parametrize("args, message", [
    (("AUDIO", "--augment", "none", "--augment", "nois=20"), "'nois=20' is not NAME=NUMBER"),
    (("AUDIO", "--augment", "stretch=1.5"), "stretch must be below 1"),
    (("AUDIO", "--augment", "none", "--augment-copies", "2"), "give augment values too"),
    (("one_minus_x", "--augment", "noise=20"), "apply to audio folders only"),
])
def test_a_bad_augmentation_is_one_line_before_anything_runs(args, message, folder, tmp_path):
    args = tuple(f"audio:{folder}" if a == "AUDIO" else a for a in args)
    out = tmp_path / "out"
    result = numnet("sweep", "--data", *args, "--hidden", 3, "--out", out, "--no-progress")
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_the_python_api_refuses_the_same_before_reading_the_folder(tmp_path):
    missing = f"audio:{tmp_path / 'no-such-folder'}"
    with pytest.raises(ValueError, match="'nois=20' is not NAME=NUMBER"):
        sweep({"augment": ["none", "nois=20"]}, data=missing, progress=False)
    with pytest.raises(ValueError, match="apply to audio folders only"):
        sweep({"augment": ["noise=20"]}, data="one_minus_x", progress=False)
    with pytest.raises(ValueError, match="grid factor, not a fit argument"):
        sweep({"hidden_layers": [[3]]}, data=missing, fit_kwargs={"augment": "noise=20"},
              progress=False)

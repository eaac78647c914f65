"""Spoken digits in accents never heard in training: numnet against librosa MFCC + SVC.

espeak-ng says the ten digits "zero" to "nine" in eight English accents
(en-us, en-gb, en-gb-x-rp, en-gb-x-gbclan, en-gb-x-gbcwmd, en-us-nyc,
en-gb-scotland, en-029), each in several voice variants (+m1 to +m7, +f1 to +f4)
at a random speed (-s) and pitch (-p) per word. The WAV files are laid out as
numnet's audio data split::

    OUT/words/train/<word>/<accent>_<variant>.wav     six accents
    OUT/words/test/<word>/<accent>_<variant>.wav      en-gb-scotland and en-029 only

so the test part holds two accents, all their voices, that training never
hears. numnet trains on it from the command line, as a user would::

    numnet train audio:OUT/words --hidden 64 --activation relu ... --out OUT/model.safetensors
    numnet evaluate OUT/model.safetensors audio:OUT/words        (scores test/)

Then the saved model is loaded in Python (``numnet.audio.load_model``: the
network, its standardisation and its feature settings) and scored on the
held-out clips as they are and changed in ways that keep the word: white noise
at -90 dBFS, 40 dB quieter, and 1 s of digital silence on each side
(``OUT/variants/<name>/<word>/...``, float WAV). The baseline is the usual one:
librosa's 13 MFCCs (means and standard deviations over frames) and a
scikit-learn SVC (RBF, standardised), on the same files. It prints one table of
held-out accuracies.

Run ``python examples/spoken_words.py`` (880 clips, about a minute), or with
``--quick`` (320 clips); ``--out FOLDER`` keeps the files (it must be new or
empty), ``--seed`` draws other speeds, pitches and weights. Needs espeak-ng
(``apt-get install espeak-ng``; without it the example says so and exits 0), and
the ``audio``, ``cli`` and ``sklearn`` extras: ``pip install 'numnet[audio,cli,sklearn]'``.
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from numnet import audio

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc",
           "en-gb-scotland", "en-029")
HELD_OUT = ("en-gb-scotland", "en-029")          # never heard in training
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4")
QUICK_VARIANTS = ("m1", "m3", "f1", "f2")
VARIATIONS = ("clean", "noise -90 dBFS", "40 dB quieter", "2 s silence")
TRAIN_OPTIONS = ["--hidden", "64", "--activation", "relu", "--lr", "0.003", "--epochs", "80",
                 "--batch-size", "32"]


def say(word: str, voice: str, speed: int, pitch: int, wav: Path) -> None:
    """``espeak-ng -v VOICE -s SPEED -p PITCH -w WAV WORD``: 22050 Hz, 16-bit mono."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                    "-w", str(wav), word], check=True, capture_output=True)


def write_split(root: Path, variants: tuple[str, ...], rng: np.random.Generator) -> None:
    """Every accent says every word in each variant: ``root/{train,test}/<word>/*.wav``
    (a few espeak-ng processes at a time)."""
    jobs = []
    for accent in ACCENTS:
        part = "test" if accent in HELD_OUT else "train"
        for variant in variants:
            for word in WORDS:
                folder = root / part / word
                folder.mkdir(parents=True, exist_ok=True)
                speed, pitch = int(rng.integers(120, 201)), int(rng.integers(20, 81))
                jobs.append((word, f"{accent}+{variant}", speed, pitch,
                             folder / f"{accent}_{variant}.wav"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda job: say(*job), jobs))


def vary(y: np.ndarray, rate: int, name: str, rng: np.random.Generator) -> np.ndarray:
    """A clip changed without changing its word: ``(n_samples,)`` float64."""
    if name == "noise -90 dBFS":
        return y + 10 ** (-90 / 20) * rng.standard_normal(len(y))
    if name == "40 dB quieter":
        return y * 0.01
    if name == "2 s silence":
        return np.concatenate([np.zeros(rate), y, np.zeros(rate)])
    return y


def write_variations(test: Path, out: Path, seed: int) -> dict[str, Path]:
    """Each variation of the held-out clips as class folders of float WAV files (so that
    -90 dBFS noise and a 40 dB cut are not lost to 16-bit rounding): ``{name: folder}``."""
    folders = {"clean": test}
    for k, name in enumerate(VARIATIONS[1:]):
        folder = out / name.replace(" ", "_")
        for i, wav in enumerate(sorted(test.glob("*/*.wav"))):
            y, rate = sf.read(wav, dtype="float64")
            changed = vary(y, rate, name, np.random.default_rng([seed, k, i]))
            (folder / wav.parent.name).mkdir(parents=True, exist_ok=True)
            sf.write(folder / wav.parent.name / wav.name, changed, rate, subtype="FLOAT")
        folders[name] = folder
    return folders


def numnet_cli(*args: str) -> None:
    """Run ``numnet ARGS...`` (this Python's numnet), showing what it prints."""
    print("$ numnet " + " ".join(args), flush=True)
    done = subprocess.run([sys.executable, "-m", "numnet", *args], capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"numnet {args[0]} failed:\n{done.stdout}{done.stderr}")
    print(done.stdout)


def numnet_accuracy(model_file: Path, folders: dict[str, Path]) -> dict[str, float]:
    """The saved model's accuracy on each folder of ``<word>/*.wav``: loaded with its
    feature settings, it takes the files' raw features."""
    model, settings = audio.load_model(model_file)
    scores = {}
    for name, folder in folders.items():
        X, y, _ = audio.load_folder(folder, settings)
        scores[name] = float(np.mean(model.predict(X) == y))
    return scores


def mfcc_features(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The baseline's features of every ``folder/<word>/*.wav``: 13 MFCCs' means and standard
    deviations (librosa's defaults), ``X (n_files, 26)`` and the words ``(n_files,)``."""
    rows, words = [], []
    for wav in sorted(folder.glob("*/*.wav")):
        y, rate = sf.read(wav, dtype="float32")
        m = librosa.feature.mfcc(y=y, sr=rate, n_mfcc=13)
        rows.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
        words.append(wav.parent.name)
    return np.array(rows), np.array(words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the files here (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help=f"{len(QUICK_VARIANTS)} variants per accent, not {len(VARIANTS)}")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng): nothing to do")
        return 0
    if args.out is not None and args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty; give a new or empty folder")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        words = out / "words"
        variants = QUICK_VARIANTS if args.quick else VARIANTS
        write_split(words, variants, np.random.default_rng(args.seed))
        n_train = len(list((words / "train").glob("*/*.wav")))
        n_test = len(list((words / "test").glob("*/*.wav")))
        print(f"{n_train} training clips ({len(ACCENTS) - len(HELD_OUT)} accents x "
              f"{len(variants)} variants x {len(WORDS)} words), {n_test} held-out clips "
              f"({', '.join(HELD_OUT)}) in {words}")
        tests = write_variations(words / "test", out / "variants", args.seed)

        model = out / "model.safetensors"
        numnet_cli("train", f"audio:{words}", *TRAIN_OPTIONS, "--seed", str(args.seed),
                   "--out", str(model), "--quiet")
        numnet_cli("evaluate", str(model), f"audio:{words}")
        ours = numnet_accuracy(model, tests)

        Xtr, ytr = mfcc_features(words / "train")
        svc = make_pipeline(StandardScaler(), SVC(C=10.0)).fit(Xtr, ytr)
        baseline = {}
        for name, folder in tests.items():
            X, y = mfcc_features(folder)
            baseline[name] = float(np.mean(svc.predict(X) == y))

    print(f"\nheld-out accuracy ({n_test} clips of {', '.join(HELD_OUT)}, never heard in "
          f"training)")
    print(f"{'':20s}" + "".join(f"{name:>16s}" for name in VARIATIONS))
    for label, scores in (("numnet", ours), ("librosa MFCC + SVC", baseline)):
        print(f"{label:20s}" + "".join(f"{scores[name]:16.3f}" for name in VARIATIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

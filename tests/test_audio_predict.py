"""``numnet predict MODEL a.wav b.wav ...``: one line per file that names it, a bad file's
reason on its own line while the others are predicted, exit status 1 if any failed."""

import csv
import io
import os
import subprocess
import sys

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import numnet  # noqa: E402
from numnet import MLP, audio  # noqa: E402
from numnet.terminal import printable  # noqa: E402

RATE = 16000
SETTINGS = audio.FeatureSettings(n_mfcc=8, n_mels=20, deltas=1, mel_stats=False)


def chord(root, duration=0.3):
    t = np.arange(round(duration * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * root * t) + 0.1 * np.sin(2 * np.pi * 3 * root * t)


def hiss(seed, duration=0.3):
    return 0.2 * np.random.default_rng(seed).standard_normal(round(duration * RATE))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tone-vs-hiss model saved with its settings and standardisation; its clips."""
    tmp = tmp_path_factory.mktemp("predict")
    files, labels = [], []
    for i in range(4):
        for label, clip in (("tone", chord(220.0 * (i + 1))), ("hiss", hiss(i))):
            files.append(tmp / f"{label}{i}.wav")
            labels.append(label)
            sf.write(files[-1], clip, RATE)
    X = audio.features_for_files(files, SETTINGS, cache=False)
    mean, std = X.mean(axis=0), X.std(axis=0)
    net = MLP(X.shape[1], [8], 2, activation="relu", output_activation="softmax",
              random_state=0)
    numnet.fit(net, (X - mean) / std, labels, optimizer="adam", learning_rate=0.01, epochs=40,
               verbose=False, random_state=0)
    path = audio.save_model(net, tmp / "m.safetensors", SETTINGS, standardize=(mean, std))
    loaded, _ = audio.load_model(path)
    return tmp, path, loaded


def run(tmp, *args):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict",
           "NUMNET_CACHE_DIR": str(tmp / "cache")}
    proc = subprocess.run([sys.executable, "-m", "numnet", "predict", *map(str, args)],
                          capture_output=True, timeout=180, env=env)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def odd_and_bad_files(tmp):
    """Good clips (one under a name with an escape sequence and a comma), and bad
    inputs of every kind: ``[(path, expected reason or None)]``, in command-line order."""
    odd = tmp / "odd\x1b[31m, name.wav"
    sf.write(odd, chord(330.0), RATE)
    text = tmp / "text.wav"
    text.write_text("not audio\n" * 20)
    folder = tmp / "folder.wav"
    folder.mkdir(exist_ok=True)
    quiet = tmp / "silent.flac"
    sf.write(quiet, np.zeros(RATE), RATE, format="FLAC")
    return [(tmp / "tone0.wav", None), (text, "is not an audio file soundfile can read"),
            (odd, None), (tmp / "missing.wav", "no such audio file"),
            (tmp / "hiss1.wav", None), (quiet, "is silent"),
            (tmp, "not an audio file numnet reads"), (folder, "not an audio file"),
            (tmp / "notes.txt", "not an audio file numnet reads")]


@pytest.mark.parametrize("proba, to_file", [(False, False), (True, True)])
def test_one_line_per_file_even_when_some_are_bad(model, tmp_path, proba, to_file):
    # Both outputs (terminal, --out) and both forms (labels, --proba); one run each.
    tmp, path, loaded = model
    inputs = odd_and_bad_files(tmp)
    out = tmp_path / "predictions.csv"
    args = [path, *(p for p, _ in inputs)] + (["--proba"] if proba else []) + (
        ["--out", out] if to_file else [])
    assert not out.exists()
    code, stdout, stderr = run(tmp, *args)
    assert code == 1 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("Error: 6 of 9 audio file(s) gave no "
                                                      "prediction")
    if to_file:
        assert stdout == "" and out.is_file()
        text = out.read_bytes().decode("utf-8")
    else:
        assert not out.exists()
        text = stdout
    rows = list(csv.reader(io.StringIO(text)))
    header, rows = rows[0], rows[1:]
    assert header[:2] == ["file", "label"] and header[-1] == "error"
    if proba:
        assert header[2:-1] == ["probability", "p(hiss)", "p(tone)"]
    assert len(rows) == len(inputs)
    good = [p for p, why in inputs if why is None]
    P = loaded.predict_proba(audio.features_for_files(good, SETTINGS, cache=False))
    k = 0
    for row, (p, why) in zip(rows, inputs, strict=True):
        # Names: as they are in --out (data), escaped on the terminal.
        assert row[0] == (str(p) if to_file else printable(str(p)))
        if why is not None:
            assert row[1] == "" and why in row[-1], row
            continue
        assert row[1] == ["hiss", "tone"][int(np.argmax(P[k]))] and row[-1] == ""
        assert row[1] == ("tone" if "tone" in p.name or "odd" in p.name else "hiss")
        if proba:
            np.testing.assert_allclose([float(v) for v in row[3:5]], P[k], rtol=1e-12)
            assert float(row[2]) == max(float(row[3]), float(row[4]))
        k += 1


def test_all_good_exits_0_and_keeps_the_order_given(model):
    tmp, path, loaded = model
    files = [tmp / "hiss2.wav", tmp / "tone3.wav", tmp / "hiss2.wav"]
    if "MP3" in sf.available_formats():                      # MP3 is read too (libsndfile 1.1+)
        files.append(tmp / "tone.mp3")
        sf.write(files[-1], chord(330.0), RATE, format="MP3")
    code, out, err = run(tmp, path, *files)
    assert code == 0, err
    assert out.splitlines() == ["file,label,error", f"{files[0]},hiss,", f"{files[1]},tone,",
                                f"{files[2]},hiss,"] + [
        f"{f},{loaded.predict(audio.features_for_files([f], SETTINGS, cache=False))[0]},"
        for f in files[3:]]
    assert (tmp / "cache").is_dir()                  # the features were cached, there

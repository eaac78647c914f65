"""`numnet evaluate`/`predict` on audio:FOLDER read the features the model was trained on."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import soundfile  # noqa: E402

from numnet import MLP, audio, datasets  # noqa: E402

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def numnet(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    clips, y, rate = datasets.tones(16, classes=("sine", "noise"), return_audio=True,
                                    random_state=0)
    root = tmp_path_factory.mktemp("clips")
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        (root / ("sine", "noise")[label]).mkdir(exist_ok=True)
        soundfile.write(root / ("sine", "noise")[label] / f"{k}.wav", clip, rate)
    return root


def test_a_model_with_its_own_feature_settings_is_evaluated_on_them(folder, tmp_path):
    settings = audio.FeatureSettings(segments=1, deltas=0, mel_stats=False)
    assert settings.n_features != audio.FeatureSettings().n_features
    X, y, _ = audio.load_folder(folder, settings)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    net = MLP(X.shape[1], [8], 2, output_activation="softmax", random_state=0)
    net.fit((X - mean) / std, y, epochs=60, learning_rate=0.5, verbose=False, random_state=0)
    model = audio.save_model(net, tmp_path / "own.safetensors", settings,
                             standardize=(mean, std))
    result = numnet("evaluate", model, f"audio:{folder}")
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"accuracy ([0-9.]+) on 16 samples", result.stdout).group(1))
    assert accuracy >= 0.9                      # measured 1.0: sine against noise
    result = numnet("predict", model, f"audio:{folder}")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 17          # a header and 16 rows


def test_a_model_not_trained_on_audio_says_so_in_one_line(folder, tmp_path):
    model = tmp_path / "plain.safetensors"
    assert numnet("train", "sum_of_two", "--epochs", 1, "--out", model).returncode == 0
    for command in ("evaluate", "predict"):
        result = numnet(command, model, f"audio:{folder}")
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1
        assert "this model was not trained on audio" in result.stderr

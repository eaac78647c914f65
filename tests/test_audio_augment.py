"""numnet.audio.Augment and `numnet train --augment`: seeded copies of training clips only,
each an extra training row, never cached under the clean clip's key."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import soundfile  # noqa: E402

from numnet import audio, datasets, io  # noqa: E402

CLASSES = ("sine", "noise")
EFFECTS = {"noise_snr_db": 20.0, "gain_db": 6.0, "shift_s": 0.05, "pitch_semitones": 2.0,
           "stretch": 0.1}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """16 clips in sine/ and noise/."""
    clips, y, rate = datasets.tones(16, classes=CLASSES, return_audio=True, random_state=0)
    root = tmp_path_factory.mktemp("clips") / "sounds"
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        (root / CLASSES[label]).mkdir(parents=True, exist_ok=True)
        soundfile.write(root / CLASSES[label] / f"{k}.wav", clip, rate)
    return root


@pytest.fixture(scope="module")
def files(folder):
    return sorted(folder.rglob("*.wav"))[:3]


def test_copies_are_rows_seeded_and_repeatable(files):
    augment = audio.Augment(**EFFECTS, copies=2, random_state=7)
    X, source = augment.features_for_files(files)
    assert X.shape == (len(files) * 2, audio.FeatureSettings().n_features)
    assert source.tolist() == [0, 0, 1, 1, 2, 2]
    again, _ = audio.Augment(**EFFECTS, copies=2, random_state=7).features_for_files(files)
    assert np.array_equal(X, again)                           # same seed: the same rows
    other, _ = audio.Augment(**EFFECTS, copies=2, random_state=8).features_for_files(files)
    assert not np.allclose(X, other)
    clean = audio.features_for_files(files, cache=False)
    assert not np.allclose(X[::2], clean)                     # copies are not the clips
    assert len({row.tobytes() for row in X}) == len(X)        # nor each other


@pytest.mark.parametrize("effect", sorted(EFFECTS))
def test_each_effect_alone_changes_the_clip(effect):
    clips, _, rate = datasets.tones(1, classes=("sine",), return_audio=True, random_state=1)
    clip = clips[0].astype(np.float32)
    augment = audio.Augment(**{effect: EFFECTS[effect]})
    out = augment.apply(clip, rate, augment.rng(0, 0))
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert out.shape != clip.shape or not np.allclose(out, clip)
    if effect != "stretch":                                   # tempo changes the length
        assert out.shape == clip.shape


@pytest.mark.parametrize("kwargs", [{}, {"gain_db": -1}, {"noise_snr_db": float("nan")},
                                    {"stretch": 1.0}, {"gain_db": 3, "copies": 0},
                                    {"gain_db": 3, "random_state": -1}, {"gain_db": True}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="Augment"):
        audio.Augment(**kwargs)


def numnet(env, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_train_adds_copies_of_training_clips_only_and_caches_none(folder, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NUMNET_CACHE_DIR": str(cache)}
    common = ("--hidden", "4", "--epochs", "2", "-q", "--validation-split", "0.25")
    models = {}
    for name, extra in (("plain", ()), ("augmented", ("--augment", "noise=20,gain=6,shift=0.05",
                                                      "--augment-copies", "2"))):
        models[name] = tmp_path / f"{name}.safetensors"
        result = numnet(env, "train", f"audio:{folder}", *common, *extra,
                        "--out", models[name])
        assert result.returncode == 0, result.stderr
    assert ("--augment noise=20,gain=6,shift=0.05: 24 augmented training rows (2 per "
            "training clip); validation and test rows are not augmented") in result.stderr
    plain, augmented = (io.load_metadata(models[k])["metadata"]["training"]
                        for k in ("plain", "augmented"))
    assert (plain["train_rows"], plain["validation_rows"], plain["augmented_rows"]) == (12, 4, 0)
    assert (augmented["train_rows"], augmented["validation_rows"]) == (12, 4)
    assert augmented["augmented_rows"] == 2 * 12              # copies x training clips
    assert augmented["validation_files"] == plain["validation_files"]
    assert augmented["augment"] == {**dict.fromkeys(EFFECTS), "noise_snr_db": 20.0,
                                    "gain_db": 6.0, "shift_s": 0.05, "copies": 2,
                                    "random_state": 0}
    # the cache holds the 16 clean clips' features and nothing else, and they are clean
    assert len(list((cache / "audio-features").rglob("*.npy"))) == 16
    cached = audio.load_folder(folder, cache=cache / "audio-features", progress=False)
    fresh = audio.load_folder(folder, cache=False, progress=False)
    assert np.array_equal(cached.X, fresh.X)


@pytest.mark.parametrize("args, message", [
    (("iris", "--augment", "noise=20"), "--augment applies to audio folders"),
    (("AUDIO", "--augment-copies", "2"), "give --augment too"),
    (("AUDIO", "--augment", "nois=20"), "'nois=20' is not NAME=NUMBER"),
    (("AUDIO", "--augment", "stretch=1.5"), "stretch must be below 1"),
])
def test_bad_options_are_one_line(args, message, folder, tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NUMNET_CACHE_DIR": "off"}
    args = tuple(f"audio:{folder}" if a == "AUDIO" else a for a in args)
    out = tmp_path / "m.safetensors"
    result = numnet(env, "train", *args, "--out", out)
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr

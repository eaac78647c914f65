"""numnet.audio's features hold up: silence, level and a noise floor do not move them; the
settings and the standardisation travel with a saved model; version 1 settings still work."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import numnet  # noqa: E402
from numnet import MLP, audio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = runpy.run_path(str(ROOT / "benchmarks" / "audio_features.py"), run_name="bench")
RATE = BENCH["RATE"]
PERTURBATIONS = {name: f for name, f in BENCH["PERTURBATIONS"].items() if name != "clean"}
LEGACY = audio.FeatureSettings.from_dict({"version": 1})


@pytest.fixture(scope="module")
def words():
    """Two synthetic speakers saying each of the ten words once: ``(clips, labels)``."""
    clips, labels, _ = BENCH["corpus"](n_speakers=2, repeats=1, seed=3)
    return clips, labels


def distances(clips, labels, settings):
    """Per perturbation: each clip's standardised distance to its perturbed self, over the
    median distance between clips of different words."""
    X = np.array([audio.features(y, RATE, settings) for y in clips])
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    Z = (X - mean) / std
    different = labels[:, None] != labels[None, :]
    between = np.median(np.linalg.norm(Z[:, None] - Z[None], axis=2)[different])
    out = {}
    for name, perturb in PERTURBATIONS.items():
        ratios = []
        for i, y in enumerate(clips):
            try:
                p = (audio.features(perturb(y, i), RATE, settings) - mean) / std
            except audio.AudioError:                    # refused as silent
                ratios.append(np.inf)
            else:
                ratios.append(np.linalg.norm(p - Z[i]) / between)
        out[name] = np.array(ratios)
    return out


def test_silence_level_and_a_noise_floor_barely_move_the_features(words):
    clips, labels = words
    # Measured on these 20 clips, as a share of the median distance between different words:
    # noise: median 0.04, worst clip 0.30; 40 dB quieter and 2 s of silence: 0 (the clip is
    # cut to the sample and scaled, so its frames are the same). Bounds with margin:
    bounds = {"noise -90 dBFS": (0.1, 0.5), "40 dB quieter": (0.01, 0.01),
              "2 s silence": (0.01, 0.01)}
    for name, ratios in distances(clips, labels, audio.FeatureSettings()).items():
        median, worst = bounds[name]
        assert np.median(ratios) < median and ratios.max() < worst, (
            f"{name}: median {np.median(ratios):.3f}, worst {ratios.max():.3f}")


def test_the_version_1_features_did_not(words):
    # The same measure on the features numnet computed before (no trimming, no level
    # normalisation): measured medians 2.4 (noise), 1.3 (silence), 1.3 (quieter).
    clips, labels = words
    ratios = distances(clips[::2], labels[::2], LEGACY)
    assert np.median(ratios["noise -90 dBFS"]) > 1.0
    assert np.median(ratios["2 s silence"]) > 0.5


def test_a_quiet_padded_clip_is_not_silent_but_digital_silence_is():
    y = BENCH["utter"]("sai", BENCH["speaker"](np.random.default_rng(1)), np.random.default_rng(2))
    quiet = np.concatenate([np.zeros(2 * RATE), 1e-3 * y, np.zeros(2 * RATE)])   # peak ~-80 dB
    assert np.isfinite(audio.features(quiet, RATE)).all()
    with pytest.raises(audio.AudioError, match="all samples are zero"):
        audio.features(np.zeros(RATE), RATE)
    with pytest.raises(audio.AudioError, match="in its loudest frame"):
        audio.features(1e-6 * y, RATE)


# --- settings ------------------------------------------------------------------------------

def test_settings_have_their_names_and_version_1_still_means_what_it_meant():
    s = audio.FeatureSettings()
    names = audio.feature_names(s)
    assert len(names) == s.n_features == len(set(names))
    assert names[:2] == ["mfcc0_mean", "mfcc1_mean"] and "delta2_mfcc12_std" in names
    assert "mel39_std" in names and s.to_dict()["version"] == 2
    assert LEGACY.n_features == 36 and LEGACY.trim_db is None and not LEGACY.normalize
    assert audio.feature_names(LEGACY)[-1] == "rms_std"
    assert audio.FeatureSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    parts = audio.FeatureSettings(segments=3, deltas=1, mel_stats=False)
    assert len(audio.feature_names(parts)) == parts.n_features == 2 * (26 + 5) + 39
    with pytest.raises(ValueError, match="unknown feature setting.*trim_db"):
        audio.FeatureSettings.from_dict({"version": 1, "trim_db": 30.0})   # not a version 1 key


@pytest.mark.parametrize("bad, error, match", [
    ({"deltas": 3}, ValueError, "deltas must be 0, 1 or 2"),
    ({"trim_db": -10.0}, ValueError, "trim_db must be > 0"),
    ({"top_db": 0.0}, ValueError, "top_db must be > 0"),
    ({"normalize": "yes"}, TypeError, "normalize must be True or False"),
    ({"segments": 0}, ValueError, "segments must be a positive integer"),
])
def test_new_settings_are_checked(bad, error, match):
    with pytest.raises(error, match=match):
        audio.FeatureSettings(**bad)


def test_segments_keep_the_order_of_the_sounds(words):
    # "sai" and "sia" differ only in the order of their vowels: their part means differ more
    # than their whole-clip means.
    clips, labels = words
    s = audio.FeatureSettings(segments=3)
    names = audio.feature_names(s)
    sai, sia = (audio.features(clips[list(labels).index(w)], RATE, s) for w in ("sai", "sia"))
    whole = [i for i, n in enumerate(names) if n.startswith("mfcc") and n.endswith("_mean")]
    part = [i for i, n in enumerate(names) if "_part" in n]
    assert np.abs(sai[part] - sia[part]).mean() > 2 * np.abs(sai[whole] - sia[whole]).mean()


# --- models carry the settings and the standardisation --------------------------------------

def write_clips(folder, clips, labels):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (y, label) in enumerate(zip(clips, labels, strict=True)):
        paths.append(folder / f"{i}-{label}.wav")
        sf.write(paths[-1], y, RATE, subtype="FLOAT")
    return paths


PREDICT = """
import sys, json
from numnet import audio
model, settings = audio.load_model(sys.argv[1])
X = audio.features_for_files(sys.argv[2:], settings)
print(json.dumps([str(v) for v in model.predict(X)]))
"""


@pytest.mark.parametrize("how", ["standardize", "PreprocessedModel"])
def test_a_saved_model_predicts_from_raw_audio_in_a_fresh_process(tmp_path, words, how):
    clips, labels = words
    paths = write_clips(tmp_path / "clips", clips, labels)
    settings = audio.FeatureSettings(n_mfcc=10, n_mels=24)
    X = audio.features_for_files(paths, settings)
    mean, std = X.mean(axis=0), X.std(axis=0)
    net = MLP(X.shape[1], [32], 10, activation="relu", output_activation="softmax",
              random_state=0)
    numnet.fit(net, (X - mean) / std, labels, optimizer="adam", learning_rate=0.01, epochs=60,
               verbose=False, random_state=0)
    expected = net.predict((X - mean) / std)
    assert (expected == labels).mean() == 1.0                    # it learned its clips
    model = tmp_path / "m.safetensors"
    if how == "standardize":
        audio.save_model(net, model, settings, standardize=(mean, std))
    else:
        from numnet.preprocessing import PreprocessedModel, Preprocessing
        prep = Preprocessing(audio.feature_names(settings), ["label"], "classification",
                             mean, std, classes=list(net.classes_))
        audio.save_model(PreprocessedModel(net, prep), model, settings)
    proc = subprocess.run([sys.executable, "-c", PREDICT, str(model), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected.tolist()


def test_save_model_refuses_what_it_cannot_keep(tmp_path):
    s = audio.FeatureSettings()
    net = MLP(s.n_features, [3], 2, output_activation="softmax", random_state=0)
    net.classes_ = ["a", "b"]
    n = s.n_features
    with pytest.raises(ValueError, match=f"standardize's std must be {n} finite numbers"):
        audio.save_model(net, tmp_path / "m.safetensors", standardize=(np.zeros(n), [1.0]))
    with pytest.raises(ValueError, match="reserved"):
        audio.save_model(net, tmp_path / "m.safetensors", metadata={"preprocessing": {}})
    assert not (tmp_path / "m.safetensors").exists()
    # A constant feature (std 0) is stored with scale 1, as numnet train does.
    audio.save_model(net, tmp_path / "m.safetensors", standardize=(np.zeros(n), np.zeros(n)))
    model, _ = audio.load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(model.preprocessing.scale, np.ones(n))


def test_a_model_with_version_1_settings_loads_and_gets_its_old_features(tmp_path):
    # What numnet wrote before: the settings dict at version 1, 36 features.
    old = {"version": 1, "sample_rate": 22050, "n_mfcc": 13, "n_mels": 40, "n_fft": 1024,
           "hop_length": 512, "fmin": 0.0, "fmax": None, "rolloff_percent": 0.85,
           "max_duration": None, "silence_db": -80.0}
    net = MLP(36, [4], 2, output_activation="softmax", random_state=0)
    net.classes_ = ["x", "y"]
    numnet.save(net, tmp_path / "old.safetensors", metadata={"audio": old})
    model, settings = audio.load_model(tmp_path / "old.safetensors")
    assert settings == LEGACY and settings.n_features == 36
    clip = tmp_path / "c.wav"
    sf.write(clip, BENCH["utter"]("mo", BENCH["speaker"](np.random.default_rng(0)),
                                  np.random.default_rng(0)), RATE)
    X = audio.features_for_files([clip], settings)
    assert X.shape == (1, 36) and model.predict(X).shape == (1,)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "numnet", "predict",
                           str(tmp_path / "old.safetensors"), str(clip)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["file,label,error", f"{clip},{model.predict(X)[0]},"]


# --- every format soundfile reads here --------------------------------------------------------

FORMATS = {".mp3": ("MP3", "MPEG_LAYER_III"), ".aiff": ("AIFF", "PCM_16"),
           ".au": ("AU", "PCM_16"), ".caf": ("CAF", "PCM_16"), ".w64": ("W64", "PCM_16"),
           ".opus": ("OGG", "OPUS")}


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_each_newly_read_format_gives_the_clips_features(tmp_path, words, suffix):
    fmt, subtype = FORMATS[suffix]
    if fmt not in sf.available_formats() or subtype not in sf.available_subtypes(fmt):
        pytest.skip(f"this libsndfile does not write {fmt} {subtype}")
    assert suffix in audio.AUDIO_EXTENSIONS
    clips, labels = words
    rate = 48000 if subtype == "OPUS" else RATE          # Opus takes 8, 12, 16, 24, 48 kHz
    root = tmp_path / "words"
    for i in range(2):
        y = clips[i]
        if rate != RATE:
            import librosa
            y = librosa.resample(y, orig_sr=RATE, target_sr=rate)
        (root / labels[i]).mkdir(parents=True)
        sf.write(root / labels[i] / f"{i}.wav", y, rate, subtype="FLOAT")
        sf.write(root / labels[i] / f"{i}{suffix}", y, rate, format=fmt, subtype=subtype)
    X, _, files = audio.load_folder(root, cache=False)
    assert sorted(f.name for f in files) == sorted(["0.wav", "1.wav", f"0{suffix}",
                                                    f"1{suffix}"])
    by_name = dict(zip([f.name for f in files], X, strict=True))
    between = np.linalg.norm(by_name["0.wav"] - by_name["1.wav"])
    # Measured |coded - original| / |word 0 - word 1|: MP3 0.47 and 0.51, Opus 0.12 and
    # 0.11, the lossless formats 0.007 and 0.004.
    bound = 0.8 if suffix in (".mp3", ".opus") else 0.05
    for i in range(2):
        moved = np.linalg.norm(by_name[f"{i}{suffix}"] - by_name[f"{i}.wav"]) / between
        assert moved < bound, f"{suffix}: {moved:.3f}"


# --- a folder laid out as a data split -------------------------------------------------------

def split_root(tmp_path, words, parts=("train", "test")):
    clips, labels = words
    root = tmp_path / "split"
    for part in parts:                          # the same clips in each: the layout is tested
        for i in range(len(clips)):
            if labels[i] in ("mo", "nu"):
                (root / part / labels[i]).mkdir(parents=True, exist_ok=True)
                sf.write(root / part / labels[i] / f"{i}.wav", clips[i], RATE)
    return root


@pytest.mark.parametrize("parts", [("train", "test"), ("train", "valid", "test")])
def test_a_train_test_split_is_read_as_one_not_as_two_classes(tmp_path, words, parts):
    root = split_root(tmp_path, words, parts)
    assert list(audio.split_folders(root)) == list(parts)
    with pytest.raises(audio.AudioError, match=r"holds a data split \(train/, .*test/\).*"
                                               r"numnet.audio.load_split"):
        audio.load_folder(root, cache=False)
    split = audio.load_split(root, cache=False)
    assert list(split) == list(parts)
    for part in parts:
        assert sorted(set(split[part].y.tolist())) == ["mo", "nu"]
        assert all(f.parent.parent.name == part for f in split[part].files)
    (root / "test" / "sai").mkdir()
    sf.write(root / "test" / "sai" / "x.wav", words[0][0], RATE)
    with pytest.raises(audio.AudioError, match="class.*sai that train/ does not"):
        audio.load_split(root, cache=False)


def test_folders_named_train_and_test_holding_clips_are_still_classes(tmp_path, words):
    clips, _ = words
    for part in ("train", "test"):
        (tmp_path / part).mkdir()
        sf.write(tmp_path / part / "a.wav", clips[0], RATE)
    assert audio.split_folders(tmp_path) is None
    assert sorted(set(audio.load_folder(tmp_path, cache=False).y.tolist())) == ["test", "train"]
    with pytest.raises(audio.AudioError, match="is not a data split"):
        audio.load_split(tmp_path)


def test_the_command_line_trains_on_a_split_and_says_so(tmp_path, words):
    root = split_root(tmp_path, words)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NUMNET_CACHE_DIR": "off"}
    proc = subprocess.run([sys.executable, "-m", "numnet", "train", f"audio:{root}",
                           "--epochs", "2", "--out", str(tmp_path / "m.safetensors")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"audio:{root} is a data split: training on train/" in proc.stderr
    assert (tmp_path / "m.safetensors").exists()

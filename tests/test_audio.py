"""numnet.audio: files of every kind to features, folders, bad audio, models with settings."""

import importlib
import json
import logging
import os
import pickle
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

import numnet  # noqa: E402
from numnet import MLP, audio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_FEATURES = audio.FeatureSettings().n_features     # 207: MFCCs, deltas, frame features, mel, parts


def chord(sample_rate, duration=0.3, root=440.0, level=0.3):
    """Three partials, nothing above 3.3 kHz: resampling to any rate here keeps all of it."""
    t = np.arange(round(duration * sample_rate)) / sample_rate
    return level * (np.sin(2 * np.pi * root * t) + 0.5 * np.sin(2 * np.pi * 3 * root * t)
                    + 0.25 * np.sin(2 * np.pi * 7.5 * root * t + 1.0)) / 1.75


def noise(sample_rate, duration=0.3, seed=0):
    return 0.2 * np.random.default_rng(seed).standard_normal(round(duration * sample_rate))


def assert_same_sound(got, reference, mfcc_db=0.5, rtol=0.02):
    """Features of the same sound read another way: the dB-valued ones (MFCCs, their
    deltas, log-mel bands: means and stds) within ``mfcc_db`` dB, the five frame features'
    means and stds within ``rtol`` of their mean."""
    names = audio.feature_names()
    index = {name: i for i, name in enumerate(names)}
    tolerance = np.array([mfcc_db if name.startswith(("mfcc", "delta", "mel")) else
                          rtol * abs(reference[index[name.rsplit("_", 1)[0] + "_mean"]])
                          for name in names])
    worst = np.argmax(np.abs(got - reference) - tolerance)
    assert np.all(np.abs(got - reference) <= tolerance), (
        f"{names[worst]}: {got[worst]} vs {reference[worst]}")


def write_folder(root, per_class=3, classes=("tone", "hiss")):
    """``root/<class>/<i>.wav``: two classes that any feature tells apart."""
    for label in classes:
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            clip = chord(16000, root=220.0 * (i + 1)) if label == "tone" else noise(16000, seed=i)
            sf.write(root / label / f"{i}.wav", clip, 16000, subtype="PCM_16")
    return root


# --- features of files and arrays -------------------------------------------------------

def test_features_shape_names_and_determinism(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, chord(22050), 22050, subtype="FLOAT")
    X = audio.features_for_files([path])
    assert X.shape == (1, N_FEATURES) and X.dtype == np.float64 and np.isfinite(X).all()
    assert len(audio.feature_names()) == N_FEATURES == audio.FeatureSettings().n_features
    np.testing.assert_array_equal(audio.features_for_files(path), X)       # one path, same row
    # A float WAV at the settings' rate holds the very samples: file and array agree exactly.
    np.testing.assert_array_equal(audio.features(chord(22050), 22050), X[0])
    names = dict(zip(audio.feature_names(), X[0], strict=True))
    assert 400 < names["spectral_centroid_mean"] < 3300
    # Level-normalised: a steady chord's frames are all as loud as its loudest.
    np.testing.assert_allclose(names["rms_mean"], 1.0, rtol=0.02)
    legacy = audio.FeatureSettings.from_dict({"version": 1})         # as numnet 1 computed
    old = dict(zip(audio.feature_names(legacy), audio.features_for_files([path], legacy)[0],
                   strict=True))
    np.testing.assert_allclose(old["rms_mean"], np.sqrt(np.mean(chord(22050) ** 2)), rtol=0.02)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_any_rate_channels_and_sample_format_give_the_same_features(tmp_path, rate, channels,
                                                                    subtype):
    # Resampled (soxr) and re-quantised clips of band-limited content; see assert_same_sound
    # for the tolerances (measured worst cases here: 0.10 dB on an MFCC, 0.4 % on the others).
    reference = audio.features(chord(22050), 22050)
    clip = chord(rate)
    data = np.column_stack([clip] * channels) if channels > 1 else clip
    path = tmp_path / "clip.wav"
    sf.write(path, data, rate, subtype=subtype)
    assert_same_sound(audio.features_for_files([path])[0], reference)


def test_load_clip_gives_the_mono_clip_at_the_settings_rate(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, np.column_stack([chord(44100), -chord(44100)]), 44100, subtype="FLOAT")
    clip = audio.load_clip(path)                                 # channels cancel: silence
    assert clip.shape == (round(0.3 * 22050),) and clip.dtype == np.float32
    assert np.abs(clip).max() < 1e-6
    short = audio.load_clip(path, audio.FeatureSettings(sample_rate=8000, max_duration=0.1))
    assert short.shape == (800,)


def test_stereo_is_mixed_to_mono_by_averaging(tmp_path):
    left, right = chord(22050), noise(22050)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.column_stack([left, right]), 22050, subtype="FLOAT")
    mono = (left.astype(np.float32) + right.astype(np.float32)) / 2
    np.testing.assert_allclose(audio.features_for_files(path)[0],
                               audio.features(mono, 22050), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fmt, subtype", [("FLAC", "PCM_16"), ("OGG", "VORBIS")])
def test_flac_and_ogg(tmp_path, fmt, subtype):
    path = tmp_path / f"clip.{fmt.lower()}"
    sf.write(path, chord(16000), 16000, format=fmt, subtype=subtype)
    reference = audio.features(chord(16000), 16000)
    # Vorbis is lossy: measured 3.0 dB on the worst MFCC and 1.6 % on the other features
    # (FLAC: 0.02 dB and 0.2 %, its 16-bit quantisation).
    lossy = {"mfcc_db": 5.0, "rtol": 0.05} if fmt == "OGG" else {}
    assert_same_sound(audio.features_for_files(path)[0], reference, **lossy)


def test_settings_change_the_features_and_round_trip_as_json(tmp_path):
    settings = audio.FeatureSettings(sample_rate=16000, n_mfcc=20, n_mels=32, n_fft=512,
                                     hop_length=128, fmax=7000.0, max_duration=0.2)
    # 20 MFCCs and their deltas and delta-deltas (means, stds), 5 frame features, 32 mel bands
    # (means, stds), the MFCC means of 3 parts
    assert settings.n_features == 2 * (3 * 20 + 5 + 32) + 3 * 20 == len(
        audio.feature_names(settings))
    as_json = json.loads(json.dumps(settings.to_dict()))
    assert audio.FeatureSettings.from_dict(as_json) == settings
    path = tmp_path / "long.wav"
    sf.write(path, chord(16000, duration=1.0), 16000, subtype="FLOAT")
    X = audio.features_for_files([path], as_json)                   # the dict works as well
    assert X.shape == (1, settings.n_features)
    # max_duration keeps the first 0.2 s: the same as a 0.2 s file.
    np.testing.assert_array_equal(X[0], audio.features(chord(16000, duration=1.0)[:3200], 16000,
                                                       settings))


@pytest.mark.parametrize("bad, match", [
    ({"n_mfcc": 0}, "n_mfcc must be a positive integer"),
    ({"n_mfcc": 50}, "exceeds n_mels"),
    ({"fmax": 20000.0}, "fmax <= sample_rate / 2"),
    ({"rolloff_percent": 1.5}, "rolloff_percent"),
    ({"max_duration": -1.0}, "max_duration"),
    ({"silence_db": float("nan")}, "silence_db must be a finite number"),
])
def test_settings_are_checked(bad, match):
    with pytest.raises(ValueError, match=match):
        audio.FeatureSettings(**bad)


def test_from_dict_refuses_unknown_keys_and_newer_versions():
    with pytest.raises(ValueError, match="unknown feature setting"):
        audio.FeatureSettings.from_dict({"n_mfcc": 13, "window": "hann"})
    with pytest.raises(ValueError, match="version"):
        audio.FeatureSettings.from_dict({"version": 99})
    with pytest.raises(TypeError, match="dict"):
        audio.features_for_files([], settings=[("n_mfcc", 13)])


# --- folders ----------------------------------------------------------------------------

def test_load_folder(tmp_path):
    root = write_folder(tmp_path / "sounds")
    (root / "tone" / "deeper").mkdir()
    sf.write(root / "tone" / "deeper" / "x.flac", chord(44100), 44100)     # found recursively
    (root / "tone" / "notes.txt").write_text("not a clip")                # ignored
    (root / "hiss" / ".hidden.wav").write_bytes(b"junk")                  # ignored
    (root / ".cache").mkdir()                                             # ignored
    sf.write(root / "loose.wav", chord(16000), 16000)                     # ignored: no class
    X, y, files = audio.load_folder(root)
    assert X.shape == (7, N_FEATURES)
    assert y.tolist() == ["hiss"] * 3 + ["tone"] * 4
    assert [f.relative_to(root).as_posix() for f in files] == [
        "hiss/0.wav", "hiss/1.wav", "hiss/2.wav", "tone/0.wav", "tone/1.wav", "tone/2.wav",
        "tone/deeper/x.flac"]
    np.testing.assert_array_equal(X, audio.features_for_files(files))      # same features
    again = audio.load_folder(root)
    np.testing.assert_array_equal(again.X, X)
    assert again.skipped == []
    assert pickle.loads(pickle.dumps(again)).files == files


def test_folder_features_train_a_classifier(tmp_path):
    X, y, _ = audio.load_folder(write_folder(tmp_path / "sounds", per_class=4))
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    net = MLP(X.shape[1], [8], 2, activation="relu", output_activation="softmax", random_state=0)
    numnet.fit(net, (X - mean) / std, y, optimizer="adam", learning_rate=0.01, epochs=40,
               verbose=False, random_state=0)
    assert (net.predict((X - mean) / std) == y).all()                     # tone vs white noise


# --- bad audio --------------------------------------------------------------------------

def truncated_wav(path):
    sf.write(path, chord(16000), 16000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def truncated_flac(path):
    sf.write(path, noise(16000, duration=1.0), 16000, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def truncated_ogg(path, keep=0.5):
    sf.write(path, noise(16000, duration=1.0), 16000, format="OGG", subtype="VORBIS")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


BAD_FILES = {
    "text.wav": (lambda p: p.write_text("hello, I am not audio\n" * 20), "not an audio file"),
    "empty.wav": (lambda p: p.write_bytes(b""), "is empty"),
    "cut.wav": (truncated_wav, "is truncated"),
    "cut.flac": (truncated_flac, "truncated or corrupted"),
    "silent.wav": (lambda p: sf.write(p, np.zeros(8000), 16000), "is silent .all samples"),
    "hum.wav": (lambda p: sf.write(p, 1e-5 * chord(16000), 16000, subtype="FLOAT"),
                r"is silent \(RMS level -117\.\d dB"),
    "short.wav": (lambda p: sf.write(p, chord(16000, duration=0.03), 16000), "is too short"),
    "nan.wav": (lambda p: sf.write(p, np.full(8000, np.nan), 16000, subtype="FLOAT"), "NaN"),
    "header.wav": (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "),
                   "could not be decoded .Error in WAV file"),
    "cut.ogg": (truncated_ogg, "holds no audio samples: .* truncated or damaged"),
    "cut-early.ogg": (lambda p: truncated_ogg(p, 0.2), "is a damaged audio file"),
    "no-frames.wav": (lambda p: sf.write(p, np.zeros((0, 1)), 16000), "holds no audio samples"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_a_clear_error_naming_it(tmp_path, name):
    make, match = BAD_FILES[name]
    path = tmp_path / name
    make(path)
    with pytest.raises(audio.AudioError, match=match) as info:
        audio.features_for_files([path])
    assert isinstance(info.value, ValueError)
    assert info.value.path == str(path) and str(info.value).startswith(str(path))


def test_quiet_is_not_silent():
    # -57 dB RMS is a quiet recording, not silence (the threshold is -80 dB): accepted.
    quiet = 1e-2 * chord(16000)
    assert -60 < 20 * np.log10(np.sqrt(np.mean(quiet ** 2))) < -50
    assert np.isfinite(audio.features(quiet, 16000)).all()
    with pytest.raises(audio.AudioError, match="silence_db=-50"):
        audio.features(quiet, 16000, audio.FeatureSettings(silence_db=-50.0))


def test_bad_arrays():
    with pytest.raises(audio.AudioError, match="<array>: holds no samples"):
        audio.features(np.zeros(0), 16000)
    with pytest.raises(audio.AudioError, match="<array>: is silent"):
        audio.features(np.zeros(4000), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        audio.features(chord(16000), 0)
    with pytest.raises(ValueError, match="shape"):
        audio.features(np.zeros((2, 2, 2)), 16000)


def test_integer_arrays_are_scaled_to_full_scale():
    clip = chord(16000)
    as_int16 = np.round(clip * 32768).astype(np.int16)
    as_uint8 = np.round(clip * 128 + 128).astype(np.uint8)
    reference = audio.features(clip, 16000)
    assert_same_sound(audio.features(as_int16, 16000), reference)
    rms = audio.feature_names().index("rms_mean")         # 8 bits: only the level survives
    np.testing.assert_allclose(audio.features(as_uint8, 16000)[rms], reference[rms], rtol=0.02)


def test_missing_file_or_folder_keeps_its_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        audio.features_for_files([tmp_path / "nope.wav"])
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        audio.features_for_files([tmp_path])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.wav")
    with pytest.raises(audio.AudioError, match="pipe.wav: is not a regular file"):
        audio.features_for_files([tmp_path / "pipe.wav"])


def test_a_bad_file_stops_a_folder_saying_which_or_is_skipped_and_listed(tmp_path, caplog):
    root = write_folder(tmp_path / "sounds")
    for name in ("text.wav", "silent.wav", "short.wav"):
        BAD_FILES[name][0](root / "tone" / name)
    # In Python the message names the argument (the command line's names --skip-bad).
    with pytest.raises(audio.AudioError, match=r"file 7 of 9 in .*; skip unreadable clips with "
                                               r"skip_bad=True\]$") as info:
        audio.load_folder(root)
    assert info.value.path == str(root / "tone" / "short.wav")          # the first, sorted
    with caplog.at_level(logging.WARNING, logger="numnet.audio"):
        X, y, files = result = audio.load_folder(root, skip_bad=True)
    assert X.shape == (6, N_FEATURES) and len(files) == 6
    assert [(p.name, why.split(" ")[1]) for p, why in result.skipped] == [
        ("short.wav", "too"), ("silent.wav", "silent"), ("text.wav", "not")]
    assert "skipped 3 of 9 files" in caplog.text and "text.wav" in caplog.text


def test_an_unexpected_failure_still_names_the_file(tmp_path, monkeypatch):
    root = write_folder(tmp_path / "sounds", per_class=2)

    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(audio.librosa, "stft", broken)
    with pytest.raises(MemoryError) as info:
        audio.load_folder(root, skip_bad=True)                 # not skipped: not bad audio
    if sys.version_info >= (3, 11):
        assert "hiss/0.wav (file 1 of 4)" in "".join(info.value.__notes__)


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError):
        audio.load_folder(tmp_path / "missing")
    (tmp_path / "file.wav").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        audio.load_folder(tmp_path / "file.wav")
    empty = tmp_path / "empty"
    (empty / "a").mkdir(parents=True)
    (empty / "a" / "readme.txt").write_text("no clips")
    (empty / "a" / "song.mid").write_bytes(b"MThd")
    with pytest.raises(audio.AudioError, match=r"holds no audio files") as info:
        audio.load_folder(empty)
    assert "1 .mid" in str(info.value) and "1 .txt" in str(info.value)
    single = write_folder(tmp_path / "single", classes=("tone",))
    with pytest.raises(audio.AudioError, match="only one class .'tone'."):
        audio.load_folder(single)
    # Skipping can leave one class: that is an error too, not a silently useless data set.
    root = write_folder(tmp_path / "sounds", per_class=1)
    (root / "hiss" / "0.wav").write_bytes(b"")
    with pytest.raises(audio.AudioError, match="after skipping 1 bad file.*only class 'tone'"):
        audio.load_folder(root, skip_bad=True)


def test_audio_error_pickles():
    err = pickle.loads(pickle.dumps(audio.AudioError("x.wav", "is silent")))
    assert (err.path, err.problem, str(err)) == ("x.wav", "is silent", "x.wav: is silent")


# --- models that keep their settings ----------------------------------------------------

def test_save_and_load_model_keep_the_feature_settings(tmp_path):
    settings = audio.FeatureSettings(n_mfcc=8, n_mels=24)
    net = MLP(settings.n_features, [4], 2, output_activation="softmax", random_state=0)
    net.classes_ = ["hiss", "tone"]
    path = audio.save_model(net, tmp_path / "m.safetensors", settings, metadata={"note": "hi"})
    loaded, got = audio.load_model(path)
    assert got == settings and loaded.classes_ == ["hiss", "tone"]
    meta = numnet.io.load_metadata(path)["metadata"]
    assert meta["note"] == "hi" and meta["audio"] == settings.to_dict()
    clip = tmp_path / "c.wav"
    sf.write(clip, chord(16000), 16000)
    X = audio.features_for_files([clip], meta["audio"])                 # what the CLI does
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_model_and_settings_must_agree(tmp_path):
    net = MLP(5, [3], 2, random_state=0)
    with pytest.raises(ValueError,
                       match=f"takes 5 inputs but these feature settings give {N_FEATURES}"):
        audio.save_model(net, tmp_path / "m.safetensors")
    net = MLP(N_FEATURES, [3], 2, random_state=0)
    with pytest.raises(ValueError, match="reserved"):
        audio.save_model(net, tmp_path / "m.safetensors", metadata={"audio": {}})
    numnet.save(net, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="plain.safetensors: holds no audio feature settings"):
        audio.load_model(tmp_path / "plain.safetensors")
    numnet.save(net, tmp_path / "odd.safetensors", metadata={"audio": {"n_mfcc": 0}})
    with pytest.raises(ValueError, match="odd.safetensors: invalid audio feature settings"):
        audio.load_model(tmp_path / "odd.safetensors")


# --- the extra, the example -------------------------------------------------------------

@pytest.mark.parametrize("hidden", ["librosa", "soundfile"])
def test_import_without_the_extra_names_it(monkeypatch, hidden):
    monkeypatch.setitem(sys.modules, hidden, None)          # makes `import hidden` fail
    monkeypatch.delitem(sys.modules, "numnet.audio")
    with pytest.raises(ImportError, match=rf"{hidden} is missing.*numnet\[audio\]"):
        importlib.import_module("numnet.audio")


def test_example_runs(capsys):
    example = runpy.run_path(str(ROOT / "examples" / "sound_of_ai.py"), run_name="example")
    accuracy = example["main"](["--clips-per-class", "6", "--epochs", "30", "--duration", "0.2"])
    out = capsys.readouterr().out
    assert "24 clips in 4 classes" in out and "confusion matrix" in out
    assert "same predictions on 100% of the held-out clips" in out
    assert "new_clip.wav (a chord at 44.1 kHz):" in out
    assert 0.0 <= accuracy <= 1.0

"""numnet.audio's feature cache: a second run reads no audio, a changed file or setting is
read again, and no cache entry (corrupt, foreign, pickled) can crash a run or mislead it."""

import io
import logging
import os
import sys

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from numnet import audio  # noqa: E402
from numnet.audio import extract, folders  # noqa: E402

RATE = 16000
SETTINGS = audio.FeatureSettings(n_mfcc=8, n_mels=20)


def chord(root, duration=0.2):
    t = np.arange(round(duration * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * root * t) + 0.1 * np.sin(2 * np.pi * 3 * root * t)


@pytest.fixture
def sounds(tmp_path):
    root = tmp_path / "sounds"
    for label, k in (("low", 1), ("high", 4)):
        (root / label).mkdir(parents=True)
        for i in range(3):
            sf.write(root / label / f"{i}.wav", chord(110.0 * k * (1 + i / 10)), RATE)
    return root


@pytest.fixture
def calls(monkeypatch):
    """Counts the clips whose features are computed (not read from a cache)."""
    count = {"n": 0}
    real = extract._describe

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(extract, "_describe", counting)
    return count


def entries(cache):
    return sorted(cache.rglob("*.npy"))


def test_a_second_run_reads_no_audio_and_gives_the_same_features(sounds, tmp_path, calls):
    cache = tmp_path / "cache"
    first = audio.load_folder(sounds, SETTINGS, cache=cache)
    assert calls["n"] == 6 and len(entries(cache)) == 6
    again = audio.load_folder(sounds, SETTINGS, cache=cache)
    assert calls["n"] == 6                                       # none computed again
    np.testing.assert_array_equal(again.X, first.X)
    assert again.y.tolist() == first.y.tolist() and again.files == first.files
    np.testing.assert_array_equal(audio.features_for_files(first.files, SETTINGS, cache=cache),
                                  first.X)
    assert calls["n"] == 6
    uncached = audio.load_folder(sounds, SETTINGS, cache=False)    # the very same numbers
    np.testing.assert_array_equal(uncached.X, first.X)
    assert calls["n"] == 12


def test_a_changed_file_or_setting_is_read_again(sounds, tmp_path, calls):
    cache = tmp_path / "cache"
    audio.load_folder(sounds, SETTINGS, cache=cache)
    changed = sounds / "low" / "1.wav"
    sf.write(changed, chord(500.0), RATE)                       # new content, size unchanged
    info = os.stat(changed)
    os.utime(changed, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    calls["n"] = 0
    X, _, files = audio.load_folder(sounds, SETTINGS, cache=cache)
    assert calls["n"] == 1
    np.testing.assert_array_equal(X[files.index(changed)],
                                  audio.features_for_files(changed, SETTINGS, cache=False)[0])
    calls["n"] = 0
    audio.load_folder(sounds, audio.FeatureSettings(n_mfcc=8, n_mels=20, trim_db=30.0),
                      cache=cache)
    assert calls["n"] == 6                                       # other settings: other keys


def corrupt(kind, entry):
    """Damage a cache entry in one of the ways a disk, a crash or a person can."""
    data = entry.read_bytes()
    if kind == "truncated":
        entry.write_bytes(data[:len(data) // 2])
    elif kind == "empty":
        entry.write_bytes(b"")
    elif kind == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    elif kind == "flipped byte":
        entry.write_bytes(data[:-3] + bytes([data[-3] ^ 0x40]) + data[-2:])
    elif kind == "plain floats":                    # a valid .npy, not a record of numnet's
        np.save(entry, np.zeros(SETTINGS.n_features))
    elif kind == "pickled objects":                 # would run code if loaded with pickle
        with open(entry, "wb") as f:
            np.save(f, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    elif kind == "a folder":
        entry.unlink()
        entry.mkdir()


@pytest.mark.parametrize("kind", ["truncated", "empty", "garbage", "flipped byte",
                                  "plain floats", "pickled objects", "another file's entry",
                                  "a folder"])
def test_a_bad_entry_is_ignored_and_the_features_computed(sounds, tmp_path, calls, kind):
    cache = tmp_path / "cache"
    X = audio.load_folder(sounds, SETTINGS, cache=cache).X
    if kind == "another file's entry":              # each holds the next one's record
        records = [e.read_bytes() for e in entries(cache)]
        for entry, record in zip(entries(cache), records[1:] + records[:1], strict=True):
            entry.write_bytes(record)
    for entry in entries(cache) if kind != "another file's entry" else []:
        corrupt(kind, entry)
    calls["n"] = 0
    again = audio.load_folder(sounds, SETTINGS, cache=cache)
    assert calls["n"] == 6                                       # every entry refused
    np.testing.assert_array_equal(again.X, X)
    if kind != "a folder":                                       # rewritten, and used next
        calls["n"] = 0
        np.testing.assert_array_equal(audio.load_folder(sounds, SETTINGS, cache=cache).X, X)
        assert calls["n"] == 0


def test_where_the_cache_lives_and_how_to_turn_it_off(sounds, tmp_path, monkeypatch, calls):
    monkeypatch.delenv("NUMNET_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert audio.default_cache_dir() == tmp_path / "xdg" / "numnet" / "audio-features"
    audio.load_folder(sounds, SETTINGS)                          # the default: cached
    assert len(entries(tmp_path / "xdg")) == 6
    monkeypatch.setenv("NUMNET_CACHE_DIR", str(tmp_path / "mine"))
    assert audio.default_cache_dir() == tmp_path / "mine" / "audio-features"
    audio.features_for_files([sounds / "low" / "0.wav"], SETTINGS)
    assert len(entries(tmp_path / "mine")) == 1
    for off in ("off", "0", ""):
        monkeypatch.setenv("NUMNET_CACHE_DIR", off)
        assert audio.default_cache_dir() is None
    calls["n"] = 0
    audio.load_folder(sounds, SETTINGS)                          # off: computed, not written
    audio.load_folder(sounds, SETTINGS, cache=False)
    assert calls["n"] == 12 and len(entries(tmp_path)) == 7
    with pytest.raises(TypeError, match="cache must be a folder"):
        audio.load_folder(sounds, SETTINGS, cache=3)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions do not bind here")
def test_a_cache_that_cannot_be_written_costs_only_the_caching(sounds, tmp_path, caplog):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        with caplog.at_level(logging.WARNING, logger="numnet.audio"):
            X = audio.load_folder(sounds, SETTINGS, cache=cache).X
    finally:
        cache.chmod(0o700)
    assert X.shape == (6, SETTINGS.n_features)
    assert caplog.text.count("cannot write the audio feature cache") == 1


def test_a_cache_that_is_a_file_costs_only_the_caching(sounds, tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="numnet.audio"):
        X = audio.load_folder(sounds, SETTINGS, cache=blocker).X
    assert X.shape == (6, SETTINGS.n_features)
    assert "cannot write the audio feature cache" in caplog.text
    assert blocker.read_text() == "not a folder"


def test_the_progress_bar_shows_on_a_terminal_only(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    items = [1, 2, 3]
    monkeypatch.setattr(sys, "stderr", io.StringIO())               # not a terminal
    assert folders._progress(items, None) is items
    assert isinstance(folders._progress(items, True), tqdm.std.tqdm)
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    assert isinstance(folders._progress(items, None), tqdm.std.tqdm)
    assert folders._progress(items, False) is items

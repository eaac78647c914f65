"""numnet.audio on hostile files: odd names (undecodable bytes, escape sequences, newlines),
files that are not files (pipes, devices, broken links), headers that lie (frame counts,
sample rates), folders that cannot be listed; through the Python API and the command."""

import errno
import logging
import os
import re
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from numnet import audio  # noqa: E402
from numnet.terminal import printable as shown  # noqa: E402

RATE = 16000
# What must never reach a terminal raw: C0/C1 controls, DEL, bidi and zero-width characters,
# lone surrogates (undecodable bytes, which a strict UTF-8 stream cannot even write).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                    "\ud800-\udfff]")

# File names as a hostile folder holds them (every one ends in .wav).
FILE_NAMES = {
    "undecodable": os.fsdecode(b"clip\xfe\xff.wav"),
    "csi": "clip\x1b[31mred\x1b[0m.wav",
    "osc": "clip\x1b]0;title\x07.wav",
    "newline": "clip\nline.wav",
    "bidi": "clip\u202egnp.wav",
}
UNDECODABLE_CLASS = os.fsdecode(b"hiss\xff")        # -> the label "hiss\\xff"
ESCAPE_CLASS = "esc\x1b[31mred"                     # -> the label as it is


def chord(root=440.0, duration=0.15):
    t = np.arange(round(duration * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * root * t) + 0.1 * np.sin(2 * np.pi * 3 * root * t)


def noise(seed, duration=0.15):
    return 0.2 * np.random.default_rng(seed).standard_normal(round(duration * RATE))


def write_wav(path, clip):
    """Written through a file object: soundfile's own path handling is what is under test."""
    with open(path, "wb") as fh:
        sf.write(fh, clip, RATE, format="WAV", subtype="PCM_16")
    return Path(path)


def make_dir(path):
    try:
        os.makedirs(path)
    except (OSError, UnicodeError) as exc:          # e.g. a file system that wants UTF-8 names
        pytest.skip(f"this file system refuses the name: {exc}")
    return Path(path)


def assert_printable(text, newlines=False):
    """``text`` holds nothing unsafe for a terminal (lines allowed with ``newlines``)."""
    if newlines:
        text = text.replace("\n", "").replace("\r", "").replace("\t", "")
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"


def hostile_folder(root):
    """Three classes (plain, undecodable, escape sequence), each with clips under every
    odd file name: ``(root, {label: [files]})``."""
    make_dir(root)
    files = {}
    for k, (folder, label) in enumerate([("tone", "tone"), (UNDECODABLE_CLASS, "hiss\\xff"),
                                         (ESCAPE_CLASS, ESCAPE_CLASS)]):
        make_dir(root / folder)
        files[label] = []
        for i, name in enumerate(FILE_NAMES.values()):
            clip = chord(220.0 * (i + 1)) if k == 0 else noise(10 * k + i) * (0.5 + 0.2 * k)
            files[label].append(write_wav(root / folder / name, clip))
    return root, files


# --- names -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("plain.wav", "plain.wav"),
    (os.fsdecode(b"a\xff.wav"), "a\\xff.wav"),
    ("a\x1b[2Jb", "a\\x1b[2Jb"),
    ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
    ("\u202eabc\u200b", "\\u202eabc\\u200b"),
    (b"bytes\xfe", "bytes\\xfe"),
    (Path("dir") / "x\x07", os.path.join("dir", "x\\x07")),
    ("caf\u00e9 \u266b.wav", "caf\u00e9 \u266b.wav"),          # printable text stays as it is
])
def test_shown_escapes_what_a_terminal_would_obey(name, expected):
    assert shown(name) == expected
    shown(name).encode("utf-8")                                 # strict: no surrogates left


@pytest.mark.parametrize("kind", sorted(FILE_NAMES))
@pytest.mark.parametrize("as_", ["str", "bytes", "path"])
def test_any_file_name_is_read(tmp_path, kind, as_):
    path = write_wav(tmp_path / FILE_NAMES[kind], chord())
    given = {"str": str(path), "bytes": os.fsencode(path), "path": path}[as_]
    reference = audio.features_for_files(write_wav(tmp_path / "plain.wav", chord()))
    np.testing.assert_array_equal(audio.features_for_files(given), reference)   # same bytes
    np.testing.assert_array_equal(audio.load_clip(given), audio.load_clip(path))


def test_a_folder_of_odd_names_loads_with_labels_as_stored(tmp_path, caplog):
    root, files = hostile_folder(tmp_path / os.fsdecode(b"sounds\xfe\x1b[1m"))
    with caplog.at_level(logging.DEBUG, logger="numnet.audio"):
        X, y, got = audio.load_folder(root)
    assert X.shape == (15, audio.FeatureSettings().n_features) and np.isfinite(X).all()
    # The escape-sequence label is kept as it is; undecodable bytes are spelled \xNN.
    assert sorted(set(y.tolist())) == sorted([ESCAPE_CLASS, "hiss\\xff", "tone"])
    for label in files:
        assert sorted(f for f, lab in zip(got, y, strict=True) if lab == label) == \
            sorted(files[label])
    assert all(f.exists() for f in got)
    for record in caplog.records:
        assert_printable(record.getMessage())


# --- errors and warnings name the file, escaped ------------------------------------------

def bad_in_folder(tmp_path, name, folder=UNDECODABLE_CLASS):
    """A hostile folder, one clip of which (in ``folder``) is text under an odd name."""
    root, _ = hostile_folder(tmp_path / "sounds")
    bad = root / folder / ("bad " + name)
    bad.write_text("not audio at all\n" * 20)
    return root, bad


@pytest.mark.parametrize("kind", sorted(FILE_NAMES))
def test_a_bad_file_under_an_odd_name_is_named_escaped_then_skipped(tmp_path, caplog, kind):
    root, bad = bad_in_folder(tmp_path, FILE_NAMES[kind])
    for call in (lambda: audio.features_for_files([bad]), lambda: audio.load_clip(bad),
                 lambda: audio.load_folder(root)):
        with pytest.raises(audio.AudioError, match="not an audio file") as info:
            call()
        assert info.value.path == str(bad)                      # the name as it is ...
        assert str(info.value).startswith(shown(bad) + ": ")    # ... shown escaped
        assert_printable(str(info.value))
    assert "skip_bad=True" in str(info.value)                   # Python's way to skip ...
    assert "--skip-bad" not in str(info.value)                  # ... not the command line's
    with caplog.at_level(logging.WARNING, logger="numnet.audio"):
        result = audio.load_folder(root, skip_bad=True)
    assert [p for p, _ in result.skipped] == [bad] and bad not in result.files
    assert len(result.files) == 15
    assert shown(bad) in caplog.text
    for record in caplog.records:
        assert_printable(record.getMessage())


FOLDER_ERRORS = {
    "one class": lambda root: (make_dir(root / ESCAPE_CLASS),
                               write_wav(root / ESCAPE_CLASS / "a.wav", chord())),
    "no clips": lambda root: (make_dir(root / ESCAPE_CLASS),
                              (root / ESCAPE_CLASS / "x.\x1b[2Jtxt").write_text("hi")),
    "same label": lambda root: [write_wav(make_dir(root / name) / "a.wav", chord())
                                for name in (UNDECODABLE_CLASS, "hiss\\xff")],
}


@pytest.mark.parametrize("case", sorted(FOLDER_ERRORS))
def test_errors_about_an_odd_folder_are_printable(tmp_path, case):
    root = make_dir(tmp_path / os.fsdecode(b"r\xff\x1b[1m"))
    FOLDER_ERRORS[case](root)
    with pytest.raises(audio.AudioError) as info:
        audio.load_folder(root, skip_bad=True)
    assert info.value.path == str(root) and str(info.value).startswith(shown(root))
    assert_printable(str(info.value))
    if case != "no clips":
        assert shown(ESCAPE_CLASS if case == "one class" else "hiss\\xff") in str(info.value)


def test_os_errors_and_notes_name_the_file_printably(tmp_path, monkeypatch):
    missing = tmp_path / FILE_NAMES["csi"]
    with pytest.raises(FileNotFoundError) as info:
        audio.features_for_files([missing])
    assert_printable(str(info.value))
    with pytest.raises(FileNotFoundError) as info:
        audio.load_folder(tmp_path / os.fsdecode(b"gone\xff\x1b[1m"))
    assert_printable(str(info.value))
    root, _ = hostile_folder(tmp_path / "sounds")

    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(audio.librosa, "stft", broken)
    with pytest.raises(MemoryError) as info:
        audio.load_folder(root, skip_bad=True)                  # not bad audio: not skipped
    if sys.version_info >= (3, 11):
        for note in info.value.__notes__:
            assert_printable(note)


# --- what is not a file, and headers that lie --------------------------------------------

class NoReaderWaits:
    """Fails the test if anyone opens ``fifo`` for reading while it is watched."""

    def __init__(self, fifo):
        self.fifo, self.waited, self.done = fifo, False, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.done.wait(0.02):
            try:                                    # succeeds only if a reader has it open
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            self.waited = True
            os.close(fd)                            # EOF: lets a blocked reader go on

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        assert not self.waited, f"{self.fifo} was opened and waited on"


def not_files(folder):
    """Entries with an audio suffix that are not regular files: ``{kind: path}``."""
    made = {}
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.wav")
        made["pipe"] = folder / "pipe.wav"
    links = {"broken link": ("broken\x1b[1m.wav", folder / "nowhere.wav"),
             "link loop": ("loop.wav", folder / "loop.wav")}
    if os.path.exists("/dev/zero"):
        links["device"] = ("device.wav", Path("/dev/zero"))
    for kind, (name, target) in links.items():
        try:
            os.symlink(target, folder / name)
        except (OSError, NotImplementedError):      # links need a privilege on some systems
            continue
        made[kind] = folder / name
    return made


def test_pipes_devices_and_broken_links_in_a_folder_are_bad_files_not_waits(tmp_path, caplog):
    root, _ = hostile_folder(tmp_path / "sounds")
    made = not_files(root / "tone")
    fifo = made.get("pipe", root / "tone" / "none")
    with NoReaderWaits(fifo):
        with pytest.raises(audio.AudioError, match="not a regular file|cannot be read") as info:
            audio.load_folder(root)
        assert info.value.path in {str(p) for p in made.values()}
        assert_printable(str(info.value))
        with caplog.at_level(logging.WARNING, logger="numnet.audio"):
            result = audio.load_folder(root, skip_bad=True)
        for kind in ("pipe", "device"):
            if kind in made:
                with pytest.raises(audio.AudioError, match="not a regular file"):
                    audio.features_for_files([made[kind]])
    assert sorted(p for p, _ in result.skipped) == sorted(made.values())
    assert len(result.files) == 15
    for record in caplog.records:
        assert_printable(record.getMessage())


def forged_flac(path, frames=2 ** 36 - 1):
    """A real 0.3 s FLAC whose STREAMINFO declares ``frames`` frames (36 bits)."""
    sf.write(path, noise(0, 0.3), RATE, format="FLAC")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0           # STREAMINFO comes first
    at = 8 + 13                                                  # total samples: 4 + 32 bits
    data[at] = (data[at] & 0xF0) | (frames >> 32)
    data[at + 1:at + 5] = (frames & 0xFFFFFFFF).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path


def test_a_huge_declared_frame_count_costs_nothing_before_reading(tmp_path):
    path = forged_flac(tmp_path / "huge.flac")
    with sf.SoundFile(path) as f:
        assert f.frames == 2 ** 36 - 1                           # 256 GiB of float32, declared
    tracemalloc.start()
    try:
        with pytest.raises(audio.AudioError, match="huge.flac: .*(truncated|corrupted)"):
            audio.load_clip(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Measured 4 MB (one block); reading the declared count at once asked for 256 GiB.
    assert peak < 64 * 2 ** 20, f"{peak / 2 ** 20:.0f} MB allocated"


def test_a_flac_of_unknown_length_is_a_named_error_not_a_huge_allocation(tmp_path):
    # Total samples 0 is "unknown" (a stream): libsndfile says 2**63 - 1 frames, which read at
    # once was a MemoryError (32 EiB), and which soundfile cannot read to the end.
    path = forged_flac(tmp_path / "stream.flac", frames=0)
    with pytest.raises(audio.AudioError, match="stream.flac: does not declare its length"):
        audio.load_clip(path)


@pytest.mark.parametrize("rate", [1, 999, 1_000_001, 2_000_000_000])
def test_a_sample_rate_no_recording_has_is_refused(tmp_path, rate):
    # Measured before: a 20 KB WAV at 1 Hz took 8 GB and 65 s (resampled 22050-fold); at
    # 2 GHz, 9 s of filter design for 200k samples.
    path = tmp_path / "odd-rate.wav"
    sf.write(path, noise(0, 0.1), rate)
    with pytest.raises(audio.AudioError, match=f"sample rate of {rate} Hz, outside 1000 to "):
        audio.features_for_files([path])


def test_the_settings_own_rate_is_always_read(tmp_path):
    path = tmp_path / "slow.wav"
    sf.write(path, noise(0, 1.0)[:500], 500)
    assert audio.load_clip(path, audio.FeatureSettings(sample_rate=500, n_fft=256,
                                                       hop_length=128)).shape == (500,)
    sf.write(path, noise(0, 0.1), 1000)                          # the lowest other rate
    assert audio.load_clip(path).shape == (1600 * 22050 // 1000,)   # 1.6 s at 22050 Hz


def test_a_folder_that_cannot_be_listed_is_named_not_silently_missed(tmp_path, monkeypatch,
                                                                     caplog):
    root, files = hostile_folder(tmp_path / "sounds")
    hidden = make_dir(root / "tone" / ("more\x1b[1m"))
    write_wav(hidden / "a.wav", chord())
    real_scandir = os.scandir

    def scandir(path="."):              # what a folder without read permission gives
        if os.fspath(path) == str(hidden):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(audio.AudioError, match="cannot be listed .Permission denied.*"
                                               "skip_bad=True") as info:
        audio.load_folder(root)
    assert info.value.path == str(hidden)
    assert_printable(str(info.value))
    with caplog.at_level(logging.WARNING, logger="numnet.audio"):
        result = audio.load_folder(root, skip_bad=True)
    assert [p for p, _ in result.skipped] == [hidden] and len(result.files) == 15
    assert shown(hidden) in caplog.text


# --- the command -------------------------------------------------------------------------

def run(*args, timeout=120):
    """``numnet ARGS`` as a user runs it: ``(exit code, stdout, stderr)`` as text.

    stdout is strict UTF-8 whatever the locale: a raw undecodable name fails loudly.
    """
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    proc = subprocess.run([sys.executable, "-m", "numnet", *args], capture_output=True,
                          timeout=timeout, env=env)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")   # strict: valid text
    for text in (out, err):
        assert "Traceback" not in text
        assert_printable(text, newlines=True)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A hostile folder with a bad clip, a FIFO and a broken link; a model trained on it.

    The bad clip is the first file read (its class sorts first), so that runs failing on
    it stop before any feature is computed (librosa compiles for 2 s on first use).
    """
    tmp = tmp_path_factory.mktemp("cli")
    root, bad = bad_in_folder(tmp, os.fsdecode(b"\xfe\x1b[31mred.wav"), folder=ESCAPE_CLASS)
    extra = not_files(root / "tone")
    model = tmp / "model.safetensors"
    code, out, err = run("train", f"audio:{root}", "--epochs", "1", "--skip-bad",
                         "--out", str(model))
    return root, bad, extra, model, (code, out, err)


def test_train_skips_and_names_bad_files_with_odd_names(trained):
    root, bad, extra, model, (code, out, err) = trained
    assert code == 0, err
    assert model.is_file() and model.stat().st_size > 0
    assert shown(bad) in err                                  # named, escaped
    assert f"skipped {1 + len(extra)} of {16 + len(extra)} files" in err


def test_train_without_skip_bad_names_the_file_and_both_ways_to_skip(trained, tmp_path):
    root, bad, extra, _, _ = trained
    model = tmp_path / "m.safetensors"
    code, out, err = run("train", f"audio:{root}", "--epochs", "1", "--out", str(model))
    assert code == 1 and not model.exists()
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    assert "skip unreadable clips with --skip-bad]" in err and "skip_bad" not in err
    assert f"Error: {shown(bad)}: is not an audio file" in err and "file 1 of 20" in err


def test_predict_reads_odd_names_and_names_a_bad_one(trained):
    root, bad, extra, model, _ = trained
    good = sorted((root / UNDECODABLE_CLASS).glob("clip*.wav")) + sorted(
        (root / ESCAPE_CLASS).glob("clip*.wav"))
    assert len(good) == 2 * len(FILE_NAMES)
    code, out, err = run("predict", str(model), *map(str, good))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "file,label,error" and len(lines) == 1 + len(good)
    # One line per file, named escaped (a name with a newline is one line, quoted by csv).
    assert all(shown(str(p)) in text for p, text in zip(good, lines[1:], strict=True))
    code, out, err = run("predict", str(model), str(bad), str(good[0]))
    assert code == 1
    lines = out.splitlines()
    assert lines[1].startswith(shown(str(bad))) and "is not an audio file" in lines[1]
    assert lines[2].startswith(shown(str(good[0]))) and lines[2].endswith(",")
    assert err.startswith("Error: 1 of 2 audio file(s) gave no prediction")
    assert f"{shown(bad)}: is not an audio file" in err

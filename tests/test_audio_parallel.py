"""numnet.audio on several cores: worker processes give the serial features bit for bit, in
file order, with bad files, the cache and the progress bar as one process has them."""

import os
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from types import SimpleNamespace

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from numnet import audio  # noqa: E402
from numnet.audio import AudioError, Augment, extract, parallel  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker processes start by fork on Linux only")

RATE = 22050
WORDS = ("low", "mid", "high")
PER_CLASS = 6


def clip(k, i):
    """A harmonic tone with a vowel-like envelope: class ``k``, take ``i``. 0.5 to 1 s: from
    about 0.65 s on, OpenBLAS rounds the mel spectrogram's product differently on one thread
    and on two (measured), so a worker on another BLAS thread count would show."""
    t = np.arange(round((0.5 + 0.1 * i) * RATE)) / RATE
    f0 = 110.0 * (1 + k) * (1 + 0.03 * i)
    y = sum(np.sin(2 * np.pi * h * f0 * t + h) / h for h in range(1, 6))
    return 0.3 * y * np.hanning(len(t)) / 2.3


@pytest.fixture
def folder(tmp_path):
    """``words/<class>/<i>.wav``: 18 clips, and ``words/mid/3.wav`` is not audio."""
    root = tmp_path / "words"
    for k, word in enumerate(WORDS):
        (root / word).mkdir(parents=True)
        for i in range(PER_CLASS):
            sf.write(root / word / f"{i}.wav", clip(k, i), RATE, subtype="PCM_16")
    (root / "mid" / "3.wav").write_text("not a sound")
    return root


class CountingPool(parallel.ProcessPoolExecutor):
    """Counts the pools made and the files handed to their workers."""

    pools = files = 0

    def __init__(self, *args, **kwargs):
        CountingPool.pools += 1
        super().__init__(*args, **kwargs)

    def submit(self, fn, task, chunk):
        CountingPool.files += len(chunk)
        return super().submit(fn, task, chunk)


@pytest.fixture
def workers(monkeypatch):
    """``workers(n)``: extract with ``n`` worker processes from 2 files on (1: none)."""
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", CountingPool)
    monkeypatch.setattr(parallel, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    CountingPool.pools = CountingPool.files = 0

    def use(n):
        monkeypatch.setenv(parallel.ENV, str(n))
    return use


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def good_files(root):
    return [p for p in sorted(root.rglob("*.wav")) if p.name != "3.wav" or p.parent.name != "mid"]


def test_workers_give_the_serial_features_bit_for_bit_in_file_order(folder, workers):
    files = good_files(folder)
    shuffled = [files[i] for i in np.random.default_rng(0).permutation(len(files))]
    workers(1)
    serial = audio.features_for_files(shuffled, cache=False)
    assert CountingPool.pools == 0
    workers(2)
    got = audio.features_for_files(shuffled, cache=False)
    assert CountingPool.pools == 1 and CountingPool.files == len(files) - 1   # the first: here
    assert same_bits(got, serial)
    one_by_one = np.array([audio.features_for_files([f], cache=False)[0] for f in shuffled])
    assert same_bits(one_by_one, serial)                    # row i is file i's
    with_arrays = np.array([audio.features(sf.read(f)[0], RATE) for f in shuffled[:3]])
    assert same_bits(with_arrays, serial[:3])               # and a clip given as an array's


def test_a_bad_file_among_good_ones(folder, workers, caplog):
    results = {}
    for n in (1, 2):
        workers(n)
        loaded = audio.load_folder(folder, skip_bad=True, cache=False)
        with pytest.raises(AudioError) as stopped:
            audio.load_folder(folder, cache=False)
        by_file = audio.features_by_file(sorted(folder.rglob("*.wav")), cache=False)
        results[n] = loaded, str(stopped.value), by_file
    assert CountingPool.pools == 3
    (serial, serial_error, serial_by_file), (got, error, by_file) = results[1], results[2]
    assert same_bits(got.X, serial.X) and got.y.tolist() == serial.y.tolist()
    assert got.files == serial.files == good_files(folder)
    assert got.skipped == serial.skipped and [p.name for p, _ in got.skipped] == ["3.wav"]
    assert error == serial_error and "mid/3.wav" in error and "file 16 of 18" in error
    assert "skip_bad=True" in error
    assert [(f.path, f.problem) for f in by_file] == [(f.path, f.problem) for f in serial_by_file]
    assert all(same_bits(a.features, b.features) for a, b in zip(by_file, serial_by_file,
                                                                  strict=True)
               if a.features is not None)


def test_a_failure_in_a_worker_keeps_its_type_and_names_the_file(folder, workers, monkeypatch):
    real = extract._describe

    def out_of_memory(y, s, where):
        if os.fspath(where).endswith(os.path.join("high", "2.wav")):
            raise MemoryError("no room")
        return real(y, s, where)

    monkeypatch.setattr(extract, "_describe", out_of_memory)   # workers inherit it
    workers(2)
    with pytest.raises(MemoryError) as info:
        audio.load_folder(folder, skip_bad=True, cache=False)  # not bad audio: not skipped
    assert CountingPool.files > 0
    if sys.version_info >= (3, 11):
        assert "high/2.wav (file 3 of 18)" in "".join(info.value.__notes__)


def test_the_cache_is_written_and_then_read_with_workers(folder, workers, tmp_path, monkeypatch):
    computed = []
    real = extract._describe

    def counting(*args):
        computed.append(1)                  # counts the clips computed in this process
        return real(*args)

    monkeypatch.setattr(extract, "_describe", counting)
    cache = tmp_path / "cache"
    workers(2)
    first = audio.load_folder(folder, skip_bad=True, cache=cache)
    assert CountingPool.pools == 1 and len(list(cache.rglob("*.npy"))) == len(first.files)
    computed.clear()
    again = audio.load_folder(folder, skip_bad=True, cache=cache)
    assert CountingPool.pools == 1 and computed == []       # the bad one fails before
    assert same_bits(again.X, first.X) and again.files == first.files
    workers(1)
    assert same_bits(audio.load_folder(folder, skip_bad=True, cache=False).X, first.X)


def test_the_progress_bar_counts_every_file_in_order(folder, workers, monkeypatch):
    tqdm_auto = pytest.importorskip("tqdm.auto")
    seen = []

    class Bar:
        def __init__(self, items, total, **kwargs):
            self.items, self.total = items, total

        def __iter__(self):
            for item in self.items:
                seen.append(item)
                yield item

    monkeypatch.setattr(tqdm_auto, "tqdm", Bar)
    workers(2)
    files = good_files(folder)
    X = audio.features_for_files(files, cache=False, progress=True)
    assert CountingPool.pools == 1 and len(seen) == len(files)
    assert same_bits(np.array(seen), X)


def test_augmented_copies_are_the_same_with_workers(folder, workers):
    files = good_files(folder)[:6]
    augment = Augment(noise_snr_db=20, gain_db=6, shift_s=0.05, copies=2, random_state=3)
    workers(1)
    serial, source = augment.features_for_files(files)
    workers(2)
    got, got_source = augment.features_for_files(files)
    assert CountingPool.pools == 1
    assert same_bits(got, serial) and got_source.tolist() == source.tolist()
    assert source.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_few_files_one_worker_another_thread_or_a_daemon_stay_in_this_process(
        folder, workers, monkeypatch):
    files = good_files(folder)
    workers(2)
    monkeypatch.setattr(parallel, "MIN_FILES_PER_WORKER", len(files) // 2 + 1)
    audio.features_for_files(files, cache=False)                   # too few for two workers
    monkeypatch.setattr(parallel, "MIN_FILES_PER_WORKER", 1)
    workers(1)
    audio.features_for_files(files, cache=False)
    workers(2)
    done = []
    thread = threading.Thread(target=lambda: done.append(
        audio.features_for_files(files, cache=False)))
    thread.start()
    thread.join()
    assert len(done) == 1
    with monkeypatch.context() as m:                # a pool's worker may not have children
        m.setattr(parallel.multiprocessing, "current_process",
                  lambda: SimpleNamespace(daemon=True))
        audio.features_for_files(files, cache=False)
    assert CountingPool.pools == 0
    assert parallel.worker_count(0) == parallel.worker_count(1) == 1


def test_where_no_process_can_start_the_files_are_computed_here(folder, workers, monkeypatch):
    files = good_files(folder)
    workers(1)
    serial = audio.features_for_files(files, cache=False)

    def no_fork(self, *args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(CountingPool, "submit", no_fork)
    workers(2)
    assert same_bits(audio.features_for_files(files, cache=False), serial)
    assert CountingPool.pools == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_worker_count_is_refused_in_one_line(folder, workers, value):
    workers(value)
    with pytest.raises(ValueError, match=rf"^{parallel.ENV}='{value}' is not a number") as info:
        audio.load_folder(folder, cache=False)
    assert "\n" not in str(info.value) and "unset it" in str(info.value)


def test_a_worker_that_dies_is_an_error_naming_a_file_not_a_hang(folder, workers, monkeypatch):
    real = extract._describe

    def dies(y, s, where):
        if os.fspath(where).endswith(os.path.join("low", "4.wav")):
            os._exit(3)                     # as the kernel's out-of-memory killer would
        return real(y, s, where)

    monkeypatch.setattr(extract, "_describe", dies)
    workers(2)
    with pytest.raises(BrokenProcessPool, match=f"{parallel.ENV}=1 to compute them") as info:
        audio.load_folder(folder, skip_bad=True, cache=False)
    if sys.version_info >= (3, 11):
        assert "while computing the features of" in "".join(info.value.__notes__)

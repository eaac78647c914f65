"""BLAS threads per shape (numnet.engine.threads): small products on one thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from numnet import MLP
from numnet.engine import threads
from numnet.engine.buffered import BufferedRunner

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads_now() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas"]


def test_the_rule_follows_the_largest_product():
    w3 = MLP(64, [128, 64], 10)                       # 64 x 64 x 128 = 0.5 million at 64
    assert threads.largest_product(w3, 64) == 64 * 64 * 128
    assert threads.blas_threads(w3, 64) == 1
    assert threads.blas_threads(w3, 256) is None      # 2.1 million: both threads pay
    w4 = MLP(784, [1024, 1024], 10)
    assert threads.blas_threads(w4, 1) is None


def test_limit_sets_one_thread_and_restores_what_was_there():
    before = blas_threads_now()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with threads.limit_blas(1):
            assert set(blas_threads_now()) == {1}
            with threads.limit_blas(1):                 # nested: still one
                assert set(blas_threads_now()) == {1}
            assert set(blas_threads_now()) == {1}
        assert set(blas_threads_now()) == {2}
        with threads.limit_blas(None):                  # None leaves BLAS alone
            assert set(blas_threads_now()) == {2}
    assert blas_threads_now() == before


class FakeBlas:
    """A BLAS library controller that records what it is set to."""

    def __init__(self, threads: int) -> None:
        self.threads, self.calls = threads, 0

    def get_num_threads(self) -> int:
        return self.threads

    def set_num_threads(self, threads: int) -> None:
        self.threads, self.calls = threads, self.calls + 1


def test_overlapping_blocks_in_two_threads_set_once_and_restore_once_both_leave(monkeypatch):
    lib = FakeBlas(2)
    monkeypatch.setattr(threads, "_blas_controllers", lambda: [lib])
    entered, release = threading.Barrier(2), threading.Event()
    seen: list[int] = []

    def worker() -> None:
        with threads.limit_blas(1):
            entered.wait()
            release.wait(5)
            seen.append(lib.threads)

    t = threading.Thread(target=worker)
    t.start()
    with threads.limit_blas(1):
        entered.wait()
    inside = lib.threads                 # the other thread is still in its block
    release.set()
    t.join()
    assert inside == 1 and seen == [1]
    assert lib.threads == 2 and lib.calls == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_is_bit_identical_on_one_thread_or_two(monkeypatch, dtype):
    """The buffered runner's results on one BLAS thread or two agree to rounding
    (OpenBLAS's float32 kernel for one thread rounds differently in the last bit)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 64)).astype(dtype)
    Y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 512)]
    kw = dict(batch_size=64, optimizer="adam", learning_rate=1e-3, epochs=2, verbose=False,
              random_state=0)
    results = []
    for rule in (lambda net, batch: 1, lambda net, batch: None):
        monkeypatch.setattr("numnet.engine.buffered.blas_threads", rule)
        net = MLP(64, [128, 64], 10, activation="relu", output_activation="softmax",
                  dtype=dtype, random_state=0)
        with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
            history = net.fit(X, Y, **kw)
        assert history.runner == BufferedRunner.name
        results.append((net.flat_parameters.copy(), history.loss))
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=rtol)


def test_a_blas_loaded_after_the_first_block_is_limited_too():
    """scipy's own OpenBLAS arrives with scipy.linalg (librosa and scikit-learn import it),
    often after numnet first limited BLAS: the next block limits it as well. In a fresh
    process, so that scipy is not loaded yet."""
    pytest.importorskip("scipy")
    code = """
import sys, threadpoolctl
from numnet.engine import threads
def counts():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas"]
with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
    with threads.limit_blas(1):
        first = counts()
    assert "scipy.linalg" not in sys.modules, "scipy was loaded already"
    import scipy.linalg
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with threads.limit_blas(1):
            later = counts()
print(len(first), len(later), set(later))
"""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    n_first, n_later, threads_later = done.stdout.split(maxsplit=2)
    assert int(n_later) > int(n_first)            # scipy brought a BLAS of its own
    assert threads_later.strip() == "{1}"

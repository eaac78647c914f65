"""Sparse ``X`` for the stochastic solvers: ``MLPClassifier``/``MLPRegressor`` with
``solver="sgd"`` or ``"adam"`` train on scipy.sparse CSR and CSC input, as scikit-learn's
MLPs do for every solver, without densifying ``X`` whole: the rows of a few mini-batches
are densified at a time (``numnet._fitting.loop.RowSource``, ``estimators.rows.SparseRows``),
so training gives the numbers training on ``X.toarray()`` gives."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_estimator_sparse_array,
    check_estimator_sparse_matrix,
)

import numnet
from numnet._fitting import loop
from numnet.estimators import MLPClassifier, MLPRegressor, rows

scipy_sparse = pytest.importorskip("scipy.sparse")

CONTAINERS = ["csr_matrix", "csr_array", "csc_matrix"]


def _data(n=120, features=30, seed=0):
    """``X (n, features)`` about 80% zeros, 3-class labels and 2-output targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    X[rng.random(X.shape) < 0.8] = 0.0
    labels = np.digitize(X[:, :4].sum(axis=1), [-0.5, 0.5])
    targets = np.column_stack([X[:, :3].sum(axis=1), X[:, 3:6].sum(axis=1)])
    return X, labels, targets


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", numnet.TrainingWarning)
        return call(*args, **kwargs)


def _assert_same(dense, sparse, X_dense, X_sparse):
    """Equal to rounding: weights, per-epoch records and predictions."""
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_,
                    strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    for name in ("loss_curve_", "validation_scores_", "validation_loss_curve_"):
        np.testing.assert_allclose(np.asarray(getattr(sparse, name), dtype=float),
                                   np.asarray(getattr(dense, name), dtype=float), rtol=1e-12)
    assert (sparse.n_iter_, sparse.t_) == (dense.n_iter_, dense.t_)
    np.testing.assert_allclose(sparse.predict(X_sparse), dense.predict(X_dense), rtol=1e-12)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("how", ["fit", "early_stopping", "partial_fit"])
def test_stochastic_solvers_train_on_sparse_X_as_on_X_toarray(how, Est, solver, container):
    """Sparse input for solver="sgd"/"adam", as scikit-learn's MLPs take it (CSR, CSC; its
    test_sparse_matrices): the same seed gives the same network as X.toarray()."""
    X, labels, targets = _data()
    y = labels if Est is MLPClassifier else targets
    Xs = getattr(scipy_sparse, container)(X)
    kw = {"solver": solver, "hidden_layer_sizes": (6,), "batch_size": 25, "random_state": 0,
          "learning_rate_init": 0.01, "max_iter": 4, "early_stopping": how == "early_stopping"}
    if how != "partial_fit":
        dense, sparse = _quiet(Est(**kw).fit, X, y), _quiet(Est(**kw).fit, Xs, y)
    else:
        dense, sparse = Est(**kw), Est(**kw)
        first = {"classes": np.unique(labels)} if Est is MLPClassifier else {}
        for start in range(0, len(X), 40):
            part = slice(start, start + 40)
            dense.partial_fit(X[part], y[part], **first)
            sparse.partial_fit(Xs[part], y[part], **first)
            first = {}
    _assert_same(dense, sparse, X, Xs)


def _runner_settings():
    """Settings that pick each runner (numnet.engine's rules), and a weighted fit."""
    return [({"batch_size": 1}, "compiled per-example"),
            ({"batch_size": 16}, "compiled small-batch"),
            ({"batch_size": 50, "hidden_layer_sizes": (40,)}, "buffered"),
            ({"batch_size": 16, "dropout": 0.3}, "reference"),
            ({"batch_size": 16, "sample_weight": True}, None),
            ({"batch_size": 16, "class_weight": "balanced"}, None)]


@pytest.mark.parametrize("settings,runner", _runner_settings())
@pytest.mark.parametrize("chunk_rows", [1, 37])
def test_every_runner_trains_chunk_by_chunk_as_on_dense_X(monkeypatch, settings, runner,
                                                          chunk_rows):
    """Sparse input for solver="sgd"/"adam": whichever runner trains, the densified chunks
    (one batch at a time, or several with a short last one) give the dense result."""
    X, labels, _ = _data(n=90)
    row_bytes = X.shape[1] * X.dtype.itemsize
    monkeypatch.setattr(loop, "CHUNK_BYTES", chunk_rows * row_bytes)
    densified = []
    real = rows.SparseRows.dense_rows

    def watched(self, index):
        densified.append(len(index))
        return real(self, index)

    monkeypatch.setattr(rows.SparseRows, "dense_rows", watched)
    settings = dict(settings)
    weights = np.linspace(0.2, 2.0, len(X)) if settings.pop("sample_weight", False) else None
    kw = {"solver": "adam", "hidden_layer_sizes": (6,), "random_state": 0, "max_iter": 2,
          **settings}
    dense = _quiet(MLPClassifier(**kw).fit, X, labels, sample_weight=weights)
    densified.clear()
    sparse = _quiet(MLPClassifier(**kw).fit, scipy_sparse.csr_array(X), labels,
                    sample_weight=weights)
    _assert_same(dense, sparse, X, scipy_sparse.csr_array(X))
    batch = kw["batch_size"]
    per_chunk = max(1, chunk_rows // batch) * batch
    training = [n for n in densified if n != min(len(X), loop.HEAD_ROWS)]  # not the head
    assert training and max(training) <= max(per_chunk, chunk_rows)
    assert sum(training) >= 2 * len(X)              # both epochs, a chunk at a time
    if runner is not None:
        assert runner in sparse.summary()


def test_a_large_sparse_X_trains_without_its_dense_copy():
    """Sparse input for solver="sgd"/"adam" is for X too large to densify: a 20000 x 5000
    CSR at 0.1% density (800 MB dense) trains an epoch, with early stopping, in a few MB.

    Measured peak (tracemalloc, which counts NumPy's arrays): 28-56 MiB over sgd/adam,
    classifier/regressor, with and without early stopping; the dense X alone is 763 MiB
    (and its held-out tenth 76 MiB). The bound, 200 MiB, leaves 3.5 times the largest."""
    rng = np.random.default_rng(0)
    n, features, nnz = 20_000, 5_000, 100_000                 # 0.1% of the entries
    X = scipy_sparse.csr_array((rng.random(nnz), (rng.integers(0, n, nnz),
                                                  rng.integers(0, features, nnz))),
                               shape=(n, features))
    y = rng.integers(0, 2, n)
    kw = {"solver": "adam", "hidden_layer_sizes": (10,), "max_iter": 1, "random_state": 0,
          "early_stopping": True}
    _quiet(MLPClassifier(**kw).fit, X[:300], y[:300])      # kernels loaded before measuring
    tracemalloc.start()
    try:
        clf = _quiet(MLPClassifier(**kw).fit, X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.n_iter_ == 1 and clf.t_ == 18_000
    assert peak < 200 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_every_solver_declares_and_passes_sklearns_sparse_checks(Est, solver):
    """Sparse input for MLP: the estimator tag says sparse X is taken, by every solver, and
    scikit-learn's own sparse checks (every sparse format, 32- and 64-bit indices) pass for
    the stochastic solvers (lbfgs's run in tests/test_estimators.py's contract)."""
    est = Est(solver=solver, max_iter=20, random_state=0)
    assert est.__sklearn_tags__().input_tags.sparse
    if solver == "lbfgs":
        return
    name = type(est).__name__
    _quiet(check_estimator_sparse_array, name, est)
    _quiet(check_estimator_sparse_matrix, name, est)


def test_fit_on_sparse_rows_refuses_what_needs_them_dense():
    """numnet.fit takes the estimators' sparse rows; a validation split or metrics on the
    training rows would need them dense, and are refused in one line saying what to pass."""
    X, labels, _ = _data(n=40)
    net = numnet.MLP(X.shape[1], [4], 3, output_activation="softmax", random_state=0)
    sparse_rows = rows.SparseRows(scipy_sparse.csr_array(X))
    for kwargs in ({"validation_split": 0.2, "metrics": []}, {"metrics": ["accuracy"]}):
        with pytest.raises(ValueError, match="pass metrics=\\[\\] and validation_data") as err:
            numnet.fit(net, sparse_rows, labels, epochs=1, verbose=False, **kwargs)
        assert "\n" not in str(err.value)
    history = numnet.fit(net, sparse_rows, labels, epochs=1, verbose=False, metrics=[],
                         validation_data=(X[:10], labels[:10]))
    assert len(history.loss) == 1 and len(history.val_loss) == 1

"""NumPy's array subclasses and other array kinds at every entry point that takes data.

A masked array's mask was dropped (the values under it trained, predicted and scored);
a ``numpy.matrix`` went through the passes as a matrix; a scipy sparse matrix and
pandas' missing values got messages about "object values". Now: masked values are
refused, a matrix is its array, a sparse matrix says what takes one, missing values
are named.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from numnet import MLP, metrics
from numnet.baselines import Baseline

rng = np.random.default_rng(0)
X = rng.random((20, 2))
y = X.sum(axis=1)
LABELS = (y > 1).astype(int)


def _masked(a: np.ndarray) -> np.ma.MaskedArray:
    mask = np.zeros(a.shape, dtype=bool)
    mask.flat[3] = True
    return np.ma.masked_array(a, mask=mask)


def _matrix(a: np.ndarray) -> np.matrix:
    with warnings.catch_warnings():           # NumPy's own advice against np.matrix
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(a)


def _net(n_out: int = 1, **kw) -> MLP:
    return MLP(2, [3], n_out, random_state=0, **kw)


def _fit(net, X_, y_, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return net.fit(X_, y_, epochs=2, verbose=False, random_state=0, **kw)


ENTRY_POINTS = {
    "fit X": (lambda: _fit(_net(), _masked(X), y), "X"),
    "fit y": (lambda: _fit(_net(), X, _masked(y)), "y"),
    "fit labels": (lambda: _fit(_net(2, output_activation="softmax"), X, _masked(LABELS)),
                   "y"),
    "fit sample_weight": (lambda: _fit(_net(), X, y, sample_weight=_masked(np.ones(20))),
                          "sample_weight"),
    "fit validation_data": (lambda: _fit(_net(), X, y, validation_data=(_masked(X), y)),
                            "validation X"),
    "predict": (lambda: _net().predict(_masked(X)), "X"),
    "forward": (lambda: _net().forward(_masked(X)), "X"),
    "evaluate": (lambda: _net().evaluate(_masked(X), y), "X"),
    "metrics.mean_squared_error": (lambda: metrics.mean_squared_error(_masked(y), y),
                                   "y_true"),
    "metrics.r2_score": (lambda: metrics.r2_score(y, _masked(y)), "y_pred"),
    "metrics.accuracy": (lambda: metrics.accuracy(_masked(LABELS), LABELS), "y_true"),
    "Baseline.fit": (lambda: Baseline.fit(_masked(y)), "Y_train"),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_masked_values_are_refused_naming_the_argument(entry):
    call, name = ENTRY_POINTS[entry]
    with pytest.raises(ValueError, match=f"^{name} is a masked array with 1 masked value"):
        call()


def test_a_masked_array_with_nothing_masked_is_its_data():
    plain, masked = _fit(_net(), X, y), _fit(_net(), np.ma.masked_array(X), np.ma.masked_array(y))
    assert plain.loss == masked.loss


def test_a_matrix_trains_and_predicts_as_its_array():
    net_a, net_m = _net(), _net()
    assert _fit(net_a, X, y).loss == _fit(net_m, _matrix(X), y).loss
    out = net_m.predict(_matrix(X))
    assert type(out) is np.ndarray and np.array_equal(out, net_a.predict(X))


def test_a_sparse_matrix_says_what_takes_one():
    sparse = pytest.importorskip("scipy.sparse")
    for kind in (sparse.csr_matrix, sparse.csr_array):
        with pytest.raises(TypeError, match=r"X is a scipy sparse matrix.*X\.toarray\(\).*"
                                            r"numnet\.estimators"):
            _net().predict(kind(X))


def test_pandas_missing_values_are_named():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X).astype("Float64")
    frame.iloc[2, 1] = pd.NA
    with pytest.raises(ValueError, match=r"X holds 1 missing value\(s\) \(None or pandas' NA\)"):
        _fit(_net(), frame, y)

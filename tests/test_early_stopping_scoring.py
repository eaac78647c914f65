"""``scoring``: the metric ``early_stopping`` watches and ``validation_scores_`` records.

None is the estimator's ``score`` (accuracy, R²), as in scikit-learn; a name
goes through :func:`sklearn.metrics.get_scorer`, and so does a callable
``scorer(estimator, X, y)``. The tests hold the recorded scores to the
scorer's own values and the stopping to them (a constant score stops after
``n_iter_no_change + 1`` epochs, a rising one never), so a scoring that were
ignored would fail them.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss, mean_absolute_error  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

import numnet  # noqa: E402
from numnet.estimators import MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _iris():
    return load_iris(return_X_y=True)


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:200], (y[:200] - y.mean()) / y.std()


def _problem(Est):
    return _iris() if Est is MLPClassifier else _diabetes()


def _est(Est, **kw):
    settings = dict(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30,
                    learning_rate_init=0.01, random_state=0)
    return Est(**{**settings, **kw})


@pytest.mark.parametrize("Est, name", [(MLPClassifier, "accuracy"), (MLPRegressor, "r2")])
def test_none_is_the_estimators_score(Est, name):
    X, y = _problem(Est)
    default = _est(Est).fit(X, y)
    named = _est(Est, scoring=name).fit(X, y)
    assert default.scoring is None and default.validation_scores_ == named.validation_scores_
    np.testing.assert_array_equal(default.network_.flat_parameters,
                                  named.network_.flat_parameters)


@pytest.mark.parametrize("Est, name, metric", [
    (MLPClassifier, "neg_log_loss", lambda est, X, y: -log_loss(y, est.predict_proba(X))),
    (MLPRegressor, "neg_mean_absolute_error",
     lambda est, X, y: -mean_absolute_error(y, est.predict(X)))])
def test_a_named_scorer_is_recorded_and_watched(Est, name, metric):
    X, y = _problem(Est)
    seen = []

    def scorer(est, X_val, y_val):
        seen.append(metric(est, X_val, y_val))
        return seen[-1]

    named = _est(Est, scoring=name, n_iter_no_change=3).fit(X, y)
    called = _est(Est, scoring=scorer, n_iter_no_change=3).fit(X, y)
    assert called.validation_scores_ == seen                  # recorded as the scorer gave
    assert named.validation_scores_ == pytest.approx(seen, rel=1e-12, abs=1e-15)
    assert all(s < 0 for s in seen)                           # losses, negated
    assert called.best_validation_score_ == max(seen)
    np.testing.assert_array_equal(named.network_.flat_parameters,
                                  called.network_.flat_parameters)
    default = _est(Est, n_iter_no_change=3).fit(X, y)
    assert default.validation_scores_ != named.validation_scores_


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_stopping_follows_the_scorer(Est):
    X, y = _problem(Est)
    flat = _est(Est, scoring=lambda est, X, y: 0.5, n_iter_no_change=4).fit(X, y)
    assert flat.n_iter_ == 1 + 4 + 1 and flat.validation_scores_ == [0.5] * 6
    rising = iter(range(1000))
    up = _est(Est, scoring=lambda est, X, y: float(next(rising)), n_iter_no_change=2).fit(X, y)
    assert up.n_iter_ == 30 and up.best_validation_score_ == 29.0


def test_sample_weight_reaches_the_scorer():
    X, y = _iris()
    got = []

    def scorer(est, X_val, y_val, sample_weight=None):
        got.append(sample_weight)
        return 0.0

    _est(MLPClassifier, scoring=scorer, max_iter=2).fit(X, y)
    assert got == [None, None]
    weights = np.linspace(0.5, 2.0, len(y))
    _est(MLPClassifier, scoring=scorer, max_iter=2).fit(X, y, sample_weight=weights)
    assert len(got[2]) == 15 and set(np.round(got[2], 12)) <= set(np.round(weights, 12))


def test_scoring_is_a_checked_parameter():
    X, y = _iris()
    est = MLPClassifier(scoring="neg_log_loss")
    assert est.get_params()["scoring"] == "neg_log_loss"
    assert clone(est).scoring == "neg_log_loss"
    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        MLPClassifier(scoring="no_such_metric").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        MLPRegressor(scoring=3).fit(X, y)
    # without early_stopping, scoring is not used (as scikit-learn's HistGradientBoosting)
    plain = MLPClassifier((4,), max_iter=3, random_state=0, scoring="neg_log_loss").fit(X, y)
    assert plain.validation_scores_ is None


def test_a_scorer_name_is_saved_and_a_callable_is_not(tmp_path, caplog):
    X, y = _iris()
    named = _est(MLPClassifier, scoring="neg_log_loss", max_iter=3).fit(X, y)
    loaded = numnet.load(numnet.save(named, tmp_path / "named.safetensors"))
    assert loaded.scoring == "neg_log_loss"
    assert loaded.validation_scores_ == named.validation_scores_
    called = _est(MLPClassifier, scoring=lambda est, X, y: 0.0, max_iter=3).fit(X, y)
    with caplog.at_level(logging.WARNING, logger="numnet.estimators"):
        path = numnet.save(called, tmp_path / "called.safetensors")
    assert "is not saved with the estimator" in caplog.text
    assert numnet.load(path).scoring is None

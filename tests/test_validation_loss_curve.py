"""validation_loss_curve_ beside validation_scores_ (scikit-learn #18507: the held-out loss
per epoch, which users asked to see and to stop on)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

import numnet
from numnet.estimators import MLPClassifier, MLPRegressor

X, y = load_iris(return_X_y=True)


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_one_held_out_loss_per_epoch_in_the_training_losss_units():
    est = quiet_fit(MLPClassifier((16,), early_stopping=True, max_iter=40, alpha=0.0,
                                  random_state=0), X / 8, y)
    curve = est.validation_loss_curve_
    assert len(curve) == len(est.loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert all(np.isfinite(curve))
    # the same units as loss_curve_ (log-loss here): near it, both starting near log(3)
    assert abs(curve[0] - np.log(3)) < 0.2 and abs(curve[0] - est.loss_curve_[0]) < 0.2


def test_the_regressors_curve_is_half_the_squared_error_as_loss_curve_is():
    est = quiet_fit(MLPRegressor(hidden_layer_sizes=(16,), early_stopping=True, max_iter=30,
                                 alpha=0.0, random_state=0), X[:, :3], X[:, 3])
    assert len(est.validation_loss_curve_) == est.n_iter_
    assert est.validation_loss_curve_[-1] < est.validation_loss_curve_[0]


def test_none_without_early_stopping_and_kept_by_numnet_save(tmp_path):
    assert quiet_fit(MLPClassifier((4,), max_iter=5, random_state=0), X, y
                     ).validation_loss_curve_ is None
    est = quiet_fit(MLPClassifier((8,), early_stopping=True, max_iter=10, random_state=0),
                    X / 8, y)
    loaded = numnet.load(numnet.save(est, tmp_path / "e.safetensors"))
    assert loaded.validation_loss_curve_ == est.validation_loss_curve_


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_a_warm_start_extends_the_curve_it_continues(Est):
    target = y if Est is MLPClassifier else X[:, 3]
    est = Est(hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, warm_start=True,
              n_iter_no_change=100, random_state=0)
    quiet_fit(est, X / 8, target)
    first = len(est.validation_loss_curve_)
    quiet_fit(est, X / 8, target)
    assert first == 5 and len(est.validation_loss_curve_) == first + est.n_iter_
    assert len(est.validation_loss_curve_) == len(est.validation_scores_)

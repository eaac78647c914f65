"""The estimators' verbose baseline line and summary()."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from numnet.estimators import MLPClassifier, MLPRegressor

X, y = load_iris(return_X_y=True)


def fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_verbose_ends_with_the_baseline_in_scikit_learns_units(capsys):
    fitted(MLPClassifier((8,), max_iter=3, verbose=True, random_state=0), X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [line for line in out if line.startswith("Iteration")]
    base = next(line for line in out if line.startswith("Baseline loss = "))
    # three balanced classes: the class shares' log-loss is log(3)
    assert float(base.split(" = ")[1].split()[0]) == pytest.approx(math.log(3), abs=1e-8)
    assert out[-1].startswith("The network learned nothing")     # 3 epochs on raw iris


def test_a_regressor_that_learned_says_only_its_baseline(capsys):
    target = X[:, 3]
    est = fitted(MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=200,
                              verbose=True, random_state=0), X[:, :3], target)
    out = capsys.readouterr().out.splitlines()
    base = float(out[-1].split(" = ")[1].split()[0])
    assert out[-1].startswith("Baseline loss = ")                # nothing after it
    assert base == pytest.approx(0.5 * np.var(target), abs=1e-8)   # half the squared error
    assert est.loss_ < base / 5


def test_quiet_estimators_print_nothing(capsys):
    fitted(MLPClassifier((8,), max_iter=3, random_state=0), X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_summary_names_the_layers_and_what_trains_them(solver):
    est = fitted(MLPClassifier((8, 4), solver=solver, max_iter=5, random_state=0), X, y)
    text = est.summary()
    assert text.startswith("MLP(4, [8, 4], 3), float64")
    assert "hidden 2       4  relu" in text and "total" in text
    assert str(est._net.num_parameters) in text
    if solver == "lbfgs":
        assert text.endswith("scipy's L-BFGS-B on the whole set (the network's own forward "
                             "and backward passes)")
    else:
        assert "batch_size=150" in text and "runner" in text     # "auto": min(200, n)


def test_summary_before_fit_says_so():
    with pytest.raises(NotFittedError):
        MLPRegressor().summary()

"""numnet.metrics against scikit-learn's definitions."""

import numpy as np
import pytest

from numnet import metrics

skm = pytest.importorskip("sklearn.metrics")           # the reference: the sklearn extra


@pytest.mark.parametrize("n_targets", [1, 3])
def test_regression_scores_match_sklearn(rng, n_targets):
    y = rng.normal(size=(40, n_targets))
    p = y + rng.normal(scale=0.3, size=y.shape)
    assert metrics.mean_squared_error(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert metrics.mean_absolute_error(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert metrics.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))


def test_r2_of_a_constant_target():
    y = np.full(5, 2.0)
    assert metrics.r2_score(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2_score(y, y + 1) == skm.r2_score(y, y + 1) == 0.0


@pytest.mark.parametrize("labels", [["a", "b", "c"], [0, 1, 2, 3]])
def test_classification_scores_match_sklearn(rng, labels):
    t = rng.choice(labels, 60)
    p = np.where(rng.random(60) < 0.7, t, rng.choice(labels, 60))
    p[p == labels[-1]] = labels[0]         # one class never predicted: zero division
    cm = metrics.confusion_matrix(t, p, labels)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(t, p, labels=labels))
    precision, recall, f1, support = metrics.precision_recall_f1(cm)
    ref = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    for mine, theirs in zip((precision, recall, f1, support), ref, strict=True):
        np.testing.assert_allclose(mine, theirs)
    scores = metrics.classification_scores(t, p, labels)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    assert scores["macro_f1"] == pytest.approx(
        skm.f1_score(t, p, labels=labels, average="macro", zero_division=0))


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="must match"):
        metrics.mean_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        metrics.accuracy([], [])


def test_confusion_matrix_refuses_a_label_it_would_not_count():
    with pytest.raises(ValueError, match=r"y_true holds label\(s\) not in labels: 'c' \(2 row"):
        metrics.confusion_matrix(["a", "c", "c", "b"], ["a", "a", "b", "b"], ["a", "b"])


def test_every_row_counts_when_the_data_has_a_label_the_model_never_saw(rng):
    t = rng.choice(["a", "b", "c"], 50)
    p = np.where(rng.random(50) < 0.6, t, rng.choice(["a", "b"], 50))
    p[p == "c"] = "a"                       # the model knows a and b only
    scores = metrics.classification_scores(t, p, ["a", "b"])
    assert scores["labels"] == ["a", "b", "c"]
    assert scores["unseen"] == {"c": int(np.sum(t == "c"))}
    assert scores["confusion_matrix"].sum() == scores["support"].sum() == 50
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    assert scores["macro_f1"] == pytest.approx(skm.f1_score(t, p, average="macro",
                                                            zero_division=0))
    np.testing.assert_array_equal(scores["confusion_matrix"], skm.confusion_matrix(t, p))


def test_regression_scores_of_targets_near_the_float_limit_are_numbers():
    """Targets near 1e300: r2 and mae as for the same data scaled down, and no warning."""
    import warnings

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    small = metrics.regression_scores(y, p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = metrics.regression_scores(y * 1e300, p * 1e300)
    assert big["r2"] == pytest.approx(small["r2"], rel=1e-12)
    assert big["mae"] == pytest.approx(small["mae"] * 1e300, rel=1e-12)
    assert big["mse"] == np.inf                   # about 1e600: beyond the float range

"""Baselines: the constant prediction each score is compared with, and "learned nothing".

Hand-computed values for each constant (mean, median, class shares, majority
class), properties over seeded random targets (the constant is the best one
for its loss), ``evaluate(..., baseline_from=...)``, and ``fit(verbose=True)``
marking the tutorial's 1 - x network that learned nothing, not the one that
learned.
"""

import io
import math
import warnings

import numpy as np
import pytest

from numnet import MLP, callbacks, datasets, evaluate, fit
from numnet.baselines import (
    MARGIN,
    Baseline,
    baseline_accuracy,
    baseline_loss,
    best_constant,
    class_counts,
    learned_nothing,
    majority_class,
    not_beaten,
)
from numnet.losses import get_loss

# 1. hand-computed constants and scores -----------------------------------------------------

def test_mean_for_mse_median_for_mae():
    y = [0.0, 1.0, 2.0, 10.0]
    assert best_constant(y, "mse") == pytest.approx([13.0 / 4])
    assert best_constant(y, "mae") == pytest.approx([1.5])
    # mse of the mean: the variance; mae of the median: mean |y - 1.5|
    assert baseline_loss(y, "mse") == pytest.approx(np.mean((np.array(y) - 3.25) ** 2))
    assert baseline_loss(y, "mae") == pytest.approx((1.5 + 0.5 + 0.5 + 8.5) / 4)
    # scored on other targets, the constant is still the training one
    assert baseline_loss(y, "mse", [5.0, 6.0]) == pytest.approx(((5 - 3.25) ** 2 + (6 - 3.25) ** 2)
                                                               / 2)
    assert baseline_loss(y, "mae", [5.0]) == pytest.approx(3.5)


def test_one_minus_x_baseline_is_a_twelfth():
    """Predicting the mean of 1 - x, x uniform on [0, 1), scores its variance 1/12 = 0.0833."""
    _, y = datasets.one_minus_x(200_000, random_state=0)
    assert baseline_loss(y, "mse") == pytest.approx(1 / 12, rel=5e-3)


def test_class_shares_for_cross_entropy():
    Y = np.eye(3)[[0, 0, 1, 2]]                     # one-hot: shares 1/2, 1/4, 1/4
    base = Baseline.fit(Y, "cce")
    assert base.constant == pytest.approx([0.5, 0.25, 0.25])
    assert base.what == "the training class shares"
    assert base.score(Y) == pytest.approx(-(0.5 * math.log(0.5) + 0.5 * math.log(0.25)))
    column = np.array([[1.0], [0.0], [0.0], [0.0]])   # one sigmoid unit: share of class 1
    assert best_constant(column, "bce") == pytest.approx([0.25])
    assert baseline_loss(column, "bce") == pytest.approx(
        -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def test_poisson_and_several_outputs_take_the_mean_per_column():
    Y = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 11.0]])
    assert best_constant(Y, "poisson") == pytest.approx([2.0, 5.0])
    assert best_constant(Y, "mse") == pytest.approx([2.0, 5.0])
    assert best_constant(Y, "mae") == pytest.approx([2.0, 3.0])


def test_majority_class_and_its_accuracy():
    train = ["a", "b", "b", "c"]
    assert majority_class(train) == "b"
    assert baseline_accuracy(train) == 0.5
    assert baseline_accuracy(train, ["a", "a", "b"]) == pytest.approx(1 / 3)
    assert baseline_accuracy(train, ["z"]) == 0.0        # a label never seen: an error
    # ties: the first of the classes' order, as argmax picks among equal outputs
    assert majority_class([2, 1, 1, 2]) == 1
    assert majority_class([2, 1, 1, 2], classes=[2, 1]) == 2
    assert class_counts(["x", "y", "x"], ["y", "x", "w"])[1].tolist() == [1, 2, 0]


def test_learned_nothing_and_its_margin():
    base = 1 / 12
    # the tutorial's networks that learned nothing scored 0.0827-0.0835
    assert learned_nothing(0.0827, base) and learned_nothing(0.0835, base)
    assert not learned_nothing(0.05, base)
    assert learned_nothing(base * (1 - MARGIN), base)              # the margin is not enough
    assert not learned_nothing(base * (1 - MARGIN) * 0.999, base)
    # accuracy: higher is better, gaps to 1 compared
    assert learned_nothing(0.339, 1 / 3, higher_is_better=True)    # the bar: 1 - 0.99 * 2/3
    assert not learned_nothing(0.341, 1 / 3, higher_is_better=True)
    assert not learned_nothing(0.9, 1 / 3, higher_is_better=True)
    # nothing to beat: constant targets (a loss of 0, an accuracy of 1)
    assert not learned_nothing(0.001, 0.0)
    assert not learned_nothing(0.9, 1.0, higher_is_better=True)
    assert learned_nothing(float("nan"), base) and learned_nothing(float("inf"), base)
    assert not_beaten({"loss": 0.0827, "accuracy": 0.9}, {"loss": base, "accuracy": 0.5}) \
        == ["loss"]
    with pytest.raises(ValueError, match="margin"):
        learned_nothing(0.05, base, margin=1.5)


def test_bad_targets_say_what_to_do():
    with pytest.raises(ValueError, match="at least one"):
        best_constant([])
    with pytest.raises(ValueError, match="NaN"):
        best_constant([1.0, float("nan")])
    with pytest.raises(ValueError, match="same shape"):
        Baseline.fit(np.zeros((3, 2))).score(np.zeros((3, 1)))


# 2. properties over seeded random targets ------------------------------------------------------

@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "poisson", "bce", "cce"])
def test_the_constant_is_the_best_one_for_its_loss(loss):
    """No nudge of the constant, in any column, lowers its loss on the training targets."""
    rng = np.random.default_rng(0)
    lossfn = get_loss(loss)
    for trial in range(40):
        n, k = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        if loss == "cce":
            Y = np.eye(k + 1)[rng.integers(0, k + 1, n)]
        elif loss == "bce":
            Y = rng.integers(0, 2, (n, k)).astype(float)
        elif loss == "poisson":
            Y = rng.poisson(3.0, (n, k)).astype(float)
        else:
            Y = rng.standard_t(2, (n, k)) * 3          # heavy tails: mean, median, centre differ
        base = Baseline.fit(Y, lossfn)
        best = base.score(Y)
        for _ in range(5):
            nudged = base.constant + rng.normal(0, 0.1, base.constant.shape)
            if loss in ("bce", "cce", "poisson"):
                nudged = np.clip(nudged, 1e-3, None if loss == "poisson" else 1 - 1e-3)
            if loss == "cce":
                nudged = nudged / nudged.sum()
            other = float(lossfn.value(np.tile(nudged, (n, 1)), Y))
            assert best <= other + 1e-9, (trial, loss, base.constant, nudged)


def test_mse_baseline_on_its_own_targets_is_the_variance_and_r2_zero():
    rng = np.random.default_rng(1)
    for _ in range(20):
        Y = rng.normal(rng.normal(), rng.uniform(0.1, 5), (int(rng.integers(2, 50)), 2))
        assert baseline_loss(Y, "mse") == pytest.approx(float(np.mean(Y.var(axis=0))))
        P = np.tile(best_constant(Y, "mse"), (len(Y), 1))
        ss_res = ((Y - P) ** 2).sum(axis=0)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        assert 1 - ss_res / ss_tot == pytest.approx([0.0, 0.0], abs=1e-12)


def test_learned_nothing_is_monotone_in_the_score():
    """Lower losses (higher accuracies) never turn "learned" into "learned nothing"."""
    rng = np.random.default_rng(2)
    for _ in range(200):
        base, a, b = rng.uniform(0, 2), rng.uniform(0, 3), rng.uniform(0, 3)
        low, high = sorted((a, b))
        if not learned_nothing(high, base):
            assert not learned_nothing(low, base)
        acc_base, x, y = rng.uniform(0, 1, 3)
        lo, hi = sorted((x, y))
        if not learned_nothing(lo, acc_base, higher_is_better=True):
            assert not learned_nothing(hi, acc_base, higher_is_better=True)


# 3. evaluate(..., baseline_from=...) -----------------------------------------------------------

def test_evaluate_adds_baselines_only_when_asked():
    X, y = datasets.one_minus_x(40, random_state=0)
    Xt, yt = datasets.one_minus_x(30, random_state=1)
    net = MLP(1, [3], 1, random_state=0)
    assert set(evaluate(net, Xt, yt)) == {"loss"}
    scores = evaluate(net, Xt, yt, metrics=["mse", "mae"], baseline_from=y)
    assert set(scores) == {"loss", "mse", "mae", "baseline_loss", "baseline_mse", "baseline_mae"}
    # the training set's constant, scored on the test targets
    assert scores["baseline_loss"] == pytest.approx(np.mean((yt - y.mean()) ** 2))
    assert scores["baseline_mae"] == pytest.approx(np.mean(np.abs(yt - np.median(y))))
    assert net.evaluate(Xt, yt, baseline_from=y) == {
        "loss": scores["loss"], "baseline_loss": scores["baseline_loss"]}


def test_evaluate_baseline_for_labels_is_the_majority_class():
    X = np.random.default_rng(0).normal(size=(8, 2))
    train = ["a", "a", "a", "b", "b", "c", "c", "c"]          # a and c tie: a, the first
    net = MLP(2, [4], 3, output_activation="softmax", random_state=0)
    fit(net, X, train, epochs=1, verbose=False)
    test = ["c", "c", "a", "b"]
    scores = evaluate(net, X[:4], test, baseline_from=train)
    assert scores["baseline_accuracy"] == 0.25
    shares = np.array([3, 2, 3]) / 8
    expected = -np.mean(np.log(shares[[2, 2, 0, 1]]))
    assert scores["baseline_loss"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="not among the network's classes"):
        evaluate(net, X[:4], test, baseline_from=["a", "z"])


# 4. fit(verbose=True) says the baseline, and marks a run that learned nothing ------------------

def _verbose_fit(net, X, y, **options):
    stream = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # the TrainingWarning says its own part
        fit(net, X, y, callbacks=[callbacks.ProgressBar(stream=stream)], verbose=True,
            **options)
    return stream.getvalue().splitlines()


def test_the_tutorial_network_that_learns_nothing_is_marked():
    """1 - x: a deep sigmoid network trained one example at a time ends with one output for
    every input (measured 1.01-1.03 times the mean's loss, seeds 0-3)."""
    X, y = datasets.one_minus_x(200, random_state=0)
    lines = _verbose_fit(MLP(1, [64] * 6, 1, activation="sigmoid", random_state=0), X, y,
                         epochs=3, batch_size=1, learning_rate=0.1, shuffle=False)
    assert [line.split()[1] for line in lines[:3]] == ["1/3", "2/3", "3/3"]
    assert lines[3] == f"baseline loss={np.mean((y - y.mean()) ** 2):.4g} (always predicting " \
                       f"the training targets' mean)"
    assert lines[4].startswith("learned nothing: the network does no better than always "
                               "predicting the training targets' mean (training: loss=")
    assert "try more epochs" in lines[4] and len(lines) == 5


def test_a_network_that_learns_is_not_marked():
    """The tutorial's MLP(1, [3], 1): measured 0.02-0.05 times the mean's loss."""
    X, y = datasets.one_minus_x(200, random_state=0)
    lines = _verbose_fit(MLP(1, [3], 1, random_state=0), X, y, epochs=10, batch_size=1,
                         learning_rate=0.1, validation_split=0.2)
    base = next(line for line in lines if line.startswith("baseline "))
    assert base.startswith("baseline loss=") and " val_loss=" in base
    assert not any("learned nothing" in line for line in lines)


def test_verbose_fit_with_labels_shows_the_majority_class_accuracy():
    X, labels = datasets.spirals(90, n_classes=3, random_state=0)
    lines = _verbose_fit(MLP(2, [8], 3, output_activation="softmax", random_state=0), X, labels,
                         epochs=2, validation_split=0.2)
    last = [line for line in lines if line.startswith("baseline ")]
    assert len(last) == 1
    assert " accuracy=" in last[0] and " val_accuracy=" in last[0]
    assert last[0].endswith("(always predicting the training class shares; the majority class "
                            "for accuracy)")

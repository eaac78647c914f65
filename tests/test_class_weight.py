"""fit(class_weight=...) (scikit-learn #9113; PRs #11723 and #25326 closed unmerged)."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import MLP, fit
from numnet.labels import class_sample_weights


def _imbalanced(seed: int = 0):
    """1:20 two-class data (2,000 vs 100 samples, overlapping gaussians) and a balanced test set."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (2000, 2)), rng.normal(1.2, 1, (100, 2))])
    y = np.array([0] * 2000 + [1] * 100)
    Xt = np.vstack([rng.normal(0, 1, (2000, 2)), rng.normal(1.2, 1, (2000, 2))])
    yt = np.array([0] * 2000 + [1] * 2000)
    return X, y, Xt, yt


def test_balanced_raises_minority_recall():
    """Measured over seeds 0-4 (MLP(2, [8], 1) tanh/sigmoid, bce, Adam 0.01, 30 epochs):
    minority recall 0.15-0.28 unweighted, 0.71-0.79 with class_weight="balanced"."""
    X, y, Xt, yt = _imbalanced()
    recall = {}
    for cw in (None, "balanced"):
        net = MLP(2, [8], 1, activation="tanh", output_activation="sigmoid", random_state=0)
        fit(net, X, y, loss="bce", epochs=30, optimizer="adam", learning_rate=0.01,
            class_weight=cw, verbose=False, random_state=0)
        recall[cw] = float(np.mean(net.predict(Xt)[yt == 1] == 1))
    assert recall[None] < 0.4 and recall["balanced"] > 0.6


def test_balanced_is_scikit_learns_formula():
    utils = pytest.importorskip("sklearn.utils")
    labels = np.array(["b", "a", "a", "c", "a", "b"])
    classes = ["a", "b", "c"]
    index = np.array([classes.index(v) for v in labels])
    expected = utils.compute_class_weight("balanced", classes=np.array(classes), y=labels)
    np.testing.assert_allclose(class_sample_weights("balanced", index, classes),
                               expected[index])


def test_dict_weights_multiply_sample_weight_as_scikit_learn_does():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = np.array(["cat", "dog", "eel", "dog"] * 10)
    sw = rng.uniform(0.5, 2.0, 40)
    per_class = {"cat": 3.0, "eel": 0.5}                      # dog left out: weight 1
    product = sw * np.array([per_class.get(v, 1.0) for v in y])

    def trained(**kw):
        net = MLP(3, [5], 3, output_activation="softmax", random_state=0)
        fit(net, X, y, epochs=3, verbose=False, random_state=0, **kw)
        return net.flat_parameters

    np.testing.assert_array_equal(trained(sample_weight=sw, class_weight=per_class),
                                  trained(sample_weight=product))


@pytest.mark.parametrize("class_weight, y, match", [
    ("balanced", np.linspace(0, 1, 12), "class_weight needs class labels as y"),
    ("even", np.arange(12) % 2, "class_weight must be 'balanced' or a dict"),
    ({2: 1.0}, np.arange(12) % 2, r"class_weight names labels \[2\]"),
    ({1: -1.0}, np.arange(12) % 2, "finite and non-negative"),
])
def test_bad_class_weight_is_refused_in_one_line(class_weight, y, match):
    net = MLP(2, [3], 1, output_activation="sigmoid", random_state=0)
    loss = "mse" if y.dtype.kind == "f" else "bce"
    with pytest.raises(ValueError, match=match) as info:
        fit(net, np.zeros((12, 2)), y, loss=loss, class_weight=class_weight, verbose=False)
    assert "\n" not in str(info.value)

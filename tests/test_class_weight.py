"""class_weight in fit and MLPClassifier (scikit-learn #9113; PRs #11723 and #25326 closed
unmerged)."""

from __future__ import annotations

import warnings

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


def test_the_classifier_takes_class_weight_too():
    """MLPClassifier(class_weight=...): measured on the same 1:20 set (hidden (8,), tanh,
    adam 0.01, 30 epochs, seeds 0-2): minority recall 0.29-0.30 without, 0.78-0.80 with."""
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    from numnet.estimators import MLPClassifier

    X, y, Xt, yt = _imbalanced()
    recall = {}
    for cw in (None, "balanced"):
        est = MLPClassifier((8,), activation="tanh", learning_rate_init=0.01, max_iter=30,
                            random_state=0, class_weight=cw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        recall[cw] = float(np.mean(est.predict(Xt)[yt == 1] == 1))
    assert recall[None] < 0.45 and recall["balanced"] > 0.6


def test_the_classifiers_class_weight_is_a_sample_weight_factor():
    pytest.importorskip("sklearn")
    from numnet.estimators import MLPClassifier

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((60, 3)), np.array(["x", "y", "y"] * 20)
    sw = rng.uniform(0.5, 2.0, 60)
    per_class = {"x": 4.0}

    a = MLPClassifier((5,), solver="lbfgs", max_iter=200, random_state=0, class_weight=per_class)
    b = MLPClassifier((5,), solver="lbfgs", max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # whether lbfgs converges is not the point
        a.fit(X, y, sample_weight=sw)
        b.fit(X, y, sample_weight=sw * np.where(y == "x", 4.0, 1.0))
    for wa, wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)
    balanced = MLPClassifier((5,), class_weight="balanced", random_state=0)
    with pytest.raises(ValueError, match="partial_fit sees a batch"):
        balanced.partial_fit(X, y, classes=["x", "y"])


@pytest.mark.parametrize("labels, class_weight", [([0, 1, 1, 1], {0: 3.0}),
                                                  (["a", "b", "b", "b"], {"a": 2.5}),
                                                  ([0, 1, 1, 1], "balanced")])
def test_a_saved_classifier_keeps_its_class_weight(tmp_path, labels, class_weight):
    """In a fresh process, labels that are not strings included (JSON keys are)."""
    pytest.importorskip("sklearn")
    import subprocess
    import sys

    import numnet
    from numnet.estimators import MLPClassifier

    X = np.random.default_rng(5).standard_normal((40, 2))
    est = MLPClassifier((4,), max_iter=5, random_state=0, class_weight=class_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, np.array(labels * 10))
    path = numnet.save(est, tmp_path / "clf.safetensors")
    code = f"import numnet; print(repr(numnet.load({str(path)!r}).class_weight))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == repr(class_weight)

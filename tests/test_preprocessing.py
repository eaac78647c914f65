"""Preprocessing kept with the model: fitted on training rows, exact through a file."""

import json

import numpy as np
import pytest

from numnet import MLP, fit
from numnet.preprocessing import (
    MAX_AUTO_CLASSES,
    PreprocessedModel,
    Preprocessing,
    infer_task,
)


@pytest.mark.parametrize("y, task", [
    (np.array(["a", "b"] * 5), "classification"),
    (np.array([True, False] * 5), "classification"),
    (np.arange(40) % 3, "classification"),                     # 3 values, 40 rows
    (np.arange(40) % (MAX_AUTO_CLASSES + 1), "regression"),     # too many values
    (np.arange(6) % 4, "regression"),                           # more than one value per 2 rows
    (np.linspace(0, 1, 10), "regression"),
    (np.zeros((10, 2), dtype=np.int64), "regression"),          # several targets
])
def test_infer_task(y, task):
    chosen, why = infer_task(y, ["t"])
    assert chosen == task and "'t'" in why


def test_standardisation_is_fitted_and_round_trips_exactly(rng):
    X = rng.normal(5.0, 3.0, (50, 3))
    X[:, 2] = 7.0                                      # a constant column keeps scale 1
    prep = Preprocessing.fit(X, rng.normal(size=50), ["a", "b", "c"], ["y"], "regression")
    Z = prep.transform(X)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1, rtol=1e-12)
    assert prep.scale[2] == 1.0
    again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
    np.testing.assert_array_equal(again.mean, prep.mean)       # bit for bit through JSON
    np.testing.assert_array_equal(again.scale, prep.scale)
    np.testing.assert_array_equal(again.target_scale, prep.target_scale)
    with pytest.raises(ValueError, match="takes 3 feature"):
        prep.transform(X[:, :2])


def test_labels_encode_and_unknown_labels_are_named():
    prep = Preprocessing.fit(np.zeros((4, 1)), np.array(["b", "a", "c", "a"]), ["x"],
                             ["label"], "classification")
    assert prep.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(prep.encode_targets(np.array(["c", "a"])), [2, 0])
    with pytest.raises(ValueError, match="label.s. d that the model does not know"):
        prep.encode_targets(np.array(["d"]))
    with pytest.raises(ValueError, match="only one class"):
        Preprocessing.fit(np.zeros((3, 1)), np.array(["a"] * 3), ["x"], ["y"], "classification")


def test_model_file_holds_the_preprocessing(tmp_path, rng):
    X = rng.normal(100.0, 20.0, (60, 2))
    y = np.where(X[:, 0] > 100, "big", "small")
    prep = Preprocessing.fit(X, y, ["u", "v"], ["size"], "classification")
    net = MLP(2, [4], 1, activation="tanh", output_activation="sigmoid", random_state=0)
    fit(net, prep.transform(X), prep.encode_targets(y), loss="binary_cross_entropy",
        epochs=3, verbose=False, random_state=0)
    model = PreprocessedModel(net, prep)
    model.save(tmp_path / "m.safetensors", {"note": "kept"})
    loaded = PreprocessedModel.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert set(loaded.predict(X)) <= {"big", "small"} and loaded.metadata == {"note": "kept"}


def test_a_bad_preprocessing_record_is_refused():
    good = Preprocessing(["a"], ["y"], "regression", np.zeros(1), np.ones(1)).to_dict()
    for key, value in (("task", "clustering"), ("features", "a"), ("version", 99)):
        with pytest.raises(ValueError):
            Preprocessing.from_dict({**good, key: value})
    with pytest.raises(ValueError, match="positive"):
        Preprocessing.from_dict({**good, "scaling": {"method": "standardise", "mean": [0.0],
                                                    "scale": [0.0]}})

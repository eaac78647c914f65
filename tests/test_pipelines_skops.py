"""Whole pipelines with numnet estimators, saved and loaded through skops' format (no pickle).

A Pipeline(StandardScaler, MLPClassifier) is saved, then loaded in a fresh
process with pickle disabled, and predicts identically; a file naming a type
neither skops nor numnet trusts is refused, naming it, before anything is
built; a numnet estimator whose state was tampered with is refused by its
own checks.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

pytest.importorskip("sklearn")
skops_io = pytest.importorskip("skops.io")

import operator  # noqa: E402

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

import numnet  # noqa: E402
from numnet.estimators import (  # noqa: E402
    TRUSTED_TYPES,
    MLPClassifier,
    MLPRegressor,
    UntrustedTypesError,
    load_pipeline,
    save_pipeline,
)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _pipeline():
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier((8,), max_iter=20, random_state=0))]).fit(X, y)
    return pipe, X, y


_LOAD_IN_FRESH_PROCESS = """
import pickle, sys
import numpy as np
from numnet.estimators import load_pipeline
saved = pickle.loads, pickle.load
pickle.loads = pickle.load = None                   # loading never unpickles
pipe = load_pipeline(sys.argv[1])
pickle.loads, pickle.load = saved                   # numba's cache of compiled kernels does
X = np.load(sys.argv[2])
np.save(sys.argv[3], pipe.predict_proba(X))
print(type(pipe).__name__, [type(step).__name__ for _, step in pipe.steps])
"""


def test_a_pipeline_loaded_in_a_fresh_process_predicts_identically(tmp_path):
    pipe, X, _ = _pipeline()
    path = save_pipeline(pipe, tmp_path / "pipe.skops")
    assert skops_io.get_untrusted_types(file=path) == ["numnet.estimators.MLPClassifier"]
    np.save(tmp_path / "X.npy", X)
    out = subprocess.run([sys.executable, "-c", _LOAD_IN_FRESH_PROCESS, str(path),
                          str(tmp_path / "X.npy"), str(tmp_path / "P.npy")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Pipeline ['StandardScaler', 'MLPClassifier']"
    np.testing.assert_array_equal(np.load(tmp_path / "P.npy"), pipe.predict_proba(X))


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_estimators_round_trip_with_their_state(tmp_path, Est):
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    X = pd.DataFrame(X, columns=list("abcd"))
    y = np.array(["x", "y", "z"])[y] if Est is MLPClassifier else y.astype(float)
    kw = dict(hidden_layer_sizes=(5,), max_iter=10, warm_start=True, shuffle=False,
              random_state=0, n_iter_no_change=1000)
    one = Est(**{**kw, "max_iter": 20}).fit(X, y)
    est = Est(**kw).fit(X, y)
    loaded = load_pipeline(save_pipeline(make_pipeline(est), tmp_path / "e.skops"))[-1]
    assert type(loaded) is Est and loaded.get_params() == est.get_params()
    assert list(loaded.feature_names_in_) == list("abcd")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    loaded.fit(X, y)                                   # and the optimizer goes on
    np.testing.assert_array_equal(loaded.network_.flat_parameters, one.network_.flat_parameters)
    unfitted = load_pipeline(save_pipeline(Est(optimizer=numnet.optimizers.Adam(0.01)),
                                           tmp_path / "u.skops"))
    assert not hasattr(unfitted, "network_")
    assert unfitted.optimizer.get_config() == numnet.optimizers.Adam(0.01).get_config()


def test_skops_functions_work_directly_with_the_trusted_types(tmp_path):
    pipe, X, _ = _pipeline()
    skops_io.dump(pipe, tmp_path / "direct.skops")
    loaded = skops_io.load(tmp_path / "direct.skops", trusted=list(TRUSTED_TYPES))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_an_untrusted_type_is_refused_until_trusted(tmp_path):
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(FunctionTransformer(operator.neg),
                         MLPClassifier((4,), max_iter=3, random_state=0)).fit(X, y)
    path = save_pipeline(pipe, tmp_path / "neg.skops")
    with pytest.raises(UntrustedTypesError, match=r"not trusted: '_operator.neg'; if you know "
                                                  r"them to be safe, pass them"):
        load_pipeline(path)
    loaded = load_pipeline(path, trusted=["_operator.neg"])
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    with pytest.raises(TypeError, match="list of type names"):
        load_pipeline(path, trusted="_operator.neg")


def _rewrite(path, out, change):
    """A copy of the skops file ``path`` at ``out`` with its schema.json changed by ``change``."""
    with zipfile.ZipFile(path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    schema = json.loads(files["schema.json"])
    change(schema)
    files["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    out.write_bytes(buffer.getvalue())
    return out


def _mlp_node(schema):
    """The MLPClassifier's node in a Pipeline's schema; its ``["content"]`` is its state."""
    steps = schema["content"]["content"]["steps"]["content"]
    return steps[1]["content"][1]["content"]           # ("mlp", MLPClassifier): its attributes


def test_a_file_naming_other_code_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    pipe, X, _ = _pipeline()
    path = save_pipeline(pipe, tmp_path / "pipe.skops")
    ran = []
    monkeypatch.setattr("os.system", lambda *a: ran.append(a))

    def evil(schema):
        steps = schema["content"]["content"]["steps"]["content"]
        steps[1]["content"][1].update({"__module__": "os", "__class__": "system\x1b[31m"})

    bad = _rewrite(path, tmp_path / "evil.skops", evil)
    with pytest.raises(UntrustedTypesError) as info:
        load_pipeline(bad)
    assert "'os.system\\\\x1b[31m'" in str(info.value) and "\x1b" not in str(info.value)
    assert ran == []


def test_a_tampered_estimator_state_is_refused_by_its_checks(tmp_path):
    pipe, X, _ = _pipeline()
    path = save_pipeline(pipe, tmp_path / "pipe.skops")

    def set_json(*keys, content):
        """Set the JSON value at ``keys`` of the estimator's attributes (a node of its own:
        skops shares the nodes of equal small values by ``__id__``)."""
        def change(schema):
            node = _mlp_node(schema)
            for key in keys:
                node = node["content"][key]
            node["content"] = content
            node.pop("__id__", None)
        return change

    for change, match in [
            (set_json("_loss", content='"no_such_loss"'), "unknown loss"),
            (set_json("n_features_in_", content="5"), "do not match"),
            (set_json("_net", "config", "num_inputs", content="100000"), "parameters must be"),
            (set_json("_net", "config", "hidden_layers", 0, content="9"), "parameters must be"),
            (set_json("_net", "config", "bias", content="1"), "layer sizes"),
            (set_json("_scale", content="-1.0"), "loss scale"),
            (set_json("_optimizer", "numnet_optimizer", "t", content="-3"), "t")]:
        bad = _rewrite(path, tmp_path / "bad.skops", change)
        with pytest.raises(ValueError, match=match):
            load_pipeline(bad)


def test_numnet_save_and_load_take_a_pipeline_through_skops_and_skops_is_named(
        tmp_path, monkeypatch):
    """numnet.save(pipeline) / numnet.load, as the request asked, in skops' safe format."""
    pipe, X, _ = _pipeline()
    path = numnet.save(pipe, tmp_path / "pipe.skops")
    assert skops_io.get_untrusted_types(file=path) == ["numnet.estimators.MLPClassifier"]
    np.testing.assert_array_equal(numnet.load(path).predict_proba(X), pipe.predict_proba(X))
    with pytest.raises(TypeError, match="keeps no metadata"):
        numnet.save(pipe, tmp_path / "meta.skops", metadata={"note": 1})
    np.savez(tmp_path / "arrays.npz", a=np.arange(3))       # a zip archive too
    with pytest.raises(ValueError, match="not a file in skops' format"):
        numnet.load(tmp_path / "arrays.npz")
    with pytest.raises(TypeError, match="trusted= applies to files in skops' format only"):
        numnet.load(numnet.save(pipe[-1].network_, tmp_path / "net.safetensors"),
                    trusted=["x"])
    for name in ("skops", "skops.io"):
        monkeypatch.setitem(sys.modules, name, None)
    for call in (lambda: save_pipeline(pipe, tmp_path / "p.skops"),
                 lambda: load_pipeline(tmp_path / "p.skops")):
        with pytest.raises(ImportError, match=r"pip install 'numnet\[sklearn\]'"):
            call()
    assert not (tmp_path / "p.skops").exists()

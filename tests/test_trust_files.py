"""numnet's files can be trusted as far as numnet checks them, for every kind of file.

- numnet never writes a file it would refuse to read: each writer runs the
  reader's checks on the encoded bytes first (values near 1e300 included);
- a corrupt file is refused: checksums of the tensors and of the document;
- classes, feature names and scalings must fit the network's inputs and outputs;
- a checkpoint carries the model's preprocessing, and ``numnet.load`` applies it;
- headers are bounded before they are parsed, and ``numnet info`` prints a page.

The kinds of file are models, checkpoints and estimator files. Commands are
run as people run them: ``python -m numnet`` in a subprocess, with the files
checked before and after.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("safetensors")                      # the io extra

from safetensors.numpy import save as st_save  # noqa: E402

import numnet  # noqa: E402
from numnet import MLP, callbacks, fit  # noqa: E402
from numnet import io as nio  # noqa: E402
from numnet._files.format import MAX_HEADER_BYTES, MAX_HEADER_ITEMS  # noqa: E402
from numnet.preprocessing import PreprocessedModel, Preprocessing  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def cli(*args: object) -> subprocess.CompletedProcess:
    """The numnet command, as a person runs it."""
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=120)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The command failed with exit code 1 and one ``Error:`` line, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> Path:
    """A CSV file with a header row; floats written exactly (repr)."""
    rows = zip(*columns.values(), strict=True)
    path.write_text(",".join(columns) + "\n" + "".join(
        ",".join(v if isinstance(v, str) else repr(float(v)) for v in row) + "\n"
        for row in rows))
    return path


def tumours(n: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes told apart by features in large, unequal units (standardising matters):
    ``X (n, 4)`` and the labels ``(n,)``."""
    rng = np.random.default_rng(seed)
    label = np.where(np.arange(n) % 2 == 0, "benign", "malignant")
    shift = (label == "malignant").astype(float)
    X = rng.normal(0.0, 1.0, (n, 4)) + 2.0 * shift[:, None]
    return X * [20.0, 300.0, 0.5, 5.0] + [100.0, 2000.0, 1.0, -40.0], label


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name)


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


# --- the three kinds of file ----------------------------------------------------------

def _data(n: int = 40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    return X, np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")


def _model(tmp_path: Path) -> Path:
    X, y = _data()
    net = MLP(4, [6], 2, output_activation="softmax", random_state=0)
    fit(net, X, y, epochs=2, verbose=False, random_state=0)
    return nio.save(net, tmp_path / "model.safetensors", metadata={"note": "kept"})


def _checkpoint(tmp_path: Path) -> Path:
    X, y = _data()
    prep = Preprocessing.fit(X, y, list("abcd"), ["label"], "classification")
    net = MLP(4, [6], 1, output_activation="sigmoid", random_state=0)
    path = tmp_path / "checkpoint.safetensors"
    fit(net, prep.transform(X), prep.encode_targets(y), loss="binary_cross_entropy",
        epochs=2, verbose=False, random_state=0,
        callbacks=[callbacks.ModelCheckpoint(path, metadata={"preprocessing": prep.to_dict()})])
    return path


def _estimator(tmp_path: Path) -> Path:
    pytest.importorskip("sklearn")        # numnet.estimators needs the sklearn extra
    estimators = pytest.importorskip("numnet.estimators")
    X, y = _data()
    est = _quiet_fit(estimators.MLPClassifier((6,), max_iter=3, random_state=0), X, y)
    return numnet.save(est, tmp_path / "estimator.safetensors")


KINDS = {"model": _model, "checkpoint": _checkpoint, "estimator": _estimator}


def _outputs(loaded) -> np.ndarray:
    """What the loaded file computes on fixed raw inputs (any kind)."""
    X, _ = _data()
    if isinstance(loaded, PreprocessedModel):
        return loaded.outputs(X)
    net = getattr(loaded, "network_", loaded)
    return net.forward(X)


def _flipped(path: Path, offset: int, bit: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    bad = path.with_name("flipped.safetensors")
    bad.write_bytes(bytes(data))
    return bad


def _regions(path: Path) -> tuple[range, range]:
    """Byte ranges of the tensor data and of the numnet document inside the header."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    escaped = json.dumps(json.loads(data[8:8 + n])["__metadata__"]["numnet"])[1:-1].encode()
    start = data.index(b'"numnet":"', 8) + len(b'"numnet":"')
    assert data[start:start + len(escaped)] == escaped
    return range(8 + n, len(data)), range(start, start + len(escaped))


# --- 2 and 7: a single flipped bit anywhere in the tensors (or the document) is refused ---

@pytest.mark.parametrize("kind", KINDS)
def test_any_single_bit_flip_in_the_tensors_is_refused(tmp_path, kind):
    """Before: all of 200 sampled flips loaded, for each kind (most changed the outputs)."""
    path = KINDS[kind](tmp_path)
    reference = _outputs(nio.load(path))
    tensors, _ = _regions(path)
    rng = np.random.default_rng(17)
    for offset, bit in zip(rng.choice(tensors, 32), rng.integers(0, 8, 32), strict=True):
        bad = _flipped(path, int(offset), int(bit))
        with pytest.raises(nio.FormatError, match="is corrupt: its tensor data") as info:
            nio.load(bad)
        assert str(bad) in str(info.value)
    np.testing.assert_array_equal(_outputs(nio.load(path)), reference)     # the good one loads


@pytest.mark.parametrize("kind", KINDS)
def test_any_single_bit_flip_in_the_document_is_refused(tmp_path, kind):
    """Classes, preprocessing and state are JSON: a flip there is refused too."""
    path = KINDS[kind](tmp_path)
    _, document = _regions(path)
    rng = np.random.default_rng(18)
    for offset, bit in zip(rng.choice(document, 24), rng.integers(0, 8, 24), strict=True):
        bad = _flipped(path, int(offset), int(bit))
        with pytest.raises(nio.FormatError) as info:
            nio.load_metadata(bad)
        assert str(bad) in str(info.value)


# --- 1: values near float64's limit ---------------------------------------------------

def test_standardising_values_near_1e300_gives_finite_scales():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * [1e300, 1.0] + [3e300, 0.0]
    y = 1e300 * (3 + rng.normal(size=50))
    prep = Preprocessing.fit(X, y, ["big", "small"], ["y"], "regression")
    assert np.isfinite(prep.scale).all() and np.isfinite(prep.target_scale).all()
    Z = prep.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
    np.testing.assert_array_equal(again.target_scale, prep.target_scale)


def test_ordinary_data_standardises_exactly_as_before():
    """Dividing by a power of two is exact: mean and std are NumPy's own, bit for bit."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5)) * 10.0 ** rng.integers(-8, 9, 5) + rng.normal(size=5) * 1e3
    prep = Preprocessing.fit(X, rng.normal(size=200), list("abcde"), ["y"], "regression")
    np.testing.assert_array_equal(prep.mean, X.mean(axis=0))
    np.testing.assert_array_equal(prep.scale, X.std(axis=0))


@pytest.mark.parametrize("column, match", [
    ([-1.5e308] * 3 + [1.5e308], "feature column 'wide' cannot be standardised"),
    ([1.0, np.inf, 2.0, 3.0], "feature column 'wide' holds infinite or NaN values"),
], ids=["span-overflows", "infinite"])
def test_data_that_cannot_be_standardised_is_refused_by_name(column, match):
    X = np.column_stack([np.arange(4.0), column])
    with pytest.raises(ValueError, match=match):
        Preprocessing.fit(X, np.arange(4.0), ["fine", "wide"], ["y"], "regression")


def test_cli_train_near_1e300_writes_a_model_every_command_reads(tmp_path):
    """Before: train printed 'saved' and exited 0, then predict, evaluate and info all failed
    with 'scale must be ... finite numbers'."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    data, model = tmp_path / "huge.csv", tmp_path / "huge.safetensors"
    write_csv(data, {"x": x, "y": 1e300 * (3 + x + 0.1 * rng.normal(size=120))})
    result = cli("train", data, "-t", "y", "--epochs", 5, "--quiet", "--out", model)
    assert result.returncode == 0 and "saved" in result.stdout, result.stderr
    scaling = nio.load_metadata(model)["metadata"]["preprocessing"]["target_scaling"]
    assert all(np.isfinite(scaling["scale"])) and all(np.isfinite(scaling["mean"]))
    info = cli("info", model)
    assert info.returncode == 0 and "targets standardised" in info.stdout, info.stderr
    predictions = PreprocessedModel.load(model).predict(x[:, None])  # as predict does
    assert np.isfinite(predictions).all() and (np.abs(predictions) < 1e302).all()


def test_cli_train_refuses_a_column_it_cannot_standardise_and_keeps_the_old_model(tmp_path):
    data, model = tmp_path / "wide.csv", tmp_path / "model.safetensors"
    write_csv(data, {"wide": np.array([-1.5e308] * 3 + [1.5e308]), "y": np.arange(4.0)})
    _model(tmp_path).rename(model)
    before = model.read_bytes()
    line = one_error_line(cli("train", data, "-t", "y", "--task", "regression", "--epochs", 1,
                              "--out", model))
    assert "feature column 'wide' cannot be standardised" in line and "rescale" in line
    assert model.read_bytes() == before and _temps(tmp_path) == []


# --- every writer refuses what its reader would refuse ---------------------------------

def _bad_record(n_features: int = 4) -> dict:
    record = Preprocessing(list("abcd")[:n_features], ["label"], "classification",
                           np.zeros(n_features), np.ones(n_features), ["no", "yes"]).to_dict()
    record["scaling"]["scale"][1] = float("inf")          # what std used to overflow to
    return record


def _write_model_with_mismatched_classes(path):
    net = MLP(4, [3], 2, output_activation="softmax", random_state=0)
    net.classes_ = ["a", "b", "c"]
    numnet.save(net, path)


def _write_preprocessed_with_infinite_scale(path):
    net = MLP(4, [3], 1, output_activation="sigmoid", random_state=0)
    model = PreprocessedModel(net, Preprocessing(list("abcd"), ["label"], "classification",
                                                 np.zeros(4), np.ones(4), ["no", "yes"]))
    model.preprocessing = Preprocessing(list("abcd"), ["label"], "classification", np.zeros(4),
                                        np.array([1.0, np.inf, 1.0, 1.0]), ["no", "yes"])
    model.save(path)


def _write_metadata_with_infinite_scale(path):
    numnet.save(MLP(4, [3], 1, output_activation="sigmoid", random_state=0), path,
                metadata={"preprocessing": _bad_record()})


def _write_checkpoint_with_mismatched_features(path):
    nio.save_checkpoint(path, MLP(4, [3], 1, output_activation="sigmoid", random_state=0),
                        optimizer_state={}, epoch=1, history={},
                        rng_state=np.random.default_rng(0).bit_generator.state,
                        metadata={"preprocessing": _bad_record(3)})


def _write_from_model_checkpoint_callback(path):
    X, y = _data()
    net = MLP(4, [3], 1, output_activation="sigmoid", random_state=0)
    fit(net, X, (y == "yes").astype(float), loss="binary_cross_entropy", epochs=1,
        verbose=False, callbacks=[callbacks.ModelCheckpoint(
            path, metadata={"preprocessing": _bad_record()})])


def _write_estimator_with_mismatched_classes(path):
    pytest.importorskip("sklearn")        # numnet.estimators needs the sklearn extra
    estimators = pytest.importorskip("numnet.estimators")
    X, _ = _data()
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    est = _quiet_fit(estimators.MLPClassifier((3,), max_iter=2, random_state=0), X, y)
    est.classes_ = np.array(["a", "b", "c", "d"])
    numnet.save(est, path)


def _write_oversized_header(path):
    numnet.save(MLP(4, [3], 1, random_state=0), path,
                metadata={"notes": ["x" * 1000] * (MAX_HEADER_BYTES // 1000 + 1)})


WRITERS = {
    "save-classes": (_write_model_with_mismatched_classes, "3 label(s) but the network has 2"),
    "PreprocessedModel.save": (_write_preprocessed_with_infinite_scale, "finite numbers"),
    "save-metadata": (_write_metadata_with_infinite_scale, "finite numbers"),
    "save_checkpoint": (_write_checkpoint_with_mismatched_features,
                        "names 3 feature(s) but the network takes 4"),
    "ModelCheckpoint": (_write_from_model_checkpoint_callback, "finite numbers"),
    "estimator": (_write_estimator_with_mismatched_classes, "4 classes do not match"),
    "header-size": (_write_oversized_header, f"more than the {MAX_HEADER_BYTES} numnet reads"),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_refuses_a_file_its_reader_would_refuse(tmp_path, writer):
    write, match = WRITERS[writer]
    match = re.escape(match)
    new = tmp_path / "new.safetensors"
    with pytest.raises(ValueError, match=match) as info:
        write(new)
    assert f"refusing to save '{new}'" in str(info.value) and "\n" not in str(info.value)
    assert not new.exists() and _temps(tmp_path) == []
    old = _model(tmp_path)                          # an existing file is left as it was
    before = old.read_bytes()
    with pytest.raises(ValueError, match=match):
        write(old)
    assert old.read_bytes() == before and _temps(tmp_path) == []


# --- 3 and 7: what the document says must fit the network ------------------------------

def _rewritten(path: Path, change) -> Path:
    """``path`` with ``change(doc)`` applied, written without checksums (by hand)."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    doc = json.loads(header["__metadata__"]["numnet"])
    change(doc)
    doc.pop("tensors_sha256")
    loaded = nio.load(path)
    net = getattr(loaded, "net", getattr(loaded, "network_", loaded))
    tensors = dict(zip(net.parameter_names(), net.parameters(), strict=True))
    bad = path.with_name("bad.safetensors")
    bad.write_bytes(st_save(tensors, metadata={"numnet": json.dumps(doc)}))
    return bad


def _preprocessed(tmp_path: Path, task: str) -> Path:
    X, y = _data()
    if task == "classification":
        prep = Preprocessing.fit(X, y, list("abcd"), ["label"], task)
        net = MLP(4, [3], 1, output_activation="sigmoid", random_state=0)
    else:
        prep = Preprocessing.fit(X, X[:, :1] * 1e3, list("abcd"), ["t"], task)
        net = MLP(4, [3], 1, output_activation="identity", random_state=0)
    return PreprocessedModel(net, prep).save(tmp_path / f"{task}.safetensors")


def _prep(doc) -> dict:
    return doc["metadata"]["preprocessing"]


MISMATCHES = {
    "classes-vs-outputs": ("model", lambda d: d.update(classes=["yes", "no", "maybe"]),
                           "classes list 3 label(s) but the network has 2 output(s)"),
    "one-class-one-output": ("classification", lambda d: d.update(classes=["yes"]),
                             "classes list 1 label(s) but the network has 1 output(s)"),
    "feature-names-vs-inputs": ("classification",
                                lambda d: _prep(d).update(features=["a", "b", "c"]),
                                "names 3 feature(s) but the network takes 4 input(s)"),
    "scaling-vs-inputs": ("classification",
                          lambda d: _prep(d)["scaling"].update(mean=[0.0, 1.0, 2.0]),
                          "scaling mean has 3 value(s) for 4 feature(s)"),
    "infinite-scale": ("classification",
                       lambda d: _prep(d)["scaling"]["scale"].__setitem__(0, float("inf")),
                       "scaling scale must be 4 finite numbers"),
    "preprocessing-classes-vs-outputs": ("classification",
                                         lambda d: _prep(d).update(classes=["a", "b", "c"]),
                                         "preprocessing classes list 3 label(s)"),
    "targets-vs-outputs": ("regression", lambda d: _prep(d).update(targets=["t", "u"]),
                           "names 2 target(s) but the network has 1 output(s)"),
    "target-scaling-vs-targets": ("regression",
                                  lambda d: _prep(d)["target_scaling"].update(scale=[1.0, 2.0]),
                                  "target_scaling scale has 2 value(s) for 1 target(s)"),
}


@pytest.mark.parametrize("case", MISMATCHES)
def test_metadata_that_does_not_fit_the_network_is_refused_naming_the_file(tmp_path, case):
    """Before: 3 classes on 2 outputs loaded, and predicted only the first two classes."""
    base, change, match = MISMATCHES[case]
    good = _model(tmp_path) if base == "model" else _preprocessed(tmp_path, base)
    bad = _rewritten(good, change)
    for read in (nio.load, nio.load_metadata, PreprocessedModel.load):
        with pytest.raises(nio.FormatError, match=re.escape(match)) as info:
            read(bad)
        assert f"cannot load '{bad}'" in str(info.value)


def test_the_commands_refuse_a_file_whose_classes_do_not_fit(tmp_path):
    bad = _rewritten(_model(tmp_path), lambda d: d.update(classes=["a", "b", "c"]))
    line = one_error_line(cli("info", bad))
    assert str(bad) in line and "3 label(s) but the network has 2 output(s)" in line


@pytest.mark.parametrize("change, match", [
    (lambda s: s["fitted"].update(classes_=["a", "b", "c", "d"], n_outputs_=3),
     "4 classes do not match its network's 3 output"),
    (lambda s: s["fitted"].update(feature_names_in_=["a", "b"]),
     "2 feature names do not match its 4 features"),
    (lambda s: s["fitted"].update(n_features_in_=5), "do not match"),
], ids=["classes", "feature-names", "features"])
def test_estimator_state_that_does_not_fit_its_network_is_refused(tmp_path, change, match):
    pytest.importorskip("sklearn")        # numnet.estimators needs the sklearn extra
    estimators = pytest.importorskip("numnet.estimators")
    X, y = _data()
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    est = _quiet_fit(estimators.MLPClassifier((3,), max_iter=2, random_state=0), X, y)
    path = numnet.save(est, tmp_path / "est.safetensors")
    bad = _rewritten(path, lambda d: change(d["estimator"]["state"]))
    with pytest.raises(nio.FormatError, match=match) as info:
        nio.load(bad)
    assert f"cannot load '{bad}'" in str(info.value)


# --- 4 and 5: a checkpoint predicts as its model; numnet.load applies the preprocessing --

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``numnet train`` with a checkpoint: (data, model, checkpoint, X, labels)."""
    tmp = tmp_path_factory.mktemp("trained")
    X, labels = tumours()
    data, model, ckpt = tmp / "tumours.csv", tmp / "model.safetensors", tmp / "ck.safetensors"
    write_csv(data, {**{name: X[:, j] for j, name in enumerate(
        ["radius", "area", "smoothness", "shift"])}, "diagnosis": labels})
    result = cli("train", data, "-t", "diagnosis", "--epochs", 10, "--lr", 0.01, "--quiet",
                 "--checkpoint", ckpt, "--out", model)
    assert result.returncode == 0, result.stderr
    return data, model, ckpt, X, labels


def test_cli_checkpoint_evaluates_and_shows_as_its_model(trained):
    """Before: evaluate on the checkpoint scored 0.0 (the model 0.98) on breast-cancer data,
    and info on it said 'preprocessing: none'."""
    data, model, ckpt, X, labels = trained
    result = cli("evaluate", ckpt, data)
    assert result.returncode == 0, result.stderr
    printed = float(result.stdout.split()[1])                 # "accuracy 0.9750 on ..."
    model_accuracy = np.mean(PreprocessedModel.load(model).predict(X) == labels)
    assert printed == pytest.approx(model_accuracy, abs=5e-5)
    assert printed >= 0.9                                     # measured: 0.969
    info = cli("info", ckpt).stdout
    assert "features standardised" in info and "classes (2): benign, malignant" in info


def test_numnet_load_of_a_cli_model_or_checkpoint_applies_its_preprocessing(trained, tmp_path):
    """Before: numnet.load(model).predict(X_raw) was the bare network (accuracy 0.37)."""
    _, model, ckpt, X, truth = trained
    expected = PreprocessedModel.load(model).predict(X)
    for path in (model, ckpt):
        loaded = numnet.load(path)
        assert isinstance(loaded, PreprocessedModel) and isinstance(loaded.net, MLP)
        np.testing.assert_array_equal(loaded.predict(X), expected)
        assert loaded.predict_proba(X).shape == (len(X), 2)
        assert loaded.classes == ["benign", "malignant"]
        assert repr(loaded).startswith("PreprocessedModel(MLP(4, [16], 1")
        assert "classification into 2 classes ['benign', 'malignant']" in repr(loaded)
    assert np.mean(expected == truth) >= 0.9                 # measured: 0.969
    loaded = numnet.load(model)                 # the bare network, one step away, takes
    np.testing.assert_array_equal(              # standardised inputs
        loaded.net.predict(loaded.preprocessing.transform(X)), expected)
    again = numnet.save(numnet.load(model), tmp_path / "again.safetensors")
    np.testing.assert_array_equal(numnet.load(again).predict(X), expected)


def test_model_checkpoint_stores_the_metadata_it_is_given(tmp_path):
    X, y = _data()
    prep = Preprocessing.fit(X * 100 + 7, y, list("abcd"), ["label"], "classification")
    net = MLP(4, [6], 1, output_activation="sigmoid", random_state=0)
    path = tmp_path / "ck.safetensors"
    meta = {"preprocessing": prep.to_dict(), "training": {"data": "d.csv"}}
    fit(net, prep.transform(X * 100 + 7), prep.encode_targets(y), loss="binary_cross_entropy",
        epochs=3, verbose=False, random_state=0,
        callbacks=[callbacks.ModelCheckpoint(path, metadata=meta)])
    assert nio.load_checkpoint(path).metadata == meta
    net.classes_ = prep.classes
    model = PreprocessedModel(net, prep)
    for loaded in (numnet.load(path), PreprocessedModel.load(path)):
        np.testing.assert_array_equal(loaded.predict(X * 100 + 7), model.predict(X * 100 + 7))
        assert loaded.metadata == {"training": {"data": "d.csv"}}
    with pytest.raises(TypeError, match="metadata"):
        callbacks.ModelCheckpoint(path, metadata={"f": len})          # refused before fitting


def test_files_without_preprocessing_load_as_before(tmp_path):
    assert type(numnet.load(_model(tmp_path))) is MLP
    est = numnet.load(_estimator(tmp_path))
    assert type(est).__name__ == "MLPClassifier"


# --- 6: bounded headers and bounded output ---------------------------------------------

PEAK_CHILD = r"""
import sys
from numnet import io
def peak_kb():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
before = peak_kb()
try:
    io.load(sys.argv[1])
except ValueError as exc:
    print(peak_kb() - before, str(exc)[:300])
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("shape, limit_mb, match", [
    ("claims-93MB", 20, "headers are limited to"),
    ("dicts-under-the-limits", 200, "not a numnet model"),
], ids=["93MB-header", "worst-under-limits"])
def test_peak_memory_of_refusing_a_hostile_header(tmp_path, shape, limit_mb, match):
    """Before: a 93 MB header of empty objects peaked at 2.35 GB while being refused.
    Measured after: +0 MB for it (refused before reading); +104 MB for the costliest
    header under both limits (500,000 small objects, 4 MB)."""
    path = tmp_path / "hostile.safetensors"
    if shape == "claims-93MB":                  # a sparse file: the claim is what matters
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", 93_000_000) + b'{"x":[{},')
            f.truncate(8 + 93_000_000)
    else:
        body = b'{"x":[' + b'{"a":0},' * (MAX_HEADER_ITEMS // 2 - 10) + b"{}]}"
        path.write_bytes(struct.pack("<Q", len(body)) + body)
    result = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(path)], capture_output=True,
                            text=True, env=ENV, timeout=120)
    grown_kb, message = result.stdout.split(" ", 1)
    assert match in message, message
    assert int(grown_kb) < limit_mb * 1024


def test_the_largest_realistic_model_is_within_the_limits(tmp_path):
    """100,000 string classes with their preprocessing fit well under the header limits."""
    classes = [f"species_{i:06d}_name" for i in range(100_000)]
    prep = Preprocessing(list("abcd"), ["species"], "classification", np.zeros(4), np.ones(4),
                         classes)
    net = MLP(4, [], len(classes), output_activation="softmax", random_state=0)
    net.classes_ = classes
    path = PreprocessedModel(net, prep).save(tmp_path / "big.safetensors",
                                            {"training": {"data": "x" * 1000}})
    n = struct.unpack("<Q", path.read_bytes()[:8])[0]
    assert n < MAX_HEADER_BYTES / 3                          # measured: 4.8 MB
    assert numnet.load(path).classes == classes


def test_info_prints_a_bounded_page_with_names_escaped(tmp_path):
    """Before: a 10 MB metadata block made info print 10.4 MB (34 MB for 33 MB)."""
    classes = ["\x1b[31mred"] + [f"class_{i}" for i in range(499)]
    prep = Preprocessing([f"f{j}" for j in range(30)], ["label"], "classification",
                         np.zeros(30), np.ones(30), classes)
    net = MLP(30, [], len(classes), output_activation="softmax", random_state=0)
    path = PreprocessedModel(net, prep).save(tmp_path / "m.safetensors",
                                            {"notes": ["x" * 100] * 20_000})
    result = cli("info", path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) < 8_000                       # measured: 3.1 KB
    assert "\x1b" not in result.stdout and "\\x1b[31mred" in result.stdout
    assert "(480 more)" in result.stdout and "(10 more features)" in result.stdout
    assert "more characters)" in result.stdout

"""numnet export: the ONNX graph takes raw features and answers as numnet predict does."""

from io import StringIO

import numpy as np
import pytest

pd = pytest.importorskip("pandas")                      # the cli extra
pytest.importorskip("click")
pytest.importorskip("onnx")                             # the onnx extra
ort = pytest.importorskip("onnxruntime")

from click.testing import CliRunner  # noqa: E402

from numnet.cli import cli  # noqa: E402


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def session_outputs(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_from_raw_features(tmp_path, n_classes):
    rng = np.random.default_rng(0)
    labels = np.array(["red", "green", "blue"][:n_classes])[np.arange(60) % n_classes]
    X = rng.normal(size=(60, 3)) * [1.0, 10.0, 100.0] + 50.0          # far from standardised
    X[:, 0] += 3.0 * (labels == "red")
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(colour=labels)
    data, model, out = tmp_path / "d.csv", tmp_path / "m.safetensors", tmp_path / "m.onnx"
    frame.to_csv(data, index=False)
    run("train", data, "-t", "colour", "--epochs", 20, "--lr", 0.05, "--quiet", "--out", model)
    assert f"saved {out}" in run("export", model, "--format", "onnx", "--out", out).output
    predicted = pd.read_csv(StringIO(run("predict", model, data, "--proba").stdout))
    got = session_outputs(out, pd.read_csv(data)[["a", "b", "c"]].to_numpy())
    assert got["label"].tolist() == predicted["colour"].tolist()
    np.testing.assert_allclose(got["probabilities"], predicted.iloc[:, 1:].to_numpy(),
                               rtol=1e-9, atol=1e-12)


def test_regressor_from_raw_features_in_the_data_units(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 100, (50, 2))
    frame = pd.DataFrame(X, columns=["u", "v"]).assign(price=3000 * X[:, 0] - 20 * X[:, 1])
    data, model, out = tmp_path / "d.csv", tmp_path / "m.safetensors", tmp_path / "m.onnx"
    frame.to_csv(data, index=False)
    run("train", data, "-t", "price", "--epochs", 10, "--quiet", "--out", model)
    run("export", model, "--out", out)
    predicted = pd.read_csv(StringIO(run("predict", model, data).stdout))["price"].to_numpy()
    got = session_outputs(out, pd.read_csv(data)[["u", "v"]].to_numpy())["output"]
    assert np.abs(predicted).max() > 1000                       # in the data's units
    np.testing.assert_allclose(got[:, 0], predicted, rtol=1e-9)


def test_a_cli_model_loaded_in_python_exports_with_its_preprocessing(tmp_path):
    """numnet.load gives the model with its standardisation; export keeps it in the graph."""
    import numnet
    from numnet.onnx import export

    rng = np.random.default_rng(2)
    X = rng.uniform(0, 100, (40, 2))
    frame = pd.DataFrame(X, columns=["u", "v"]).assign(y=3 * X[:, 0] - X[:, 1])
    data, model, out = tmp_path / "d.csv", tmp_path / "m.safetensors", tmp_path / "m.onnx"
    frame.to_csv(data, index=False)
    run("train", data, "-t", "y", "--epochs", 5, "--quiet", "--out", model)
    loaded = numnet.load(model)
    export(loaded, out)
    np.testing.assert_allclose(session_outputs(out, X)["output"], loaded.predict(X),
                               rtol=1e-9)
    with pytest.raises(TypeError, match="its own preprocessing"):
        export(loaded, out, preprocessing=loaded.preprocessing)


def test_float32_export(tmp_path):
    data, model, out = tmp_path / "d.csv", tmp_path / "m.safetensors", tmp_path / "m.onnx"
    pd.DataFrame({"x": np.linspace(0, 10, 30), "y": np.linspace(5, 9, 30)}).to_csv(
        data, index=False)
    run("train", data, "--epochs", 5, "--quiet", "--out", model)
    run("export", model, "--out", out, "--dtype", "float32")
    predicted = pd.read_csv(StringIO(run("predict", model, data).stdout))["y"].to_numpy()
    X = pd.read_csv(data)[["x"]].to_numpy(dtype=np.float32)
    got = session_outputs(out, X)["output"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[:, 0], predicted, rtol=1e-5)

"""The numnet command as a person with a CSV uses it: train, evaluate, predict, export, info.

Every run is small (tens of rows, a few epochs) so the file stays fast; the
figures compared are the ones the commands print.
"""

import os
import re
import subprocess
import sys
import warnings
from io import StringIO

import numpy as np
import pytest

pd = pytest.importorskip("pandas")                      # the cli extra
pytest.importorskip("click")

from click.testing import CliRunner  # noqa: E402

import numnet  # noqa: E402
from numnet.cli import cli  # noqa: E402
from numnet.preprocessing import PreprocessedModel  # noqa: E402

SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def blobs(n=90, seed=0):
    """Three well separated clusters with string labels and named columns."""
    rng = np.random.default_rng(seed)
    labels = np.array(["red", "green", "blue"])[np.arange(n) % 3]
    centres = {"red": (0.0, 0.0, 10.0), "green": (4.0, 0.0, 20.0), "blue": (0.0, 4.0, 30.0)}
    X = np.array([centres[c] for c in labels]) + rng.normal(0, [0.6, 0.6, 3.0], (n, 3))
    return pd.DataFrame({"length": X[:, 0], "width": X[:, 1], "weight": X[:, 2],
                         "colour": labels})


def housing(n=80, seed=0):
    """A smooth regression target in the data's own (large) units."""
    rng = np.random.default_rng(seed)
    rooms, area = rng.integers(1, 6, n), rng.uniform(30, 150, n)
    price = 1000 * area + 20000 * rooms + rng.normal(0, 5000, n)
    return pd.DataFrame({"rooms": rooms, "area": area, "price": price})


@pytest.fixture
def flowers(tmp_path):
    path = tmp_path / "flowers.csv"
    blobs().to_csv(path, index=False)
    return path


@pytest.fixture
def trained(tmp_path, flowers):
    model = tmp_path / "flowers.safetensors"
    result = run("train", flowers, "--target", "colour", "--epochs", 40, "--lr", 0.05,
                 "--validation-split", 0.2, "--out", model)
    return model, result


def test_train_explains_the_task_and_prints_a_summary(trained):
    model, result = trained
    assert model.exists()
    assert "task: classification (target 'colour' holds text labels" in result.stderr
    table = dict(re.findall(r"^\s+(train|validation)\s+([0-9.]+)\s+[0-9.]+$", result.stdout,
                            re.M))
    assert set(table) == {"train", "validation"}
    assert float(table["train"]) >= 0.95        # measured: 1.0 (three separated clusters)
    assert re.search(r"40 epoch\(s\) in [0-9.]+ s, final training loss [0-9.]+, 115 parameters",
                     result.stdout)


def test_csv_with_string_labels_end_to_end(tmp_path, flowers, trained):
    model, _ = trained
    result = run("evaluate", model, flowers)
    accuracy = float(re.search(r"accuracy ([0-9.]+) on 90 samples", result.stdout).group(1))
    assert accuracy >= 0.95                     # measured: 1.0
    for label in ("red", "green", "blue"):
        assert re.search(rf"^\s+{label}\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+30$", result.stdout,
                         re.M)
    assert "confusion matrix" in result.stdout

    out = tmp_path / "predictions.csv"
    run("predict", model, flowers, "--out", out, "--proba")
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["colour", "p(blue)", "p(green)", "p(red)"]
    assert len(predictions) == 90
    assert set(predictions["colour"]) <= {"red", "green", "blue"}
    np.testing.assert_allclose(predictions.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-12)
    truth = blobs()["colour"]
    assert np.mean(predictions["colour"] == truth) == pytest.approx(accuracy, abs=1e-4)

    one = run("predict", model, "--values", "4.0,0.1,20").stdout.strip()
    assert one == "green"

    info = run("info", model).stdout
    assert "115 parameters" in info and "classes (3): blue, green, red" in info
    assert re.search(r"^\s+weight\s+[0-9.]+\s+[0-9.]+$", info, re.M)      # mean, scale
    assert "features standardised" in info and re.search(r"\d+\.\d KiB", info)


def test_predictions_and_figures_match_the_python_api(tmp_path, flowers, trained):
    pytest.importorskip("sklearn")                      # the reference figures
    model, _ = trained
    loaded = PreprocessedModel.load(model)
    frame = blobs()
    X = frame[["length", "width", "weight"]].to_numpy()
    expected = loaded.predict(X)
    from sklearn.metrics import accuracy_score, f1_score
    result = run("evaluate", model, flowers)
    printed = float(re.search(r"accuracy ([0-9.]+)", result.stdout).group(1))
    assert printed == pytest.approx(accuracy_score(frame["colour"], expected), abs=5e-5)
    macro = float(re.search(r"^\s+macro average\s+\S+\s+\S+\s+(\S+)", result.stdout,
                            re.M).group(1))
    assert macro == pytest.approx(f1_score(frame["colour"], expected, average="macro"),
                                  rel=1e-3)
    prep = loaded.preprocessing                 # numnet's own evaluate, on standardised rows
    api = loaded.net.evaluate(prep.transform(X), frame["colour"].to_numpy())
    assert printed == pytest.approx(api["accuracy"], abs=5e-5)
    # The model file is an ordinary numnet model plus JSON preprocessing.
    net = numnet._files.load(model)             # the network alone, as the files layer reads it
    meta = numnet.io.load_metadata(model)["metadata"]["preprocessing"]
    Z = (X - np.array(meta["scaling"]["mean"])) / np.array(meta["scaling"]["scale"])
    np.testing.assert_array_equal(net.predict(Z), expected)


def test_same_figures_from_csv_parquet_and_npz(tmp_path, flowers, trained):
    model, _ = trained
    frame = blobs()
    parquet, npz = tmp_path / "flowers.parquet", tmp_path / "flowers.npz"
    frame.to_parquet(parquet)
    np.savez(npz, **{c: frame[c].to_numpy(dtype=None if c != "colour" else str)
                     for c in frame.columns})
    outputs = [run("evaluate", model, path).stdout for path in (flowers, parquet, npz)]
    assert outputs[0] == outputs[1] == outputs[2]
    predictions = [run("predict", model, path, "--proba").stdout
                   for path in (flowers, parquet, npz)]
    assert predictions[0] == predictions[1] == predictions[2]


def test_training_from_csv_or_parquet_gives_the_same_model(tmp_path, flowers):
    parquet = tmp_path / "flowers.parquet"
    blobs().to_parquet(parquet)
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    run("train", flowers, "-t", "colour", "--epochs", 3, "--quiet", "--out", a)
    run("train", parquet, "-t", "colour", "--epochs", 3, "--quiet", "--out", b)
    np.testing.assert_array_equal(PreprocessedModel.load(a).net.flat_parameters,
                                  PreprocessedModel.load(b).net.flat_parameters)


def test_regression_in_the_data_units(tmp_path):
    pytest.importorskip("sklearn")                      # the reference figures
    path, model = tmp_path / "houses.csv", tmp_path / "houses.safetensors"
    frame = housing()
    frame.to_csv(path, index=False)
    result = run("train", path, "--target", "price", "--epochs", 60, "--lr", 0.01,
                 "--batch-size", 16, "--out", model)
    assert "task: regression (target 'price' holds real numbers" in result.stderr
    result = run("evaluate", model, path)
    mse, mae, r2 = map(float, re.search(r"mse (\S+)  mae (\S+)  r2 (\S+) on 80 samples",
                                        result.stdout).groups())
    loaded = PreprocessedModel.load(model)
    pred = loaded.predict(frame[["rooms", "area"]].to_numpy())
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    assert mse == pytest.approx(mean_squared_error(frame["price"], pred), rel=1e-5)
    assert mae == pytest.approx(mean_absolute_error(frame["price"], pred), rel=1e-5)
    assert r2 == pytest.approx(r2_score(frame["price"], pred), abs=1e-4)
    assert r2 > 0.9                        # measured: 0.99 (targets are standardised too)
    out = tmp_path / "p.csv"
    run("predict", model, path, "--out", out)
    np.testing.assert_allclose(pd.read_csv(out)["price"], pred[:, 0], rtol=1e-12)
    info = run("info", model).stdout
    assert "task: regression, target price" in info and "targets standardised" in info


def test_no_scale_keeps_raw_features(tmp_path, flowers):
    model = tmp_path / "raw.safetensors"
    run("train", flowers, "-t", "colour", "--epochs", 2, "--no-scale", "--quiet",
        "--out", model)
    assert "preprocessing: none" in run("info", model).stdout
    meta = numnet.io.load_metadata(model)["metadata"]["preprocessing"]
    assert meta["scaling"] is None


def test_task_auto_treats_small_integer_targets_as_classes(tmp_path):
    """The reported bug: an integer species column was fitted as a regression."""
    load_iris = pytest.importorskip("sklearn.datasets").load_iris
    frame = load_iris(as_frame=True).frame
    path, model = tmp_path / "iris.csv", tmp_path / "iris.safetensors"
    frame.to_csv(path, index=False)
    result = run("train", "--data", path, "--target-columns", 1, "--epochs", 5, "--quiet",
                 "--out", model)
    assert "task: classification (target 'target' holds 3 distinct integers" in result.stderr
    assert "classes (3): 0, 1, 2" in run("info", model).stdout
    assert run("evaluate", model, path).stdout.startswith("accuracy ")
    result = run("train", path, "-t", "target", "--task", "regression", "--epochs", 2,
                 "--quiet", "--out", model)
    assert "task: regression" in run("info", model).stdout


def test_options_early_stopping_checkpoint_resume_and_plot(tmp_path, flowers):
    from matplotlib.image import imread
    ckpt, model, png = (tmp_path / "c.safetensors", tmp_path / "m.safetensors",
                        tmp_path / "loss.png")
    run("train", flowers, "-t", "colour", "--epochs", 4, "--checkpoint", ckpt, "--quiet",
        "--hidden", "8,4", "--activation", "relu", "--optimizer", "sgd", "--lr", 0.1,
        "--batch-size", 8, "--dtype", "float32", "--seed", 3, "--out", model, "--plot", png)
    assert ckpt.exists() and PreprocessedModel.load(model).net.dtype == np.float32
    image = imread(png)
    assert image.ndim == 3 and image.std() > 0
    resumed = run("train", flowers, "-t", "colour", "--epochs", 6, "--resume", ckpt,
                  "--quiet", "--hidden", "8,4", "--activation", "relu", "--optimizer", "sgd",
                  "--lr", 0.1, "--batch-size", 8, "--dtype", "float32", "--seed", 3,
                  "--out", model)
    assert "6 epoch(s)" in run("info", model).stdout, resumed.output
    noise = tmp_path / "noise.csv"             # labels unrelated to features: overfits at once
    frame = blobs()
    frame["colour"] = np.random.default_rng(0).permutation(frame["colour"].to_numpy())
    frame.to_csv(noise, index=False)
    result = run("train", noise, "-t", "colour", "--epochs", 200, "--lr", 0.05,
                 "--validation-split", 0.3, "--early-stopping", 3, "--quiet", "--out", model)
    assert "stopped: early stopping: val_loss has not improved for 3" in result.stderr
    epochs = int(re.search(r"(\d+) epoch\(s\)", run("info", model).stdout).group(1))
    assert epochs < 200


def test_builtin_sets(tmp_path):
    pytest.importorskip("sklearn")        # iris and wine come with the sklearn extra
    model = tmp_path / "m.safetensors"
    for name, task in (("moons", "classification"), ("sine", "regression"),
                       ("wine", "classification"), ("diabetes", "regression")):
        size = ["--samples", 60] if name in ("moons", "sine") else []    # generated sets only
        result = run("train", name, "--epochs", 2, *size, "--quiet", "--out", model)
        assert f"task: {task}" in result.stderr, name
    run("train", "wine", "--epochs", 2, "--quiet", "--out", model)
    info = run("info", model).stdout
    assert "classes (3): class_0, class_1, class_2" in info and "alcohol" in info
    assert run("evaluate", model, "wine").stdout.startswith("accuracy ")


def test_a_warning_is_one_clean_line(tmp_path, flowers):
    result = run("train", flowers, "-t", "colour", "--epochs", 1, "--batch-size", 500,
                 "--quiet", "--out", tmp_path / "m.safetensors")
    lines = [line for line in result.stderr.splitlines() if "batch_size" in line]
    assert lines == ["warning: batch_size=500 is larger than the 90 training sample(s); "
                     "using batch_size=90"]
    assert "warnings.warn" not in result.output


# --- errors a person can act on ------------------------------------------------------------

def _bad_inputs(tmp_path, flowers, model):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header = tmp_path / "header.csv"
    header.write_text("length,width,colour\n")
    text = tmp_path / "text.csv"
    frame = blobs()
    frame.insert(0, "name", [f"flower {i}" for i in range(len(frame))])
    frame.to_csv(text, index=False)
    narrow = tmp_path / "narrow.csv"
    blobs()[["length", "width", "colour"]].to_csv(narrow, index=False)
    no_target = tmp_path / "no_target.csv"
    blobs()[["length", "width", "weight"]].to_csv(no_target, index=False)
    return {
        "missing file": (["train", tmp_path / "nope.csv"], "no such file"),
        "empty file": (["train", empty], "is empty"),
        "header only": (["train", header], "has a header (length, width, colour) but no rows"),
        "unknown target": (["train", flowers, "--target", "color"],
                           "no target column 'color' (did you mean 'colour'?)"),
        "non-numeric feature": (["train", text, "--target", "colour"],
                                "feature column 'name' is not numeric"),
        "unknown data set": (["train", "mnist"], "unknown data set 'mnist'"),
        "not a model": (["info", flowers], "not a safetensors file"),
        "no model file": (["evaluate", tmp_path / "nope.safetensors", flowers],
                          "no such model file"),
        "missing target column": (["evaluate", model, no_target],
                                  "no target column 'colour' (the model's target)"),
        "feature count (data)": (["predict", model, narrow],
                                 "the model takes 3 feature(s)"),
        "feature count (values)": (["predict", model, "--values", "1,2"],
                                   "--values has 2 value(s) but the model takes 3"),
    }


def test_each_bad_invocation_is_one_line_without_traceback(tmp_path, flowers, trained):
    model, _ = trained
    for case, (args, message) in _bad_inputs(tmp_path, flowers, model).items():
        result = run(*args, ok=False)
        assert result.exit_code == 1, (case, result.output)
        assert result.stdout == "", case
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), \
            (case, result.stderr)
        assert message in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.output
    text = _bad_inputs(tmp_path, flowers, model)["non-numeric feature"]
    assert "--features length,width,weight" in run(*text[0], ok=False).stderr


def test_an_estimator_file_is_one_line_that_says_how_to_use_it(tmp_path, flowers):
    pytest.importorskip("sklearn")        # numnet.estimators needs the sklearn extra
    estimators = pytest.importorskip("numnet.estimators")
    frame = blobs()
    X, y = frame[["length", "width", "weight"]].to_numpy(), frame["colour"].to_numpy()
    path = tmp_path / "estimator.safetensors"
    with warnings.catch_warnings():         # a few iterations are enough for this test
        warnings.simplefilter("ignore")
        numnet.save(estimators.MLPClassifier((4,), max_iter=20, random_state=0).fit(X, y), path)
    for command in (["info", path], ["predict", path, flowers],
                    ["evaluate", path, flowers, "--target", "colour"],
                    ["export", path, "--out", tmp_path / "e.onnx"]):
        result = run(*command, ok=False)
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr.count("\n") == 1, (command, result.stderr)
        assert "holds a fitted MLPClassifier" in result.stderr, (command, result.stderr)
        assert "numnet.onnx.export(numnet.load(" in result.stderr
        assert "Traceback" not in result.output


def test_a_real_process(tmp_path, flowers):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.abspath(SRC), os.environ.get("PYTHONPATH", "")])}
    model = tmp_path / "m.safetensors"
    done = subprocess.run([sys.executable, "-m", "numnet", "train", str(flowers), "--target",
                           "colour", "--epochs", "2", "--batch-size", "500", "--out",
                           str(model)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert model.exists() and f"saved {model}" in done.stdout
    assert "warning: batch_size=500 is larger" in done.stderr
    assert "warnings.warn" not in done.stderr and "Traceback" not in done.stderr
    assert re.search(r"epoch 2/2 loss=", done.stderr)          # progress off a terminal
    done = subprocess.run([sys.executable, "-m", "numnet", "predict", str(model),
                           str(tmp_path / "nope.csv")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr == f"Error: no such file: '{tmp_path / 'nope.csv'}'\n"


def test_audio_folders_train_and_predict_on_clips(tmp_path):
    """audio:FOLDER trains on clip features; `predict MODEL clip.wav` computes the same ones."""
    import soundfile

    from numnet import audio, datasets
    clips, y, rate = datasets.tones(16, classes=("sine", "noise"), return_audio=True,
                                    random_state=0)
    folder = tmp_path / "clips"
    files = []
    for k, (clip, label) in enumerate(zip(clips, y, strict=True)):
        name = ("sine", "noise")[label]
        (folder / name).mkdir(parents=True, exist_ok=True)
        files.append(folder / name / f"{k}.wav")
        soundfile.write(files[-1], clip, rate)
    model = tmp_path / "sounds.safetensors"
    result = run("train", f"audio:{folder}", "--epochs", 40, "--lr", 0.05, "--skip-bad",
                 "--out", model)
    assert "task: classification (target 'label' holds text labels" in result.stderr
    settings = numnet.io.load_metadata(model)["metadata"]["audio"]
    assert settings == audio.FeatureSettings().to_dict()
    info = run("info", model).stdout
    assert "mfcc0_mean" in info and "classes (2): noise, sine" in info
    printed = run("predict", model, files[0], files[1], "--proba").stdout
    loaded = PreprocessedModel.load(model)
    P = loaded.predict_proba(audio.features_for_files(files[:2], settings))
    table = pd.read_csv(StringIO(printed))
    np.testing.assert_allclose(table[["p(noise)", "p(sine)"]].to_numpy(), P, rtol=1e-9)
    assert table["label"].tolist() == [("noise", "sine")[k] for k in np.argmax(P, axis=1)]
    result = run("evaluate", model, f"audio:{folder}")
    accuracy = float(re.search(r"accuracy ([0-9.]+) on 16 samples", result.stdout).group(1))
    assert accuracy >= 0.9                  # measured: 1.0 (sine against noise)
    result = run("predict", model, tmp_path / "missing.wav", ok=False)
    assert result.exit_code == 1 and "no such audio file" in result.stderr


def test_audio_without_its_extra_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "numnet.audio", None)
    monkeypatch.delattr(numnet, "audio", raising=False)
    result = run("train", f"audio:{tmp_path}", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "audio input needs the audio extra: pip install 'numnet[audio]'" in result.stderr


def test_export_without_the_onnx_extra_is_one_line(tmp_path, flowers, trained, monkeypatch):
    model, _ = trained
    monkeypatch.setitem(sys.modules, "numnet.onnx", None)
    monkeypatch.delattr(numnet, "onnx", raising=False)
    result = run("export", model, "--out", tmp_path / "m.onnx", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "ONNX export needs the onnx extra: pip install 'numnet[onnx]'" in result.stderr

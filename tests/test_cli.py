"""The numnet command: demo learns, gradcheck reports, help explains."""

import re
import subprocess
import sys

import pytest

pytest.importorskip("click")                            # the cli extra

from click.testing import CliRunner  # noqa: E402

from numnet.cli import _build_cli  # noqa: E402


def test_demo_runs_the_tutorial_and_learns():
    result = CliRunner().invoke(_build_cli(), ["demo", "--epochs", "20"])
    assert result.exit_code == 0, result.output
    errors = [float(e) for e in re.findall(r"Epoch: \d+\tError: ([0-9.]+)", result.output)]
    assert len(errors) == 20
    assert errors[-1] < errors[0] / 5               # measured: 0.0555 -> 0.0016
    assert "Training complete!" in result.output
    assert len(re.findall(r"^\s+0\.\d+\s+-?\d+\.\d+\s+\d\.\d+$", result.output, re.M)) == 5
    assert "final error on 5 new inputs" in result.output


def test_gradcheck_command():
    result = CliRunner().invoke(_build_cli(), ["gradcheck", "--activation", "tanh"])
    assert result.exit_code == 0 and "gradcheck passed" in result.output
    result = CliRunner().invoke(_build_cli(), ["gradcheck", "--activation", "swish"])
    assert result.exit_code == 1 and "unknown activation" in result.output


def test_help_and_module_entry_point():
    result = CliRunner().invoke(_build_cli(), ["--help"])
    assert result.exit_code == 0 and "demo" in result.output and "gradcheck" in result.output
    out = subprocess.run([sys.executable, "-m", "numnet", "demo", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--learning-rate" in out


def test_train_evaluate_predict(tmp_path):
    cli, model = _build_cli(), str(tmp_path / "xor.safetensors")
    result = CliRunner().invoke(cli, ["train", "--data", "xor", "--hidden", "8", "--lr", "0.05",
                                      "--epochs", "300", "--batch-size", "4", "--quiet",
                                      "--out", model])
    assert result.exit_code == 0, result.output
    assert f"saved {model}" in result.output
    result = CliRunner().invoke(cli, ["info", model])
    assert "output_activation='sigmoid'" in result.output
    result = CliRunner().invoke(cli, ["evaluate", model, "--data", "xor"])
    assert result.exit_code == 0 and "accuracy 1.0000 on 4 samples" in result.output
    assert CliRunner().invoke(cli, ["predict", model, "1", "0"]).output.strip() == "1"
    result = CliRunner().invoke(cli, ["predict", model, "1", "0", "1"])
    assert result.exit_code == 1 and "model takes 2 feature(s)" in result.output


def test_train_from_a_csv_file(tmp_path):
    path = tmp_path / "data.csv"
    rows = "\n".join(f"{x / 50},{1 - x / 50}" for x in range(50))
    path.write_text("x,y\n" + rows + "\n")
    model = str(tmp_path / "m.safetensors")
    result = CliRunner().invoke(_build_cli(), ["train", "--data", str(path), "--epochs", "5",
                                               "--quiet", "--out", model])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(_build_cli(), ["train", "--data", "nope.txt", "--out", model])
    assert result.exit_code == 1 and "unknown data set 'nope.txt'" in result.output


def test_a_plain_numnet_model_takes_columns_by_position(tmp_path):
    """A model saved with numnet.save (no preprocessing) still evaluates and predicts."""
    import numpy as np

    import numnet
    from numnet import MLP, fit
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    net = MLP(2, [4], 2, activation="tanh", output_activation="softmax", random_state=0)
    fit(net, X, y, optimizer="adam", learning_rate=0.05, epochs=20, verbose=False,
        random_state=0)
    numnet.save(net, tmp_path / "m.safetensors")
    rows = "\n".join(f"{a},{b},{label}" for (a, b), label in zip(X, y, strict=True))
    (tmp_path / "d.csv").write_text("a,b,label\n" + rows + "\n")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    expected = f"accuracy {net.evaluate(X, y)['accuracy']:.4f} on 40 samples"
    for name in ("d.csv", "d.npz"):
        result = CliRunner().invoke(_build_cli(), ["evaluate", str(tmp_path / "m.safetensors"),
                                                   str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(expected)
    result = CliRunner().invoke(_build_cli(), ["predict", str(tmp_path / "m.safetensors"),
                                               str(tmp_path / "d.csv")])
    assert result.output.splitlines()[1:] == [str(v) for v in net.predict(X)]


def test_every_command_has_help_with_an_example():
    group = _build_cli()
    for name in ("demo", "train", "evaluate", "predict", "export", "info", "gradcheck",
                 "sweep"):
        result = CliRunner().invoke(group, [name, "--help"])
        assert result.exit_code == 0, name
        assert re.search(r"^\s*Examples?:\n\s+numnet " + name, result.output, re.M), name


def test_predict_knows_the_audio_file_types():
    from numnet import audio
    from numnet.cli.predict import AUDIO_SUFFIXES
    assert AUDIO_SUFFIXES == audio.AUDIO_EXTENSIONS

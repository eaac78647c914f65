"""What a new user hits in the first hour (issue 8): one regression test per item."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("click")                            # the cli extra

from click.testing import CliRunner  # noqa: E402

import numnet  # noqa: E402
from numnet import MLP, datasets, fit, optimizers  # noqa: E402
from numnet.cli import _build_cli  # noqa: E402

# the guide's first classifier (docs/training.md)
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "training.md"
SRC = Path(__file__).resolve().parent.parent / "src"


def _python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


# 1. the same model on the same rows gives the same figures, CSV or NPZ --------------------

@pytest.fixture(scope="module")
def iris_files(tmp_path_factory):
    load_iris = pytest.importorskip("sklearn.datasets").load_iris
    X, y = load_iris(return_X_y=True)
    net = MLP(4, [8], 3, activation="tanh", output_activation="softmax", random_state=0)
    fit(net, X, y, optimizer="adam", learning_rate=0.02, epochs=60, verbose=False,
        random_state=0)
    folder = tmp_path_factory.mktemp("iris")
    numnet.save(net, folder / "iris.safetensors")
    np.savez(folder / "iris.npz", X=X, y=y)
    rows = [",".join(f"{v:.1f}" for v in x) + f",{label}" for x, label in zip(X, y, strict=True)]
    (folder / "iris.csv").write_text("a,b,c,d,species\n" + "\n".join(rows) + "\n")
    return folder, net, X, y


def test_evaluate_gives_the_same_accuracy_for_csv_and_npz(iris_files):
    folder, net, X, y = iris_files
    expected = net.evaluate(X, y)["accuracy"]
    assert expected > 0.9                        # measured: 0.98; the model really learned
    figures = []
    for name in ("iris.npz", "iris.csv"):
        result = CliRunner().invoke(_build_cli(), ["evaluate", str(folder / "iris.safetensors"),
                                                   "--data", str(folder / name)])
        assert result.exit_code == 0, result.output
        figures.append(re.search(r"accuracy ([0-9.]+)", result.output).group(1))
    assert figures[0] == figures[1] == f"{expected:.4f}"


def test_python_evaluate_takes_labels_as_a_csv_column(iris_files):
    folder, net, X, y = iris_files
    Xc, yc = datasets.load_csv(folder / "iris.csv")           # y: (150, 1) floats
    assert net.evaluate(Xc, yc) == pytest.approx(net.evaluate(X, y))


# 2. softmax over one unit -----------------------------------------------------------------

def test_softmax_over_one_output_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"softmax over one unit is constant.*sigmoid"):
        MLP(4, [8], 1, output_activation="softmax")
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "\n".join(f"{x / 20},{int(x > 10)}" for x in range(20)) + "\n")
    # --task regression: by default the CLI sees the 0/1 column as two classes and gives a
    # softmax one unit per class; as a regression target it is one unit.
    result = CliRunner().invoke(_build_cli(), [
        "train", "--data", str(path), "--task", "regression", "--output-activation", "softmax",
        "--loss", "cce", "--epochs", "1", "--quiet", "--out", str(tmp_path / "m.safetensors")])
    assert result.exit_code != 0 and "softmax over one unit is constant" in result.output


# 3. an optimizer instance and a learning rate ----------------------------------------------

def test_optimizer_instance_and_learning_rate_together_is_an_error():
    X, y = datasets.one_minus_x(8, random_state=0)
    with pytest.raises(ValueError, match=r"SGD\(0.5\).*or.*optimizer='sgd'"):
        fit(MLP(1, [3], 1), X, y, optimizer=optimizers.SGD(0.1), learning_rate=0.5,
            verbose=False)


# 4. one line per epoch off a terminal, without logging set-up -------------------------------

def test_verbose_fit_off_a_terminal_prints_a_line_per_epoch(capsys):
    X, y = datasets.one_minus_x(20, random_state=0)
    fit(MLP(1, [3], 1, random_state=0), X, y, epochs=3, verbose=True)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3 loss=")


def test_cli_train_off_a_terminal_prints_a_line_per_epoch(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "numnet", "train", "--data", "xor", "--epochs", "4",
         "--hidden", "4", "--out", str(tmp_path / "m.safetensors")],
        capture_output=True, text=True, env=_env(), check=True)
    lines = [line for line in out.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]


# 5. flat lists for a one-input network -----------------------------------------------------

def test_flat_lists_are_samples_for_a_one_input_network(capsys):
    items = [x / 10 for x in range(10)]
    targets = [1 - x / 10 for x in range(10)]
    mlp = MLP(1, [3], 1, random_state=0)
    mlp.train(items, targets, 50, 0.1)
    assert "Training complete!" in capsys.readouterr().out
    column = np.array(items).reshape(-1, 1)
    assert mlp.forward(items).shape == (10, 1)
    np.testing.assert_array_equal(mlp.forward(items), mlp.forward(column))
    np.testing.assert_array_equal(mlp.predict(items), mlp.predict(column))
    assert mlp.forward(0.3).shape == () and mlp.forward([0.3]).shape == (1,)
    fit(MLP(1, [3], 1, random_state=0), items, targets, epochs=2, verbose=False)
    assert set(MLP(1, [3], 1).evaluate(items, targets)) == {"loss"}
    with pytest.raises(ValueError, match="takes 2 input"):        # two inputs: one sample
        MLP(2, [3], 1).forward([0.1, 0.2, 0.3])
    assert MLP(2, [3], 4).forward_propagate(np.array([0.1, 0.2])).shape == (4,)


# 6. class labels to a network without a softmax output ------------------------------------

def test_class_labels_without_softmax_suggest_softmax():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    load_iris, load_wine = sk_datasets.load_iris, sk_datasets.load_wine
    Xw, yw = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])[yw]
    with pytest.raises(ValueError, match=r"class labels.*output_activation='softmax'"):
        fit(MLP(13, [8], 3), Xw, names, epochs=1, verbose=False)
    Xi, yi = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"class labels.*output_activation='softmax'"):
        fit(MLP(4, [8], 3), Xi, yi, epochs=1, verbose=False)


# 7. a network's seed makes its training repeatable ----------------------------------------

def _train_spirals(**fit_kwargs):
    X, y = datasets.spirals(200, random_state=0)
    net = MLP(2, [16], 2, activation="tanh", output_activation="softmax", random_state=0)
    return fit(net, X, y, epochs=3, verbose=False, **fit_kwargs).loss, net


def test_network_seed_makes_fit_repeatable():
    loss_a, net_a = _train_spirals()
    loss_b, net_b = _train_spirals()
    assert loss_a == loss_b
    np.testing.assert_array_equal(net_a.flat_parameters, net_b.flat_parameters)
    assert _train_spirals(random_state=1)[0] != loss_a         # fit's own seed wins
    X, y = datasets.spirals(200, random_state=0)
    again = [fit(net_a, X, y, epochs=1, verbose=False).loss[0] for _ in range(2)]
    twin = [fit(net_b, X, y, epochs=1, verbose=False).loss[0] for _ in range(2)]
    assert again == twin                    # later fits continue the network's stream


def test_guide_classifier_example_repeats_across_runs(tmp_path):
    block = next(b for b in _python_blocks() if "accuracy" in b and "fit(" in b)
    runs = [subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=_env(),
                           capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert "accuracy" in runs[0] and runs[0] == runs[1]


# 8. a network too large for memory ------------------------------------------------------------

def test_a_network_too_large_for_memory_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"9,000,012,000,001 parameters, 65.5 TiB.*memory"):
        MLP(1, [10**6] * 10, 1)


# 9. metadata comes back with the network ---------------------------------------------------

def test_metadata_is_loaded_with_the_network(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    numnet.save(net, tmp_path / "m.safetensors", metadata={"note": "sum of two", "n": 3})
    loaded = numnet.load(tmp_path / "m.safetensors")
    assert loaded.metadata == {"note": "sum of two", "n": 3}
    numnet.save(loaded, tmp_path / "again.safetensors")
    assert numnet.load(tmp_path / "again.safetensors").metadata == {"note": "sum of two", "n": 3}
    assert MLP(2, [3], 1).metadata == {}


# 10. every documented block runs as written: tests/test_docs.py


# 11. the tutorial's methods on one example: fast path == general path --------------------

def _general(net, x, target, lr):
    """The general path: the same steps on a 2-D batch of one."""
    out = net.forward_propagate(np.asarray(x).reshape(1, -1))
    net.back_propagate(np.asarray(target).reshape(1, -1) - out)
    net.gradient_descent(lr)
    return out[0]


@pytest.mark.parametrize("config", [
    dict(num_inputs=1, hidden_layers=[3], num_outputs=1),
    dict(num_inputs=3, hidden_layers=[5, 4], num_outputs=2, bias=False, init="uniform"),
    dict(num_inputs=2, hidden_layers=[4], num_outputs=3, activation="tanh",
         output_activation="softmax"),
])
def test_tutorial_single_example_fast_path_matches_general_path(config, rng):
    fast, general = MLP(**config, random_state=0), MLP(**config, random_state=0)
    X = rng.random((30, fast.num_inputs))
    Y = rng.random((30, fast.num_outputs))
    for x, t in zip(X, Y, strict=True):
        out = fast.activate(x)
        assert out.shape == (fast.num_outputs,)
        dX = fast.backActivate(t - out)
        assert dX.shape == (fast.num_inputs,)
        fast.gradientDescent(0.1)
        np.testing.assert_allclose(out, _general(general, x, t, 0.1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.flat_parameters, general.flat_parameters, rtol=0, atol=1e-12)
    kept = [fast.activate(x) for x in X[:2]]              # outputs are not reused buffers
    np.testing.assert_allclose(kept, fast.forward(X[:2]), rtol=0, atol=1e-12)
    x_list = X[0].tolist()
    np.testing.assert_allclose(fast.activate(x_list), fast.forward(X[0]), rtol=0, atol=1e-12)


def test_tutorial_single_example_fast_path_rejects_bad_input():
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.activate(np.array([np.nan, 0.1]))
    with pytest.raises(ValueError, match="takes 2 input"):
        net.activate(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(TypeError, match="must hold numbers"):
        net.activate(["a", "b"])
    with pytest.raises(RuntimeError, match="before back_propagate"):
        MLP(2, [3], 1).backActivate(np.array([0.1]))
    out = net.activate(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="error has 2 value"):
        net.backActivate(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.backActivate(np.array([np.inf]))
    net.backActivate(np.array([0.5]) - out)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        net.gradientDescent(-0.1)
    with pytest.raises(RuntimeError, match="before gradient_descent"):
        MLP(2, [3], 1).gradientDescent(0.1)

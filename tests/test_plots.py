"""numnet.plots: figures on Agg, saved as real, non-blank PNGs, no pyplot state."""

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")                       # the plots extra
pytest.importorskip("click")                            # the cli extra

from click.testing import CliRunner  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from numnet import MLP, datasets, fit, metrics, plots  # noqa: E402
from numnet.cli import cli  # noqa: E402


def assert_png(path):
    """The file exists, reads back as an image, and is not one flat colour."""
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].var() > 0


def test_each_plot_returns_its_figure_and_saves_a_png(tmp_path):
    X, y = datasets.one_minus_x(60, random_state=0)
    net = MLP(1, [4], 1, activation="tanh", output_activation="identity", random_state=0)
    history = fit(net, X, y, optimizer="adam", learning_rate=0.05, epochs=5,
                  validation_split=0.2, verbose=False, random_state=0)
    Xc, yc = datasets.moons(60, random_state=0)
    clf = MLP(2, [6], 1, activation="tanh", output_activation="sigmoid", random_state=0)
    fit(clf, Xc, yc, loss="binary_cross_entropy", epochs=5, verbose=False, random_state=0)
    cm = metrics.confusion_matrix(yc, clf.predict(Xc), [0, 1])
    drawings = {
        "loss": lambda p: plots.loss_curve(history, p),
        "fitted": lambda p: plots.fitted_function(net, X, y, p, truth=lambda x: 1 - x),
        "regions": lambda p: plots.decision_regions(clf, Xc, yc, p),
        "confusion": lambda p: plots.confusion_matrix(cm, [0, 1], p),
        "scatter": lambda p: plots.predicted_vs_true(y, net.predict(X), p),
    }
    for name, draw in drawings.items():
        path = tmp_path / f"{name}.png"
        fig = draw(path)
        assert isinstance(fig, Figure), name
        assert_png(path)
    assert isinstance(plots.loss_curve([1.0, 0.5]), Figure)        # no path: nothing saved
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in drawings)


def test_no_pyplot_state():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    plots.loss_curve({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})
    assert plt.get_fignums() == before


def test_wrong_shapes_are_explained():
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="use decision_regions"):
        plots.fitted_function(net, np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="two input features"):
        plots.decision_regions(net, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="no epochs"):
        plots.loss_curve([])


def test_demo_plot(tmp_path):
    path = tmp_path / "demo.png"
    result = CliRunner().invoke(cli, ["demo", "--epochs", "5", "--samples", "200",
                                      "--plot", str(path)])
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"^Epoch: \d+\tError: ", result.output, re.M)) == 5
    assert f"saved {path}" in result.output
    assert_png(path)
    assert imread(path).shape[1] > 1.5 * imread(path).shape[0]     # two panels side by side


def test_evaluate_plot(tmp_path):
    model, png = tmp_path / "m.safetensors", tmp_path / "cm.png"
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "moons", "--samples", "80", "--epochs", "3", "--quiet",
                               "--out", str(model)]).exit_code == 0
    result = runner.invoke(cli, ["evaluate", model.as_posix(), "moons", "--samples", "40",
                                 "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert_png(png)

"""``numnet demo``: the tutorial end to end."""

from __future__ import annotations

from typing import Any

import click

from numnet import MLP, callbacks, datasets, mse

from ._common import Finite, check_plot, parse_ints, user_errors
from .outputs import check_outputs


def run_demo(epochs: int = 50, learning_rate: float = 0.1, samples: int = 1000,
             hidden: list[int] | None = None, seed: int = 0, exact: bool = False,
             plot: str | None = None) -> float:
    """The tutorial end to end: learn ``1 - x`` one example at a time, then test it.

    With ``plot``, saves a PNG of the loss per epoch and of the fitted line
    against the data. Returns the mean squared error on 5 new inputs.
    """
    hidden = [3] if hidden is None else hidden
    X, y = datasets.one_minus_x(samples, random_state=seed)
    kwargs: dict[str, Any] = {"bias": False, "init": "uniform"} if exact else {}
    net = MLP(1, hidden, 1, random_state=seed, **kwargs)
    print("numnet demo: the tutorial's task, learn y = 1 - x for x in [0, 1)")
    print(f"network: {net!r}, {net.num_parameters} parameters")
    print(f"training: {samples} examples one by one, {epochs} epochs, "
          f"learning rate {learning_rate}\n")
    errors: list[float] = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda run, epoch, logs:
                                      errors.append(logs["loss"]))
    net.train(X, y, epochs, learning_rate, callbacks=[record])

    X_test, y_test = datasets.one_minus_x(5, random_state=seed + 1)
    predictions = net.forward(X_test)
    print("\n   input   prediction   target")
    for x, p, t in zip(X_test[:, 0], predictions[:, 0], y_test[:, 0], strict=True):
        print(f"  {x:6.3f}   {p:10.4f}   {t:6.3f}")
    final = mse(y_test, predictions)
    print(f"\nfinal error on 5 new inputs: {final:.5f}")
    if plot:
        _plot(net, X, y, errors, plot)
        print(f"saved {plot}")
    return final


def _plot(net: MLP, X: Any, y: Any, errors: list[float], path: str) -> None:
    from numnet import plots
    fig, ax = plots._figure(None, (10.0, 4.0))
    fig.delaxes(ax)
    left, right = fig.subplots(1, 2)
    plots.loss_curve(errors, ax=left)
    left.set_ylabel("error (mean squared)")
    plots.fitted_function(net, X, y, ax=right, truth=lambda x: 1.0 - x)
    fig.suptitle("numnet demo: the tutorial's MLP learns y = 1 - x")
    plots.save_png(fig, path)


@click.command(epilog="\b\nExamples:\n  numnet demo\n  numnet demo --exact --epochs 100\n"
                      "  numnet demo --plot demo.png")
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(min=1),
              help="Passes over the data.")
@click.option("--learning-rate", "--lr", default=0.1, show_default=True,
              type=Finite(min=0, min_open=True), help="Gradient-descent step size.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Training examples of 1 - x.")
@click.option("--hidden", default="3", show_default=True,
              help="Hidden layer widths, comma-separated (e.g. 5,3).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed for data and weights.")
@click.option("--exact", is_flag=True,
              help="The tutorial's exact network: no biases, weights uniform on [0, 1).")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), metavar="PNG",
              help="Save the loss curve and the fitted line against the data to this PNG.")
@user_errors
def demo(epochs, learning_rate, samples, hidden, seed, exact, plot):
    """Run the tutorial end to end: train MLP(1, [3], 1) on 1 - x, example by example."""
    check_outputs({"--plot": plot}, {})
    check_plot("--plot", plot)
    run_demo(epochs, learning_rate, samples, parse_ints(hidden), seed, exact, plot)

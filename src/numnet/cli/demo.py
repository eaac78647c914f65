"""``numnet demo``: the tutorial end to end."""

from __future__ import annotations

import click

from ._common import parse_hidden


def run_demo(epochs: int = 50, learning_rate: float = 0.1, samples: int = 1000,
             hidden: list[int] | None = None, seed: int = 0, exact: bool = False) -> float:
    """The tutorial end to end: learn ``1 - x`` one example at a time, then test it."""
    from .. import MLP, datasets, mse

    hidden = [3] if hidden is None else hidden
    X, y = datasets.one_minus_x(samples, random_state=seed)
    kwargs = {"bias": False, "init": "uniform"} if exact else {}
    net = MLP(1, hidden, 1, random_state=seed, **kwargs)
    print(f"numnet demo: the tutorial's task, learn y = 1 - x for x in [0, 1)")
    print(f"network: {net!r}, {net.num_parameters} parameters")
    print(f"training: {samples} examples one by one, {epochs} epochs, learning rate {learning_rate}\n")
    net.train(X, y, epochs, learning_rate)

    X_test, y_test = datasets.one_minus_x(5, random_state=seed + 1)
    predictions = net.forward(X_test)
    print("\n   input   prediction   target")
    for x, p, t in zip(X_test[:, 0], predictions[:, 0], y_test[:, 0]):
        print(f"  {x:6.3f}   {p:10.4f}   {t:6.3f}")
    final = mse(y_test, predictions)
    print(f"\nfinal error on 5 new inputs: {final:.5f}")
    return final


@click.command()
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(min=1),
              help="Passes over the data.")
@click.option("--learning-rate", "--lr", default=0.1, show_default=True,
              type=click.FloatRange(min=0, min_open=True), help="Gradient-descent step size.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Training examples of 1 - x.")
@click.option("--hidden", default="3", show_default=True,
              help="Hidden layer widths, comma-separated (e.g. 5,3).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed for data and weights.")
@click.option("--exact", is_flag=True,
              help="The tutorial's exact network: no biases, weights uniform on [0, 1).")
def demo(epochs, learning_rate, samples, hidden, seed, exact):
    """Run the tutorial end to end: train MLP(1, [3], 1) on 1 - x, example by example."""
    run_demo(epochs, learning_rate, samples, parse_hidden(hidden), seed, exact)

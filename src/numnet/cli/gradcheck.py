"""``numnet gradcheck``: backpropagation against central differences."""

from __future__ import annotations

import sys

import click
import numpy as np

from numnet import MLP
from numnet import gradcheck as check
from numnet.losses import get_loss

from ._common import CliError, parse_activation, parse_ints, user_errors


@click.command(epilog="\b\nExamples:\n  numnet gradcheck\n"
                      "  numnet gradcheck --activation relu --output-activation softmax "
                      "--loss cce")
@click.option("--inputs", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--hidden", default="4,5", show_default=True,
              help="Hidden widths, comma-separated.")
@click.option("--outputs", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--activation", default="sigmoid", show_default=True,
              help="Hidden activation, or one per hidden layer, comma-separated (relu,tanh).")
@click.option("--output-activation", default=None, help="Default: same as --activation.")
@click.option("--loss", default="mse", show_default=True)
@click.option("--samples", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@user_errors
def gradcheck(inputs, hidden, outputs, activation, output_activation, loss, samples, seed):
    """Check backpropagation against central differences on a random network and data."""
    rng = np.random.default_rng(seed)
    try:
        net = MLP(inputs, parse_ints(hidden), outputs, activation=parse_activation(activation),
                  output_activation=output_activation, random_state=rng)
        if net.biases is not None:      # move ReLU-style kinks away from Z == 0
            for b in net.biases:
                b[...] = 0.1 * rng.standard_normal(b.shape)
        X = rng.normal(size=(samples, inputs))
        if get_loss(loss).fused_with is not None:      # cross-entropy: 0/1 targets
            Y = np.eye(outputs)[rng.integers(0, outputs, samples)]
        else:
            Y = rng.normal(size=(samples, outputs))
        report = check(net, X, Y, loss)
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from exc
    click.echo(f"{net!r}, loss {loss}")
    click.echo(str(report))
    sys.exit(0 if report.passed else 1)

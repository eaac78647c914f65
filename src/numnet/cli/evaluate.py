"""``numnet evaluate``: a saved model's scores on a data set."""

from __future__ import annotations

import click
import numpy as np

from ._common import DATA_HELP, load_data


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", required=True, help=DATA_HELP)
@click.option("--target-columns", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0),
              help="Seed of a generated data set (default differs from train's 0).")
def evaluate(model, data, target_columns, samples, seed):
    """Report a saved model's error (and accuracy for classifiers) on a data set."""
    from .. import io, mse
    try:
        net = io.load(model)
        X, y = load_data(data, target_columns, samples, seed)
        if net.classes_ is not None:
            accuracy = float(np.mean(net.predict(X) == np.asarray(y)))
            click.echo(f"accuracy {accuracy:.4f} on {len(X)} samples")
        else:
            click.echo(f"mse {mse(np.asarray(y).reshape(len(X), -1), net.forward(X)):.6g} "
                       f"on {len(X)} samples")
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc))

"""``numnet predict``: a saved model's predictions."""

from __future__ import annotations

import click
import numpy as np


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, type=float, required=True)
def predict(model, inputs):
    """Predict for one sample given on the command line, e.g. numnet predict m.safetensors 0.3 0.1"""
    from .. import io
    try:
        net = io.load(model)
        click.echo(" ".join(str(v) for v in np.atleast_1d(net.predict(np.array(inputs)))))
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc))

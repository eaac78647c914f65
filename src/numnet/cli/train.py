"""``numnet train``: train a network on a data set and save it."""

from __future__ import annotations

import sys

import click
import numpy as np

from ._common import DATA_HELP, is_labels, load_data, parse_hidden


@click.command()
@click.option("--data", default="one_minus_x", show_default=True, help=DATA_HELP)
@click.option("--target-columns", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many trailing CSV columns are targets.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Size of a generated data set.")
@click.option("--hidden", default="16", show_default=True, help="Hidden widths, comma-separated.")
@click.option("--activation", default="tanh", show_default=True)
@click.option("--output-activation", default=None,
              help="Default: softmax/sigmoid for class labels, identity otherwise.")
@click.option("--loss", default=None, help="Default: cross-entropy for labels, mse otherwise.")
@click.option("--optimizer", default="adam", show_default=True,
              type=click.Choice(["sgd", "adam", "adamw", "rmsprop", "adagrad"]))
@click.option("--learning-rate", "--lr", default=None, type=float,
              help="Default: the optimizer's own.")
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--validation-split", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--patience", default=None, type=click.IntRange(min=0),
              help="Stop early after this many epochs without improvement.")
@click.option("--dtype", default="float64", show_default=True,
              type=click.Choice(["float32", "float64"]))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--out", "out", default="model.safetensors", show_default=True,
              type=click.Path(dir_okay=False), help="Where to save the trained model.")
@click.option("--checkpoint", default=None, type=click.Path(dir_okay=False),
              help="Save a checkpoint here after every epoch (resumable).")
@click.option("--resume", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Continue from a checkpoint written by --checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(data, target_columns, samples, hidden, activation, output_activation, loss,
          optimizer, learning_rate, epochs, batch_size, validation_split, patience, dtype,
          seed, out, checkpoint, resume, quiet):
    """Train a network on a data set and save it.

    Ctrl-C stops at the end of the current batch, saves the model (and a
    checkpoint with --checkpoint) and exits with code 130.
    """
    from .. import MLP, callbacks, fit, io
    X, y = load_data(data, target_columns, samples, seed)
    labels = is_labels(y)
    n_out = 1 if not labels else len(np.unique(y))
    if labels and n_out == 2 and output_activation in (None, "sigmoid"):
        n_out, head, default_loss = 1, "sigmoid", "binary_cross_entropy"
    elif labels:
        head, default_loss = "softmax", "categorical_cross_entropy"
    else:
        n_out = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        head, default_loss = "identity", "mse"
    cbs = []
    if patience is not None:
        cbs.append(callbacks.EarlyStopping(patience=patience))
    if checkpoint:
        cbs.append(callbacks.ModelCheckpoint(checkpoint))
    try:
        net = MLP(np.shape(X)[1], parse_hidden(hidden), n_out, activation=activation,
                  output_activation=output_activation or head, dtype=dtype,
                  random_state=seed)
        history = fit(net, X, y, loss=loss or default_loss, optimizer=optimizer,
                      learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                      validation_split=validation_split, callbacks=cbs,
                      verbose=not quiet, random_state=seed, resume_from=resume)
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc))
    io.save(net, out, metadata={"data": data, "epochs": history.epochs,
                                "loss": history.loss[-1] if history.loss else None})
    last = f"loss {history.loss[-1]:.4g}" if history.loss else "no complete epoch"
    if history.val_loss:
        last += f", val_loss {history.val_loss[-1]:.4g}"
    click.echo(f"{net!r}: {history.epochs} epoch(s), {last}; saved to {out}")
    if history.stop_reason:
        click.echo(f"stopped: {history.stop_reason}", err=True)
    if history.interrupted:
        where = f" and checkpoint {checkpoint}" if checkpoint else ""
        click.echo(f"interrupted: the model{where} were saved; resume with --resume", err=True)
        sys.exit(130)

"""The ``numnet`` command (also ``python -m numnet``).

``numnet demo`` runs the tutorial end to end; ``numnet train`` trains on a
built-in data set or a CSV/NPZ file and saves the model, which ``evaluate``
and ``predict`` load; ``numnet gradcheck`` proves the derivatives of a network
you describe; ``numnet sweep`` (from :mod:`numnet.experiments.command`) runs a
grid of settings over seeds and writes a report. ``numnet --help`` lists them all.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    import click
except ImportError:  # pragma: no cover - the cli extra is missing
    click = None  # type: ignore[assignment]  # main() says which extra to install

import numpy as np

from . import MLP, callbacks, datasets, fit, io, mse
from .datasets import DATASETS
from .gradcheck import gradcheck as check
from .losses import get_loss

__all__ = ["main"]


def _hidden(value: str) -> list[int]:
    """``"5,3"`` -> ``[5, 3]``; ``""`` -> ``[]``."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers such as 5,3; got {value!r}") from None


def run_demo(epochs: int = 50, learning_rate: float = 0.1, samples: int = 1000,
             hidden: list[int] | None = None, seed: int = 0, exact: bool = False) -> float:
    """The tutorial end to end: learn ``1 - x`` one example at a time, then test it."""

    hidden = [3] if hidden is None else hidden
    X, y = datasets.one_minus_x(samples, random_state=seed)
    kwargs: dict[str, Any] = {"bias": False, "init": "uniform"} if exact else {}
    net = MLP(1, hidden, 1, random_state=seed, **kwargs)
    print("numnet demo: the tutorial's task, learn y = 1 - x for x in [0, 1)")
    print(f"network: {net!r}, {net.num_parameters} parameters")
    print(f"training: {samples} examples one by one, {epochs} epochs, "
          f"learning rate {learning_rate}\n")
    net.train(X, y, epochs, learning_rate)

    X_test, y_test = datasets.one_minus_x(5, random_state=seed + 1)
    predictions = net.forward(X_test)
    print("\n   input   prediction   target")
    for x, p, t in zip(X_test[:, 0], predictions[:, 0], y_test[:, 0], strict=True):
        print(f"  {x:6.3f}   {p:10.4f}   {t:6.3f}")
    final = mse(y_test, predictions)
    print(f"\nfinal error on 5 new inputs: {final:.5f}")
    return final


def _load_data(data: str, target_columns: int, samples: int, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """A built-in data set by name, or a CSV/NPZ file: ``(X, y)``."""
    if data in datasets.DATASETS:
        return datasets.get_dataset(data, n_samples=samples, random_state=seed)
    if data.endswith(".npz"):
        return datasets.load_npz(data)
    if data.endswith(".csv"):
        return datasets.load_csv(data, target_columns=target_columns)
    raise click.BadParameter(
        f"{data!r} is neither a built-in data set {sorted(datasets.DATASETS)} nor a .csv/.npz "
        f"file", param_hint="--data")


def _is_labels(y: Any) -> bool:
    y = np.asarray(y)
    return y.ndim == 1 and (y.dtype.kind in "iuUSOb")


_DATA_HELP = (f"A built-in data set ({', '.join(DATASETS)}) or a .csv (last columns are "
              f"targets) / .npz (arrays X and y) file.")


def _build_cli():
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="numnet")
    def cli():
        """numnet: multilayer perceptrons on NumPy, from the 'Training to train' tutorial."""

    @cli.command()
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
        run_demo(epochs, learning_rate, samples, _hidden(hidden), seed, exact)

    @cli.command()
    @click.option("--inputs", default=3, show_default=True, type=click.IntRange(min=1))
    @click.option("--hidden", default="4,5", show_default=True,
                  help="Hidden widths, comma-separated.")
    @click.option("--outputs", default=2, show_default=True, type=click.IntRange(min=1))
    @click.option("--activation", default="sigmoid", show_default=True)
    @click.option("--output-activation", default=None, help="Default: same as --activation.")
    @click.option("--loss", default="mse", show_default=True)
    @click.option("--samples", default=8, show_default=True, type=click.IntRange(min=1))
    @click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
    def gradcheck(inputs, hidden, outputs, activation, output_activation, loss, samples, seed):
        """Check backpropagation against central differences on a random network and data."""
        rng = np.random.default_rng(seed)
        try:
            net = MLP(inputs, _hidden(hidden), outputs, activation=activation,
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
            raise click.UsageError(str(exc)) from exc
        click.echo(f"{net!r}, loss {loss}")
        click.echo(str(report))
        sys.exit(0 if report.passed else 1)

    @cli.command()
    @click.option("--data", default="one_minus_x", show_default=True, help=_DATA_HELP)
    @click.option("--target-columns", default=1, show_default=True, type=click.IntRange(min=1),
                  help="How many trailing CSV columns are targets.")
    @click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
                  help="Size of a generated data set.")
    @click.option("--hidden", default="16", show_default=True,
                  help="Hidden widths, comma-separated.")
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
        X, y = _load_data(data, target_columns, samples, seed)
        labels = _is_labels(y)
        n_out = 1 if not labels else len(np.unique(y))
        if labels and n_out == 2 and output_activation in (None, "sigmoid"):
            n_out, head, default_loss = 1, "sigmoid", "binary_cross_entropy"
        elif labels:
            head, default_loss = "softmax", "categorical_cross_entropy"
        else:
            n_out = 1 if np.ndim(y) == 1 else np.shape(y)[1]
            head, default_loss = "identity", "mse"
        cbs: list[callbacks.Callback] = []
        if patience is not None:
            cbs.append(callbacks.EarlyStopping(patience=patience))
        if checkpoint:
            cbs.append(callbacks.ModelCheckpoint(checkpoint))
        try:
            net = MLP(np.shape(X)[1], _hidden(hidden), n_out, activation=activation,
                      output_activation=output_activation or head, dtype=dtype,
                      random_state=seed)
            history = fit(net, X, y, loss=loss or default_loss, optimizer=optimizer,
                          learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                          validation_split=validation_split, callbacks=cbs,
                          verbose=not quiet, random_state=seed, resume_from=resume)
        except (ValueError, TypeError) as exc:
            raise click.UsageError(str(exc)) from exc
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

    @cli.command()
    @click.argument("model", type=click.Path(exists=True, dir_okay=False))
    @click.option("--data", required=True, help=_DATA_HELP)
    @click.option("--target-columns", default=1, show_default=True, type=click.IntRange(min=1))
    @click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1))
    @click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0),
                  help="Seed of a generated data set (default differs from train's 0).")
    def evaluate(model, data, target_columns, samples, seed):
        """Report a saved model's error (and accuracy for classifiers) on a data set."""
        try:
            net = io.load(model)
            X, y = _load_data(data, target_columns, samples, seed)
            if net.classes_ is not None:        # the Python API's figures, whatever the file
                logs = net.evaluate(X, y)
                click.echo(f"accuracy {logs['accuracy']:.4f} on {len(X)} samples "
                           f"(loss {logs['loss']:.6g})")
            else:
                logs = net.evaluate(X, y, loss="mse")
                click.echo(f"mse {logs['loss']:.6g} on {len(X)} samples")
        except (ValueError, TypeError) as exc:
            raise click.UsageError(str(exc)) from exc

    @cli.command()
    @click.argument("model", type=click.Path(exists=True, dir_okay=False))
    @click.argument("inputs", nargs=-1, type=float, required=True)
    def predict(model, inputs):
        """Predict for one sample given on the command line.

        Example: numnet predict m.safetensors 0.3 0.1
        """
        try:
            net = io.load(model)
            click.echo(" ".join(str(v) for v in np.atleast_1d(net.predict(np.array(inputs)))))
        except (ValueError, TypeError) as exc:
            raise click.UsageError(str(exc)) from exc

    # numnet sweep lives with the sweeps; it needs only click, which this group has
    from .experiments.command import sweep_command
    cli.add_command(sweep_command)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``numnet`` command."""
    if click is None:
        sys.exit("the numnet command needs the cli extra: pip install 'numnet[cli]'")
    _build_cli()(args=argv, prog_name="numnet")

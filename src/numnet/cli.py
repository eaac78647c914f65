"""The ``numnet`` command (also ``python -m numnet``).

``numnet demo`` runs the tutorial end to end; ``numnet gradcheck`` proves the
derivatives of a network you describe. ``numnet --help`` lists the rest.
"""

from __future__ import annotations

import sys

try:
    import click
except ImportError:  # pragma: no cover - the cli extra is missing
    click = None

import numpy as np

__all__ = ["main"]


def _hidden(value: str) -> list[int]:
    """``"5,3"`` -> ``[5, 3]``; ``""`` -> ``[]``."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 5,3; got {value!r}")


def run_demo(epochs: int = 50, learning_rate: float = 0.1, samples: int = 1000,
             hidden: list[int] | None = None, seed: int = 0, exact: bool = False) -> float:
    """The tutorial end to end: learn ``1 - x`` one example at a time, then test it."""
    from . import MLP, datasets, mse

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


def _build_cli():
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="numnet")
    def cli():
        """numnet: multilayer perceptrons on NumPy, from the 'Training to train' tutorial to practice."""

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
    @click.option("--hidden", default="4,5", show_default=True, help="Hidden widths, comma-separated.")
    @click.option("--outputs", default=2, show_default=True, type=click.IntRange(min=1))
    @click.option("--activation", default="sigmoid", show_default=True)
    @click.option("--output-activation", default=None, help="Default: same as --activation.")
    @click.option("--loss", default="mse", show_default=True)
    @click.option("--samples", default=8, show_default=True, type=click.IntRange(min=1))
    @click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
    def gradcheck(inputs, hidden, outputs, activation, output_activation, loss, samples, seed):
        """Check backpropagation against central differences on a random network and data."""
        from . import MLP
        from .gradcheck import gradcheck as check
        rng = np.random.default_rng(seed)
        try:
            net = MLP(inputs, _hidden(hidden), outputs, activation=activation,
                      output_activation=output_activation, random_state=rng)
            if net.biases is not None:      # move ReLU-style kinks away from Z == 0
                for b in net.biases:
                    b[...] = 0.1 * rng.standard_normal(b.shape)
            X = rng.normal(size=(samples, inputs))
            if "cross" in loss or loss in ("bce", "cce", "log_loss"):
                Y = np.eye(outputs)[rng.integers(0, outputs, samples)]
            else:
                Y = rng.normal(size=(samples, outputs))
            report = check(net, X, Y, loss)
        except (ValueError, TypeError) as exc:
            raise click.UsageError(str(exc))
        click.echo(f"{net!r}, loss {loss}")
        click.echo(str(report))
        sys.exit(0 if report.passed else 1)

    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``numnet`` command."""
    if click is None:
        sys.exit("the numnet command needs the cli extra: pip install 'numnet[cli]'")
    _build_cli()(args=argv, prog_name="numnet")

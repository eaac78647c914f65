"""``numnet lr-find``: the learning-rate range test on a data set, before ``numnet train``.

The data are read, split and standardised as ``numnet train`` does with the
same options, and the network is the one it would build, so the rate found is
the rate for that ``numnet train`` command (printed, with ``--lr``). The
range test itself is :func:`numnet.diagnostics.lr_find`; nothing is saved but
the plot asked for.
"""

from __future__ import annotations

import shlex
from typing import Any

import click
import numpy as np

from numnet import MLP
from numnet.diagnostics import MIN_STEPS, LRFinderResult, lr_find
from numnet.losses import get_loss
from numnet.plots import save_png
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    CliError,
    Finite,
    check_plot,
    data_source,
    echo_table,
    file_input,
    fmt,
    generated,
    generation,
    given,
    parse_activation,
    parse_ints,
    refuse_generation,
    refuse_unless,
    split_names,
    user_errors,
)
from .outputs import check_outputs
from .train import OPTION, output_head, prepare_training

# Rows of the rate -> smoothed loss table (the suggestion's row is added when not among them).
TABLE_ROWS = 10

EXAMPLE = """
\b
Examples:
  numnet lr-find iris --hidden 16
  numnet lr-find one_minus_x --optimizer sgd --batch-size 1 --steps 1000 --plot lr.png
  numnet lr-find houses.csv --target price --start 1e-5 --stop 1
"""

# The options numnet train shares with this command, as (parameter, flag), in the order
# the command to train with repeats them.
SHARED = (("target", "--target"), ("features", "--features"), ("task", "--task"),
          ("hidden", "--hidden"), ("activation", "--activation"),
          ("output_activation", "--output-activation"), ("loss", "--loss"),
          ("optimizer", "--optimizer"), ("batch_size", "--batch-size"),
          ("validation_split", "--validation-split"), ("no_scale", "--no-scale"),
          ("dtype", "--dtype"), ("seed", "--seed"), ("samples", "--samples"),
          ("noise", "--noise"), ("arms", "--arms"), ("skip_bad", "--skip-bad"))


@click.command("lr-find", epilog=EXAMPLE + "\n" + DATA_HELP)
@click.argument("data_arg", metavar="DATA", required=False)
@OPTION["data"]
@OPTION["target"]
@OPTION["features"]
@click.option("--task", type=click.Choice(["auto", "regression", "classification"]),
              default="auto", show_default=True, help="As numnet train's.")
@OPTION["hidden"]
@OPTION["activation"]
@OPTION["output_activation"]
@OPTION["loss"]
@OPTION["optimizer"]
@OPTION["batch_size"]
@click.option("--validation-split", default=0.0, show_default=True,
              type=Finite(0, 1, max_open=True),
              help="Leave out the rows numnet train would hold out with this split.")
@OPTION["no_scale"]
@OPTION["dtype"]
@OPTION["seed"]
@OPTION["samples"]
@OPTION["noise"]
@OPTION["arms"]
@click.option("--start", default=1e-7, show_default=True,
              type=Finite(min=0, min_open=True), help="The first learning rate.")
@click.option("--stop", default=10.0, show_default=True,
              type=Finite(min=0, min_open=True), help="The last learning rate.")
@click.option("--steps", default=100, show_default=True, type=click.IntRange(min=1),
              help="Batches, one rate each, growing geometrically from --start to --stop "
                   "(with --batch-size 1, try 1000).")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), metavar="PNG",
              help="Draw the loss against the learning rate to this PNG file.")
@OPTION["skip_bad"]
@user_errors
def lr_find_command(data_arg, data_opt, target, features, task, hidden, activation,
                    output_activation, loss, optimizer, batch_size, validation_split, no_scale,
                    dtype, seed, samples, noise, arms, start, stop, steps, plot, skip_bad):
    """Find a learning rate for numnet train: the loss over a few batches at growing rates.

    The rate grows geometrically from --start to --stop, one batch each, until
    the smoothed loss exceeds 4 times its best; the suggestion is where the
    loss has come two thirds of the way down (see numnet.diagnostics.lr_find).
    The data and network are numnet train's with the same options; the
    command to train with the rate found is printed at the end.
    """
    source = data_source(data_arg, data_opt)
    assert source is not None
    check_outputs({"--plot": plot}, {"DATA": file_input(source)})
    check_plot("--plot", plot)
    refuse_unless(generated(source), "--samples",
                  f"sets the size of a generated data set ({', '.join(data.GENERATED)}); "
                  f"{source} has its own rows")
    refuse_generation(source)
    refuse_unless(source.startswith(data.AUDIO_PREFIX), "--skip-bad",
                  "applies to audio folders (audio:FOLDER) only")
    if not stop > start:
        raise CliError(f"--stop {stop:g} must be larger than --start {start:g}; e.g. --start "
                       f"1e-7 --stop 10")
    if steps < MIN_STEPS:
        raise CliError(f"--steps {steps}: the test needs at least {MIN_STEPS} steps to suggest "
                       f"a rate; e.g. --steps 100")
    hidden_sizes = parse_ints(hidden)
    targets = split_names(target, "--target")
    feature_names = split_names(features, "--features")
    noise, arms = generation(source, noise, arms)  # xor: sampled if --samples asks for it
    table = data.load_table(source, targets, feature_names, n_samples=samples,
                            random_state=seed, noise=noise, arms=arms, skip_bad=skip_bad)
    assert table.y is not None

    # What numnet train does with these options, step for step: the task, the split, the
    # preprocessing fitted on the training rows, the network and its loss.
    task, _, train_rows, _, prep = prepare_training(table, task, validation_split, seed,
                                                    scale=not no_scale)
    X, y = table.X[train_rows], table.y[train_rows]
    n_out, head, default_loss = output_head(task, prep, output_activation)
    loss_name = get_loss(loss or default_loss).name
    net = MLP(len(table.feature_names), hidden_sizes, n_out,
              activation=parse_activation(activation),
              output_activation=output_activation or head, dtype=dtype, random_state=seed)
    result = lr_find(net, prep.transform(X), prep.encode_targets(y), optimizer=optimizer,
                     batch_size="auto" if batch_size is None else batch_size, loss=loss_name,
                     start=start, stop=stop, steps=steps, random_state=seed)

    batch = min(32 if batch_size is None else batch_size, len(train_rows))
    layers = " -> ".join(map(str, net.layer_sizes))
    click.echo(f"range test of a {layers} network ({optimizer}, {loss_name}) on "
               f"{len(train_rows)} rows of {printable(source)}: {len(result.rates)} batches "
               f"of {batch} rows")
    _report(result)
    if plot:
        figure = result.plot()
        save_png(figure, plot, dpi=figure.dpi)            # whole or not at all
        click.echo(f"saved {printable(plot)}")
    rate = f"{result.suggestion:.3g}"
    click.echo(f"train with it: {_train_command(source)} --lr {rate}")


def _report(result: LRFinderResult) -> None:
    """The suggestion, the table of rate -> smoothed loss, and how the test ended."""
    k = len(result.rates)
    rows = set(np.linspace(0, k - 1, min(TABLE_ROWS, k)).round().astype(int).tolist())
    suggested = int(np.argmin(np.abs(np.log(result.rates / result.suggestion))))
    rows.add(suggested)
    click.echo(f"suggested learning rate: {result.suggestion:.3g}")
    click.echo("")
    echo_table([[f"{result.rates[i]:.3g}", fmt(result.smoothed[i]),
                 "<- suggested" if i == suggested else ""] for i in sorted(rows)],
               ["learning rate", "smoothed loss", ""])
    click.echo("")
    if np.isfinite(result.smoothed).any():
        lowest = int(np.nanargmin(np.where(np.isfinite(result.smoothed), result.smoothed,
                                           np.nan)))
        click.echo(f"lowest smoothed loss {fmt(result.smoothed[lowest])}, at learning rate "
                   f"{result.rates[lowest]:.3g}")
    if result.diverged_at is not None:
        click.echo(f"the loss diverged at learning rate {result.diverged_at:.3g}, ending the "
                   f"test")
    else:
        click.echo(f"the loss did not diverge up to {result.rates[-1]:.3g}")


def _train_command(source: str) -> str:
    """``numnet train DATA`` with the options given here that numnet train shares."""
    ctx = click.get_current_context()
    words = ["numnet", "train", source]
    for name, flag in SHARED:
        if not given(name):
            continue
        value: Any = ctx.params[name]
        if isinstance(value, bool):
            words += [flag] if value else []
        elif isinstance(value, tuple):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return printable(" ".join(shlex.quote(word) for word in words))

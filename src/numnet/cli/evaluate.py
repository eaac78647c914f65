"""``numnet evaluate``: a saved model's scores on a data set."""

from __future__ import annotations

import click
import numpy as np

from numnet import metrics

from ._common import (
    DATA_HELP,
    data_source,
    echo_table,
    fmt,
    load_model,
    model_table,
    split_names,
    user_errors,
)

EXAMPLE = """
\b
Examples:
  numnet evaluate iris.safetensors iris
  numnet evaluate model.safetensors test.csv --target species --plot confusion.png
"""


@click.command(epilog=EXAMPLE + "\n" + DATA_HELP)
@click.argument("model")
@click.argument("data_arg", metavar="DATA", required=False)
@click.option("--data", "data_opt", metavar="DATA", hidden=True,
              help="The earlier form of the DATA argument.")
@click.option("--target", "-t", "target", multiple=True, metavar="COL",
              help="Target column(s); default: the model's own target name(s).")
@click.option("--target-columns", type=click.IntRange(min=1), default=None, hidden=True,
              help="The earlier form: the last N columns are targets.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), metavar="PNG",
              help="Draw the confusion matrix (classification) or predicted against true "
                   "values (regression) to this PNG file.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Rows of a generated data set.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0),
              help="Seed of a generated data set (differs from train's 0: new rows).")
@user_errors
def evaluate(model, data_arg, data_opt, target, target_columns, plot, samples, seed):
    """Score the model in file MODEL on DATA.

    Regression: MSE, MAE and R² per target. Classification: accuracy,
    precision, recall and F1 per class, and the confusion matrix.
    """
    source = data_source(data_arg, data_opt)
    assert source is not None
    m = load_model(model)
    table = model_table(m, source, split_names(target), samples, seed, need_target=True,
                        target_columns=target_columns)
    assert table.y is not None
    pred = m.predict(table.X)
    n = table.n_samples
    if m.is_classifier:
        classes = m.classes
        s = metrics.classification_scores(table.y, pred, classes)
        click.echo(f"accuracy {s['accuracy']:.4f} on {n} samples")
        rows = [[str(c), fmt(p), fmt(r), fmt(f), str(k)] for c, p, r, f, k in
                zip(classes, s["precision"], s["recall"], s["f1"], s["support"], strict=True)]
        rows.append(["macro average", fmt(float(np.mean(s["precision"]))),
                     fmt(float(np.mean(s["recall"]))), fmt(s["macro_f1"]), str(n)])
        click.echo("")
        echo_table(rows, ["class", "precision", "recall", "f1", "support"])
        click.echo("\nconfusion matrix (rows: true class, columns: predicted)")
        cm = s["confusion_matrix"]
        echo_table([[str(c), *map(str, row)] for c, row in zip(classes, cm, strict=True)],
                   ["", *map(str, classes)])
        if plot:
            from numnet import plots
            plots.confusion_matrix(cm, classes, plot)
    else:
        Y = np.asarray(table.y, dtype=np.float64).reshape(n, -1)
        s = metrics.regression_scores(Y, pred)
        click.echo(f"mse {s['mse']:.6g}  mae {s['mae']:.6g}  r2 {s['r2']:.4f} on {n} samples")
        if Y.shape[1] > 1:
            rows = [[name, *(fmt(v) for v in metrics.regression_scores(Y[:, j], pred[:, j])
                             .values())] for j, name in enumerate(table.target_names)]
            echo_table(rows, ["target", "mse", "mae", "r2"])
        if plot:
            from numnet import plots
            plots.predicted_vs_true(Y, pred, plot, names=table.target_names)
    if plot:
        click.echo(f"saved {plot}")


"""``numnet evaluate``: a saved model's scores on a data set.

Every row counts in every figure: rows whose label the model never saw are
named, counted as errors in the accuracy and shown as rows of their own in the
per-class table and the confusion matrix; data that shares no label with the
model is refused.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from numnet import metrics
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    CliError,
    check_plot,
    data_source,
    echo_table,
    file_input,
    fmt,
    generated,
    load_model,
    model_table,
    refuse_unless,
    split_names,
    user_errors,
)
from .outputs import check_outputs

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
    precision, recall and F1 per class, and the confusion matrix; rows whose
    label the model never saw count as errors and get rows of their own.
    """
    source = data_source(data_arg, data_opt)
    assert source is not None
    check_outputs({"--plot": plot}, {"MODEL": model, "DATA": file_input(source)})
    check_plot("--plot", plot)
    for option in ("--samples", "--seed"):
        refuse_unless(generated(source), option,
                      f"chooses the rows of a generated data set "
                      f"({', '.join(data.GENERATED)}); {source} has its own rows")
    m = load_model(model)
    table = model_table(m, source, split_names(target, "--target"), samples, seed,
                        need_target=True, target_columns=target_columns)
    assert table.y is not None
    pred = m.predict(table.X)
    n = table.n_samples
    if m.is_classifier:
        _classification(m, table, pred, source, plot)
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


def _names(labels: Any, limit: int = 8) -> str:
    shown = ", ".join(printable(v) for v in list(labels)[:limit])
    return shown + (", ..." if len(labels) > limit else "")


def _classification(m: Any, table: Any, pred: np.ndarray, source: str, plot: str | None
                    ) -> None:
    """Accuracy, the per-class table and the confusion matrix, over every row."""
    classes, n = list(m.classes), table.n_samples
    s = metrics.classification_scores(table.y, pred, classes)
    unseen: dict[Any, int] = s["unseen"]
    if sum(unseen.values()) == n:
        found = list(unseen)
        hint = ""
        if {str(v) for v in found} & {str(c) for c in classes}:
            hint = (" (some look the same as text: the model's labels and the data's are of "
                    "different types, e.g. numbers against strings)")
        raise CliError(f"{source}: none of the {n} rows has a label the model knows: the "
                       f"data's target {table.target_names[0]!r} holds {_names(found)}, the "
                       f"model's classes are {_names(classes)}{hint}; is this the right "
                       f"target column (--target) and model?")
    labels = s["labels"]
    click.echo(f"accuracy {s['accuracy']:.4f} on {n} samples")
    if unseen:
        left = sum(unseen.values())
        click.echo(f"note: {left} of the {n} rows have label(s) the model never saw: "
                   + ", ".join(f"{printable(v)} ({k} row{'' if k == 1 else 's'})"
                                   for v, k in unseen.items())
                   + "; they count as errors in the accuracy and have rows of their own "
                     "below, marked (unseen)")
    def name(label: Any) -> str:
        return f"{label} (unseen)" if label in unseen else str(label)
    rows = [[name(c), "-" if c in unseen else fmt(p), fmt(r), fmt(f), str(k)]
            for c, p, r, f, k in zip(labels, s["precision"], s["recall"], s["f1"],
                                     s["support"], strict=True)]
    rows.append(["macro average", fmt(float(np.mean(s["precision"]))),
                 fmt(float(np.mean(s["recall"]))), fmt(s["macro_f1"]), str(n)])
    click.echo("")
    echo_table(rows, ["class", "precision", "recall", "f1", "support"])
    click.echo("\nconfusion matrix (rows: true class, columns: predicted)")
    cm = s["confusion_matrix"]
    predicted = [j for j, c in enumerate(labels) if c not in unseen]   # never predicted
    echo_table([[name(c), *(str(row[j]) for j in predicted)]
                for c, row in zip(labels, cm, strict=True)],
               ["", *(str(labels[j]) for j in predicted)])
    if plot:
        from numnet import plots
        plots.confusion_matrix(cm, [name(c) for c in labels], plot)

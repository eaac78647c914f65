"""``numnet evaluate``: a saved model's scores on a data set.

Every row counts in every figure: rows whose label the model never saw are
named, counted as errors in the accuracy and shown as rows of their own in the
per-class table and the confusion matrix; data that shares no label with the
model is refused. Each score has its baseline beside it: the same score of
always predicting the training rows' mean (median for MAE) or majority class,
which ``numnet train`` records in the model file (a file without that record
gets the baseline of the evaluated rows' own targets, and says so).
"""

from __future__ import annotations

import os
from typing import Any

import click
import numpy as np

from numnet import metrics
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    MODEL_GENERATION,
    CliError,
    baseline_scores,
    baseline_text,
    check_plot,
    data_source,
    echo_table,
    file_input,
    fmt,
    generated,
    load_model,
    model_table,
    refuse_generation,
    refuse_unless,
    split_names,
    stored_baseline,
    training_baseline,
    user_errors,
    verdict,
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
@MODEL_GENERATION["noise"]
@MODEL_GENERATION["arms"]
@user_errors
def evaluate(model, data_arg, data_opt, target, target_columns, plot, samples, seed, noise,
             arms):
    """Score the model in file MODEL on DATA.

    Regression: MSE, MAE and R² per target. Classification: accuracy,
    precision, recall and F1 per class, and the confusion matrix; rows whose
    label the model never saw count as errors and get rows of their own.
    An audio folder laid out as a data split (train/, test/, ...) is scored on test/.
    A generated set is made as the model was trained on it (its noise and arms),
    unless --noise or --arms says otherwise.
    """
    source = data_source(data_arg, data_opt)
    assert source is not None
    check_outputs({"--plot": plot}, {"MODEL": model, "DATA": file_input(source)})
    check_plot("--plot", plot)
    for option in ("--samples", "--seed"):
        refuse_unless(generated(source), option,
                      f"chooses the rows of a generated data set "
                      f"({', '.join(data.GENERATED)}); {source} has its own rows")
    refuse_generation(source)
    m = load_model(model)
    parts = data.split_parts(source)
    if parts is not None:               # a data split: its test part, never what trained
        whole, source = source, f"{data.AUDIO_PREFIX}{parts['test']}"
    table = model_table(m, source, split_names(target, "--target"), samples, seed,
                        need_target=True, target_columns=target_columns, noise=noise,
                        arms=arms)
    assert table.y is not None
    if parts is not None:
        click.echo(f"{printable(whole)} is a data split: evaluating on "
                   f"{printable(os.path.basename(parts['test']))}/ ({table.n_samples} clips)",
                   err=True)
    pred = m.predict(table.X)
    n = table.n_samples
    if m.is_classifier:
        _classification(m, table, pred, source, plot)
    else:
        Y = np.asarray(table.y, dtype=np.float64).reshape(n, -1)
        s = metrics.regression_scores(Y, pred)
        click.echo(f"mse {s['mse']:.6g}  mae {s['mae']:.6g}  r2 {s['r2']:.4f} on {n} samples")
        base, what = _baseline(m, table.y)
        b = baseline_scores(m, base, Y)
        click.echo(f"baseline mse {b['mse']:.6g}  mae {b['mae']:.6g}  r2 {b['r2']:.4f}: "
                   f"{what}")
        _verdict(s, b, what)
        if Y.shape[1] > 1:                  # each target, and under it its baseline
            rows = []
            for j, name in enumerate(table.target_names):
                one = {key: [base[key][j]] for key in ("mean", "median")}
                rows.append([name, *(fmt(v) for v in metrics.regression_scores(
                    Y[:, j], pred[:, j]).values())])
                rows.append([f"{name} baseline", *(
                    fmt(v) for v in baseline_scores(m, one, Y[:, j]).values())])
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
    base, what = _baseline(m, table.y)
    b = baseline_scores(m, base, table.y)
    click.echo(f"baseline accuracy {b['accuracy']:.4f}  macro_f1 {b['macro_f1']:.4f}: {what}")
    _verdict({"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}, b, what)
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


def _baseline(m: Any, y: np.ndarray) -> tuple[dict[str, Any], str]:
    """The training rows' baseline the model file records, and what it is; or, for a file
    without that record, the baseline of the evaluated rows' own targets, said so."""
    stored = stored_baseline(m)
    if stored is not None:
        return stored, baseline_text(m, stored)
    own = training_baseline(m, y)
    return own, (baseline_text(m, own, "these rows' own") + " (the model file records no "
                 "training rows to take it from)")


def _verdict(scores: dict[str, float], base: dict[str, float], what: str) -> None:
    primary = "mse" if "mse" in scores else "accuracy"
    for line in verdict([("these rows", scores, base)], primary, what, retrain=(
            "retrain it: more --epochs, another --lr or --optimizer, more --hidden units; if "
            "the features say nothing about the target, no model beats it"), generalise=""):
        click.echo(line)

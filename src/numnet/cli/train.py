"""``numnet train``: train a network on a data set, report its scores and save it.

Before any epoch runs, every output is checked (not an input, writable),
every option given is checked to apply, a resumed checkpoint is checked to
come from the same data, seed and options (``fit`` then checks the memory
training needs before allocating it); a run that diverges exits with code 1 and leaves no model.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import click
import numpy as np

from numnet import MLP, callbacks, fit, io, metrics, optimizers
from numnet.baselines import baseline_loss
from numnet.losses import get_loss
from numnet.preprocessing import PreprocessedModel, Preprocessing, infer_task
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    CliError,
    activation_text,
    baseline_scores,
    baseline_text,
    check_plot,
    data_source,
    echo_table,
    file_input,
    fmt,
    generated,
    parse_activation,
    parse_ints,
    refuse_unless,
    split_names,
    training_baseline,
    user_errors,
    verdict,
)
from .outputs import check_outputs

OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]


# The options that numnet lr-find takes exactly as train does: one definition, one --help.
OPTION = {
    "data": click.option("--data", "data_opt", metavar="DATA", hidden=True,
                         help="The earlier form of the DATA argument."),
    "target": click.option("--target", "-t", "target", multiple=True, metavar="COL",
                           help="Target column(s), repeated or comma-separated. Default: a "
                                "column named y or target, else the last column."),
    "features": click.option("--features", "-f", multiple=True, metavar="COL",
                             help="Feature columns (default: every column that is not a "
                                  "target)."),
    "hidden": click.option("--hidden", default="16", show_default=True,
                           help="Hidden layer widths, comma-separated, e.g. 64,32 ('' for "
                                "none)."),
    "activation": click.option("--activation", default="tanh", show_default=True,
                               help="Hidden activation: sigmoid, tanh, relu, leaky_relu, elu, "
                                    "softplus; or one per hidden layer, comma-separated "
                                    "(relu,tanh)."),
    "output_activation": click.option("--output-activation", default=None,
                                      help="Default: softmax (several classes), sigmoid (two), "
                                           "identity (regression)."),
    "loss": click.option("--loss", default=None,
                         help="Default: cross-entropy for classes, mse otherwise."),
    "optimizer": click.option("--optimizer", default="adam", show_default=True,
                              type=click.Choice(OPTIMIZERS)),
    "batch_size": click.option("--batch-size", default=None, type=click.IntRange(min=1),
                               help="Rows per update. Default: 32, or all rows when there are "
                                    "fewer."),
    "no_scale": click.option("--no-scale", is_flag=True,
                             help="Do not standardise features (and regression targets)."),
    "dtype": click.option("--dtype", default="float64", show_default=True,
                          type=click.Choice(["float32", "float64"])),
    "seed": click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
                         help="Seeds the weights, shuffling, the validation split and generated "
                              "data."),
    "samples": click.option("--samples", default=1000, show_default=True,
                            type=click.IntRange(min=1),
                            help="Rows of a generated data set (one_minus_x, sine, spirals, "
                                 "...); refused for a data file or a bundled set, which have "
                                 "their own rows."),
    "skip_bad": click.option("--skip-bad", is_flag=True,
                             help="Audio folders: skip clips that cannot be read."),
}


def scores(model: PreprocessedModel, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Scores in the data's units: mse/mae/r2, or accuracy and macro F1."""
    pred = model.predict(X)
    if model.is_classifier:
        s = metrics.classification_scores(y, pred, model.classes or [])
        return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
    return metrics.regression_scores(y, pred)


def prepare_training(table: data.Table, task: str, validation_split: float, seed: int, *,
                     scale: bool
                     ) -> tuple[str, str, np.ndarray, np.ndarray | None, Preprocessing]:
    """``(task, why that task, training rows, validation rows or None, preprocessing)`` as
    ``train`` sets them up: the task inferred unless given (and said on stderr), the seeded
    split, the preprocessing fitted on the training rows only."""
    assert table.y is not None
    chosen, why = infer_task(table.y, table.target_names)
    if task == "auto":
        task = chosen
        click.echo(f"task: {task} ({printable(why)}; say --task to choose)", err=True)
    train_rows, val_rows = split_rows(table.n_samples, validation_split,
                                      np.random.default_rng(seed))
    prep = Preprocessing.fit(table.X[train_rows], table.y[train_rows], table.feature_names,
                             table.target_names, task, scale=scale)
    return task, why if task == chosen else f"--task {task}", train_rows, val_rows, prep


def output_head(task: str, prep: Preprocessing, output_activation: str | None
                ) -> tuple[int, str, str]:
    """``(outputs, output activation, default loss)`` for the task: one sigmoid unit for
    two classes (unless another output is asked for), softmax over more, identity for
    regression."""
    if task == "classification":
        n_classes = len(prep.classes or [])
        binary = n_classes == 2 and output_activation in (None, "sigmoid")
        return ((1, "sigmoid", "binary_cross_entropy") if binary
                else (n_classes, "softmax", "categorical_cross_entropy"))
    return len(prep.target_names), "identity", "mse"


def split_rows(n: int, fraction: float, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation row indices (rows in random order, seeded)."""
    if fraction <= 0:
        return np.arange(n), None
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise CliError(f"--validation-split {fraction} leaves {n_val} validation and "
                       f"{n - n_val} training row(s) of {n}; choose a fraction that leaves "
                       f"at least one of each")
    order = rng.permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _fit_config_check(ckpt: Any, path: str, optimizer: str, loss: str, batch: int) -> None:
    """Refuse options that differ from those the checkpoint's run was trained with."""
    saved = ckpt.fit_config or {}
    kind = (saved.get("optimizer") or {}).get("type")
    mine = type(optimizers.get_optimizer(optimizer)).__name__
    if kind is not None and kind != mine:
        raise CliError(f"--resume {path} was trained with the {kind} optimizer, not "
                       f"--optimizer {optimizer}; resume with --optimizer {kind.lower()}")
    if saved.get("loss") not in (None, loss):
        raise CliError(f"--resume {path} was trained with --loss {saved['loss']}, not {loss}; "
                       f"resume with --loss {saved['loss']}")
    if saved.get("batch_size") not in (None, batch):
        raise CliError(f"--resume {path} was trained with batches of {saved['batch_size']} "
                       f"rows, not {batch}; resume with --batch-size {saved['batch_size']}")


def _record_check(ckpt: Any, path: str, record: dict[str, Any], prep: Preprocessing) -> None:
    """Refuse a resume on other data, seed or preprocessing than the checkpoint's run."""
    saved = ckpt.metadata.get("training")
    if not isinstance(saved, dict):
        warnings.warn(f"--resume {path} records nothing of the data and options it was "
                      f"trained with (it was not written by numnet train --checkpoint); "
                      f"numnet cannot check that they are the same", stacklevel=2)
        return
    if saved.get("data_sha256") != record["data_sha256"]:
        raise CliError(f"--resume {path} was trained on other data ({saved.get('data')}, "
                       f"{saved.get('rows')} rows, SHA-256 {str(saved.get('data_sha256'))[:12]}) "
                       f"than DATA ({record['data']}, {record['rows']} rows, SHA-256 "
                       f"{record['data_sha256'][:12]}); resume with the same data and "
                       f"columns, or train afresh without --resume")
    options = {"seed": "--seed", "validation_split": "--validation-split", "task": "--task",
               "scale": "--no-scale"}
    for key, option in options.items():
        if key in saved and saved[key] != record[key]:
            then, now = (("without" if v else "with") + " --no-scale" if key == "scale"
                         else f"with {option} {v}" for v in (saved[key], record[key]))
            raise CliError(f"--resume {path} was trained {then}, and this run is {now}; "
                           f"resume {then}, or train afresh without --resume")
    stored = ckpt.metadata.get("preprocessing")
    if isinstance(stored, dict) and stored != prep.to_dict():
        raise CliError(f"--resume {path} was trained with other preprocessing (feature or "
                       f"target names, scaling or classes) than this run's; resume with the "
                       f"same data and options")


def _scale_advice(no_scale: bool, reason: str) -> str:
    """The command-line form of fit's advice to standardise: leave out --no-scale."""
    if no_scale and "standardise" in reason:       # fit found the data's scale to be the cause
        return "; here: leave out --no-scale so that they are standardised"
    return ""


EXAMPLE = """
\b
Examples:
  numnet train iris --hidden 16 --epochs 100 --validation-split 0.2 --out iris.safetensors
  numnet train flowers.csv --target species --plot loss.png
  numnet train houses.parquet --target price --features rooms,area --task regression
"""


@click.command(epilog=EXAMPLE + "\n" + DATA_HELP)
@click.argument("data_arg", metavar="DATA", required=False)
@OPTION["data"]
@OPTION["target"]
@click.option("--target-columns", type=click.IntRange(min=1), default=None, hidden=True,
              help="The earlier form: the last N columns are targets.")
@OPTION["features"]
@click.option("--task", type=click.Choice(["auto", "regression", "classification"]),
              default="auto", show_default=True,
              help="auto: text, true/false and integer targets with at most 20 distinct "
                   "values (and at most one per two rows) are classes; the rest regression.")
@OPTION["hidden"]
@OPTION["activation"]
@OPTION["output_activation"]
@OPTION["loss"]
@OPTION["optimizer"]
@click.option("--lr", "--learning-rate", "learning_rate", default=None,
              type=click.FloatRange(min=0, min_open=True),
              help="Learning rate. Default: the optimizer's own (adam: 0.001); with "
                   "--resume, the checkpoint's.")
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(min=1))
@OPTION["batch_size"]
@click.option("--validation-split", default=0.0, show_default=True,
              type=click.FloatRange(0, 1, max_open=True),
              help="Hold out this fraction of the rows (at random) to score the model on.")
@click.option("--early-stopping", "--patience", "patience", default=None,
              type=click.IntRange(min=1), metavar="PATIENCE",
              help="Stop after this many epochs without improvement (of the validation "
                   "loss if there is a validation split), keeping the best weights.")
@OPTION["no_scale"]
@OPTION["dtype"]
@OPTION["seed"]
@OPTION["samples"]
@click.option("--out", "out", default="model.safetensors", show_default=True,
              type=click.Path(dir_okay=False), help="Where to save the trained model.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), metavar="PNG",
              help="Draw the loss curve(s) to this PNG file.")
@click.option("--checkpoint", default=None, type=click.Path(dir_okay=False),
              help="Save a checkpoint here after every epoch (resume with --resume; it may "
                   "be the --resume file itself).")
@click.option("--resume", default=None, type=click.Path(dir_okay=False),
              help="Continue from a checkpoint written by --checkpoint: the same data, "
                   "--seed and options are required (checked); --lr sets a new learning "
                   "rate; --epochs is the total to reach.")
@click.option("--keep-diverged", is_flag=True,
              help="Save the model even if training diverges (the weights from before the "
                   "loss blew up) and exit 0. Without it a diverged run exits with code 1 "
                   "and saves no model.")
@OPTION["skip_bad"]
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (nor per-epoch lines).")
@user_errors
def train(data_arg, data_opt, target, target_columns, features, task, hidden, activation,
          output_activation, loss, optimizer, learning_rate, epochs, batch_size,
          validation_split, patience, no_scale, dtype, seed, samples, out, plot, checkpoint,
          resume, keep_diverged, skip_bad, quiet):
    """Train a network on DATA, print its scores and save it (with its preprocessing).

    Features are standardised and labels encoded; both are stored in the model
    file, so evaluate, predict and export take raw rows. Ctrl-C stops at the
    end of the current batch, saves the model (and the checkpoint) and exits
    with code 130. A run whose loss diverges exits with code 1 and saves no
    model (see --keep-diverged).
    """
    source = data_source(data_arg, data_opt)
    assert source is not None
    started = time.perf_counter()
    # Nothing is read or trained before the outputs and options are known to be usable.
    check_outputs({"--out": out, "--checkpoint": checkpoint, "--plot": plot},
                  {"DATA": file_input(source), "--resume": resume},
                  allowed={("--checkpoint", "--resume")})
    check_plot("--plot", plot)
    refuse_unless(generated(source), "--samples",
                  f"sets the size of a generated data set ({', '.join(data.GENERATED)}); "
                  f"{source} has its own rows")
    refuse_unless(source.startswith(data.AUDIO_PREFIX), "--skip-bad",
                  "applies to audio folders (audio:FOLDER) only")
    hidden_sizes = parse_ints(hidden)
    targets = split_names(target, "--target")
    feature_names = split_names(features, "--features")
    ckpt = _load_resume(resume, epochs) if resume else None

    if target_columns is not None:
        if targets:
            raise CliError("give --target (column names) or --target-columns, not both")
        frame = data.read_source(source, n_samples=samples, random_state=seed)
        if target_columns >= frame.shape[1]:
            raise CliError(f"{source}: --target-columns {target_columns} leaves no feature "
                           f"columns of {frame.shape[1]}")
        targets = list(frame.columns[-target_columns:])
        table = data.table_from_frame(frame, source, targets, feature_names)
    else:
        table = data.load_table(source, targets, feature_names, n_samples=samples,
                                random_state=seed, skip_bad=skip_bad)
    assert table.y is not None

    task, task_reason, train_rows, val_rows, prep = prepare_training(
        table, task, validation_split, seed, scale=not no_scale)
    X, y = table.X, table.y

    n_out, head, default_loss = output_head(task, prep, output_activation)
    loss_name = get_loss(loss or default_loss).name
    batch = min(32 if batch_size is None else batch_size, len(train_rows))
    net = MLP(len(table.feature_names), hidden_sizes, n_out,
              activation=parse_activation(activation),
              output_activation=output_activation or head, dtype=dtype, random_state=seed)

    record: dict[str, Any] = {"data": source, "data_sha256": data.fingerprint(table),
                              "rows": table.n_samples, "seed": seed,
                              "validation_split": validation_split, "task": task,
                              "scale": not no_scale}
    if ckpt is not None:
        _record_check(ckpt, resume, record, prep)
        if ckpt.net.get_config() != net.get_config():
            raise CliError(f"--resume {resume} holds {ckpt.net!r}, but these options build "
                           f"{net!r}; give the --hidden, --activation, --output-activation "
                           f"and --dtype it was trained with")
        _fit_config_check(ckpt, resume, optimizer, loss_name, batch)

    cbs: list[callbacks.Callback] = []
    if patience is not None:
        cbs.append(callbacks.EarlyStopping(patience=patience))
    if checkpoint:
        meta: dict[str, Any] = {"preprocessing": prep.to_dict(), "training": record}
        if table.audio is not None:
            meta["audio"] = table.audio
        cbs.append(callbacks.ModelCheckpoint(checkpoint, metadata=meta))
    Xt, Yt = prep.transform(X[train_rows]), prep.encode_targets(y[train_rows])
    validation = None
    if val_rows is not None:
        validation = (prep.transform(X[val_rows]), prep.encode_targets(y[val_rows]))
    if not quiet:
        layers = " -> ".join(map(str, net.layer_sizes))
        click.echo(f"training a {layers} network ({activation_text(net.activation)}, "
                   f"{net.output_activation} "
                   f"output, {net.num_parameters} parameters) on {len(train_rows)} rows of "
                   f"{printable(source)}" + (f", validating on {len(val_rows)}"
                                             if val_rows is not None else ""), err=True)
    with _divergence_said_once():
        history = fit(net, Xt, Yt, loss=loss_name, optimizer=optimizer,
                      learning_rate=learning_rate, epochs=epochs,
                      batch_size="auto" if batch_size is None else batch_size,
                      validation_data=validation, callbacks=cbs, verbose=not quiet,
                      random_state=seed, resume_from=resume)
    reason = history.stop_reason or ""
    if reason.startswith("diverged") and not keep_diverged:
        raise CliError(f"training {reason}{_scale_advice(no_scale, reason)}; no model "
                       f"was saved (--keep-diverged saves it anyway)")
    net.classes_ = prep.classes
    model = PreprocessedModel(net, prep)
    elapsed = time.perf_counter() - started

    train_scores = scores(model, X[train_rows], y[train_rows])
    val_scores = scores(model, X[val_rows], y[val_rows]) if val_rows is not None else None
    baseline = training_baseline(model, y[train_rows])
    base_scores = [baseline_scores(model, baseline, y[train_rows])]
    if val_rows is not None:
        base_scores.append(baseline_scores(model, baseline, y[val_rows]))
    rate = (history.learning_rate[-1] if history.learning_rate else
            optimizers.get_optimizer(optimizer, learning_rate).learning_rate)
    record.update({"task_reason": task_reason,
                   "epochs": history.epochs, "optimizer": optimizer, "learning_rate": rate,
                   "batch_size": batch, "loss": history.loss[-1] if history.loss else None,
                   "val_loss": history.val_loss[-1] if history.val_loss else None,
                   "train_rows": len(train_rows), "validation_rows": 0 if val_rows is None
                   else len(val_rows), "train_scores": train_scores,
                   "validation_scores": val_scores, "baseline": baseline,
                   "seconds": round(elapsed, 3),
                   "stop_reason": history.stop_reason})
    metadata: dict[str, Any] = {"training": record}
    if table.audio is not None:
        metadata["audio"] = table.audio
    model.save(out, metadata)

    # the training loss's baseline, on the targets as fit saw them (labels one-hot)
    fitted = Yt if task != "classification" else (
        np.eye(n_out)[Yt] if n_out > 1 else Yt.reshape(-1, 1).astype(np.float64))
    base_loss = baseline_loss(fitted, loss_name)
    _summary(model, history, train_scores, val_scores, elapsed, base_scores)
    _baseline_summary(model, baseline, base_scores, train_scores, val_scores, base_loss)
    click.echo(f"saved {out}")
    if plot:
        from numnet import plots
        plots.loss_curve(history, plot)
        click.echo(f"saved {plot}")
    if history.stop_reason:
        click.echo(f"stopped: {history.stop_reason}", err=True)
    if history.interrupted:
        where = f" and checkpoint {checkpoint}" if checkpoint else ""
        click.echo(f"interrupted: the model{where} were saved; resume with --resume", err=True)
        sys.exit(130)


def _not_divergence(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("diverged")


@contextlib.contextmanager
def _divergence_said_once() -> Iterator[None]:
    """The command reports a divergence itself (with advice): the log line would repeat it."""
    logger = logging.getLogger("numnet.callbacks")
    logger.addFilter(_not_divergence)
    try:
        yield
    finally:
        logger.removeFilter(_not_divergence)


def _load_resume(path: str, epochs: int) -> Any:
    """The checkpoint ``--resume`` names, read once to check it against this run."""
    if not os.path.exists(path):
        raise CliError(f"--resume {path}: no such checkpoint file")
    kind = data.file_kind(path)
    if kind is not None:
        raise CliError(f"--resume {path} is {kind}, not a checkpoint file")
    ckpt = io.load_checkpoint(path)
    if epochs <= ckpt.epoch:
        raise CliError(f"--resume {path} has already trained {ckpt.epoch} epoch(s) and "
                       f"--epochs {epochs} is the total to reach; give --epochs above "
                       f"{ckpt.epoch}")
    return ckpt


def _summary(model: PreprocessedModel, history: Any, train_scores: dict[str, float],
             val_scores: dict[str, float] | None, elapsed: float,
             base_scores: list[dict[str, float]]) -> None:
    """The final table: scores on the training and validation rows, their baselines'
    (``baseline on train``, ``baseline on validation``), and the run."""
    names = list(train_scores)
    header = ["", *names]
    rows = [["train", *(fmt(train_scores[k]) for k in names)]]
    if val_scores is not None:
        rows.append(["validation", *(fmt(val_scores[k]) for k in names)])
    rows += [[f"baseline on {name}", *(fmt(b[k]) for k in names)]
             for name, b in zip(("train", "validation"), base_scores, strict=False)]
    click.echo("")
    echo_table(rows, header)
    loss = f"{history.loss[-1]:.4g}" if history.loss else "-"
    click.echo(f"  {history.epochs} epoch(s) in {elapsed:.2f} s, final loss {loss}, "
               f"{model.net.num_parameters} parameters")


def _baseline_summary(model: PreprocessedModel, baseline: dict[str, Any],
                      base_scores: list[dict[str, float]], train_scores: dict[str, float],
                      val_scores: dict[str, float] | None, base_loss: float) -> None:
    """Under the table: what the baseline is and its loss (``base_loss``, in the units of
    the training loss); then ``learned nothing: ...`` when the model does not beat its
    accuracy (mse) on a set of rows (``base_scores``: the training rows', then the
    validation rows'), or a ``note`` when only another score does not."""
    what = baseline_text(model, baseline)
    click.echo(f"  baseline: {what}; its loss {base_loss:.4g}")
    scored = [("the training rows", train_scores, base_scores[0])]
    if val_scores is not None:
        scored.append(("the validation rows", val_scores, base_scores[1]))
    primary = "accuracy" if model.is_classifier else "mse"
    for line in verdict(scored, primary, what, retrain=(
            "try more --epochs, another --lr or --optimizer, more --hidden units (--activation "
            "relu for a deep network); if the features say nothing about the target, no model "
            "beats it"), generalise=(
            "it fits the training rows only: try --early-stopping, fewer --epochs, a smaller "
            "--hidden, or more rows")):
        click.echo(line)

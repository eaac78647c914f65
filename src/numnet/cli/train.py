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
import re
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from numnet import MLP, callbacks, fit, io, metrics, optimizers
from numnet._fitting.loop import feature_scales, still_falling
from numnet.baselines import baseline_loss
from numnet.initializers import INITIALIZERS, get_initializer
from numnet.losses import get_loss
from numnet.preprocessing import PreprocessedModel, Preprocessing, infer_task
from numnet.terminal import printable

from . import data
from ._common import (
    DATA_HELP,
    CliError,
    Finite,
    activation_text,
    baseline_scores,
    baseline_text,
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
                                 "...; xor is its 4 points unless --samples or --noise is "
                                 "given); refused for a data file or a bundled set, which have "
                                 "their own rows."),
    "noise": click.option("--noise", default=None, type=Finite(min=0),
                          metavar="X",
                          help="Noise of a generated data set (default: the set's own): the "
                               "standard deviation of Gaussian noise on the points (moons, "
                               "spirals, circles: 0.1; xor: 0) or on the targets (one_minus_x, "
                               "sum_of_two, sine: 0); gaussians: widens the clouds (0.1); "
                               "tones: background noise relative to each clip's level (0.05). "
                               "Refused for files and bundled sets."),
    "arms": click.option("--arms", default=None, type=click.IntRange(min=2), metavar="N",
                         help="spirals only: its number of arms, one class each (default 2)."),
    "skip_bad": click.option("--skip-bad", is_flag=True,
                             help="Audio folders: skip clips that cannot be read."),
}



# Seconds of reading the data (an audio folder's features) from which the summary says them
# beside the training's own time.
READING_SHOWN = 0.5

def scores(model: PreprocessedModel, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Scores in the data's units: mse/mae/r2, or accuracy and macro F1."""
    pred = model.predict(X)
    if model.is_classifier:
        s = metrics.classification_scores(y, pred, model.classes or [])
        return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
    return metrics.regression_scores(y, pred)


def prepare_training(table: data.Table, task: str, validation_split: float, seed: int, *,
                     scale: bool, groups: np.ndarray | None = None
                     ) -> tuple[str, str, np.ndarray, np.ndarray | None, Preprocessing]:
    """``(task, why that task, training rows, validation rows or None, preprocessing)`` as
    ``train`` sets them up: the task inferred unless given (and said on stderr), the seeded
    split (of whole ``groups``, shape (n_samples,), when given), the preprocessing fitted on
    the training rows only."""
    assert table.y is not None
    chosen, why = infer_task(table.y, table.target_names)
    if task == "auto":
        task = chosen
        click.echo(f"task: {task} ({printable(why)}; say --task to choose)", err=True)
    rng = np.random.default_rng(seed)
    if groups is None:
        train_rows, val_rows = split_rows(table.n_samples, validation_split, rng)
    else:
        train_rows, val_rows = split_groups(groups, validation_split, rng)
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


def split_groups(groups: np.ndarray, fraction: float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices that keep each group (``groups``, shape
    (n_samples,)) whole on one side: groups in a seeded order go to validation until it
    holds about ``fraction`` of the rows (the group that comes closest decides the last)."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    n, target = len(groups), fraction * len(groups)
    if len(names) < 2:
        raise CliError(f"--group-by puts all {n} clips in one group "
                       f"('{printable(str(names[0]))}'); a validation split of whole groups "
                       f"needs at least two: choose another --group-by")
    chosen: list[int] = []
    held = 0
    for g in rng.permutation(len(names)):
        if len(chosen) == len(names) - 1 or held >= target:
            break
        if chosen and abs(held + sizes[g] - target) > abs(held - target):
            continue                 # a smaller group further on may come closer
        chosen.append(int(g))
        held += int(sizes[g])
    in_val = np.isin(inverse, chosen)
    return np.flatnonzero(~in_val), np.flatnonzero(in_val)


def clip_groups(table: data.Table, group_by: str) -> np.ndarray:
    """Each clip's group (shape (n_samples,), str) under ``--group-by``: the first capture
    group (else the whole match) of a regular expression searched in the clip's path
    relative to its folder (``/``-separated), or ``level:N``, the path's N-th component."""
    assert table.files is not None and table.folder is not None
    level = re.fullmatch(r"level:(\d+)", group_by.strip())
    pattern = None
    if level is None:
        try:
            pattern = re.compile(group_by)
        except re.error as exc:
            raise CliError(f"--group-by {printable(group_by)} is not a regular expression "
                           f"({exc}); give one, e.g. '^[^/]+/([a-z]+)_', or level:N") from None
    elif int(level.group(1)) < 1:
        raise CliError("--group-by level:N counts path components from 1 (the class "
                       "folder); e.g. level:2 for the subfolder inside each class folder")
    out = []
    unmatched: list[str] = []
    for file in table.files:
        rel = _relative(file, table.folder)
        if pattern is None:
            assert level is not None
            parts, n = rel.split("/"), int(level.group(1))
            key = parts[n - 1] if n <= len(parts) else None
        else:
            found = pattern.search(rel)
            key = None if found is None else (found.group(1) if pattern.groups else
                                              found.group(0))
        if key is None:
            unmatched.append(rel)
        out.append(key)
    if unmatched:
        what = (f"has no component {level.group(1)}" if level is not None
                else "does not match it")
        raise CliError(f"--group-by {printable(group_by)}: clip {printable(unmatched[0])} "
                       f"{what} ({len(unmatched)} of {len(out)} clips do not; paths are "
                       f"relative to {printable(table.folder)}); every clip needs a group")
    return np.asarray(out, dtype=str)


def _fit_config_check(ckpt: Any, path: str, optimizer: str, loss: str, batch: int,
                      l2: float = 0.0, dropout: float = 0.0) -> None:
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
    for key, mine_value in (("l2", l2), ("dropout", dropout)):
        if saved.get(key) not in (None, mine_value):
            then = printable(str(saved[key]))
            raise CliError(f"--resume {path} was trained with --{key} {then}, not "
                           f"{mine_value:g}; resume with --{key} {then}")


_PENALTIES = ("l2", "dropout")       # 0 is the option left out


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
               "scale": "--no-scale", "group_by": "--group-by", "noise": "--noise",
               "arms": "--arms", "l2": "--l2", "dropout": "--dropout"}
    for key, option in options.items():
        if key in saved and saved[key] != record[key]:
            then, now = (("without" if v else "with") + " --no-scale" if key == "scale"
                         else f"without {option}" if v is None or (key in _PENALTIES
                                                                   and v == 0)
                         else f"with {option} {printable(str(v))}"
                         for v in (saved[key], record[key]))
            raise CliError(f"--resume {path} was trained {then}, and this run is {now}; "
                           f"resume {then}, or train afresh without --resume")
    if "augment" in saved and saved["augment"] != record["augment"]:
        raise CliError(f"--resume {path} was trained with other --augment or --augment-copies "
                       f"options than this run's; resume with the same, or train afresh "
                       f"without --resume")
    stored = ckpt.metadata.get("preprocessing")
    if isinstance(stored, dict) and stored != prep.to_dict():
        raise CliError(f"--resume {path} was trained with other preprocessing (feature or "
                       f"target names, scaling or classes) than this run's; resume with the "
                       f"same data and options")


def parse_init(value: str | None, n_layers: int) -> str | list[str] | None:
    """``--init``: None (the default), one initializer name for every layer, or one per
    layer (``n_layers``: hidden and output) comma-separated; each name checked here."""
    if value is None:
        return None
    names = [v.strip() for v in re.split(r",(?![^(]*\))", value)]   # uniform(-1, 1) is one
    if len(names) not in (1, n_layers):
        raise CliError(f"--init {printable(value)}: give one initializer, or one per layer "
                       f"({n_layers}: the hidden layers and the output), comma-separated")
    for name in names:
        try:
            get_initializer(name)
        except (TypeError, ValueError) as exc:
            raise CliError(f"--init: {exc}") from None
    return names[0] if len(names) == 1 else names


def _net_text(net: Any) -> str:
    """A network for a message: its repr (layers, activations, bias, dtype) and initializers."""
    return f"{net!r} initialised {activation_text(net.init)}"


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
              type=Finite(min=0, min_open=True),
              help="Learning rate. Default: the optimizer's own (adam: 0.001); with "
                   "--resume, the checkpoint's.")
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(min=1))
@OPTION["batch_size"]
@click.option("--validation-split", default=0.0, show_default=True,
              type=Finite(0, 1, max_open=True),
              help="Hold out this fraction of the rows (at random) to score the model on.")
@click.option("--early-stopping", "--patience", "patience", default=None,
              type=click.IntRange(min=1), metavar="PATIENCE",
              help="Stop after this many epochs without improvement (of the validation "
                   "loss if there is a validation split), keeping the best weights.")
@OPTION["no_scale"]
@OPTION["dtype"]
@click.option("--l2", default=0.0, show_default=True, type=Finite(min=0),
              metavar="X",
              help="L2 penalty 0.5 * L2 * sum(W ** 2) on the weights (not the biases).")
@click.option("--dropout", default=0.0, show_default=True,
              type=Finite(0, 1, max_open=True), metavar="P",
              help="Drop each hidden unit with probability P at every training step (0 <= P < 1).")
@click.option("--no-bias", is_flag=True, help="Build the network without biases (weights only).")
@click.option("--init", default=None, metavar="NAME",
              help=f"Weight initializer: {', '.join(INITIALIZERS)} (uniform: the tutorial's "
                   f"[0, 1)); or one per layer, hidden and output, comma-separated. Default: "
                   f"he_uniform after relu-like layers, glorot_uniform otherwise.")
@OPTION["seed"]
@OPTION["samples"]
@OPTION["noise"]
@OPTION["arms"]
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
@click.option("--group-by", "group_by", default=None, metavar="REGEX|level:N",
              help="Audio folders: keep each group of clips on one side of the validation "
                   "split. REGEX is searched in each clip's path relative to the folder (its "
                   "first capture group, else the whole match, names the group), e.g. "
                   "'^[^/]+/([a-z]+)_' for a speaker prefix; level:N takes the path's N-th "
                   "component (1: the class folder).")
@click.option("--augment", default=None, metavar="NAME=X,...",
              help="Audio folders: add augmented copies of the training clips (never of "
                   "validation or test clips), seeded by --seed: noise=SNR_DB, gain=DB "
                   "(up to), shift=SECONDS (up to), pitch=SEMITONES (up to), stretch=R "
                   "(tempo rate in 1-R..1+R); e.g. noise=20,gain=6,shift=0.1,pitch=2,"
                   "stretch=0.1.")
@click.option("--augment-copies", default=1, show_default=True, type=click.IntRange(min=1),
              metavar="N", help="Augmented copies of each training clip (with --augment).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (nor per-epoch lines).")
@user_errors
def train(data_arg, data_opt, target, target_columns, features, task, hidden, activation,
          output_activation, loss, optimizer, learning_rate, epochs, batch_size,
          validation_split, patience, no_scale, dtype, l2, dropout, no_bias, init, seed,
          samples, noise, arms, out, plot, checkpoint, resume, keep_diverged, skip_bad,
          group_by, augment, augment_copies, quiet):
    """Train a network on DATA, print its scores and save it (with its preprocessing).

    Features are standardised and labels encoded; both are stored in the model
    file, so evaluate, predict and export take raw rows. Ctrl-C stops at the
    end of the current batch, saves the model (and the checkpoint) and exits
    with code 130. A run whose loss diverges exits with code 1 and saves no
    model (see --keep-diverged).

    An audio folder laid out as a data split (train/, test/ and optionally valid/,
    each with its class folders) trains on train/, validates on valid/ (else on
    --validation-split of train/) and reports the scores on test/, which it never
    trains on.
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
    refuse_generation(source)
    refuse_unless(source.startswith(data.AUDIO_PREFIX), "--skip-bad",
                  "applies to audio folders (audio:FOLDER) only")
    refuse_unless(source.startswith(data.AUDIO_PREFIX), "--group-by",
                  "applies to audio folders (audio:FOLDER) only")
    refuse_unless(source.startswith(data.AUDIO_PREFIX), "--augment",
                  "applies to audio folders (audio:FOLDER) only")
    if augment is None and given("augment_copies"):
        raise CliError("--augment-copies sets how many copies --augment makes; give --augment "
                       "too, or leave it out")
    augmenter = _augmenter(augment, augment_copies, seed) if augment is not None else None
    parts = data.split_parts(source)
    if parts is not None and "valid" in parts:
        why = (f"is not needed: {printable(source)} is a data split with its own validation "
               f"part ({Path(parts['valid']).name}/)")
        refuse_unless(False, "--validation-split", why)
        refuse_unless(False, "--group-by", why)
    if group_by is not None and validation_split <= 0:
        raise CliError("--group-by chooses which clips go to the validation split; give "
                       "--validation-split too, e.g. --validation-split 0.2")
    hidden_sizes = parse_ints(hidden)
    inits = parse_init(init, len(hidden_sizes) + 1)
    noise, arms = generation(source, noise, arms)  # xor: sampled if --samples asks for it
    targets = split_names(target, "--target")
    feature_names = split_names(features, "--features")
    ckpt = _load_resume(resume, epochs) if resume else None

    if target_columns is not None:
        if targets:
            raise CliError("give --target (column names) or --target-columns, not both")
        frame = data.read_source(source, n_samples=samples, random_state=seed, noise=noise,
                                 arms=arms)
        if target_columns >= frame.shape[1]:
            raise CliError(f"{source}: --target-columns {target_columns} leaves no feature "
                           f"columns of {frame.shape[1]}")
        targets = list(frame.columns[-target_columns:])
        table = data.table_from_frame(frame, source, targets, feature_names)
    else:
        table = data.load_table(source, targets, feature_names, n_samples=samples,
                                random_state=seed, noise=noise, arms=arms, skip_bad=skip_bad,
                                audio_split=parts is not None)
    assert table.y is not None
    groups = clip_groups(table, group_by) if group_by is not None else None

    task, task_reason, train_rows, val_rows, prep = prepare_training(
        table, task, validation_split, seed, scale=not no_scale, groups=groups)
    X, y = table.X, table.y
    # Every scored set: the training rows, the validation rows (held out of the training
    # data, or a split's own part) and a split's test part, which no step of training sees.
    sets: dict[str, tuple[np.ndarray, np.ndarray]] = {"train": (X[train_rows], y[train_rows])}
    held = table.parts or {}
    if val_rows is not None:
        sets["validation"] = (X[val_rows], y[val_rows])
    elif "valid" in held:
        sets["validation"] = (held["valid"].X, np.asarray(held["valid"].y))
    if "test" in held:
        sets["test"] = (held["test"].X, np.asarray(held["test"].y))
    if groups is not None:
        assert val_rows is not None
        n_val = len(np.unique(groups[val_rows]))
        n_train = len(np.unique(groups[train_rows]))
        click.echo(f"--group-by {printable(group_by)}: {n_train + n_val} groups, {n_train} "
                   f"({len(train_rows)} clips) to training, {n_val} ({len(val_rows)} clips) "
                   f"to validation", err=True)
    if parts is not None:
        click.echo(_split_text(source, parts, sets, validation_split), err=True)

    n_out, head, default_loss = output_head(task, prep, output_activation)
    loss_name = get_loss(loss or default_loss).name
    # Augmented copies of the training clips only: extra training rows, nothing else.
    X_fit, y_fit = sets["train"]
    if augmenter is not None:
        assert table.files is not None
        X_aug, copied = augmenter.features_for_files([table.files[i] for i in train_rows],
                                                     table.audio)
        X_fit, y_fit = np.vstack([X_fit, X_aug]), np.concatenate([y_fit, y_fit[copied]])
        click.echo(f"--augment {printable(augment)}: {len(X_aug)} augmented training rows "
                   f"({augment_copies} per training clip); validation and test rows are not "
                   f"augmented", err=True)
    batch = min(32 if batch_size is None else batch_size, len(X_fit))
    net = MLP(len(table.feature_names), hidden_sizes, n_out,
              activation=parse_activation(activation),
              output_activation=output_activation or head, bias=not no_bias, init=inits,
              dtype=dtype, random_state=seed)
    made = (data.generator_options(source, samples, noise, arms) if generated(source)
            else {})

    record: dict[str, Any] = {"data": source, "data_sha256": data.fingerprint(table),
                              "rows": table.n_samples, "seed": seed,
                              "validation_split": validation_split, "task": task,
                              "scale": not no_scale, "group_by": group_by,
                              "augment": None if augmenter is None else augmenter.to_dict(),
                              "augmented_rows": len(X_fit) - len(train_rows),
                              "noise": made.get("noise"), "arms": made.get("n_classes"),
                              "l2": l2, "dropout": dropout, "bias": net.bias, "init": net.init}
    if parts is not None:
        record["parts"] = _parts_record(parts, sets, validation_split)
    if table.files is not None and val_rows is not None:
        record.update(_held_out_record(table, val_rows, train_rows, groups))
    if ckpt is not None:
        _record_check(ckpt, resume, record, prep)
        if ckpt.net.get_config() != net.get_config():
            raise CliError(f"--resume {resume} holds {_net_text(ckpt.net)}, but these "
                           f"options build {_net_text(net)}; give the --hidden, --activation, "
                           f"--output-activation, --no-bias, --init and --dtype it was "
                           f"trained with")
        _fit_config_check(ckpt, resume, optimizer, loss_name, batch, l2, dropout)

    # fit's own progress (its epoch lines) without its verbose baseline: the table below
    # says the baseline, in the data's units and for every scored set (_training_notes
    # keeps fit's notes)
    cbs: list[callbacks.Callback] = [] if quiet else [callbacks.ProgressBar()]
    if patience is not None:
        cbs.append(callbacks.EarlyStopping(patience=patience))
    if checkpoint:
        meta: dict[str, Any] = {"preprocessing": prep.to_dict(), "training": record}
        if table.audio is not None:
            meta["audio"] = table.audio
        cbs.append(callbacks.ModelCheckpoint(checkpoint, metadata=meta))
    Xt, Yt = prep.transform(X_fit), prep.encode_targets(y_fit)
    validation = None
    if "validation" in sets:
        validation = (prep.transform(sets["validation"][0]),
                      prep.encode_targets(sets["validation"][1]))
    if not quiet:
        layers = " -> ".join(map(str, net.layer_sizes))
        click.echo(f"training a {layers} network ({activation_text(net.activation)}, "
                   f"{net.output_activation} "
                   f"output, {net.num_parameters} parameters) on {len(X_fit)} rows of "
                   f"{printable(source)}" + (f", validating on {len(sets['validation'][0])}"
                                             if "validation" in sets else ""), err=True)
    reading = time.perf_counter() - started         # the data read (audio: its features)
    started = time.perf_counter()                   # the training, timed on its own
    with _divergence_said_once():
        history = fit(net, Xt, Yt, loss=loss_name, optimizer=optimizer,
                      learning_rate=learning_rate, epochs=epochs,
                      batch_size="auto" if batch_size is None else batch_size,
                      validation_data=validation, callbacks=cbs, l2=l2, dropout=dropout,
                      verbose=False, random_state=seed, resume_from=resume)
    reason = history.stop_reason or ""
    if reason.startswith("diverged") and not keep_diverged:
        raise CliError(f"training {reason}{_scale_advice(no_scale, reason)}; no model "
                       f"was saved (--keep-diverged saves it anyway)")
    net.classes_ = prep.classes
    model = PreprocessedModel(net, prep)
    elapsed = round(time.perf_counter() - started, 3)   # as recorded: the summary says it

    scored = {name: scores(model, Xs, ys) for name, (Xs, ys) in sets.items()}
    train_scores, val_scores = scored["train"], scored.get("validation")
    baseline = training_baseline(model, y[train_rows])
    base_scores = {name: baseline_scores(model, baseline, ys) for name, (_, ys) in sets.items()}
    rate = (history.learning_rate[-1] if history.learning_rate else
            optimizers.get_optimizer(optimizer, learning_rate).learning_rate)
    record.update({"task_reason": task_reason,
                   "epochs": history.epochs, "optimizer": optimizer, "learning_rate": rate,
                   "batch_size": batch, "loss": history.loss[-1] if history.loss else None,
                   "val_loss": history.val_loss[-1] if history.val_loss else None,
                   "train_rows": len(train_rows),
                   "validation_rows": len(sets["validation"][0]) if "validation" in sets else 0,
                   "train_scores": train_scores,
                   "validation_scores": val_scores, "baseline": baseline,
                   "seconds": elapsed, "data_seconds": round(reading, 3),
                   "stop_reason": history.stop_reason})
    if "test" in sets:
        record.update({"test_rows": len(sets["test"][0]), "test_scores": scored["test"]})
    metadata: dict[str, Any] = {"training": record}
    if table.audio is not None:
        metadata["audio"] = table.audio
    model.save(out, metadata)

    # the training loss's baseline, on the targets as fit saw them (labels one-hot)
    fitted = Yt if task != "classification" else (
        np.eye(n_out)[Yt] if n_out > 1 else Yt.reshape(-1, 1).astype(np.float64))
    base_loss = baseline_loss(fitted, loss_name)
    _summary(model, history, scored, elapsed, base_scores, reading)
    learned = _baseline_summary(model, baseline, base_scores, scored, base_loss)
    if not quiet:
        _training_notes(history, Xt, base_loss, learned)
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


def _augmenter(spec: str, copies: int, seed: int) -> Any:
    """The :class:`numnet.audio.Augment` that ``--augment`` spells (errors: one line)."""
    try:
        from numnet import audio  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        raise CliError(f"--augment needs the audio extra: pip install 'numnet[audio]' "
                       f"({exc})") from None
    try:
        return audio.Augment.parse(spec, copies=copies, random_state=seed)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _split_text(source: str, parts: dict[str, str], sets: dict[str, tuple[np.ndarray, Any]],
                validation_split: float) -> str:
    """What a data split's parts are used for, with their clip counts (for stderr)."""
    def part(name: str) -> str:
        return f"{printable(Path(parts[name]).name)}/"
    n = {name: len(rows[0]) for name, rows in sets.items()}
    said = [f"training on {part('train')} ({n['train']} clips)"]
    if "valid" in parts:
        said.append(f"validating on {part('valid')} ({n['validation']} clips)")
    elif "validation" in sets:
        said.append(f"validating on {validation_split * 100:g}% of {part('train')} "
                    f"({n['validation']} clips)")
    said.append(f"testing on {part('test')} ({n['test']} clips)")
    return f"{printable(source)} is a data split: {', '.join(said)}"


def _parts_record(parts: dict[str, str], sets: dict[str, tuple[np.ndarray, Any]],
                  validation_split: float) -> dict[str, Any]:
    """The training record's ``parts``: for each scored set, the split's folder it came from
    (its name) and its rows; a validation set held out of ``train/`` gives its fraction."""
    out: dict[str, Any] = {"train": {"folder": Path(parts["train"]).name,
                                     "rows": len(sets["train"][0])}}
    if "valid" in parts:
        out["validation"] = {"folder": Path(parts["valid"]).name,
                             "rows": len(sets["validation"][0])}
    elif "validation" in sets:
        out["validation"] = {"folder": Path(parts["train"]).name, "fraction": validation_split,
                             "rows": len(sets["validation"][0])}
    out["test"] = {"folder": Path(parts["test"]).name, "rows": len(sets["test"][0])}
    return out


def _relative(file: str, folder: str) -> str:
    """A clip's path relative to its folder, ``/``-separated, as text a model file can store
    (bytes the file-system encoding cannot decode spelled ``\\xNN``)."""
    rel = Path(os.path.relpath(file, folder)).as_posix()
    return os.fsencode(rel).decode(sys.getfilesystemencoding(), "backslashreplace")


def _held_out_record(table: data.Table, val_rows: np.ndarray, train_rows: np.ndarray,
                     groups: np.ndarray | None) -> dict[str, Any]:
    """The clips held out for validation (paths relative to their folder) and, with
    ``--group-by``, each side's groups: so a model tells which files it never trained on."""
    assert table.files is not None and table.folder is not None
    out: dict[str, Any] = {"validation_files": [_relative(table.files[int(i)], table.folder)
                                                for i in val_rows]}
    if groups is not None:
        out["groups"] = {"train": sorted(set(groups[train_rows].tolist())),
                         "validation": sorted(set(groups[val_rows].tolist()))}
    return out


def _summary(model: PreprocessedModel, history: Any, scored: dict[str, dict[str, float]],
             elapsed: float, base_scores: dict[str, dict[str, float]],
             reading: float = 0.0) -> None:
    """The final table: scores on each scored set (``train``, ``validation``, ``test``),
    their baselines' (``baseline on train``, ...), and the run."""
    names = list(scored["train"])
    header = ["", *names]
    rows = [[name, *(fmt(s[k]) for k in names)] for name, s in scored.items()]
    rows += [[f"baseline on {name}", *(fmt(b[k]) for k in names)]
             for name, b in base_scores.items()]
    click.echo("")
    echo_table(rows, header)
    loss = f"{history.loss[-1]:.4g}" if history.loss else "-"
    read = f" (after {reading:.2f} s reading the data)" if reading >= READING_SHOWN else ""
    click.echo(f"  {history.epochs} epoch(s) in {elapsed:.2f} s{read}, final training loss "
               f"{loss}{_loss_units(model)}, {model.net.num_parameters} parameters")


def _loss_units(model: PreprocessedModel) -> str:
    """Where the training loss is not in the table's units: on standardised targets."""
    return " (on standardised targets)" if model.preprocessing.target_scale is not None else ""


def _baseline_summary(model: PreprocessedModel, baseline: dict[str, Any],
                      base_scores: dict[str, dict[str, float]],
                      scored: dict[str, dict[str, float]], base_loss: float) -> bool:
    """Under the table: what the baseline is and its loss (``base_loss``, in the units of
    the training loss); then ``learned nothing: ...`` when the model does not beat its
    accuracy (mse) on a set of rows (the training rows first, then the validation and test
    rows), or a ``note`` when only another score does not. Returns whether it learned
    something (no ``learned nothing`` line)."""
    what = baseline_text(model, baseline)
    click.echo(f"  baseline: {what}; its training loss {base_loss:.4g}{_loss_units(model)}")
    said = {"train": "the training rows", "validation": "the validation rows",
            "test": "the test rows"}
    sets = [(said[name], scored[name], base_scores[name]) for name in scored]
    primary = "accuracy" if model.is_classifier else "mse"
    learned = True
    for line in verdict(sets, primary, what, retrain=(
            "try more --epochs, another --lr or --optimizer, more --hidden units (--activation "
            "relu for a deep network); if the features say nothing about the target, no model "
            "beats it"), generalise=(
            "it fits the training rows only: try --early-stopping, fewer --epochs, a smaller "
            "--hidden, or more rows")):
        click.echo(line)
        learned = learned and not line.startswith("learned nothing")
    return learned


def _training_notes(history: Any, X: np.ndarray, base_loss: float, learned: bool) -> None:
    """fit's notes on a run, said once on stderr (train runs fit without its verbose
    baseline, which the table says): the loss still falling at the end (when the model
    learned something), features (``X`` as fit saw them, (n, n_features)) on scales far
    apart. Nothing after a divergence or Ctrl-C, which say their own reason."""
    if (history.stop_reason or "").startswith("diverged") or history.interrupted:
        return
    falling = still_falling(history.loss, base_loss) if learned else None
    if falling is not None:
        click.echo(f"note: the loss was still falling at the last epoch ({falling}); more "
                   f"--epochs may help", err=True)
    scales = feature_scales(X)
    if scales is not None:
        click.echo(f"note: {scales}", err=True)

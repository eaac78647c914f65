"""``numnet info``: what a model file holds, in bounded output.

Every name or value read from the file is printed through
:func:`~numnet.terminal.printable`, and long ones are shortened with a
note of how much was left out: a file with 100,000 classes or megabytes of
metadata prints a page, not megabytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import click

from numnet import io
from numnet.terminal import printable

from ._common import activation_text, echo_table, fmt, load_model, user_errors

EXAMPLE = """
\b
Example:
  numnet info iris.safetensors
"""

MAX_VALUE = 200         # characters of one value (a name, a training field)
MAX_NAME = 60           # characters of a name in a list or table
MAX_ITEMS = 20          # classes, features or targets listed
MAX_METADATA = 2000     # characters of the metadata line


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def short(value: Any, limit: int = MAX_VALUE) -> str:
    """``value`` as printable text of at most ``limit`` characters, plus a note of the rest."""
    text = str(value)
    if len(text) <= limit:
        return printable(text)
    return f"{printable(text[:limit])}... ({len(text) - limit:,} more characters)"


def listed(items: Sequence[Any], limit: int = MAX_ITEMS) -> str:
    """The first ``limit`` items, comma-separated, and how many more there are."""
    shown = ", ".join(short(v, MAX_NAME) for v in items[:limit])
    return shown + (f", ... ({len(items) - limit:,} more)" if len(items) > limit else "")


def _table(names: Sequence[str], means: Any, scales: Any, header: str) -> None:
    """Mean and scale per name: the first :data:`MAX_ITEMS` rows, then how many more."""
    rows = [[short(name, MAX_NAME), fmt(mu), fmt(sd)]
            for name, mu, sd in zip(names[:MAX_ITEMS], means[:MAX_ITEMS], scales[:MAX_ITEMS],
                                    strict=True)]
    echo_table(rows, [header, "mean", "scale"])
    if len(names) > MAX_ITEMS:
        click.echo(f"  ... ({len(names) - MAX_ITEMS:,} more {header}s)")


@click.command(epilog=EXAMPLE)
@click.argument("model")
@user_errors
def info(model):
    """Show what the model file MODEL holds: architecture, parameters, preprocessing,
    classes, training record and metadata, file size."""
    m = load_model(model)
    doc = io.load_metadata(model)
    net, prep = m.net, m.preprocessing
    click.echo(f"{printable(model)}: {_size(os.path.getsize(model))}, "
               f"{short(doc['format'])} format {doc['format_version']}, written by numnet "
               f"{short(doc['numnet_version'], MAX_NAME)}")
    if "epoch" in doc:
        click.echo(f"checkpoint after epoch {doc['epoch']}: it loads as the model it "
                   f"will become")
    click.echo(f"network: {net!r}")
    layers = " -> ".join(map(str, net.layer_sizes))
    click.echo(f"  layers {layers}, activation {activation_text(net.activation)}, output "
               f"{net.output_activation}, bias {net.bias}, {net.dtype.name}")
    click.echo(f"  {net.num_parameters} parameters")
    click.echo(f"task: {prep.task}, target {listed(prep.target_names)}")
    if prep.classes is not None:
        click.echo(f"classes ({len(prep.classes)}): {listed(prep.classes)}")
    if prep.scaled:
        click.echo("preprocessing: features standardised, (x - mean) / scale")
        assert prep.mean is not None and prep.scale is not None
        _table(prep.feature_names, prep.mean, prep.scale, "feature")
    else:
        click.echo(f"preprocessing: none; features {listed(prep.feature_names)}")
    if prep.target_mean is not None and prep.target_scale is not None:
        click.echo("  targets standardised for training, predictions in the data's units:")
        _table(prep.target_names, prep.target_mean, prep.target_scale, "target")
    meta = dict(m.metadata)
    record = meta.pop("training", None)
    if isinstance(record, dict):
        def field(key: str) -> str:
            return short(record.get(key), MAX_NAME)
        click.echo(f"training: {short(record.get('data'))}, {field('epochs')} epoch(s), "
                   f"{field('optimizer')} (learning rate {field('learning_rate')}), batch "
                   f"size {field('batch_size')}, seed {field('seed')}, {field('seconds')} s")
        # how generated data was made (evaluate and predict make it so again), and penalties
        made = [f"--{key} {field(key)}" for key in ("noise", "arms", "l2", "dropout")
                if record.get(key) not in (None, 0, 0.0)]
        if made:
            click.echo("  options: " + " ".join(made))
        for key, label in (("train_scores", "train"), ("validation_scores", "validation")):
            scores = record.get(key)
            if isinstance(scores, dict):
                click.echo(f"  {label}: " + ", ".join(
                    f"{short(k, MAX_NAME)} {fmt(v)}" for k, v in list(scores.items())[:MAX_ITEMS]
                    if isinstance(v, (int, float))))
    if meta:
        click.echo("metadata: " + short(json.dumps(meta, sort_keys=True), MAX_METADATA))

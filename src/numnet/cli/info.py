"""``numnet info``: what a model file holds."""

from __future__ import annotations

import json
import os

import click

from numnet import io

from ._common import echo_table, fmt, load_model, user_errors

EXAMPLE = """
\b
Example:
  numnet info iris.safetensors
"""


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


@click.command(epilog=EXAMPLE)
@click.argument("model")
@user_errors
def info(model):
    """Show what the model file MODEL holds: architecture, parameters, preprocessing,
    classes, training record and metadata, file size."""
    m = load_model(model)
    doc = io.load_metadata(model)
    net, prep = m.net, m.preprocessing
    click.echo(f"{model}: {_size(os.path.getsize(model))}, {doc['format']} format "
               f"{doc['format_version']}, written by numnet {doc['numnet_version']}")
    click.echo(f"network: {net!r}")
    layers = " -> ".join(map(str, net.layer_sizes))
    click.echo(f"  layers {layers}, activation {net.activation}, output "
               f"{net.output_activation}, bias {net.bias}, {net.dtype.name}")
    click.echo(f"  {net.num_parameters} parameters")
    click.echo(f"task: {prep.task}, target {', '.join(prep.target_names)}")
    if prep.classes is not None:
        click.echo(f"classes ({len(prep.classes)}): {', '.join(map(str, prep.classes))}")
    if prep.scaled:
        click.echo("preprocessing: features standardised, (x - mean) / scale")
        assert prep.mean is not None and prep.scale is not None
        echo_table([[name, fmt(mu), fmt(sd)] for name, mu, sd in
                    zip(prep.feature_names, prep.mean, prep.scale, strict=True)],
                   ["feature", "mean", "scale"])
    else:
        click.echo(f"preprocessing: none; features {', '.join(prep.feature_names)}")
    if prep.target_mean is not None and prep.target_scale is not None:
        click.echo("  targets standardised for training, predictions in the data's units:")
        echo_table([[name, fmt(mu), fmt(sd)] for name, mu, sd in
                    zip(prep.target_names, prep.target_mean, prep.target_scale, strict=True)],
                   ["target", "mean", "scale"])
    meta = dict(m.metadata)
    record = meta.pop("training", None)
    if isinstance(record, dict):
        click.echo(f"training: {record.get('data')}, {record.get('epochs')} epoch(s), "
                   f"{record.get('optimizer')} (learning rate "
                   f"{record.get('learning_rate')}), batch size "
                   f"{record.get('batch_size')}, seed {record.get('seed')}, "
                   f"{record.get('seconds')} s")
        for key, label in (("train_scores", "train"), ("validation_scores", "validation")):
            scores = record.get(key)
            if isinstance(scores, dict):
                click.echo(f"  {label}: " + ", ".join(
                    f"{k} {fmt(v)}" for k, v in scores.items() if isinstance(v, (int, float))))
    if meta:
        click.echo("metadata: " + json.dumps(meta, sort_keys=True))

"""``numnet export``: a model file to ONNX, preprocessing included."""

from __future__ import annotations

import click

from ._common import CliError, load_model, user_errors
from .outputs import check_outputs

EXAMPLE = """
\b
Example:
  numnet export iris.safetensors --format onnx --out iris.onnx
"""


@click.command(epilog=EXAMPLE)
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx",
              show_default=True, help="The file format to write.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Where to write, e.g. model.onnx.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=None,
              help="Of the graph's input, weights and outputs. Default: the model's.")
@user_errors
def export(model, fmt, out, dtype):
    """Export the model in file MODEL so that other runtimes can use it.

    The exported graph takes raw features (the standardisation is part of
    it) and gives what the network outputs: class probabilities for a
    classifier, values in the data's units for regression.
    """
    check_outputs({"--out": out}, {"MODEL": model})
    m = load_model(model)
    try:
        from numnet import onnx as numnet_onnx  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        raise CliError(f"ONNX export needs the onnx extra: pip install 'numnet[onnx]' "
                       f"({exc})") from exc
    numnet_onnx.export(m.net, out, dtype=dtype, preprocessing=m.preprocessing)
    click.echo(f"saved {out}")

"""The ``numnet`` command (also ``python -m numnet``).

``numnet demo`` runs the tutorial end to end; ``numnet train`` trains on a
built-in data set or a data file and saves the model, which ``evaluate``,
``predict``, ``export`` and ``info`` load; ``numnet gradcheck`` proves the
derivatives of a network you describe; ``numnet compile`` readies the
compiled kernels ahead of the first training. ``numnet --help`` lists them all.

Each command lives in its own module of this package (``numnet sweep`` and
``numnet curve`` share :mod:`numnet.cli.sweep`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

MISSING_EXTRA = "the numnet command needs the cli extra: pip install 'numnet[cli]'"

try:
    import click
except ImportError:  # pragma: no cover - the cli extra is missing
    click = None  # type: ignore[assignment]

__all__ = ["cli", "main"]

if click is not None:
    from numnet.terminal import escape_standard_streams

    from ._common import clean_warnings, import_plugin
    from .compile import compile_command
    from .demo import demo
    from .evaluate import evaluate
    from .export import export
    from .gradcheck import gradcheck
    from .info import info
    from .lr_find import lr_find_command
    from .playground import playground
    from .predict import predict
    from .sweep import curve_command, sweep_command
    from .train import train

    # color=True: click would strip escape sequences off a terminal, silently changing a name
    # read from a file; the escaping stream main() installs shows them, escaped, instead.
    @click.group(context_settings={"help_option_names": ["-h", "--help"], "color": True},
                 epilog="Every command has --help with examples, e.g. numnet train --help.")
    @click.version_option(package_name="numnet")
    @click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                  help="Import this Python module first (repeatable): one that registers "
                       "your own activations or losses (numnet.activations.register, "
                       "numnet.losses.register), so that models using them load; sweep "
                       "and curve workers import it too.")
    @click.pass_context
    def cli(ctx: click.Context, plugins: tuple[str, ...]) -> None:
        """numnet: multilayer perceptrons on NumPy, from the 'Training to train' tutorial
        to practice.

        \b
        numnet train flowers.csv --target species --out flowers.safetensors
        numnet predict flowers.safetensors new_flowers.csv
        numnet --plugin my_activations evaluate model.safetensors test.csv
        """
        ctx.with_resource(clean_warnings())
        for name in plugins:
            import_plugin(name)

    for _command in (demo, train, lr_find_command, evaluate, predict, export, info, gradcheck,
                     compile_command, playground):
        cli.add_command(_command)

    # Commands defined in other modules of numnet join the group here, one line each.
    # Such a module keeps its optional dependencies in lazy imports, so that `numnet
    # --help` works without them.
    cli.add_command(sweep_command)
    cli.add_command(curve_command)


def _build_cli() -> Any:
    """The click group (kept for callers of the earlier single-module CLI)."""
    if click is None:
        raise ImportError(MISSING_EXTRA)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``numnet`` command."""
    if click is None:
        sys.exit(MISSING_EXTRA)
    escape_standard_streams()     # no control character from a file reaches the terminal raw
    try:
        cli.main(args=argv, prog_name="numnet")
    except BrokenPipeError:
        # the reader of stdout went away (`numnet info m | head -1`): what it wanted was
        # written; stop without a traceback, and without Python's own complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def __getattr__(name: str) -> Any:
    if name == "cli":            # only reached when click is missing
        raise ImportError(MISSING_EXTRA)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

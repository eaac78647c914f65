"""``numnet playground``: train networks live in the browser, on this computer."""

from __future__ import annotations

import sys

import click

from ._common import CliError

EXAMPLE = """
\b
Examples:
  numnet playground
  numnet playground --port 8800 --no-browser
"""


@click.command(epilog=EXAMPLE)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="The port to serve on (0: any free port, said when it starts).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on. Only this computer reaches 127.0.0.1; another "
                   "address lets other computers on its network open the page (at that "
                   "address) and train on this one.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
def playground(port: int, host: str, no_browser: bool) -> None:
    """Serve the playground: pick a data set, build a network, and watch it train, epoch by
    epoch, in your browser.

    The page draws the loss, the fit and each unit as the network learns; it
    pauses, steps an epoch at a time, changes the learning rate as it goes, and
    gives the equivalent numnet train command, Python code, the model file and
    its ONNX. Everything runs on this computer; nothing is fetched from outside.
    Ctrl-C stops the server (and its runs), exit code 130.
    """
    try:
        from numnet.playground.server import ServeError, serve
    except ImportError as exc:
        raise CliError(f"numnet playground needs the playground extra: pip install "
                       f"'numnet[playground]' ({exc})") from None
    try:
        serve(host, port, open_browser=not no_browser,
              announce=click.echo)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("stopped: Ctrl-C", err=True)
        sys.exit(130)

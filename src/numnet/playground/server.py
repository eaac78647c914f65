"""Serving the playground: the listening socket, uvicorn, the browser, and a clean stop.

:func:`serve` binds the socket itself first, so that a port in use or a host
that is not this computer's is a one-line :class:`ServeError` before anything
starts; then uvicorn serves :func:`~numnet.playground.app.create_app` on it
until Ctrl-C, when the runs are stopped and the uploads removed (the
application's shutdown, and again here should uvicorn not reach it).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
import webbrowser
from collections.abc import Callable

try:
    import uvicorn
except ImportError as exc:              # the playground extra is missing
    raise ImportError(f"numnet playground needs the playground extra: pip install "
                      f"'numnet[playground]' ({exc})") from exc

from .app import create_app, url_of

__all__ = ["serve", "bind", "ServeError"]

GRACE_SECONDS = 5           # open connections get this long to close at Ctrl-C


class ServeError(OSError):
    """The server cannot listen where it was asked to; the message says what to do."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), not yet listening.

    Raises
    ------
    ServeError
        When the port is in use, or ``host`` is not an address of this computer.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise ServeError(f"--host {host}: no such host name or address; give an address of "
                         f"this computer, e.g. 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} is in use on {host} (another playground, or "
                             f"another server); give another --port, e.g. --port "
                             f"{port + 1 if port < 65535 else 8766}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ServeError(f"port {port} on {host} needs more privileges than this user "
                             f"has; give a --port from 1024 up") from None
        raise ServeError(f"cannot listen on {host} port {port}: {exc.strerror or exc}; give "
                         f"an address of this computer (--host 127.0.0.1)") from None
    return sock


def serve(host: str = "127.0.0.1", port: int = 8765, *, open_browser: bool = True,
          announce: Callable[[str], None] = print) -> None:
    """Serve the playground on ``host:port`` until Ctrl-C (which raises KeyboardInterrupt
    here, after the clean stop); ``announce`` is told the page's address."""
    sock = bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(host, port)
    url = url_of(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           lifespan="on",
                                           timeout_graceful_shutdown=GRACE_SECONDS))
    announce(f"numnet playground on {url} (Ctrl-C stops it)")
    if open_browser:
        threading.Thread(target=_open_when_up, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        app.state.runs.stop_all("the server stopped")
        app.state.uploads.close()


def _open_when_up(server: uvicorn.Server, url: str, wait: float = 10.0) -> None:
    """Open the page in the browser once the server answers."""
    deadline = time.monotonic() + wait
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)

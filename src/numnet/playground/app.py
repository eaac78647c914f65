"""The playground's web server: the page, its JSON API and each run's event stream.

:func:`create_app` builds the Starlette application for one host and port.
Every answer to a refused request is a 4xx with ``{"error": "one line"}``.
Requests are accepted only for the served host and port, from the served
origin: :class:`~starlette.middleware.trustedhost.TrustedHostMiddleware`
refuses another host name (DNS rebinding), :class:`Guard` another port, a
foreign ``Origin`` and ``Sec-Fetch-Site: cross-site`` (another site's page
driving this one). Bodies are read with a bound, never whole first.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

try:
    from sse_starlette import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import Headers, UploadFile
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    try:                                # uploads: Starlette reads forms with python-multipart
        import python_multipart  # noqa: F401
    except ImportError:
        import multipart  # type: ignore[import-untyped, import-not-found, no-redef, unused-ignore]  # noqa: F401
except ImportError as exc:              # the playground extra is missing
    raise ImportError(f"numnet playground needs the playground extra: pip install "
                      f"'numnet[playground]' ({exc})") from exc

import numpy as np

from numnet import fit
from numnet.cli.train import OPTIMIZERS
from numnet.terminal import one_line

from . import downloads
from .pictures import clean
from .problem import Problem, ProblemError, build, dataset_facts
from .session import Run, Runs
from .settings import (
    DATASETS,
    LIMITS,
    UPLOAD,
    Settings,
    SettingsError,
    check_column_name,
    check_seeds,
    hidden_activations,
    initializer_names,
    loss_names,
    output_activations,
    parse,
)
from .uploads import UploadError, Uploads

__all__ = ["create_app", "served_hosts", "url_of", "STATIC"]

logger = logging.getLogger("numnet.playground")

STATIC = Path(__file__).resolve().parent / "static"
BODY_LIMIT = 64 * 1024                       # a JSON body
MULTIPART_OVERHEAD = 64 * 1024               # an upload's part headers and boundaries
PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# An event stream that breaks has stopped its run (the contract): the browser need not
# come back soon, so it is told to wait a day rather than retry every 3 seconds.
RETRY_MS = 86_400_000
DOWNLOADS = {"model.safetensors": "application/octet-stream",
             "model.onnx": "application/octet-stream",
             "train.py": "text/x-python; charset=utf-8",
             "data.csv": "text/csv; charset=utf-8"}


class Refused(Exception):
    """A request the API refuses: ``status`` and a one-line message for ``{"error"}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(one_line(message))
        self.status = status


def served_hosts(host: str) -> list[str]:
    """The host names a request may name: 127.0.0.1, localhost (and ::1), and ``host``."""
    names = ["127.0.0.1", "localhost", "::1", host.strip("[]").lower()]
    return list(dict.fromkeys(names))


def url_of(host: str, port: int) -> str:
    """The page's address: ``http://127.0.0.1:8765/``."""
    return f"http://{_authority(host.strip('[]'), port)}/"


def _authority(name: str, port: int) -> str:
    """``name:port`` as a Host header or an origin spells it (IPv6 in brackets)."""
    return f"{_bracketed(name)}:{port}"


def _bracketed(name: str) -> str:
    """A host name as a Host header spells it: an IPv6 address in brackets."""
    try:
        if isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address):
            return f"[{name}]"
    except ValueError:
        pass
    return name


class Guard:
    """Refuses what a page of another site could send: a Host naming another port, an
    ``Origin`` that is not the served one, and ``Sec-Fetch-Site: cross-site`` or
    ``same-site`` (a following of a link to the page itself, a top-level navigation,
    is let through); and adds headers that keep the page out of other sites' frames."""

    def __init__(self, app: ASGIApp, hosts: list[str], port: int, served: str) -> None:
        self.app, self.served = app, served
        self.authorities = {_authority(h, port) for h in hosts}
        if port == 80:
            self.authorities |= {_authority(h, port)[:-3] for h in hosts}
        self.origins = {f"http://{a}" for a in self.authorities}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _error(*refusal)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer")]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[str, int] | None:
        served = self.served
        if headers.get("host", "").lower() not in self.authorities:
            return (f"this server answers requests for {served} only; open the page there",
                    400)
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return f"requests from another site's page are refused; open {served} itself", 403
        site = headers.get("sec-fetch-site", "").lower()
        if site in ("cross-site", "same-site"):
            navigation = (scope["method"] == "GET" and scope["path"] == "/"
                          and headers.get("sec-fetch-mode", "").lower() == "navigate")
            if not navigation:
                return (f"requests from another site's page are refused; open {served} "
                        f"itself", 403)
        return None


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _answer(content: Any) -> JSONResponse:
    return JSONResponse(content, headers={"Cache-Control": "no-store"})


def _api(handler: Callable[[Request], Awaitable[Response]]
         ) -> Callable[[Request], Awaitable[Response]]:
    """Turn a handler's refusals into ``{"error"}`` answers."""
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as exc:
            return _error(str(exc), exc.status)
        except (SettingsError, ProblemError, UploadError, downloads.DownloadError) as exc:
            return _error(str(exc), 400)
        except Exception as exc:          # a fault of the server's: said, and logged in full
            logger.exception("numnet playground: %s %s failed", request.method,
                             request.url.path)
            return _error(f"the server failed ({type(exc).__name__}: {exc}); its terminal "
                          f"says more", 500)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def _body(request: Request, limit: int, too_large: str | None = None) -> bytes:
    """The request's body, refused (413, ``too_large`` or a message naming ``limit``) as
    soon as it passes ``limit`` bytes: what is beyond is never read."""
    message = too_large or f"the request is over the limit of {limit:,} bytes"
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise Refused(message, 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(message, 413)
    return bytes(body)


async def _json(request: Request) -> dict[str, Any]:
    """The JSON object a POST carries (``application/json``, at most :data:`BODY_LIMIT`)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused("send the body as JSON (Content-Type: application/json)", 415)
    raw = await _body(request, BODY_LIMIT)
    try:
        doc = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refused("the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise Refused("the body must be a JSON object")
    return doc


def create_app(host: str = "127.0.0.1", port: int = 8765) -> Starlette:
    """The playground's application, serving ``http://host:port`` (see the module
    docstring). Its runs are stopped and its uploads removed when it shuts down."""
    runs = Runs()
    uploads = Uploads()
    facts: list[dict[str, Any]] = []

    def problem_for(settings: Settings) -> tuple[Problem, str | None]:
        """The run's problem and, for an upload, the file's name as the user has it; an
        upload's target and features are filled in, so the command names them."""
        if settings.dataset != UPLOAD:
            return build(settings), None
        assert settings.upload_id is not None
        upload = uploads.get(settings.upload_id)
        try:
            problem = build(settings, upload.path)
        except ProblemError as exc:         # the file as the user knows it, not where it is
            raise ProblemError(str(exc).replace(upload.path, upload.name)) from None
        for name in [*problem.table.target_names, *problem.table.feature_names]:
            check_column_name(name)
        problem.settings = settings.replace(target=problem.table.target_names[0],
                                            features=list(problem.table.feature_names))
        return problem, upload.name

    def run_of(request: Request) -> Run:
        run = runs.get(request.path_params["run"])
        if run is None:
            raise Refused(f"no run {one_line(request.path_params['run'])!r:.40} on this "
                          f"server (it ended, or the server restarted); start a new one", 404)
        return run

    async def page(request: Request) -> Response:
        index = STATIC / "index.html"
        if not index.is_file():
            return _error("the page's files are missing from this installation "
                          "(numnet/playground/static/index.html); reinstall numnet", 404)
        return FileResponse(index, headers={"Cache-Control": "no-store"})

    @_api
    async def options(request: Request) -> Response:
        if not facts:
            found = await run_in_threadpool(lambda: [dataset_facts(n) for n in DATASETS])
            if not facts:                 # another request may have filled them meanwhile
                facts.extend(found)
        return _answer({
            "datasets": facts, "activations": hidden_activations(),
            "output_activations": output_activations(), "losses": loss_names(),
            "optimizers": list(OPTIMIZERS), "initializers": initializer_names(),
            "limits": LIMITS, "defaults": Settings().to_dict()})

    @_api
    async def data(request: Request) -> Response:
        settings = parse(await _json(request))
        problem, _ = await run_in_threadpool(problem_for, settings)
        return _answer(await run_in_threadpool(_data_answer, problem))

    @_api
    async def upload(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "multipart/form-data":
            raise Refused("upload the file as multipart/form-data, in the field 'file'", 415)
        body = await _body(request, LIMITS["upload_bytes"] + MULTIPART_OVERHEAD,
                           f"the file is over the limit of {LIMITS['upload_bytes']:,} bytes; "
                           f"upload at most {LIMITS['upload_bytes'] // 1_000_000} MB")
        replayed = Request(request.scope, receive=_replay(body))
        try:
            form = await replayed.form(max_files=1, max_fields=4,
                                       max_part_size=LIMITS["upload_bytes"])
        except MultiPartException as exc:
            raise Refused(f"the upload is not a valid form: {exc.message}") from None
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise Refused("upload the file in the form field 'file'")
            content = await file.read()
            stored = await run_in_threadpool(uploads.add, file.filename or "data.csv",
                                             content)
        finally:
            await form.close()
        return _answer(stored.describe())

    @_api
    async def start(request: Request) -> Response:
        doc = await _json(request)
        page_id = doc.get("page")
        if not isinstance(page_id, str) or not PAGE_ID.fullmatch(page_id):
            raise Refused("page must be the page's id: 1 to 64 letters, digits, - or _")
        paused = doc.get("paused", False)
        if not isinstance(paused, bool):
            raise Refused("paused must be true or false")
        unknown = sorted(set(doc) - {"page", "settings", "paused"})
        if unknown:
            raise Refused(f"unknown field {one_line(unknown[0])!r:.40}; a run takes page, "
                          f"settings and paused")
        settings = parse(doc.get("settings", {}))
        problem, data_file = await run_in_threadpool(problem_for, settings)
        run = runs.start(page_id, problem, paused=paused, data_file=data_file)
        return _answer({
            "run": run.id, "command": problem.command(data_file),
            "code": problem.code(data_file), "layer_sizes": list(run.net.layer_sizes),
            "parameters": int(run.net.num_parameters), "task": problem.task,
            "classes": problem.classes, "settings": problem.settings.to_dict()})

    @_api
    async def run_state(request: Request) -> Response:
        run = run_of(request)
        return _answer({"status": run.status, "epoch": run.epoch, "reason": run.reason})

    @_api
    async def events(request: Request) -> Response:
        run = run_of(request)
        wake = asyncio.Event()
        if not run.attach(asyncio.get_running_loop(), wake):
            raise Refused("this run's events already stream to a page; one stream per run",
                          409)
        return EventSourceResponse(_stream(run, wake), headers={"Cache-Control": "no-store"})

    def control(action: str) -> Callable[[Request], Awaitable[Response]]:
        @_api
        async def handler(request: Request) -> Response:
            run = run_of(request)
            answer = {"pause": run.pause, "resume": run.resume, "step": run.step,
                      "stop": run.stop}[action]()
            return _answer(answer)
        handler.__name__ = action
        return handler

    @_api
    async def learning_rate(request: Request) -> Response:
        run = run_of(request)
        doc = await _json(request)
        rate = parse({"learning_rate": doc.get("learning_rate")}).learning_rate \
            if "learning_rate" in doc else None
        if rate is None:
            raise Refused("give the new rate as {\"learning_rate\": 0.01}")
        return _answer({"learning_rate": run.set_learning_rate(rate)})

    @_api
    async def download(request: Request) -> Response:
        run = run_of(request)
        name = request.path_params["file"]
        if name not in DOWNLOADS:
            raise Refused(f"no download {one_line(name)!r:.40}; a run offers "
                          f"{', '.join(DOWNLOADS)}", 404)
        make = {"model.safetensors": lambda: downloads.model_file(run, uploads.folder),
                "model.onnx": lambda: downloads.onnx_file(run, uploads.folder),
                "train.py": lambda: downloads.code_file(run),
                "data.csv": lambda: downloads.data_file(run)}[name]
        content = await run_in_threadpool(make)
        return Response(content, media_type=DOWNLOADS[name], headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    @_api
    async def seeds(request: Request) -> Response:
        doc = await _json(request)
        settings = parse(doc.get("settings", {}))
        chosen = check_seeds(doc.get("seeds"))

        def train_all() -> list[dict[str, Any]]:
            return [_train_seed(problem_for(settings.replace(seed=s))[0]) for s in chosen]

        return _answer({"runs": await run_in_threadpool(train_all)})

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        what = "no such page or endpoint" if status == 404 else \
            "this endpoint does not take that method" if status == 405 else "refused"
        return _error(f"{what}: {request.method} {request.url.path}", status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(runs.stop_all, "the server stopped")
            uploads.close()

    routes = [
        Route("/", page),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
        Route("/api/options", options),
        Route("/api/data", data, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/runs", start, methods=["POST"]),
        Route("/api/runs/{run}", run_state),
        Route("/api/runs/{run}/events", events),
        *(Route(f"/api/runs/{{run}}/{action}", control(action), methods=["POST"])
          for action in ("pause", "resume", "step", "stop")),
        Route("/api/runs/{run}/learning-rate", learning_rate, methods=["POST"]),
        Route("/api/runs/{run}/{file}", download),
        Route("/api/seeds", seeds, methods=["POST"]),
    ]
    hosts = served_hosts(host)
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: not_found},
                    middleware=[Middleware(TrustedHostMiddleware,
                                           allowed_hosts=[_bracketed(h) for h in hosts],
                                           www_redirect=False),
                                Middleware(Guard, hosts=hosts, port=port,
                                           served=url_of(host, port))])
    app.state.runs, app.state.uploads = runs, uploads
    return app


async def _stream(run: Run, wake: asyncio.Event) -> AsyncIterator[dict[str, Any]]:
    """A run's events, from its first (its ``state``) on; the stream ends after the run's
    last event, and a stream that closes first stops the run."""
    retry: int | None = RETRY_MS
    try:
        while True:
            wake.clear()
            item = run.next_event()
            if item is None:
                if run.ended:
                    return
                await wake.wait()
                continue
            kind, text = item
            yield {"event": kind, "data": text, "retry": retry}
            retry = None
            if kind == "error":
                return
    finally:
        run.detach()
        if not run.ended:
            run.stop("the page closed its event stream")


def _replay(body: bytes) -> Receive:
    """An ASGI ``receive`` that gives ``body`` once, as the request it was read from."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _data_answer(problem: Problem) -> dict[str, Any]:
    """POST /api/data's answer: the rows the run would see, raw, and its split."""
    table = problem.table
    split = ["train"] * table.n_samples
    if problem.val_rows is not None:
        for i in problem.val_rows.tolist():
            split[i] = "test"
    y = np.asarray(table.y)
    return clean({"task": problem.task, "feature_names": list(table.feature_names),
            "target_name": table.target_names[0], "classes": problem.classes,
            "X": table.X.tolist(), "y": y.tolist(), "split": split,
            "baseline": problem.baseline(problem.network())})


def _train_seed(problem: Problem) -> dict[str, Any]:
    """One seed of a spread, trained to the end: its final losses and accuracies."""
    began = time.perf_counter()
    history = fit(problem.network(), problem.X_fit, problem.Y_fit, verbose=False,
                  **problem.fit_arguments())

    def last(values: list[float] | None) -> float | None:
        return float(values[-1]) if values else None

    return clean({"seed": problem.settings.seed, "loss": last(history.loss),
                  "val_loss": last(history.val_loss),
                  "accuracy": last(history.metrics.get("accuracy")),
                  "val_accuracy": last(history.metrics.get("val_accuracy")),
                  "seconds": round(time.perf_counter() - began, 3)})

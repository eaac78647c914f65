"""numnet playground's server: its API, its runs, its bounds and guards, and its promise that
a run's losses are those ``numnet train <the run's command>`` prints.

The API is driven through Starlette's TestClient (runs train in the server's threads);
the event stream of a live run, its closing, Ctrl-C and the determinism against the
command line go through a real server, ``python -m numnet playground``, in a subprocess.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("sse_starlette")
httpx = pytest.importorskip("httpx")

with warnings.catch_warnings():      # Starlette's TestClient asks for its own httpx fork
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

import numnet  # noqa: E402
from numnet import callbacks, datasets  # noqa: E402
from numnet.playground.app import create_app  # noqa: E402
from numnet.playground.problem import build  # noqa: E402
from numnet.playground.settings import LIMITS, Settings, parse  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # Starlette's TestClient asks for its own httpx fork; the one installed works
    "ignore:Using `httpx` with `starlette.testclient`",
    # short runs on purpose: a run that learned nothing in 3 epochs says so, which is no fault
    "ignore::numnet.TrainingWarning")

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
ENDED = ("finished", "stopped", "error")
# A run in these tests: small, so that it trains in moments.
SMALL = {"dataset": "moons", "samples": 100, "hidden": [5], "activation": ["tanh"],
         "epochs": 4}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app("127.0.0.1", PORT)
    with TestClient(app, base_url=BASE) as c:
        yield c


def start(client: TestClient, settings: dict, paused: bool = False, page: str = "p") -> dict:
    r = client.post("/api/runs", json={"page": page, "settings": settings, "paused": paused})
    assert r.status_code == 200, r.text
    return r.json()


def state(client: TestClient, run: str) -> dict:
    r = client.get(f"/api/runs/{run}")
    assert r.status_code == 200, r.text
    return r.json()


def wait(client: TestClient, run: str, until, timeout: float = 60.0) -> dict:
    """Poll the run's state until ``until(state)`` holds (the deadline only catches a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        now = state(client, run)
        if until(now):
            return now
        assert time.monotonic() < deadline, f"run never reached the state asked for: {now}"
        time.sleep(0.01)


def sse(lines: Iterator[str]) -> Iterator[tuple[str, dict]]:
    """``(event, data)`` of a server-sent event stream, given its lines."""
    kind, data = None, None
    for line in lines:
        if line.startswith("event:"):
            kind = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data = line[len("data:"):].strip()
        elif line == "" and kind is not None:
            yield kind, json.loads(data or "null")
            kind, data = None, None


def events(client: TestClient, run: str) -> list[tuple[str, dict]]:
    """Every event of an ended run (the stream ends after its last)."""
    wait(client, run, lambda s: s["status"] in ENDED)
    with client.stream("GET", f"/api/runs/{run}/events") as r:
        assert r.status_code == 200
        return list(sse(r.iter_lines()))


def epochs_of(evs: list[tuple[str, dict]]) -> list[dict]:
    return [data for kind, data in evs if kind == "epoch"]


# --- the API ------------------------------------------------------------------------------


def test_options_list_the_choices_limits_and_defaults(client):
    o = client.get("/api/options").json()
    facts = {d["name"]: d for d in o["datasets"]}
    assert set(facts) == {"one_minus_x", "sum_of_two", "sine", "xor", "circles", "gaussians",
                          "spirals", "moons"}
    assert facts["sine"] == {"name": "sine", "task": "regression", "inputs": 1,
                             "noise": True, "arms": False}
    assert facts["spirals"]["arms"] and facts["moons"]["task"] == "classification"
    assert "tanh" in o["activations"] and "softmax" not in o["activations"]
    assert "softmax" in o["output_activations"]
    assert set(o["optimizers"]) == {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    assert "binary_cross_entropy" in o["losses"] and "uniform" in o["initializers"]
    assert o["limits"]["samples"] == 5000 and o["limits"]["seeds"] == 10
    assert parse(o["defaults"]) == Settings()
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_data_is_the_rows_and_split_the_run_trains_on(client):
    r = client.post("/api/data", json={**SMALL, "noise": 0.2, "seed": 3, "test_fraction": 0.3})
    d = r.json()
    X, y = datasets.moons(100, noise=0.2, random_state=3)
    np.testing.assert_array_equal(np.array(d["X"]), X)
    assert d["y"] == y.tolist() and d["classes"] == [0, 1] and d["task"] == "classification"
    assert d["feature_names"] == ["x0", "x1"] and d["target_name"] == "y"
    held = sorted(np.random.default_rng(3).permutation(100)[:30].tolist())   # train's split
    assert [i for i, part in enumerate(d["split"]) if part == "test"] == held
    assert d["split"].count("train") == 70
    assert d["baseline"]["loss"] == pytest.approx(np.log(2), abs=0.01)   # about 50/50
    assert "majority class" in d["baseline"]["what"]


def test_a_paused_run_steps_one_epoch_at_a_time_then_stops(client):
    run = start(client, {**SMALL, "epochs": 50}, paused=True)["run"]
    assert state(client, run) == {"status": "paused", "epoch": 0, "reason": None}
    for n in (1, 2):
        assert client.post(f"/api/runs/{run}/step").json()["status"] == "running"
        wait(client, run, lambda s, n=n: s["epoch"] == n and s["status"] == "paused")
    assert client.post(f"/api/runs/{run}/stop").json()["status"] == "stopped"
    evs = events(client, run)
    assert [e["epoch"] for e in epochs_of(evs)] == [1, 2]       # one epoch per step, no more
    states = [d["status"] for kind, d in evs if kind == "state"]
    assert states[0] == "paused" and states[-1] == "stopped" and "running" in states
    assert [d for k, d in evs if k == "state"][-1]["reason"] == "stopped"
    snaps = [d for kind, d in evs if kind == "snapshot"]
    assert snaps and snaps[-1]["epoch"] == 2
    assert evs[-1][0] == "state"


def test_pause_holds_the_run_and_resume_continues_it(client):
    run = start(client, {**SMALL, "epochs": 5000})["run"]
    wait(client, run, lambda s: s["epoch"] >= 3)
    assert client.post(f"/api/runs/{run}/pause").json()["status"] == "paused"
    held = wait(client, run, lambda s: s["status"] == "paused")["epoch"]
    time.sleep(0.1)
    assert state(client, run)["epoch"] == held           # no epoch while paused
    client.post(f"/api/runs/{run}/resume")
    wait(client, run, lambda s: s["epoch"] > held + 2)
    client.post(f"/api/runs/{run}/stop")
    evs = events(client, run)
    done = epochs_of(evs)
    assert [e["epoch"] for e in done] == list(range(1, len(done) + 1))   # none skipped
    assert held < len(done) < 5000
    assert state(client, run)["status"] == "stopped"


def test_the_page_has_one_run_at_a_time(client):
    first = start(client, {**SMALL, "epochs": 5000}, page="a")["run"]
    runs = client.app.state.runs
    old = runs.get(first)
    second = start(client, SMALL, page="a")["run"]
    other = start(client, SMALL, page="b")["run"]
    old.join(30)
    assert old.status == "stopped" and old.reason == "another run started on this page"
    assert client.get(f"/api/runs/{first}").status_code == 404
    assert wait(client, second, lambda s: s["status"] in ENDED)["status"] == "finished"
    assert wait(client, other, lambda s: s["status"] in ENDED)["status"] == "finished"


def _losses(evs: list[tuple[str, dict]]) -> list[float]:
    return [e["loss"] for e in epochs_of(evs)]


def _reference(settings: dict, epochs_first: int | None = None, rate: float | None = None,
               tmp: Path | None = None) -> numnet.History:
    """The run trained by numnet.fit alone: straight through, or ``epochs_first`` epochs,
    a checkpoint, and the rest resumed from it at ``rate`` (fit's own way to change it)."""
    problem = build(parse(settings))
    args = problem.fit_arguments()
    if epochs_first is None:
        return numnet.fit(problem.network(), problem.X_fit, problem.Y_fit, verbose=False,
                          **args)
    assert tmp is not None and rate is not None
    ckpt = tmp / "first.ckpt"
    numnet.fit(problem.network(), problem.X_fit, problem.Y_fit, verbose=False,
               callbacks=[callbacks.ModelCheckpoint(str(ckpt))],
               **{**args, "epochs": epochs_first})
    return numnet.fit(problem.network(), problem.X_fit, problem.Y_fit, verbose=False,
                      resume_from=str(ckpt), **{**args, "learning_rate": rate})


# Each case trains on another runner (the engine's rules): the change must reach them all.
RATE_CASES = [
    pytest.param({"optimizer": "sgd", "batch_size": 1}, "compiled per-example", id="sgd-1"),
    pytest.param({"optimizer": "sgd", "batch_size": 10}, "compiled small-batch", id="sgd-10"),
    pytest.param({"optimizer": "adam", "batch_size": 1}, "compiled per-example", id="adam-1"),
    pytest.param({"optimizer": "adamw", "batch_size": 10}, "compiled small-batch",
                 id="adamw-10"),
    pytest.param({"optimizer": "sgd", "batch_size": 32, "hidden": [64],
                  "activation": ["tanh"]}, "buffered", id="sgd-buffered"),
    pytest.param({"optimizer": "rmsprop", "batch_size": 10}, None, id="rmsprop"),
    pytest.param({"optimizer": "adagrad", "batch_size": 10}, None, id="adagrad"),
    pytest.param({"optimizer": "sgd", "batch_size": 10, "dropout": 0.2}, "reference",
                 id="sgd-dropout"),
]


@pytest.mark.parametrize("options, runner", RATE_CASES)
def test_a_new_learning_rate_takes_effect_from_the_next_epoch(client, tmp_path, options,
                                                              runner):
    pytest.importorskip("numba")
    settings = {**SMALL, "epochs": 5, "learning_rate": 0.05, **options}
    new = 0.2
    base = _reference(settings)
    if runner is not None:
        assert base.runner == runner

    # set before the first epoch: the run is the one trained at that rate from the start
    run = start(client, settings, paused=True)["run"]
    assert client.post(f"/api/runs/{run}/learning-rate",
                       json={"learning_rate": new}).json() == {"learning_rate": new}
    client.post(f"/api/runs/{run}/resume")
    evs = events(client, run)
    assert _losses(evs) == _reference({**settings, "learning_rate": new}).loss
    assert {e["learning_rate"] for e in epochs_of(evs)} == {new}

    # set after 2 epochs: the first 2 are the base run's, the rest fit's resumed at the rate
    run = start(client, settings, paused=True)["run"]
    for n in (1, 2):
        client.post(f"/api/runs/{run}/step")
        wait(client, run, lambda s, n=n: s["epoch"] == n and s["status"] == "paused")
    client.post(f"/api/runs/{run}/learning-rate", json={"learning_rate": new})
    client.post(f"/api/runs/{run}/resume")
    losses = _losses(events(client, run))
    assert losses[:2] == base.loss[:2]
    assert losses == _reference(settings, 2, new, tmp_path).loss
    assert losses[2] != base.loss[2]                    # it did change the third epoch


def test_train_py_reproduces_a_run_with_its_rate_changes(client, tmp_path):
    settings = {**SMALL, "epochs": 6}
    run = start(client, settings, paused=True)["run"]
    for n in (1, 2, 3):
        client.post(f"/api/runs/{run}/step")
        wait(client, run, lambda s, n=n: s["epoch"] == n and s["status"] == "paused")
    client.post(f"/api/runs/{run}/learning-rate", json={"learning_rate": 0.3})
    client.post(f"/api/runs/{run}/resume")
    final = _losses(events(client, run))[-1]
    code = client.get(f"/api/runs/{run}/train.py")
    assert code.headers["content-disposition"] == 'attachment; filename="train.py"'
    (tmp_path / "train.py").write_bytes(code.content)
    out = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"final loss {final!r}" in out.stdout
    assert (tmp_path / "model.safetensors").exists()


@pytest.mark.parametrize("settings", [
    pytest.param({**SMALL, "epochs": 30}, id="classification"),
    pytest.param({"dataset": "sine", "samples": 100, "hidden": [6], "activation": ["tanh"],
                  "epochs": 30, "test_fraction": 0.2}, id="regression"),
])
def test_downloads_load_and_predict_as_the_run_does(client, tmp_path, settings):
    run = start(client, settings)["run"]
    wait(client, run, lambda s: s["status"] in ENDED)
    live = client.app.state.runs.get(run)
    expected = live.problem.model(live.network_now())
    X = live.problem.table.X

    model = client.get(f"/api/runs/{run}/model.safetensors")
    assert model.status_code == 200
    assert model.headers["content-disposition"] == 'attachment; filename="model.safetensors"'
    (tmp_path / "model.safetensors").write_bytes(model.content)
    loaded = numnet.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(X), expected.predict(X))
    np.testing.assert_array_equal(loaded.net.flat_parameters, live.net.flat_parameters)

    ort = pytest.importorskip("onnxruntime")
    onnx_file = client.get(f"/api/runs/{run}/model.onnx")
    assert onnx_file.status_code == 200, onnx_file.text
    session = ort.InferenceSession(onnx_file.content, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: X})
    if expected.is_classifier:
        np.testing.assert_array_equal(got[0], expected.predict(X))
        np.testing.assert_allclose(got[1], expected.predict_proba(X), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(got[0], expected.predict(X), rtol=1e-12, atol=1e-12)

    rows = client.get(f"/api/runs/{run}/data.csv").text.splitlines()
    assert rows[0] == ",".join([*live.problem.table.feature_names, "y"])
    assert len(rows) == 1 + len(X)
    np.testing.assert_array_equal(
        np.array([[float(v) for v in row.split(",")[:-1]] for row in rows[1:]]), X)


def test_onnx_without_its_extra_says_what_to_install(client, monkeypatch):
    run = start(client, SMALL)["run"]
    wait(client, run, lambda s: s["status"] in ENDED)
    for name in list(sys.modules):
        if name == "onnx" or name.startswith(("onnx.", "numnet.onnx")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delattr(numnet, "onnx", raising=False)
    r = client.get(f"/api/runs/{run}/model.onnx")
    assert r.status_code == 400 and "pip install 'numnet[onnx]'" in r.json()["error"]


def test_seeds_train_each_seed_to_the_end(client):
    r = client.post("/api/seeds", json={"settings": SMALL, "seeds": [0, 1, 2]})
    runs = r.json()["runs"]
    assert [x["seed"] for x in runs] == [0, 1, 2]
    assert runs[0]["loss"] == _reference(SMALL).loss[-1]
    assert all(x["val_loss"] is not None and 0 <= x["val_accuracy"] <= 1 for x in runs)
    assert len({x["loss"] for x in runs}) == 3


# --- bounds -------------------------------------------------------------------------------

BEYOND = [
    ({"samples": 5001}, "5000"),
    ({"hidden": [4] * 7, "activation": ["tanh"] * 7}, "6 hidden layers"),
    ({"hidden": [65], "activation": ["tanh"]}, "64"),
    ({"epochs": 5001}, "5000"),
    ({"batch_size": 0}, "1 to 5000"),
    ({"noise": 1.5}, "1"),
    ({"arms": 6}, "5"),
    ({"test_fraction": 0.95}, "0.9"),
    ({"learning_rate": 0}, "above 0"),
    ({"learning_rate": 11}, "10"),
    ({"dropout": 0.95}, "0.9"),
    ({"l2": -1}, "at least 0"),
    ({"seed": -1}, "0 to"),
    ({"activation": ["swish"]}, "relu"),
    ({"output_activation": "swish"}, "softmax"),
    ({"loss": "hinge"}, "binary_cross_entropy"),
    ({"optimizer": "lbfgs"}, "adam"),
    ({"init": "zeros"}, "glorot_uniform"),
    ({"dataset": "mnist"}, "moons"),
    ({"colour": "red"}, "the settings are"),
    ({"dataset": "upload"}, "upload a CSV"),
    ({"hidden": [8, 8]}, "one name per hidden layer"),
    ({"epochs": "many"}, "whole number"),
    ({"bias": "yes"}, "true or false"),
]


@pytest.mark.parametrize("endpoint", ["/api/data", "/api/runs", "/api/seeds"])
@pytest.mark.parametrize("change, said", BEYOND)
def test_settings_beyond_the_limits_are_refused_naming_them(client, endpoint, change, said):
    settings = {**SMALL, **change}
    body = {"/api/data": settings, "/api/runs": {"page": "p", "settings": settings},
            "/api/seeds": {"settings": settings, "seeds": [0]}}[endpoint]
    r = client.post(endpoint, json=body)
    assert r.status_code == 400, r.text
    message = r.json()["error"]
    assert said in message and "\n" not in message


def test_a_spread_beyond_its_seeds_and_odd_bodies_are_refused(client):
    r = client.post("/api/seeds", json={"settings": SMALL, "seeds": list(range(11))})
    assert r.status_code == 400 and "limit of 10 seeds" in r.json()["error"]
    r = client.post("/api/runs", content=b"page=p", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["error"]
    r = client.post("/api/runs", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = client.post("/api/runs", json={"page": "p" * 65, "settings": SMALL})
    assert r.status_code == 400 and "page" in r.json()["error"]
    r = client.post("/api/runs/nope/pause")
    assert r.status_code == 404 and "no run" in r.json()["error"]
    r = client.post("/api/runs", content=b"{" + b" " * 100_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def _csv(rows: int) -> bytes:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 2))
    lines = ["a,b,label"] + [f"{x:.6f},{z:.6f},{'yes' if x * z > 0 else 'no'}"
                             for x, z in X]
    return ("\n".join(lines) + "\n").encode()


def test_an_upload_is_read_as_the_cli_reads_it_and_trains(client):
    r = client.post("/api/upload", files={"file": ("my data.csv", _csv(300), "text/csv")})
    up = r.json()
    assert up["name"] == "my data.csv" and up["rows"] == 300
    assert up["columns"] == ["a", "b", "label"] and up["target"] == "label"
    settings = {**SMALL, "dataset": "upload", "upload_id": up["upload_id"], "epochs": 3}
    d = client.post("/api/data", json=settings).json()
    assert d["classes"] == ["no", "yes"] and len(d["X"]) == 300
    started = start(client, settings)
    assert started["command"].startswith("numnet train 'my data.csv' --target label "
                                         "--features a,b ")
    assert started["settings"]["features"] == ["a", "b"]
    r = client.post("/api/data", json={**settings, "target": "a", "features": ["label"]})
    said = r.json()["error"]
    assert r.status_code == 400 and "my data.csv: feature column 'label'" in said
    assert "numnet-playground" not in said                   # not where the server keeps it
    assert len(epochs_of(events(client, started["run"]))) == 3
    # that its command prints the same losses: test_every_set_and_option_...


def test_an_upload_beyond_its_limits_is_refused(client):
    big = b"a,b\n" + b"1,2\n" * 300_000                         # 1.2 MB
    r = client.post("/api/upload", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413 and "1,000,000" in r.json()["error"]
    r = client.post("/api/upload", files={"file": ("rows.csv", _csv(5001), "text/csv")})
    assert r.status_code == 400 and "limit of 5,000" in r.json()["error"]
    r = client.post("/api/upload", files={"file": ("data.pkl", b"\x80\x04", "text/csv")})
    assert r.status_code == 400 and "CSV or TSV" in r.json()["error"]
    r = client.post("/api/upload", files={"file": ("bad.csv", b"a,b\n1,2,3,4\n\"", "text/csv")})
    assert r.status_code == 400 and r.json()["error"]
    r = client.post("/api/upload", data={"x": "1"})
    assert r.status_code == 415
    named = b'"a,b",c,label\n' + b"".join(b"%d,%d,%s\n" % (i, i % 3, b"xy"[i % 2:][:1])
                                           for i in range(20))
    up = client.post("/api/upload", files={"file": ("n.csv", named, "text/csv")}).json()
    r = client.post("/api/runs", json={"page": "p", "settings": {
        **SMALL, "dataset": "upload", "upload_id": up["upload_id"]}})
    assert r.status_code == 400 and "cannot be named on numnet train" in r.json()["error"]


def test_an_upload_is_refused_while_it_is_read_not_after():
    """The ASGI app itself, given a body that never ends: it stops asking for more once
    the body passes the limit (TestClient would read a body whole before sending it)."""
    import asyncio

    app = create_app("127.0.0.1", PORT)
    chunk, asked, sent = 65536, [], []

    async def receive():
        asked.append(chunk)
        return {"type": "http.request", "body": b"1" * chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/upload", "raw_path": b"/api/upload", "root_path": "",
             "query_string": b"", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", PORT),
             "headers": [(b"host", f"127.0.0.1:{PORT}".encode()),
                         (b"content-type", b"multipart/form-data; boundary=x")]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert "1,000,000" in json.loads(sent[1]["body"])["error"]
    assert sum(asked) <= LIMITS["upload_bytes"] + 2 * 65536 + chunk    # its overhead, no more
    asked.clear()
    scope["headers"].append((b"content-length", b"20000000"))
    asyncio.run(app(scope, receive, send))
    assert not asked                                     # said too large: nothing read
    app.state.uploads.close()


def test_uploads_live_in_a_folder_removed_at_shutdown():
    app = create_app("127.0.0.1", PORT)
    with TestClient(app, base_url=BASE) as c:
        up = c.post("/api/upload", files={"file": ("d.csv", _csv(20), "text/csv")}).json()
        folder = Path(app.state.uploads.folder)
        assert any(folder.rglob("*.csv")) and up["upload_id"] in os.listdir(folder)
    assert not folder.exists()


# --- the guard ----------------------------------------------------------------------------


@pytest.mark.parametrize("headers, status", [
    ({"host": "evil.example:8765"}, 400),                          # DNS rebinding
    ({"host": "127.0.0.1:9999"}, 400),                             # another port
    ({"origin": "http://evil.example"}, 403),
    ({"origin": "http://127.0.0.1:9999"}, 403),
    ({"origin": "null"}, 403),
    ({"sec-fetch-site": "cross-site"}, 403),
    ({"sec-fetch-site": "same-site"}, 403),
])
@pytest.mark.parametrize("method, path", [("GET", "/api/options"), ("POST", "/api/runs"),
                                          ("GET", "/")])
def test_foreign_hosts_and_origins_are_refused(client, headers, status, method, path):
    r = client.request(method, path, headers=headers, json={"page": "p", "settings": SMALL})
    assert r.status_code == status
    if headers.get("host") != "evil.example:8765":     # Starlette's own answer is plain text
        assert "http://127.0.0.1:8765" in r.json()["error"]
    assert not client.app.state.runs._runs


@pytest.mark.parametrize("headers", [{"origin": BASE}, {"host": f"localhost:{PORT}"},
                                     {"sec-fetch-site": "same-origin"}])
def test_the_served_origin_is_let_through(client, headers):
    assert client.get("/api/options", headers=headers).status_code == 200


def test_an_ipv6_host_is_served_in_its_own_spelling():
    with TestClient(create_app("::1", PORT), base_url=f"http://[::1]:{PORT}") as c:
        assert c.get("/api/options").status_code == 200
        assert c.get("/api/options", headers={"origin": f"http://[::1]:{PORT}"}).status_code \
            == 200
        assert c.get("/api/options", headers={"host": f"evil.example:{PORT}"}).status_code \
            == 400


def test_a_link_from_elsewhere_opens_the_page_but_drives_nothing(client):
    r = client.get("/", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"})
    assert r.status_code != 403
    r = client.post("/api/runs", json={"page": "p", "settings": SMALL},
                    headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"})
    assert r.status_code == 403


# --- the command, as users run it ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(cwd: Path) -> tuple[subprocess.Popen, str]:
    """``python -m numnet playground`` on a free port, in ``cwd`` (which holds its temporary
    folder too, and its output: ``out.txt``, ``err.txt``), once it answers."""
    port = _free_port()
    with open(cwd / "out.txt", "w") as out, open(cwd / "err.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "numnet", "playground", "--no-browser",
                                 "--port", str(port)], cwd=cwd, stdout=out, stderr=err,
                                env={**os.environ, "TMPDIR": str(cwd)})  # its uploads' folder
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (cwd / "err.txt").read_text()
            try:
                if httpx.get(f"{url}/api/options", timeout=30).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.1)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """One server for the tests that only talk to it (its address)."""
    proc, url = _start_server(tmp_path_factory.mktemp("server"))
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _stream(url: str, run: str) -> list[tuple[str, dict]]:
    with httpx.stream("GET", f"{url}/api/runs/{run}/events", timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        return list(sse(r.iter_lines()))


def _train(command: str, cwd: Path) -> subprocess.Popen:
    """``numnet train`` as the command says, started (see :func:`_printed`)."""
    words = shlex.split(command)
    assert words[:2] == ["numnet", "train"]
    return subprocess.Popen([sys.executable, "-m", "numnet", *words[1:]], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _printed(proc: subprocess.Popen) -> list[tuple[str, str | None]]:
    """``(loss, val_loss)`` of each epoch line the started ``numnet train`` prints."""
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = re.findall(r"^epoch \d+/\d+ (.*)$", err, flags=re.M)
    found = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines]
    return [(f["loss"], f.get("val_loss")) for f in found]


@pytest.mark.parametrize("settings", [
    pytest.param({"dataset": "one_minus_x", "samples": 100, "test_fraction": 0, "hidden": [3],
                  "activation": ["sigmoid"], "batch_size": 1, "learning_rate": 0.5,
                  "noise": 0.0, "epochs": 12}, id="one_minus_x"),
    # classification with a validation split, and every option the command has
    pytest.param({"dataset": "spirals", "arms": 3, "samples": 150, "test_fraction": 0.3,
                  "hidden": [8, 6], "activation": ["relu", "tanh"], "optimizer": "adam",
                  "learning_rate": 0.01, "l2": 0.001, "dropout": 0.1, "bias": False,
                  "init": "he_normal", "seed": 4, "epochs": 12}, id="spirals-validation"),
])
def test_a_run_streams_the_losses_numnet_train_prints(server, tmp_path, settings):
    url = server
    started = httpx.post(f"{url}/api/runs", json={"page": "p", "settings": settings}).json()
    command = _train(started["command"], tmp_path)       # while the server trains
    evs = _stream(url, started["run"])
    done = epochs_of(evs)
    assert [e["epoch"] for e in done] == list(range(1, settings["epochs"] + 1))
    assert evs[0] == ("state", {"status": "running", "epoch": 0, "reason": None})
    assert evs[-1] == ("state", {"status": "finished", "epoch": settings["epochs"],
                                 "reason": None})
    validation = settings["test_fraction"] > 0
    assert all((e["val_loss"] is not None) == validation for e in done)
    printed = _printed(command)
    assert printed == [(f"{e['loss']:.4g}", f"{e['val_loss']:.4g}" if validation else None)
                       for e in done]


# One variation per generated set: each option the command spells, somewhere.
EVERY_SET = [
    {"dataset": "one_minus_x", "test_fraction": 0, "noise": 0.05, "loss": "mae"},
    {"dataset": "sum_of_two", "hidden": [6, 4], "activation": ["relu", "elu"],
     "output_activation": "sigmoid", "optimizer": "rmsprop", "learning_rate": 0.01},
    {"dataset": "sine", "hidden": [], "activation": [], "batch_size": 1, "init": "uniform"},
    {"dataset": "xor", "noise": 0.0, "optimizer": "adagrad", "l2": 0.01},
    {"dataset": "circles", "output_activation": "softmax", "batch_size": 7},
    {"dataset": "gaussians", "noise": 0.3, "optimizer": "adamw", "learning_rate": 0.005,
     "batch_size": 1000},
    {"dataset": "spirals", "arms": 4, "dropout": 0.2, "bias": False},
    {"dataset": "moons", "loss": "mse", "seed": 11, "init": "glorot_normal"},
]


@pytest.mark.filterwarnings("ignore:batch_size=1000 is larger")     # gaussians' case, on purpose
def test_every_set_and_option_trains_as_its_command_does(client, tmp_path):
    """The class of the determinism test above: every generated set and every option, and
    an uploaded file: the commands, run by the real CLI in one process where the file is,
    print each run's losses, and each run's train.py its final loss."""
    (tmp_path / "my data.tsv").write_bytes(_csv(80).replace(b",", b"\t"))
    with open(tmp_path / "my data.tsv", "rb") as f:
        up = client.post("/api/upload", files={"file": ("my data.tsv", f, "text/plain")})
    uploaded = {"dataset": "upload", "upload_id": up.json()["upload_id"], "target": "b",
                "features": ["a"], "test_fraction": 0.25}
    runs = [start(client, {**SMALL, "samples": 60, "epochs": 3, **change}, page=f"p{i}")
            for i, change in enumerate([*EVERY_SET, uploaded])]
    assert runs[-1]["command"].startswith("numnet train 'my data.tsv' --target b "
                                          "--features a ")
    ran = [epochs_of(events(client, r["run"])) for r in runs]
    expected = [[(f"{e['loss']:.4g}", None if e["val_loss"] is None else f"{e['val_loss']:.4g}")
                 for e in done] for done in ran]
    commands = [shlex.split(r["command"])[1:] for r in runs]
    scripts = []
    for i, r in enumerate(runs):
        scripts.append(str(tmp_path / f"train{i}.py"))
        Path(scripts[-1]).write_bytes(client.get(f"/api/runs/{r['run']}/train.py").content)
    # the commands, then the train.py files, in one process (their output marked apart)
    script = ("import runpy, sys\nfrom numnet.cli import main\n"
              f"for args in {commands!r}:\n"
              "    try:\n        main(args)\n    except SystemExit as e:\n"
              "        assert not e.code, e.code\n"
              "    print('===', file=sys.stderr, flush=True)\n"
              f"for path in {scripts!r}:\n"
              "    runpy.run_path(path, run_name='__main__')\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    printed = []
    for part in out.stderr.split("===\n")[:-1]:
        lines = re.findall(r"^epoch \d+/\d+ (.*)$", part, flags=re.M)
        found = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines]
        printed.append([(f["loss"], f.get("val_loss")) for f in found])
    assert all(len(done) == 3 for done in ran)
    assert printed == expected
    assert re.findall(r"^final loss (.*)$", out.stdout, flags=re.M) == [
        repr(done[-1]["loss"]) for done in ran]


def test_closing_the_stream_stops_the_run(server):
    url = server
    run = httpx.post(f"{url}/api/runs", json={"page": "c", "settings": {
        **SMALL, "epochs": 5000}}).json()["run"]
    with httpx.stream("GET", f"{url}/api/runs/{run}/events", timeout=60) as r:
        seen = 0
        for kind, _ in sse(r.iter_lines()):
            seen += kind == "epoch"
            if seen == 3:
                break                                     # the page goes away
    deadline = time.monotonic() + 60
    while (now := httpx.get(f"{url}/api/runs/{run}").json())["status"] not in ENDED:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert now["status"] == "stopped" and now["reason"] == "the page closed its event stream"
    assert 3 <= now["epoch"] < 5000


def test_ctrl_c_stops_the_server_and_its_runs(tmp_path):
    proc, url = _start_server(tmp_path)
    try:
        up = httpx.post(f"{url}/api/upload", files={"file": ("d.csv", _csv(20), "text/csv")})
        assert up.status_code == 200
        assert list(tmp_path.glob("numnet-playground-*/*/d.csv"))
        run = httpx.post(f"{url}/api/runs", json={"page": "q", "settings": {
            **SMALL, "epochs": 5000}}).json()["run"]
        with httpx.stream("GET", f"{url}/api/runs/{run}/events", timeout=60) as r:
            kinds = (kind for kind, _ in sse(r.iter_lines()))
            assert "epoch" in kinds                      # training, its stream open
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopped: Ctrl-C" in err
    assert f"numnet playground on {url}/" in out
    assert not list(tmp_path.glob("numnet-playground-*"))      # the uploads are gone


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "numnet", "playground", "--no-browser",
                              "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == f"Error: port {port} is in use on 127.0.0.1 (another playground, or " \
                         f"another server); give another --port, e.g. --port {port + 1}\n"


@pytest.mark.parametrize("module, hidden", [
    ("numnet.playground.app", ["starlette"]),
    ("numnet.playground.app", ["sse_starlette"]),
    ("numnet.playground.app", ["python_multipart", "multipart"]),
    ("numnet.playground.server", ["uvicorn"]),
])
def test_without_the_extra_the_playground_says_what_to_install(monkeypatch, module, hidden):
    for name in list(sys.modules):
        if name.startswith("numnet.playground.") or any(
                name == h or name.startswith(h + ".") for h in hidden):
            monkeypatch.delitem(sys.modules, name)
    for name in hidden:
        monkeypatch.setitem(sys.modules, name, None)        # "import name" now fails
    with pytest.raises(ImportError, match=r"pip install 'numnet\[playground\]'"):
        importlib.import_module(module)


def test_without_the_extra_the_command_says_what_to_install():
    code = ("import sys; sys.modules['starlette'] = None\n"
            "from numnet.cli import main\nmain(['playground', '--no-browser'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert "pip install 'numnet[playground]'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_help_explains_the_command():
    from click.testing import CliRunner

    from numnet.cli import cli
    out = CliRunner().invoke(cli, ["playground", "--help"])
    assert out.exit_code == 0
    for said in ("--port", "--host", "--no-browser", "Ctrl-C", "127.0.0.1", "browser"):
        assert said in out.output


def test_a_run_that_learned_nothing_says_so_when_it_finishes(client):
    """fit's "learned nothing" warning cannot reach the page from the training thread, so
    the run's final state says it, as `numnet train` does; a run that learns says nothing.
    Measured: a learning rate of 1e-6 for 3 epochs leaves moons' loss at 0.69-0.70 against
    the baseline's 0.693; at 0.1 for 40 epochs it falls to about 0.3."""
    stuck = start(client, {**SMALL, "learning_rate": 1e-6, "epochs": 3})["run"]
    learned = start(client, {**SMALL, "learning_rate": 0.1, "epochs": 40}, page="q")["run"]
    said = wait(client, stuck, lambda s: s["status"] in ENDED)
    assert said["status"] == "finished"
    assert said["reason"].startswith("learned nothing: its training loss ")
    assert "best constant prediction's" in said["reason"]
    assert wait(client, learned, lambda s: s["status"] in ENDED) == {
        "status": "finished", "epoch": 40, "reason": None}

"""Which runner trains: ``History.runner``, ``MLP.summary()`` and ``select_runner`` agree.

For each configuration below, the runner ``summary()`` announces (before any
training), the one :func:`numnet.engine.select_runner` builds, and the one
``fit`` records in ``History.runner`` are the same; the progress line names
it once; and ``History.runner`` survives ``to_dict``/``from_dict`` and a
checkpoint. Each fit is one epoch on at most 40 samples (the suite stays fast).
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from numnet import MLP, callbacks, engine, fit
from numnet._files import load_checkpoint
from numnet._fitting import History
from numnet._fitting.evaluation import loss_for
from numnet.engine import RULES, RUNNERS, preferred_runner, select_runner
from numnet.optimizers import get_optimizer

N = 40

# id -> (layer sizes, hidden activation, output activation, fit's keyword arguments,
#        the runner's name with numba installed)
CONFIGS = {
    "tutorial-bs1": ((1, [3], 1), "sigmoid", "sigmoid", {"batch_size": 1},
                     "compiled per-example"),
    "small-bs32-adam": ((2, [5], 1), "sigmoid", "sigmoid",
                        {"batch_size": 32, "optimizer": "adam"}, "compiled small-batch"),
    "w3-bs16": ((64, [128, 64], 10), "relu", "softmax",
                {"batch_size": 16, "optimizer": "adam"}, "buffered"),
    "rmsprop-bs1": ((2, [5], 1), "tanh", "identity",
                    {"batch_size": 1, "optimizer": "rmsprop"}, "buffered"),
    "mae-bs8": ((2, [5], 1), "relu", "identity", {"batch_size": 8, "loss": "mae"},
                "buffered"),
    "dropout": ((2, [5], 1), "sigmoid", "sigmoid", {"batch_size": 8, "dropout": 0.2},
                "reference"),
    "sample-weight": ((2, [5], 1), "sigmoid", "sigmoid",
                      {"batch_size": 1, "sample_weight": True}, "reference"),
}


def _data(sizes, output):
    rng = np.random.default_rng(0)
    X = rng.random((N, sizes[0]))
    if output == "softmax":
        return X, rng.integers(0, sizes[2], N)
    return X, rng.random((N, sizes[2]))


def _announced(summary: str) -> str:
    match = re.search(r"trains with the (.+) runner", summary)
    assert match, summary
    return match.group(1)


def _three_ways(config_id):
    """(what summary() announces, what select_runner builds, what fit records)."""
    sizes, activation, output, kwargs, _ = CONFIGS[config_id]
    kwargs = dict(kwargs)
    weighted = kwargs.pop("sample_weight", False)
    net = MLP(*sizes, activation=activation, output_activation=output, random_state=0)
    X, y = _data(sizes, output)
    announced = _announced(net.summary(**kwargs, sample_weight=weighted))
    optimizer = get_optimizer(kwargs.get("optimizer", "sgd"))
    weights = np.ones(N) if weighted else None
    built = select_runner(net, loss_for(net, kwargs.get("loss")), optimizer,
                          kwargs["batch_size"], 0.0, kwargs.get("dropout", 0.0),
                          np.random.default_rng(0), sample_weight=weights)
    history = fit(net, X, y, epochs=1, verbose=False, random_state=0, sample_weight=weights,
                  **kwargs)
    return announced, built.name, history.runner


@pytest.mark.parametrize("config_id", list(CONFIGS))
def test_summary_select_runner_and_history_agree(config_id):
    announced, built, recorded = _three_ways(config_id)
    assert announced == built == recorded
    if engine.compiled_available():
        assert recorded == CONFIGS[config_id][4]


@pytest.mark.parametrize("config_id", list(CONFIGS))
def test_without_numba_they_agree_on_numpy_runners(config_id, monkeypatch):
    monkeypatch.setattr(engine.selection, "load_kernels", lambda: None)
    announced, built, recorded = _three_ways(config_id)
    assert announced == built == recorded
    assert recorded in ("reference", "buffered")


@pytest.mark.parametrize("prefer, expected", [("numpy", "reference"), ("buffered", "buffered")])
def test_a_forced_path_is_what_summary_and_history_say(prefer, expected):
    with preferred_runner(prefer):
        announced, built, recorded = _three_ways("tutorial-bs1")
    assert announced == built == recorded == expected


def test_every_runner_is_named_and_reachable():
    names = [cls.name for cls in RUNNERS]
    assert names == ["reference", "buffered", "compiled per-example", "compiled small-batch"]
    assert {rule.runner for rule in RULES} == set(names)     # each rule names a runner
    assert all(rule.when for rule in RULES)
    if engine.compiled_available():
        assert {config[4] for config in CONFIGS.values()} == set(names)


def test_forcing_compiled_where_it_cannot_is_explained_by_summary_too():
    net = MLP(2, [5], 1, random_state=0)
    with preferred_runner("compiled"), pytest.raises(ValueError, match="RMSprop|numba"):
        net.summary(batch_size=1, optimizer="rmsprop")


def test_summary_lists_layers_parameters_and_dtype():
    net = MLP(4, [6, 5], 3, activation="relu", output_activation="softmax", dtype="float32",
              random_state=0)
    text = net.summary(batch_size=1, optimizer="adam")
    lines = text.splitlines()
    assert lines[0] == "MLP(4, [6, 5], 3), float32"
    assert [line.split() for line in lines[2:7]] == [
        ["input", "4"],
        ["hidden", "1", "6", "relu", "24", "6", "30"],
        ["hidden", "2", "5", "relu", "30", "5", "35"],
        ["output", "3", "softmax", "15", "3", "18"],
        ["total", str(net.num_parameters)]]
    assert net.num_parameters == 83
    assert "batch_size=1" in text and "optimizer='adam'" in text
    before = net.flat_parameters.copy()
    net.summary(batch_size=None, n_samples=10)                     # trains nothing
    np.testing.assert_array_equal(net.flat_parameters, before)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": None}, ValueError, "n_samples"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"optimizer": "nadam"}, ValueError, "nadam"),
    ({"dropout": 1.5}, ValueError, "dropout"),
])
def test_summary_refuses_what_fit_refuses(kwargs, error, match):
    with pytest.raises(error, match=match):
        MLP(2, [5], 1).summary(**kwargs)


def test_summary_batch_size_follows_fit_with_n_samples():
    net = MLP(2, [5], 1, random_state=0)
    assert "batch_size=10" in net.summary(n_samples=10)              # auto: min(32, n)
    assert "batch_size=10" in net.summary(batch_size=None, n_samples=10)
    assert "batch_size=32" in net.summary()


def test_history_round_trips_the_runner():
    history = History(loss=[0.5], learning_rate=[0.1], time=[0.0], runner="buffered")
    assert History.from_dict(history.to_dict()) == history
    assert History.from_dict(history.to_dict()).runner == "buffered"
    old = history.to_dict()
    del old["runner"]                                   # a history saved before it existed
    assert History.from_dict(old).runner is None
    assert History.from_dict({**old, "runner": 3}).runner is None


def test_a_checkpoint_keeps_the_runner_and_a_resumed_fit_records_its_own(tmp_path):
    net = MLP(2, [5], 1, random_state=0)
    X, y = _data((2, [5], 1), "sigmoid")
    path = tmp_path / "ckpt.safetensors"
    first = fit(net, X, y, epochs=1, batch_size=8, verbose=False, random_state=0,
                callbacks=[callbacks.ModelCheckpoint(path)])
    assert load_checkpoint(path).history["runner"] == first.runner
    with preferred_runner("numpy"):
        resumed = fit(MLP(2, [5], 1, random_state=0), X, y, epochs=2, batch_size=8,
                      verbose=False, resume_from=path)
    assert resumed.epochs == 2 and resumed.runner == "reference"


@pytest.mark.parametrize("force_bar", [False, True], ids=["lines", "bar"])
def test_the_progress_output_names_the_runner_once(force_bar):
    if force_bar:
        pytest.importorskip("tqdm")
    stream = io.StringIO()
    X, y = _data((2, [5], 1), "sigmoid")
    with preferred_runner("buffered"):
        fit(MLP(2, [5], 1, random_state=0), X, y, epochs=3, batch_size=8,
            callbacks=[callbacks.ProgressBar(stream=stream, force_bar=force_bar)])
    out = stream.getvalue()
    assert out.count("training with the buffered runner") == 1
    if force_bar:
        assert out.startswith("training with the buffered runner\n")
    else:
        lines = out.splitlines()
        assert len(lines) >= 4 and lines[0].startswith("epoch 1/3 loss=")
        assert [line.split()[0] for line in lines[:4]] == ["epoch", "epoch", "epoch", "baseline"]
        assert lines[0].endswith(", training with the buffered runner")

"""Callbacks: early stopping, divergence guard, CSV log, progress, lambdas, Ctrl-C."""

import csv
import io
import logging
import os
import signal

import numpy as np
import pytest

from numnet import MLP, callbacks, datasets, fit, optimizers


@pytest.fixture
def sine():
    return datasets.sine(200, random_state=0)


def test_early_stopping_stops_and_restores_the_best_weights(sine):
    X, y = datasets.sine(60, noise=0.3, random_state=0)      # few noisy points: overfits
    net = MLP(1, [64, 64], 1, activation="tanh", output_activation="identity", random_state=0)
    weights = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda run, epoch, logs: weights.append(run.net.flat_parameters.copy()))
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=3)
    # measured over seeds 0-2: stops after 17-35 epochs
    history = fit(net, X, y, optimizer=optimizers.Adam(0.01), epochs=300,
                  validation_split=0.3, callbacks=[record, stopper], verbose=False,
                  random_state=0)
    assert history.epochs < 300
    assert "early stopping" in history.stop_reason
    best = int(np.argmin(history.val_loss))
    assert stopper.best_epoch == best
    assert history.epochs == best + 1 + 3          # patience 3: stops on the 3rd bad epoch
    np.testing.assert_array_equal(net.flat_parameters, weights[best])


def test_early_stopping_monitors_training_loss_without_validation(sine):
    X, y = sine
    stopper = callbacks.EarlyStopping(patience=0, min_delta=10.0)   # nothing improves by 10
    history = fit(MLP(1, [4], 1, random_state=0), X, y, epochs=50, callbacks=[stopper],
                  verbose=False)
    assert history.epochs == 2                     # the first epoch always improves on inf


def test_divergence_guard_fires_and_leaves_no_nan(sine, caplog):
    X, y = sine
    net = MLP(1, [16], 1, activation="sigmoid", output_activation="identity", random_state=0)
    start = net.flat_parameters.copy()
    with caplog.at_level(logging.WARNING, logger="numnet.callbacks"):
        history = fit(net, X, y, optimizer=optimizers.SGD(3.0), epochs=20, verbose=False,
                      random_state=0)
    assert history.stop_reason.startswith("diverged")
    assert "try learning_rate=0.3" in history.stop_reason
    assert history.epochs < 20
    assert np.isfinite(net.flat_parameters).all()
    np.testing.assert_array_equal(net.flat_parameters, start)   # it blew up in epoch 1
    assert "diverged" in caplog.text


def test_divergence_guard_restores_the_last_good_epoch(sine):
    X, y = sine
    net = MLP(1, [8], 1, activation="tanh", output_activation="identity", random_state=0)
    saved = {}

    def poison(run, epoch, logs):          # a healthy run that turns NaN at its 3rd epoch
        saved[epoch] = run.net.flat_parameters.copy()
        if epoch == 1:
            run.net.flat_parameters[0] = np.nan

    history = fit(net, X, y, epochs=10, verbose=False,
                  callbacks=[callbacks.LambdaCallback(on_epoch_begin=lambda r, e: None,
                                                      on_epoch_end=poison)])
    assert "became NaN/inf (nan) at epoch 3" in history.stop_reason
    assert "restored the weights from epoch 2" in history.stop_reason
    assert history.epochs == 3
    np.testing.assert_array_equal(net.flat_parameters, saved[1])   # as before the poison


def _csv_rows(path):
    with path.open(newline="") as f:          # closed here, not left to the garbage collector
        return list(csv.DictReader(f))


def test_csv_logger(tmp_path, sine):
    X, y = sine
    path = tmp_path / "log.csv"
    fit(MLP(1, [4], 1, random_state=0), X, y, epochs=3, validation_split=0.2,
        callbacks=[callbacks.CSVLogger(path)], verbose=False)
    rows = _csv_rows(path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert {"loss", "val_loss", "learning_rate", "time"} <= set(rows[0])
    fit(MLP(1, [4], 1, random_state=0), X, y, epochs=2,
        callbacks=[callbacks.CSVLogger(path, append=True)], verbose=False)
    assert len(_csv_rows(path)) == 5


def test_lambda_callback_sees_every_hook(sine):
    X, y = sine
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda run: calls.append("begin"),
        on_epoch_begin=lambda run, e: calls.append(f"e{e}"),
        on_batch_end=lambda run, b, logs: calls.append("b") if b == 0 else None,
        on_epoch_end=lambda run, e, logs: calls.append(f"end{e}"),
        on_train_end=lambda run: calls.append("done"))
    fit(MLP(1, [4], 1, random_state=0), X, y, epochs=2, callbacks=[cb], verbose=False)
    assert calls == ["begin", "e0", "b", "end0", "e1", "b", "end1", "done"]
    with pytest.raises(TypeError, match="callable"):
        callbacks.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="LambdaCallback"):
        fit(MLP(1, [4], 1), X, y, callbacks=[lambda: None], verbose=False)


def test_progress_bar_on_a_terminal_and_off_it(sine):
    X, y = sine
    stream = io.StringIO()
    fit(MLP(1, [4], 1, random_state=0), X, y, epochs=2,
        callbacks=[callbacks.ProgressBar(stream=stream, force_bar=True)], verbose=True)
    out = stream.getvalue()
    assert "epoch 1/2" in out and "epoch 2/2" in out and "loss=" in out
    stream = io.StringIO()                                               # not a terminal
    fit(MLP(1, [4], 1, random_state=0), X, y, epochs=3,
        callbacks=[callbacks.ProgressBar(stream=stream)], verbose=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 4 and lines[0].startswith("epoch 1/3 loss=")
    assert [line.split()[0] for line in lines[:4]] == ["epoch", "epoch", "epoch", "baseline"]


def test_silent_when_not_verbose(sine, capsys, caplog):
    X, y = sine
    with caplog.at_level(logging.INFO):
        fit(MLP(1, [4], 1, random_state=0), X, y, epochs=2, verbose=False)
    assert capsys.readouterr() == ("", "")
    assert not [r for r in caplog.records if r.name.startswith("numnet")]


def test_ctrl_c_stops_at_the_end_of_the_batch_and_returns_the_history(sine):
    X, y = sine
    net = MLP(1, [4], 1, random_state=0)

    def press_ctrl_c(run, batch, logs):
        if run.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    history = fit(net, X, y, epochs=10, batch_size=16, verbose=False,
                  callbacks=[callbacks.LambdaCallback(on_batch_end=press_ctrl_c)])
    assert history.interrupted and "interrupted" in history.stop_reason
    assert history.epochs == 2                     # the interrupted epoch is not recorded
    assert np.isfinite(net.forward(X)).all()       # the model is usable
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_process_that_ignores_ctrl_c_trains_to_the_end(sine):
    """Where SIGINT is ignored (a background job of a shell without job control), fit does
    not take it over: the signal is ignored, training ends as planned, SIG_IGN stays."""
    X, y = sine
    net = MLP(1, [4], 1, random_state=0)

    def press_ctrl_c(run, batch, logs):
        if run.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        history = fit(net, X, y, epochs=4, batch_size=16, verbose=False,
                      callbacks=[callbacks.LambdaCallback(on_batch_end=press_ctrl_c)])
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    assert not history.interrupted and history.epochs == 4


def test_bad_callback_arguments():
    with pytest.raises(ValueError, match="patience"):
        callbacks.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="factor"):
        callbacks.DivergenceGuard(factor=0)
    with pytest.raises(ValueError, match="every"):
        callbacks.ModelCheckpoint("x.safetensors", every=0)

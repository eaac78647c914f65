"""Checkpoints: an interrupted-and-resumed run ends bit-identical to an uninterrupted one."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from numnet import MLP, callbacks, datasets, fit, io, optimizers


def _problem():
    X, y = datasets.spirals(300, n_classes=3, random_state=0)
    net = MLP(2, [16, 16], 3, activation="relu", output_activation="softmax", random_state=0)
    return net, X, y


@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True,
                           schedule=optimizers.ReduceLROnPlateau(patience=1, factor=0.5)),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_twenty_epochs_equal_ten_plus_resumed_ten(tmp_path, optimizer, dtype):
    kwargs = dict(batch_size=16, dropout=0.1, validation_split=0.2, verbose=False,
                  random_state=7)
    net, X, y = _problem()
    net = net.astype(dtype)
    straight = net.copy()
    full = fit(straight, X, y, optimizer=optimizer(), epochs=20, **kwargs)

    path = tmp_path / "ckpt.safetensors"
    first = net.copy()
    fit(first, X, y, optimizer=optimizer(), epochs=10,
        callbacks=[callbacks.ModelCheckpoint(path)], **kwargs)
    resumed = net.copy()              # fresh weights: everything comes from the checkpoint
    history = fit(resumed, X, y, optimizer=optimizer(), epochs=20, resume_from=path, **kwargs)

    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)
    assert history.loss == full.loss and history.val_loss == full.val_loss
    assert history.learning_rate == full.learning_rate
    assert resumed.classes_ == straight.classes_ == [0, 1, 2]


def test_checkpoint_every_and_best_only(tmp_path):
    net, X, y = _problem()
    fit(net, X, y, epochs=4, validation_split=0.2, verbose=False,
        callbacks=[callbacks.ModelCheckpoint(tmp_path / "e{epoch}.safetensors", every=2)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e2.safetensors", "e4.safetensors"]
    assert io.load_checkpoint(tmp_path / "e2.safetensors").epoch == 2
    best = callbacks.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    history = fit(net, X, y, epochs=5, validation_split=0.2, verbose=False, callbacks=[best])
    saved = io.load_checkpoint(tmp_path / "best.safetensors")
    assert saved.epoch == int(np.argmin(history.val_loss)) + 1


def test_resume_refuses_another_architecture(tmp_path):
    net, X, y = _problem()
    path = tmp_path / "ckpt.safetensors"
    fit(net, X, y, epochs=1, verbose=False, callbacks=[callbacks.ModelCheckpoint(path)])
    other = MLP(2, [8], 3, activation="relu", output_activation="softmax")
    with pytest.raises(ValueError, match="same architecture"):
        fit(other, X, y, epochs=2, verbose=False, resume_from=path)


def test_ctrl_c_in_fit_saves_a_checkpoint(tmp_path):
    net, X, y = _problem()
    path = tmp_path / "ckpt.safetensors"

    def press(run, batch, logs):
        if run.epoch == 3 and batch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    history = fit(net, X, y, epochs=50, batch_size=16, verbose=False,
                  callbacks=[callbacks.ModelCheckpoint(path, every=100),
                             callbacks.LambdaCallback(on_batch_end=press)])
    assert history.interrupted and history.epochs == 3
    ckpt = io.load_checkpoint(path)
    assert ckpt.epoch == 3
    np.testing.assert_array_equal(ckpt.net.flat_parameters, net.flat_parameters)


def test_cli_train_exits_130_on_ctrl_c_and_keeps_the_model(tmp_path):
    model, ckpt = tmp_path / "m.safetensors", tmp_path / "c.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-m", "numnet", "train", "--data", "sine", "--samples", "2000",
         "--epochs", "100000", "--quiet", "--out", str(model), "--checkpoint", str(ckpt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert io.load(model).num_inputs == 1
    assert io.load_checkpoint(ckpt).epoch >= 1

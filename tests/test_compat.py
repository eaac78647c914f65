"""Files written by numnet 0.1.0 (before the package was split into layers) still load.

``tests/data/v1_*.safetensors`` were written by numnet at commit 59eeb75: a
3-4-3 tanh/softmax network trained for two epochs with Adam on string labels,
saved as a model and, by ``ModelCheckpoint``, as a checkpoint. Its outputs on
the inputs that trained it are in ``v1_expected.npz``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet import MLP, fit, io, load, optimizers
from numnet.network import Network

DATA = Path(__file__).parent / "data"
MODEL, CHECKPOINT = DATA / "v1_model.safetensors", DATA / "v1_checkpoint.safetensors"


def test_a_model_saved_by_0_1_0_loads_with_identical_outputs():
    expected = np.load(DATA / "v1_expected.npz")
    net = load(MODEL)
    assert isinstance(net, MLP)
    assert net.classes_ == ["a", "b", "c"]
    # the weights are restored exactly: the reference pass gives 0.1.0's outputs bit for bit;
    # the inference path sums in another order, so its last bits may differ
    assert np.array_equal(Network._forward_checked(net, expected["X"]), expected["P"])
    np.testing.assert_allclose(net.forward(expected["X"]), expected["P"], rtol=1e-13, atol=0)
    assert net.predict(expected["X"][:2]).tolist() == np.asarray(["a", "b", "c"])[
        np.argmax(expected["P"][:2], axis=1)].tolist()
    assert io.load_metadata(MODEL)["metadata"] == {"note": "saved by numnet 0.1.0"}


def test_saving_a_loaded_0_1_0_model_keeps_it_and_adds_the_checksums(tmp_path):
    """0.1.0 files have no checksums; saved again, the same weights, document and outputs,
    with ``tensors_sha256`` in the document and ``numnet_sha256`` beside it."""
    from safetensors import safe_open

    expected = np.load(DATA / "v1_expected.npz")
    net = load(MODEL)
    meta = io.load_metadata(MODEL)["metadata"]
    written = io.save(net, tmp_path / "again.safetensors", metadata=meta)
    old, new = io.load_metadata(MODEL), io.load_metadata(written)
    assert "tensors_sha256" not in old and len(new.pop("tensors_sha256")) == 64
    assert new == old
    with safe_open(MODEL, framework="numpy") as a, safe_open(written, framework="numpy") as b:
        assert sorted(a.keys()) == sorted(b.keys())
        for key in a.keys():
            assert a.get_tensor(key).tobytes() == b.get_tensor(key).tobytes()
        assert set(a.metadata()) == {"numnet"}
        assert set(b.metadata()) == {"numnet", "numnet_sha256"}
    again = load(written)
    assert np.array_equal(Network._forward_checked(again, expected["X"]), expected["P"])
    assert again.classes_ == net.classes_


def test_a_0_1_0_checkpoint_loads_and_resumes():
    ckpt = io.load_checkpoint(CHECKPOINT)
    assert ckpt.epoch == 2 and len(ckpt.history["loss"]) == 2
    assert ckpt.optimizer_state["type"] == "Adam" and ckpt.optimizer_state["t"] == 8
    rng = np.random.default_rng(0)
    X = rng.random((20, 3))
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, 20)]
    net = MLP(3, [4], 3, activation="tanh", output_activation="softmax", random_state=0)
    history = fit(net, X, labels, optimizer=optimizers.Adam(0.01), epochs=3, batch_size=5,
                  verbose=False, random_state=0, resume_from=CHECKPOINT)
    assert history.epochs == 3 and history.loss[:2] == ckpt.history["loss"]

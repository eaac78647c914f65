"""numnet.io: models and checkpoints round-trip exactly."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet import MLP
from numnet import io as nio
from numnet._files.atomic import _host_tag

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"]
ARCHITECTURES = [(3, [], 2), (4, [5], 1), (2, [6, 3], 3)]


def _inputs(net: MLP, seed: int = 0, n: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, net.num_inputs)).astype(net.dtype)


def _assert_same_net(a: MLP, b: MLP) -> None:
    assert type(b) is MLP
    assert b.get_config() == a.get_config()
    assert b.flat_parameters.dtype == a.flat_parameters.dtype
    assert np.array_equal(b.flat_parameters, a.flat_parameters)
    X = _inputs(a)
    assert np.array_equal(b.forward(X), a.forward(X))


def _temps(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".tmp-" in p.name]


# --- models -------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: f"{a[0]}-{a[1]}-{a[2]}")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_round_trip_gives_identical_predictions(tmp_path, arch, bias, dtype, activation):
    n_in, hidden, n_out = arch
    net = MLP(n_in, hidden, n_out, activation=activation, bias=bias, dtype=dtype,
              random_state=np.random.default_rng(1))
    path = nio.save(net, tmp_path / "model.safetensors")
    _assert_same_net(net, nio.load(path))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", [[], [8, 4]])
def test_softmax_output_round_trip(tmp_path, dtype, hidden):
    net = MLP(5, hidden, 4, activation="tanh", output_activation="softmax", dtype=dtype,
              random_state=2)
    loaded = nio.load(nio.save(net, tmp_path / "m.safetensors"))
    _assert_same_net(net, loaded)
    assert loaded.output_activation == "softmax"


def test_file_is_plain_safetensors_with_documented_layout(tmp_path):
    from safetensors import safe_open

    net = MLP(3, [4], 2, dtype="float32", random_state=0)
    path = nio.save(net, tmp_path / "m.safetensors", metadata={"note": "hi"})
    with safe_open(path, framework="numpy") as f:
        assert sorted(f.keys()) == ["W0", "W1", "b0", "b1"]
        assert f.get_tensor("W0").shape == (3, 4) and f.get_tensor("b1").shape == (2,)
        assert f.get_tensor("W1").dtype == np.float32
        assert np.array_equal(f.get_tensor("W1"), net.weights[1])
        doc = json.loads(f.metadata()["numnet"])
    assert doc["format"] == "numnet-model" and doc["format_version"] == 1
    assert isinstance(doc["numnet_version"], str)
    assert doc["config"] == net.get_config()
    assert doc["classes"] is None and doc["metadata"] == {"note": "hi"}


def test_save_accepts_str_and_returns_path(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    out = nio.save(net, str(tmp_path / "m.safetensors"))
    assert isinstance(out, Path) and out == tmp_path / "m.safetensors"
    _assert_same_net(net, nio.load(str(out)))


@pytest.mark.parametrize("classes", [
    [0, 1, 2], ["cat", "dog", "émeu"], [-1.5, 0.25, 3.0], [False, True], [1, "a", 2.5, True],
], ids=["ints", "strings", "floats", "bools", "mixed"])
def test_classes_round_trip_with_types(tmp_path, classes):
    net = MLP(2, [3], len(classes), random_state=0)
    net.classes_ = list(classes)
    loaded = nio.load(nio.save(net, tmp_path / "m.safetensors"))
    assert loaded.classes_ == classes
    assert [type(c) for c in loaded.classes_] == [type(c) for c in classes]


def test_numpy_classes_become_python_values(tmp_path):
    net = MLP(2, [3], 3, random_state=0)
    net.classes_ = list(np.array([3, 5, 7], dtype=np.int64))
    loaded = nio.load(nio.save(net, tmp_path / "m.safetensors"))
    assert loaded.classes_ == [3, 5, 7] and all(type(c) is int for c in loaded.classes_)
    net.classes_ = np.array(["a", "b", "c"])
    assert nio.load(nio.save(net, tmp_path / "m.safetensors")).classes_ == ["a", "b", "c"]


def test_no_classes_round_trip_as_none(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    assert nio.load(nio.save(net, tmp_path / "m.safetensors")).classes_ is None


def test_unsavable_classes_are_refused(tmp_path):
    net = MLP(2, [3], 2, random_state=0)
    net.classes_ = [(1, 2), (3, 4)]
    with pytest.raises(TypeError, match="class labels"):
        nio.save(net, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists() and _temps(tmp_path) == []


def test_metadata_round_trip(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    metadata = {"epochs": 12, "loss": 0.125, "optimizer": {"type": "Adam", "lr": 1e-3},
                "tags": ["a", "b"], "ok": True, "none": None, "big": 2 ** 80,
                "np_float": np.float64(0.1), "np_int": np.int32(-4), "array": np.arange(3)}
    path = nio.save(net, tmp_path / "m.safetensors", metadata=metadata)
    doc = nio.load_metadata(path)
    assert doc["metadata"] == {**metadata, "np_float": 0.1, "np_int": -4, "array": [0, 1, 2]}
    assert type(doc["metadata"]["np_float"]) is float and doc["metadata"]["big"] == 2 ** 80
    assert doc["config"] == net.get_config() and doc["format"] == "numnet-model"


@pytest.mark.parametrize("bad", [{1: "int key"}, {"f": len}, {"s": {1, 2}}, ["not", "a dict"]])
def test_unsavable_metadata_is_refused_without_leaving_files(tmp_path, bad):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(TypeError):
        nio.save(net, tmp_path / "m.safetensors", metadata=bad)
    assert list(tmp_path.iterdir()) == []


def test_saving_over_an_existing_file_replaces_it(tmp_path):
    path = tmp_path / "m.safetensors"
    first = MLP(2, [3], 1, random_state=0)
    second = MLP(4, [5, 6], 2, activation="relu", dtype="float32", random_state=1)
    nio.save(first, path, metadata={"which": "first"})
    os.chmod(path, 0o640)
    nio.save(second, path, metadata={"which": "second"})
    _assert_same_net(second, nio.load(path))
    assert nio.load_metadata(path)["metadata"] == {"which": "second"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640        # permissions kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    path = nio.save(MLP(2, [3], 1, random_state=0), tmp_path / "m.safetensors")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    old = MLP(2, [3], 1, random_state=0)
    nio.save(old, path)

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(nio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        nio.save(MLP(2, [3], 1, random_state=1), path)
    monkeypatch.undo()
    _assert_same_net(old, nio.load(path))
    assert _temps(tmp_path) == []


def test_save_into_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nio.save(MLP(2, [3], 1, random_state=0), tmp_path / "nope" / "m.safetensors")


def test_save_over_a_directory_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        nio.save(MLP(2, [3], 1, random_state=0), tmp_path / "d")


def test_save_refuses_non_finite_weights(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    net.weights[1][0, 0] = np.nan
    with pytest.raises(ValueError, match="W1"):
        nio.save(net, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_networks(tmp_path):
    with pytest.raises(TypeError, match="MLP"):
        nio.save({"W0": np.zeros((2, 2))}, tmp_path / "m.safetensors")


def test_save_through_a_symlink_replaces_the_target_file(tmp_path):
    real = tmp_path / "real.safetensors"
    link = tmp_path / "link.safetensors"
    nio.save(MLP(2, [3], 1, random_state=0), real)
    link.symlink_to(real)
    net = MLP(2, [4], 1, random_state=1)
    nio.save(net, link)
    assert link.is_symlink()
    _assert_same_net(net, nio.load(real))


def test_stale_temp_from_dead_process_is_cleaned_up(tmp_path):
    path = tmp_path / "m.safetensors"
    # A temp file as a killed process leaves it: this host, a pid that cannot exist.
    stale = tmp_path / f".m.safetensors.tmp-{_host_tag()}-999999999-abcd1234"
    stale.write_bytes(b"half a model")
    foreign = tmp_path / ".other.safetensors.tmp-x"     # not ours to touch
    foreign.write_bytes(b"")
    nio.save(MLP(2, [3], 1, random_state=0), path)
    assert not stale.exists() and foreign.exists()


# --- checkpoints ----------------------------------------------------------------------

def _optimizer_state(net: MLP, rng: np.random.Generator) -> dict:
    state = {"type": "Adam", "learning_rate": 1e-3, "beta_1": 0.9, "t": 17,
             "schedule": None, "schedule_state": {"best": 0.5, "wait": 2},
             "initial_learning_rate": 1e-3}
    for i, p in enumerate(net.parameters()):
        state[f"m.{i}"] = rng.normal(size=p.shape).astype(p.dtype)
        state[f"v.{i}"] = rng.random(size=p.shape).astype(p.dtype)
    return state


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_checkpoint_round_trip_is_exact(tmp_path, dtype):
    rng = np.random.default_rng(3)
    net = MLP(3, [4, 5], 2, activation="relu", output_activation="softmax", dtype=dtype,
              random_state=rng)
    net.classes_ = ["a", "b"]
    opt = _optimizer_state(net, rng)
    opt["velocity.0"] = rng.normal(size=(3, 4)).astype(np.float32)   # any dtype, kept
    opt["scalar32"] = np.float32(0.1)                                  # NumPy scalar, kept
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [], "metrics": {"acc": [0.5, 0.75]},
               "stop_reason": None, "interrupted": False}
    train_rng = np.random.default_rng(123)
    train_rng.random(11)
    fit_config = {"loss": "categorical_crossentropy", "batch_size": 32, "epochs": 10}
    path = nio.save_checkpoint(tmp_path / "ckpt.safetensors", net, optimizer_state=opt,
                               epoch=3, history=history,
                               rng_state=train_rng.bit_generator.state, fit_config=fit_config)
    ckpt = nio.load_checkpoint(path)

    assert isinstance(ckpt, nio.Checkpoint)
    _assert_same_net(net, ckpt.net)
    assert ckpt.net.classes_ == ["a", "b"]
    assert ckpt.epoch == 3 and ckpt.history == history and ckpt.fit_config == fit_config
    assert set(ckpt.optimizer_state) == set(opt)
    for key, value in opt.items():
        got = ckpt.optimizer_state[key]
        if isinstance(value, (np.ndarray, np.generic)):
            assert type(got) is type(value) and got.dtype == value.dtype
            assert np.array_equal(got, value)
            assert np.asarray(value).tobytes() == np.asarray(got).tobytes()   # bit for bit
        else:
            assert got == value and type(got) is type(value)
    assert ckpt.optimizer_state["m.0"].flags.writeable        # optimizers update in place
    ckpt.optimizer_state["m.0"] *= 2

    assert ckpt.rng_state == train_rng.bit_generator.state
    resumed = np.random.default_rng()
    resumed.bit_generator.state = ckpt.rng_state
    assert np.array_equal(resumed.random(50), train_rng.random(50))
    assert np.array_equal(resumed.permutation(20), train_rng.permutation(20))


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"])
def test_checkpoint_restores_any_numpy_bit_generator(tmp_path, bit_generator):
    gen = np.random.Generator(getattr(np.random, bit_generator)(7))
    gen.random(5)
    gen.integers(0, 10, size=3, dtype=np.uint32)       # leaves a buffered half-word
    net = MLP(2, [3], 1, random_state=0)
    path = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={}, epoch=0,
                               history={}, rng_state=gen.bit_generator.state)
    restored = nio.load_checkpoint(path).rng_state
    again = np.random.Generator(getattr(np.random, bit_generator)())
    again.bit_generator.state = restored
    assert np.array_equal(again.integers(0, 2 ** 32, size=9, dtype=np.uint32),
                          gen.integers(0, 2 ** 32, size=9, dtype=np.uint32))
    assert np.array_equal(again.random(9), gen.random(9))


def test_checkpoint_with_real_optimizer_state(tmp_path):
    from numnet import optimizers

    rng = np.random.default_rng(0)
    net = MLP(3, [4], 2, dtype="float32", random_state=rng)
    opt = optimizers.Adam(1e-2)
    for _ in range(3):
        opt.step(net.parameters(), [rng.normal(size=p.shape).astype(p.dtype)
                                    for p in net.parameters()])
    path = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state=opt.state_dict(),
                               epoch=3, history={"loss": [1.0, 0.9, 0.8]},
                               rng_state=rng.bit_generator.state)
    ckpt = nio.load_checkpoint(path)
    twin = optimizers.Adam(1.0)
    twin.load_state_dict(ckpt.optimizer_state)
    grads = [rng.normal(size=p.shape).astype(p.dtype) for p in net.parameters()]
    a, b = net.copy(), ckpt.net
    opt.step(a.parameters(), grads)
    twin.step(b.parameters(), grads)
    assert np.array_equal(a.flat_parameters, b.flat_parameters)


def test_load_accepts_checkpoint_and_load_checkpoint_refuses_model(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    ckpt = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={"t": 0},
                               epoch=1, history={}, rng_state=np.random.default_rng(0)
                               .bit_generator.state)
    _assert_same_net(net, nio.load(ckpt))
    assert nio.load_metadata(ckpt)["format"] == "numnet-checkpoint"
    model = nio.save(net, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="not a numnet-checkpoint") as info:
        nio.load_checkpoint(model)
    assert str(model) in str(info.value)


def test_checkpoint_fit_config_defaults_to_empty(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    path = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={}, epoch=0,
                               history={}, rng_state=np.random.default_rng(0).bit_generator.state)
    ckpt = nio.load_checkpoint(path)
    assert ckpt.fit_config == {} and ckpt.optimizer_state == {} and ckpt.metadata == {}


@pytest.mark.parametrize("epoch", [-1, 1.5, True, "3"])
def test_checkpoint_refuses_bad_epoch(tmp_path, epoch):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="epoch"):
        nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={}, epoch=epoch,
                            history={}, rng_state={})


def test_checkpoint_refuses_unsavable_optimizer_state(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    rng_state = np.random.default_rng(0).bit_generator.state
    for bad in ({"m.0": np.array([object()])}, {"f": print}, {"$tensor": 1}, {0: 1}):
        with pytest.raises(TypeError):
            nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state=bad, epoch=0,
                                history={}, rng_state=rng_state)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_refuses_non_finite_optimizer_arrays(tmp_path):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="NaN"):
        nio.save_checkpoint(tmp_path / "c.safetensors", net,
                            optimizer_state={"m.0": np.array([1.0, np.inf])}, epoch=0,
                            history={}, rng_state=np.random.default_rng(0).bit_generator.state)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_keeps_odd_arrays_exactly(tmp_path):
    rng = np.random.default_rng(4)
    state = {
        "big_endian": rng.normal(size=(3, 2)).astype(">f8"),
        "strided": rng.normal(size=(4, 6))[:, ::2],
        "fortran": np.asfortranarray(rng.normal(size=(3, 5)).astype(np.float32)),
        "empty": np.zeros((0, 4), np.float32),
        "zero_d": np.array(2.5),
        "ints": rng.integers(-5, 5, size=7).astype(np.int16),
        "flags": np.array([True, False, True]),
        "nested": {"list": [np.float16(0.5), np.uint64(2 ** 64 - 1), 3, "x", None]},
    }
    net = MLP(2, [3], 1, random_state=0)
    path = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state=state, epoch=0,
                               history={}, rng_state={"bit_generator": "PCG64",
                                                      **rng.bit_generator.state})
    got = nio.load_checkpoint(path).optimizer_state
    for key in ("big_endian", "strided", "fortran", "empty", "zero_d", "ints", "flags"):
        assert isinstance(got[key], np.ndarray) and got[key].shape == state[key].shape
        assert got[key].dtype == state[key].dtype.newbyteorder("=")
        assert np.array_equal(got[key], state[key])
    half, big, three, x, none = got["nested"]["list"]
    assert type(half) is np.float16 and half == 0.5
    assert type(big) is np.uint64 and big == 2 ** 64 - 1
    assert (three, x, none) == (3, "x", None)


@pytest.mark.parametrize("rng_state", [{}, {"bit_generator": "Nope"},
                                       {"bit_generator": "PCG64", "state": {}}])
def test_checkpoint_refuses_rng_state_it_could_not_restore(tmp_path, rng_state):
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(ValueError, match="rng_state"):
        nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={}, epoch=0,
                            history={}, rng_state=rng_state)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_history_may_hold_nan_and_inf(tmp_path):
    """A diverged run's history (NaN/inf losses) is data, kept as it was."""
    net = MLP(2, [3], 1, random_state=0)
    history = {"loss": [1.0, float("nan"), float("inf")], "stop_reason": "diverged"}
    path = nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state={}, epoch=2,
                               history=history,
                               rng_state=np.random.default_rng(0).bit_generator.state)
    loss = nio.load_checkpoint(path).history["loss"]
    assert loss[0] == 1.0 and np.isnan(loss[1]) and loss[2] == np.inf


def test_io_module_never_imports_pickle():
    import ast

    files = [Path(nio.__file__), *Path(nio.__file__).with_name("_files").glob("*.py")]
    assert len(files) > 2
    for path in files:
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names} | {
            node.module.split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"pickle", "cPickle", "dill", "joblib", "marshal", "shelve"}
        assert "allow_pickle" not in path.read_text()


# --- property ------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n_in=st.integers(1, 6), hidden=st.lists(st.integers(1, 6), max_size=3),
       n_out=st.integers(1, 4), dtype=st.sampled_from(["float32", "float64"]),
       bias=st.booleans(), activation=st.sampled_from(ACTIVATIONS),
       output=st.sampled_from([None, "softmax", "identity", "sigmoid"]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_property_round_trip_is_exact(n_in, hidden, n_out, dtype, bias, activation, output,
                                      seed):
    if (output or activation) == "softmax":
        n_out = max(n_out, 2)           # a softmax over one unit is refused
    net = MLP(n_in, hidden, n_out, activation=activation, output_activation=output, bias=bias,
              dtype=dtype, random_state=np.random.default_rng(seed))
    # Spread the weights over many magnitudes so every bit pattern matters.
    rng = np.random.default_rng(seed)
    net.flat_parameters[...] = rng.normal(size=net.num_parameters) * 10.0 ** rng.integers(
        -30, 30, size=net.num_parameters)
    with tempfile.TemporaryDirectory() as tmp:
        loaded = nio.load(nio.save(net, Path(tmp) / "m.safetensors"))
    assert np.array_equal(loaded.flat_parameters.view(np.uint8),
                          net.flat_parameters.view(np.uint8))
    X = _inputs(net, seed)
    assert _outcome(loaded, X) == _outcome(net, X)


def _outcome(net: MLP, X: np.ndarray) -> tuple[str, bytes]:
    """The outputs' bytes, or the refusal of weights whose sums overflow: equal for twins."""
    try:
        with np.errstate(all="ignore"):
            return "outputs", net.forward(X).tobytes()
    except ValueError as exc:
        return "refused", str(exc).encode()

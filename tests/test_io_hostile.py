"""numnet.io refuses hostile and broken files: clearly, quickly, without running code.

Every refusal is a ``ValueError`` (``numnet.io.FormatError``) whose message
names the file, except where the operating system has a natural error: a
missing path is ``FileNotFoundError`` and a directory is ``IsADirectoryError``
(both name the path too).
"""

from __future__ import annotations

import faulthandler
import json
import os
import pickle
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("safetensors")                      # the io extra

from safetensors import safe_open  # noqa: E402
from safetensors.numpy import save as st_save  # noqa: E402

from numnet import MLP  # noqa: E402
from numnet import io as nio  # noqa: E402
from numnet._files.format import MAX_HEADER_BYTES, MAX_HEADER_ITEMS  # noqa: E402


@pytest.fixture(autouse=True)
def _no_hang():
    """A hang fails the run with a traceback instead of blocking it forever."""
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _refused(path: Path, match: str | None = None, kind: type = ValueError,
             header_problem: bool = True) -> str:
    """``load`` refuses ``path`` with ``kind``, naming the file; so does ``load_metadata``
    when the problem is in the header (it reads no tensor values)."""
    with pytest.raises(kind) as info:
        nio.load(path)
    message = str(info.value)
    assert str(path) in message, message
    if match is not None:
        assert match.lower() in message.lower(), message
    if header_problem:
        with pytest.raises(kind):
            nio.load_metadata(path)
    return message


def _peak_bytes_while_refused(path, match):
    """Peak Python allocation while ``load`` refuses ``path``: a bad header must not allocate."""
    tracemalloc.start()
    try:
        _refused(path, match)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _small_model(tmp_path: Path, **kwargs) -> Path:
    net = MLP(2, [3], 2, random_state=0, **kwargs)
    return nio.save(net, tmp_path / "good.safetensors")


def _parts(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(numnet document, tensors) of a valid file."""
    with safe_open(path, framework="numpy") as f:
        doc = json.loads(f.metadata()["numnet"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return doc, tensors


def _write(path: Path, tensors: dict[str, np.ndarray], doc=None, metadata=None) -> Path:
    """A well-formed safetensors file with ``doc`` (any JSON, or a raw str) as numnet metadata.

    Like a file from another writer (or from before numnet recorded checksums), it carries
    no checksum, so each test reaches the check it is about.
    """
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "tensors_sha256"}
    if metadata is None:
        metadata = {} if doc is None else {
            "numnet": doc if isinstance(doc, str) else json.dumps(doc)}
    path.write_bytes(st_save(tensors, metadata=metadata or None))
    return path


def _raw(header: dict | str | bytes, data: bytes = b"", length: int | None = None) -> bytes:
    """A hand-built file: 8-byte length, header bytes, data."""
    if isinstance(header, dict):
        header = json.dumps(header)
    if isinstance(header, str):
        header = header.encode()
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def _mutated(tmp_path: Path, change) -> Path:
    """The small model with ``change(doc, tensors)`` applied, rewritten with safetensors."""
    doc, tensors = _parts(_small_model(tmp_path))
    change(doc, tensors)
    return _write(tmp_path / "bad.safetensors", tensors, doc)


# --- not a file / not safetensors ------------------------------------------------------

def test_missing_file_is_file_not_found(tmp_path):
    path = tmp_path / "absent.safetensors"
    _refused(path, kind=FileNotFoundError)


def test_directory_is_a_directory_error(tmp_path):
    _refused(tmp_path, "directory", kind=IsADirectoryError)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    _refused(path, "empty")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.safetensors"
    os.mkfifo(path)                    # opening it for reading would block without a writer
    _refused(path, "not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_is_refused():
    _refused(Path("/dev/zero"), "not a regular file")


class _Payload:
    """Unpickling this would create ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_renamed_to_safetensors_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"weights": [_Payload(marker)]}, protocol=protocol)
    path = tmp_path / "model.safetensors"
    path.write_bytes(payload)
    _refused(path, "not a safetensors file")
    assert not marker.exists()
    # The payload is live: unpickling it here, in the test, does create the marker.
    armed = tmp_path / "armed"
    pickle.loads(pickle.dumps(_Payload(armed), protocol=protocol)).close()
    assert armed.exists()


def test_numpy_object_array_and_zip_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    npy = tmp_path / "a.safetensors"
    with open(npy, "wb") as f:
        np.save(f, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    _refused(npy)
    zipped = tmp_path / "b.safetensors"            # the layout of a torch.save file
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(_Payload(marker)))
    _refused(zipped)
    assert not marker.exists()


def test_text_and_random_bytes_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    for i, data in enumerate([b"hello world, not a model\n", b"{}" * 10,
                              rng.bytes(1000), b"\x00" * 64]):
        path = tmp_path / f"junk{i}.safetensors"
        path.write_bytes(data)
        _refused(path)


# --- the header length and the header -------------------------------------------------

@pytest.mark.parametrize("claimed", [2 ** 62, 2 ** 64 - 1, 10 ** 9, 99_999_999, 2 ** 24 - 1])
def test_absurd_header_length_is_refused_without_allocating(tmp_path, claimed):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(_raw('{"a": 1}', length=claimed))
    tracemalloc.start()
    try:
        message = _refused(path, f"{claimed}-byte header")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2 ** 20
    assert "truncated" in message


def test_header_over_limit_is_refused_even_if_file_is_big_enough(tmp_path):
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as f:           # a sparse 150 MB file: cheap to make
        f.write(struct.pack("<Q", 120_000_000) + b"{")
        f.truncate(150_000_000)
    assert _peak_bytes_while_refused(path, f"limited to {MAX_HEADER_BYTES} bytes") < 4 * 2 ** 20


def test_header_of_too_many_json_items_is_refused_before_parsing(tmp_path):
    """Under the byte limit, a header of tiny containers would still cost ~25x its size."""
    body = b'{"x":[' + b"[]," * MAX_HEADER_ITEMS + b"[]]}"
    assert len(body) < MAX_HEADER_BYTES
    path = tmp_path / "items.safetensors"
    path.write_bytes(_raw(body))
    # measured 2.0x (the header read, and the file buffer), against ~25x if it were parsed
    assert _peak_bytes_while_refused(path, "JSON items") < 3 * len(body)


def test_huge_architecture_with_tiny_data_is_refused_before_building(tmp_path):
    doc, _ = _parts(_small_model(tmp_path))
    doc["config"].update(num_inputs=2 ** 40, hidden_layers=[], num_outputs=2 ** 20)
    header = {"__metadata__": {"numnet": json.dumps(doc)},
              "W0": {"dtype": "F64", "shape": [2 ** 40, 2 ** 20], "data_offsets": [0, 8]},
              "b0": {"dtype": "F64", "shape": [2 ** 20], "data_offsets": [8, 16]}}
    path = tmp_path / "bomb.safetensors"
    path.write_bytes(_raw(header, b"\x00" * 16))
    assert _peak_bytes_while_refused(path, "data_offsets") < 4 * 2 ** 20


@pytest.mark.parametrize("header", [
    b"{not json", b"[1, 2, 3]", b'"a string"', b"\xff\xfe{}", b'{"__metadata__": {"numnet": NaN}}',
], ids=["broken", "list", "string", "not-utf8", "nan"])
def test_header_not_a_json_object(tmp_path, header):
    path = tmp_path / "h.safetensors"
    path.write_bytes(_raw(header))
    _refused(path, "not a safetensors file")


def test_duplicate_keys_in_header_are_refused(tmp_path):
    doc, tensors = _parts(_small_model(tmp_path))
    good = json.dumps(doc)
    text = (f'{{"__metadata__": {{"numnet": {json.dumps(good)}}}, '
            f'"__metadata__": {{"numnet": {json.dumps(good)}}}}}')
    path = tmp_path / "dup.safetensors"
    path.write_bytes(_raw(text))
    _refused(path, "twice")


# --- safetensors, but not numnet -------------------------------------------------------

@pytest.mark.parametrize("metadata", [None, {"format": "pt"}, {"numnet_other": "x"}])
def test_foreign_safetensors_file(tmp_path, metadata):
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(st_save({"weight": np.ones((2, 2), np.float32)}, metadata=metadata))
    _refused(path, "safetensors file but not a numnet model")


@pytest.mark.parametrize("doc, match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not an object"),
    ('{"format": "keras-model", "format_version": 1}', "unknown format"),
    ('{"format": "numnet-model"}', "format_version"),
], ids=["not-json", "list", "unknown-format", "no-version"])
def test_numnet_metadata_garbage(tmp_path, doc, match):
    path = _write(tmp_path / "g.safetensors", {"W0": np.ones((2, 2))}, doc)
    _refused(path, match)


def test_format_version_from_the_future(tmp_path):
    path = _mutated(tmp_path, lambda doc, t: doc.update(format_version=2, numnet_version="9.0"))
    message = _refused(path, "version 2")
    assert "upgrade numnet" in message and "9.0" in message


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_format_version_of_wrong_type(tmp_path, version):
    path = _mutated(tmp_path, lambda doc, t: doc.update(format_version=version))
    _refused(path, "format_version")


@pytest.mark.parametrize("key", ["config", "classes", "metadata", "numnet_version"])
def test_document_field_missing(tmp_path, key):
    path = _mutated(tmp_path, lambda doc, t: doc.pop(key))
    _refused(path, key)


@pytest.mark.parametrize("key, value, match", [
    ("num_inputs", "2", "num_inputs"), ("num_inputs", 0, "num_inputs"),
    ("num_inputs", True, "num_inputs"), ("num_inputs", 2.0, "num_inputs"),
    ("num_outputs", -2, "num_outputs"), ("num_outputs", None, "num_outputs"),
    ("hidden_layers", 3, "hidden_layers"), ("hidden_layers", [0], "hidden_layers"),
    ("hidden_layers", [True], "hidden_layers"), ("hidden_layers", "3", "hidden_layers"),
    ("activation", "gelu_of_doom", "gelu_of_doom"), ("activation", 3, "activation"),
    ("activation", None, "activation"), ("output_activation", "os.system", "os.system"),
    ("bias", "yes", "bias"), ("bias", 1, "bias"),
    ("init", "__import__('os')", "init"), ("dtype", "float16", "dtype"),
    ("dtype", "object", "dtype"), ("dtype", None, "dtype"),
])
def test_config_field_of_wrong_type_or_value(tmp_path, key, value, match):
    path = _mutated(tmp_path, lambda doc, t: doc["config"].update({key: value}))
    _refused(path, match)


def test_config_field_missing_or_unknown(tmp_path):
    path = _mutated(tmp_path, lambda doc, t: doc["config"].pop("activation"))
    _refused(path, "missing ['activation']")
    path = _mutated(tmp_path, lambda doc, t: doc["config"].update(evil="x"))
    _refused(path, "unknown fields ['evil']")
    path = _mutated(tmp_path, lambda doc, t: doc.update(config=[1, 2]))
    _refused(path, "config must be")


def test_softmax_hidden_activation_is_refused(tmp_path):
    path = _mutated(tmp_path, lambda doc, t: doc["config"].update(activation="softmax"))
    _refused(path, "softmax")


@pytest.mark.parametrize("classes", [{"a": 1}, [[1, 2]], "ab", [None]])
def test_classes_of_wrong_type(tmp_path, classes):
    path = _mutated(tmp_path, lambda doc, t: doc.update(classes=classes))
    _refused(path, "classes")


def test_metadata_not_an_object(tmp_path):
    path = _mutated(tmp_path, lambda doc, t: doc.update(metadata=[1]))
    _refused(path, "metadata")


# --- tensors -------------------------------------------------------------------------

@pytest.mark.parametrize("change, match", [
    (lambda t: t.update(W0=t["W0"].T.copy()), "shape (3, 2)"),
    (lambda t: t.update(b0=np.zeros(4)), "'b0' has shape (4,)"),
    (lambda t: t.update(W1=t["W1"][None]), "'W1' has shape (1, 3, 2)"),
    (lambda t: t.pop("b1"), "missing ['b1']"),
    (lambda t: t.update(W2=np.zeros((2, 2))), "unexpected ['W2']"),
    (lambda t: t.update(w0=t.pop("W0")), "missing ['W0']"),
    (lambda t: t.update(W0=t["W0"].astype(np.float32)), "dtype 'F32'"),
    (lambda t: t.update(b1=np.zeros(2, np.int64)), "dtype 'I64'"),
], ids=["transposed", "wrong-bias", "extra-dim", "missing", "extra", "renamed", "float32",
        "int"])
def test_tensors_not_matching_the_architecture(tmp_path, change, match):
    path = _mutated(tmp_path, lambda doc, tensors: change(tensors))
    _refused(path, match)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["W0", "b1"])
def test_non_finite_weights(tmp_path, name, value):
    def poison(doc, tensors):
        tensors[name] = tensors[name].copy()
        tensors[name].flat[0] = value
    path = _mutated(tmp_path, poison)
    _refused(path, f"tensor '{name}' holds NaN or infinite", header_problem=False)
    assert nio.load_metadata(path)["config"]["num_inputs"] == 2


def test_wrong_shape_written_into_header_by_hand(tmp_path):
    data = _small_model(tmp_path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header["W0"]["shape"] = [3, 2]                            # same bytes, other shape
    path = tmp_path / "hand.safetensors"
    path.write_bytes(_raw(header, data[8 + n:]))
    _refused(path, "shape (3, 2)")
    header["W0"]["shape"] = [2, 3]
    header["W0"]["data_offsets"] = [0, 10 ** 12]
    path.write_bytes(_raw(header, data[8 + n:]))
    _refused(path, "data_offsets")
    header["W0"]["data_offsets"] = [0, 8]                    # inside the file, wrong size
    path.write_bytes(_raw(header, data[8 + n:]))
    _refused(path, "needs 48 bytes")


def test_overlapping_tensors_are_refused(tmp_path):
    data = _small_model(tmp_path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header["b1"]["data_offsets"] = header["b0"]["data_offsets"][:1] + [
        header["b0"]["data_offsets"][0] + 16]                 # b1 reuses b0's bytes
    path = tmp_path / "overlap.safetensors"
    path.write_bytes(_raw(header, data[8 + n:]))
    _refused(path, "overlapping")


def test_trailing_garbage_is_refused(tmp_path):
    path = _small_model(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00" * 8)
    _refused(path, "trailing bytes")


# --- damage at every offset ----------------------------------------------------------

def test_truncated_at_every_offset(tmp_path):
    good = _small_model(tmp_path).read_bytes()
    path = tmp_path / "cut.safetensors"
    for cut in range(len(good)):
        path.write_bytes(good[:cut])
        with pytest.raises(ValueError) as info:
            nio.load(path)
        assert str(path) in str(info.value), (cut, str(info.value))


def _load_or_refuse(path: Path):
    """Either a valid network or a ValueError naming the file: nothing else."""
    try:
        net = nio.load(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return None
    assert isinstance(net, MLP) and np.isfinite(net.flat_parameters).all()
    return net


@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80, 0xFF])
def test_flipped_bytes_everywhere(tmp_path, mask):
    good = _small_model(tmp_path).read_bytes()
    n = struct.unpack("<Q", good[:8])[0]
    path = tmp_path / "flip.safetensors"
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= mask
        path.write_bytes(bytes(bad))
        net = _load_or_refuse(path)
        outcomes["loaded" if net is not None else "refused"] += 1
        if i < 8 + n and net is not None:
            # A header flip that still parses must describe the same valid model.
            assert net.num_parameters == 2 * 3 + 3 + 3 * 2 + 2
    assert outcomes["refused"] >= 8 + n // 2      # most header damage is caught


def test_flipped_data_byte_to_nan_is_refused(tmp_path):
    path = _small_model(tmp_path)
    data = bytearray(path.read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    offset = 8 + n + json.loads(data[8:8 + n])["W0"]["data_offsets"][0]
    data[offset:offset + 8] = struct.pack("<d", float("nan"))
    path.write_bytes(bytes(data))
    message = _refused(path, header_problem=False)
    assert "is corrupt: its tensor data does not match" in message     # the checksum
    doc, tensors = _parts(path)                 # the same NaN in a file without a checksum
    unchecked = _write(tmp_path / "unchecked.safetensors", tensors, doc)
    message = _refused(unchecked, header_problem=False)
    assert "tensor 'W0' holds NaN or infinite values" in message


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1,
                      max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 10 ** 6)))
def test_property_random_damage_is_loaded_or_refused(tmp_path, edits, cut):
    good = _small_model(tmp_path).read_bytes()
    bad = bytearray(good)
    for position, value in edits:
        bad[position % len(bad)] = value
    if cut is not None:
        bad = bad[:cut % (len(bad) + 1)]
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(bytes(bad))
    _load_or_refuse(path)


# --- checkpoints ---------------------------------------------------------------------

def _checkpoint(tmp_path: Path) -> Path:
    net = MLP(2, [3], 1, random_state=0)
    state = {"type": "SGD", "t": 2, "velocity.0": np.ones((2, 3)), "velocity.1": np.ones(3)}
    return nio.save_checkpoint(tmp_path / "c.safetensors", net, optimizer_state=state, epoch=2,
                               history={"loss": [1.0]},
                               rng_state=np.random.default_rng(0).bit_generator.state)


def _mutated_checkpoint(tmp_path: Path, change) -> Path:
    doc, tensors = _parts(_checkpoint(tmp_path))
    change(doc, tensors)
    return _write(tmp_path / "bad.safetensors", tensors, doc)


def _refused_checkpoint(path: Path, match: str) -> None:
    with pytest.raises(ValueError) as info:
        nio.load_checkpoint(path)
    assert str(path) in str(info.value) and match.lower() in str(info.value).lower(), info.value


@pytest.mark.parametrize("change, match", [
    (lambda d, t: t.pop("optimizer/velocity.0"), "missing ['optimizer/velocity.0']"),
    (lambda d, t: t.update({"optimizer/extra": np.ones(2)}), "unexpected ['optimizer/extra']"),
    (lambda d, t: d["optimizer"].update({"velocity.0": {"$tensor": "W0", "kind": "array"}}),
     "malformed tensor reference"),
    (lambda d, t: d["optimizer"].update({"velocity.0": {"$tensor": "optimizer/velocity.0",
                                                        "kind": "pickle"}}),
     "malformed tensor reference"),
    (lambda d, t: t.update({"optimizer/velocity.1": np.array([np.nan, 1, 2])}), "NaN"),
    (lambda d, t: d.update(epoch=-1), "epoch"),
    (lambda d, t: d.update(epoch="2"), "epoch"),
    (lambda d, t: d.pop("rng_state"), "rng_state"),
    (lambda d, t: d.update(history=[1]), "history"),
    (lambda d, t: d["rng_state"].update(bit_generator="os.system"), "bit generator"),
    (lambda d, t: d["rng_state"].update(bit_generator="__class__"), "bit generator"),
    (lambda d, t: d["rng_state"].update(bit_generator="MT19937"), "does not restore"),
    (lambda d, t: d["rng_state"]["state"].update(state="big"), "does not restore"),
], ids=["missing-tensor", "extra-tensor", "ref-outside-prefix", "bad-kind", "nan-state",
        "negative-epoch", "string-epoch", "no-rng", "history-list", "rng-os-system",
        "rng-dunder", "rng-mismatch", "rng-garbage"])
def test_checkpoint_damage(tmp_path, change, match):
    _refused_checkpoint(_mutated_checkpoint(tmp_path, change), match)


def test_random_header_lengths_and_headers_are_refused(tmp_path):
    """Random length prefixes over random short headers: all refused (under the hang guard)."""
    rng = np.random.default_rng(1)
    for i in range(200):
        path = tmp_path / f"r{i}.safetensors"
        path.write_bytes(_raw(rng.bytes(int(rng.integers(0, 64))),
                              length=int(rng.integers(0, 2 ** 63))))
        with pytest.raises(ValueError):
            nio.load(path)


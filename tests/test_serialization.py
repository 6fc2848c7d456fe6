"""Checkpoints: exact round trips, refusals of damaged or foreign files, atomic writes."""

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_rnn.serialization import MAX_DEPTH, CheckpointError, load, save

DTYPES = [
    np.float16, np.float32, np.float64,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_,
]

arrays = st.sampled_from(DTYPES).flatmap(
    lambda dtype: hnp.arrays(
        dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    )
)
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
trees = st.recursive(
    arrays | json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
checkpoints = st.dictionaries(st.text(max_size=6), trees, max_size=4)


def assert_same(loaded, saved, where="obj"):
    """Equal structure, key order, leaf types, dtypes, shapes and values (nan == nan)."""
    assert type(loaded) is type(saved), where
    if isinstance(saved, np.ndarray):
        assert loaded.dtype == saved.dtype and loaded.shape == saved.shape, where
        np.testing.assert_array_equal(loaded, saved, err_msg=where)
    elif isinstance(saved, dict):
        assert list(loaded) == list(saved), where
        for key in saved:
            assert_same(loaded[key], saved[key], f"{where}[{key!r}]")
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved), where
        for i, (got, want) in enumerate(zip(loaded, saved, strict=True)):
            assert_same(got, want, f"{where}[{i}]")
    elif isinstance(saved, float) and math.isnan(saved):
        assert math.isnan(loaded), where
    else:
        assert loaded == saved, where
        if isinstance(saved, float):
            assert math.copysign(1, loaded) == math.copysign(1, saved), where


def example_checkpoint():
    rng = np.random.default_rng(0)
    return {
        "model": {
            "rnn.weight_ih_l0": rng.standard_normal((4, 3)).astype(np.float32),
            "rnn.bias": np.zeros(4),
        },
        "optimizer": {
            "state": [{"step": 3, "m": rng.standard_normal(5)}, {"step": 3, "m": np.ones(2)}],
            "lr": 0.1,
        },
        "config": {"hidden_size": 4, "clip": None, "dropout": 0.0, "best": math.inf},
        "vocab": ["a", "b", "<unk>"],
        "step": 10,
        "rng_state": {"bit_generator": "PCG64", "state": {"state": 2**127 + 5, "inc": 7}},
    }


@given(checkpoints)
def test_round_trip_is_exact(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("ckpt") / "c.npz"
    save(obj, path)
    assert_same(load(path), obj)


def test_round_trip_of_a_training_checkpoint(tmp_path):
    obj = example_checkpoint()
    save(obj, str(tmp_path / "c.npz"))
    assert_same(load(str(tmp_path / "c.npz")), obj)


def test_numpy_scalars_load_as_equal_python_scalars(tmp_path):
    save({"loss": np.float32(0.5), "n": np.int64(7), "ok": np.bool_(True)}, tmp_path / "c.npz")
    loaded = load(tmp_path / "c.npz")
    assert loaded == {"loss": 0.5, "n": 7, "ok": True}
    assert [type(v) for v in loaded.values()] == [float, int, bool]


def test_archive_layout_is_documented_npz(tmp_path):
    save(example_checkpoint(), tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        meta = json.loads(archive["__meta__"].tobytes().decode("utf-8"))
        assert archive["0/model/rnn.weight_ih_l0"].shape == (4, 3)
        assert archive["2/optimizer/state/0/m"].shape == (5,)
    assert (meta["format"], meta["version"]) == ("tinygrad_rnn.checkpoint", 1)
    assert meta["tree"]["dict"]["step"] == 10
    assert meta["tree"]["dict"]["config"]["dict"]["best"] == {"float": "inf"}


@pytest.mark.parametrize("name", ["checkpoint", "checkpoint.pt", "checkpoint.npz",
                                  "c" * 246 + ".npz", "é" * 122 + ".npz"])
def test_file_is_written_exactly_at_path(tmp_path, name):
    save({"x": np.arange(3)}, tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == [name]
    np.testing.assert_array_equal(load(tmp_path / name)["x"], np.arange(3))


def test_a_save_through_a_symlink_writes_the_file_it_names(tmp_path):
    # os.replace onto the link replaced the link itself with a regular file.
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "c.npz"
    save({"step": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save({"step": 2}, link)
    assert link.is_symlink() and load(target)["step"] == 2
    assert sorted(os.listdir(tmp_path / "real")) == ["c.npz"]


def test_overwrite_replaces_old_checkpoint(tmp_path):
    save({"step": 1}, tmp_path / "c.npz")
    save({"step": 2}, tmp_path / "c.npz")
    assert load(tmp_path / "c.npz") == {"step": 2}
    assert os.listdir(tmp_path) == ["c.npz"]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"opt": {"state": [np.array([{}, 1], dtype=object)]}}, r"\['opt'\]\['state'\]\[0\]"),
        ({"a": {1: 2}}, r"obj\['a'\] has a key 1 of type int"),
        ({"a": {"b": {1, 2}}}, r"obj\['a'\]\['b'\] has unsupported type set"),
        ({"a": 1j}, r"obj\['a'\] has unsupported type complex"),
        ({"a": np.ma.masked_array([1.0, 2.0], mask=[0, 1])}, r"obj\['a'\] is a masked array, whose mask "),
    ],
)
def test_save_refuses_unstorable_values_without_writing(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_save_refuses_non_dict(tmp_path):
    with pytest.raises(TypeError, match="must be a dict, got list"):
        save([np.zeros(2)], tmp_path / "c.npz")


def nested(depth):
    """A dict whose innermost dict, ``depth`` levels below the top behind keys "a", holds leaves."""
    obj = inner = {}
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    inner.update(x=np.arange(2), f=math.nan, n=None)
    return obj


def test_save_refuses_a_structure_that_contains_itself(tmp_path):
    looped = {"model": {}}
    looped["model"]["self"] = looped
    listed = {"items": [1]}
    listed["items"].append(listed["items"])
    with pytest.raises(ValueError, match=r"save: obj\['model'\]\['self'\] contains itself"):
        save(looped, tmp_path / "c.npz")
    with pytest.raises(ValueError, match=r"save: obj\['items'\]\[1\] contains itself"):
        save(listed, tmp_path / "c.npz")
    shared = [1, 2]
    save({"a": shared, "b": shared}, tmp_path / "c.npz")  # shared, not cyclic: fine
    assert load(tmp_path / "c.npz") == {"a": [1, 2], "b": [1, 2]}


def test_save_refuses_nesting_deeper_than_load_can_read(tmp_path):
    save(nested(MAX_DEPTH - 1), tmp_path / "deepest.npz")
    assert_same(load(tmp_path / "deepest.npz"), nested(MAX_DEPTH - 1))
    for depth in (MAX_DEPTH, 5000):
        with pytest.raises(ValueError, match=rf"save: obj\['a'\]\['a'\].* more than {MAX_DEPTH} levels deep"):
            save(nested(depth), tmp_path / "c.npz")
    assert os.listdir(tmp_path) == ["deepest.npz"]


def test_save_refuses_a_bytes_path_and_an_unwritable_integer(tmp_path):
    with pytest.raises(TypeError, match="save: path must be a str or os.PathLike of str, got bytes"):
        save({"x": 1}, os.fsencode(tmp_path / "c.npz"))
    with pytest.raises(ValueError, match=r"save: obj\['n'\] is an integer of 16610 bits"):
        save({"n": 10**5000}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_torn_write_keeps_old_checkpoint(tmp_path, monkeypatch, failing):
    path = tmp_path / "c.npz"
    old = example_checkpoint()
    save(old, path)

    def crash(*args, **kwargs):
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(OSError, match="disk pulled out"):
        save({"step": 999, "w": np.ones(100)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.npz"]
    assert_same(load(path), old)


def test_interrupted_save_leaves_no_temp_file(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save({"x": np.zeros(3)}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.npz"
    save(example_checkpoint(), path)
    return path


def test_truncated_file_is_refused(saved):
    data = saved.read_bytes()
    for length in [0, 1, 3, 4, 30, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1]:
        saved.write_bytes(data[:length])
        with pytest.raises(CheckpointError, match=r"c\.npz.*(truncated|corrupted)"):
            load(saved)


def test_flipped_byte_is_refused_or_harmless(saved):
    """No single flipped byte may silently change what is loaded."""
    data = saved.read_bytes()
    reference = example_checkpoint()
    refused = 0
    for position in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        saved.write_bytes(bytes(damaged))
        try:
            loaded = load(saved)
        except CheckpointError as err:
            assert "c.npz" in str(err)
            refused += 1
        else:  # zip fields outside the CRC'd data, e.g. timestamps
            assert_same(loaded, reference)
    assert refused > len(data) // 14


def test_flipped_array_byte_is_refused(saved):
    data = saved.read_bytes()
    # The float64 zeros of rnn.bias: eight zero bytes in a row occur only in array data.
    position = data.index(bytes(32))
    damaged = bytearray(data)
    damaged[position] ^= 0x01
    saved.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match="bad CRC"):
        load(saved)


def test_foreign_npz_is_refused(tmp_path):
    np.savez(tmp_path / "f.npz", weights=np.ones(3))
    with pytest.raises(CheckpointError, match=r"f\.npz.*not a tinygrad_rnn checkpoint.*__meta__"):
        load(tmp_path / "f.npz")


def test_foreign_npz_with_pickled_array_is_refused(tmp_path):
    np.savez(tmp_path / "f.npz", stuff=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(CheckpointError, match="not a tinygrad_rnn checkpoint"):
        load(tmp_path / "f.npz")


def test_pickled_array_inside_a_checkpoint_is_refused(saved):
    with np.load(saved) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries["1/model/rnn.bias"] = np.array([{"evil": 1}], dtype=object)
    with open(saved, "wb") as file:
        np.savez(file, **entries)
    with pytest.raises(CheckpointError, match=r"pickled \(object\) array under '1/model/rnn.bias'"):
        load(saved)


def rewrite_meta(path, change):
    with np.load(path) as archive:
        entries = {key: archive[key] for key in archive.files}
    meta = json.loads(entries["__meta__"].tobytes())
    change(meta)
    entries["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **entries)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda meta: meta.update(format="someone.else"), "format tag 'someone.else'"),
        (lambda meta: meta.update(version=2), "unsupported checkpoint version 2"),
        (lambda meta: meta.update(version=True), "unsupported checkpoint version True"),
        (lambda meta: meta["tree"]["dict"].update(extra={"array": "9/gone"}), "'9/gone'"),
        (lambda meta: meta["tree"]["dict"].update(extra={"what": 1}), "malformed metadata"),
        (lambda meta: meta.update(tree=[1, 2]), "not a dict"),
    ],
)
def test_bad_metadata_is_refused(saved, change, message):
    rewrite_meta(saved, change)
    with pytest.raises(CheckpointError, match=message):
        load(saved)


def write_raw_meta(path, raw: bytes):
    with np.load(path) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries["__meta__"] = np.frombuffer(raw, dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **entries)


@pytest.mark.parametrize(
    "tree",
    [
        b'{"dict": {"step": ' + b"9" * 5000 + b"}}",  # longer than Python converts to an int
        b"[" * 100_000,                                 # deeper than json.loads recurses
        b"[" * 900 + b"]" * 900,                        # parses, or not: deeper than _decode recurses
    ],
    ids=["5000-digit int", "100000 brackets", "900 nested lists"],
)
def test_crafted_metadata_is_refused_naming_the_file(saved, tree):
    write_raw_meta(saved, b'{"format": "tinygrad_rnn.checkpoint", "version": 1, "tree": ' + tree + b"}")
    with pytest.raises(CheckpointError, match=r"c\.npz.*(unreadable JSON|more than 100 levels deep)"):
        load(saved)


def test_text_file_is_refused(tmp_path):
    (tmp_path / "notes.npz").write_text("just some notes\n")
    with pytest.raises(CheckpointError, match=r"notes\.npz.*not a tinygrad_rnn checkpoint"):
        load(tmp_path / "notes.npz")


def test_plain_npy_file_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="not a tinygrad_rnn checkpoint"):
        load(tmp_path / "a.npy")


def test_zip_without_numpy_members_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="not a tinygrad_rnn checkpoint"):
        load(tmp_path / "z.npz")


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _first_array(path):
    return next(name[:-4] for name in _members(path) if name != "__meta__.npy")


def test_a_member_that_is_not_npy_is_refused(saved):
    # NumPy hands back such a member's raw bytes (a pickle's, say), which came out as a leaf.
    members = _members(saved)
    key = _first_array(saved)
    members[key] = members.pop(key + ".npy")[:10] + b"raw bytes"
    _rezip(saved, members)
    with pytest.raises(CheckpointError, match=rf"member '{key}' is not a \.npy array"):
        load(saved)


def test_a_header_claiming_more_than_its_member_holds_is_refused(saved):
    # NumPy allocated the claimed shape first: a 16-byte member asked for 7 TiB (MemoryError).
    members = _members(saved)
    key = _first_array(saved)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    members[key + ".npy"] = header.getvalue() + bytes(16)
    _rezip(saved, members)
    with pytest.raises(CheckpointError, match=rf"member '{key}' claims shape \(1000000000000,\) of float64"):
        load(saved)


def test_compressed_members_and_repeated_references_are_refused(saved):
    # A 195 KB deflated file referencing one array twenty times loaded as 4 GB.
    members = _members(saved)
    _rezip(saved, members, zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match=r"is compressed; save writes every array uncompressed"):
        load(saved)
    _rezip(saved, members)
    key = _first_array(saved)
    rewrite_meta(saved, lambda meta: meta["tree"]["dict"].update(again=[{"array": key}] * 2))
    with pytest.raises(CheckpointError, match=rf"references array '{key}' twice"):
        load(saved)

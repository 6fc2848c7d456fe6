"""Safe, atomic checkpoints: nested dicts of NumPy arrays and JSON values in one ``.npz`` file.

A checkpoint is an uncompressed ``.npz`` archive. Every array of the saved tree is stored
under its own flat key (``"<n>/<readable path>"``, e.g. ``"0/model/rnn.weight_ih_l0"``), and
the uint8 array ``__meta__`` holds a UTF-8 JSON document::

    {"format": "tinygrad_rnn.checkpoint", "version": 1, "tree": <node>}

where a node is a JSON null, bool, int, finite float or string written inline, a JSON list
for a list, or a one-key object tagging everything else:
``{"dict": {key: node, ...}}``, ``{"tuple": [node, ...]}``, ``{"array": "<npz key>"}`` and
``{"float": "nan" | "inf" | "-inf"}``. Because every saved dict is wrapped, an object in
the tree is always a tag, so the structure is unambiguous.

Nothing is ever pickled: arrays of object dtype are refused by :func:`save`, and
:func:`load` reads with ``allow_pickle=False``. Writes go to a temporary file in the
target's directory and replace the target only once the data is on disk, so a crash
mid-save leaves the previous checkpoint intact.

Example::

    save({"model": model.state_dict(), "step": 10, "vocab": ["a", "b"]}, "run/ckpt.npz")
    checkpoint = load("run/ckpt.npz")
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "tinygrad_rnn.checkpoint"
VERSION = 1
META_KEY = "__meta__"
# How deep lists, tuples and dicts may nest. json.loads and _decode read recursively, so
# without a bound save could write a tree that load cannot read, and a crafted file could
# exhaust the stack; save and load both hold to it. Real checkpoints nest four or five levels.
MAX_DEPTH = 100

_ZIP_MAGIC = b"PK\x03\x04"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# What a damaged zip archive can raise while it is parsed or its members are read.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    ValueError,
    OSError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zlib.error,
)


class CheckpointError(ValueError):
    """A file that :func:`load` refuses: missing pieces, damaged, foreign or unsafe."""


def _describe(path: tuple[str | int, ...]) -> str:
    """``('optimizer', 'state', 0)`` -> ``obj['optimizer']['state'][0]`` for error messages."""
    return "obj" + "".join(f"[{part!r}]" for part in path)


def _array_key(index: int, path: tuple[str | int, ...]) -> str:
    """A unique, zip-safe npz key that still tells a human which entry it is."""
    parts = [re.sub(r"[^\w.\-]", "_", str(part), flags=re.ASCII).lstrip(".") or "_"
             for part in path]
    return "/".join([str(index), *parts])


def _encode(value: Any, path: tuple[str | int, ...], arrays: dict[str, np.ndarray],
            containers: set[int]) -> Any:
    """Turn ``value`` into a JSON node, moving its arrays into ``arrays``.

    ``containers`` holds the ids of the lists, tuples and dicts on the way down to
    ``value``: meeting one of them again means the structure contains itself.
    """
    if isinstance(value, np.ndarray):
        if isinstance(value, np.ma.MaskedArray):  # np.save would keep the data, drop the mask
            raise TypeError(f"save: {_describe(path)} is a masked array, whose mask would be lost; "
                            "save its .data and .mask as two arrays")
        if value.dtype.hasobject:
            raise TypeError(
                f"save: {_describe(path)} is an array of dtype {value.dtype}, which would need "
                "pickling; convert it to a numeric array or to JSON values"
            )
        key = _array_key(len(arrays), path)
        arrays[key] = value
        return {"array": key}
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        value = value.item()  # NumPy scalars are stored (and load) as the equal Python scalar
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        try:
            str(value)  # json.dumps writes it in decimal, which Python caps at 4300 digits
        except ValueError:
            raise ValueError(
                f"save: {_describe(path)} is an integer of {value.bit_length()} bits, too long to "
                "write as a JSON number; store it as a string or an array"
            ) from None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, (dict, list, tuple)):
        if id(value) in containers:
            raise ValueError(f"save: {_describe(path)} contains itself (a reference cycle); a "
                             "checkpoint must be a tree")
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"save: {_describe(path[:5])}... nests lists, tuples and dicts more than "
                             f"{MAX_DEPTH} levels deep; a checkpoint allows at most {MAX_DEPTH}")
        containers.add(id(value))
        encoded = _encode_container(value, path, arrays, containers)
        containers.discard(id(value))
        return encoded
    raise TypeError(
        f"save: {_describe(path)} has unsupported type {type(value).__name__}; a checkpoint "
        "holds NumPy arrays, None, bool, int, float, str, and lists, tuples and dicts of those"
    )


def _encode_container(value: dict | list | tuple, path: tuple[str | int, ...],
                      arrays: dict[str, np.ndarray], containers: set[int]) -> Any:
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"save: {_describe(path)} has a key {key!r} of type {type(key).__name__}; "
                    "checkpoint dict keys must be str"
                )
            encoded[key] = _encode(item, (*path, key), arrays, containers)
        return {"dict": encoded}
    items = [_encode(item, (*path, i), arrays, containers) for i, item in enumerate(value)]
    return items if isinstance(value, list) else {"tuple": items}


def _file_mode(path: str) -> int:
    """Permission bits for the new file: the old checkpoint's, else what the umask allows."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; not every platform can open a directory, hence best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save(obj: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the nested dict ``obj`` to exactly ``path`` (any suffix), atomically.

    Leaves may be NumPy arrays of any non-object dtype and shape (0-d and empty included),
    None, bool, int, float (nan and inf included), str, and lists, tuples and str-keyed dicts
    of those, nested up to ``MAX_DEPTH`` (100) levels. NumPy scalars are stored as the equal
    Python scalar. Raises TypeError naming the entry for anything else (and for a bytes
    ``path``), and ValueError for a structure that contains itself or nests too deeply, all
    before touching the disk.

    The archive is written to a temporary file next to ``path``, flushed and fsynced, then
    moved onto ``path`` with ``os.replace``; on any error the temporary file is removed and
    an existing checkpoint at ``path`` is left as it was.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"save: a checkpoint must be a dict, got {type(obj).__name__}")
    path = _save_path(path)
    if os.path.islink(path):  # write through the link, to the file it names (os.replace
        path = os.path.realpath(path)  # onto the link itself would replace the link)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, (), arrays, set())
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}, allow_nan=False)
    meta_array = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)

    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=f".{_temporary_stem(path, directory)}.",
                                    suffix=".tmp")
    try:
        # Given an open file rather than a name, np.savez adds no ".npz" suffix.
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **{META_KEY: meta_array}, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp_path)
        raise
    _fsync_directory(directory)


def _temporary_stem(path: str, directory: str) -> str:
    """``path``'s file name, cut so that ".{stem}.XXXXXXXX.tmp" fits the file system's name
    limit (a valid 250-character name must not fail because its temporary one is longer)."""
    try:
        name_max = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    room = max(1, name_max - len("..") - 8 - len(".tmp"))  # mkstemp adds 8 random characters
    return os.path.basename(path).encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")


def _save_path(path: Any) -> str:
    """``path`` as a str. Bytes are refused: the temporary file's name is built from str parts."""
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(f"save: path must be a str or os.PathLike of str, got {type(path).__name__} {path!r}")


def _check_archive(path: str) -> None:
    """Refuse files that are not intact zip archives, before NumPy parses anything."""
    with open(path, "rb") as file:
        head = file.read(len(_ZIP_MAGIC))
    if head != _ZIP_MAGIC:
        if _ZIP_MAGIC.startswith(head):
            raise CheckpointError(f"{path!r} is truncated: {len(head)} bytes, not a zip archive")
        raise CheckpointError(f"{path!r} is not a tinygrad_rnn checkpoint (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()  # reads every member and checks its CRC
    except _ARCHIVE_ERRORS as err:
        raise CheckpointError(f"{path!r} is truncated or corrupted: {err}") from err
    if damaged is not None:
        raise CheckpointError(f"{path!r} is corrupted: bad CRC in member {damaged!r}")


def _check_member(archive: Any, key: str, path: str) -> None:
    """The member behind ``key`` is what :func:`save` writes, checked before NumPy reads it:
    a stored (uncompressed) ``.npy`` whose header claims no more data than the member holds.
    NumPy would otherwise return another member's raw bytes, or allocate whatever shape a
    header claims (7 TiB for a 16-byte member), or inflate a small deflated file."""
    try:
        info = archive.zip.getinfo(key + ".npy")
    except KeyError:
        raise CheckpointError(f"{path!r}: member {key!r} is not a .npy array") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise CheckpointError(f"{path!r}: member {key!r} is compressed; save writes every array "
                              "uncompressed, so this file was not written by it")
    try:
        with archive.zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(member)
    except (ValueError, OSError, EOFError) as err:
        raise CheckpointError(f"{path!r}: member {key!r} has no valid .npy header: {err}") from None
    if not dtype.hasobject and math.prod(shape) * dtype.itemsize > info.file_size:
        raise CheckpointError(f"{path!r}: member {key!r} claims shape {shape} of {dtype}, more "
                              f"than the {info.file_size} bytes it holds")


def _read_array(archive: Any, key: str, path: str) -> np.ndarray:
    _check_member(archive, key, path)
    try:
        return archive[key]
    except _ARCHIVE_ERRORS as err:
        if "allow_pickle" in str(err):
            raise CheckpointError(
                f"{path!r} holds a pickled (object) array under {key!r}; refusing to unpickle"
            ) from err
        raise CheckpointError(f"{path!r}: cannot read array {key!r}: {err}") from err


def _read_meta(archive: Any, path: str) -> Any:
    if META_KEY not in archive.files:
        raise CheckpointError(
            f"{path!r} is not a tinygrad_rnn checkpoint: the .npz has no {META_KEY!r} entry"
        )
    raw = _read_array(archive, META_KEY, path)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path!r}: {META_KEY!r} is not a 1-D uint8 array")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path!r}: {META_KEY!r} is not UTF-8 JSON: {err}") from err
    except (ValueError, RecursionError) as err:  # a number too long to convert, or nesting too deep
        raise CheckpointError(f"{path!r}: {META_KEY!r} is unreadable JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(
            f"{path!r} is not a tinygrad_rnn checkpoint: format tag {found!r}, "
            f"expected {FORMAT!r}"
        )
    # True == 1 in Python, so the type is checked too.
    if type(meta.get("version")) is not int or meta.get("version") != VERSION or "tree" not in meta:
        raise CheckpointError(
            f"{path!r}: unsupported checkpoint version {meta.get('version')!r} "
            f"(this version of tinygrad_rnn reads version {VERSION})"
        )
    return meta["tree"]


def _decode(node: Any, archive: Any, path: str, depth: int = 0, read: set[str] | None = None) -> Any:
    """Rebuild the saved value from a JSON node, reading arrays from ``archive``; ``read``
    holds the arrays read so far (save references each once: repeats would multiply memory)."""
    read = set() if read is None else read
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    tag, payload = next(iter(node.items())) if isinstance(node, dict) and len(node) == 1 else (None, None)
    # save nests containers at most MAX_DEPTH deep: refuse deeper ones before Python's recursion limit
    if (isinstance(node, list) or tag in ("dict", "tuple")) and depth >= MAX_DEPTH:
        raise CheckpointError(f"{path!r}: the metadata nests more than {MAX_DEPTH} levels deep, "
                              "deeper than a checkpoint can be")
    if isinstance(node, list):
        return [_decode(item, archive, path, depth + 1, read) for item in node]
    if tag == "dict" and isinstance(payload, dict):
        return {key: _decode(item, archive, path, depth + 1, read) for key, item in payload.items()}
    if tag == "tuple" and isinstance(payload, list):
        return tuple(_decode(item, archive, path, depth + 1, read) for item in payload)
    if tag == "float" and isinstance(payload, str) and payload in _NON_FINITE:
        return _NON_FINITE[payload]
    if tag == "array" and isinstance(payload, str) and payload != META_KEY:
        if payload not in archive.files:
            raise CheckpointError(
                f"{path!r}: the metadata references array {payload!r}, "
                "which the archive does not contain"
            )
        if payload in read:
            raise CheckpointError(f"{path!r}: the metadata references array {payload!r} twice")
        read.add(payload)
        return _read_array(archive, payload, path)
    raise CheckpointError(f"{path!r}: malformed metadata node {json.dumps(node)[:80]}")


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` and return the same nested dict.

    Dict key order, tuple/list distinction, int/float distinction, non-finite floats and
    every array's dtype, shape and values come back as saved (NumPy scalars come back as
    Python scalars). Raises FileNotFoundError for a missing file and CheckpointError,
    naming the file, for a truncated or corrupted file, a file that is not a tinygrad_rnn
    checkpoint (or of an unsupported version), a pickled array inside, metadata
    referencing arrays that are not there (or one twice), and a member that is not a
    stored ``.npy`` holding the data its header claims (so no file makes ``load``
    allocate more memory than the file's own size).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    _check_archive(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except _ARCHIVE_ERRORS as err:
        raise CheckpointError(f"{path!r} is truncated or corrupted: {err}") from err
    with archive:
        tree = _decode(_read_meta(archive, path), archive, path)
    if not isinstance(tree, dict):
        raise CheckpointError(f"{path!r}: the saved tree is a {type(tree).__name__}, not a dict")
    return tree

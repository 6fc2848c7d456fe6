"""Batches of sequences of different lengths, with PyTorch's names (``torch.nn.utils.rnn``).

``pad_sequence`` joins sequences into one padded batch. A :class:`PackedSequence` holds the
same batch without its padding, so that a recurrent layer given one runs each sequence
for its own length: its last state is taken at the sequence's last real step, and a
reverse direction starts there.

This module imports only NumPy, the Tensor and the ops.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import ops
from ...tensor import Tensor, _leaf, is_grad_enabled

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence"]


def pad_sequence(sequences: Iterable[Tensor | np.ndarray], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of lengths L_i, each ``(L_i, *)``, into one ``(T, B, *)`` batch, T = max L_i.

    As ``torch.nn.utils.rnn.pad_sequence``: ``(B, T, *)`` if ``batch_first``; the shorter
    sequences are filled with ``padding_value`` after their end (``padding_side="right"``)
    or before their start ("left"). Sequences may be Tensors or NumPy arrays (token ids
    keep their integer dtype), all of one dtype and trailing shape; where PyTorch would
    cast silently, this refuses mixed dtypes and a padding value the dtype cannot hold.
    When a sequence requires grad, the batch is built from the engine's ``concatenate``
    and ``stack``, so each sequence receives the gradient of its own entries.

    >>> import numpy as np
    >>> pad_sequence([np.array([5, 6, 7]), np.array([8])], batch_first=True, padding_value=-100).numpy()
    array([[   5,    6,    7],
           [   8, -100, -100]])

    With ``functional.cross_entropy(..., ignore_index=-100)`` on padded targets, the
    padding adds nothing to the loss or its gradient.
    """
    return _padded("pad_sequence", sequences, batch_first, padding_value, padding_side)


def _padded(op: str, sequences, batch_first: bool, padding_value, padding_side: str) -> Tensor:
    """``pad_sequence``'s batch, its errors naming ``op`` (``pack_sequence`` pads through it too)."""
    if isinstance(sequences, (Tensor, np.ndarray, str)) or not isinstance(sequences, Iterable):
        raise TypeError(f"{op}: expected a list of Tensors or arrays, got {type(sequences).__name__}")
    batch_first = _check_flag(op, "batch_first", batch_first)
    if not isinstance(padding_side, str) or padding_side not in ("left", "right"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    _check_number(op, padding_value)
    tensors = []
    for index, sequence in enumerate(sequences):
        if isinstance(sequence, np.ndarray):
            try:
                sequence = Tensor(sequence)
            except (TypeError, ValueError) as error:
                raise TypeError(f"{op}: sequences[{index}]: {error}") from None
        if not isinstance(sequence, Tensor):
            raise TypeError(f"{op}: sequences[{index}] is a {type(sequence).__name__}, "
                            "not a Tensor or an array")
        if sequence.ndim == 0:
            raise ValueError(f"{op}: sequences[{index}] is 0-d; each sequence must be (L, *)")
        tensors.append(sequence)
    if not tensors:
        raise ValueError(f"{op}: got no sequences")
    if len({tensor.shape[1:] for tensor in tensors}) != 1:
        raise ValueError(f"{op}: the sequences must share their shape after the first axis, got "
                         f"shapes {[tensor.shape for tensor in tensors]}")
    if len({tensor.dtype for tensor in tensors}) != 1:
        raise TypeError(f"{op}: the sequences must share one dtype, got "
                        f"{[str(tensor.dtype) for tensor in tensors]}")
    dtype, trailing = tensors[0].dtype, tensors[0].shape[1:]
    fill = _fill(op, padding_value, dtype)
    longest = max(tensor.shape[0] for tensor in tensors)
    before = padding_side == "left"
    if not (is_grad_enabled() and any(tensor.requires_grad for tensor in tensors)):
        out = np.full((len(tensors), longest, *trailing) if batch_first
                      else (longest, len(tensors), *trailing), fill, dtype=dtype)
        for index, tensor in enumerate(tensors):
            length = tensor.shape[0]
            steps = slice(longest - length, None) if before else slice(0, length)
            out[(index, steps) if batch_first else (steps, index)] = tensor.data
        return _leaf(out)
    padded = []
    for tensor in tensors:
        missing = longest - tensor.shape[0]
        if missing:
            padding = Tensor(np.full((missing, *trailing), fill, dtype=dtype))
            tensor = ops.concatenate([padding, tensor] if before else [tensor, padding])
        padded.append(tensor)
    return ops.stack(padded, axis=0 if batch_first else 1)


def _check_flag(op: str, name: str, value) -> bool:
    """``value`` as a bool, or a TypeError: ``batch_first="False"`` is truthy, and would be taken
    for True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def _check_number(op: str, padding_value) -> None:
    if isinstance(padding_value, (bool, np.bool_)) or not isinstance(padding_value, numbers.Real):
        raise TypeError(f"{op}: padding_value must be a number, got {padding_value!r}")


def _fill(op: str, padding_value, dtype: np.dtype) -> np.ndarray:
    """``padding_value`` in ``dtype``, or a ValueError if that dtype cannot hold it."""
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            fill = np.asarray(padding_value).astype(dtype)
    except OverflowError:  # an int beyond int64 (2**70), before any dtype could hold it
        fill = None
    # An integer must be held exactly; a float may round, but not overflow to ±inf (a finite
    # value that PyTorch refuses as well: "cannot be converted ... without overflow").
    overflows = fill is None or (dtype.kind == "f" and np.isinf(fill) and np.isfinite(padding_value))
    if overflows or (dtype.kind != "f" and fill != padding_value):
        raise ValueError(f"{op}: padding_value {padding_value!r} cannot be held by the sequences' "
                         f"dtype {dtype}")
    return fill


# -- packed sequences ------------------------------------------------------------------------------
class PackedSequence(NamedTuple):
    """A batch of sequences without its padding, as ``torch.nn.utils.rnn.PackedSequence``.

    ``data`` holds the steps time-major: the first step of every sequence, then the second
    step of those at least two long, and so on, the sequences ordered from longest to
    shortest; ``batch_sizes[t]`` is how many sequences have a step ``t``. ``sorted_indices``
    maps that order to the batch's (None when the batch was already sorted), and
    ``unsorted_indices`` back. Make one with :func:`pack_padded_sequence` or
    :func:`pack_sequence`; recurrent layers take it in place of a padded input, and
    :func:`pad_packed_sequence` turns their packed output back into a padded batch.
    """

    data: Tensor | np.ndarray
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None = None
    unsorted_indices: np.ndarray | None = None


def _steps(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time step, position in the sorted batch) of every row of a packed ``data``."""
    times = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    starts = np.cumsum(batch_sizes) - batch_sizes
    return times, np.arange(times.size) - np.repeat(starts, batch_sizes)


def check_packed(op: str, sequence) -> np.ndarray:
    """``sequence``'s batch sizes, checked to describe a packed batch that its data fills."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = np.asarray(sequence.batch_sizes)
    if (batch_sizes.ndim != 1 or batch_sizes.dtype.kind not in "iu" or not batch_sizes.size
            or batch_sizes.min() < 1 or np.any(np.diff(batch_sizes) > 0)):
        raise ValueError(f"{op}: batch_sizes must be a non-empty 1-D array of positive ints that "
                         f"never grows, got {batch_sizes.tolist()!r}")
    data = sequence.data
    if not isinstance(data, (Tensor, np.ndarray)) or data.ndim < 1 or data.shape[0] != batch_sizes.sum():
        shape = getattr(data, "shape", type(data).__name__)
        raise ValueError(f"{op}: the packed data must have batch_sizes.sum() = {batch_sizes.sum()} "
                         f"rows, got {shape}")
    batch = int(batch_sizes[0])
    for name in ("sorted_indices", "unsorted_indices"):
        indices = getattr(sequence, name)
        if indices is not None and sorted(np.asarray(indices).tolist()) != list(range(batch)):
            raise ValueError(f"{op}: {name} must be a permutation of the batch's {batch} positions")
    return batch_sizes.astype(np.int64)


def padded_positions(batch_sizes: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """A (T, B) array of the packed row at each step of each sequence, ``batch_sizes.sum()``
    where the sequence has ended; columns are the sorted order, or the batch's through
    ``order`` (``sorted_indices``)."""
    times, rows = _steps(batch_sizes)
    index = np.full((len(batch_sizes), int(batch_sizes[0])), times.size, dtype=np.int64)
    index[times, rows if order is None else np.asarray(order)[rows]] = np.arange(times.size)
    return index


def take_padded(values: Tensor | np.ndarray, index: np.ndarray, fill) -> Tensor | np.ndarray:
    """``values`` with one ``fill`` row appended, at rows ``index`` (an array of any shape):
    for a Tensor, one concatenate and one gather, so each row gets its gradient back."""
    if isinstance(values, np.ndarray):
        return np.concatenate([values, np.full((1, *values.shape[1:]), fill, values.dtype)])[index]
    padding = Tensor(np.full((1, *values.shape[1:]), fill, dtype=values.dtype))
    return ops.concatenate([values, padding])[index]


def pack_padded_sequence(input: Tensor | np.ndarray, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` if ``batch_first``) whose sequence ``b``
    is ``lengths[b]`` steps long, as ``torch.nn.utils.rnn.pack_padded_sequence``.

    ``input`` is a Tensor (the packed data is gathered from it, so gradients flow back) or
    a NumPy array of token ids. With ``enforce_sorted`` the lengths must not increase;
    otherwise the batch is sorted (stably) and the order kept in the result.

    >>> import numpy as np
    >>> packed = pack_padded_sequence(np.array([[1, 4], [2, 0], [3, 0]]), [3, 1])
    >>> packed.data.tolist(), packed.batch_sizes.tolist()
    ([1, 4, 2, 3], [2, 1, 1])
    """
    op = "pack_padded_sequence"
    if not isinstance(input, (Tensor, np.ndarray)):
        raise TypeError(f"{op}: expected a Tensor or a NumPy array, got {type(input).__name__}")
    batch_first = _check_flag(op, "batch_first", batch_first)
    enforce_sorted = _check_flag(op, "enforce_sorted", enforce_sorted)
    layout = "(B, T, *)" if batch_first else "(T, B, *)"
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape {layout}, got shape {input.shape}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    lengths = _lengths(op, lengths, batch, steps)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"{op}: lengths must not increase when enforce_sorted=True, got "
                             f"{lengths.tolist()}; pass enforce_sorted=False to have the batch sorted")
        order, sorted_indices, unsorted_indices = np.arange(batch), None, None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted_indices = order, np.argsort(order)
    sorted_lengths = lengths[order]
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths[0])[:, None]).sum(axis=1)
    times, rows = _steps(batch_sizes)
    columns = order[rows]
    flat = columns * steps + times if batch_first else times * batch + columns
    data = input.reshape(steps * batch, *input.shape[2:])[flat]
    return PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices)


def _lengths(op: str, lengths, batch: int, steps: int) -> np.ndarray:
    try:
        array = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    except ValueError:
        raise ValueError(f"{op}: lengths must be a 1-D sequence of ints, got a ragged "
                         f"{type(lengths).__name__}") from None
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(f"{op}: lengths must be a 1-D sequence of ints, got dtype {array.dtype} "
                        f"and shape {array.shape}")
    if array.size != batch:
        raise ValueError(f"{op}: got {array.size} lengths for a batch of {batch} sequences")
    if array.min() < 1 or array.max() > steps:
        raise ValueError(f"{op}: every length must lie in [1, {steps}] (the input's steps), got "
                         f"{array.tolist()}")
    return array.astype(np.int64)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor | np.ndarray, np.ndarray]:
    """The padded batch ``(T, B, *)`` (``(B, T, *)`` if ``batch_first``) of a packed one, and
    its lengths, in the batch's own order, as ``torch.nn.utils.rnn.pad_packed_sequence``.

    ``T`` is the longest length, or ``total_length`` when given (not less than it).

    >>> import numpy as np
    >>> padded, lengths = pad_packed_sequence(pack_sequence([np.array([1, 2, 3]), np.array([4])]))
    >>> padded.tolist(), lengths.tolist()
    ([[1, 4], [2, 0], [3, 0]], [3, 1])
    """
    op = "pad_packed_sequence"
    batch_sizes = check_packed(op, sequence)
    batch_first = _check_flag(op, "batch_first", batch_first)
    _check_number(op, padding_value)
    steps, data = len(batch_sizes), sequence.data  # data: (steps of all sequences, *features)
    if total_length is not None:
        if isinstance(total_length, (bool, np.bool_)) or not isinstance(total_length, (int, np.integer)):
            raise TypeError(f"{op}: total_length must be an int, got {total_length!r}")
        if total_length < steps:
            raise ValueError(f"{op}: total_length {total_length} is less than the longest "
                             f"sequence's {steps} steps")
        row_bytes = np.dtype(data.dtype).itemsize * math.prod(data.shape[1:])
        if total_length * int(batch_sizes[0]) * max(row_bytes, 1) > np.iinfo(np.intp).max:
            raise ValueError(f"{op}: total_length {total_length} makes a padded batch larger than an "
                             f"array can be")
    index = padded_positions(batch_sizes, sequence.sorted_indices)
    if total_length is not None and total_length > steps:
        index = np.concatenate([index, np.full((total_length - steps, index.shape[1]), data.shape[0])])
    padded = take_padded(data, index.T if batch_first else index, _fill(op, padding_value, data.dtype))
    lengths = (index < data.shape[0]).sum(axis=0)
    return padded, lengths.astype(np.int64)


def pack_sequence(sequences: Iterable[Tensor | np.ndarray], enforce_sorted: bool = True) -> PackedSequence:
    """Pack sequences of lengths L_i, each ``(L_i, *)``, as ``torch.nn.utils.rnn.pack_sequence``:
    ``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)``."""
    sequences = list(sequences) if isinstance(sequences, Iterable) and not isinstance(
        sequences, (Tensor, np.ndarray, str)) else sequences
    _check_flag("pack_sequence", "enforce_sorted", enforce_sorted)
    padded = _padded("pack_sequence", sequences, False, 0.0, "right")
    return pack_padded_sequence(padded, [len(sequence) for sequence in sequences],
                                enforce_sorted=enforce_sorted)

"""Gradient clipping and sequence padding, with PyTorch's names and semantics.

The clipping functions act on the ``.grad`` arrays of the given tensors after
``backward()`` and before ``optimizer.step()``; tensors whose ``grad`` is None are skipped.
``pad_sequence`` joins sequences of different lengths into one padded batch.

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn.nn.utils import clip_grad_norm_
>>> w = tg.Tensor(np.zeros(2), requires_grad=True)
>>> w.grad = np.array([3.0, 4.0])
>>> clip_grad_norm_(w, max_norm=1.0)
5.0
>>> np.round(w.grad, 4)
array([0.6, 0.8])

This module imports only NumPy, the Tensor and the ops, so it can be used without
``nn.module``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from .. import ops
from ..tensor import Tensor, _leaf, is_grad_enabled

__all__ = ["clip_grad_norm_", "clip_grad_value_", "pad_sequence"]

# Added to the total norm before dividing, as PyTorch does, so a zero norm never divides.
_NORM_EPS = 1e-6


def _gradients(parameters: Tensor | Iterable[Tensor], function: str) -> list[np.ndarray]:
    """The non-None ``.grad`` arrays of ``parameters`` (one Tensor or an iterable of them).

    A gradient set by hand to a read-only array (a view such as ``np.broadcast_to``'s) is
    first replaced by a writable copy, so that in-place clipping reaches the tensor; this
    happens for every tensor before any gradient is clipped.
    """
    tensors = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = []
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"{function}: parameters must be a Tensor or an iterable of Tensors, "
                f"item {position} is {type(tensor).__name__}"
            )
        if tensor.grad is None:
            continue
        if not tensor.grad.flags.writeable:
            tensor.grad = tensor.grad.copy()
        if tensor.grad.dtype.kind != "f":
            raise TypeError(f"{function}: item {position}'s grad has dtype {tensor.grad.dtype}; "
                            "gradients are clipped in place and must be floating-point")
        grads.append(tensor.grad)
    return grads


def _real(function: str, name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function}: {name} must be a number, got {value!r}")
    return float(value)


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """||values||_p over all entries (as one flat vector), computed in float64."""
    flat = np.abs(np.asarray(values, dtype=np.float64).ravel())
    if flat.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(flat.max())
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(flat, flat)))
    return float(np.sum(flat**norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Rescale gradients in place so that their joint norm is at most ``max_norm``.

    The total norm is that of all gradients concatenated into one vector,
    ``total = ||(||g_1||_p, ..., ||g_n||_p)||_p`` (``p = norm_type``, which may be
    ``math.inf`` for the largest absolute entry). If ``coef = max_norm / (total + 1e-6)``
    is below 1, every gradient is multiplied by ``coef`` in place; otherwise nothing
    changes. Returns ``total``, measured before clipping.

    A non-finite total (a nan or inf somewhere in a gradient) raises ``RuntimeError``
    when ``error_if_nonfinite`` is true. Otherwise an infinite total scales the
    gradients by 0 (as in PyTorch) and a nan total leaves them untouched (PyTorch
    would multiply them all by nan; the nan is still visible in the returned norm).

    >>> import numpy as np, tinygrad_rnn as tg
    >>> a, b = tg.Tensor(np.zeros(1), requires_grad=True), tg.Tensor(np.zeros(1), requires_grad=True)
    >>> a.grad, b.grad = np.array([3.0]), np.array([-4.0])
    >>> clip_grad_norm_([a, b], max_norm=10.0)  # below max_norm: gradients unchanged
    5.0
    >>> clip_grad_norm_([a, b], max_norm=1.0, norm_type=math.inf)
    4.0
    """
    function = "clip_grad_norm_"
    max_norm = _real(function, "max_norm", max_norm)
    norm_type = _real(function, "norm_type", math.inf if norm_type == "inf" else norm_type)
    if not max_norm >= 0.0:
        raise ValueError(f"{function}: max_norm must be non-negative, got {max_norm}")
    if not norm_type > 0.0:
        raise ValueError(f"{function}: norm_type must be a positive number or inf, got {norm_type}")
    grads = _gradients(parameters, function)
    if not grads:
        return 0.0
    per_grad = np.array([_vector_norm(grad, norm_type) for grad in grads])
    total = _vector_norm(per_grad, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{function}: the total norm of order {norm_type} of the gradients is {total}; "
            "some gradient holds nan or inf. Pass error_if_nonfinite=False to clip anyway."
        )
    coef = max_norm / (total + _NORM_EPS)
    if coef < 1.0:
        with np.errstate(invalid="ignore"):  # an infinite total: inf · 0 is nan there, as in torch
            for grad in grads:
                grad *= coef
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]`` in place.

    This is min-char-rnn's ``np.clip(dparam, -5, 5, out=dparam)`` with ``clip_value=5``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.zeros(3), requires_grad=True)
    >>> w.grad = np.array([-7.0, 0.5, 9.0])
    >>> clip_grad_value_(w, 5.0)
    >>> w.grad
    array([-5. ,  0.5,  5. ])
    """
    function = "clip_grad_value_"
    clip_value = _real(function, "clip_value", clip_value)
    if not clip_value >= 0.0:
        raise ValueError(f"{function}: clip_value must be non-negative, got {clip_value}")
    for grad in _gradients(parameters, function):
        np.clip(grad, -clip_value, clip_value, out=grad)


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
    op = "pad_sequence"
    if isinstance(sequences, (Tensor, np.ndarray, str)) or not isinstance(sequences, Iterable):
        raise TypeError(f"{op}: expected a list of Tensors or arrays, got {type(sequences).__name__}")
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    if isinstance(padding_value, (bool, np.bool_)) or not isinstance(padding_value, numbers.Real):
        raise TypeError(f"{op}: padding_value must be a number, got {padding_value!r}")
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

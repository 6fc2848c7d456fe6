"""Gradient clipping, and (from ``nn.utils.rnn``) padded and packed batches, as ``torch.nn.utils``.

The clipping functions act on the ``.grad`` arrays of the given tensors after
``backward()`` and before ``optimizer.step()``; tensors whose ``grad`` is None are skipped.
``pad_sequence``, ``pack_padded_sequence``, ``pack_sequence``, ``pad_packed_sequence`` and
``PackedSequence`` live in :mod:`tinygrad_rnn.nn.utils.rnn` and are re-exported here.

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

from ...tensor import Tensor
from . import rnn
from .rnn import PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence

__all__ = ["PackedSequence", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence", "rnn"]

# Added to the total norm before dividing, as PyTorch does, so a zero norm never divides.
_NORM_EPS = 1e-6


def _gradients(parameters: Tensor | Iterable[Tensor], function: str) -> list[np.ndarray]:
    """The non-None ``.grad`` arrays of ``parameters`` (one Tensor or an iterable of them).

    A gradient set by hand to a read-only array (a view such as ``np.broadcast_to``'s) is
    first replaced by a writable copy, so that in-place clipping reaches the tensor; this
    happens for every tensor before any gradient is clipped.
    """
    tensors = [parameters] if isinstance(parameters, Tensor) else _listed(function, "parameters", parameters)
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


def _listed(function: str, name: str, items) -> list:
    """``items`` as a list, or a TypeError naming ``function`` when it is not iterable (None, a
    number), where ``list()`` would say only "'NoneType' object is not iterable"."""
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{function}: {name} must be a Tensor or an iterable of them, got "
                        f"{type(items).__name__}") from None


def _real(function: str, name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function}: {name} must be a number, got {value!r}")
    return float(value)


def _vector_norm(values: np.ndarray, norm_type: float, function: str) -> float:
    """||values||_p over all entries (as one flat vector), computed in float64.

    As ``torch.linalg.vector_norm``: ``p = inf`` is the largest absolute entry, ``-inf`` the
    smallest, ``0`` the count of nonzero entries, otherwise ``(sum |v|^p)^(1/p)``; for a
    negative ``p`` a zero entry makes the norm 0.
    """
    flat = np.abs(np.asarray(values, dtype=np.float64).ravel())
    if flat.size == 0:
        if norm_type < 0:
            raise ValueError(f"{function}: a norm of negative order {norm_type} has no value for an "
                             "empty gradient (it would be the smallest of no entries)")
        return 0.0
    if norm_type == math.inf:
        return float(flat.max())
    if norm_type == -math.inf:
        return float(flat.min())
    if norm_type == 0.0:
        return float(np.count_nonzero(flat))
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(flat, flat)))
    with np.errstate(divide="ignore", over="ignore"):  # 0 ** -p is inf, and the norm then 0
        return float(np.sum(flat**norm_type) ** (1.0 / norm_type))


def _foreach(function: str, foreach) -> None:
    """PyTorch's ``foreach`` picks a kernel; here there is one loop, so it only has to be a flag."""
    if foreach is not None and not isinstance(foreach, (bool, np.bool_)):
        raise TypeError(f"{function}: foreach must be None or a bool, got {foreach!r}")


def _norm_order(function: str, norm_type) -> float:
    norm_type = _real(function, "norm_type",
                      math.inf if isinstance(norm_type, str) and norm_type == "inf" else norm_type)
    if math.isnan(norm_type):
        raise ValueError(f"{function}: norm_type must be a number or +-inf, got nan")
    return norm_type


def _total_norm(grads: list[np.ndarray], norm_type: float, error_if_nonfinite: bool,
                function: str) -> float:
    if not grads:
        return 0.0
    per_grad = np.array([_vector_norm(grad, norm_type, function) for grad in grads])
    total = _vector_norm(per_grad, norm_type, function)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{function}: the total norm of order {norm_type} of the gradients is {total}; "
            "some gradient holds nan or inf. Pass error_if_nonfinite=False to go on anyway."
        )
    return total


def _scale(grads: list[np.ndarray], max_norm: float, total: float) -> None:
    coef = max_norm / (total + _NORM_EPS)
    if coef < 1.0:
        with np.errstate(invalid="ignore"):  # an infinite total: inf · 0 is nan there, as in torch
            for grad in grads:
                grad *= coef


def _max_norm(function: str, max_norm) -> float:
    max_norm = _real(function, "max_norm", max_norm)
    if not max_norm >= 0.0:
        raise ValueError(f"{function}: max_norm must be non-negative, got {max_norm}")
    return max_norm


def get_total_norm(
    tensors: Tensor | np.ndarray | Iterable[Tensor | np.ndarray],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> float:
    """The norm of the norms of ``tensors`` (``torch.nn.utils.get_total_norm``).

    For every order but 0 this is the norm of all ``tensors`` laid end to end in one vector;
    for order 0 it counts the tensors that hold a nonzero entry, as PyTorch's does.

    ``tensors`` are the values to measure, usually the gradients:
    ``get_total_norm([p.grad for p in model.parameters() if p.grad is not None])``. Each may
    be a NumPy array or a Tensor (its data). ``norm_type`` and ``error_if_nonfinite`` are as
    in ``clip_grad_norm_``; ``foreach`` is accepted for PyTorch's signature and changes nothing.

    >>> import numpy as np
    >>> get_total_norm([np.array([3.0]), np.array([-4.0])])
    5.0
    """
    function = "get_total_norm"
    _foreach(function, foreach)
    norm_type = _norm_order(function, norm_type)
    items = [tensors] if isinstance(tensors, (Tensor, np.ndarray)) else _listed(function, "tensors", tensors)
    values = []
    for position, item in enumerate(items):
        if not isinstance(item, (Tensor, np.ndarray)):
            raise TypeError(f"{function}: tensors must be Tensors or NumPy arrays, "
                            f"item {position} is {type(item).__name__}")
        values.append(item.data if isinstance(item, Tensor) else item)
    return _total_norm(values, norm_type, error_if_nonfinite, function)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: float,
    foreach: bool | None = None,
) -> None:
    """Scale gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``.

    The second half of ``clip_grad_norm_``, with a total norm computed elsewhere (by
    ``get_total_norm``, perhaps over more tensors), as ``torch.nn.utils.clip_grads_with_norm_``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.zeros(2), requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grads_with_norm_(w, max_norm=1.0, total_norm=10.0)
    >>> np.round(w.grad, 4)
    array([0.3, 0.4])
    """
    function = "clip_grads_with_norm_"
    _foreach(function, foreach)
    max_norm = _max_norm(function, max_norm)
    if isinstance(total_norm, (Tensor, np.ndarray)):
        data = total_norm.data if isinstance(total_norm, Tensor) else total_norm
        if data.size != 1:
            raise ValueError(f"{function}: total_norm must be one number, got shape {data.shape}")
        total_norm = data.reshape(()).item()
    total_norm = _real(function, "total_norm", total_norm)
    _scale(_gradients(parameters, function), max_norm, total_norm)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> float:
    """Rescale gradients in place so that their joint norm is at most ``max_norm``.

    The total norm is ``total = ||(||g_1||_p, ..., ||g_n||_p)||_p`` (``p = norm_type``) with
    the orders of ``torch.linalg.vector_norm``: ``math.inf`` for the largest absolute
    entry, ``-math.inf`` the smallest, negative orders too, each the norm of all gradients
    concatenated into one vector; order ``0`` counts the gradients with a nonzero entry. If
    ``coef = max_norm / (total + 1e-6)`` is below 1, every gradient is multiplied by ``coef``
    in place; otherwise nothing changes. Returns ``total``, measured before clipping, as a
    Python float (PyTorch returns a 0-d tensor). It is ``get_total_norm`` of the gradients
    followed by ``clip_grads_with_norm_``; ``foreach`` is accepted and changes nothing.

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
    _foreach(function, foreach)
    max_norm = _max_norm(function, max_norm)
    norm_type = _norm_order(function, norm_type)
    grads = _gradients(parameters, function)
    total = _total_norm(grads, norm_type, error_if_nonfinite, function)
    _scale(grads, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]`` in place.

    This is min-char-rnn's ``np.clip(dparam, -5, 5, out=dparam)`` with ``clip_value=5``.
    ``foreach`` is accepted for PyTorch's signature and changes nothing.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.zeros(3), requires_grad=True)
    >>> w.grad = np.array([-7.0, 0.5, 9.0])
    >>> clip_grad_value_(w, 5.0)
    >>> w.grad
    array([-5. ,  0.5,  5. ])
    """
    function = "clip_grad_value_"
    _foreach(function, foreach)
    clip_value = _real(function, "clip_value", clip_value)
    if not clip_value >= 0.0:
        raise ValueError(f"{function}: clip_value must be non-negative, got {clip_value}")
    for grad in _gradients(parameters, function):
        np.clip(grad, -clip_value, clip_value, out=grad)

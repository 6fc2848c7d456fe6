"""Gradient clipping, in place, with PyTorch's names and semantics.

Both functions act on the ``.grad`` arrays of the given tensors after ``backward()`` and
before ``optimizer.step()``; tensors whose ``grad`` is None are skipped.

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn.nn.utils import clip_grad_norm_
>>> w = tg.Tensor(np.zeros(2), requires_grad=True)
>>> w.grad = np.array([3.0, 4.0])
>>> clip_grad_norm_(w, max_norm=1.0)
5.0
>>> np.round(w.grad, 4)
array([0.6, 0.8])

This module imports only NumPy and the Tensor, so it can be used without ``nn.module``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

# Added to the total norm before dividing, as PyTorch does, so a zero norm never divides.
_NORM_EPS = 1e-6


def _gradients(parameters: Tensor | Iterable[Tensor], function: str) -> list[np.ndarray]:
    """The non-None ``.grad`` arrays of ``parameters`` (one Tensor or an iterable of them).

    A gradient set by hand to something other than an ndarray (e.g. a NumPy scalar, which is
    immutable) is first replaced by an array, so that in-place clipping reaches the tensor.
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
        if not isinstance(tensor.grad, np.ndarray):
            tensor.grad = np.array(tensor.grad, dtype=tensor.data.dtype)
        grads.append(tensor.grad)
    return grads


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
    max_norm = float(max_norm)
    norm_type = float(norm_type)
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
    clip_value = float(clip_value)
    if not clip_value >= 0.0:
        raise ValueError(f"{function}: clip_value must be non-negative, got {clip_value}")
    for grad in _gradients(parameters, function):
        np.clip(grad, -clip_value, clip_value, out=grad)

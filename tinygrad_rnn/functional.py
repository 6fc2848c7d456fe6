"""Losses and compositions built from ops (no backward code here).

>>> import numpy as np, tinygrad_rnn as tg
>>> logits = tg.Tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = tg.functional.cross_entropy(logits, np.array([0]))
>>> loss.backward()
>>> np.round(logits.grad, 3)          # softmax − one-hot
array([[-0.156,  0.114,  0.042]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from . import rng as _rng
from .tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
# kl_div's: "batchmean" is the sum per sample, the divergence as the math defines it
KL_DIV_REDUCTIONS = ("mean", "batchmean", "sum", "none")

# torch.nn.functional's activations, the ops themselves: F.relu(x), F.tanh(x), F.sigmoid(x).
relu, tanh, sigmoid = ops.relu, ops.tanh, ops.sigmoid


def flag(value, name: str, owner: str) -> bool:
    """``value`` as a bool, or a TypeError naming the argument: ``bias="False"`` is truthy,
    and was taken for True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return bool(value)


def check_reduction(op: str, reduction: str, reductions: tuple[str, ...] = _REDUCTIONS) -> str:
    """``reduction`` if it is one of ``reductions`` ("mean", "sum" or "none" by default), else a
    ValueError naming ``op``."""
    if not isinstance(reduction, str) or reduction not in reductions:
        raise ValueError(f"{op}: reduction must be one of {reductions}, got {reduction!r}")
    return reduction


def check_ignore_index(op: str, ignore_index) -> int:
    """``ignore_index`` as an int, or a TypeError naming ``op``."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r} "
                        f"({type(ignore_index).__name__})")
    return int(ignore_index)


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "batchmean":  # the sum over axis 0's samples; a 0-d loss is one sample, as in torch
        return losses.sum() / losses.shape[0] if losses.ndim else losses.sum()
    return losses.mean()


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Numerically stable softmax along ``axis`` (PyTorch's ``dim``), the last by default."""
    return ops.softmax(x, _one_axis("softmax", axis, dim))


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Numerically stable log-softmax along ``axis`` (PyTorch's ``dim``), the last by default."""
    return ops.log_softmax(x, _one_axis("log_softmax", axis, dim))


def _one_axis(op: str, axis: int | None, dim: int | None) -> int:
    if axis is not None and dim is not None:
        raise TypeError(f"{op}: got both axis= and dim= (NumPy's and PyTorch's name for one "
                        "argument); pass one")
    return -1 if axis is None and dim is None else (dim if axis is None else axis)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over any leading axes, as PyTorch's ``F.linear``.

    ``input`` (*, in) with at least one axis, ``weight`` (out, in), ``bias`` (out,) or
    None; the result is (*, out). Leading axes are flattened first, so the product, and
    the weight's gradient in backward, is one 2-D matrix product (``ops.linear``).
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: input and weight must be Tensors, got {type(input).__name__} "
                        f"and {type(weight).__name__}")
    if input.ndim == 0 or weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input must be (*, in) and weight (out, in), got shapes "
                         f"{input.shape} and {weight.shape}")
    if bias is not None and not isinstance(bias, (Tensor, np.ndarray)):
        raise TypeError(f"linear: bias must be a Tensor, an array or None, got {type(bias).__name__} "
                        f"(weight of shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},) for a weight of shape "
                         f"{weight.shape}, got {bias.shape}")
    if input.ndim == 2:
        return ops.linear(input, weight, bias)
    rows = input.reshape(int(np.prod(input.shape[:-1])), input.shape[-1])  # not -1: in may be 0
    return ops.linear(rows, weight, bias).reshape(*input.shape[:-1], weight.shape[0])


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """PyTorch's ``F.embedding``: the rows of ``weight`` (N, D) at integer ids ``input`` of
    any shape, (..., D); the row ``padding_idx`` gets no gradient (``ops.embedding``).

    >>> import tinygrad_rnn as tg
    >>> weight = tg.Tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
    >>> embedding([1, 0, 1], weight, padding_idx=0).sum().backward()
    >>> weight.grad
    array([[0., 0.],
           [2., 2.]], dtype=float32)
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding: weight must be a Tensor, got {type(weight).__name__}")
    return ops.embedding(weight, input, padding_idx)


def cross_entropy(logits: Tensor, targets, reduction: str = "mean", *, weight=None,
                  ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of ``(..., C)`` logits against integer class targets ``(...)``.

    The loss is −log_softmax(logits)[target], and the gradient with respect to the
    logits is (softmax − one_hot) / N for ``reduction="mean"`` over N predictions,
    with no cancellation between large logits (one node: ``ops.cross_entropy_prechecked``).
    ``reduction``: "mean" | "sum" | "none" (per-prediction losses with the targets' shape).

    As in PyTorch's ``F.cross_entropy`` (whose logits have the classes on axis 1; here
    they are on the last axis):

    * a target equal to ``ignore_index`` (any int, in [0, C) or not) contributes loss 0
      and gradient 0, and is not counted in the mean; other targets must lie in [0, C);
    * ``label_smoothing`` ε in [0, 1] scores each prediction against (1 − ε)·one_hot +
      ε/C instead of the one-hot: loss = (1 − ε)·(−log p_target) + (ε/C)·Σ_c (−log p_c),
      gradient softmax − that distribution;
    * ``weight`` w, a float Tensor or array (C,) with no gradient, weighs the classes:
      loss = (1 − ε)·w[target]·(−log p_target) + (ε/C)·Σ_c w_c·(−log p_c), and "mean"
      divides the sum by Σ w[target] over the kept targets, not by their number (so
      ``cross_entropy(x, t, weight=w)`` is ``nll_loss(log_softmax(x), t, w)`` without
      smoothing). It is cast to the logits' dtype. Unlike PyTorch's, whose third
      positional argument it is, it is keyword-only: here that place is ``reduction``.

    Where PyTorch returns NaN, the mean over no predictions (none given, or all
    ignored) or over weights summing to 0 raises a ValueError here.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> logits = tg.Tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]], requires_grad=True)
    >>> loss = cross_entropy(logits, np.array([0, -100]), label_smoothing=0.1)
    >>> loss.backward()
    >>> np.round(logits.grad, 3)          # the ignored second row gets no gradient
    array([[-0.09 ,  0.081,  0.009],
           [ 0.   ,  0.   ,  0.   ]], dtype=float32)
    """
    op = "cross_entropy"
    check_reduction(op, reduction)
    # A Python int and a float in [0, 1], the usual types, need no conversion: checking just
    # that takes 0.15 us per call where the full checks take 0.7 us (a training step's loss).
    if type(ignore_index) is not int:
        ignore_index = check_ignore_index(op, ignore_index)
    if type(label_smoothing) is not float or not 0.0 <= label_smoothing <= 1.0:
        label_smoothing = check_probability(op, label_smoothing, "label_smoothing")
    target_array, ignored = check_class_targets(op, logits, targets, ignore_index)
    if weight is not None:
        weight = check_class_weight(op, weight, logits.shape[-1]).astype(logits.dtype, copy=False)
    return ops.cross_entropy_prechecked(logits, target_array, reduction, ignored, label_smoothing,
                                        weight)


def check_class_targets(op: str, logits: Tensor, targets, ignore_index: int,
                        name: str = "logits") -> tuple[np.ndarray, int | None]:
    """The checks of a classification loss (``cross_entropy``, ``nll_loss``): ``logits``, called
    ``name`` in messages, a float Tensor (..., C) with C >= 1, and ``targets`` integer class
    indices of shape (...) in [0, C) unless equal to ``ignore_index``.

    Returns the targets as an array and ``ignore_index`` if some target may equal it, else
    None (it lies outside the targets' range: no pass over them is needed to find it).
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(logits).__name__}")
    if logits.ndim == 0 or logits.shape[-1] == 0 or logits.dtype.kind != "f":
        raise ValueError(
            f"{op}: {name} must be a floating-point tensor of shape (..., C) with C >= 1, got "
            f"shape {logits.shape} and dtype {logits.dtype}"
        )
    try:
        target_array = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    except ValueError:  # a ragged list
        raise ValueError(f"{op}: targets must be an array of class indices of shape "
                         f"{logits.shape[:-1]}, got a ragged {type(targets).__name__}") from None
    if target_array.dtype.kind not in "iu" and target_array.size == 0:
        target_array = target_array.astype(np.intp)  # no targets: ``[]`` is as good as integers
    elif target_array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: targets must be integer class indices, got dtype {target_array.dtype} "
            f"({name} shape {logits.shape})"
        )
    if target_array.shape != logits.shape[:-1]:
        raise ValueError(
            f"{op}: targets of shape {target_array.shape} do not match {name} of shape "
            f"{logits.shape}; expected targets of shape {logits.shape[:-1]}"
        )
    classes = logits.shape[-1]
    low, high = (target_array.min(), target_array.max()) if target_array.size else (0, -1)
    if low < 0 or high >= classes:
        outside = (target_array < 0) | (target_array >= classes)
        bad = target_array[outside & (target_array != ignore_index)]
        if bad.size:
            raise ValueError(
                f"{op}: targets must lie in [0, {classes}) for {name} of shape {logits.shape}, "
                f"got {bad[:5].tolist()} (ignore_index={ignore_index} is exempt)"
            )
    # An ignore_index outside [low, high] matches no target: tell the op, which then
    # needs no pass over the targets (the default -100 with valid targets).
    return target_array, (ignore_index if low <= ignore_index <= high else None)


def check_class_weight(op: str, weight, classes: int | None = None) -> np.ndarray | None:
    """``weight`` for a classification loss: None, or a 1-D float Tensor or array (C,) (C =
    ``classes`` if given) as an array. It gets no gradient: one that requires grad is refused,
    as torch refuses it."""
    data = _weight_data(op, weight, "weight", " of one weight per class")
    if data is None:
        return None
    if data.ndim != 1 or (classes is not None and data.shape[0] != classes):
        expected = "(C,)" if classes is None else f"({classes},) for {classes} classes"
        raise ValueError(f"{op}: weight must have shape {expected}, got {data.shape}")
    return data


def _weight_data(op: str, weight, name: str, described: str = "") -> np.ndarray | None:
    """A loss's ``weight`` (called ``name``) as an array: None, or a float Tensor or array
    that gets no gradient (one that requires grad is refused, as torch refuses it)."""
    if weight is None:
        return None
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise ValueError(f"{op}: {name} cannot require grad (the loss is not differentiated with "
                         f"respect to it, as in torch); pass {name}.detach() (shape {weight.shape})")
    data = weight.data if isinstance(weight, Tensor) else weight
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        found = f"dtype {data.dtype}" if isinstance(data, np.ndarray) else type(weight).__name__
        raise TypeError(f"{op}: {name} must be a floating-point Tensor or array{described}, got {found}")
    return data


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``(..., C)`` log-probabilities ``input`` against integer class
    targets ``(...)``, as PyTorch's ``F.nll_loss`` with the classes on the last axis (as
    ``cross_entropy`` has them; for (N, C) and (C,) input that is torch's layout too).

    Each prediction's loss is −w[t] · input[..., t] for its target t, with ``weight`` w (C,)
    (all 1 by default; it gets no gradient); a target equal to ``ignore_index`` gets loss 0
    and weight 0. "mean" divides the sum by Σ w[t] over the kept targets, "sum" sums, "none"
    keeps the targets' shape. So ``nll_loss(log_softmax(x), t)`` is ``cross_entropy(x, t)``.

    Where torch returns nan, a mean over no kept targets or over weights summing to 0 is a
    ValueError here, as in ``cross_entropy``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> log_probs = tg.Tensor(np.log([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]), requires_grad=True)
    >>> loss = nll_loss(log_probs, np.array([0, 1]), weight=np.array([1.0, 3.0, 1.0]))
    >>> loss.backward()
    >>> round(loss.item(), 4), log_probs.grad.tolist()
    (0.3406, [[-0.25, 0.0, 0.0], [0.0, -0.75, 0.0]])
    """
    op = "nll_loss"
    check_reduction(op, reduction)
    ignore_index = check_ignore_index(op, ignore_index)
    target_array, ignored = check_class_targets(op, input, target, ignore_index, "input")
    weights = check_class_weight(op, weight, input.shape[-1])
    count, dtype = target_array.size, input.dtype
    picked = target_array.reshape(-1)
    dropped = None if ignored is None else picked == ignored
    if dropped is not None:
        picked = np.where(dropped, 0, picked)  # any class will do: its scale is 0
    scale = None if weights is None else weights.astype(dtype, copy=False)[picked]
    if dropped is not None:
        scale = np.where(dropped, 0, 1 if scale is None else scale).astype(dtype, copy=False)
    chosen = input.reshape(count, input.shape[-1])[np.arange(count), picked]
    losses = -chosen if scale is None else -(chosen * scale)
    if reduction == "none":
        return losses.reshape(target_array.shape)
    if reduction == "sum":
        return losses.sum()
    total = count if scale is None else float(scale.sum())
    if total == 0:
        kept = count if dropped is None else count - int(np.count_nonzero(dropped))
        cause = (f"no target is kept ({count} given, ignore_index={ignore_index})"
                 if kept == 0 else "the weights of the kept targets sum to 0")
        raise ValueError(f"{op}: the mean is undefined: {cause} (input of shape {input.shape})")
    return losses.sum() / total


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices (...) as one-hot rows (..., num_classes) of an int64 Tensor, as
    PyTorch's ``F.one_hot``; ``num_classes=-1`` takes it as the largest index + 1. The indices
    may be a Tensor, an array or a list of any integer dtype (torch takes int64 alone), and
    must lie in [0, num_classes).

    >>> import numpy as np, tinygrad_rnn as tg
    >>> one_hot(tg.Tensor(np.array([0, 2]))).tolist(), one_hot([1], num_classes=4).tolist()
    ([[1, 0, 0], [0, 0, 1]], [[0, 1, 0, 0]])
    """
    op = "one_hot"
    try:
        indices = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    except ValueError:  # a ragged list
        raise ValueError(f"{op}: the indices must be an array of integers, got a ragged "
                         f"{type(tensor).__name__}") from None
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: the indices must be integers, got dtype {indices.dtype} (shape "
                        f"{indices.shape})")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"{op}: num_classes must be an int, got {num_classes!r}")
    if num_classes != -1 and num_classes < 1:
        raise ValueError(f"{op}: num_classes must be -1 (inferred) or at least 1, got {num_classes}")
    if indices.size == 0 and num_classes == -1:
        raise ValueError(f"{op}: cannot infer num_classes from no indices (shape {indices.shape}); "
                         "give num_classes")
    if indices.size and indices.min() < 0:
        raise ValueError(f"{op}: the indices must be non-negative, got {indices.min()} (shape "
                         f"{indices.shape})")
    classes = int(indices.max()) + 1 if num_classes == -1 else int(num_classes)
    if indices.size and indices.max() >= classes:
        raise ValueError(f"{op}: the indices must be smaller than num_classes={classes}, got "
                         f"{indices.max()} (shape {indices.shape})")
    if indices.size * classes * 8 > np.iinfo(np.intp).max:  # NumPy: "Maximum allowed size exceeded"
        raise ValueError(f"{op}: num_classes={classes} for indices of shape {indices.shape} makes a "
                         f"result larger than an array can be")
    return Tensor((indices[..., None] == np.arange(classes)).astype(np.int64))


def mse_loss(prediction: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean squared error, (prediction − target)², reduced by "mean" | "sum" | "none".

    The shapes must be equal (a broadcast here is almost always a bug, so it is refused).
    """
    op = "mse_loss"
    check_reduction(op, reduction)
    if not isinstance(prediction, Tensor):
        raise TypeError(f"{op}: prediction must be a Tensor, got {type(prediction).__name__}")
    target = _real_target(op, target, prediction, "prediction")
    if target.shape != prediction.shape:
        raise ValueError(
            f"{op}: prediction of shape {prediction.shape} and target of shape "
            f"{target.shape} must have the same shape"
        )
    if prediction.size == 0 and reduction == "mean":
        raise ValueError(f"{op}: the mean of an empty prediction {prediction.shape} is undefined")
    if isinstance(target, np.ndarray):
        target = target.astype(prediction.dtype, copy=False)
    difference = ops.sub(prediction, target)
    return _reduce(ops.mul(difference, difference), reduction)


def _real_target(op: str, target, input: Tensor, name: str) -> Tensor | np.ndarray:
    """A regression loss's ``target``: a Tensor as it is, else an array of real numbers; a str,
    a complex number, None or a ragged list is refused (a TypeError naming ``op`` and
    ``input``, called ``name``), not cast."""
    if isinstance(target, Tensor):
        return target
    try:
        array = np.asarray(target)
    except ValueError:  # ragged nested lists
        array = np.empty(0, dtype=object)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: target must be real numbers (a Tensor, an array or a number), got "
                        f"{type(target).__name__} of dtype {array.dtype} ({name} of shape "
                        f"{input.shape} and dtype {input.dtype})")
    return array


def _elementwise_operands(op: str, input: Tensor, target, reduction: str, float_target: bool = False,
                          reductions: tuple[str, ...] = _REDUCTIONS) -> tuple[Tensor, Tensor]:
    """The checks of an elementwise loss (the BCE losses, l1, smooth_l1, huber, kl_div), at the
    public call: ``reduction`` one of ``reductions``, ``input`` a floating-point Tensor,
    ``target`` real numbers of the same shape (a floating-point dtype with ``float_target``:
    the BCE losses' and kl_div's probabilities, as torch asks), a "mean" over at least one
    element.

    Returns ``(input, target)``: a floating-point Tensor target as it is (it promotes as in
    arithmetic, float32 with float64 giving float64, and gets its gradient), any other target
    as a constant Tensor in the input's dtype.
    """
    check_reduction(op, reduction, reductions)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point Tensor, got dtype {input.dtype} "
                        f"(shape {input.shape})")
    target = _real_target(op, target, input, "input")
    if float_target and target.dtype.kind != "f":
        raise TypeError(f"{op}: target must be floating-point probabilities, got dtype {target.dtype} "
                        f"(input of shape {input.shape} and dtype {input.dtype})")
    if target.shape != input.shape:
        raise ValueError(f"{op}: target size {target.shape} must be the same as input size {input.shape}")
    if input.size == 0 and reduction == "mean":
        raise ValueError(f"{op}: the mean of an empty input {input.shape} is undefined")
    if isinstance(target, Tensor) and target.dtype.kind == "f":
        return input, target
    data = target.data if isinstance(target, Tensor) else target
    return input, Tensor(data.astype(input.dtype, copy=False))


def check_elementwise_weight(op: str, weight, name: str = "weight",
                             shape: tuple[int, ...] | None = None) -> np.ndarray | None:
    """``weight`` (called ``name``) for an elementwise loss: None, or a float Tensor or array
    with no gradient that broadcasts to the input's ``shape`` (if given) without enlarging
    it, as torch requires; returned as an array."""
    data = _weight_data(op, weight, name)
    if data is None or shape is None:
        return data
    try:
        fits = np.broadcast_shapes(data.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {data.shape} does not broadcast to the input's "
                         f"shape {shape}")
    return data


def _weighted(losses: Tensor, weight: np.ndarray | None) -> Tensor:
    return losses if weight is None else losses * weight.astype(losses.dtype, copy=False)


def _softplus(z: Tensor) -> Tensor:
    """log(1 + e^z) = relu(z) + log1p(e^−|z|), which never overflows and keeps a tiny
    e^z (z ≪ 0) exactly, as log(1 + e^z) would not.

    −|z| is written min(z, 0) − relu(z) so that at z = 0 the subgradients (clamp's is 1 at
    its bound, relu's 0) add up to the derivative σ(0) = 1/2; unlike z − 2·relu(z), it
    cannot overflow for z above half the dtype's largest number.
    """
    positive = z.relu()
    return positive + (ops.clamp(z, max=0.0) - positive).exp().log1p()


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, *, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """PyTorch's ``F.binary_cross_entropy_with_logits``: the binary cross-entropy of
    probabilities σ(x) given as logits x, against targets t in [0, 1] of the same shape:

        loss = w · ((1 − t)·x + (1 + (p − 1)·t)·log(1 + e^−x))

    with ``weight`` w and ``pos_weight`` p (the weight of the positive term −t·log σ(x)),
    float Tensors or arrays with no gradient that broadcast to the input's shape, cast to
    its dtype. log(1 + e^−x) is computed without overflow (``_softplus``), so logits of
    ±1e4 give a finite loss and gradient σ(x) − t. ``reduction``: "mean" | "sum" | "none";
    "mean" averages w·loss over the elements (it does not divide by Σ w).

    The target may require grad. Torch's deprecated ``size_average`` and ``reduce`` are
    not offered, so ``reduction`` and ``pos_weight``, which follow them in torch, are
    keyword-only: torch's positional call is a TypeError here, not another loss. Where torch
    returns nan, the mean of an empty input is a ValueError, as in ``mse_loss``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> logits = tg.Tensor([0.0, 2.0, -1e4], requires_grad=True)
    >>> loss = binary_cross_entropy_with_logits(logits, [1.0, 0.0, 1.0], reduction="sum")
    >>> loss.backward()
    >>> round(loss.item(), 2), np.round(logits.grad, 4)          # σ(x) − t
    (10002.82, array([-0.5   ,  0.8808, -1.    ], dtype=float32))
    """
    op = "binary_cross_entropy_with_logits"
    input, target = _elementwise_operands(op, input, target, reduction, float_target=True)
    weight = check_elementwise_weight(op, weight, "weight", input.shape)
    pos_weight = check_elementwise_weight(op, pos_weight, "pos_weight", input.shape)
    log_loss = _softplus(-input)  # −log σ(x)
    if pos_weight is not None:
        log_loss = log_loss * (target * (pos_weight.astype(input.dtype, copy=False) - 1) + 1)
    return _reduce(_weighted((1 - target) * input + log_loss, weight), reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, −100) for p in [0, 1], as torch's BCE clamps it: p = 0 gives −100 and
    gradient 0, where log alone would give −inf and a nan gradient."""
    zero = np.asarray(p.data == 0)  # an array for a 0-d p too, not a NumPy bool
    return p.masked_fill(zero, 1.0).log().masked_fill(zero, -100.0).clamp(min=-100.0)


def _check_probabilities(op: str, name: str, values: Tensor) -> None:
    data = values.data
    outside = np.logical_not((data >= 0) & (data <= 1))  # nan too
    if outside.any():
        raise ValueError(f"{op}: all elements of {name} must lie in [0, 1], got {data[outside][:5].tolist()} "
                         f"({name} of shape {values.shape})")


def binary_cross_entropy(input: Tensor, target, weight=None, *, reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.binary_cross_entropy`` of probabilities x against targets t, both in
    [0, 1] and of the same shape (values outside, or nan, are a ValueError, as in torch):

        loss = −w · (t·max(log x, −100) + (1 − t)·max(log(1 − x), −100))

    with ``weight`` w, a float Tensor or array with no gradient that broadcasts to the
    input's shape, cast to its dtype. ``reduction``: "mean" | "sum" | "none"; "mean"
    averages w·loss over the elements. The clamp at −100 keeps x = 0 and x = 1 finite.

    The gradient is the derivative of that loss (t may require grad too). It is torch's,
    (x − t)/(x(1 − x)), wherever x(1 − x) > 1e-12; closer to 0 or 1 torch divides by 1e-12
    instead, a value no finite difference of the loss gives, and where the clamp holds
    (log x < −100, x = 0) the derivative here is 0. Prefer
    ``binary_cross_entropy_with_logits`` of the logits, which never saturates. As in
    ``binary_cross_entropy_with_logits``, ``reduction`` is keyword-only, and the mean of an
    empty input is a ValueError where torch returns nan.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> probabilities = tg.Tensor([0.5, 0.9, 0.0])
    >>> loss = binary_cross_entropy(probabilities, [1.0, 0.0, 1.0], reduction="none")
    >>> np.round(loss.data, 4)                         # −log 0.5, −log 0.1, the clamp
    array([  0.6931,   2.3026, 100.    ], dtype=float32)
    """
    op = "binary_cross_entropy"
    input, target = _elementwise_operands(op, input, target, reduction, float_target=True)
    _check_probabilities(op, "input", input)
    _check_probabilities(op, "target", target)
    weight = check_elementwise_weight(op, weight, "weight", input.shape)
    losses = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(_weighted(losses, weight), reduction)


def _check_number(op: str, value, name: str) -> None:
    """A TypeError naming ``op`` and ``name`` unless ``value`` is a real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    if isinstance(value, int) and not -_LARGEST_FLOAT <= value <= _LARGEST_FLOAT:  # float() would overflow
        raise ValueError(f"{op}: {name} must be a number a float can hold, got an int of "
                         f"{len(str(abs(value)))} digits")


_LARGEST_FLOAT = float(np.finfo(np.float64).max)


def check_fits_dtype(op: str, value: float, name: str, dtype: np.dtype, allow_infinity: bool = True) -> float:
    """``value`` if the floating ``dtype`` holds it (or it is infinite and ``allow_infinity``),
    else a ValueError naming ``op``: NumPy would round it to ±inf (with an overflow warning) and
    compute with that, where torch refuses it."""
    largest = float(np.finfo(dtype).max)
    if abs(value) > largest and (math.isfinite(value) or not allow_infinity):
        raise ValueError(f"{op}: {name} = {value:g} does not fit the input's dtype {np.dtype(dtype)}, "
                         f"whose largest value is {largest:g}")
    return value


def check_positive(op: str, value, name: str, allow_zero: bool = False) -> float:
    """``value`` as a float > 0 (>= 0 with ``allow_zero``; inf included), or a TypeError or
    ValueError naming ``op`` and ``name``."""
    _check_number(op, value, name)
    if not (value >= 0 if allow_zero else value > 0):  # nan fails both
        raise ValueError(f"{op}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    return float(value)


def _huber(distance: Tensor, delta: float) -> Tensor:
    """distance²/2 below ``delta``, delta·(distance − delta/2) above, for distance = |d| >= 0,
    as m·(distance − m/2) with m = min(distance, delta): one expression, whose gradient,
    m, is continuous at delta and 0 at d = 0 (``abs``'s choice there, as torch's)."""
    nearest = distance.clamp(max=delta)
    return nearest * (distance - 0.5 * nearest)


def l1_loss(input: Tensor, target, *, reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.l1_loss``: |input − target|, reduced by "mean" | "sum" | "none"; the
    gradient of |d| at d = 0 is 0, as torch's.

    The shapes must be equal: torch broadcasts different ones with a warning, refused here as
    ``mse_loss`` refuses them. Both operands may require grad; an integer or bool target is
    taken in the input's dtype. ``reduction`` is keyword-only (torch's next positional
    arguments are the deprecated ``size_average`` and ``reduce``), and the mean of an empty
    input is a ValueError where torch returns nan. Torch 2.13's per-element ``weight`` is not
    offered.

    >>> import tinygrad_rnn as tg
    >>> l1_loss(tg.Tensor([1.0, -2.0, 3.0]), [0.0, 0.0, 3.0]).item()
    1.0
    """
    op = "l1_loss"
    input, target = _elementwise_operands(op, input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target, *, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """PyTorch's ``F.smooth_l1_loss``: for d = input − target, 0.5·d²/beta where |d| < beta and
    |d| − 0.5·beta elsewhere (``huber_loss`` / beta); ``beta`` >= 0, and beta = 0 is
    ``l1_loss``, as in torch. Shapes, dtypes, keyword-only arguments and the empty mean as in
    ``l1_loss``.

    >>> import tinygrad_rnn as tg
    >>> smooth_l1_loss(tg.Tensor([0.5, 3.0]), [0.0, 0.0], reduction="none", beta=1.0).tolist()
    [0.125, 2.5]
    """
    op = "smooth_l1_loss"
    beta = check_positive(op, beta, "beta", allow_zero=True)
    input, target = _elementwise_operands(op, input, target, reduction)
    distance = (input - target).abs()
    if beta < np.finfo(distance.dtype).tiny:  # 0, or below the dtype's normal numbers: l1, within beta/2
        return _reduce(distance, reduction)
    if math.isinf(beta):  # every |d| is below beta: 0, with gradient 0, as torch's
        return _reduce(distance * 0.0, reduction)
    # r·(distance − r·beta/2) with r = min(distance/beta, 1): huber/beta without a product
    # m·(distance − m/2) that underflows for a tiny beta before it is divided by beta.
    ratio = (distance / beta).clamp(max=1.0)
    return _reduce(ratio * (distance - (0.5 * beta) * ratio), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """PyTorch's ``F.huber_loss``: for d = input − target, 0.5·d² where |d| <= delta and
    delta·(|d| − 0.5·delta) elsewhere, ``delta`` > 0 (``smooth_l1_loss`` times delta, with
    beta = delta). Torch's signature has no deprecated arguments, so ``reduction`` and
    ``delta`` are positional, as there; torch 2.13's per-element ``weight`` is not offered.
    Shapes, dtypes and the empty mean as in ``l1_loss``.

    >>> import tinygrad_rnn as tg
    >>> huber_loss(tg.Tensor([0.5, 3.0]), [0.0, 0.0], "none", 2.0).tolist()
    [0.125, 4.0]
    """
    op = "huber_loss"
    delta = check_positive(op, delta, "delta")
    input, target = _elementwise_operands(op, input, target, reduction)
    return _reduce(_huber((input - target).abs(), delta), reduction)


def kl_div(input: Tensor, target, *, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """PyTorch's ``F.kl_div``: the Kullback–Leibler divergence of log-probabilities ``input`` x
    from probabilities ``target`` t of the same shape, pointwise::

        loss = t · (log t − x),   0 where t = 0 (torch's xlogy(t, t) − t·x)
        loss = e^t · (t − x),     with ``log_target``: t log-probabilities too

    reduced by "mean" (over the elements: the divergence over the classes divided by their
    number too; torch warns of it and will make "mean" "batchmean"), "batchmean" (the sum
    divided by ``input.shape[0]``, the divergence per sample; a 0-d input is one sample, so
    its sum, as in torch), "sum" or "none".

    Both operands get gradients, as in torch: −t (−e^t) for x, and log t − x + 1
    (e^t · (t − x + 1)) for t. At t = 0 torch's gradient for t is nan (xlogy's 0/0); here it
    is −x, the t·log t term taken as its limit 0 there. Probabilities must be >= 0 (torch
    gives nan for t < 0, refused here, as is nan). As in ``l1_loss``, the shapes must be
    equal (torch broadcasts others, silently, against its documentation's "same shape"),
    ``reduction`` and ``log_target`` are keyword-only (torch's third and fourth arguments are
    the deprecated ``size_average`` and ``reduce``), and a mean over no elements (or
    "batchmean" over no samples) is a ValueError where torch returns nan.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> log_q = tg.Tensor(np.log([[0.5, 0.5], [0.9, 0.1]]))
    >>> kl_div(log_q, [[1.0, 0.0], [0.5, 0.5]], reduction="none").data.round(4)
    array([[ 0.6931,  0.    ],
           [-0.2939,  0.8047]])
    >>> round(kl_div(log_q, [[1.0, 0.0], [0.5, 0.5]], reduction="batchmean").item(), 4)
    0.602
    """
    op = "kl_div"
    input, target = _elementwise_operands(op, input, target, reduction, float_target=True,
                                          reductions=KL_DIV_REDUCTIONS)
    flag(log_target, "log_target", op)
    if reduction == "batchmean" and input.ndim and input.shape[0] == 0:
        raise ValueError(f"{op}: the batchmean over no samples (input of shape {input.shape}) is "
                         f"undefined")
    if log_target:
        return _reduce(target.exp() * (target - input), reduction)
    negative = np.logical_not(target.data >= 0)  # nan too
    if negative.any():
        raise ValueError(f"{op}: target must be probabilities >= 0 (or log_target=True), got "
                         f"{target.data[negative][:5].tolist()} (target of shape {target.shape})")
    zero = np.asarray(target.data == 0)  # an array for a 0-d target too, not a NumPy bool
    return _reduce(target * (target.masked_fill(zero, 1.0).log() - input), reduction)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, *,
            rng: np.random.Generator | None = None) -> Tensor:
    """PyTorch's ``F.dropout``: while ``training``, each element is zeroed with probability
    ``p`` and the others are scaled by 1/(1 − p), so the expected value is unchanged;
    otherwise (or for p = 0) ``input`` itself is returned.

    The output is ``input * mask`` for one mask drawn from ``rng`` (default: the library's
    generator, see ``tinygrad_rnn.manual_seed``), so the gradient is ``grad * mask``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> x = tg.ones(2, 4)
    >>> y = dropout(x, p=0.5, rng=np.random.default_rng(0))
    >>> sorted(set(y.data.ravel().tolist()))   # dropped, or kept and doubled
    [0.0, 2.0]
    >>> dropout(x, p=0.5, training=False) is x
    True
    """
    op = "dropout"
    input = _float_input(op, input)
    p = check_probability(op, p)
    if not isinstance(training, (bool, np.bool_)):  # training="False" is truthy: it would drop
        raise TypeError(f"{op}: training must be a bool, got {training!r}")
    generator = _rng.resolve(rng, op)  # checked even when nothing is drawn
    if not training or p == 0:
        return input
    keep = generator.random(input.shape) >= p  # never true for p = 1
    return ops.mul(input, (keep * (1 / (1 - p) if p < 1 else 0.0)).astype(input.dtype))


def check_probability(op: str, p, name: str = "p") -> float:
    """``p`` as a float in [0, 1], or a TypeError/ValueError naming ``op`` and ``name``."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number in [0, 1], got {p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: {name} must be in [0, 1], got {p}")
    return float(p)


def _float_input(op: str, input, name: str = "input") -> Tensor:
    """``input`` (called ``name``) if it is a Tensor of floats, else a TypeError naming ``op``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must have a floating-point dtype, got {input.dtype} "
                        f"(shape {input.shape})")
    return input


def check_real(op: str, value, name: str, allow_infinity: bool = False) -> float:
    """``value`` as a float, finite unless ``allow_infinity`` (never nan), or a TypeError or
    ValueError naming ``op`` and ``name``."""
    _check_number(op, value, name)
    if math.isnan(value) or (math.isinf(value) and not allow_infinity):
        raise ValueError(f"{op}: {name} must be a {'' if allow_infinity else 'finite '}number, "
                         f"got {value}")
    return float(value)


# -- more activations: compositions of ops, with PyTorch's values and gradients ----------------
def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """PyTorch's ``F.leaky_relu``: x where x > 0, else negative_slope · x; the gradient is 1
    or negative_slope (negative_slope at 0, as in PyTorch).

    >>> import tinygrad_rnn as tg
    >>> leaky_relu(tg.Tensor([-2.0, 0.0, 3.0]), 0.1).tolist()
    [-0.20000000298023224, 0.0, 3.0]
    """
    op = "leaky_relu"
    x = _float_input(op, input)
    slope = check_real(op, negative_slope, "negative_slope")
    with np.errstate(over="ignore"):  # slope · x for a huge x > 0 is not taken; for x < 0, −inf
        return ops.where(x > 0, x, x * slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """PyTorch's ``F.elu``: x where x > 0, else α(e^x − 1) (``expm1``, exact near 0); the
    gradient is 1, or α·e^x for x <= 0.

    >>> import tinygrad_rnn as tg
    >>> elu(tg.Tensor([-1.0, 2.0], dtype="float64")).tolist()
    [-0.6321205588285577, 2.0]
    """
    op = "elu"
    return _exponential_linear(_float_input(op, input), check_real(op, alpha, "alpha"))


def _exponential_linear(x: Tensor, alpha: float, scale: float = 1.0, input_scale: float = 1.0) -> Tensor:
    """torch's elu kernel, which its elu, celu and selu share: scale · x where x > 0, else
    (alpha · scale) · (e^(input_scale · x) − 1); at 0 the gradient is the second branch's."""
    # e^(input_scale · x) only where x <= 0: the branch where() leaves out must not overflow
    # (its gradient, 0 · inf, would be nan). scale · x, or e^(input_scale · x) for an alpha < 0
    # (celu), may overflow where the value does (to ±inf, as in torch).
    negative = ops.clamp(x, max=0.0)
    with np.errstate(over="ignore"):
        return ops.where(x > 0, x if scale == 1 else x * scale,
                         ops.expm1(negative if input_scale == 1 else negative * input_scale)
                         * (alpha * scale))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """PyTorch's ``F.softplus``: log(1 + e^(βx)) / β, a smooth relu, and x itself where
    βx > ``threshold`` (where the two agree to float precision); the gradient is σ(βx), or 1.

    Computed without overflow and exactly for βx ≪ 0 (``log1p``), for any threshold.

    >>> import tinygrad_rnn as tg
    >>> softplus(tg.Tensor([-50.0, 0.0, 30.0], dtype="float64")).tolist()
    [1.9287498479639178e-22, 0.6931471805599453, 30.0]
    """
    op = "softplus"
    x = _float_input(op, input)
    beta, threshold = check_softplus_options(op, beta, threshold)
    # βx, and the smooth branch divided by β, may overflow where βx is huge: there the
    # identity branch is taken, and the smooth one gets a zero gradient
    with np.errstate(over="ignore"):
        if beta == 1:
            scaled, smooth = x, _softplus(x)
        else:
            scaled = x * beta
            smooth = _softplus(scaled) / beta
    return ops.where(scaled > threshold, x, smooth)


def check_softplus_options(op: str, beta, threshold) -> tuple[float, float]:
    """softplus's ``beta`` (finite, > 0) and ``threshold`` (any number but nan) as floats."""
    return (check_positive(op, check_real(op, beta, "beta"), "beta"),
            check_real(op, threshold, "threshold", allow_infinity=True))


def silu(input: Tensor) -> Tensor:
    """PyTorch's ``F.silu`` (swish): x · σ(x); the gradient is σ(x)(1 + x(1 − σ(x))).

    >>> import tinygrad_rnn as tg
    >>> round(silu(tg.Tensor([1.0], dtype="float64")).item(), 6)
    0.731059
    """
    x = _float_input("silu", input)
    return x * x.sigmoid()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """PyTorch's ``F.gelu``: x · Φ(x), Φ the standard normal CDF (1 + erf(x/√2)) / 2; or,
    with ``approximate="tanh"``, Φ ≈ (1 + tanh(√(2/π)(x + 0.044715 x³))) / 2, at tanh's
    speed rather than ``erfc``'s (see ``ops.erf``).

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([-1.0, 0.0, 2.0], dtype="float64")
    >>> [round(v, 6) for v in gelu(x).tolist()], [round(v, 6) for v in gelu(x, "tanh").tolist()]
    ([-0.158655, 0.0, 1.9545], [-0.158808, 0.0, 1.954598])
    """
    op = "gelu"
    x = _float_input(op, input)
    # Φ without cancellation for x ≪ 0, where 1 + erf(x/√2) or 1 + tanh(u) would lose it
    # (in float32, all of it from x ≈ −6): Φ(x) = erfc(−x/√2) / 2, and (1 + tanh(u)) / 2 = σ(2u)
    if check_gelu_approximate(op, approximate) == "none":
        cdf = (x * (-1 / math.sqrt(2))).erfc() * 0.5
    else:
        # σ(2u) is 0 or 1 in float64 (and its slope 0) beyond |x| = 25; the clamp keeps x³
        # from overflowing there, whose gradient, 0 · inf, would be nan
        z = ops.clamp(x, -25.0, 25.0)
        cdf = ((z + z * z * z * 0.044715) * (2 * math.sqrt(2 / math.pi))).sigmoid()
    return x * cdf  # Φ in [0, 1]: x · (1 + erf) / 2 would overflow near the largest x


def check_gelu_approximate(op: str, approximate) -> str:
    """gelu's ``approximate``: "none" or "tanh", as PyTorch."""
    if not isinstance(approximate, str) or approximate not in ("none", "tanh"):
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate


def logsigmoid(input: Tensor) -> Tensor:
    """PyTorch's ``F.logsigmoid``: log σ(x) = −softplus(−x), without overflow and exact for
    x ≫ 0 (−e^−x, not log of a rounded 1); the gradient is σ(−x), 1/2 at 0.

    >>> import tinygrad_rnn as tg
    >>> logsigmoid(tg.Tensor([-800.0, 0.0, 40.0], dtype="float64")).tolist()
    [-800.0, -0.6931471805599453, -4.248354255291589e-18]
    """
    return -_softplus(-_float_input("logsigmoid", input))


def softsign(input: Tensor) -> Tensor:
    """PyTorch's ``F.softsign``: x / (1 + |x|); the gradient is 1 / (1 + |x|)².

    >>> import tinygrad_rnn as tg
    >>> softsign(tg.Tensor([-3.0, 0.0, 1.0])).tolist()
    [-0.75, 0.0, 0.5]
    """
    x = _float_input("softsign", input)
    return x / (x.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """PyTorch's ``F.tanhshrink``: x − tanh(x); the gradient is tanh²(x).

    >>> import tinygrad_rnn as tg
    >>> round(tanhshrink(tg.Tensor([1.0], dtype="float64")).item(), 6)
    0.238406
    """
    x = _float_input("tanhshrink", input)
    return x - x.tanh()


# mish(x) = x · tanh(softplus(x)) is x itself above 20 (tanh(softplus(x)) rounds to 1 in
# float64) and 0 below −1000 (x · e^x underflows): the product is formed only in between, so
# neither it nor its gradient with respect to tanh, grad · x, can overflow.
_MISH_IDENTITY_ABOVE, _MISH_ZERO_BELOW = 20.0, -1000.0


def mish(input: Tensor) -> Tensor:
    """PyTorch's ``F.mish``: x · tanh(softplus(x)), with the stable softplus (exact for x ≪ 0,
    where mish ≈ x · e^x), finite with finite gradients for every finite x.

    >>> import tinygrad_rnn as tg
    >>> mish(tg.Tensor([-50.0, 0.0, 1.0, 1e300], dtype="float64")).tolist()
    [-9.643749239819589e-21, 0.0, 0.8650983882673103, 1e+300]
    """
    x = _float_input("mish", input)
    z = ops.clamp(x, _MISH_ZERO_BELOW, _MISH_IDENTITY_ABOVE)
    return ops.where(x > _MISH_IDENTITY_ABOVE, x, z * _softplus(z).tanh())


def _clamped_outside(value: Tensor, outside, low: float, high: float) -> Tensor:
    """``value``, but where the bool ``outside`` holds the constant clamp(value, low, high): the
    hard activations' gradient passes only through their middle piece, which ``outside``
    bounds as torch's backward does at each kink (``clamp``'s own passes at its bounds)."""
    return ops.where(outside, ops.clamp(value.detach(), low, high), value)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """PyTorch's ``F.hardtanh``: x clamped to [min_val, max_val]; the gradient is 1 strictly
    between them and 0 elsewhere, the bounds included (torch's choice; ``clamp``'s is 1 there).

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([-2.0, -1.0, 0.5, 3.0], requires_grad=True)
    >>> y = hardtanh(x)
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([-1.0, -1.0, 0.5, 1.0], [0.0, 0.0, 1.0, 0.0])
    """
    op = "hardtanh"
    x = _float_input(op, input)
    low, high = check_hardtanh_range(op, min_val, max_val)
    return _hardtanh(x, check_fits_dtype(op, low, "min_val", x.dtype),
                     check_fits_dtype(op, high, "max_val", x.dtype))


def _hardtanh(x: Tensor, low: float, high: float) -> Tensor:
    return _clamped_outside(x, (x <= low) | (x >= high), low, high)


def check_hardtanh_range(op: str, min_val, max_val) -> tuple[float, float]:
    """hardtanh's ``min_val`` <= ``max_val`` (numbers, ±inf allowed, not nan) as floats."""
    low = check_real(op, min_val, "min_val", allow_infinity=True)
    high = check_real(op, max_val, "max_val", allow_infinity=True)
    if low > high:
        raise ValueError(f"{op}: min_val cannot be greater than max_val, got min_val={low} and "
                         f"max_val={high}")
    return low, high


def relu6(input: Tensor) -> Tensor:
    """PyTorch's ``F.relu6``: min(max(x, 0), 6), ``hardtanh(x, 0, 6)``: gradient 0 at 0 and 6.

    >>> import tinygrad_rnn as tg
    >>> relu6(tg.Tensor([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return _hardtanh(_float_input("relu6", input), 0.0, 6.0)


def _hard_gate(x: Tensor) -> Tensor:
    """hardsigmoid(x) = min(max(x + 3, 0), 6) / 6, its gradient passing on (−3, 3) alone."""
    return _clamped_outside(x + 3.0, (x <= -3) | (x >= 3), 0.0, 6.0) / 6.0


def hardsigmoid(input: Tensor) -> Tensor:
    """PyTorch's ``F.hardsigmoid``: min(max(x + 3, 0), 6) / 6; the gradient is 1/6 on (−3, 3),
    0 elsewhere (at ±3 too, as torch's). In float64 torch's is float32's 1/6; ours is 1/6.

    >>> import tinygrad_rnn as tg
    >>> hardsigmoid(tg.Tensor([-4.0, 0.0, 1.5, 3.0])).tolist()
    [0.0, 0.5, 0.75, 1.0]
    """
    return _hard_gate(_float_input("hardsigmoid", input))


def hardswish(input: Tensor) -> Tensor:
    """PyTorch's ``F.hardswish``: x · hardsigmoid(x); the gradient is x/3 + 1/2 on (−3, 3), 0
    below and 1 above, at −3 and 3 too (torch's choices). Torch computes x · (x + 3) / 6,
    which overflows to inf near the largest x; here the product is formed on x clamped to
    [−3, 3] (where x <= −3 it is 0, its gradient too), and above 3 the result is x itself.

    >>> import tinygrad_rnn as tg
    >>> hardswish(tg.Tensor([-4.0, -1.5, 0.0, 3.0])).tolist()
    [-0.0, -0.375, 0.0, 3.0]
    """
    x = _float_input("hardswish", input)
    z = ops.clamp(x, -3.0, 3.0)
    return ops.where(x >= 3, x, z * _hard_gate(z))


def _shrink(op: str, input, lambd: float, soft: bool) -> Tensor:
    """x minus its part in [−λ, λ]: that part is x inside, and outside ±λ (``soft``: clamp, so
    x ∓ λ is left) or 0 (hard: x is left). The gradient is 0 on [−λ, λ], ±λ included, 1 outside
    and at nan (torch's)."""
    x = _float_input(op, input)
    lambd = check_fits_dtype(op, check_lambd(op, lambd), "lambd", x.dtype)
    inner = ops.clamp(x, -lambd, lambd) if soft else ops.where((x >= -lambd) & (x <= lambd), x, 0.0)
    return x - inner


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """PyTorch's ``F.softshrink``: x − λ above λ, x + λ below −λ, 0 in between (``lambd`` >= 0).

    >>> import tinygrad_rnn as tg
    >>> softshrink(tg.Tensor([-2.0, 0.25, 1.5]), 1.0).tolist()
    [-1.0, 0.0, 0.5]
    """
    return _shrink("softshrink", input, lambd, soft=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """PyTorch's ``F.hardshrink``: x where |x| > λ, else 0 (``lambd`` >= 0; torch also takes a
    negative one, refused here: it would keep every x).

    >>> import tinygrad_rnn as tg
    >>> hardshrink(tg.Tensor([-2.0, 0.25, 1.5]), 1.0).tolist()
    [-2.0, 0.0, 1.5]
    """
    return _shrink("hardshrink", input, lambd, soft=False)


def check_lambd(op: str, lambd) -> float:
    """The shrink functions' ``lambd``: a finite number >= 0, as a float."""
    return check_positive(op, check_real(op, lambd, "lambd"), "lambd", allow_zero=True)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """PyTorch's ``F.celu``: x where x > 0, else α(e^(x/α) − 1), for any finite α but 0 (as
    torch, e^(x/α) is taken as x · (1/α)); the gradient is 1, or e^(x/α) for x <= 0 (1 at 0).

    >>> import tinygrad_rnn as tg
    >>> celu(tg.Tensor([-1.0, 2.0], dtype="float64"), alpha=2.0).tolist()
    [-0.7869386805747332, 2.0]
    """
    op = "celu"
    x = _float_input(op, input)
    alpha = check_fits_dtype(op, check_celu_alpha(op, alpha), "alpha", x.dtype)
    check_fits_dtype(op, 1 / alpha, "1 / alpha", x.dtype, allow_infinity=False)  # the exponent's scale
    return _exponential_linear(x, alpha, input_scale=1 / alpha)


def check_celu_alpha(op: str, alpha) -> float:
    """celu's ``alpha``: a finite number other than 0, as a float."""
    alpha = check_real(op, alpha, "alpha")
    if alpha == 0:
        raise ValueError(f"{op}: alpha cannot be 0 (celu's exponent is x / alpha)")
    return alpha


# selu's constants, as torch's (Klambauer et al., 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor) -> Tensor:
    """PyTorch's ``F.selu``: scale · elu(x, alpha) with ``SELU_ALPHA`` and ``SELU_SCALE``; the
    gradient at 0 is the negative side's, scale · alpha (torch's). Near the largest x the value
    overflows to inf, as torch's does.

    >>> import tinygrad_rnn as tg
    >>> selu(tg.Tensor([-1.0, 0.0, 1.0], dtype="float64")).tolist()
    [-1.1113307378125625, 0.0, 1.0507009873554805]
    """
    return _exponential_linear(_float_input("selu", input), SELU_ALPHA, SELU_SCALE)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """PyTorch's ``F.glu``, the gated linear unit: a · σ(b), where a and b are the first and
    second halves of ``input`` along ``dim``, which must have an even size.

    >>> import tinygrad_rnn as tg
    >>> glu(tg.Tensor([[1.0, 2.0, 0.0, 100.0]])).tolist()
    [[0.5, 2.0]]
    """
    op = "glu"
    x = _float_input(op, input)
    if x.ndim == 0:
        raise ValueError(f"{op}: a 0-d input has no axis to halve (got dim={dim})")
    axis = check_dim(op, dim, x.shape)
    if x.shape[axis] % 2:
        raise ValueError(f"{op}: the halved axis must have an even size, but dim {dim} of the input "
                         f"of shape {x.shape} has size {x.shape[axis]}")
    first, second = x.split(2, axis)
    return first * second.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PyTorch's ``F.prelu``: x where x > 0, else weight · x, with ``weight`` one slope (0-d or
    (1,)) or one per channel, (C,) for C = the size of axis 1 (an input of fewer than 2 axes
    has one channel, as in torch). Both get gradients; at 0, x's is the slope, as torch's.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[-1.0, -1.0], [2.0, -4.0]])
    >>> prelu(x, tg.Tensor([0.5, 0.25])).tolist()
    [[-0.5, -0.25], [2.0, -1.0]]
    """
    op = "prelu"
    x = _float_input(op, input)
    weight = _float_input(op, weight, "weight")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.size not in (1, channels):
        allowed = "1 element" if channels == 1 else f"1 or {channels} elements"
        raise ValueError(f"{op}: weight must be 0-d or 1-D with {allowed} (one slope, or one per "
                         f"channel: axis 1 of the input of shape {x.shape}; fewer than 2 axes are "
                         f"one channel), got shape {weight.shape}")
    if weight.dtype != x.dtype:
        raise ValueError(f"{op}: weight of dtype {weight.dtype} does not match the input's dtype "
                         f"{x.dtype} (shape {x.shape})")
    slope = weight.reshape(()) if weight.size == 1 else weight.reshape(channels, *(1,) * (x.ndim - 2))
    with np.errstate(over="ignore"):  # slope · x for a huge x > 0 is not taken
        return ops.where(x > 0, x, x * slope)


# -- layer normalization ---------------------------------------------------------------------
def check_normalized_shape(op: str, value) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of ints) as a non-empty tuple of sizes >= 1."""
    sizes = (value,) if isinstance(value, (int, np.integer)) else value
    if (not isinstance(sizes, (tuple, list))
            or any(isinstance(size, bool) or not isinstance(size, (int, np.integer)) for size in sizes)):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got {value!r}")
    sizes = tuple(int(size) for size in sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"{op}: normalized_shape must hold at least one size and every size must "
                         f"be at least 1, got {sizes}")
    return sizes


def check_eps(op: str, eps, allow_none: bool = False) -> float | None:
    """A normalization's ``eps``: a finite number >= 0 (as a float), or None if ``allow_none``."""
    if eps is None and allow_none:
        return None
    _check_number(op, eps, "eps")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"{op}: eps must be a finite number >= 0, got {eps}")
    return float(eps)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.layer_norm``: normalization over the last ``len(normalized_shape)``
    axes, which must be ``normalized_shape``; ``weight`` and ``bias`` (that shape, the
    input's dtype) scale and shift the result when given. See ``layer_norm_prechecked``.

    >>> import tinygrad_rnn as tg
    >>> layer_norm(tg.Tensor([[1.0, 2.0, 3.0]]), 3).data.round(3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
    """
    op = "layer_norm"
    x, shape = _normalization_operands(op, input, normalized_shape, weight=weight, bias=bias)
    return layer_norm_prechecked(x, len(shape), weight, bias, check_eps(op, eps))


def _normalization_operands(op: str, input: Tensor, normalized_shape,
                            **parameters: Tensor | None) -> tuple[Tensor, tuple[int, ...]]:
    """The checks of ``layer_norm`` and ``rms_norm``: ``input`` a float Tensor whose last axes
    are ``normalized_shape``, each of the named ``parameters`` None or a Tensor of that shape
    and the input's dtype. Returns the input and ``normalized_shape`` as a tuple."""
    x = _float_input(op, input)
    shape = check_normalized_shape(op, normalized_shape)
    if x.shape[max(x.ndim - len(shape), 0):] != shape:
        raise ValueError(f"{op}: input of shape {x.shape} does not end in normalized_shape {shape}")
    for name, parameter in parameters.items():
        if parameter is None:
            continue
        if not isinstance(parameter, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(parameter).__name__}")
        if parameter.shape != shape or parameter.dtype != x.dtype:
            raise ValueError(f"{op}: {name} must have shape {shape} and the input's dtype {x.dtype}, "
                             f"got shape {parameter.shape} and dtype {parameter.dtype}")
    return x, shape


def layer_norm_prechecked(x: Tensor, axes: int, weight: Tensor | None, bias: Tensor | None,
                          eps: float) -> Tensor:
    """``layer_norm`` over the last ``axes`` axes of ``x``, its arguments already checked
    (by ``layer_norm`` or the ``LayerNorm`` module). With μ and σ² the mean and the biased
    variance over those axes::

        y = (x − μ) / √(σ² + eps) · weight + bias
    """
    over = tuple(range(-axes, 0))
    centered = x - x.mean(axis=over, keepdims=True)
    variance = (centered * centered).mean(axis=over, keepdims=True)
    out = centered * (variance + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """PyTorch's ``F.rms_norm``: root-mean-square normalization over the last
    ``len(normalized_shape)`` axes, which must be ``normalized_shape``; ``weight`` (that
    shape, the input's dtype) scales the result when given. ``eps`` None is the machine
    epsilon of the dtype computed in. See ``rms_norm_prechecked``.

    >>> import tinygrad_rnn as tg
    >>> rms_norm(tg.Tensor([[3.0, -4.0]], dtype="float64"), 2).data.round(6)   # RMS = √12.5
    array([[ 0.848528, -1.131371]])
    """
    op = "rms_norm"
    x, shape = _normalization_operands(op, input, normalized_shape, weight=weight)
    return rms_norm_prechecked(x, len(shape), weight, check_eps(op, eps, allow_none=True), op)


def rms_norm_prechecked(x: Tensor, axes: int, weight: Tensor | None, eps: float | None,
                        op: str = "rms_norm") -> Tensor:
    """``rms_norm`` over the last ``axes`` axes of ``x``, its arguments already checked (by
    ``rms_norm`` or the ``RMSNorm`` module, ``op``) but for ``eps`` fitting the dtype computed
    in, which only the input tells. With the mean over those axes::

        y = x / √(mean(x²) + eps) · weight

    As torch's, float16 is computed in float32, the product with the weight too, and rounded
    once; and ``eps`` None is the machine epsilon of the dtype computed in: float32's (1.2e-7)
    for a float16 input, where torch's documentation says ``torch.finfo(input.dtype).eps``
    (9.8e-4).
    """
    computed = x.astype(np.float32) if x.dtype == np.float16 else x
    if eps is None:
        eps = float(np.finfo(computed.dtype).eps)
    check_fits_dtype(op, eps, "eps", computed.dtype)
    over = tuple(range(-axes, 0))
    out = computed * ((computed * computed).mean(axis=over, keepdims=True) + eps) ** -0.5
    if weight is not None:
        out = out * weight
    return out.astype(x.dtype) if out.dtype != x.dtype else out


# -- normalization and similarity along one axis -----------------------------------------------
def check_dim(op: str, dim, shape: tuple[int, ...] | None = None) -> int | None:
    """``dim`` as an int, or a TypeError naming ``op``. Given a tensor's ``shape``, ``dim`` must
    lie in PyTorch's range [−ndim, ndim) (a 0-d tensor counts as one axis, −1 or 0), else a
    ValueError; returned as an axis in [0, ndim), or None for a 0-d tensor (its whole)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if shape is None:
        return int(dim)
    extent = len(shape) or 1
    if not -extent <= dim < extent:
        raise ValueError(f"{op}: dim {dim} is out of range [{-extent}, {extent - 1}] for shape {shape}")
    return int(dim) % extent if shape else None


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """PyTorch's ``F.normalize``: ``input`` divided by its p-norm along ``dim``, kept from
    falling below ``eps``::

        y = x / max(‖x‖_p, eps),   ‖x‖_p = (Σ |x|^p)^(1/p) along dim

    ``p`` > 0, inf included (max |x|); torch also takes p <= 0, which is no norm, refused
    here. Where ‖x‖_p < eps the denominator is the constant eps (gradient 1/eps); the
    gradient of the norm is ``Tensor.norm``'s, 0 for a zero vector. A 0-d input (dim 0 or
    −1) is its own vector: sign(x) for |x| >= eps. Torch's ``out`` is not offered.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[3.0, -4.0], [0.0, 0.0]])
    >>> normalize(x).tolist(), normalize(x, p=1, dim=0).tolist()
    ([[0.6000000238418579, -0.800000011920929], [0.0, 0.0]], [[1.0, -1.0], [0.0, 0.0]])
    """
    op = "normalize"
    x = _float_input(op, input)
    order = check_positive(op, p, "p")
    axis = check_dim(op, dim, x.shape)
    eps = check_fits_dtype(op, check_eps(op, eps), "eps", x.dtype)
    if math.isinf(order) and axis is not None and x.shape[axis] == 0:
        raise ValueError(f"{op}: the inf norm along dim {dim} is undefined: that axis of the input "
                         f"(shape {x.shape}) is empty, as in torch")
    return x / x.norm(order, axis=axis, keepdims=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """PyTorch 2.13's ``F.cosine_similarity``: the cosine of the angle between ``x1`` and ``x2``
    along ``dim`` of their broadcast shape, which the result drops. Each is divided by its own
    2-norm first, kept from falling below ``eps``::

        y = Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps))   along dim

    (not x1·x2 / max(‖x1‖·‖x2‖, eps), torch's formula before 2.0). Both operands get
    gradients, the derivatives of this value everywhere. Where a norm is below eps they differ
    from torch's: torch clamps the norms in place without recording it, so its gradient there
    treats the constant eps as if it were ‖x‖ (for x1 = (3, 4, 0)·1e-9 against (1, 2, 2)
    torch's gradient for x1 is (1.1, 3.7, 6.7)·1e7 where the derivative of the value,
    x̂2 / eps, is (3.3, 6.7, 6.7)·1e7). As in torch, each operand is divided by its norm in
    its own dtype, and the product promotes (float32 with float64 gives float64).

    >>> import tinygrad_rnn as tg
    >>> x1 = tg.Tensor([[1.0, 0.0], [1.0, 1.0]], dtype="float64")
    >>> cosine_similarity(x1, tg.Tensor([[1.0, 1.0]], dtype="float64")).data.round(6)
    array([0.707107, 1.      ])
    """
    op = "cosine_similarity"
    x1, x2 = _float_input(op, x1, "x1"), _float_input(op, x2, "x2")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast "
                         f"together") from None
    axis = check_dim(op, dim, shape)
    eps = check_eps(op, eps)
    for x in (x1, x2):  # each is divided by its norm in its own dtype
        check_fits_dtype(op, eps, "eps", x.dtype)

    def unit(x: Tensor) -> Tensor:
        x = x.expand(*shape) if x.shape != shape else x
        return x / x.norm(2, axis=axis, keepdims=True).clamp(min=eps)

    return (unit(x1) * unit(x2)).sum(axis=axis)


# -- ctc_loss ----------------------------------------------------------------------------------
def check_blank(op: str, blank, classes: int | None = None) -> int:
    """``blank`` as an int >= 0, below ``classes`` if given, or a TypeError/ValueError naming ``op``."""
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"{op}: blank must be an int, got {blank!r} ({type(blank).__name__})")
    if blank < 0 or (classes is not None and blank >= classes):
        bound = "" if classes is None else f" below C = {classes}"
        raise ValueError(f"{op}: blank must be a class index >= 0{bound}, got {blank}")
    return int(blank)


def _ctc_lengths(op: str, name: str, lengths, count: int, shape: tuple[int, ...],
                 most: int | None = None) -> np.ndarray:
    """``input_lengths`` or ``target_lengths`` (``name``) as an (N,) intp array: integers >= 0
    (at most ``most`` if given), one per sample; a 0-d value for unbatched log_probs too."""
    try:
        data = lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths)
    except ValueError:  # a ragged list
        raise ValueError(f"{op}: {name} must be one integer per sample, got a ragged "
                         f"{type(lengths).__name__}") from None
    if data.dtype.kind not in "iu":  # a float length would be truncated, a bool taken for 0/1
        raise TypeError(f"{op}: {name} must be integers, got dtype {data.dtype} (shape {data.shape})")
    allowed = [(count,)] if len(shape) == 3 else [(), (1,)]
    if data.shape not in allowed:
        raise ValueError(f"{op}: {name} must hold {count} length(s), one per sample of log_probs of "
                         f"shape {shape}, got shape {data.shape}")
    if data.min() < 0:
        raise ValueError(f"{op}: {name} must be >= 0, got {data.min()} (shape {data.shape})")
    if most is not None and data.max() > most:
        raise ValueError(f"{op}: {name} must be at most T = {most} (log_probs of shape {shape}), "
                         f"got {data.max()}")
    return data.reshape(count).astype(np.intp)


def _ctc_labels(op: str, targets, target_lengths: np.ndarray, shape: tuple[int, ...],
                blank: int) -> np.ndarray:
    """The targets as a padded (N, max(target_lengths)) intp array, ``blank`` past each sample's
    length, from padded (N, S) or concatenated (sum(target_lengths),) ``targets``. The labels
    used must lie in [0, C) and differ from ``blank``; padding is ignored, as in torch."""
    try:
        data = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    except ValueError:
        raise ValueError(f"{op}: targets must be an array of class indices, got a ragged "
                         f"{type(targets).__name__}") from None
    if data.dtype.kind not in "iu" and data.size == 0:
        data = data.astype(np.intp)  # no labels: ``[]`` is as good as integers
    elif data.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {data.dtype} "
                        f"(shape {data.shape})")
    count, longest = target_lengths.shape[0], int(target_lengths.max())
    # the shapes are checked before ``used`` is made: a huge target length must be refused, not
    # allocated
    if data.ndim == 1:
        if data.shape[0] != target_lengths.sum():
            raise ValueError(f"{op}: concatenated targets must hold sum(target_lengths) = "
                             f"{target_lengths.sum()} labels, got shape {data.shape}")
    elif data.ndim == 2:
        if data.shape[0] != count or data.shape[1] < longest:
            raise ValueError(f"{op}: padded targets must have shape (N, S) with N = {count} and S >= "
                             f"max(target_lengths) = {longest}, got shape {data.shape}")
    else:
        raise ValueError(f"{op}: targets must be padded (N, S) or concatenated "
                         f"(sum(target_lengths),), got shape {data.shape}")
    used = np.arange(longest) < target_lengths[:, None]  # (N, longest), row-major as concatenated
    values = data if data.ndim == 1 else data[:, :longest][used]
    classes = shape[-1]
    bad = values[(values < 0) | (values >= classes) | (values == blank)]
    if bad.size:
        raise ValueError(f"{op}: targets must be class indices in [0, {classes}) other than "
                         f"blank = {blank}, got {bad[:5].tolist()} (log_probs of shape {shape})")
    labels = np.full((count, longest), blank, dtype=np.intp)
    labels[used] = values
    return labels


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """PyTorch's ``F.ctc_loss``: the Connectionist Temporal Classification loss, −log of the
    total score of every alignment of each target to its input.

    * ``log_probs`` (T, N, C), or (T, C) for one sample: per-step class scores, usually
      ``log_softmax`` outputs. They are not renormalized: any real scores (−inf too) define
      a loss, as in torch.
    * ``targets``: class indices, padded (N, S) with S >= max(target_lengths) (what lies past
      a sample's length is ignored) or concatenated (sum(target_lengths),). Every label used
      lies in [0, C) and is not ``blank`` (torch does not check; it computes nonsense).
    * ``input_lengths`` T_n <= T and ``target_lengths`` S_n: one integer per sample, as a
      sequence, an array or a Tensor; () or (1,) for (T, C) log_probs.

    With l' the target with blanks around and between its labels (l'_s = blank for even
    s, l'_{2k+1} = target_k; length 2S_n + 1) and y_t(c) = log_probs[t, n, c], the
    log-likelihood comes from the alpha recursion over the states s of l'::

        α_{−1}(0) = 0,   α_{−1}(s) = −inf for s > 0              (the empty prefix)
        α_t(s) = logsumexp(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2)) + y_t(l'_s)
                 with the α_{t−1}(s−2) term only where l'_s ≠ blank and l'_s ≠ l'_{s−2}
        loss_n = −logsumexp(α_{T_n−1}(2S_n), α_{T_n−1}(2S_n − 1))

    (the second final state only for S_n >= 1; T_n = 0 gives 0 for an empty target, else
    inf). A sample is impossible, its loss inf, when T_n < S_n + (the number of equal
    neighbours in its target, each needing a blank between) or the scores rule every
    alignment out (−inf); ``zero_infinity`` makes those losses 0. ``reduction``: "mean"
    divides each loss by max(S_n, 1) and averages over the batch, "sum" adds the losses,
    "none" returns them, (N,) (0-d for (T, C) input).

    The likelihood is one fused node, ``ops.ctc_log_likelihood``: the alpha recursion in
    NumPy (float64, looped over time, over the batch and the states at once) forward, the
    beta recursion backward, and the gradient in closed form, the derivative of the loss:
    for loss_n, d/dy_t(c) = −γ_t(c), the share of the total alignment score that passes
    through class c at step t (0 for t >= T_n), and 0 for an impossible sample (tests check
    it against the recursion unrolled from ops and against central differences). Torch's
    differs in two ways. Its gradient for log_probs is exp(y_t(c)) − γ_t(c), the gradient
    for the logits x when log_probs = log_softmax(x): the two agree once backward has passed
    through a log_softmax, but torch's is not the derivative of its own loss in log_probs.
    And without ``zero_infinity`` an impossible sample's gradient is nan in torch.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> log_probs = tg.Tensor(np.log(np.full((2, 1, 2), 0.5)), requires_grad=True)  # T=2, N=1, C=2
    >>> loss = ctc_loss(log_probs, np.array([[1]]), [2], [1])   # "1": paths 11, 1-, -1 of 1/4 each
    >>> round(loss.item(), 6), round(float(-np.log(0.75)), 6)
    (0.287682, 0.287682)
    >>> loss.backward()
    >>> log_probs.grad[:, 0].round(4).tolist()      # -1/3 for blank at each step, -2/3 for class 1
    [[-0.3333, -0.6667], [-0.3333, -0.6667]]
    >>> ctc_loss(log_probs, np.array([[1, 1]]), [2], [2], reduction="none").tolist()  # needs 1-1
    [inf]
    """
    op = "ctc_loss"
    check_reduction(op, reduction)
    zero_infinity = flag(zero_infinity, "zero_infinity", op)
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"{op}: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if log_probs.dtype.kind != "f":
        raise TypeError(f"{op}: log_probs must be a floating-point Tensor, got dtype {log_probs.dtype} "
                        f"(shape {log_probs.shape})")
    shape = log_probs.shape
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{op}: log_probs must be (T, N, C) or, unbatched, (T, C), got shape {shape}")
    if 0 in shape:
        raise ValueError(f"{op}: log_probs must not be empty, got shape {shape}")
    lp = log_probs if log_probs.ndim == 3 else log_probs.unsqueeze(1)
    steps, count, classes = lp.shape
    blank = check_blank(op, blank, classes)
    input_lengths = _ctc_lengths(op, "input_lengths", input_lengths, count, shape, steps)
    target_lengths = _ctc_lengths(op, "target_lengths", target_lengths, count, shape)
    labels = _ctc_labels(op, targets, target_lengths, shape, blank)

    losses = -ops.ctc_log_likelihood(lp, labels, input_lengths, target_lengths, blank)
    if zero_infinity:
        losses = losses.masked_fill(np.isinf(losses.data), 0.0)
    if log_probs.ndim == 2:
        losses = losses[0]
    if reduction == "mean":
        divisor = np.maximum(target_lengths, 1).astype(lp.dtype)
        return (losses / (divisor if log_probs.ndim == 3 else divisor[0])).mean()
    return _reduce(losses, reduction)

"""PyTorch's loss modules over ``functional``'s losses: ``CrossEntropyLoss``, ``NLLLoss``,
``MSELoss``, ``BCEWithLogitsLoss``, ``BCELoss``, ``L1Loss``, ``SmoothL1Loss``, ``HuberLoss``,
``KLDivLoss`` and ``CTCLoss``.

They hold settings, not parameters: the arguments are checked once, when the module is
made, and each call hands them to the functional loss, which checks the inputs.
The weights (``weight``, and ``BCEWithLogitsLoss``'s ``pos_weight``) are buffers of those
names, in ``state_dict`` when given, as in PyTorch.

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
>>> criterion
CrossEntropyLoss(reduction='mean', ignore_index=-100, label_smoothing=0.1)
>>> logits = tg.Tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], requires_grad=True)
>>> loss = criterion(logits, np.array([0, -100]))   # the second prediction is ignored
>>> loss.backward()
>>> round(loss.item(), 4), logits.grad[1].tolist()
(0.3365, [0.0, 0.0, 0.0])
"""

from __future__ import annotations

from .. import functional
from ..tensor import Tensor
from .module import Module, flag


def _register_weight(module: Module, name: str, weight, checked) -> None:
    """Register a loss's ``weight``, already ``checked`` (its array, or None), as the buffer
    ``name``: a Tensor as it is, a NumPy array (which torch does not take) as a Tensor copy,
    None as None."""
    module.register_buffer(name, weight if checked is None or isinstance(weight, Tensor) else Tensor(weight))


def _register_class_weight(module: Module, weight) -> None:
    """Check a loss's per-class ``weight`` (C,) and register it as the buffer ``weight``."""
    _register_weight(module, "weight", weight, functional.check_class_weight(type(module).__name__, weight))


def _register_elementwise_weight(module: Module, name: str, weight) -> None:
    """Check a BCE loss's ``weight`` or ``pos_weight`` (any shape; the input's is checked at
    the call) and register it as the buffer ``name``."""
    checked = functional.check_elementwise_weight(type(module).__name__, weight, name)
    _register_weight(module, name, weight, checked)


def _weight_repr(module: Module) -> str:
    return "" if module.weight is None else f"weight={module.weight.tolist()}, "


class CrossEntropyLoss(Module):
    """``functional.cross_entropy`` as a module: (..., C) logits, integer targets (...),
    optional per-class ``weight`` (C,), with no gradient.

    PyTorch's names and defaults, ``weight`` first; its ``size_average`` and ``reduce`` are
    not offered, so the other settings are keyword-only (torch's second and third
    positional arguments are ``size_average`` and ``ignore_index``: a TypeError here
    rather than a silent mix-up). As in torch, the weight is the buffer ``weight`` (None
    when not given): in ``state_dict``, cast by ``to()``. Unlike PyTorch, the classes are
    on the logits' last axis.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.CrossEntropyLoss(reduction="none")(tg.zeros(2, 4), np.array([1, 3])).shape
    (2,)
    >>> weighted = nn.CrossEntropyLoss(np.array([1.0, 3.0]))
    >>> weighted(tg.zeros(2, 2), np.array([0, 1])).item()   # (1 + 3) log 2 / (1 + 3)
    0.6931471824645996
    >>> list(weighted.state_dict())
    ['weight']
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        owner = type(self).__name__
        _register_class_weight(self, weight)
        self.ignore_index = functional.check_ignore_index(owner, ignore_index)
        self.reduction = functional.check_reduction(owner, reduction)
        self.label_smoothing = functional.check_probability(owner, label_smoothing, "label_smoothing")

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.cross_entropy(input, target, self.reduction, weight=self.weight,
                                        ignore_index=self.ignore_index,
                                        label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"{_weight_repr(self)}reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}")


class NLLLoss(Module):
    """``functional.nll_loss`` as a module: (..., C) log-probabilities, integer targets (...),
    optional per-class ``weight`` (C,), with no gradient.

    PyTorch's names and defaults; its ``size_average`` and ``reduce`` are not offered, so
    ``ignore_index`` and ``reduction`` are keyword-only (torch's third positional argument
    is ``ignore_index``, here a TypeError rather than a silent mix-up). As
    ``CrossEntropyLoss``, the classes are on the last axis. As in torch, the weight is the
    buffer ``weight`` (None when not given): in ``state_dict``, cast by ``to()``. A Tensor
    weight is held as it is; a NumPy array (which torch does not take) as a Tensor copy.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.NLLLoss(weight=np.array([1.0, 2.0]), ignore_index=0)
    >>> criterion
    NLLLoss(weight=[1.0, 2.0], reduction='mean', ignore_index=0)
    >>> criterion(tg.Tensor([[-0.1, -2.3], [-1.2, -0.4]]), np.array([0, 1])).item()
    0.4000000059604645
    >>> criterion.state_dict()
    OrderedDict([('weight', array([1., 2.]))])
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        owner = type(self).__name__
        _register_class_weight(self, weight)
        self.ignore_index = functional.check_ignore_index(owner, ignore_index)
        self.reduction = functional.check_reduction(owner, reduction)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"{_weight_repr(self)}reduction={self.reduction!r}, ignore_index={self.ignore_index}"


class MSELoss(Module):
    """``functional.mse_loss`` as a module: (input − target)², reduced; equal shapes only.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.MSELoss(reduction="sum")(tg.Tensor([1.0, 2.0]), tg.Tensor([0.0, 4.0])).item()
    5.0
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = functional.check_reduction(type(self).__name__, reduction)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """``functional.binary_cross_entropy_with_logits`` as a module: logits and targets in
    [0, 1] of one shape, optional ``weight`` and ``pos_weight`` that broadcast to it, with
    no gradient.

    PyTorch's names and defaults, ``weight`` first; its ``size_average`` and ``reduce`` are
    not offered, so ``reduction`` and ``pos_weight`` are keyword-only (torch's second and
    third positional arguments are ``size_average`` and ``reduce``: a TypeError here rather
    than a silent mix-up). As in torch, both weights are buffers of their names (None when
    not given): in ``state_dict``, cast by ``to()``; a NumPy array is held as a Tensor copy.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.BCEWithLogitsLoss(pos_weight=np.array([3.0]))
    >>> criterion
    BCEWithLogitsLoss(reduction='mean', pos_weight=[3.0])
    >>> round(criterion(tg.zeros(2, 1), np.array([[1.0], [0.0]])).item(), 4)   # (3 + 1) log 2 / 2
    1.3863
    >>> list(criterion.state_dict())
    ['pos_weight']
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__()
        _register_elementwise_weight(self, "weight", weight)
        self.reduction = functional.check_reduction(type(self).__name__, reduction)
        _register_elementwise_weight(self, "pos_weight", pos_weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight)

    def extra_repr(self) -> str:
        pos_weight = "" if self.pos_weight is None else f", pos_weight={self.pos_weight.tolist()}"
        return f"{_weight_repr(self)}reduction={self.reduction!r}{pos_weight}"


class BCELoss(Module):
    """``functional.binary_cross_entropy`` as a module: probabilities and targets in [0, 1] of
    one shape, an optional ``weight`` that broadcasts to it, with no gradient.

    As ``BCEWithLogitsLoss``: ``weight`` first, ``reduction`` keyword-only, the weight the
    buffer ``weight``. Prefer ``BCEWithLogitsLoss`` on the logits: it never saturates.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.BCELoss(np.array([1.0, 2.0]), reduction="sum")
    >>> criterion
    BCELoss(weight=[1.0, 2.0], reduction='sum')
    >>> round(criterion(tg.Tensor([0.5, 0.5]), np.array([1.0, 0.0])).item(), 4)   # (1 + 2) log 2
    2.0794
    """

    def __init__(self, weight=None, *, reduction: str = "mean") -> None:
        super().__init__()
        _register_elementwise_weight(self, "weight", weight)
        self.reduction = functional.check_reduction(type(self).__name__, reduction)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{_weight_repr(self)}reduction={self.reduction!r}"


class L1Loss(Module):
    """``functional.l1_loss`` as a module: |input − target|, reduced; equal shapes only.

    ``reduction`` is keyword-only: torch's first positional argument is ``size_average``.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.L1Loss(reduction="sum")(tg.Tensor([1.0, 2.0]), tg.Tensor([0.0, 4.0])).item()
    3.0
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = functional.check_reduction(type(self).__name__, reduction)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.l1_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class SmoothL1Loss(Module):
    """``functional.smooth_l1_loss`` as a module: quadratic below ``beta`` (>= 0), linear
    above; equal shapes only. ``reduction`` and ``beta`` are keyword-only: torch's first
    positional arguments are ``size_average`` and ``reduce``.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.SmoothL1Loss(beta=0.5)
    >>> criterion
    SmoothL1Loss(reduction='mean', beta=0.5)
    >>> criterion(tg.Tensor([0.25, 2.0]), tg.zeros(2)).item()    # (0.0625 + 1.75) / 2
    0.90625
    """

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        owner = type(self).__name__
        self.reduction = functional.check_reduction(owner, reduction)
        self.beta = functional.check_positive(owner, beta, "beta", allow_zero=True)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(Module):
    """``functional.huber_loss`` as a module: quadratic up to ``delta`` (> 0), linear above;
    equal shapes only. Torch's signature, ``(reduction, delta)``, has no deprecated
    arguments, so both are positional, as there.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.HuberLoss("sum", 0.5)
    >>> criterion
    HuberLoss(reduction='sum', delta=0.5)
    >>> criterion(tg.Tensor([0.25, 2.0]), tg.zeros(2)).item()    # 0.03125 + 0.875
    0.90625
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        owner = type(self).__name__
        self.reduction = functional.check_reduction(owner, reduction)
        self.delta = functional.check_positive(owner, delta, "delta")

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class KLDivLoss(Module):
    """``functional.kl_div`` as a module: log-probabilities and (log_target: log-)probabilities
    of one shape, reduced by "mean", "batchmean", "sum" or "none". ``reduction`` and
    ``log_target`` are keyword-only: torch's first positional arguments are ``size_average``
    and ``reduce``. Unlike torch's, whose repr is ``KLDivLoss()``, the repr names the settings,
    as the other losses' here do.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> criterion = nn.KLDivLoss(reduction="batchmean", log_target=True)
    >>> criterion
    KLDivLoss(reduction='batchmean', log_target=True)
    >>> log_p = tg.Tensor(np.log([[0.5, 0.5]]))
    >>> criterion(log_p, log_p).item()     # no divergence from itself
    0.0
    """

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        owner = type(self).__name__
        self.reduction = functional.check_reduction(owner, reduction, functional.KL_DIV_REDUCTIONS)
        self.log_target = flag(log_target, "log_target", owner)

    def forward(self, input: Tensor, target) -> Tensor:
        return functional.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class CTCLoss(Module):
    """``functional.ctc_loss`` as a module: (T, N, C) (or (T, C)) log-probabilities, padded
    (N, S) or concatenated targets, and the input and target lengths of each sample.

    PyTorch's names, order and defaults, ``(blank, reduction, zero_infinity)``, all
    positional as there (torch's signature has no deprecated arguments). ``blank`` is
    checked against the classes at the call, the other settings here. Unlike torch's, whose
    repr is ``CTCLoss()``, the repr names the settings, as the other losses' here do.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.loss import CTCLoss
    >>> criterion = CTCLoss(blank=2, zero_infinity=True)
    >>> criterion
    CTCLoss(blank=2, reduction='mean', zero_infinity=True)
    >>> log_probs = tg.Tensor(np.log(np.full((3, 2, 3), 1 / 3)))
    >>> criterion(log_probs, np.array([0, 1, 1]), [3, 2], [1, 2]).item()  # (−log(6/27) + 0) / 2
    0.7520386983881371
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__()
        owner = type(self).__name__
        self.blank = functional.check_blank(owner, blank)
        self.reduction = functional.check_reduction(owner, reduction)
        self.zero_infinity = flag(zero_infinity, "zero_infinity", owner)

    def forward(self, log_probs: Tensor, targets, input_lengths, target_lengths) -> Tensor:
        return functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                                   self.reduction, self.zero_infinity)

    def extra_repr(self) -> str:
        return f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"

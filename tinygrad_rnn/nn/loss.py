"""``CrossEntropyLoss``, ``NLLLoss`` and ``MSELoss``: PyTorch's loss modules over ``functional``'s losses.

They hold settings, not parameters: the arguments are checked once, when the module is
made, and each call hands them to the functional loss, which checks the inputs.
The class weight of ``CrossEntropyLoss`` and ``NLLLoss`` is a buffer named ``weight``, in
``state_dict`` when given, as in PyTorch.

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
from .module import Module


def _register_class_weight(module: Module, weight) -> None:
    """Check a loss's per-class ``weight`` and register it as the buffer ``weight``: a Tensor
    as it is, a NumPy array (which torch does not take) as a Tensor copy, None as None."""
    if functional.check_class_weight(type(module).__name__, weight) is not None \
            and not isinstance(weight, Tensor):
        weight = Tensor(weight)
    module.register_buffer("weight", weight)


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

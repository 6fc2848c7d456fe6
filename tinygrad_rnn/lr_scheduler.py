"""Learning-rate schedulers with PyTorch's names, formulas and call order.

A scheduler owns the ``"lr"`` of its optimizer's parameter group. Create it after the
optimizer, then call ``scheduler.step()`` once per epoch (or per step, for a per-step
schedule) *after* ``optimizer.step()``:

>>> import numpy as np, tinygrad_rnn as tg
>>> w = tg.Tensor(np.zeros(2), requires_grad=True)
>>> opt = tg.optim.SGD([w], lr=1.0)
>>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(scheduler.get_last_lr()[0])
...     opt.step()
...     scheduler.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]

As in PyTorch, ``last_epoch`` counts the calls to ``step()`` (the constructor makes
call 0), the first scheduler on an optimizer records the group's starting rate as
``initial_lr`` (the base rate every closed form starts from), and the schedulers that
scale the current rate (:class:`StepLR`, :class:`MultiStepLR`, :class:`ExponentialLR`,
:class:`ConstantLR`, :class:`LinearLR`, :class:`PolynomialLR`, :class:`CosineAnnealingLR`,
:class:`MultiplicativeLR`) may be stacked on one optimizer, their factors multiplying. :class:`LambdaLR` sets
``initial_lr · lr_lambda(last_epoch)``, :class:`CosineAnnealingWarmRestarts` a cosine that
restarts at initial_lr (``step(epoch)`` may take a fractional epoch), :class:`OneCycleLR`
the 1cycle policy per batch (cycling the momentum too), and :class:`ReduceLROnPlateau`
lowers the rate when a measured metric stops improving. :class:`SequentialLR` runs
schedulers one after another (a warm-up, then a decay), each restarting at a milestone.

``state_dict()`` holds only JSON values (numbers, strings, lists and dicts), so it can be
saved in a checkpoint with :func:`tinygrad_rnn.serialization.save`; ``load_state_dict``
validates such a dict and restores the schedule exactly where it was.
"""

from __future__ import annotations

import bisect
import math
import numbers
import types
from collections.abc import Callable, Iterable
from typing import Any

from .optim import Optimizer, _flag
from .optim import _number as _real

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "cosine_annealing",
]


def cosine_annealing(base_lr: float, eta_min: float, epoch: float, period: float) -> float:
    """η_min + (base_lr − η_min)·(1 + cos(π·epoch/period))/2: base_lr at 0, η_min at ``period``.

    >>> cosine_annealing(1.0, 0.0, 5, 10)
    0.5
    """
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / period)) / 2


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``state_dict()``, ``load_state_dict()``.

    A subclass defines ``_next_lrs()``: the group rates after ``last_epoch`` was
    advanced, computed from the current rates (``self._current_lrs()``) or from
    ``self.base_lrs``; during the constructor's call ``self._initial`` is True.
    ``last_epoch = k >= 0`` continues a schedule at epoch k (the group must then hold
    ``"initial_lr"``, e.g. restored by a previous scheduler).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _optimizer(self._name, optimizer)
        last_epoch = _integer(self._name, "last_epoch", last_epoch, minimum=-1)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [index for index, group in enumerate(groups) if "initial_lr" not in group]
            if missing:
                raise ValueError(
                    f"{self._name}: last_epoch={last_epoch} continues a schedule, but "
                    f"param_groups[{missing[0]}] has no 'initial_lr' (a scheduler sets it, and the "
                    "optimizer's state_dict keeps it): load the optimizer's saved state first, or "
                    "start with last_epoch=-1"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's ``step()``, counted from 0, with ``self._initial`` True during it."""
        self._step_count = 0
        self._initial = True
        try:
            self.step()
        finally:
            self._initial = False

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _next_lrs(self) -> list[float]:
        raise NotImplementedError

    def _closed_form_lrs(self) -> list[float]:
        """The rates at ``last_epoch`` computed from ``base_lrs`` (PyTorch's
        ``_get_closed_form_lr``), which :meth:`_restart` sets; a schedule without one gives
        its ``_next_lrs()``, as PyTorch's ``get_lr()`` there."""
        return self._next_lrs()

    def _restart(self) -> None:
        """Start the schedule again at epoch 0, as :class:`SequentialLR` does at a milestone
        (PyTorch's ``_update_lr(0)``: the closed form, and no step counted)."""
        def to_epoch_zero() -> None:
            self.last_epoch = 0

        self._move(to_epoch_zero, self._closed_form_lrs)

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance ``last_epoch`` by one and set the group rates for it.

        A schedule that gives a rate that is not finite and >= 0 (a lambda's factor, or
        gamma > 1 for long) is refused, and the scheduler stays at the epoch it was at.
        """
        self._move(self._advance, self._next_lrs)

    def _advance(self) -> None:
        self._step_count += 1
        self.last_epoch += 1

    def _move(self, advance: Callable[[], None], rule: Callable[[], list[float]]) -> None:
        """Change the position by ``advance()``, then set the rates ``rule()`` gives there;
        if either raises or a rate is not finite and >= 0, the scheduler is put back as it was
        (every attribute) and no rate changes."""
        before = dict(vars(self))
        try:
            advance()
            rates = rule()
            for index, lr in enumerate(rates):
                if not (math.isfinite(lr) and lr >= 0):
                    raise ValueError(f"{self._name}.step: the schedule gives param_groups[{index}] "
                                     f"the rate {lr} at epoch {self.last_epoch}; rates must be finite "
                                     "and >= 0")
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise
        self._apply(rates)

    def _apply(self, rates: list[float]) -> None:
        """Set the groups' rates (checked by ``_move``)."""
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _check_settings(self, where: str) -> None:
        """Validate (and normalize) the subclass's hyperparameters, naming ``where`` in errors;
        constructors call it on their arguments and ``load_state_dict`` on what it loads."""

    def _check_position(self, where: str) -> None:
        """Validate the saved position: epoch counters and rates."""
        self.last_epoch = _integer(where, "last_epoch", self.last_epoch, minimum=-1)
        self._step_count = _integer(where, "_step_count", self._step_count, minimum=0)
        for name in ("base_lrs", "_last_lr"):
            setattr(self, name, [_non_negative(where, name, lr) for lr in getattr(self, name)])

    _unsaved: tuple[str, ...] = ("optimizer", "_initial")
    _any_length: tuple[str, ...] = ()  # saved lists whose length may differ from this one's
    _nullable: tuple[str, ...] = ()  # saved values that may be None or a number

    def _plain_state(self) -> dict[str, Any]:
        return {key: _json_copy(value) for key, value in vars(self).items() if key not in self._unsaved}

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: hyperparameters and position, as JSON values."""
        return self._plain_state()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` of a scheduler of this class (validated first)."""
        expected = self._plain_state()
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        missing, unexpected = set(expected) - set(state_dict), set(state_dict) - set(expected)
        if missing or unexpected:
            raise ValueError(f"{where}: keys do not match {self._name}'s: missing {sorted(missing)}, "
                             f"unexpected {sorted(unexpected)}")
        for key, value in state_dict.items():
            if key in self._nullable and None in (value, expected[key]):
                continue  # None or a number, checked by _check_settings
            _check_like(where, key, value, expected[key], key not in self._any_length)
        previous = dict(vars(self))
        for key, value in state_dict.items():
            setattr(self, key, _json_copy(value))
        try:  # the values must also be ones the constructor would accept
            self._check_settings(where)
            self._check_position(where)
        except (TypeError, ValueError):
            vars(self).clear()
            vars(self).update(previous)
            raise

    def __repr__(self) -> str:
        return f"{self._name}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class _LambdaScheduler(LRScheduler):
    """What :class:`LambdaLR` and :class:`MultiplicativeLR` share: ``lr_lambda``'s checks, its
    factors, and the ``state_dict`` that keeps a callable object's ``__dict__`` (see LambdaLR)."""

    _unsaved = ("optimizer", "_initial", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        groups = len(getattr(optimizer, "param_groups", ()))
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(
                f"{self._name}: expected {groups} lr_lambdas (one per group), got {len(lambdas)}")
        for index, function in enumerate(lambdas):
            if not callable(function):
                raise TypeError(
                    f"{self._name}: lr_lambda[{index}] must be callable, got {type(function).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def _factors(self) -> list[float]:
        """Each group's ``lr_lambda(last_epoch)``, checked to be a finite number."""
        groups = len(self.optimizer.param_groups)
        if groups != len(self.lr_lambdas):  # PyTorch refuses it too
            raise ValueError(f"{self._name}.step: the optimizer has {groups} parameter groups, but this "
                             f"scheduler has {len(self.lr_lambdas)} lr_lambdas (a group was added "
                             f"after it was made?): make a new {self._name}")
        return [_number(self._name, f"lr_lambda({self.last_epoch})", function(self.last_epoch))
                for function in self.lr_lambdas]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None if _is_plain_function(function) else _json_copy(vars(function))
                               for function in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or "lr_lambdas" not in state_dict:
            raise ValueError(f"{where}: expected a dict with 'lr_lambdas' (from state_dict())")
        saved = state_dict["lr_lambdas"]
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(f"{where}: 'lr_lambdas' must be a list of {len(self.lr_lambdas)}, got {saved!r}")
        for index, (function, attributes) in enumerate(zip(self.lr_lambdas, saved)):
            if attributes is None:
                continue
            if not (isinstance(attributes, dict) and all(isinstance(key, str) for key in attributes)):
                raise ValueError(f"{where}: lr_lambdas[{index}] must be None or a dict of attributes "
                                 f"(a callable object's __dict__), got {attributes!r}")
            if not hasattr(function, "__dict__"):
                raise TypeError(f"{where}: lr_lambdas[{index}] holds attributes, but this scheduler's "
                                f"lr_lambda[{index}] ({type(function).__name__}) cannot take them")
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "lr_lambdas"})
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(function).update(attributes)


class LambdaLR(_LambdaScheduler):
    """lr = initial_lr · lr_lambda(last_epoch), e.g. a warm-up: ``lambda e: min(1, (e + 1) / 100)``.

    ``lr_lambda`` is one function for every group or a list with one per group. As in
    PyTorch, ``state_dict()`` stores a callable object's ``__dict__`` but not a plain
    function (None in its place): recreate the scheduler with the same functions before
    loading.
    """

    def _next_lrs(self) -> list[float]:
        return [base_lr * factor for base_lr, factor in zip(self.base_lrs, self._factors())]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply the current rate by ``lr_lambda(epoch)`` at each step (from epoch 1):
    initial_lr · ∏ lr_lambda(i) for i = 1 ... epoch; it scales the current rate, so it stacks.

    ``lr_lambda`` and ``state_dict()`` as in :class:`LambdaLR`.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> opt = tg.optim.SGD([tg.Tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> scheduler = MultiplicativeLR(opt, lambda epoch: 0.5 if epoch % 2 else 1.0)
    >>> for epoch in range(4):
    ...     opt.step()
    ...     scheduler.step()
    >>> scheduler.get_last_lr()  # halved at epochs 1 and 3
    [0.25]
    """

    def _next_lrs(self) -> list[float]:
        if self._initial:  # as PyTorch: the constructor's step keeps the rate, also at last_epoch = k
            return self._current_lrs()
        return [lr * factor for lr, factor in zip(self._current_lrs(), self._factors())]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: initial_lr · γ^⌊epoch/step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size, self.gamma = step_size, gamma
        self._check_settings("StepLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.step_size = _integer(where, "step_size", self.step_size, minimum=1)
        self.gamma = _positive(where, "gamma", self.gamma)

    def _next_lrs(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones`` (once per listing)."""

    _any_length = ("milestones",)

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(
                f"MultiStepLR: milestones must be a list of ints, got {type(milestones).__name__}")
        self.milestones, self.gamma = list(milestones), gamma
        self._check_settings("MultiStepLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.milestones = sorted(_integer(where, "milestones", epoch, minimum=0) for epoch in self.milestones)
        self.gamma = _positive(where, "gamma", self.gamma)

    def _next_lrs(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if not hits:
            return self._current_lrs()
        return [lr * self.gamma ** hits for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        hits = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma ** hits for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: initial_lr · γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        self._check_settings("ExponentialLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.gamma = _positive(where, "gamma", self.gamma)

    def _next_lrs(self) -> list[float]:
        if self._initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs, then hold it (a linear warm-up with the defaults' shape)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        self._check_settings("LinearLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.start_factor = _number(where, "start_factor", self.start_factor)
        self.end_factor = _number(where, "end_factor", self.end_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"{where}: start_factor must be in (0, 1], got {self.start_factor}")
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"{where}: end_factor must be in [0, 1], got {self.end_factor}")
        self.total_iters = _integer(where, "total_iters", self.total_iters, minimum=1)

    def _next_lrs(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        # Scale the current rate (so schedulers stack) by factor(e) / factor(e − 1).
        ratio = self._factor(self.last_epoch) / self._factor(self.last_epoch - 1)
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:  # PyTorch's form (start_factor exactly at 0)
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (start + (end - start) * min(total, self.last_epoch) / total)
                for base_lr in self.base_lrs]

    def _factor(self, epoch: int) -> float:
        # start + (end − start)·e/T, written as a weighted mean: never negative, and exactly
        # end_factor (0 included) at e = T, where the difference form can land on −1e-17.
        return (self.start_factor * (self.total_iters - epoch) + self.end_factor * epoch) / self.total_iters


class ConstantLR(LRScheduler):
    """Scale the rate by ``factor`` for the first ``total_iters`` epochs, then restore it:
    initial_lr · factor before epoch ``total_iters``, initial_lr from it on (a constant warm-up)."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor, self.total_iters = factor, total_iters
        self._check_settings("ConstantLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.factor = _number(where, "factor", self.factor)
        if not 0 < self.factor <= 1:  # PyTorch takes 0, then divides by it at total_iters
            raise ValueError(f"{where}: factor must be in (0, 1], got {self.factor}")
        self.total_iters = _integer(where, "total_iters", self.total_iters, minimum=1)

    def _next_lrs(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]  # PyTorch's rounding

    def _closed_form_lrs(self) -> list[float]:
        factor = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base_lr * factor for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rate to 0 over ``total_iters`` epochs: initial_lr · (1 − epoch/total_iters)^power,
    then hold it at 0 (``power=1`` is a linear decay)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters, self.power = total_iters, power
        self._check_settings("PolynomialLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.total_iters = _integer(where, "total_iters", self.total_iters, minimum=1)
        self.power = _non_negative(where, "power", self.power)  # < 0 would divide by 0 at the end

    def _next_lrs(self) -> list[float]:
        epoch, total = self.last_epoch, self.total_iters
        if self._initial or epoch > total:
            return self._current_lrs()
        # The ratio of consecutive closed-form factors, applied to the current rate (stackable).
        ratio = ((1.0 - epoch / total) / (1.0 - (epoch - 1) / total)) ** self.power
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Follow :func:`cosine_annealing` from initial_lr down to ``eta_min`` over ``T_max``
    epochs (and, continued past ``T_max``, back up: the cosine's period is 2·T_max)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        self._check_settings("CosineAnnealingLR")
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.T_max = _integer(where, "T_max", self.T_max, minimum=1)
        self.eta_min = _non_negative(where, "eta_min", self.eta_min)

    def _next_lrs(self) -> list[float]:
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:  # as PyTorch 2.13: the constructor's step keeps the rate, also at
            return self._current_lrs()  # last_epoch = k (the rate a resumed run holds)
        if (epoch - 1 - period) % (2 * period) == 0:  # at the trough the ratio below is 0/0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        # The ratio of consecutive closed-form steps, applied to the current rate (stackable).
        ratio = (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period))
        return [eta_min + ratio * (lr - eta_min) for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        return [cosine_annealing(base_lr, self.eta_min, self.last_epoch, self.T_max)
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR's cosine with warm restarts: :func:`cosine_annealing` from initial_lr down to
    ``eta_min`` over a period of ``T_i`` epochs, then back to initial_lr; the first period is
    ``T_0`` epochs, each next one ``T_mult`` times longer.

    lr = cosine_annealing(initial_lr, eta_min, T_cur, T_i), where ``T_cur`` counts the epochs
    since the last restart. As in PyTorch, ``step(epoch)`` moves to ``epoch`` directly, and
    ``epoch`` may be fractional (e.g. ``epoch + batch / batches``, to anneal within an epoch);
    ``last_epoch`` is then ⌊epoch⌋, and a later ``step()`` adds 1 to ``T_cur``:

    >>> import numpy as np, tinygrad_rnn as tg
    >>> opt = tg.optim.SGD([tg.Tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> scheduler = CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> rates = []
    >>> for half_epochs in range(1, 6):
    ...     opt.step()
    ...     scheduler.step(half_epochs / 2)
    ...     rates.append(round(scheduler.get_last_lr()[0], 4))
    >>> rates  # the restart at epoch 2
    [0.8536, 0.5, 0.1464, 1.0, 0.8536]
    >>> scheduler.step()  # T_cur 1.5: the epoch 2.5 + 1
    >>> (scheduler.last_epoch, scheduler.T_cur, round(scheduler.get_last_lr()[0], 4))
    (3, 1.5, 0.1464)
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self._check_settings("CosineAnnealingWarmRestarts")
        self.T_i = self.T_0
        self.T_cur = last_epoch  # PyTorch's start: the constructor's step moves it on
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.T_0 = _integer(where, "T_0", self.T_0, minimum=1)
        self.T_mult = _integer(where, "T_mult", self.T_mult, minimum=1)
        self.eta_min = _non_negative(where, "eta_min", self.eta_min)

    def _check_position(self, where: str) -> None:
        super()._check_position(where)
        self.T_i = _integer(where, "T_i", self.T_i, minimum=1)
        # torch's period index can round T_cur to just below 0 (see _go_to): any finite value
        self.T_cur = _number(where, "T_cur", self.T_cur)

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or with ``epoch`` (a number >= 0, fractional or not) go to it."""
        if epoch is not None:
            epoch = _non_negative(f"{self._name}.step", "epoch", epoch)
        self._move(lambda: self._go_to(epoch), self._next_lrs)

    def _go_to(self, epoch: float | None) -> None:
        """PyTorch's update of T_cur and T_i for ``step(epoch)``."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:  # period n starts at epoch T_0·(T_mult^n − 1)/(T_mult − 1) and lasts T_0·T_mult^n;
            # as torch, n is int(log(...)), which can round down at a restart (epoch 121 of T_0=1,
            # T_mult=3 gives period 4's end, eta_min, where period 5 starts at initial_lr)
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)

    def _next_lrs(self) -> list[float]:
        return [cosine_annealing(base_lr, self.eta_min, self.T_cur, self.T_i) for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith's super-convergence; fastai's two phases by default), stepped
    once per batch: the rate rises from ``max_lr / div_factor`` (initial_lr) to ``max_lr`` over
    the first ``pct_start`` of ``total_steps``, then anneals to ``initial_lr / final_div_factor``
    at step ``total_steps − 1``; the momentum moves the opposite way, between ``max_momentum``
    and ``base_momentum``. ``three_phase=True`` is the paper's: up, back down to initial_lr over
    as many steps, then on to the minimum. ``anneal_strategy`` is "cos" or "linear".

    ``total_steps`` may be given as ``epochs`` and ``steps_per_epoch``. As in PyTorch, the
    constructor sets each group's ``initial_lr`` (at ``last_epoch=-1``), and ``step()`` may be
    called ``total_steps`` times, so that a loop over the batches can step after each; one
    more is a ValueError. That last call, after the last batch, keeps the final rate and
    momentum, where PyTorch extrapolates the last phase past its end (its cosine climbs back
    up, its line goes below 0, and pct_start=1 divides by 0), the only step at which the two
    differ. With ``cycle_momentum`` the optimizer's ``"momentum"`` (SGD, RMSprop) or the first
    of its ``"betas"`` (Adam, AdamW, Adamax, NAdam, RAdam) is set at every step, and its next
    step uses it.
    PyTorch also writes max_lr, min_lr and the momentums into the groups; here the scheduler
    holds them (``max_lrs``, ``max_momentums``, ``base_momentums``), as a group holds only its
    optimizer's hyperparameters. The schedule does not scale the current rate: not stackable.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> opt = tg.optim.SGD([tg.Tensor(np.zeros(1), requires_grad=True)], lr=0.1, momentum=0.9)
    >>> scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    >>> lrs, momentums = [], []
    >>> for batch in range(10):
    ...     lrs.append(round(opt.param_groups[0]["lr"], 4))
    ...     momentums.append(round(opt.param_groups[0]["momentum"], 4))
    ...     opt.step()
    ...     scheduler.step()
    >>> lrs  # up to max_lr at step 2 (pct_start · 10 − 1), down to 0.04 / 1e4 at step 9
    [0.04, 0.52, 1.0, 0.8571, 0.7143, 0.5714, 0.4286, 0.2857, 0.1429, 0.0]
    >>> momentums
    [0.95, 0.9, 0.85, 0.8643, 0.8786, 0.8929, 0.9071, 0.9214, 0.9357, 0.95]
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        name = "OneCycleLR"
        _optimizer(name, optimizer)
        last_epoch = _integer(name, "last_epoch", last_epoch, minimum=-1)  # before `last_epoch == -1`
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch (total_steps = "
                                 "epochs · steps_per_epoch)")
            total_steps = (_integer(name, "epochs", epochs, minimum=1)
                           * _integer(name, "steps_per_epoch", steps_per_epoch, minimum=1))
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy = anneal_strategy  # PyTorch's _anneal_func_type
        self.max_lrs = _per_group(name, "max_lr", max_lr, optimizer)
        self.div_factor, self.final_div_factor = div_factor, final_div_factor
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        self.max_momentums = _per_group(name, "max_momentum", max_momentum, optimizer)
        self.base_momentums = _per_group(name, "base_momentum", base_momentum, optimizer)
        self._check_settings(name)
        if cycle_momentum and not ({"momentum", "betas"} & set(optimizer.defaults)):
            raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with a 'momentum' or 'betas' "
                             f"hyperparameter (SGD, RMSprop, the Adam family); {type(optimizer).__name__} "
                             "has neither: pass cycle_momentum=False")
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, self.max_lrs):
                group["initial_lr"] = top / self.div_factor
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, where: str) -> None:
        self.total_steps = _integer(where, "total_steps", self.total_steps, minimum=1)
        self.pct_start = _number(where, "pct_start", self.pct_start)
        if not 0 <= self.pct_start <= 1:
            raise ValueError(f"{where}: pct_start must be in [0, 1], got {self.pct_start}")
        if not isinstance(self.anneal_strategy, str) or self.anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{where}: anneal_strategy must be 'cos' or 'linear', got {self.anneal_strategy!r}")
        for flag in ("three_phase", "cycle_momentum", "use_beta1"):
            setattr(self, flag, _flag(where, flag, getattr(self, flag)))
        self.max_lrs = [_non_negative(where, "max_lr", lr) for lr in self.max_lrs]
        self.div_factor = _positive(where, "div_factor", self.div_factor)
        self.final_div_factor = _positive(where, "final_div_factor", self.final_div_factor)
        for name in ("max_momentum", "base_momentum"):
            values = [_non_negative(where, name, value) for value in getattr(self, name + "s")]
            if self.use_beta1 and any(value >= 1 for value in values):  # Adam's betas[0] is < 1
                raise ValueError(f"{where}: {name} must be < 1 with betas (Adam's beta1), got {values}")
            setattr(self, name + "s", values)
        self._position(0, where)  # the constructor's step, refused here rather than there

    def _phases(self) -> list[dict[str, Any]]:
        """PyTorch's phases: the step each ends at, the values it anneals from and to."""
        steps, pct = self.total_steps, self.pct_start
        rise = {"end_step": float(pct * steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
        if not self.three_phase:
            return [rise, {"end_step": steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                           "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]
        return [rise,
                {"end_step": float(2 * pct * steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]

    def _position(self, step: int, where: str) -> tuple[dict[str, Any], float]:
        """The phase ``step`` falls in, and the fraction of it done (as PyTorch finds them)."""
        phases, start = self._phases(), 0.0
        for index, phase in enumerate(phases):
            end = phase["end_step"]
            if step <= end or index == len(phases) - 1:
                if end == start:  # PyTorch divides 0 by 0 here
                    raise ValueError(
                        f"{where}: with pct_start={self.pct_start} and total_steps={self.total_steps}, "
                        f"phase {index + 1} starts and ends at step {end}, so step {step} has no place "
                        "in it (pct_start · total_steps must not be 1)")
                return phase, (step - start) / (end - start)
            start = end
        raise AssertionError("unreachable: the last phase takes every step")

    def _annealed(self, kind: str) -> list[float]:
        """Each group's ``kind`` ("lr" or "momentum") at step ``last_epoch`` (the final step's
        at step total_steps, see the class docstring)."""
        step = min(self.last_epoch, self.total_steps - 1)
        phase, pct = self._position(step, f"{self._name}.step")
        start, end = phase[f"start_{kind}"], phase[f"end_{kind}"]
        values = [{"initial_lr": base_lr, "max_lr": top, "min_lr": base_lr / self.final_div_factor,
                   "max_momentum": high, "base_momentum": low}
                  for base_lr, top, high, low in zip(self.base_lrs, self.max_lrs, self.max_momentums,
                                                     self.base_momentums)]
        return [self._anneal(group[start], group[end], pct) for group in values]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        """From ``start`` (pct 0) to ``end`` (pct 1): half a cosine, or a line."""
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _next_lrs(self) -> list[float]:
        if self.last_epoch > self.total_steps:
            raise ValueError(f"{self._name}.step: stepped {self.last_epoch} times, past total_steps="
                             f"{self.total_steps}: make a new OneCycleLR (or a larger total_steps) to "
                             "train longer")
        return self._annealed("lr")

    def _apply(self, rates: list[float]) -> None:
        super()._apply(rates)
        if self.cycle_momentum:
            for group, momentum in zip(self.optimizer.param_groups, self._annealed("momentum")):
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` once ``metric`` has not improved for more than
    ``patience`` calls of ``step(metric)``; then wait ``cooldown`` calls before counting again.

    ``mode`` "min" (a loss) or "max" (an accuracy); "improved" means better than the best
    so far by ``threshold``, relative (``threshold_mode="rel"``: below best·(1 − threshold))
    or absolute ("abs": below best − threshold). Rates never go below ``min_lr`` (one
    number, or a list with one per group), and a change smaller than ``eps`` is skipped. As
    in PyTorch, a group added to the optimizer later is reduced too, down to ``min_lr`` if
    that was one number; with a list, ``min_lrs`` must then be given one more entry.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> opt = tg.optim.SGD([tg.Tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> plateau = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for val_loss in (3.0, 2.0, 2.5, 2.4, 2.3):
    ...     plateau.step(val_loss)
    >>> plateau.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0.0, eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        self.optimizer = _optimizer(name, optimizer)
        min_lrs = _per_group(name, "min_lr", min_lr, optimizer)
        self.mode, self.threshold_mode, self.factor, self.min_lrs = mode, threshold_mode, factor, min_lrs
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr  # PyTorch's name
        self.threshold, self.patience, self.cooldown, self.eps = threshold, patience, cooldown, eps
        self._check_settings(name)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def _check_settings(self, where: str) -> None:
        if not isinstance(self.mode, str) or self.mode not in ("min", "max"):
            raise ValueError(f"{where}: mode must be 'min' or 'max', got {self.mode!r}")
        if not isinstance(self.threshold_mode, str) or self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{where}: threshold_mode must be 'rel' or 'abs', got {self.threshold_mode!r}")
        self.factor = _number(where, "factor", self.factor)
        if not 0 <= self.factor < 1:
            raise ValueError(f"{where}: factor must be in [0, 1), got {self.factor}")
        self.min_lrs = [_number(where, "min_lr", value) for value in self.min_lrs]
        if self.default_min_lr is not None:
            self.default_min_lr = _number(where, "min_lr", self.default_min_lr)
        self.threshold = _number(where, "threshold", self.threshold)
        self.patience = _integer(where, "patience", self.patience, minimum=0)
        self.cooldown = _integer(where, "cooldown", self.cooldown, minimum=0)
        self.eps = _number(where, "eps", self.eps)

    def _check_position(self, where: str) -> None:
        self.last_epoch = _integer(where, "last_epoch", self.last_epoch, minimum=0)
        self.num_bad_epochs = _integer(where, "num_bad_epochs", self.num_bad_epochs, minimum=0)
        self.cooldown_counter = _integer(where, "cooldown_counter", self.cooldown_counter, minimum=0)
        self.best = _real(where, "best", self.best)  # ±inf before the first measurement
        if math.isnan(self.best):
            raise ValueError(f"{where}: best must be a number, got nan")
        self._last_lr = [_non_negative(where, "_last_lr", lr) for lr in self._last_lr]

    _unsaved = ("optimizer",)
    _nullable = ("default_min_lr",)

    def _is_better(self, value: float) -> bool:
        sign = 1 if self.mode == "max" else -1  # the direction of an improvement
        if self.threshold_mode == "rel":
            bar = self.best * (1 + sign * self.threshold)
        else:
            bar = self.best + sign * self.threshold
        return value > bar if self.mode == "max" else value < bar

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record one measurement of the watched metric (e.g. the validation loss)."""
        try:
            value = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got {metrics!r}") from None
        groups = len(self.optimizer.param_groups)
        if groups != len(self.min_lrs):  # a group was added to the optimizer
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau.step: the optimizer has {groups} parameter groups, but "
                    f"min_lrs has {len(self.min_lrs)} values (a group was added after the scheduler "
                    "was made?): set min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * groups
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another: ``schedulers[0]`` until epoch ``milestones[0]``,
    then ``schedulers[1]``, ...; at a milestone the next one restarts its schedule at its own
    epoch 0, from its base rate (not the rate the previous one left). The warm-up recipe:

    >>> import numpy as np, tinygrad_rnn as tg
    >>> opt = tg.optim.SGD([tg.Tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> cosine = CosineAnnealingLR(opt, T_max=4)
    >>> scheduler = SequentialLR(opt, [warmup, cosine], milestones=[3])
    >>> lrs = []
    >>> for epoch in range(8):
    ...     lrs.append(round(opt.param_groups[0]["lr"], 4))
    ...     opt.step()
    ...     scheduler.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0]

    As PyTorch's, the constructor puts every group's rate back to its ``initial_lr``, undoes
    the step each scheduler took when it was made (``last_epoch`` one back), and takes the
    first scheduler's again; ``state_dict()`` holds each scheduler's state dict. The
    schedulers must belong to this optimizer; ReduceLROnPlateau (it steps on a metric) and a
    nested SequentialLR (PyTorch's cannot restart one) are refused.
    """

    _unsaved = ("optimizer", "_schedulers")

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        name = "SequentialLR"
        self.optimizer = _optimizer(name, optimizer)
        for argument, value in (("schedulers", schedulers), ("milestones", milestones)):
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"{name}: {argument} must be a list, got {type(value).__name__}")
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError(f"{name}: expected at least one scheduler, got none")
        for index, scheduler in enumerate(schedulers):
            kind = type(scheduler).__name__
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name}: schedulers[{index}] is a ReduceLROnPlateau, which steps on a "
                                 "metric (step(metrics)) that SequentialLR cannot give it, as in PyTorch")
            if isinstance(scheduler, SequentialLR) or not isinstance(scheduler, LRScheduler):
                raise TypeError(f"{name}: schedulers[{index}] must be a learning-rate scheduler other than "
                                f"SequentialLR, got {kind}")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{name}: schedulers[{index}] ({kind}) belongs to another optimizer; all "
                                 "must belong to this one")
        self._schedulers, self._milestones = schedulers, milestones
        self._check_settings(name)
        self.last_epoch = _integer(name, "last_epoch", last_epoch, minimum=-1) + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[bisect.bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _check_settings(self, where: str) -> None:
        self._milestones = [_integer(where, "milestones", epoch, minimum=0) for epoch in self._milestones]
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"{where}: expected {len(self._schedulers) - 1} milestones (one fewer than the "
                             f"{len(self._schedulers)} schedulers), got {len(self._milestones)}")
        if self._milestones != sorted(self._milestones):
            raise ValueError(f"{where}: milestones must be in increasing order, got {self._milestones}")

    def _check_position(self, where: str) -> None:
        self.last_epoch = _integer(where, "last_epoch", self.last_epoch, minimum=0)
        self._last_lr = [_non_negative(where, "_last_lr", lr) for lr in self._last_lr]

    def step(self) -> None:
        """Step the scheduler of this epoch, or, at a milestone, restart the next one."""
        epoch = self.last_epoch + 1
        index = bisect.bisect_right(self._milestones, epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self.last_epoch = epoch
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: this scheduler's position and each scheduler's state;
        if any part is refused, none is loaded."""
        where = "SequentialLR.load_state_dict"
        saved = state_dict.get("_schedulers") if isinstance(state_dict, dict) else None
        if not (isinstance(saved, list) and len(saved) == len(self._schedulers)):
            raise ValueError(f"{where}: expected a dict whose '_schedulers' is a list of "
                             f"{len(self._schedulers)} state dicts (from state_dict())")
        before = self.state_dict()
        try:
            super().load_state_dict({key: value for key, value in state_dict.items() if key != "_schedulers"})
            for scheduler, state in zip(self._schedulers, saved):
                scheduler.load_state_dict(state)
        except (TypeError, ValueError):
            LRScheduler.load_state_dict(self, {key: value for key, value in before.items()
                                               if key != "_schedulers"})
            for scheduler, state in zip(self._schedulers, before["_schedulers"]):
                scheduler.load_state_dict(state)
            raise

    def __repr__(self) -> str:
        inner = ", ".join(type(scheduler).__name__ for scheduler in self._schedulers)
        return f"SequentialLR([{inner}], milestones={self._milestones}, last_epoch={self.last_epoch})"


def _is_plain_function(function: Callable) -> bool:
    """A def or lambda (not saved, as in PyTorch), rather than a callable object with state."""
    plain = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
    return isinstance(function, plain) or not hasattr(function, "__dict__")


def _optimizer(scheduler: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler}: expected an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def _per_group(scheduler: str, name: str, value: Any, optimizer: Optimizer) -> list[Any]:
    """``value`` as a list with one entry per parameter group: a list or tuple of that length,
    or one value for every group (PyTorch's rule for max_lr, min_lr, momentums)."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{scheduler}: expected {groups} {name} values (one per group), got {len(values)}")
    return values


def _json_copy(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    return value


def _check_like(where: str, key: str, value: Any, like: Any, same_length: bool) -> None:
    """``value`` has the kind of ``like`` (a number, a string, a list of numbers, ...);
    a list also its length, if ``same_length``."""
    if isinstance(like, bool) or like is None or isinstance(like, str):
        ok = type(value) is type(like)
    elif isinstance(like, numbers.Real):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    elif isinstance(like, (list, dict)):
        ok = isinstance(value, type(like)) and (isinstance(like, dict) or not same_length
                                                or len(value) == len(like))
    else:
        ok = True
    if not ok:
        raise ValueError(f"{where}: {key!r} should be like {like!r}, got {value!r}")


def _number(scheduler: str, name: str, value: Any) -> float:
    value = _real(scheduler, name, value)
    if not math.isfinite(value):
        raise ValueError(f"{scheduler}: {name} must be a finite number, got {value!r}")
    return value


def _non_negative(scheduler: str, name: str, value: Any) -> float:
    value = _number(scheduler, name, value)
    if value < 0:
        raise ValueError(f"{scheduler}: {name} must be >= 0, got {value}")
    return value


def _positive(scheduler: str, name: str, value: Any) -> float:
    value = _number(scheduler, name, value)
    if value <= 0:
        raise ValueError(f"{scheduler}: {name} must be > 0, got {value}")
    return value


def _integer(scheduler: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{scheduler}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{scheduler}: {name} must be >= {minimum}, got {value}")
    return int(value)

"""Optimizers with PyTorch's names, update formulas and ``state_dict`` layout.

An optimizer holds a list of parameters (Tensors that require grad). After
``loss.backward()``, :meth:`Optimizer.step` updates every parameter that has a gradient,
in place (``param.data`` stays the same array, so anything holding a reference to it sees
the update), and :meth:`Optimizer.zero_grad` clears the gradients for the next step.

>>> import numpy as np, tinygrad_rnn as tg
>>> w = tg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w.data
array([ 0.8, -1.6])
>>> opt.zero_grad()
>>> opt.param_groups[0]["lr"] = 0.01  # hyperparameters are read at every step

Updates are computed in the parameter's dtype: a float32 parameter and its state
(momentum, running averages) stay float32. Hyperparameters are Python numbers, which
NumPy applies in the array's dtype.

``state_dict()`` returns a snapshot (arrays copied) made only of str-keyed dicts, lists,
JSON scalars and NumPy arrays, e.g. for ``Adam`` after three steps::

    {"optimizer": "Adam",
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08,
                       "weight_decay": 0.0, "amsgrad": False, "params": [0, 1]}],
     "state": {"0": {"step": 3, "exp_avg": array, "exp_avg_sq": array}, "1": {...}}}

``load_state_dict`` of that snapshot into a new optimizer over the same parameters makes
its next updates bitwise identical to those of the original.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]


class Optimizer:
    """Base class: parameter bookkeeping, ``zero_grad``, ``step``, ``state_dict``.

    A subclass passes its hyperparameters to ``__init__`` as keywords, and defines
    ``_checked(hyperparameters)`` (validate and normalize them), ``_update(data, grad,
    state, hyperparameters)`` (the update of one parameter, in place) and
    ``_state_names`` (the arrays its per-parameter state may hold).

    There is a single parameter group, ``param_groups[0]``: a dict with the
    hyperparameters and ``"params"`` (the list of parameters, to be treated as read-only).
    ``state[i]`` is the state of ``params[i]``; it exists once that parameter has been
    updated, and always holds ``"step"``, the number of updates it has received.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], **hyperparameters: Any):
        self.defaults: dict[str, Any] = self._checked(hyperparameters)
        self.param_groups: list[dict[str, Any]] = [
            {**self.defaults, "params": _parameter_list(params, self._name)}
        ]
        self.state: dict[int, dict[str, Any]] = {}
        self._validated_key: tuple | None = None
        self._validated: dict[str, Any] = {}

    @property
    def _name(self) -> str:
        return type(self).__name__

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                hyperparameters: dict[str, Any]) -> None:
        raise NotImplementedError

    def _hyperparameters(self) -> dict[str, Any]:
        """The group's current hyperparameters, validated (they may have been edited).

        Validation runs again only when a value (or its type) differs from the last
        validated one, so an unchanged group costs one tuple comparison per step.
        """
        group = self.param_groups[0]
        values = tuple(group[name] for name in self.defaults)
        key = tuple(map(_typed, values))
        if key != self._validated_key:
            self._validated = self._checked(dict(zip(self.defaults, values)))
            self._validated_key = key
        return self._validated

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to None."""
        for param in self._params:
            param.zero_grad()

    def step(self) -> None:
        """Update, in place, every parameter whose ``grad`` is not None."""
        hyperparameters = self._hyperparameters()
        for index, param in enumerate(self._params):
            if param.grad is None:
                continue
            grad = np.asarray(param.grad, dtype=param.data.dtype)
            if grad.shape != param.data.shape:
                raise ValueError(
                    f"{self._name}.step: params[{index}] has shape {param.data.shape} but its "
                    f"grad has shape {grad.shape}"
                )
            state = self.state.setdefault(index, {"step": 0})
            state["step"] += 1
            self._update(param.data, grad, state, hyperparameters)

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the hyperparameters and per-parameter state (arrays copied)."""
        group = {name: list(value) if isinstance(value, tuple) else value
                 for name, value in self._hyperparameters().items()}
        if "initial_lr" in self.param_groups[0]:  # set by a learning-rate scheduler, as in PyTorch
            group["initial_lr"] = self.param_groups[0]["initial_lr"]
        group["params"] = list(range(len(self._params)))
        state = {
            str(index): {name: value.copy() if isinstance(value, np.ndarray) else value
                         for name, value in entry.items()}
            for index, entry in sorted(self.state.items())
        }
        return {"optimizer": self._name, "param_groups": [group], "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        Everything is validated before anything changes; arrays are copied (and cast to
        their parameter's dtype, as PyTorch does), so the caller's dict stays independent.
        """
        where = f"{self._name}.load_state_dict"
        keys = ("optimizer", "param_groups", "state")
        if not isinstance(state_dict, dict) or not all(key in state_dict for key in keys):
            raise ValueError(
                f"{where}: expected a dict with keys 'optimizer', 'param_groups' and 'state' "
                "(as returned by state_dict())"
            )
        kind = state_dict["optimizer"]
        if kind != self._name:
            raise ValueError(f"{where}: this state_dict is for {kind!r}, not {self._name!r}")
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)) or len(groups) != 1 or not isinstance(groups[0], dict):
            raise ValueError(f"{where}: 'param_groups' must be a list holding one dict")
        group = dict(groups[0])
        saved_params = group.pop("params", None)
        initial_lr = group.pop("initial_lr", None)
        if initial_lr is not None:
            initial_lr = _non_negative(self._name, "initial_lr", initial_lr)
        missing, unexpected = set(self.defaults) - set(group), set(group) - set(self.defaults)
        if missing or unexpected:
            raise ValueError(
                f"{where}: hyperparameters do not match {self._name}'s: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}"
            )
        hyperparameters = self._checked(group)
        params = self._params
        if not isinstance(saved_params, (list, tuple)) or list(saved_params) != list(range(len(params))):
            count = len(saved_params) if isinstance(saved_params, (list, tuple)) else saved_params
            raise ValueError(
                f"{where}: the state_dict is for {count} parameters, this optimizer has {len(params)}"
            )
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError(f"{where}: 'state' must be a dict, got {type(saved_state).__name__}")
        state = {}
        for key, entry in saved_state.items():
            index = _state_index(key, len(params), where)
            state[index] = self._checked_state(entry, params[index], index, where)
        self.state = state
        self.param_groups[0].update(hyperparameters)
        if initial_lr is not None:
            self.param_groups[0]["initial_lr"] = initial_lr

    def _checked_state(self, entry: Any, param: Tensor, index: int, where: str) -> dict[str, Any]:
        """A validated copy of one parameter's saved state."""
        if not isinstance(entry, dict) or "step" not in entry:
            raise ValueError(f"{where}: state['{index}'] must be a dict holding 'step'")
        step = entry["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"{where}: state['{index}']['step'] must be an int >= 0, got {step!r}")
        checked: dict[str, Any] = {"step": int(step)}
        for name, value in entry.items():
            if name == "step":
                continue
            if name not in self._state_names:
                raise ValueError(
                    f"{where}: state['{index}'] has unexpected entry {name!r}; {self._name} keeps "
                    f"{['step', *self._state_names]}"
                )
            if not isinstance(value, np.ndarray) or value.shape != param.data.shape:
                shape = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise ValueError(
                    f"{where}: state['{index}'][{name!r}] has shape {shape}, but params[{index}] "
                    f"has shape {param.data.shape}"
                )
            checked[name] = np.array(value, dtype=param.data.dtype, copy=True)
        return checked

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.defaults.items())
        return f"{self._name}({len(self._params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t``::

        g = g + weight_decay * p                          (if weight_decay != 0)
        b = g  (t = 1),   b = momentum * b + (1 - dampening) * g  (t > 1)
        g = g + momentum * b  (nesterov)   or   g = b     (if momentum != 0)
        p = p - lr * g

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.array([1.0]), requires_grad=True)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0])
    ...     opt.step()
    >>> w.data  # 1 - 0.5 * 1 - 0.5 * (0.9 + 1)
    array([-0.45])
    """

    _state_names = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        checked = {name: _non_negative(self._name, name, hyperparameters[name])
                   for name in ("lr", "momentum", "dampening", "weight_decay")}
        checked["nesterov"] = _flag(self._name, "nesterov", hyperparameters["nesterov"])
        if checked["nesterov"] and (checked["momentum"] == 0.0 or checked["dampening"] != 0.0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={checked['momentum']}, dampening={checked['dampening']}"
            )
        return checked

    def _update(self, data, grad, state, hyperparameters):
        lr, momentum = hyperparameters["lr"], hyperparameters["momentum"]
        weight_decay = hyperparameters["weight_decay"]
        if weight_decay != 0.0:
            grad = grad + weight_decay * data
        if momentum != 0.0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # A copy: the buffer is updated in place later and must not alias param.grad.
                buffer = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buffer *= momentum
                buffer += (1.0 - hyperparameters["dampening"]) * grad
            grad = grad + momentum * buffer if hyperparameters["nesterov"] else buffer
        data -= lr * grad


class Adagrad(Optimizer):
    """Adagrad: per-entry step sizes shrinking with the accumulated squared gradients.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t``::

        g = g + weight_decay * p                     (if weight_decay != 0)
        sum = sum + g * g                            (sum starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)

    min-char-rnn's classic Adagrad is ``mem += g * g; p -= lr * g / sqrt(mem + 1e-8)``: its
    small constant sits *inside* the square root and its memory starts at 0, where PyTorch
    (and this class) add ``eps = 1e-10`` *outside* the root. The two agree to many digits
    once ``mem`` is far above 1e-8, but not in the first steps of an entry whose gradients
    are tiny (``g / sqrt(g*g + 1e-8)`` vs ``g / (|g| + 1e-10)``). Since
    ``sqrt(mem + 1e-8) == sqrt(sum)`` when ``sum`` starts at 1e-8, min-char-rnn's rule is
    exactly ``Adagrad(params, lr=0.1, initial_accumulator_value=1e-8, eps=0.0)``.
    """

    _state_names = ("sum",)

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {name: _non_negative(self._name, name, hyperparameters[name])
                for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")}

    def _update(self, data, grad, state, hyperparameters):
        weight_decay = hyperparameters["weight_decay"]
        if weight_decay != 0.0:
            grad = grad + weight_decay * data
        squares = state.get("sum")
        if squares is None:
            squares = state["sum"] = np.full(
                data.shape, hyperparameters["initial_accumulator_value"], dtype=data.dtype
            )
        squares += grad * grad
        lr = hyperparameters["lr"] / (1.0 + (state["step"] - 1) * hyperparameters["lr_decay"])
        data -= lr * (grad / (np.sqrt(squares) + hyperparameters["eps"]))


class Adam(Optimizer):
    """Adam (with L2 weight decay added to the gradient, like ``torch.optim.Adam``).

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t``
    (``m`` and ``v`` start at 0)::

        g = g + weight_decay * p                     (if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)   and use v_max for v  (if amsgrad)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    With ``amsgrad`` the running maximum is kept of the raw ``v`` and then bias-corrected
    with the current step, which is what PyTorch computes (its documentation writes the
    maximum over the corrected values).
    """

    _state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        betas = hyperparameters["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        checked_betas = tuple(_number(self._name, "betas", beta) for beta in betas)
        if not all(0.0 <= beta < 1.0 for beta in checked_betas):
            raise ValueError(f"{self._name}: each of betas must be in [0, 1), got {betas!r}")
        return {
            "lr": _non_negative(self._name, "lr", hyperparameters["lr"]),
            "betas": checked_betas,
            "eps": _non_negative(self._name, "eps", hyperparameters["eps"]),
            "weight_decay": _non_negative(self._name, "weight_decay", hyperparameters["weight_decay"]),
            "amsgrad": _flag(self._name, "amsgrad", hyperparameters["amsgrad"]),
        }

    _decoupled_weight_decay = False

    def _update(self, data, grad, state, hyperparameters):
        beta1, beta2 = hyperparameters["betas"]
        weight_decay = hyperparameters["weight_decay"]
        if weight_decay != 0.0:
            if self._decoupled_weight_decay:
                data *= 1.0 - hyperparameters["lr"] * weight_decay
            else:
                grad = grad + weight_decay * data
        exp_avg = _zeros_state(state, "exp_avg", data)
        exp_avg_sq = _zeros_state(state, "exp_avg_sq", data)
        exp_avg *= beta1
        exp_avg += (1.0 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        if hyperparameters["amsgrad"]:
            second_moment = _zeros_state(state, "max_exp_avg_sq", data)
            np.maximum(second_moment, exp_avg_sq, out=second_moment)
        else:
            second_moment = exp_avg_sq
        step = state["step"]
        step_size = hyperparameters["lr"] / (1.0 - beta1**step)
        denominator = np.sqrt(second_moment) / math.sqrt(1.0 - beta2**step) + hyperparameters["eps"]
        data -= step_size * (exp_avg / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), like ``torch.optim.AdamW``.

    The parameter shrinks by ``lr * weight_decay`` of itself before Adam's step, and the
    decay never enters the moment estimates::

        p = p * (1 - lr * weight_decay)
        then Adam's update of p with the raw gradient g

    The default ``weight_decay`` is 1e-2, as in PyTorch.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


class RMSprop(Optimizer):
    """RMSprop (Hinton's; the default of Karpathy's char-rnn), like ``torch.optim.RMSprop``.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` (``v``, ``avg_g`` and
    ``buf`` start at 0)::

        g = g + weight_decay * p                     (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        avg_g = alpha * avg_g + (1 - alpha) * g      (if centered)
        d = sqrt(v - avg_g**2) if centered else sqrt(v),  then d = d + eps
        buf = momentum * buf + g / d,  p = p - lr * buf     (if momentum > 0)
        p = p - lr * g / d                                 (otherwise)
    """

    _state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        checked = {name: _non_negative(self._name, name, hyperparameters[name])
                   for name in ("lr", "alpha", "eps", "weight_decay", "momentum")}
        if checked["alpha"] > 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {checked['alpha']}")
        checked["centered"] = _flag(self._name, "centered", hyperparameters["centered"])
        return checked

    def _update(self, data, grad, state, hyperparameters):
        alpha, weight_decay = hyperparameters["alpha"], hyperparameters["weight_decay"]
        if weight_decay != 0.0:
            grad = grad + weight_decay * data
        square_avg = _zeros_state(state, "square_avg", data)
        square_avg *= alpha
        square_avg += (1.0 - alpha) * (grad * grad)
        if hyperparameters["centered"]:
            grad_avg = _zeros_state(state, "grad_avg", data)
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * grad
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += hyperparameters["eps"]
        if hyperparameters["momentum"] > 0.0:
            buffer = _zeros_state(state, "momentum_buffer", data)
            buffer *= hyperparameters["momentum"]
            buffer += grad / denominator
            data -= hyperparameters["lr"] * buffer
        else:
            data -= hyperparameters["lr"] * (grad / denominator)


def _zeros_state(state: dict[str, Any], name: str, data: np.ndarray) -> np.ndarray:
    """``state[name]``, created as zeros shaped and typed like ``data`` on first use."""
    buffer = state.get(name)
    if buffer is None:
        buffer = state[name] = np.zeros_like(data)
    return buffer


def _parameter_list(params: Iterable[Tensor], optimizer: str) -> list[Tensor]:
    """``params`` as a list, refusing anything an optimizer could not update correctly."""
    if isinstance(params, Tensor) or not isinstance(params, Iterable):
        raise TypeError(
            f"{optimizer}: params must be an iterable of Tensors (e.g. model.parameters()), "
            f"got {type(params).__name__}"
        )
    params = list(params)
    if not params:
        raise ValueError(f"{optimizer}: got an empty parameter list")
    seen: dict[int, int] = {}
    for index, param in enumerate(params):
        if not isinstance(param, Tensor):
            hint = " (parameter groups are not supported)" if isinstance(param, dict) else ""
            raise TypeError(
                f"{optimizer}: params[{index}] is a {type(param).__name__}, not a Tensor{hint}"
            )
        if not param.requires_grad:
            raise ValueError(
                f"{optimizer}: params[{index}] (shape {param.shape}) does not require grad"
            )
        if not param.is_leaf:
            raise ValueError(
                f"{optimizer}: params[{index}] (shape {param.shape}) is computed by an op, not a "
                "leaf tensor; optimize the tensors it was computed from"
            )
        first = seen.setdefault(id(param.data), index)
        if first != index:
            raise ValueError(
                f"{optimizer}: params[{index}] is a duplicate of params[{first}] (same data "
                "array); each parameter must appear once"
            )
    return params


def _typed(value: Any) -> Any:
    """``value`` with its type (and its items' types), so that 1 and True compare unequal."""
    if isinstance(value, (tuple, list)):
        return type(value), tuple(map(_typed, value))
    return type(value), value


def _state_index(key: Any, count: int, where: str) -> int:
    """The parameter index named by a ``state`` key ("0", "1", ...)."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key \
            and int(key) < count:
        return int(key)
    raise ValueError(
        f"{where}: state key {key!r} does not name a parameter; expected '0' ... '{count - 1}'"
    )


def _number(optimizer: str, name: str, value: Any) -> float:
    """``value`` as a Python float (so that it never upcasts a float32 array)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a number, got {value!r}")
    return float(value)


def _non_negative(optimizer: str, name: str, value: Any) -> float:
    """``value`` as a Python float, which must be finite and >= 0."""
    value = _number(optimizer, name, value)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{optimizer}: {name} must be a finite number >= 0, got {value}")
    return value


def _flag(optimizer: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{optimizer}: {name} must be True or False, got {value!r}")
    return bool(value)


# PyTorch's path to the schedulers is torch.optim.lr_scheduler; the same works here. The
# import comes last because lr_scheduler imports Optimizer from this module.
from . import lr_scheduler  # noqa: E402

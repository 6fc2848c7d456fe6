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
(momentum, running averages) stay float32, and if the parameter changes dtype between
steps (``module.to(np.float64)``), its state is cast to follow it at the next step.
Hyperparameters are Python numbers, which NumPy applies in the array's dtype.

``state_dict()`` returns a snapshot (arrays copied) made only of str-keyed dicts, lists,
JSON scalars and NumPy arrays, e.g. for ``Adam`` after three steps::

    {"optimizer": "Adam",
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08,
                       "weight_decay": 0.0, "amsgrad": False, "maximize": False,
                       "params": [0, 1]}],
     "state": {"0": {"step": 3, "exp_avg": array, "exp_avg_sq": array}, "1": {...}}}

``load_state_dict`` of that snapshot into a new optimizer over the same parameters makes
its next updates bitwise identical to those of the original.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop",
           "lr_scheduler"]


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step``, ``state_dict``.

    A subclass passes its hyperparameters to ``__init__`` as keywords, and defines
    ``_checked(hyperparameters)`` (validate and normalize them), ``_update(data, grad,
    state, hyperparameters)`` (the update of one parameter, in place) and
    ``_state_names`` (the arrays its per-parameter state may hold); ``_scalar_state_names``
    names the Python floats in [0, 1] it keeps per parameter beside ``"step"`` (NAdam's
    ``mu_product``).

    ``params`` is an iterable of Tensors (one parameter group), or, as in PyTorch, of
    dicts, each one group: ``{"params": tensors, "lr": ..., ...}``, whose hyperparameters
    override the constructor's (``self.defaults``) for that group only. ``param_groups``
    is the list of groups: dicts with every hyperparameter and ``"params"`` (the group's
    list of parameters, to be treated as read-only); ``add_param_group`` appends one.
    Parameters are numbered across groups in order; ``state[i]`` is the state of
    parameter i; it exists once that parameter has been updated, and always holds
    ``"step"``, the number of updates it has received.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> weight = tg.Tensor(np.ones(2), requires_grad=True)
    >>> bias = tg.Tensor(np.ones(1), requires_grad=True)
    >>> opt = SGD([{"params": [weight]}, {"params": [bias], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    """

    _state_names: tuple[str, ...] = ()
    _scalar_state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], **hyperparameters: Any):
        self.defaults: dict[str, Any] = self._settings(hyperparameters)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        self._validated: list[tuple[tuple, dict[str, Any]]] = []  # per group: (key, checked)
        groups = _ordered(params, self._name, "params")
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self._add_group(group, self._name)
        if not self._params:
            raise ValueError(f"{self._name}: got an empty parameter list (every group is empty)")

    @property
    def _name(self) -> str:
        return type(self).__name__

    @property
    def _params(self) -> list[Tensor]:
        """Every group's parameters, in their global order (the ``state`` keys)."""
        return [param for group in self.param_groups for param in group["params"]]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group: ``{"params": tensors, <hyperparameter>: value, ...}``.

        Hyperparameters the group omits are taken from ``self.defaults``; a key that is
        not one of this optimizer's hyperparameters, and a parameter that already
        belongs to a group, are refused.
        """
        self._add_group(param_group, f"{self._name}.add_param_group")

    def _add_group(self, param_group: dict[str, Any], where: str) -> None:
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{where}: a parameter group must be a dict with a 'params' entry, "
                            f"got {type(param_group).__name__}")
        allowed = {"params", "initial_lr", *self.defaults}
        unknown = sorted(set(param_group) - allowed, key=str)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown} in a parameter group; "
                             f"{self._name} takes {sorted(allowed)}")
        first = len(self._params)
        members = param_group["params"]
        members = [members] if isinstance(members, Tensor) else _ordered(members, where, "params")
        params = _parameter_list(members, where, first)
        owners = {id(param.data): index for index, param in enumerate(self._params)}
        for offset, param in enumerate(params):
            if id(param.data) in owners:
                raise ValueError(
                    f"{where}: params[{first + offset}] (shape {param.shape}) is already "
                    f"params[{owners[id(param.data)]}] of an earlier group; each parameter "
                    "must appear in one group only"
                )
        settings = {name: param_group.get(name, value) for name, value in self.defaults.items()}
        group = {**self._settings(settings), "params": params}
        if "initial_lr" in param_group:
            group["initial_lr"] = _non_negative(self._name, "initial_lr", param_group["initial_lr"])
        self.param_groups.append(group)
        self._validated.append(((), {}))

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _settings(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """``_checked``'s hyperparameters and ``maximize``, which every optimizer takes."""
        return {**self._checked(hyperparameters),
                "maximize": _flag(self._name, "maximize", hyperparameters["maximize"])}

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                hyperparameters: dict[str, Any]) -> None:
        raise NotImplementedError

    def _hyperparameters(self, index: int) -> dict[str, Any]:
        """Group ``index``'s current hyperparameters, validated (they may have been edited).

        Validation runs again only when a value (or its type) differs from the last
        validated one, so an unchanged group costs one tuple comparison per step.
        """
        group = self.param_groups[index]
        missing = [name for name in self.defaults if name not in group]
        if missing:
            raise ValueError(f"{self._name}.step: param_groups[{index}] has no {missing[0]!r}; "
                             f"every group holds {list(self.defaults)}")
        values = tuple(group[name] for name in self.defaults)
        key = tuple(map(_typed, values))
        if key != self._validated[index][0]:
            checked = self._settings(dict(zip(self.defaults, values)))
            self._validated[index] = (key, checked)
        return self._validated[index][1]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``grad`` to None (or, with ``set_to_none=False``, to zeros),
        as :meth:`Tensor.zero_grad` does."""
        for group in self.param_groups:
            for param in group["params"]:
                param.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update, in place, every parameter whose ``grad`` is not None.

        ``closure``, as in PyTorch, is called first (it would recompute the loss and its
        gradients) and what it returns is returned; without it, the result is None. With
        ``maximize=True`` a group's parameters climb their gradient instead of descending it.

        Every group's hyperparameters and every grad are checked before any parameter
        moves, so a refused step leaves the parameters and the state as they were.
        State follows its parameter's dtype: after ``module.to(np.float64)`` mid-training
        the running averages are cast to float64 (as ``load_state_dict`` casts them), so
        the update stays in the parameter's dtype. A parameter whose shape no longer
        matches its state (its ``data`` replaced by hand) is refused.
        """
        if closure is not None and not callable(closure):
            raise TypeError(f"{self._name}.step: closure must be callable or None, got "
                            f"{type(closure).__name__}")
        loss = None if closure is None else closure()
        updates, index, states = [], 0, self.state
        for number, group in enumerate(self.param_groups):
            hyperparameters = self._hyperparameters(number)
            for param in group["params"]:
                grad, data = param.grad, param.data
                if grad is not None:
                    if type(grad) is not np.ndarray or grad.dtype != data.dtype or grad.shape != data.shape:
                        grad = self._checked_grad(index, grad, data)
                    state = states.get(index)
                    recast = state is not None and self._state_needs_cast(index, state, data)
                    updates.append((index, data, grad, hyperparameters, state, recast))
                index += 1
        for index, data, grad, hyperparameters, state, recast in updates:
            if state is None:
                state = states[index] = {"step": 0}
            elif recast:
                for name, value in state.items():
                    if type(value) is np.ndarray:
                        state[name] = value.astype(data.dtype, copy=False)
            state["step"] += 1
            self._update(data, -grad if hyperparameters["maximize"] else grad, state, hyperparameters)
        return loss

    def _state_needs_cast(self, index: int, state: dict[str, Any], data: np.ndarray) -> bool:
        """Whether ``state``'s arrays must be cast to the parameter's dtype; one of another
        shape is refused (the parameter's data was replaced by hand)."""
        recast = False
        for name, value in state.items():
            if type(value) is np.ndarray:
                if value.shape != data.shape:
                    raise ValueError(
                        f"{self._name}.step: params[{index}] has shape {data.shape} but its state "
                        f"{name!r} has shape {value.shape} (was the parameter's data replaced?); "
                        f"make a new optimizer for a reshaped parameter"
                    )
                recast = recast or value.dtype != data.dtype
        return recast

    def _checked_grad(self, index: int, grad: Any, data: np.ndarray) -> np.ndarray:
        """A grad that is not already an array like the parameter, converted or refused."""
        grad = np.asarray(grad)
        if grad.dtype.kind not in "biuf" or data.dtype.kind != "f":
            raise TypeError(f"{self._name}.step: params[{index}] has dtype {data.dtype} and its grad "
                            f"dtype {grad.dtype}; both must be real, the parameter floating-point")
        if grad.shape != data.shape:
            raise ValueError(
                f"{self._name}.step: params[{index}] has shape {data.shape} but its grad has shape "
                f"{grad.shape}"
            )
        return grad.astype(data.dtype, copy=False)

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the groups' hyperparameters and per-parameter state (arrays copied)."""
        groups, first = [], 0
        for number, source in enumerate(self.param_groups):
            group = {name: list(value) if isinstance(value, tuple) else value
                     for name, value in self._hyperparameters(number).items()}
            if "initial_lr" in source:  # set by a learning-rate scheduler, as in PyTorch
                group["initial_lr"] = source["initial_lr"]
            group["params"] = list(range(first, first + len(source["params"])))
            first += len(source["params"])
            groups.append(group)
        state = {
            str(index): {name: value.copy() if isinstance(value, np.ndarray) else value
                         for name, value in entry.items()}
            for index, entry in sorted(self.state.items())
        }
        return {"optimizer": self._name, "param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        The saved groups must hold as many parameters as this optimizer's, group by group.
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
        count = len(self.param_groups)
        if (not isinstance(groups, (list, tuple)) or len(groups) != count
                or not all(isinstance(group, dict) for group in groups)):
            length = len(groups) if isinstance(groups, (list, tuple)) else type(groups).__name__
            raise ValueError(f"{where}: 'param_groups' must be a list of {count} dict(s), one per "
                             f"parameter group of this optimizer, got {length}")
        restored, first = [], 0
        for number, saved in enumerate(groups):
            size = len(self.param_groups[number]["params"])
            restored.append(self._checked_group(saved, range(first, first + size), number, where))
            first += size
        params = self._params
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError(f"{where}: 'state' must be a dict, got {type(saved_state).__name__}")
        owners = [number for number, group in enumerate(self.param_groups) for _ in group["params"]]
        state = {}
        for key, entry in saved_state.items():
            index = _state_index(key, len(params), where)
            hyperparameters = restored[owners[index]][0]
            state[index] = self._checked_state(entry, params[index], index, where, hyperparameters)
        self.state = state
        for group, (hyperparameters, initial_lr) in zip(self.param_groups, restored):
            group.update(hyperparameters)
            if initial_lr is not None:
                group["initial_lr"] = initial_lr

    def _checked_group(self, saved: dict[str, Any], indices: range, number: int,
                       where: str) -> tuple[dict[str, Any], float | None]:
        """One saved group's validated (hyperparameters, initial_lr or None)."""
        group = dict(saved)
        saved_params = group.pop("params", None)
        initial_lr = group.pop("initial_lr", None)
        group.setdefault("maximize", False)  # a state saved before the option existed
        if initial_lr is not None:
            initial_lr = _non_negative(self._name, "initial_lr", initial_lr)
        missing, unexpected = set(self.defaults) - set(group), set(group) - set(self.defaults)
        if missing or unexpected:
            raise ValueError(
                f"{where}: hyperparameters do not match {self._name}'s: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected, key=str)}"
            )
        hyperparameters = self._settings(group)
        if not isinstance(saved_params, (list, tuple)) or list(saved_params) != list(indices):
            count = len(saved_params) if isinstance(saved_params, (list, tuple)) else saved_params
            ours, theirs = ((f"the state_dict's param_groups[{number}]", "this optimizer's")
                            if len(self.param_groups) > 1 else ("the state_dict", "this optimizer"))
            if count == len(indices):  # as many, but numbered otherwise
                raise ValueError(f"{where}: {ours} holds parameters {list(saved_params)}, {theirs} "
                                 f"holds {list(indices)}")
            raise ValueError(f"{where}: {ours} is for {count} parameters, {theirs} has {len(indices)}")
        return hyperparameters, initial_lr

    def _checked_state(self, entry: Any, param: Tensor, index: int, where: str,
                       hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """A validated copy of one parameter's saved state: after a step it must hold every
        array the update reads (a missing one would silently restart at zero), each real,
        shaped like the parameter, and the running squares not negative."""
        if not isinstance(entry, dict) or "step" not in entry:
            raise ValueError(f"{where}: state['{index}'] must be a dict holding 'step'")
        step = entry["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"{where}: state['{index}']['step'] must be an int >= 0, got {step!r}")
        if step >= 2**63:  # an int64, as torch stores it; beta ** step would overflow a float
            raise ValueError(f"{where}: state['{index}']['step'] must be below 2**63, got a "
                             f"{int(step).bit_length()}-bit int")
        checked: dict[str, Any] = {"step": int(step)}
        for name, value in entry.items():
            if name == "step":
                continue
            if name in self._scalar_state_names:
                # a product of coefficients in [0, 1): outside [0, 1], 1 - mu_product * mu can be
                # 0 (a ZeroDivisionError) or of the wrong sign (a silently wrong step)
                if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
                        or not 0.0 <= value <= 1.0):
                    raise ValueError(f"{where}: state['{index}'][{name!r}] must be a real number in "
                                     f"[0, 1] (a product of momentum coefficients), got {value!r}")
                checked[name] = float(value)
                continue
            if name not in self._state_names:
                raise ValueError(
                    f"{where}: state['{index}'] has unexpected entry {name!r}; {self._name} keeps "
                    f"{['step', *self._scalar_state_names, *self._state_names]}"
                )
            if not isinstance(value, np.ndarray) or value.shape != param.data.shape:
                shape = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise ValueError(
                    f"{where}: state['{index}'][{name!r}] has shape {shape}, but params[{index}] "
                    f"has shape {param.data.shape}"
                )
            if value.dtype.kind not in "biuf":
                raise ValueError(f"{where}: state['{index}'][{name!r}] has dtype {value.dtype}; "
                                 "expected real numbers")
            if value.dtype.kind == "f" and np.isnan(value).any():  # every later step would be nan
                raise ValueError(f"{where}: state['{index}'][{name!r}] holds nan (the saved run had "
                                 "diverged); start this optimizer afresh instead")
            if name in _NEVER_NEGATIVE and np.any(value < 0):
                raise ValueError(f"{where}: state['{index}'][{name!r}] holds negative values; it is "
                                 "a running sum, average or maximum of squares or magnitudes")
            checked[name] = np.array(value, dtype=param.data.dtype, copy=True)
        missing = [name for name in self._required_state(hyperparameters) if name not in checked]
        if checked["step"] > 0 and missing:
            raise ValueError(
                f"{where}: state['{index}'] has taken {checked['step']} steps but lacks {missing}, "
                f"which {self._name} keeps from its first step with these settings"
            )
        return checked

    def _required_state(self, hyperparameters: dict[str, Any]) -> tuple[str, ...]:
        """The state entries an update with ``hyperparameters`` reads, once a step was taken."""
        return (*self._scalar_state_names, *self._state_names)

    def __repr__(self) -> str:
        def described(group):
            settings = ", ".join(f"{name}={group[name]!r}" for name in self.defaults)
            return f"{len(group['params'])} parameters, {settings}"

        if len(self.param_groups) == 1:
            return f"{self._name}({described(self.param_groups[0])})"
        groups = "; ".join(f"group {number}: {described(group)}"
                           for number, group in enumerate(self.param_groups))
        return f"{self._name}({groups})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t``::

        g = -g                                            (if maximize)
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

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

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

    def _required_state(self, hyperparameters):
        return ("momentum_buffer",) if hyperparameters["momentum"] != 0.0 else ()

    def _update(self, data, grad, state, hyperparameters):
        lr, momentum = hyperparameters["lr"], hyperparameters["momentum"]
        grad = _with_weight_decay(data, grad, hyperparameters)
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

        g = -g                                       (if maximize)
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

    A parameter group's own ``initial_accumulator_value`` is honoured (PyTorch 2.13 starts
    every group's ``sum`` from the constructor's value instead).
    """

    _state_names = ("sum",)

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps,
                         maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {name: _non_negative(self._name, name, hyperparameters[name])
                for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")}

    def _update(self, data, grad, state, hyperparameters):
        grad = _with_weight_decay(data, grad, hyperparameters)
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

        g = -g                                       (if maximize)
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
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {**_adam_settings(self._name, hyperparameters),
                "amsgrad": _flag(self._name, "amsgrad", hyperparameters["amsgrad"])}

    _decoupled_weight_decay = False

    def _required_state(self, hyperparameters):
        return ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if hyperparameters["amsgrad"] else ()))

    def _update(self, data, grad, state, hyperparameters):
        beta1, beta2 = hyperparameters["betas"]
        grad = _with_weight_decay(data, grad, hyperparameters, self._decoupled_weight_decay)
        exp_avg, exp_avg_sq = _adam_moments(state, data, grad, beta1, beta2)
        if hyperparameters["amsgrad"]:
            second_moment = _zeros_state(state, "max_exp_avg_sq", data)
            np.maximum(second_moment, exp_avg_sq, out=second_moment)
        else:
            second_moment = exp_avg_sq
        step = state["step"]
        step_size = hyperparameters["lr"] / (1.0 - beta1**step)
        data -= step_size * (exp_avg / _adam_denominator(second_moment, step, beta2, hyperparameters["eps"]))


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
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)


class Adamax(Optimizer):
    """Adamax: Adam with an infinity norm in place of the root mean square (Kingma & Ba,
    section 7.1), like ``torch.optim.Adamax``.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t``
    (``m`` and ``u`` start at 0)::

        g = -g                                       (if maximize)
        g = g + weight_decay * p                     (if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    ``eps`` sits inside the maximum, as in PyTorch (the paper has none): ``u >= eps``, so
    an entry whose gradients have all been 0 takes a step of 0, not 0 / 0. The state
    holds ``exp_avg`` (``m``) and ``exp_inf`` (``u``).

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.array([1.0, 1.0]), requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> w.grad = np.array([4.0, 0.0])
    >>> opt.step()
    >>> w.data  # the first step moves by lr * sign(g), whatever the size of g
    array([0.9, 1. ])
    """

    _state_names = ("exp_avg", "exp_inf")

    def __init__(self, params: Iterable[Tensor], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return _adam_settings(self._name, hyperparameters)

    def _update(self, data, grad, state, hyperparameters):
        beta1, beta2 = hyperparameters["betas"]
        grad = _with_weight_decay(data, grad, hyperparameters)
        exp_avg = _running_average(state, "exp_avg", data, grad, beta1)
        exp_inf = _zeros_state(state, "exp_inf", data)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + hyperparameters["eps"], out=exp_inf)
        data -= (hyperparameters["lr"] / (1.0 - beta1 ** state["step"])) * (exp_avg / exp_inf)


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum (Dozat, 2016), like ``torch.optim.NAdam``.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t`` (``m`` and
    ``v`` start at 0, ``mu_product`` at 1)::

        g = -g                                       (if maximize)
        p = p * (1 - lr * weight_decay)              (if decoupled_weight_decay)
        g = g + weight_decay * p                     (otherwise, if weight_decay != 0)
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))
        mu_product = mu_product * mu_t               (so mu_1 * mu_2 * ... * mu_t)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / d
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d

    The momentum coefficient ``mu_t`` warms up from ``beta1 / 2`` towards ``beta1`` at a
    pace set by ``momentum_decay``. ``decoupled_weight_decay=True`` shrinks the parameter
    as AdamW does (PyTorch calls that NAdamW).

    The state holds ``exp_avg`` (``m``), ``exp_avg_sq`` (``v``) and ``mu_product``, a
    Python float kept beside ``step`` (and saved like it, as a JSON number). PyTorch keeps
    ``mu_product`` as a 0-d tensor of its default dtype, float32 unless
    ``torch.set_default_dtype(torch.float64)``, so it rounds the product to float32 at
    every step where this class keeps float64: float64 parameters then agree with
    PyTorch's to about 1e-7 of the step, not to the last digit.
    """

    _state_names = ("exp_avg", "exp_avg_sq")
    _scalar_state_names = ("mu_product",)

    def __init__(self, params: Iterable[Tensor], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                         maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {**_adam_settings(self._name, hyperparameters),
                "momentum_decay": _non_negative(self._name, "momentum_decay",
                                                hyperparameters["momentum_decay"]),
                "decoupled_weight_decay": _flag(self._name, "decoupled_weight_decay",
                                                hyperparameters["decoupled_weight_decay"])}

    def _update(self, data, grad, state, hyperparameters):
        beta1, beta2 = hyperparameters["betas"]
        lr, step, momentum_decay = hyperparameters["lr"], state["step"], hyperparameters["momentum_decay"]
        grad = _with_weight_decay(data, grad, hyperparameters, hyperparameters["decoupled_weight_decay"])
        mu, mu_next = (beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay)) for t in (step, step + 1))
        mu_product = state["mu_product"] = state.get("mu_product", 1.0) * mu
        exp_avg, exp_avg_sq = _adam_moments(state, data, grad, beta1, beta2)
        denominator = _adam_denominator(exp_avg_sq, step, beta2, hyperparameters["eps"])
        data -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denominator)
        data -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denominator)


class RAdam(Optimizer):
    """RAdam: Adam with the variance of its adaptive rate rectified (Liu et al., 2019), like
    ``torch.optim.RAdam``.

    While few squared gradients have been averaged, the variance of Adam's adaptive rate
    is large (unbounded in the first steps). RAdam takes plain bias-corrected momentum
    steps until ``rho_t``, the length of the simple moving average that ``v``
    approximates, exceeds 5, and then Adam's steps scaled by the rectification ``r_t``.
    PyTorch's update, for each parameter ``p`` with gradient ``g`` at step ``t`` (``m`` and
    ``v`` start at 0)::

        g = -g                                       (if maximize)
        p = p * (1 - lr * weight_decay)              (if decoupled_weight_decay)
        g = g + weight_decay * p                     (otherwise, if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)
        else:
            p = p - lr * m_hat

    The paper's threshold is 4; PyTorch's, kept here, is 5. ``rho_t`` grows with ``t``
    towards ``rho_inf``, so with ``beta2 <= 2/3`` (``rho_inf <= 5``) every step is a
    momentum step. ``eps`` is added to ``sqrt(v)`` before the bias
    correction, where Adam adds it after. ``decoupled_weight_decay=True`` shrinks the
    parameter as AdamW does. The state holds ``exp_avg`` (``m``) and ``exp_avg_sq`` (``v``).

    With the default betas the first five steps are momentum steps: under a constant
    gradient ``m_hat`` is that gradient, and each step moves by ``lr * g``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> w = tg.Tensor(np.array([1.0]), requires_grad=True)
    >>> opt = RAdam([w], lr=0.1)
    >>> for _ in range(5):
    ...     w.grad = np.array([0.5])
    ...     opt.step()
    >>> w.data.round(12)  # 1 - 5 * 0.1 * 0.5
    array([0.75])
    """

    _state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {**_adam_settings(self._name, hyperparameters),
                "decoupled_weight_decay": _flag(self._name, "decoupled_weight_decay",
                                                hyperparameters["decoupled_weight_decay"])}

    def _update(self, data, grad, state, hyperparameters):
        beta1, beta2 = hyperparameters["betas"]
        lr, step = hyperparameters["lr"], state["step"]
        grad = _with_weight_decay(data, grad, hyperparameters, hyperparameters["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = _adam_moments(state, data, grad, beta1, beta2)
        bias_correction1, bias_correction2 = 1.0 - beta1**step, 1.0 - beta2**step
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho = rho_inf - 2.0 * step * beta2**step / bias_correction2
        if rho > 5.0:
            rectification = math.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf
                                      / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
            step_size = lr / bias_correction1 * rectification * math.sqrt(bias_correction2)
            data -= step_size * (exp_avg / (np.sqrt(exp_avg_sq) + hyperparameters["eps"]))
        else:
            data -= (lr / bias_correction1) * exp_avg


class RMSprop(Optimizer):
    """RMSprop (Hinton's; the default of Karpathy's char-rnn), like ``torch.optim.RMSprop``.

    PyTorch's update, for each parameter ``p`` with gradient ``g`` (``v``, ``avg_g`` and
    ``buf`` start at 0)::

        g = -g                                       (if maximize)
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
                 centered: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered, maximize=maximize)

    def _checked(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        checked = {name: _non_negative(self._name, name, hyperparameters[name])
                   for name in ("lr", "alpha", "eps", "weight_decay", "momentum")}
        if checked["alpha"] > 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {checked['alpha']}")
        checked["centered"] = _flag(self._name, "centered", hyperparameters["centered"])
        return checked

    def _required_state(self, hyperparameters):
        return ("square_avg", *(("grad_avg",) if hyperparameters["centered"] else ()),
                *(("momentum_buffer",) if hyperparameters["momentum"] > 0.0 else ()))

    def _update(self, data, grad, state, hyperparameters):
        alpha = hyperparameters["alpha"]
        grad = _with_weight_decay(data, grad, hyperparameters)
        square_avg = _running_average(state, "square_avg", data, grad * grad, alpha)
        if hyperparameters["centered"]:
            grad_avg = _running_average(state, "grad_avg", data, grad, alpha)
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


_NEVER_NEGATIVE = ("sum", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "exp_inf")


def _zeros_state(state: dict[str, Any], name: str, data: np.ndarray) -> np.ndarray:
    """``state[name]``, created as zeros shaped and typed like ``data`` on first use."""
    buffer = state.get(name)
    if buffer is None:
        buffer = state[name] = np.zeros_like(data)
    return buffer


def _with_weight_decay(data: np.ndarray, grad: np.ndarray, hyperparameters: dict[str, Any],
                       decoupled: bool = False) -> np.ndarray:
    """The gradient with L2 decay, ``g + weight_decay * p``; or, ``decoupled`` (AdamW's
    rule), ``g`` itself, after shrinking ``p`` in place to ``p * (1 - lr * weight_decay)``."""
    weight_decay = hyperparameters["weight_decay"]
    if weight_decay == 0.0:
        return grad
    if decoupled:
        data *= 1.0 - hyperparameters["lr"] * weight_decay
        return grad
    return grad + weight_decay * data


def _running_average(state: dict[str, Any], name: str, data: np.ndarray, value: np.ndarray,
                     decay: float) -> np.ndarray:
    """``state[name] = decay * state[name] + (1 - decay) * value``, in place (from zeros)."""
    average = _zeros_state(state, name, data)
    average *= decay
    average += (1.0 - decay) * value
    return average


def _adam_moments(state: dict[str, Any], data: np.ndarray, grad: np.ndarray, beta1: float,
                  beta2: float) -> tuple[np.ndarray, np.ndarray]:
    """Adam's running averages ``exp_avg`` of ``g`` and ``exp_avg_sq`` of ``g * g``, updated."""
    return (_running_average(state, "exp_avg", data, grad, beta1),
            _running_average(state, "exp_avg_sq", data, grad * grad, beta2))


def _adam_denominator(second_moment: np.ndarray, step: int, beta2: float, eps: float) -> np.ndarray:
    """``sqrt(v / (1 - beta2**t)) + eps``: the bias-corrected root mean square, plus eps."""
    return np.sqrt(second_moment) / math.sqrt(1.0 - beta2**step) + eps


def _adam_settings(optimizer: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The checked ``lr``, ``betas``, ``eps`` and ``weight_decay`` every Adam variant takes."""
    return {
        "lr": _non_negative(optimizer, "lr", hyperparameters["lr"]),
        "betas": _betas(optimizer, hyperparameters["betas"]),
        "eps": _non_negative(optimizer, "eps", hyperparameters["eps"]),
        "weight_decay": _non_negative(optimizer, "weight_decay", hyperparameters["weight_decay"]),
    }


def _betas(optimizer: str, betas: Any) -> tuple[float, float]:
    """``betas`` as a pair of Python floats, each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{optimizer}: betas must be a pair (beta1, beta2), got {betas!r}")
    checked = tuple(_number(optimizer, "betas", beta) for beta in betas)
    if not all(0.0 <= beta < 1.0 for beta in checked):
        raise ValueError(f"{optimizer}: each of betas must be in [0, 1), got {betas!r}")
    return checked


def _ordered(items: Any, where: str, name: str) -> list[Any]:
    """``items`` as a list, refusing a lone Tensor, a non-iterable and an unordered set."""
    if isinstance(items, Tensor) or not isinstance(items, Iterable) or isinstance(items, (str, dict)):
        raise TypeError(
            f"{where}: {name} must be an iterable of Tensors (e.g. model.parameters()) or of "
            f"parameter-group dicts, got {type(items).__name__}"
        )
    if isinstance(items, (set, frozenset)):
        raise TypeError(f"{where}: {name} must be an ordered collection (a list, a tuple, a "
                        "generator), not a set: a set's order, and so the state's, changes between runs")
    return list(items)


def _parameter_list(params: list[Any], where: str, first: int = 0) -> list[Tensor]:
    """The Tensors of one group (numbered from ``first``), refusing anything an optimizer
    could not update correctly."""
    seen: dict[int, int] = {}
    for offset, param in enumerate(params):
        index = first + offset
        if not isinstance(param, Tensor):
            hint = (" (a parameter group must be given at the top level: a list of dicts)"
                    if isinstance(param, dict) else "")
            raise TypeError(f"{where}: params[{index}] is a {type(param).__name__}, not a Tensor{hint}")
        if param.dtype.kind != "f":
            raise TypeError(f"{where}: params[{index}] (shape {param.shape}) has dtype {param.dtype}; "
                            "only floating-point tensors can be optimized")
        if not param.is_leaf:
            raise ValueError(
                f"{where}: params[{index}] (shape {param.shape}) is computed by an op, not a "
                "leaf tensor; optimize the tensors it was computed from"
            )
        earlier = seen.setdefault(id(param.data), index)
        if earlier != index:
            raise ValueError(
                f"{where}: params[{index}] is a duplicate of params[{earlier}] (same data "
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

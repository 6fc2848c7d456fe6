"""Finite-difference gradient checking, as a public API (PyTorch's ``gradcheck`` habits).

For a function ``fn(*inputs)`` returning a tensor (or a tuple of tensors) of any shape,
``gradcheck`` fixes a random projection ``v`` (seeded) and compares, for every element
of every input that requires grad,

* the analytical gradient of ``L = Σ v · fn(inputs)`` from ``backward``, with
* the central difference ``Σ v · (fn(x + ε) − fn(x − ε)) / 2ε`` (the outputs are
  differenced before they are projected, so those that the element does not touch
  cancel exactly, as in a Jacobian column, rather than add their rounding error),

and accepts when ``|analytical − numerical| ≤ atol + rtol · |numerical|`` everywhere.
The check runs in float64: with float32's 7 significant digits, ``L(x ± ε)`` for
``ε = 1e-6`` differ in their last digits only, and the difference is mostly rounding.

>>> import tinygrad_rnn as tg
>>> x = tg.randn(3, 4, dtype="float64", requires_grad=True)
>>> tg.gradcheck(lambda x: (x * x).tanh(), [x])
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor, _leaf, no_grad


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with central finite differences."""


@dataclass
class GradientCheck:
    """How one input's analytical gradient compares with central differences."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    analytical: float
    numerical: float
    failing: int
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        return self.failing == 0

    def describe(self) -> str:
        return (
            f"the gradient of {self.name} (shape {self.shape}) disagrees with central "
            f"differences at index {self.worst_index}: analytical {self.analytical:.10g}, numerical "
            f"{self.numerical:.10g}, absolute error {abs(self.analytical - self.numerical):.3g}, "
            f"relative error {_relative(self.analytical, self.numerical):.3g} (allowed: atol "
            f"{self.atol:g} + rtol {self.rtol:g} * |numerical|); {self.failing} of "
            f"{int(np.prod(self.shape))} elements fail"
        )


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence | Tensor,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    names: Sequence[str] | None = None,
    seed: int = 0,
) -> bool:
    """Check ``backward`` of ``fn`` against central differences for every input requiring grad.

    Returns True when every element agrees. Otherwise raises :class:`GradcheckError`
    naming the input, the worst element's index, the analytical and numerical values
    and the errors (or returns False when ``raise_exception`` is false). ``names``
    labels the inputs in messages; ``seed`` fixes the random output projection.
    """
    for check in check_gradients(fn, inputs, eps=eps, atol=atol, rtol=rtol, names=names, seed=seed):
        if not check.passed:
            if raise_exception:
                raise GradcheckError(f"gradcheck: {check.describe()}")
            return False
    return True


def check_gradients(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence | Tensor,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    names: Sequence[str] | None = None,
    seed: int = 0,
) -> list[GradientCheck]:
    """The figures behind :func:`gradcheck`: one :class:`GradientCheck` per input requiring grad."""
    _check_settings(eps, atol, rtol, seed)
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if names is not None and len(names) != len(inputs):
        raise ValueError(f"gradcheck: {len(names)} names for {len(inputs)} inputs")
    labels = [
        f"input {i}" + (f" {names[i]!r}" if names is not None else "") for i in range(len(inputs))
    ]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: {labels[i]} has dtype {inputs[i].dtype}; finite differences need "
                f"float64 (with float32's ~7 significant digits, f(x ± {eps:g}) differ only in "
                "rounding noise). Cast inputs and parameters with .astype('float64') or "
                "Module.to('float64')"
            )

    # An input computed from others (or a view) keeps no .grad of its own: it is checked as
    # a leaf holding its values, as torch.autograd.gradcheck differentiates by the inputs.
    inputs = tuple(_leaf(x.data, True) if i in checked and not x.is_leaf else x
                   for i, x in enumerate(inputs))
    outputs = _as_outputs(fn(*inputs))
    # Only outputs that carry a gradient are checked, as in PyTorch: an argmax or a detached
    # value beside them changes under ±ε with no gradient to compare (and failed the check).
    # With none, every output is, against a zero gradient: an op that forgot to attach its
    # backward must not pass.
    differentiable = [out.requires_grad for out in outputs]
    if not any(differentiable):
        differentiable = [True] * len(outputs)
    outputs = tuple(out for out, keep in zip(outputs, differentiable) if keep)
    rng = np.random.default_rng(seed)
    projections = [rng.standard_normal(out.shape) for out in outputs]
    analytical = _analytical(inputs, checked, outputs, projections)

    projection = np.concatenate([v.ravel() for v in projections] or [np.zeros(0)])

    def outputs_at() -> np.ndarray:
        """The differentiable outputs, flattened into one vector: differenced before it is
        projected, so outputs that a perturbed element does not touch cancel exactly
        instead of adding their rounding error to the difference."""
        with no_grad():
            result = _as_outputs(fn(*inputs))
        if len(result) != len(differentiable):
            raise ValueError(f"gradcheck: fn returned {len(differentiable)} outputs, then {len(result)}")
        kept = [np.ravel(out.data) for out, keep in zip(result, differentiable) if keep]
        return np.concatenate(kept or [np.zeros(0)]).astype(np.float64)

    checks = []
    for i, grad in zip(checked, analytical):
        numerical = _central_differences(inputs[i], outputs_at, projection, eps)
        checks.append(_compare(labels[i], grad, numerical, atol, rtol))
    return checks


def _compare(label, analytical, numerical, atol, rtol) -> GradientCheck:
    error = np.abs(analytical - numerical)
    excess = error - (atol + rtol * np.abs(numerical))
    failing = ~(excess <= 0)  # counts NaN as failing
    score = np.where(failing, np.nan_to_num(excess, nan=np.inf), excess)
    shape = analytical.shape
    worst = np.unravel_index(int(np.argmax(score)), shape) if analytical.size else ()
    relative = error / np.maximum(np.abs(numerical), 1e-300)
    return GradientCheck(
        name=label,
        shape=tuple(shape),
        max_abs_error=float(error.max()) if error.size else 0.0,
        max_rel_error=float(relative.max()) if error.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        analytical=float(analytical[worst]) if analytical.size else 0.0,
        numerical=float(numerical[worst]) if analytical.size else 0.0,
        failing=int(failing.sum()),
        atol=atol,
        rtol=rtol,
    )


def _check_settings(eps, atol, rtol, seed) -> None:
    """Named errors for settings NumPy would fail on deep inside (or that would fail every
    gradient: eps = 0 divides by zero)."""
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"gradcheck: {name} must be a number, got {value!r}")
        if not (np.isfinite(value) and (value > 0 if positive else value >= 0)):
            raise ValueError(f"gradcheck: {name} must be a finite number {'> 0' if positive else '>= 0'}, "
                             f"got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"gradcheck: seed must be an int >= 0, got {seed!r}")


def _relative(a: float, n: float) -> float:
    return abs(a - n) / abs(n) if n != 0 else (0.0 if a == n else float("inf"))


def _as_outputs(value) -> tuple[Tensor, ...]:
    outputs = value if isinstance(value, (tuple, list)) else (value,)
    for out in outputs:
        if not isinstance(out, Tensor):
            raise TypeError(
                f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(out).__name__}"
            )
    return tuple(outputs)


def _analytical(inputs, checked, outputs, projections) -> list[np.ndarray]:
    """The inputs' gradients of Σ v · outputs from one backward. Every leaf the graph reaches
    (a module's parameters too, inputs or not) gets its ``.grad`` back as it was, as
    PyTorch's gradcheck leaves them untouched."""
    terms = [ops.mul(out, v).sum() for out, v in zip(outputs, projections) if out.requires_grad]
    total = None
    for term in terms:
        total = term if total is None else total + term
    leaves = {id(leaf): leaf for leaf in _leaves(total)} if total is not None else {}
    leaves.update((id(inputs[i]), inputs[i]) for i in checked)
    saved = [(leaf, leaf._grad, leaf._owns_grad) for leaf in leaves.values()]
    for leaf in leaves.values():
        leaf.zero_grad()
    try:
        if total is not None:
            total.backward()
        return [
            np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad.copy()
            for i in checked
        ]
    finally:
        for leaf, grad, owns in saved:
            leaf._grad, leaf._owns_grad = grad, owns


def _leaves(root: Tensor) -> list[Tensor]:
    """The leaves that require grad in ``root``'s graph (through views to their bases)."""
    found, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._view is not None:
            stack.append(node._view[0])
        elif node._backward is None:
            if node.requires_grad:
                found.append(node)
        else:
            stack.extend(node._parents)
    return found


def _central_differences(x: Tensor, outputs_at: Callable[[], np.ndarray], projection: np.ndarray,
                         eps: float) -> np.ndarray:
    """d (projection · outputs) / d x, one element at a time, on a private copy of ``x.data``."""
    original = x.data
    x.data = original.copy()
    numerical = np.zeros(x.shape)
    try:
        for index in np.ndindex(*x.shape):
            numerical[index] = float(central_difference(x.data, index, outputs_at, eps) @ projection)
    finally:
        x.data = original
    return numerical


def central_difference(array: np.ndarray, index, loss_at: Callable[[], Any], eps: float) -> Any:
    """(f(x + eps) − f(x − eps)) / 2 eps for the element ``array[index]``, perturbed in place
    and restored; ``loss_at()`` evaluates f (a float, or an array differenced elementwise)
    at the array's current values."""
    value = array[index]
    array[index] = value + eps
    plus = loss_at()
    array[index] = value - eps
    minus = loss_at()
    array[index] = value
    return (plus - minus) / (2 * eps)

"""What the seed examples share: seed-style initial weights, one gradient check, and the
checking of their integer options.

The examples import this file as ``seed_common`` (Python puts a script's own folder on
``sys.path``, so ``python examples/seed000_word_rnn.py`` finds it from any directory).
"""

from __future__ import annotations

import argparse
import copy
import math
from collections.abc import Callable

import numpy as np

from tinygrad_rnn import Tensor
from tinygrad_rnn.gradcheck import GradcheckError, check_gradients
from tinygrad_rnn.nn import Module


def init_weights(model: Module, draw: Callable[[tuple[int, ...]], np.ndarray]) -> None:
    """Set every weight to ``draw(shape)`` and every bias to zero, as the seed scripts do.

    >>> init_weights(model, lambda shape: rng.standard_normal(shape) * 0.01)  # doctest: +SKIP
    """
    for name, parameter in model.named_parameters():
        is_bias = name.rsplit(".", 1)[-1].startswith("bias")
        parameter.data[...] = 0.0 if is_bias else draw(parameter.shape)


def verify_gradients(model: Module, loss_of: Callable[[Module], Tensor]) -> dict[str, float]:
    """Check ``backward()`` of ``loss_of(model)`` against central differences, for every parameter.

    The check runs on a float64 copy of ``model`` (finite differences need the digits);
    ``loss_of`` must therefore build its inputs in the dtype of the model it is given.
    Raises :class:`GradcheckError` naming the first parameter that disagrees; otherwise
    prints one line and returns the figures.
    """
    model64 = copy.deepcopy(model).to("float64")
    names, parameters = zip(*model64.named_parameters())
    checks = check_gradients(lambda *_: loss_of(model64), list(parameters), names=list(names))
    for check in checks:
        if not check.passed:
            raise GradcheckError(f"gradcheck: {check.describe()}")
    figures = {
        "tensors": len(checks),
        "elements": sum(math.prod(check.shape) for check in checks),
        "max_abs_error": max(check.max_abs_error for check in checks),
    }
    print(f"Gradients verified: backward() matches central differences on all "
          f"{figures['elements']} elements of {figures['tensors']} parameters "
          f"(float64, worst absolute error {figures['max_abs_error']:.1e})")
    return figures



def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for an integer option >= ``minimum``, so that ``--epochs 0`` is a
    one-line usage error (exit status 2) rather than a traceback after the gradient check.

    >>> parser.add_argument("--epochs", type=int_at_least(1), default=100)  # doctest: +SKIP
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


def number_at_least(minimum: float, strict: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` for a finite number >= ``minimum`` (> with ``strict``): a bad
    ``--lr`` or ``--temperature`` is a usage error at once, not a traceback after training.

    >>> parser.add_argument("--lr", type=number_at_least(0, strict=True), default=0.1)  # doctest: +SKIP
    """
    bound = f"{'>' if strict else '>='} {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
        return value

    return parse

"""tinygrad_rnn: a small reverse-mode autodiff engine in NumPy, with every gradient checked.

>>> import tinygrad_rnn as tg
>>> x = tg.Tensor([[1.0, -2.0]], requires_grad=True)
>>> loss = (x @ tg.Tensor([[3.0], [4.0]])).tanh().sum()
>>> loss.backward()
>>> x.grad.shape
(1, 2)
"""

from . import functional, ops
from .gradcheck import GradcheckError, gradcheck
from .ops import concatenate, split, stack
from .rng import default_generator, manual_seed
from .tensor import Tensor, is_grad_enabled, no_grad, ones, rand, randn, zeros

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "Tensor",
    "concatenate",
    "default_generator",
    "functional",
    "gradcheck",
    "is_grad_enabled",
    "manual_seed",
    "no_grad",
    "ones",
    "ops",
    "rand",
    "randn",
    "split",
    "stack",
    "zeros",
]

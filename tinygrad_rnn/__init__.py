"""tinygrad_rnn: a small reverse-mode autodiff engine in NumPy, with every gradient checked.

>>> import tinygrad_rnn as tg
>>> x = tg.Tensor([[1.0, -2.0]], requires_grad=True)
>>> loss = (x @ tg.Tensor([[3.0], [4.0]])).tanh().sum()
>>> loss.backward()
>>> x.grad.shape
(1, 2)
"""

from . import functional, nn, ops, optim, runtime
from .gradcheck import GradcheckError, check_gradients, gradcheck
from .ops import (
    addmm,
    argmax,
    argmin,
    cat,
    chunk,
    clone,
    concatenate,
    flatten,
    permute,
    split,
    squeeze,
    stack,
    unsqueeze,
    where,
)
from .rng import default_generator, manual_seed
from .serialization import CheckpointError, load, save
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, ones, rand, randn, set_grad_enabled, zeros

__version__ = "0.1.0"

runtime.configure_allocator()

__all__ = [
    "CheckpointError",
    "GradcheckError",
    "Tensor",
    "addmm",
    "argmax",
    "argmin",
    "cat",
    "chunk",
    "clone",
    "concatenate",
    "check_gradients",
    "default_generator",
    "enable_grad",
    "flatten",
    "functional",
    "gradcheck",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "ones",
    "ops",
    "optim",
    "permute",
    "rand",
    "randn",
    "save",
    "set_grad_enabled",
    "split",
    "squeeze",
    "stack",
    "unsqueeze",
    "where",
    "zeros",
]

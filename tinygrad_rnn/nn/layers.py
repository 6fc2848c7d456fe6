"""``Linear``, ``Embedding`` and ``Dropout``, with PyTorch's shapes, names and default initialisation."""

from __future__ import annotations

import math

import numpy as np

from .. import functional
from .. import rng as _rng
from ..tensor import Tensor
from .module import Module, Parameter, float_dtype, positive_int


def uniform_parameter(rng: np.random.Generator, bound: float, shape: tuple[int, ...],
                      dtype: np.dtype) -> Parameter:
    """A Parameter drawn uniformly from [−bound, bound) (PyTorch's default for these layers)."""
    return Parameter(rng.uniform(-bound, bound, shape).astype(dtype))


def check_float_input(owner: str, x, features: int, dtype: np.dtype, expected: str,
                      integer_hint: str = "") -> Tensor:
    """``x`` as a Tensor of floats with ``features`` in its last axis and the parameters' dtype.

    ``expected`` describes the accepted shapes for the message, e.g. "(T, B, 3)";
    ``integer_hint`` is added to the message when ``x`` holds integers.
    """
    if isinstance(x, np.ndarray):
        x = Tensor(x)
    elif not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected a Tensor or a NumPy array of shape {expected}, "
                        f"got {type(x).__name__}")
    if x.ndim == 0 or x.shape[-1] != features:
        raise ValueError(f"{owner}: expected input of shape {expected} (last axis {features} "
                         f"features), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{owner}: input must be floating point, got dtype {x.dtype} "
                         f"(shape {x.shape}){integer_hint}")
    if x.dtype != dtype:
        raise ValueError(f"{owner}: input dtype {x.dtype} does not match the parameters' dtype "
                         f"{dtype}; convert the model with .to({str(x.dtype)!r}) or the input "
                         f"with .astype({str(dtype)!r})")
    return x


class IndexRangeError(ValueError, IndexError):
    """An id or token outside [0, count): a bad value, and (as PyTorch reports it) a bad index."""


def check_indices(owner: str, indices, count: int, what: str) -> np.ndarray:
    """``indices`` as an integer array with every value in [0, count).

    Raises ValueError for non-integer indices and :class:`IndexRangeError` (a ValueError
    and an IndexError) naming the bad values otherwise.
    """
    array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{owner}: {what} must be integers, got dtype {array.dtype} "
                         f"(shape {array.shape})")
    if array.size and (array.min() < 0 or array.max() >= count):
        bad = np.unique(array[(array < 0) | (array >= count)])
        raise IndexRangeError(f"{owner}: {what} must lie in [0, {count}), got out-of-range values "
                              f"{bad[:10].tolist()}{' ...' if bad.size > 10 else ''}")
    return array


class Linear(Module):
    """y = x W^T + b over any leading axes; ``weight`` is (out, in), ``bias`` (out,).

    Both are initialised uniformly in [−1/√in, 1/√in), as in PyTorch.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Linear(3, 2)(tg.randn(4, 5, 3)).shape
    (4, 5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        dtype = float_dtype(dtype, "Linear")
        rng = _rng.resolve(rng)
        bound = 1 / math.sqrt(self.in_features)
        self.weight = uniform_parameter(rng, bound, (self.out_features, self.in_features), dtype)
        if bias:
            self.bias = uniform_parameter(rng, bound, (self.out_features,), dtype)
        else:
            self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        x = check_float_input("Linear", x, self.in_features, self.weight.dtype,
                              f"(..., {self.in_features})")
        return functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}" + _dtype_note(self.weight.dtype))


class Embedding(Module):
    """A lookup table: integer ids of any shape (...) → rows of ``weight``, shape (..., dim).

    Equal to one-hot(ids) @ weight, computed as a gather; repeated ids add their
    gradients. ``weight`` (num_embeddings, embedding_dim) starts standard normal.

    >>> from tinygrad_rnn import nn
    >>> nn.Embedding(10, 4)([[1, 2, 2]]).shape
    (1, 3, 4)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        dtype = float_dtype(dtype, "Embedding")
        data = _rng.resolve(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Parameter(data.astype(dtype))

    def forward(self, ids) -> Tensor:
        return self.weight[check_indices("Embedding", ids, self.num_embeddings, "ids")]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + _dtype_note(self.weight.dtype)


class Dropout(Module):
    """Inverted dropout while training (``functional.dropout``); the identity after ``eval()``.

    Masks come from ``rng`` if given, else from the library's default generator at each
    call (so ``tinygrad_rnn.manual_seed`` makes them reproducible).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> drop = nn.Dropout(0.25)
    >>> x = tg.ones(3)
    >>> drop.eval()(x) is x
    True
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = functional.check_probability("Dropout", p)
        self._rng = rng if rng is None else _rng.resolve(rng)  # None: the default one, at each call

    def forward(self, input: Tensor) -> Tensor:
        return functional.dropout(input, self.p, self.training, rng=self._rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _dtype_note(dtype: np.dtype) -> str:
    return "" if dtype == np.float32 else f", dtype={dtype}"

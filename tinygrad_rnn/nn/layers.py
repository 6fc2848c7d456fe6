"""``Linear``, ``Embedding``, ``Dropout``, ``LayerNorm``, ``RMSNorm``, ``CosineSimilarity``, the
activation modules (``PReLU`` with learned slopes), ``Softmax``/``LogSoftmax`` and
``Flatten``/``Unflatten``, with PyTorch's shapes, names and default initialisation."""

from __future__ import annotations

import math

import numpy as np

from .. import functional, ops
from .. import rng as _rng
from ..tensor import Tensor
from .module import Module, Parameter, flag, float_dtype, positive_int


def uniform_parameter(rng: np.random.Generator, bound: float, shape: tuple[int, ...],
                      dtype: np.dtype) -> Parameter:
    """A Parameter drawn uniformly from [−bound, bound) (PyTorch's default for these layers)."""
    return Parameter(rng.uniform(-bound, bound, shape).astype(dtype))


def check_float_input(owner: str, x, features: int | tuple[int, ...], dtype: np.dtype | None,
                      expected: str, integer_hint: str = "") -> Tensor:
    """``x`` as a Tensor of floats whose last axes match ``features``, in the parameters' dtype.

    ``features`` is the size of the last axis, or a tuple of the sizes of the last axes;
    ``dtype`` None accepts any floating dtype (a module without parameters). ``expected``
    describes the accepted shapes for the message, e.g. "(T, B, 3)" (for a tuple of
    ``features`` it is the whole description); ``integer_hint`` is added to the message
    when ``x`` holds integers.
    """
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":  # Tensor() would refuse it under its own name, not owner's
            raise ValueError(f"{owner}: input must be floating point, got dtype {x.dtype} "
                             f"(shape {x.shape})")
        x = Tensor(x)
    elif not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected a Tensor or a NumPy array of shape {expected}, "
                        f"got {type(x).__name__}")
    trailing = (features,) if isinstance(features, int) else features
    if x.ndim < len(trailing) or x.shape[x.ndim - len(trailing):] != trailing:
        wanted = f" (last axis {features} features)" if isinstance(features, int) else ""
        raise ValueError(f"{owner}: expected input of shape {expected}{wanted}, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{owner}: input must be floating point, got dtype {x.dtype} "
                         f"(shape {x.shape}){integer_hint}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(f"{owner}: input dtype {x.dtype} does not match the parameters' dtype "
                         f"{dtype}; convert the model with .to({str(x.dtype)!r}) or the input "
                         f"with .astype({str(dtype)!r})")
    return x


class IndexRangeError(ValueError, IndexError):
    """An id or token outside [0, count): a bad value, and (as PyTorch reports it) a bad index."""


def check_indices(owner: str, indices, count: int, what: str) -> np.ndarray:
    """``indices`` as an integer array with every value in [0, count).

    Raises ValueError for ragged or non-integer indices and :class:`IndexRangeError` (a ValueError
    and an IndexError) naming the bad values otherwise.
    """
    try:
        array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    except ValueError:  # a ragged list: NumPy's "inhomogeneous shape" would name neither
        raise ValueError(f"{owner}: {what} must be an array of integers, got a ragged "
                         f"{type(indices).__name__}") from None
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
        rng = _rng.resolve(rng, "Linear")
        bound = 1 / math.sqrt(self.in_features)
        self.weight = uniform_parameter(rng, bound, (self.out_features, self.in_features), dtype)
        if flag(bias, "bias", "Linear"):
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

    Equal to one-hot(ids) @ weight, computed as a gather (``ops.embedding``); repeated
    ids add their gradients. ``weight`` (num_embeddings, embedding_dim) starts standard
    normal. As in PyTorch, the row ``padding_idx`` (if given; negative counts from the
    end) starts at zeros and gets no gradient, so padded positions of a batch of
    sequences leave it as it is.

    >>> from tinygrad_rnn import nn
    >>> nn.Embedding(10, 4)([[1, 2, 2]]).shape
    (1, 3, 4)
    >>> nn.Embedding(10, 4, padding_idx=0)([0]).data
    array([[0., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *,
                 dtype=None, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = ops.check_padding_idx("Embedding", padding_idx, self.num_embeddings)
        dtype = float_dtype(dtype, "Embedding")
        data = _rng.resolve(rng, "Embedding").standard_normal((self.num_embeddings, self.embedding_dim))
        if self.padding_idx is not None:
            data[self.padding_idx] = 0.0
        self.weight = Parameter(data.astype(dtype))

    def forward(self, ids) -> Tensor:
        ids = check_indices("Embedding", ids, self.num_embeddings, "ids")
        return ops.embedding_prechecked(self.weight, ids, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is a copy of ``embeddings`` (N, D), as PyTorch's: frozen
        (``requires_grad`` False) unless ``freeze=False``; the rows keep their values, the
        ``padding_idx`` row too (it then gets no gradient).

        >>> import numpy as np
        >>> from tinygrad_rnn import nn
        >>> table = nn.Embedding.from_pretrained(np.eye(3), freeze=False)
        >>> table([2]).data, table.weight.requires_grad
        (array([[0., 0., 1.]]), True)
        """
        owner = "Embedding.from_pretrained"
        freeze = flag(freeze, "freeze", owner)
        data = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.dtype.kind != "f":
            described = (f"shape {data.shape} and dtype {data.dtype}" if isinstance(data, np.ndarray)
                         else type(data).__name__)
            raise ValueError(f"{owner}: embeddings must be a 2-D float array or Tensor "
                             f"(num_embeddings, embedding_dim), got {described}")
        # A generator of its own for the table that is overwritten at once: the default
        # generator's stream (manual_seed) stays as it was.
        embedding = cls(*data.shape, padding_idx, dtype=data.dtype, rng=np.random.default_rng(0))
        np.copyto(embedding.weight.data, data)
        embedding.weight.requires_grad_(not freeze)
        return embedding

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}" + _dtype_note(self.weight.dtype)


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
        # None: the default generator, at each call
        self._rng = rng if rng is None else _rng.resolve(rng, "Dropout")

    def forward(self, input: Tensor) -> Tensor:
        return functional.dropout(input, self.p, self.training, rng=self._rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Layer normalization over the last ``len(normalized_shape)`` axes, as PyTorch's
    (``functional.layer_norm``). With μ and σ² the mean and the biased variance over
    those axes::

        y = (x − μ) / √(σ² + eps) · weight + bias

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``; there is no
    ``weight`` or ``bias`` when ``elementwise_affine`` is false, and no ``bias`` when
    ``bias`` is false. Without parameters any floating dtype is accepted.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.layers import LayerNorm
    >>> norm = LayerNorm(3)
    >>> norm(tg.Tensor([[1.0, 2.0, 3.0]])).data.round(3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
    >>> norm
    LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = functional.check_normalized_shape("LayerNorm", normalized_shape)
        self.eps = functional.check_eps("LayerNorm", eps)
        self.elementwise_affine = flag(elementwise_affine, "elementwise_affine", "LayerNorm")
        bias = flag(bias, "bias", "LayerNorm")
        dtype = float_dtype(dtype, "LayerNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.weight = None
        if self.elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.bias = None

    def forward(self, input: Tensor) -> Tensor:
        x = _normalized_input(self, input)
        return functional.layer_norm_prechecked(x, len(self.normalized_shape), self.weight, self.bias,
                                                self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
                + ("" if self.weight is None else _dtype_note(self.weight.dtype)))


def _normalized_input(norm: LayerNorm | RMSNorm, input) -> Tensor:
    """A normalization module's input: floats ending in its ``normalized_shape``, in its
    weight's dtype (any floating dtype when it has no weight)."""
    shape = norm.normalized_shape
    expected = f"(..., {', '.join(map(str, shape))}) (normalized_shape {shape} in the last axes)"
    return check_float_input(type(norm).__name__, input, shape,
                             None if norm.weight is None else norm.weight.dtype, expected)


class RMSNorm(Module):
    """Root-mean-square normalization over the last ``len(normalized_shape)`` axes, as
    PyTorch's (``functional.rms_norm``). With the mean over those axes::

        y = x / √(mean(x²) + eps) · weight

    ``eps`` None (the default) is the machine epsilon of the dtype computed in (float32's
    for float16, which is computed in float32, as in torch). ``weight`` (ones) has shape
    ``normalized_shape``; there is none when ``elementwise_affine`` is false, and then any
    floating dtype is accepted.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> norm = nn.RMSNorm(2)
    >>> norm(tg.Tensor([[3.0, -4.0]])).data.round(3)
    array([[ 0.849, -1.131]], dtype=float32)
    >>> norm, nn.RMSNorm((2, 3), eps=1e-6, elementwise_affine=False)
    (RMSNorm((2,), eps=None, elementwise_affine=True), RMSNorm((2, 3), eps=1e-06, elementwise_affine=False))
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float | None = None,
                 elementwise_affine: bool = True, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = functional.check_normalized_shape("RMSNorm", normalized_shape)
        self.eps = functional.check_eps("RMSNorm", eps, allow_none=True)
        self.elementwise_affine = flag(elementwise_affine, "elementwise_affine", "RMSNorm")
        dtype = float_dtype(dtype, "RMSNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.weight = None

    def forward(self, input: Tensor) -> Tensor:
        x = _normalized_input(self, input)
        return functional.rms_norm_prechecked(x, len(self.normalized_shape), self.weight, self.eps,
                                              "RMSNorm")

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
                + ("" if self.weight is None else _dtype_note(self.weight.dtype)))


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along ``dim`` of their broadcast shape
    (``functional.cosine_similarity``), each divided by max(‖x‖, eps) first.

    As torch's, the repr shows no settings.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> similarity = nn.CosineSimilarity(dim=-1)
    >>> similarity(tg.Tensor([[1.0, 0.0], [2.0, 2.0]]), tg.Tensor([1.0, 1.0])).data.round(4), similarity
    (array([0.7071, 1.    ], dtype=float32), CosineSimilarity())
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = functional.check_dim("CosineSimilarity", dim)
        self.eps = functional.check_eps("CosineSimilarity", eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return functional.cosine_similarity(x1, x2, self.dim, self.eps)


# -- activations: no parameters, an op or a functional each -------------------------------
def _tensor_input(owner: str, input) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: expected a Tensor, got {type(input).__name__}")
    return input


class Tanh(Module):
    """tanh(x), elementwise.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.layers import Tanh
    >>> Tanh()(tg.Tensor([0.0, 1.0])).data.round(4)
    array([0.    , 0.7616], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return _tensor_input("Tanh", input).tanh()


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^−x), elementwise.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.layers import Sigmoid
    >>> Sigmoid()(tg.Tensor([0.0, 2.0])).data.round(4)
    array([0.5   , 0.8808], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return _tensor_input("Sigmoid", input).sigmoid()


class ReLU(Module):
    """max(x, 0), elementwise (PyTorch's ``inplace`` is not offered: ops never overwrite inputs).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.layers import ReLU
    >>> ReLU()(tg.Tensor([-1.0, 2.0])).data
    array([0., 2.], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return _tensor_input("ReLU", input).relu()


class _SoftmaxAlong(Module):
    """A softmax-like function along ``dim``: None means the last axis (torch infers an axis
    from the input's rank, with a warning; here it is always the last)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: dim must be an int or None, got {dim!r}")
        self.dim = None if dim is None else int(dim)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        function = functional.softmax if name == "Softmax" else functional.log_softmax
        return function(_tensor_input(name, input), dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxAlong):
    """softmax along ``dim`` (``functional.softmax``), the last axis when ``dim`` is None
    (torch's implicit-dim choice and its warning are not reproduced).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Softmax(dim=0)(tg.Tensor([0.0, 0.0])).tolist(), nn.Softmax(dim=1), nn.Softmax()
    ([0.5, 0.5], Softmax(dim=1), Softmax(dim=None))
    """


class LogSoftmax(_SoftmaxAlong):
    """log_softmax along ``dim`` (``functional.log_softmax``), the last axis when ``dim`` is
    None (as ``Softmax``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.LogSoftmax()(tg.Tensor([[0.0, 0.0]])).data.round(4), nn.LogSoftmax(dim=-1)
    (array([[-0.6931, -0.6931]], dtype=float32), LogSoftmax(dim=-1))
    """


class LeakyReLU(Module):
    """x where x > 0, else negative_slope · x (``functional.leaky_relu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.LeakyReLU(0.5)(tg.Tensor([-2.0, 2.0])).tolist(), nn.LeakyReLU()
    ([-1.0, 2.0], LeakyReLU(negative_slope=0.01))
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = functional.check_real("LeakyReLU", negative_slope, "negative_slope")

    def forward(self, input: Tensor) -> Tensor:
        return functional.leaky_relu(_tensor_input("LeakyReLU", input), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, else α(e^x − 1) (``functional.elu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.ELU()(tg.Tensor([0.0, 2.0])).tolist(), nn.ELU(alpha=0.5)
    ([0.0, 2.0], ELU(alpha=0.5))
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = functional.check_real("ELU", alpha, "alpha")

    def forward(self, input: Tensor) -> Tensor:
        return functional.elu(_tensor_input("ELU", input), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + e^(βx)) / β, and x where βx > threshold (``functional.softplus``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Softplus()(tg.Tensor([0.0, 30.0])).data.round(4), nn.Softplus(beta=2)
    (array([ 0.6931, 30.    ], dtype=float32), Softplus(beta=2.0, threshold=20.0))
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = functional.check_softplus_options("Softplus", beta, threshold)

    def forward(self, input: Tensor) -> Tensor:
        return functional.softplus(_tensor_input("Softplus", input), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(Module):
    """x · σ(x), the swish (``functional.silu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.SiLU()(tg.Tensor([0.0, 1.0])).data.round(4)
    array([0.    , 0.7311], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.silu(_tensor_input("SiLU", input))


class GELU(Module):
    """x · Φ(x), Φ the standard normal CDF, or its tanh approximation (``functional.gelu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.GELU()(tg.Tensor([0.0, 3.0])).data.round(4), nn.GELU("tanh")
    (array([0.   , 2.996], dtype=float32), GELU(approximate='tanh'))
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = functional.check_gelu_approximate("GELU", approximate)

    def forward(self, input: Tensor) -> Tensor:
        return functional.gelu(_tensor_input("GELU", input), self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LogSigmoid(Module):
    """log σ(x) = −softplus(−x) (``functional.logsigmoid``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.LogSigmoid()(tg.Tensor([0.0, -100.0])).data.round(4)
    array([  -0.6931, -100.    ], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.logsigmoid(_tensor_input("LogSigmoid", input))


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (``functional.hardtanh``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Hardtanh(-2, 2)(tg.Tensor([-3.0, 1.0])).tolist(), nn.Hardtanh()
    ([-2.0, 1.0], Hardtanh(min_val=-1.0, max_val=1.0))
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        self.min_val, self.max_val = functional.check_hardtanh_range("Hardtanh", min_val, max_val)

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardtanh(_tensor_input("Hardtanh", input), self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """min(max(x, 0), 6) (``functional.relu6``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.ReLU6()(tg.Tensor([-1.0, 7.0])).tolist()
    [0.0, 6.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.relu6(_tensor_input("ReLU6", input))


class Softsign(Module):
    """x / (1 + |x|) (``functional.softsign``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Softsign()(tg.Tensor([1.0, -3.0])).tolist()
    [0.5, -0.75]
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.softsign(_tensor_input("Softsign", input))


class Tanhshrink(Module):
    """x − tanh(x) (``functional.tanhshrink``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Tanhshrink()(tg.Tensor([0.0, 1.0])).data.round(4)
    array([0.    , 0.2384], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.tanhshrink(_tensor_input("Tanhshrink", input))


class Softshrink(Module):
    """x ∓ λ outside [−λ, λ], 0 inside (``functional.softshrink``); as torch's, the repr shows λ.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Softshrink()(tg.Tensor([-2.0, 0.25])).tolist(), nn.Softshrink(1)
    ([-1.5, 0.0], Softshrink(1.0))
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = functional.check_lambd("Softshrink", lambd)

    def forward(self, input: Tensor) -> Tensor:
        return functional.softshrink(_tensor_input("Softshrink", input), self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(Module):
    """x outside [−λ, λ], 0 inside (``functional.hardshrink``); as torch's, the repr shows λ.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Hardshrink()(tg.Tensor([-2.0, 0.25])).tolist(), nn.Hardshrink()
    ([-2.0, 0.0], Hardshrink(0.5))
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = functional.check_lambd("Hardshrink", lambd)

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardshrink(_tensor_input("Hardshrink", input), self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Mish(Module):
    """x · tanh(softplus(x)) (``functional.mish``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Mish()(tg.Tensor([0.0, 1.0])).data.round(4)
    array([0.    , 0.8651], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.mish(_tensor_input("Mish", input))


class CELU(Module):
    """x where x > 0, else α(e^(x/α) − 1) (``functional.celu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.CELU()(tg.Tensor([0.0, 2.0])).tolist(), nn.CELU(alpha=2)
    ([0.0, 2.0], CELU(alpha=2.0))
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = functional.check_celu_alpha("CELU", alpha)

    def forward(self, input: Tensor) -> Tensor:
        return functional.celu(_tensor_input("CELU", input), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale · elu(x, alpha) with torch's constants (``functional.selu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.SELU()(tg.Tensor([0.0, 1.0])).data.round(4)
    array([0.    , 1.0507], dtype=float32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.selu(_tensor_input("SELU", input))


class Hardsigmoid(Module):
    """min(max(x + 3, 0), 6) / 6 (``functional.hardsigmoid``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Hardsigmoid()(tg.Tensor([0.0, 4.0])).tolist()
    [0.5, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardsigmoid(_tensor_input("Hardsigmoid", input))


class Hardswish(Module):
    """x · hardsigmoid(x) (``functional.hardswish``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Hardswish()(tg.Tensor([-4.0, 4.0])).tolist()
    [-0.0, 4.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardswish(_tensor_input("Hardswish", input))


class GLU(Module):
    """The gated linear unit along ``dim``: a · σ(b) for the halves a, b (``functional.glu``).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.GLU()(tg.zeros(2, 6)).shape, nn.GLU(dim=0)
    ((2, 3), GLU(dim=0))
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = functional.check_dim("GLU", dim)

    def forward(self, input: Tensor) -> Tensor:
        return functional.glu(_tensor_input("GLU", input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else weight · x (``functional.prelu``), with a learned ``weight`` of
    ``num_parameters`` slopes, each starting at ``init``: one shared slope, or one per channel
    (axis 1 of the input, as in torch; an input of fewer than 2 axes has one channel).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> prelu = nn.PReLU(3)
    >>> prelu(tg.Tensor([[-4.0, 2.0, -8.0]])).tolist(), prelu, prelu.weight.shape
    ([[-1.0, 2.0, -2.0]], PReLU(num_parameters=3), (3,))
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None) -> None:
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters", "PReLU")
        self.init = functional.check_real("PReLU", init, "init")
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=float_dtype(dtype, "PReLU")))

    def forward(self, input: Tensor) -> Tensor:
        return functional.prelu(_tensor_input("PReLU", input), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}" + _dtype_note(self.weight.dtype)


class Identity(Module):
    """Returns its input: a placeholder where a model expects a layer.

    As in PyTorch, any constructor arguments are accepted and ignored, so it can stand in
    for a layer without changing the call that builds it.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn.nn.layers import Identity
    >>> x = tg.ones(2)
    >>> Identity(54, unused="ignored")(x) is x
    True
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return _tensor_input("Identity", input)


# -- shapes: views of the input, whose gradient is reshaped back ----------------------------
def _int_option(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    return int(value)


class Flatten(Module):
    """Merges the axes ``start_dim`` through ``end_dim`` (both included) into one, as torch's
    (``Tensor.flatten``, whose errors name the axes and the shape): by default all but the
    batch axis. Any dtype is taken; the result is a view of the input where NumPy can make one.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Flatten()(tg.zeros(2, 3, 4)).shape, nn.Flatten(0, 1)(tg.zeros(2, 3, 4)).shape, nn.Flatten()
    ((2, 12), (6, 4), Flatten(start_dim=1, end_dim=-1))
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = _int_option("Flatten", "start_dim", start_dim)
        self.end_dim = _int_option("Flatten", "end_dim", end_dim)

    def forward(self, input: Tensor) -> Tensor:
        return _tensor_input("Flatten", input).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits axis ``dim`` into the axes ``unflattened_size`` (a tuple or a list of sizes >= 0,
    whose product is that axis's size; one of them may be −1, inferred), as torch's: the
    inverse of ``Flatten``. The result is a view of the input where NumPy can make one.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.Unflatten(1, (2, -1))(tg.zeros(5, 6)).shape, nn.Unflatten(-1, [3, 2])
    ((5, 2, 3), Unflatten(dim=-1, unflattened_size=[3, 2]))
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        owner = "Unflatten"
        self.dim = functional.check_dim(owner, dim)
        sequence = isinstance(unflattened_size, (tuple, list))
        if not sequence or any(isinstance(size, bool) or not isinstance(size, (int, np.integer))
                               for size in unflattened_size):
            found = repr(unflattened_size) if sequence else type(unflattened_size).__name__
            raise TypeError(f"{owner}: unflattened_size must be a tuple or a list of ints, got {found}")
        sizes = [int(size) for size in unflattened_size]
        if not sizes or min(sizes) < -1 or sizes.count(-1) > 1:
            raise ValueError(f"{owner}: unflattened_size must hold at least one size, each >= 0 "
                             f"but for at most one -1 (inferred), got {unflattened_size!r}")
        # the type given, as torch keeps it (and its repr shows it)
        self.unflattened_size = sizes if isinstance(unflattened_size, list) else tuple(sizes)

    def forward(self, input: Tensor) -> Tensor:
        owner = "Unflatten"
        x = _tensor_input(owner, input)
        if x.ndim == 0:
            raise ValueError(f"{owner}: a 0-d input has no axis to unflatten (dim={self.dim})")
        axis = functional.check_dim(owner, self.dim, x.shape)
        length, sizes = x.shape[axis], tuple(self.unflattened_size)
        known = math.prod(size for size in sizes if size != -1)
        where = f"the size {length} of dim {self.dim} (input of shape {x.shape})"
        if -1 in sizes:
            if not known or length % known:
                reason = "the other sizes multiply to 0" if not known else f"it is not a multiple of {known}"
                raise ValueError(f"{owner}: the -1 in unflattened_size {self.unflattened_size} cannot "
                                 f"be inferred from {where}: {reason}")
            sizes = tuple(length // known if size == -1 else size for size in sizes)
        elif known != length:
            raise ValueError(f"{owner}: unflattened_size {self.unflattened_size} does not multiply up "
                             f"to {where}")
        return x.reshape(*x.shape[:axis], *sizes, *x.shape[axis + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _dtype_note(dtype: np.dtype) -> str:
    return "" if dtype == np.float32 else f", dtype={dtype}"

"""Weight initialisation in place, with ``torch.nn.init``'s names, formulas and defaults.

Each function overwrites ``tensor.data`` in place (the array itself, so an optimizer that
holds the parameter keeps working) and returns the tensor. Random ones draw from
``generator`` (a ``numpy.random.Generator``) or, without one, from the library's default
generator, which ``tinygrad_rnn.manual_seed`` seeds.

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> rnn = nn.RNN(8, 16)
>>> _ = nn.init.orthogonal_(rnn.weight_hh_l0)       # a common start for W_hh
>>> w = rnn.weight_hh_l0.data
>>> bool(np.allclose(w @ w.T, np.eye(16), atol=1e-5))
True
>>> _ = nn.init.zeros_(rnn.bias_hh_l0)

fan_in and fan_out are PyTorch's: for a weight (out, in, *k), fan_in = in · prod(k) and
fan_out = out · prod(k).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import rng as _rng
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
    "orthogonal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for ``nonlinearity``: 1 for linear and sigmoid, 5/3 for tanh,
    √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope ``param``, 0.01 by default), 3/4
    for selu.

    >>> calculate_gain("tanh"), calculate_gain("relu")
    (1.6666666666666667, 1.4142135623730951)
    """
    return _gain("calculate_gain", nonlinearity, param)


def _gain(op: str, nonlinearity: str, param: float | None) -> float:
    """``calculate_gain``'s value, its errors naming ``op`` (the init function the user called)."""
    name = nonlinearity if isinstance(nonlinearity, str) else None  # an array has no `in` or `==`
    if name in _LINEAR:
        return 1.0
    if name == "tanh":
        return 5.0 / 3
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        slope = 0.01 if param is None else _finite(op, "param", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if name == "selu":
        return 3.0 / 4
    raise ValueError(f"{op}: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR)}, tanh, relu, leaky_relu, selu")


def _number(op: str, name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def _finite(op: str, name: str, value) -> float:
    """A finite number: an infinite or nan bound, gain or slope would fill the tensor with
    nan or inf (or make NumPy's uniform overflow), where PyTorch refuses such a range."""
    number = _number(op, name, value)
    if not math.isfinite(number):
        raise ValueError(f"{op}: {name} must be finite, got {number}")
    return number


def _target(op: str, tensor, random: bool = True) -> np.ndarray:
    """``tensor``'s array, to be overwritten; a random fill needs floating point."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor (a Parameter, say), got {type(tensor).__name__}")
    if random and tensor.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {tensor.dtype} "
                        f"(shape {tensor.shape})")
    if not tensor.data.flags.writeable:
        raise ValueError(f"{op}: the tensor's array (shape {tensor.shape}) is read-only")
    return tensor.data


def _generator(op: str, generator) -> np.random.Generator:
    return _rng.resolve(generator, op, "generator")


def _fill(tensor: Tensor, values) -> Tensor:
    np.copyto(tensor.data, values, casting="unsafe")
    return tensor


def _fans(op: str, tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel), as PyTorch computes them."""
    if tensor.ndim < 2:
        raise ValueError(f"{op}: fan in and fan out need a tensor of 2 or more axes, got shape "
                         f"{tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from U(a, b)."""
    _target("uniform_", tensor)
    a, b = _finite("uniform_", "a", a), _finite("uniform_", "b", b)
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _fill(tensor, _generator("uniform_", generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    _target("normal_", tensor)
    mean, std = _number("normal_", "mean", mean), _number("normal_", "std", std)
    if not std >= 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _generator("normal_", generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _target("constant_", tensor, random=False)
    return _fill(tensor, _number("constant_", "val", val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    _target("zeros_", tensor, random=False)
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    _target("ones_", tensor, random=False)
    return _fill(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal of a rectangle too)."""
    _target("eye_", tensor, random=False)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: U(−a, a) with a = |gain| · √(6 / (fan_in + fan_out)) (a negative gain draws as its
    absolute value, as in ``xavier_normal_``)."""
    _target("xavier_uniform_", tensor)
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    bound = abs(_finite("xavier_uniform_", "gain", gain)) * math.sqrt(6.0 / _positive(fan_in + fan_out))
    return _fill(tensor, _generator("xavier_uniform_", generator).uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    _target("xavier_normal_", tensor)
    fan_in, fan_out = _fans("xavier_normal_", tensor)
    std = _finite("xavier_normal_", "gain", gain) * math.sqrt(2.0 / _positive(fan_in + fan_out))
    return _fill(tensor, _generator("xavier_normal_", generator).normal(0.0, abs(std), tensor.shape))


def _positive(fan: int) -> int:
    return fan or 1  # an empty weight: nothing is drawn, and no division by zero


def _kaiming_std(op: str, tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if not isinstance(mode, str) or mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(op, tensor)
    gain = _gain(op, nonlinearity, _finite(op, "a", a))
    return gain / math.sqrt(_positive(fan_in if mode == "fan_in" else fan_out))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: U(−b, b) with b = √3 · gain / √fan (``mode`` picks fan_in or fan_out; ``a`` is the
    leaky_relu slope for the gain)."""
    _target("kaiming_uniform_", tensor)
    bound = math.sqrt(3.0) * _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return _fill(tensor, _generator("kaiming_uniform_", generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: N(0, std²) with std = gain / √fan."""
    _target("kaiming_normal_", tensor)
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    return _fill(tensor, _generator("kaiming_normal_", generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``, as PyTorch: the Q of a QR decomposition of
    a standard normal (rows, rest) matrix, its columns' signs fixed by R's diagonal so that
    Q is uniformly distributed; rows = shape[0], the other axes flattened into rest."""
    _target("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor of 2 or more axes, got shape {tensor.shape}")
    gain = _finite("orthogonal_", "gain", gain)
    if tensor.size == 0:
        return tensor
    rows = tensor.shape[0]
    columns = tensor.size // rows
    flat = _generator("orthogonal_", generator).standard_normal((rows, columns))
    if rows < columns:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))

"""Every differentiable op: forward and backward side by side, one function each.

An op computes its output from the parents' ``.data`` and defines ``backward(grad)``,
which returns one gradient per parent (``None`` for a parent that needs none). The
engine (``tensor.py``) sums gradients back over broadcast axes, casts them to the
parent's dtype and accumulates them, so the math here is the whole story. The ops are
attached to :class:`Tensor` at the bottom of this file (``x + y``, ``x.tanh()``, ...).

Bad input is refused here, at the op, with the op's name and the shapes involved.

Result dtypes follow PyTorch where NumPy's differ: exp, log, tanh, softmax, ... of a bool
or integer tensor are float32 (``_floating``); a Python int next to an integer tensor keeps
its dtype and a Python float makes float32 (``_exact_scalar``); dividing integers gives
float32. A float tensor keeps its dtype with any scalar.

Arguments have NumPy's names (``axis=``, ``keepdims=``); the reductions, softmax,
log_softmax, argmax/argmin, squeeze/unsqueeze, concatenate and stack also take PyTorch's
``dim=`` and ``keepdim=`` (``_torch_keywords``), and ``max``/``min`` called with ``dim=``
return PyTorch's ``(values, indices)``.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .tensor import Product, Scatter, Tensor, _as_dtype, _leaf, result, view

_Operand = Tensor | np.ndarray | float | int
# Python and NumPy bools, integers and floats (concrete types: an ABC such as numbers.Real
# costs several times longer to check, at every `x * 0.5`).
_SCALARS = (float, int, np.floating, np.integer, np.bool_)


def _tensor_first(op):
    """``op`` for callers of the module-level function: a first argument that is not a
    Tensor is refused with the op's name.

    The Tensor methods are bound to ``op`` itself (``_method``): a method's receiver is a
    Tensor by construction, so the check costs ``x.exp()`` or ``x + y`` nothing.
    """
    name = op.__name__

    @functools.wraps(op)
    def checked(a, *args, **kwargs):
        if not isinstance(a, Tensor):
            detail = (f" of shape {a.shape} and dtype {a.dtype}" if isinstance(a, np.ndarray) else "")
            raise TypeError(f"{name}: expected a Tensor as the first argument, got "
                            f"{type(a).__name__}{detail}; wrap it as Tensor(...)")
        return op(a, *args, **kwargs)

    return checked


def _method(op):
    """``op`` as a Tensor method: without ``_tensor_first``'s check of the receiver."""
    return getattr(op, "__wrapped__", op)


class ValuesIndices(NamedTuple):
    """What ``max``/``min`` return when called with PyTorch's ``dim=``, as ``torch.max(x, dim)``:
    the extreme values and their int64 indices (which have no gradient)."""

    values: Tensor
    indices: Tensor


def _torch_keywords(op=None, *, indices=None):
    """Let ``op`` take PyTorch's ``dim=`` and ``keepdim=`` for NumPy's ``axis=`` and ``keepdims=``.

    Both spellings of one argument at once is a TypeError. With ``indices`` (``argmax`` for
    ``max``), a call that says ``dim=`` gets PyTorch's ``(values, indices)`` pair, where
    ``axis=`` keeps NumPy's values alone.
    """
    if op is None:
        return functools.partial(_torch_keywords, indices=indices)
    name = op.__name__

    @functools.wraps(op)
    def translated(*args, **kwargs):
        if not kwargs:
            return op(*args)
        pair = False
        for torch_name, numpy_name in (("dim", "axis"), ("keepdim", "keepdims")):
            if torch_name in kwargs:
                if numpy_name in kwargs:
                    raise TypeError(f"{name}: got both {numpy_name}= and {torch_name}= (NumPy's and "
                                    "PyTorch's name for one argument); pass one")
                kwargs[numpy_name] = kwargs.pop(torch_name)
                pair = pair or torch_name == "dim"
        pair = pair and indices is not None and kwargs["axis"] is not None
        if pair and not _is_int(kwargs["axis"]):
            raise TypeError(f"{name}: dim must be one int, got {kwargs['axis']!r} (with dim= it "
                            "returns values and indices along one axis; axis= takes a tuple)")
        values = op(*args, **kwargs)
        return ValuesIndices(values, indices(*args, **kwargs)) if pair else values

    return translated


class _HalfScalar(Tensor):
    """A Python or NumPy scalar next to a float16 tensor, held in float32: ``_binary`` then
    computes in float32 and rounds the result once to float16, as PyTorch computes half
    precision on the CPU (the scalar rounded to float16 first could be inf, as 1e5 is, or 0,
    as 1e-8 is, and ``x / 1e5`` would come out 0)."""

    __slots__ = ()


def _operand(value, like: Tensor, op: str) -> Tensor:
    """``value`` as a Tensor. A Python or NumPy scalar takes ``like``'s dtype when that is
    float32 or float64 (float32 as a ``_HalfScalar`` next to float16); next to a bool or
    integer tensor it follows PyTorch (``_exact_scalar``)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS):
        dtype = like.data.dtype
        if dtype.kind != "f":
            return _leaf(_exact_scalar(value, like, op))
        if dtype == np.float16:
            scalar = _leaf(np.asarray(value, dtype=np.float32))
            scalar.__class__ = _HalfScalar
            return scalar
        return _leaf(np.asarray(value, dtype=dtype))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return _leaf(value)
    raise TypeError(
        f"{op}: unsupported operand of type {type(value).__name__} with a Tensor of shape "
        f"{like.shape} and dtype {like.dtype}; use a Tensor, a real NumPy array or a bool, int "
        f"or float"
    )


def _exact_scalar(value, like: Tensor, op: str) -> np.ndarray:
    """A scalar operand for a bool or integer tensor, typed as PyTorch types it: a bool keeps
    the tensor's dtype, an integer too (int64 next to a bool tensor), a fraction is float32,
    the default dtype. So ``ints * 2`` stays integer and ``ints * 0.5`` is float32 (NumPy
    would make both float64). An integer the dtype cannot hold is refused (PyTorch wraps it)."""
    dtype = like.data.dtype
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(value, dtype=dtype)
    if not isinstance(value, (int, np.integer)):
        return np.asarray(value, dtype=np.float32)
    if dtype.kind == "b":
        dtype = np.dtype(np.int64)
    try:
        return np.asarray(int(value), dtype=dtype)
    except OverflowError:
        raise ValueError(f"{op}: the scalar {value} does not fit the dtype {dtype} of the tensor "
                         f"of shape {like.shape}") from None


def _scalar_dtype(x: np.ndarray, y: np.ndarray) -> np.dtype | None:
    """The dtype in which bool or integer data meets a floating-point scalar: the scalar's, as
    in PyTorch (float32 for a Python float, see ``_exact_scalar``), where NumPy would widen
    int32 and int64 to float64. None (NumPy's promotion) for every other mix."""
    if y.ndim == 0 and y.dtype.kind == "f" and x.dtype.kind in "biu":
        return y.dtype
    if x.ndim == 0 and x.dtype.kind == "f" and y.dtype.kind in "biu":
        return x.dtype
    return None


def _binary(function, a: Tensor, b: _Operand, op: str, dtype=None) -> tuple[Tensor, np.ndarray]:
    """``b`` as a Tensor (``_operand``) and ``function(a.data, b.data)``, broadcast: in
    ``dtype`` if given, else in NumPy's result dtype unless ``_scalar_dtype`` says otherwise.

    Two tensors of one dtype (``x * y`` in a recurrence) skip ``_operand``'s call here, which
    pays for most of the dtype check: it costs them about 30 ns.
    """
    if not isinstance(b, Tensor):
        b = _operand(b, a, op)
    x, y = a.data, b.data
    try:
        if dtype is None and x.dtype is y.dtype:  # the usual case: nothing to promote
            return b, function(x, y)
        if type(b) is _HalfScalar or type(a) is _HalfScalar:  # (a: the scalar, reflected)
            with np.errstate(over="ignore"):
                return b, function(x, y, dtype=np.float32).astype(np.float16)
        return b, function(x, y, dtype=_scalar_dtype(x, y) if dtype is None else dtype)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None
    except TypeError as error:  # NumPy has no such ufunc loop, e.g. bool - bool
        raise TypeError(f"{op}: not defined for dtypes {a.dtype} and {b.dtype} (shapes {a.shape} "
                        f"and {b.shape}): {error}") from None


# -- elementwise arithmetic (broadcasting) --------------------------------------------
@_tensor_first
def add(a: Tensor, b: _Operand) -> Tensor:
    b, out = _binary(np.add, a, b, "add")

    def backward(grad):
        return grad, grad

    return result(out, (a, b), backward, "add")


@_tensor_first
def sub(a: Tensor, b: _Operand) -> Tensor:
    b, out = _binary(np.subtract, a, b, "sub")

    def backward(grad):
        return grad, (-grad if b.requires_grad else None)

    return result(out, (a, b), backward, "sub")


@_tensor_first
def mul(a: Tensor, b: _Operand) -> Tensor:
    b, out = _binary(np.multiply, a, b, "mul")

    def backward(grad):
        return (grad * b.data if a.requires_grad else None,
                grad * a.data if b.requires_grad else None)

    return result(out, (a, b), backward, "mul")


@_tensor_first
def div(a: Tensor, b: _Operand) -> Tensor:
    b = _operand(b, a, "div")
    # True division of bools and integers gives float32, as in PyTorch (NumPy: float64).
    integers = a.data.dtype.kind != "f" and b.data.dtype.kind != "f"
    b, out = _binary(np.divide, a, b, "div", np.float32 if integers else None)

    def backward(grad):
        grad_a = grad / b.data
        return (grad_a if a.requires_grad else None,
                -grad_a * out if b.requires_grad else None)

    return result(out, (a, b), backward, "div")


@_tensor_first
def neg(a: Tensor) -> Tensor:
    def backward(grad):
        return (-grad,)

    try:
        out = -a.data
    except TypeError:  # NumPy has no negative of a bool
        raise TypeError(f"neg: not defined for dtype {a.dtype} (shape {a.shape}); cast it with "
                        ".astype first") from None
    return result(out, (a,), backward, "neg")


@_tensor_first
def pow(a: Tensor, exponent: float) -> Tensor:
    """``a ** exponent`` for a scalar exponent: d/da = exponent · a^(exponent−1)."""
    if isinstance(exponent, Tensor) or not isinstance(exponent, (numbers.Real, np.generic)):
        raise TypeError(
            f"pow: the exponent must be a Python or NumPy scalar, got {type(exponent).__name__} "
            f"(base of shape {a.shape})"
        )
    data = a.data
    if data.dtype.kind != "f":  # PyTorch's types: an int power keeps integers, a float one is float32
        if isinstance(exponent, (int, np.integer)) and not isinstance(exponent, (bool, np.bool_)):
            if exponent < 0:
                raise ValueError(f"pow: integers to negative integer powers are not allowed "
                                 f"(dtype {a.dtype}, shape {a.shape}, exponent {exponent})")
            # (integers cannot require grad: no backward reads this)
            return _leaf((data.astype(np.int64) if data.dtype.kind == "b" else data) ** int(exponent))
        data = data.astype(np.float32)
    exponent = float(exponent)

    def backward(grad):
        if exponent == 0:  # a^0 is constant; exponent · a^(−1) would give 0 · inf = nan at a = 0
            return (np.zeros_like(grad),)
        return (grad * exponent * data ** (exponent - 1),)

    return result(data ** exponent, (a,), backward, "pow")


@_tensor_first
def rpow(a: Tensor, base: float) -> Tensor:
    """``base ** a`` for a scalar base: d/da = base^a · ln(base).

    Computed as a power, not as exp(a · ln base), whose rounded logarithm put 10 ** 5 at
    100000.05 in float32. PyTorch's types and values: an int base to an integer tensor
    stays integer (int64 for bool), a float base makes float32; float16 is computed in
    float32 and rounded once. A negative base gives nan at fractional exponents, and its
    gradient is nan; a zero base has gradient 0 where a ≥ 0 (PyTorch's choice).
    """
    if isinstance(base, Tensor) or not isinstance(base, (numbers.Real, np.generic)):
        raise TypeError(f"rpow: the base must be a Python or NumPy number, got {base!r} "
                        f"(exponent of shape {a.shape})")
    data = a.data
    if data.dtype.kind != "f":
        if isinstance(base, (int, np.integer)):
            if np.any(data < 0):
                raise ValueError(f"rpow: integers to negative integer powers are not allowed "
                                 f"(base {base}, exponents of dtype {a.dtype}, shape {a.shape})")
            with np.errstate(over="ignore"):  # int64 wraps, as in PyTorch
                return _leaf(np.power(np.int64(base), data.astype(np.int64)))
        data = data.astype(np.float32)
    work = data.astype(np.float32) if data.dtype == np.float16 else data
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf, nan as in torch
        out = np.power(np.asarray(base, dtype=work.dtype), work)
    log_base = float(np.log(base)) if base > 0 else -np.inf if base == 0 else np.nan

    def backward(grad):
        with np.errstate(invalid="ignore"):
            slope = out * log_base
        if base == 0:
            slope = np.where(work >= 0, 0, slope).astype(work.dtype, copy=False)
        return (grad * slope,)

    with np.errstate(over="ignore"):
        return result(out.astype(data.dtype, copy=False), (a,), backward, "rpow")


def _elementwise_extreme(op: str, function, beats, input: Tensor, other: _Operand) -> Tensor:
    """``function(input, other)`` broadcast (np.maximum or np.minimum: NaN wins), with torch's
    gradient: the side that ``beats`` the other gets it all, a tie gives each side half, and
    where either is NaN both sides get it all (neither beats, nor equals, the other)."""
    other, out = _binary(function, input, other, op)

    def backward(grad):
        x, y = input.data, other.data
        shared = np.where(x == y, grad / 2, grad)
        zero = grad.dtype.type(0)
        return (np.where(beats(y, x), zero, shared) if input.requires_grad else None,
                np.where(beats(x, y), zero, shared) if other.requires_grad else None)

    return result(out, (input, other), backward, op)


@_tensor_first
def maximum(input: Tensor, other: _Operand) -> Tensor:
    """The elementwise larger of ``input`` and ``other``, broadcast, as ``torch.maximum``: a NaN
    on either side gives NaN. ``other`` may also be an array or a number, as in ``x + y``.

    The larger side gets the gradient; ties split it in halves, as torch's:

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = tg.Tensor([2.0, 2.0, 0.0], requires_grad=True)
    >>> x.maximum(y).sum().backward()
    >>> x.grad.tolist(), y.grad.tolist()
    ([0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
    """
    return _elementwise_extreme("maximum", np.maximum, np.greater, input, other)


@_tensor_first
def minimum(input: Tensor, other: _Operand) -> Tensor:
    """The elementwise smaller of ``input`` and ``other``, as ``torch.minimum`` (see :func:`maximum`)."""
    return _elementwise_extreme("minimum", np.minimum, np.less, input, other)


# -- comparisons and logic: bool results, outside the graph ------------------------------
def _mask(data) -> Tensor:
    """A result of this section as a graph-free Tensor: ``np.asarray`` because a ufunc of a 0-d
    array gives a NumPy scalar, not the array a Tensor holds."""
    return _leaf(np.asarray(data))


def _compared(function, input: Tensor, other, op: str) -> Tensor:
    """``function(input, other)`` broadcast, as a bool Tensor that records no graph: a
    comparison has no gradient, as in torch. ``other`` is an operand as in ``x + y``, met in
    the dtype arithmetic would use (``_meeting``), except that an integer beside a bool or
    integer tensor is compared exactly, outside the dtype's range too: int8 < 1000 is true, as
    in NumPy (torch wraps 1000 into int8 first, to -24, and answers false)."""
    if input.data.dtype.kind in "biu" and _is_int(other):
        x, y = input.data, int(other)
        shape = ()
    else:
        other = _operand(other, input, op)
        x, y = _meeting(input, other)
        shape = other.shape
    try:
        return _mask(function(x, y))
    except ValueError:
        raise ValueError(f"{op}: shapes {input.shape} and {shape} cannot be broadcast together") from None


@_tensor_first
def eq(input: Tensor, other: _Operand) -> Tensor:
    """``input == other`` elementwise, as ``torch.eq``: a bool Tensor with no gradient; ``other``
    a Tensor, a real array or a number, broadcast. ``x == y`` is this op.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0])
    >>> (x == tg.Tensor([1.0, 0.0, 3.0])).tolist(), (x >= 2).tolist()
    ([True, False, True], [False, True, True])
    >>> tg.where(x > 1.5, x, 0.0).tolist()
    [0.0, 2.0, 3.0]
    """
    return _compared(np.equal, input, other, "eq")


@_tensor_first
def ne(input: Tensor, other: _Operand) -> Tensor:
    """``input != other`` elementwise, as ``torch.ne`` (see :func:`eq`); NaN differs from everything."""
    return _compared(np.not_equal, input, other, "ne")


@_tensor_first
def lt(input: Tensor, other: _Operand) -> Tensor:
    """``input < other`` elementwise, as ``torch.lt`` (see :func:`eq`)."""
    return _compared(np.less, input, other, "lt")


@_tensor_first
def le(input: Tensor, other: _Operand) -> Tensor:
    """``input <= other`` elementwise, as ``torch.le`` (see :func:`eq`)."""
    return _compared(np.less_equal, input, other, "le")


@_tensor_first
def gt(input: Tensor, other: _Operand) -> Tensor:
    """``input > other`` elementwise, as ``torch.gt`` (see :func:`eq`)."""
    return _compared(np.greater, input, other, "gt")


@_tensor_first
def ge(input: Tensor, other: _Operand) -> Tensor:
    """``input >= other`` elementwise, as ``torch.ge`` (see :func:`eq`)."""
    return _compared(np.greater_equal, input, other, "ge")


def _comparison_operator(op):
    """``op`` as ``x == y``, ``x < y``, ...: NotImplemented for an operand no op takes (None, a
    str, a list), so that Python answers ``x == None`` with False, as it does for torch's
    tensors, and ``x < "a"`` with its own TypeError."""
    compared = _method(op)

    def compare(self: Tensor, other):
        if isinstance(other, (Tensor, np.ndarray, *_SCALARS)):
            return compared(self, other)
        return NotImplemented

    compare.__name__ = compare.__qualname__ = op.__name__
    compare.__doc__ = op.__doc__
    return compare


def _integer_data(op: str, tensor: Tensor) -> np.ndarray:
    data = tensor.data
    if data.dtype.kind not in "biu":
        raise TypeError(f"{op}: defined for bool and integer tensors, got dtype {tensor.dtype} "
                        f"(shape {tensor.shape}); compare floats with eq, lt, ... instead")
    return data


def _bitwise(function, input: Tensor, other, op: str) -> Tensor:
    """``function(input, other)`` of bool or integer operands, broadcast, as torch's ``&``, ``|``
    and ``^``: logical for bools, bitwise for integers, floats refused; ``other`` a Tensor, an
    array or a bool or int. The result records no graph."""
    x = _integer_data(op, input)
    if isinstance(other, (Tensor, np.ndarray)):
        other = _integer_data(op, _operand(other, input, op))
    elif not isinstance(other, (bool, int, np.bool_, np.integer)):
        raise TypeError(f"{op}: other must be a bool or integer Tensor, array or number, got "
                        f"{type(other).__name__} (tensor of shape {input.shape})")
    try:
        return _mask(function(x, other))
    except ValueError:
        raise ValueError(f"{op}: shapes {input.shape} and {np.shape(other)} cannot be broadcast "
                         "together") from None
    except OverflowError:
        raise ValueError(f"{op}: the integer {other} does not fit the dtype {input.dtype} (shape "
                         f"{input.shape})") from None


@_tensor_first
def bitwise_and(input: Tensor, other) -> Tensor:
    """``input & other`` of bool or integer tensors, as ``torch.bitwise_and``: ``(x > 0) & (x < 1)``
    is the mask of both."""
    return _bitwise(np.bitwise_and, input, other, "bitwise_and")


@_tensor_first
def bitwise_or(input: Tensor, other) -> Tensor:
    """``input | other`` of bool or integer tensors, as ``torch.bitwise_or``."""
    return _bitwise(np.bitwise_or, input, other, "bitwise_or")


@_tensor_first
def bitwise_xor(input: Tensor, other) -> Tensor:
    """``input ^ other`` of bool or integer tensors, as ``torch.bitwise_xor``."""
    return _bitwise(np.bitwise_xor, input, other, "bitwise_xor")


@_tensor_first
def bitwise_not(input: Tensor) -> Tensor:
    """``~input``: logical not of a bool tensor, bitwise not of an integer one (−x − 1), as
    torch's; floats are refused. ``~(x > 0)`` is the mask of the rest."""
    return _mask(np.invert(_integer_data("bitwise_not", input)))


@_tensor_first
def logical_not(input: Tensor) -> Tensor:
    """True where ``input`` is zero (False, 0, 0.0), as ``torch.logical_not``: any dtype, bool result."""
    return _mask(np.logical_not(input.data))


@_tensor_first
def isnan(input: Tensor) -> Tensor:
    """True where ``input`` is NaN, as ``torch.isnan`` (never, for bool and integer tensors)."""
    return _mask(np.isnan(input.data))


@_tensor_first
def isinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf or −inf, as ``torch.isinf``."""
    return _mask(np.isinf(input.data))


@_tensor_first
def isfinite(input: Tensor) -> Tensor:
    """True where ``input`` is neither NaN nor ±inf, as ``torch.isfinite``."""
    return _mask(np.isfinite(input.data))


@_tensor_first
def isclose(input: Tensor, other: _Operand, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input − other| <= atol + rtol·|other| elementwise, broadcast, as ``torch.isclose`` (and
    NumPy's, with torch's defaults): a bool Tensor; NaNs are close to each other only with
    ``equal_nan``, inf only to the same inf.

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([1.0, 1.001, float("nan")]).isclose(tg.Tensor([1.0, 1.0, float("nan")])).tolist()
    [True, False, False]
    """
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not value >= 0:
            raise ValueError(f"isclose: {name} must be a non-negative number, got {value!r}")
    if not isinstance(equal_nan, (bool, np.bool_)):
        raise TypeError(f"isclose: equal_nan must be a bool, got {equal_nan!r}")
    x, y = input.data, _operand(other, input, "isclose").data
    try:
        return _mask(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ValueError(f"isclose: shapes {input.shape} and {y.shape} cannot be broadcast "
                         "together") from None


@_tensor_first
def allclose(input: Tensor, other: _Operand, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if :func:`isclose` holds everywhere, as ``torch.allclose``: a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


@_tensor_first
def equal(input: Tensor, other: Tensor) -> bool:
    """True if ``other`` is a Tensor of the same shape with the same values, as ``torch.equal``
    (dtypes may differ; a NaN is unequal to itself): a Python bool, never broadcast."""
    if not isinstance(other, Tensor):
        raise TypeError(f"equal: other must be a Tensor, got {type(other).__name__} (tensor of shape "
                        f"{input.shape})")
    return bool(np.array_equal(input.data, other.data))  # False for different shapes


def _truth(function, input: Tensor, axis, keepdims: bool, op: str) -> Tensor:
    axes = _axes(op, input.shape, axis, keepdims)
    out = function(input.data, axis=axes, keepdims=keepdims)
    return _mask(out.astype(np.uint8) if input.data.dtype == np.uint8 else out)


def _named(name: str):
    """Give a function the public ``name`` its errors and its repr use."""
    def rename(function):
        function.__name__ = function.__qualname__ = name
        return function

    return rename


# Named all_ and any_ here, where the builtins serve the other ops; tinygrad_rnn.all and
# tinygrad_rnn.any, and the Tensor methods, are these.
@_tensor_first
@_torch_keywords
@_named("all")
def all_(input: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero, as ``torch.all``: ``dim`` None (every
    element), an int or a tuple, ``keepdim`` as in ``sum``; a bool Tensor (uint8 of uint8, as
    torch) with no gradient. Of no elements, True.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 0.0], [2.0, 3.0]])
    >>> (x > 0).all().item(), (x > 0).all(dim=1).tolist(), (x > 0).any(dim=0).tolist()
    (False, [False, True], [True, True])
    """
    return _truth(np.all, input, axis, keepdims, "all")


@_tensor_first
@_torch_keywords
@_named("any")
def any_(input: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero, as ``torch.any`` (see :func:`all_`); of
    no elements, False."""
    return _truth(np.any, input, axis, keepdims, "any")


# -- selection ---------------------------------------------------------------------------
def _condition(op: str, condition) -> np.ndarray:
    """A bool Tensor's or array's data, or a TypeError naming ``op`` (torch refuses integer
    conditions too). A NumPy bool scalar, which is what ``x.data > 0`` gives for a 0-d x,
    is a 0-d condition."""
    data = condition.data if isinstance(condition, Tensor) else condition
    if isinstance(data, np.bool_):
        data = np.asarray(data)
    if not isinstance(data, np.ndarray) or data.dtype != np.bool_:
        detail = (f" of dtype {data.dtype} and shape {data.shape}" if isinstance(data, np.ndarray)
                  else f" {type(condition).__name__}")
        raise TypeError(f"{op}: the condition must be a bool Tensor or array, got{detail}")
    return data


def _scalar_pair(input, other) -> tuple[np.ndarray, np.ndarray]:
    """Two Python or NumPy scalars as 0-d arrays of PyTorch's result dtype: float32 if either
    is a fraction, else int64 if either is an integer, else bool."""
    values = (input, other)
    if any(isinstance(v, (float, np.floating)) for v in values):
        dtype = np.float32
    elif any(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values):
        dtype = np.int64
    else:
        dtype = np.bool_
    return np.asarray(input, dtype=dtype), np.asarray(other, dtype=dtype)


def _meeting(input: Tensor, other: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The data of two operands, one of which may be a scalar (``_operand``), in the dtype where
    they meet: a scalar beside float16 rounded to float16 (to inf if need be, as torch rounds
    it), a float scalar beside integers float32 (as in arithmetic); as they are otherwise."""
    x, y = input.data, other.data
    if type(input) is _HalfScalar or type(other) is _HalfScalar:
        dtype = np.float16
    else:
        dtype = _scalar_dtype(x, y)
    if dtype is None:
        return x, y
    with np.errstate(over="ignore"):
        return x.astype(dtype, copy=False), y.astype(dtype, copy=False)


def _select(op: str, mask: np.ndarray, input: Tensor, other: Tensor) -> Tensor:
    """The node ``input`` where ``mask`` else ``other``, all three broadcast together; each side's
    gradient is the incoming one where it was chosen, 0 elsewhere (summed back by the engine)."""
    x, y = _meeting(input, other)
    try:
        out = np.where(mask, x, y)
    except ValueError:
        raise ValueError(f"{op}: shapes {mask.shape} (condition), {input.shape} and {other.shape} "
                         "cannot be broadcast together") from None

    def backward(grad):
        zero = grad.dtype.type(0)
        return (np.where(mask, grad, zero) if input.requires_grad else None,
                np.where(mask, zero, grad) if other.requires_grad else None)

    return result(out, (input, other), backward, op)


def where(condition, input: _Operand, other: _Operand) -> Tensor:
    """``input`` where ``condition`` is true, else ``other``, as ``torch.where``: the condition
    (a bool Tensor or array) and both sides broadcast together, and each side gets the
    incoming gradient where it was chosen (0 elsewhere), summed back to its shape.

    ``input`` and ``other`` are Tensors, real NumPy arrays (constants) or Python or NumPy
    scalars; a scalar takes the other side's dtype as in arithmetic (``x + 2``), two scalars
    make float32, int64 or bool as in PyTorch. Two tensors of different dtypes promote as
    NumPy does, as in the other binary ops. ``x.where(condition, y)`` is ``where(condition, x, y)``.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> x = tg.Tensor([-1.0, 2.0, -3.0], requires_grad=True)
    >>> y = tg.where(x.data > 0, x, 0.0)
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([0.0, 2.0, 0.0], [0.0, 1.0, 0.0])
    """
    mask = _condition("where", condition)
    input, other = (_leaf(v) if isinstance(v, np.ndarray) and v.dtype.kind in "biuf" else v
                    for v in (input, other))
    if isinstance(input, Tensor):
        other = _operand(other, input, "where")
    elif isinstance(other, Tensor):
        input = _operand(input, other, "where")
    elif isinstance(input, _SCALARS) and isinstance(other, _SCALARS):
        input, other = (_leaf(v) for v in _scalar_pair(input, other))
    else:
        raise TypeError(f"where: input and other must be Tensors, real arrays or scalars, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    return _select("where", mask, input, other)


def _where_method(self: Tensor, condition, other: _Operand) -> Tensor:
    return where(condition, self, other)


_where_method.__doc__ = "``x.where(condition, y)``: :func:`where` ``(condition, x, y)``, as torch's."


def _fill_value(a: Tensor, value) -> Tensor:
    """``masked_fill``'s value in ``a``'s dtype, as torch converts it: a number (truncated toward
    zero for an integer tensor; one its dtype cannot hold is refused) or a 0-d Tensor, which
    stays in the graph and gets the gradient of the entries it filled."""
    dtype = a.data.dtype
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: the value must be a number or a 0-d Tensor, got a Tensor "
                             f"of shape {value.shape} (tensor of shape {a.shape})")
        return value if value.data.dtype == dtype else astype(value, dtype)
    if not isinstance(value, _SCALARS):
        raise TypeError(f"masked_fill: the value must be a number or a 0-d Tensor, got "
                        f"{type(value).__name__} (tensor of shape {a.shape})")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not np.isfinite(value) or not info.min <= int(value) <= info.max:
            raise ValueError(f"masked_fill: the value {value} does not fit the dtype {dtype} of the "
                             f"tensor of shape {a.shape}")
        value = int(value)
    with np.errstate(over="ignore"):
        filled = np.asarray(value, dtype=dtype)
    if np.isinf(filled) and np.isfinite(value):
        raise ValueError(f"masked_fill: the value {value} does not fit the dtype {dtype} of the tensor "
                         f"of shape {a.shape}")
    return _leaf(filled)


@_tensor_first
def masked_fill(a: Tensor, mask, value) -> Tensor:
    """``a`` with ``value`` where the bool ``mask`` is true, as ``torch.Tensor.masked_fill``:
    ``a`` and ``mask`` broadcast together, the result keeps ``a``'s dtype, and the filled
    entries pass no gradient to ``a`` (a 0-d Tensor ``value`` gets theirs).

    >>> import numpy as np, tinygrad_rnn as tg
    >>> scores = tg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> masked = scores.masked_fill(np.array([False, True, True]), float("-inf"))
    >>> masked.softmax(dim=-1).tolist()
    [[1.0, 0.0, 0.0]]
    """
    mask = _condition("masked_fill", mask)
    try:
        np.broadcast_shapes(mask.shape, a.shape)
    except ValueError:
        raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast with the "
                         f"tensor of shape {a.shape}") from None
    return _select("masked_fill", mask, _fill_value(a, value), a)


# -- matrix product ----------------------------------------------------------------------
@_tensor_first
def matmul(a: Tensor, b: _Operand) -> Tensor:
    """``a @ b`` with NumPy ``matmul`` semantics (1-D, 2-D, batched with broadcast batch dims)."""
    b = _operand(b, a, "matmul")
    x, y = a.data, b.data
    if x.ndim == 2 and y.ndim == 2 and x.shape[1] == y.shape[0]:
        # The common case (activations @ weights): BLAS through np.dot, and the weight's
        # gradient x.T @ grad deferred so that a weight shared over time steps gets one
        # product over all steps (see tensor.Product).
        def backward_2d(grad):
            return (np.dot(grad, y.T) if a.requires_grad else None,
                    Product(x, grad) if b.requires_grad else None)

        return result(np.dot(x, y), (a, b), backward_2d, "matmul")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
    try:
        out = np.matmul(x, y)
    except ValueError:
        inner_a, inner_b = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
        if inner_a != inner_b:
            reason = f"inner dimensions differ: {inner_a} (last of left) != {inner_b} (" + (
                "second-to-last of right)" if y.ndim > 1 else "only dim of right)")
        else:
            reason = "batch dimensions cannot be broadcast together"
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: {reason}") from None

    def backward(grad):
        grad_a = grad_b = None
        if x.ndim == 1 and y.ndim == 1:  # inner product
            grad_a = grad * y if a.requires_grad else None
            grad_b = grad * x if b.requires_grad else None
        elif x.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
            if a.requires_grad:
                grad_a = np.matmul(y, grad[..., None])[..., 0]
            if b.requires_grad:
                grad_b = x[:, None] * grad[..., None, :]
        elif y.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
            if a.requires_grad:
                grad_a = grad[..., None] * y
            if b.requires_grad:
                grad_b = np.matmul(np.swapaxes(x, -1, -2), grad[..., None])[..., 0]
        else:
            if a.requires_grad:
                grad_a = np.matmul(grad, np.swapaxes(y, -1, -2))
            if b.requires_grad:
                grad_b = np.matmul(np.swapaxes(x, -1, -2), grad)
        return grad_a, grad_b

    return result(out, (a, b), backward, "matmul")


@_tensor_first
def mm(input: Tensor, mat2: _Operand) -> Tensor:
    """The matrix product of two 2-D operands, as ``torch.mm``: :func:`matmul` with no other
    case (no 1-D vectors, no batches), so a misplaced axis is an error instead of a broadcast."""
    mat2 = _operand(mat2, input, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: both operands must be 2-D matrices, got shapes {input.shape} and "
                         f"{mat2.shape}; matmul takes other shapes")
    if input.shape[1] != mat2.shape[0]:
        raise ValueError(f"mm: shapes {input.shape} and {mat2.shape} cannot be multiplied: inner "
                         f"dimensions differ ({input.shape[1]} != {mat2.shape[0]})")
    return matmul(input, mat2)


def _sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^−z), accurate to a few ulps in relative terms for every z.

    Where e^−z overflows (z below −88 in float32, −709 in float64) it becomes inf and
    σ = 1/(1 + inf) = 0, which is within the dtype's smallest normal number of the
    truth; the overflow is expected there, so it raises no warning. (Capping −z first
    costs a pass over the gates as long as exp's; the overflow-free (1 + tanh(z/2)) / 2
    loses all relative precision for small σ, and NumPy's tanh is slower than its exp.)
    −z is formed by multiplying by −1 because NumPy 2.4's in-place float32 ``negative``
    writes wrong values into strided (n, 1) views, such as one LSTM gate of a batch
    with H = 1.
    """
    if out is None:
        out = np.empty_like(z)
    np.multiply(z, -1.0, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, 0, out=out)


# name -> (forward(z, out=None), derivative written in terms of the output y)
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda y: y * (1 - y)),
    "relu": (_relu, lambda y: ~(y <= 0)),  # passes the gradient at nan, as torch
}


def addmm(bias: _Operand, x: Tensor, weight: Tensor, activation: str | None = None) -> Tensor:
    """``bias + x @ weight`` for 2-D ``x`` and ``weight``, in one node (PyTorch's ``addmm``).

    ``bias`` broadcasts to the product's shape. With ``activation`` ("tanh", "sigmoid"
    or "relu") the node also applies it, as PyTorch's fused ``_addmm_activation`` does:
    ``act(bias + x @ weight)``, whose backward first multiplies the incoming gradient by
    act'(pre-activation), written in terms of the output (1 − y², y(1 − y), y > 0).
    In a recurrence, ``h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T)`` is then ONE node per
    time step. Tests check it against the same computation unrolled from primitives.
    """
    if bias is None:
        raise TypeError("addmm: bias must be a Tensor, an array or a number, got None")
    return _checked_product("addmm", bias, x, weight, activation, transposed=False)


def linear(x: Tensor, weight: Tensor, bias: _Operand | None = None,
           activation: str | None = None) -> Tensor:
    """``x @ weight.T + bias`` for 2-D ``x`` (N, in) and ``weight`` (out, in): PyTorch's ``F.linear``.

    One node, like ``addmm`` (and ``activation`` fuses the same way), but the weight
    keeps its (out, in) layout: its gradient is ``grad.T @ x``, already in that layout,
    so no transpose node sits between a layer's parameter and its products, and the
    gradients of a weight used at every time step still become one matrix product.
    """
    return _checked_product("linear", bias, x, weight, activation, transposed=True)


class StepRows:
    """The (T, N, H) arrays that the T steps of a recurrent layer write their rows into.

    Step t's output (N, H) is ``hidden[t]``, so the layer's outputs are already stacked
    (``stacked_rows``), and in backward its gradient after the activation is ``grads[t]``,
    an array allocated when the first step needs it. Both factors of the step's share of
    W_hh's gradient, δa_t and h_{t−1}, are then rows of these blocks, and the engine
    multiplies all steps' factors as one product of slices of them, with no stacking copy
    (``tensor.Product``'s rows).
    """

    __slots__ = ("hidden", "_grads")

    def __init__(self, steps: int, batch: int, size: int, dtype: np.dtype):
        self.hidden = np.empty((steps, batch, size), dtype=dtype)
        self._grads = None

    def grads(self) -> np.ndarray:
        if self._grads is None:
            self._grads = np.empty_like(self.hidden)
        return self._grads


def stacked_rows(tensors: Sequence[Tensor], rows: StepRows) -> Tensor:
    """``stack(tensors)`` for the outputs of a layer's steps, whose data are already the rows
    of ``rows.hidden``, in order: that array itself, without a copy."""
    return result(rows.hidden, tuple(tensors), tuple, "stack")


def linear_prechecked(x: Tensor, weight: Tensor, bias: Tensor | None,
                      activation: str | None = None, weight_t: np.ndarray | None = None,
                      rows: tuple[StepRows, int, int | None] | None = None) -> Tensor:
    """``linear`` without its checks, for a caller that has made them once beforehand.

    The operands must be Tensors of one float dtype, ``x`` (N, in) and ``weight``
    (out, in), ``bias`` None or broadcasting to (N, out) without making it larger, and
    ``activation`` None or one of ``linear``'s. A recurrent layer checks its weights
    and state once, then calls this at every time step: the checks would otherwise
    cost as much as the product. ``weight_t``, if given, is ``weight.data.T`` copied
    to a C-contiguous array (once, by the caller, for all its calls): BLAS multiplies
    by it faster than by the transposed view (a (32, 256) @ (256, 1024) product, an
    LSTM step's at batch 32: about 15% faster here).

    ``rows`` = (step_rows, t, previous), for a step t of a layer with an ``activation``,
    writes the output into ``step_rows.hidden[t]`` and, in backward, the gradient after
    the activation into ``step_rows.grads()[t]``; ``previous`` is the index of the row
    that ``x`` is (None for the initial state): see :class:`StepRows`.
    """
    out = np.dot(x.data, weight.data.T if weight_t is None else weight_t,
                 out=None if rows is None else rows[0].hidden[rows[1]])
    if bias is not None:
        out += bias.data
    return _product_node(out, bias, x, weight, activation, True, rows)


def _checked_product(op: str, bias: _Operand | None, x: Tensor, weight: Tensor,
                     activation: str | None, transposed: bool) -> Tensor:
    """``addmm``/``linear`` with their operands checked: ``bias + x @ W``, W = ``weight.T``
    if ``transposed`` else ``weight``, through ``_product_node``."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: x and weight must be Tensors, got {type(x).__name__} and "
                        f"{type(weight).__name__}")
    if activation is not None and (not isinstance(activation, str) or activation not in _ACTIVATIONS):
        raise ValueError(f"{op}: activation must be one of {tuple(_ACTIVATIONS)} or None, "
                         f"got {activation!r}")
    a, w = x.data, weight.data
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[1 if transposed else 0]:
        expected = ("x must be (N, in) and weight (out, in)" if transposed
                    else "x and weight must be 2-D with matching inner dimensions")
        raise ValueError(f"{op}: {expected}, got shapes {x.shape} and {weight.shape}")
    out = np.dot(a, w.T if transposed else w)
    if bias is not None:
        bias = _operand(bias, x, op)
        if bias.data.dtype != out.dtype and out.dtype != np.result_type(out, bias.data):
            out = out.astype(np.result_type(out, bias.data))
        try:
            out += bias.data
        except ValueError:
            raise ValueError(f"{op}: bias of shape {bias.shape} does not broadcast to the "
                             f"output's shape {out.shape}") from None
    return _product_node(out, bias, x, weight, activation, transposed)


def _product_node(out: np.ndarray, bias: Tensor | None, x: Tensor, weight: Tensor,
                  activation: str | None, transposed: bool,
                  rows: tuple[StepRows, int, int | None] | None = None) -> Tensor:
    """The node for ``out = bias + x @ W``, W = ``weight.T`` if ``transposed`` else ``weight``.

    Applies ``activation`` to ``out`` in place first. In backward the incoming gradient
    (times act'(pre-activation), written in terms of the output) goes to the bias as it
    is, to x as grad @ W^T, and to the weight as a deferred ``Product``.
    """
    a, w = x.data, weight.data
    w_back = w if transposed else w.T  # grad_x = grad @ w_back
    derivative = None
    if activation is not None:
        forward, derivative = _ACTIVATIONS[activation]
        out = forward(out, out=out)

    def backward(grad):
        if rows is not None:
            step_rows, index, previous = rows
            grads = step_rows.grads()
            grad = np.multiply(grad, derivative(out), out=grads[index])
        elif derivative is not None:
            grad = grad * derivative(out)
        grad_x = np.dot(grad, w_back) if x.requires_grad else None
        if not weight.requires_grad:
            grad_w = None
        elif rows is not None:
            grad_w = Product(grad, a, (grads, index),
                             None if previous is None else (step_rows.hidden, previous))
        elif transposed:
            grad_w = Product(grad, a)
        else:
            grad_w = Product(a, grad)
        return (grad_x, grad_w) if bias is None else (grad, grad_x, grad_w)

    parents = (x, weight) if bias is None else (bias, x, weight)
    return result(out, parents, backward, _PRODUCT_NODE_NAMES[transposed, activation])


_PRODUCT_NODE_NAMES = {(transposed, activation): base if activation is None else f"{base}_{activation}"
                       for transposed, base in ((False, "addmm"), (True, "linear"))
                       for activation in (None, *_ACTIVATIONS)}


@_tensor_first
def rmatmul(a: Tensor, b: _Operand) -> Tensor:
    return matmul(_operand(b, a, "matmul"), a)


# -- fused recurrent cells -------------------------------------------------------------
def _cell_size(op: str, operands: Sequence[tuple[str, Tensor, int]]) -> int:
    """H for a fused cell's ``operands``, (name, tensor, gates) each: float Tensors of one
    dtype and shape (*lead, gates · H), one ``lead`` for all; the last is the state
    (gates 1). Anything else is refused, naming the op, the shapes and the dtypes."""
    state = operands[-1][1]
    if isinstance(state, Tensor) and state.data.ndim and state.data.dtype.kind == "f":
        lead, size, dtype = state.data.shape[:-1], state.data.shape[-1], state.data.dtype
        for _, operand, gates in operands:
            if (not isinstance(operand, Tensor) or operand.data.dtype != dtype
                    or operand.data.shape != (*lead, gates * size)):
                break
        else:
            return size
    described = ", ".join(f"{name} {t.shape if isinstance(t, Tensor) else type(t).__name__}"
                          for name, t, _ in operands)
    if not all(isinstance(t, Tensor) for _, t, _ in operands):
        raise TypeError(f"{op}: expected Tensors, got {described}")
    if len({t.dtype for _, t, _ in operands}) != 1 or state.dtype.kind != "f":
        raise TypeError(f"{op}: expected float tensors of one dtype, got "
                        + ", ".join(f"{name} {t.dtype}" for name, t, _ in operands))
    expected = ", ".join(f"{name} (*lead, {gates}H)" if gates > 1 else f"{name} (*lead, H)"
                         for name, _, gates in operands)
    raise ValueError(f"{op}: expected {expected} with one leading shape, got {described}")


@functools.lru_cache(maxsize=64)
def _lstm_gate_rows(size: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """Constant rows over the 4H gate columns i, f, g, o (each entry repeated H times):

    * scale [½ ½ 1 ½] and shift [½ ½ 0 ½]: tanh(a ⊙ scale) ⊙ scale + shift is
      σ(a) = (1 + tanh(a/2)) / 2 on i, f, o and tanh(a) on g;
    * is_sigmoid [1 1 0 1] and its complement [0 0 1 0]: y ⊙ (is_sigmoid − y) + complement
      is σ(1 − σ) on i, f, o and 1 − g² on g, the derivatives in terms of the outputs y.
    """
    is_sigmoid = np.repeat(np.array([1, 1, 0, 1], dtype=dtype), size)
    rows = (1 - is_sigmoid / 2, is_sigmoid / 2, is_sigmoid, 1 - is_sigmoid)
    for row in rows:
        row.setflags(write=False)
    return rows


@_tensor_first
def lstm_cell(gates: Tensor, cell: Tensor) -> tuple[Tensor, Tensor]:
    """The pointwise half of an LSTM step, fused into one node: ``(h_t, c_t)``.

    ``gates`` (..., 4H) holds the pre-activations a = x_t W_ih^T + b_ih + h_{t−1} W_hh^T
    + b_hh in PyTorch's gate order i, f, g, o; ``cell`` (..., H) is c_{t−1}:

        i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    Backward, from the gradients δh, δc arriving at h_t and c_t (σ' = σ(1 − σ)):

        δc⁺ = δc + δh ⊙ o ⊙ (1 − tanh²(c_t))          everything that reaches c_t
        δa_i = δc⁺ ⊙ g ⊙ σ'(a_i),   δa_f = δc⁺ ⊙ c_{t−1} ⊙ σ'(a_f)
        δa_g = δc⁺ ⊙ i ⊙ (1 − g²),  δa_o = δh ⊙ tanh(c_t) ⊙ σ'(a_o),   δc_{t−1} = δc⁺ ⊙ f

    This is what PyTorch's fused LSTM-cell kernel computes, as one node in place of the
    eight that sigmoid, tanh, slices, products and sums make (tests check it against
    them). All four gates go through one tanh, as σ(a) = (1 + tanh(a/2)) / 2, which never
    overflows; its absolute error is the rounding of numbers near 1 (6e-8 in float32,
    1e-16 in float64), so a σ smaller than that comes out as 0, which is harmless for a
    gate. The output is one (2, ..., H) array, h_t then c_t, and the two tensors
    returned are views of it.
    """
    size = _cell_size("lstm_cell", (("gates", gates, 4), ("cell", cell, 1)))
    a, c_prev = gates.data, cell.data
    scale, shift, is_sigmoid, is_tanh = _lstm_gate_rows(size, a.dtype)
    act = np.multiply(a, scale)  # then i, f, g, o
    np.tanh(act, out=act)
    act *= scale
    act += shift
    i, f, g, o = (act[..., k * size:(k + 1) * size] for k in range(4))
    out = np.empty((2, *c_prev.shape), dtype=a.dtype)
    h, c = out[0], out[1]
    np.multiply(f, c_prev, out=c)
    c += np.multiply(i, g, out=h)  # h as scratch for i ⊙ g
    tanh_c = np.tanh(c)
    np.multiply(o, tanh_c, out=h)

    def backward(grad):
        dh, dc = grad[0], grad[1]
        total = np.multiply(tanh_c, tanh_c)
        np.subtract(1, total, out=total)
        total *= o
        total *= dh
        total += dc  # δc⁺
        dgates = np.empty_like(act)
        np.multiply(total, g, out=dgates[..., :size])
        np.multiply(total, c_prev, out=dgates[..., size:2 * size])
        np.multiply(total, i, out=dgates[..., 2 * size:3 * size])
        np.multiply(dh, tanh_c, out=dgates[..., 3 * size:])
        slope = np.subtract(is_sigmoid, act)
        slope *= act
        slope += is_tanh  # σ(1 − σ) on i, f, o; 1 − g² on g
        dgates *= slope
        total *= f  # δc_{t−1}
        return dgates, total

    node = result(out, (gates, cell), backward, "lstm_cell")
    return view(node, 0), view(node, 1)


@_tensor_first
def gru_cell(input_gates: Tensor, hidden_gates: Tensor, hidden: Tensor) -> Tensor:
    """The pointwise half of a GRU step, fused into one node: h_t.

    ``input_gates`` (..., 3H) is x_t W_ih^T + b_ih and ``hidden_gates`` (..., 3H) is
    h_{t−1} W_hh^T + b_hh, in PyTorch's gate order r, z, n; ``hidden`` (..., H) is h_{t−1}.
    With u and v the input and hidden gates:

        r = σ(u_r + v_r), z = σ(u_z + v_z), n = tanh(u_n + r ⊙ v_n)
        h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

    Backward, from δh = ∂L/∂h_t (σ' = σ(1 − σ)):

        δn⁺ = δh ⊙ (1 − z) ⊙ (1 − n²)                  the gradient of u_n
        δz⁺ = δh ⊙ (h_{t−1} − n) ⊙ σ'(z),  δr⁺ = δn⁺ ⊙ v_n ⊙ σ'(r)
        δu = [δr⁺ | δz⁺ | δn⁺],  δv = [δr⁺ | δz⁺ | δn⁺ ⊙ r],  δh_{t−1} = δh ⊙ z

    This is what PyTorch's fused GRU-cell kernel computes, as one node in place of the
    nine that the primitives would make; tests check it against them. The gates' σ is
    computed through tanh, as in :func:`lstm_cell`.
    """
    size = _cell_size("gru_cell", [("input_gates", input_gates, 3), ("hidden_gates", hidden_gates, 3),
                                    ("hidden", hidden, 1)])
    u, v, h = input_gates.data, hidden_gates.data, hidden.data
    rz = np.add(u[..., :2 * size], v[..., :2 * size])
    rz *= 0.5
    np.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5  # σ(a) = (1 + tanh(a/2)) / 2, as in lstm_cell
    r, z = rz[..., :size], rz[..., size:]
    v_n = v[..., 2 * size:]
    n = np.multiply(r, v_n)
    n += u[..., 2 * size:]
    np.tanh(n, out=n)
    out = np.subtract(h, n)
    out *= z
    out += n  # n + z ⊙ (h − n)

    def backward(grad):
        du = np.empty_like(u)
        d_r, d_z, d_n = du[..., :size], du[..., size:2 * size], du[..., 2 * size:]
        np.subtract(h, n, out=d_z)
        d_z *= grad
        slope = np.multiply(rz, rz)
        np.subtract(rz, slope, out=slope)  # σ'(r), σ'(z)
        d_z *= slope[..., size:]
        dh = np.multiply(grad, z)  # δh_{t−1}
        np.subtract(grad, dh, out=d_n)  # δh ⊙ (1 − z)
        slope_n = np.multiply(n, n)
        np.subtract(1, slope_n, out=slope_n)
        d_n *= slope_n  # δn⁺
        np.multiply(d_n, v_n, out=d_r)
        d_r *= slope[..., :size]
        dv = np.empty_like(v)
        dv[..., :2 * size] = du[..., :2 * size]
        np.multiply(d_n, r, out=dv[..., 2 * size:])
        return du, dv, dh

    return result(out, (input_gates, hidden_gates, hidden), backward, "gru_cell")


# -- reductions --------------------------------------------------------------------------
def _is_int(value) -> bool:
    """A Python or NumPy integer, but not a bool (an int to Python, never an axis or a count here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _axes(op: str, shape: tuple[int, ...], axis, keepdims) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes, validated, and
    ``keepdims`` checked to be a bool."""
    if keepdims is not True and keepdims is not False:
        _check_keepdims(op, shape, keepdims)
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = []
    for item in items:
        if not _is_int(item):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= item < ndim:
            raise ValueError(f"{op}: axis {item} is out of range for a tensor of shape {shape}")
        axes.append(int(item) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


def _check_keepdims(op: str, shape: tuple[int, ...], keepdims) -> None:
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be a bool, got {keepdims!r} (tensor of shape {shape})")


def _expand_reduced(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    return grad if keepdims else np.expand_dims(grad, axes)


def _sum(data: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """``data`` summed over ``axes``; float16 is summed in float32, as PyTorch does, and is
    rounded once at the end by the caller (a sum of 70,000 halves, 35,000, is then exact
    and their mean 0.5, where float16 counting gave 0)."""
    if data.dtype == np.float16:
        return data.sum(axis=axes, keepdims=keepdims, dtype=np.float32)
    return data.sum(axis=axes, keepdims=keepdims)


def _rounded(total, dtype: np.dtype) -> np.ndarray:
    """A float32 sum of float16 data back in float16: inf beyond its range, as in PyTorch,
    without NumPy's overflow warning."""
    with np.errstate(over="ignore"):
        return np.asarray(total).astype(dtype, copy=False)


@_tensor_first
@_torch_keywords
def sum(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    axes = _axes("sum", a.shape, axis, keepdims)
    shape = a.shape

    def backward(grad):
        return (np.broadcast_to(_expand_reduced(grad, axes, keepdims), shape),)

    data = a.data
    if data.dtype.kind in "biu":  # int64, as PyTorch: a total in the input's dtype would wrap
        return result(data.sum(axis=axes, keepdims=keepdims,
                               dtype=np.uint64 if data.dtype == np.uint64 else np.int64),
                      (a,), backward, "sum")
    return result(_rounded(_sum(data, axes, keepdims), data.dtype), (a,), backward, "sum")


@_tensor_first
@_torch_keywords
def mean(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """The average over ``axis``, of a floating-point tensor (PyTorch refuses integers too)."""
    axes = _axes("mean", a.shape, axis, keepdims)
    shape = a.shape
    if a.data.dtype.kind != "f":
        raise TypeError(f"mean: not defined for dtype {a.dtype} (shape {shape}); cast it with "
                        ".astype('float32') first")
    count = int(np.prod([shape[i] for i in axes]))
    if count == 0:
        raise ValueError(f"mean: reducing axes {axes} of shape {shape} averages over no elements")

    def backward(grad):
        expanded = _expand_reduced(grad, axes, keepdims)
        if expanded.dtype == np.float16:  # the count may not fit float16 (1/inf would be 0)
            expanded = (expanded.astype(np.float32) / count).astype(np.float16)
        else:
            expanded = expanded / count
        return (np.broadcast_to(expanded, shape),)

    total = _sum(a.data, axes, keepdims)  # divided in the sum's dtype, for the same reason
    return result(_rounded(total / np.asarray(count, dtype=total.dtype), a.data.dtype), (a,), backward,
                  "mean")


@_tensor_first
@_torch_keywords(indices=lambda *args, **kwargs: argmax(*args, **kwargs))
def max(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """The maximum over ``axis``; ties share the gradient equally, and a NaN is the maximum
    (its gradient shared by the NaNs there), as PyTorch's ``max()``.

    Called with PyTorch's ``dim=`` it returns PyTorch's ``(values, indices)`` pair:

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.max(axis=1).tolist(), x.max(dim=1).indices.tolist()
    ([5.0, 7.0], [1, 0])
    """
    return _extremum("max", np.max, a, axis, keepdims)


@_tensor_first
@_torch_keywords(indices=lambda *args, **kwargs: argmin(*args, **kwargs))
def min(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """The minimum over ``axis``; ties share the gradient equally, and a NaN is the minimum."""
    return _extremum("min", np.min, a, axis, keepdims)


def _extremum(op: str, reduce, a: Tensor, axis, keepdims: bool) -> Tensor:
    axes = _axes(op, a.shape, axis, keepdims)
    if any(a.shape[i] == 0 for i in axes) or (a.size == 0 and not axes):
        raise ValueError(f"{op}: cannot reduce an empty axis (shape {a.shape}, axes {axes})")
    kept = reduce(a.data, axis=axes, keepdims=True)

    def backward(grad):
        mask = a.data == kept
        nan_results = np.isnan(kept)
        if nan_results.any():  # NaN != NaN: the NaNs that made a result NaN share its gradient
            mask |= np.isnan(a.data) & nan_results
        return (mask * (_expand_reduced(grad, axes, keepdims) / mask.sum(axis=axes, keepdims=True)),)

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return result(out, (a,), backward, op)


def _correction(op: str, unbiased, correction) -> float:
    """The subtracted count of var/std: ``correction`` (1 by default), or PyTorch's older
    ``unbiased`` (True is 1, False is 0); both at once is a TypeError, as in torch."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: got both unbiased= and correction= (the older and the newer spelling "
                        "of one argument); pass one")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r}")
        return float(bool(unbiased))
    if correction is None:
        return 1.0
    if isinstance(correction, (bool, np.bool_)) or not isinstance(correction, (numbers.Real, np.generic)):
        raise TypeError(f"{op}: correction must be a number, got {correction!r} (unbiased= takes a bool)")
    return float(correction)


def _variance(op: str, a: Tensor, axis, unbiased, keepdims, correction):
    """Σ (x − mean)² / max(0, N − correction) over ``axis`` and the backward from a gradient of it.

    N − correction ≤ 0 gives inf (nan where x is constant), with PyTorch's warning; the
    gradient there is PyTorch's for a full reduction, grad · (nan where x = mean, else inf)
    (with ``dim=`` torch uses 2/(N − correction) unclamped, which contradicts its own value).
    """
    if isinstance(axis, (bool, np.bool_)) and unbiased is None:  # torch's var(input, unbiased)
        axis, unbiased = None, axis
    axes = _axes(op, a.shape, axis, keepdims)
    if a.data.dtype.kind != "f":
        raise TypeError(f"{op}: not defined for dtype {a.dtype} (shape {a.shape}), as in torch; cast "
                        "it with .astype('float32') first")
    correction = _correction(op, unbiased, correction)
    x = a.data.astype(np.float32) if a.data.dtype == np.float16 else a.data  # as _sum
    count = int(np.prod([a.shape[i] for i in axes]))
    dof = builtins.max(0.0, count - correction)
    if dof == 0:
        warnings.warn(f"{op}: degrees of freedom is <= 0 (correction {correction:g} with {count} "
                      f"elements per result, shape {a.shape}): the result is inf or nan, as in torch",
                      UserWarning, stacklevel=4)
    with np.errstate(invalid="ignore", divide="ignore"):
        centered = x - x.sum(axis=axes, keepdims=True) / np.asarray(count, dtype=x.dtype)
        variance = (centered * centered).sum(axis=axes, keepdims=keepdims) / np.asarray(dof, dtype=x.dtype)
    if dof:
        slope = centered * np.asarray(2 / dof, dtype=x.dtype)
    else:
        slope = np.where(centered == 0, np.nan, np.inf).astype(x.dtype)

    def backward(grad):
        return (_expand_reduced(grad, axes, keepdims) * slope,)

    return variance, backward


@_tensor_first
@_torch_keywords
def var(a: Tensor, axis=None, unbiased: bool | None = None, keepdims: bool = False, *,
        correction: float | None = None) -> Tensor:
    """The variance over ``axis`` (all axes by default), Σ (x − mean)² / (N − correction), as
    ``torch.var``: ``correction`` is 1 (Bessel's) unless given, ``unbiased=False`` is torch's
    older spelling of ``correction=0`` (and ``x.var(False)`` of ``x.var(unbiased=False)``).

    The gradient is 2 (x − mean) / (N − correction). Where N − correction ≤ 0 the result is
    inf (nan for a constant slice) with torch's warning, and so is the gradient (see
    ``_variance``). float16 is computed in float32 and rounded once.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    >>> x.var(dim=1).tolist(), x.var(dim=1, correction=0).data.round(4), x.var(1, False).data.round(4)
    ([1.0, 0.0], array([0.6667, 0.    ], dtype=float32), array([0.6667, 0.    ], dtype=float32))
    """
    variance, backward = _variance("var", a, axis, unbiased, keepdims, correction)
    return result(_rounded(variance, a.data.dtype), (a,), backward, "var")


@_tensor_first
@_torch_keywords
def std(a: Tensor, axis=None, unbiased: bool | None = None, keepdims: bool = False, *,
        correction: float | None = None) -> Tensor:
    """The standard deviation, √``var`` (same arguments), as ``torch.std``.

    Its gradient is var's times grad / (2·std), 0 where std is 0 (torch's choice: the
    derivative of √ is infinite there), nan where N − correction ≤ 0.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([1.0, 1.0, 4.0], requires_grad=True)
    >>> s = x.std()
    >>> s.backward()
    >>> round(s.item(), 4), x.grad.round(4)
    (1.7321, array([-0.2887, -0.2887,  0.5774], dtype=float32))
    """
    variance, variance_backward = _variance("std", a, axis, unbiased, keepdims, correction)
    out = np.sqrt(variance)

    def backward(grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(out == 0, 0, grad / (2 * out)).astype(grad.dtype, copy=False)
        return variance_backward(scaled)

    return result(_rounded(out, a.data.dtype), (a,), backward, "std")


@_tensor_first
@_torch_keywords
def logsumexp(a: Tensor, axis, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis`` (an int or a tuple; torch requires it), as ``torch.logsumexp``.

    Computed as m + log Σ exp(x − m) with m the maximum, so it neither overflows nor
    underflows; m is taken as 0 where it is ±inf, as torch does, so a slice of −inf gives
    −inf, one holding +inf gives +inf, and an empty slice gives −inf (log 0). The gradient
    is grad · softmax(x): nan at the ±inf entries of such slices, as in torch. Bool and
    integer tensors give float32, float16 is computed in float32.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[0.0, 0.0], [1000.0, 1000.0]], requires_grad=True)
    >>> y = x.logsumexp(dim=1)
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([0.6931471824645996, 1000.6931762695312], [[0.5, 0.5], [0.5, 0.5]])
    """
    axes = _axes("logsumexp", a.shape, axis, keepdims)
    data = _floating(a)
    x = data.astype(np.float32) if data.dtype == np.float16 else data
    shift = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    shift = np.where(np.isinf(shift), 0, shift)
    exponentials = np.exp(x - shift)
    totals = exponentials.sum(axis=axes, keepdims=True)
    with np.errstate(divide="ignore"):
        kept = np.log(totals) + shift

    def backward(grad):
        with np.errstate(invalid="ignore"):  # softmax from the forward's terms: exp(x − result)
            return (_expand_reduced(grad, axes, keepdims) * (exponentials / totals),)  # rounds less

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return result(_rounded(out, data.dtype), (a,), backward, "logsumexp")


def _norm_order(p, axis, shape) -> float:
    """``norm``'s ``p`` as a float: a number, inf, or "fro" (the 2-norm over at most two axes,
    as torch's). Other strings, a matrix norm in torch, are refused."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported: only vector norms (a number, inf, or "
                             f"'fro') are (tensor of shape {shape})")
        if isinstance(axis, (tuple, list)) and len(axis) > 2:
            raise ValueError(f"norm: p='fro' takes at most two axes, got dim={axis!r} (tensor of shape "
                             f"{shape}); use p=2 for a vector norm over more")
        return 2.0
    if p is None:
        return 2.0
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Real, np.generic)):
        raise TypeError(f"norm: p must be a number or 'fro', got {p!r} (tensor of shape {shape})")
    return float(p)


@_tensor_first
@_torch_keywords
def norm(a: Tensor, p: float | str = "fro", axis=None, keepdims: bool = False) -> Tensor:
    """The vector p-norm (Σ |x|^p)^(1/p) over ``axis`` (all axes by default), as ``torch.norm``
    and ``torch.linalg.vector_norm``: ``p`` is any number, ±inf (max or min of |x|) or "fro"
    (the default, the 2-norm); p = 0 counts the nonzero entries.

    Gradients are torch's: x / ‖x‖ for p = 2 and sign(x) |x|^(p−1) / ‖x‖^(p−1) in general,
    0 where the norm is 0 (all of x is 0); sign(x) for p = 1; for p = ±inf, sign(x) shared
    equally by the entries whose |x| ties for the result; 0 for p = 0. An inf or negative-p
    norm over an empty slice is refused, as torch does (max and min have no identity).

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[3.0, -4.0], [0.0, 0.0]], requires_grad=True)
    >>> n = x.norm(dim=1)
    >>> n.sum().backward()
    >>> n.tolist(), x.grad.tolist(), x.norm(float("inf")).item(), x.norm(1).item()
    ([5.0, 0.0], [[0.6000000238418579, -0.800000011920929], [0.0, 0.0]], 4.0, 7.0)
    """
    order = _norm_order(p, axis, a.shape)
    axes = _axes("norm", a.shape, axis, keepdims)
    if a.data.dtype.kind != "f":
        raise TypeError(f"norm: not defined for dtype {a.dtype} (shape {a.shape}), as in torch; cast "
                        "it with .astype('float32') first")
    x = a.data.astype(np.float32) if a.data.dtype == np.float16 else a.data
    magnitude = np.abs(x)
    if (order < 0 or order == np.inf) and (any(a.shape[i] == 0 for i in axes) or (a.size == 0 and not axes)):
        raise ValueError(f"norm: the {order:g} norm of an empty slice is undefined (shape {a.shape}, "
                         f"axes {axes}), as in torch")
    if np.isinf(order):
        kept = (np.max if order > 0 else np.min)(magnitude, axis=axes, keepdims=True)

        def slope(out):  # ties for the extreme share it; a nan that made the result nan takes it
            chosen = (magnitude == out) | np.isnan(magnitude)
            return np.sign(x) * chosen / chosen.sum(axis=axes, keepdims=True)
    elif order == 0:
        kept = np.count_nonzero(x, axis=axes, keepdims=True).astype(x.dtype)

        def slope(out):
            return np.zeros_like(x)
    elif order == 1:
        kept = magnitude.sum(axis=axes, keepdims=True)

        def slope(out):
            return np.sign(x)
    else:
        with np.errstate(divide="ignore", over="ignore"):  # a negative p: 0^p = inf, its norm 0
            kept = (x * x if order == 2 else magnitude ** order).sum(axis=axes, keepdims=True)
            kept = np.sqrt(kept) if order == 2 else kept ** (1 / order)

        def slope(out):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if order == 2:
                    scaled = x / out
                else:
                    power = np.where(x == 0, 0, magnitude ** (order - 1))
                    scaled = np.sign(x) * power * out ** (1 - order)
                return np.where(out == 0, 0, scaled).astype(x.dtype, copy=False)

    def backward(grad):
        return (_expand_reduced(grad, axes, keepdims) * slope(kept),)

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return result(_rounded(out, a.data.dtype), (a,), backward, "norm")


def _running_sum(data: np.ndarray, axis: int) -> np.ndarray:
    """``np.cumsum`` along ``axis`` (of an array with at least one), in PyTorch's dtypes: bool and
    integers count in int64, float16 is summed in float32 and rounded once, as in ``_sum``."""
    if data.dtype.kind in "biu":
        return np.cumsum(data, axis=axis, dtype=np.uint64 if data.dtype == np.uint64 else np.int64)
    if data.dtype == np.float16:
        return _rounded(np.cumsum(data, axis=axis, dtype=np.float32), data.dtype)
    return np.cumsum(data, axis=axis)


@_tensor_first
def cumsum(input: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim`` (required, as torch's; 0 or −1 for a 0-d tensor), as
    ``torch.cumsum``: y_i = Σ_{j≤i} x_j, so ∂L/∂x_j = Σ_{i≥j} ∂L/∂y_i, the running sum of the
    gradient from the far end. Bool and integer tensors give int64.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x.cumsum(0)
    >>> y.backward(tg.Tensor([1.0, 0.0, 10.0]))
    >>> y.tolist(), x.grad.tolist()
    ([1.0, 3.0, 6.0], [11.0, 10.0, 10.0])
    """
    axis = _axis("cumsum", input.shape, dim, name="dim")
    shape = input.shape
    data = input.data if input.ndim else input.data.reshape(1)

    def backward(grad):
        work = grad.reshape(data.shape)
        return (np.flip(_running_sum(np.flip(work, axis), axis), axis).reshape(shape),)

    return result(_running_sum(data, axis).reshape(shape), (input,), backward, "cumsum")


@_tensor_first
def clone(a: Tensor) -> Tensor:
    """A copy of ``a`` that stays in the graph, its gradient passed straight back, as
    ``torch.clone`` (``detach`` is the copy that leaves the graph)."""
    return result(a.data.copy(), (a,), lambda grad: (grad,), "clone")


# -- shape ops ---------------------------------------------------------------------------
def _reshaped(a: Tensor, shape, op: str) -> Tensor:
    """The node for ``a`` with its data reshaped to ``shape`` (a view when NumPy can make
    one); the gradient is reshaped back. ``reshape``, ``squeeze``, ``unsqueeze`` and
    ``flatten`` check their arguments and make this one node, named after themselves."""
    original = a.shape

    def backward(grad):
        return (grad.reshape(original),)

    return result(a.data.reshape(shape), (a,), backward, op)


def _axis(op: str, shape: tuple[int, ...], axis, extent: int | None = None, name: str = "axis") -> int:
    """``axis`` as an index in [0, extent), PyTorch's range: ``extent`` is the number of axes
    by default, where a 0-d tensor counts as having one (its axis is 0 or −1)."""
    extent = (len(shape) or 1) if extent is None else extent
    if not _is_int(axis):
        raise TypeError(f"{op}: {name} must be an int, got {axis!r} (tensor of shape {shape})")
    if not -extent <= axis < extent:
        raise ValueError(f"{op}: {name} {axis} is out of range [{-extent}, {extent - 1}] for a "
                         f"tensor of shape {shape}")
    return int(axis) % extent


@_tensor_first
def reshape(a: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return _reshaped(a, shape, "reshape")
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}"
        ) from None


@_tensor_first
@_torch_keywords
def squeeze(a: Tensor, axis=None) -> Tensor:
    """Remove axes of size 1: every one (``axis=None``), or those of ``axis`` (an int or a tuple).

    PyTorch's semantics, not NumPy's: an axis named in ``axis`` whose size is not 1 stays
    where it is instead of raising, so ``squeeze(x, 0)`` is safe on a batch of any size.

    >>> import tinygrad_rnn as tg
    >>> x = tg.zeros(2, 1, 3, 1)
    >>> x.squeeze().shape, x.squeeze(1).shape, x.squeeze((0, -1)).shape
    ((2, 3), (2, 3, 1), (2, 1, 3))
    """
    if axis is None:
        chosen = range(a.ndim)
    else:
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        chosen = [_axis("squeeze", a.shape, item) for item in items]
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"squeeze: repeated axis in {axis!r} (tensor of shape {a.shape})")
    shape = tuple(n for i, n in enumerate(a.shape) if n != 1 or i not in chosen)
    return _reshaped(a, shape, "squeeze")


@_tensor_first
@_torch_keywords
def unsqueeze(a: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis``, in [−ndim − 1, ndim] (−1 appends it), as PyTorch.

    >>> import tinygrad_rnn as tg
    >>> tg.zeros(2, 3).unsqueeze(1).shape, tg.zeros(2, 3).unsqueeze(-1).shape
    ((2, 1, 3), (2, 3, 1))
    """
    axis = _axis("unsqueeze", a.shape, axis, extent=a.ndim + 1)
    return _reshaped(a, (*a.shape[:axis], 1, *a.shape[axis:]), "unsqueeze")


@_tensor_first
def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes from ``start_dim`` through ``end_dim`` (both included) into one, as
    ``torch.flatten``; a 0-d tensor becomes shape (1,).

    >>> import tinygrad_rnn as tg
    >>> x = tg.zeros(2, 3, 4, 5)
    >>> x.flatten().shape, x.flatten(1).shape, x.flatten(1, 2).shape, tg.zeros(()).flatten().shape
    ((120,), (2, 60), (2, 12, 5), (1,))
    """
    start = _axis("flatten", a.shape, start_dim, name="start_dim")
    end = _axis("flatten", a.shape, end_dim, name="end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (tensor of "
                         f"shape {a.shape})")
    if a.ndim == 0:
        return _reshaped(a, (1,), "flatten")
    merged = int(np.prod(a.shape[start:end + 1]))
    return _reshaped(a, (*a.shape[:start], merged, *a.shape[end + 1:]), "flatten")


def _transposed(a: Tensor, axes: tuple[int, ...], op: str) -> Tensor:
    """The node for ``a`` with its axes permuted by ``axes`` (a view); the gradient goes
    through the inverse permutation."""
    inverse = tuple(np.argsort(axes))

    def backward(grad):
        return (grad.transpose(inverse),)

    return result(a.data.transpose(axes), (a,), backward, op)


def _permutation(op: str, a: Tensor, axes: tuple) -> tuple[int, ...]:
    """``axes`` as non-negative ints, checked to be a permutation of ``a``'s axes."""
    for i in axes:
        if not _is_int(i):
            raise TypeError(f"{op}: axes must be ints, got {axes!r} (tensor of shape {a.shape})")
        if not -a.ndim <= i < a.ndim:
            raise ValueError(f"{op}: axis {i} is out of range for a tensor of shape {a.shape}")
    normalized = tuple(int(i) % a.ndim for i in axes)
    if len(axes) != a.ndim or sorted(normalized) != list(range(a.ndim)):
        hint = ("; PyTorch's transpose(dim0, dim1) swaps two axes: use permute with the whole order"
                if op == "transpose" and len(axes) == 2 else "")
        raise ValueError(f"{op}: axes {axes} are not a permutation for a tensor of shape {a.shape}{hint}")
    return normalized


@_tensor_first
def transpose(a: Tensor, *axes) -> Tensor:
    """Permute axes (reverse them when none are given), like ``np.transpose``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:  # reversing the axes is its own inverse (W.T in every layer, every step)
        return result(a.data.T, (a,), lambda grad: (grad.T,), "transpose")
    return _transposed(a, _permutation("transpose", a, axes), "transpose")


@_tensor_first
def permute(a: Tensor, *dims) -> Tensor:
    """Reorder the axes: output axis i is input axis ``dims[i]``, as ``torch.permute``.

    ``dims`` come as separate ints or as one tuple or list, and must name every axis
    once (negative ones count from the end). Unlike ``transpose``, no dims is not
    "reverse them": it is the permutation of a 0-d tensor, and an error otherwise.

    >>> import tinygrad_rnn as tg
    >>> x = tg.zeros(2, 3, 4)
    >>> x.permute(2, 0, 1).shape, x.permute([-1, 1, 0]).shape
    ((4, 2, 3), (4, 3, 2))
    """
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return _transposed(a, _permutation("permute", a, dims), "permute")


@_tensor_first
def t(input: Tensor) -> Tensor:
    """The transpose of a matrix, as ``torch.t``: a 0-d or 1-D tensor comes back as it is (a
    node passing the gradient through), more than two axes are an error (``transpose``
    reverses any number, ``permute`` takes any order)."""
    if input.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {input.shape}; "
                         "use transpose or permute")
    return transpose(input)


@_tensor_first
@_torch_keywords
def argmax(a: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value, as ``torch.argmax``: over the flattened tensor when ``axis``
    is None, else along ``axis``; the first one wins a tie, and NaN counts as the largest.

    The result is an int64 tensor outside the graph (an index has no gradient).

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    >>> x.argmax().item(), x.argmax(axis=1).tolist(), x.argmax(axis=0, keepdims=True).tolist()
    (1, [1, 0], [[1, 0, 0]])
    """
    return _arg_extremum("argmax", np.argmax, a, axis, keepdims)


@_tensor_first
@_torch_keywords
def argmin(a: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value, as ``torch.argmin`` (see ``argmax``; NaN counts as the smallest).

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 2.0]]).argmin(axis=1).tolist()
    [2, 0]
    """
    return _arg_extremum("argmin", np.argmin, a, axis, keepdims)


def _arg_extremum(op: str, find, a: Tensor, axis, keepdims: bool) -> Tensor:
    if a.dtype.kind == "b":
        raise TypeError(f"{op}: a bool tensor has no order (shape {a.shape}); cast it with .astype first")
    _check_keepdims(op, a.shape, keepdims)
    if axis is None:
        if a.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor (shape {a.shape}); give an axis")
        index = np.asarray(find(a.data), dtype=np.int64)
        return _leaf(index.reshape((1,) * a.ndim) if keepdims else index)
    axis = _axis(op, a.shape, axis)
    if a.ndim == 0:  # the one element of a 0-d tensor, along its axis 0
        return _leaf(np.zeros((), dtype=np.int64))
    if a.shape[axis] == 0:
        raise ValueError(f"{op}: cannot reduce an empty axis (shape {a.shape}, axis {axis})")
    return _leaf(find(a.data, axis=axis, keepdims=keepdims).astype(np.int64, copy=False))


def _normalize_index(op: str, a: Tensor, index):
    """Convert Tensors and lists in an index to arrays; say whether it is basic slicing.

    An empty index array selects nothing whatever its dtype, so it counts as an integer
    one: ``x[[]]`` is empty along the first axis, as in PyTorch (``np.asarray([])`` would
    be a float index).
    """
    items = index if isinstance(index, tuple) else (index,)
    converted, basic = [], True
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            try:
                item = np.asarray(item)
            except ValueError:
                raise IndexError(f"{op}: the index list {item!r} is ragged (indexing a tensor of "
                                 f"shape {a.shape})") from None
        if isinstance(item, (bool, np.bool_)):
            # x[True] is x[None] masked: a copy, not a view, so it is gathered (as a mask)
            basic = False
        elif isinstance(item, np.ndarray):
            if item.dtype.kind not in "biu" and item.size == 0:
                item = item.astype(np.intp)
            elif item.dtype.kind not in "biu":
                raise TypeError(
                    f"{op}: index arrays must be integer or boolean, got dtype {item.dtype} "
                    f"(indexing a tensor of shape {a.shape})"
                )
            basic = False
        elif not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            raise TypeError(f"{op}: unsupported index {item!r} for a tensor of shape {a.shape}")
        converted.append(item)
    return (tuple(converted) if isinstance(index, tuple) else converted[0]), basic


@_tensor_first
def getitem(a: Tensor, index) -> Tensor:
    """``a[index]``: slicing and integer-array gather; backward scatter-adds (repeats add up).

    Basic indexing (ints, slices, None, Ellipsis) makes a view (see ``tensor.view``);
    an index with arrays makes a gather node.
    """
    if type(index) is int or type(index) is slice or (
            type(index) is tuple and all(type(part) is slice or type(part) is int for part in index)):
        basic = True  # x[t] or an LSTM's gates[:, :H]: nothing to convert
    else:
        index, basic = _normalize_index("getitem", a, index)
    try:
        if basic:
            return view(a, index)
        data = a.data
        if type(index) is np.ndarray and index.dtype.kind in "iu" and data.ndim:
            # Rows gathered by one integer array (an embedding's or a token projection's
            # lookup): ``take`` is ``data[index]``, 2-4 times faster when the rows are strided
            # (a transposed weight).
            out = np.take(data, index, axis=0)
        else:
            out = data[index]
    except (IndexError, ValueError, TypeError) as error:
        # NumPy's reason (an index out of range, a zero slice step, a float slice bound, ...)
        # under the op's name, with the same exception type.
        kind = next(kind for kind in (IndexError, ValueError, TypeError) if isinstance(error, kind))
        raise kind(f"getitem: {error} (tensor of shape {a.shape})") from None

    def backward(grad):
        return (Scatter(index, grad, False),)

    return result(out, (a,), backward, "getitem")


def check_padding_idx(owner: str, padding_idx: int | None, count: int) -> int | None:
    """``padding_idx`` for a table of ``count`` rows: None, or an int in [−count, count),
    returned in [0, count) (a negative one counts from the end, as in PyTorch)."""
    if padding_idx is None:
        return None
    if not _is_int(padding_idx):
        raise TypeError(f"{owner}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -count <= padding_idx < count:
        raise ValueError(f"{owner}: padding_idx must lie in [-{count}, {count}) for {count} "
                         f"embeddings, got {padding_idx}")
    return int(padding_idx) % count


@_tensor_first
def embedding(weight: Tensor, ids, padding_idx: int | None = None) -> Tensor:
    """The rows of a (N, D) ``weight`` at integer ``ids`` of any shape: (..., D).

    It is ``weight[ids]`` (repeated ids add their gradients), except that the row
    ``padding_idx``, if given, gets no gradient from any position: PyTorch's
    ``F.embedding(ids, weight, padding_idx)``, with the tensor first as in every op here.
    """
    data = weight.data
    if data.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape "
                         f"{weight.shape}")
    try:
        index = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    except ValueError:  # a ragged list: NumPy's "inhomogeneous shape" would name neither
        raise ValueError(f"embedding: ids must be an array of integers, got a ragged "
                         f"{type(ids).__name__} (weight of shape {weight.shape})") from None
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {index.dtype} (shape "
                        f"{index.shape}) for a weight of shape {weight.shape}")
    count = data.shape[0]
    if index.size and (index.min() < 0 or index.max() >= count):
        raise IndexError(f"embedding: ids must lie in [0, {count}) for a weight of shape "
                         f"{weight.shape}, got values from {index.min()} to {index.max()}")
    return embedding_prechecked(weight, index, check_padding_idx("embedding", padding_idx, count))


def embedding_prechecked(weight: Tensor, index: np.ndarray, padding_idx: int | None) -> Tensor:
    """:func:`embedding` for ids the caller has checked (integers in range, as
    ``nn.Embedding`` checks them under its own name) and a ``padding_idx`` in [0, N) or None."""
    def backward(grad):
        if padding_idx is not None:
            grad = np.where((index == padding_idx)[..., None], grad.dtype.type(0), grad)
        return (Scatter(index, grad, False),)

    return result(weight.data[index], (weight,), backward, "embedding")


def _integer_index(op: str, input: Tensor, index) -> np.ndarray:
    """``index``'s data: an integer Tensor or NumPy array (torch takes only a Tensor; bool,
    float and Python lists are refused, as there)."""
    data = index.data if isinstance(index, Tensor) else index
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{op}: index must be an integer Tensor or array, got {type(index).__name__} "
                        f"(input of shape {input.shape})")
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers, got dtype {data.dtype} (index of shape "
                        f"{data.shape}, input of shape {input.shape})")
    return data


def _check_index_range(op: str, input: Tensor, index: np.ndarray, dim: int, extent: int) -> None:
    """Every value of ``index`` in [0, extent), the length of ``input`` along ``dim``; negative
    values are refused, as torch refuses them here (getitem counts them from the end)."""
    outside = (index < 0) | (index >= extent)
    if outside.any():
        raise ValueError(f"{op}: index values must lie in [0, {extent}) along dim {dim} of the input of "
                         f"shape {input.shape}, got {index[outside][0]} (index of shape {index.shape})")


def _scatter_added(grad: np.ndarray, shape: tuple[int, ...], key: tuple) -> np.ndarray:
    """Zeros of ``shape`` with ``grad`` added at ``key`` (repeated positions add up)."""
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, key, grad)
    return out


@_tensor_first
def gather(input: Tensor, dim: int, index) -> Tensor:
    """The entries of ``input`` that ``index`` picks along ``dim``, as ``torch.gather``:
    ``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0 (likewise for the others).

    ``index`` is an integer Tensor or array with as many axes as ``input`` (a 0-d one counts
    as having one), at most as long as ``input`` on every axis but ``dim``, with values in
    [0, input.shape[dim]); the result has ``index``'s shape and ``input``'s dtype. Backward
    adds the gradient into the picked places (repeats add up).

    >>> import numpy as np, tinygrad_rnn as tg
    >>> scores = tg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> picked = scores.gather(1, np.array([[2], [0]]))
    >>> picked.sum().backward()
    >>> picked.tolist(), scores.grad.tolist()
    ([[3.0], [4.0]], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    """
    index = _integer_index("gather", input, index)
    axis = _axis("gather", input.shape, dim, name="dim")
    data = input.data if input.ndim else input.data.reshape(1)
    positions = index if index.ndim else index.reshape(1)
    if positions.ndim != data.ndim:
        raise ValueError(f"gather: index must have as many dimensions as input, got index of shape "
                         f"{index.shape} for input of shape {input.shape}")
    if positions.size:  # torch checks nothing of an empty index
        if any(n > data.shape[d] for d, n in enumerate(positions.shape) if d != axis):
            raise ValueError(f"gather: index of shape {index.shape} is longer than the input of shape "
                             f"{input.shape} along a dim other than {axis}")
        _check_index_range("gather", input, positions, axis, data.shape[axis])
    # Each position's full coordinates: the index along dim, its own place along the others.
    key = tuple(positions if d == axis else
                np.arange(n).reshape([n if e == d else 1 for e in range(positions.ndim)])
                for d, n in enumerate(positions.shape))
    shape = input.shape

    def backward(grad):
        return (_scatter_added(grad.reshape(positions.shape), data.shape, key).reshape(shape),)

    return result(data[key].reshape(index.shape), (input,), backward, "gather")


@_tensor_first
def index_select(input: Tensor, dim: int, index) -> Tensor:
    """The slices of ``input`` at the positions ``index`` names along ``dim``, as
    ``torch.index_select``: ``index`` is a 1-D (or 0-d) integer Tensor or array with values
    in [0, input.shape[dim]), and the result is ``input`` with that axis ``len(index)`` long.
    A 0-d input takes one position, 0, and stays 0-d. Repeated positions add their gradients.

    >>> import numpy as np, tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> rows = x.index_select(1, np.array([2, 2, 0]))
    >>> rows.sum().backward()
    >>> rows.tolist(), x.grad.tolist()
    ([[3.0, 3.0, 1.0], [6.0, 6.0, 4.0]], [[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]])
    """
    index = _integer_index("index_select", input, index)
    axis = _axis("index_select", input.shape, dim, name="dim")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D or 0-d, got shape {index.shape} (input of "
                         f"shape {input.shape})")
    positions = index.reshape(-1)
    data = input.data if input.ndim else input.data.reshape(1)
    if not input.ndim and positions.size != 1:
        raise ValueError(f"index_select: a 0-d input takes exactly one index, got index of shape "
                         f"{index.shape}")
    _check_index_range("index_select", input, positions, axis, data.shape[axis])
    out = np.take(data, positions, axis=axis)
    key, selected, shape = (slice(None),) * axis + (positions,), out.shape, input.shape

    def backward(grad):
        return (_scatter_added(grad.reshape(selected), data.shape, key).reshape(shape),)

    return result(out if input.ndim else out.reshape(shape), (input,), backward, "index_select")


def _as_tensors(op: str, tensors) -> list[Tensor]:
    # A list or tuple skips the Sequence ABC's isinstance, several times slower (a
    # recurrent layer stacks its outputs at every call).
    if (type(tensors) not in (list, tuple) and (isinstance(tensors, Tensor)
                                                or not isinstance(tensors, Sequence))) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors, got {type(tensors).__name__}")
    out = []
    for t in tensors:
        if type(t) is not Tensor:
            if isinstance(t, np.ndarray):
                if t.dtype.kind not in "biuf":
                    raise TypeError(f"{op}: arrays must hold booleans, integers or floats, got dtype "
                                    f"{t.dtype} (shape {t.shape})")
                t = _leaf(t)
            elif not isinstance(t, Tensor):
                raise TypeError(f"{op}: expected tensors or arrays, got {type(t).__name__}")
        out.append(t)
    return out


@_torch_keywords
def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate``."""
    tensors = _as_tensors("concatenate", tensors)
    shapes = [t.shape for t in tensors]
    if not all(shapes):
        raise ValueError(f"concatenate: 0-d tensors have no axis to join along, got shapes {shapes}; "
                         "use stack")
    axis = _axis("concatenate", shapes[0], axis)
    try:
        out = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(
            f"concatenate: shapes {shapes} must match except along axis {axis}"
        ) from None
    bounds = np.cumsum([s[axis] for s in shapes])[:-1]

    def backward(grad):
        return tuple(np.split(grad, bounds, axis=axis))

    return result(out, tuple(tensors), backward, "concatenate")


cat = concatenate  # PyTorch's name


@_torch_keywords
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis, like ``np.stack``."""
    tensors = _as_tensors("stack", tensors)
    arrays = [t.data for t in tensors]
    shape = arrays[0].shape
    if len({array.shape for array in arrays}) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    axis = _axis("stack", shape, axis, extent=len(shape) + 1)
    if axis == 0 and shape:
        # Joining along the existing first axis lays the arrays out exactly as stacking
        # does, and np.concatenate is a single C call (np.stack adds a Python loop).
        out = np.concatenate(arrays).reshape(len(arrays), *shape)
    else:
        out = np.stack(arrays, axis=axis)

    def backward(grad):
        return tuple(grad if axis == 0 else np.moveaxis(grad, axis, 0))

    return result(out, tuple(tensors), backward, "stack")


@_tensor_first
def split(a: Tensor, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Split along ``axis`` like ``np.split``: a number of equal sections, or split indices."""
    if a.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    axis = _axis("split", a.shape, axis)
    length = a.shape[axis]
    if _is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: axis {axis} of length {length} cannot be split into {sections} equal sections "
                f"(tensor of shape {a.shape})"
            )
        step = length // sections
        bounds = [(i * step, (i + 1) * step) for i in range(sections)]
    elif isinstance(indices_or_sections, (list, tuple, np.ndarray)) and all(
            _is_int(i) for i in indices_or_sections):
        cuts = [0, *(int(i) for i in indices_or_sections), length]
        bounds = list(zip(cuts[:-1], cuts[1:]))
    else:
        raise TypeError(f"split: indices_or_sections must be a number of sections (an int) or a "
                        f"list of split indices (ints), got {indices_or_sections!r} (tensor of "
                        f"shape {a.shape})")
    lead = (slice(None),) * axis
    return [getitem(a, (*lead, slice(start, stop))) for start, stop in bounds]


@_tensor_first
@_torch_keywords
def chunk(a: Tensor, chunks: int, axis: int = 0) -> list[Tensor]:
    """Split along ``axis`` (PyTorch's ``dim``) into pieces of ceil(n / ``chunks``), the last one
    smaller, as ``torch.chunk``: so fewer than ``chunks`` pieces may come back (5 into 4 gives
    2, 2, 1); an empty axis gives ``chunks`` empty pieces. Each piece is a view (``split``).

    >>> import tinygrad_rnn as tg
    >>> [piece.shape for piece in tg.zeros(5, 2).chunk(3)], len(tg.zeros(6).chunk(4))
    ([(2, 2), (2, 2), (1, 2)], 3)
    """
    if not _is_int(chunks):
        raise TypeError(f"chunk: chunks must be an int, got {chunks!r} (tensor of shape {a.shape})")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be at least 1, got {chunks} (tensor of shape {a.shape})")
    if a.ndim == 0:
        raise ValueError("chunk: cannot chunk a 0-d tensor")
    axis = _axis("chunk", a.shape, axis)
    length = a.shape[axis]
    if length == 0:
        return split(a, [0] * (int(chunks) - 1), axis)
    step = -(-length // int(chunks))
    return split(a, list(range(step, length, step)), axis)


@_tensor_first
def expand(a: Tensor, *sizes) -> Tensor:
    """``a`` broadcast to ``sizes`` without copying, as ``torch.Tensor.expand``: sizes come as
    ints or one tuple; new axes may be added in front; −1 keeps an axis's size, and only an
    axis of size 1 can take another size (0 included). The gradient is summed back.

    The result is a read-only view of ``a``'s data.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0], [2.0]], requires_grad=True)
    >>> y = x.expand(3, -1, 4)
    >>> y.sum().backward()
    >>> y.shape, x.grad.tolist()
    ((3, 2, 4), [[12.0], [12.0]])
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(_is_int(size) for size in sizes):
        raise TypeError(f"expand: sizes must be ints, got {sizes!r} (tensor of shape {a.shape})")
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {tuple(sizes)} for a tensor of shape {a.shape}: "
                         f"give at least one per axis ({a.ndim})")
    shape = []
    for i, size in enumerate(int(size) for size in sizes):
        existing = a.shape[i - lead] if i >= lead else None
        if existing is None and size < 0:
            raise ValueError(f"expand: size {size} is not allowed for the new leading axis {i} "
                             f"(sizes {tuple(sizes)}, tensor of shape {a.shape})")
        if existing is not None and size == -1:
            size = existing
        elif existing is not None and size != existing and (existing != 1 or size < 0):
            raise ValueError(f"expand: size {size} must match the existing size {existing} at axis "
                             f"{i}, which is not 1 (sizes {tuple(sizes)}, tensor of shape {a.shape})")
        shape.append(size)
    return result(np.broadcast_to(a.data, tuple(shape)), (a,), lambda grad: (grad,), "expand")


@_tensor_first
def repeat(input: Tensor, *sizes) -> Tensor:
    """``input`` tiled ``sizes[i]`` times along axis i, as ``torch.Tensor.repeat`` (NumPy's
    ``tile``): sizes come as ints or one tuple, at least one per axis (extra ones add leading
    axes), 0 allowed. Unlike ``expand`` it copies; the gradient sums the tiles.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = x.repeat(3, 2, 1)
    >>> y.sum().backward()
    >>> y.shape, y[0].tolist(), x.grad.tolist()
    ((3, 2, 2), [[1.0, 2.0], [1.0, 2.0]], [[6.0, 6.0]])
    """
    if not sizes:
        raise TypeError(f"repeat: give the number of repeats along each axis, none given (tensor of "
                        f"shape {input.shape})")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(_is_int(size) for size in sizes):
        raise TypeError(f"repeat: sizes must be ints, got {sizes!r} (tensor of shape {input.shape})")
    sizes = tuple(int(size) for size in sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes {sizes} for a tensor of shape {input.shape}: give "
                         f"at least one per axis ({input.ndim})")
    if any(size < 0 for size in sizes):
        raise ValueError(f"repeat: sizes must not be negative, got {sizes} (tensor of shape "
                         f"{input.shape})")
    shape = input.shape
    padded = (1,) * (len(sizes) - input.ndim) + shape

    def backward(grad):
        # Axis i of the output is (tile, position): split each, then sum over the tiles.
        tiles = grad.reshape([n for pair in zip(sizes, padded) for n in pair])
        return (tiles.sum(axis=tuple(range(0, tiles.ndim, 2))).reshape(shape),)

    return result(np.tile(input.data, sizes), (input,), backward, "repeat")


@_tensor_first
def astype(a: Tensor, dtype) -> Tensor:
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""
    dtype = _as_dtype(dtype, "astype")
    if dtype.kind not in "biuf":
        raise TypeError(f"astype: unsupported dtype {dtype} (tensor of shape {a.shape} and dtype "
                        f"{a.dtype}); use a boolean, integer or floating-point dtype")
    if a.requires_grad and not np.issubdtype(dtype, np.floating):
        raise TypeError(f"astype: cannot cast a tensor that requires grad to {dtype}")
    source = a.data.dtype

    def backward(grad):
        return (grad.astype(source),)

    return result(a.data.astype(dtype), (a,), backward, "astype")


# -- elementwise functions ---------------------------------------------------------------
def _floating(a: Tensor) -> np.ndarray:
    """``a``'s data for exp, log, tanh, ...: as it is if floating point, else (bool or integer)
    as float32, PyTorch's default dtype, where NumPy would pick float16 or float64."""
    data = a.data
    return data if data.dtype.kind == "f" else data.astype(np.float32)


@_tensor_first
def exp(a: Tensor) -> Tensor:
    out = np.exp(_floating(a))

    def backward(grad):
        return (grad * out,)

    return result(out, (a,), backward, "exp")


@_tensor_first
def log(a: Tensor) -> Tensor:
    x = _floating(a)

    def backward(grad):
        return (grad / x,)

    return result(np.log(x), (a,), backward, "log")


@_tensor_first
def log1p(a: Tensor) -> Tensor:
    """log(1 + x), exact where 1 + x would round x away; the gradient is grad / (1 + x).

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([1e-20], dtype="float64").log1p().item()
    1e-20
    """
    x = _floating(a)

    def backward(grad):
        with np.errstate(divide="ignore"):  # at x = −1 the gradient is infinite, as in PyTorch
            return (grad / (1 + x),)

    return result(np.log1p(x), (a,), backward, "log1p")


@_tensor_first
def expm1(a: Tensor) -> Tensor:
    """e^x − 1, exact where e^x − 1 would cancel; the gradient is grad · e^x.

    The gradient recomputes e^x rather than take (e^x − 1) + 1, which is 0 once e^x is
    below an ulp of 1 (x < −37 in float64).

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([1e-20], dtype="float64").expm1().item()
    1e-20
    """
    x = _floating(a)

    def backward(grad):
        return (grad * np.exp(x),)

    return result(np.expm1(x), (a,), backward, "expm1")


def _elementwise_float64(function, x: np.ndarray) -> np.ndarray:
    """``function`` (a ``math`` one) of each element of ``x``, computed in float64 and
    rounded to ``x``'s dtype: for what NumPy lacks (erf, erfc)."""
    values = np.fromiter(map(function, x.ravel().tolist()), dtype=np.float64, count=x.size)
    return values.reshape(x.shape).astype(x.dtype, copy=False)


def _gaussian_slope(x: np.ndarray) -> np.ndarray:
    """(2/√π) e^−x², erf's derivative (x² = inf for a huge x: e^−inf = 0)."""
    with np.errstate(over="ignore"):
        return np.exp(-np.square(x)) * x.dtype.type(2 / math.sqrt(math.pi))


@_tensor_first
def erf(a: Tensor) -> Tensor:
    """The error function, (2/√π) ∫₀ˣ e^−t² dt; the gradient is grad · (2/√π) e^−x².

    NumPy has no erf: each element goes through the C library's, ``math.erf``, in float64
    (about 80 ns per element here, some 40 times NumPy's tanh), rounded to the input's
    float dtype.

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([0.0, 1.0, -3.0], dtype="float64").erf().tolist()
    [0.0, 0.8427007929497149, -0.9999779095030014]
    """
    x = _floating(a)

    def backward(grad):
        return (grad * _gaussian_slope(x),)

    return result(_elementwise_float64(math.erf, x), (a,), backward, "erf")


@_tensor_first
def erfc(a: Tensor) -> Tensor:
    """1 − erf(x), exact where 1 − erf(x) would cancel (x ≫ 0: erfc(10) ≈ 2e−45, where
    1 − erf(10) is 0); the gradient is −grad · (2/√π) e^−x². Through ``math.erfc``, as
    :func:`erf`.

    >>> import tinygrad_rnn as tg
    >>> tg.Tensor([0.0, 10.0], dtype="float64").erfc().tolist()
    [1.0, 2.088487583762545e-45]
    """
    x = _floating(a)

    def backward(grad):
        return (-(grad * _gaussian_slope(x)),)

    return result(_elementwise_float64(math.erfc, x), (a,), backward, "erfc")


@_tensor_first
def sqrt(a: Tensor) -> Tensor:
    """√x; the gradient is grad / (2√x) (infinite at 0, as in PyTorch)."""
    out = np.sqrt(_floating(a))

    def backward(grad):
        with np.errstate(divide="ignore"):
            return (grad / (2 * out),)

    return result(out, (a,), backward, "sqrt")


@_tensor_first
def abs(a: Tensor) -> Tensor:
    """|x|; the gradient is grad · sign(x), 0 at x = 0 and at nan (PyTorch's choices)."""
    def backward(grad):
        sign = np.sign(a.data)
        return (grad * np.where(np.isnan(sign), 0, sign).astype(sign.dtype, copy=False),)

    return result(np.abs(a.data), (a,), backward, "abs")


@_tensor_first
def clamp(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """x limited to [min, max] (either bound may be None), as ``torch.clamp``: the gradient
    passes where min ≤ x ≤ max and is 0 where a bound cut x off."""
    if min is None and max is None:
        raise ValueError(f"clamp: give min, max or both (input shape {a.shape})")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and (isinstance(bound, bool)
                                  or not isinstance(bound, (numbers.Real, np.generic))):
            raise TypeError(f"clamp: {name} must be a number or None, got {bound!r}")
    data = a.data
    if data.dtype.kind != "f":  # PyTorch's types: a float bound makes float32, a bool tensor int64
        fractional = any(isinstance(bound, (float, np.floating)) for bound in (min, max))
        data = data.astype(np.float32 if fractional else np.int64 if data.dtype.kind == "b" else data.dtype)
    if data.dtype.kind in "iu":
        info = np.iinfo(data.dtype)
        if any(bound is not None and not info.min <= bound <= info.max for bound in (min, max)):
            raise ValueError(f"clamp: the bounds min={min!r}, max={max!r} do not fit the dtype "
                             f"{data.dtype} of the tensor of shape {a.shape}")
    out = np.clip(data, min, max).astype(data.dtype, copy=False)  # a NumPy scalar bound may widen

    def backward(grad):
        # Where min ≤ x ≤ max, bounds included (so min > max passes nothing), as torch.
        inside = np.ones(data.shape, dtype=bool) if min is None else data >= min
        if max is not None:
            inside &= data <= max
        return (grad * inside,)

    return result(out, (a,), backward, "clamp")


def _activation(a: Tensor, name: str, keeps_integers: bool = False) -> Tensor:
    forward, derivative = _ACTIVATIONS[name]
    data = a.data
    if data.dtype.kind != "f" and not keeps_integers:  # ``_floating``, inline: every time step
        data = data.astype(np.float32)
    out = forward(data)

    def backward(grad):
        return (grad * derivative(out),)

    return result(out, (a,), backward, name)


@_tensor_first
def tanh(a: Tensor) -> Tensor:
    """tanh(x); the gradient is grad · (1 − tanh²)."""
    return _activation(a, "tanh")


@_tensor_first
def sigmoid(a: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e^−x), without overflow; the gradient is grad · σ(1 − σ)."""
    return _activation(a, "sigmoid")


@_tensor_first
def relu(a: Tensor) -> Tensor:
    """max(x, 0); the gradient is grad where x > 0, else 0. An integer tensor stays integer."""
    return _activation(a, "relu", keeps_integers=True)


def _softmax_axis(op: str, a: Tensor, axis: int) -> int:
    if a.ndim == 0:
        raise ValueError(f"{op}: needs at least one axis, got a 0-d tensor")
    if not _is_int(axis) or not -a.ndim <= axis < a.ndim:
        raise ValueError(f"{op}: axis {axis!r} is out of range for a tensor of shape {a.shape}")
    return int(axis)


def _empty_axis_result(a: Tensor, x: np.ndarray, op: str) -> Tensor:
    """softmax or log_softmax along an empty axis: an empty result and an empty gradient, as
    in PyTorch (there is no max to subtract)."""
    return result(np.empty_like(x), (a,), lambda grad: (grad,), op)


@_tensor_first
@_torch_keywords
def softmax(a: Tensor, axis: int = -1) -> Tensor:
    """exp(x − max) / Σ exp(x − max): finite for any finite logits."""
    axis = _softmax_axis("softmax", a, axis)
    x = _floating(a)
    if x.shape[axis] == 0:
        return _empty_axis_result(a, x, "softmax")
    work = x.astype(np.float32) if x.dtype == np.float16 else x  # as PyTorch: float16 sums overflow
    shifted = np.exp(work - work.max(axis=axis, keepdims=True))
    out = shifted / shifted.sum(axis=axis, keepdims=True)

    def backward(grad):
        return (out * (grad - (grad * out).sum(axis=axis, keepdims=True)),)

    return result(out.astype(x.dtype, copy=False), (a,), backward, "softmax")


@_tensor_first
@_torch_keywords
def log_softmax(a: Tensor, axis: int = -1) -> Tensor:
    """x − max − log Σ exp(x − max); the gradient is grad − softmax · Σ grad."""
    axis = _softmax_axis("log_softmax", a, axis)
    x = _floating(a)
    if x.shape[axis] == 0:
        return _empty_axis_result(a, x, "log_softmax")
    work = x.astype(np.float32) if x.dtype == np.float16 else x  # as in softmax
    shifted = work - work.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(grad):
        return (grad - np.exp(out) * grad.sum(axis=axis, keepdims=True),)

    return result(out.astype(x.dtype, copy=False), (a,), backward, "log_softmax")


def cross_entropy_prechecked(logits: Tensor, targets: np.ndarray, reduction: str = "mean",
                             ignore_index: int | None = None, label_smoothing: float = 0.0,
                             weight: np.ndarray | None = None) -> Tensor:
    """Softmax cross-entropy of ``(..., C)`` logits against int ``targets`` ``(...)``, one node.

    Each prediction is scored against the target distribution q = (1 − ε)·one_hot + ε/C,
    ε = ``label_smoothing``. With z = x − max, which never overflows, and L = log Σ exp(z):

        loss = Σ_c q_c · (−log softmax_c) = L − (1 − ε)·z[target] − ε·mean(z)

    The backward is (softmax − q) · grad (÷ N for "mean"), from the probabilities kept by
    the forward: the same result as log_softmax, a gather, a negation and a reduction
    composed (tests check both), in one node instead of five. A target equal to
    ``ignore_index`` gets loss 0 and gradient 0 and is not counted in the mean's N.
    ``reduction`` is "mean", "sum" or "none".

    ``weight`` w (C,), in the logits' dtype, weighs each class as PyTorch's does: the
    target term by the target's class, the smoothing term class by class, and "mean"
    divides by N = Σ w[target] over the kept targets:

        loss = (1 − ε)·w[target]·(L − z[target]) + (ε/C)·Σ_c w_c·(L − z_c)
        ∂loss/∂z_c = ((1 − ε)·w[target] + (ε/C)·Σ w)·softmax_c − (ε/C)·w_c − (1 − ε)·w[target]·[c = target]

    Nothing is checked here (a target of −1 would score the last class): the public loss,
    ``functional.cross_entropy``, validates the arguments once and calls this, with
    ``ignore_index=None`` when the value lies outside the targets' range (no pass over
    the targets then); a "mean" whose N is 0 is refused. Without smoothing, weights or
    ignored targets, the training loop's case, the work is that of the plain loss.
    """
    count, classes = targets.size, logits.shape[-1]
    flat = logits.data.reshape(count, classes)
    picked = targets.reshape(-1)
    ignored = None if ignore_index is None else picked == ignore_index
    if ignored is not None and ignored.any():
        kept = count - int(np.count_nonzero(ignored))  # int: an np.int64 would make grad / kept float64
        picked = np.where(ignored, 0, picked)  # any class will do: the row's scale is 0
    else:
        ignored, kept = None, count
    if kept == 0 and reduction == "mean":
        cause = f"all {count} targets equal ignore_index ({ignore_index}), so " if count else ""
        raise ValueError(f"cross_entropy: {cause}the mean over no predictions (logits of shape "
                         f"{logits.shape}) is undefined")
    target_weight = None  # w[target] per prediction, 0 where ignored
    if weight is not None:
        target_weight = weight[picked] if ignored is None else np.where(ignored, 0, weight[picked])
        kept = target_weight.sum()  # the mean's N: a weight sum, in the logits' dtype
        if kept == 0 and reduction == "mean":
            raise ValueError(f"cross_entropy: the weights of the kept targets sum to 0, so their "
                             f"mean (logits of shape {logits.shape}) is undefined")
    rows = np.arange(count)
    shifted = flat - flat.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    totals = probabilities.sum(axis=1, keepdims=True)
    log_totals = np.log(totals)[:, 0]
    if weight is not None:
        losses = (1 - label_smoothing) * target_weight * (log_totals - shifted[rows, picked])
        if label_smoothing:
            losses += label_smoothing / classes * (weight.sum() * log_totals - shifted @ weight)
    elif label_smoothing:
        losses = log_totals - ((1 - label_smoothing) * shifted[rows, picked]
                               + label_smoothing * shifted.mean(axis=1))
    else:
        losses = log_totals - shifted[rows, picked]
    if ignored is not None:
        losses[ignored] = 0
    probabilities /= totals
    dtype = flat.dtype
    if reduction == "none":
        out = losses.reshape(targets.shape)
    else:
        out = np.asarray(losses.sum(), dtype=dtype)
        if reduction == "mean":
            out = out / np.asarray(kept, dtype=dtype)

    def backward(grad):
        if reduction == "none":
            scale = grad.reshape(count, 1)
        else:
            scale = grad / kept if reduction == "mean" else grad
        if ignored is not None:
            scale = np.where(ignored[:, None], 0, scale)
        target_scale = scale[:, 0] if scale.ndim else scale
        if weight is None:
            dlogits = probabilities * scale
            if label_smoothing:
                dlogits -= label_smoothing / classes * scale
        else:  # each row's softmax coefficient, then the smoothing term class by class
            target_scale = target_scale * target_weight
            smoothing_scale = label_smoothing / classes * scale
            dlogits = probabilities * ((1 - label_smoothing) * target_scale[:, None]
                                       + smoothing_scale * weight.sum())
            if label_smoothing:
                dlogits -= smoothing_scale * weight
        if label_smoothing:
            target_scale = (1 - label_smoothing) * target_scale
        dlogits[rows, picked] -= target_scale
        return (dlogits.reshape(logits.shape),)

    return result(out, (logits,), backward, "cross_entropy")


# -- CTC ---------------------------------------------------------------------------------
def _ctc_lengths_checked(op: str, name: str, lengths, count: int, most: int) -> np.ndarray:
    """``lengths`` (called ``name``) as an (N,) intp array of integers in [0, most]."""
    data = np.asarray(lengths)
    if data.dtype.kind not in "iu" or data.shape != (count,):
        raise ValueError(f"{op}: {name} must be {count} integer(s), one per sample, got dtype "
                         f"{data.dtype} and shape {data.shape}")
    if data.min() < 0 or data.max() > most:
        raise ValueError(f"{op}: {name} must lie in [0, {most}], got {data.min()} to {data.max()}")
    return data.astype(np.intp, copy=False)


# exp is several times slower on NumPy's special-value paths (−inf, results that underflow)
# than on normal numbers: below −700, e^x (< 1e-304) cannot change a sum of at least 1.
_EXP_FLOOR = -700.0
_LOWEST = -np.finfo(np.float64).max


def _logsumexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray, out: np.ndarray) -> np.ndarray:
    """log(e^a + e^b + e^c) elementwise, float64, into ``out``: m + log Σ e^max(x − m, −700)
    with m the largest of the three. The sum is then at least 1 (log never sees 0) and the
    floor changes no bit of it; where all three are −inf, x − m is taken against the lowest
    float instead (−inf, floored) and the result, the sum's log plus m = −inf, is −inf,
    exactly and silently. No +inf or nan is expected."""
    top = np.maximum(a, b)
    np.maximum(top, c, out=top)
    shift = np.maximum(top, _LOWEST)  # m itself wherever it is finite
    total = np.subtract(a, shift)
    np.maximum(total, _EXP_FLOOR, out=total)
    np.exp(total, out=total)
    scratch = np.empty_like(total)
    for x in (b, c):
        np.subtract(x, shift, out=scratch)
        np.maximum(scratch, _EXP_FLOOR, out=scratch)
        total += np.exp(scratch, out=scratch)
    np.log(total, out=out)
    out += top
    return out


@_tensor_first
def ctc_log_likelihood(log_probs: Tensor, labels, input_lengths, target_lengths, blank: int) -> Tensor:
    """log p_n, the log of the total score of every CTC alignment of each target to its
    input, in one node: the likelihood that ``functional.ctc_loss`` negates.

    ``log_probs`` (T, N, C) holds y_t(c) (any reals or −inf; the scores are not
    renormalized); ``labels`` (N, S) the targets, padded with any class in [0, C) past each
    sample's ``target_lengths`` S_n; ``input_lengths`` T_n <= T. With l' the target with
    ``blank`` around and between its labels (l'_s = blank for even s, l'_{2k+1} = label k;
    states s = 0 .. 2S_n) and the skip s−2 → s allowed where l'_s ≠ blank and
    l'_s ≠ l'_{s−2}, the alpha recursion runs forward (α_t includes y_t(l'_s))::

        α_{−1}(0) = 0,   α_{−1}(s) = −inf for s > 0
        α_t(s) = logsumexp(α_{t−1}(s), α_{t−1}(s−1), [skip] α_{t−1}(s−2)) + y_t(l'_s)
        log p_n = logsumexp(α_{T_n−1}(2S_n), [S_n >= 1] α_{T_n−1}(2S_n − 1))

    and, in backward, the beta recursion runs from each sample's last step (β_t includes
    y_t(l'_s) too, F_n = the final states {2S_n, 2S_n − 1 if S_n >= 1})::

        β_{T_n−1}(s) = y_{T_n−1}(l'_s) for s in F_n, −inf otherwise
        β_t(s) = logsumexp(β_{t+1}(s), β_{t+1}(s+1), [skip at s+2] β_{t+1}(s+2)) + y_t(l'_s)

    exp(α_t(s) + β_t(s)) is the total score of the alignments in state s at step t, with
    y_t(l'_s) counted twice, so the gradient is, for t < T_n (0 for t >= T_n)::

        d log p_n / d y_t(c) = γ_t(c) = Σ_{s: l'_s = c} exp(α_t(s) + β_t(s) − y_t(c) − log p_n)

    the share of the total score that emits c at step t. It is formed as
    exp(α̂_t(s) + β_t(s) − log p_n), with α̂_t = α_t − y_t(l'_s) the logsumexp before the
    emission (kept by the forward), so a y_t(c) = −inf gives 0 rather than −inf − (−inf);
    the states sharing a class are summed by one ``np.bincount``. A sample whose every
    alignment is ruled out (too short an input, −inf scores) gets log p_n = −inf and
    gradient 0; T_n = 0 gives log p_n = 0 for an empty target, else −inf.

    Both recursions loop over time in Python and run over the batch and the states in
    NumPy, in float64 (the output is rounded to log_probs' dtype, the gradient too), with
    no nodes inside: tests check the value and gradient against the recursion unrolled
    from ops. ``labels`` and the lengths are checked for shape and range only: the
    public loss, ``functional.ctc_loss``, checks everything else (labels that are
    ``blank``, the target formats) and calls this.
    """
    op = "ctc_log_likelihood"
    if log_probs.dtype.kind != "f" or log_probs.ndim != 3:
        raise TypeError(f"{op}: log_probs must be a floating-point Tensor (T, N, C), got dtype "
                        f"{log_probs.dtype} and shape {log_probs.shape}")
    y = log_probs.data
    if y.size == 0:
        raise ValueError(f"{op}: log_probs must not be empty, got shape {y.shape}")
    steps, count, classes = y.shape
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.ndim != 2 or labels.shape[0] != count:
        raise ValueError(f"{op}: labels must be integers (N, S) with N = {count}, got dtype "
                         f"{labels.dtype} and shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{op}: labels must be class indices in [0, {classes}), got "
                         f"{labels.min()} to {labels.max()}")
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < classes:
        raise ValueError(f"{op}: blank must be a class index in [0, {classes}), got {blank!r}")
    input_lengths = _ctc_lengths_checked(op, "input_lengths", input_lengths, count, steps)
    target_lengths = _ctc_lengths_checked(op, "target_lengths", target_lengths, count, labels.shape[1])

    states = 2 * labels.shape[1] + 1  # for the longest target; the states past 2S_n feed no others
    extended = np.full((count, states), blank, dtype=np.intp)
    extended[:, 1::2] = labels
    skip = np.full((count, states), -np.inf)  # 0 where s−2 → s is allowed, else −inf (added)
    skip[:, 2:][(extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])] = 0.0
    rows = np.arange(count)
    final = np.full((count, states), -np.inf)  # 0 on each sample's final states F_n
    final[rows, 2 * target_lengths] = 0.0
    ending = target_lengths > 0
    final[rows[ending], 2 * target_lengths[ending] - 1] = 0.0

    longest = int(input_lengths.max())
    flat = (rows[:, None] * classes + extended).ravel()  # (n, l'_s) in a step's N · C scores
    emissions = np.take(y[:longest].reshape(longest, count * classes).astype(np.float64), flat,
                        axis=1).reshape(longest, count, states)  # y_t(l'_s): (T', N, L)
    before = np.empty((longest, count, states))  # α̂_t, the logsumexp before each emission
    alpha = np.full((count, states + 2), -np.inf)  # α_{t−1}, behind two −inf columns (s−1, s−2)
    alpha[:, 2] = 0.0
    start = alpha[:, 2:].copy()
    for t in range(longest):
        _logsumexp3(alpha[:, 2:], alpha[:, 1:-1], alpha[:, :-2] + skip, out=before[t])
        np.add(before[t], emissions[t], out=alpha[:, 2:])
    last = np.maximum(input_lengths - 1, 0)  # each sample's last step (none for T_n = 0)
    ends = before[last, rows] + emissions[last, rows] if longest else start  # α_{T_n−1}
    ends[input_lengths == 0] = start[input_lengths == 0]
    likelihood = np.logaddexp.reduce(ends + final, axis=1)  # all −inf gives −inf, silently

    def backward(grad):
        possible = np.isfinite(likelihood)
        scale = np.where(possible, grad, 0.0)  # an impossible sample passes no gradient
        dy = np.zeros(y.shape, dtype=y.dtype)
        if not longest or not scale.any():
            return (dy,)
        upward = np.full((count, states), -np.inf)  # the skip s → s + 2, seen from s
        upward[:, :-2] = skip[:, 2:]
        beta = np.full((count, states + 2), -np.inf)  # β_{t+1}, before two −inf columns (s+1, s+2)
        occupation = np.empty_like(before)  # α̂_t + β_t (before stays: backward may run again)
        finishing = {int(t): np.flatnonzero(input_lengths == t + 1)  # the samples whose last step is t
                     for t in np.unique(last[input_lengths > 0])}
        step = np.empty((count, states))
        for t in range(longest - 1, -1, -1):
            _logsumexp3(beta[:, :-2], beta[:, 1:-1], beta[:, 2:] + upward, out=step)
            if t in finishing:  # β_{t+1} is −inf for these samples: they start afresh
                rows_now = finishing[t]
                step[rows_now] = final[rows_now]
            np.add(step, emissions[t], out=beta[:, :-2])
            np.add(before[t], beta[:, :-2], out=occupation[t])
        occupation -= np.where(possible, likelihood, 0.0)[:, None]
        np.exp(occupation, out=occupation)
        occupation *= scale[:, None]
        index = np.add.outer(np.arange(longest) * (count * classes), flat)  # (t, n, l'_s), flat
        dy[:longest] = np.bincount(index.ravel(), occupation.ravel(),
                                   longest * count * classes).reshape(longest, count, classes)
        return (dy,)

    return result(likelihood.astype(y.dtype), (log_probs,), backward, op)


# -- attach to Tensor --------------------------------------------------------------------
# Each method is the op itself (``_method``), without the module-level function's check
# that its first argument is a Tensor: the receiver always is.
def _reflected(op):
    def reflected(a, b):
        return op(_operand(b, a, op.__name__), a)

    return reflected


Tensor.__add__ = _method(add)
Tensor.__radd__ = _method(add)
Tensor.__sub__ = _method(sub)
Tensor.__rsub__ = _reflected(_method(sub))
Tensor.__mul__ = _method(mul)
Tensor.__rmul__ = _method(mul)
Tensor.__truediv__ = _method(div)
Tensor.__rtruediv__ = _reflected(_method(div))
Tensor.__neg__ = _method(neg)
Tensor.neg = _method(neg)
Tensor.__pow__ = _method(pow)
Tensor.pow = _method(pow)
Tensor.__rpow__ = _method(rpow)
Tensor.__matmul__ = _method(matmul)
Tensor.matmul = _method(matmul)
Tensor.mm = _method(mm)
Tensor.__rmatmul__ = _method(rmatmul)
Tensor.addmm = addmm
Tensor.__getitem__ = _method(getitem)
Tensor.sum = _method(sum)
Tensor.mean = _method(mean)
Tensor.max = _method(max)
Tensor.min = _method(min)
Tensor.reshape = _method(reshape)
Tensor.view = _method(reshape)  # PyTorch's name; a copy where no view can be made
Tensor.clone = _method(clone)
Tensor.transpose = _method(transpose)
Tensor.T = property(_method(transpose))
Tensor.t = _method(t)
Tensor.permute = _method(permute)
Tensor.squeeze = _method(squeeze)
Tensor.unsqueeze = _method(unsqueeze)
Tensor.flatten = _method(flatten)
Tensor.argmax = _method(argmax)
Tensor.argmin = _method(argmin)
Tensor.split = _method(split)
Tensor.chunk = _method(chunk)
Tensor.expand = _method(expand)
Tensor.repeat = _method(repeat)
Tensor.gather = _method(gather)
Tensor.index_select = _method(index_select)
Tensor.maximum = _method(maximum)
Tensor.minimum = _method(minimum)
Tensor.cumsum = _method(cumsum)
Tensor.where = _where_method
for _op in (eq, ne, lt, le, gt, ge):
    setattr(Tensor, _op.__name__, _method(_op))
Tensor.__eq__ = _comparison_operator(eq)
Tensor.__ne__ = _comparison_operator(ne)
Tensor.__lt__ = _comparison_operator(lt)
Tensor.__le__ = _comparison_operator(le)
Tensor.__gt__ = _comparison_operator(gt)
Tensor.__ge__ = _comparison_operator(ge)
Tensor.__hash__ = object.__hash__  # by identity, as torch's: a Tensor stays a dict key and a set member
Tensor.__and__ = Tensor.__rand__ = _method(bitwise_and)
Tensor.__or__ = Tensor.__ror__ = _method(bitwise_or)
Tensor.__xor__ = Tensor.__rxor__ = _method(bitwise_xor)
Tensor.__invert__ = _method(bitwise_not)
for _op in (bitwise_and, bitwise_or, bitwise_xor, bitwise_not, logical_not, isnan, isinf, isfinite,
            isclose, allclose, equal):
    setattr(Tensor, _op.__name__, _method(_op))
Tensor.all = _method(all_)
Tensor.any = _method(any_)
del _op
Tensor.masked_fill = _method(masked_fill)
Tensor.var = _method(var)
Tensor.std = _method(std)
Tensor.logsumexp = _method(logsumexp)
Tensor.norm = _method(norm)
Tensor.astype = _method(astype)
Tensor.exp = _method(exp)
Tensor.log = _method(log)
Tensor.log1p = _method(log1p)
Tensor.expm1 = _method(expm1)
Tensor.erf = _method(erf)
Tensor.erfc = _method(erfc)
Tensor.tanh = _method(tanh)
Tensor.sigmoid = _method(sigmoid)
Tensor.relu = _method(relu)
Tensor.sqrt = _method(sqrt)
Tensor.abs = _method(abs)
Tensor.__abs__ = _method(abs)
Tensor.clamp = _method(clamp)
Tensor.softmax = _method(softmax)
Tensor.log_softmax = _method(log_softmax)

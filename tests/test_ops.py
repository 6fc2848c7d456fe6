"""Every op: forward against NumPy, backward against central differences, bad input refused.

Each gradient test goes through ``helpers.check_vjp``: hypothesis draws shapes (broadcast
pairs, size-1 axes, 0-d, empty where NumPy allows) and float64 values bounded away from
the op's non-differentiable points by construction, plus a random upstream gradient;
the check also asserts that inputs are not mutated and gradients do not alias.
"""

import inspect
import math
import operator
import warnings

import numpy as np
import pytest
from helpers import (
    arrays,
    away_from_zero,
    axes,
    broadcastable_shapes,
    check_vjp,
    distinct_arrays,
    one_hot,
    shapes,
    uniform,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor
from tinygrad_rnn import tensor as tensor_module

# -- elementwise arithmetic -------------------------------------------------------------
BINARY = {
    "add": (operator.add, np.add),
    "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply),
    "div": (operator.truediv, np.divide),
}
DENOMINATORS = away_from_zero(0.5, 2.0)


@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcastable_shapes(), data=st.data())
def test_binary_op_forward_and_backward(name, pair, data):
    op, reference = BINARY[name]
    left = data.draw(arrays(pair[0]), label="left")
    right = data.draw(arrays(pair[1], DENOMINATORS if name == "div" else None), label="right")
    [out] = check_vjp(op, [left, right], data)
    np.testing.assert_array_equal(out.data, reference(left, right))


@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcastable_shapes(), data=st.data())
def test_binary_op_with_a_constant_operand(name, pair, data):
    """Tensor op ndarray and Tensor op Python number: only the tensor gets a gradient."""
    op, reference = BINARY[name]
    x = data.draw(arrays(pair[0]), label="x")
    constant = data.draw(
        arrays(pair[1], DENOMINATORS) | DENOMINATORS if name == "div" else arrays(pair[1]) | uniform(-3, 3),
        label="constant",
    )
    [out] = check_vjp(lambda t: op(t, constant), [x], data)
    np.testing.assert_array_equal(out.data, reference(x, constant))


REFLECTED = {
    "radd": (lambda c, x: c + x, None),
    "rsub": (lambda c, x: c - x, None),
    "rmul": (lambda c, x: c * x, None),
    "rtruediv": (lambda c, x: c / x, DENOMINATORS),
}


@pytest.mark.parametrize("name", REFLECTED)
@given(pair=broadcastable_shapes(), data=st.data())
def test_reflected_op_with_array_or_python_number_on_the_left(name, pair, data):
    """``2 - x``, ``np_array * x``, ``3 / x``: a Tensor comes out, NumPy's value, right gradient."""
    apply, elements = REFLECTED[name]
    x = data.draw(arrays(pair[1], elements), label="x")
    constant = data.draw(arrays(pair[0]) | uniform(-3, 3) | st.integers(-3, 3), label="constant")
    [out] = check_vjp(lambda t: apply(constant, t), [x], data)
    assert isinstance(out, Tensor)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, apply(constant, x))


DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64"]
SCALAR_OPERATIONS = {
    "add": lambda x, c: x + c,
    "sub": lambda x, c: x - c, "rsub": lambda x, c: c - x,
    "mul": lambda x, c: x * c,
    "div": lambda x, c: x / c, "rdiv": lambda x, c: c / x,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [2, 2.5, True, np.int64(3), np.float64(0.5)],
                         ids=["int", "float", "bool", "np.int64", "np.float64"])
@pytest.mark.parametrize("name", SCALAR_OPERATIONS)
def test_a_python_scalar_takes_torch_dtype_next_to_any_tensor(dtype, scalar, name):
    """An int scalar keeps an integer tensor's dtype (int64 with bools), a float one makes
    float32 of integers (NumPy: float64 for both); a float tensor keeps its dtype. torch
    refuses any subtraction with a bool: here bool − bool is a TypeError naming the op, and
    a bool with a number counts as that dtype's 1 or 0, as in NumPy."""
    torch = pytest.importorskip("torch")
    operation = SCALAR_OPERATIONS[name]
    values = np.array([3, 1, 2, 0]).astype(dtype)
    try:
        expected = operation(torch.from_numpy(values), scalar).numpy()
    except RuntimeError:
        assert name.endswith("sub") and (dtype == "bool" or isinstance(scalar, bool))
        if dtype == "bool" and isinstance(scalar, bool):
            with pytest.raises(TypeError, match=r"^sub: not defined for dtypes bool and bool"):
                operation(Tensor(values), scalar)
            return
        as_numbers = values.astype(np.int64) if dtype == "bool" else values
        expected = operation(torch.from_numpy(as_numbers), scalar if dtype == "bool" else int(scalar))
        expected = expected.numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # torch warns for neither 1/0 nor 0/0
        out = operation(Tensor(values), scalar)
    assert out.dtype == expected.dtype
    # torch divides a scalar by a tensor as scalar · (1 / tensor): within an ulp of the quotient
    tolerance = 2 * np.finfo(out.dtype).eps if out.dtype.kind == "f" else 0
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=0)


def test_true_division_of_integer_tensors_is_float32_as_in_torch():
    out = Tensor(np.array([1, 2, 3])) / Tensor(np.array([2, 4, 4], dtype=np.int8))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 0.5, 0.75])


def test_an_integer_scalar_the_tensor_dtype_cannot_hold_is_refused():
    """torch wraps int8 * 1000 around to -24; refused here rather than silently wrong."""
    x = Tensor(np.array([1, 2], dtype=np.int8))
    with pytest.raises(ValueError, match=r"^mul: the scalar 1000 does not fit the dtype int8 of the "
                                         r"tensor of shape \(2,\)"):
        x * 1000
    with pytest.raises(ValueError, match=r"^sub: the scalar -1 does not fit the dtype uint8"):
        Tensor(np.array([1], dtype=np.uint8)) - np.int64(-1)


def test_negating_a_bool_tensor_names_the_op():
    with pytest.raises(TypeError, match=r"^neg: not defined for dtype bool \(shape \(2,\)\)"):
        -Tensor(np.array([True, False]))
    with pytest.raises(TypeError, match=r"^sub: not defined for dtypes bool and bool \(shapes \(2,\) "
                                        r"and \(\)\)"):
        Tensor(np.array([True, False])) - True


@given(x=arrays(shapes()), data=st.data())
def test_neg(x, data):
    [out] = check_vjp(operator.neg, [x], data)
    np.testing.assert_array_equal(out.data, -x)


INTEGER_EXPONENTS = [0, 1, 2, 3, -1, -2, np.float64(2.0)]
FRACTIONAL_EXPONENTS = [0.5, 1.5, 2.5, -0.5, -1.5]


@given(exponent=st.sampled_from(INTEGER_EXPONENTS), x=arrays(shapes(), away_from_zero(0.5, 2.0)),
       data=st.data())
def test_pow_integer_exponent_on_any_sign(exponent, x, data):
    [out] = check_vjp(lambda t: t**exponent, [x], data)
    np.testing.assert_allclose(out.data, np.power(x, float(exponent)), rtol=1e-14)


@given(exponent=st.sampled_from(FRACTIONAL_EXPONENTS), x=arrays(shapes(), uniform(0.5, 2.0)),
       data=st.data())
def test_pow_fractional_or_negative_exponent_on_positive_base(exponent, x, data):
    [out] = check_vjp(lambda t: t**exponent, [x], data)
    np.testing.assert_allclose(out.data, np.power(x, exponent), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
@pytest.mark.parametrize("exponent", [2, 0, 0.5, 3.0])
def test_pow_of_integers_and_bools_takes_torchs_result_dtype(dtype, exponent):
    """An int power keeps integers (a bool becomes int64), a float power gives float32, as in
    torch; NumPy gave float64 for both."""
    values = np.array([1, 0, 1], dtype=dtype) if dtype == np.bool_ else np.array([1, 2, 3], dtype=dtype)
    out = Tensor(values) ** exponent
    expected = np.float32 if isinstance(exponent, float) else (np.int64 if dtype == np.bool_ else dtype)
    assert out.dtype == expected
    np.testing.assert_allclose(out.data, values.astype(np.float64) ** exponent, rtol=1e-6)
    torch = pytest.importorskip("torch")
    assert str((torch.from_numpy(values) ** exponent).dtype) == f"torch.{np.dtype(expected).name}"


def test_pow_refuses_a_negative_integer_power_of_integers_as_torch():
    with pytest.raises(ValueError, match=r"pow: integers to negative integer powers are not allowed "
                                         r"\(dtype int64, shape \(2,\), exponent -1\)"):
        Tensor(np.array([2, 3])) ** -1


def test_pow_zero_exponent_has_a_zero_gradient_even_at_zero():
    x = Tensor([0.0, 1.0, -2.0], dtype="float64", requires_grad=True)
    out = x**0
    out.backward(np.ones(3))
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


@given(base=uniform(0.5, 3.0) | st.sampled_from([2, np.float64(10.0)]), x=arrays(shapes()),
       data=st.data())
def test_rpow_scalar_base(base, x, data):
    [out] = check_vjp(lambda t: base**t, [x], data)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, np.power(float(base), x), rtol=1e-13)


# -- elementwise functions ----------------------------------------------------------------
UNARY = {
    "exp": (Tensor.exp, np.exp, uniform(-3.0, 3.0)),
    "log": (Tensor.log, np.log, uniform(0.1, 5.0)),
    "log1p": (Tensor.log1p, np.log1p, uniform(-0.9, 5.0)),
    "expm1": (Tensor.expm1, np.expm1, uniform(-3.0, 3.0)),
    # forward: the same libm function (test_erf_and_erfc_match_high_precision_values checks
    # it); backward: against central differences, as every op
    "erf": (Tensor.erf, np.vectorize(math.erf, otypes=[np.float64]), uniform(-3.0, 3.0)),
    "erfc": (Tensor.erfc, np.vectorize(math.erfc, otypes=[np.float64]), uniform(-3.0, 3.0)),
    "tanh": (Tensor.tanh, np.tanh, uniform(-3.0, 3.0)),
    "sigmoid": (Tensor.sigmoid, lambda x: 1 / (1 + np.exp(-x)), uniform(-6.0, 6.0)),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), away_from_zero(0.1, 3.0)),
    "sqrt": (Tensor.sqrt, np.sqrt, uniform(0.1, 5.0)),
    "abs": (abs, np.abs, away_from_zero(0.1, 3.0)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_op_forward_and_backward(name, data):
    op, reference, elements = UNARY[name]
    x = data.draw(arrays(shapes(), elements), label="x")
    [out] = check_vjp(op, [x], data)
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_op_passes_gradcheck(name, data):
    op, _, elements = UNARY[name]
    x = Tensor(data.draw(arrays(shapes(max_dims=2), elements), label="x"), requires_grad=True)
    assert tg.gradcheck(op, [x])


FLOAT_FUNCTIONS = ["exp", "log", "log1p", "expm1", "erf", "erfc", "sqrt", "tanh", "sigmoid", "relu",
                   "softmax", "log_softmax"]


@pytest.mark.parametrize(("name", "dtype"), [(name, dtype) for name in FLOAT_FUNCTIONS for dtype in DTYPES
                                             if (name, dtype) != ("relu", "bool")])
def test_float_functions_of_bool_and_integer_tensors_compute_in_float32_as_torch(name, dtype):
    """NumPy would give float16 for bool, int8 and uint8 (exp(12) overflows) and float64 for
    wider integers; torch, and now ours, float32. Floats keep their dtype; relu keeps integers
    integers. torch refuses softmax of integers (ours computes it in float32, as the other
    functions) and relu of bools (not checked here)."""
    torch = pytest.importorskip("torch")
    values = np.array([12, 0, 3, 1] if dtype != "bool" else [True, False, True, True]).astype(dtype)
    given = torch.from_numpy(values)
    if name in ("softmax", "log_softmax") and dtype[0] in "biu":
        given = given.float()
    expected = getattr(torch, name)(*((given, -1) if "softmax" in name else (given,))).numpy()
    with np.errstate(divide="ignore", over="ignore"):  # log(0) = -inf, float16 exp(12) = inf
        out = getattr(Tensor(values), name)()
    assert out.dtype == expected.dtype
    # torch's CPU log_softmax of float16 sums in float16 and gives 0 for -1.46e-4 here; ours
    # computes in float32, as for softmax (test_float16_softmax_sums_in_float32_as_torch)
    atol = 2**-12 if (name, dtype) == ("log_softmax", "float16") else 0
    np.testing.assert_allclose(out.data, expected, rtol=4 * np.finfo(np.float16).eps
                               if dtype == "float16" else 4e-7, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_of_huge_inputs_is_finite_and_saturated(dtype):
    """No overflow warning; below the cap σ is under the dtype's smallest normal number."""
    x = Tensor([-1e4, -800.0, 0.0, 800.0, 1e4], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.sigmoid()
        out.sum().backward()
    tiny = np.finfo(dtype).tiny
    np.testing.assert_array_equal(out.data[2:], [0.5, 1.0, 1.0])
    assert (0 <= out.data[:2]).all() and (out.data[:2] <= tiny).all()
    np.testing.assert_array_equal(x.grad[2:], [0.25, 0.0, 0.0])
    assert (0 <= x.grad[:2]).all() and (x.grad[:2] <= tiny).all()


@given(x=arrays((), uniform(-30.0, 30.0)))
def test_sigmoid_is_accurate_in_relative_terms(x):
    """σ agrees with the float64 formula to a few ulps relative, also where σ is tiny."""
    for dtype in (np.float32, np.float64):
        rounded = np.asarray(x, dtype=dtype)
        exact = 1 / (1 + np.exp(-rounded.astype(np.float64)))
        assert abs(Tensor(rounded).sigmoid().item() - exact) <= 4 * np.finfo(dtype).eps * exact


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(data=st.data())
def test_log1p_and_expm1_keep_tiny_values_exactly(dtype, data):
    """log(1 + x) and e^x − 1 are 0 for x below an ulp of 1 (and inexact above it); log1p
    and expm1 are x to the dtype's precision there (x²/2 is below an ulp of x), and their
    gradients 1."""
    below_an_ulp = np.log10(np.finfo(dtype).eps) - 1
    exponent = data.draw(uniform(-300.0, below_an_ulp), label="exponent")
    x = np.asarray(10.0**exponent, dtype=dtype)
    if x == 0:  # below float32's smallest subnormal
        x = np.asarray(np.finfo(dtype).tiny, dtype=dtype)
    for name in ("log1p", "expm1"):
        t = Tensor(x, requires_grad=True)
        out = getattr(t, name)()
        out.backward()
        assert out.dtype == dtype
        np.testing.assert_allclose(out.item(), x, rtol=2 * np.finfo(dtype).eps)
        np.testing.assert_allclose(t.grad, 1.0, rtol=2 * np.finfo(dtype).eps)


# erf and erfc from mpmath at 30 digits
ERF_VALUES = {1e-10: (1.1283791670955126e-10, 0.99999999988716208),
              0.5: (0.52049987781304654, 0.47950012218695346),
              -2.0: (-0.99532226501895273, 1.9953222650189527),
              5.0: (0.99999999999846254, 1.5374597944280349e-12),
              10.0: (1.0, 2.0884875837625448e-45), 27.0: (1.0, 5.2370489237892557e-319)}


@pytest.mark.parametrize("x", ERF_VALUES)
def test_erf_and_erfc_match_high_precision_values(x):
    """erfc keeps the tail that 1 − erf loses (erfc(27) is a subnormal); both are odd/even
    as they should be, and float32 is the float64 value rounded."""
    erf, erfc = ERF_VALUES[x]
    value = Tensor([x, -x], dtype="float64")
    np.testing.assert_allclose(value.erf().data, [erf, -erf], rtol=1e-15)
    np.testing.assert_allclose(value.erfc().data[0], erfc, rtol=1e-15 if erfc > 1e-300 else 1e-9)
    np.testing.assert_allclose(value.erfc().data[1], 2 - erfc, rtol=0, atol=4e-16)  # erfc(−x) = 2 − erfc(x)
    single = Tensor([x], dtype="float32").erf()
    assert single.dtype == np.float32 and single.item() == np.float32(math.erf(np.float32(x)))


def test_erf_and_erfc_gradients_at_huge_and_special_inputs_warn_nothing():
    x = Tensor([1e200, -1e200, np.inf, 0.0], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x.erf() + x.erfc() * 3.0).sum().backward()
    slope = 2 / math.sqrt(math.pi)
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 0.0, slope - 3 * slope], rtol=1e-15)


def test_expm1_gradient_is_exact_where_e_to_the_x_is_below_an_ulp_of_1():
    """At x = −40, e^x − 1 rounds to −1 in float64; the gradient is e^−40, not (−1) + 1 = 0."""
    x = Tensor([-40.0, -800.0], dtype="float64", requires_grad=True)
    out = x.expm1()
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [-1.0, -1.0])
    np.testing.assert_allclose(x.grad, [np.exp(-40.0), 0.0], rtol=1e-15)


def test_log1p_at_minus_one_is_minus_infinity_with_an_infinite_gradient_as_torch():
    x = Tensor([-1.0, 0.0], dtype="float64", requires_grad=True)
    with np.errstate(divide="ignore"):
        out = x.log1p()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [-np.inf, 0.0])
    np.testing.assert_array_equal(x.grad, [np.inf, 1.0])


# Values kept 0.1 away from the bounds -0.5 and 0.5, where clamp has a kink.
AWAY_FROM_BOUNDS = st.one_of(uniform(-3.0, -0.6), uniform(-0.4, 0.4), uniform(0.6, 3.0))


@pytest.mark.parametrize("bounds", [{"min": -0.5, "max": 0.5}, {"min": -0.5}, {"max": 0.5}])
@given(data=st.data())
def test_clamp(bounds, data):
    x = data.draw(arrays(shapes(), AWAY_FROM_BOUNDS), label="x")
    [out] = check_vjp(lambda t: t.clamp(**bounds), [x], data)
    np.testing.assert_array_equal(out.data, np.clip(x, bounds.get("min"), bounds.get("max")))


def test_clamp_passes_the_gradient_at_the_bounds_and_keeps_the_dtype():
    """As torch.clamp: the gradient flows where min <= x <= max, bounds included."""
    x = Tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype="float32", requires_grad=True)
    out = x.clamp(-0.5, 0.5)
    out.sum().backward()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])
    with pytest.raises(ValueError, match=r"clamp: give min, max or both \(input shape \(5,\)\)"):
        x.clamp()
    with pytest.raises(TypeError, match="clamp: max must be a number or None, got '1'"):
        x.clamp(max="1")


def test_clamp_with_min_above_max_passes_no_gradient_as_torch():
    x = Tensor([0.0, 1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    out = x.clamp(3.0, 1.0)  # every value becomes max, and no bound leaves x alone
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize(("values", "bounds", "expected", "dtype"), [
    (np.array([1, 2, 3]), {"min": 1.5}, [1.5, 2.0, 3.0], np.float32),   # a float bound: float32
    (np.array([True, False]), {"min": 0.5}, [1.0, 0.5], np.float32),
    (np.array([True, False]), {"min": 0}, [1, 0], np.int64),           # a bool tensor and an int
    (np.array([1, 2, 3], dtype=np.int8), {"min": np.int64(2)}, [2, 2, 3], np.int8),
    (np.array([1.0, 5.0], dtype=np.float32), {"max": np.float64(2.0)}, [1.0, 2.0], np.float32),
])
def test_clamp_of_integers_and_bools_takes_torchs_result_dtype(values, bounds, expected, dtype):
    """int tensors clamped to a float bound used to be cast back to int, giving values
    outside the bounds ([1, 2, 3].clamp(min=1.5) was [1, 2, 3])."""
    out = Tensor(values).clamp(**bounds)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, expected)
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(values).clamp(**{k: v.item() if isinstance(v, np.generic) else v
                                                for k, v in bounds.items()})
    assert str(theirs.dtype).removeprefix("torch.") == np.dtype(dtype).name
    np.testing.assert_array_equal(theirs.numpy(), expected)


def test_clamp_refuses_an_integer_bound_its_integer_dtype_cannot_hold():
    with pytest.raises(ValueError, match=r"clamp: the bounds min=1000, max=None do not fit the dtype int8 "
                                         r"of the tensor of shape \(2,\)"):
        Tensor(np.array([1, 2], dtype=np.int8)).clamp(min=1000)


def test_sqrt_at_zero_and_abs_at_zero_follow_pytorch():
    x = Tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad, [np.inf, 0.25])
    y = Tensor([-2.0, 0.0, 3.0], dtype="float64", requires_grad=True)
    abs(y).sum().backward()
    np.testing.assert_array_equal(y.grad, [-1.0, 0.0, 1.0])


def test_relu_passes_the_gradient_only_where_the_input_is_positive():
    x = Tensor([-2.0, -0.5, 0.5, 2.0], dtype="float64", requires_grad=True)
    x.relu().backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 3.0, 4.0])


# -- matmul -------------------------------------------------------------------------------
sides = st.integers(0, 3)


def _batched(batch_pair, n, k, m):
    return (*batch_pair[0], n, k), (*batch_pair[1], k, m)


MATMUL_CASES = {
    "1-D @ 1-D": st.builds(lambda k: ((k,), (k,)), sides),
    "1-D @ 2-D": st.builds(lambda k, m: ((k,), (k, m)), sides, sides),
    "2-D @ 1-D": st.builds(lambda n, k: ((n, k), (k,)), sides, sides),
    "2-D @ 2-D": st.builds(lambda n, k, m: ((n, k), (k, m)), sides, sides, sides),
    "N-D @ N-D": st.builds(_batched, broadcastable_shapes(min_dims=1, max_dims=2), sides, sides, sides),
    "1-D @ N-D": st.builds(lambda b, k, m: ((k,), (*b, k, m)), shapes(min_dims=1, max_dims=2), sides, sides),
    "N-D @ 1-D": st.builds(lambda b, n, k: ((*b, n, k), (k,)), shapes(min_dims=1, max_dims=2), sides, sides),
}


@pytest.mark.parametrize("case", MATMUL_CASES)
@given(data=st.data())
def test_matmul_in_every_numpy_case(case, data):
    left_shape, right_shape = data.draw(MATMUL_CASES[case], label="shapes")
    left, right = data.draw(arrays(left_shape)), data.draw(arrays(right_shape))
    [out] = check_vjp(operator.matmul, [left, right], data)
    np.testing.assert_allclose(out.data, np.matmul(left, right), rtol=1e-12, atol=1e-12)


@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4))
def test_addmm_is_bias_plus_matmul_with_broadcast_bias(data, n, k, m):
    bias_shape = data.draw(st.sampled_from([(), (m,), (1, m), (n, m), (n, 1)]), label="bias shape")
    bias, x, w = (data.draw(arrays(shape)) for shape in (bias_shape, (n, k), (k, m)))
    [out] = check_vjp(tg.addmm, [bias, x, w], data)
    np.testing.assert_allclose(out.data, bias + x @ w, rtol=1e-12, atol=1e-12)


# The two fused products, each written as (bias, x, w) -> node, with w as addmm reads it.
FUSED_PRODUCTS = {
    "addmm": lambda b, x, w, **kw: tg.addmm(b, x, w, **kw),
    "linear": lambda b, x, w, **kw: tg.ops.linear(x, w.T, b, **kw),
}


@pytest.mark.parametrize("op", FUSED_PRODUCTS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4))
def test_fused_activation_equals_the_unrolled_primitives(op, activation, data, n, k, m):
    """With a bias of any shape that broadcasts to (N, out) and empty sizes (relu's bias is
    made full-shaped by the nudge that keeps it off the kink)."""
    fused_product = FUSED_PRODUCTS[op]
    bias_shape = data.draw(st.sampled_from([(), (m,), (1, m), (n, m), (n, 1)]), label="bias shape")
    bias, x, w = (data.draw(arrays(shape)) for shape in (bias_shape, (n, k), (k, m)))
    if activation == "relu":  # keep pre-activations away from the kink at 0, by construction
        pre = bias + x @ w
        bias = bias + np.where(pre >= 0, 0.5, -0.5) - np.where(np.abs(pre) < 0.5, pre, 0)
    check_vjp(lambda b, x, w: fused_product(b, x, w, activation=activation), [bias, x, w], data)
    upstream = data.draw(arrays((n, m)))
    results = []
    for build in (lambda *t: fused_product(*t, activation=activation),
                  lambda *t: getattr(fused_product(*t), activation)()):
        tensors = [tg.Tensor(v, requires_grad=True) for v in (bias, x, w)]
        out = build(*tensors)
        out.backward(upstream)
        results.append([out.data] + [t.grad for t in tensors])
    for fused, unrolled in zip(*results):
        np.testing.assert_allclose(fused, unrolled, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "tanh", "sigmoid", "relu"])
@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4))
def test_linear_prechecked_equals_linear(with_bias, activation, data, n, k, m):
    """The recurrent layers' unchecked linear: same values, same gradients."""
    x, w, bias = (data.draw(arrays(shape)) for shape in ((n, k), (m, k), (n, m)))
    upstream = data.draw(arrays((n, m)))
    results = []
    for build in (tg.ops.linear, tg.ops.linear_prechecked):
        tensors = [tg.Tensor(v, requires_grad=True) for v in (x, w, bias)]
        out = build(tensors[0], tensors[1], tensors[2] if with_bias else None, activation=activation)
        out.backward(upstream)
        results.append([out.data] + [t.grad for t in tensors])
    for checked, prechecked in zip(*results):
        np.testing.assert_array_equal(checked, prechecked)


@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4))
def test_linear_prechecked_multiplies_by_a_given_transposed_copy_of_the_weight(data, n, k, m):
    """``weight_t`` (the time loop's C-contiguous W^T) changes how BLAS is called, not the result."""
    x, w, bias = (data.draw(arrays(shape)) for shape in ((n, k), (m, k), (m,)))
    upstream = data.draw(arrays((n, m)))
    results = []
    for weight_t in (None, np.ascontiguousarray(w.T)):
        tensors = [tg.Tensor(v, requires_grad=True) for v in (x, w, bias)]
        out = tg.ops.linear_prechecked(tensors[0], tensors[1], tensors[2], "tanh", weight_t)
        out.backward(upstream)
        results.append([out.data] + [t.grad for t in tensors])
    for plain, with_copy in zip(*results):
        np.testing.assert_allclose(plain, with_copy, rtol=1e-12, atol=1e-14)


# -- fused recurrent cells --------------------------------------------------------------------------
def lstm_cell_unrolled(gates, cell):
    """``ops.lstm_cell`` composed from slices, sigmoid, tanh, products and sums."""
    size = cell.shape[-1]
    i, f = gates[..., :size].sigmoid(), gates[..., size:2 * size].sigmoid()
    g, o = gates[..., 2 * size:3 * size].tanh(), gates[..., 3 * size:].sigmoid()
    c = f * cell + i * g
    return o * c.tanh(), c


def gru_cell_unrolled(input_gates, hidden_gates, hidden):
    """``ops.gru_cell`` composed from slices, sigmoid, tanh, products and sums."""
    size = hidden.shape[-1]
    u, v = input_gates, hidden_gates
    reset = (u[..., :size] + v[..., :size]).sigmoid()
    update = (u[..., size:2 * size] + v[..., size:2 * size]).sigmoid()
    new = (u[..., 2 * size:] + reset * v[..., 2 * size:]).tanh()
    return (1 - update) * new + update * hidden


# name: (fused, unrolled, gates per operand; the last operand is the state)
CELLS = {"lstm_cell": (tg.ops.lstm_cell, lstm_cell_unrolled, (4, 1)),
         "gru_cell": (tg.ops.gru_cell, gru_cell_unrolled, (3, 3, 1))}


@st.composite
def cell_operands(draw, gates: tuple[int, ...], elements=None):
    """float64 operands (*lead, g·H) for each g in ``gates``: lead 0-d, with size-1 or empty
    axes; H from 0 to 4."""
    lead, size = draw(shapes(max_dims=2)), draw(st.integers(0, 4))
    return [draw(arrays((*lead, g * size), elements)) for g in gates]


@pytest.mark.parametrize("name", CELLS)
@given(data=st.data())
def test_fused_cell_gradients_against_central_differences(name, data):
    fused, _, gates = CELLS[name]
    check_vjp(fused, data.draw(cell_operands(gates), label="operands"), data)


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_fused_cell_equals_the_unrolled_primitives(name, dtype, data):
    """Values and gradients of the fused node equal the eight or nine nodes it replaces."""
    fused, unrolled, gates = CELLS[name]
    operands = [x.astype(dtype) for x in data.draw(cell_operands(gates, uniform(-6.0, 6.0)))]
    results = []
    for build in (fused, unrolled):
        tensors = [tg.Tensor(x, requires_grad=True) for x in operands]
        outputs = build(*tensors)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for k, out in enumerate(outputs):
            upstream = np.cos(np.arange(out.size) + k).reshape(out.shape).astype(dtype)
            out.backward(upstream, retain_graph=True)
        results.append([out.data for out in outputs] + [t.grad for t in tensors])
    tolerance = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    for from_fused, from_unrolled in zip(*results):
        assert from_fused.dtype == dtype and from_fused.shape == from_unrolled.shape
        np.testing.assert_allclose(from_fused, from_unrolled, **tolerance)


def test_lstm_cell_returns_h_and_c_as_views_of_one_node():
    h, c = tg.ops.lstm_cell(tg.randn(2, 12, requires_grad=True), tg.randn(2, 3))
    assert h.shape == c.shape == (2, 3) and h._view[0] is c._view[0]
    assert h._view[0]._op == "lstm_cell" and h._view[0].shape == (2, 2, 3)


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("value", [1e4, -1e4, np.inf, -np.inf])
def test_fused_cells_saturate_without_warnings_or_nans(name, value):
    """Gate pre-activations far out (or infinite) give σ in {0, 1}, tanh in {−1, 1}, finite
    states, and zero gradients through the saturated gates. (The GRU's hidden gates stay
    finite: an infinite h W_hh^T meets a zero gradient in r ⊙ v_n, 0 · inf, as it does
    unfused.)"""
    fused, _, gates = CELLS[name]
    fills = [value, np.sign(value) * 1e4, 0.5] if name == "gru_cell" else [value, 0.5]
    operands = [tg.Tensor(np.full((2, g * 3), fill), requires_grad=True) for g, fill in zip(gates, fills)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = fused(*operands)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum(out.sum() for out in outputs).backward()
    assert all(np.isfinite(out.data).all() for out in outputs)
    assert all(np.isfinite(operand.grad).all() for operand in operands)
    assert np.array_equal(operands[0].grad, np.zeros_like(operands[0].data))


@pytest.mark.parametrize(("name", "operands", "error", "message"), [
    ("lstm_cell", [(2, 8), (2, 3)], ValueError,
     r"lstm_cell: expected gates \(\*lead, 4H\), cell \(\*lead, H\) with one leading shape, got "
     r"gates \(2, 8\), cell \(2, 3\)"),
    ("lstm_cell", [(3, 8), (2, 2)], ValueError, r"got gates \(3, 8\), cell \(2, 2\)"),
    ("lstm_cell", [(4,), ()], ValueError, r"got gates \(4,\), cell \(\)"),
    ("gru_cell", [(2, 6), (2, 9), (2, 2)], ValueError,
     r"gru_cell: expected input_gates \(\*lead, 3H\), hidden_gates \(\*lead, 3H\), hidden \(\*lead, H\) "
     r"with one leading shape, got input_gates \(2, 6\), hidden_gates \(2, 9\), hidden \(2, 2\)"),
])
def test_fused_cells_name_themselves_and_the_shapes(name, operands, error, message):
    with pytest.raises(error, match=message):
        getattr(tg.ops, name)(*[tg.zeros(shape) for shape in operands])


@pytest.mark.parametrize("name", CELLS)
def test_fused_cells_refuse_mixed_or_integer_dtypes_and_non_tensors(name):
    _, _, gates = CELLS[name]
    cell = getattr(tg.ops, name)
    mixed = [tg.zeros(2, g * 2, dtype="float64" if k == 0 else "float32") for k, g in enumerate(gates)]
    with pytest.raises(TypeError, match=rf"{name}: expected float tensors of one dtype, got \w+ float64, "):
        cell(*mixed)
    integers = [Tensor(np.zeros((2, g * 2), dtype=np.int64)) for g in gates]
    with pytest.raises(TypeError, match=rf"{name}: expected float tensors of one dtype, got \w+ int64"):
        cell(*integers)
    arrays_after_first = [tg.zeros(2, gates[0] * 2)] + [np.zeros((2, g * 2)) for g in gates[1:]]
    with pytest.raises(TypeError, match=rf"{name}: expected Tensors, got .*ndarray"):
        cell(*arrays_after_first)


def test_linear_refuses_bad_operands_with_the_op_name():
    with pytest.raises(ValueError, match=r"linear: x must be \(N, in\) and weight \(out, in\), got "
                                         r"shapes \(2, 3\) and \(3, 2\)"):
        tg.ops.linear(tg.zeros(2, 3), tg.zeros(3, 2))
    with pytest.raises(ValueError, match=r"linear: .*\(3,\) and \(2, 3\)"):
        tg.ops.linear(tg.zeros(3), tg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4, 2\) does not broadcast to the "
                                         r"output's shape \(3, 2\)"):
        tg.ops.linear(tg.zeros(3, 5), tg.zeros(2, 5), tg.zeros(4, 2))
    with pytest.raises(ValueError, match="linear: activation must be one of"):
        tg.ops.linear(tg.zeros(3, 5), tg.zeros(2, 5), activation="gelu")
    with pytest.raises(TypeError, match="linear: x and weight must be Tensors, got ndarray"):
        tg.ops.linear(np.zeros((3, 5)), tg.zeros(2, 5))


def test_addmm_refuses_an_unknown_activation():
    with pytest.raises(ValueError, match="addmm: activation must be one of"):
        tg.addmm(tg.zeros(2), tg.zeros(1, 3), tg.zeros(3, 2), activation="gelu")


def test_addmm_refuses_bad_shapes_with_the_op_name():
    with pytest.raises(ValueError, match=r"addmm: .*\(2, 3\) and \(4, 5\)"):
        tg.addmm(tg.zeros(5), tg.zeros(2, 3), tg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"addmm: bias of shape \(3, 5\) does not broadcast"):
        tg.addmm(tg.zeros(3, 5), tg.zeros(2, 4), tg.zeros(4, 5))
    with pytest.raises(TypeError, match="addmm"):
        tg.addmm(tg.zeros(5), np.zeros((2, 4)), tg.zeros(4, 5))
    with pytest.raises(TypeError, match="addmm: bias must be a Tensor, an array or a number, got None"):
        tg.addmm(None, tg.zeros(2, 4), tg.zeros(4, 5))


@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4))
def test_linear_is_x_times_weight_transposed_plus_a_broadcast_bias(data, n, k, m):
    """PyTorch's F.linear: weight (out, in), bias of any shape broadcasting to (N, out), or none."""
    bias_shape = data.draw(st.sampled_from([None, (), (m,), (1, m), (n, m), (n, 1)]), label="bias")
    x, w = data.draw(arrays((n, k))), data.draw(arrays((m, k)))
    if bias_shape is None:
        [out] = check_vjp(tg.ops.linear, [x, w], data)
        np.testing.assert_allclose(out.data, x @ w.T, rtol=1e-12, atol=1e-12)
        return
    bias = data.draw(arrays(bias_shape))
    [out] = check_vjp(lambda x, w, b: tg.ops.linear(x, w, b), [x, w, bias], data)
    np.testing.assert_allclose(out.data, x @ w.T + bias, rtol=1e-12, atol=1e-12)


@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4))
def test_linear_gives_the_weight_its_gradient_in_its_own_layout(data, n, k, m):
    """grad.T @ x is (out, in) and C-ordered: no transpose node, no copy to reorder it."""
    x = tg.Tensor(data.draw(arrays((n, k))))
    w = tg.Tensor(data.draw(arrays((m, k))), requires_grad=True)
    out = tg.ops.linear(x, w)
    assert out._parents == (x, w)
    upstream = data.draw(arrays((n, m)))
    out.backward(upstream)
    assert w.grad.flags.c_contiguous
    np.testing.assert_allclose(w.grad, upstream.T @ x.data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["2-D @ 2-D", "N-D @ N-D", "1-D @ N-D"])
@given(data=st.data())
def test_matmul_with_an_array_on_the_left(case, data):
    left_shape, right_shape = data.draw(MATMUL_CASES[case], label="shapes")
    left, right = data.draw(arrays(left_shape)), data.draw(arrays(right_shape))
    [out] = check_vjp(lambda t: left @ t, [right], data)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, np.matmul(left, right), rtol=1e-12, atol=1e-12)


# -- reductions -----------------------------------------------------------------------------
@st.composite
def reduction_arguments(draw, reduced_nonempty=False):
    """(shape, axis, keepdims). With ``reduced_nonempty`` the reduced axes are never empty (the
    others may be), and a reduction over no axis gets a non-empty shape: what mean, max and
    min accept."""
    shape = list(draw(shapes()))
    axis = draw(axes(len(shape)))
    if reduced_nonempty:
        named = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
        reduced = [i % len(shape) for i in named] or range(len(shape))
        for i in reduced:
            shape[i] = shape[i] or 1
    return tuple(shape), axis, draw(st.booleans())


@given(arguments=reduction_arguments(), data=st.data())
def test_sum(arguments, data):
    shape, axis, keepdims = arguments
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.sum(axis=axis, keepdims=keepdims), [x], data)
    np.testing.assert_allclose(out.data, np.sum(x, axis=axis, keepdims=keepdims), rtol=1e-12, atol=1e-12)


@given(arguments=reduction_arguments(reduced_nonempty=True), data=st.data())
def test_mean(arguments, data):
    shape, axis, keepdims = arguments
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.mean(axis=axis, keepdims=keepdims), [x], data)
    np.testing.assert_allclose(out.data, np.mean(x, axis=axis, keepdims=keepdims), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("values", "expected_sum", "expected_mean"), [
    (np.full(70000, 0.5), 35000.0, 0.5),   # more elements than float16 can count (65,504)
    (np.full(5000, 20.0), 65504.0 + np.inf, 20.0),  # a sum past float16's range; its mean is not
])
def test_float16_reductions_accumulate_in_float32_as_torch(values, expected_sum, expected_mean):
    x = Tensor(values.astype(np.float16), requires_grad=True)
    mean = x.mean()
    assert mean.dtype == np.float16 and float(mean) == expected_mean
    assert float(x.sum()) == np.float16(expected_sum)
    mean.backward()
    assert x.grad.dtype == np.float16 and np.allclose(x.grad.astype(np.float64), 1 / values.size, rtol=1e-3)
    assert float(tg.functional.mse_loss(x, np.zeros(values.size))) == np.float16(expected_mean ** 2)


def test_mean_of_an_integer_tensor_is_refused_as_in_torch():
    with pytest.raises(TypeError, match=r"mean: not defined for dtype int64 \(shape \(3,\)\); cast it with "
                                        r"\.astype\('float32'\) first"):
        Tensor(np.arange(3)).mean()


@pytest.mark.parametrize("name", ["max", "min"])
@given(arguments=reduction_arguments(reduced_nonempty=True), data=st.data())
def test_max_and_min_with_distinct_values(name, arguments, data):
    shape, axis, keepdims = arguments
    x = data.draw(distinct_arrays(shape))
    [out] = check_vjp(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x], data)
    np.testing.assert_array_equal(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))


def test_min_ties_split_the_gradient_equally():
    x = Tensor([[1.0, 1.0, 3.0]], dtype="float64", requires_grad=True)
    x.min().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0.0]], rtol=1e-15)


def test_max_ties_split_the_gradient_equally():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype="float64", requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 6.0]))
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [2.0, 2.0, 2.0]], rtol=1e-15)
    x.zero_grad()
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]], rtol=1e-15)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("values", [[1.0, np.nan, 2.0], [np.nan, 1.0, np.nan], [np.nan, np.nan, np.nan],
                                    [3.0, 3.0, 1.0]])
def test_max_and_min_give_the_gradient_to_the_nans_that_made_the_result_as_torch(name, values):
    """torch's full max()/min(): a NaN result's gradient goes to the NaNs, shared; ties share
    too. (NaN == NaN is false: a mask by equality alone is empty, and 0/0 spread NaN.)"""
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    getattr(theirs, name)().backward()
    ours = Tensor(values, dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(ours, name)().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_max_along_an_axis_sends_each_rows_gradient_to_its_nans_only():
    """torch's amax along an axis spreads NaN over the whole row instead; a row without NaN
    is unaffected by another row's."""
    x = Tensor([[1.0, np.nan, np.nan], [2.0, 3.0, 3.0]], dtype="float64", requires_grad=True)
    x.max(axis=1).backward(np.array([4.0, 6.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 2.0, 2.0], [0.0, 3.0, 3.0]])


@st.composite
def arg_reduction_arguments(draw):
    """(shape, axis, keepdims) with the reduced part non-empty by construction; the values
    come from a small set, so ties are common."""
    shape = list(draw(shapes()))
    extent = len(shape) or 1
    axis = draw(st.none() | st.integers(-extent, extent - 1))
    if axis is None:
        shape = [n or 1 for n in shape]
    elif shape:
        shape[axis] = shape[axis] or 1
    return tuple(shape), axis, draw(st.booleans())


TIE_PRONE = st.sampled_from([-1.0, 0.0, 1.0]) | uniform(-3.0, 3.0)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(arguments=arg_reduction_arguments(), data=st.data())
def test_argmax_and_argmin_pick_the_first_extreme_like_numpy(name, arguments, data):
    """NumPy's argmax/argmin also return the first of tied extremes; with axis None the index
    is into the flattened tensor, and keepdims keeps every axis as size 1."""
    shape, axis, keepdims = arguments
    x = data.draw(arrays(shape, TIE_PRONE), label="x")
    tensor = Tensor(x, requires_grad=True)
    out = getattr(tensor, name)(axis=axis, keepdims=keepdims)
    find = getattr(np, name)
    if axis is None:
        expected = np.reshape(find(x), (1,) * x.ndim if keepdims else ())
    elif x.ndim == 0:
        expected = np.array(0)
    else:
        expected = find(x, axis=axis, keepdims=keepdims)
    assert out.dtype == np.int64 and out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    assert not out.requires_grad and out.is_leaf
    assert getattr(tg.ops, name)(tensor, axis, keepdims).tolist() == expected.tolist()


def test_argmax_and_argmin_count_nan_as_the_extreme_and_take_the_first_tie():
    """As torch: NaN is both the largest and the smallest value."""
    x = Tensor([1.0, np.nan, 3.0, np.nan, 3.0])
    assert x.argmax().item() == 1 and x.argmin().item() == 1
    y = Tensor([[1.0, 3.0, 3.0], [0.0, 0.0, 2.0]])
    assert y.argmax().item() == 1 and y.argmin().item() == 3
    assert y.argmax(axis=1).tolist() == [1, 2] and y.argmin(axis=-1).tolist() == [0, 0]


# -- shape ops --------------------------------------------------------------------------------
@st.composite
def reshape_targets(draw, shape):
    """A shape with ``shape``'s size: its dims shuffled, some merged, maybe a 1 and a -1 added."""
    target = []
    for n in draw(st.permutations(shape)):
        if target and draw(st.booleans()):
            target[-1] *= n
        else:
            target.append(n)
    if draw(st.booleans()):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and np.prod(shape) > 0 and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@given(shape=shapes(), data=st.data())
def test_reshape(shape, data):
    target = data.draw(reshape_targets(shape), label="target")
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.reshape(target), [x], data)
    np.testing.assert_array_equal(out.data, x.reshape(target))
    assert Tensor(x).reshape(*target).shape == x.reshape(target).shape


@given(shape=shapes(), data=st.data())
def test_transpose_with_axes(shape, data):
    ndim = len(shape)
    permutation = data.draw(st.permutations(range(ndim)), label="axes")
    permutation = tuple(data.draw(st.sampled_from([i, i - ndim])) for i in permutation)
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.transpose(permutation), [x], data)
    np.testing.assert_array_equal(out.data, np.transpose(x, permutation))
    if ndim:
        assert Tensor(x).transpose(*permutation).shape == out.shape


@given(x=arrays(shapes()), data=st.data())
def test_transpose_without_axes_and_T(x, data):
    [out, out_t] = check_vjp(lambda t: [t.transpose(), t.T], [x], data)
    np.testing.assert_array_equal(out.data, x.T)
    np.testing.assert_array_equal(out_t.data, x.T)


def _one_node(out, x, op):
    """``out`` is one node of the graph, named ``op``, straight on top of the input ``x``."""
    assert out._op == op and len(out._parents) == 1 and out._parents[0] is x


@st.composite
def squeeze_arguments(draw):
    """A shape with size-1 axes likely, and an axis: None, an int or a tuple (negatives too);
    a 0-d shape may name its one axis, 0 or −1, as in PyTorch."""
    shape = draw(shapes(max_side=2))
    extent = len(shape) or 1
    chosen = draw(st.lists(st.integers(0, extent - 1), unique=True, max_size=extent))
    signed = [draw(st.sampled_from([i, i - extent])) for i in chosen]
    axis = draw(st.sampled_from([None, tuple(signed), list(signed)] + ([signed[0]] if signed else [])))
    return shape, axis


@given(arguments=squeeze_arguments(), data=st.data())
def test_squeeze_removes_only_size_1_axes_among_those_named(arguments, data):
    shape, axis = arguments
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.squeeze(axis), [x], data)
    if axis is None:
        expected = np.squeeze(x)
    else:
        named = [i % len(shape) for i in ([axis] if isinstance(axis, int) else axis)] if shape else []
        expected = np.squeeze(x, axis=tuple(i for i in named if shape[i] == 1))
    np.testing.assert_array_equal(out.data, expected)
    assert out.shape == expected.shape
    tensor = Tensor(x, requires_grad=True)
    _one_node(tg.ops.squeeze(tensor, axis), tensor, "squeeze")


@given(shape=shapes(), data=st.data())
def test_unsqueeze(shape, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.unsqueeze(axis), [x], data)
    np.testing.assert_array_equal(out.data, np.expand_dims(x, axis))
    assert out.shape == np.expand_dims(x, axis).shape
    tensor = Tensor(x, requires_grad=True)
    _one_node(tg.ops.unsqueeze(tensor, axis), tensor, "unsqueeze")


@given(shape=shapes(max_dims=4), data=st.data())
def test_flatten_merges_the_axes_from_start_dim_through_end_dim(shape, data):
    extent = len(shape) or 1
    start, end = sorted(data.draw(st.lists(st.integers(0, extent - 1), min_size=2, max_size=2)))
    start_dim = data.draw(st.sampled_from([start, start - extent]), label="start_dim")
    end_dim = data.draw(st.sampled_from([end, end - extent]), label="end_dim")
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.flatten(start_dim, end_dim), [x], data)
    merged = int(np.prod(shape[start:end + 1]))
    expected_shape = (*shape[:start], merged, *shape[end + 1:]) if shape else (1,)
    np.testing.assert_array_equal(out.data, x.reshape(expected_shape))
    assert out.shape == expected_shape
    assert Tensor(x).flatten().shape == (x.size,)
    tensor = Tensor(x, requires_grad=True)
    _one_node(tg.ops.flatten(tensor, start_dim, end_dim), tensor, "flatten")


@given(shape=shapes(), data=st.data())
def test_permute_as_varargs_a_tuple_or_a_list(shape, data):
    ndim = len(shape)
    order = data.draw(st.permutations(range(ndim)), label="order")
    dims = tuple(data.draw(st.sampled_from([i, i - ndim])) for i in order)
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t.permute(*dims), [x], data)
    np.testing.assert_array_equal(out.data, np.transpose(x, dims))
    for form in (dims, list(dims)):
        assert Tensor(x).permute(form).shape == np.transpose(x, dims).shape
    tensor = Tensor(x, requires_grad=True)
    _one_node(tg.ops.permute(tensor, dims), tensor, "permute")


def _axis_guess(ndim: int) -> st.SearchStrategy[int]:
    """An axis that is valid or one past either end of the valid range (0-d: one axis)."""
    extent = ndim or 1
    return st.integers(-extent - 1, extent)


# name -> (arguments for a tensor with ndim axes, our call, torch's call)
SHAPE_OPS_VS_TORCH = {
    "squeeze": (lambda ndim: st.none() | _axis_guess(ndim) | st.tuples() | st.lists(_axis_guess(ndim),
                                                                                   max_size=3).map(tuple),
                lambda t, axis: t.squeeze(axis),
                lambda t, axis: t.squeeze() if axis is None else t.squeeze(axis)),
    "unsqueeze": (lambda ndim: st.integers(-ndim - 2, ndim + 1),
                  lambda t, axis: t.unsqueeze(axis),
                  lambda t, axis: t.unsqueeze(axis)),
    "flatten": (lambda ndim: st.tuples(_axis_guess(ndim), _axis_guess(ndim)),
                lambda t, dims: t.flatten(*dims),
                lambda t, dims: t.flatten(*dims)),
    "permute": (lambda ndim: st.permutations(range(ndim)).map(tuple)
                | st.lists(_axis_guess(ndim), max_size=ndim + 1).map(tuple),
                lambda t, dims: t.permute(dims),
                lambda t, dims: t.permute(dims)),
    "argmax": (lambda ndim: st.tuples(st.none() | _axis_guess(ndim), st.booleans()),
               lambda t, args: t.argmax(*args),
               lambda t, args: t.argmax(*args)),
    "argmin": (lambda ndim: st.tuples(st.none() | _axis_guess(ndim), st.booleans()),
               lambda t, args: t.argmin(*args),
               lambda t, args: t.argmin(*args)),
}


@pytest.mark.parametrize("name", SHAPE_OPS_VS_TORCH)
@given(shape=shapes(), data=st.data())
def test_shape_ops_and_argmax_follow_torch_including_what_they_refuse(name, shape, data):
    """Negative, out-of-range and repeated axes, 0-d and empty tensors, ties: the same result
    as torch, or an error from both (ours a ValueError or TypeError naming the op)."""
    torch = pytest.importorskip("torch")
    arguments_for, ours, theirs = SHAPE_OPS_VS_TORCH[name]
    arguments = data.draw(arguments_for(len(shape)), label="arguments")
    x = data.draw(arrays(shape, TIE_PRONE), label="x")
    try:
        expected = theirs(torch.tensor(x), arguments).numpy()
    except (IndexError, RuntimeError, TypeError):
        expected = None
    if expected is None:
        with pytest.raises((ValueError, TypeError), match=f"^{name}: "):
            ours(Tensor(x), arguments)
        return
    out = ours(Tensor(x), arguments)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)


# -- indexing --------------------------------------------------------------------------------
@given(shape=shapes(), data=st.data())
def test_getitem_basic_indices(shape, data):
    """Ints (negative too), slices with any step, None and Ellipsis."""
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), label="index")
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t[index], [x], data)
    np.testing.assert_array_equal(out.data, x[index])


@given(x=arrays(shapes(min_dims=1, min_side=1)), data=st.data())
def test_getitem_negative_steps(x, data):
    [out] = check_vjp(lambda t: t[::-1, ...][::-2], [x], data)
    np.testing.assert_array_equal(out.data, x[::-1][::-2])


@given(x=arrays(shapes()), data=st.data())
def test_getitem_boolean_mask(x, data):
    mask = data.draw(hnp.arrays(np.bool_, x.shape), label="mask")
    [out] = check_vjp(lambda t: t[mask], [x], data)
    np.testing.assert_array_equal(out.data, x[mask])


@pytest.mark.parametrize("index", [(1, 2), (-1, 0), ()])
def test_getitem_of_single_elements_holds_a_0_d_array(index):
    """x[i, j] (and x[()] of a 0-d x) is a 0-d ndarray, as every Tensor's data is, not a scalar."""
    x = Tensor(np.arange(6.0).reshape(2, 3) if index else np.float64(4.0), requires_grad=True)
    element = x[index]
    assert type(element.data) is np.ndarray and element.shape == ()
    (element * 3.0).backward()
    expected = np.zeros(x.shape)
    expected[index] = 3.0
    np.testing.assert_array_equal(x.grad, expected)


@given(x=arrays(shapes(min_dims=1)), data=st.data())
def test_getitem_boolean_mask_on_the_first_axis(x, data):
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:1]), label="mask")
    [out] = check_vjp(lambda t: t[mask], [x], data)
    np.testing.assert_array_equal(out.data, x[mask])


@pytest.mark.parametrize("index", [True, False, np.True_, (0, True), (True, 0), (slice(None), None, True),
                                   (Ellipsis, False)])
@given(x=arrays(shapes(min_dims=2, min_side=1)), data=st.data())
def test_getitem_with_a_bool_scalar_gets_its_gradient(index, x, data):
    """x[True] is a copy with a new axis (NumPy's and torch's masked indexing), not a view:
    its gradient used to be added into a temporary and lost."""
    [out] = check_vjp(lambda t: t[index], [x], data)
    np.testing.assert_array_equal(out.data, x[index])


def test_a_ragged_index_list_names_getitem():
    with pytest.raises(IndexError, match=r"getitem: the index list \[\[0\], \[0, 1\]\] is ragged "
                                         r"\(indexing a tensor of shape \(3,\)\)"):
        tg.Tensor([1.0, 2.0, 3.0])[[[0], [0, 1]]]


@given(vocab=st.integers(1, 5), dim=st.integers(1, 3), data=st.data())
def test_integer_gather_with_repeated_indices_scatter_adds(vocab, dim, data):
    """An embedding lookup: the weight's gradient is one_hot(indices)ᵀ @ upstream."""
    drawn = data.draw(st.lists(st.integers(-vocab, vocab - 1), min_size=1, max_size=8), label="indices")
    indices = np.array([*drawn, drawn[0]])  # a repeat by construction
    weight = data.draw(arrays((vocab, dim)), label="weight")
    [out] = check_vjp(lambda t: t[indices], [weight], data)
    np.testing.assert_array_equal(out.data, weight[indices])

    upstream = data.draw(arrays(out.shape), label="upstream for the one-hot check")
    for index in (indices, indices.tolist(), Tensor(indices, dtype=np.int64)):
        tensor = Tensor(weight, requires_grad=True)
        tensor[index].backward(upstream)
        np.testing.assert_allclose(tensor.grad, one_hot(indices % vocab, vocab).T @ upstream,
                                   rtol=1e-12, atol=1e-12)


@given(shape=shapes(min_dims=1, min_side=1), data=st.data())
def test_getitem_integer_arrays_on_several_axes(shape, data):
    """2-D (and N-D) advanced indexing: one integer array per axis, broadcast together."""
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(max_dims=2)), label="index")
    x = data.draw(arrays(shape))
    [out] = check_vjp(lambda t: t[index], [x], data)
    np.testing.assert_array_equal(out.data, x[index])


MIXED_INDICES = {
    "array, slice": lambda rows: (rows, slice(1, None)),
    "slice, array": lambda rows: (slice(None, None, -1), rows % 3),
    "ellipsis, array": lambda rows: (Ellipsis, rows % 3),
    "None, array": lambda rows: (None, rows),
    "rows[:, None], cols": lambda rows: (rows[:, None], np.array([0, 2, 2])),
}


@pytest.mark.parametrize("case", MIXED_INDICES)
@given(x=arrays((4, 3)), rows=hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(-4, 3)),
       data=st.data())
def test_getitem_mixed_basic_and_advanced(case, x, rows, data):
    index = MIXED_INDICES[case](rows)
    [out] = check_vjp(lambda t: t[index], [x], data)
    np.testing.assert_array_equal(out.data, x[index])


# -- joining and splitting -------------------------------------------------------------------
@given(shape=shapes(min_dims=1), data=st.data())
def test_concatenate(shape, data):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    lengths = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3), label="lengths")
    pieces = [
        data.draw(arrays(tuple(n if i == axis % ndim else side for i, side in enumerate(shape))))
        for n in lengths
    ]
    [out] = check_vjp(lambda *ts: tg.concatenate(ts, axis=axis), pieces, data)
    np.testing.assert_array_equal(out.data, np.concatenate(pieces, axis=axis))


@given(shape=shapes(), count=st.integers(1, 3), data=st.data())
def test_stack(shape, count, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    pieces = [data.draw(arrays(shape)) for _ in range(count)]
    [out] = check_vjp(lambda *ts: tg.stack(list(ts), axis=axis), pieces, data)
    np.testing.assert_array_equal(out.data, np.stack(pieces, axis=axis))


@st.composite
def split_arguments(draw, by_sections):
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    if by_sections:
        sections = draw(st.integers(1, 3))
        shape[axis] = sections * draw(st.integers(0, 2))
        return tuple(shape), sections, axis
    cuts = sorted(draw(st.lists(st.integers(0, shape[axis]), max_size=3)))
    return tuple(shape), cuts, axis


@pytest.mark.parametrize("by_sections", [True, False], ids=["sections", "indices"])
@given(data=st.data())
def test_split_gives_every_piece_its_gradient(by_sections, data):
    shape, sections_or_cuts, axis = data.draw(split_arguments(by_sections), label="arguments")
    x = data.draw(arrays(shape))
    pieces = check_vjp(lambda t: tg.split(t, sections_or_cuts, axis=axis), [x], data)
    expected = np.split(x, sections_or_cuts, axis=axis)
    assert len(pieces) == len(expected)
    for piece, reference in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, reference)
    assert [p.shape for p in Tensor(x).split(sections_or_cuts, axis=axis)] == [e.shape for e in expected]


# -- dtype casts -------------------------------------------------------------------------------
@given(x=arrays(shapes()), data=st.data())
def test_astype_round_trip_casts_the_gradient_back(x, data):
    tensor = Tensor(x, requires_grad=True)
    narrow = tensor.astype(np.float32)
    assert narrow.dtype == np.float32
    np.testing.assert_array_equal(narrow.data, x.astype(np.float32))
    upstream = data.draw(arrays(x.shape)).astype(np.float32)
    narrow.backward(upstream)
    assert tensor.grad.dtype == np.float64
    np.testing.assert_array_equal(tensor.grad, upstream.astype(np.float64))
    check_vjp(lambda t: t.astype("float64") * 2.0, [x], data)


@pytest.mark.parametrize("dtype", [object, str, complex, np.complex64, "datetime64[s]", "V8"])
def test_astype_refuses_the_dtypes_the_constructor_refuses(dtype):
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^astype: unsupported dtype .* \(tensor of shape \(2,\) and dtype "
                                        r"float32\); use a boolean, integer or floating-point dtype$"):
        x.astype(dtype)
    with pytest.raises(TypeError, match="use a boolean, integer or floating-point array"):
        Tensor(np.ones(2, dtype=dtype))
    assert x.astype(np.int8).dtype == np.int8 and x.astype(bool).dtype == np.bool_


def test_astype_to_an_integer_dtype_refuses_a_tensor_that_requires_grad():
    x = Tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(TypeError, match="astype.*int64"):
        x.astype(np.int64)
    np.testing.assert_array_equal(x.detach().astype(np.int64).data, [1, 2])


# -- softmax and log_softmax -------------------------------------------------------------------
def _log_softmax_reference(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=shapes(min_dims=1), data=st.data())
def test_softmax_and_log_softmax_on_any_axis(name, shape, data):
    """Any axis, which is never empty; the other axes may be."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    shape = tuple(max(n, 1) if i == axis % len(shape) else n for i, n in enumerate(shape))
    x = data.draw(arrays(shape, uniform(-5.0, 5.0)))
    [out] = check_vjp(lambda t: getattr(t, name)(axis=axis), [x], data)
    log_probs = _log_softmax_reference(x, axis)
    expected = np.exp(log_probs) if name == "softmax" else log_probs
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    probabilities = out.data if name == "softmax" else np.exp(out.data)
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_of_huge_logits_stay_finite(name, axis):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    x = Tensor(logits, requires_grad=True)
    out = getattr(x, name)(axis=axis)
    out.backward(np.arange(9.0).reshape(3, 3))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    expected = _log_softmax_reference(logits, axis)
    np.testing.assert_allclose(out.data, np.exp(expected) if name == "softmax" else expected, atol=1e-12)
    probabilities = out.data if name == "softmax" else np.exp(out.data)
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "axis", "dtype"), [((3, 0), -1, "float32"), ((0, 2), 0, "float64"),
                                                      ((2, 0, 3), 1, "int64")])
def test_softmax_and_log_softmax_along_an_empty_axis_are_empty_as_in_torch(name, shape, axis, dtype):
    """NumPy refuses the max of nothing; there is nothing to normalize, so the result and the
    gradient are empty (float32 for integers, as for the other float functions)."""
    torch = pytest.importorskip("torch")
    reference = getattr(torch, name)(torch.zeros(shape, dtype=torch.float64), axis)
    x = Tensor(np.zeros(shape, dtype=dtype), requires_grad=dtype != "int64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(x, name)(axis=axis)
        if x.requires_grad:
            out.backward(np.zeros(shape))
    assert out.shape == tuple(reference.shape) == shape
    assert out.dtype == (np.float32 if dtype == "int64" else dtype)
    assert x.grad is None if dtype == "int64" else (x.grad.shape == shape and x.grad.dtype == dtype)


def _shifted(t, axis):
    return t - t.max(axis=axis, keepdims=True)


UNROLLED = {
    "sigmoid": (Tensor.sigmoid, lambda t: 1 / (1 + (-t).exp())),
    "softmax": (lambda t: t.softmax(axis=0),
                lambda t: _shifted(t, 0).exp() / _shifted(t, 0).exp().sum(axis=0, keepdims=True)),
    "log_softmax": (lambda t: t.log_softmax(axis=-1),
                    lambda t: _shifted(t, -1) - _shifted(t, -1).exp().sum(axis=-1, keepdims=True).log()),
}


@pytest.mark.parametrize("name", UNROLLED)
@given(x=arrays(shapes(min_dims=1, min_side=1), uniform(-5.0, 5.0)), data=st.data())
def test_fused_op_matches_the_same_computation_unrolled_from_primitives(name, x, data):
    fused, unrolled = UNROLLED[name]
    upstream = data.draw(arrays(x.shape), label="upstream")
    outputs, grads = [], []
    for fn in (fused, unrolled):
        tensor = Tensor(x, requires_grad=True)
        out = fn(tensor)
        out.backward(upstream)
        outputs.append(out.data)
        grads.append(tensor.grad)
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("left", "right"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((3,), (4, 2)), ((2, 3), (4,)), ((2, 2, 3), (3, 3, 4)), ((2, 3), ())],
)
def test_matmul_shape_mismatch_names_the_op_and_the_shapes(left, right):
    with pytest.raises(ValueError, match="matmul") as info:
        Tensor(np.ones(left)) @ Tensor(np.ones(right))
    assert str(left) in str(info.value) and str(right) in str(info.value)


@pytest.mark.parametrize("name", BINARY)
def test_non_broadcastable_shapes_name_the_op_and_the_shapes(name):
    op = BINARY[name][0]
    for left, right in [(Tensor(np.ones((2, 3))), Tensor(np.ones(4))),
                        (Tensor(np.ones((2, 3))), np.ones(4)),
                        (np.ones((2, 3)), Tensor(np.ones(4)))]:
        with pytest.raises(ValueError, match=name) as info:
            op(left, right)
        assert "(2, 3)" in str(info.value) and "(4,)" in str(info.value)


UNSUPPORTED = ["text", [1.0, 2.0], {"a": 1.0}]
OPERATORS = {**{name: op for name, (op, _) in BINARY.items()}, "matmul": operator.matmul}


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("other", UNSUPPORTED, ids=["str", "list", "dict"])
def test_mixing_a_tensor_with_an_unsupported_type_names_the_op(name, other):
    op, x = OPERATORS[name], Tensor(np.ones((2, 2)))
    for left, right in [(x, other), (other, x)]:
        with pytest.raises(TypeError, match=f"{name}: unsupported operand of type {type(other).__name__}"):
            op(left, right)


# Arguments after the first, for the module-level ops that need them.
FURTHER_ARGUMENTS = {"pow": (2,), "rpow": (2.0,), "getitem": (0,), "split": (2,), "astype": ("float64",),
                     "clamp": (0.0,), "linear": (tg.zeros(3, 3),),
                     **{name: (Tensor(np.ones((2, 3))),) for name in ("add", "sub", "mul", "div", "matmul",
                                                                     "rmatmul")}}
TENSOR_FIRST_OPS = [name for name, function in vars(tg.ops).items()
                    if inspect.isfunction(function) and not name.startswith("_")
                    and function.__module__ == tg.ops.__name__ and not name.endswith("_prechecked")
                    and next(iter(inspect.signature(function).parameters.values())).annotation == "Tensor"]


@pytest.mark.parametrize("first", [np.ones((2, 3)), 1.0, [[1.0]]], ids=["ndarray", "float", "list"])
@pytest.mark.parametrize("name", TENSOR_FIRST_OPS)
def test_module_level_ops_refuse_a_first_argument_that_is_not_a_tensor(name, first):
    """``ops.exp(array)`` or ``ops.add(1.0, x)`` named the op instead of failing deep inside
    (an AttributeError, or NumPy's memoryview errors); every op whose first parameter is a
    Tensor is checked (the ``*_prechecked`` ops trust their callers by design)."""
    assert {"exp", "softmax", "add", "sum", "mean", "neg", "split", "getitem"} <= set(TENSOR_FIRST_OPS)
    detail = r" of shape \(2, 3\) and dtype float64" if isinstance(first, np.ndarray) else ""
    message = (r"x and weight must be Tensors, got" if name == "linear" else
               rf"expected a Tensor as the first argument, got {type(first).__name__}{detail}")
    op = getattr(tg.ops, name)  # all_ and any_ are torch's all and any, named so in messages
    with pytest.raises(TypeError, match=rf"^{op.__name__}: {message}"):
        op(first, *FURTHER_ARGUMENTS.get(name, ()))


def test_pow_and_rpow_refuse_what_they_cannot_differentiate():
    x = Tensor(np.ones(3))
    for exponent in [x, "2", np.ones(3)]:
        with pytest.raises(TypeError, match="pow: the exponent must be a Python or NumPy scalar"):
            x**exponent
    for base in ["2", np.ones(3), 1j]:
        with pytest.raises(TypeError, match=r"rpow: the base must be a Python or NumPy number, got .* "
                                            r"\(exponent of shape \(3,\)\)"):
            tg.ops.rpow(x, base)
    with pytest.raises(ValueError, match=r"rpow: integers to negative integer powers are not allowed "
                                         r"\(base 2, exponents of dtype int64, shape \(2,\)\)"):
        2 ** Tensor(np.array([1, -1]))


def test_rpow_is_a_power_with_torchs_values_and_dtypes():
    # It was exp(a · ln base): 10 ** 5 came out 100000.05 in float32, 2 ** 100 off by 2e-6.
    assert (2.0 ** Tensor([100.0])).data.tolist() == [2.0**100]
    assert (10.0 ** Tensor([1.0, 5.0])).data.tolist() == [10.0, 100000.0]
    assert (10.0 ** Tensor(np.array([15.0]))).data.tolist() == [1e15]
    ints = 2 ** Tensor(np.array([30, 62]))
    assert ints.dtype == np.int64 and ints.data.tolist() == [2**30, 2**62]
    assert (2.5 ** Tensor(np.array([2], np.int8))).dtype == np.float32
    assert (2 ** Tensor(np.array([True, False]))).data.tolist() == [2, 1]
    x = Tensor([0.0, 1.0, 2.0, -1.0], dtype="float64", requires_grad=True)
    zero = 0.0**x
    zero.sum().backward()
    assert zero.data.tolist() == [1.0, 0.0, 0.0, np.inf]
    assert x.grad.tolist()[:3] == [0.0, 0.0, 0.0] and x.grad[3] == -np.inf  # torch's choice at 0
    negative = (-3.0) ** Tensor([1.0, 2.0, 3.0, 0.5])
    np.testing.assert_array_equal(negative.data, [-3.0, 9.0, -27.0, np.nan])
    half = 10.0 ** Tensor(np.array([5.0], np.float16))  # in float32, then rounded: 1e5 > 65504
    assert half.dtype == np.float16 and half.data.tolist() == [np.inf]
    torch = pytest.importorskip("torch")
    for base in (0.0, -3.0, 2.0, 10.0):
        exponents = np.array([0.0, 1.0, 2.0, 3.0, -1.0, 0.5])
        ours = Tensor(exponents, requires_grad=True)
        (base**ours).sum().backward()
        theirs = torch.tensor(exponents, requires_grad=True)
        out = base**theirs
        out.sum().backward()
        np.testing.assert_allclose((base**Tensor(exponents)).data, out.detach().numpy(), rtol=1e-15)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-15)
    assert str((2 ** torch.tensor([30, 62])).dtype) == "torch.int64"


@pytest.mark.parametrize(("values", "axis", "total"), [
    (np.array([True, True, True]), None, 3),
    (np.array([200, 100], np.uint8), None, 300),
    (np.array([[100, 100]], np.int8), 1, [200]),
    (np.array([2**30, 2**30], np.int32), None, 2**31),
])
def test_sum_of_bools_and_integers_is_int64_as_torch(values, axis, total):
    # The total was cast back to the input's dtype: True, 44, -56, -2**31.
    out = Tensor(values).sum(axis=axis)
    assert out.dtype == np.int64 and out.data.tolist() == total
    torch = pytest.importorskip("torch")
    expected = torch.from_numpy(values).sum(*(() if axis is None else (axis,)))
    assert str(expected.dtype) == "torch.int64" and expected.tolist() == total


def test_float16_with_a_scalar_beyond_its_range_computes_in_float32_as_torch():
    # The scalar was rounded to float16 first: 1e5 became inf, so x / 1e5 was 0 (gradient 0 too).
    x = Tensor(np.array([1000.0, 1.0], np.float16), requires_grad=True)
    y = x / 1e5
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.data, np.array([1000.0 / 1e5, 1 / 1e5], np.float32).astype(np.float16))
    y.sum().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad, np.float16(1e-5))
    assert (Tensor(np.array([1e-3], np.float16)) * 1e5).data.tolist() == [100.0625]  # float16(1e-3)·1e5
    reflected = 1e5 / Tensor(np.array([1000.0], np.float16))
    assert reflected.dtype == np.float16 and reflected.data.tolist() == [100.0]
    assert (Tensor(np.array([1.0], np.float16)) * 1e6).data.tolist() == [np.inf]  # rounded once, quietly
    torch = pytest.importorskip("torch")
    given = torch.tensor([1000.0, 1.0, 3.0], dtype=torch.float16)
    for operation in (lambda t: t / 1e5, lambda t: t * 1e-6, lambda t: 7e4 - t, lambda t: t * 0.1):
        expected = operation(given).numpy()
        np.testing.assert_array_equal(operation(Tensor(given.numpy())).data, expected)


def test_float16_softmax_sums_in_float32_as_torch():
    # 70,000 equal logits: the float16 sum of exp(0) was inf, every probability 0.
    logits = Tensor(np.zeros((1, 70000), np.float16), requires_grad=True)
    probabilities = logits.softmax()
    assert probabilities.dtype == np.float16
    np.testing.assert_array_equal(probabilities.data, np.float16(1 / 70000))
    log_probabilities = logits.log_softmax()
    assert log_probabilities.dtype == np.float16
    np.testing.assert_array_equal(log_probabilities.data, np.float16(-np.log(70000)))
    probabilities.backward(np.ones((1, 70000), np.float16))
    assert logits.grad.dtype == np.float16 and not logits.grad.any()
    torch = pytest.importorskip("torch")
    expected = torch.zeros((1, 70000), dtype=torch.float16).softmax(-1).numpy()
    np.testing.assert_array_equal(probabilities.data, expected)


def test_relu_and_abs_gradients_at_nan_follow_torch():
    x = Tensor([np.nan, -1.0, 0.0, 2.0], dtype="float64", requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0, 1.0])  # the nan passes it
    x.grad = None
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, -1.0, 0.0, 1.0])  # sign(nan) counts as 0


def test_reshape_to_a_wrong_size_names_the_shapes():
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*\(-1, -1\)"):
        Tensor(np.ones((2, 3))).reshape(-1, -1)


AXIS_OUT_OF_RANGE = {
    "sum": lambda x: x.sum(axis=2),
    "mean": lambda x: x.mean(axis=-3),
    "max": lambda x: x.max(axis=(0, 5)),
    "min": lambda x: x.min(axis=2),
    "softmax": lambda x: x.softmax(axis=2),
    "log_softmax": lambda x: x.log_softmax(axis=-3),
    "transpose": lambda x: x.transpose(0, 3),
    "permute": lambda x: x.permute(0, -3),
    "squeeze": lambda x: x.squeeze((0, 2)),
    "unsqueeze": lambda x: x.unsqueeze(3),
    "argmax": lambda x: x.argmax(axis=2),
    "argmin": lambda x: x.argmin(axis=-3),
    "concatenate": lambda x: tg.concatenate([x, x], axis=2),
    "stack": lambda x: tg.stack([x, x], axis=3),
    "split": lambda x: tg.split(x, 1, axis=2),
}


@pytest.mark.parametrize("name", AXIS_OUT_OF_RANGE)
def test_axis_out_of_range_names_the_op_and_the_shape(name):
    with pytest.raises(ValueError, match=rf"^{name}: .*axis.*out of range.*\(2, 3\)"):
        AXIS_OUT_OF_RANGE[name](Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name", ["mean", "max", "min"])
def test_mean_and_max_refuse_to_reduce_nothing(name):
    x = Tensor(np.ones((2, 0)))
    for axis in (None, 1, (0, 1)):
        with pytest.raises(ValueError, match=rf"{name}: .*\(2, 0\)"):
            getattr(x, name)(axis=axis)
    assert getattr(x, name)(axis=0).shape == (0,)


def test_transpose_refuses_axes_that_are_not_a_permutation():
    with pytest.raises(ValueError, match=r"transpose: .*\(0, 0\).*\(2, 3\)"):
        Tensor(np.ones((2, 3))).transpose(0, 0)


SHAPE_OP_MISUSE = {
    "permute of a repeated axis": (lambda x: x.permute(1, -1), ValueError,
                                   r"permute: axes \(1, -1\) are not a permutation for a tensor of "
                                   r"shape \(2, 3\)"),
    "permute of too few axes": (lambda x: x.permute(0), ValueError,
                                r"permute: axes \(0,\) are not a permutation .*\(2, 3\)"),
    "permute without dims": (lambda x: x.permute(), ValueError,
                             r"permute: axes \(\) are not a permutation .*\(2, 3\)"),
    "permute of a float": (lambda x: x.permute(1.0, 0), TypeError,
                           r"permute: axes must be ints, got \(1.0, 0\) \(tensor of shape \(2, 3\)\)"),
    "squeeze of a repeated axis": (lambda x: x.squeeze((1, -1)), ValueError,
                                   r"squeeze: repeated axis in \(1, -1\) \(tensor of shape \(2, 3\)\)"),
    "squeeze of a float": (lambda x: x.squeeze(0.0), TypeError,
                           r"squeeze: axis must be an int, got 0.0 \(tensor of shape \(2, 3\)\)"),
    "unsqueeze of a bool": (lambda x: x.unsqueeze(True), TypeError,
                            r"unsqueeze: axis must be an int, got True \(tensor of shape \(2, 3\)\)"),
    "flatten past the end": (lambda x: x.flatten(0, 2), ValueError,
                             r"flatten: end_dim 2 is out of range \[-2, 1\] for a tensor of shape \(2, 3\)"),
    "flatten backwards": (lambda x: x.flatten(-1, 0), ValueError,
                          r"flatten: start_dim -1 comes after end_dim 0 \(tensor of shape \(2, 3\)\)"),
    "argmax of a tuple": (lambda x: x.argmax(axis=(0, 1)), TypeError,
                          r"argmax: axis must be an int, got \(0, 1\) \(tensor of shape \(2, 3\)\)"),
    "argmin of bools": (lambda x: Tensor(x.data > 0).argmin(), TypeError,
                        r"argmin: a bool tensor has no order \(shape \(2, 3\)\)"),
    "concatenate along None": (lambda x: tg.concatenate([x, x], axis=None), TypeError,
                               r"concatenate: axis must be an int, got None \(tensor of shape \(2, 3\)\)"),
    "concatenate along a float": (lambda x: tg.concatenate([x, x], axis=1.0), TypeError,
                                  r"concatenate: axis must be an int, got 1.0 \(tensor of shape \(2, 3\)\)"),
    "concatenate of 0-d tensors": (lambda x: tg.concatenate([x.sum(), x.sum()]), ValueError,
                                   r"concatenate: 0-d tensors have no axis to join along, got shapes "
                                   r"\[\(\), \(\)\]; use stack"),
    "stack along a float": (lambda x: tg.stack([x, x], axis=1.0), TypeError,
                            r"stack: axis must be an int, got 1.0 \(tensor of shape \(2, 3\)\)"),
    "split along a str": (lambda x: tg.split(x, 2, axis="a"), TypeError,
                          r"split: axis must be an int, got 'a' \(tensor of shape \(2, 3\)\)"),
    "split into None": (lambda x: x.split(None), TypeError,
                        r"split: indices_or_sections must be a number of sections \(an int\) or a list of "
                        r"split indices \(ints\), got None \(tensor of shape \(2, 3\)\)"),
    "split at a str": (lambda x: x.split("ab"), TypeError,
                       r"split: indices_or_sections must be .*, got 'ab' \(tensor of shape \(2, 3\)\)"),
    "split at a float": (lambda x: x.split([1.5], axis=1), TypeError,
                         r"split: indices_or_sections must be .*, got \[1.5\] \(tensor of shape \(2, 3\)\)"),
    "split into True sections": (lambda x: x.split(True), TypeError,
                                 r"split: indices_or_sections must be .*, got True"),
    "sum with a str keepdims": (lambda x: x.sum(keepdims="no"), TypeError,
                                r"sum: keepdims must be a bool, got 'no' \(tensor of shape \(2, 3\)\)"),
    "mean with an int keepdims": (lambda x: x.mean(axis=0, keepdims=1), TypeError,
                                  r"mean: keepdims must be a bool, got 1 \(tensor of shape \(2, 3\)\)"),
    "max with None keepdims": (lambda x: x.max(keepdims=None), TypeError, r"max: keepdims must be a bool"),
    "argmax with a str keepdims": (lambda x: x.argmax(0, "yes"), TypeError,
                                   r"argmax: keepdims must be a bool, got 'yes' \(tensor of shape "
                                   r"\(2, 3\)\)"),
}


@pytest.mark.parametrize("case", SHAPE_OP_MISUSE)
def test_shape_ops_name_themselves_the_shape_and_the_bad_argument(case):
    call, error, message = SHAPE_OP_MISUSE[case]
    with pytest.raises(error, match=f"^{message}"):
        call(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_refuse_to_reduce_nothing(name):
    x = Tensor(np.ones((2, 0)))
    with pytest.raises(ValueError, match=rf"^{name}: cannot reduce an empty tensor \(shape \(2, 0\)\)"):
        getattr(x, name)()
    with pytest.raises(ValueError, match=rf"^{name}: cannot reduce an empty axis \(shape \(2, 0\), axis 1\)"):
        getattr(x, name)(axis=-1)
    assert getattr(x, name)(axis=0).shape == (0,)


@pytest.mark.parametrize("index", [5, -3, (0, 3), [0, 7], np.array([[1], [2]]), np.ones(4, dtype=bool)],
                         ids=["int", "negative", "second axis", "list", "array", "mask"])
def test_index_out_of_range_names_the_op_and_the_shape(index):
    with pytest.raises(IndexError, match=r"getitem: .*\(2, 3\)"):
        Tensor(np.ones((2, 3)))[index]


@pytest.mark.parametrize("index", [np.array([0.0, 1.0]), [0.5], 1.5, "a"],
                         ids=["array", "list", "scalar", "str"])
def test_float_or_other_indices_are_refused(index):
    with pytest.raises(TypeError, match=r"getitem: .*\(2, 3\)"):
        Tensor(np.ones((2, 3)))[index]


@pytest.mark.parametrize(("index", "error", "reason"), [
    (slice(None, None, 0), ValueError, "slice step cannot be zero"),
    ((slice(None), slice(None, None, 0)), ValueError, "slice step cannot be zero"),
    (([0], slice(None, None, 0)), ValueError, "slice step cannot be zero"),
    (slice(0.5, 1), TypeError, "slice indices must be integers"),
    ((0, slice("a", None)), TypeError, "slice indices must be integers"),
], ids=["zero step", "zero step, 2nd axis", "zero step beside an array", "float start", "str start"])
def test_bad_slices_name_getitem_and_the_shape_with_torchs_exception_type(index, error, reason):
    """NumPy's reason, under the op's name; torch raises the same exception types."""
    with pytest.raises(error, match=rf"^getitem: {reason}.*\(tensor of shape \(2, 3\)\)$"):
        Tensor(np.ones((2, 3)), requires_grad=True)[index]


@pytest.mark.parametrize("index", [[], np.array([]), Tensor([]), (slice(None), []), ([], [])],
                         ids=["list", "float array", "float tensor", "second axis", "two axes"])
def test_an_empty_index_selects_nothing_as_in_torch(index):
    """``np.asarray([])`` is float64, which an index must not be; with nothing in it, no value
    can be a wrong kind, so it counts as an integer index."""
    torch = pytest.importorskip("torch")
    torch_index = tuple(torch.tensor(np.asarray(part.data if isinstance(part, Tensor) else part),
                                     dtype=torch.int64) if not isinstance(part, slice) else part
                        for part in (index if isinstance(index, tuple) else (index,)))
    expected = torch.zeros(2, 3)[torch_index].shape
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = x[index]
    assert out.shape == tuple(expected)
    out.backward(np.zeros(out.shape))
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_split_into_unequal_sections_names_the_shape():
    with pytest.raises(ValueError, match=r"split: .*length 3.*2 equal sections.*\(2, 3\)"):
        tg.split(Tensor(np.ones((2, 3))), 2, axis=1)


@pytest.mark.parametrize("join", [tg.stack, tg.concatenate])
def test_joins_refuse_arrays_of_dtypes_a_tensor_cannot_hold(join):
    for bad in (np.array([1j, 2j]), np.array(["a", "b"])):
        with pytest.raises(TypeError, match=rf"{join.__name__}: arrays must hold booleans, integers or "
                                            rf"floats, got dtype {bad.dtype} \(shape \(2,\)\)"):
            join([tg.zeros(2, requires_grad=True), bad])


def test_stack_of_different_shapes_names_the_shapes():
    with pytest.raises(ValueError, match=r"stack: .*\[\(2, 3\), \(3,\)\]"):
        tg.stack([Tensor(np.ones((2, 3))), Tensor(np.ones(3))])


def test_concatenate_mismatch_names_the_shapes():
    message = r"concatenate: shapes \[\(2, 3\), \(3, 2\)\] must match except along axis 1"
    with pytest.raises(ValueError, match=message):
        tg.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))], axis=1)
    with pytest.raises(TypeError, match="concatenate: expected a non-empty list"):
        tg.concatenate([])


@pytest.mark.parametrize(("rows", "width", "large"),
                         [(5, 3, False), (300, 3, False), (65, 3000, True), (20000, 4, True)])
def test_gather_backward_adds_repeated_rows_for_small_and_large_tables(rows, width, large):
    """Both scatter strategies: the one-hot product while it is small (the first two),
    sorted rows beyond 2**24 multiply-adds (the last two: once-only and repeated rows)."""
    rng = np.random.default_rng(rows)
    weight = tg.Tensor(rng.standard_normal((rows, width)), requires_grad=True)
    ids = rng.integers(0, rows, (40, 7))
    ids[0, :3] = ids[1, 0]  # make sure some rows repeat
    ids[2, 0] = rows - 1 - ids[2, 0] % 2  # and, for the large table, a row or two occur once
    upstream = rng.standard_normal((40, 7, width))
    weight[ids].backward(upstream)
    weight[ids].backward(upstream)  # the second sweep adds into the gradient already there
    expected = np.zeros((rows, width))
    np.add.at(expected, ids, 2 * upstream)
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-12, atol=1e-12)
    assert (ids.size * rows * width > tensor_module._ONE_HOT_MACS) == large


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_gradient_stays_in_the_rows_that_were_gathered(bad):
    """An embedding table's small-problem path multiplies by a one-hot matrix, where 0 · inf
    is nan: rows never looked up must still get 0, as with np.add.at or torch."""
    table = tg.Tensor(np.zeros((10, 4)), requires_grad=True)
    upstream = np.ones((3, 4))
    upstream[1, 2] = bad
    table[np.array([2, 5, 2])].backward(upstream)
    expected = np.zeros((10, 4))
    np.add.at(expected, np.array([2, 5, 2]), upstream)
    np.testing.assert_array_equal(table.grad, expected)


def test_a_gather_adds_into_a_gradient_buffer_of_any_memory_order():
    """A leaf's hand-set Fortran-ordered grad, and an interior buffer summed from transposed
    gradients: the gather's share used to be added into a reshaped copy and lost."""
    x = tg.Tensor(np.zeros((3, 2, 2)), requires_grad=True)
    x.grad = np.zeros((3, 2, 2), order="F")
    (x[np.array([0, 0, 2])].sum() + (x.permute(2, 1, 0) * 1.0).sum()).backward()
    np.testing.assert_array_equal(x.grad[:, 0, 0], [3.0, 1.0, 2.0])
    x = tg.Tensor(np.zeros((3, 2, 2)), requires_grad=True)
    y = x * 1.0
    (y[np.array([0, 0, 2])].sum() + (y.permute(2, 1, 0) * 1.0).sum()
     + (y.permute(2, 1, 0) * 1.0).sum()).backward()
    np.testing.assert_array_equal(x.grad[:, 0, 0], [4.0, 2.0, 3.0])


# -- where, masked_fill, expand, chunk, var/std, logsumexp, norm ------------------------------
def _against_torch(ours, theirs, inputs, upstream, rtol=1e-12, atol=1e-12):
    """Run ``ours`` on Tensors and ``theirs`` on torch tensors of float64 ``inputs`` (all requiring
    grad), send ``upstream`` back through both, and compare the values and every gradient
    (nan and inf where torch has them)."""
    torch = pytest.importorskip("torch")
    mine = [Tensor(x, requires_grad=True) for x in inputs]
    reference = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, expected = ours(*mine), theirs(*reference)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for tensor, theirs_tensor in zip(mine, reference):
        expected_grad = (np.zeros_like(tensor.data) if theirs_tensor.grad is None  # torch's p = 0 norm
                         else theirs_tensor.grad.numpy())
        np.testing.assert_allclose(tensor.grad, expected_grad, rtol=rtol, atol=atol)


@given(shapes=broadcastable_shapes(3), data=st.data())
def test_where_picks_broadcast_sides_and_masks_their_gradients(shapes, data):
    condition = data.draw(hnp.arrays(np.bool_, shapes[0]), label="condition")
    x, y = data.draw(arrays(shapes[1]), label="x"), data.draw(arrays(shapes[2]), label="y")
    [out] = check_vjp(lambda a, b: tg.where(condition, a, b), [x, y], data)
    np.testing.assert_array_equal(out.data, np.where(condition, x, y))
    upstream = data.draw(arrays(out.shape), label="upstream")
    _against_torch(lambda a, b: tg.where(Tensor(condition), a, b),
                   lambda a, b: __import__("torch").where(__import__("torch").tensor(condition), a, b),
                   [x, y], upstream)


@given(shapes=broadcastable_shapes(2), scalar=uniform(-3, 3), data=st.data())
def test_where_with_a_scalar_side_and_the_tensor_method(shapes, scalar, data):
    condition = data.draw(hnp.arrays(np.bool_, shapes[0]), label="condition")
    x = data.draw(arrays(shapes[1]), label="x")
    [left, right] = check_vjp(lambda a: [tg.where(condition, a, scalar), a.where(condition, scalar)],
                              [x], data)
    np.testing.assert_array_equal(left.data, np.where(condition, x, scalar))
    np.testing.assert_array_equal(right.data, left.data)
    [out] = check_vjp(lambda a: tg.where(condition, scalar, a), [x], data)
    np.testing.assert_array_equal(out.data, np.where(condition, scalar, x))
    assert out.dtype == np.float64


@pytest.mark.parametrize(("input", "other"), [
    (1.0, 0), (1, 0), (True, False), (np.int64(2), 0.5),
    (np.array([1, 2], dtype=np.int32), 0.5), (np.array([1, 2], dtype=np.int8), 7),
    (np.array([True, False]), 3), (np.array([1.0, 2.0], dtype=np.float16), 1e5),
    (np.array([1.0, 2.0], dtype=np.float32), True),
])
def test_where_result_dtypes_follow_torch(input, other):
    torch = pytest.importorskip("torch")
    condition = np.array([True, False])
    expected = torch.where(torch.from_numpy(condition),
                           torch.from_numpy(input) if isinstance(input, np.ndarray) else input, other).numpy()
    out = tg.where(condition, Tensor(input) if isinstance(input, np.ndarray) else input, other)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("make_condition", [lambda x: x.data > 0, lambda x: x > 0])
def test_where_and_masked_fill_of_a_0d_tensor_take_a_numpy_bool_scalar(make_condition):
    """``x.data > 0`` of a 0-d x is an ``np.bool_``, not an array: a 0-d condition."""
    for value, expected in ((2.0, 2.0), (-2.0, 0.0)):
        x = Tensor(value, dtype="float64", requires_grad=True)
        condition = make_condition(x)
        out = tg.where(condition, x, 0.0)
        out.backward()
        assert out.shape == () and out.item() == expected and x.grad.tolist() == float(value > 0)
        assert x.masked_fill(condition, 5.0).item() == (5.0 if value > 0 else value)


def test_where_refuses_bad_conditions_sides_and_shapes():
    x = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"^where: the condition must be a bool Tensor or array, got "
                                        r"of dtype int64 and shape \(3,\)"):
        tg.where(np.array([1, 0, 1]), x, 0.0)
    with pytest.raises(TypeError, match="^where: the condition must be a bool Tensor or array, got list"):
        tg.where([True, False, True], x, 0.0)
    with pytest.raises(ValueError, match=r"^where: shapes \(2,\) \(condition\), \(3,\) and \(\) cannot "
                                         r"be broadcast together"):
        tg.where(np.array([True, False]), x, 0.0)
    with pytest.raises(TypeError, match="^where: input and other must be Tensors, real arrays or scalars, "
                                        "got str and float"):
        tg.where(np.array(True), "a", 0.0)
    with pytest.raises(TypeError, match="^where: unsupported operand of type str"):
        tg.where(np.array(True), x, "a")


@given(shapes=broadcastable_shapes(2), value=uniform(-3, 3), data=st.data())
def test_masked_fill_gives_the_filled_entries_no_gradient(shapes, value, data):
    mask = data.draw(hnp.arrays(np.bool_, shapes[0]), label="mask")
    x = data.draw(arrays(shapes[1]), label="x")
    [out] = check_vjp(lambda t: t.masked_fill(mask, value), [x], data)
    np.testing.assert_array_equal(out.data, np.where(mask, value, x))
    # a 0-d Tensor value stays in the graph: it gets the gradient of the entries it filled
    [out] = check_vjp(lambda t, v: t.masked_fill(Tensor(mask), v), [x, np.array(value)], data)
    upstream = data.draw(arrays(out.shape), label="upstream")
    _against_torch(lambda t, v: t.masked_fill(mask, v),
                   lambda t, v: t.masked_fill(__import__("torch").tensor(mask), v),
                   [x, np.array(value)], upstream)


@pytest.mark.parametrize(("values", "value"), [
    (np.array([1, 2, 3]), 0.7), (np.array([1, 2, 3], dtype=np.int8), -2.9),
    (np.array([True, False, True]), 0), (np.array([1.0, 2.0, 3.0], dtype=np.float32), -np.inf),
    (np.array([1.0, 2.0, 3.0], dtype=np.float16), 70000.0),
])
def test_masked_fill_keeps_the_dtype_and_converts_the_value_as_torch(values, value):
    torch = pytest.importorskip("torch")
    mask = np.array([True, False, True])
    try:
        expected = torch.from_numpy(values).masked_fill(torch.from_numpy(mask), value).numpy()
    except RuntimeError:  # torch refuses a value its dtype cannot hold
        with pytest.raises(ValueError, match="^masked_fill: the value"):
            Tensor(values).masked_fill(mask, value)
        return
    out = Tensor(values).masked_fill(mask, value)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)


def test_masked_fill_refuses_bad_masks_and_values():
    x = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"^masked_fill: the condition must be a bool Tensor or array, got "
                                        r"of dtype int64"):
        x.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"^masked_fill: a mask of shape \(2,\) does not broadcast with "
                                         r"the tensor of shape \(3,\)"):
        x.masked_fill(np.array([True, False]), 0.0)
    with pytest.raises(ValueError, match=r"^masked_fill: the value must be a number or a 0-d Tensor, got "
                                         r"a Tensor of shape \(1,\)"):
        x.masked_fill(np.array(True), Tensor([1.0]))
    with pytest.raises(ValueError, match=r"^masked_fill: the value 300 does not fit the dtype int8"):
        Tensor(np.zeros(3, dtype=np.int8)).masked_fill(np.array(True), 300)
    with pytest.raises(TypeError, match="^masked_fill: expected a Tensor as the first argument"):
        tg.ops.masked_fill(np.zeros(3), np.array(True), 0.0)


@st.composite
def expand_arguments(draw):
    """(shape, sizes): new leading sizes (0 to 3), then per axis −1, its size, or any size
    (0 included) where it is 1."""
    shape = draw(shapes())
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    kept = [draw(st.sampled_from([-1, n]) | (st.integers(0, 3) if n == 1 else st.nothing()))
            for n in shape]
    return shape, (*lead, *kept)


@given(arguments=expand_arguments(), as_tuple=st.booleans(), data=st.data())
def test_expand_broadcasts_without_a_copy_and_sums_the_gradient_back(arguments, as_tuple, data):
    shape, sizes = arguments
    x = data.draw(arrays(shape), label="x")
    target = tuple(n if size == -1 else size for n, size in zip((None,) * (len(sizes) - len(shape))
                                                                 + shape, sizes))
    [out] = check_vjp(lambda t: t.expand(sizes) if as_tuple else t.expand(*sizes), [x], data)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, target))
    upstream = data.draw(arrays(out.shape), label="upstream")
    _against_torch(lambda t: t.expand(*sizes), lambda t: t.expand(sizes), [x], upstream)


@pytest.mark.parametrize(("shape", "sizes", "error", "message"), [
    ((3,), (-1, 3), ValueError, r"size -1 is not allowed for the new leading axis 0 \(sizes \(-1, 3\)"),
    ((3,), (2, 4), ValueError, r"size 4 must match the existing size 3 at axis 1, which is not 1 "
                               r"\(sizes \(2, 4\), tensor of shape \(3,\)\)"),
    ((3,), (-2,), ValueError, r"size -2 must match the existing size 3 at axis 0"),
    ((1,), (-2,), ValueError, r"size -2 must match the existing size 1 at axis 0"),
    ((2, 3), (3,), ValueError, r"1 sizes \(3,\) for a tensor of shape \(2, 3\): give at least one per axis"),
    ((3,), (2.0, 3), TypeError, r"sizes must be ints, got \(2.0, 3\)"),
])
def test_expand_refuses_what_torch_refuses(shape, sizes, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, TypeError)):
        torch.zeros(shape).expand(*sizes)
    with pytest.raises(error, match=f"^expand: {message}"):
        tg.zeros(*shape).expand(*sizes)


@given(shape=shapes(min_dims=1), chunks=st.integers(1, 5), data=st.data())
def test_chunk_gives_torchs_pieces_and_their_gradients(shape, chunks, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = data.draw(arrays(shape), label="x")
    pieces = check_vjp(lambda t: t.chunk(chunks, dim=dim), [x], data)
    expected = torch.tensor(x).chunk(chunks, dim)
    assert len(pieces) == len(expected)
    for piece, reference in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, reference.numpy())
    assert [p.shape for p in tg.chunk(Tensor(x), chunks, dim)] == [p.shape for p in pieces]


def test_chunk_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match=r"^chunk: chunks must be at least 1, got 0 \(tensor of shape "):
        tg.zeros(6).chunk(0)
    with pytest.raises(TypeError, match=r"^chunk: chunks must be an int, got 2.0"):
        tg.zeros(6).chunk(2.0)
    with pytest.raises(ValueError, match="^chunk: cannot chunk a 0-d tensor"):
        tg.zeros(()).chunk(2)
    with pytest.raises(ValueError, match=r"^chunk: axis 2 is out of range \[-2, 1\] for a tensor of shape"):
        tg.zeros(2, 3).chunk(2, dim=2)


@st.composite
def variance_arguments(draw):
    """(x, axis, keepdims, correction) with N − correction > 0 for the reduced count N and
    values on a ladder (no constant slice: std is differentiable)."""
    shape, axis, keepdims = draw(reduction_arguments(reduced_nonempty=True))
    reduced = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    count = int(np.prod([shape[i] for i in reduced]))
    correction = draw(st.sampled_from([c for c in (0, 1, 0.5, 2, -1) if c < count]))
    return draw(distinct_arrays(shape)), axis, keepdims, correction


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")  # torch's, past the count
@given(name=st.sampled_from(["var", "std"]), arguments=variance_arguments(), data=st.data())
def test_var_and_std_match_numpy_torch_and_numerical_gradients(name, arguments, data):
    x, axis, keepdims, correction = arguments
    def call(t):
        return getattr(t, name)(dim=axis, correction=correction, keepdim=keepdims)

    [out] = check_vjp(call, [x], data)
    expected = np.var(x, axis=axis, ddof=correction, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected if name == "var" else np.sqrt(expected), rtol=1e-12,
                               atol=1e-12)
    numpy_spelling = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims, correction=correction)
    np.testing.assert_array_equal(numpy_spelling.data, out.data)
    if axis != () or not x.ndim:  # torch's dim=() reduces every axis, NumPy's none
        upstream = data.draw(arrays(out.shape), label="upstream")
        _against_torch(call, lambda t: getattr(t, name)(dim=axis, correction=correction, keepdim=keepdims),
                       [x], upstream, rtol=1e-10)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(("values", "call"), [
    ([1.0, 2.0, 3.0], lambda t, name: getattr(t, name)(correction=3)),        # N − correction = 0
    ([1.0, 2.0, 3.0], lambda t, name: getattr(t, name)(correction=5)),        # < 0
    ([2.0, 2.0], lambda t, name: getattr(t, name)(correction=2)),             # constant: nan
    ([[4.0], [1.0]], lambda t, name: getattr(t, name)(1)),                    # one element per row
    ([1.0, 1.0, 1.0], lambda t, name: getattr(t, name)()),                    # std's gradient at 0
    ([1.0, 2.0, 4.0], lambda t, name: getattr(t, name)(False)),               # var(input, unbiased)
    ([[1.0, 2.0], [3.0, 5.0]], lambda t, name: getattr(t, name)(0, False, True)),
    ([[1.0, 2.0], [3.0, 5.0]], lambda t, name: getattr(t, name)(dim=1, unbiased=True)),
    (np.zeros((2, 0)), lambda t, name: getattr(t, name)(1)),
])
def test_var_and_std_edge_cases_and_spellings_as_torch(name, values, call):
    values = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the degrees-of-freedom warning, both libraries
        upstream = np.random.default_rng(0).uniform(0.5, 1.5, call(Tensor(values), name).shape)
        _against_torch(lambda t: call(t, name), lambda t: call(t, name), [values], upstream)


def test_var_warns_as_torch_when_the_correction_leaves_no_degrees_of_freedom():
    with pytest.warns(UserWarning, match=r"^var: degrees of freedom is <= 0 \(correction 3 with 3 "
                                         r"elements per result, shape \(3,\)\)"):
        assert np.isinf(tg.Tensor([1.0, 2.0, 3.0]).var(correction=3).item())


def test_var_and_std_refuse_integers_mixed_spellings_and_bad_corrections():
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^std: not defined for dtype int64 \(shape \(2,\)\), as in torch"):
        Tensor(np.array([1, 2])).std()
    with pytest.raises(TypeError, match="^var: got both unbiased= and correction="):
        x.var(unbiased=False, correction=0)
    with pytest.raises(TypeError, match="^var: unbiased must be a bool, got 1"):
        x.var(unbiased=1)
    with pytest.raises(TypeError, match=r"^std: correction must be a number, got 'a'"):
        x.std(correction="a")
    with pytest.raises(TypeError, match="^var: got both axis= and dim="):
        x.var(axis=0, dim=0)
    with pytest.raises(ValueError, match=r"^var: axis 1 is out of range for a tensor of shape \(2,\)"):
        x.var(1)


@given(arguments=reduction_arguments(), data=st.data())
def test_logsumexp_matches_numpy_torch_and_numerical_gradients(arguments, data):
    shape, axis, keepdims = arguments
    axis = tuple(range(len(shape))) if axis is None else axis  # torch requires dim
    x = data.draw(arrays(shape), label="x")
    [out] = check_vjp(lambda t: t.logsumexp(dim=axis, keepdim=keepdims), [x], data)
    with np.errstate(divide="ignore"):
        expected = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    if axis != () or not shape:  # torch refuses dim=() on a tensor with axes
        upstream = data.draw(arrays(out.shape), label="upstream")
        _against_torch(lambda t: tg.ops.logsumexp(t, axis, keepdims),
                       lambda t: t.logsumexp(axis, keepdims), [x], upstream)


@pytest.mark.parametrize("values", [
    [[-np.inf, -np.inf], [0.0, 1.0]], [[np.inf, 1.0], [1000.0, -1000.0]], [[700.0, 710.0], [-1e4, 5.0]],
    np.zeros((2, 0)),
])
def test_logsumexp_at_infinities_huge_and_empty_rows_as_torch(values):
    values = np.asarray(values, dtype=np.float64)
    _against_torch(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), [values], np.ones(2))


def test_logsumexp_gradient_is_the_softmax_even_where_the_result_rounds_off_log_2():
    """At 1e308 the result rounds to 1e308 and torch's exp(x − result) gives 1 each; the
    gradient here is the softmax of the forward's terms, 0.5 each, the true value."""
    x = Tensor(np.array([1e308, 1e308]), requires_grad=True)
    x.logsumexp(0).backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.5])


@pytest.mark.parametrize("dtype", ["bool", "int64", "float16", "float32"])
def test_logsumexp_result_dtypes_follow_torch(dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[1, 0, 1], [10, 11, 0]]).astype(dtype)
    expected = torch.from_numpy(values).logsumexp(1).numpy()
    out = Tensor(values).logsumexp(1)
    assert out.dtype == expected.dtype
    # float16 to one ulp: here log(2e + 1) = 1.86199 rounds to 1.8623, torch's is 1.8613
    np.testing.assert_allclose(out.data.astype(np.float64), expected.astype(np.float64),
                               rtol=1e-3 if dtype == "float16" else 1e-6)


@st.composite
def signed_distinct_magnitudes(draw, shape):
    """float64 arrays whose |values| differ pairwise by at least 0.25 and are at least 0.5
    (no tie for the largest or smallest |x|, no zero), with random signs."""
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(arrays((size,), uniform(0.0, 0.1)))
    signs = draw(hnp.arrays(np.float64, (size,), elements=st.sampled_from([-1.0, 1.0])))
    magnitudes = 0.5 + 0.5 * order + jitter
    return (signs * magnitudes).reshape(shape)


NORM_ORDERS = ["fro", 2, 1, 3, 1.5, 0.5, -1, 0, np.inf, -np.inf]


@given(p=st.sampled_from(NORM_ORDERS), arguments=reduction_arguments(), data=st.data())
def test_norm_matches_numpy_torch_and_numerical_gradients(p, arguments, data):
    shape, axis, keepdims = arguments
    if p == "fro" and isinstance(axis, tuple) and len(axis) > 2:
        axis = axis[:2]
    reduced = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    empty_slice = any(shape[i] == 0 for i in reduced) or (0 in shape and not reduced)
    if p != "fro" and (p < 0 or p == np.inf) and empty_slice:
        shape = tuple(n or 1 for n in shape)  # the inf or p < 0 norm of an empty slice is refused
    x = data.draw(signed_distinct_magnitudes(shape), label="x")
    [out] = check_vjp(lambda t: t.norm(p, dim=axis, keepdim=keepdims), [x], data)
    order = 2 if p == "fro" else p
    with np.errstate(divide="ignore"):
        expected = (np.count_nonzero(x, axis=axis, keepdims=keepdims) if order == 0
                    else np.max(np.abs(x), axis=axis, keepdims=keepdims) if order == np.inf
                    else np.min(np.abs(x), axis=axis, keepdims=keepdims) if order == -np.inf
                    else np.sum(np.abs(x) ** order, axis=axis, keepdims=keepdims) ** (1 / order))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    if axis != () or not shape:  # torch's dim=() reduces every axis, NumPy's none
        upstream = data.draw(arrays(out.shape), label="upstream")
        _against_torch(lambda t: t.norm(p, axis, keepdims), lambda t: t.norm(p, axis, keepdims), [x],
                       upstream, rtol=1e-10)


@pytest.mark.parametrize("p", NORM_ORDERS)
@pytest.mark.parametrize("values", [np.zeros(3), [0.0, 1.0, -2.0], [-3.0, 1.0, 3.0], [2.0, -2.0, 0.0]])
def test_norm_gradient_at_zeros_and_ties_as_torch(p, values):
    values = np.asarray(values, dtype=np.float64)
    _against_torch(lambda t: t.norm(p), lambda t: t.norm(p), [values], np.array(1.5))


def test_norm_computes_float16_in_float32_as_torch():
    out = Tensor(np.array([300.0, 300.0], dtype=np.float16)).norm()
    assert out.dtype == np.float16 and out.item() == np.float16(424.25)


def test_norm_refuses_matrix_norms_integers_and_empty_inf_norms():
    with pytest.raises(ValueError, match=r"^norm: p='nuc' is not supported: only vector norms"):
        tg.zeros(2, 2).norm("nuc")
    with pytest.raises(ValueError, match=r"^norm: p='fro' takes at most two axes, got dim=\(0, 1, 2\)"):
        tg.zeros(2, 2, 2).norm("fro", dim=(0, 1, 2))
    with pytest.raises(TypeError, match=r"^norm: p must be a number or 'fro', got \[2\]"):
        tg.zeros(2).norm([2])
    with pytest.raises(TypeError, match=r"^norm: not defined for dtype int64 \(shape \(2,\)\), as in torch"):
        Tensor(np.array([1, 2])).norm()
    with pytest.raises(ValueError, match=r"^norm: the inf norm of an empty slice is undefined \(shape "
                                         r"\(2, 0\), axes \(1,\)\)"):
        tg.zeros(2, 0).norm(np.inf, dim=1)
    assert tg.zeros(2, 0).norm(np.inf, dim=0).shape == (0,)

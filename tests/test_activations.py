"""leaky_relu, elu, softplus, silu, gelu and their modules (and the Tanh, Sigmoid, ReLU modules):
values against the formulas (in float64 NumPy), gradients against central differences over
hypothesis shapes (kinks kept out of the differences), PyTorch's values and gradients (also
at the kinks), dtypes kept, no overflow, errors that name the op."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import arrays, away_from_zero, check_vjp, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn


# -- the formulas, in float64 NumPy ------------------------------------------------------------
def leaky_relu_formula(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def elu_formula(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def softplus_formula(x, beta=1.0, threshold=20.0):
    z = beta * x
    return np.where(z > threshold, x, (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta)


def silu_formula(x):
    return x / (1 + np.exp(-x))


def gelu_formula(x, approximate="none"):
    """x · Φ(x), Φ written without cancellation for x ≪ 0: erfc(−x/√2)/2, or for the tanh
    form (1 + tanh(u))/2 = 1/(1 + e^−2u)."""
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        with np.errstate(over="ignore"):  # x³ or e^−2u = inf: Φ = 0 or 1
            cdf = 1 / (1 + np.exp(-2 * np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    else:
        cdf = np.vectorize(math.erfc, otypes=[np.float64])(-x / np.sqrt(2)) / 2
    return x * cdf


# the formulas of test_activations_extra's functions (the tables below check their dtypes too)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def logsigmoid_formula(x):
    return -softplus_formula(-x, threshold=np.inf)  # torch's switch to x is no part of the math


def softsign_formula(x):
    return x / (1 + np.abs(x))


def tanhshrink_formula(x):
    return x - np.tanh(x)


def hardtanh_formula(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def relu6_formula(x):
    return np.clip(x, 0.0, 6.0)


def hardsigmoid_formula(x):
    return np.clip(x + 3, 0.0, 6.0) / 6


def hardswish_formula(x):
    return x * hardsigmoid_formula(x)


def softshrink_formula(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def hardshrink_formula(x, lambd=0.5):
    return np.where(np.abs(x) > lambd, x, 0.0)


def mish_formula(x):
    return x * np.tanh(softplus_formula(x, threshold=np.inf))


def celu_formula(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))


def selu_formula(x):
    return SELU_SCALE * elu_formula(x, SELU_ALPHA)


slopes = uniform(-2.0, 2.0)
alphas = uniform(-2.0, 2.0)
betas = uniform(0.25, 4.0)
thresholds = uniform(-5.0, 20.0)


# -- values and gradients over shapes ----------------------------------------------------------
@given(x=arrays(shapes(), away_from_zero(0.01, 3.0)), slope=slopes, data=st.data())
def test_leaky_relu_values_and_vjp(x, slope, data):
    [out] = check_vjp(lambda t: F.leaky_relu(t, slope), [x], data)
    np.testing.assert_allclose(out.data, leaky_relu_formula(x, slope), rtol=1e-15, atol=0)


@given(x=arrays(shapes(), away_from_zero(0.01, 3.0)), alpha=alphas, data=st.data())
def test_elu_values_and_vjp(x, alpha, data):
    [out] = check_vjp(lambda t: F.elu(t, alpha), [x], data)
    np.testing.assert_allclose(out.data, elu_formula(x, alpha), rtol=1e-14, atol=1e-300)


@st.composite
def softplus_case(draw):
    """(x, beta, threshold) with βx at least 0.01 from the threshold, where softplus switches
    to the identity and the two sides differ by a kink (and a jump, for a low threshold)."""
    beta, threshold = draw(betas, label="beta"), draw(thresholds, label="threshold")
    gaps = draw(arrays(shapes(), away_from_zero(0.01, 6.0)), label="βx − threshold")
    return (gaps + threshold) / beta, beta, threshold


@given(case=softplus_case(), data=st.data())
def test_softplus_values_and_vjp(case, data):
    x, beta, threshold = case
    [out] = check_vjp(lambda t: F.softplus(t, beta, threshold), [x], data)
    np.testing.assert_allclose(out.data, softplus_formula(x, beta, threshold), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(x=arrays(shapes(), uniform(-12.0, 12.0)), data=st.data())
def test_gelu_values_and_vjp(approximate, x, data):
    """Past |x| = 10 the tanh form's cubic is clamped: the values and gradients (1 or 0 to
    float64 precision) are the formula's still."""
    [out] = check_vjp(lambda t: F.gelu(t, approximate), [x], data)
    np.testing.assert_allclose(out.data, gelu_formula(x, approximate), rtol=1e-13, atol=1e-300)


@given(x=arrays(shapes()), data=st.data())
def test_silu_values_and_vjp(x, data):
    [out] = check_vjp(F.silu, [x], data)
    np.testing.assert_allclose(out.data, silu_formula(x), rtol=1e-14, atol=1e-300)


MODULES = {
    "Tanh": (nn.Tanh, np.tanh),
    "Sigmoid": (nn.Sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "ReLU": (nn.ReLU, lambda x: np.maximum(x, 0)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda x: leaky_relu_formula(x, 0.2)),
    "ELU": (lambda: nn.ELU(0.7), lambda x: elu_formula(x, 0.7)),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda x: softplus_formula(x, 2.0, 3.0)),
    "SiLU": (nn.SiLU, silu_formula),
    "GELU": (nn.GELU, gelu_formula),
    "GELU tanh": (lambda: nn.GELU("tanh"), lambda x: gelu_formula(x, "tanh")),
}


@pytest.mark.parametrize("name", MODULES)
@given(x=arrays(shapes(max_dims=3), st.one_of(uniform(-3.0, -0.01), uniform(0.01, 1.49),
                                                 uniform(1.51, 3.0))))  # Softplus switches at 1.5
def test_activation_modules_values_and_gradcheck(name, x):
    check_activation_module(*MODULES[name], x)


def check_activation_module(make, formula, x: np.ndarray) -> None:
    """A fresh ``make()`` keeps x's shape and float64, equals ``formula`` and passes gradcheck."""
    activation = make()
    tensor = tg.Tensor(x, requires_grad=True)
    y = activation(tensor)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.data, formula(x), rtol=1e-13, atol=1e-300)
    assert tg.gradcheck(activation, [tensor])


# -- dtypes, extremes ------------------------------------------------------------------------------
FORMULAS = {"leaky_relu": leaky_relu_formula, "elu": elu_formula, "softplus": softplus_formula,
            "silu": silu_formula, "gelu": gelu_formula, "logsigmoid": logsigmoid_formula,
            "hardtanh": hardtanh_formula, "relu6": relu6_formula, "softsign": softsign_formula,
            "tanhshrink": tanhshrink_formula, "softshrink": softshrink_formula,
            "hardshrink": hardshrink_formula, "mish": mish_formula, "celu": celu_formula,
            "selu": selu_formula, "hardsigmoid": hardsigmoid_formula, "hardswish": hardswish_formula}
FUNCTIONS = {name: getattr(F, name) for name in FORMULAS}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_input_dtype_is_kept_and_huge_inputs_do_not_overflow(name, dtype):
    """±1e4 (±inf in float16) and the dtype's extremes: no overflow warning, finite gradients,
    the value of the formula."""
    big = np.finfo(dtype).max
    x = tg.Tensor(np.array([-big, -1e4, -50.0, -1.0, 0.5, 1e4, big], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = FUNCTIONS[name](x)
        out.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(x.grad).all()
    # silu's formula: e^big overflows to inf, x / inf = -0; selu's scale · big is inf, as ours
    with np.errstate(over="ignore"):
        expected = FORMULAS[name](x.data.astype(np.float64)).astype(dtype)
    # tanhshrink's x − tanh(x) cancels: at x = 0.5 it keeps 1/12 of tanh's precision
    ulps = 16 if name == "tanhshrink" else 2
    np.testing.assert_allclose(out.data, expected, rtol=ulps * np.finfo(dtype).eps)


@pytest.mark.parametrize("beta", [0.3, 4.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softplus_with_a_beta_where_beta_x_overflows_is_x_without_a_warning(beta, dtype):
    big = np.finfo(dtype).max
    x = tg.Tensor(np.array([big, -big, big / 2], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(x, beta=beta)
        out.backward(np.ones(3, dtype=dtype))
    np.testing.assert_array_equal(out.data[[0, 2]], x.data[[0, 2]])
    assert out.data[1] == 0 and out.dtype == dtype
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


def test_leaky_relu_with_a_slope_above_one_overflows_only_where_the_answer_does():
    big = np.finfo(np.float32).max
    x = tg.Tensor([big, -big, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.leaky_relu(x, 2.0)
        out.backward(np.ones(3, dtype=np.float32))
    assert out.tolist() == [float(big), -np.inf, -2.0]  # as torch's
    assert x.grad.tolist() == [1.0, 2.0, 2.0]


# x · Φ(x) and its tanh form, from mpmath at 30 digits
GELU_VALUES = {-5.0: (-1.4332578593959696e-06, -2.291796196629506e-07),
               -1.0: (-0.15865525393145705, -0.1588080093917233),
               0.5: (0.34573123063700655, 0.34571400982514392),
               3.0: (2.9959503059051097, 2.996362607918227),
               -30.0: (-1.4720141781444561e-196, None)}


@pytest.mark.parametrize("x", GELU_VALUES)
def test_gelu_matches_high_precision_values_also_far_in_the_left_tail(x):
    """1 + erf(x/√2) (or 1 + tanh) would cancel at x = −5 to a few digits, at −30 to 0."""
    exact, approximate = GELU_VALUES[x]
    value = tg.Tensor([x], dtype="float64")
    # erfc(z) at z = −x/√2 has condition number 2z²: at x = −30, 900 ulps of the rounded z
    np.testing.assert_allclose(F.gelu(value).item(), exact, rtol=1e-14 * max(1.0, x * x))
    if approximate is not None:
        np.testing.assert_allclose(F.gelu(value, "tanh").item(), approximate, rtol=1e-13)


def test_softplus_of_very_negative_inputs_is_exact_not_zero():
    """log(1 + e^−50) rounds 1 + e^−50 to 1: 0. softplus keeps e^−50, and so its gradient."""
    x = tg.Tensor([-50.0, -700.0], dtype="float64", requires_grad=True)
    out = F.softplus(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, np.exp([-50.0, -700.0]), rtol=1e-15)
    np.testing.assert_allclose(x.grad, np.exp([-50.0, -700.0]), rtol=1e-14)


def test_gradients_at_the_kinks_are_pytorch_s():
    """At 0, leaky_relu's gradient is negative_slope and elu's α; at βx = threshold, softplus
    is on its smooth side (σ(threshold)), as in PyTorch (checked against it below)."""
    x = tg.Tensor([0.0], dtype="float64", requires_grad=True)
    F.leaky_relu(x, 0.3).backward()
    assert x.grad.tolist() == [0.3]
    x.grad = None
    F.elu(x, 0.7).backward()
    assert x.grad.tolist() == [0.7]
    x = tg.Tensor([1.5], dtype="float64", requires_grad=True)
    out = F.softplus(x, beta=2.0, threshold=3.0)
    out.backward()
    np.testing.assert_allclose(out.item(), np.log1p(np.exp(3.0)) / 2, rtol=1e-15)
    np.testing.assert_allclose(x.grad, [1 / (1 + np.exp(-3.0))], rtol=1e-15)


# -- PyTorch's values and gradients, kinks included -----------------------------------------------
TORCH_CASES = [
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("leaky_relu", {"negative_slope": -1.5}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("elu", {"alpha": -2.0}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("softplus", {"beta": 0.5, "threshold": -1.0}),
    ("silu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
]


@pytest.mark.parametrize(("name", "options"), TORCH_CASES, ids=[f"{n}{o}" for n, o in TORCH_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_functions_match_torch_values_and_gradients(name, options, dtype):
    torch = pytest.importorskip("torch")
    kinks = [0.0, -0.0, 1.5, -2.0, 10.0, 20.0, 40.0]  # 0, βx = threshold for the options above
    values = np.concatenate([kinks, np.random.default_rng(0).standard_normal(40) * 10,
                             [-1e4, -100.0, 100.0, 1e4]]).astype(dtype)
    ours = tg.Tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    upstream = np.random.default_rng(1).uniform(-2, 2, values.shape).astype(dtype)
    out = getattr(F, name)(ours, **options)
    expected = getattr(torch.nn.functional, name)(theirs, **options)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    eps = np.finfo(dtype).eps
    if name == "gelu":
        # torch's Φ is 0.5 · (1 + erf(x/√2)) (or 1 + tanh), whose absolute error is an ulp of 1:
        # x · Φ is off by about eps · |x| (all of it for x < −6 in float32); ours (erfc, σ)
        # is accurate relative to itself. So torch is met within eps · |x| here, and ours
        # against the exact values in the tests above.
        scale = np.abs(values).astype(np.float64)
        assert (np.abs(out.data - expected.detach().numpy()) <= 4 * eps * (np.abs(out.data) + scale)).all()
        assert (np.abs(ours.grad - theirs.grad.numpy()) <= 8 * eps * (1 + scale)).all()
        return
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=4 * eps, atol=np.finfo(dtype).tiny)
    # silu's gradient σ(x)(1 + x(1 − σ(x))) crosses 0 near x = −1.28: there ours (the product
    # rule's two terms) and torch's (that formula) differ by rounding, relative to the terms
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=4 * eps, atol=8 * eps)


MODULE_PAIRS = [
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {}), ("ELU", (), {"alpha": 0.5}),
    ("Softplus", (), {}), ("Softplus", (), {"beta": 2.0, "threshold": 3.0}), ("SiLU", (), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), MODULE_PAIRS)
def test_modules_repr_and_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert dict(ours.state_dict()) == {} and list(ours.parameters()) == []
    x = np.random.default_rng(2).standard_normal((3, 5)) * 4
    difference = np.abs(ours(tg.Tensor(x)).data - theirs(torch.tensor(x)).numpy())
    # torch's GELU is off by about an ulp of |x| (see the functional test); the others agree
    # relative to the value
    assert (difference <= 1e-14 * np.abs(x if name == "GELU" else theirs(torch.tensor(x)).numpy())).all()


def test_module_arguments_are_stored_as_floats():
    """torch keeps ``nn.Softplus(beta=2)`` an int (repr ``beta=2``); ours is 2.0 (``beta=2.0``)."""
    assert repr(nn.Softplus(beta=2, threshold=np.int64(5))) == "Softplus(beta=2.0, threshold=5.0)"
    assert repr(nn.ELU(np.float32(0.5))) == "ELU(alpha=0.5)"
    assert repr(nn.LeakyReLU(1)) == "LeakyReLU(negative_slope=1.0)"
    assert repr(nn.SiLU()) == "SiLU()"


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("value", [np.zeros(3), [1.0], 2.0, None])
def test_functions_refuse_non_tensors_by_name(name, value):
    with pytest.raises(TypeError, match=rf"^{name}: input must be a Tensor, got {type(value).__name__}$"):
        FUNCTIONS[name](value)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_functions_refuse_integer_and_bool_tensors_naming_the_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: input must have a floating-point dtype, got {dtype} "
                                        r"\(shape \(2,\)\)$"):
        FUNCTIONS[name](tg.Tensor(np.ones(2, dtype=dtype)))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: F.leaky_relu(x, "0.1"), TypeError, r"^leaky_relu: negative_slope must be a number, got '0.1'"),
    (lambda x: F.leaky_relu(x, True), TypeError, r"^leaky_relu: negative_slope must be a number, got True$"),
    (lambda x: F.leaky_relu(x, float("nan")), ValueError, r"^leaky_relu: negative_slope must be a finite"),
    (lambda x: F.elu(x, float("inf")), ValueError, r"^elu: alpha must be a finite number, got inf$"),
    (lambda x: F.elu(x, None), TypeError, r"^elu: alpha must be a number, got None$"),
    (lambda x: F.softplus(x, 0.0), ValueError, r"^softplus: beta must be .*0"),
    (lambda x: F.softplus(x, -1.0), ValueError, r"^softplus: beta must be .*-1"),
    (lambda x: F.softplus(x, float("inf")), ValueError, r"^softplus: beta must be a finite number"),
    (lambda x: F.softplus(x, 1.0, float("nan")), ValueError, r"^softplus: threshold must be a number"),
    (lambda x: F.softplus(x, 1.0, "20"), TypeError, r"^softplus: threshold must be a number, got '20'$"),
    (lambda x: nn.LeakyReLU("a"), TypeError, r"^LeakyReLU: negative_slope must be a number"),
    (lambda x: nn.ELU(float("nan")), ValueError, r"^ELU: alpha must be a finite number"),
    (lambda x: nn.Softplus(beta=0), ValueError, r"^Softplus: beta must be"),
    (lambda x: nn.Softplus(threshold=[20]), TypeError, r"^Softplus: threshold must be a number"),
    (lambda x: F.gelu(x, "exact"), ValueError, r"^gelu: approximate must be 'none' or 'tanh', got 'exact'$"),
    (lambda x: F.gelu(x, None), ValueError, r"^gelu: approximate must be 'none' or 'tanh', got None$"),
    (lambda x: nn.GELU(approximate=True), ValueError, r"^GELU: approximate must be 'none' or 'tanh'"),
])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call(tg.Tensor([1.0]))


def test_softplus_takes_an_infinite_threshold_as_never_switching():
    x = tg.Tensor([30.0, 100.0], dtype="float64")
    expected = softplus_formula(x.data, 1.0, np.inf)  # 30 + e^−30: not switched to x
    assert expected[0] > 30.0
    np.testing.assert_allclose(F.softplus(x, threshold=float("inf")).data, expected, rtol=1e-15)
    assert F.softplus(x, threshold=-float("inf")).tolist() == [30.0, 100.0]


@pytest.mark.parametrize("name", ["LeakyReLU", "ELU", "Softplus", "SiLU", "GELU", "LogSigmoid", "Hardtanh",
                                  "ReLU6", "Softsign", "Tanhshrink", "Softshrink", "Hardshrink", "Mish",
                                  "CELU", "SELU", "Hardsigmoid", "Hardswish", "GLU", "PReLU", "Flatten"])
@pytest.mark.parametrize("value", [np.zeros(3), 1.0, [1.0]])
def test_modules_want_tensors(name, value):
    with pytest.raises(TypeError, match=rf"^{name}: expected a Tensor, got {type(value).__name__}$"):
        getattr(nn, name)()(value)

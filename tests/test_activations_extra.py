"""logsigmoid, hardtanh, relu6, softsign, tanhshrink, softshrink, hardshrink, mish, celu, selu,
hardsigmoid, hardswish, glu, prelu, their modules, and Flatten/Unflatten: values against the
formulas (float64 NumPy, in test_activations, whose tables also check their dtypes, extremes and
refusals of non-tensors), gradients against central differences over hypothesis shapes (kinks
kept out of the differences), torch's values and gradients with its subgradient at every kink,
reprs and state_dict keys as torch's, Flatten/Unflatten as views, errors that name the op."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from helpers import arrays, away_from_zero, check_vjp, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st
from test_activations import (
    SELU_ALPHA,
    SELU_SCALE,
    celu_formula,
    check_activation_module,
    hardshrink_formula,
    hardsigmoid_formula,
    hardswish_formula,
    hardtanh_formula,
    logsigmoid_formula,
    mish_formula,
    relu6_formula,
    selu_formula,
    softshrink_formula,
    softsign_formula,
    tanhshrink_formula,
)

import tinygrad_rnn as tg
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn


def near(*kinks: float, margin: float = 0.01, reach: float = 3.0) -> st.SearchStrategy[float]:
    """Values at least ``margin`` from every kink: a kink plus an offset of at most half the
    gap to the next (``reach`` for a lone kink), so the values near the kinks, where a wrong
    branch shows, are drawn often and the central differences never straddle one."""
    kinks = sorted(set(kinks))
    if len(kinks) > 1:
        reach = min(b - a for a, b in zip(kinks, kinks[1:])) / 2
    return st.builds(lambda kink, offset: kink + offset, st.sampled_from(kinks),
                     away_from_zero(margin, reach))


# -- values and gradients over shapes ------------------------------------------------------------
FIXED = {  # name: (values, formula)
    "logsigmoid": (uniform(-40.0, 40.0), logsigmoid_formula),
    "softsign": (uniform(-5.0, 5.0), softsign_formula),
    "tanhshrink": (uniform(-3.0, 3.0), tanhshrink_formula),
    "mish": (st.one_of(uniform(-5.0, 5.0), uniform(-1100.0, 40.0)), mish_formula),
    "selu": (near(0.0), selu_formula),
    "relu6": (near(0.0, 6.0), relu6_formula),
    "hardsigmoid": (near(-3.0, 3.0), hardsigmoid_formula),
    "hardswish": (near(-3.0, 3.0), hardswish_formula),
}


@pytest.mark.parametrize("name", FIXED)
@given(data=st.data())
def test_values_and_vjp(name, data):
    values, formula = FIXED[name]
    x = data.draw(arrays(shapes(), values), label="x")
    [out] = check_vjp(getattr(F, name), [x], data)
    np.testing.assert_allclose(out.data, formula(x), rtol=1e-14, atol=1e-300)


@given(low=uniform(-3.0, 2.0), width=uniform(0.1, 3.0), data=st.data())
def test_hardtanh_values_and_vjp(low, width, data):
    high = low + width
    x = data.draw(arrays(shapes(), near(low, high, margin=0.01)), label="x")
    [out] = check_vjp(lambda t: F.hardtanh(t, low, high), [x], data)
    np.testing.assert_array_equal(out.data, hardtanh_formula(x, low, high))


@pytest.mark.parametrize("name", ["softshrink", "hardshrink"])
@given(lambd=st.sampled_from([0.0]) | uniform(0.1, 2.0), data=st.data())
def test_shrink_values_and_vjp(name, lambd, data):
    x = data.draw(arrays(shapes(), near(-lambd, lambd)), label="x")
    [out] = check_vjp(lambda t: getattr(F, name)(t, lambd), [x], data)
    formula = softshrink_formula if name == "softshrink" else hardshrink_formula
    np.testing.assert_allclose(out.data, formula(x, lambd), rtol=1e-15, atol=0)


@given(x=arrays(shapes(), uniform(-3.0, 3.0)), alpha=away_from_zero(0.25, 3.0), data=st.data())
def test_celu_values_and_vjp(x, alpha, data):
    """celu is continuously differentiable at 0 (slope 1 on both sides): no kink to avoid."""
    [out] = check_vjp(lambda t: F.celu(t, alpha), [x], data)
    np.testing.assert_allclose(out.data, celu_formula(x, alpha), rtol=1e-14, atol=1e-300)


def glu_formula(x, axis):
    first, second = np.split(x, 2, axis=axis)
    return first / (1 + np.exp(-second))


@st.composite
def glu_case(draw):
    """(x, dim): x of 1 to 3 axes whose axis ``dim`` (negative too) has an even size, 0 included."""
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(0, len(shape) - 1))
    shape[axis] = 2 * draw(st.integers(0, 2))
    dim = draw(st.sampled_from([axis, axis - len(shape)]))
    return draw(arrays(tuple(shape))), dim


@given(case=glu_case(), data=st.data())
def test_glu_values_and_vjp(case, data):
    x, dim = case
    [out] = check_vjp(lambda t: F.glu(t, dim), [x], data)
    np.testing.assert_allclose(out.data, glu_formula(x, dim), rtol=1e-14, atol=1e-300)


def prelu_formula(x, weight):
    slope = weight.reshape(()) if weight.size == 1 else weight.reshape(-1, *(1,) * (x.ndim - 2))
    return np.where(x > 0, x, slope * x)


@st.composite
def prelu_case(draw):
    """(x, weight): x of 0 to 4 axes (empty ones too), away from the kink at 0; weight 0-d, (1,)
    or one slope per channel (axis 1, when there is one)."""
    x = draw(arrays(shapes(max_dims=4), away_from_zero(0.01, 3.0)))
    options = [(), (1,)] + ([(x.shape[1],)] if x.ndim >= 2 else [])
    return x, draw(arrays(st.sampled_from(options), uniform(-2.0, 2.0)))


@given(case=prelu_case(), data=st.data())
def test_prelu_values_and_vjp_of_the_input_and_the_weight(case, data):
    x, weight = case
    [out] = check_vjp(F.prelu, [x, weight], data)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.data, prelu_formula(x, weight), rtol=1e-15, atol=0)


# -- the subgradients at the kinks: torch's (checked against it below too) ----------------------------
KINKS = [  # (function, x, the value there, the gradient there)
    (F.logsigmoid, 0.0, -math.log(2), 0.5),
    (F.softsign, 0.0, 0.0, 1.0),
    (F.mish, 0.0, 0.0, math.tanh(math.log(2))),
    (F.hardtanh, -1.0, -1.0, 0.0), (F.hardtanh, 1.0, 1.0, 0.0),
    (lambda x: F.hardtanh(x, -2.0, 3.0), 3.0, 3.0, 0.0),
    (lambda x: F.hardtanh(x, 0.5, 0.5), 0.5, 0.5, 0.0),
    (F.relu6, 0.0, 0.0, 0.0), (F.relu6, 6.0, 6.0, 0.0),
    (F.hardsigmoid, -3.0, 0.0, 0.0), (F.hardsigmoid, 3.0, 1.0, 0.0),
    (F.hardswish, -3.0, 0.0, 0.0), (F.hardswish, 3.0, 3.0, 1.0),
    (F.softshrink, -0.5, 0.0, 0.0), (F.softshrink, 0.5, 0.0, 0.0),
    (lambda x: F.softshrink(x, 0.0), 0.0, 0.0, 0.0),
    (F.hardshrink, -0.5, 0.0, 0.0), (F.hardshrink, 0.5, 0.0, 0.0),
    (F.celu, 0.0, 0.0, 1.0), (lambda x: F.celu(x, 2.0), 0.0, 0.0, 1.0),
    (F.selu, 0.0, 0.0, SELU_ALPHA * SELU_SCALE),
    (lambda x: F.prelu(x, tg.Tensor([0.3], dtype="float64")), 0.0, 0.0, 0.3),
]


@pytest.mark.parametrize(("function", "x", "value", "gradient"), KINKS)
def test_values_and_gradients_at_the_kinks(function, x, value, gradient):
    tensor = tg.Tensor([x], dtype="float64", requires_grad=True)
    out = function(tensor)
    out.backward()
    np.testing.assert_allclose(out.data, [value], rtol=1e-15, atol=0)
    np.testing.assert_allclose(tensor.grad, [gradient], rtol=1e-15, atol=0)


def test_prelu_weight_gradient_sums_the_negative_inputs_of_each_channel_0_included():
    x = tg.Tensor([[-1.0, 2.0], [-3.0, 0.0], [4.0, -5.0]], dtype="float64", requires_grad=True)
    weight = tg.Tensor([0.5, 0.25], dtype="float64", requires_grad=True)
    F.prelu(x, weight).sum().backward()
    assert weight.grad.tolist() == [-4.0, -5.0]
    assert x.grad.tolist() == [[0.5, 1.0], [0.5, 0.25], [1.0, 0.25]]


# -- torch's values and gradients, kinks included ------------------------------------------------------
TORCH_CASES = [
    ("logsigmoid", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 3.0}), ("relu6", {}),
    ("softsign", {}), ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 3.0}), ("mish", {}), ("celu", {}), ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": 0.5}), ("selu", {}), ("hardsigmoid", {}), ("hardswish", {}),
]
# every kink above, where mish and selu switch branch (20, −1000), and far values
KINK_VALUES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, 20.0, -1000.0, -1e4, -100.0, 100.0, 1e4]


def _against_torch(torch, ours_call, torch_call, values, dtype):
    """Our and torch's outputs and gradients for ``values`` (a random upstream gradient)."""
    ours = tg.Tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours_call(ours)
        upstream = np.random.default_rng(1).uniform(-2, 2, out.shape).astype(dtype)
        out.backward(upstream)
    expected = torch_call(theirs)
    expected.backward(torch.from_numpy(upstream))
    return out.data, expected.detach().numpy(), ours.grad, theirs.grad.numpy()


@pytest.mark.parametrize(("name", "options"), TORCH_CASES, ids=[f"{n}{o}" for n, o in TORCH_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_functions_match_torch_values_and_gradients(name, options, dtype):
    torch = pytest.importorskip("torch")
    values = np.concatenate([KINK_VALUES, np.random.default_rng(0).standard_normal(60) * 6]).astype(dtype)
    out, expected, grad, expected_grad = _against_torch(
        torch, lambda t: getattr(F, name)(t, **options),
        lambda t: getattr(torch.nn.functional, name)(t, **options), values, dtype)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    x = np.abs(values.astype(np.float64))
    # Where a result is a difference of its terms, ours and torch's differ by rounding relative
    # to the terms: tanhshrink's x − tanh x (its tanh and NumPy's differ by an ulp), softsign's
    # gradient 1/(1 + |x|) − |x|/(1 + |x|)², mish's tanh(sp) + x·σ(x)·(1 − tanh²(sp)) (zero
    # near x = −1.19).
    value_scale = np.abs(expected) + (x if name == "tanhshrink" else 0)
    assert (np.abs(out - expected) <= 4 * eps * value_scale + tiny).all()
    if name == "hardsigmoid" and dtype == "float64":
        # torch's slope is float32's 1/6, in float64 too; ours is float64's
        np.testing.assert_allclose(grad * (6 * np.float64(np.float32(1 / 6))), expected_grad, rtol=1e-15)
        return
    terms = {"softsign": 2 / (1 + x), "mish": 2 * (1 + x * np.exp(-x))}  # |upstream| <= 2
    bound = 16 * eps * terms[name] if name in terms else 4 * eps * np.abs(expected_grad)
    assert (np.abs(grad - expected_grad) <= bound + tiny).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prelu_matches_torch_per_channel_and_shared_kinks_included(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for shape, slopes in [((), 1), ((4,), 1), ((3, 4), 4), ((2, 3, 5), 3), ((2, 3, 2, 2), 1)]:
        x = (rng.standard_normal(shape) * np.sign(rng.integers(0, 3, shape) - 1)).astype(dtype)  # zeros too
        weight = rng.uniform(-1, 1, slopes).astype(dtype)
        ours_weight = tg.Tensor(weight, requires_grad=True)
        theirs_weight = torch.tensor(weight, requires_grad=True)
        out, expected, grad, expected_grad = _against_torch(
            torch, lambda t, w=ours_weight: F.prelu(t, w),
            lambda t, w=theirs_weight: torch.nn.functional.prelu(t, w), x, dtype)
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(grad, expected_grad)
        eps = np.finfo(dtype).eps  # the weight's gradient is a sum: its order may differ
        np.testing.assert_allclose(ours_weight.grad, theirs_weight.grad.numpy(), rtol=8 * eps, atol=8 * eps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 4, 6)).astype(dtype) * 5
    for dim in (1, -1, 0):
        out, expected, grad, expected_grad = _against_torch(
            torch, lambda t, d=dim: F.glu(t, d), lambda t, d=dim: torch.nn.functional.glu(t, d), x, dtype)
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(out, expected, rtol=4 * eps, atol=np.finfo(dtype).tiny)
        np.testing.assert_allclose(grad, expected_grad, rtol=4 * eps, atol=4 * eps)


@pytest.mark.parametrize("name", ["mish", "logsigmoid", "selu", "celu", "hardswish", "softsign"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_gradients_at_the_extremes_stay_finite_for_any_upstream_gradient(name, dtype):
    """An upstream gradient of 2 at ±max: mish's product x · tanh(softplus x) would send back
    2 · x = inf (then inf · 0 = nan) if it were formed there; it is formed only in between."""
    big = np.finfo(dtype).max
    x = tg.Tensor(np.array([-big, big, -2e3, 30.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(x).backward(np.full(4, 2.0, dtype=dtype))
    assert np.isfinite(x.grad).all()


def test_mish_is_x_beyond_20_and_x_e_to_the_x_far_left_in_float64():
    x = tg.Tensor([25.0, 1e300, -700.0, -1e300], dtype="float64")
    out = F.mish(x).data
    assert out[:2].tolist() == [25.0, 1e300]
    np.testing.assert_allclose(out[2], -700.0 * np.exp(-700.0), rtol=1e-13)
    assert out[3] == 0


def test_logsigmoid_is_exact_in_both_tails():
    x = tg.Tensor([40.0, -800.0], dtype="float64", requires_grad=True)
    out = F.logsigmoid(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, [-np.exp(-40.0), -800.0], rtol=1e-15)
    np.testing.assert_allclose(x.grad, [np.exp(-40.0), 1.0], rtol=1e-14)


# -- modules: values, gradcheck (PReLU's weight too), reprs and state_dicts as torch's ----------------
MODULES = {  # name: (module, values away from its kinks, formula)
    "LogSigmoid": (nn.LogSigmoid, uniform(-10.0, 10.0), logsigmoid_formula),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 2.0), near(-0.5, 2.0), lambda x: hardtanh_formula(x, -0.5, 2.0)),
    "ReLU6": (nn.ReLU6, near(0.0, 6.0), relu6_formula),
    "Softsign": (nn.Softsign, uniform(-4.0, 4.0), softsign_formula),
    "Tanhshrink": (nn.Tanhshrink, uniform(-3.0, 3.0), tanhshrink_formula),
    "Softshrink": (lambda: nn.Softshrink(1.0), near(-1.0, 1.0), lambda x: softshrink_formula(x, 1.0)),
    "Hardshrink": (nn.Hardshrink, near(-0.5, 0.5), hardshrink_formula),
    "Mish": (nn.Mish, uniform(-5.0, 5.0), mish_formula),
    "CELU": (lambda: nn.CELU(0.5), uniform(-3.0, 3.0), lambda x: celu_formula(x, 0.5)),
    "SELU": (nn.SELU, near(0.0), selu_formula),
    "Hardsigmoid": (nn.Hardsigmoid, near(-3.0, 3.0), hardsigmoid_formula),
    "Hardswish": (nn.Hardswish, near(-3.0, 3.0), hardswish_formula),
}


@pytest.mark.parametrize("name", MODULES)
@given(data=st.data())
def test_modules_values_and_gradcheck(name, data):
    make, values, formula = MODULES[name]
    check_activation_module(make, formula, data.draw(arrays(shapes(max_dims=3), values), label="x"))


@given(case=glu_case())
def test_glu_module_values_and_gradcheck(case):
    x, dim = case
    glu = nn.GLU(dim)
    tensor = tg.Tensor(x, requires_grad=True)
    np.testing.assert_allclose(glu(tensor).data, glu_formula(x, dim), rtol=1e-14, atol=1e-300)
    assert tg.gradcheck(glu, [tensor])


@given(case=prelu_case(), init=uniform(-1.0, 1.0))
def test_prelu_module_values_and_gradcheck_of_the_input_and_the_weight(case, init):
    x, _ = case
    channels = x.shape[1] if x.ndim >= 2 else 1
    for num_parameters in sorted({1, channels} - {0}):
        prelu = nn.PReLU(num_parameters, init, dtype="float64")
        assert prelu.weight.shape == (num_parameters,) and prelu.weight.requires_grad
        np.testing.assert_array_equal(prelu.weight.data, np.full(num_parameters, init))
        tensor = tg.Tensor(x, requires_grad=True)
        np.testing.assert_allclose(prelu(tensor).data, prelu_formula(x, prelu.weight.data), rtol=1e-15)
        assert tg.gradcheck(lambda t, _, module=prelu: module(t), [tensor, prelu.weight],
                            names=["x", "weight"])


MODULE_PAIRS = [
    ("LogSigmoid", (), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 3.0), {}), ("ReLU6", (), {}),
    ("Softsign", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (), {}), ("Softshrink", (1.5,), {}),
    ("Hardshrink", (), {}), ("Hardshrink", (), {"lambd": 2.0}), ("Mish", (), {}), ("CELU", (), {}),
    ("CELU", (), {"alpha": 2.0}), ("SELU", (), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("GLU", (), {}), ("GLU", (1,), {}), ("PReLU", (), {}), ("PReLU", (6, 0.1), {}),
    ("Flatten", (), {}), ("Flatten", (0, 2), {}),
    ("Unflatten", (1, (3, 2)), {}), ("Unflatten", (-1, [2, 2]), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), MODULE_PAIRS)
def test_modules_repr_state_dict_and_output_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in ours_state:
        assert ours_state[key].dtype == theirs_state[key].numpy().dtype
        np.testing.assert_array_equal(ours_state[key], theirs_state[key].numpy())
    x = (np.random.default_rng(2).standard_normal((2, 6, 4)) * 4).astype(np.float32)  # PReLU's dtype
    out, expected = ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy()
    assert out.shape == expected.shape and out.dtype == expected.dtype
    # tanhshrink's cancellation: relative to x (see the functional test)
    scale = np.abs(expected) + (np.abs(x) if name == "Tanhshrink" else 0)
    assert (np.abs(out - expected) <= 4 * np.finfo(np.float32).eps * scale).all()


def test_module_arguments_are_stored_as_floats_and_prelu_notes_its_dtype():
    """torch keeps ``nn.Hardtanh(-2, 3)`` ints (repr ``min_val=-2``); ours are floats, as the
    other activations'. A PReLU in another dtype than float32 says so, as Linear does."""
    assert repr(nn.Hardtanh(-2, np.int64(3))) == "Hardtanh(min_val=-2.0, max_val=3.0)"
    assert repr(nn.Softshrink(1)) == "Softshrink(1.0)" and repr(nn.CELU(2)) == "CELU(alpha=2.0)"
    assert repr(nn.PReLU(2, dtype="float64")) == "PReLU(num_parameters=2, dtype=float64)"
    assert nn.PReLU(2, dtype="float64").weight.dtype == np.float64


# -- Flatten and Unflatten: torch's shapes, views, the gradient reshaped back ----------------------
@given(shape=shapes(max_dims=4), data=st.data())
def test_flatten_shapes_match_torch_and_out_of_range_dims_fail_as_in_torch(shape, data):
    torch = pytest.importorskip("torch")
    extent = len(shape) or 1
    start, end = (data.draw(st.integers(-extent - 1, extent), label=label) for label in ("start", "end"))
    try:
        expected = tuple(torch.nn.Flatten(start, end)(torch.zeros(shape)).shape)
    except (IndexError, RuntimeError):
        with pytest.raises(ValueError, match=r"^flatten: (start_dim|end_dim) .* (out of range|comes after)"):
            nn.Flatten(start, end)(tg.zeros(*shape))
        return
    assert nn.Flatten(start, end)(tg.zeros(*shape)).shape == expected


@st.composite
def unflatten_case(draw):
    """(shape, dim, unflattened_size): the sizes multiply to the size of axis ``dim``; one of
    them may be −1 where the others multiply to more than 0."""
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    shape = list(draw(shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(0, len(shape) - 1))
    shape[axis] = math.prod(sizes)
    inferred = draw(st.sampled_from([None, *range(len(sizes))]))
    if inferred is not None and math.prod(sizes[:inferred] + sizes[inferred + 1:]) > 0:
        sizes[inferred] = -1
    container = draw(st.sampled_from([tuple, list]))
    return tuple(shape), draw(st.sampled_from([axis, axis - len(shape)])), container(sizes)


@given(case=unflatten_case(), data=st.data())
def test_unflatten_shapes_match_torch_and_flatten_undoes_it(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, sizes = case
    out = nn.Unflatten(dim, sizes)(tg.zeros(*shape))
    assert out.shape == tuple(torch.nn.Unflatten(dim, sizes)(torch.zeros(shape)).shape)
    start = dim % len(shape)
    assert nn.Flatten(start, start + len(sizes) - 1)(out).shape == shape


@pytest.mark.parametrize(("module", "shape"), [
    (nn.Flatten(), (2, 3, 4)), (nn.Flatten(0, -1), ()), (nn.Flatten(-2), (2, 0, 3)),
    (nn.Unflatten(1, (2, -1)), (3, 6, 2)), (nn.Unflatten(0, [1]), (1,)), (nn.Unflatten(-1, (2, 0)), (3, 0)),
])
def test_flatten_and_unflatten_are_views_and_pass_the_gradient_back_unchanged(module, shape):
    x = tg.Tensor(np.arange(math.prod(shape), dtype=np.float64).reshape(shape), requires_grad=True)
    out = module(x)
    assert np.shares_memory(out.data, x.data) or x.size == 0
    upstream = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.reshape(shape))
    np.testing.assert_array_equal(out.data.ravel(), x.data.ravel())


def test_flatten_takes_any_dtype_as_torch():
    assert nn.Flatten()(tg.Tensor(np.ones((2, 2, 2), dtype=np.int64))).dtype == np.int64


# -- errors ------------------------------------------------------------------------------------
BAD_CALLS = [
    (lambda: F.hardtanh(tg.ones(2), 1.0, -1.0), ValueError,
     "hardtanh: min_val cannot be greater than max_val, got min_val=1.0 and max_val=-1.0"),
    (lambda: F.hardtanh(tg.ones(2), float("nan")), ValueError, "hardtanh: min_val must be a number, got nan"),
    (lambda: nn.Hardtanh(max_val="1"), TypeError, "Hardtanh: max_val must be a number, got '1'"),
    (lambda: nn.Hardtanh(2.0), ValueError, "Hardtanh: min_val cannot be greater than max_val"),
    (lambda: F.softshrink(tg.ones(2), -0.5), ValueError, "softshrink: lambd must be non-negative, got -0.5"),
    (lambda: F.hardshrink(tg.ones(2), -1), ValueError, "hardshrink: lambd must be non-negative, got -1.0"),
    (lambda: F.hardshrink(tg.ones(2), float("inf")), ValueError, "hardshrink: lambd must be a finite number"),
    (lambda: nn.Softshrink(None), TypeError, "Softshrink: lambd must be a number, got None"),
    (lambda: nn.Hardshrink(-2), ValueError, "Hardshrink: lambd must be non-negative"),
    (lambda: F.celu(tg.ones(2), 0.0), ValueError, "celu: alpha cannot be 0"),
    (lambda: nn.CELU(0), ValueError, "CELU: alpha cannot be 0"),
    (lambda: nn.CELU(float("inf")), ValueError, "CELU: alpha must be a finite number"),
    (lambda: F.glu(tg.ones(2, 3), 1), ValueError,
     "glu: the halved axis must have an even size, but dim 1 of the input of shape (2, 3) has size 3"),
    (lambda: F.glu(tg.ones(3, 2), -2), ValueError,
     "glu: the halved axis must have an even size, but dim -2 of the input of shape (3, 2) has size 3"),
    (lambda: F.glu(tg.Tensor(1.0)), ValueError, "glu: a 0-d input has no axis to halve"),
    (lambda: F.glu(tg.ones(2), 1), ValueError, "glu: dim 1 is out of range [-1, 0] for shape (2,)"),
    (lambda: nn.GLU(1.0), TypeError, "GLU: dim must be an int, got 1.0"),
    (lambda: F.prelu(tg.ones(2, 3), tg.ones(2)), ValueError,
     "prelu: weight must be 0-d or 1-D with 1 or 3 elements (one slope, or one per channel: axis 1 of "
     "the input of shape (2, 3); fewer than 2 axes are one channel), got shape (2,)"),
    (lambda: F.prelu(tg.ones(3), tg.ones(3)), ValueError, "prelu: weight must be 0-d or 1-D with 1 element"),
    (lambda: F.prelu(tg.ones(2, 3), tg.ones(1, 3)), ValueError,
     "prelu: weight must be 0-d or 1-D .* shape (1, 3)"),
    (lambda: F.prelu(tg.ones(2, dtype="float64"), tg.ones(1)), ValueError,
     "prelu: weight of dtype float32 does not match the input's dtype float64 (shape (2,))"),
    (lambda: F.prelu(tg.ones(2), [0.25]), TypeError, "prelu: weight must be a Tensor, got list"),
    (lambda: F.prelu(tg.ones(2), tg.Tensor(np.ones(1, dtype=np.int64))), TypeError,
     "prelu: weight must have a floating-point dtype, got int64"),
    (lambda: nn.PReLU(4)(tg.ones(2, 3)), ValueError, "prelu: weight must be 0-d or 1-D with 1 or 3 elements"),
    (lambda: nn.PReLU(2)(tg.ones(2)), ValueError, "prelu: weight must be 0-d or 1-D with 1 element"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be at least 1, got 0"),
    (lambda: nn.PReLU(2.0), TypeError, "PReLU: num_parameters must be an int, got float"),
    (lambda: nn.PReLU(init=float("nan")), ValueError, "PReLU: init must be a finite number, got nan"),
    (lambda: nn.PReLU(dtype="int32"), TypeError, "PReLU: parameters must have a floating-point dtype"),
    (lambda: nn.PReLU()(tg.ones(2, dtype="float64")), ValueError,
     "prelu: weight of dtype float32 does not match the input's dtype float64"),
    (lambda: nn.Flatten()(tg.ones(3)), ValueError,
     "flatten: start_dim 1 is out of range [-1, 0] for a tensor of shape (3,)"),
    (lambda: nn.Flatten(0, 5)(tg.ones(2, 2)), ValueError, "flatten: end_dim 5 is out of range [-2, 1]"),
    (lambda: nn.Flatten(2, 1)(tg.ones(2, 2, 2)), ValueError,
     "flatten: start_dim 2 comes after end_dim 1 (tensor of shape (2, 2, 2))"),
    (lambda: nn.Flatten("1"), TypeError, "Flatten: start_dim must be an int, got '1'"),
    (lambda: nn.Flatten(end_dim=True), TypeError, "Flatten: end_dim must be an int, got True"),
    (lambda: nn.Flatten()([1.0]), TypeError, "Flatten: expected a Tensor, got list"),
    (lambda: nn.Unflatten(1, (2, 2))(tg.ones(3, 3)), ValueError,
     "Unflatten: unflattened_size (2, 2) does not multiply up to the size 3 of dim 1 (input of shape "
     "(3, 3))"),
    (lambda: nn.Unflatten(1, [4, -1])(tg.ones(3, 6)), ValueError,
     "Unflatten: the -1 in unflattened_size [4, -1] cannot be inferred from the size 6 of dim 1 (input of "
     "shape (3, 6)): it is not a multiple of 4"),
    (lambda: nn.Unflatten(1, (0, -1))(tg.ones(3, 0)), ValueError,
     "Unflatten: the -1 in unflattened_size (0, -1) cannot be inferred .*: the other sizes multiply to 0"),
    (lambda: nn.Unflatten(2, (1,))(tg.ones(3, 3)), ValueError, "Unflatten: dim 2 is out of range [-2, 1]"),
    (lambda: nn.Unflatten(0, (1,))(tg.Tensor(1.0)), ValueError,
     "Unflatten: a 0-d input has no axis to unflatten"),
    (lambda: nn.Unflatten(1, 3), TypeError,
     "Unflatten: unflattened_size must be a tuple or a list of ints, got int"),
    (lambda: nn.Unflatten(1, (2.0, 3)), TypeError,
     "Unflatten: unflattened_size must be a tuple or a list of ints, got (2.0, 3)"),
    (lambda: nn.Unflatten(1, ()), ValueError, "Unflatten: unflattened_size must hold at least one size"),
    (lambda: nn.Unflatten(1, (-1, -1)), ValueError, "Unflatten: .* at most one -1"),
    (lambda: nn.Unflatten(1, (2, -3)), ValueError, "Unflatten: .* each >= 0 .* got (2, -3)"),
    (lambda: nn.Unflatten("1", (2,)), TypeError, "Unflatten: dim must be an int, got '1'"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS)
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match="^" + ".*".join(map(re.escape, message.split(".*")))):
        call()


@pytest.mark.parametrize(("name", "call"), [("glu", F.glu), ("prelu", lambda v: F.prelu(v, tg.ones(1)))])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_glu_and_prelu_refuse_integer_inputs_naming_the_dtype(name, call, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: input must have a floating-point dtype, got {dtype} "):
        call(tg.Tensor(np.ones(2, dtype=dtype)))

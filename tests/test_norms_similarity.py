"""normalize, cosine_similarity and rms_norm, and the modules CosineSimilarity and RMSNorm: values
against NumPy formulas and float64 gradients against central differences over hypothesis shapes
(0-d, size-1 and empty axes, x1 and x2 broadcast together, the weight differentiated too);
PyTorch's values and gradients in float32 and float64, also where eps holds (near-zero
vectors, eps=None); modules' parameters, state_dict keys and reprs as torch's; errors that name
the op and what was wrong."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import arrays, away_from_zero, broadcastable_shapes, check_vjp, distinct_arrays, shapes
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn

ORDERS = [1.0, 2.0, 3.0, 0.5, np.inf]


# -- the formulas, in float64 NumPy ------------------------------------------------------------
def p_norm(x: np.ndarray, p: float, axis) -> np.ndarray:
    magnitude = np.abs(x)
    if np.isinf(p):
        return magnitude.max(axis=axis, keepdims=True)
    return (magnitude**p).sum(axis=axis, keepdims=True) ** (1 / p)


def normalize_formula(x, p, axis, eps):
    return x / np.maximum(p_norm(x, p, axis), eps)


def cosine_formula(x1, x2, axis, eps):
    x1, x2 = np.broadcast_arrays(x1, x2)
    return (normalize_formula(x1, 2.0, axis, eps) * normalize_formula(x2, 2.0, axis, eps)).sum(axis=axis)


def rms_norm_formula(x, normalized_shape, weight, eps):
    axes = tuple(range(-len(normalized_shape), 0))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


def axis_of(dim: int, ndim: int):
    """The NumPy axis of a torch ``dim``: None (all of it) for a 0-d array."""
    return dim % ndim if ndim else None


def dims(ndim: int) -> st.SearchStrategy[int]:
    """A torch ``dim`` for ``ndim`` axes, negatives too; 0 or −1 for a 0-d tensor."""
    extent = max(ndim, 1)
    return st.integers(-extent, extent - 1)


@st.composite
def distinct_magnitudes(draw, shape: tuple[int, ...]) -> np.ndarray:
    """Values of random signs whose magnitudes differ pairwise by at least 0.25 and are at least
    0.5: the inf norm (max |x|) has no ties, and no |x| has a kink, within a finite difference."""
    ladder = draw(distinct_arrays(shape)) if shape and min(shape) > 0 else np.zeros(shape)
    magnitudes = ladder - (ladder.min() if ladder.size else 0.0) + 0.5
    signs = draw(arrays(shape, st.sampled_from([-1.0, 1.0])))
    return signs * magnitudes


# -- normalize: values and gradients over shapes --------------------------------------------------
@st.composite
def normalize_cases(draw):
    """(x, p, dim, eps): eps tiny, or e (irrational, so no drawn norm equals it) so that some
    vectors fall below it, where the denominator is the constant eps."""
    p = draw(st.sampled_from(ORDERS), label="p")
    shape = draw(shapes(min_side=int(np.isinf(p))), label="shape")  # no empty dim for max |x|
    x = draw(distinct_magnitudes(shape) if p in (1.0, np.inf) else arrays(shape, away_from_zero(0.1, 3.0)),
             label="x")
    return x, p, draw(dims(len(shape)), label="dim"), draw(st.sampled_from([1e-12, np.e]), label="eps")


@given(case=normalize_cases(), data=st.data())
def test_normalize_values_and_vjp(case, data):
    x, p, dim, eps = case
    [out] = check_vjp(lambda t: F.normalize(t, p, dim, eps), [x], data)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, normalize_formula(x, p, axis_of(dim, x.ndim), eps),
                               rtol=1e-13, atol=1e-300)


def test_normalize_of_a_zero_vector_is_zero_with_gradient_one_over_eps():
    x = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    out = F.normalize(x, eps=0.25)
    out.backward(np.ones((2, 3)))
    assert out.tolist() == [[0.0] * 3] * 2
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0))


# -- cosine_similarity: values and gradients over broadcast shapes ---------------------------------
@st.composite
def cosine_cases(draw):
    """(x1, x2, dim): shapes broadcast together (0-d, size-1 and empty axes), values away from 0
    so no vector is within eps of zero."""
    shape1, shape2 = draw(broadcastable_shapes(2), label="shapes")
    ndim = len(np.broadcast_shapes(shape1, shape2))
    values = away_from_zero(0.1, 3.0)
    return (draw(arrays(shape1, values), label="x1"), draw(arrays(shape2, values), label="x2"),
            draw(dims(ndim), label="dim"))


@given(case=cosine_cases(), data=st.data())
def test_cosine_similarity_values_and_vjp_in_both_operands(case, data):
    x1, x2, dim = case
    [out] = check_vjp(lambda a, b: F.cosine_similarity(a, b, dim), [x1, x2], data)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    axis = axis_of(dim, len(shape))
    assert out.shape == (() if axis is None else shape[:axis] + shape[axis + 1:])
    np.testing.assert_allclose(out.data, cosine_formula(x1, x2, axis, 1e-8), rtol=1e-13, atol=1e-15)
    assert (np.abs(out.data) <= 1 + 1e-15).all()


def test_cosine_similarity_gradient_where_eps_holds_is_the_values_derivative():
    """For ‖x1‖ < eps the value is x1·x̂2 / eps, linear in x1: its gradient is x̂2 / eps. (torch's
    is not: it clamps the norm in place, unrecorded, and differentiates ‖x1‖ as if unclamped.)"""
    eps = 1e-8
    x1 = np.array([[3e-9, 4e-9, 0.0]])
    x2 = np.array([[1.0, 2.0, 2.0]])
    first, second = tg.Tensor(x1, requires_grad=True), tg.Tensor(x2, requires_grad=True)
    out = F.cosine_similarity(first, second, eps=eps)
    out.backward(np.ones(1))
    unit2, norm1 = x2 / 3.0, 5e-9
    np.testing.assert_allclose(out.data, (x1 * unit2).sum(axis=1) / eps, rtol=1e-15)
    np.testing.assert_allclose(first.grad, unit2 / eps, rtol=1e-14)
    torch_s = unit2 / eps - (x1 * unit2).sum() / eps**2 * x1 / norm1
    assert not np.allclose(first.grad, torch_s)
    # ... and it is what central differences of the value give
    step = 1e-12
    for k in range(3):
        moved = [x1.copy(), x1.copy()]
        moved[0][0, k] += step
        moved[1][0, k] -= step
        ahead, behind = (F.cosine_similarity(tg.Tensor(m), second, eps=eps).item() for m in moved)
        np.testing.assert_allclose((ahead - behind) / (2 * step), first.grad[0, k], rtol=1e-6)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("float16", "float16")])
def test_cosine_similarity_promotes_dtypes_as_arithmetic_does(dtypes):
    x1 = tg.Tensor(np.ones((2, 3), dtype=dtypes[0]), requires_grad=True)
    x2 = tg.Tensor(np.ones((2, 3), dtype=dtypes[1]), requires_grad=True)
    out = F.cosine_similarity(x1, x2)
    out.sum().backward()
    assert out.dtype == np.result_type(*dtypes) and x1.grad.dtype == dtypes[0] and x2.grad.dtype == dtypes[1]
    np.testing.assert_allclose(out.data, [1.0, 1.0], rtol=1e-3)


# -- rms_norm: values and gradients (input and weight) -------------------------------------------
leading_shapes = shapes(max_dims=2)
normalized_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


@given(leading_shapes, normalized_shapes, st.booleans(), st.sampled_from([1e-5, 1e-3, 0.5]),
       st.integers(0, 2**32 - 1), st.data())
def test_rms_norm_values_and_vjp_in_input_and_weight(leading, normalized_shape, with_weight, eps, seed, data):
    # drawn values include rows of zeros, where eps alone keeps the output smooth
    x = data.draw(arrays(leading + normalized_shape), label="x")
    inputs = [x] + ([np.random.default_rng(seed).standard_normal(normalized_shape)] if with_weight else [])
    [out] = check_vjp(lambda *tensors: F.rms_norm(tensors[0], normalized_shape, *tensors[1:], eps=eps),
                      inputs, data, rtol=1e-5, atol=1e-6)
    assert out.shape == x.shape and out.dtype == np.float64
    weight = inputs[1] if with_weight else None
    np.testing.assert_allclose(out.data, rms_norm_formula(x, normalized_shape, weight, eps), rtol=1e-12,
                               atol=1e-14)


@given(leading_shapes, normalized_shapes, st.integers(0, 2**32 - 1))
def test_rms_norm_module_is_the_function_with_its_weight(leading, normalized_shape, seed):
    rng = np.random.default_rng(seed)
    norm = nn.RMSNorm(normalized_shape, eps=1e-4, dtype=np.float64)
    norm.load_state_dict({"weight": rng.standard_normal(normalized_shape)})
    x = rng.standard_normal(leading + normalized_shape)
    results = []
    for normalized in (norm, lambda t: F.rms_norm(t, normalized_shape, norm.weight, 1e-4)):
        tensor = tg.Tensor(x, requires_grad=True)
        norm.zero_grad()
        normalized(tensor).sum().backward()
        results.append([normalized(tensor).data, tensor.grad, norm.weight.grad])
    for module_result, functional_result in zip(*results):
        np.testing.assert_array_equal(module_result, functional_result)
    assert nn.functional.rms_norm is F.rms_norm


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rms_norm_eps_none_is_the_machine_epsilon_of_the_dtype_computed_in(dtype):
    """float16 is computed in float32, with float32's epsilon (torch's too, checked below); with
    RMS² near the epsilon, eps changes the result."""
    computed = np.float32 if dtype == "float16" else np.dtype(dtype)
    epsilon = np.finfo(computed).eps
    x = np.array([[1.0, -2.0, 3.0]]) * np.sqrt(epsilon)  # mean(x²) = 14/3 · epsilon
    out = F.rms_norm(tg.Tensor(x.astype(dtype)), 3)
    assert out.dtype == dtype
    expected = rms_norm_formula(x.astype(dtype).astype(np.float64), (3,), None, float(epsilon))
    np.testing.assert_allclose(out.data, expected, rtol=4 * np.finfo(dtype).eps)
    assert nn.RMSNorm(3, dtype=dtype)(tg.Tensor(x.astype(dtype))).tolist() == out.tolist()


def test_rms_norm_module_defaults_and_no_parameters_without_affine():
    norm = nn.RMSNorm((2, 3))
    assert norm.eps is None and norm.weight.dtype == np.float32
    np.testing.assert_array_equal(norm.weight.data, np.ones((2, 3)))
    assert norm(tg.zeros(0, 2, 3)).shape == (0, 2, 3) and norm(tg.zeros(2, 3)).shape == (2, 3)
    plain = nn.RMSNorm(3, elementwise_affine=False)
    assert plain.weight is None and list(plain.parameters()) == [] and dict(plain.state_dict()) == {}
    assert plain(tg.zeros(2, 3, dtype="float64")).dtype == np.float64
    assert plain(tg.zeros(2, 3, dtype="float16")).dtype == np.float16
    double = nn.RMSNorm(4, dtype=np.float64)
    assert repr(double) == "RMSNorm((4,), eps=None, elementwise_affine=True, dtype=float64)"
    assert double.to(np.float32).weight.dtype == np.float32 and repr(double) == repr(nn.RMSNorm(4))


# -- against torch -----------------------------------------------------------------------------
def run_both(torch, ours_fn, theirs_fn, arrays_in: list[np.ndarray], upstream_seed: int = 0):
    """(our output, torch's output, our gradients, torch's gradients) for one random upstream."""
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays_in]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays_in]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    upstream = np.random.default_rng(upstream_seed).uniform(-2, 2, out.shape).astype(out.dtype)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    assert out.dtype == expected.detach().numpy().dtype and out.shape == tuple(expected.shape)
    return out.data, expected.detach().numpy(), [t.grad for t in ours], [t.grad.numpy() for t in theirs]


def assert_close_to_torch(ours, theirs, dtype, what: str, ulps: float = 8.0) -> None:
    """Within ``ulps`` units of the dtype's epsilon, relative to the largest of torch's values in
    the same slice along axis 0 (the whole, for fewer than 2 axes), and to 1 at least: the
    values here are at most 1 or about 1, and a gradient of 0 is rounding of terms about 1."""
    magnitude = np.abs(theirs)
    if magnitude.ndim >= 2:
        magnitude = magnitude.max(axis=tuple(range(1, magnitude.ndim)), keepdims=True, initial=0.0)
    else:
        magnitude = magnitude.max(initial=0.0)
    bound = ulps * np.finfo(dtype).eps * np.maximum(magnitude, 1.0)
    assert ours.shape == theirs.shape, what
    assert (np.abs(ours - theirs) <= bound).all(), (what, ours, theirs)


def near_zero_rows(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Random values whose first row along axis 0 is tiny (below eps) and second is exactly 0."""
    x = np.random.default_rng(seed).standard_normal(shape)
    x[0] *= 1e-14
    x[1] = 0.0
    return x


@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normalize_matches_torch_also_below_eps(p, dtype):
    torch = pytest.importorskip("torch")
    for shape, dim in [((4, 5), 1), ((4, 3, 2), 1), ((4, 3, 2), -1), ((4, 1), 1), ((4, 3), 0)]:
        x = near_zero_rows(shape, seed=len(shape)).astype(dtype)
        results = run_both(torch, lambda t, dim=dim: F.normalize(t, p, dim),
                           lambda t, dim=dim: torch.nn.functional.normalize(t, p, dim), [x])
        assert_close_to_torch(results[0], results[1], dtype, f"value {shape} dim={dim}")
        assert_close_to_torch(results[2][0], results[3][0], dtype, f"gradient {shape} dim={dim}")
    scalar = run_both(torch, lambda t: F.normalize(t, p, 0), lambda t: torch.nn.functional.normalize(t, p, 0),
                      [np.array(-3.0, dtype=dtype)])
    # −1, with gradient 0, up to the rounding of (|x|^p)^(1/p)
    assert_close_to_torch(scalar[0], scalar[1], dtype, "0-d value")
    assert_close_to_torch(scalar[2][0], scalar[3][0], dtype, "0-d gradient")


COSINE_SHAPES = [((3, 4), (3, 4), 1), ((2, 1, 3), (4, 3), -1), ((3,), (2, 3), 1), ((4, 1), (1, 5), 0),
                 ((), (), 0), ((3,), (), -1), ((2, 3), (2, 3), 0), ((2, 0), (2, 0), 1)]


@pytest.mark.parametrize(("shape1", "shape2", "dim"), COSINE_SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cosine_similarity_matches_torch_with_broadcasting_and_vectors_below_eps(shape1, shape2, dim, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape1) + 3 * len(shape2))
    x1, x2 = (rng.standard_normal(shape) for shape in (shape1, shape2))
    if x1.ndim and x1.shape[0] >= 2:
        x1[1] = 0.0  # a zero vector: the gradient is x̂2 / eps by torch's rule and by ours
    tiny = x1.copy()
    if x1.ndim and x1.shape[0] >= 2:
        tiny[0] *= 1e-10  # vectors below eps: the same values, but torch's gradient is not theirs
    for x, gradients in ((x1, True), (tiny, False)):
        results = run_both(torch, lambda a, b: F.cosine_similarity(a, b, dim),
                           lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim),
                           [x.astype(dtype), x2.astype(dtype)])
        assert_close_to_torch(results[0], results[1], dtype, "value")
        for i in range(2 if gradients else 0):
            assert_close_to_torch(results[2][i], results[3][i], dtype, f"gradient of x{i + 1}", ulps=16)


def test_cosine_similarity_of_mixed_dtypes_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4))
    results = run_both(torch, F.cosine_similarity, torch.nn.functional.cosine_similarity, [x1, x2])
    assert_close_to_torch(results[0], results[1], np.float64, "value")
    for mine, theirs in zip(results[2], results[3]):
        assert mine.dtype == theirs.dtype
        assert_close_to_torch(mine, theirs, mine.dtype, "gradient")


@pytest.mark.parametrize("normalized_shape", [(5,), (3, 5)])
@pytest.mark.parametrize("with_weight", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_matches_torch_in_input_and_weight(normalized_shape, with_weight, eps, dtype):
    """Rows of every scale: 1, √epsilon (where eps=None matters), and zeros."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(normalized_shape))
    row_scales = np.array([1.0, np.sqrt(np.finfo(dtype).eps), 0.0, 3.0])
    x = rng.standard_normal((4,) + normalized_shape) * row_scales.reshape((4,) + (1,) * len(normalized_shape))
    operands = [x.astype(dtype)]
    if with_weight:
        operands.append(rng.standard_normal(normalized_shape).astype(dtype))
    results = run_both(torch, lambda t, *w: F.rms_norm(t, normalized_shape, *w, eps=eps),
                       lambda t, *w: torch.nn.functional.rms_norm(t, normalized_shape, *w, eps=eps), operands)
    assert_close_to_torch(results[0], results[1], dtype, "value")
    for i, (mine, theirs) in enumerate(zip(results[2], results[3])):
        assert_close_to_torch(mine, theirs, dtype, f"gradient of operand {i}", ulps=32)


def test_rms_norm_of_float16_matches_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(7).standard_normal((6, 4)) * np.logspace(-5, 2, 6)[:, None]).astype(np.float16)
    weight = np.random.default_rng(8).standard_normal(4).astype(np.float16)
    for eps in (None, 1e-6):
        ours = F.rms_norm(tg.Tensor(x), (4,), tg.Tensor(weight), eps)
        theirs = torch.nn.functional.rms_norm(torch.tensor(x), (4,), torch.tensor(weight), eps)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("arguments", [((4,), {}), ((2, 3), {"eps": 1e-6}),
                                       ([2, 3], {"elementwise_affine": False}),
                                       (5, {"eps": 0.1, "elementwise_affine": True})])
def test_rms_norm_module_parameters_state_dict_and_repr_match_torch(arguments):
    torch = pytest.importorskip("torch")
    args, kwargs = arguments
    norm, reference = nn.RMSNorm(args, **kwargs), torch.nn.RMSNorm(args, **kwargs)
    assert repr(norm) == repr(reference)
    assert list(norm.state_dict()) == list(reference.state_dict())
    parameters = dict(reference.named_parameters())
    assert [(name, p.shape) for name, p in norm.named_parameters()] == [
        (name, tuple(p.shape)) for name, p in parameters.items()]
    for name, value in norm.state_dict().items():
        np.testing.assert_array_equal(value, reference.state_dict()[name].numpy())
    x = np.random.default_rng(3).standard_normal((2,) + norm.normalized_shape).astype(np.float32)
    assert_close_to_torch(norm(x).data, reference(torch.tensor(x)).detach().numpy(), np.float32, "value")


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-6}])
def test_cosine_similarity_module_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    similarity, reference = nn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs)
    assert repr(similarity) == repr(reference) == "CosineSimilarity()"
    assert dict(similarity.state_dict()) == {} and list(similarity.parameters()) == []
    assert (similarity.dim, similarity.eps) == (reference.dim, reference.eps)
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(similarity(tg.Tensor(x1), tg.Tensor(x2)).data,
                               reference(torch.tensor(x1), torch.tensor(x2)).numpy(), rtol=1e-14)


# -- errors ------------------------------------------------------------------------------------
X23 = tg.zeros(2, 3)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: F.normalize(np.ones(3)), TypeError, r"normalize: input must be a Tensor, got ndarray$"),
    (lambda: F.normalize(tg.Tensor(np.ones((2, 3), dtype=np.int64))), TypeError,
     r"normalize: input must have a floating-point dtype, got int64 \(shape \(2, 3\)\)$"),
    (lambda: F.normalize(X23, p=0), ValueError, r"normalize: p must be positive, got 0$"),
    (lambda: F.normalize(X23, p=-2.0), ValueError, r"normalize: p must be positive, got -2.0$"),
    (lambda: F.normalize(X23, p=float("nan")), ValueError, r"normalize: p must be positive, got nan$"),
    (lambda: F.normalize(X23, p="fro"), TypeError, r"normalize: p must be a number, got 'fro'$"),
    (lambda: F.normalize(X23, dim=2), ValueError,
     r"normalize: dim 2 is out of range \[-2, 1\] for shape \(2, 3\)$"),
    (lambda: F.normalize(tg.Tensor(1.0)), ValueError,
     r"normalize: dim 1 is out of range \[-1, 0\] for shape \(\)$"),
    (lambda: F.normalize(X23, dim=1.0), TypeError, r"normalize: dim must be an int, got 1.0$"),
    (lambda: F.normalize(X23, eps=-1e-12), ValueError,
     r"normalize: eps must be a finite number >= 0, got -1e-12$"),
    (lambda: F.normalize(tg.zeros(2, 0), p=float("inf")), ValueError,
     r"normalize: the inf norm along dim 1 is undefined: that axis of the input \(shape \(2, 0\)\) is empty"),
    (lambda: F.cosine_similarity(X23, [1.0, 2.0, 3.0]), TypeError,
     r"cosine_similarity: x2 must be a Tensor, got list$"),
    (lambda: F.cosine_similarity(tg.Tensor(np.ones((2, 3), dtype=np.int64)), X23), TypeError,
     r"cosine_similarity: x1 must have a floating-point dtype, got int64 \(shape \(2, 3\)\)$"),
    (lambda: F.cosine_similarity(X23, tg.zeros(4, 3)), ValueError,
     r"cosine_similarity: x1 of shape \(2, 3\) and x2 of shape \(4, 3\) do not broadcast together$"),
    (lambda: F.cosine_similarity(tg.zeros(3), tg.zeros(3)), ValueError,
     r"cosine_similarity: dim 1 is out of range \[-1, 0\] for shape \(3,\)$"),
    (lambda: F.cosine_similarity(tg.zeros(3), tg.zeros(2, 3), dim=-3), ValueError,
     r"cosine_similarity: dim -3 is out of range \[-2, 1\] for shape \(2, 3\)$"),
    (lambda: F.cosine_similarity(X23, X23, eps=float("inf")), ValueError,
     r"cosine_similarity: eps must be a finite number >= 0, got inf$"),
    (lambda: nn.CosineSimilarity(dim="1"), TypeError, r"CosineSimilarity: dim must be an int, got '1'$"),
    (lambda: nn.CosineSimilarity(eps=-1.0), ValueError,
     r"CosineSimilarity: eps must be a finite number >= 0"),
    (lambda: nn.CosineSimilarity(dim=2)(X23, X23), ValueError, r"cosine_similarity: dim 2 is out of range"),
    (lambda: F.rms_norm(X23, 2), ValueError,
     r"rms_norm: input of shape \(2, 3\) does not end in normalized_shape "
                                             r"\(2,\)$"),
    (lambda: F.rms_norm(tg.zeros(3), (2, 3)), ValueError,
     r"rms_norm: input of shape \(3,\) does not end in normalized_shape \(2, 3\)$"),
    (lambda: F.rms_norm(X23, ()), ValueError, r"rms_norm: normalized_shape must hold at least one size"),
    (lambda: F.rms_norm(X23, 3.0), TypeError,
     r"rms_norm: normalized_shape must be an int or a tuple of ints"),
    (lambda: F.rms_norm(X23, 3, tg.ones(2)), ValueError,
     r"rms_norm: weight must have shape \(3,\) and the input's dtype float32, got shape \(2,\) and dtype "
     r"float32$"),
    (lambda: F.rms_norm(X23, 3, tg.ones(3, dtype="float64")), ValueError,
     r"rms_norm: weight must have shape \(3,\) and the input's dtype float32, got shape \(3,\) and dtype "
     r"float64$"),
    (lambda: F.rms_norm(X23, 3, np.ones(3)), TypeError,
     r"rms_norm: weight must be a Tensor or None, got ndarray$"),
    (lambda: F.rms_norm(X23, 3, eps=-1.0), ValueError,
     r"rms_norm: eps must be a finite number >= 0, got -1.0$"),
    (lambda: F.rms_norm(X23, 3, eps="small"), TypeError, r"rms_norm: eps must be a number, got 'small'$"),
    (lambda: F.rms_norm(tg.Tensor(np.ones((2, 3), dtype=np.int32)), 3), TypeError,
     r"rms_norm: input must have a floating-point dtype, got int32"),
    (lambda: nn.RMSNorm(0), ValueError, r"RMSNorm: .*every size must be at least 1, got \(0,\)$"),
    (lambda: nn.RMSNorm(3, eps=float("nan")), ValueError,
     r"RMSNorm: eps must be a finite number >= 0, got nan$"),
    (lambda: nn.RMSNorm(3, elementwise_affine=1), TypeError,
     r"RMSNorm: elementwise_affine must be a bool, got 1$"),
    (lambda: nn.RMSNorm(3, dtype=np.int64), TypeError,
     r"RMSNorm: parameters must have a floating-point dtype"),
    (lambda: nn.RMSNorm((2, 3))(tg.zeros(3, 2)), ValueError,
     r"RMSNorm: expected input of shape \(\.\.\., 2, 3\) \(normalized_shape \(2, 3\) in the last axes\), "
     r"got shape \(3, 2\)$"),
    (lambda: nn.RMSNorm(3)(tg.zeros(2, 3, dtype="float64")), ValueError,
     r"RMSNorm: input dtype float64 does not match the parameters' dtype float32"),
    (lambda: nn.RMSNorm(3)(np.zeros((2, 3), dtype=np.int64)), ValueError,
     r"RMSNorm: input must be floating point, got dtype int64 \(shape \(2, 3\)\)"),
])
def test_bad_input_is_refused_naming_the_op(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call()

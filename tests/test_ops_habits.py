"""PyTorch-habit ops: gather, index_select, maximum/minimum, cumsum, repeat, neg, t, mm.

As in ``test_ops.py``: forward against NumPy and backward through ``helpers.check_vjp`` over
drawn shapes (broadcast pairs, size-1 axes, 0-d and empty where torch allows them), values
kept off the ties of maximum/minimum by construction, then torch itself (values and
gradients, ties and repeated indices included) where it is importable, the dtypes, and bad
input refused at the call with the op's name and the shapes.
"""

import numpy as np
import pytest
from helpers import arrays, broadcastable_shapes, check_vjp, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, ops

INDEX_DTYPES = [np.int64, np.int32, np.int16, np.uint8]


def against_torch(ours, theirs, inputs, upstream):
    """``ours`` on Tensors and ``theirs`` on torch tensors of the float64 ``inputs`` (all requiring
    grad), ``upstream`` sent back through both: the values and every gradient must agree (nan
    where torch has nan)."""
    torch = pytest.importorskip("torch")
    mine = [Tensor(x, requires_grad=True) for x in inputs]
    reference = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, expected = ours(*mine), theirs(*reference)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for tensor, theirs_tensor in zip(mine, reference):
        np.testing.assert_allclose(tensor.grad, theirs_tensor.grad.numpy(), rtol=1e-12, atol=1e-12)


def as_index(index: np.ndarray, as_tensor: bool):
    return Tensor(index) if as_tensor else index


# -- maximum, minimum ----------------------------------------------------------------------
EXTREMES = {"maximum": np.maximum, "minimum": np.minimum}


def ladder(offset: float) -> st.SearchStrategy[float]:
    """k + offset + jitter, k an integer in [-3, 3] and jitter in [0, 0.2]: a value drawn with
    offset 0 and one with offset 0.5 differ by at least 0.3, so no pair ties."""
    return st.builds(lambda k, jitter: k + offset + jitter, st.integers(-3, 3), uniform(0.0, 0.2))


@pytest.mark.parametrize("name", EXTREMES)
@given(pair=broadcastable_shapes(), swap=st.booleans(), data=st.data())
def test_maximum_and_minimum_of_broadcast_tensors(name, pair, swap, data):
    left_values, right_values = (ladder(0.5), ladder(0.0)) if swap else (ladder(0.0), ladder(0.5))
    left = data.draw(arrays(pair[0], left_values), label="left")
    right = data.draw(arrays(pair[1], right_values), label="right")
    [module, method] = check_vjp(lambda a, b: [getattr(ops, name)(a, b), getattr(a, name)(b)],
                                 [left, right], data)
    np.testing.assert_array_equal(module.data, EXTREMES[name](left, right))
    np.testing.assert_array_equal(method.data, module.data)


@pytest.mark.parametrize("name", EXTREMES)
@given(pair=broadcastable_shapes(), data=st.data())
def test_maximum_and_minimum_with_an_array_or_a_number(name, pair, data):
    """An array or a Python number as ``other``, as in ``x + 2``: only the tensor gets a gradient."""
    x = data.draw(arrays(pair[0], ladder(0.0)), label="x")
    other = data.draw(arrays(pair[1], ladder(0.5)) | ladder(0.5), label="other")
    [out] = check_vjp(lambda t: getattr(t, name)(other), [x], data)
    np.testing.assert_array_equal(out.data, EXTREMES[name](x, other))


@pytest.mark.parametrize(("name", "grad_x", "grad_y"), [
    # x:  1    2    3   nan  nan   1    inf  -inf  against
    # y:  1    1    4    1   nan  nan   inf  -inf
    ("maximum", [1, 2, 0, 2, 2, 2, 1, 1], [1, 0, 2, 2, 2, 2, 1, 1]),
    ("minimum", [1, 0, 2, 2, 2, 2, 1, 1], [1, 2, 0, 2, 2, 2, 1, 1]),
])
def test_ties_split_the_gradient_in_halves_and_nan_gives_both_sides_all_of_it(name, grad_x, grad_y):
    """torch 2.13's gradient: grad / 2 to each side of a tie (±inf too), 0 to the losing side,
    and all of it to both sides where either is NaN (neither wins, nor ties)."""
    x = Tensor([1.0, 2.0, 3.0, np.nan, np.nan, 1.0, np.inf, -np.inf], dtype="float64", requires_grad=True)
    y = Tensor([1.0, 1.0, 4.0, 1.0, np.nan, np.nan, np.inf, -np.inf], dtype="float64", requires_grad=True)
    out = getattr(x, name)(y)
    out.backward(np.full(8, 2.0))
    np.testing.assert_array_equal(np.isnan(out.data), [False, False, False, True, True, True, False, False])
    np.testing.assert_array_equal(x.grad, grad_x)
    np.testing.assert_array_equal(y.grad, grad_y)


def test_a_tie_with_a_broadcast_side_sums_its_halves():
    x = Tensor([[1.0, 2.0], [1.0, 1.0], [0.0, 0.0]], dtype="float64", requires_grad=True)
    y = Tensor([1.0, 1.0], dtype="float64", requires_grad=True)
    x.maximum(y).backward(np.ones((3, 2)))
    np.testing.assert_array_equal(x.grad, [[0.5, 1.0], [0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_array_equal(y.grad, [2.0, 1.5])


TIE_PRONE = st.sampled_from([-1.0, 0.0, 1.0, np.nan, np.inf])


@pytest.mark.parametrize("name", EXTREMES)
@given(pair=broadcastable_shapes(), data=st.data())
def test_maximum_and_minimum_follow_torch_at_ties_and_nans(name, pair, data):
    left = data.draw(arrays(pair[0], TIE_PRONE), label="left")
    right = data.draw(arrays(pair[1], TIE_PRONE), label="right")
    upstream = data.draw(arrays(np.broadcast_shapes(*pair)), label="upstream")
    against_torch(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), [left, right],
                  upstream)


DTYPE_PAIRS = [("float32", "float32"), ("float16", "float16"), ("int64", "int64"), ("int8", "int64"),
               ("bool", "bool"), ("float32", "float64"), ("uint8", "int8"), ("int64", "float32")]


@pytest.mark.parametrize("name", EXTREMES)
@pytest.mark.parametrize(("left", "right"), DTYPE_PAIRS)
def test_two_tensors_promote_as_in_arithmetic_and_as_torch_but_integers_with_floats(name, left, right):
    """Two tensors of different dtypes promote as in ``x + y`` here (NumPy's rules), which are
    torch's except that torch keeps the float's width next to integers (int64 with float32:
    float32 in torch, float64 here, as for every binary op)."""
    x = np.array([0, 3, 1]).astype(left)
    y = np.array([1, 2, 1]).astype(right)
    out = getattr(Tensor(x), name)(Tensor(y))
    assert out.dtype == (Tensor(x) + Tensor(y)).dtype
    np.testing.assert_array_equal(out.data, EXTREMES[name](x, y))
    torch = pytest.importorskip("torch")
    expected = getattr(torch, name)(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    assert out.dtype == (np.float64 if (left, right) == ("int64", "float32") else expected.dtype)
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("name", EXTREMES)
@pytest.mark.parametrize(("values", "scalar", "dtype"), [
    (np.array([1, 5], dtype=np.int32), 2, np.int32), (np.array([1, 5], dtype=np.int32), 2.5, np.float32),
    (np.array([True, False]), 3, np.int64), (np.array([1.0, 5.0], dtype=np.float32), 2.5, np.float32),
    (np.array([1.0, 5.0], dtype=np.float16), 1e5, np.float16),
])
def test_a_python_scalar_takes_the_dtype_it_takes_in_arithmetic(name, values, scalar, dtype):
    """As ``x + 2`` here (torch.maximum refuses a number; its 0-d tensor of the scalar's kind
    types the same way): an int keeps an integer dtype, a float makes float32 of integers, a
    float tensor keeps its dtype (float16 against 1e5: inf, computed in float32)."""
    out = getattr(Tensor(values), name)(scalar)
    assert out.dtype == dtype
    with np.errstate(over="ignore"):
        expected = EXTREMES[name](values.astype(np.float64), scalar).astype(dtype)
    np.testing.assert_array_equal(out.data, expected)
    torch = pytest.importorskip("torch")
    wrapped = torch.tensor(scalar)  # 0-d, of torch's default dtype for the scalar's kind
    assert str(getattr(torch, name)(torch.from_numpy(values), wrapped).dtype) == f"torch.{np.dtype(dtype)}"


# -- gather ---------------------------------------------------------------------------------
@st.composite
def gather_arguments(draw):
    """(x, dim, index): index with x's number of axes (0-d x: a 0-d or 1-D index; 1-D x: a 1-D
    or 0-d one), at most x's length on the axes other than dim, any length along dim, values in
    [0, x.shape[dim]) from few choices (repeats are common), of several integer dtypes."""
    shape = draw(shapes())
    extent = len(shape) or 1
    dim = draw(st.integers(-extent, extent - 1))
    axis = dim % extent
    work = shape or (1,)
    # Off dim at least 1 where x has any (an empty index is then drawn along dim, 1 in 5 times).
    sizes = [draw(st.integers(0, 4)) if d == axis else draw(st.integers(min(n, 1), n))
             for d, n in enumerate(work)]
    if work[axis] == 0:  # nothing to pick: the index must be empty
        sizes[axis] = 0
    if len(work) == 1 and work[axis] and draw(st.booleans()):
        sizes = []  # a 0-d index, as torch allows next to 0-d and 1-D inputs
    elif not shape and draw(st.booleans()):
        sizes = [draw(st.integers(0, 3))]
    values = st.integers(0, work[axis] - 1) if work[axis] else st.just(0)
    index = draw(hnp.arrays(draw(st.sampled_from(INDEX_DTYPES)), tuple(sizes), elements=values))
    return draw(arrays(shape)), dim, index


def numpy_gather(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """torch.gather through np.take_along_axis on x cut to the index's length off dim."""
    work, positions = x.reshape(x.shape or (1,)), index.reshape(index.shape or (1,))
    axis = dim % work.ndim
    cut = work[tuple(slice(None) if d == axis else slice(n) for d, n in enumerate(positions.shape))]
    return np.take_along_axis(cut, positions.astype(np.intp), axis).reshape(index.shape)


@given(arguments=gather_arguments(), as_tensor=st.booleans(), data=st.data())
def test_gather_picks_along_dim_and_scatter_adds_the_gradient(arguments, as_tensor, data):
    x, dim, index = arguments
    [module, method] = check_vjp(lambda t: [ops.gather(t, dim, as_index(index, as_tensor)),
                                            t.gather(dim, as_index(index, as_tensor))], [x], data)
    assert module.shape == index.shape
    np.testing.assert_array_equal(module.data, numpy_gather(x, dim, index))
    np.testing.assert_array_equal(method.data, module.data)


@given(arguments=gather_arguments(), data=st.data())
def test_gather_follows_torch_with_repeated_indices(arguments, data):
    torch = pytest.importorskip("torch")
    x, dim, index = arguments
    if index.size:
        index = index.copy()
        index.flat[-1] = index.flat[0]  # a repeat by construction (with a single value: itself)
    upstream = data.draw(arrays(index.shape), label="upstream")
    against_torch(lambda t: t.gather(dim, index),
                  lambda t: torch.gather(t, dim, torch.from_numpy(index.astype(np.int64))), [x], upstream)


def test_gathering_one_entry_many_times_adds_all_its_gradients():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    out = x.gather(0, np.array([[1, 0], [1, 0], [1, 1]]))
    out.backward(np.array([[1.0, 10.0], [100.0, 1000.0], [1e4, 1e5]]))
    np.testing.assert_array_equal(out.data, [[3.0, 2.0], [3.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x.grad, [[0.0, 1010.0], [10101.0, 1e5]])


@pytest.mark.parametrize(("shape", "dim", "index_shape"), [((2, 3), 1, (5, 0)), ((2, 0), 1, (2, 0)),
                                                           ((0, 3), 1, (0, 7))])
def test_an_empty_index_gathers_nothing_whatever_its_other_lengths_as_torch(shape, dim, index_shape):
    """torch checks neither the lengths nor the values of an empty index."""
    index = np.zeros(index_shape, dtype=np.int64)
    x = Tensor(np.ones(shape), requires_grad=True)
    out = x.gather(dim, index)
    out.backward(np.ones(index_shape))
    assert out.shape == index_shape
    np.testing.assert_array_equal(x.grad, np.zeros(shape))
    torch = pytest.importorskip("torch")
    assert tuple(torch.gather(torch.ones(shape), dim, torch.from_numpy(index)).shape) == index_shape


# -- index_select ---------------------------------------------------------------------------
@st.composite
def index_select_arguments(draw):
    """(x, dim, index): a 1-D index (0-d too) of values in [0, x.shape[dim]), repeats common; a
    0-d x takes one index, 0, as a 0-d or (1,) array."""
    shape = draw(shapes())
    extent = len(shape) or 1
    dim = draw(st.integers(-extent, extent - 1))
    length = shape[dim] if shape else 1
    if not shape:
        sizes = draw(st.sampled_from([(), (1,)]))
    elif length:
        sizes = draw(st.just(()) | st.tuples(st.integers(0, 5)))
    else:  # nothing to select: only an empty index (a 0-d one holds a value)
        sizes = (0,)
    values = st.integers(0, length - 1) if length else st.just(0)
    index = draw(hnp.arrays(draw(st.sampled_from(INDEX_DTYPES)), sizes, elements=values))
    return draw(arrays(shape)), dim, index


@given(arguments=index_select_arguments(), as_tensor=st.booleans(), data=st.data())
def test_index_select_takes_slices_along_dim_and_scatter_adds_the_gradient(arguments, as_tensor, data):
    x, dim, index = arguments
    [module, method] = check_vjp(lambda t: [ops.index_select(t, dim, as_index(index, as_tensor)),
                                            t.index_select(dim, as_index(index, as_tensor))], [x], data)
    expected = x if not x.ndim else np.take(x, index.reshape(-1).astype(np.intp), axis=dim)
    assert module.shape == expected.shape
    np.testing.assert_array_equal(module.data, expected)
    np.testing.assert_array_equal(method.data, module.data)


@given(arguments=index_select_arguments(), data=st.data())
def test_index_select_follows_torch_with_repeated_indices(arguments, data):
    torch = pytest.importorskip("torch")
    x, dim, index = arguments
    if index.ndim and x.ndim and index.size:
        index = np.append(index, index[0])  # a repeat by construction
    expected_shape = torch.index_select(torch.tensor(x), dim, torch.from_numpy(index.astype(np.int64))).shape
    upstream = data.draw(arrays(tuple(expected_shape)), label="upstream")
    against_torch(lambda t: t.index_select(dim, index),
                  lambda t: torch.index_select(t, dim, torch.from_numpy(index.astype(np.int64))),
                  [x], upstream)


def test_index_select_adds_the_gradients_of_repeated_rows():
    x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype="float64", requires_grad=True)
    out = x.index_select(0, np.array([2, 0, 2]))
    out.backward(np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]]))
    np.testing.assert_array_equal(out.data, [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]])
    np.testing.assert_array_equal(x.grad, [[10.0, 20.0], [0.0, 0.0], [101.0, 202.0]])


# -- cumsum ---------------------------------------------------------------------------------
@given(shape=shapes(), data=st.data())
def test_cumsum_along_any_dim_and_its_reversed_running_sum_gradient(shape, data):
    extent = len(shape) or 1
    dim = data.draw(st.integers(-extent, extent - 1), label="dim")
    x = data.draw(arrays(shape), label="x")
    [module, method] = check_vjp(lambda t: [ops.cumsum(t, dim), t.cumsum(dim)], [x], data)
    expected = x if not shape else np.cumsum(x, axis=dim)
    np.testing.assert_allclose(module.data, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(method.data, module.data)
    upstream = data.draw(arrays(shape), label="upstream")
    against_torch(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), [x], upstream)


CUMSUM_DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("dtype", CUMSUM_DTYPES)
def test_cumsum_dtypes_follow_torch(dtype):
    """Bool and integers count in int64 (NumPy: int8 stays int8 and wraps at 127)."""
    torch = pytest.importorskip("torch")
    values = np.array([[1, 0, 1], [1, 1, 1]] * 50).astype(dtype)
    out = Tensor(values).cumsum(0)
    expected = torch.from_numpy(values).cumsum(0).numpy()
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)


def test_cumsum_of_float16_accumulates_in_float32_as_torch():
    """5000 halves of 0.1: a float16 running sum stalls at 256; torch's (in float32) reaches
    500; 70000 ones pass float16's range, to inf."""
    assert Tensor(np.full(5000, 0.1, dtype=np.float16)).cumsum(0).data[-1] == 500.0
    with np.errstate(over="raise"):
        assert Tensor(np.ones(70000, dtype=np.float16)).cumsum(-1).data[-1] == np.inf
    x = Tensor(np.full(5000, 0.1, dtype=np.float16), requires_grad=True)
    x.cumsum(0).backward(np.full(5000, 0.1, dtype=np.float16))
    assert x.grad.dtype == np.float16 and x.grad[0] == 500.0
    torch = pytest.importorskip("torch")
    assert torch.full((5000,), 0.1, dtype=torch.float16).cumsum(0)[-1].item() == 500.0


def test_cumsum_of_a_non_finite_gradient_spreads_it_backward_as_torch():
    x = Tensor([1.0, np.inf, 2.0], dtype="float64", requires_grad=True)
    x.cumsum(0).backward(np.array([1.0, np.nan, 1.0]))
    np.testing.assert_array_equal(x.grad, [np.nan, np.nan, 1.0])


# -- repeat ---------------------------------------------------------------------------------
@st.composite
def repeat_arguments(draw):
    """(shape, sizes): one size in [0, 3] per axis, up to two leading ones for new axes."""
    shape = draw(shapes())
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    return shape, (*lead, *(draw(st.integers(0, 3)) for _ in shape))


@given(arguments=repeat_arguments(), spelling=st.sampled_from(["ints", "tuple", "list"]), data=st.data())
def test_repeat_tiles_like_numpy_and_sums_the_tiles_gradients(arguments, spelling, data):
    shape, sizes = arguments
    if not sizes and spelling == "ints":
        spelling = "tuple"  # repeat() with nothing at all is refused, as torch refuses it
    x = data.draw(arrays(shape), label="x")
    call = {"ints": lambda t: t.repeat(*sizes), "tuple": lambda t: t.repeat(sizes),
            "list": lambda t: ops.repeat(t, list(sizes))}[spelling]
    [out] = check_vjp(call, [x], data)
    np.testing.assert_array_equal(out.data, np.tile(x, sizes))
    assert not np.shares_memory(out.data, x)
    upstream = data.draw(arrays(out.shape), label="upstream")
    against_torch(call, lambda t: t.repeat(sizes), [x], upstream)


def test_repeat_sums_each_elements_copies():
    x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    out = x.repeat(2, 2)
    out.backward(np.array([[1.0, 10.0, 100.0, 1000.0], [1e4, 1e5, 1e6, 1e7]]))
    np.testing.assert_array_equal(out.data, [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]])
    np.testing.assert_array_equal(x.grad, [1010101.0, 10101010.0])


# -- neg, t, mm -----------------------------------------------------------------------------
@given(x=arrays(shapes()), data=st.data())
def test_neg_method(x, data):
    [out] = check_vjp(lambda t: t.neg(), [x], data)
    np.testing.assert_array_equal(out.data, -x)


@given(x=arrays(shapes(max_dims=2)), data=st.data())
def test_t_transposes_a_matrix_and_returns_vectors_and_scalars_as_they_are(x, data):
    [module, method] = check_vjp(lambda t: [ops.t(t), t.t()], [x], data)
    np.testing.assert_array_equal(module.data, x.T)
    np.testing.assert_array_equal(method.data, x.T)
    assert method.shape == (x.shape[::-1])
    upstream = data.draw(arrays(x.shape[::-1]), label="upstream")
    against_torch(lambda t: t.t(), lambda t: t.t(), [x], upstream)


@given(n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4), data=st.data())
def test_mm_multiplies_two_matrices(n, k, m, data):
    left, right = data.draw(arrays((n, k)), label="left"), data.draw(arrays((k, m)), label="right")
    [module, method] = check_vjp(lambda a, b: [ops.mm(a, b), a.mm(b)], [left, right], data)
    np.testing.assert_allclose(module.data, left @ right, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(method.data, module.data)
    [constant] = check_vjp(lambda a: a.mm(right), [left], data)
    np.testing.assert_array_equal(constant.data, module.data)
    upstream = data.draw(arrays((n, m)), label="upstream")
    against_torch(lambda a, b: a.mm(b), lambda a, b: a.mm(b), [left, right], upstream)


# -- dtypes -------------------------------------------------------------------------------
FLOAT32_CALLS = {
    "gather": lambda t: t.gather(1, np.array([[0, 0], [2, 1]])),
    "index_select": lambda t: t.index_select(1, np.array([2, 2, 0])),
    "maximum": lambda t: t.maximum(Tensor(np.full((2, 3), 0.25, dtype=np.float32))),
    "maximum with a number": lambda t: t.maximum(0.25),
    "minimum with an array": lambda t: t.minimum(np.full(3, 0.25, dtype=np.float32)),
    "cumsum": lambda t: t.cumsum(-1),
    "repeat": lambda t: t.repeat(2, 1, 2),
    "neg": lambda t: t.neg(),
    "t": lambda t: t.t(),
    "mm": lambda t: t.mm(Tensor(np.ones((3, 2), dtype=np.float32))),
}


@pytest.mark.parametrize("name", FLOAT32_CALLS)
def test_float32_stays_float32_forward_and_backward(name):
    call = FLOAT32_CALLS[name]
    values = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -0.75]])
    x = Tensor(values.astype(np.float32), requires_grad=True)
    out = call(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32
    wide = Tensor(values, requires_grad=True)
    call(wide).backward(np.ones(out.shape))
    np.testing.assert_allclose(out.data, call(Tensor(values)).data, rtol=1e-6)
    np.testing.assert_allclose(x.grad, wide.grad, rtol=1e-6)


@pytest.mark.parametrize("name", ["gather", "index_select", "repeat", "t"])
@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_selections_keep_a_bool_or_integer_dtype(name, dtype):
    x = Tensor(np.array([[1, 0, 1], [0, 0, 1]]).astype(dtype))
    out = FLOAT32_CALLS[name](x)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.data, FLOAT32_CALLS[name](Tensor(x.data.astype(np.float64))).data)


# -- bad input ------------------------------------------------------------------------------
def _tensor(shape):
    return Tensor(np.zeros(shape))


def _long(values):
    return np.array(values, dtype=np.int64)


# name -> (our call, torch's call of the same, our error and message; torch refuses them all)
MISUSE = {
    "gather: index too large": (
        lambda: _tensor((2, 3)).gather(1, _long([[0], [3]])),
        lambda torch: torch.zeros(2, 3).gather(1, torch.tensor([[0], [3]])),
        ValueError, r"gather: index values must lie in \[0, 3\) along dim 1 of the input of shape \(2, 3\), "
                    r"got 3 \(index of shape \(2, 1\)\)"),
    "gather: negative index": (
        lambda: _tensor((2, 3)).gather(0, _long([[1, -1, 0]])),
        lambda torch: torch.zeros(2, 3).gather(0, torch.tensor([[1, -1, 0]])),
        ValueError, r"gather: index values must lie in \[0, 2\) along dim 0 of the input of shape \(2, 3\), "
                    r"got -1"),
    "gather: float index": (
        lambda: _tensor((2, 3)).gather(1, np.array([[0.0], [1.0]])),
        lambda torch: torch.zeros(2, 3).gather(1, torch.tensor([[0.0], [1.0]])),
        TypeError, r"gather: index must hold integers, got dtype float64 \(index of shape \(2, 1\), input of "
                   r"shape \(2, 3\)\)"),
    "gather: float32 Tensor index": (
        lambda: _tensor((2, 3)).gather(1, Tensor([[0], [1]])),
        lambda torch: torch.zeros(2, 3).gather(1, torch.tensor([[0.0], [1.0]])),
        TypeError, r"gather: index must hold integers, got dtype float32"),
    "gather: bool index": (
        lambda: _tensor((2,)).gather(0, np.array([True])),
        lambda torch: torch.zeros(2).gather(0, torch.tensor([True])),
        TypeError, r"gather: index must hold integers, got dtype bool"),
    "gather: list index": (
        lambda: _tensor((2,)).gather(0, [0, 1]),
        lambda torch: torch.zeros(2).gather(0, [0, 1]),
        TypeError, r"gather: index must be an integer Tensor or array, got list \(input of shape \(2,\)\)"),
    "gather: fewer index dims": (
        lambda: _tensor((2, 3)).gather(1, _long([0, 1])),
        lambda torch: torch.zeros(2, 3).gather(1, torch.tensor([0, 1])),
        ValueError, r"gather: index must have as many dimensions as input, got index of shape \(2,\) for "
                    r"input of shape \(2, 3\)"),
    "gather: index longer off dim": (
        lambda: _tensor((2, 3)).gather(1, _long([[0], [0], [0]])),
        lambda torch: torch.zeros(2, 3).gather(1, torch.zeros(3, 1, dtype=torch.long)),
        ValueError, r"gather: index of shape \(3, 1\) is longer than the input of shape \(2, 3\) along a dim "
                    r"other than 1"),
    "gather: dim out of range": (
        lambda: _tensor((2, 3)).gather(2, _long([[0]])),
        lambda torch: torch.zeros(2, 3).gather(2, torch.tensor([[0]])),
        ValueError, r"gather: dim 2 is out of range \[-2, 1\] for a tensor of shape \(2, 3\)"),
    "gather: dim 1 of a 0-d tensor": (
        lambda: _tensor(()).gather(1, _long(0)),
        lambda torch: torch.tensor(0.0).gather(1, torch.tensor(0)),
        ValueError, r"gather: dim 1 is out of range \[-1, 0\] for a tensor of shape \(\)"),
    "gather: float dim": (
        lambda: _tensor((2, 3)).gather(1.0, _long([[0]])),
        lambda torch: torch.zeros(2, 3).gather(1.0, torch.tensor([[0]])),
        TypeError, r"gather: dim must be an int, got 1.0"),
    "index_select: 2-D index": (
        lambda: _tensor((2, 3)).index_select(1, _long([[0]])),
        lambda torch: torch.zeros(2, 3).index_select(1, torch.tensor([[0]])),
        ValueError, r"index_select: index must be 1-D or 0-d, got shape \(1, 1\) \(input of shape "
                    r"\(2, 3\)\)"),
    "index_select: index too large": (
        lambda: _tensor((2, 3)).index_select(0, _long([0, 2])),
        lambda torch: torch.zeros(2, 3).index_select(0, torch.tensor([0, 2])),
        ValueError, r"index_select: index values must lie in \[0, 2\) along dim 0 of the input of shape "
                    r"\(2, 3\), got 2 \(index of shape \(2,\)\)"),
    "index_select: negative index": (
        lambda: _tensor((2, 3)).index_select(1, _long([-1])),
        lambda torch: torch.zeros(2, 3).index_select(1, torch.tensor([-1])),
        ValueError, r"index_select: index values must lie in \[0, 3\) .* got -1"),
    "index_select: an empty axis": (
        lambda: _tensor((2, 0)).index_select(1, _long([0])),
        lambda torch: torch.zeros(2, 0).index_select(1, torch.tensor([0])),
        ValueError, r"index_select: index values must lie in \[0, 0\) along dim 1"),
    "index_select: float index": (
        lambda: _tensor((3,)).index_select(0, np.array([1.0])),
        lambda torch: torch.zeros(3).index_select(0, torch.tensor([1.0])),
        TypeError, r"index_select: index must hold integers, got dtype float64"),
    "index_select: int index": (
        lambda: _tensor((3,)).index_select(0, 1),
        lambda torch: torch.zeros(3).index_select(0, 1),
        TypeError, r"index_select: index must be an integer Tensor or array, got int"),
    "index_select: two indices for a 0-d input": (
        lambda: _tensor(()).index_select(0, _long([0, 0])),
        lambda torch: torch.tensor(0.0).index_select(0, torch.tensor([0, 0])),
        ValueError, r"index_select: a 0-d input takes exactly one index, got index of shape \(2,\)"),
    "index_select: no index for a 0-d input": (
        lambda: _tensor(()).index_select(0, _long([])),
        lambda torch: torch.tensor(0.0).index_select(0, torch.tensor([], dtype=torch.long)),
        ValueError, r"index_select: a 0-d input takes exactly one index, got index of shape \(0,\)"),
    "index_select: dim out of range": (
        lambda: _tensor((3,)).index_select(-2, _long([0])),
        lambda torch: torch.zeros(3).index_select(-2, torch.tensor([0])),
        ValueError, r"index_select: dim -2 is out of range \[-1, 0\] for a tensor of shape \(3,\)"),
    "maximum: shapes that do not broadcast": (
        lambda: _tensor((2, 3)).maximum(_tensor((4,))),
        lambda torch: torch.maximum(torch.zeros(2, 3), torch.zeros(4)),
        ValueError, r"maximum: shapes \(2, 3\) and \(4,\) cannot be broadcast together"),
    "minimum: a string": (
        lambda: ops.minimum(_tensor((2,)), "a"),
        lambda torch: torch.minimum(torch.zeros(2), "a"),
        TypeError, r"minimum: unsupported operand of type str with a Tensor of shape \(2,\) and dtype "
                   r"float64"),
    "maximum: an array first": (
        lambda: ops.maximum(np.zeros(2), _tensor((2,))),
        lambda torch: torch.maximum(np.zeros(2), torch.zeros(2)),
        TypeError, r"maximum: expected a Tensor as the first argument, got ndarray of shape \(2,\) and dtype "
                   r"float64"),
    "cumsum: no dim": (
        lambda: _tensor((2,)).cumsum(),
        lambda torch: torch.zeros(2).cumsum(),
        TypeError, r"cumsum\(\) missing 1 required positional argument: 'dim'"),
    "cumsum: dim None": (
        lambda: _tensor((2,)).cumsum(None),
        lambda torch: torch.zeros(2).cumsum(None),
        TypeError, r"cumsum: dim must be an int, got None \(tensor of shape \(2,\)\)"),
    "cumsum: dim 1 of a 0-d tensor": (
        lambda: _tensor(()).cumsum(1),
        lambda torch: torch.tensor(0.0).cumsum(1),
        ValueError, r"cumsum: dim 1 is out of range \[-1, 0\] for a tensor of shape \(\)"),
    "cumsum: dim out of range": (
        lambda: _tensor((2, 3)).cumsum(-3),
        lambda torch: torch.zeros(2, 3).cumsum(-3),
        ValueError, r"cumsum: dim -3 is out of range \[-2, 1\] for a tensor of shape \(2, 3\)"),
    "repeat: fewer sizes than axes": (
        lambda: _tensor((2, 3)).repeat(2),
        lambda torch: torch.zeros(2, 3).repeat(2),
        ValueError, r"repeat: 1 sizes \(2,\) for a tensor of shape \(2, 3\): give at least one per "
                    r"axis \(2\)"),
    "repeat: a negative size": (
        lambda: _tensor((3,)).repeat(2, -1),
        lambda torch: torch.zeros(3).repeat(2, -1),
        ValueError, r"repeat: sizes must not be negative, got \(2, -1\) \(tensor of shape \(3,\)\)"),
    "repeat: a float size": (
        lambda: _tensor((3,)).repeat(2.0),
        lambda torch: torch.zeros(3).repeat(2.0),
        TypeError, r"repeat: sizes must be ints, got \(2.0,\) \(tensor of shape \(3,\)\)"),
    "repeat: a bool size": (
        lambda: _tensor((3,)).repeat(True),
        lambda torch: torch.zeros(3).repeat(True),
        TypeError, r"repeat: sizes must be ints, got \(True,\)"),
    "repeat: a tuple among ints": (
        lambda: _tensor((3,)).repeat((2,), 2),
        lambda torch: torch.zeros(3).repeat((2,), 2),
        TypeError, r"repeat: sizes must be ints, got \(\(2,\), 2\)"),
    "repeat: no sizes": (
        lambda: _tensor(()).repeat(),
        lambda torch: torch.tensor(0.0).repeat(),
        TypeError, r"repeat: give the number of repeats along each axis, none given \(tensor of "
                   r"shape \(\)\)"),
    "t: three axes": (
        lambda: _tensor((2, 3, 4)).t(),
        lambda torch: torch.zeros(2, 3, 4).t(),
        ValueError, r"t: expects a tensor with at most 2 dimensions, got shape \(2, 3, 4\); use transpose or "
                    r"permute"),
    "mm: a vector on the right": (
        lambda: _tensor((2, 3)).mm(_tensor((3,))),
        lambda torch: torch.zeros(2, 3).mm(torch.zeros(3)),
        ValueError, r"mm: both operands must be 2-D matrices, got shapes \(2, 3\) and \(3,\); matmul takes"),
    "mm: a batch on the left": (
        lambda: _tensor((2, 2, 3)).mm(_tensor((3, 2))),
        lambda torch: torch.zeros(2, 2, 3).mm(torch.zeros(3, 2)),
        ValueError, r"mm: both operands must be 2-D matrices, got shapes \(2, 2, 3\) and \(3, 2\)"),
    "mm: a number": (
        lambda: _tensor((2, 3)).mm(2.0),
        lambda torch: torch.zeros(2, 3).mm(2.0),
        ValueError, r"mm: both operands must be 2-D matrices, got shapes \(2, 3\) and \(\)"),
    "mm: inner dimensions": (
        lambda: _tensor((2, 3)).mm(_tensor((4, 4))),
        lambda torch: torch.zeros(2, 3).mm(torch.zeros(4, 4)),
        ValueError, r"mm: shapes \(2, 3\) and \(4, 4\) cannot be multiplied: inner dimensions differ "
                    r"\(3 != 4\)"),
    "mm: a string": (
        lambda: _tensor((2, 3)).mm("a"),
        lambda torch: torch.zeros(2, 3).mm("a"),
        TypeError, r"mm: unsupported operand of type str"),
}


@pytest.mark.parametrize("case", MISUSE)
def test_bad_input_is_refused_at_the_call_naming_the_op_and_the_shapes(case):
    ours, theirs, error, message = MISUSE[case]
    with pytest.raises(error, match=f"^{message}"):
        ours()
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, TypeError, IndexError, ValueError)):  # torch's types are its own
        theirs(torch)


def test_the_new_ops_are_tensor_methods_and_module_functions():
    for name in ("gather", "index_select", "maximum", "minimum", "cumsum", "repeat", "neg", "t", "mm"):
        assert getattr(Tensor, name) is getattr(ops, name).__wrapped__, name
        if name != "repeat":  # a method only in torch, as here
            assert getattr(tg, name) is getattr(ops, name) and name in tg.__all__, name
    assert tg.Tensor.neg is tg.Tensor.__neg__

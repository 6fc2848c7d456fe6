"""PyTorch's spellings on the Tensor and at the top level, with PyTorch's semantics.

``size()``/``size(dim)`` and ``dim()``; ``to``/``long``/``int``/``bool``/``half``/``cpu``;
``grad_fn``; ``retain_grad`` (checked against the gradient of the same loss taken from a
leaf copy of the tensor, an independent path through the engine); ``tensor``, ``full``,
``arange``, ``zeros_like``, ``ones_like`` and ``from_numpy``; and ``tg.tanh(x)``-style
functions. Where PyTorch is installed, dtypes and values are compared with it.
"""

import math

import numpy as np
import pytest
from helpers import arrays, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, nn


# -- size, dim ----------------------------------------------------------------------------
@given(shapes())
def test_size_is_numpys_count_and_pytorchs_shape_when_called(shape):
    x = tg.zeros(shape)
    assert x.size == int(np.prod(shape)) == x.numel()
    assert x.size() == shape
    assert x.dim() == len(shape)
    for axis in range(-len(shape), len(shape)):
        assert x.size(axis) == shape[axis]
    with pytest.raises(IndexError, match=rf"size: .*{len(shape)}"):
        x.size(len(shape))
    with pytest.raises(IndexError, match="size:"):
        x.size(-len(shape) - 1)


def test_size_refuses_a_non_integer_dim():
    with pytest.raises(TypeError, match="size: dim must be an int, got 0.5"):
        tg.zeros(2, 3).size(0.5)


# -- to and the dtype spellings ------------------------------------------------------------
def test_to_a_float_dtype_keeps_the_graph_and_casts_the_gradient_back():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])


@pytest.mark.parametrize(("spelling", "dtype"), [("long", np.int64), ("int", np.int32), ("bool", np.bool_),
                                                 ("half", np.float16), ("double", np.float64)])
def test_dtype_spellings(spelling, dtype):
    x = Tensor([-1.5, 0.0, 2.7], requires_grad=True)
    y = getattr(x, spelling)()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, x.data.astype(dtype))
    assert y.requires_grad == (np.dtype(dtype).kind == "f")  # an integer cast leaves the graph


def test_to_takes_pytorchs_argument_forms():
    x = Tensor([1.0, 2.0])
    other = tg.zeros(1, dtype=np.float64)
    assert x.to(x.dtype) is x and x.to("cpu") is x and x.to(device="cpu:0") is x
    assert x.to(other).dtype == np.float64
    assert x.to("cpu", np.float64).dtype == np.float64
    assert x.to(dtype=np.int64).dtype == np.int64
    copied = x.to(np.float32, copy=True)
    assert copied is not x and not np.shares_memory(copied.data, x.data)
    np.testing.assert_array_equal(copied.data, x.data)
    assert x.cpu() is x


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    (("cuda",), {}, ValueError, "to: this library runs on the CPU only, got device 'cuda'"),
    ((), {"device": 0}, ValueError, "to: this library runs on the CPU only, got device 0"),
    (("nonsense",), {}, TypeError, "to: 'nonsense' is not a dtype"),
    ((np.complex64,), {}, TypeError, r"to: unsupported dtype complex64 \(tensor of shape \(2,\)"),
    ((np.float64, np.float32), {}, TypeError, "to: got two dtypes or devices"),
    ((np.float64,), {"copy": "yes"}, TypeError, "to: copy must be True or False"),
])
def test_to_refuses_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Tensor([1.0, 2.0]).to(*args, **kwargs)


def test_module_to_takes_pytorchs_argument_forms():
    layer = nn.Linear(2, 3)
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    assert layer.to(tg.zeros(1, dtype=np.float64)).weight.dtype == np.float64
    assert layer.to(device="cpu", dtype=np.float32).weight.dtype == np.float32
    with pytest.raises(ValueError, match="Linear.to: this library runs on the CPU only"):
        layer.to("cuda")
    with pytest.raises(TypeError, match="Linear.to: parameters must have a floating-point dtype"):
        layer.to(np.int64)


# -- grad_fn ---------------------------------------------------------------------------------
def test_grad_fn_names_the_op_and_is_none_for_leaves():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.grad_fn is None and Tensor([1.0]).grad_fn is None
    assert (x * 2).grad_fn.name() == "mul" and repr(x.tanh().grad_fn) == "<tanh>"
    assert x[0].grad_fn.name() == "getitem"  # a view is not a leaf
    assert (Tensor([1.0]) * 2).grad_fn is None  # nothing requires grad: no graph
    with tg.no_grad():
        assert (x * 2).grad_fn is None


# -- retain_grad -------------------------------------------------------------------------------
def _gradient_from_a_leaf(value: np.ndarray, rest) -> np.ndarray:
    """d rest(h)/dh at h = value, with h a fresh leaf: an independent way to the same number."""
    leaf = Tensor(value, requires_grad=True)
    rest(leaf).backward()
    return leaf.grad


@given(st.data(), shapes(min_dims=1, min_side=1))
def test_retained_gradient_is_the_gradient_of_the_loss_at_that_tensor(data, shape):
    x = Tensor(data.draw(arrays(shape, uniform(-2, 2))), requires_grad=True)
    weight = Tensor(data.draw(arrays(shape, uniform(-2, 2))))

    def rest(h):
        return ((h * weight).tanh() * h).sum()

    hidden = (x * 3.0).sigmoid()
    hidden.retain_grad()
    assert hidden.retains_grad and hidden.grad is None
    rest(hidden).backward()
    np.testing.assert_allclose(hidden.grad, _gradient_from_a_leaf(hidden.data, rest), rtol=1e-6, atol=1e-12)
    assert hidden.grad.shape == hidden.shape and hidden.grad.dtype == hidden.dtype
    assert not np.shares_memory(hidden.grad, x.grad)


def test_retained_gradients_of_a_recurrent_loop_are_dl_dh_at_every_step():
    tg.manual_seed(0)
    cell = nn.RNNCell(3, 4).double()
    inputs = tg.randn(5, 2, 3, dtype=np.float64)

    def run(h, start):
        states = [h]
        for t in range(start, len(inputs)):
            states.append(cell(inputs[t], states[-1]))
        return states

    states = run(tg.zeros(2, 4, dtype=np.float64), 0)
    for state in states[1:]:
        state.retain_grad()
    loss = states[-1].tanh().sum() + (states[2] ** 2).sum()
    loss.backward()
    for t in range(1, len(states)):  # states[t] is h after step t-1
        def rest(h, t=t):
            tail = run(h, t)
            full = [state.detach() for state in states[:t]] + tail  # constants before step t
            return full[-1].tanh().sum() + (full[2] ** 2).sum()
        np.testing.assert_allclose(states[t].grad, _gradient_from_a_leaf(states[t].data, rest), rtol=1e-10)


def test_retained_gradients_add_up_across_passes_and_clear_like_a_leafs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    (h * 3.0).sum().backward(retain_graph=True)
    (h * 5.0).sum().backward()
    np.testing.assert_array_equal(h.grad, [8.0, 8.0])
    np.testing.assert_array_equal(x.grad, [16.0, 32.0])
    h.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(h.grad, [0.0, 0.0])
    h.zero_grad()
    assert h.grad is None


def test_retained_gradients_never_share_memory():
    x = Tensor([1.0, 2.0], requires_grad=True)
    left, right = x * 2, x * 3
    left.retain_grad()
    right.retain_grad()
    total = left + right  # its backward hands the same array to both
    total.retain_grad()
    seed = np.array([1.0, -1.0], dtype=np.float32)
    total.backward(seed)
    grads = [left.grad, right.grad, total.grad, x.grad]
    np.testing.assert_array_equal(left.grad, seed)
    assert not any(np.shares_memory(a, b) for i, a in enumerate(grads) for b in grads[i + 1:] + [seed])


def test_retained_gradient_of_the_output_itself_is_the_seed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 2).sum()
    loss.retain_grad()
    loss.backward()
    assert loss.grad == 1.0


def test_without_retain_grad_an_interior_gradient_is_dropped():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None and not h.retains_grad


def test_retain_grad_on_a_leaf_is_a_no_op_and_refused_without_grad_or_on_a_view():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.retain_grad()
    assert not x.retains_grad  # as PyTorch: a leaf keeps its gradient anyway
    with pytest.raises(ValueError, match=r"retain_grad: this tensor \(shape \(2,\)\) does not require grad"):
        Tensor([1.0, 2.0]).retain_grad()
    with pytest.raises(ValueError, match=r"retain_grad: this tensor \(shape \(\)\) is a slice view"):
        (x * 2)[0].retain_grad()


# -- constructors with PyTorch's names ---------------------------------------------------------------
TENSOR_DATA = [1, 2.5, True, [1, 2], [1.0, 2], [True, False], [[1, 2], [3, 4]], [True, 2], [], 2**40]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_infers_pytorchs_dtype_from_python_data(data):
    expected = {"b": np.bool_, "i": np.int64, "f": np.float32}[np.array(data).dtype.kind]
    out = tg.tensor(data)
    assert out.dtype == expected
    np.testing.assert_array_equal(out.data, np.array(data, dtype=expected))
    torch = pytest.importorskip("torch")
    assert str(torch.tensor(data).dtype).removeprefix("torch.") == np.dtype(expected).name


def test_tensor_keeps_array_dtypes_copies_and_takes_dtype_and_requires_grad():
    source = np.arange(3.0)
    out = tg.tensor(source, requires_grad=True)
    assert out.dtype == np.float64 and out.requires_grad and not np.shares_memory(out.data, source)
    assert tg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert tg.tensor(out).dtype == np.float64 and not tg.tensor(out).requires_grad
    assert tg.tensor.Tensor is Tensor  # the module is still the module
    with pytest.raises(TypeError, match="tensor: only floating-point tensors can require gradients"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="tensor: unsupported data str"):
        tg.tensor("ab")
    with pytest.raises(TypeError, match="tensor: unsupported dtype complex128"):
        tg.tensor(np.ones(2, dtype=complex))


@pytest.mark.parametrize(("fill", "dtype"), [(3, np.int64), (0.5, np.float32), (True, np.bool_)])
def test_full_takes_its_dtype_from_the_value(fill, dtype):
    out = tg.full((2, 3), fill)
    assert out.shape == (2, 3) and out.dtype == dtype and (out.data == fill).all()
    assert tg.full([2], fill, dtype=np.float64).dtype == np.float64
    torch = pytest.importorskip("torch")
    assert str(torch.full((2, 3), fill).dtype).removeprefix("torch.") == np.dtype(dtype).name


def test_full_refuses_bad_arguments():
    with pytest.raises(TypeError, match="full: size must be a tuple or list of ints, got int"):
        tg.full(3, 1.0)
    with pytest.raises(ValueError, match="full: shape must be non-negative integers"):
        tg.full((2, -1), 1.0)
    with pytest.raises(TypeError, match="full: expected real numbers, got str"):
        tg.full((2,), "a")
    with pytest.raises(TypeError, match="full: only floating-point tensors can require gradients"):
        tg.full((2,), 1, requires_grad=True)


ARANGE_CALLS = [(5,), (1, 5), (0, 1, 0.25), (5, 0, -2), (0, 0), (-3, 3.5), (0.1, 1.0, 0.3), (10, 0, -0.7)]


@pytest.mark.parametrize("args", ARANGE_CALLS, ids=repr)
def test_arange_matches_pytorch(args):
    out = tg.arange(*args)
    start, end, step = (0, *args, 1)[-3:] if len(args) == 1 else (*args, 1)[:3]
    integral = all(isinstance(value, int) for value in (start, end, step))
    assert out.dtype == (np.int64 if integral else np.float32)
    expected = [start + i * step for i in range(max(0, math.ceil((end - start) / step)))]
    np.testing.assert_allclose(out.data, np.array(expected, dtype=np.float64), rtol=1e-6)
    torch = pytest.importorskip("torch")
    reference = torch.arange(*args)
    assert str(reference.dtype).removeprefix("torch.") == out.dtype.name
    np.testing.assert_array_equal(out.data, reference.numpy())


@pytest.mark.parametrize(("args", "error", "message"), [
    ((0, 5, 0), ValueError, "arange: step must be non-zero"),
    ((5, 0), ValueError, "arange: step 1 cannot go from 5 to 0"),
    ((0, float("inf")), ValueError, "arange: start, end and step must be finite"),
    (("a",), TypeError, "arange: expected real numbers, got str"),
])
def test_arange_refuses_bad_bounds(args, error, message):
    with pytest.raises(error, match=message):
        tg.arange(*args)


@pytest.mark.parametrize("make", [tg.zeros_like, tg.ones_like])
@given(shape=shapes(), dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
def test_zeros_like_and_ones_like(make, shape, dtype):
    source = Tensor(np.zeros(shape), dtype=dtype)
    out = make(source)
    fill = 0 if make is tg.zeros_like else 1
    assert out.shape == shape and out.dtype == dtype and (out.data == fill).all()
    assert make(source, dtype=np.float64).dtype == np.float64
    assert not out.requires_grad and make(Tensor([1.0]), requires_grad=True).requires_grad


@pytest.mark.parametrize("make", [tg.zeros_like, tg.ones_like])
def test_zeros_like_and_ones_like_refuse_bad_input(make):
    name = make.__name__
    with pytest.raises(TypeError, match=f"{name}: input must be a Tensor, got ndarray"):
        make(np.zeros(2))
    with pytest.raises(TypeError, match=f"{name}: unsupported dtype complex64"):
        make(Tensor([1.0]), dtype=np.complex64)


def test_from_numpy_shares_memory_and_refuses_other_data():
    source = np.arange(4.0)
    out = tg.from_numpy(source)
    source[0] = 7.0
    assert out.data[0] == 7.0 and out.dtype == np.float64
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array, got list"):
        tg.from_numpy([1.0])
    with pytest.raises(TypeError, match="from_numpy: unsupported dtype <U1"):
        tg.from_numpy(np.array(["a"]))


# -- functions at the top level -------------------------------------------------------------------------
TOP_LEVEL = {"abs": (), "exp": (), "log": (), "sqrt": (), "tanh": (), "sigmoid": (), "relu": (),
             "sum": (), "mean": (), "max": (), "min": (), "softmax": (-1,), "log_softmax": (-1,),
             "logsumexp": (-1,), "clamp": (0.2, 0.8), "reshape": (-1,), "transpose": (1, 0)}


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_functions_are_the_methods(name):
    x = Tensor(np.linspace(0.1, 1.0, 6).reshape(2, 3), requires_grad=True)
    args = TOP_LEVEL[name]
    function_result, method_result = getattr(tg, name)(x, *args), getattr(x, name)(*args)
    np.testing.assert_array_equal(function_result.data, method_result.data)
    function_result.sum().backward()
    assert x.grad is not None
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor as the first argument, got list"):
        getattr(tg, name)([1.0], *args)
    torch = pytest.importorskip("torch")
    assert callable(getattr(torch, name))  # the same name as PyTorch's


def test_matmul_and_masked_fill_at_the_top_level():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))
    np.testing.assert_array_equal(tg.matmul(a, b).data, np.full((2, 4), 3.0))
    np.testing.assert_array_equal(tg.masked_fill(a, a.data > 0, 0.0).data, np.zeros((2, 3)))


# -- multinomial -------------------------------------------------------------------------------------------
def test_multinomial_draws_in_proportion_to_the_weights():
    weights = np.array([0.1, 0.0, 0.6, 0.3, 2.0])  # not normalised
    draws = tg.multinomial(Tensor(weights), 40_000, replacement=True, rng=np.random.default_rng(0))
    assert draws.dtype == np.int64 and draws.shape == (40_000,)
    frequencies = np.bincount(draws.data, minlength=5) / 40_000
    np.testing.assert_allclose(frequencies, weights / weights.sum(), atol=0.01)
    assert frequencies[1] == 0.0


@given(st.data(), st.integers(1, 3), st.integers(1, 6), st.booleans())
def test_multinomial_shapes_zero_weights_and_no_repeats_without_replacement(data, rows, categories,
                                                                           replacement):
    weights = data.draw(arrays((rows, categories), st.sampled_from([0.0, 0.5, 1.0, 3.0])))
    weights[:, 0] += 1.0  # every row has a positive weight
    nonzero = np.count_nonzero(weights, axis=1)
    count = data.draw(st.integers(1, 8 if replacement else categories))
    draws = tg.multinomial(Tensor(weights), count, replacement, rng=np.random.default_rng(1)).data
    assert draws.shape == (rows, count) and draws.dtype == np.int64
    assert ((0 <= draws) & (draws < categories)).all()
    for row in range(rows):
        positive = weights[row, draws[row]] > 0
        if replacement:
            assert positive.all()  # a zero weight is never drawn
        else:
            assert len(set(draws[row].tolist())) == count  # each category at most once
            assert positive[: min(count, nonzero[row])].all() and not positive[nonzero[row]:].any()
    single = tg.multinomial(Tensor(weights[0]), count, replacement).data
    assert single.shape == (count,)


def test_multinomial_follows_the_seeded_generator_and_is_a_method():
    weights = Tensor([1.0, 2.0, 3.0])
    tg.manual_seed(5)
    first = weights.multinomial(10, True).data
    tg.manual_seed(5)
    np.testing.assert_array_equal(tg.multinomial(weights, 10, replacement=True).data, first)
    assert tg.multinomial(tg.zeros(0, 3), 2).shape == (0, 2)


@pytest.mark.parametrize(("args", "error", "message"), [
    ((Tensor([1.0, 2.0]), 3), ValueError, r"multinomial: cannot draw 3 samples without replacement from 2 "
                                          r"categories \(input of shape \(2,\)\)"),
    ((Tensor([1.0, 2.0]), 0), ValueError, "multinomial: num_samples must be a positive int, got 0"),
    ((Tensor([[1.0, 0.0], [0.0, 0.0]]), 1, True), ValueError,
     "multinomial: every row needs a positive weight"),
    ((Tensor([1.0, -1.0]), 1), ValueError, "multinomial: weights must be finite and non-negative"),
    ((Tensor([1.0, np.nan]), 1), ValueError, "multinomial: weights must be finite and non-negative"),
    ((Tensor(np.array([1, 2])), 1), ValueError,
     r"multinomial: input must be a 1-D or 2-D floating-point tensor with at least one category, "
     r"got shape \(2,\) and dtype int64"),
    ((Tensor(np.ones((2, 2, 2))), 1), ValueError, r"got shape \(2, 2, 2\)"),
    ((np.ones(2), 1), TypeError, "multinomial: input must be a Tensor of weights, got ndarray"),
    ((Tensor([1.0]), 1, "yes"), TypeError, "multinomial: replacement must be True or False"),
])
def test_multinomial_refuses_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        tg.multinomial(*args)

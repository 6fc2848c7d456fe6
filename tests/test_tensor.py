"""The Tensor: construction and dtype rules, properties, constructors, and backward semantics."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
from helpers import arrays, broadcastable_shapes, check_vjp, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor


# -- construction and dtypes --------------------------------------------------------------
@pytest.mark.parametrize("data", [1.5, 3, True, [1, 2], [[1.0, 2.0], [3.0, 4.0]], [], (1, 2.5)])
def test_python_numbers_and_lists_become_float32(data):
    x = Tensor(data)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.data, np.array(data, dtype=np.float32))


@pytest.mark.parametrize("dtype", ["float64", np.float16, np.int32, "int64", bool])
def test_dtype_argument_overrides_the_default(dtype):
    assert Tensor([1, 0, 2], dtype=dtype).dtype == np.dtype(dtype)
    assert Tensor(np.array([1.5, 0.0]), dtype=dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64,
                                   np.uint8, np.bool_])
def test_numpy_arrays_and_scalars_keep_their_dtype(dtype):
    assert Tensor(np.zeros((2, 3), dtype=dtype)).dtype == dtype
    assert Tensor(dtype(1)).dtype == dtype


def test_data_is_copied_from_the_source():
    source = np.array([1.0, 2.0])
    x = Tensor(source)
    source[0] = 100.0
    assert x.data[0] == 1.0
    y = Tensor(x)
    x.data[1] = 100.0
    assert y.data[1] == 2.0 and y.dtype == np.float64


@given(pair=broadcastable_shapes(), data=st.data())
def test_float64_is_first_class(pair, data):
    """float64 in, float64 out (Python numbers do not demote), float64 gradients."""
    x = Tensor(data.draw(arrays(pair[0])), requires_grad=True)
    y = Tensor(data.draw(arrays(pair[1])), requires_grad=True)
    out = ((x * 2 + y) / 3.0 - 1).tanh().exp() ** 2
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float64 and y.grad.dtype == np.float64


def test_float32_gradients_are_float32():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * np.float64(2.0)).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda: Tensor([1, 2], dtype="int64", requires_grad=True),
    lambda: Tensor(np.array([1, 2]), requires_grad=True),
    lambda: Tensor(np.array([True]), requires_grad=True),
    lambda: Tensor(np.array([1, 2])).requires_grad_(),
], ids=["dtype=", "int array", "bool array", "requires_grad_"])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match="(int64|bool)"):
        make()


@pytest.mark.parametrize("data", ["abc", ["a", "b"], b"x", None, object(), {"a": 1}, 1 + 2j,
                                  np.array([1j]), np.array(["a"]), [1, [2, 3]]],
                         ids=["str", "str list", "bytes", "None", "object", "dict", "complex",
                              "complex array", "str array", "ragged"])
def test_unsupported_data_is_refused(data):
    with pytest.raises(TypeError, match="^Tensor: "):
        Tensor(data)


def test_unsupported_dtype_argument_is_refused():
    with pytest.raises(TypeError, match="Tensor: .*complex"):
        Tensor([1.0], dtype="complex64")
    with pytest.raises(TypeError, match="Tensor: .*not a dtype"):
        Tensor([1.0], dtype="no such dtype")


# -- properties --------------------------------------------------------------------------
@given(x=arrays(shapes()))
def test_array_properties_match_numpy(x):
    tensor = Tensor(x)
    assert (tensor.shape, tensor.ndim, tensor.dtype, tensor.size) == (x.shape, x.ndim, x.dtype, x.size)
    np.testing.assert_array_equal(tensor.T.data, x.T)
    assert tensor.tolist() == x.tolist()


def test_item():
    assert Tensor([[2.5]]).item() == 2.5
    assert isinstance(Tensor(3, dtype="int64").item(), int)
    with pytest.raises(ValueError, match=r"item: .*\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_len():
    assert len(Tensor(np.ones((4, 2)))) == 4
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_numpy_shares_the_data():
    x = Tensor([1.0, 2.0])
    assert x.numpy() is x.data


def test_detach_shares_data_and_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    d = h.detach()
    assert np.shares_memory(d.data, h.data)
    assert d.is_leaf and not d.requires_grad and d.grad is None
    out = d * x
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])  # only the direct path through x


def test_double_and_float_cast_and_carry_the_gradient_back():
    x = tg.Tensor([1.5, -2.0], requires_grad=True)
    wide = x.double()
    assert wide.dtype == np.float64 and x.dtype == np.float32
    (wide * wide).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, -4.0])
    assert wide.float().dtype == np.float32
    assert tg.Tensor([1, 2], dtype=np.int64).double().dtype == np.float64


def test_is_leaf_and_requires_grad_():
    x = Tensor([1.0])
    assert x.is_leaf and not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(ValueError, match="leaf"):
        y.requires_grad_(False)


# -- constructors ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.randn, tg.rand, Tensor.zeros, Tensor.randn])
def test_constructors_take_shapes_both_ways_and_default_to_float32(make):
    for x in (make(2, 3), make((2, 3)), make([2, 3])):
        assert x.shape == (2, 3) and x.dtype == np.float32 and x.is_leaf and not x.requires_grad
    assert make().shape == ()
    assert make(0, 2).shape == (0, 2)
    x = make(4, dtype="float64", requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad


def test_zeros_and_ones_values():
    np.testing.assert_array_equal(tg.zeros(2, 2).data, np.zeros((2, 2)))
    np.testing.assert_array_equal(tg.ones(3).data, np.ones(3))


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.randn, tg.rand])
def test_constructors_refuse_bad_shapes_and_dtypes(make):
    with pytest.raises(ValueError, match=make.__name__):
        make(2, -1)
    with pytest.raises(TypeError, match=f"{make.__name__}: dtype must be floating point"):
        make(2, dtype="int32")


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.randn, tg.rand])
def test_constructors_refuse_bool_and_impossible_shapes(make):
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}: shape must be non-negative integers, got \(True,\)"):
        make(True)
    with pytest.raises(ValueError, match=rf"{name}: shape \(1000000000000, 1000000000000\) has 1e\+24"):
        make(10**12, 10**12)


@pytest.mark.parametrize(("low", "high"), [(1.0, 0.0), (float("nan"), 1.0), (0.0, float("inf")), ("0", 1.0)])
def test_rand_refuses_bad_bounds(low, high):
    with pytest.raises(ValueError, match=r"rand: low and high must be finite numbers with low <= high"):
        tg.rand(3, low=low, high=high)


def test_manual_seed_takes_negative_seeds_as_pytorch_does():
    first = tg.manual_seed(-1).integers(0, 2**32, 4)
    assert (np.random.default_rng(2**64 - 1).integers(0, 2**32, 4) == first).all()
    assert not (tg.manual_seed(1).integers(0, 2**32, 4) == first).all()
    with pytest.raises(ValueError, match=r"manual_seed: seed must be >= -2\*\*63"):
        tg.manual_seed(-2**63 - 1)
    with pytest.raises(TypeError, match=r"manual_seed: seed must be an int, got float"):
        tg.manual_seed(1.5)


@pytest.mark.parametrize("make", [tg.randn, tg.rand])
def test_manual_seed_makes_random_constructors_reproducible(make):
    tg.manual_seed(1234)
    first = make(3, 4).data
    tg.manual_seed(1234)
    np.testing.assert_array_equal(make(3, 4).data, first)
    assert not np.array_equal(make(3, 4).data, first)  # the generator moved on
    tg.manual_seed(4321)
    assert not np.array_equal(make(3, 4).data, first)


def test_explicit_rng_is_used_and_leaves_the_default_generator_alone():
    tg.manual_seed(7)
    expected_default = np.random.default_rng(7).standard_normal(5).astype(np.float32)
    drawn = tg.randn(2, 3, dtype="float64", rng=np.random.default_rng(0))
    np.testing.assert_array_equal(drawn.data, np.random.default_rng(0).standard_normal((2, 3)))
    uniform_draw = tg.rand(4, low=-2.0, high=-1.0, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(uniform_draw.data,
                                  np.random.default_rng(1).uniform(-2.0, -1.0, 4).astype(np.float32))
    assert ((uniform_draw.data >= -2.0) & (uniform_draw.data <= -1.0)).all()
    np.testing.assert_array_equal(tg.randn(5).data, expected_default)
    with pytest.raises(TypeError, match="randn: rng must be a numpy.random.Generator"):
        tg.randn(2, rng=0)
    with pytest.raises(TypeError, match="rand: rng must be a numpy.random.Generator"):
        tg.rand(2, rng=0)


def test_repr_is_readable():
    assert repr(Tensor([1.0, 2.5])) == "Tensor([1. , 2.5], dtype=float32)"
    assert repr(Tensor(2.0, dtype="float64", requires_grad=True)) == (
        "Tensor(2., dtype=float64, requires_grad=True)"
    )
    product = Tensor([1.0], requires_grad=True) * 2
    assert repr(product) == "Tensor([2.], dtype=float32, grad_fn=<mul>)"
    big = repr(tg.zeros(1000))
    assert "..." in big and len(big) < 200


# -- backward semantics -------------------------------------------------------------------
def test_a_tensor_used_twice_accumulates():
    x = Tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 1)


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 3])


@pytest.mark.parametrize("through", ["view", "product", "elementwise"])
def test_setting_grad_to_none_by_hand_forgets_it_as_zero_grad_does(through):
    """PyTorch's ``p.grad = None`` between steps: the next backward starts afresh (a gradient
    reaching the tensor through a view used to meet a stale "owned buffer" flag and fail
    with a bare TypeError from inside the sweep)."""
    w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    loss = {"view": lambda: (w[0] * w[1]).sum(),
            "product": lambda: (Tensor(np.ones((4, 3))) @ w).sum(),
            "elementwise": lambda: (w * w).sum()}[through]
    loss().backward()
    first = w.grad.copy()
    w.grad = None
    loss().backward()
    np.testing.assert_array_equal(w.grad, first)


def test_a_grad_set_by_hand_is_the_users_array_and_is_never_added_into():
    w = Tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    (w * 2).sum().backward()  # the engine's own buffer: later gradients are added into it
    mine = np.array([10.0, 20.0, 30.0])
    w.grad = mine
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad, [12.0, 22.0, 32.0])
    np.testing.assert_array_equal(mine, [10.0, 20.0, 30.0])
    assert not np.shares_memory(w.grad, mine)
    (w[1:] * 1).sum().backward()  # and through a view, likewise
    np.testing.assert_array_equal(w.grad, [12.0, 23.0, 33.0])
    np.testing.assert_array_equal(mine, [10.0, 20.0, 30.0])


def test_only_tensors_that_require_grad_get_one():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])
    (x * constant).sum().backward()
    assert constant.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_backward_on_a_leaf_and_with_a_tensor_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.backward(Tensor([0.5, 0.25]))
    np.testing.assert_array_equal(x.grad, [0.5, 0.25])


def test_non_scalar_backward_needs_grad():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"backward: grad can be implied only .* shape \(2,\)"):
        y.backward()


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(ValueError, match="backward: this tensor does not require grad"):
        (Tensor([1.0]) * 2).backward()
    with tg.no_grad():
        y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match="does not require grad"):
        y.backward()


def test_backward_grad_of_the_wrong_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    message = r"backward: grad has shape \(3, 2\) but the output has shape \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        y.backward(np.ones((3, 2)))


@pytest.mark.parametrize(("grad", "described"), [
    ([1.0, None], "list of dtype object"), ("ab", "str of dtype <U2"),
    ([[1.0], [1.0, 2.0]], "list of dtype object"),  # ragged: NumPy's own error named nothing
    (np.array([1j, 2]), "ndarray of dtype complex128"),
])
def test_backward_grad_that_is_not_real_numbers_is_refused(grad, described):
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(TypeError, match=rf"backward: grad must be .* shape \(2,\), got {described}"):
        y.backward(grad)


def test_a_hand_set_grad_of_the_wrong_shape_or_dtype_is_refused_when_it_is_set():
    """As PyTorch refuses it at assignment: a bad grad never reaches a backward, which would
    fail half way, with some leaves' gradients already added."""
    x = Tensor(np.zeros((2, 1)), requires_grad=True)
    held = r"Tensor.grad: a tensor of shape \(2, 1\) and dtype float64"
    for bad, error, message in [
            (np.ones(2), ValueError, rf"{held} cannot take a grad of shape \(2,\)"),
            (np.ones((2, 1), dtype=np.int64), TypeError,
             rf"{held} cannot take a grad of dtype int64; cast it with .astype\('float64'\)"),
            (3.0, TypeError, rf"{held} takes None, an array or a Tensor as its grad, got float"),
            ([[1.0], [2.0]], TypeError, r"got list")]:
        with pytest.raises(error, match=message):
            x.grad = bad
        assert x.grad is None
    x.grad = np.ones((2, 1))  # one of the right shape and dtype is added to, as in PyTorch
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 1), 3.0))
    x.grad = Tensor(np.full((2, 1), 5.0))  # a Tensor gives its data
    assert np.array_equal(x.grad, np.full((2, 1), 5.0))
    scalar = Tensor(np.float64(1.0), requires_grad=True)
    scalar.grad = np.float64(2.0)  # a NumPy scalar for a 0-d tensor, as a 0-d array
    assert isinstance(scalar.grad, np.ndarray) and scalar.grad.shape == ()


def test_a_weight_whose_flush_failed_is_not_left_out_of_later_backwards():
    """An error while the deferred products are summed must not leave another weight's
    products pending: that weight would never be flushed again."""
    x = tg.randn(2, 3)
    first, second = tg.randn(3, 4, requires_grad=True), tg.randn(3, 4, requires_grad=True)
    second.grad = np.zeros((3, 4), np.float32)
    second.data = second.data.astype(np.float64)  # its float32 grad no longer matches
    with pytest.raises(ValueError, match=r"was .data replaced"):
        ((x @ first).sum() + (x @ second).sum()).backward()
    assert first.grad is None and first._pending is None
    (x @ first).sum().backward()
    np.testing.assert_allclose(first.grad, x.data.T @ np.ones((2, 4)), rtol=1e-6)


def test_a_grad_left_behind_by_a_replaced_data_array_is_refused_not_broadcast():
    x = Tensor(np.zeros((1, 2)), requires_grad=True)
    (x * 2).sum().backward()
    x.data = np.zeros((3, 2))  # the old (1, 2) grad would broadcast into a (3, 2) one
    with pytest.raises(ValueError, match=r"backward: the .grad already held by a tensor of shape "
                                         r"\(3, 2\) .* is a ndarray of shape \(1, 2\) .* "
                                         r"\(was .data replaced\?\)"):
        (x * 2).sum().backward()


def test_an_integer_tensor_made_to_require_grad_by_hand_gets_no_integer_gradient():
    z = Tensor(np.array([1, 2]))
    z.requires_grad = True  # bypasses the constructor's check
    with pytest.raises(TypeError, match=r"backward: a tensor of dtype int64 \(shape \(2,\)\) has "
                                        r"requires_grad=True"):
        (z * 2.0).sum().backward()


def test_iteration_truth_and_number_conversions_follow_pytorch():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert [row.shape for row in rows] == [(2,), (2,)]
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor"):
        list(Tensor(1.0))
    with pytest.raises(ValueError, match=r"bool: the truth value of a tensor of shape \(2, 2\) is ambiguous"):
        bool(x)
    assert bool(Tensor([0.5])) and not bool(Tensor(0.0))
    assert float(Tensor([2.5])) == 2.5 and int(Tensor(3.7)) == 3
    with pytest.raises(ValueError, match=r"item: tensor has shape \(2, 2\)"):
        float(x)


def test_numpy_reads_a_tensor_as_its_data_and_ufuncs_still_defer_to_the_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert np.asarray(x) is x.data
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(x, copy=True), x.data)
    product = np.ones(2, dtype=np.float32) * x  # Tensor.__rmul__, recorded in the graph
    assert isinstance(product, Tensor) and product.requires_grad


def test_second_backward_through_a_freed_graph_mentions_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = x * 2
    first, second = z.sum(), (z * 3).sum()
    first.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        second.backward()


def test_retain_graph_allows_a_second_pass_and_the_gradients_double():
    x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = (x * x).tanh().sum()
    y.backward(retain_graph=True)
    once = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * once, rtol=1e-15)


def test_intermediate_gradients_are_not_kept():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    out = hidden.tanh().sum()
    out.backward(retain_graph=True)
    assert hidden.grad is None and out.grad is None
    assert x.grad is not None


# -- no_grad --------------------------------------------------------------------------------
def test_no_grad_context_records_nothing_and_restores_grad_mode():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2).tanh() + x
        with tg.no_grad():
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(KeyError), tg.no_grad():
        raise KeyError("inside")
    assert tg.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @tg.no_grad()
    def step(weight):
        """Docstring kept."""
        assert not tg.is_grad_enabled()
        return weight * 2

    out = step(Tensor([1.0], requires_grad=True))
    assert not out.requires_grad and out.is_leaf
    assert tg.is_grad_enabled()
    assert step.__doc__ == "Docstring kept."


# -- long graphs ------------------------------------------------------------------------------
def test_a_chain_of_100000_ops_has_no_recursion_limit():
    start = Tensor(1.0, dtype="float64", requires_grad=True)
    x = start
    for _ in range(100_000):
        x = x * 1.0001 + 0.0
    x.backward()
    np.testing.assert_allclose(start.grad, 1.0001**100_000, rtol=1e-9)


# -- aliasing and mutation -------------------------------------------------------------------
def test_gradients_never_alias_each_other_the_inputs_or_the_upstream():
    x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = Tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    upstream = np.array([0.5, -1.0])
    (x + y).backward(upstream)
    assert x.grad is not y.grad
    for a, b in [(x.grad, y.grad), (x.grad, upstream), (y.grad, upstream), (x.grad, x.data),
                 (x.grad, y.data), (y.grad, y.data), (y.grad, x.data)]:
        assert not np.shares_memory(a, b)
    x.grad[0] = 100.0
    assert y.grad[0] == 0.5 and upstream[0] == 0.5
    (x + y).backward(upstream)  # accumulation after the edit stays private too
    np.testing.assert_array_equal(x.grad, [100.5, -2.0])
    np.testing.assert_array_equal(y.grad, [1.0, -2.0])


def test_gradients_are_writable_even_when_the_op_broadcast():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (x + b).sum().backward()
    assert x.grad.flags.writeable and b.grad.flags.writeable
    x.grad += 1
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])


@given(pair=broadcastable_shapes(), data=st.data())
def test_a_composite_neither_mutates_inputs_nor_aliases_gradients(pair, data):
    """A small network-like expression through check_vjp's invariants."""
    inputs = [data.draw(arrays(pair[0])), data.draw(arrays(pair[1], uniform(0.5, 2.0)))]
    check_vjp(lambda a, b: ((a * b + a) / b).tanh() - b.log() * a, inputs, data)


# -- memory -------------------------------------------------------------------------------------
def test_the_graph_is_released_after_backward():
    x = Tensor(np.ones(1000), requires_grad=True)
    hidden = (x * 2).tanh()
    out = (hidden * hidden).sum()
    watch = weakref.ref(hidden)
    del hidden
    assert watch() is not None  # the graph holds it
    out.backward()
    del out
    gc.collect()
    assert watch() is None


def _training_loop(weight, inputs, targets, steps):
    for _ in range(steps):
        prediction = (inputs @ weight).tanh()
        loss = ((prediction - targets) ** 2).mean()
        loss.backward()
        weight.data -= 0.1 * weight.grad
        weight.zero_grad()


def test_a_training_loop_does_not_grow_memory():
    rng = np.random.default_rng(0)
    weight = Tensor(rng.standard_normal((16, 4)), requires_grad=True)
    inputs, targets = rng.standard_normal((32, 16)), rng.standard_normal((32, 4))
    _training_loop(weight, inputs, targets, 10)
    gc.collect()
    # issubclass(type(o)) rather than isinstance: it does not ask objects (e.g. torch's deprecated
    # module attributes, when torch is loaded) for their __class__, which may warn.
    tensors_before = sum(issubclass(type(o), Tensor) for o in gc.get_objects())
    tracemalloc.start()
    try:
        _training_loop(weight, inputs, targets, 20)
        after_warmup = tracemalloc.get_traced_memory()[0]
        _training_loop(weight, inputs, targets, 200)
        after_training = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    gc.collect()
    assert sum(issubclass(type(o), Tensor) for o in gc.get_objects()) <= tensors_before
    # One step's graph holds ~20 kB of arrays; a leak of it per step would be megabytes.
    assert after_training - after_warmup < 50_000


def test_no_grad_decorator_without_parentheses_and_reentrant_use():
    w = tg.Tensor([1.0], requires_grad=True)

    @tg.no_grad
    def doubled(x):
        return x * 2

    assert doubled.__name__ == "doubled"
    assert not doubled(w).requires_grad
    shared = tg.no_grad()
    with shared:
        with shared:
            assert not tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_a_failed_backward_leaves_no_partial_gradients_behind():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    shared = x * 3.0
    first = (shared * 2.0).sum()
    first.backward()  # frees the graph through `shared`
    second = (shared + x * 5.0).sum()
    with pytest.raises(RuntimeError, match="retain_graph"):
        second.backward()
    x.zero_grad()
    fresh = (x * 5.0).sum()
    fresh.backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


# -- basic slices are views: their gradient goes straight into the base ---------------------
def test_a_slice_is_a_view_whose_gradient_lands_in_its_base():
    x = tg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, dtype="float64")
    row = x[1]
    assert not row.is_leaf and row.requires_grad and "getitem" in repr(row)
    assert np.shares_memory(row.data, x.data)
    (row * 2.0).sum().backward()
    expected = np.zeros((3, 4))
    expected[1] = 2.0
    np.testing.assert_array_equal(x.grad, expected)
    assert row.grad is None  # like PyTorch, a non-leaf keeps no gradient


@given(st.data())
def test_views_of_views_broadcasts_and_matmul_weights_match_finite_differences(data):
    x = data.draw(arrays((4, 5)))
    check_vjp(lambda t: t[1:3][:, None, ::2] * t[0, :3] + t[0:1, 1:4] @ t[1:4, 0:3], [x], data)


@given(st.data())
def test_a_row_view_sliced_again_is_one_view_of_the_base(data):
    """x[t][i, j:k] becomes the view x[t, i, j:k]: no node, the same values and gradients."""
    x = data.draw(arrays((3, 4, 5)))
    t = data.draw(st.integers(-3, 2), label="t")
    start = data.draw(st.integers(0, 4), label="start")
    row = tg.Tensor(x, requires_grad=True)[t]
    part = row[:, start:]
    assert part._view[0] is row._view[0] and part._view[1] == (t, slice(None), slice(start, None))
    np.testing.assert_array_equal(part.data, x[t][:, start:])
    check_vjp(lambda a: a[t][:, start:] * a[t][1, start:], [x], data)


def test_a_view_as_the_output_of_backward_and_under_no_grad():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[1:].backward(np.array([5.0, 7.0], dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [0.0, 5.0, 7.0])
    with tg.no_grad():
        assert not x[0].requires_grad and x[0].is_leaf


def test_a_view_of_a_freed_graph_refuses_a_second_backward():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    part = y[0]
    (part * 1.0).backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (part * 1.0).backward()


@given(st.data())
def test_pending_products_in_rows_of_blocks_sum_as_if_stacked(data):
    """A weight's pending products whose factors are rows of the same two blocks (a recurrent
    layer's gradients and hidden states) are summed as slices of the blocks; products that
    break a run (another block, a jump, a turn, no rows) still count, each once."""
    from tinygrad_rnn.tensor import Product, _stacked_factors

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    steps, batch = data.draw(st.integers(1, 6), label="T"), data.draw(st.integers(1, 3), label="B")
    rows_in, rows_out = data.draw(st.integers(1, 4), label="k"), data.draw(st.integers(1, 4), label="m")
    blocks = [(rng.standard_normal((steps, batch, rows_in)), rng.standard_normal((steps, batch, rows_out)))
              for _ in range(2)]
    moves = st.tuples(st.integers(0, 1), st.integers(0, steps - 1), st.integers(0, steps - 1), st.booleans(),
                      st.booleans())
    pending = []
    for which, left_at, right_at, left_rows, right_rows in data.draw(st.lists(moves, min_size=2, max_size=12),
                                                                      label="products"):
        left_block, right_block = blocks[which]
        pending.append(Product(left_block[left_at], right_block[right_at],
                               (left_block, left_at) if left_rows else None,
                               (right_block, right_at) if right_rows else None))
    # and, after a product without rows, a run of a layer's steps, walked from the last as
    # backward meets them
    left_block, right_block = blocks[0]
    pending.append(Product(rng.standard_normal((batch, rows_in)), rng.standard_normal((batch, rows_out))))
    pending += [Product(left_block[t], right_block[t], (left_block, t), (right_block, t))
                for t in range(steps - 1, -1, -1)]
    expected = sum(p.left.T @ p.right for p in pending)
    pairs = _stacked_factors(pending)
    np.testing.assert_allclose(sum(left.T @ right for left, right in pairs), expected, rtol=1e-12, atol=1e-12)
    assert sum(len(left) for left, _ in pairs) == batch * len(pending)  # every product once
    if steps > 1:  # the layer's run is one pair of slices of its blocks, copied from nowhere
        assert any(np.shares_memory(left, left_block) and len(left) >= batch * steps for left, _ in pairs)


# -- PyTorch's keyword names ----------------------------------------------------------------
TORCH_KEYWORD_CALLS = [
    ("sum", {"dim": 1}, {"axis": 1}),
    ("sum", {"dim": (0, 2), "keepdim": True}, {"axis": (0, 2), "keepdims": True}),
    ("mean", {"dim": -1, "keepdim": True}, {"axis": -1, "keepdims": True}),
    ("softmax", {"dim": 0}, {"axis": 0}),
    ("log_softmax", {"dim": 1}, {"axis": 1}),
    ("argmax", {"dim": 2, "keepdim": True}, {"axis": 2, "keepdims": True}),
    ("argmin", {"dim": 0}, {"axis": 0}),
    ("unsqueeze", {"dim": 1}, {"axis": 1}),
]


@pytest.mark.parametrize(("method", "torch_kwargs", "numpy_kwargs"), TORCH_KEYWORD_CALLS)
def test_methods_take_pytorchs_dim_and_keepdim(method, torch_kwargs, numpy_kwargs):
    data = np.random.default_rng(0).normal(size=(2, 3, 4))
    ours, reference = Tensor(data, requires_grad=True), Tensor(data, requires_grad=True)
    out, expected = getattr(ours, method)(**torch_kwargs), getattr(reference, method)(**numpy_kwargs)
    np.testing.assert_array_equal(out.data, expected.data)
    if out.requires_grad:
        upstream = np.random.default_rng(1).normal(size=out.shape)
        out.backward(upstream)
        expected.backward(upstream)
        np.testing.assert_array_equal(ours.grad, reference.grad)
    with pytest.raises(TypeError, match=rf"{method}: got both axis= and dim="):
        getattr(ours, method)(axis=0, dim=0)


def test_join_ops_and_squeeze_take_dim():
    x, y = tg.randn(2, 1), tg.randn(2, 1)
    assert tg.concatenate([x, y], dim=1).shape == (2, 2)
    assert tg.stack([x, y], dim=-1).shape == (2, 1, 2)
    assert x.squeeze(dim=1).shape == (2,)


@pytest.mark.parametrize("method", ["max", "min"])
def test_max_and_min_with_dim_return_pytorchs_values_and_indices(method):
    x = Tensor([[1.0, 5.0, 5.0], [7.0, 2.0, np.nan]], requires_grad=True)
    pair = getattr(x, method)(dim=1)
    assert type(pair).__name__ == "ValuesIndices" and pair._fields == ("values", "indices")
    np.testing.assert_array_equal(pair.values.data, getattr(x, method)(axis=1).data)  # axis=: values only
    np.testing.assert_array_equal(pair.indices.data, getattr(x, f"arg{method}")(axis=1).data)
    assert pair.indices.dtype == np.int64 and not pair.indices.requires_grad
    values, indices = getattr(x, method)(dim=0, keepdim=True)
    assert values.shape == indices.shape == (1, 3)
    assert isinstance(getattr(x, method)(), Tensor)  # no dim: the value, as torch.max(x)
    with pytest.raises(TypeError, match=rf"{method}: dim must be one int, got \(0, 1\)"):
        getattr(x, method)(dim=(0, 1))
    torch = pytest.importorskip("torch")
    reference = getattr(torch.tensor(x.data), method)(dim=1)
    np.testing.assert_array_equal(pair.values.data, reference.values.numpy())
    np.testing.assert_array_equal(pair.indices.data, reference.indices.numpy())


def test_functional_softmax_takes_dim():
    from tinygrad_rnn import functional as F

    x = tg.randn(3, 4, dtype="float64")
    np.testing.assert_array_equal(F.softmax(x, dim=0).data, x.softmax(axis=0).data)
    np.testing.assert_array_equal(F.log_softmax(x, dim=0).data, x.log_softmax(0).data)
    np.testing.assert_array_equal(F.softmax(x).data, x.softmax(-1).data)
    with pytest.raises(TypeError, match=r"log_softmax: got both axis= and dim="):
        F.log_softmax(x, 0, dim=0)


def test_transpose_of_two_axes_points_a_pytorch_user_to_permute():
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 1\) .* \(2, 3, 4\); PyTorch's transpose"):
        tg.zeros(2, 3, 4).transpose(0, 1)


# -- enable_grad and set_grad_enabled, as PyTorch's ---------------------------------------------
def test_enable_grad_records_again_inside_no_grad_and_restores():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            y = x * 2
        assert not tg.is_grad_enabled()
        z = x * 2

    @tg.enable_grad
    def doubled(value):
        return value * 2

    with tg.no_grad():
        w = doubled(x)
        assert not tg.is_grad_enabled()
    assert y.requires_grad and w.requires_grad and not z.requires_grad and tg.is_grad_enabled()


def test_set_grad_enabled_sets_at_once_or_for_a_block():
    x = Tensor([1.0], requires_grad=True)
    try:
        tg.set_grad_enabled(False)  # called: the mode changes now, as torch.set_grad_enabled
        assert not tg.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    for mode in (False, True):
        with tg.no_grad(), tg.set_grad_enabled(mode):
            assert tg.is_grad_enabled() is mode and (x * 2).requires_grad is mode
        assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def evaluate(value):
        return value * 2

    assert tg.is_grad_enabled()  # decorating changed nothing; only calls run without a graph
    assert not evaluate(x).requires_grad and tg.is_grad_enabled()
    with pytest.raises(TypeError, match=r"set_grad_enabled: mode must be a bool, got 'no'"):
        tg.set_grad_enabled("no")
    assert tg.is_grad_enabled()


# -- more PyTorch names: view, matmul, pow, numel, clone, cat --------------------------------------
def test_pytorch_method_names_are_the_same_ops():
    rng = np.random.default_rng(0)
    x, w = Tensor(rng.normal(size=(2, 3)), requires_grad=True), Tensor(rng.normal(size=(3, 4)))
    np.testing.assert_array_equal(x.view(3, 2).data, x.reshape(3, 2).data)
    np.testing.assert_array_equal(x.view(-1).data, x.data.ravel())
    np.testing.assert_array_equal(x.matmul(w).data, (x @ w).data)
    np.testing.assert_array_equal(x.pow(3).data, (x**3).data)
    assert x.numel() == 6 and tg.zeros(0, 4).numel() == 0 and Tensor(1.0).numel() == 1
    np.testing.assert_array_equal(tg.cat([x, x], dim=1).data, np.concatenate([x.data, x.data], axis=1))


@given(shape=shapes(), data=st.data())
def test_clone_is_a_copy_in_the_graph(shape, data):
    values = data.draw(arrays(shape))
    (out,) = check_vjp(lambda a: a.clone() * 3.0, [values], data)
    np.testing.assert_array_equal(out.data, values * 3.0)
    source = Tensor(np.ones(shape), requires_grad=True)
    copy = source.clone()
    assert not np.shares_memory(copy.data, source.data) and copy.requires_grad and not copy.is_leaf
    with tg.no_grad():
        assert not source.clone().requires_grad


# A NumPy ufunc on 0-d arrays returns a NumPy scalar; every op's result must still hold an array.
ZERO_D_RESULTS = {
    "mul": lambda x: x * 2.0, "add": lambda x: x + x, "rsub": lambda x: 1.0 - x, "div": lambda x: x / 2.0,
    "neg": lambda x: -x, "pow": lambda x: x**2, "abs": abs, "tanh": lambda x: x.tanh(),
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "relu": lambda x: x.relu(), "clamp": lambda x: x.clamp(0.0, 1.0), "erf": lambda x: x.erf(),
    "sum": lambda x: x.sum(), "dot": lambda x: tg.ones(3, dtype=x.dtype) @ tg.ones(3, dtype=x.dtype),
    "gelu": lambda x: tg.nn.functional.gelu(x),
}


@pytest.mark.parametrize("name", ZERO_D_RESULTS)
def test_a_0_d_result_holds_a_0_d_array_not_a_numpy_scalar(name):
    x = tg.Tensor(np.array(0.5), requires_grad=True)
    y = ZERO_D_RESULTS[name](x)
    assert type(y.data) is np.ndarray and y.data.shape == () and y.data.dtype == np.float64
    y.data[...] = 3.0  # writable in place, which a NumPy scalar is not
    assert y.item() == 3.0

"""Gradient clipping (tinygrad_rnn.nn.utils) against the norms computed by hand here."""

import ast
import math
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn.nn import utils
from tinygrad_rnn.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm


def with_grads(grads):
    """Tensors whose ``.grad`` is a copy of each of ``grads`` (None for no gradient)."""
    tensors = []
    for grad in grads:
        shape, dtype = (1,) if grad is None else grad.shape, np.float64 if grad is None else grad.dtype
        tensor = tg.Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)
        tensor.grad = None if grad is None else grad.copy()
        tensors.append(tensor)
    return tensors


def gradient_lists(dtype=np.float64):
    elements = st.floats(-100, 100, width=np.dtype(dtype).itemsize * 8)
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    return st.lists(hnp.arrays(dtype, shapes, elements=elements), min_size=1, max_size=4)


def norm_by_hand(grads, norm_type):
    """The norm of all gradients laid end to end in one vector (order 0: the gradients that
    hold a nonzero entry, PyTorch's norm of the per-gradient norms)."""
    if norm_type == 0:
        return float(sum(bool(np.any(grad != 0)) for grad in grads))
    flat = np.concatenate([np.abs(grad.astype(np.float64)).ravel() for grad in grads])
    if norm_type == math.inf:
        return flat.max(initial=0.0)
    if norm_type == -math.inf:
        return flat.min()
    if norm_type < 0 and np.any(flat == 0):
        return 0.0  # |0|^p is infinite for p < 0, so the sum is, and its 1/p-th power is 0
    with np.errstate(over="ignore"):  # a tiny entry to a negative power: inf, and the norm 0
        return (flat**norm_type).sum() ** (1.0 / norm_type)


# -- clip_grad_norm_ ---------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5, math.inf, 0.0, -1.0, -2.5, -math.inf])
@given(grads=gradient_lists(), max_norm=st.floats(0.0, 200.0))
def test_clip_grad_norm_scales_to_max_norm(grads, max_norm, norm_type):
    if norm_type < 0:  # a negative order has no value over no entries (torch refuses too)
        grads = [grad if grad.size else np.ones(1) for grad in grads]
    tensors = with_grads(grads)
    buffers = [tensor.grad for tensor in tensors]
    total = clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    expected_total = norm_by_hand(grads, norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected_total, rtol=1e-12)
    coef = max_norm / (expected_total + 1e-6)
    for tensor, buffer, grad in zip(tensors, buffers, grads):
        assert tensor.grad is buffer  # in place
        np.testing.assert_allclose(tensor.grad, grad * min(coef, 1.0), rtol=1e-12)
    assert norm_by_hand([tensor.grad for tensor in tensors], norm_type) <= max(max_norm, expected_total) * (
        1 + 1e-9
    )


@given(grads=gradient_lists(np.float32))
def test_clip_grad_norm_keeps_float32(grads):
    tensors = with_grads(grads)
    clip_grad_norm_(tensors, 1.0)
    assert all(tensor.grad.dtype == np.float32 for tensor in tensors)


def test_clip_grad_norm_by_hand():
    tensors = with_grads([np.array([3.0, 0.0]), np.array([[0.0], [-4.0]])])
    assert clip_grad_norm_(tensors, max_norm=1.0) == 5.0
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(tensors[0].grad, [3.0 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(tensors[1].grad, [[0.0], [-4.0 * scale]], rtol=1e-15)
    assert norm_by_hand([tensor.grad for tensor in tensors], 2.0) == pytest.approx(1.0, abs=1e-6)


def test_clip_grad_norm_makes_numpy_scalar_grads_arrays():
    tensor = with_grads([np.array(2.0)])[0]
    tensor.grad = np.float64(-4.0)  # immutable: clipping must still reach the tensor
    assert clip_grad_norm_(tensor, 1.0) == 4.0
    assert isinstance(tensor.grad, np.ndarray)
    np.testing.assert_allclose(tensor.grad, -4.0 / (4.0 + 1e-6), rtol=1e-15)
    clip_grad_value_(tensor, 0.5)
    np.testing.assert_allclose(tensor.grad, -0.5, rtol=1e-15)


def test_clipping_replaces_a_read_only_grad_before_clipping_anything():
    """A hand-set read-only grad (np.broadcast_to's view) becomes a writable copy first, so
    no gradient is scaled before a later one would have failed."""
    first, second = with_grads([np.array([4.0, 0.0]), np.array([0.0, 0.0])])
    second.grad = np.broadcast_to(np.array(3.0), (2,))
    total = clip_grad_norm_([first, second], 1.0)
    assert total == pytest.approx(math.sqrt(16 + 9 + 9))
    assert second.grad.flags.writeable
    np.testing.assert_allclose(first.grad, [4.0 / (total + 1e-6), 0.0])
    np.testing.assert_allclose(second.grad, [3.0 / (total + 1e-6)] * 2)
    second.grad = np.broadcast_to(np.array(7.0), (2,))
    clip_grad_value_([first, second], 5.0)
    np.testing.assert_array_equal(second.grad, [5.0, 5.0])


def test_clip_grad_norm_inf_uses_the_largest_entry():
    tensors = with_grads([np.array([1.0, -8.0]), np.array([2.0])])
    assert clip_grad_norm_(tensors, max_norm=2.0, norm_type=math.inf) == 8.0
    np.testing.assert_allclose(tensors[0].grad, np.array([1.0, -8.0]) * 2.0 / (8.0 + 1e-6), rtol=1e-15)
    assert clip_grad_norm_(with_grads([np.array([-3.0])]), 1.0, norm_type="inf") == 3.0


def test_clip_grad_norm_below_max_norm_is_a_no_op():
    grads = [np.array([0.3, -0.4]), np.array(0.1)]
    tensors = with_grads(grads)
    total = clip_grad_norm_(tensors, max_norm=1.0)
    np.testing.assert_allclose(total, math.sqrt(0.26), rtol=1e-15)
    for tensor, grad in zip(tensors, grads):
        assert tensor.grad.tobytes() == grad.tobytes()


def test_clip_grad_norm_single_tensor_equals_list():
    grad = np.array([[6.0, 8.0]])
    alone, (in_list,) = with_grads([grad])[0], with_grads([grad])
    assert clip_grad_norm_(alone, 2.0) == clip_grad_norm_([in_list], 2.0) == 10.0
    np.testing.assert_array_equal(alone.grad, in_list.grad)


def test_clip_grad_norm_skips_missing_grads_and_accepts_a_generator():
    tensors = with_grads([None, np.array([6.0, 8.0]), None])
    assert clip_grad_norm_((tensor for tensor in tensors), 5.0) == 10.0
    assert tensors[0].grad is None and tensors[2].grad is None
    np.testing.assert_allclose(tensors[1].grad, [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm_(with_grads([None, None]), 1.0) == 0.0
    assert clip_grad_norm_([], 1.0) == 0.0


def test_clip_grad_norm_after_backward():
    weight = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (weight * weight * 10.0).sum().backward()  # grad = 20 * weight
    assert clip_grad_norm_(weight, 1.0) == pytest.approx(20.0 * math.sqrt(5.0))
    assert np.linalg.norm(weight.grad) == pytest.approx(1.0)


@pytest.mark.filterwarnings("error")  # an inf gradient times 0 is nan there, silently as in torch
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_grad_norm_non_finite(bad):
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm .* is (nan|inf)"):
        clip_grad_norm_(with_grads([np.array([1.0, bad])]), 1.0, error_if_nonfinite=True)
    tensors = with_grads([np.array([1.0, bad]), np.array([2.0])])
    total = clip_grad_norm_(tensors, 1.0)
    if np.isnan(bad):  # documented: a nan norm leaves the gradients as they were
        assert math.isnan(total)
        np.testing.assert_array_equal(tensors[1].grad, [2.0])
    else:  # an infinite norm scales by 0, as in PyTorch
        assert total == math.inf
        np.testing.assert_array_equal(tensors[1].grad, [0.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_norm": -1.0}, ValueError, r"clip_grad_norm_: max_norm must be non-negative, got -1\.0"),
        ({"max_norm": float("nan")}, ValueError, r"clip_grad_norm_: max_norm .* got nan"),
        ({"max_norm": 1.0, "norm_type": float("nan")}, ValueError, r"clip_grad_norm_: norm_type .* got nan"),
        ({"max_norm": 1.0, "foreach": "yes"}, TypeError, r"clip_grad_norm_: foreach must be None or a bool"),
        ({"max_norm": "a"}, TypeError, r"clip_grad_norm_: max_norm must be a number, got 'a'"),
        ({"max_norm": None}, TypeError, r"clip_grad_norm_: max_norm must be a number, got None"),
        ({"max_norm": 1.0, "norm_type": "2"}, TypeError, r"clip_grad_norm_: norm_type must be a number"),
    ],
)
def test_clip_grad_norm_validates_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        clip_grad_norm_(with_grads([np.ones(2)]), **kwargs)


def test_clipping_refuses_bad_values_and_integer_grads_by_name():
    with pytest.raises(TypeError, match=r"clip_grad_value_: clip_value must be a number, got 'a'"):
        clip_grad_value_(with_grads([np.ones(2)]), "a")
    for clip in (lambda tensors: clip_grad_norm_(tensors, 1.0),
                 lambda tensors: clip_grad_value_(tensors, 1.0)):
        tensors = with_grads([np.ones(2), np.ones(2)])
        tensors[1].data = np.array([1, 2])  # an integer tensor, given its integer grad
        tensors[1].grad = np.array([3, 4])
        with pytest.raises(TypeError, match=r"item 1's grad has dtype int64; .* must be floating-point"):
            clip(tensors)


def test_a_negative_order_refuses_an_empty_gradient_by_name():
    with pytest.raises(ValueError, match=r"clip_grad_norm_: a norm of negative order -1\.0 .* empty"):
        clip_grad_norm_(with_grads([np.ones(2), np.zeros(0)]), 1.0, norm_type=-1)
    assert clip_grad_norm_(with_grads([np.zeros(0)]), 1.0, norm_type=0) == 0.0


def test_foreach_is_accepted_and_changes_nothing():
    for foreach in (None, True, False):
        tensors = with_grads([np.array([3.0, 4.0])])
        assert clip_grad_norm_(tensors, 1.0, foreach=foreach) == 5.0
        np.testing.assert_allclose(tensors[0].grad, [0.6, 0.8], rtol=1e-6)
        clip_grad_value_(tensors, 0.7, foreach=foreach)
        np.testing.assert_allclose(tensors[0].grad, [0.6, 0.7], rtol=1e-6)


# -- get_total_norm and clip_grads_with_norm_: clip_grad_norm_'s two halves --------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.0, -1.0])
@given(grads=gradient_lists(), max_norm=st.floats(0.0, 200.0))
def test_the_two_halves_make_clip_grad_norm(grads, max_norm, norm_type):
    if norm_type < 0:
        grads = [grad if grad.size else np.ones(1) for grad in grads]
    whole, halves = with_grads(grads), with_grads(grads)
    expected = clip_grad_norm_(whole, max_norm, norm_type=norm_type)
    total = get_total_norm([tensor.grad for tensor in halves], norm_type=norm_type)
    assert total == expected
    assert get_total_norm([tg.Tensor(grad) for grad in grads], norm_type) == expected  # Tensors too
    buffers = [tensor.grad for tensor in halves]
    assert clip_grads_with_norm_(halves, max_norm, total) is None
    for tensor, buffer, reference in zip(halves, buffers, whole):
        assert tensor.grad is buffer
        np.testing.assert_array_equal(tensor.grad, reference.grad)


def test_clip_grads_with_norm_takes_a_norm_computed_elsewhere():
    tensors = with_grads([np.array([3.0, 4.0]), None])
    clip_grads_with_norm_(tensors, 1.0, np.array(10.0))  # a 0-d array, as torch's 0-d tensor
    np.testing.assert_allclose(tensors[0].grad, [0.3, 0.4], rtol=1e-6)
    clip_grads_with_norm_(tensors, 1.0, tg.Tensor([0.5]))  # below max_norm: unchanged
    np.testing.assert_allclose(tensors[0].grad, [0.3, 0.4], rtol=1e-6)
    assert tensors[1].grad is None
    assert get_total_norm(np.array([[3.0], [4.0]])) == 5.0  # one array
    assert get_total_norm([]) == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: get_total_norm([np.ones(2), [1.0]]), TypeError,
         r"get_total_norm: tensors must be Tensors or NumPy arrays, item 1 is list"),
        (lambda: get_total_norm([np.ones(2)], norm_type="2"), TypeError,
         r"get_total_norm: norm_type must be"),
        (lambda: get_total_norm([np.array([np.nan])], error_if_nonfinite=True), RuntimeError,
         r"get_total_norm: the total norm .* is nan"),
        (lambda: clip_grads_with_norm_(with_grads([np.ones(2)]), 1.0, np.ones(2)), ValueError,
         r"clip_grads_with_norm_: total_norm must be one number, got shape \(2,\)"),
        (lambda: clip_grads_with_norm_(with_grads([np.ones(2)]), 1.0, "5"), TypeError,
         r"clip_grads_with_norm_: total_norm must be a number, got '5'"),
        (lambda: clip_grads_with_norm_(with_grads([np.ones(2)]), -1.0, 5.0), ValueError,
         r"clip_grads_with_norm_: max_norm must be non-negative, got -1\.0"),
        (lambda: clip_grads_with_norm_([np.ones(2)], 1.0, 5.0), TypeError,
         r"clip_grads_with_norm_: parameters must be a Tensor .* item 0 is ndarray"),
    ],
)
def test_the_two_halves_refuse_bad_input_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_clip_grad_norm_refuses_non_tensors():
    with pytest.raises(TypeError, match=r"clip_grad_norm_: .* item 1 is ndarray"):
        clip_grad_norm_([with_grads([np.ones(2)])[0], np.ones(2)], 1.0)


# -- clip_grad_value_ --------------------------------------------------------------------------
@given(grads=gradient_lists(np.float32), clip_value=st.floats(0.0, 150.0))
def test_clip_grad_value_clips_each_entry(grads, clip_value):
    tensors = with_grads(grads)
    buffers = [tensor.grad for tensor in tensors]
    assert clip_grad_value_(tensors, clip_value) is None
    bound = np.float32(clip_value)  # the bound as the float32 gradients see it
    for tensor, buffer, grad in zip(tensors, buffers, grads):
        assert tensor.grad is buffer and tensor.grad.dtype == np.float32
        expected = np.where(grad > bound, bound, np.where(grad < -bound, -bound, grad))
        np.testing.assert_array_equal(tensor.grad, expected)


def test_clip_grad_value_min_char_rnn():
    tensors = with_grads([np.array([-7.0, -5.0, 0.5, 5.0, 9.0]), None])
    clip_grad_value_(tensors, 5)
    np.testing.assert_array_equal(tensors[0].grad, [-5.0, -5.0, 0.5, 5.0, 5.0])
    assert tensors[1].grad is None
    single = with_grads([np.array([12.0])])[0]
    clip_grad_value_(single, 5.0)
    np.testing.assert_array_equal(single.grad, [5.0])


@pytest.mark.parametrize("clip_value", [-0.5, float("nan")])
def test_clip_grad_value_validates_its_bound(clip_value):
    with pytest.raises(ValueError, match=r"clip_grad_value_: clip_value must be non-negative, got"):
        clip_grad_value_(with_grads([np.ones(2)]), clip_value)


# -- layering and PyTorch ----------------------------------------------------------------------
@pytest.mark.parametrize("module", [utils, utils.rnn])
def test_utils_imports_only_numpy_the_tensor_and_the_ops(module):
    tree = ast.parse(Path(module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    allowed = {"__future__", "math", "numbers", "collections.abc", "typing", "numpy", "...tensor", "...",
               ".", ".rnn"}
    assert imported <= allowed


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 0.5, math.inf, 0.0, -1.0, -math.inf])
@pytest.mark.parametrize("zeros", [False, True])
def test_clip_grad_norm_matches_torch(norm_type, zeros):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=shape) * 3.0 for shape in [(3, 4), (5,), ()]]
    if zeros:  # a zero entry (order -1: norm 0) and an all-zero gradient (order 0 skips it)
        grads[0][1, 2] = 0.0
        grads[1][:] = 0.0
    tensors = with_grads(grads)
    torch_params = [torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True) for grad in grads]
    for param, grad in zip(torch_params, grads):
        param.grad = torch.tensor(grad)
    total = clip_grad_norm_(tensors, 1.5, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, 1.5, norm_type=norm_type)
    np.testing.assert_allclose(total, torch_total.item(), rtol=1e-12)
    for tensor, param in zip(tensors, torch_params):
        np.testing.assert_allclose(tensor.grad, param.grad.numpy(), rtol=1e-12)

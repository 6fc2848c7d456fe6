"""gradcheck: accepts correct ops, catches a wrong backward and says where, refuses float32."""

import re

import numpy as np
import pytest
from helpers import arrays, broadcastable_shapes, uniform
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import GradcheckError, Tensor
from tinygrad_rnn.tensor import result

WRONG_INDEX = (1, 2)


def square_with_a_wrong_gradient_at(index):
    """x², whose backward is right everywhere except at ``index``, where it is off by +1."""

    def op(x):
        def wrong_backward(grad):
            gradient = 2 * x.data * grad
            gradient[index] += 1.0
            return (gradient,)

        return result(x.data**2, (x,), wrong_backward, "wrong")

    return op


def _figures(message):
    """Index, analytical and numerical values quoted in a GradcheckError message."""
    match = re.search(r"index \(([\d, ]*)\): analytical (\S+), numerical (\S+),", message)
    assert match, message
    index = tuple(int(i) for i in match.group(1).split(",") if i.strip())
    return index, float(match.group(2)), float(match.group(3))


@given(pair=broadcastable_shapes(max_dims=2, min_side=1), data=st.data())
def test_passes_on_correct_ops(pair, data):
    x, y = data.draw(arrays(pair[0])), data.draw(arrays(pair[1], uniform(0.5, 2.0)))
    inputs = [Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)]
    assert tg.gradcheck(lambda a, b: (a.tanh() * b.log()).sum() + (a / b).exp().mean(), inputs)


def test_fails_on_a_wrong_backward_and_names_input_index_and_values():
    x = Tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0 .*shape \\(3, 4\\)") as info:
        tg.gradcheck(lambda t: square_with_a_wrong_gradient_at(WRONG_INDEX)(t).sum(), [x])
    index, analytical, numerical = _figures(str(info.value))
    assert index == WRONG_INDEX
    # Both figures are scaled by gradcheck's random projection; the injected error is not.
    assert abs(numerical) > 0.1
    np.testing.assert_allclose(analytical - numerical, 1.0, rtol=1e-6)
    assert "1 of 12 elements fail" in str(info.value)


def test_returns_false_instead_of_raising_when_asked():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    wrong = square_with_a_wrong_gradient_at(WRONG_INDEX)
    assert tg.gradcheck(wrong, [x], raise_exception=False) is False
    assert tg.gradcheck(lambda t: t * t, [x], raise_exception=False) is True


def test_catches_a_wrong_backward_with_a_non_scalar_output():
    """The random projection reaches every output element, so nothing hides."""
    x = Tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(square_with_a_wrong_gradient_at(WRONG_INDEX), [x])
    assert _figures(str(info.value))[0] == WRONG_INDEX
    assert tg.gradcheck(lambda t: (t @ t.T).tanh(), [x])


def test_tuple_outputs_are_all_checked():
    x = Tensor(np.linspace(0.5, 2.0, 12).reshape(3, 4), requires_grad=True)
    assert tg.gradcheck(lambda t: (t.log(), t.sum(axis=0), t**2), [x])
    wrong = square_with_a_wrong_gradient_at(WRONG_INDEX)
    with pytest.raises(GradcheckError, match=re.escape(f"index {WRONG_INDEX}")):
        tg.gradcheck(lambda t: (t.log(), wrong(t)), [x])


def test_names_label_the_failing_input():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    y = Tensor(np.ones((3, 4)), requires_grad=True)
    wrong = square_with_a_wrong_gradient_at(WRONG_INDEX)
    with pytest.raises(GradcheckError, match="input 1 'bias'"):
        tg.gradcheck(lambda a, b: a * 2 + wrong(b), [x, y], names=["weight", "bias"])
    with pytest.raises(ValueError, match="gradcheck: 1 names for 2 inputs"):
        tg.gradcheck(lambda a, b: a + b, [x, y], names=["weight"])


def test_refuses_float32_and_explains_why():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32; finite differences need float64"):
        tg.gradcheck(lambda t: t * 2, [x])


def test_needs_an_input_that_requires_grad_and_a_tensor_output():
    with pytest.raises(ValueError, match="no input is a Tensor with requires_grad=True"):
        tg.gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])
    with pytest.raises(TypeError, match="fn must return a Tensor"):
        tg.gradcheck(lambda t: t.data, [Tensor(np.ones(2), requires_grad=True)])


def test_outputs_without_a_gradient_are_left_out_as_in_torch():
    # An argmax (it jumps between x ± ε) or a detached value beside a differentiable output
    # failed the check of a correct gradient; torch.autograd.gradcheck passes both.
    a = np.array([[0.5 + 1e-7, 0.5, -0.3], [0.1, 0.2, 0.3]])
    x = Tensor(a, requires_grad=True)
    assert tg.gradcheck(lambda t: (t * 2, t.argmax(axis=1)), [x])
    assert tg.gradcheck(lambda t: (t * 2, (t * t).detach()), [x])
    assert tg.gradcheck(lambda t: (), [x])  # nothing to check, as torch (it failed in NumPy)
    # With no differentiable output at all, a changing output must still fail: a backward
    # an op forgot to attach is caught.
    with pytest.raises(tg.GradcheckError, match="analytical 0, numerical"):
        tg.gradcheck(lambda t: (t * t).detach(), [x])
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(a, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: (t * 2, t.argmax(1)), [theirs])
    assert torch.autograd.gradcheck(lambda t: (t * 2, (t * t).detach()), [theirs])


@pytest.mark.parametrize(("settings", "error", "message"), [
    ({"eps": 0.0}, ValueError, "eps must be a finite number > 0, got 0.0"),
    ({"eps": "1e-6"}, TypeError, "eps must be a number, got '1e-6'"),
    ({"atol": -1.0}, ValueError, "atol must be a finite number >= 0, got -1.0"),
    ({"rtol": np.nan}, ValueError, "rtol must be a finite number >= 0, got nan"),
    ({"seed": -1}, ValueError, "seed must be an int >= 0, got -1"),
])
def test_settings_are_checked_with_named_errors(settings, error, message):
    # eps = 0 blamed a correct gradient (numerical nan); the others failed inside NumPy.
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(error, match=rf"^gradcheck: {message}"):
        tg.gradcheck(lambda t: t * t, [x], **settings)


def test_constants_and_non_tensor_inputs_pass_through_unchecked():
    x = Tensor(np.ones(3), requires_grad=True)
    constant = Tensor(np.arange(3.0))
    assert tg.gradcheck(lambda t, c, scale: t * c * scale, [x, constant, 2.5])
    assert constant.grad is None


def test_restores_existing_gradients_and_leaves_the_data_alone():
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    (x * 5).sum().backward()
    grad_before, data_before = x.grad, x.data
    values_before = x.data.copy()
    assert tg.gradcheck(lambda t: (t * t).tanh(), [x])
    assert x.grad is grad_before and x.data is data_before
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 5.0))
    np.testing.assert_array_equal(x.data, values_before)
    (x * 1).sum().backward()  # still accumulates into the restored gradient
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 6.0))


def test_an_input_without_a_gradient_keeps_none():
    x = Tensor(np.ones(2), requires_grad=True)
    assert tg.gradcheck(lambda t: t.exp(), [x])
    assert x.grad is None
    wrong = square_with_a_wrong_gradient_at(0)
    with pytest.raises(GradcheckError):
        tg.gradcheck(wrong, [x])
    assert x.grad is None


def test_parameters_the_function_uses_but_does_not_check_keep_their_gradients():
    """Only the inputs are checked; a weight fn closes over (a module's, say) is left as it
    was, as PyTorch's gradcheck leaves it: its None stays None, a gradient stays itself."""
    weight = tg.randn(3, 2, dtype="float64", requires_grad=True)
    bias = tg.randn(2, dtype="float64", requires_grad=True)
    bias.grad = np.full(2, 7.0)
    held = bias.grad
    x = tg.randn(4, 3, dtype="float64", requires_grad=True)
    assert tg.gradcheck(lambda x: (x @ weight + bias[None]).tanh(), [x])
    assert weight.grad is None and bias.grad is held
    np.testing.assert_array_equal(bias.grad, np.full(2, 7.0))


@pytest.mark.parametrize("derive", [lambda x: x * 1.0, lambda x: x[0:2]], ids=["computed", "view"])
def test_an_input_computed_from_another_or_a_view_is_checked_as_itself(derive):
    """torch.autograd.gradcheck differentiates by the inputs themselves, leaves or not; here
    such an input kept no .grad, so the analytical side read 0 and the check failed."""
    source = tg.randn(3, dtype="float64", requires_grad=True)
    assert tg.gradcheck(lambda a: a * 2.0 + a * a, [derive(source)])
    assert source.grad is None
    wrong = square_with_a_wrong_gradient_at(0)
    with pytest.raises(GradcheckError):
        tg.gradcheck(wrong, [derive(source)])


def test_large_outputs_the_element_does_not_touch_add_no_rounding_error():
    """y = (x0², 1e10 · x1): perturbing x0 leaves the 1e10-sized output exactly as it was.
    Differencing a projected sum instead would bury d(x0²) in rounding (ulp(1e10) / 2ε ≈ 1)."""
    x = tg.Tensor(np.array([0.3, 0.7]), requires_grad=True)
    fn = lambda t: tg.stack([t[0] * t[0], t[1] * 1e10])  # noqa: E731
    [check] = tg.check_gradients(fn, [x])
    assert check.failing == 0, check

"""Losses and linear: against NumPy formulas (and PyTorch when installed), exact gradients, bad input."""

import numpy as np
import pytest
from helpers import REDUCTIONS, arrays, check_vjp, classification_with_options, one_hot, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor
from tinygrad_rnn.functional import cross_entropy, dropout, linear, mse_loss


@st.composite
def classification(draw, logit_values=None, min_side=1):
    """(logits of shape (..., C), integer targets of shape (...)); leading shape may be (), and
    with ``min_side=0`` empty (no predictions: for "sum" and "none", not "mean")."""
    leading = draw(shapes(max_dims=2, min_side=min_side))
    classes = draw(st.integers(1, 5))
    logits = draw(arrays((*leading, classes), logit_values))
    targets = draw(hnp.arrays(np.int64, leading, elements=st.integers(0, classes - 1)))
    return logits, targets


def _reference_losses(logits, targets):
    """−log softmax(logits)[target], with the max subtracted first (stable)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0], np.exp(log_probs)


def _reduce(values, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](values)


# -- cross_entropy ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_matches_numpy_and_numerical_gradients(reduction, data):
    logits, targets = data.draw(classification(min_side=int(reduction == "mean")), label="case")
    [out] = check_vjp(lambda t: cross_entropy(t, targets, reduction=reduction), [logits], data)
    losses, _ = _reference_losses(logits, targets)
    assert out.shape == (targets.shape if reduction == "none" else ())
    np.testing.assert_allclose(out.data, _reduce(losses, reduction), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@given(case=classification(uniform(-20.0, 20.0)))
def test_cross_entropy_gradient_is_softmax_minus_one_hot(reduction, case):
    logits, targets = case
    x = Tensor(logits, requires_grad=True)
    cross_entropy(x, targets, reduction=reduction).backward()
    _, probabilities = _reference_losses(logits, targets)
    count = targets.size if reduction == "mean" else 1
    expected = (probabilities - one_hot(targets, logits.shape[-1])) / count
    np.testing.assert_allclose(x.grad, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=classification(st.sampled_from([-1e4, 0.0, 1e4]) | uniform(-1e4, 1e4)))
def test_cross_entropy_of_huge_logits_is_finite(reduction, case):
    logits, targets = case
    x = Tensor(logits, requires_grad=True)
    out = cross_entropy(x, targets, reduction=reduction)
    out.backward(np.ones(out.shape))
    losses, probabilities = _reference_losses(logits, targets)
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(out.data, _reduce(losses, reduction), rtol=1e-12, atol=1e-12)
    count = targets.size if reduction == "mean" else 1
    np.testing.assert_allclose(x.grad, (probabilities - one_hot(targets, logits.shape[-1])) / count,
                               atol=1e-12)


@given(case=classification(), data=st.data())
def test_cross_entropy_matches_the_computation_unrolled_from_primitives(case, data):
    """−mean(Σ one_hot · log_softmax), built from ops, agrees in value and gradient."""
    logits, targets = case
    upstream = np.array(data.draw(uniform(-2.0, 2.0), label="upstream"))
    fused, unrolled = Tensor(logits, requires_grad=True), Tensor(logits, requires_grad=True)
    loss = cross_entropy(fused, targets)
    picked = unrolled.log_softmax(axis=-1) * one_hot(targets, logits.shape[-1])
    reference = -picked.sum(axis=-1).mean()
    loss.backward(upstream)
    reference.backward(upstream)
    np.testing.assert_allclose(loss.data, reference.data, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.grad, unrolled.grad, rtol=1e-10, atol=1e-14)


@given(case=classification())
def test_cross_entropy_passes_gradcheck(case):
    logits, targets = case
    assert tg.gradcheck(lambda t: cross_entropy(t, targets), [Tensor(logits, requires_grad=True)])


def test_cross_entropy_of_1d_logits_with_a_0d_target():
    logits = np.array([2.0, 0.0, -1.0])
    x = Tensor(logits, requires_grad=True)
    for target in (np.array(0), 0, Tensor(0, dtype="int64")):
        x.zero_grad()
        loss = cross_entropy(x, target)
        assert loss.shape == ()
        loss.backward()
        losses, probabilities = _reference_losses(logits, np.array(0))
        np.testing.assert_allclose(loss.item(), losses, rtol=1e-14)
        np.testing.assert_allclose(x.grad, probabilities - [1.0, 0.0, 0.0], atol=1e-15)


def test_cross_entropy_accepts_targets_as_lists_and_int_tensors():
    logits = Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]))
    expected = cross_entropy(logits, np.array([1, 0])).item()
    assert cross_entropy(logits, [1, 0]).item() == expected
    assert cross_entropy(logits, Tensor([1, 0], dtype="int32")).item() == expected


@pytest.mark.parametrize("targets", [[0, 3], [-1, 0], [5, 7]])
def test_cross_entropy_refuses_targets_out_of_range(targets):
    with pytest.raises(ValueError, match=r"cross_entropy: targets must lie in \[0, 3\) .*\(2, 3\)"):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array(targets))


@pytest.mark.parametrize("targets", [np.array([0.0, 1.0]), [0.5, 1.0], np.array([True, False])],
                         ids=["float array", "float list", "bool"])
def test_cross_entropy_refuses_non_integer_targets(targets):
    with pytest.raises(TypeError, match=r"cross_entropy: targets must be integer .*\(2, 3\)"):
        cross_entropy(Tensor(np.zeros((2, 3))), targets)


def test_cross_entropy_refuses_ragged_targets_by_name():
    with pytest.raises(ValueError, match=r"cross_entropy: targets must be an array of class indices of "
                                         r"shape \(2,\), got a ragged list"):
        cross_entropy(Tensor(np.zeros((2, 3))), [[0], [1, 2]])


@pytest.mark.parametrize("targets", [np.array([0, 1, 2]), np.array([[0, 1]]), np.array(0)])
def test_cross_entropy_refuses_a_shape_mismatch(targets):
    with pytest.raises(ValueError, match="cross_entropy: targets of shape") as info:
        cross_entropy(Tensor(np.zeros((2, 3))), targets)
    assert str(targets.shape) in str(info.value) and "(2, 3)" in str(info.value)


def test_cross_entropy_refuses_bad_logits_and_reductions():
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of .*'avg'"):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: logits .*shape \(\)"):
        cross_entropy(Tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"cross_entropy: logits .*int64"):
        cross_entropy(Tensor(np.zeros((2, 3), dtype=np.int64)), np.array([0, 1]))
    with pytest.raises(TypeError, match="cross_entropy: logits must be a Tensor"):
        cross_entropy(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: logits .*C >= 1, got shape \(0, 0\)"):
        cross_entropy(Tensor(np.zeros((0, 0))), np.zeros(0, dtype=int), reduction="sum")


@pytest.mark.parametrize("targets", [np.zeros(0, dtype=int), [], np.zeros(0), Tensor([])],
                         ids=["int array", "list", "float array", "float tensor"])
def test_cross_entropy_of_no_predictions(targets):
    """sum and none of zero predictions are 0 and empty; their mean is refused, not NaN. No
    targets are no targets whatever their dtype (``np.asarray([])`` is float64)."""
    logits = Tensor(np.zeros((0, 3)), requires_grad=True)
    total = cross_entropy(logits, targets, reduction="sum")
    total.backward()
    assert total.item() == 0.0 and logits.grad.shape == (0, 3)
    assert cross_entropy(logits, targets, reduction="none").shape == (0,)
    with pytest.raises(ValueError, match=r"cross_entropy: the mean over no predictions"):
        cross_entropy(logits, targets)


# -- cross_entropy: ignore_index and label_smoothing ---------------------------------------------
def _reference_with_options(logits, targets, ignore_index, smoothing, reduction, weight=None):
    """Cross-entropy against q = (1 − ε)·one_hot + ε/C, 0 where ignored, mean over the kept;
    with class weights w, q_c · w_c for the loss (w[target] for the one-hot part) and the
    mean over Σ w[target] of the kept."""
    classes = logits.shape[-1]
    ignored = targets == ignore_index
    w = np.ones(classes) if weight is None else weight
    picked = np.where(ignored, 0, targets)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    q = (1 - smoothing) * one_hot(picked, classes) + smoothing / classes
    losses = np.where(ignored, 0.0, -(q * w * log_probs).sum(axis=-1))
    if reduction == "mean":
        return losses.sum() / np.where(ignored, 0.0, w[picked]).sum()
    return losses.sum() if reduction == "sum" else losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_with_ignore_index_and_label_smoothing(reduction, data):
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    [out] = check_vjp(lambda t: cross_entropy(t, targets, reduction, ignore_index=ignore_index,
                                              label_smoothing=smoothing), [logits], data)
    expected = _reference_with_options(logits, targets, ignore_index, smoothing, reduction)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_weighted_cross_entropy_matches_numpy_and_numerical_gradients(reduction, data):
    """Class weights (sometimes 0 for a class) with ignore_index and label smoothing; float64
    central differences for the gradient."""
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    classes = logits.shape[-1]
    weight = data.draw(arrays((classes,), st.sampled_from([0.0, 1.0]) | uniform(0.25, 3.0)),
                       label="weight")
    kept = targets[targets != ignore_index]
    if reduction == "mean" and not weight[kept].sum():
        weight = weight.copy()
        weight[kept.flat[0]] = 1.0  # a mean needs a kept target of nonzero weight
    [out] = check_vjp(lambda t: cross_entropy(t, targets, reduction, weight=weight,
                                              ignore_index=ignore_index, label_smoothing=smoothing),
                      [logits], data)
    expected = _reference_with_options(logits, targets, ignore_index, smoothing, reduction, weight)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@given(data=st.data())
def test_weighted_cross_entropy_is_weighted_nll_of_log_softmax(data):
    """Without smoothing, cross_entropy(x, t, weight=w) is nll_loss(log_softmax(x), t, w),
    values and gradients; all-ones weights give the unweighted loss."""
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    logits, targets, ignore_index, _ = data.draw(classification_with_options(reduction))
    weight = data.draw(arrays((logits.shape[-1],), uniform(0.25, 3.0)), label="weight")
    fused, unrolled = Tensor(logits, requires_grad=True), Tensor(logits, requires_grad=True)
    loss = cross_entropy(fused, targets, reduction, weight=weight, ignore_index=ignore_index)
    reference = tg.functional.nll_loss(unrolled.log_softmax(axis=-1), targets, weight, ignore_index,
                                       reduction)
    upstream = data.draw(arrays(loss.shape), label="upstream")
    loss.backward(upstream)
    reference.backward(upstream)
    np.testing.assert_allclose(loss.data, reference.data, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.grad, unrolled.grad, rtol=1e-10, atol=1e-14)
    ones = cross_entropy(Tensor(logits), targets, reduction, weight=np.ones(logits.shape[-1]),
                         ignore_index=ignore_index)
    plain = cross_entropy(Tensor(logits), targets, reduction, ignore_index=ignore_index)
    np.testing.assert_allclose(ones.data, plain.data, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_cross_entropy_stays_in_the_logits_dtype(reduction):
    """A float64 weight is cast to float32 logits' dtype: no float64 detour in value or gradient."""
    logits = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32),
                    requires_grad=True)
    out = cross_entropy(logits, np.array([0, -100, 2, 1, 2]), reduction, weight=np.array([1.0, 2.0, 0.5]),
                        label_smoothing=0.1)
    [grad] = out._backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and grad.dtype == np.float32


def test_weighted_cross_entropy_refuses_bad_weights_by_name():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^cross_entropy: weight must have shape \(3,\) for 3 classes, "
                                         r"got \(2,\)"):
        cross_entropy(logits, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(TypeError, match="^cross_entropy: weight must be a floating-point"):
        cross_entropy(logits, np.array([0, 1]), weight=np.ones(3, dtype=np.int64))
    with pytest.raises(ValueError, match="^cross_entropy: weight cannot require grad"):
        cross_entropy(logits, np.array([0, 1]), weight=Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(ValueError, match="^cross_entropy: the weights of the kept targets sum to 0"):
        cross_entropy(logits, np.array([0, 1]), weight=np.array([0.0, 0.0, 1.0]))
    with pytest.raises(TypeError, match="positional"):
        cross_entropy(logits, np.array([0, 1]), "mean", np.ones(3))  # torch's third positional
    assert cross_entropy(logits, np.array([0, 1]), "sum", weight=np.array([0.0, 0.0, 1.0])).item() == 0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_with_options_matches_torch(reduction, data):
    """Values and gradients against torch.nn.functional.cross_entropy on the (N, C) flattening."""
    torch = pytest.importorskip("torch")
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    options = {"reduction": reduction, "ignore_index": ignore_index, "label_smoothing": smoothing}
    ours = Tensor(logits, requires_grad=True)
    out = cross_entropy(ours, targets, **options)
    upstream = data.draw(arrays(out.shape), label="upstream")
    out.backward(upstream)
    theirs = torch.tensor(logits.reshape(-1, logits.shape[-1]), requires_grad=True)
    reference = torch.nn.functional.cross_entropy(theirs, torch.tensor(targets.reshape(-1)), **options)
    reference.backward(torch.tensor(upstream).reshape(reference.shape))
    np.testing.assert_allclose(out.data, reference.detach().numpy().reshape(out.shape), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy().reshape(logits.shape), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@given(data=st.data())
def test_ignored_predictions_are_as_if_left_out(reduction, data):
    """The loss equals that of the kept predictions alone; ignored rows get exactly 0 gradient."""
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options("mean"))
    kept = targets != ignore_index
    full = Tensor(logits, requires_grad=True)
    loss = cross_entropy(full, targets, reduction, ignore_index=ignore_index, label_smoothing=smoothing)
    loss.backward()
    part = Tensor(logits[kept], requires_grad=True)
    alone = cross_entropy(part, targets[kept], reduction, label_smoothing=smoothing)
    alone.backward()
    np.testing.assert_allclose(loss.data, alone.data, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(full.grad[kept], part.grad, rtol=1e-13, atol=1e-15)
    assert (full.grad[~kept] == 0).all()


@given(case=classification(), unused=st.sampled_from([-100, -7, 99]), data=st.data())
def test_an_ignore_index_that_matches_no_target_changes_nothing(case, unused, data):
    """Bit for bit, whether the op skips the pass over the targets (functional's call with an
    index outside their range) or makes it and finds nothing (ops' own default, an unused
    class between the smallest and largest target)."""
    logits, targets = case
    between = [c for c in range(targets.min(), targets.max() + 1) if c not in targets]
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    upstream = data.draw(arrays(targets.shape if reduction == "none" else ()), label="upstream")
    options = [{}, {"ignore_index": unused, "label_smoothing": 0},
               *({"ignore_index": c} for c in between[:1])]
    calls = [lambda x, kw=kw: cross_entropy(x, targets, reduction, **kw) for kw in options]
    calls.append(lambda x: tg.ops.cross_entropy_prechecked(x, targets, reduction, ignore_index=-100))
    results = []
    for call in calls:
        x = Tensor(logits, requires_grad=True)
        out = call(x)
        out.backward(upstream)
        results.append((out.data, x.grad))
    for value, grad in results[1:]:
        np.testing.assert_array_equal(value, results[0][0])
        np.testing.assert_array_equal(grad, results[0][1])


@given(data=st.data())
def test_cross_entropy_with_options_matches_the_computation_unrolled_from_primitives(data):
    """Σ over kept predictions of −Σ_c q_c · log_softmax_c, ÷ their number, built from ops."""
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options("mean"))
    classes = logits.shape[-1]
    kept = targets != ignore_index
    q = (1 - smoothing) * one_hot(np.where(kept, targets, 0), classes) + smoothing / classes
    upstream = np.array(data.draw(uniform(-2.0, 2.0), label="upstream"))
    fused, unrolled = Tensor(logits, requires_grad=True), Tensor(logits, requires_grad=True)
    loss = cross_entropy(fused, targets, ignore_index=ignore_index, label_smoothing=smoothing)
    per_prediction = -(unrolled.log_softmax(axis=-1) * q).sum(axis=-1)
    reference = (per_prediction * kept.astype(np.float64)).sum() / np.count_nonzero(kept)
    loss.backward(upstream)
    reference.backward(upstream)
    np.testing.assert_allclose(loss.data, reference.data, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.grad, unrolled.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_with_options_of_huge_logits_is_finite(reduction, data):
    values = st.sampled_from([-1e4, 0.0, 1e4]) | uniform(-1e4, 1e4)
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction, values))
    x = Tensor(logits, requires_grad=True)
    out = cross_entropy(x, targets, reduction, ignore_index=ignore_index, label_smoothing=smoothing)
    out.backward(np.ones(out.shape))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    expected = _reference_with_options(logits, targets, ignore_index, smoothing, reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_options_stays_in_float32(reduction):
    """No float64 detour (a NumPy integer count of kept targets would promote the mean's
    scale): the value, and the gradient the node hands to the engine, are float32."""
    logits = Tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32),
                    requires_grad=True)
    out = cross_entropy(logits, np.array([0, -100, 3, 1, -100, 2]), reduction, label_smoothing=0.2)
    [grad] = out._backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and grad.dtype == np.float32


def test_the_only_public_cross_entropy_checks_its_arguments():
    """ops.cross_entropy, public, trusted its caller: a target of -1 scored the last class, 5
    raised NumPy's bare IndexError and reduction="avg" summed. The unchecked node is named as
    ops' other unchecked ones (``*_prechecked``); the loss users call checks."""
    assert not hasattr(tg.ops, "cross_entropy") and hasattr(tg.ops, "cross_entropy_prechecked")
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^cross_entropy: targets must lie in \[0, 3\) .* got \[-1\]"):
        cross_entropy(logits, np.array([0, -1]))
    with pytest.raises(ValueError, match=r"^cross_entropy: reduction must be one of"):
        cross_entropy(logits, np.array([0, 1]), "avg")


def test_cross_entropy_when_every_target_is_ignored():
    """sum and none are 0 with a zero gradient; the mean over nothing is refused (torch: NaN)."""
    logits = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    targets = np.full(3, -100)
    total = cross_entropy(logits, targets, "sum", label_smoothing=0.5)
    total.backward()
    assert total.item() == 0.0 and (logits.grad == 0).all()
    assert cross_entropy(logits, targets, "none").tolist() == [0.0, 0.0, 0.0]
    message = (r"^cross_entropy: all 3 targets equal ignore_index \(-100\), so the mean over no "
               r"predictions \(logits of shape \(3, 2\)\) is undefined")
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, targets)
    with pytest.raises(ValueError, match=r"all 3 targets equal ignore_index \(1\)"):
        cross_entropy(logits, np.ones(3, dtype=int), ignore_index=1, label_smoothing=0.2)


def test_cross_entropy_exempts_only_ignore_index_from_the_range_check():
    logits = Tensor(np.zeros((4, 3)))
    assert cross_entropy(logits, np.array([-100, 0, 2, -100])).item() == pytest.approx(np.log(3))
    assert cross_entropy(logits, np.array([7, 0, 2, 7]), ignore_index=7).item() == pytest.approx(np.log(3))
    with pytest.raises(ValueError, match=r"^cross_entropy: targets must lie in \[0, 3\) for logits of "
                                         r"shape \(4, 3\), got \[3, -1\] \(ignore_index=-100 is exempt\)"):
        cross_entropy(logits, np.array([-100, 3, -1, 0]))


@pytest.mark.parametrize("options, error, message", [
    ({"ignore_index": 1.5}, TypeError, r"cross_entropy: ignore_index must be an int, got 1.5 \(float\)"),
    ({"ignore_index": True}, TypeError, r"cross_entropy: ignore_index must be an int, got True \(bool\)"),
    ({"ignore_index": None}, TypeError, r"cross_entropy: ignore_index must be an int, got None"),
    ({"label_smoothing": 1.5}, ValueError, r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
    ({"label_smoothing": -0.1}, ValueError, r"cross_entropy: label_smoothing must be in \[0, 1\], got -0.1"),
    ({"label_smoothing": float("nan")}, ValueError, r"cross_entropy: label_smoothing must be in \[0, 1\]"),
    ({"label_smoothing": "0.1"}, TypeError, r"cross_entropy: label_smoothing must be a number in \[0, 1\], "
                                            r"got '0.1'"),
])
def test_cross_entropy_refuses_bad_options(options, error, message):
    with pytest.raises(error, match=f"^{message}"):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), **options)


@pytest.mark.parametrize("options", [{"label_smoothing": 1}, {"label_smoothing": np.float32(0.25)},
                                     {"ignore_index": np.int64(1)}, {"ignore_index": np.int8(-1)}],
                         ids=["int smoothing", "np.float32 smoothing", "np.int64 index", "np.int8 index"])
def test_cross_entropy_takes_numpy_and_int_options_as_their_python_values(options):
    """The shortcut for a Python int ignore_index and float label_smoothing leaves the other
    accepted types to the full checks, which convert them."""
    logits, targets = Tensor(np.arange(6.0).reshape(2, 3)), np.array([0, 1])
    converted = {name: float(value) if name == "label_smoothing" else int(value)
                 for name, value in options.items()}
    expected = cross_entropy(logits, targets, "sum", **converted)
    assert cross_entropy(logits, targets, "sum", **options).item() == expected.item()


def test_cross_entropy_options_are_keyword_only():
    """As a positional argument, -100 would be easy to misread as a fourth option's value."""
    with pytest.raises(TypeError):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), "mean", -100)
    assert cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), "sum",
                         ignore_index=np.int64(1)).item() == pytest.approx(np.log(3))


# -- mse_loss ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_matches_numpy_and_numerical_gradients(reduction, data):
    """0-d, size-1 and (but for "mean", which refuses it) empty predictions."""
    shape = data.draw(shapes(min_side=int(reduction == "mean")), label="shape")
    prediction, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    [out] = check_vjp(lambda p: mse_loss(p, target, reduction=reduction), [prediction], data)
    np.testing.assert_allclose(out.data, _reduce((prediction - target) ** 2, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_gives_a_tensor_target_its_gradient_too(reduction, data):
    shape = data.draw(shapes(min_side=int(reduction == "mean")), label="shape")
    prediction, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    check_vjp(lambda p, t: mse_loss(p, t, reduction=reduction), [prediction, target], data)
    p, t = Tensor(prediction, requires_grad=True), Tensor(target, requires_grad=True)
    mse_loss(p, t, reduction="sum").backward()
    np.testing.assert_allclose(p.grad, 2 * (prediction - target), rtol=1e-14)
    np.testing.assert_allclose(t.grad, -2 * (prediction - target), rtol=1e-14)


def test_mse_loss_refuses_a_shape_mismatch_and_a_bad_reduction():
    with pytest.raises(
        ValueError, match=r"mse_loss: prediction of shape \(2, 3\) and target of shape \(3,\)",
    ):
        mse_loss(Tensor(np.zeros((2, 3))), np.zeros(3))
    with pytest.raises(ValueError, match=r"mse_loss: .*\(2, 3\).*\(3, 2\)"):
        mse_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of .*'max'"):
        mse_loss(Tensor(np.zeros(2)), np.zeros(2), reduction="max")
    with pytest.raises(TypeError, match="mse_loss: prediction must be a Tensor"):
        mse_loss(np.zeros(2), np.zeros(2))


@pytest.mark.parametrize(("target", "described"), [
    ("a", "str of dtype <U1"), (1j, "complex of dtype complex128"),
    (np.array(2 + 1j, dtype=np.complex64), "ndarray of dtype complex64"), (None, "NoneType of dtype object"),
])
def test_mse_loss_refuses_a_target_that_is_not_real_numbers(target, described):
    """A str was NumPy's bare "could not convert"; a complex target silently lost its imaginary
    part."""
    with pytest.raises(TypeError, match=rf"^mse_loss: target must be real numbers \(a Tensor, an array or "
                                        rf"a number\), got {described} \(prediction of shape \(\) and "
                                        rf"dtype float32\)"):
        mse_loss(Tensor(1.0), target)
    with pytest.raises(TypeError, match=r"^mse_loss: target must be real numbers .* got list of dtype object "
                                        r"\(prediction of shape \(2,\)"):
        mse_loss(Tensor([1.0, 2.0]), [[1.0], [1.0, 2.0]])
    assert mse_loss(Tensor([1.0, 2.0]), [1, True]).item() == 0.5


# -- linear ------------------------------------------------------------------------------------
@given(leading=shapes(max_dims=3), data=st.data(), k=st.integers(0, 4), m=st.integers(0, 4),
       with_bias=st.booleans())
def test_linear_over_any_leading_axes(leading, data, k, m, with_bias):
    """(*, in) → (*, out), including a 1-D input (no leading axes), size-0 leading axes, no
    input features (whose rows used to be reshaped to (-1, 0), refused) and no outputs."""
    x, w, b = data.draw(arrays((*leading, k))), data.draw(arrays((m, k))), data.draw(arrays((m,)))
    inputs = [x, w, b] if with_bias else [x, w]
    [out] = check_vjp(linear, inputs, data)
    assert out.shape == (*leading, m)
    np.testing.assert_allclose(out.data, x @ w.T + (b if with_bias else 0), rtol=1e-12, atol=1e-12)


@given(leading=shapes(max_dims=3), data=st.data(), k=st.integers(0, 4), m=st.integers(0, 4))
def test_linear_matches_torch(leading, data, k, m):
    torch = pytest.importorskip("torch")
    x, w, b = data.draw(arrays((*leading, k))), data.draw(arrays((m, k))), data.draw(arrays((m,)))
    upstream = data.draw(arrays((*leading, m)))
    ours = [Tensor(v, requires_grad=True) for v in (x, w, b)]
    linear(*ours).backward(upstream)
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    out = torch.nn.functional.linear(*theirs)
    out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(linear(*ours).data, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, torch_tensor in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, torch_tensor.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_refuses_bad_operands_with_its_name():
    with pytest.raises(ValueError, match=r"linear: input must be \(\*, in\) and weight \(out, in\), "
                                         r"got shapes \(2, 3\) and \(4, 5\)"):
        linear(tg.zeros(2, 3), tg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"linear: .*\(\) and \(4, 5\)"):
        linear(tg.zeros(()), tg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\) for a weight of shape "
                                         r"\(4, 5\), got \(5,\)"):
        linear(tg.zeros(2, 5), tg.zeros(4, 5), tg.zeros(5))
    with pytest.raises(TypeError, match="linear: input and weight must be Tensors, got list"):
        linear([[1.0]], tg.zeros(1, 1))
    with pytest.raises(TypeError, match=r"^linear: bias must be a Tensor, an array or None, got list "
                                        r"\(weight of shape \(4, 5\)\)"):
        linear(tg.zeros(2, 5), tg.zeros(4, 5), [1.0, 2.0, 3.0, 4.0])
    assert linear(tg.ones(2, 5), tg.ones(4, 5), np.arange(4.0)).tolist() == [[5.0, 6.0, 7.0, 8.0]] * 2


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=shapes(min_dims=1), data=st.data())
def test_functional_softmax_and_log_softmax_are_the_ops(name, shape, data):
    """Any axis, never empty (along an empty one the result is empty: tests/test_ops.py)."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    shape = tuple(max(n, 1) if i == axis % len(shape) else n for i, n in enumerate(shape))
    x = data.draw(arrays(shape, uniform(-5.0, 5.0)), label="x")
    [out] = check_vjp(lambda t: getattr(tg.functional, name)(t, axis), [x], data)
    np.testing.assert_array_equal(out.data, getattr(Tensor(x), name)(axis=axis).data)


# -- embedding -------------------------------------------------------------------------------
@st.composite
def embedding_cases(draw):
    """(ids, weight, padding_idx): ids of any shape (0-d, size-1, empty; repeats likely) into a
    table of 1 to 5 rows of 0 to 3 values, and padding_idx None or a row (negative too). The
    ids avoid the padding row by construction: a looked-up padding row gets no gradient, by
    design (tests/test_layers.py checks that against torch)."""
    count = draw(st.integers(1, 5))
    padding_idx = draw(st.none() | st.integers(-count, count - 1)) if count > 1 else None
    rows = [i for i in range(count) if padding_idx is None or i != padding_idx % count]
    ids = draw(hnp.arrays(np.int64, shapes(), elements=st.sampled_from(rows)))
    return ids, draw(arrays((count, draw(st.integers(0, 3))))), padding_idx


@given(case=embedding_cases(), data=st.data())
def test_embedding_gathers_rows_and_adds_the_gradients_of_repeated_ids(case, data):
    ids, weight, padding_idx = case
    [out] = check_vjp(lambda w: tg.functional.embedding(ids, w, padding_idx), [weight], data)
    assert out.shape == (*ids.shape, weight.shape[1])
    np.testing.assert_array_equal(out.data, weight[ids])


@pytest.mark.parametrize("ids", [[[0], [0, 1]], [0, [1]]], ids=["rows", "mixed"])
def test_embedding_refuses_ragged_ids_by_name(ids):
    """NumPy's "inhomogeneous shape" ValueError came out bare."""
    weight = Tensor(np.ones((4, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"^embedding: ids must be an array of integers, got a ragged list "
                                         r"\(weight of shape \(4, 2\)\)$"):
        tg.functional.embedding(ids, weight)


def test_softmax_and_log_softmax_refuse_an_array_by_name():
    """Through ops: the memoryview behind ``ndarray.data`` had no ``max``."""
    for function in (tg.functional.softmax, tg.functional.log_softmax):
        with pytest.raises(TypeError, match=rf"^{function.__name__}: expected a Tensor as the first "
                                            r"argument, got ndarray of shape \(3,\) and dtype float64"):
            function(np.ones(3))


# -- dropout ---------------------------------------------------------------------------------
@given(x=shapes().flatmap(arrays), p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_dropout_vjp_and_values_with_a_fixed_mask(x, p, seed, data):
    """One mask per call (a fresh generator from ``seed``): the values are 0 or x/(1 − p),
    and the VJP, including 0-d, size-1 and empty inputs, matches central differences."""
    (out,) = check_vjp(lambda t: dropout(t, p, rng=np.random.default_rng(seed)), [x], data)
    keep = np.random.default_rng(seed).random(x.shape) >= p
    expected = np.where(keep, x / (1 - p) if p < 1 else 0.0, 0.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)
    assert out.shape == x.shape and out.dtype == np.float64


def test_dropout_keeps_one_minus_p_of_the_elements_and_the_mean():
    x = tg.ones(400, 500, dtype="float32")
    out = dropout(x, 0.3, rng=np.random.default_rng(0))
    assert out.dtype == np.float32
    assert abs((out.data != 0).mean() - 0.7) < 0.005  # 200,000 draws: std 0.001
    assert abs(out.data.mean() - 1.0) < 0.01
    assert set(np.unique(out.data).tolist()) == {0.0, np.float32(1 / 0.7)}


def test_dropout_off_is_the_identity_and_p_one_drops_everything():
    x = tg.Tensor(np.arange(1.0, 5.0), requires_grad=True)
    assert dropout(x, 0.5, training=False) is x and dropout(x, 0.0) is x
    dropped = dropout(x, 1.0)
    assert (dropped.data == 0).all()
    dropped.sum().backward()
    assert (x.grad == 0).all()


def test_dropout_follows_manual_seed():
    tg.manual_seed(11)
    first = dropout(tg.ones(50), 0.5).data
    tg.manual_seed(11)
    np.testing.assert_array_equal(dropout(tg.ones(50), 0.5).data, first)


@pytest.mark.parametrize("call, error, message", [
    (lambda: dropout(np.ones(3), 0.5), TypeError, "dropout: input must be a Tensor, got ndarray"),
    (lambda: dropout(Tensor(np.arange(3)), 0.5), TypeError, r"dropout: input must have a floating-point "
                                                           r"dtype, got int64 \(shape \(3,\)\)"),
    (lambda: dropout(tg.ones(3), 1.5), ValueError, r"dropout: p must be in \[0, 1\], got 1.5"),
    (lambda: dropout(tg.ones(3), -0.1), ValueError, r"dropout: p must be in \[0, 1\], got -0.1"),
    (lambda: dropout(tg.ones(3), True), TypeError, r"dropout: p must be a number in \[0, 1\], got True"),
    (lambda: dropout(tg.ones(3), float("nan")), ValueError, "dropout: p must be in"),
])
def test_dropout_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- nll_loss and one_hot ----------------------------------------------------------------------
@st.composite
def nll_arguments(draw):
    """(reduction, log-probabilities, targets, ignore_index, weight or None): the targets and
    ignore_index of ``classification_with_options``; weights in [0.5, 2], so a mean's total
    weight is positive by construction."""
    reduction = draw(st.sampled_from(REDUCTIONS))
    logits, targets, ignore_index, _ = draw(classification_with_options(reduction))
    weight = draw(st.none() | arrays((logits.shape[-1],), uniform(0.5, 2.0)))
    return reduction, logits, targets, ignore_index, weight


@given(arguments=nll_arguments(), data=st.data())
def test_nll_loss_matches_numpy_torch_and_numerical_gradients(arguments, data):
    torch = pytest.importorskip("torch")
    reduction, log_probs, targets, ignore_index, weight = arguments

    def loss(t):
        return tg.functional.nll_loss(t, targets, weight, ignore_index, reduction)

    [out] = check_vjp(loss, [log_probs], data)
    kept = targets != ignore_index
    scale = np.where(kept, 1.0 if weight is None else weight[np.where(kept, targets, 0)], 0.0)
    picked = np.take_along_axis(log_probs, np.where(kept, targets, 0)[..., None], axis=-1)[..., 0]
    losses = -picked * scale
    expected = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / max(scale.sum(), 1e-300)}
    np.testing.assert_allclose(out.data, expected[reduction], rtol=1e-12, atol=1e-12)

    upstream = data.draw(arrays(out.shape), label="upstream")
    ours = Tensor(log_probs, requires_grad=True)
    loss(ours).backward(upstream)
    theirs = torch.tensor(log_probs.reshape(-1, log_probs.shape[-1]), requires_grad=True)
    reference = torch.nn.functional.nll_loss(theirs, torch.tensor(targets.reshape(-1)),
                                             None if weight is None else torch.tensor(weight),
                                             ignore_index=ignore_index, reduction=reduction)
    reference.backward(torch.tensor(upstream).reshape(reference.shape))
    np.testing.assert_allclose(out.data, reference.detach().numpy().reshape(out.shape), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy().reshape(log_probs.shape), rtol=1e-12,
                               atol=1e-12)


@given(case=classification(), data=st.data())
def test_nll_loss_of_log_softmax_is_cross_entropy(case, data):
    logits, targets = case
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    composed = check_vjp(lambda t: tg.functional.nll_loss(t.log_softmax(dim=-1), targets,
                                                          reduction=reduction), [logits], data)
    np.testing.assert_allclose(composed[0].data, cross_entropy(Tensor(logits), targets, reduction).data,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ((Tensor(np.zeros((2, 3), dtype=np.int64)), [0, 1]), ValueError,
     r"input must be a floating-point tensor of shape \(\.\.\., C\) with C >= 1, got shape \(2, 3\) "
     r"and dtype int64"),
    ((np.zeros((2, 3)), [0, 1]), TypeError, "input must be a Tensor, got ndarray"),
    ((Tensor(np.zeros((2, 3))), [0, 3]), ValueError,
     r"targets must lie in \[0, 3\) for input of shape \(2, 3\), got \[3\]"),
    ((Tensor(np.zeros((2, 3))), [0]), ValueError,
     r"targets of shape \(1,\) do not match input of shape \(2, 3\)"),
    ((Tensor(np.zeros((2, 3))), [0, 1], np.ones(2)), ValueError,
     r"weight must have shape \(3,\) for 3 classes, got \(2,\)"),
    ((Tensor(np.zeros((2, 3))), [0, 1], np.ones(3, dtype=np.int64)), TypeError,
     "weight must be a floating-point Tensor or array of one weight per class, got dtype int64"),
    ((Tensor(np.zeros((2, 3))), [0, 1], Tensor(np.ones(3), requires_grad=True)), ValueError,
     "weight cannot require grad"),
    ((Tensor(np.zeros((2, 3))), [-100, -100]), ValueError,
     r"the mean is undefined: no target is kept \(2 given, ignore_index=-100\) \(input of shape \(2, 3\)\)"),
    ((Tensor(np.zeros((2, 3))), [1, 1], np.array([1.0, 0.0, 1.0])), ValueError,
     "the mean is undefined: the weights of the kept targets sum to 0"),
    ((Tensor(np.zeros((2, 3))), [0, 1], None, -100, "avg"), ValueError, "reduction must be one of"),
    ((Tensor(np.zeros((2, 3))), [0, 1], None, 1.5), TypeError, "ignore_index must be an int, got 1.5"),
])
def test_nll_loss_refuses_bad_arguments_by_name(arguments, error, message):
    with pytest.raises(error, match=f"^nll_loss: {message}"):
        tg.functional.nll_loss(*arguments)


def test_nll_loss_of_no_predictions_sums_to_zero_and_refuses_a_mean():
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    assert tg.functional.nll_loss(empty, np.zeros(0, dtype=int), reduction="sum").item() == 0.0
    assert tg.functional.nll_loss(empty, np.zeros(0, dtype=int), reduction="none").shape == (0,)
    with pytest.raises(ValueError, match=r"^nll_loss: the mean is undefined: no target is kept \(0 given"):
        tg.functional.nll_loss(empty, np.zeros(0, dtype=int))


@given(shape=shapes(max_dims=2), data=st.data())
def test_one_hot_matches_torch(shape, data):
    torch = pytest.importorskip("torch")
    classes = data.draw(st.integers(1, 4), label="classes")
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, classes - 1)), label="indices")
    num_classes = data.draw(st.sampled_from([-1, classes, classes + 2]) if indices.size
                            else st.sampled_from([classes, classes + 2]), label="num_classes")
    out = tg.functional.one_hot(Tensor(indices), num_classes)
    expected = torch.nn.functional.one_hot(torch.tensor(indices), num_classes).numpy()
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(tg.functional.one_hot(indices.astype(np.int32), num_classes).data, expected)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    (([-1, 2],), ValueError, r"the indices must be non-negative, got -1 \(shape \(2,\)\)"),
    (([1, 2], 2), ValueError, r"the indices must be smaller than num_classes=2, got 2"),
    ((np.zeros(0, dtype=int),), ValueError, r"cannot infer num_classes from no indices \(shape \(0,\)\)"),
    (([1], 0), ValueError, "num_classes must be -1 \\(inferred\\) or at least 1, got 0"),
    (([1], 2.0), TypeError, "num_classes must be an int, got 2.0"),
    ((np.array([1.0, 2.0]), 3), TypeError, r"the indices must be integers, got dtype float64 \(shape \(2,"),
    (([[1], [1, 2]], 3), ValueError, "the indices must be an array of integers, got a ragged list"),
    (([1], 10**30), ValueError, r"num_classes=10{30} for indices of shape \(1,\) makes a result larger"),
    (([1], 2**62), ValueError, "num_classes=4611686018427387904 .* larger than an array can be"),
])
def test_one_hot_refuses_what_torch_refuses_by_name(arguments, error, message):
    with pytest.raises(error, match=f"^one_hot: {message}"):
        tg.functional.one_hot(*arguments)


def test_torch_nn_functional_import_spellings_give_this_module():
    """``import torch.nn.functional as F``, rewritten for this library, needs nothing else."""
    import tinygrad_rnn.nn.functional as nn_functional
    from tinygrad_rnn.nn import functional as attribute
    from tinygrad_rnn.nn.functional import binary_cross_entropy_with_logits, cross_entropy

    assert nn_functional is attribute is tg.nn.functional is tg.functional
    assert cross_entropy is tg.functional.cross_entropy
    assert binary_cross_entropy_with_logits is tg.functional.binary_cross_entropy_with_logits
    assert "functional" in tg.nn.__all__
    for name in ("relu", "tanh", "sigmoid"):  # F.relu(x) as in torch: the op, with its gradient
        assert getattr(tg.functional, name) is getattr(tg.ops, name)
    x = Tensor([-1.0, 2.0], requires_grad=True)
    tg.functional.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]

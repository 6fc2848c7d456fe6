"""nn.CrossEntropyLoss and nn.MSELoss: the functional losses with their settings checked up front."""

import numpy as np
import pytest
from helpers import REDUCTIONS, arrays, check_vjp, classification_with_options, shapes
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, functional, nn


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_loss_is_the_functional_loss_with_its_settings(reduction, data):
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    criterion = nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index, label_smoothing=smoothing)
    [out] = check_vjp(lambda t: criterion(t, targets), [logits], data)
    expected = functional.cross_entropy(Tensor(logits), targets, reduction, ignore_index=ignore_index,
                                        label_smoothing=smoothing)
    np.testing.assert_array_equal(out.data, expected.data)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_loss_matches_torch(reduction, data):
    torch = pytest.importorskip("torch")
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    settings = {"reduction": reduction, "ignore_index": ignore_index, "label_smoothing": smoothing}
    ours = Tensor(logits, requires_grad=True)
    out = nn.CrossEntropyLoss(**settings)(ours, targets)
    upstream = data.draw(arrays(out.shape), label="upstream")
    out.backward(upstream)
    theirs = torch.tensor(logits.reshape(-1, logits.shape[-1]), requires_grad=True)
    reference = torch.nn.CrossEntropyLoss(**settings)(theirs, torch.tensor(targets.reshape(-1)))
    reference.backward(torch.tensor(upstream).reshape(reference.shape))
    np.testing.assert_allclose(out.data, reference.detach().numpy().reshape(out.shape), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy().reshape(logits.shape), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_module_matches_numpy_torch_and_numerical_gradients(reduction, data):
    """Both operands may require grad; values and both gradients as torch.nn.MSELoss; 0-d,
    size-1 and (but for "mean", which refuses it) empty operands."""
    shape = data.draw(shapes(min_side=int(reduction == "mean")), label="shape")
    prediction = data.draw(arrays(shape), label="prediction")
    target = data.draw(arrays(shape), label="target")
    criterion = nn.MSELoss(reduction)
    [out] = check_vjp(criterion, [prediction, target], data)
    squared = (prediction - target) ** 2
    expected = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](squared)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)

    torch = pytest.importorskip("torch")
    upstream = data.draw(arrays(out.shape), label="upstream")
    ours = [Tensor(v, requires_grad=True) for v in (prediction, target)]
    criterion(*ours).backward(upstream)
    theirs = [torch.tensor(v, requires_grad=True) for v in (prediction, target)]
    reference = torch.nn.MSELoss(reduction=reduction)(*theirs)
    reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-15)
    for mine, torch_tensor in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, torch_tensor.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_loss_modules_have_no_parameters_and_show_their_settings():
    criterion = nn.CrossEntropyLoss(reduction="sum", ignore_index=np.int64(3), label_smoothing=1)
    assert repr(criterion) == "CrossEntropyLoss(reduction='sum', ignore_index=3, label_smoothing=1.0)"
    assert type(criterion.ignore_index) is int and type(criterion.label_smoothing) is float
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean', ignore_index=-100, " \
                                          "label_smoothing=0.0)"
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"
    for module in (criterion, nn.MSELoss()):
        assert list(module.parameters()) == [] and len(module.state_dict()) == 0
        assert isinstance(module, nn.Module)


def test_the_modules_keep_pytorch_keyword_names_and_defaults():
    """``CrossEntropyLoss(reduction, ignore_index, label_smoothing)`` positionally too, as torch;
    torch's ``weight``, ``size_average`` and ``reduce`` are not offered."""
    criterion = nn.CrossEntropyLoss("none", 0, 0.25)
    assert (criterion.reduction, criterion.ignore_index, criterion.label_smoothing) == ("none", 0, 0.25)
    assert nn.MSELoss("sum").reduction == "sum"
    for unsupported in ("weight", "size_average", "reduce"):
        with pytest.raises(TypeError, match=unsupported):
            nn.CrossEntropyLoss(**{unsupported: None})


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError,
     r"CrossEntropyLoss: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"),
    (lambda: nn.CrossEntropyLoss(ignore_index=-100.0), TypeError,
     r"CrossEntropyLoss: ignore_index must be an int, got -100.0 \(float\)"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError,
     r"CrossEntropyLoss: label_smoothing must be in \[0, 1\], got 1.5"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=None), TypeError,
     r"CrossEntropyLoss: label_smoothing must be a number in \[0, 1\], got None"),
    (lambda: nn.MSELoss(reduction="elementwise_mean"), ValueError,
     r"MSELoss: reduction must be one of \('mean', 'sum', 'none'\), got 'elementwise_mean'"),
])
def test_bad_settings_are_refused_when_the_module_is_made(make, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        make()


def test_bad_inputs_are_refused_by_the_functional_loss_with_the_shapes():
    with pytest.raises(ValueError, match=r"^cross_entropy: targets of shape \(3,\) do not match logits "
                                         r"of shape \(2, 4\)"):
        nn.CrossEntropyLoss()(Tensor(np.zeros((2, 4))), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"^cross_entropy: all 2 targets equal ignore_index \(-100\)"):
        nn.CrossEntropyLoss()(Tensor(np.zeros((2, 4))), np.array([-100, -100]))
    with pytest.raises(ValueError, match=r"^mse_loss: prediction of shape \(2, 3\) and target of shape "
                                         r"\(3,\) must have the same shape"):
        nn.MSELoss()(Tensor(np.zeros((2, 3))), np.zeros(3))


@given(data=st.data())
def test_nll_loss_module_is_the_functional_loss_with_its_settings(data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    log_probs, targets, ignore_index, _ = data.draw(classification_with_options(reduction))
    weight = data.draw(st.none() | arrays((log_probs.shape[-1],), st.floats(0.5, 2.0)), label="weight")
    criterion = nn.NLLLoss(weight, ignore_index=ignore_index, reduction=reduction)
    [out] = check_vjp(lambda t: criterion(t, targets), [log_probs], data)
    expected = functional.nll_loss(Tensor(log_probs), targets, weight, ignore_index, reduction)
    np.testing.assert_array_equal(out.data, expected.data)


def test_nll_loss_module_checks_its_settings_once_by_name():
    assert repr(nn.NLLLoss()) == "NLLLoss(reduction='mean', ignore_index=-100)"
    assert repr(nn.NLLLoss(Tensor([1.0, 0.5]), reduction="sum")) == \
        "NLLLoss(weight=[1.0, 0.5], reduction='sum', ignore_index=-100)"
    with pytest.raises(ValueError, match="^NLLLoss: reduction must be one of"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(TypeError, match="^NLLLoss: ignore_index must be an int"):
        nn.NLLLoss(ignore_index=None)
    with pytest.raises(ValueError, match=r"^NLLLoss: weight must have shape \(C,\), got \(2, 2\)"):
        nn.NLLLoss(np.ones((2, 2)))
    with pytest.raises(TypeError, match="takes from 1 to 2 positional arguments"):
        nn.NLLLoss(None, None, -100)  # torch's positional size_average, ignore_index
    with pytest.raises(ValueError, match=r"^nll_loss: weight must have shape \(3,\) for 3 classes"):
        nn.NLLLoss(np.ones(2))(Tensor(np.zeros((1, 3))), [0])

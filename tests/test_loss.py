"""nn.CrossEntropyLoss, nn.NLLLoss and nn.MSELoss: the functional losses with their settings checked up
front; NLLLoss's class weight a buffer, as torch's."""

import inspect

import numpy as np
import pytest
from helpers import REDUCTIONS, arrays, check_vjp, classification_with_options, shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
    """``CrossEntropyLoss(weight, *, ignore_index, reduction, label_smoothing)``: torch's first
    positional argument, then keywords only (torch's next positional ones, ``size_average``
    and ``ignore_index``, are a TypeError rather than a silent mix-up); torch's
    ``size_average`` and ``reduce`` are not offered."""
    criterion = nn.CrossEntropyLoss(np.array([1.0, 2.0]), reduction="none", ignore_index=0,
                                    label_smoothing=0.25)
    assert (criterion.reduction, criterion.ignore_index, criterion.label_smoothing) == ("none", 0, 0.25)
    assert criterion.weight.tolist() == [1.0, 2.0]
    assert nn.CrossEntropyLoss().weight is None
    with pytest.raises(TypeError, match="positional"):
        nn.CrossEntropyLoss(None, None, -100)
    assert nn.MSELoss("sum").reduction == "sum"
    for unsupported in ("size_average", "reduce"):
        with pytest.raises(TypeError, match=unsupported):
            nn.CrossEntropyLoss(**{unsupported: None})
    torch = pytest.importorskip("torch")
    ours, theirs = (inspect.signature(f).parameters for f in (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss))
    assert [name for name in ours] == [name for name in theirs if name not in ("size_average", "reduce")]
    assert all(ours[name].default == theirs[name].default for name in ours)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_weighted_cross_entropy_loss_matches_torch(reduction, data):
    """Class weights with every reduction, ignore_index and label smoothing: loss and gradient
    as torch.nn.CrossEntropyLoss(weight), whose "mean" divides by Σ w[target]."""
    torch = pytest.importorskip("torch")
    logits, targets, ignore_index, smoothing = data.draw(classification_with_options(reduction))
    weight = data.draw(arrays((logits.shape[-1],), st.floats(0.5, 2.0)), label="weight")
    settings = {"reduction": reduction, "ignore_index": ignore_index, "label_smoothing": smoothing}
    ours = Tensor(logits, requires_grad=True)
    out = nn.CrossEntropyLoss(weight, **settings)(ours, targets)
    upstream = data.draw(arrays(out.shape), label="upstream")
    out.backward(upstream)
    theirs = torch.tensor(logits.reshape(-1, logits.shape[-1]), requires_grad=True)
    reference = torch.nn.CrossEntropyLoss(torch.tensor(weight), **settings)(
        theirs, torch.tensor(targets.reshape(-1)))
    reference.backward(torch.tensor(upstream).reshape(reference.shape))
    np.testing.assert_allclose(out.data, reference.detach().numpy().reshape(out.shape), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy().reshape(logits.shape), rtol=1e-10,
                               atol=1e-12)


@given(data=st.data())
def test_cross_entropy_loss_weight_is_a_buffer(data):
    """As NLLLoss's: in state_dict when given, loaded in place, cast by to(), and the loss
    follows a loaded weight."""
    logits, targets, ignore_index, _ = data.draw(classification_with_options("mean"))
    classes = logits.shape[-1]
    weight = data.draw(arrays((classes,), st.floats(0.5, 2.0)), label="weight")
    criterion = nn.CrossEntropyLoss(weight, ignore_index=ignore_index)
    np.testing.assert_array_equal(criterion.state_dict()["weight"], weight)
    other = data.draw(arrays((classes,), st.floats(0.5, 2.0)), label="other")
    criterion.load_state_dict({"weight": other})
    expected = functional.cross_entropy(Tensor(logits), targets, weight=other, ignore_index=ignore_index)
    np.testing.assert_array_equal(criterion(Tensor(logits), targets).data, expected.data)
    assert criterion.float().weight.dtype == np.float32
    assert list(nn.CrossEntropyLoss().state_dict()) == []


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


@given(data=st.data())
def test_nll_loss_weight_is_a_buffer_saved_loaded_and_cast_as_in_torch(data):
    classes = data.draw(st.integers(1, 5), label="classes")
    weight = data.draw(arrays((classes,), st.floats(0.5, 2.0)), label="weight")
    log_probs = data.draw(arrays((4, classes)), label="log_probs")
    targets = data.draw(hnp.arrays(np.int64, 4, elements=st.integers(0, classes - 1)), label="targets")
    given_tensor = Tensor(weight)
    criterion = nn.NLLLoss(given_tensor)
    assert criterion.weight is given_tensor and criterion.get_buffer("weight") is given_tensor
    assert list(criterion.state_dict()) == ["weight"] and list(criterion.parameters()) == []
    np.testing.assert_array_equal(criterion.state_dict()["weight"], weight)
    from_array = nn.NLLLoss(weight)  # an array becomes a Tensor copy of it
    assert type(from_array.weight) is Tensor and not np.shares_memory(from_array.weight.data, weight)
    # a fresh loss takes the weight from a state dict, in place, and then weighs by it
    fresh = nn.NLLLoss(np.ones(classes))
    array = fresh.weight.data
    assert fresh.load_state_dict(criterion.state_dict()) == ([], [])
    assert fresh.weight.data is array
    expected = functional.nll_loss(Tensor(log_probs), targets, weight)
    np.testing.assert_array_equal(fresh(Tensor(log_probs), targets).data, expected.data)
    with pytest.raises(ValueError,
                       match=r"^NLLLoss\.load_state_dict: 1 problem\(s\):\n  missing keys: 'weight'$"):
        fresh.load_state_dict({})
    assert criterion.float() is criterion and criterion.weight.dtype == np.float32  # cast, as torch
    np.testing.assert_allclose(criterion(Tensor(log_probs), targets).data, expected.data, rtol=1e-6)

    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.NLLLoss(torch.tensor(weight)), torch.nn.NLLLoss())
    ours = nn.Sequential(nn.NLLLoss(np.ones(classes)), nn.NLLLoss())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight"]
    assert [name for name, _ in ours.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    reference = theirs[0](torch.tensor(log_probs), torch.tensor(targets))
    np.testing.assert_allclose(ours[0](Tensor(log_probs), targets).data, reference.numpy(), rtol=1e-12)


def test_nll_loss_without_a_weight_holds_a_none_buffer_and_saves_nothing_as_torch():
    criterion = nn.NLLLoss()
    assert criterion.weight is None and criterion.get_buffer("weight") is None
    assert len(criterion.state_dict()) == 0 and list(criterion.buffers()) == []
    with pytest.raises(ValueError, match=r"unexpected keys: 'weight'"):  # no weight to load into
        criterion.load_state_dict({"weight": np.ones(3)})
    criterion.weight = Tensor([1.0, 4.0])  # set later, as torch allows: now saved and used
    assert list(criterion.state_dict()) == ["weight"]
    assert criterion(Tensor([[-1.0, -2.0]]), np.array([1])).item() == 2.0
    assert repr(criterion) == "NLLLoss(weight=[1.0, 4.0], reduction='mean', ignore_index=-100)"


def test_nll_loss_refuses_a_bad_weight_by_name_at_construction_and_assignment():
    with pytest.raises(ValueError, match=r"^NLLLoss: weight cannot require grad .* pass weight.detach\(\)"):
        nn.NLLLoss(Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(TypeError, match=r"^NLLLoss: weight must be a floating-point Tensor or array of one "
                                        r"weight per class, got dtype int64"):
        nn.NLLLoss(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"^NLLLoss: weight must be a floating-point .*, got list"):
        nn.NLLLoss([1.0, 2.0])
    criterion = nn.NLLLoss(np.ones(2))
    with pytest.raises(TypeError, match=r"^NLLLoss: buffer 'weight' must be a Tensor or None, got ndarray"):
        criterion.weight = np.ones(2)
    with pytest.raises(ValueError, match=r"^NLLLoss: buffer 'weight' cannot hold a Tensor that requires "):
        criterion.weight = Tensor([1.0, 2.0], requires_grad=True)
    assert criterion.weight.tolist() == [1.0, 1.0]

"""The elementwise losses: functional.binary_cross_entropy_with_logits, binary_cross_entropy,
l1_loss, smooth_l1_loss and huber_loss, and their modules BCEWithLogitsLoss, BCELoss, L1Loss,
SmoothL1Loss and HuberLoss.

Each loss is checked against a NumPy reference and central differences (in both operands) for
every reduction, with 0-d, size-1 and empty shapes and ``weight``/``pos_weight`` broadcast
from a trailing part of the input's shape; against torch where it is installed (extreme
logits, BCE at exactly 0 and 1, ties at beta and delta); as modules (the functional loss with
its settings, the weights as buffers); and for the errors that name the op and the shapes.
"""

import inspect

import numpy as np
import pytest
from helpers import REDUCTIONS, arrays, away_from_zero, check_vjp, shapes, uniform
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, functional, nn

LOSSES = ["binary_cross_entropy_with_logits", "binary_cross_entropy", "l1_loss", "smooth_l1_loss",
          "huber_loss"]
MODULES = {"binary_cross_entropy_with_logits": nn.BCEWithLogitsLoss, "binary_cross_entropy": nn.BCELoss,
           "l1_loss": nn.L1Loss, "smooth_l1_loss": nn.SmoothL1Loss, "huber_loss": nn.HuberLoss}
PROBABILITIES = st.sampled_from([0.0, 1.0]) | uniform(0.0, 1.0)


# -- NumPy references ----------------------------------------------------------------------
def reduced(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def reference_losses(name: str, input: np.ndarray, target: np.ndarray, weight=None, pos_weight=None,
                     beta=None, delta=None) -> np.ndarray:
    """The per-element loss, from torch's documented formulas."""
    w = 1.0 if weight is None else weight
    if name == "binary_cross_entropy_with_logits":
        p = 1.0 if pos_weight is None else pos_weight
        return w * ((1 - target) * input + (1 + (p - 1) * target) * np.logaddexp(0.0, -input))
    if name == "binary_cross_entropy":
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.maximum(np.log(input), -100), np.maximum(np.log(1 - input), -100)
        return -w * (target * log_x + (1 - target) * log_1mx)
    distance = np.abs(input - target)
    if name == "l1_loss" or beta == 0:
        return distance
    if name == "smooth_l1_loss":
        return np.where(distance < beta, 0.5 * distance**2 / beta, distance - 0.5 * beta)
    return np.where(distance <= delta, 0.5 * distance**2, delta * (distance - 0.5 * delta))


# -- strategies ----------------------------------------------------------------------------
@st.composite
def weight_shapes(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape`` without enlarging it, as torch asks of a weight: a
    trailing part of ``shape`` (none of it: 0-d), each axis kept or made 1."""
    kept = draw(st.integers(0, len(shape)))
    return tuple(draw(st.sampled_from([side, 1])) for side in shape[len(shape) - kept:])


def optional_weights(shape: tuple[int, ...], values: st.SearchStrategy[float]):
    """None, or a float64 array of a shape from ``weight_shapes(shape)``."""
    return st.none() | weight_shapes(shape).flatmap(lambda weight_shape: arrays(weight_shape, values))


def reductions_for(shape: tuple[int, ...]) -> list[str]:
    """Every reduction but "mean" of an empty input (refused, see the bad-input tests): a test
    that tries them all on one drawn case keeps empty shapes in play."""
    return [reduction for reduction in REDUCTIONS if reduction != "mean" or np.prod(shape) > 0]


def loss_shapes(reduction: str, min_dims: int = 0):
    """Input shapes with 0-d and size-1 axes; empty ones too but under "mean" (refused there)."""
    return shapes(min_dims=min_dims, min_side=int(reduction == "mean"))


@st.composite
def binary_cases(draw, name: str, reduction: str, values, targets):
    """(input, target, settings) for a BCE loss: values and targets of one shape, and an optional
    ``weight`` (and, with logits, ``pos_weight``) broadcast from part of it."""
    shape = draw(loss_shapes(reduction), label="shape")
    settings = {"weight": draw(optional_weights(shape, uniform(0.0, 2.0)), label="weight")}
    if name == "binary_cross_entropy_with_logits":
        settings["pos_weight"] = draw(optional_weights(shape, uniform(0.1, 5.0)), label="pos_weight")
    return draw(arrays(shape, values), label="input"), draw(arrays(shape, targets), label="target"), settings


THRESHOLD_NAMES = {"l1_loss": None, "smooth_l1_loss": "beta", "huber_loss": "delta"}


@st.composite
def regression_cases(draw, name: str, reduction: str):
    """(input, target, settings) for l1, smooth_l1 or huber: input = target + gap, where |gap|
    lies in [0.1, 0.9]·t or [1.1, 3]·t for the threshold t (beta or delta), or in [0.1, 3] for
    l1 and beta = 0, so that no finite-difference step crosses a kink."""
    shape = draw(loss_shapes(reduction), label="shape")
    threshold_name = THRESHOLD_NAMES[name]
    settings = {}
    gaps = away_from_zero(0.1, 3.0)
    if threshold_name is not None:
        thresholds = uniform(0.1, 3.0) if name == "huber_loss" else st.just(0.0) | uniform(0.1, 3.0)
        threshold = settings[threshold_name] = draw(thresholds, label=threshold_name)
        if threshold > 0:
            ratios = uniform(0.1, 0.9) | uniform(1.1, 3.0)
            gaps = st.builds(lambda sign, ratio: sign * ratio * threshold, st.sampled_from([-1.0, 1.0]),
                             ratios)
    target = draw(arrays(shape), label="target")
    return target + draw(arrays(shape, gaps), label="gap"), target, settings


def smooth_cases(name: str, reduction: str):
    """Cases where every loss is differentiable, with room for central differences: logits in
    [-20, 20]; probabilities in [0.05, 0.95] and BCE targets in [0.01, 0.99] (a step must stay
    in [0, 1], which BCE checks); gaps away from 0, beta and delta."""
    if name == "binary_cross_entropy_with_logits":
        return binary_cases(name, reduction, uniform(-20.0, 20.0), PROBABILITIES)
    if name == "binary_cross_entropy":
        return binary_cases(name, reduction, uniform(0.05, 0.95), uniform(0.01, 0.99))
    return regression_cases(name, reduction)


def loss_of(name: str, reduction: str, settings: dict):
    """The functional loss ``name`` as ``f(input, target)`` with its settings."""
    return lambda input, target: getattr(functional, name)(input, target, reduction=reduction, **settings)


# -- 1. gradients and values without torch ------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
@given(data=st.data())
def test_gradients_in_input_and_target_match_central_differences(name, reduction, data):
    """float64 gradients in both operands (the target too, as torch differentiates it) against
    central differences, for every reduction, with weights broadcast; the value against the
    NumPy formula."""
    input, target, settings = data.draw(smooth_cases(name, reduction))
    [out] = check_vjp(loss_of(name, reduction, settings), [input, target], data)
    expected = reduced(reference_losses(name, input, target, **settings), reduction)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-13)


def value_and_gradients(loss, input: np.ndarray, target: np.ndarray, scale: float = 1.0) -> list:
    """[scale · loss(input, target), its gradients in input and target] for an upstream of ones."""
    operands = [Tensor(input, requires_grad=True), Tensor(target, requires_grad=True)]
    out = loss(*operands) * scale
    out.backward(np.ones(out.shape))
    return [out.data, *(operand.grad for operand in operands)]


@given(data=st.data())
def test_smooth_l1_loss_with_beta_zero_is_l1_loss(data):
    """beta = 0 is l1_loss, as in torch: the same values and gradients, bit for bit, for every
    reduction, gaps of 0 too."""
    shape = data.draw(shapes(), label="shape")
    values = uniform(-3.0, 3.0) | st.sampled_from([-1.0, 0.0, 1.0])
    input, target = data.draw(arrays(shape, values), label="input"), data.draw(arrays(shape, values))
    for reduction in reductions_for(shape):
        smooth = value_and_gradients(loss_of("smooth_l1_loss", reduction, {"beta": 0.0}), input, target)
        l1 = value_and_gradients(loss_of("l1_loss", reduction, {}), input, target)
        for smooth_result, l1_result in zip(smooth, l1):
            np.testing.assert_array_equal(smooth_result, l1_result, err_msg=reduction)


@given(data=st.data())
def test_huber_loss_is_smooth_l1_loss_times_delta(data):
    """huber_loss(delta) = delta · smooth_l1_loss(beta=delta), values and both gradients, for
    every reduction, gaps on either side of delta and at it."""
    delta = data.draw(uniform(0.1, 3.0) | st.sampled_from([0.5, 1.0]), label="delta")
    shape = data.draw(shapes(), label="shape")
    target = data.draw(arrays(shape), label="target")
    gaps = uniform(-3 * delta, 3 * delta) | st.sampled_from([-delta, 0.0, delta])
    input = target + data.draw(arrays(shape, gaps), label="gap")
    for reduction in reductions_for(shape):
        huber = value_and_gradients(loss_of("huber_loss", reduction, {"delta": delta}), input, target)
        smooth = value_and_gradients(loss_of("smooth_l1_loss", reduction, {"beta": delta}), input, target,
                                     scale=delta)
        for huber_result, smooth_result in zip(huber, smooth):
            np.testing.assert_allclose(huber_result, smooth_result, rtol=1e-12, atol=1e-14, err_msg=reduction)


@given(data=st.data())
def test_binary_cross_entropy_of_the_sigmoid_is_the_loss_of_the_logits(data):
    """BCE(σ(x), t, w) = BCE_with_logits(x, t, w), values and gradients, for logits where σ
    does not saturate."""
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    logits, target, settings = data.draw(binary_cases("binary_cross_entropy", reduction,
                                                      uniform(-10.0, 10.0), PROBABILITIES))
    results = []
    for loss in (lambda x: functional.binary_cross_entropy(x.sigmoid(), target, reduction=reduction,
                                                           **settings),
                 lambda x: functional.binary_cross_entropy_with_logits(x, target, reduction=reduction,
                                                                       **settings)):
        x = Tensor(logits, requires_grad=True)
        out = loss(x)
        out.backward(np.ones(out.shape))
        results.append([out.data, x.grad])
    for through_sigmoid, of_logits in zip(*results):
        np.testing.assert_allclose(through_sigmoid, of_logits, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_the_finite_limits(dtype):
    """Logits of ±1e4: the loss is w·((1 − t)·x + (1 + (p − 1)·t)·relu(−x)), the gradient
    w·((1 − t) − (1 + (p − 1)·t)·[x < 0]), finite, in the input's dtype (weights cast to it)."""
    logits = np.array([[1e4, -1e4, 1e4, -1e4, 0.0]] * 2, dtype=dtype)
    target = np.array([[1.0, 0.0, 0.0, 1.0, 0.5], [0.25, 0.75, 1.0, 0.0, 1.0]], dtype=dtype)
    weight, pos_weight = np.array([[2.0], [0.5]]), np.array([3.0, 3.0, 0.5, 4.0, 2.0])
    x = Tensor(logits, requires_grad=True)
    out = functional.binary_cross_entropy_with_logits(x, target, weight, reduction="none",
                                                      pos_weight=pos_weight)
    out.backward(np.ones(out.shape, dtype=dtype))
    scale = 1 + (pos_weight - 1) * target
    expected = weight * ((1 - target) * logits + scale * np.logaddexp(0, -logits.astype(np.float64)))
    sigmoid_of_minus_x = np.where(logits < 0, 1.0, np.where(logits > 0, 0.0, 0.5))  # at 0 and ±1e4
    expected_grad = weight * ((1 - target) - scale * sigmoid_of_minus_x)
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad, expected_grad, rtol=1e-6, atol=1e-7)


def test_binary_cross_entropy_at_exactly_zero_and_one_is_clamped_at_minus_100():
    """log 0 is clamped at −100, as torch clamps it: finite losses of 0 or 100·w, and finite
    gradients, those of the clamped loss: in the input, 0 from a clamped term and −t/x or
    (1 − t)/(1 − x) from the other (torch gives 0 at all four points, see its docstring)."""
    x = Tensor(np.array([0.0, 0.0, 1.0, 1.0, 0.5]), requires_grad=True)
    t = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 1.0]), requires_grad=True)
    weight = np.array([1.0, 2.0, 3.0, 4.0, 1.0])
    out = functional.binary_cross_entropy(x, t, weight, reduction="none")
    out.backward(np.ones(5))
    np.testing.assert_allclose(out.data, [0.0, 200.0, 300.0, 0.0, np.log(2)], rtol=1e-15)
    np.testing.assert_array_equal(x.grad[:4], [1.0, 0.0, 0.0, -4.0])
    np.testing.assert_allclose(x.grad[4], -2.0)  # −t/x at x = 1/2
    np.testing.assert_allclose(t.grad, [100.0, 200.0, -300.0, -400.0, 0.0], atol=1e-15)
    assert functional.binary_cross_entropy(x, t, reduction="mean").item() == pytest.approx(
        (0 + 100 + 100 + 0 + np.log(2)) / 5, rel=1e-15)


def test_infinite_beta_and_delta_are_accepted_as_in_torch():
    """beta = inf makes smooth_l1 the quadratic part 0.5·d²/beta = 0, delta = inf makes huber
    0.5·d² (torch gives the same); nan is refused."""
    x = Tensor(np.array([0.3, -2.0, 0.0]), requires_grad=True)
    smooth = functional.smooth_l1_loss(x, np.zeros(3), reduction="sum", beta=float("inf"))
    smooth.backward()
    assert smooth.item() == 0.0 and x.grad.tolist() == [0.0, 0.0, 0.0]
    x.grad = None
    huber = functional.huber_loss(x, np.zeros(3), "sum", float("inf"))
    huber.backward()
    assert huber.item() == pytest.approx(0.5 * (0.09 + 4.0)) and x.grad.tolist() == [0.3, -2.0, 0.0]
    with pytest.raises(ValueError, match="^huber_loss: delta must be positive, got nan"):
        functional.huber_loss(x, np.zeros(3), delta=float("nan"))


@pytest.mark.parametrize("dtype, beta", [(np.float32, 1e-50), (np.float32, 1e-37), (np.float32, 1e-40),
                                         (np.float64, 1e-320), (np.float64, 1e-300)])
def test_smooth_l1_loss_with_a_tiny_beta_is_the_l1_loss_less_half_beta(dtype, beta):
    """torch gives |d| − beta/2 and gradient sign(d) for any beta > 0: for float32 and beta = 1e-50
    (0 in float32) that is 2.3 and [1, −1]. It gave nan (0/0) there, and lost digits to a
    subnormal product for a beta near the dtype's smallest normal number."""
    x = Tensor(np.array([0.3, -2.0, 1e-3], dtype=dtype), requires_grad=True)
    with np.errstate(all="raise"):
        loss = functional.smooth_l1_loss(x, np.zeros(3, dtype=dtype), reduction="sum", beta=beta)
        loss.backward()
    assert loss.item() == pytest.approx(2.301, rel=1e-6)
    np.testing.assert_array_equal(x.grad, [1.0, -1.0, 1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_of_a_0d_input_is_the_loss_of_its_one_element(reduction):
    """As torch's (and as for shape (1,)): −log 0.25 = log 4, gradient −t/x = −4."""
    x = Tensor(np.array(0.25), requires_grad=True)
    loss = functional.binary_cross_entropy(x, np.array(1.0), reduction=reduction)
    loss.backward()
    assert loss.shape == () and loss.item() == pytest.approx(np.log(4))
    assert x.grad.shape == () and x.grad.item() == pytest.approx(-4.0)


# -- 2. against torch ---------------------------------------------------------------------
def wide_cases(name: str, reduction: str):
    """Cases with no room left for central differences, for comparing with torch: logits up to
    ±1e4 and 0; probabilities within 1e-3 of 0 and 1 (torch's gradient divides by
    max(x(1 − x), 1e-12), this one by x(1 − x), so they agree when that is at least 1e-12);
    gaps of 0 and exactly at beta and delta."""
    grid = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])
    if name == "binary_cross_entropy_with_logits":
        logits = uniform(-30.0, 30.0) | st.sampled_from([0.0, 1e4, -1e4, 50.0, -50.0])
        return binary_cases(name, reduction, logits, PROBABILITIES)
    if name == "binary_cross_entropy":
        return binary_cases(name, reduction, uniform(1e-3, 1 - 1e-3) | st.sampled_from([0.5, 1e-3]),
                            PROBABILITIES)

    @st.composite
    def regression(draw):
        shape = draw(loss_shapes(reduction), label="shape")
        values = uniform(-3.0, 3.0) | grid
        settings = {}
        if name == "smooth_l1_loss":
            settings["beta"] = draw(st.sampled_from([0.0, 0.5, 1.0]) | uniform(0.1, 3.0), label="beta")
        if name == "huber_loss":
            settings["delta"] = draw(st.sampled_from([0.5, 1.0]) | uniform(0.1, 3.0), label="delta")
        input = draw(arrays(shape, values), label="input")
        return input, draw(arrays(shape, values), label="target"), settings
    return regression()


@pytest.mark.parametrize("name", LOSSES)
@given(data=st.data())
def test_values_and_gradients_match_torch(name, data):
    """Each reduction of one drawn case (empty shapes but under "mean"), a random upstream
    gradient each, against torch.nn.functional's loss: the value and both gradients."""
    torch = pytest.importorskip("torch")
    input, target, settings = data.draw(wide_cases(name, "sum"))
    torch_settings = {key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                      for key, value in settings.items()}
    for reduction in reductions_for(input.shape):
        ours = [Tensor(input, requires_grad=True), Tensor(target, requires_grad=True)]
        out = loss_of(name, reduction, settings)(*ours)
        upstream = data.draw(arrays(out.shape), label=f"upstream for {reduction}")
        out.backward(upstream)
        theirs = [torch.tensor(input, requires_grad=True), torch.tensor(target, requires_grad=True)]
        reference = getattr(torch.nn.functional, name)(*theirs, reduction=reduction, **torch_settings)
        reference.backward(torch.tensor(upstream))
        np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-13,
                                   err_msg=reduction)
        for i, (mine, torch_tensor) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(mine.grad, torch_tensor.grad.numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"{reduction}: gradient of operand {i}")


def test_binary_cross_entropy_at_zero_and_one_and_extreme_logits_match_torch():
    """The values where the clamp holds, and at logits ±1e4 (float32 and float64), as torch's.
    (BCE's gradient there is not compared: torch's divides by 1e-12, see its docstring.)"""
    torch = pytest.importorskip("torch")
    x, t = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 1e-50]), np.array([0.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    weight = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 0.5])
    for reduction in REDUCTIONS:
        ours = functional.binary_cross_entropy(Tensor(x), t, weight, reduction=reduction)
        theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(t),
                                                          torch.tensor(weight), reduction=reduction)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-15)
    for dtype in (np.float32, np.float64):
        logits = np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype)
        target = np.array([1.0, 0.0, 0.0, 1.0, 0.5], dtype=dtype)
        pos_weight = np.array([2.0], dtype=dtype)
        ours = Tensor(logits, requires_grad=True)
        out = functional.binary_cross_entropy_with_logits(ours, target, reduction="none",
                                                          pos_weight=pos_weight)
        out.backward(np.ones(5, dtype=dtype))
        theirs = torch.tensor(logits, requires_grad=True)
        reference = torch.nn.functional.binary_cross_entropy_with_logits(
            theirs, torch.tensor(target), reduction="none", pos_weight=torch.tensor(pos_weight))
        reference.backward(torch.ones(5, dtype=theirs.dtype))
        np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6)


def test_infinite_beta_and_delta_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([0.3, -2.0, 0.0, 5.0])
    infinite = float("inf")
    for name, settings in (("smooth_l1_loss", {"beta": infinite}), ("huber_loss", {"delta": infinite})):
        ours = Tensor(values, requires_grad=True)
        out = loss_of(name, "sum", settings)(ours, np.zeros(4))
        out.backward()
        theirs = torch.tensor(values, requires_grad=True)
        reference = getattr(torch.nn.functional, name)(theirs, torch.zeros(4, dtype=torch.float64),
                                                       reduction="sum", **settings)
        reference.backward()
        np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-15)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-15)


# -- 3. modules ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", LOSSES)
@given(data=st.data())
def test_each_module_is_the_functional_loss_with_its_settings(name, data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    input, target, settings = data.draw(smooth_cases(name, reduction))
    criterion = MODULES[name](reduction=reduction, **settings)
    results = []
    for loss in (criterion, loss_of(name, reduction, settings)):
        operands = [Tensor(input, requires_grad=True), Tensor(target, requires_grad=True)]
        out = loss(*operands)
        out.backward(np.ones(out.shape))
        results.append([out.data, *(operand.grad for operand in operands)])
    for module_result, functional_result in zip(*results):
        np.testing.assert_array_equal(module_result, functional_result)
    assert list(criterion.parameters()) == []


@pytest.mark.parametrize("make, shown", [
    (lambda: nn.BCEWithLogitsLoss(), "BCEWithLogitsLoss(reduction='mean')"),
    (lambda: nn.BCEWithLogitsLoss(np.array([1.0, 2.0]), reduction="sum", pos_weight=Tensor([3.0])),
     "BCEWithLogitsLoss(weight=[1.0, 2.0], reduction='sum', pos_weight=[3.0])"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.array(0.5)),
     "BCEWithLogitsLoss(reduction='mean', pos_weight=0.5)"),
    (lambda: nn.BCELoss(), "BCELoss(reduction='mean')"),
    (lambda: nn.BCELoss(Tensor([[0.5], [2.0]]), reduction="none"),
     "BCELoss(weight=[[0.5], [2.0]], reduction='none')"),
    (lambda: nn.L1Loss(reduction="sum"), "L1Loss(reduction='sum')"),
    (lambda: nn.SmoothL1Loss(), "SmoothL1Loss(reduction='mean', beta=1.0)"),
    (lambda: nn.SmoothL1Loss(reduction="none", beta=0), "SmoothL1Loss(reduction='none', beta=0.0)"),
    (lambda: nn.HuberLoss(), "HuberLoss(reduction='mean', delta=1.0)"),
    (lambda: nn.HuberLoss("sum", 2), "HuberLoss(reduction='sum', delta=2.0)"),
])
def test_module_repr_names_its_settings(make, shown):
    assert repr(make()) == shown


@pytest.mark.parametrize("name", LOSSES)
def test_module_and_functional_signatures_keep_torchs_names_and_defaults(name):
    """The names of torch's arguments, in torch's order, but its deprecated ``size_average``
    and ``reduce`` (and, for the functional l1 and huber, torch 2.13's trailing ``weight``)."""
    torch = pytest.importorskip("torch")
    dropped = {"size_average", "reduce"}
    ours = inspect.signature(MODULES[name]).parameters
    theirs = inspect.signature(getattr(torch.nn, MODULES[name].__name__)).parameters
    assert list(ours) == [p for p in theirs if p not in dropped]
    assert all(ours[p].default == theirs[p].default for p in ours)
    ours = inspect.signature(getattr(functional, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
    kept = [p for p in theirs if p not in dropped]
    if name in ("l1_loss", "huber_loss"):
        assert kept[-1] == "weight"
        kept = kept[:-1]
    assert list(ours) == kept
    assert all(ours[p].default == theirs[p].default for p in ours if p not in ("input", "target"))


@given(data=st.data())
def test_bce_weights_are_buffers_saved_loaded_and_cast(data):
    """weight and pos_weight are buffers of those names: in state_dict (in that order) when
    given, loaded in place, cast by to()/float()/double(); the loss follows them."""
    shape = data.draw(shapes(min_side=1, min_dims=1), label="shape")
    weight = data.draw(optional_weights(shape, uniform(0.0, 2.0)), label="weight")
    pos_weight = data.draw(optional_weights(shape, uniform(0.1, 5.0)), label="pos_weight")
    logits, target = data.draw(arrays(shape), label="logits"), data.draw(arrays(shape, PROBABILITIES))
    criterion = nn.BCEWithLogitsLoss(weight, pos_weight=pos_weight)
    given_weights = {"weight": weight, "pos_weight": pos_weight}
    saved = criterion.state_dict()
    assert list(saved) == [key for key, value in given_weights.items() if value is not None]
    for key in saved:
        np.testing.assert_array_equal(saved[key], given_weights[key])
        assert not np.shares_memory(getattr(criterion, key).data, given_weights[key])
    assert [key for key, _ in criterion.named_buffers()] == list(saved)
    assert list(criterion.parameters()) == []

    loaded = {key: np.array(value * 2) for key, value in saved.items()}
    arrays_before = {key: getattr(criterion, key).data for key in saved}
    assert criterion.load_state_dict(loaded) == ([], [])
    assert all(getattr(criterion, key).data is array for key, array in arrays_before.items())
    doubled = {key: loaded.get(key) for key in given_weights}
    expected = functional.binary_cross_entropy_with_logits(Tensor(logits), target, **doubled)
    np.testing.assert_array_equal(criterion(Tensor(logits), target).data, expected.data)

    assert criterion.float() is criterion
    assert all(getattr(criterion, key).dtype == np.float32 for key in saved)
    single = criterion(Tensor(logits.astype(np.float32)), target.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single.data, expected.data, rtol=1e-5, atol=1e-6)
    assert criterion.to(np.float64) is criterion
    assert all(getattr(criterion, key).dtype == np.float64 for key in saved)


@pytest.mark.parametrize("weight, pos_weight", [(None, None), (np.ones(3), None), (None, np.ones(3)),
                                                (np.ones((2, 1)), np.ones(3))])
def test_bce_state_dict_keys_are_torchs(weight, pos_weight):
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.BCEWithLogitsLoss(weight, pos_weight=pos_weight), nn.BCELoss(weight))
    def as_torch(value):  # a tensor of its own for each module, as each of ours holds a copy
        return None if value is None else torch.tensor(value)
    theirs = torch.nn.Sequential(
        torch.nn.BCEWithLogitsLoss(as_torch(weight), pos_weight=as_torch(pos_weight)),
        torch.nn.BCELoss(as_torch(weight)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_buffers()] == [name for name, _ in theirs.named_buffers()]


def test_bce_loss_weight_is_a_buffer_and_the_regression_losses_hold_none():
    weight = Tensor(np.array([1.0, 3.0]))
    criterion = nn.BCELoss(weight)
    assert criterion.weight is weight and list(criterion.state_dict()) == ["weight"]
    assert nn.BCELoss().weight is None and len(nn.BCELoss().state_dict()) == 0
    criterion.load_state_dict({"weight": np.array([2.0, 0.0])})
    assert criterion.weight is weight and weight.tolist() == [2.0, 0.0]
    assert criterion.float().weight.dtype == np.float32
    assert criterion(Tensor([0.5, 0.5]), np.array([1.0, 0.0])).item() == pytest.approx(np.log(2), rel=1e-6)
    for module in (nn.L1Loss(), nn.SmoothL1Loss(), nn.HuberLoss()):
        assert len(module.state_dict()) == 0 and list(module.buffers()) == []


# -- 4. bad input ----------------------------------------------------------------------------
ZEROS_23, ZEROS_3 = Tensor(np.zeros((2, 3))), Tensor(np.zeros(3))


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_refuses_mismatched_shapes_bad_reductions_and_non_tensors_by_name(name):
    loss = getattr(functional, name)
    with pytest.raises(ValueError, match=rf"^{name}: target size \(3,\) must be the same as input size "
                                         r"\(2, 3\)$"):
        loss(ZEROS_23, np.zeros(3))
    with pytest.raises(ValueError, match=rf"^{name}: target size \(2, 3\) must be the same as input size "
                                         r"\(3,\)$"):
        loss(ZEROS_3, Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=rf"^{name}: reduction must be one of \('mean', 'sum', 'none'\), "
                                         r"got 'avg'$"):
        loss(ZEROS_3, np.zeros(3), reduction="avg")
    with pytest.raises(TypeError, match=rf"^{name}: input must be a Tensor, got ndarray$"):
        loss(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match=rf"^{name}: input must be a floating-point Tensor, got dtype int64 "
                                        r"\(shape \(3,\)\)$"):
        loss(Tensor(np.zeros(3, dtype=np.int64)), np.zeros(3))
    with pytest.raises(ValueError, match=rf"^{name}: the mean of an empty input \(0, 2\) is undefined$"):
        loss(Tensor(np.zeros((0, 2))), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=rf"^{MODULES[name].__name__}: reduction must be one of"):
        MODULES[name](reduction="elementwise_mean")


@pytest.mark.parametrize("call, error, message", [
    (lambda: functional.binary_cross_entropy(Tensor([0.5, 1.5]), np.zeros(2)), ValueError,
     r"binary_cross_entropy: all elements of input must lie in \[0, 1\], got \[1.5\] "
     r"\(input of shape \(2,\)\)"),
    (lambda: functional.binary_cross_entropy(Tensor(np.array([-1e-9, 0.5])), np.zeros(2)), ValueError,
     r"binary_cross_entropy: all elements of input must lie in \[0, 1\], got \[-1e-09\]"),
    (lambda: functional.binary_cross_entropy(Tensor([np.nan, 0.5]), np.zeros(2)), ValueError,
     r"binary_cross_entropy: all elements of input must lie in \[0, 1\], got \[nan\]"),
    (lambda: functional.binary_cross_entropy(Tensor([0.5, 0.5]), np.array([0.0, -0.5])), ValueError,
     r"binary_cross_entropy: all elements of target must lie in \[0, 1\], got \[-0.5\] "
     r"\(target of shape \(2,\)\)"),
    (lambda: functional.binary_cross_entropy(ZEROS_3, np.zeros(3, dtype=np.int64)), TypeError,
     r"binary_cross_entropy: target must be floating-point probabilities, got dtype int64 \(input of shape "
     r"\(3,\) and dtype float64\)"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_3, [True, False, True]), TypeError,
     r"binary_cross_entropy_with_logits: target must be floating-point probabilities, got dtype bool"),
    (lambda: functional.l1_loss(ZEROS_3, "abc"), TypeError,
     r"l1_loss: target must be real numbers \(a Tensor, an array or a number\), got str of dtype <U3 "
     r"\(input of shape \(3,\) and dtype float64\)"),
    (lambda: functional.smooth_l1_loss(ZEROS_3, np.zeros(3), beta=-1.0), ValueError,
     r"smooth_l1_loss: beta must be non-negative, got -1.0"),
    (lambda: functional.smooth_l1_loss(ZEROS_3, np.zeros(3), beta=float("nan")), ValueError,
     r"smooth_l1_loss: beta must be non-negative, got nan"),
    (lambda: functional.smooth_l1_loss(ZEROS_3, np.zeros(3), beta="1"), TypeError,
     r"smooth_l1_loss: beta must be a number, got '1'"),
    (lambda: functional.smooth_l1_loss(ZEROS_3, np.zeros(3), beta=True), TypeError,
     r"smooth_l1_loss: beta must be a number, got True"),
    (lambda: functional.huber_loss(ZEROS_3, np.zeros(3), delta=0), ValueError,
     r"huber_loss: delta must be positive, got 0"),
    (lambda: functional.huber_loss(ZEROS_3, np.zeros(3), "mean", -2.0), ValueError,
     r"huber_loss: delta must be positive, got -2.0"),
    (lambda: functional.huber_loss(ZEROS_3, np.zeros(3), delta=float("-inf")), ValueError,
     r"huber_loss: delta must be positive, got -inf"),
    (lambda: functional.huber_loss(ZEROS_3, np.zeros(3), delta=None), TypeError,
     r"huber_loss: delta must be a number, got None"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_23, np.zeros((2, 3)), np.ones(2)), ValueError,
     r"binary_cross_entropy_with_logits: weight of shape \(2,\) does not broadcast to the input's shape "
     r"\(2, 3\)"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_3, np.zeros(3), pos_weight=np.ones((2, 3))),
     ValueError, r"binary_cross_entropy_with_logits: pos_weight of shape \(2, 3\) does not broadcast to the "
                 r"input's shape \(3,\)"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_3, np.zeros(3), pos_weight=np.ones((1, 3))),
     ValueError, r"binary_cross_entropy_with_logits: pos_weight of shape \(1, 3\) does not broadcast"),
    (lambda: functional.binary_cross_entropy(ZEROS_23, np.zeros((2, 3)), np.ones((3, 1))), ValueError,
     r"binary_cross_entropy: weight of shape \(3, 1\) does not broadcast to the input's shape \(2, 3\)"),
    (lambda: functional.binary_cross_entropy(ZEROS_3, np.zeros(3), np.ones(3, dtype=np.int64)), TypeError,
     r"binary_cross_entropy: weight must be a floating-point Tensor or array, got dtype int64"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_3, np.zeros(3), pos_weight=[2.0]), TypeError,
     r"binary_cross_entropy_with_logits: pos_weight must be a floating-point Tensor or array, got list"),
    (lambda: functional.binary_cross_entropy(ZEROS_3, np.zeros(3), Tensor(np.ones(3), requires_grad=True)),
     ValueError,
     r"binary_cross_entropy: weight cannot require grad .* pass weight.detach\(\) \(shape \(3,\)\)"),
    (lambda: functional.binary_cross_entropy_with_logits(ZEROS_3, np.zeros(3), "mean"), TypeError,
     r"binary_cross_entropy_with_logits: weight must be a floating-point Tensor or array, got str"),
    (lambda: nn.BCEWithLogitsLoss(None, None, None), TypeError, r".*takes from 1 to 2 positional arguments"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.array([1, 2])), TypeError,
     r"BCEWithLogitsLoss: pos_weight must be a floating-point Tensor or array, got dtype int64"),
    (lambda: nn.BCELoss(Tensor(np.ones(2), requires_grad=True)), ValueError,
     r"BCELoss: weight cannot require grad"),
    (lambda: nn.BCELoss(np.ones(4))(ZEROS_23, np.zeros((2, 3))), ValueError,
     r"binary_cross_entropy: weight of shape \(4,\) does not broadcast to the input's shape \(2, 3\)"),
    (lambda: nn.L1Loss("sum"), TypeError, r".*takes 1 positional argument but 2 were given"),
    (lambda: nn.SmoothL1Loss(beta=-0.5), ValueError, r"SmoothL1Loss: beta must be non-negative, got -0.5"),
    (lambda: nn.HuberLoss(delta=0.0), ValueError, r"HuberLoss: delta must be positive, got 0.0"),
    (lambda: nn.HuberLoss("sum", float("nan")), ValueError, r"HuberLoss: delta must be positive, got nan"),
])
def test_bad_arguments_are_refused_naming_the_op_and_shapes(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call()


# -- kl_div and KLDivLoss ------------------------------------------------------------------
KL_DIV_REDUCTIONS = ["mean", "batchmean", "sum", "none"]


def kl_div_formula(input: np.ndarray, target: np.ndarray, reduction: str, log_target: bool) -> np.ndarray:
    """torch's documented pointwise loss, reduced; t·log t is 0 at t = 0 (xlogy)."""
    if log_target:
        losses = np.exp(target) * (target - input)
    else:
        safe = np.where(target == 0, 1.0, target)
        losses = target * np.log(safe) - target * input
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return reduced(losses, reduction)


def kl_div_reductions_for(shape: tuple[int, ...]) -> list[str]:
    """Every reduction but a mean over no elements, or "batchmean" over no samples (refused)."""
    return [reduction for reduction in KL_DIV_REDUCTIONS
            if not (reduction == "mean" and np.prod(shape) == 0)
            and not (reduction == "batchmean" and shape and shape[0] == 0)]


@st.composite
def kl_div_cases(draw, smooth: bool = True):
    """(input, target, log_target) of one shape (0-d, size-1 and empty axes): log-probabilities in
    [-5, 0]; targets, probabilities in [0.05, 2] (some exactly 0 unless ``smooth``: a step from
    0 would leave the domain) or, with log_target, log-probabilities in [-5, 1]."""
    shape = draw(shapes(), label="shape")
    log_target = draw(st.booleans(), label="log_target")
    if log_target:
        targets = uniform(-5.0, 1.0)
    else:
        targets = uniform(0.05, 2.0) if smooth else uniform(0.05, 2.0) | st.just(0.0)
    return draw(arrays(shape, uniform(-5.0, 0.0)), label="input"), draw(arrays(shape, targets)), log_target


def kl_div_of(reduction: str, log_target: bool):
    return lambda input, target: functional.kl_div(input, target, reduction=reduction, log_target=log_target)


@given(case=kl_div_cases(), data=st.data())
def test_kl_div_gradients_in_input_and_target_match_central_differences(case, data):
    input, target, log_target = case
    for reduction in kl_div_reductions_for(input.shape):
        [out] = check_vjp(kl_div_of(reduction, log_target), [input, target], data)
        expected = kl_div_formula(input, target, reduction, log_target)
        assert out.shape == np.shape(expected) and out.dtype == np.float64
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-13, err_msg=reduction)


@given(case=kl_div_cases(smooth=False), data=st.data())
def test_kl_div_at_zero_targets_is_zero_with_the_input_gradient_of_central_differences(case, data):
    """t = 0 gives loss 0 (not nan); the input's gradient, −t, is 0 there; the target's is −x,
    the derivative of −t·x, with t·log t taken as its limit 0 (torch's is nan, see below)."""
    input, target, log_target = case
    for reduction in kl_div_reductions_for(input.shape):
        loss = kl_div_of(reduction, log_target)
        [out] = check_vjp(lambda x, loss=loss: loss(x, Tensor(target)), [input], data)
        np.testing.assert_allclose(out.data, kl_div_formula(input, target, reduction, log_target), rtol=1e-12,
                                   atol=1e-13, err_msg=reduction)
    if not log_target:
        operand = Tensor(target, requires_grad=True)
        functional.kl_div(Tensor(input), operand, reduction="sum").backward()
        zero = target == 0
        np.testing.assert_array_equal(operand.grad[zero], -input[zero])


@pytest.mark.parametrize("reduction", KL_DIV_REDUCTIONS)
def test_kl_div_of_a_0d_input_is_its_one_element_and_batchmean_is_the_sum(reduction):
    """torch divides by input.shape[0] only for an input with axes: a 0-d one is one sample."""
    loss = functional.kl_div(Tensor(np.log(0.25)), Tensor(0.5), reduction=reduction)
    assert loss.shape == () and loss.item() == pytest.approx(0.5 * (np.log(0.5) - np.log(0.25)), rel=1e-7)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's: not the divergence
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kl_div_matches_torch_values_and_gradients_for_every_reduction(log_target, dtype):
    """Softmax rows, targets with exact zeros (their target gradient, nan in torch, is −x here:
    compared where t > 0), log-targets down to −30, and a 0-d input."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(int(log_target))
    logits = rng.standard_normal((4, 5)) * 3
    input = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    target = rng.dirichlet(np.ones(5), 4)
    target[0, :2] = 0.0
    target[1, 0] = 0.0
    if log_target:
        target = np.log(np.where(target == 0, np.exp(-30.0), target))
    eps = np.finfo(dtype).eps
    for x, t in ((input, target), (input[0, 0], target[0, 2])):
        x, t = np.asarray(x, dtype=dtype), np.asarray(t, dtype=dtype)
        for reduction in KL_DIV_REDUCTIONS:
            ours = [Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)]
            theirs = [torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)]
            out = functional.kl_div(*ours, reduction=reduction, log_target=log_target)
            expected = torch.nn.functional.kl_div(*theirs, reduction=reduction, log_target=log_target)
            upstream = rng.uniform(-2, 2, out.shape).astype(dtype)
            out.backward(upstream)
            expected.backward(torch.tensor(upstream))
            assert out.dtype == dtype and out.shape == tuple(expected.shape)
            np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=8 * eps, atol=8 * eps,
                                       err_msg=reduction)
            np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=8 * eps, atol=8 * eps)
            positive = np.ones(t.shape, dtype=bool) if log_target else t > 0
            torch_target_grad = theirs[1].grad.numpy()
            assert log_target or np.isnan(torch_target_grad[~positive]).all()
            np.testing.assert_allclose(ours[1].grad[positive], torch_target_grad[positive], rtol=16 * eps,
                                       atol=16 * eps, err_msg=reduction)


def test_kl_div_module_is_the_function_with_its_settings_and_names_them():
    input = Tensor(np.log([[0.2, 0.8], [0.5, 0.5]]), requires_grad=True)
    target = np.array([[0.0, 1.0], [0.3, 0.7]])
    for reduction in KL_DIV_REDUCTIONS:
        for log_target in (False, True):
            criterion = nn.KLDivLoss(reduction=reduction, log_target=log_target)
            assert repr(criterion) == f"KLDivLoss(reduction={reduction!r}, log_target={log_target})"
            assert dict(criterion.state_dict()) == {} and list(criterion.parameters()) == []
            np.testing.assert_array_equal(criterion(input, target).data,
                                          kl_div_of(reduction, log_target)(input, target).data)
    assert repr(nn.KLDivLoss()) == "KLDivLoss(reduction='mean', log_target=False)"


def test_kl_div_signatures_keep_torchs_names_and_defaults():
    """torch's, without the deprecated ``size_average`` and ``reduce``; what followed them is
    keyword-only, as in the other losses."""
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.KLDivLoss, torch.nn.KLDivLoss), (functional.kl_div, torch.nn.functional.kl_div)):
        mine, reference = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(mine) == [p for p in reference if p not in ("size_average", "reduce")]
        assert all(mine[p].default == reference[p].default for p in mine if p not in ("input", "target"))
        keyword_only = [name for name, p in mine.items() if p.kind == p.KEYWORD_ONLY]
        assert keyword_only == ["reduction", "log_target"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: functional.kl_div(ZEROS_3, np.zeros(3), reduction="avg"), ValueError,
     r"kl_div: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\), got 'avg'$"),
    (lambda: functional.kl_div(ZEROS_23, np.zeros(3)), ValueError,
     r"kl_div: target size \(3,\) must be the same as input size \(2, 3\)$"),
    (lambda: functional.kl_div(np.zeros(3), np.zeros(3)), TypeError,
     r"kl_div: input must be a Tensor, got ndarray$"),
    (lambda: functional.kl_div(Tensor(np.zeros(3, dtype=np.int64)), np.zeros(3)), TypeError,
     r"kl_div: input must be a floating-point Tensor, got dtype int64 \(shape \(3,\)\)$"),
    (lambda: functional.kl_div(ZEROS_3, np.zeros(3, dtype=np.int64)), TypeError,
     r"kl_div: target must be floating-point probabilities, got dtype int64 \(input of shape \(3,\)"),
    (lambda: functional.kl_div(ZEROS_3, np.array([0.5, -0.25, np.nan])), ValueError,
     r"kl_div: target must be probabilities >= 0 \(or log_target=True\), got \[-0.25, nan\] "
     r"\(target of shape \(3,\)\)$"),
    (lambda: functional.kl_div(ZEROS_3, np.zeros(3), log_target="False"), TypeError,
     r"kl_div: log_target must be a bool, got 'False'$"),
    (lambda: functional.kl_div(Tensor(np.zeros((0, 2))), np.zeros((0, 2)), reduction="batchmean"), ValueError,
     r"kl_div: the batchmean over no samples \(input of shape \(0, 2\)\) is undefined$"),
    (lambda: functional.kl_div(Tensor(np.zeros((0, 2))), np.zeros((0, 2))), ValueError,
     r"kl_div: the mean of an empty input \(0, 2\) is undefined$"),
    (lambda: functional.kl_div(ZEROS_3, np.zeros(3), "sum"), TypeError, r".*takes 2 positional arguments"),
    (lambda: nn.KLDivLoss(reduction="elementwise_mean"), ValueError,
     r"KLDivLoss: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\)"),
    (lambda: nn.KLDivLoss(log_target=1), TypeError, r"KLDivLoss: log_target must be a bool, got 1$"),
    (lambda: nn.KLDivLoss("sum"), TypeError, r".*takes 1 positional argument but 2 were given"),
])
def test_kl_div_refuses_bad_input_naming_the_op(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call()

"""Learning-rate schedulers: closed forms, stacking, resuming, errors, and PyTorch's values."""

import bisect
import math
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import lr_scheduler
from tinygrad_rnn.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from tinygrad_rnn.serialization import load, save


def make_optimizer(lr: float = 0.5) -> tg.optim.SGD:
    return tg.optim.SGD([tg.Tensor(np.zeros(3), requires_grad=True)], lr=lr)


def schedule(scheduler, epochs: int, *stacked) -> list[float]:
    """The rate in force at each of ``epochs`` epochs (read before each step()), with
    ``scheduler`` and any ``stacked`` ones on the same optimizer stepped in that order."""
    rates = []
    for _ in range(epochs):
        rates.append(scheduler.optimizer.param_groups[0]["lr"])
        assert stacked or scheduler.get_last_lr() == [rates[-1]]
        scheduler.optimizer.step()
        for each in (scheduler, *stacked):
            each.step()
    return rates


base_lrs = st.floats(1e-4, 10.0)
gammas = st.floats(0.05, 1.5)
epoch_counts = st.integers(1, 60)


def warm_restarts(base, epoch, k):
    """SGDR's rate at ``epoch`` (fractional or not): the cosine of the period it falls in."""
    period, since_restart = k["T_0"], epoch
    while since_restart >= period:
        since_restart -= period
        period *= k.get("T_mult", 1)
    return lr_scheduler.cosine_annealing(base, k.get("eta_min", 0.0), since_restart, period)


def alternating(factors):
    """An lr_lambda giving factors[epoch % len(factors)]."""
    return lambda epoch: factors[epoch % len(factors)]


# Each entry: a strategy of constructor keywords, and the closed form lr(base, epoch, keywords).
CLOSED_FORMS = {
    StepLR: (st.fixed_dictionaries({"step_size": st.integers(1, 10), "gamma": gammas}),
             lambda base, e, k: base * k["gamma"] ** (e // k["step_size"])),
    MultiStepLR: (st.fixed_dictionaries({"milestones": st.lists(st.integers(0, 40), max_size=5),
                                         "gamma": gammas}),
                  lambda base, e, k: base * k["gamma"] ** bisect.bisect_right(sorted(k["milestones"]), e)),
    ExponentialLR: (st.fixed_dictionaries({"gamma": gammas}),
                    lambda base, e, k: base * k["gamma"] ** e),
    LinearLR: (st.fixed_dictionaries({"start_factor": st.floats(0.01, 1.0), "end_factor": st.floats(0.0, 1.0),
                                      "total_iters": st.integers(1, 30)}),
               lambda base, e, k: base * (k["start_factor"] + (k["end_factor"] - k["start_factor"])
                                          * min(e, k["total_iters"]) / k["total_iters"])),
    CosineAnnealingLR: (st.fixed_dictionaries({"T_max": st.integers(1, 20), "eta_min": st.floats(0.0, 1e-3)}),
                        lambda base, e, k: lr_scheduler.cosine_annealing(base, k["eta_min"], e, k["T_max"])),
    ConstantLR: (st.fixed_dictionaries({"factor": st.floats(0.01, 1.0), "total_iters": st.integers(1, 30)}),
                 lambda base, e, k: base * (k["factor"] if e < k["total_iters"] else 1.0)),
    PolynomialLR: (st.fixed_dictionaries({"total_iters": st.integers(1, 30), "power": st.floats(0.0, 3.0)}),
                   lambda base, e, k: base * (1 - min(e, k["total_iters"]) / k["total_iters"]) ** k["power"]),
    MultiplicativeLR: (st.fixed_dictionaries({"lr_lambda": st.tuples(gammas, gammas).map(alternating)}),
                       lambda base, e, k: base * math.prod(k["lr_lambda"](i) for i in range(1, e + 1))),
    CosineAnnealingWarmRestarts: (st.fixed_dictionaries({"T_0": st.integers(1, 10),
                                                         "T_mult": st.integers(1, 3),
                                                         "eta_min": st.floats(0.0, 1e-3)}), warm_restarts),
}


@pytest.mark.parametrize("cls", list(CLOSED_FORMS), ids=lambda cls: cls.__name__)
@given(data=st.data(), base=base_lrs, epochs=epoch_counts)
def test_step_by_step_rates_follow_the_closed_form(cls, data, base, epochs):
    keywords_strategy, closed_form = CLOSED_FORMS[cls]
    keywords = data.draw(keywords_strategy)
    scheduler = cls(make_optimizer(base), **keywords)
    rates = schedule(scheduler, epochs)
    expected = [closed_form(base, epoch, keywords) for epoch in range(epochs)]
    np.testing.assert_allclose(rates, expected, rtol=1e-9, atol=1e-12)
    # What SequentialLR's restart sets: the closed form at last_epoch, computed from base_lrs
    # (MultiplicativeLR has none in torch either: its restart multiplies the current rate).
    if cls is not MultiplicativeLR:
        np.testing.assert_allclose(scheduler._closed_form_lrs(), [closed_form(base, epochs, keywords)],
                                   rtol=1e-9, atol=1e-12)


def test_the_first_scheduler_records_initial_lr_and_later_ones_keep_it():
    optimizer = make_optimizer(0.5)
    StepLR(optimizer, step_size=1, gamma=0.5).step()
    assert optimizer.param_groups[0]["lr"] == 0.25
    second = ExponentialLR(optimizer, gamma=0.9)
    assert optimizer.param_groups[0]["initial_lr"] == 0.5
    assert second.base_lrs == [0.5]


def test_stacked_schedulers_multiply_their_factors():
    optimizer = make_optimizer(1.0)
    rates = schedule(StepLR(optimizer, step_size=3, gamma=0.5), 10, ExponentialLR(optimizer, gamma=0.9))
    np.testing.assert_allclose(rates, [0.5 ** (e // 3) * 0.9 ** e for e in range(10)], rtol=1e-12)


def test_lambda_lr_scales_the_initial_rate():
    optimizer = make_optimizer(2.0)
    rates = schedule(LambdaLR(optimizer, lambda epoch: 1 / (epoch + 1)), 4)
    assert rates == [2.0, 1.0, 2.0 / 3, 0.5]


def test_the_optimizer_uses_the_scheduled_rate():
    weight = tg.Tensor(np.array([1.0]), requires_grad=True)
    optimizer = tg.optim.SGD([weight], lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        weight.grad = np.array([1.0])
        optimizer.step()
        scheduler.step()
    assert weight.data[0] == 1.0 - 1.0 - 0.5 - 0.25


@pytest.mark.parametrize("make", [
    lambda opt, last_epoch=-1: StepLR(opt, step_size=4, gamma=0.5, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.3, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: ExponentialLR(opt, gamma=0.8, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: LinearLR(opt, start_factor=0.25, total_iters=6, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: CosineAnnealingLR(opt, T_max=5, eta_min=0.01, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: ConstantLR(opt, factor=0.25, total_iters=7, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: PolynomialLR(opt, total_iters=9, power=2.0, last_epoch=last_epoch),
    lambda opt, last_epoch=-1: MultiplicativeLR(opt, alternating([1.1, 0.8, 0.95]), last_epoch=last_epoch),
    lambda opt, last_epoch=-1: CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01,
                                                           last_epoch=last_epoch),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR", "ConstantLR",
        "PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts"])
def test_a_saved_schedule_continues_exactly_after_a_checkpoint(make, tmp_path):
    uninterrupted = make(make_optimizer())
    expected = schedule(uninterrupted, 14)

    optimizer = make_optimizer()
    first = make(optimizer)
    before = schedule(first, 6)
    save({"optimizer": optimizer.state_dict(), "scheduler": first.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")

    restored_optimizer = make_optimizer(123.0)
    restored = make(restored_optimizer)
    restored_optimizer.load_state_dict(checkpoint["optimizer"])
    restored.load_state_dict(checkpoint["scheduler"])
    assert before + schedule(restored, 8) == expected


def test_last_epoch_continues_a_schedule_from_its_initial_lr():
    optimizer = make_optimizer(1.0)
    optimizer.param_groups[0]["initial_lr"] = 1.0
    optimizer.param_groups[0]["lr"] = 0.5 ** 2
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5, last_epoch=2)
    assert scheduler.last_epoch == 3
    assert schedule(scheduler, 2) == [0.125, 0.0625]
    optimizer.param_groups[0]["lr"] = lr_scheduler.cosine_annealing(1.0, 0.0, 4, 10)
    cosine = CosineAnnealingLR(optimizer, T_max=10, last_epoch=4)  # keeps epoch 4's rate, as torch
    assert cosine.last_epoch == 5
    assert cosine.get_last_lr() == [lr_scheduler.cosine_annealing(1.0, 0.0, 4, 10)]


def test_pytorch_style_resume_through_the_optimizers_initial_lr(tmp_path):
    """Save the optimizer, rebuild it, load it, then create the scheduler at last_epoch."""
    optimizer = make_optimizer(1.0)
    before = schedule(StepLR(optimizer, step_size=2, gamma=0.5), 5)  # last_epoch is now 5
    save({"optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")
    assert optimizer.state_dict()["param_groups"][0]["initial_lr"] == 1.0
    restored = make_optimizer(1.0)
    restored.load_state_dict(load(tmp_path / "ckpt.npz")["optimizer"])
    assert restored.param_groups[0]["initial_lr"] == 1.0 and restored.param_groups[0]["lr"] == 0.25
    after = schedule(StepLR(restored, step_size=2, gamma=0.5, last_epoch=4), 4)
    assert before + after == schedule(StepLR(make_optimizer(1.0), step_size=2, gamma=0.5), 9)
    state = optimizer.state_dict()
    state["param_groups"][0]["initial_lr"] = -1.0
    with pytest.raises(ValueError, match="SGD: initial_lr must be a finite number >= 0, got -1.0"):
        make_optimizer().load_state_dict(state)
    assert "initial_lr" not in make_optimizer().state_dict()["param_groups"][0]


@pytest.mark.parametrize("cls", [LambdaLR, MultiplicativeLR], ids=lambda cls: cls.__name__)
def test_a_callable_object_keeps_its_state_through_the_state_dict(cls):
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    scheduler = cls(make_optimizer(1.0), [Warmup(4)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}]
    other = cls(make_optimizer(1.0), [Warmup(100)])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].steps == 4
    assert cls(make_optimizer(), lambda epoch: 1.0).state_dict()["lr_lambdas"] == [None]
    for bad in (["oops"], [{1: 2}]):  # refused before anything is loaded
        fresh = cls(make_optimizer(1.0), [Warmup(100)])
        with pytest.raises(ValueError, match=rf"{cls.__name__}.load_state_dict: lr_lambdas\[0\] must be "
                                             r"None or a dict of attributes"):
            fresh.load_state_dict({**scheduler.state_dict(), "last_epoch": 5, "lr_lambdas": bad})
        assert fresh.last_epoch == 0 and fresh.lr_lambdas[0].steps == 100


def test_multiplicative_lr_scales_the_current_rate_and_stacks():
    optimizer = make_optimizer(2.0)
    rates = schedule(MultiplicativeLR(optimizer, lambda epoch: 1 / epoch), 4)
    assert rates == [2.0, 2.0, 1.0, 1.0 / 3]  # 2, 2·1, 2·1·½, 2·1·½·⅓
    optimizer = make_optimizer(1.0)
    rates = schedule(MultiplicativeLR(optimizer, lambda epoch: 0.5), 5, StepLR(optimizer, step_size=2))
    np.testing.assert_allclose(rates, [0.5 ** e * 0.1 ** (e // 2) for e in range(5)], rtol=1e-15)


# -- CosineAnnealingWarmRestarts: step(epoch) ---------------------------------------------------

# A run of step() (None) and step(epoch) calls, epochs fractional or not, in any order.
restart_steps = st.lists(st.one_of(st.none(), st.floats(0.0, 40.0), st.integers(0, 40)),
                         min_size=1, max_size=25)


def warm_restart_rates(scheduler, steps) -> list[float]:
    rates = []
    for epoch in steps:
        scheduler.optimizer.step()
        scheduler.step(epoch)
        rates.append(scheduler.get_last_lr()[0])
    return rates


# Epochs to 1/1000 up to 100: not within rounding of a restart, where the closed form and torch's
# period index int(log(...)) may disagree (torch's first such restart is epoch 121, T_0=1, T_mult=3).
fractional_epochs = st.lists(st.floats(0.0, 100.0).map(lambda epoch: round(epoch, 3)),
                             min_size=1, max_size=20)


@given(epochs=fractional_epochs, T_0=st.integers(1, 10), T_mult=st.integers(1, 3),
       eta_min=st.floats(0.0, 1e-3), base=base_lrs)
def test_warm_restarts_at_a_fractional_epoch_follow_the_closed_form(epochs, T_0, T_mult, eta_min, base):
    keywords = {"T_0": T_0, "T_mult": T_mult, "eta_min": eta_min}
    scheduler = CosineAnnealingWarmRestarts(make_optimizer(base), **keywords)
    rates = warm_restart_rates(scheduler, epochs)
    expected = [warm_restarts(base, epoch, keywords) for epoch in epochs]
    np.testing.assert_allclose(rates, expected, rtol=1e-9, atol=1e-12)
    assert scheduler.last_epoch == math.floor(epochs[-1])


def test_warm_restarts_step_after_a_fractional_epoch_counts_on_from_it():
    scheduler = CosineAnnealingWarmRestarts(make_optimizer(1.0), T_0=4, T_mult=2)
    assert warm_restart_rates(scheduler, [2.5, None, None, 13.0, None]) == pytest.approx(
        [warm_restarts(1.0, epoch, {"T_0": 4, "T_mult": 2}) for epoch in (2.5, 3.5, 4.5, 13.0, 14.0)],
        rel=1e-12)
    # The periods are [0, 4), [4, 12), [12, 28): epoch 14 is 2 into the third.
    assert (scheduler.last_epoch, scheduler.T_cur, scheduler.T_i) == (14, 2.0, 16)


@pytest.mark.parametrize("steps", [[2.5, None, None, 7.25, None, 3, None], [None] * 5 + [0.5, None]])
def test_warm_restarts_resume_bitwise_after_a_fractional_epoch(steps, tmp_path):
    def make(optimizer):
        return CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2, eta_min=0.05)

    expected = warm_restart_rates(make(make_optimizer()), steps + [None, 1.5, None])
    first = make(make_optimizer())
    before = warm_restart_rates(first, steps)
    save({"scheduler": first.state_dict()}, tmp_path / "ckpt.npz")
    restored = make(make_optimizer(9.0))
    restored.load_state_dict(load(tmp_path / "ckpt.npz")["scheduler"])
    assert before + warm_restart_rates(restored, [None, 1.5, None]) == expected


@given(steps=restart_steps, T_0=st.integers(1, 10), T_mult=st.integers(1, 3), eta_min=st.floats(0.0, 0.1))
def test_warm_restarts_step_epoch_matches_torch(steps, T_0, T_mult, eta_min):
    torch = pytest.importorskip("torch")
    keywords = {"T_0": T_0, "T_mult": T_mult, "eta_min": eta_min}
    scheduler = CosineAnnealingWarmRestarts(make_optimizer(0.5), **keywords)
    ours = warm_restart_rates(scheduler, steps)
    optimizer = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=0.5)
    reference = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, **keywords)
    theirs = []
    for epoch in steps:
        optimizer.step()
        reference.step(epoch)
        theirs.append(reference.get_last_lr()[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-17)
    assert (scheduler.last_epoch, scheduler.T_i) == (reference.last_epoch, reference.T_i)
    assert scheduler.T_cur == pytest.approx(reference.T_cur, rel=1e-15, abs=1e-15)


def test_warm_restarts_keep_torchs_period_rounding_at_a_restart():
    """At epoch 121 (T_0=1, T_mult=3) a restart begins, but torch's int(log(243, 3)) is 4: it
    sets eta_min (period 4's end), and the next step() restarts. Kept, to give torch's rates."""
    scheduler = CosineAnnealingWarmRestarts(make_optimizer(1.0), T_0=1, T_mult=3, eta_min=0.1)
    assert warm_restart_rates(scheduler, [121])[0] == 0.1
    assert (scheduler.T_cur, scheduler.T_i) == (81.0, 81)
    assert warm_restart_rates(scheduler, [None]) == [warm_restarts(1.0, 122, {"T_0": 1, "T_mult": 3,
                                                                             "eta_min": 0.1})]


# -- OneCycleLR ------------------------------------------------------------------------------------

def one_cycle(step, k, values):
    """1cycle's value at ``step``: ``values`` maps "initial"/"max"/"min" to the value at those
    points (rates, or momentums: max_momentum at initial and min, base_momentum at max)."""
    total, pct_start = k["total_steps"], k.get("pct_start", 0.3)
    up_end, down_end = pct_start * total - 1, 2 * pct_start * total - 2
    if k.get("anneal_strategy", "cos") == "cos":
        def anneal(start, end, fraction):
            return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
    else:
        def anneal(start, end, fraction):
            return start + (end - start) * fraction
    step = min(step, total - 1)  # the call after the last batch keeps the final values
    if step <= up_end:
        return anneal(values["initial"], values["max"], step / up_end)
    if not k.get("three_phase", False):
        return anneal(values["max"], values["min"], (step - up_end) / (total - 1 - up_end))
    if step <= down_end:
        return anneal(values["max"], values["initial"], (step - up_end) / (down_end - up_end))
    return anneal(values["initial"], values["min"], (step - down_end) / (total - 1 - down_end))


def one_cycle_rates(k, base_momentum=0.85, max_momentum=0.95):
    top = k["max_lr"]
    initial = top / k.get("div_factor", 25.0)
    lrs = {"initial": initial, "max": top, "min": initial / k.get("final_div_factor", 1e4)}
    momentums = {"initial": max_momentum, "max": base_momentum, "min": max_momentum}
    steps = range(k["total_steps"] + 1)
    return [one_cycle(step, k, lrs) for step in steps], [one_cycle(step, k, momentums) for step in steps]


one_cycle_keywords = st.fixed_dictionaries(
    {"max_lr": st.floats(1e-3, 10.0), "total_steps": st.integers(1, 60)},
    optional={"pct_start": st.floats(0.0, 1.0), "anneal_strategy": st.sampled_from(["cos", "linear"]),
              "three_phase": st.booleans(), "div_factor": st.floats(1.0, 100.0),
              "final_div_factor": st.floats(1.0, 1e5)},
).filter(lambda k: float(k.get("pct_start", 0.3) * k["total_steps"]) != 1)  # torch's 0/0, refused


def momentum_schedule(scheduler, steps):
    """The (rate, momentum) in force at each of ``steps`` steps, read before each step()."""
    group = scheduler.optimizer.param_groups[0]
    seen = []
    for _ in range(steps):
        seen.append((group["lr"], group["betas"][0] if "betas" in group else group["momentum"]))
        scheduler.optimizer.step()
        scheduler.step()
    return seen


@given(keywords=one_cycle_keywords)
def test_one_cycle_rates_and_momentums_follow_the_closed_form(keywords):
    optimizer = tg.optim.SGD([tg.Tensor(np.zeros(3), requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = OneCycleLR(optimizer, **keywords)
    seen = momentum_schedule(scheduler, keywords["total_steps"])
    seen.append((scheduler.get_last_lr()[0], optimizer.param_groups[0]["momentum"]))  # step total_steps
    rates, momentums = one_cycle_rates(keywords)
    np.testing.assert_allclose([lr for lr, _ in seen], rates, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([momentum for _, momentum in seen], momentums, rtol=1e-9, atol=1e-12)
    assert optimizer.param_groups[0]["initial_lr"] == keywords["max_lr"] / keywords.get("div_factor", 25.0)


def test_one_cycle_takes_epochs_and_steps_per_epoch_and_stops_past_total_steps():
    optimizer = tg.optim.Adam([tg.Tensor(np.zeros(3), requires_grad=True)])
    scheduler = OneCycleLR(optimizer, max_lr=0.01, epochs=2, steps_per_epoch=3)
    assert scheduler.total_steps == 6
    momentum_schedule(scheduler, 6)  # a step after each of the 6 batches: allowed, as torch
    before = (scheduler.state_dict(), optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"])
    with pytest.raises(ValueError, match=r"OneCycleLR.step: stepped 7 times, past total_steps=6"):
        scheduler.step()
    after = (scheduler.state_dict(), optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"])
    assert after == before
    assert optimizer.param_groups[0]["betas"][1] == 0.999  # only beta1 cycles


def test_one_cycle_without_cycle_momentum_leaves_the_momentum_and_takes_any_optimizer():
    optimizer = tg.optim.SGD([tg.Tensor(np.zeros(3), requires_grad=True)], lr=0.1, momentum=0.5)
    momentum_schedule(OneCycleLR(optimizer, max_lr=1.0, total_steps=5, cycle_momentum=False), 5)
    assert optimizer.param_groups[0]["momentum"] == 0.5
    adagrad = tg.optim.Adagrad([tg.Tensor(np.zeros(3), requires_grad=True)])
    scheduler = OneCycleLR(adagrad, max_lr=1.0, total_steps=5, cycle_momentum=False)
    assert scheduler.get_last_lr() == [pytest.approx(0.04, rel=1e-14)]


def test_one_cycle_takes_a_max_lr_and_momentums_per_group():
    scheduler = OneCycleLR(two_groups(1.0, 1.0), max_lr=[1.0, 0.1], total_steps=10, base_momentum=[0.8, 0.5],
                           max_momentum=[0.9, 0.6], anneal_strategy="linear")
    rates = group_rates(scheduler, 10)
    assert rates[0] == pytest.approx([0.04, 0.004]) and rates[2] == pytest.approx([1.0, 0.1])
    assert rates[9] == pytest.approx([4e-6, 4e-7])
    assert [group["momentum"] for group in scheduler.optimizer.param_groups] == pytest.approx([0.9, 0.6])


def fixed_gradient_steps(optimizer, scheduler, params, steps):
    """Train ``params`` on Σ (p − 1)² (gradient 2(p − 1)) and return their values after each step."""
    trajectory = []
    for _ in range(steps):
        for param in params:
            param.grad = 2 * (param.data - 1.0)
        optimizer.step()
        scheduler.step()
        trajectory.append(np.concatenate([param.data.copy() for param in params]))
    return trajectory


@pytest.mark.parametrize("scheduler_keywords", [
    {"max_lr": 0.5, "total_steps": 20},
    {"max_lr": 0.5, "total_steps": 20, "three_phase": True, "anneal_strategy": "linear", "pct_start": 0.25},
], ids=["cos", "linear-three-phase"])
@pytest.mark.parametrize("make_optimizer_of", [
    lambda optim, params: optim.SGD(params, lr=0.1, momentum=0.9),
    lambda optim, params: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    lambda optim, params: optim.Adam(params, lr=0.1),
    lambda optim, params: optim.AdamW(params, lr=0.1, weight_decay=0.1),
    lambda optim, params: optim.RMSprop(params, lr=0.1, momentum=0.5),
], ids=["SGD-momentum", "SGD-nesterov", "Adam", "AdamW", "RMSprop-momentum"])
def test_one_cycle_cycles_the_momentum_the_optimizer_uses_as_torch(make_optimizer_of, scheduler_keywords):
    """The parameters after every step equal torch's: the optimizer used the cycled momentum."""
    torch = pytest.importorskip("torch")
    start = np.array([3.0, -2.0, 0.5])
    ours = [tg.Tensor(start.copy(), requires_grad=True)]
    optimizer = make_optimizer_of(tg.optim, ours)
    trajectory = fixed_gradient_steps(optimizer, OneCycleLR(optimizer, **scheduler_keywords), ours, 20)
    theirs = [torch.tensor(start.copy(), requires_grad=True)]
    reference = make_optimizer_of(torch.optim, theirs)
    reference_scheduler = torch.optim.lr_scheduler.OneCycleLR(reference, **scheduler_keywords)
    for step in range(20):
        theirs[0].grad = 2 * (theirs[0].detach() - 1.0)
        reference.step()
        reference_scheduler.step()
        np.testing.assert_allclose(trajectory[step], theirs[0].detach().numpy(), rtol=1e-13, atol=1e-15)


@given(keywords=one_cycle_keywords, momentum=st.tuples(st.floats(0.0, 0.9), st.floats(0.0, 0.99)))
def test_one_cycle_matches_torch(keywords, momentum):
    torch = pytest.importorskip("torch")
    base_momentum, max_momentum = momentum
    keywords = {**keywords, "base_momentum": base_momentum, "max_momentum": max_momentum}
    ours = momentum_schedule(OneCycleLR(tg.optim.Adam([tg.Tensor(np.zeros(3), requires_grad=True)]),
                                        **keywords), keywords["total_steps"])
    optimizer = torch.optim.Adam([torch.zeros(3, requires_grad=True)])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, **keywords)
    theirs = []
    for step in range(keywords["total_steps"]):
        theirs.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"][0]))
        optimizer.step()
        if step < keywords["total_steps"] - 1:  # torch's step total_steps extrapolates (0/0 if
            scheduler.step()                     # pct_start is 1); ours keeps the final values
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-18)


def test_one_cycle_resumes_bitwise_with_its_optimizer(tmp_path):
    def run(params):
        optimizer = tg.optim.SGD(params, lr=0.1, momentum=0.9)
        return optimizer, OneCycleLR(optimizer, max_lr=0.5, total_steps=16, three_phase=True)

    params = [tg.Tensor(np.array([3.0, -2.0]), requires_grad=True)]
    optimizer, scheduler = run(params)
    expected = fixed_gradient_steps(optimizer, scheduler, params, 16)
    expected_rates = scheduler.get_last_lr()
    params = [tg.Tensor(np.array([3.0, -2.0]), requires_grad=True)]
    optimizer, scheduler = run(params)
    before = fixed_gradient_steps(optimizer, scheduler, params, 7)
    save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "param": params[0].data},
         tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")
    params = [tg.Tensor(checkpoint["param"], requires_grad=True)]
    optimizer, scheduler = run(params)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    after = fixed_gradient_steps(optimizer, scheduler, params, 9)
    assert all(np.array_equal(a, b) for a, b in zip(before + after, expected))
    assert scheduler.get_last_lr() == expected_rates


# -- SequentialLR --------------------------------------------------------------------------------

def warmup_then_cosine(optimizer, warmup, start_factor, T_max, eta_min, module=lr_scheduler):
    """The common recipe: a LinearLR warm-up of ``warmup`` epochs, then a cosine from the full rate."""
    return module.SequentialLR(optimizer, [
        module.LinearLR(optimizer, start_factor=start_factor, total_iters=warmup),
        module.CosineAnnealingLR(optimizer, T_max=T_max, eta_min=eta_min)], milestones=[warmup])


warmup_recipes = st.fixed_dictionaries({"warmup": st.integers(1, 10), "start_factor": st.floats(0.01, 1.0),
                                        "T_max": st.integers(1, 30), "eta_min": st.floats(0.0, 1e-3)})


@given(recipe=warmup_recipes, base=base_lrs, epochs=epoch_counts)
def test_sequential_warmup_then_cosine_follows_the_closed_form(recipe, base, epochs):
    rates = schedule(warmup_then_cosine(make_optimizer(base), **recipe), epochs)
    warmup, start = recipe["warmup"], recipe["start_factor"]
    expected = [base * (start + (1 - start) * epoch / warmup) if epoch < warmup
                else lr_scheduler.cosine_annealing(base, recipe["eta_min"], epoch - warmup, recipe["T_max"])
                for epoch in range(epochs)]
    np.testing.assert_allclose(rates, expected, rtol=1e-9, atol=1e-12)


@given(recipe=warmup_recipes, base=base_lrs, epochs=epoch_counts)
def test_sequential_warmup_then_cosine_matches_torch(recipe, base, epochs):
    torch = pytest.importorskip("torch")
    ours = schedule(warmup_then_cosine(make_optimizer(base), **recipe), epochs)
    optimizer = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=base)
    scheduler = warmup_then_cosine(optimizer, **recipe, module=torch.optim.lr_scheduler)
    theirs = []
    for _ in range(epochs):
        theirs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15 * base)


CHAINS = {  # name: (the schedulers, made on an optimizer by a module's classes, and the milestones)
    "Constant-Exponential-Step": (lambda m, o: [m.ConstantLR(o, factor=0.5, total_iters=2),
                                                m.ExponentialLR(o, gamma=0.9),
                                                m.StepLR(o, 2, gamma=0.5)], [3, 7]),
    "Linear-WarmRestarts-Polynomial": (lambda m, o: [m.LinearLR(o, 0.2, total_iters=3),
                                                     m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
                                                     m.PolynomialLR(o, total_iters=6, power=2.0)], [2, 9]),
    "MultiStep-Lambda-Multiplicative": (lambda m, o: [m.MultiStepLR(o, [0, 1, 1], gamma=0.5),
                                                      m.LambdaLR(o, lambda e: 0.9 ** e),
                                                      m.MultiplicativeLR(o, lambda e: 0.8)], [4, 6]),
    "Cosine-Cosine-Cosine, a milestone 0": (lambda m, o: [m.CosineAnnealingLR(o, 3),
                                                          m.CosineAnnealingLR(o, 4),
                                                          m.CosineAnnealingLR(o, 2, eta_min=0.1)], [0, 5]),
    "Exponential alone": (lambda m, o: [m.ExponentialLR(o, gamma=0.7)], []),
}


@pytest.mark.parametrize("chain", list(CHAINS))
def test_sequential_chains_match_torch_with_two_groups(chain):
    torch = pytest.importorskip("torch")
    make, milestones = CHAINS[chain]
    optimizer = two_groups(1.0, 0.3)
    ours = group_rates(SequentialLR(optimizer, make(lr_scheduler, optimizer), milestones), 16)
    groups = [{"params": [torch.zeros(3, requires_grad=True)]},
              {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}]
    reference = torch.optim.SGD(groups, lr=1.0)
    scheduler = torch.optim.lr_scheduler.SequentialLR(reference, make(torch.optim.lr_scheduler, reference),
                                                      milestones)
    theirs = []
    for _ in range(16):
        theirs.append([group["lr"] for group in reference.param_groups])
        reference.step()
        scheduler.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("chain", list(CHAINS))
@pytest.mark.parametrize("stop", [1, 3, 5, 8])
def test_sequential_resumes_bitwise_from_its_state_dict(chain, stop, tmp_path):
    make, milestones = CHAINS[chain]

    def fresh(lr=0.5):
        optimizer = make_optimizer(lr)
        return optimizer, SequentialLR(optimizer, make(lr_scheduler, optimizer), milestones)

    expected = schedule(fresh()[1], 16)
    optimizer, first = fresh()
    before = schedule(first, stop)
    save({"optimizer": optimizer.state_dict(), "scheduler": first.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")
    restored_optimizer, restored = fresh(7.0)
    restored_optimizer.load_state_dict(checkpoint["optimizer"])
    restored.load_state_dict(checkpoint["scheduler"])
    assert restored.state_dict() == first.state_dict()
    assert before + schedule(restored, 16 - stop) == expected


def test_sequential_refuses_a_state_dict_it_cannot_load_whole_and_loads_none_of_it():
    optimizer = make_optimizer()
    make, milestones = CHAINS["Constant-Exponential-Step"]
    scheduler = SequentialLR(optimizer, make(lr_scheduler, optimizer), milestones)
    schedule(scheduler, 4)
    state, before = scheduler.state_dict(), scheduler.state_dict()
    bad_child = {**state, "last_epoch": 9, "_schedulers": [*state["_schedulers"][:2],
                                                           {**state["_schedulers"][2], "gamma": -1.0}]}
    with pytest.raises(ValueError, match="StepLR.load_state_dict: gamma must be > 0, got -1.0"):
        scheduler.load_state_dict(bad_child)
    with pytest.raises(ValueError, match=r"SequentialLR.load_state_dict: milestones must be in increasing "):
        scheduler.load_state_dict({**state, "_milestones": [7, 3]})
    with pytest.raises(ValueError, match=r"SequentialLR.load_state_dict: expected a dict whose '_sched"):
        scheduler.load_state_dict({**state, "_schedulers": state["_schedulers"][:2]})
    assert scheduler.state_dict() == before


def _another_optimizers_step_lr(optimizer):
    return StepLR(make_optimizer(), 2)


@pytest.mark.parametrize("make, error, message", [
    (lambda opt: [ReduceLROnPlateau(opt)], ValueError,
     r"SequentialLR: schedulers\[0\] is a ReduceLROnPlateau, which steps on a metric"),
    (lambda opt: [StepLR(opt, 2), _another_optimizers_step_lr(opt)], ValueError,
     r"SequentialLR: schedulers\[1\] \(StepLR\) belongs to another optimizer"),
    (lambda opt: [SequentialLR(opt, [StepLR(opt, 2)], [])], TypeError,
     r"SequentialLR: schedulers\[0\] must be a learning-rate scheduler other than SequentialLR, got Seq"),
    (lambda opt: [StepLR(opt, 2), "cosine"], TypeError,
     r"SequentialLR: schedulers\[1\] must be a learning-rate scheduler .*, got str"),
    (lambda opt: [], ValueError, "SequentialLR: expected at least one scheduler, got none"),
    (lambda opt: StepLR(opt, 2), TypeError, "SequentialLR: schedulers must be a list, got StepLR"),
])
def test_sequential_refuses_schedulers_it_cannot_run(make, error, message):
    optimizer = make_optimizer()
    schedulers = make(optimizer)
    milestones = list(range(1, len(schedulers))) if isinstance(schedulers, list) else []
    with pytest.raises(error, match=message):
        SequentialLR(optimizer, schedulers, milestones)


@pytest.mark.parametrize("milestones, error, message", [
    ([3, 5], ValueError, r"SequentialLR: expected 1 milestones \(one fewer than the 2 schedulers\), got 2"),
    ([-1], ValueError, "SequentialLR: milestones must be >= 0, got -1"),
    ([2.5], TypeError, "SequentialLR: milestones must be an int, got 2.5"),
    (3, TypeError, "SequentialLR: milestones must be a list, got int"),
])
def test_sequential_refuses_bad_milestones(milestones, error, message):
    optimizer = make_optimizer()
    with pytest.raises(error, match=message):
        SequentialLR(optimizer, [StepLR(optimizer, 2), ExponentialLR(optimizer, 0.5)], milestones)


def test_sequential_refuses_milestones_out_of_order():
    optimizer = make_optimizer()
    schedulers = [StepLR(optimizer, 2), ExponentialLR(optimizer, 0.5), StepLR(optimizer, 3)]
    with pytest.raises(ValueError, match=r"SequentialLR: milestones must be in increasing order, got \[5, 2"):
        SequentialLR(optimizer, schedulers, [5, 2])


# -- ReduceLROnPlateau ----------------------------------------------------------------------------

def plateau_rates(metrics, **keywords) -> list[float]:
    scheduler = ReduceLROnPlateau(make_optimizer(1.0), **keywords)
    rates = []
    for value in metrics:
        scheduler.step(value)
        rates.append(scheduler.get_last_lr()[0])
    return rates


def test_plateau_waits_patience_bad_epochs_then_cools_down():
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4]
    rates = plateau_rates(metrics, patience=2, factor=0.5, cooldown=2)
    # bad epochs 1, 2, 3 (> patience): cut at index 4; 2 cooldown epochs; 3 more bad: cut at index 9
    assert rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert plateau_rates(metrics + [4, 4], patience=2, factor=0.5, cooldown=2)[-3:] == [0.5, 0.25, 0.25]


def test_plateau_threshold_modes_and_max_mode():
    # 0.2 % better is no improvement under a 1 % relative threshold, but is under a 0.001 absolute one.
    slow = [1.0, 0.998, 0.996, 0.994]
    assert plateau_rates(slow, patience=1, threshold=0.01)[-1] == pytest.approx(0.1)
    assert plateau_rates(slow, patience=1, threshold=1e-3, threshold_mode="abs")[-1] == 1.0
    assert plateau_rates([0.5, 0.6, 0.7], mode="max", patience=0) == [1.0, 1.0, 1.0]
    worse = plateau_rates([0.5, 0.4, 0.3], mode="max", patience=0)
    assert worse == [1.0, pytest.approx(0.1), pytest.approx(0.01)]


def test_plateau_respects_min_lr_and_eps():
    assert plateau_rates([1, 1, 1, 1], patience=0, factor=0.1, min_lr=0.05) == [1.0, 0.1, 0.05, 0.05]
    assert plateau_rates([1, 1, 1], patience=0, factor=0.5, eps=0.6) == [1.0, 1.0, 1.0]


def test_plateau_state_dict_round_trip(tmp_path):
    metrics = [3.0, 2.0, 2.5, 2.4, 2.6, 2.7, 1.0, 1.5, 1.6]
    first = ReduceLROnPlateau(make_optimizer(1.0), patience=1, cooldown=1)
    for value in metrics[:4]:
        first.step(value)
    save({"plateau": first.state_dict()}, tmp_path / "p.npz")
    second = ReduceLROnPlateau(make_optimizer(1.0))
    second.optimizer.param_groups[0]["lr"] = first.get_last_lr()[0]
    second.load_state_dict(load(tmp_path / "p.npz")["plateau"])
    for value in metrics[4:]:
        first.step(value)
        second.step(value)
    assert first.state_dict() == second.state_dict()


def _with_a_group_added_later(make_scheduler):
    """An optimizer of one group, its scheduler, then a second group (rate 1.0) added."""
    optimizer = make_optimizer(1.0)
    scheduler = make_scheduler(optimizer)
    optimizer.add_param_group({"params": [tg.Tensor(np.zeros(1), requires_grad=True)], "lr": 1.0})
    return optimizer, scheduler


def test_plateau_reduces_a_group_added_later_down_to_a_single_min_lr_as_pytorch():
    # It used to pair groups with min_lrs by zip and leave the new group at its rate.
    _, plateau = _with_a_group_added_later(lambda opt: ReduceLROnPlateau(opt, patience=0, factor=0.5,
                                                                          min_lr=0.3))
    for value in (1.0, 2.0, 3.0):
        plateau.step(value)
    assert plateau.get_last_lr() == [0.3, 0.3]
    assert plateau.min_lrs == [0.3, 0.3]
    torch = pytest.importorskip("torch")
    theirs = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, patience=0, factor=0.5, min_lr=0.3)
    theirs.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0})
    for value in (1.0, 2.0, 3.0):
        reference.step(value)
    assert reference.get_last_lr() == plateau.get_last_lr()


def test_plateau_with_a_min_lr_per_group_refuses_a_group_added_later_and_changes_nothing():
    _, plateau = _with_a_group_added_later(lambda opt: ReduceLROnPlateau(opt, min_lr=[0.1]))
    before = plateau.state_dict()
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.step: the optimizer has 2 parameter groups, "
                                         r"but min_lrs has 1 values"):
        plateau.step(1.0)
    assert plateau.state_dict() == before
    plateau.min_lrs = [0.1, 0.2]  # what the message asks for
    plateau.step(1.0)


@pytest.mark.parametrize("cls", [LambdaLR, MultiplicativeLR], ids=lambda cls: cls.__name__)
def test_lambda_lr_refuses_a_group_added_later_as_pytorch(cls):
    # It used to leave the new group's rate alone, silently.
    _, scheduler = _with_a_group_added_later(lambda opt: cls(opt, lambda epoch: 0.5**epoch))
    with pytest.raises(ValueError, match=rf"{cls.__name__}.step: the optimizer has 2 parameter groups, but "
                                         r"this scheduler has 1 lr_lambdas"):
        scheduler.step()
    assert scheduler.last_epoch == 0


def test_plateau_state_dict_loads_across_a_single_and_a_per_group_min_lr():
    single = ReduceLROnPlateau(make_optimizer(1.0), min_lr=0.01)
    per_group = ReduceLROnPlateau(make_optimizer(1.0), min_lr=[0.02])
    assert single.state_dict()["default_min_lr"] == 0.01 and per_group.state_dict()["default_min_lr"] is None
    per_group.load_state_dict(single.state_dict())
    assert (per_group.default_min_lr, per_group.min_lrs) == (0.01, [0.01])
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.load_state_dict: min_lr must be a finite "):
        single.load_state_dict({**per_group.state_dict(), "default_min_lr": math.inf})


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda opt: StepLR("sgd", step_size=1), TypeError, "StepLR: expected an Optimizer, got str"),
    (lambda opt: StepLR(opt, step_size=0), ValueError, "StepLR: step_size must be >= 1, got 0"),
    (lambda opt: StepLR(opt, step_size=1.5), TypeError, "StepLR: step_size must be an int"),
    (lambda opt: StepLR(opt, step_size=2, gamma=-1), ValueError, "StepLR: gamma must be > 0"),
    (lambda opt: ExponentialLR(opt, gamma=float("nan")), ValueError, "ExponentialLR: gamma must be a finite"),
    (lambda opt: MultiStepLR(opt, milestones=3), TypeError, "MultiStepLR: milestones must be a list of ints"),
    (lambda opt: MultiStepLR(opt, milestones=[2, -1]), ValueError, "MultiStepLR: milestones must be >= 0"),
    (lambda opt: LinearLR(opt, start_factor=0), ValueError, r"LinearLR: start_factor must be in \(0, 1\]"),
    (lambda opt: LinearLR(opt, end_factor=2), ValueError, r"LinearLR: end_factor must be in \[0, 1\]"),
    (lambda opt: CosineAnnealingLR(opt, T_max=0), ValueError, "CosineAnnealingLR: T_max must be >= 1"),
    (lambda opt: CosineAnnealingLR(opt, T_max=3, eta_min=-1), ValueError, "eta_min must be >= 0"),
    (lambda opt: LambdaLR(opt, 0.5), TypeError, r"LambdaLR: lr_lambda\[0\] must be callable"),
    (lambda opt: LambdaLR(opt, [abs, abs]), ValueError, "LambdaLR: expected 1 lr_lambdas"),
    (lambda opt: MultiplicativeLR(opt, 0.5), TypeError, r"MultiplicativeLR: lr_lambda\[0\] must be callable"),
    (lambda opt: MultiplicativeLR(opt, []), ValueError, r"MultiplicativeLR: expected 1 lr_lambdas \(one per"),
    (lambda opt: MultiplicativeLR(opt, abs, last_epoch=-3), ValueError,
     "MultiplicativeLR: last_epoch must be >= -1, got -3"),
    (lambda opt: StepLR(opt, step_size=1, last_epoch=-2), ValueError, "last_epoch must be >= -1"),
    (lambda opt: StepLR(opt, step_size=1, last_epoch=3), ValueError,
     r"last_epoch=3 continues a schedule, but param_groups\[0\] has no 'initial_lr' \(a scheduler"),
    (lambda opt: ReduceLROnPlateau(opt, factor=1.0), ValueError, r"factor must be in \[0, 1\), got 1.0"),
    (lambda opt: ConstantLR(opt, factor=0), ValueError, r"ConstantLR: factor must be in \(0, 1\], got 0"),
    (lambda opt: ConstantLR(opt, factor=1.5), ValueError, r"ConstantLR: factor must be in \(0, 1\], got 1.5"),
    (lambda opt: ConstantLR(opt, factor="x"), TypeError, "ConstantLR: factor must be a number, got 'x'"),
    (lambda opt: ConstantLR(opt, total_iters=0), ValueError, "ConstantLR: total_iters must be >= 1, got 0"),
    (lambda opt: ConstantLR(opt, total_iters=2.0), TypeError, "ConstantLR: total_iters must be an int"),
    (lambda opt: PolynomialLR(opt, total_iters=0), ValueError, "PolynomialLR: total_iters must be >= 1"),
    (lambda opt: PolynomialLR(opt, power=-1), ValueError, "PolynomialLR: power must be >= 0, got -1"),
    (lambda opt: PolynomialLR(opt, power=math.inf), ValueError, "PolynomialLR: power must be a finite"),
    (lambda opt: ConstantLR("sgd"), TypeError, "ConstantLR: expected an Optimizer, got str"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=0), ValueError,
     "CosineAnnealingWarmRestarts: T_0 must be >= 1, got 0"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2.5), TypeError,
     "CosineAnnealingWarmRestarts: T_0 must be an int, got 2.5"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), ValueError,
     "CosineAnnealingWarmRestarts: T_mult must be >= 1, got 0"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5), TypeError,
     "CosineAnnealingWarmRestarts: T_mult must be an int"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2, eta_min=-0.1), ValueError,
     "CosineAnnealingWarmRestarts: eta_min must be >= 0, got -0.1"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2).step(-1), ValueError,
     "CosineAnnealingWarmRestarts.step: epoch must be >= 0, got -1"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2).step(math.inf), ValueError,
     "CosineAnnealingWarmRestarts.step: epoch must be a finite number, got inf"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2).step("3"), TypeError,
     "CosineAnnealingWarmRestarts.step: epoch must be a number, got '3'"),
    (lambda opt: OneCycleLR(opt, 1.0), ValueError, "OneCycleLR: give total_steps, or epochs and steps_per_"),
    (lambda opt: OneCycleLR(opt, 1.0, epochs=3), ValueError, "OneCycleLR: give total_steps, or epochs and"),
    (lambda opt: OneCycleLR(opt, 1.0, total_steps=0), ValueError, "OneCycleLR: total_steps must be >= 1"),
    (lambda opt: OneCycleLR(opt, 1.0, total_steps=2.5), TypeError, "OneCycleLR: total_steps must be an int"),
    (lambda opt: OneCycleLR(opt, 1.0, epochs=0, steps_per_epoch=3), ValueError, "OneCycleLR: epochs must be"),
    (lambda opt: OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch="3"), TypeError,
     "OneCycleLR: steps_per_epoch must be an int, got '3'"),
    (lambda opt: OneCycleLR(opt, [1.0, 2.0], 9), ValueError, r"OneCycleLR: expected 1 max_lr values \(one"),
    (lambda opt: OneCycleLR(opt, -1.0, 9), ValueError, "OneCycleLR: max_lr must be >= 0, got -1.0"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, pct_start=1.5), ValueError,
     r"OneCycleLR: pct_start must be in \[0, 1\], got 1.5"),
    (lambda opt: OneCycleLR(opt, 1.0, 10, pct_start=0.1), ValueError,
     r"OneCycleLR: with pct_start=0.1 and total_steps=10, phase 1 starts and ends at step 0.0"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, anneal_strategy="exp"), ValueError,
     "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'exp'"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, three_phase=1), TypeError, "OneCycleLR: three_phase must be True"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, div_factor=0), ValueError, "OneCycleLR: div_factor must be > 0"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, final_div_factor=-2), ValueError, "OneCycleLR: final_div_factor"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, base_momentum=-0.1), ValueError, "OneCycleLR: base_momentum must"),
    (lambda opt: OneCycleLR(opt, 1.0, 9, max_momentum=[0.9, 0.9]), ValueError,
     "OneCycleLR: expected 1 max_momentum values"),
    (lambda opt: OneCycleLR(tg.optim.Adam(opt.param_groups[0]["params"]), 1.0, 9, max_momentum=1.0),
     ValueError, r"OneCycleLR: max_momentum must be < 1 with betas \(Adam's beta1\), got \[1.0\]"),
    (lambda opt: OneCycleLR(tg.optim.Adagrad(opt.param_groups[0]["params"]), 1.0, 9), ValueError,
     "OneCycleLR: cycle_momentum=True needs an optimizer with a 'momentum' or 'betas' hyperparameter"),
    (lambda opt: OneCycleLR("opt", 1.0, 9), TypeError, "OneCycleLR: expected an Optimizer, got str"),
    (lambda opt: ReduceLROnPlateau(opt, mode="lowest"), ValueError, "mode must be 'min' or 'max'"),
    (lambda opt: ReduceLROnPlateau(opt, threshold_mode="pct"), ValueError, "threshold_mode must be"),
    (lambda opt: ReduceLROnPlateau(opt, patience=-1), ValueError, "patience must be >= 0"),
    (lambda opt: ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lr values"),
    (lambda opt: ReduceLROnPlateau(opt).step("low"), TypeError, "ReduceLROnPlateau.step: metrics must be a"),
])
def test_bad_arguments_name_the_scheduler(make, error, message):
    with pytest.raises(error, match=message):
        make(make_optimizer())


def test_load_state_dict_refuses_another_schedulers_state():
    step = StepLR(make_optimizer(), step_size=2)
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: keys do not match.*missing \['step_"):
        step.load_state_dict(ExponentialLR(make_optimizer(), gamma=0.5).state_dict())
    state = step.state_dict()
    with pytest.raises(ValueError, match="'last_epoch' should be like 0, got 'two'"):
        step.load_state_dict({**state, "last_epoch": "two"})
    with pytest.raises(ValueError, match="'base_lrs' should be like"):
        step.load_state_dict({**state, "base_lrs": [0.5, 0.5]})
    with pytest.raises(TypeError, match="expected a dict, got list"):
        step.load_state_dict([])
    assert step.state_dict() == state


@pytest.mark.parametrize(("make", "key", "value", "message"), [
    (lambda opt: StepLR(opt, step_size=2), "step_size", 0, r"step_size must be >= 1, got 0"),
    (lambda opt: StepLR(opt, step_size=2), "step_size", -3, r"step_size must be >= 1, got -3"),
    (lambda opt: StepLR(opt, step_size=2), "gamma", math.nan, r"gamma must be a finite number, got nan"),
    (lambda opt: MultiStepLR(opt, [2]), "milestones", [-1], r"milestones must be >= 0, got -1"),
    (lambda opt: ExponentialLR(opt, gamma=0.5), "gamma", 0.0, r"gamma must be > 0, got 0"),
    (lambda opt: LinearLR(opt), "total_iters", 0, r"total_iters must be >= 1, got 0"),
    (lambda opt: LinearLR(opt), "start_factor", 2.0, r"start_factor must be in \(0, 1\], got 2.0"),
    (lambda opt: CosineAnnealingLR(opt, T_max=4), "T_max", 0, r"T_max must be >= 1, got 0"),
    (lambda opt: CosineAnnealingLR(opt, T_max=4), "eta_min", -0.1, r"eta_min must be >= 0, got -0.1"),
    (lambda opt: StepLR(opt, step_size=2), "base_lrs", [-0.5], r"base_lrs must be >= 0, got -0.5"),
    (lambda opt: StepLR(opt, step_size=2), "_last_lr", [math.inf], r"_last_lr must be a finite number"),
    (lambda opt: StepLR(opt, step_size=2), "last_epoch", -5, r"last_epoch must be >= -1, got -5"),
    (lambda opt: ReduceLROnPlateau(opt), "factor", 1.5, r"factor must be in \[0, 1\), got 1.5"),
    (lambda opt: ConstantLR(opt), "factor", 0.0, r"factor must be in \(0, 1\], got 0.0"),
    (lambda opt: ConstantLR(opt), "total_iters", -1, r"total_iters must be >= 1, got -1"),
    (lambda opt: PolynomialLR(opt), "power", -0.5, r"power must be >= 0, got -0.5"),
    (lambda opt: MultiplicativeLR(opt, abs), "_step_count", 1.5, r"_step_count must be an int"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, 3), "T_i", 0, r"T_i must be >= 1, got 0"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, 3), "T_cur", math.nan, r"T_cur must be a finite number"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, 3), "T_mult", 0, r"T_mult must be >= 1, got 0"),
    (lambda opt: OneCycleLR(opt, 1.0, 9), "total_steps", 0, r"total_steps must be >= 1, got 0"),
    (lambda opt: OneCycleLR(opt, 1.0, 9), "anneal_strategy", "exp", r"anneal_strategy must be 'cos' or"),
    (lambda opt: OneCycleLR(opt, 1.0, 9), "max_momentums", [-1], r"max_momentum must be >= 0, got -1"),
    (lambda opt: OneCycleLR(opt, 1.0, 10), "pct_start", 0.1, r"with pct_start=0.1 and total_steps=10, phase"),
    (lambda opt: ReduceLROnPlateau(opt), "mode", "lowest", r"mode must be 'min' or 'max'"),
    (lambda opt: ReduceLROnPlateau(opt), "num_bad_epochs", -1, r"num_bad_epochs must be >= 0"),
    (lambda opt: ReduceLROnPlateau(opt), "best", math.nan, r"best must be a number, got nan"),
])
def test_load_state_dict_refuses_values_no_constructor_accepts(make, key, value, message):
    scheduler = make(make_optimizer())
    state = scheduler.state_dict()
    where = f"{type(scheduler).__name__}.load_state_dict"
    with pytest.raises((TypeError, ValueError), match=rf"{where}: {message}"):
        scheduler.load_state_dict({**state, key: value})
    assert scheduler.state_dict() == state  # nothing changed
    scheduler.optimizer.step()
    (scheduler.step(1.0) if isinstance(scheduler, ReduceLROnPlateau) else scheduler.step())


@pytest.mark.parametrize(("make", "message"), [
    (lambda opt: LambdaLR(opt, lambda epoch: "x"), r"LambdaLR: lr_lambda\(0\) must be a number, got 'x'"),
    (lambda opt: LambdaLR(opt, lambda epoch: math.nan if epoch > 1 else 1.0),
     r"LambdaLR: lr_lambda\(2\) must be a finite number, got nan"),
    (lambda opt: LambdaLR(opt, lambda epoch: 1.0 - epoch),
     r"LambdaLR.step: the schedule gives param_groups\[0\] the rate -0.5 at epoch 2; rates must be finite "),
    (lambda opt: ExponentialLR(opt, gamma=1e200), r"ExponentialLR.step: .* the rate inf at epoch 2"),
    (lambda opt: MultiplicativeLR(opt, lambda epoch: None if epoch > 1 else 1.0),
     r"MultiplicativeLR: lr_lambda\(2\) must be a number, got None"),
    (lambda opt: MultiplicativeLR(opt, lambda epoch: -1.0 if epoch > 1 else 1.0),
     r"MultiplicativeLR.step: the schedule gives param_groups\[0\] the rate -0.5 at epoch 2"),
])
def test_a_schedule_that_leaves_the_valid_rates_is_stopped_at_its_step(make, message):
    optimizer = make_optimizer()
    scheduler = None
    with pytest.raises((TypeError, ValueError), match=message):
        scheduler = make(optimizer)
        scheduler.step()
        before = (scheduler.last_epoch, scheduler._step_count, optimizer.param_groups[0]["lr"])
        scheduler.step()
    assert math.isfinite(optimizer.param_groups[0]["lr"]) and optimizer.param_groups[0]["lr"] >= 0
    if scheduler is not None:  # the refused step left the scheduler where it was
        assert (scheduler.last_epoch, scheduler._step_count, optimizer.param_groups[0]["lr"]) == before


def _sequential(optimizer):
    return SequentialLR(optimizer, [ConstantLR(optimizer), CosineAnnealingWarmRestarts(optimizer, 3)], [2])


def test_state_dict_is_plain_data():
    for scheduler in (StepLR(make_optimizer(), 2), MultiStepLR(make_optimizer(), [1, 1]),
                      ReduceLROnPlateau(make_optimizer()), ConstantLR(make_optimizer()),
                      PolynomialLR(make_optimizer()), MultiplicativeLR(make_optimizer(), abs),
                      CosineAnnealingWarmRestarts(make_optimizer(), 3), OneCycleLR(make_optimizer(), 1.0, 9),
                      _sequential(make_optimizer())):
        scheduler.step(1.0) if isinstance(scheduler, ReduceLROnPlateau) else scheduler.step()

        def plain(value):
            if isinstance(value, dict):
                return all(isinstance(key, str) and plain(item) for key, item in value.items())
            if isinstance(value, list):
                return all(plain(item) for item in value)
            return value is None or isinstance(value, (bool, int, float, str))
        assert plain(scheduler.state_dict())


# -- cross-check against PyTorch (skipped where torch is not installed) ---------------------------

def torch_schedule(torch, name, keywords, epochs, base=0.5, extra=None):
    optimizer = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=base)
    schedulers = [getattr(torch.optim.lr_scheduler, name)(optimizer, **keywords)]
    if extra is not None:
        schedulers.append(getattr(torch.optim.lr_scheduler, extra[0])(optimizer, **extra[1]))
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return rates


@pytest.mark.parametrize("cls", list(CLOSED_FORMS), ids=lambda cls: cls.__name__)
@given(data=st.data(), base=base_lrs, epochs=epoch_counts)
def test_matches_torch_schedulers(cls, data, base, epochs):
    torch = pytest.importorskip("torch")
    keywords = data.draw(CLOSED_FORMS[cls][0])
    ours = schedule(cls(make_optimizer(base), **keywords), epochs)
    theirs = torch_schedule(torch, cls.__name__, keywords, epochs, base=base)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14 * base)


@pytest.mark.parametrize("cls", list(CLOSED_FORMS), ids=lambda cls: cls.__name__)
@given(data=st.data(), base=base_lrs, start=st.integers(0, 30), epochs=st.integers(1, 30))
def test_matches_torch_when_created_at_a_later_epoch(cls, data, base, start, epochs):
    """last_epoch=k on an optimizer that holds initial_lr and the rate of epoch k (PyTorch's
    resume): the constructor's step keeps the rate, and the steps after it follow torch's."""
    torch = pytest.importorskip("torch")
    keywords, closed_form = data.draw(CLOSED_FORMS[cls][0]), CLOSED_FORMS[cls][1]
    current = max(0.0, closed_form(base, start, keywords))  # LinearLR's form can give −1e-16
    optimizer = make_optimizer(current)
    optimizer.param_groups[0]["initial_lr"] = base
    theirs_optimizer = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=current)
    theirs_optimizer.param_groups[0]["initial_lr"] = base
    scheduler = getattr(torch.optim.lr_scheduler, cls.__name__)(theirs_optimizer, last_epoch=start,
                                                                 **keywords)
    theirs = []
    for _ in range(epochs + 1):  # the rate the step after the last would set, too
        theirs.append(theirs_optimizer.param_groups[0]["lr"])
        theirs_optimizer.step()
        scheduler.step()
    if min(theirs) < -1e-12 * base:  # not LinearLR's rounding to −1e-16 near end_factor 0
        # torch's recursive cosine, resumed at epoch 0 with eta_min above the rate it starts
        # from, overshoots below zero (T_max 1, base 1e-4, eta_min 7.8e-4: -5.8e-4 at epoch
        # 2); ours refuses a negative rate instead of setting it.
        with pytest.raises(ValueError, match=r"rates must be finite and >= 0"):
            schedule(cls(optimizer, last_epoch=start, **keywords), epochs + 1)
        return
    ours = schedule(cls(optimizer, last_epoch=start, **keywords), epochs)
    np.testing.assert_allclose(ours, np.maximum(theirs[:epochs], 0), rtol=1e-10, atol=1e-14 * base)


STACKS = [  # (first, its keywords), (second, its keywords): both on one optimizer
    ((CosineAnnealingLR, {"T_max": 8}), (LinearLR, {"start_factor": 0.1, "total_iters": 4})),
    ((ExponentialLR, {"gamma": 0.9}), (ConstantLR, {"factor": 0.5, "total_iters": 6})),
    ((PolynomialLR, {"total_iters": 12, "power": 0.5}), (StepLR, {"step_size": 3, "gamma": 0.5})),
    ((CosineAnnealingLR, {"T_max": 5}), (PolynomialLR, {"total_iters": 7, "power": 2.0})),
    ((MultiplicativeLR, {"lr_lambda": alternating([0.9, 1.05])}), (LinearLR, {"total_iters": 4})),
]


@pytest.mark.parametrize("first, second", STACKS, ids=lambda pair: pair[0].__name__)
def test_stacked_schedulers_match_torch(first, second):
    torch = pytest.importorskip("torch")
    optimizer = make_optimizer(0.5)
    rates = schedule(first[0](optimizer, **first[1]), 20, second[0](optimizer, **second[1]))
    expected = torch_schedule(torch, first[0].__name__, first[1], 20, extra=(second[0].__name__, second[1]))
    np.testing.assert_allclose(rates, expected, rtol=1e-13, atol=1e-16)


@given(metrics=st.lists(st.sampled_from([1.0, 0.9, 0.95, 0.99995, 1.2, math.nan]), min_size=1, max_size=40),
       patience=st.integers(0, 3), cooldown=st.integers(0, 2), mode=st.sampled_from(["min", "max"]),
       threshold_mode=st.sampled_from(["rel", "abs"]))
def test_plateau_matches_torch(metrics, patience, cooldown, mode, threshold_mode):
    torch = pytest.importorskip("torch")
    keywords = {"patience": patience, "cooldown": cooldown, "mode": mode, "threshold_mode": threshold_mode,
                "factor": 0.5, "min_lr": 0.01}
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **keywords)
    expected = []
    for value in metrics:
        theirs.step(value)
        expected.append(theirs.get_last_lr()[0])
    assert plateau_rates(metrics, **keywords) == expected


def test_reachable_as_optim_lr_scheduler_like_torch():
    assert tg.optim.lr_scheduler is lr_scheduler
    assert isinstance(lr_scheduler, types.ModuleType)


# -- several parameter groups -------------------------------------------------------------------
def two_groups(first: float, second: float) -> tg.optim.SGD:
    weight, bias = (tg.Tensor(np.zeros(shape), requires_grad=True) for shape in (3, 1))
    return tg.optim.SGD([{"params": [weight]}, {"params": [bias], "lr": second}], lr=first)


def group_rates(scheduler, epochs: int) -> list[list[float]]:
    rates = []
    for _ in range(epochs):
        rates.append([group["lr"] for group in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == rates[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("cls", list(CLOSED_FORMS), ids=lambda cls: cls.__name__)
@given(data=st.data(), bases=st.tuples(base_lrs, base_lrs), epochs=epoch_counts)
def test_every_group_follows_the_closed_form_from_its_own_rate(cls, data, bases, epochs):
    keywords_strategy, closed_form = CLOSED_FORMS[cls]
    keywords = data.draw(keywords_strategy)
    rates = group_rates(cls(two_groups(*bases), **keywords), epochs)
    expected = [[closed_form(base, epoch, keywords) for base in bases] for epoch in range(epochs)]
    # Compared as factors of each group's base rate: a rate's rounding scales with its base
    # (a rate that should reach 0 from a base of 10 comes out within 1e-15, not 1e-16, of it).
    np.testing.assert_allclose(np.divide(rates, bases), np.divide(expected, bases),
                               rtol=1e-9, atol=1e-15)


def test_lambda_lr_takes_one_function_per_group_and_plateau_one_min_lr_per_group():
    optimizer = two_groups(1.0, 0.5)
    rates = group_rates(LambdaLR(optimizer, [lambda epoch: 0.5 ** epoch, lambda epoch: epoch + 1]), 3)
    assert rates == [[1.0, 0.5], [0.5, 1.0], [0.25, 1.5]]
    optimizer = two_groups(1.0, 0.5)
    plateau = ReduceLROnPlateau(optimizer, patience=0, factor=0.5, min_lr=[0.4, 0.2])
    seen = []
    for _ in range(4):  # the first sets the best; each later one is bad and patience is 0
        plateau.step(1.0)
        seen.append(plateau.get_last_lr())
    assert seen == [[1.0, 0.5], [0.5, 0.25], [0.4, 0.2], [0.4, 0.2]]  # each stops at its min_lr
    assert [group["lr"] for group in optimizer.param_groups] == [0.4, 0.2]
    with pytest.raises(ValueError, match=r"LambdaLR: expected 2 lr_lambdas \(one per group\), got 3"):
        LambdaLR(two_groups(1.0, 0.5), [lambda epoch: 1.0] * 3)


def test_groups_resume_through_the_optimizers_initial_lr(tmp_path):
    optimizer = two_groups(1.0, 0.1)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    group_rates(scheduler, 3)
    save({"optimizer": optimizer.state_dict()}, tmp_path / "run.npz")
    restored = two_groups(7.0, 7.0)
    restored.load_state_dict(load(tmp_path / "run.npz")["optimizer"])
    assert [group["initial_lr"] for group in restored.param_groups] == [1.0, 0.1]
    resumed = StepLR(restored, step_size=2, gamma=0.5, last_epoch=2)
    assert group_rates(resumed, 3) == group_rates(scheduler, 3)


@pytest.mark.parametrize("cls", list(CLOSED_FORMS), ids=lambda cls: cls.__name__)
@given(data=st.data(), bases=st.tuples(base_lrs, base_lrs), epochs=epoch_counts)
def test_groups_match_torch_schedulers(cls, data, bases, epochs):
    torch = pytest.importorskip("torch")
    keywords = data.draw(CLOSED_FORMS[cls][0])
    ours = group_rates(cls(two_groups(*bases), **keywords), epochs)
    groups = [{"params": [torch.zeros(3, requires_grad=True)]},
              {"params": [torch.zeros(1, requires_grad=True)], "lr": bases[1]}]
    optimizer = torch.optim.SGD(groups, lr=bases[0])
    scheduler = getattr(torch.optim.lr_scheduler, cls.__name__)(optimizer, **keywords)
    theirs = []
    for _ in range(epochs):
        theirs.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14 * max(bases))

"""Adamax, NAdam and RAdam: their update rules written out here, PyTorch, resumption, errors.

The reference recurrences below are float64 transcriptions of the algorithms in PyTorch's
documentation (NAdam's Nesterov term as the product of the ``mu_i``, RAdam's rectified and
un-rectified steps), written independently of ``tinygrad_rnn/optim.py``. The run helpers and
the L2-decay rounding rule are those of ``test_optim.py``.
"""

import inspect
import json
import math
import zipfile

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_optim import (
    TOLERANCE,
    _climbed,
    _decayed,
    assert_json_like,
    assert_matches_torch,
    make_params,
    random_run,
    run_steps,
)

import tinygrad_rnn as tg
from tinygrad_rnn import optim

OPTIMIZERS = [optim.Adamax, optim.NAdam, optim.RAdam]
TORCH_MACHINERY = {"foreach", "capturable", "differentiable", "fused"}  # device options, skipped


# -- reference updates: p_t from p_{t-1} and g_t, float64 ------------------------------------
def _weight_decayed(p, g, lr, weight_decay, decoupled):
    """(p, g) after weight decay: AdamW's shrink of p, or L2's g + λp (rounded as in test_optim)."""
    if decoupled:
        return p * (1 - lr * weight_decay), g.astype(np.float64)
    return p, _decayed(g, p, weight_decay)


def adamax_reference(param, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     maximize=False):
    (beta1, beta2), p, t, trajectory = betas, param.astype(np.float64), 0, []
    m = u = np.zeros(param.shape)
    for g in _climbed(grads, maximize):
        if g is not None:
            t += 1
            g = _decayed(g, p, weight_decay)
            m = beta1 * m + (1 - beta1) * g
            u = np.maximum(beta2 * u, np.abs(g) + eps)
            p = p - lr / (1 - beta1**t) * m / u
        trajectory.append(p)
    return trajectory


def nadam_reference(param, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    """m_hat = mu_{t+1} m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t) g / (1 - prod_{i<=t} mu_i)."""
    (beta1, beta2), p, t, trajectory = betas, param.astype(np.float64), 0, []
    m = v = np.zeros(param.shape)
    mu = [None] + [beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay)) for i in range(1, len(grads) + 2)]
    for g in _climbed(grads, maximize):
        if g is not None:
            t += 1
            p, g = _weight_decayed(p, g, lr, weight_decay, decoupled_weight_decay)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            m_hat = (mu[t + 1] * m / (1 - math.prod(mu[1 : t + 2]))
                     + (1 - mu[t]) * g / (1 - math.prod(mu[1 : t + 1])))
            p = p - lr * m_hat / (np.sqrt(v / (1 - beta2**t)) + eps)
        trajectory.append(p)
    return trajectory


def radam_reference(param, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False):
    (beta1, beta2), p, t, trajectory = betas, param.astype(np.float64), 0, []
    m = v = np.zeros(param.shape)
    rho_inf = 2 / (1 - beta2) - 1
    for g in _climbed(grads, maximize):
        if g is not None:
            t += 1
            p, g = _weight_decayed(p, g, lr, weight_decay, decoupled_weight_decay)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**t)
            rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
            if rho_t > 5:
                adaptive_lr = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
                r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                p = p - lr * m_hat * r_t * adaptive_lr
            else:
                p = p - lr * m_hat
        trajectory.append(p)
    return trajectory


REFERENCES = {optim.Adamax: adamax_reference, optim.NAdam: nadam_reference, optim.RAdam: radam_reference}


@st.composite
def settings(draw, cls):
    """Hyperparameters ``cls`` accepts: betas from 0 to 0.999 (RAdam with and without
    rectification), weight decay coupled or decoupled, climbing or descending."""
    fraction = st.floats(0.0, 0.999)
    config = {
        "lr": draw(st.floats(1e-4, 0.3), label="lr"),
        "betas": (draw(st.sampled_from([0.0, 0.9]) | fraction, label="beta1"),
                  draw(st.sampled_from([0.0, 0.9, 0.999]) | fraction, label="beta2")),
        "eps": draw(st.floats(1e-8, 1e-3), label="eps"),
        "weight_decay": draw(st.sampled_from([0.0]) | st.floats(0.0, 0.5), label="weight_decay"),
        "maximize": draw(st.booleans(), label="maximize"),
    }
    if cls is not optim.Adamax:
        config["decoupled_weight_decay"] = draw(st.booleans(), label="decoupled_weight_decay")
    if cls is optim.NAdam:
        config["momentum_decay"] = draw(st.sampled_from([0.0, 4e-3]) | st.floats(0.0, 1.0),
                                        label="momentum_decay")
    return config


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", OPTIMIZERS)
@given(data=st.data())
def test_updates_follow_the_update_rule(cls, dtype, data):
    config = data.draw(settings(cls), label="config")
    shapes = data.draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
                                min_size=1, max_size=3), label="shapes")
    steps = data.draw(st.integers(1, 8), label="steps")
    values = st.floats(-4, 4, width=np.dtype(dtype).itemsize * 8)
    initial = [data.draw(hnp.arrays(dtype, shape, elements=values)) for shape in shapes]
    grads = [[data.draw(st.none() | hnp.arrays(dtype, shape, elements=values)) for shape in shapes]
             for _ in range(steps)]
    params = make_params(initial)
    optimizer = cls(params, **config)
    for step, step_grads in enumerate(grads):
        run_steps(optimizer, params, [step_grads])
        for index, param in enumerate(params):
            expected = REFERENCES[cls](initial[index], [g[index] for g in grads[: step + 1]], **config)[-1]
            assert param.data.dtype == dtype
            np.testing.assert_allclose(param.data, expected, **TOLERANCE[dtype],
                                       err_msg=f"params[{index}] after step {step}")
    for index in range(len(params)):
        taken = sum(g[index] is not None for g in grads)  # a step without grad is skipped
        assert optimizer.state.get(index, {"step": 0})["step"] == taken
        if not taken:
            np.testing.assert_array_equal(params[index].data, initial[index])


def test_radam_takes_momentum_steps_until_rho_exceeds_5():
    """With beta2 = 0.999, rho_5 = 4.996 and rho_6 = 5.994: step 5 is still lr * m_hat (the
    paper's threshold, 4, would rectify it), step 6 is Adam's step scaled by r_6 < 1."""
    lr, gradient = 0.1, 0.5
    params = make_params([np.array([1.0])])
    optimizer = optim.RAdam(params, lr=lr)
    positions = [1.0]
    for _ in range(6):
        run_steps(optimizer, params, [[np.array([gradient])]])
        positions.append(params[0].data[0])
    moves = -np.diff(positions)
    np.testing.assert_allclose(moves[:5], lr * gradient, rtol=1e-12)  # m_hat = g under constant g
    rho_inf, bias_correction2 = 2 / (1 - 0.999) - 1, 1 - 0.999**6
    rho_6 = rho_inf - 2 * 6 * 0.999**6 / bias_correction2
    r_6 = math.sqrt((rho_6 - 4) * (rho_6 - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_6))
    assert 0.0 < r_6 < 0.1
    # sqrt(v) = |g| sqrt(1 - beta2**6) under constant g: the rectified step is lr * r_6 * g / |g|
    expected = lr * r_6 * gradient / (gradient + 1e-8 / math.sqrt(bias_correction2))
    assert moves[5] == pytest.approx(expected, rel=1e-12)


def test_nadam_keeps_the_product_of_its_momentum_coefficients():
    params = make_params([np.ones(2)])
    optimizer = optim.NAdam(params, betas=(0.8, 0.99), momentum_decay=0.5)
    run_steps(optimizer, params, [[np.ones(2)]] * 3)
    mu = [0.8 * (1 - 0.5 * 0.96 ** (t * 0.5)) for t in (1, 2, 3)]
    product = optimizer.state[0]["mu_product"]
    assert type(product) is float and product == pytest.approx(math.prod(mu), rel=1e-15)


# -- against PyTorch (skipped where torch is not installed) --------------------------------------
GROUPED_SETTINGS = {  # (constructor's, second group's)
    optim.Adamax: ({"lr": 0.01, "betas": (0.8, 0.99)},
                   {"lr": 0.05, "weight_decay": 0.1, "eps": 1e-4, "maximize": True}),
    optim.NAdam: ({"lr": 0.01, "momentum_decay": 0.1, "weight_decay": 0.05},
                  {"lr": 0.03, "betas": (0.5, 0.9), "weight_decay": 0.2, "decoupled_weight_decay": True,
                   "maximize": True}),
    optim.RAdam: ({"lr": 0.01, "weight_decay": 0.05},
                  {"lr": 0.03, "betas": (0.7, 0.95), "weight_decay": 0.2, "decoupled_weight_decay": True,
                   "maximize": True}),
}
SHAPES = ((3, 4), (5,), (1,), ())  # the last one has no gradient at steps 0 and 3


@pytest.fixture
def torch_for(request):
    """torch, its default dtype set (and then restored) to the test's parameter dtype.

    PyTorch keeps ``step`` and NAdam's ``mu_product`` as tensors of its default dtype; a
    float64 run with the default left at float32 rounds mu_product to float32 at each step
    (see ``test_nadam_under_torchs_float32_default_differs_by_mu_products_rounding``).
    """
    torch = pytest.importorskip("torch")

    def use(dtype):
        previous = torch.get_default_dtype()
        request.addfinalizer(lambda: torch.set_default_dtype(previous))
        torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
        return torch

    return use


def _grouped(make, params, first, second):
    return make([{"params": params[:2]}, {"params": params[2:], **second}], **first)


def _torch_run(torch, make, initial, grads, first, second):
    """The torch tensors after ``make``'s grouped optimizer has stepped through ``grads``, and it."""
    tensors = [torch.tensor(array, requires_grad=True) for array in initial]
    optimizer = _grouped(make, tensors, first, second)
    for step_grads in grads:
        for tensor, grad in zip(tensors, step_grads):
            tensor.grad = None if grad is None else torch.tensor(grad)
        optimizer.step()
    return tensors, optimizer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_grouped_trajectories_match_torch(cls, dtype, torch_for):
    torch = torch_for(dtype)
    first, second = GROUPED_SETTINGS[cls]
    initial, grads = random_run(dtype, seed=7, steps=9, shapes=SHAPES)  # RAdam rectifies from step 6
    params = make_params(initial)
    run_steps(_grouped(cls, params, first, second), params, grads)
    assert_matches_torch(torch, params, initial, grads,
                         lambda tensors: _grouped(getattr(torch.optim, cls.__name__), tensors, first, second))


def test_nadam_under_torchs_float32_default_differs_by_mu_products_rounding(torch_for):
    torch = torch_for(np.float32)
    first, second = GROUPED_SETTINGS[optim.NAdam]
    initial, grads = random_run(np.float64, seed=7, steps=9, shapes=SHAPES)
    params = make_params(initial)
    run_steps(_grouped(optim.NAdam, params, first, second), params, grads)
    torch_params, _ = _torch_run(torch, torch.optim.NAdam, initial, grads, first, second)
    for param, torch_param, start in zip(params, torch_params, initial):
        theirs = torch_param.detach().numpy()
        np.testing.assert_allclose(param.data, theirs, rtol=0, atol=1e-7 * np.abs(theirs - start).max())


def test_signatures_and_defaults_are_torchs_without_the_device_options():
    torch = pytest.importorskip("torch")
    weight = [torch.zeros(2, requires_grad=True)]
    for cls in OPTIMIZERS:
        theirs = getattr(torch.optim, cls.__name__)
        expected = [(p.name, p.kind, p.default) for p in inspect.signature(theirs).parameters.values()
                    if p.name not in TORCH_MACHINERY]
        assert [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()] == expected
        their_defaults = {name: value for name, value in theirs(weight).defaults.items()
                          if name not in TORCH_MACHINERY}
        ours = {name: list(value) if isinstance(value, tuple) else value
                for name, value in cls(make_params([np.ones(2)])).defaults.items()}
        assert ours == {name: list(value) if isinstance(value, tuple) else value
                        for name, value in their_defaults.items()}, cls


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_state_dict_layout_is_torchs(cls, torch_for):
    """Same groups (less the device options), same state keys in the same order, same values;
    step and mu_product are Python numbers here, 0-d tensors there."""
    torch = torch_for(np.float64)
    first, second = GROUPED_SETTINGS[cls]
    initial, grads = random_run(np.float64, seed=2, steps=4, shapes=SHAPES)
    params = make_params(initial)
    optimizer = _grouped(cls, params, first, second)
    run_steps(optimizer, params, grads)
    _, torch_optimizer = _torch_run(torch, getattr(torch.optim, cls.__name__), initial, grads, first, second)
    ours, theirs = optimizer.state_dict(), torch_optimizer.state_dict()
    assert_json_like(ours)
    assert ours["optimizer"] == cls.__name__
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert group == {name: list(value) if isinstance(value, tuple) else value
                         for name, value in torch_group.items() if name not in TORCH_MACHINERY}
    assert list(ours["state"]) == [str(index) for index in theirs["state"]]
    for index, torch_entry in theirs["state"].items():
        entry = ours["state"][str(index)]
        assert list(entry) == list(torch_entry)
        assert type(entry["step"]) is int and entry["step"] == torch_entry["step"].item()
        for name, value in entry.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_allclose(value, torch_entry[name].numpy(), rtol=1e-12, atol=1e-15)
            else:
                assert value == pytest.approx(torch_entry[name].item(), rel=1e-15), name


# -- resuming ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_resuming_through_save_and_load_is_bitwise_identical(cls, dtype, tmp_path):
    first, second = GROUPED_SETTINGS[cls]
    initial, grads = random_run(dtype, seed=4, steps=9, shapes=SHAPES)
    params = make_params(initial)
    optimizer = _grouped(cls, params, first, second)
    run_steps(optimizer, params, grads[:4])
    tg.save({"optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    at_step_4 = [param.data.copy() for param in params]
    run_steps(optimizer, params, grads[4:])  # on through RAdam's first rectified steps

    resumed_params = make_params(at_step_4)
    resumed = cls([{"params": resumed_params[:2]}, {"params": resumed_params[2:]}], lr=0.123)
    resumed.load_state_dict(tg.load(tmp_path / "checkpoint.npz")["optimizer"])
    for group, original in zip(resumed.param_groups, optimizer.param_groups):
        assert {**group, "params": None} == {**original, "params": None}
    run_steps(resumed, resumed_params, grads[4:])
    for original, restored in zip(params, resumed_params):
        assert restored.data.dtype == dtype
        assert restored.data.tobytes() == original.data.tobytes()
    for index, entry in optimizer.state.items():
        assert list(resumed.state[index]) == list(entry)
        for name, value in entry.items():
            assert type(resumed.state[index][name]) is type(value)
            np.testing.assert_array_equal(resumed.state[index][name], value)


def test_mu_product_is_saved_as_a_json_number_beside_step(tmp_path):
    params = make_params([np.ones(2)])
    optimizer = optim.NAdam(params)
    run_steps(optimizer, params, [[np.ones(2)]] * 2)
    tg.save({"optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    with zipfile.ZipFile(tmp_path / "checkpoint.npz") as archive:
        arrays = sorted(name for name in archive.namelist() if name != "__meta__.npy")
        meta = json.loads(np.load(archive.open("__meta__.npy")).tobytes())
    entry = meta["tree"]["dict"]["optimizer"]["dict"]["state"]["dict"]["0"]["dict"]
    assert entry["step"] == 2 and entry["mu_product"] == optimizer.state[0]["mu_product"]
    assert len(arrays) == 2  # exp_avg and exp_avg_sq only


# -- errors --------------------------------------------------------------------------------------
def _weight():
    return tg.Tensor(np.ones(2), requires_grad=True)


CONSTRUCTOR_ERRORS = [
    (lambda: optim.Adamax([_weight()], betas=(1.0, 0.999)), ValueError,
     r"Adamax: each of betas must be in \[0, 1\), got \(1\.0, 0\.999\)"),
    (lambda: optim.Adamax([_weight()], lr=-0.1), ValueError, r"Adamax: lr must be .* got -0\.1"),
    (lambda: optim.Adamax([_weight()], eps=-1e-8), ValueError, r"Adamax: eps must be .* got -1e-08"),
    (lambda: optim.Adamax([_weight()], weight_decay=float("nan")), ValueError,
     r"Adamax: weight_decay must be a finite number >= 0, got nan"),
    (lambda: optim.Adamax([_weight()], maximize=1), TypeError,
     r"Adamax: maximize must be True or False, got 1"),
    (lambda: optim.NAdam([_weight()], betas=(0.9, -0.1)), ValueError,
     r"NAdam: each of betas must be in \[0, 1\), got \(0\.9, -0\.1\)"),
    (lambda: optim.NAdam([_weight()], momentum_decay=-4e-3), ValueError,
     r"NAdam: momentum_decay must be a finite number >= 0, got -0\.004"),
    (lambda: optim.NAdam([_weight()], momentum_decay=float("inf")), ValueError,
     r"NAdam: momentum_decay must be a finite number >= 0, got inf"),
    (lambda: optim.NAdam([_weight()], momentum_decay="4e-3"), TypeError,
     r"NAdam: momentum_decay must be a number, got '4e-3'"),
    (lambda: optim.NAdam([_weight()], decoupled_weight_decay=1), TypeError,
     r"NAdam: decoupled_weight_decay must be True or False, got 1"),
    (lambda: optim.NAdam([{"params": [_weight()], "momentum_decay": -1}]), ValueError,
     r"NAdam: momentum_decay must be .* got -1\.0"),
    (lambda: optim.RAdam([_weight()], betas=(0.9,)), ValueError,
     r"RAdam: betas must be a pair \(beta1, beta2\), got \(0\.9,\)"),
    (lambda: optim.RAdam([_weight()], betas=("0.9", 0.999)), TypeError,
     r"RAdam: betas must be a number, got '0\.9'"),
    (lambda: optim.RAdam([_weight()], lr=float("inf")), ValueError, r"RAdam: lr must be .* got inf"),
    (lambda: optim.RAdam([_weight()], decoupled_weight_decay="yes"), TypeError,
     r"RAdam: decoupled_weight_decay must be True or False, got 'yes'"),
    (lambda: optim.RAdam([_weight()], momentum_decay=4e-3), TypeError,
     r"unexpected keyword argument 'momentum_decay'"),
]


@pytest.mark.parametrize(("build", "error", "message"), CONSTRUCTOR_ERRORS)
def test_constructor_refuses_bad_hyperparameters(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_bad_edit_to_a_group_is_refused_at_the_next_step(cls):
    params = make_params([np.ones(2)])
    optimizer = cls(params)
    params[0].grad = np.ones(2)
    optimizer.param_groups[0]["betas"] = (0.9, 1.0)
    message = rf"{cls.__name__}: each of betas must be in \[0, 1\), got \(0\.9, 1\.0\)"
    with pytest.raises(ValueError, match=message):
        optimizer.step()
    np.testing.assert_array_equal(params[0].data, np.ones(2))
    assert optimizer.state == {}


def _nadam_state_dict():
    params = make_params([np.ones(2)])
    optimizer = optim.NAdam(params)
    run_steps(optimizer, params, [[np.ones(2)]])
    return optimizer.state_dict()


@pytest.mark.parametrize(("mu_product", "message"), [
    ("0.5", r"must be a real number in \[0, 1\] \(a product of momentum coefficients\), got '0\.5'"),
    (np.full(2, 0.5), r"must be a real number in \[0, 1\] \(a product of momentum coefficients\), got array"),
    (float("nan"), r"must be a real number in \[0, 1\] \(a product of momentum coefficients\), got nan"),
    (True, r"must be a real number in \[0, 1\] \(a product of momentum coefficients\), got True"),
])
def test_load_refuses_a_mu_product_that_is_not_a_number(mu_product, message):
    saved = _nadam_state_dict()
    saved["state"]["0"]["mu_product"] = mu_product
    optimizer = optim.NAdam(make_params([np.ones(2)]))
    with pytest.raises(ValueError, match=r"NAdam.load_state_dict: state\['0'\]\['mu_product'\] " + message):
        optimizer.load_state_dict(saved)
    assert optimizer.state == {}


@pytest.mark.parametrize(("cls", "dropped"), [(optim.NAdam, "mu_product"), (optim.NAdam, "exp_avg_sq"),
                                              (optim.Adamax, "exp_inf"), (optim.RAdam, "exp_avg")])
def test_load_refuses_a_state_missing_an_entry_the_update_reads(cls, dropped):
    params = make_params([np.ones(2)])
    optimizer = cls(params)
    run_steps(optimizer, params, [[np.ones(2)]])
    saved = optimizer.state_dict()
    del saved["state"]["0"][dropped]
    with pytest.raises(ValueError, match=rf"{cls.__name__}.load_state_dict: state\['0'\] has taken 1 "
                                         rf"steps but lacks \['{dropped}'\]"):
        cls(make_params([np.ones(2)])).load_state_dict(saved)


def test_load_refuses_a_negative_exp_inf_and_names_the_entries_nadam_keeps():
    params = make_params([np.ones(2)])
    optimizer = optim.Adamax(params)
    run_steps(optimizer, params, [[np.ones(2)]])
    saved = optimizer.state_dict()
    saved["state"]["0"]["exp_inf"] = -np.ones(2)
    with pytest.raises(ValueError, match=r"state\['0'\]\['exp_inf'\] holds negative values"):
        optim.Adamax(make_params([np.ones(2)])).load_state_dict(saved)
    saved = _nadam_state_dict()
    saved["state"]["0"]["exp_inf"] = np.ones(2)
    with pytest.raises(ValueError, match=r"unexpected entry 'exp_inf'; NAdam keeps "
                                         r"\['step', 'mu_product', 'exp_avg', 'exp_avg_sq'\]"):
        optim.NAdam(make_params([np.ones(2)])).load_state_dict(saved)


EVERY_OPTIMIZER = [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop, *OPTIMIZERS]


def _stepped(cls) -> optim.Optimizer:
    """An optimizer (SGD with momentum, so that it keeps an array) after one step."""
    weight = tg.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    optimizer = cls([weight], lr=0.1, **({"momentum": 0.9} if cls is optim.SGD else {}))
    weight.grad = np.ones(3, dtype=np.float32)
    optimizer.step()
    return optimizer


@pytest.mark.parametrize("cls", EVERY_OPTIMIZER)
def test_load_refuses_a_step_count_no_int64_holds(cls):
    """Regression: 10**400 reached beta ** step and raised a bare OverflowError."""
    optimizer = _stepped(cls)
    saved = optimizer.state_dict()
    (key,) = saved["state"]
    for step, shown in ((10**400, "1329-bit int"), (2**63, "64-bit int")):
        bad = {**saved, "state": {key: {**saved["state"][key], "step": step}}}
        with pytest.raises(ValueError, match=rf"{cls.__name__}.load_state_dict: state\['0'\]\['step'\] "
                                             rf"must be below 2\*\*63, got a {shown}"):
            optimizer.load_state_dict(bad)
    optimizer.load_state_dict({**saved, "state": {key: {**saved["state"][key], "step": 2**63 - 1}}})


@pytest.mark.parametrize("cls", EVERY_OPTIMIZER)
def test_load_refuses_state_arrays_holding_nan(cls):
    """Regression: a nan in saved state was accepted, and every later step gave nan weights."""
    optimizer = _stepped(cls)
    saved = optimizer.state_dict()
    (key,) = saved["state"]
    for name, value in saved["state"][key].items():
        if isinstance(value, np.ndarray):
            poisoned = value.copy()
            poisoned[1] = np.nan
            bad = {**saved, "state": {key: {**saved["state"][key], name: poisoned}}}
            with pytest.raises(ValueError, match=rf"state\['0'\]\['{name}'\] holds nan"):
                optimizer.load_state_dict(bad)

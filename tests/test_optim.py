"""Optimizers against their update rules written out here, state_dict resumption, errors.

The reference updates below are the textbook recurrences in float64, written
independently of ``tinygrad_rnn/optim.py``; gradients are set directly on ``.grad``.
"""

import json

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import optim, serialization


# -- reference updates: one function per optimizer, p_{t} from p_{t-1} and g_t ----------------
def _decayed(grad, param, weight_decay):
    """g + weight_decay * p, formed in the parameter's dtype as the optimizer forms it.

    In float32, g + λp can cancel to exactly 0 where float64 leaves ~1e-9, and Adam and
    Adagrad normalize that residue up to a full-size step: the reference must round alike.
    """
    if not weight_decay:
        return grad.astype(np.float64)
    return (grad + weight_decay * param.astype(grad.dtype)).astype(np.float64)


def _climbed(grads, maximize):
    """With ``maximize`` every update climbs: the rules below run on the negated gradients."""
    return [None if g is None else -g for g in grads] if maximize else grads


def sgd_reference(param, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False):
    """Parameter after each step; ``grads[t]`` is None where the parameter has no gradient."""
    p, buffer, trajectory = param.astype(np.float64), None, []
    for g in _climbed(grads, maximize):
        if g is not None:
            g = _decayed(g, p, weight_decay)
            if momentum:
                buffer = g if buffer is None else momentum * buffer + (1 - dampening) * g
                g = g + momentum * buffer if nesterov else buffer
            p = p - lr * g
        trajectory.append(p)
    return trajectory


def adagrad_reference(param, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p, t, trajectory = param.astype(np.float64), 0, []
    total = np.full(param.shape, initial_accumulator_value)
    for g in _climbed(grads, maximize):
        if g is not None:
            t += 1
            g = _decayed(g, p, weight_decay)
            total = total + g**2
            p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
        trajectory.append(p)
    return trajectory


def adam_reference(param, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, decoupled=False, maximize=False):
    """Adam; ``decoupled`` (AdamW) shrinks the parameter by (1 − lr·λ) instead of adding λp to g."""
    (beta1, beta2), p, t, trajectory = betas, param.astype(np.float64), 0, []
    m = v = v_max = np.zeros(param.shape)
    for g in _climbed(grads, maximize):
        if g is not None:
            t += 1
            if decoupled:
                p, g = p * (1 - lr * weight_decay), g.astype(np.float64)
            else:
                g = _decayed(g, p, weight_decay)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            v_max = np.maximum(v_max, v)
            m_hat = m / (1 - beta1**t)
            v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(p)
    return trajectory


def adamw_reference(param, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                    amsgrad=False, maximize=False):
    return adam_reference(param, grads, lr, betas, eps, weight_decay, amsgrad, decoupled=True,
                          maximize=maximize)


def rmsprop_reference(param, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False, maximize=False):
    p, trajectory = param.astype(np.float64), []
    square_avg = grad_avg = buffer = np.zeros(param.shape)
    for g in _climbed(grads, maximize):
        if g is not None:
            g = _decayed(g, p, weight_decay)
            square_avg = alpha * square_avg + (1 - alpha) * g**2
            grad_avg = alpha * grad_avg + (1 - alpha) * g
            spread = square_avg - grad_avg**2 if centered else square_avg
            step = g / (np.sqrt(spread) + eps)
            if momentum:
                buffer = momentum * buffer + step
                step = buffer
            p = p - lr * step
        trajectory.append(p)
    return trajectory


CASES = [
    (optim.SGD, sgd_reference, {"lr": 0.1}),
    (optim.SGD, sgd_reference, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, sgd_reference, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    (optim.SGD, sgd_reference, {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    (optim.SGD, sgd_reference, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "maximize": True}),
    (optim.Adagrad, adagrad_reference, {}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1, "lr_decay": 0.05}),
    (optim.Adagrad, adagrad_reference,
     {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    (optim.Adam, adam_reference, {}),
    (optim.Adam, adam_reference, {"lr": 0.01, "betas": (0.8, 0.99)}),
    (optim.Adam, adam_reference, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.Adam, adam_reference, {"lr": 0.01, "amsgrad": True}),
    (optim.Adam, adam_reference, {"lr": 0.01, "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.05}),
    (optim.Adam, adam_reference, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    (optim.AdamW, adamw_reference, {}),
    (optim.AdamW, adamw_reference, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.AdamW, adamw_reference, {"lr": 0.01, "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.3}),
    (optim.AdamW, adamw_reference, {"lr": 0.01, "weight_decay": 0.3, "maximize": True}),
    (optim.RMSprop, rmsprop_reference, {}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.002, "alpha": 0.95}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "centered": True, "momentum": 0.5, "eps": 1e-6}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "centered": True, "weight_decay": 0.1, "maximize": True}),
]
CASE_IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in config.items()) or 'defaults'}"
            for cls, _, config in CASES]
TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 5e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def make_params(arrays):
    return [tg.Tensor(array, requires_grad=True) for array in arrays]


def random_run(dtype, seed=0, steps=6, shapes=((3, 4), (5,), ())):
    """Initial values and per-step gradients; the last parameter has no gradient at steps 0 and 3."""
    rng = np.random.default_rng(seed)
    initial = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    grads = [[rng.normal(size=shape).astype(dtype) for shape in shapes] for _ in range(steps)]
    for step in (0, 3):
        grads[step][-1] = None
    return initial, grads


def run_steps(optimizer, params, grads):
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = None if grad is None else grad.copy()
        optimizer.step()


# -- updates ---------------------------------------------------------------------------------
def assert_follows_reference(params, initial, grads, reference, config, step):
    for index, param in enumerate(params):
        expected = reference(initial[index], [g[index] for g in grads[: step + 1]], **config)[-1]
        assert param.data.dtype == initial[index].dtype
        np.testing.assert_allclose(param.data, expected, **TOLERANCE[param.data.dtype.type])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_updates_follow_the_update_rule(cls, reference, config, dtype):
    initial, grads = random_run(dtype)
    params = make_params(initial)
    optimizer = cls(params, **config)
    for step, step_grads in enumerate(grads):
        run_steps(optimizer, params, [step_grads])
        assert_follows_reference(params, initial, grads, reference, config, step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop])
@given(data=st.data())
def test_updates_follow_the_update_rule_for_drawn_shapes_and_values(cls, dtype, data):
    _, reference, config = data.draw(st.sampled_from([case for case in CASES if case[0] is cls]))
    shapes = data.draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3), min_size=1,
                                max_size=3), label="shapes")
    steps = data.draw(st.integers(1, 4), label="steps")
    values = st.floats(-4, 4, width=np.dtype(dtype).itemsize * 8)
    initial = [data.draw(hnp.arrays(dtype, shape, elements=values)) for shape in shapes]
    grads = [[data.draw(hnp.arrays(dtype, shape, elements=values)) for shape in shapes]
             for _ in range(steps)]
    params = make_params(initial)
    optimizer = cls(params, **config)
    for step, step_grads in enumerate(grads):
        run_steps(optimizer, params, [step_grads])
        assert_follows_reference(params, initial, grads, reference, config, step)


@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_parameters_without_grad_are_skipped(cls, reference, config):
    initial, grads = random_run(np.float64)
    params = make_params(initial)
    optimizer = cls(params, **config)
    run_steps(optimizer, params[:1] + params[2:], [g[:1] + g[2:] for g in grads])  # params[1]: never
    np.testing.assert_array_equal(params[1].data, initial[1])
    assert 1 not in optimizer.state
    assert optimizer.state[0]["step"] == 6
    assert optimizer.state[2]["step"] == 4  # no gradient at steps 0 and 3


@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_step_updates_in_place_keeps_float32_and_leaves_grads_alone(cls, reference, config):
    rng = np.random.default_rng(1)
    params = make_params([rng.normal(size=(4, 3)).astype(np.float32)])
    arrays = [param.data for param in params]
    optimizer = cls(params, **config)
    optimizer.param_groups[0]["lr"] = np.float64(optimizer.param_groups[0]["lr"])  # no upcast
    grad = rng.normal(size=(4, 3)).astype(np.float32)
    params[0].grad = grad.copy()
    for _ in range(3):  # the same grad array each step: no state may alias it
        before = params[0].data.copy()
        optimizer.step()
        assert params[0].data is arrays[0]
        assert params[0].data.dtype == np.float32
        assert not np.array_equal(params[0].data, before)
    np.testing.assert_array_equal(params[0].grad, grad)
    for value in optimizer.state[0].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
            assert not np.shares_memory(value, params[0].grad)


def test_lr_is_read_from_param_groups_at_each_step():
    params = make_params([np.array([1.0, 2.0])])
    optimizer = optim.SGD(params, lr=0.1)
    params[0].grad = np.array([1.0, -1.0])
    optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.01
    optimizer.step()
    np.testing.assert_allclose(params[0].data, [1.0 - 0.11, 2.0 + 0.11], rtol=1e-15)
    assert optimizer.state_dict()["param_groups"][0]["lr"] == 0.01
    optimizer.param_groups[0]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"SGD: lr must be .* got -1\.0"):
        optimizer.step()


def test_an_edit_to_an_equal_value_of_another_type_is_still_checked():
    """Validation is skipped only for unchanged values: 1 == True, but 1 is not a flag."""
    params = make_params([np.array([1.0])])
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    params[0].grad = np.array([1.0])
    optimizer.step()
    optimizer.param_groups[0]["nesterov"] = 1
    with pytest.raises(TypeError, match="SGD: nesterov must be True or False, got 1"):
        optimizer.step()
    optimizer.param_groups[0]["nesterov"] = True
    adam = optim.Adam(params, lr=0.1, betas=[0.9, 0.999])
    adam.step()
    adam.param_groups[0]["betas"] = [0.9, 1.5]
    with pytest.raises(ValueError, match=r"Adam: each of betas must be in \[0, 1\)"):
        adam.step()


def test_adagrad_reproduces_min_char_rnn_with_eps_inside_the_root():
    rng = np.random.default_rng(2)
    param = rng.normal(size=(6,))
    grads = [rng.normal(size=(6,)) * 10.0 ** rng.integers(-6, 1, size=6) for _ in range(5)]
    params = make_params([param])
    optimizer = optim.Adagrad(params, lr=0.1, initial_accumulator_value=1e-8, eps=0.0)
    run_steps(optimizer, params, [[g] for g in grads])
    expected, memory = param.copy(), np.zeros(6)
    for g in grads:  # min-char-rnn's update
        memory += g * g
        expected += -0.1 * g / np.sqrt(memory + 1e-8)
    np.testing.assert_allclose(params[0].data, expected, rtol=1e-12)


def test_adagrad_default_eps_differs_from_min_char_rnn_for_tiny_gradients():
    params = make_params([np.zeros(1)])
    optimizer = optim.Adagrad(params, lr=0.1)
    params[0].grad = np.array([1e-5])
    optimizer.step()
    pytorch_step = -0.1 * 1e-5 / (1e-5 + 1e-10)
    min_char_rnn_step = -0.1 * 1e-5 / np.sqrt(1e-10 + 1e-8)
    np.testing.assert_allclose(params[0].data, [pytorch_step], rtol=1e-12)
    assert abs(pytorch_step - min_char_rnn_step) > 0.09


def test_zero_grad_sets_every_grad_to_none():
    params = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.Adam(params)
    params[0].grad, params[1].grad = np.ones(2), np.ones(3)
    optimizer.zero_grad()
    assert [param.grad for param in params] == [None, None]
    loss = (params[0] * params[0]).sum()  # a fresh backward starts from zero again
    loss.backward()
    np.testing.assert_array_equal(params[0].grad, [2.0, 2.0])


def test_zero_grad_set_to_none_false_keeps_zeros_and_the_next_backward_adds_to_them():
    params = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.SGD(params, lr=0.1)
    (params[0] * params[0]).sum().backward()
    engine_buffer = params[0].grad
    hand_set = params[1].grad = np.full(3, 7.0)
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad is engine_buffer  # zeroed in place, as torch's grad.zero_()
    np.testing.assert_array_equal(params[0].grad, [0.0, 0.0])
    np.testing.assert_array_equal(params[1].grad, np.zeros(3))
    np.testing.assert_array_equal(hand_set, np.full(3, 7.0))  # the caller's array is left alone
    (params[1] * 2).sum().backward()
    np.testing.assert_array_equal(params[1].grad, [2.0, 2.0, 2.0])
    fresh = make_params([np.ones(2)])
    optim.SGD(fresh).zero_grad(set_to_none=False)
    assert fresh[0].grad is None  # no gradient yet: nothing to zero, as in torch
    with pytest.raises(TypeError, match=r"zero_grad: set_to_none must be True or False, got 'no'"):
        optimizer.zero_grad("no")


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop])
def test_step_calls_the_closure_first_and_returns_its_loss(cls):
    target = np.array([1.0, -2.0])
    weight = tg.Tensor(np.zeros(2), requires_grad=True)
    optimizer = cls([weight], lr=0.1)
    seen = []

    def closure():
        optimizer.zero_grad()
        loss = ((weight - tg.Tensor(target)) ** 2).sum()
        loss.backward()
        seen.append(weight.data.copy())
        return loss

    first = optimizer.step(closure)
    assert float(first) == 5.0 and len(seen) == 1
    np.testing.assert_array_equal(seen[0], [0.0, 0.0])  # called before the update
    assert not np.array_equal(weight.data, [0.0, 0.0])
    assert optimizer.step() is None
    with pytest.raises(TypeError, match=rf"{cls.__name__}.step: closure must be callable or None, got int"):
        optimizer.step(3)


def test_maximize_climbs_and_is_checked_and_kept_by_state_dict():
    weight = tg.Tensor(np.array([0.5]), requires_grad=True)
    optimizer = optim.SGD([weight], lr=0.1, maximize=True)
    weight.grad = np.array([2.0])
    optimizer.step()
    np.testing.assert_allclose(weight.data, [0.7])
    assert optimizer.state_dict()["param_groups"][0]["maximize"] is True
    with pytest.raises(TypeError, match=r"Adam: maximize must be True or False, got 1"):
        optim.Adam([weight], maximize=1)
    old = optimizer.state_dict()  # a state saved before the option existed loads as False
    del old["param_groups"][0]["maximize"]
    optimizer.load_state_dict(old)
    assert optimizer.param_groups[0]["maximize"] is False


def test_accepts_a_generator_and_keeps_the_parameters():
    params = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.SGD((param for param in params), lr=0.5)
    assert optimizer.param_groups[0]["params"] == params
    params[1].grad = np.full(3, 2.0)
    optimizer.step()
    np.testing.assert_array_equal(params[1].data, np.zeros(3))
    np.testing.assert_array_equal(params[0].data, np.ones(2))


def test_trains_through_backward():
    target = np.array([1.0, -2.0, 0.5])
    weight = tg.Tensor(np.zeros(3), requires_grad=True)
    optimizer = optim.Adam([weight], lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        ((weight - tg.Tensor(target)) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(weight.data, target, atol=1e-2)


def test_grad_of_the_wrong_shape_is_refused():
    params = make_params([np.ones((2, 3))])
    optimizer = optim.SGD(params, lr=0.1)
    params[0].grad = np.ones((2, 3))
    params[0].data = np.ones((3, 2))  # a parameter whose data was replaced under its grad
    message = r"SGD.step: params\[0\] has shape \(3, 2\) but its grad has shape \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        optimizer.step()


@pytest.mark.parametrize("spoil", ["lr", "grad"])
def test_a_refused_step_moves_no_parameter_and_counts_no_step(spoil):
    """A bad second group (or a bad later grad) is found before the first group is updated:
    fixing it and stepping again takes one step, not two."""
    first, second = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.Adam([{"params": [first]}, {"params": [second]}], lr=0.1)
    first.grad, second.grad = np.ones(2), np.ones(3)
    if spoil == "lr":
        optimizer.param_groups[1]["lr"] = -1.0
    else:
        second.data = np.ones(4)  # replaced under its (3,) grad
    with pytest.raises(ValueError, match="Adam"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, np.ones(2))
    assert optimizer.state == {}
    optimizer.param_groups[1]["lr"], second.data = 0.1, np.ones(3)
    optimizer.step()
    np.testing.assert_allclose(first.data, 0.9)
    assert optimizer.state[0]["step"] == 1


# -- state_dict --------------------------------------------------------------------------------
def assert_json_like(value, path="state_dict"):
    """Only str-keyed dicts, lists, JSON scalars and NumPy arrays."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path} has a non-str key {key!r}"
            assert_json_like(item, f"{path}[{key!r}]")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            assert_json_like(item, f"{path}[{position}]")
    else:
        assert isinstance(value, (np.ndarray, str, bool, int, float, type(None))), path
        assert not isinstance(value, np.generic), path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_resuming_from_a_saved_state_dict_is_bitwise_identical(cls, reference, config, dtype, tmp_path):
    initial, grads = random_run(dtype, steps=6)
    params = make_params(initial)
    optimizer = cls(params, **config)
    run_steps(optimizer, params, grads[:3])
    saved = optimizer.state_dict()
    assert_json_like(saved)
    json.dumps(saved, default=lambda array: array.tolist())
    serialization.save({"optimizer": saved}, tmp_path / "checkpoint.npz")
    at_step_3 = [param.data.copy() for param in params]
    run_steps(optimizer, params, grads[3:])

    resumed_params = make_params(at_step_3)
    resumed = cls(resumed_params, lr=0.123)  # hyperparameters come from the state_dict
    resumed.load_state_dict(serialization.load(tmp_path / "checkpoint.npz")["optimizer"])
    assert resumed.param_groups[0] == {**optimizer.param_groups[0], "params": resumed_params}
    run_steps(resumed, resumed_params, grads[3:])
    for original, restored in zip(params, resumed_params):
        assert restored.data.dtype == original.data.dtype
        assert restored.data.tobytes() == original.data.tobytes()


def test_state_dict_layout():
    params = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.Adam(params, lr=0.01, amsgrad=True)
    params[0].grad = np.ones(2)
    optimizer.step()
    optimizer.step()
    saved = optimizer.state_dict()
    assert saved["optimizer"] == "Adam"
    assert saved["param_groups"] == [{"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8,
                                      "weight_decay": 0.0, "amsgrad": True, "maximize": False,
                                      "params": [0, 1]}]
    assert list(saved["state"]) == ["0"]
    assert saved["state"]["0"]["step"] == 2
    assert sorted(saved["state"]["0"]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]


def test_state_dict_is_a_snapshot_and_load_copies():
    params = make_params([np.ones(3)])
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
    params[0].grad = np.ones(3)
    optimizer.step()
    saved = optimizer.state_dict()
    snapshot = saved["state"]["0"]["momentum_buffer"].copy()
    optimizer.step()
    np.testing.assert_array_equal(saved["state"]["0"]["momentum_buffer"], snapshot)

    other = optim.SGD(make_params([np.ones(3)]), lr=0.1, momentum=0.9)
    other.load_state_dict(saved)
    saved["state"]["0"]["momentum_buffer"][:] = np.nan
    np.testing.assert_array_equal(other.state[0]["momentum_buffer"], snapshot)


def test_load_casts_state_to_the_parameter_dtype():
    source = optim.Adagrad(make_params([np.ones(2)]))
    source.param_groups[0]["params"][0].grad = np.ones(2)
    source.step()
    target = optim.Adagrad(make_params([np.ones(2, dtype=np.float32)]))
    target.load_state_dict(source.state_dict())
    assert target.state[0]["sum"].dtype == np.float32


@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_state_follows_its_parameter_to_float64_mid_training(cls, reference, config):
    """After the parameters go float32 -> float64 (``module.to``) between steps, the next
    step is the one an optimizer loaded with the cast state takes: state and update in
    float64. (The state stayed float32 before, rounding every later update.)"""
    initial, grads = random_run(np.float32, steps=4)
    params = make_params(initial)
    optimizer = cls(params, **config)
    for step in range(2):
        for param, grad in zip(params, grads[step]):
            param.grad = grad
        optimizer.step()
    resumed_params = make_params([p.data.astype(np.float64) for p in params])
    resumed = cls(resumed_params, **config)
    resumed.load_state_dict(optimizer.state_dict())  # casts the state to float64
    for param in params:
        param.data = param.data.astype(np.float64)
    for param, other, grad in zip(params, resumed_params, grads[2]):
        param.grad = other.grad = None if grad is None else grad.astype(np.float64)
    optimizer.step()
    resumed.step()
    for param, other in zip(params, resumed_params):
        np.testing.assert_array_equal(param.data, other.data)
    for index, state in optimizer.state.items():
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float64, (index, name)
                np.testing.assert_array_equal(value, resumed.state[index][name])


def test_a_state_of_another_shape_is_refused_before_any_update():
    first, second = make_params([np.ones(2), np.ones(3)])
    optimizer = optim.Adam([first, second], lr=0.1)
    first.grad, second.grad = np.ones(2), np.ones(3)
    optimizer.step()
    second.data, second.grad = np.ones(4), np.ones(4)  # replaced, grad and all
    before = first.data.copy()
    message = (r"Adam.step: params\[1\] has shape \(4,\) but its state 'exp_avg' has shape "
               r"\(3,\) \(was the parameter's data replaced\?\)")
    with pytest.raises(ValueError, match=message):
        optimizer.step()
    np.testing.assert_array_equal(first.data, before)
    assert optimizer.state[0]["step"] == 1


def _adam_state_dict():
    optimizer = optim.Adam(make_params([np.ones((2, 3)), np.ones(4)]))
    for param in optimizer.param_groups[0]["params"]:
        param.grad = np.ones(param.shape)
    optimizer.step()
    return optimizer.state_dict()


def _set(path, value):
    def edit(state_dict):
        *parents, last = path
        for key in parents:
            state_dict = state_dict[key]
        if value is KeyError:
            del state_dict[last]
        else:
            state_dict[last] = value
    return edit


LOAD_ERRORS = [
    (_set(("optimizer",), "SGD"), r"this state_dict is for 'SGD', not 'Adam'"),
    (_set(("state",), KeyError), r"expected a dict with keys 'optimizer', 'param_groups' and 'state'"),
    (_set(("param_groups",), []),
     r"'param_groups' must be a list of 1 dict\(s\), one per parameter group of this optimizer, got 0"),
    (_set(("param_groups", 0, "params"), [0, 1, 2]), r"for 3 parameters, this optimizer has 2"),
    (_set(("param_groups", 0, "lr"), KeyError), r"missing \['lr'\], unexpected \[\]"),
    (_set(("param_groups", 0, "momentum"), 0.9), r"missing \[\], unexpected \['momentum'\]"),
    (_set(("param_groups", 0, "lr"), -0.5), r"Adam: lr must be .* got -0\.5"),
    (_set(("param_groups", 0, "betas"), [0.9, 1.5]), r"betas must be in \[0, 1\)"),
    (_set(("state", "2"), {"step": 1}), r"state key '2' does not name a parameter"),
    (_set(("state", "0", "step"), -1), r"state\['0'\]\['step'\] must be an int >= 0, got -1"),
    (_set(("state", "0", "step"), KeyError), r"state\['0'\] must be a dict holding 'step'"),
    (_set(("state", "0", "momentum_buffer"), np.ones((2, 3))), r"unexpected entry 'momentum_buffer'"),
    (_set(("state", "1", "exp_avg"), np.ones((2, 3))),
     r"state\['1'\]\['exp_avg'\] has shape \(2, 3\), but params\[1\] has shape \(4,\)"),
    (_set(("state", "1", "exp_avg"), [0.0] * 4), r"state\['1'\]\['exp_avg'\] has shape list"),
]


@pytest.mark.parametrize(("edit", "message"), LOAD_ERRORS)
def test_load_state_dict_refuses_mismatches_and_changes_nothing(edit, message):
    saved = _adam_state_dict()
    edit(saved)
    optimizer = optim.Adam(make_params([np.ones((2, 3)), np.ones(4)]), lr=0.5)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(saved)
    assert optimizer.state == {}
    assert optimizer.param_groups[0]["lr"] == 0.5


def test_load_state_dict_refuses_a_non_dict():
    with pytest.raises(ValueError, match="Adam.load_state_dict: expected a dict"):
        optim.Adam(make_params([np.ones(2)])).load_state_dict([1, 2])


# -- constructor validation --------------------------------------------------------------------
def _weight():
    return tg.Tensor(np.ones(2), requires_grad=True)


CONSTRUCTOR_ERRORS = [
    (lambda: optim.SGD([], lr=0.1), ValueError, r"SGD: got an empty parameter list"),
    (lambda: optim.SGD([_weight()], lr=-0.1), ValueError, r"SGD: lr must be .* got -0\.1"),
    (lambda: optim.SGD([_weight()], lr=0.1, momentum=-0.5), ValueError, r"SGD: momentum .* -0\.5"),
    (lambda: optim.SGD([_weight()], lr=0.1, weight_decay=-1), ValueError, r"SGD: weight_decay .* -1\.0"),
    (lambda: optim.SGD([_weight()], lr=0.1, nesterov=True), ValueError,
     r"SGD: nesterov=True needs momentum > 0 .* momentum=0\.0"),
    (lambda: optim.SGD([_weight()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     r"dampening=0\.1"),
    (lambda: optim.SGD([_weight()], lr="0.1"), TypeError, r"SGD: lr must be a number, got '0\.1'"),
    (lambda: optim.Adagrad([_weight()], lr=float("nan")), ValueError, r"Adagrad: lr .* got nan"),
    (lambda: optim.Adagrad([_weight()], lr_decay=-1), ValueError, r"Adagrad: lr_decay .* -1"),
    (lambda: optim.Adagrad([_weight()], initial_accumulator_value=-1), ValueError,
     r"Adagrad: initial_accumulator_value .* -1"),
    (lambda: optim.Adagrad([_weight()], eps=-1e-10), ValueError, r"Adagrad: eps .* -1e-10"),
    (lambda: optim.Adam([_weight()], betas=(1.0, 0.999)), ValueError,
     r"Adam: each of betas .* \(1\.0, 0\.999\)"),
    (lambda: optim.Adam([_weight()], betas=(0.9, -0.1)), ValueError, r"Adam: each of betas .* -0\.1"),
    (lambda: optim.Adam([_weight()], betas=(0.9,)), ValueError, r"Adam: betas must be a pair"),
    (lambda: optim.Adam([_weight()], eps=-1.0), ValueError, r"Adam: eps .* -1\.0"),
    (lambda: optim.Adam([_weight()], amsgrad="yes"), TypeError, r"Adam: amsgrad must be True or False"),
    (lambda: optim.AdamW([_weight()], betas=(0.9, 1.5)), ValueError, r"AdamW: each of betas .* 1\.5"),
    (lambda: optim.AdamW([_weight()], weight_decay=-0.1), ValueError, r"AdamW: weight_decay .* -0\.1"),
    (lambda: optim.RMSprop([_weight()], alpha=1.5), ValueError, r"RMSprop: alpha must be in \[0, 1\], got 1"),
    (lambda: optim.RMSprop([_weight()], momentum=-0.5), ValueError, r"RMSprop: momentum .* -0\.5"),
    (lambda: optim.RMSprop([_weight()], centered=1), TypeError, r"RMSprop: centered must be True or False"),
    (lambda: optim.Adam([tg.Tensor(np.arange(2))]), TypeError,
     r"Adam: params\[0\] \(shape \(2,\)\) has dtype int64; only floating-point tensors can be optimized"),
    (lambda: optim.Adam([_weight() * 2.0]), ValueError, r"Adam: params\[0\] .* not a leaf"),
    (lambda: optim.Adam(_weight()), TypeError, r"Adam: params must be an iterable of Tensors"),
    (lambda: optim.Adam([np.ones(2)]), TypeError, r"Adam: params\[0\] is a ndarray, not a Tensor"),
    (lambda: optim.Adam([_weight(), {"params": [_weight()]}]), TypeError,
     r"Adam: params\[1\] is a dict, not a Tensor \(a parameter group must be given at the top level"),
    (lambda: optim.Adam({_weight()}), TypeError, r"Adam: params must be an ordered collection .* not a set"),
    (lambda: optim.Adam([{"params": []}]), ValueError,
     r"Adam: got an empty parameter list \(every group is empty\)"),
    (lambda: optim.Adam([]), ValueError, r"Adam: got an empty parameter list"),
    (lambda: optim.Adam([{"lr": 0.1}]), TypeError,
     r"Adam: a parameter group must be a dict with a 'params' entry"),
    (lambda: optim.Adam([{"params": _weight(), "learning_rate": 0.1}]), ValueError,
     r"Adam: unknown key\(s\) \['learning_rate'\] in a parameter group; Adam takes \['amsgrad', 'betas'"),
    (lambda: optim.SGD([{"params": [_weight()], "lr": -1.0}], lr=0.1), ValueError, r"SGD: lr .* got -1\.0"),
]


@pytest.mark.parametrize(("build", "error", "message"), CONSTRUCTOR_ERRORS)
def test_constructor_validates_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_frozen_parameters_are_accepted_and_left_alone_as_in_pytorch():
    model = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.Linear(3, 1))
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    model(tg.randn(4, 2)).sum().backward()
    optimizer.step()
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert sorted(optimizer.state) == [2, 3]  # only the trained layer's weight and bias


@pytest.mark.parametrize(("grad", "message"), [
    (np.array(["a", "b"]), r"SGD.step: params\[0\] has dtype float64 and its grad dtype <U1"),
    (np.array([1j, 2j]), r"grad dtype complex128; both must be real"),
])
def test_step_refuses_a_grad_that_is_not_real_numbers(grad, message):
    param = make_params([np.ones(2)])[0]
    optimizer = optim.SGD([param], lr=0.1)
    with pytest.raises(TypeError, match=r"Tensor.grad: .* cannot take a grad of dtype"):
        param.grad = grad  # refused at once, as PyTorch refuses it
    param._grad = grad  # past that check (the optimizer's own check is the last line of defence)
    with pytest.raises(TypeError, match=message):
        optimizer.step()
    np.testing.assert_array_equal(param.data, np.ones(2))


def test_step_names_a_hyperparameter_deleted_from_a_group():
    optimizer = optim.SGD(make_params([np.ones(2)]), lr=0.1)
    del optimizer.param_groups[0]["lr"]
    with pytest.raises(ValueError, match=r"SGD.step: param_groups\[0\] has no 'lr'"):
        optimizer.step()


def _saved_after_one_step(cls, **config):
    params = make_params([np.ones(2)])
    optimizer = cls(params, **config)
    params[0].grad = np.ones(2)
    optimizer.step()
    return optimizer.state_dict()


@pytest.mark.parametrize(("cls", "config", "dropped"), [
    (optim.Adam, {}, "exp_avg_sq"),
    (optim.Adam, {"amsgrad": True}, "max_exp_avg_sq"),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, "momentum_buffer"),
    (optim.Adagrad, {}, "sum"),
    (optim.RMSprop, {"centered": True}, "grad_avg"),
    (optim.RMSprop, {"momentum": 0.5}, "momentum_buffer"),
])
def test_load_refuses_a_state_missing_an_array_the_update_reads(cls, config, dropped):
    saved = _saved_after_one_step(cls, **config)
    del saved["state"]["0"][dropped]
    optimizer = cls(make_params([np.ones(2)]), **config)
    with pytest.raises(ValueError, match=rf"state\['0'\] has taken 1 steps but lacks \['{dropped}'\]"):
        optimizer.load_state_dict(saved)
    assert optimizer.state == {}


def test_load_refuses_negative_squares_and_non_numeric_state():
    saved = _saved_after_one_step(optim.Adam)
    saved["state"]["0"]["exp_avg_sq"] = -np.ones(2)
    with pytest.raises(ValueError, match=r"state\['0'\]\['exp_avg_sq'\] holds negative values"):
        optim.Adam(make_params([np.ones(2)])).load_state_dict(saved)
    saved = _saved_after_one_step(optim.SGD, lr=0.1, momentum=0.9)
    saved["state"]["0"]["momentum_buffer"] = np.array(["a", "b"])
    with pytest.raises(ValueError, match=r"state\['0'\]\['momentum_buffer'\] has dtype <U1; expected real"):
        optim.SGD(make_params([np.ones(2)]), lr=0.1, momentum=0.9).load_state_dict(saved)


def test_duplicate_parameters_are_refused():
    weight, bias = _weight(), _weight()
    with pytest.raises(ValueError, match=r"Adagrad: params\[2\] is a duplicate of params\[0\]"):
        optim.Adagrad([weight, bias, weight])


# -- cross-check against PyTorch (skipped where torch is not installed) -------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "reference", "config"), CASES, ids=CASE_IDS)
def test_matches_torch_optim(cls, reference, config, dtype):
    torch = pytest.importorskip("torch")
    initial, grads = random_run(dtype, seed=3, steps=5)
    params = make_params(initial)
    run_steps(cls(params, **config), params, grads)
    assert_matches_torch(torch, params, initial, grads, lambda tensors: getattr(torch.optim, cls.__name__)(
        tensors, **config))


def assert_matches_torch(torch, params, initial, grads, make_optimizer):
    """Run ``make_optimizer(torch_tensors)`` over the same gradients; compare with ``params``."""
    torch_params = [torch.tensor(array, requires_grad=True) for array in initial]
    torch_optimizer = make_optimizer(torch_params)
    for step_grads in grads:
        for param, grad in zip(torch_params, step_grads):
            param.grad = None if grad is None else torch.tensor(grad)
        torch_optimizer.step()
    for param, torch_param in zip(params, torch_params):
        dtype = param.data.dtype.type
        np.testing.assert_allclose(param.data, torch_param.detach().numpy(), **TOLERANCE[dtype])


# -- parameter groups ----------------------------------------------------------------------------
def _grouped(cls, params, first_config, second_config):
    """``params[:2]`` in a group with the constructor's settings, the rest overriding them."""
    return cls([{"params": params[:2]}, {"params": params[2:], **second_config}], **first_config)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop])
@given(data=st.data())
def test_each_group_follows_the_update_rule_with_its_own_settings(cls, dtype, data):
    cases = [case for case in CASES if case[0] is cls]
    (_, reference, first), (_, _, second) = (data.draw(st.sampled_from(cases)) for _ in range(2))
    if cls is optim.SGD:  # Nesterov needs momentum and no dampening: say both for the group
        nesterov = second.get("nesterov", False)
        second = {**second, "lr": second["lr"] * 3, "nesterov": nesterov,
                  **({"dampening": 0.0} if nesterov else {})}
    initial, grads = random_run(dtype, seed=data.draw(st.integers(0, 9), label="seed"))
    params = make_params(initial)
    optimizer = _grouped(cls, params, first, second)
    run_steps(optimizer, params, grads)
    settings = [first, first, {**first, **second}]
    for index, param in enumerate(params):
        expected = reference(initial[index], [g[index] for g in grads], **settings[index])[-1]
        np.testing.assert_allclose(param.data, expected, **TOLERANCE[dtype])


def test_groups_take_the_defaults_they_omit_and_number_parameters_in_order():
    params = make_params([np.ones(2), np.ones(3), np.ones(1)])
    optimizer = optim.Adam([{"params": params[0]}, {"params": params[1:], "lr": 0.5}],
                           lr=0.01, betas=(0.8, 0.9))
    first, second = optimizer.param_groups
    assert first["params"] == params[:1] and second["params"] == params[1:]
    assert (first["lr"], second["lr"]) == (0.01, 0.5)
    assert first["betas"] == second["betas"] == (0.8, 0.9)
    params[2].grad = np.ones(1)
    optimizer.step()
    assert list(optimizer.state) == [2]
    np.testing.assert_allclose(params[2].data, [0.5])  # Adam's first step moves by lr
    second["lr"] = 0.25  # a group's settings are read at each step
    optimizer.step()
    assert params[2].data[0] == pytest.approx(0.25, rel=1e-6)
    assert "group 1: 2 parameters, lr=0.25" in repr(optimizer)


def test_add_param_group_appends_a_group_that_is_then_updated():
    weight, bias = make_params([np.ones(2), np.ones(1)])
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": [bias], "lr": 0.5})
    assert optimizer.param_groups[1] == {"lr": 0.5, "momentum": 0.9, "dampening": 0.0,
                                         "weight_decay": 0.0, "nesterov": False, "maximize": False,
                                         "params": [bias]}
    weight.grad, bias.grad = np.ones(2), np.ones(1)
    optimizer.step()
    np.testing.assert_allclose(weight.data, [0.9, 0.9])
    np.testing.assert_allclose(bias.data, [0.5])
    assert sorted(optimizer.state) == [0, 1]
    with pytest.raises(ValueError, match=r"SGD.add_param_group: params\[2\] \(shape \(2,\)\) is already "
                                         r"params\[0\] of an earlier group"):
        optimizer.add_param_group({"params": [weight]})
    with pytest.raises(TypeError, match=r"SGD.add_param_group: a parameter group must be a dict"):
        optimizer.add_param_group([bias])
    with pytest.raises(ValueError, match=r"SGD: momentum .* got -1"):
        optimizer.add_param_group({"params": make_params([np.ones(1)]), "momentum": -1})
    assert len(optimizer.param_groups) == 2  # the refused groups left nothing behind


def test_a_parameter_in_two_groups_is_refused():
    weight = make_params([np.ones(2)])[0]
    with pytest.raises(ValueError, match=r"Adam: params\[1\] \(shape \(2,\)\) is already params\[0\]"):
        optim.Adam([{"params": [weight]}, {"params": [weight]}])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop])
def test_grouped_state_dict_resumes_bitwise(cls, dtype, tmp_path):
    cases = [config for case_cls, _, config in CASES if case_cls is cls]
    first, second = cases[0], {**cases[-1], "lr": 0.003}
    initial, grads = random_run(dtype, steps=6)
    params = make_params(initial)
    optimizer = _grouped(cls, params, first, second)
    run_steps(optimizer, params, grads[:3])
    saved = optimizer.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0, 1], [2]]
    serialization.save({"optimizer": saved}, tmp_path / "checkpoint.npz")
    at_step_3 = [param.data.copy() for param in params]
    run_steps(optimizer, params, grads[3:])

    resumed_params = make_params(at_step_3)
    resumed = cls([{"params": resumed_params[:2]}, {"params": resumed_params[2:]}], lr=0.123)
    resumed.load_state_dict(serialization.load(tmp_path / "checkpoint.npz")["optimizer"])
    for group, original in zip(resumed.param_groups, optimizer.param_groups):
        assert {**group, "params": None} == {**original, "params": None}
    run_steps(resumed, resumed_params, grads[3:])
    for original, restored in zip(params, resumed_params):
        assert restored.data.tobytes() == original.data.tobytes()


def test_grouped_load_state_dict_refuses_another_grouping():
    params = make_params([np.ones(2), np.ones(3), np.ones(1)])
    saved = _grouped(optim.Adam, params, {}, {"lr": 0.1}).state_dict()
    one_group = optim.Adam(make_params([np.ones(2), np.ones(3), np.ones(1)]))
    with pytest.raises(ValueError, match=r"'param_groups' must be a list of 1 dict\(s\), one per "
                                         r"parameter group of this optimizer, got 2"):
        one_group.load_state_dict(saved)
    other = make_params([np.ones(2), np.ones(3), np.ones(1)])
    regrouped = optim.Adam([{"params": other[:1]}, {"params": other[1:]}])
    with pytest.raises(ValueError, match=r"the state_dict's param_groups\[0\] is for 2 parameters, "
                                         r"this optimizer's has 1"):
        regrouped.load_state_dict(saved)
    assert regrouped.param_groups[0]["lr"] == 1e-3  # nothing changed
    renumbered = optim.Adam([{"params": other[:1]}, {"params": other[1:]}]).state_dict()
    renumbered["param_groups"][0]["params"] = [2]  # as many parameters, another one
    with pytest.raises(ValueError, match=r"the state_dict's param_groups\[0\] holds parameters \[2\], "
                                         r"this optimizer's holds \[0\]"):
        optim.Adam([{"params": other[:1]}, {"params": other[1:]}]).load_state_dict(renumbered)


def test_defaults_are_pytorchs():
    """Every optimizer's default rate (and the rest) as in torch 2.13, SGD's lr=1e-3 included."""
    params = make_params([np.ones(2)])
    assert optim.SGD(params).defaults["lr"] == 1e-3
    torch = pytest.importorskip("torch")
    weight = [torch.zeros(2, requires_grad=True)]
    for cls in (optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop):
        theirs = getattr(torch.optim, cls.__name__)(weight).defaults
        for name, value in cls(params).defaults.items():
            assert theirs[name] == (list(value) if isinstance(theirs[name], list) else value), (cls, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adam, optim.AdamW, optim.RMSprop])
def test_grouped_updates_match_torch_optim(cls, dtype):
    torch = pytest.importorskip("torch")
    cases = [config for case_cls, _, config in CASES if case_cls is cls]
    first, second = cases[1], {**cases[-1], "lr": 0.003}
    # torch 2.13's Adagrad starts every group's sum at the constructor's
    # initial_accumulator_value, ignoring a group's own; this one honours the group's.
    second.pop("initial_accumulator_value", None)
    initial, grads = random_run(dtype, seed=5, steps=5)
    params = make_params(initial)
    run_steps(_grouped(cls, params, first, second), params, grads)
    assert_matches_torch(torch, params, initial, grads, lambda tensors: getattr(torch.optim, cls.__name__)(
        [{"params": tensors[:2]}, {"params": tensors[2:], **second}], **first))

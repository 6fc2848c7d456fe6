"""Tests for tinygrad_rnn.reference, the hand-derived BPTT oracle.

The reference is what the autograd engine is checked against, so it is checked here
without the engine: its gradients against central differences of its own loss, its
forward pass against a deliberately naive loop written from the equations (one
sample, one step, explicit one-hot vectors), and, when PyTorch is installed,
against torch.nn.RNN / LSTM / GRU. The numerical-gradient helper lives in this file,
not in tests/helpers.py, because helpers.py imports the engine and these tests must
not depend on it.
"""

import ast
import pathlib
import subprocess
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_rnn.reference import ReferenceResult, forward_backward, init_params, param_shapes

REFERENCE_DIR = pathlib.Path(__file__).resolve().parents[1] / "tinygrad_rnn" / "reference"
CELLS = ("rnn", "lstm", "gru")
LOSSES = ("ce", "ce_last", "mse", "mse_last")
INPUT_KINDS = ("embedding", "one_hot", "dense")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


# -- problems --------------------------------------------------------------------------
@dataclass
class Problem:
    """One call of forward_backward: the arrays and the keyword options."""

    params: dict
    inputs: np.ndarray
    targets: np.ndarray
    options: dict  # cell, num_layers, nonlinearity, loss, reduction
    states: list = field(default_factory=list)  # [h0] or [h0, c0], or [] for h0=None

    @property
    def h0(self):
        if not self.states:
            return None
        return tuple(self.states) if self.options["cell"] == "lstm" else self.states[0]

    def run(self, h0=...) -> ReferenceResult:
        """forward_backward on this problem; `h0` overrides the problem's own state."""
        h0 = self.h0 if h0 is ... else h0
        return forward_backward(self.params, self.inputs, self.targets, h0=h0, **self.options)


def make_problem(
    cell,
    loss,
    *,
    seq_len=3,
    batch=2,
    input_size=4,
    hidden_size=3,
    output_size=4,
    num_layers=1,
    input_kind="one_hot",
    embedding_dim=3,
    bias=True,
    with_h0=False,
    nonlinearity="tanh",
    reduction="mean",
    weight_scale=2.0,
    seed=0,
) -> Problem:
    """A float64 problem; weights are scaled up from PyTorch's init to reach the nonlinear range."""
    rng = np.random.default_rng(seed)
    params = init_params(
        cell=cell,
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        num_layers=num_layers,
        embedding_dim=embedding_dim if input_kind == "embedding" else None,
        bias=bias,
        rng=rng,
    )
    params = {name: weight_scale * value for name, value in params.items()}
    if input_kind == "dense":
        inputs = rng.standard_normal((seq_len, batch, input_size))
    else:
        inputs = rng.integers(0, input_size, (seq_len, batch))
    target_shape = {
        "ce": (seq_len, batch),
        "ce_last": (batch,),
        "mse": (seq_len, batch, output_size),
        "mse_last": (batch, output_size),
    }[loss]
    if loss.startswith("ce"):
        targets = rng.integers(0, output_size, target_shape)
    else:
        targets = rng.standard_normal(target_shape)
    states = []
    if with_h0:
        count = 2 if cell == "lstm" else 1
        states = [rng.standard_normal((num_layers, batch, hidden_size)) for _ in range(count)]
    options = {
        "cell": cell,
        "num_layers": num_layers,
        "nonlinearity": nonlinearity,
        "loss": loss,
        "reduction": reduction,
    }
    return Problem(params, inputs, targets, options, states)


sizes = st.integers(1, 5)


@st.composite
def problems(draw, cell, loss):
    """Every option of forward_backward, small sizes, and a seed for the values."""
    return make_problem(
        cell,
        loss,
        seq_len=draw(st.integers(1, 6)),
        batch=draw(st.integers(1, 3)),
        input_size=draw(sizes),
        hidden_size=draw(sizes),
        output_size=draw(sizes),
        num_layers=draw(st.integers(1, 2)),
        input_kind=draw(st.sampled_from(INPUT_KINDS)),
        embedding_dim=draw(sizes),
        bias=draw(st.booleans()),
        with_h0=draw(st.booleans()),
        nonlinearity=draw(st.sampled_from(("tanh", "relu"))) if cell == "rnn" else "tanh",
        reduction=draw(st.sampled_from(("mean", "sum"))),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# -- the naive model: one sample, one step, one equation at a time ---------------------
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def naive_step(cell, nonlinearity, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of one sample, column-vector style, straight from the equations.

    Returns (h, c, pre-activations); c is None except for lstm.
    """
    gi = w_ih @ x + b_ih  # the input's contribution to every gate
    gh = w_hh @ h + b_hh  # the hidden state's contribution
    if cell == "rnn":
        a = gi + gh
        return (np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)), None, a
    if cell == "lstm":
        a_i, a_f, a_g, a_o = np.split(gi + gh, 4)
        c = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
        return sigmoid(a_o) * np.tanh(c), c, gi + gh
    i_r, i_z, i_n = np.split(gi, 3)
    h_r, h_z, h_n = np.split(gh, 3)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1.0 - z) * n + z * h, None, np.concatenate([i_r + h_r, i_z + h_z, i_n + r * h_n])


def naive_forward(problem: Problem):
    """(loss, logits (T, B, O), h_n, c_n, all pre-activations) by explicit loops."""
    params, inputs, targets, options = (
        problem.params,
        problem.inputs,
        problem.targets,
        problem.options,
    )
    cell, num_layers = options["cell"], options["num_layers"]
    seq_len, batch = inputs.shape[:2]
    hidden_size = params["rnn.weight_hh_l0"].shape[1]
    head_weight = params["head.weight"]
    head_bias = params.get("head.bias", np.zeros(head_weight.shape[0]))
    logits = np.zeros((seq_len, batch, head_weight.shape[0]))
    h_n = np.zeros((num_layers, batch, hidden_size))
    c_n = np.zeros((num_layers, batch, hidden_size))
    pre_activations = []
    for b in range(batch):
        sequence = []
        for t in range(seq_len):
            if inputs.ndim == 3:
                x = inputs[t, b]
            else:
                vocab = (
                    params["embedding.weight"].shape[0]
                    if "embedding.weight" in params
                    else params["rnn.weight_ih_l0"].shape[1]
                )
                x = np.zeros(vocab)
                x[inputs[t, b]] = 1.0  # the one-hot vector, built explicitly
                if "embedding.weight" in params:
                    x = params["embedding.weight"].T @ x
            sequence.append(x)
        for k in range(num_layers):
            weights = [params.get(f"rnn.{n}_l{k}") for n in ("weight_ih", "weight_hh")]
            biases = [
                params.get(f"rnn.{n}_l{k}", np.zeros(weights[0].shape[0]))
                for n in ("bias_ih", "bias_hh")
            ]
            h = problem.states[0][k, b] if problem.states else np.zeros(hidden_size)
            c = problem.states[1][k, b] if len(problem.states) == 2 else np.zeros(hidden_size)
            outputs = []
            for x in sequence:
                h, c_next, a = naive_step(
                    cell, options["nonlinearity"], x, h, c, *weights, *biases
                )
                c = c if c_next is None else c_next
                outputs.append(h)
                pre_activations.append(a)
            h_n[k, b], c_n[k, b] = h, c
            sequence = outputs
        for t in range(seq_len):
            logits[t, b] = head_weight @ sequence[t] + head_bias
    loss, reduction = options["loss"], options["reduction"]
    read = logits[-1:] if loss.endswith("_last") else logits
    if loss.startswith("ce"):
        labels = targets.reshape(read.shape[:2])
        losses = [
            -np.log(np.exp(row[label]) / np.exp(row).sum())
            for row_block, label_block in zip(read, labels)
            for row, label in zip(row_block, label_block)
        ]
    else:
        losses = ((read - targets.reshape(read.shape)) ** 2).ravel()
    value = np.mean(losses) if reduction == "mean" else np.sum(losses)
    return value, logits, h_n, c_n, np.concatenate(pre_activations)


def relu_is_smooth_here(problem: Problem) -> bool:
    """Central differences need every relu pre-activation well away from its kink."""
    if problem.options["nonlinearity"] != "relu":
        return True
    return np.abs(naive_forward(problem)[-1]).min() > 1e-3


# -- the numerical gradient ------------------------------------------------------------
def numerical_gradient(loss_of, array, entries, eps=1e-6):
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps of the scalar `loss_of()`
    with respect to the given flat `entries` of `array`, perturbed in place and restored."""
    flat = array.reshape(-1)
    grad = np.empty(len(entries))
    for k, index in enumerate(entries):
        original = flat[index]
        flat[index] = original + eps
        plus = loss_of()
        flat[index] = original - eps
        minus = loss_of()
        flat[index] = original
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def check_all_gradients(problem: Problem, max_entries=None, seed=0) -> None:
    """Every parameter and the initial state(s) against central differences.

    All entries of every array, or a random `max_entries` of each when given (the
    hypothesis tests sample to stay fast; the fixed examples check every entry).
    """
    result = problem.run()
    # With h0=None the gradient is still that of an all-zero initial state.
    states = problem.states or [
        np.zeros_like(s) for s in (result.h_n if isinstance(result.h_n, tuple) else [result.h_n])
    ]
    h0 = tuple(states) if problem.options["cell"] == "lstm" else states[0]

    def loss_of():
        return problem.run(h0=h0).loss

    state_grads = result.grad_h0 if isinstance(result.grad_h0, tuple) else (result.grad_h0,)
    checks = [(name, param, result.grads[name]) for name, param in problem.params.items()]
    checks += zip(("h0", "c0"), states, state_grads)
    sampler = np.random.default_rng(seed)
    for name, array, analytic in checks:
        assert analytic.shape == array.shape, name
        entries = np.arange(array.size)
        if max_entries is not None and array.size > max_entries:
            entries = sampler.choice(array.size, max_entries, replace=False)
        numeric = numerical_gradient(loss_of, array, entries)
        # float64 central differences carry ~1e-10 relative error (truncation eps² and
        # rounding 1e-16 / eps): far inside these bounds, far outside any real bug.
        np.testing.assert_allclose(
            analytic.reshape(-1)[entries],
            numeric,
            rtol=1e-6,
            atol=1e-8 * max(1.0, abs(result.loss)),
            err_msg=name,
        )


# -- gradients -------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@given(data=st.data())
def test_gradients_match_central_differences(cell, data):
    problem = data.draw(problems(cell, data.draw(st.sampled_from(LOSSES))))
    assume(relu_is_smooth_here(problem))
    check_all_gradients(problem, max_entries=12, seed=data.draw(st.integers(0, 2**32 - 1)))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("cell", CELLS)
def test_gradients_every_entry_fixed_example(cell, loss):
    # Every cell x loss on every run, checking every entry; the input kind and bias
    # rotate with the loss so that each cell also meets all three input kinds.
    index = LOSSES.index(loss)
    problem = make_problem(
        cell,
        loss,
        seq_len=4,
        num_layers=2,
        input_kind=INPUT_KINDS[index % 3],
        bias=index % 2 == 0,
        with_h0=True,
        reduction=("mean", "sum")[index // 2],
        seed=3 + index,
    )
    check_all_gradients(problem)


def test_relu_gradients_fixed_example():
    problem = make_problem(
        "rnn", "mse", num_layers=2, nonlinearity="relu", with_h0=True, input_kind="dense", seed=7
    )
    assert relu_is_smooth_here(problem)
    pre_activations = naive_forward(problem)[-1]
    assert (pre_activations < 0).any() and (pre_activations > 0).any()  # both branches used
    check_all_gradients(problem)


def test_one_hot_gradient_adds_up_repeated_tokens():
    # Every step reads token 1, so its column of weight_ih collects T*B contributions
    # (a plain fancy-index += would keep only one) and every other column is zero.
    problem = make_problem("rnn", "ce", seq_len=5, batch=3, input_size=4)
    problem.inputs[:] = 1
    grad = problem.run().grads["rnn.weight_ih_l0"]
    assert np.all(grad[:, [0, 2, 3]] == 0)
    check_all_gradients(problem)


# -- forward against the naive loop ----------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@given(data=st.data())
def test_forward_matches_naive_loop(cell, data):
    problem = data.draw(problems(cell, data.draw(st.sampled_from(LOSSES))))
    loss, logits, h_n, c_n, _ = naive_forward(problem)
    result = problem.run()
    np.testing.assert_allclose(result.logits, logits, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.loss, loss, rtol=1e-12, atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(result.h_n[0], h_n, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(result.h_n[1], c_n, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(result.h_n, h_n, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_final_state_carries_truncated_bptt(cell):
    # Two chunks, the second started from the first's h_n, give the full sequence's logits.
    problem = make_problem(cell, "ce", seq_len=6, num_layers=2, with_h0=True)
    whole = problem.run()
    first = forward_backward(
        problem.params, problem.inputs[:4], problem.targets[:4], h0=problem.h0, **problem.options
    )
    second = forward_backward(
        problem.params, problem.inputs[4:], problem.targets[4:], h0=first.h_n, **problem.options
    )
    np.testing.assert_allclose(
        np.concatenate([first.logits, second.logits]), whole.logits, rtol=1e-12, atol=1e-12
    )


# -- PyTorch, a third opinion when it is installed -------------------------------------
@pytest.mark.parametrize("input_kind", INPUT_KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_matches_pytorch(cell, input_kind):
    torch = pytest.importorskip("torch")
    problem = make_problem(
        cell,
        "ce",
        seq_len=5,
        batch=3,
        num_layers=2,
        input_kind=input_kind,
        with_h0=True,
        reduction="sum",
        seed=11,
    )
    result = problem.run()
    tensors = {n: torch.tensor(v, requires_grad=True) for n, v in problem.params.items()}
    states = [torch.tensor(s, requires_grad=True) for s in problem.states]
    module_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    layer0_input = problem.params["rnn.weight_ih_l0"].shape[1]
    module = module_class(layer0_input, 3, num_layers=2).double()
    for name, parameter in module.named_parameters():
        parameter.data = tensors[f"rnn.{name}"]
    tokens = torch.tensor(problem.inputs)
    if input_kind == "dense":
        x = tokens
    elif input_kind == "embedding":
        x = tensors["embedding.weight"][tokens]
    else:
        x = torch.nn.functional.one_hot(tokens, layer0_input).double()
    output, final = module(x, tuple(states) if cell == "lstm" else states[0])
    logits = output @ tensors["head.weight"].T + tensors["head.bias"]
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), torch.tensor(problem.targets).reshape(-1),
        reduction="sum",
    )
    loss.backward()
    np.testing.assert_allclose(result.loss, loss.item(), rtol=1e-12)
    for name, param in module.named_parameters():
        np.testing.assert_allclose(result.grads[f"rnn.{name}"], param.grad.numpy(), atol=1e-12)
    for name in ("head.weight", "head.bias", "embedding.weight"):
        if name in tensors:
            np.testing.assert_allclose(result.grads[name], tensors[name].grad.numpy(), atol=1e-12)
    ours = result.grad_h0 if cell == "lstm" else (result.grad_h0,)
    for mine, theirs in zip(ours, states, strict=True):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), atol=1e-12)
    finals = result.h_n if cell == "lstm" else (result.h_n,)
    for mine, theirs in zip(finals, final if cell == "lstm" else (final,), strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), atol=1e-12)


# -- dtypes, stability, invariants -----------------------------------------------------
@pytest.mark.parametrize("hidden_size", [5, 1])  # 1: gate views of shape (B, 1), see _sigmoid
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("cell", CELLS)
def test_float32_follows_float64(cell, loss, hidden_size):
    problem = make_problem(
        cell, loss, seq_len=6, batch=3, hidden_size=hidden_size, num_layers=2, with_h0=True, seed=5
    )
    result64 = problem.run()
    problem.params = {n: v.astype(np.float32) for n, v in problem.params.items()}
    result32 = problem.run()  # inputs, targets and h0 stay float64: converted, not upcast
    assert result32.logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in result32.grads.values())
    states32 = result32.grad_h0 + result32.h_n if cell == "lstm" else (
        result32.grad_h0,
        result32.h_n,
    )
    assert all(s.dtype == np.float32 for s in states32)
    np.testing.assert_allclose(result32.loss, result64.loss, rtol=1e-5)
    for name, grad in result64.grads.items():
        scale = np.abs(grad).max()
        np.testing.assert_allclose(
            result32.grads[name], grad, rtol=1e-4, atol=1e-5 * scale, err_msg=name
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_saturated_gates_neither_warn_nor_break(cell, dtype):
    """Gate pre-activations far past exp's range: σ is 0 or 1, everything stays finite."""
    problem = make_problem(cell, "ce")
    problem.params = {n: v.astype(dtype) for n, v in problem.params.items()}
    for name in problem.params:
        if name.startswith("rnn.bias"):
            problem.params[name][::2] = -1e4  # every other gate unit: σ(−1e4) = 0
            problem.params[name][1::2] = 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = problem.run()
    assert np.isfinite(result.loss)
    assert all(np.isfinite(g).all() for g in result.grads.values())


@pytest.mark.parametrize("loss", ("ce", "ce_last"))
def test_cross_entropy_is_stable_for_huge_logits(loss):
    problem = make_problem("gru", loss, output_size=5, reduction="sum")
    problem.params["head.weight"] *= 1e4 / np.abs(problem.params["head.weight"]).max()
    result = problem.run()
    assert np.abs(result.logits).max() > 1e3
    assert np.isfinite(result.loss)
    assert all(np.isfinite(g).all() for g in result.grads.values())
    # δy = softmax - one_hot: each row of the head-bias gradient's summands adds to 0.
    np.testing.assert_allclose(result.grads["head.bias"].sum(), 0.0, atol=1e-9)


def test_ce_gradient_is_softmax_minus_one_hot_over_n():
    # With a zero head weight every logit is the bias b, so δb = Σ_rows (softmax(b) - onehot)/N.
    problem = make_problem("rnn", "ce", seq_len=4, batch=2, output_size=4)
    problem.params["head.weight"][:] = 0.0
    bias = problem.params["head.bias"]
    softmax = np.exp(bias) / np.exp(bias).sum()
    counts = np.bincount(problem.targets.ravel(), minlength=4)
    expected = softmax - counts / problem.targets.size
    np.testing.assert_allclose(problem.run().grads["head.bias"], expected, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_call_mutates_nothing_and_grads_are_fresh(cell):
    problem = make_problem(cell, "mse", input_kind="dense", with_h0=True, num_layers=2)
    copies = [v.copy() for v in (*problem.params.values(), problem.inputs, *problem.states)]
    result = problem.run()
    after = [*problem.params.values(), problem.inputs, *problem.states]
    assert all(np.array_equal(a, b) for a, b in zip(copies, after, strict=True))
    assert list(result.grads) == list(problem.params)
    grads = list(result.grads.values())
    states = list(result.grad_h0 if cell == "lstm" else (result.grad_h0,))
    for i, grad in enumerate(grads):
        assert grad.shape == problem.params[list(problem.params)[i]].shape
        others = after + grads[:i] + grads[i + 1 :] + states
        assert not any(np.shares_memory(grad, other) for other in others)


def test_h0_none_is_zeros_and_c0_defaults_to_zeros():
    problem = make_problem("lstm", "ce", num_layers=2, with_h0=True)
    zeros = np.zeros_like(problem.states[0])
    none = problem.run(h0=None)
    explicit = problem.run(h0=(zeros, zeros))
    assert none.loss == explicit.loss
    h0_only = problem.run(h0=problem.states[0])
    h0_and_zero_c0 = problem.run(h0=(problem.states[0], None))
    assert h0_only.loss == h0_and_zero_c0.loss == problem.run(h0=(problem.states[0], zeros)).loss
    assert isinstance(none.grad_h0, tuple) and none.grad_h0[1].shape == zeros.shape


# -- init_params and param_shapes ------------------------------------------------------
def test_param_shapes_follow_pytorch_layout():
    shapes = param_shapes(
        cell="lstm", input_size=10, hidden_size=4, output_size=7, num_layers=2, embedding_dim=6
    )
    assert shapes == {
        "embedding.weight": (10, 6),
        "rnn.weight_ih_l0": (16, 6),
        "rnn.weight_hh_l0": (16, 4),
        "rnn.bias_ih_l0": (16,),
        "rnn.bias_hh_l0": (16,),
        "rnn.weight_ih_l1": (16, 4),
        "rnn.weight_hh_l1": (16, 4),
        "rnn.bias_ih_l1": (16,),
        "rnn.bias_hh_l1": (16,),
        "head.weight": (7, 4),
        "head.bias": (7,),
    }


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("cell", CELLS)
def test_init_params_bounds_dtype_and_seed(cell, dtype):
    kwargs = {"cell": cell, "input_size": 9, "hidden_size": 16, "output_size": 5}
    params = init_params(**kwargs, embedding_dim=3, dtype=dtype, rng=4)
    again = init_params(**kwargs, embedding_dim=3, dtype=dtype, rng=4)
    assert {n: v.shape for n, v in params.items()} == param_shapes(**kwargs, embedding_dim=3)
    for name, value in params.items():
        assert value.dtype == dtype
        np.testing.assert_array_equal(value, again[name])
        if name != "embedding.weight":
            assert np.abs(value).max() <= 1 / 4  # 1/sqrt(hidden_size)
    assert np.abs(params["embedding.weight"]).max() > 1 / 4  # standard normal, not uniform
    assert "head.bias" not in init_params(**kwargs, bias=False, rng=0)


# -- errors ----------------------------------------------------------------------------
def _without(name):
    def edit(call):
        del call["params"][name]

    return edit


def _reshape(name, shape):
    def edit(call):
        call["params"][name] = np.zeros(shape)

    return edit


def _set(key, value):
    def edit(call):
        call[key] = value

    return edit


BAD_CALLS = [
    ("unknown cell", _set("cell", "transformer"), ValueError, r"cell must be one of"),
    ("unknown loss", _set("loss", "nll"), ValueError, r"loss must be one of"),
    ("unknown reduction", _set("reduction", "none"), ValueError, r"reduction must be one of"),
    ("unknown nonlinearity", _set("nonlinearity", "gelu"), ValueError, r"nonlinearity must"),
    ("zero layers", _set("num_layers", 0), ValueError, r"num_layers must be a positive"),
    ("params not a dict", _set("params", [1]), TypeError, r"params must be a dict"),
    (
        "missing weight",
        _without("rnn.weight_hh_l0"),
        ValueError,
        r"missing parameter 'rnn.weight_hh_l0'",
    ),
    (
        "half the biases",
        _without("rnn.bias_hh_l0"),
        ValueError,
        r"missing parameter 'rnn.bias_hh_l0' of shape \(12,\).*all present or all absent",
    ),
    (
        "wrong weight shape",
        _reshape("rnn.weight_ih_l0", (9, 5)),
        ValueError,
        r"'rnn.weight_ih_l0' should have shape \(12, 5\), got \(9, 5\)",
    ),
    (
        "wrong head shape",
        _reshape("head.weight", (5, 2)),
        ValueError,
        r"'head.weight' should have shape \(5, 4\), got \(5, 2\)",
    ),
    (
        "a layer too many",
        _reshape("rnn.weight_ih_l1", (12, 4)),
        ValueError,
        r"unexpected parameter 'rnn.weight_ih_l1'",
    ),
    (
        "mixed dtypes",
        lambda call: call["params"].update(
            {"head.bias": call["params"]["head.bias"].astype(np.float32)}
        ),
        TypeError,
        r"share one dtype",
    ),
    (
        "integer parameter",
        _set("params", {"rnn.weight_hh_l0": np.zeros((12, 4), dtype=np.int64)}),
        TypeError,
        r"'rnn.weight_hh_l0' must be a float32 or float64 array, got int64",
    ),
    (
        "token out of range",
        _set("inputs", np.array([[0, 5], [1, 2], [3, 4]])),
        ValueError,
        r"token ids must lie in \[0, 5\) \(one-hot inputs: 'rnn.weight_ih_l0' has 5 columns\), "
        r"got values in \[0, 5\]",
    ),
    ("negative token", _set("inputs", np.full((3, 2), -1)), ValueError, r"\[0, 5\)"),
    (
        "float tokens",
        _set("inputs", np.zeros((3, 2))),
        TypeError,
        r"integer token ids \(T, B\) or float vectors \(T, B, D\), got dtype float64 and shape \(3, 2\)",
    ),
    ("empty inputs", _set("inputs", np.zeros((0, 2), dtype=int)), ValueError, r"must not be empty"),
    (
        "dense with the wrong width",
        _set("inputs", np.zeros((3, 2, 7))),
        ValueError,
        r"'rnn.weight_ih_l0' should have shape \(12, 7\), got \(12, 5\)",
    ),
    (
        "float class targets",
        _set("targets", np.zeros((3, 2))),
        TypeError,
        r"loss='ce' needs integer class targets of shape \(3, 2\), got dtype float64",
    ),
    (
        "targets of the wrong shape",
        _set("targets", np.zeros((2, 3), dtype=int)),
        ValueError,
        r"needs targets of shape \(3, 2\), got \(2, 3\)",
    ),
    (
        "class out of range",
        _set("targets", np.full((3, 2), 6)),
        ValueError,
        r"class targets must lie in \[0, 6\)",
    ),
    (
        "integer regression targets",
        lambda call: call.update(loss="mse", targets=np.zeros((3, 2, 6), dtype=int)),
        TypeError,
        r"loss='mse' needs float targets of shape \(3, 2, 6\)",
    ),
    (
        "last-step targets for every step",
        lambda call: call.update(loss="ce_last"),
        ValueError,
        r"loss='ce_last' needs targets of shape \(2,\), got \(3, 2\)",
    ),
    (
        "h0 of the wrong shape",
        _set("h0", np.zeros((1, 3, 4))),
        ValueError,
        r"h0 must be a float array of shape \(L, B, H\) = \(1, 2, 4\), got dtype float64 "
        r"and shape \(1, 3, 4\)",
    ),
    (
        "a (h0, c0) pair for a gru",
        _set("h0", (np.zeros((1, 2, 4)), np.zeros((1, 2, 4)))),
        TypeError,
        r"h0 for cell='gru' is one array",
    ),
]


def _bad_call(edit):
    problem = make_problem(
        "gru", "ce", seq_len=3, batch=2, input_size=5, hidden_size=4, output_size=6
    )
    call = {
        "params": problem.params,
        "inputs": problem.inputs,
        "targets": problem.targets,
        **problem.options,
    }
    edit(call)
    return call


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [case[1:] for case in BAD_CALLS],
    ids=[case[0] for case in BAD_CALLS],
)
def test_bad_calls_raise_with_name_and_shapes(edit, error, message):
    call = _bad_call(edit)
    with pytest.raises(error, match=r"^reference\.forward_backward: .*" + message):
        forward_backward(**call)


def test_relu_only_for_rnn_and_c0_needs_h0():
    problem = make_problem("lstm", "ce")
    with pytest.raises(ValueError, match=r"reference\.forward_backward: nonlinearity='relu'"):
        forward_backward(problem.params, problem.inputs, problem.targets, cell="lstm",
                         nonlinearity="relu")
    c0 = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=r"c0 may be given only together with h0"):
        forward_backward(problem.params, problem.inputs, problem.targets, cell="lstm",
                         h0=(None, c0))


def test_dense_inputs_reject_an_embedding():
    problem = make_problem("rnn", "ce", input_kind="embedding")
    with pytest.raises(ValueError, match=r"dense inputs of shape \(3, 2, 4\) cannot use"):
        forward_backward(problem.params, np.zeros((3, 2, 4)), problem.targets)


def test_param_shapes_and_init_params_validate():
    with pytest.raises(ValueError, match=r"^reference\.param_shapes: cell must be one of"):
        param_shapes(cell="tcn", input_size=3, hidden_size=3, output_size=3)
    with pytest.raises(ValueError, match=r"^reference\.param_shapes: hidden_size must be"):
        param_shapes(cell="rnn", input_size=3, hidden_size=0, output_size=3)
    with pytest.raises(TypeError, match=r"^reference\.init_params: dtype must be float32"):
        init_params(cell="rnn", input_size=3, hidden_size=3, output_size=3, dtype=np.int32)


# -- independence from the engine ------------------------------------------------------
def test_reference_loads_without_the_rest_of_the_package():
    # Load reference/ under another name without running tinygrad_rnn/__init__.py
    # (which imports the engine), then check that nothing named tinygrad_rnn* was loaded.
    program = f"""
import importlib.util, sys
path = {str(REFERENCE_DIR)!r}
spec = importlib.util.spec_from_file_location(
    "tgr_reference", path + "/__init__.py", submodule_search_locations=[path]
)
module = importlib.util.module_from_spec(spec)
sys.modules["tgr_reference"] = module
spec.loader.exec_module(module)
assert callable(module.forward_backward)
assert {{"tgr_reference.rnn", "tgr_reference.lstm", "tgr_reference.gru"}} <= set(sys.modules)
print(sorted(name for name in sys.modules if name.startswith("tinygrad_rnn")))
"""
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"


def test_reference_sources_import_only_numpy_and_the_standard_library():
    own_modules = {path.stem for path in REFERENCE_DIR.glob("*.py")}
    files = sorted(REFERENCE_DIR.glob("*.py"))
    assert {"__init__", "rnn", "lstm", "gru", "model"} <= {path.stem for path in files}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module.split(".")[0]]
            elif isinstance(node, ast.ImportFrom):
                # Relative: only `from . import x` / `from .x import y` inside reference/.
                assert node.level == 1, f"{path.name}: import reaches outside reference/"
                names = [node.module] if node.module else [a.name for a in node.names]
                assert set(names) <= own_modules, f"{path.name}: imports {names}"
                continue
            else:
                continue
            for root in roots:
                assert root == "numpy" or root in sys.stdlib_module_names, (
                    f"{path.name} imports {root}"
                )

"""RecurrentModel: names, losses, state handling, config round trip, and the hand-written reference."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn


@st.composite
def model_cases(draw):
    """A float64 model of a drawn configuration, inputs, targets and an optional initial state."""
    cell = draw(st.sampled_from(["rnn", "lstm", "gru"]))
    input_kind = draw(st.sampled_from(["tokens", "dense"]))
    embedding_dim = draw(st.none() | st.integers(1, 3)) if input_kind == "tokens" else None
    config = {
        "cell": cell, "input_size": draw(st.integers(1, 4)), "hidden_size": draw(st.integers(1, 4)),
        "output_size": draw(st.integers(1, 4)), "num_layers": draw(st.integers(1, 2)),
        "embedding_dim": embedding_dim, "input_kind": input_kind,
        "nonlinearity": draw(st.sampled_from(["tanh", "relu"])) if cell == "rnn" else "tanh",
        "bias": draw(st.booleans()), "dtype": "float64",
    }
    loss, reduction = draw(st.sampled_from(["ce", "ce_last", "mse", "mse_last"])), draw(
        st.sampled_from(["mean", "sum"]))
    steps, batch = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    model = nn.RecurrentModel(**config, rng=rng)
    if input_kind == "tokens":
        inputs = rng.integers(0, config["input_size"], (steps, batch))
    else:
        inputs = rng.standard_normal((steps, batch, config["input_size"]))
    target_lead = (batch,) if loss.endswith("_last") else (steps, batch)
    if loss.startswith("ce"):
        targets = rng.integers(0, config["output_size"], target_lead)
    else:
        targets = rng.standard_normal(target_lead + (config["output_size"],))
    state = None
    if draw(st.booleans()):
        shape = (config["num_layers"], batch, config["hidden_size"])
        state = tuple(rng.standard_normal(shape) for _ in range(2 if cell == "lstm" else 1))
    return model, inputs, targets, loss, reduction, state


def _as_state(arrays, requires_grad=False):
    if arrays is None:
        return None
    tensors = tuple(tg.Tensor(a, requires_grad=requires_grad) for a in arrays)
    return tensors if len(tensors) == 2 else tensors[0]


def _flat(state):
    return state if isinstance(state, tuple) else (state,)


@given(model_cases())
def test_matches_the_hand_written_reference(case):
    from tinygrad_rnn import reference
    model, inputs, targets, loss, reduction, state = case
    state_tensors = _as_state(state, requires_grad=True)
    dense = tg.Tensor(inputs) if inputs.dtype.kind == "f" else inputs
    value, final = model.loss(dense, targets, loss=loss, reduction=reduction, state=state_tensors)
    value.backward()
    expected = reference.forward_backward(
        model.state_dict(), inputs, targets, cell=model.cell, num_layers=model.rnn.num_layers,
        nonlinearity=model.config()["nonlinearity"], loss=loss, reduction=reduction,
        h0=None if state is None else (state if len(state) == 2 else state[0]))
    np.testing.assert_allclose(value.item(), expected.loss, rtol=1e-9)
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad, expected.grads[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    for ours, theirs in zip(_flat(final), _flat(expected.h_n)):
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-9, atol=1e-12)
    if state is not None:
        for ours, theirs in zip(_flat(state_tensors), _flat(expected.grad_h0)):
            np.testing.assert_allclose(ours.grad, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model(dense, _as_state(state))[0].data, expected.logits, rtol=1e-9, atol=1e-12)


@given(model_cases())
def test_loss_gradcheck(case):
    model, inputs, targets, loss, reduction, state = case
    if loss.startswith("mse") and model.config()["input_kind"] == "dense":
        inputs = tg.Tensor(inputs, requires_grad=True)  # also check d loss / d inputs
    names, parameters = zip(*model.named_parameters())
    leading = [inputs] if isinstance(inputs, tg.Tensor) else []
    state_tensors = list(_flat(_as_state(state, requires_grad=True))) if state is not None else []

    def fn(*args):
        given_state = args[len(leading):len(leading) + len(state_tensors)]
        hx = None if not given_state else (tuple(given_state) if len(given_state) == 2 else given_state[0])
        given_inputs = args[0] if leading else inputs
        return model.loss(given_inputs, targets, loss=loss, reduction=reduction, state=hx)[0]

    labels = ["inputs"] * len(leading) + ["h0", "c0"][:len(state_tensors)] + list(names)
    assert tg.gradcheck(fn, leading + state_tensors + list(parameters), names=labels)


@given(model_cases(), st.booleans())
def test_forward_gradcheck(case, empty_batch):
    """outputs (T, B, O) and the final state of forward(), w.r.t. dense inputs, the initial
    state and every parameter; also for a batch of none (zero gradients)."""
    model, inputs, _, _, _, state = case
    if empty_batch:
        inputs = inputs[:, :0]
        state = None if state is None else tuple(s[:, :0] for s in state)
    leading = [tg.Tensor(inputs, requires_grad=True)] if inputs.dtype.kind == "f" else []
    state_tensors = list(_flat(_as_state(state, requires_grad=True))) if state is not None else []
    names, parameters = zip(*model.named_parameters())

    def fn(*args):
        given_state = args[len(leading):len(leading) + len(state_tensors)]
        hx = None if not given_state else (tuple(given_state) if len(given_state) == 2 else given_state[0])
        outputs, final = model(args[0] if leading else inputs, hx)
        return (outputs, *_flat(final))

    labels = ["inputs"] * len(leading) + ["h0", "c0"][:len(state_tensors)] + list(names)
    assert tg.gradcheck(fn, leading + state_tensors + list(parameters), names=labels)


# -- structure ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "names"), [
    ({"cell": "lstm", "embedding_dim": 3, "num_layers": 2},
     ["embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
      "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
      "head.weight", "head.bias"]),
    ({"cell": "rnn", "bias": False}, ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight"]),
    ({"cell": "gru", "input_kind": "dense"},
     ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
      "head.weight", "head.bias"]),
])
def test_parameter_names(kwargs, names):
    cell = kwargs.pop("cell")
    model = nn.RecurrentModel(cell, 6, 5, 4, **kwargs)
    assert [name for name, _ in model.named_parameters()] == names
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    width = kwargs.get("embedding_dim") or 6
    assert model.rnn.weight_ih_l0.shape == (gates * 5, width)
    assert model.head.weight.shape == (4, 5)


def test_repr():
    assert repr(nn.RecurrentModel("gru", 65, 32, 65, num_layers=2, embedding_dim=16)) == (
        "RecurrentModel(\n"
        "  (embedding): Embedding(65, 16)\n"
        "  (rnn): GRU(16, 32, num_layers=2)\n"
        "  (head): Linear(in_features=32, out_features=65, bias=True)\n"
        ")"
    )


def test_config_rebuilds_the_model_through_json():
    model = nn.RecurrentModel("rnn", 7, 5, 3, num_layers=2, nonlinearity="relu", bias=False,
                              input_kind="dense", dropout=0.25).to("float64")
    config = json.loads(json.dumps(model.config()))
    assert config == {"cell": "rnn", "input_size": 7, "hidden_size": 5, "output_size": 3, "num_layers": 2,
                      "embedding_dim": None, "input_kind": "dense", "nonlinearity": "relu", "bias": False,
                      "dropout": 0.25, "dtype": "float64"}
    rebuilt = nn.RecurrentModel(**config)
    rebuilt.load_state_dict(model.state_dict())
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 2, 7)))
    assert rebuilt.rnn.dropout == 0.25
    np.testing.assert_array_equal(rebuilt.eval()(x)[0].data, model.eval()(x)[0].data)


@pytest.mark.parametrize("loss", ["ce", "ce_last"])
def test_dropout_before_the_head_and_between_layers_in_training_only(loss):
    tg.manual_seed(0)
    model = nn.RecurrentModel("lstm", 6, 8, 6, num_layers=2, dropout=0.5, dtype="float64")
    plain = nn.RecurrentModel("lstm", 6, 8, 6, num_layers=2, dtype="float64")
    plain.load_state_dict(model.state_dict())
    tokens = np.random.default_rng(1).integers(0, 6, (5, 3))
    targets = tokens[-1] if loss == "ce_last" else tokens
    trained = [model.loss(tokens, targets, loss=loss)[0].item() for _ in range(2)]
    assert trained[0] != trained[1]  # a new mask at every call
    assert model.rnn.dropout == 0.5 and model.training
    model.eval()
    evaluated = model.loss(tokens, targets, loss=loss)[0].item()
    assert evaluated == plain.loss(tokens, targets, loss=loss)[0].item()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one layer: dropout only before the head, and no warning
        nn.RecurrentModel("gru", 6, 8, 6, dropout=0.3)
    with pytest.raises(ValueError, match=r"RecurrentModel: dropout must be in \[0, 1\], got 2"):
        nn.RecurrentModel("gru", 6, 8, 6, dropout=2)


def test_head_is_applied_once_to_all_steps():
    model = nn.RecurrentModel("rnn", 5, 4, 3, input_kind="dense")
    outputs, _ = model(tg.randn(6, 2, 5))
    matmuls, seen, stack = 0, set(), [outputs]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        matmuls += node._op == "matmul" or node._op.startswith(("addmm", "linear"))
        stack.extend(node._parents)
        if node._view is not None:  # a slice is a view of its base, not a node
            stack.append(node._view[0])
    assert matmuls == 1 + 6 + 1  # input projection, one x_t + h @ W_hh^T per step, the head


# -- losses ------------------------------------------------------------------------------------
def test_loss_definitions():
    model = nn.RecurrentModel("gru", 5, 4, 3, embedding_dim=2, dtype="float64",
                              rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    tokens, targets = rng.integers(0, 5, (6, 2)), rng.integers(0, 3, (6, 2))
    logits = model(tokens)[0].data
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(model.loss(tokens, targets)[0].item(), -picked.mean(), rtol=1e-12)
    np.testing.assert_allclose(model.loss(tokens, targets, reduction="sum")[0].item(), -picked.sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(model.loss(tokens, targets[-1], loss="ce_last")[0].item(), -picked[-1].mean(),
                               rtol=1e-12)
    goal = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(model.loss(tokens, goal, loss="mse")[0].item(), ((logits - goal) ** 2).mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(model.loss(tokens, goal[-1], loss="mse_last", reduction="sum")[0].item(),
                               ((logits[-1] - goal[-1]) ** 2).sum(), rtol=1e-12)


def test_one_hot_tokens_equal_dense_one_hot_inputs():
    tokens_model = nn.RecurrentModel("lstm", 5, 4, 5, dtype="float64", rng=np.random.default_rng(0))
    dense_model = nn.RecurrentModel("lstm", 5, 4, 5, input_kind="dense", dtype="float64")
    dense_model.load_state_dict(tokens_model.state_dict())
    tokens = np.random.default_rng(1).integers(0, 5, (7, 3))
    a, (h_a, c_a) = tokens_model(tokens)
    b, (h_b, c_b) = dense_model(tg.Tensor(np.eye(5)[tokens]))
    for x, y in ((a, b), (h_a, h_b), (c_a, c_b)):
        np.testing.assert_allclose(x.data, y.data, rtol=1e-12, atol=1e-14)


# -- state ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_truncated_bptt_carries_the_state(cell):
    model = nn.RecurrentModel(cell, 5, 4, 5, num_layers=2, dtype="float64", rng=np.random.default_rng(0))
    tokens = np.random.default_rng(1).integers(0, 5, (8, 3))
    whole, whole_state = model(tokens)
    first, state = model(tokens[:5])
    state = model.detach_state(state)
    assert all(not s.requires_grad and s.is_leaf for s in _flat(state))
    second, final = model(tokens[5:], state)
    np.testing.assert_allclose(np.concatenate([first.data, second.data]), whole.data, rtol=1e-12)
    for a, b in zip(_flat(final), _flat(whole_state)):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    zero = model.init_state(3)
    assert all(s.shape == (2, 3, 4) and s.dtype == np.float64 and not s.data.any() for s in _flat(zero))
    assert len(_flat(zero)) == (2 if cell == "lstm" else 1)
    np.testing.assert_array_equal(model(tokens, zero)[0].data, whole.data)
    assert model.detach_state(None) is None


# -- errors ----------------------------------------------------------------------------------------
def test_constructor_errors():
    with pytest.raises(ValueError, match=r"RecurrentModel: cell must be one of \('rnn', 'lstm', 'gru'\), "
                                         r"got 'transformer'"):
        nn.RecurrentModel("transformer", 5, 4, 5)
    with pytest.raises(ValueError, match=r"RecurrentModel: cell must be one of .*, got \['rnn'\]"):
        nn.RecurrentModel(["rnn"], 5, 4, 5)
    with pytest.raises(TypeError, match=r"RecurrentModel.detach_state: expected None, a Tensor or a tuple "
                                        r"of Tensors .*, got list"):
        nn.RecurrentModel.detach_state([tg.zeros(2)])
    with pytest.raises(ValueError, match=r"RecurrentModel: nonlinearity applies to cell='rnn' only"):
        nn.RecurrentModel("lstm", 5, 4, 5, nonlinearity="relu")
    with pytest.raises(ValueError, match=r"RecurrentModel: embedding_dim is for input_kind='tokens' only"):
        nn.RecurrentModel("rnn", 5, 4, 5, input_kind="dense", embedding_dim=3)
    with pytest.raises(ValueError, match=r"RecurrentModel: input_kind must be 'tokens' or 'dense'"):
        nn.RecurrentModel("rnn", 5, 4, 5, input_kind="images")
    with pytest.raises(ValueError, match=r"RecurrentModel: output_size must be at least 1"):
        nn.RecurrentModel("rnn", 5, 4, 0)
    # A truthy string was taken for True: bias="False" built biases.
    with pytest.raises(TypeError, match=r"RecurrentModel: bias must be a bool, got 'False'"):
        nn.RecurrentModel("rnn", 5, 4, 5, bias="False")
    for build, owner, name in ((lambda: nn.Linear(2, 3, bias=0), "Linear", "bias"),
                               (lambda: nn.GRU(2, 3, batch_first="yes"), "GRU", "batch_first"),
                               (lambda: nn.LSTM(2, 3, bidirectional=1), "LSTM", "bidirectional"),
                               (lambda: nn.RNNCell(2, 3, bias=None), "RNNCell", "bias")):
        with pytest.raises(TypeError, match=rf"^{owner}: {name} must be a bool, got "):
            build()


def test_call_errors():
    model = nn.RecurrentModel("rnn", 5, 4, 5)
    tokens = np.zeros((3, 2), dtype=int)
    with pytest.raises(ValueError, match=r"RecurrentModel.loss: loss must be one of .*got 'hinge'"):
        model.loss(tokens, tokens, loss="hinge")
    with pytest.raises(ValueError, match=r"RecurrentModel.loss: reduction must be one of \('mean', 'sum'\)"):
        model.loss(tokens, tokens, reduction="none")
    with pytest.raises(ValueError, match=r"RecurrentModel: token inputs must have shape \(T, B\), "
                                         r"got \(3,\)"):
        model(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"RNN: tokens must lie in \[0, 5\)"):
        model(tokens + 5)
    with pytest.raises(ValueError, match=r"RecurrentModel.loss: targets of shape \(2,\) do not match "
                                         r"the \(3, 2\) \(T, B\) predictions"):
        model.loss(tokens, tokens[-1])
    dense = nn.RecurrentModel("gru", 5, 4, 2, input_kind="dense")
    with pytest.raises(ValueError, match=r"RecurrentModel: dense inputs must have shape \(T, B, 5\), "
                                         r"got \(3, 5\)"):
        dense(tg.zeros(3, 5))
    with pytest.raises(ValueError, match=r"GRU: input must be floating point"):
        dense(tokens[..., None].repeat(5, -1))
    with pytest.raises(ValueError, match=r"mse_loss: prediction of shape \(3, 2, 2\)"):
        dense.loss(tg.zeros(3, 2, 5), np.zeros((3, 2)), loss="mse")

"""RNN / LSTM / GRU and their cells: PyTorch's equations, names, gradients and errors.

Forward values are compared with a plain NumPy loop written here from the equations
(independent of the modules' folded biases and hoisted projections); gradients with
central differences (``tg.gradcheck``) w.r.t. the input, the initial state and every
parameter; and, when PyTorch is installed, both with ``torch.nn`` loaded from our
``state_dict``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn import recurrent

KINDS = {  # name -> (sequence module, cell, number of gates, constructor extras)
    "rnn_tanh": (nn.RNN, nn.RNNCell, 1, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, nn.RNNCell, 1, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, nn.LSTMCell, 4, {}),
    "gru": (nn.GRU, nn.GRUCell, 3, {}),
}


# -- the NumPy loop the modules must agree with -----------------------------------------------
def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def numpy_cell(kind, x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr=None):
    """One step from the equations in PyTorch's documentation; returns (h', c').

    ``weight_hr``: an LSTM's projection (proj_size), h' = (o ⊙ tanh(c')) W_hr^T."""
    gi = x @ weight_ih.T + bias_ih
    gh = h @ weight_hh.T + bias_hh
    if kind == "rnn_tanh":
        return np.tanh(gi + gh), None
    if kind == "rnn_relu":
        return np.maximum(gi + gh, 0), None
    if kind == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        return (h if weight_hr is None else h @ weight_hr.T), c
    gi_r, gi_z, gi_n = np.split(gi, 3, axis=-1)
    gh_r, gh_z, gh_n = np.split(gh, 3, axis=-1)
    r, z = _sigmoid(gi_r + gh_r), _sigmoid(gi_z + gh_z)
    n = np.tanh(gi_n + r * gh_n)
    return (1 - z) * n + z * h, None


def numpy_sequence(kind, params, x, h0, c0, num_layers, batch_first, bidirectional=False):
    """(output, h_n, c_n) of the stacked layers over x (T, B, D) (or (B, T, D)).

    A bidirectional layer also runs its ``_reverse`` weights over the steps from last to
    first; its outputs, back in time order, follow the forward ones on the feature axis,
    and states are numbered layer by layer, forward before reverse.
    """
    if batch_first:
        x = x.swapaxes(0, 1)
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    layer_input = x
    suffixes = ("", "_reverse") if bidirectional else ("",)
    for k in range(num_layers):
        directions = []
        for d, suffix in enumerate(suffixes):
            weight_ih, weight_hh = params[f"weight_ih_l{k}{suffix}"], params[f"weight_hh_l{k}{suffix}"]
            bias_ih = params.get(f"bias_ih_l{k}{suffix}", np.zeros(weight_ih.shape[0]))
            bias_hh = params.get(f"bias_hh_l{k}{suffix}", np.zeros(weight_ih.shape[0]))
            weight_hr = params.get(f"weight_hr_l{k}{suffix}")
            index = k * len(suffixes) + d
            h, c = h0[index], c0[index]
            outputs = []
            for x_t in (layer_input[::-1] if d else layer_input):
                h, c = numpy_cell(kind, x_t, h, c, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)
                outputs.append(h)
            h_n[index] = h
            if c is not None:
                c_n[index] = c
            directions.append(np.stack(outputs[::-1] if d else outputs))
        layer_input = np.concatenate(directions, axis=-1)
    output = layer_input.swapaxes(0, 1) if batch_first else layer_input
    return output, h_n, c_n


# -- strategies --------------------------------------------------------------------------------
@st.composite
def sequence_cases(draw, kinds=tuple(KINDS)):
    """A float64 module of a drawn kind and its inputs: batch 1..3, T 1..5, sizes 1..4, 1..2 layers,
    one or two directions, and for an LSTM a projection (proj_size 0 to hidden_size − 1)."""
    kind = draw(st.sampled_from(kinds))
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    input_size, hidden_size = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    num_layers = draw(st.integers(1, 2))
    batch_first, bias, with_state = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    bidirectional = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    module_class, _, _, extras = KINDS[kind]
    proj_size = draw(st.integers(0, hidden_size - 1)) if kind == "lstm" else 0
    if proj_size:
        extras = {**extras, "proj_size": proj_size}
    module = module_class(input_size, hidden_size, num_layers=num_layers, bias=bias,
                          batch_first=batch_first, bidirectional=bidirectional, dtype=np.float64,
                          rng=rng, **extras)
    x_shape = (batch, steps, input_size) if batch_first else (steps, batch, input_size)
    x = rng.standard_normal(x_shape)
    stacked = num_layers * (2 if bidirectional else 1)
    h_shape, c_shape = (stacked, batch, proj_size or hidden_size), (stacked, batch, hidden_size)
    h0 = rng.standard_normal(h_shape) if with_state else np.zeros(h_shape)
    c0 = rng.standard_normal(c_shape) if with_state else np.zeros(c_shape)
    return kind, module, x, h0, c0, with_state


def _hx(kind, h0, c0, requires_grad=False):
    h = tg.Tensor(h0, requires_grad=requires_grad)
    return (h, tg.Tensor(c0, requires_grad=requires_grad)) if kind == "lstm" else h


def _flat_state(kind, state):
    return tuple(state) if kind == "lstm" else (state,)


# -- forward values ----------------------------------------------------------------------------
@given(sequence_cases())
def test_forward_matches_numpy_loop(case):
    kind, module, x, h0, c0, with_state = case
    output, state = module(tg.Tensor(x), _hx(kind, h0, c0) if with_state else None)
    expected, h_n, c_n = numpy_sequence(kind, module.state_dict(), x, h0, c0, module.num_layers,
                                        module.batch_first, module.bidirectional)
    np.testing.assert_allclose(output.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_flat_state(kind, state)[0].data, h_n, rtol=1e-12, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(state[1].data, c_n, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", list(KINDS))
def test_unbatched_input_equals_a_batch_of_one(kind, bidirectional):
    module_class, _, _, extras = KINDS[kind]
    module = module_class(3, 4, num_layers=2, batch_first=True, bidirectional=bidirectional,
                          dtype=np.float64, rng=np.random.default_rng(0), **extras)
    directions = 2 if bidirectional else 1
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    h0, c0 = rng.standard_normal((2 * directions, 4)), rng.standard_normal((2 * directions, 4))
    output, state = module(tg.Tensor(x), _hx(kind, h0, c0))
    assert output.shape == (5, 4 * directions)
    batched, batched_state = module(tg.Tensor(x[None]), _hx(kind, h0[:, None], c0[:, None]))
    np.testing.assert_allclose(output.data, batched.data[0], rtol=1e-14)
    for s, b in zip(_flat_state(kind, state), _flat_state(kind, batched_state)):
        assert s.shape == (2 * directions, 4)
        np.testing.assert_allclose(s.data, b.data[:, 0], rtol=1e-14)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_reverse_direction_is_a_forward_pass_over_the_reversed_sequence(kind):
    """Independent of the equations: a bidirectional layer's second half equals a one-way
    module holding the _reverse weights, run over the sequence back to front."""
    module_class, _, _, extras = KINDS[kind]
    both = module_class(3, 4, bidirectional=True, dtype=np.float64, rng=np.random.default_rng(0), **extras)
    one_way = module_class(3, 4, dtype=np.float64, **extras)
    one_way.load_state_dict({name.replace("_reverse", ""): value
                             for name, value in both.state_dict().items() if name.endswith("_reverse")})
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    output, state = both(tg.Tensor(x))
    reverse_output, reverse_state = one_way(tg.Tensor(x[::-1].copy()))
    np.testing.assert_allclose(output.data[..., 4:], reverse_output.data[::-1], rtol=1e-14)
    for s, r in zip(_flat_state(kind, state), _flat_state(kind, reverse_state)):
        np.testing.assert_allclose(s.data[1], r.data[0], rtol=1e-14)


# -- gradients ---------------------------------------------------------------------------------
def _gradcheck_module(kind, module, run, x, h0, c0, with_state):
    """gradcheck of ``run(x, hx)`` w.r.t. x (unless None), the initial state (when given) and every
    parameter."""
    names, parameters = zip(*module.named_parameters())
    leading, labels = [], []
    if x is not None:
        leading, labels = [x], ["input"]
    if with_state:
        leading += [tg.Tensor(h0, requires_grad=True)]
        labels += ["h0"]
        if kind == "lstm":
            leading += [tg.Tensor(c0, requires_grad=True)]
            labels += ["c0"]

    def fn(*args):
        x_given = args[0] if x is not None else None
        state = args[1 if x is not None else 0:len(leading)]
        hx = (tuple(state) if kind == "lstm" else state[0]) if with_state else None
        output, final = run(x_given, hx)
        return (output, *_flat_state(kind, final))

    assert tg.gradcheck(fn, leading + list(parameters), names=labels + list(names))


@given(sequence_cases())
def test_sequence_gradcheck(case):
    kind, module, x, h0, c0, with_state = case
    _gradcheck_module(kind, module, module, tg.Tensor(x, requires_grad=True), h0, c0, with_state)


@given(sequence_cases(), st.sampled_from(["unbatched", "empty batch"]))
def test_sequence_gradcheck_unbatched_and_with_an_empty_batch(case, batch):
    """An unbatched sequence (T, D) with its state (L·directions, H), and a batch of none,
    whose parameters get a zero gradient, as their central differences are."""
    kind, module, x, h0, c0, with_state = case
    batch_axis = 0 if module.batch_first else 1
    pick = 0 if batch == "unbatched" else slice(0, 0)
    x = x[(slice(None),) * batch_axis + (pick,)]
    _gradcheck_module(kind, module, module, tg.Tensor(x, requires_grad=True), h0[:, pick], c0[:, pick],
                      with_state)


# forward_tokens multiplies by the one-hot matrix up to this many multiply-adds and
# gathers rows above it: a limit of 0 forces the gather, the default the product here.
TOKEN_PATHS = {"gather": 0, "one-hot product": recurrent._ONE_HOT_PRODUCT_MACS}


def test_token_projection_takes_the_product_when_small_and_gathers_when_large():
    weight, bias = tg.randn(6, 5, requires_grad=True), tg.randn(6, requires_grad=True)
    tokens = np.array([[0, 4], [2, 2], [1, 3]])
    small = recurrent._token_projection(tokens, weight, bias)
    assert small._op == "reshape" and small._parents[0]._op == "linear"
    large = tg.randn(6, 4096, requires_grad=True)  # 480 tokens x 4096 x 6 > 2**20 multiply-adds
    gathered = recurrent._token_projection(np.tile(tokens, (10, 8)), large, bias)
    assert gathered._op == "getitem"
    np.testing.assert_allclose(small.data, weight.data.T[tokens] + bias.data, rtol=1e-6)


@pytest.mark.parametrize("path", TOKEN_PATHS)
@given(sequence_cases(), st.data())
def test_forward_tokens_gradcheck_and_equals_one_hot_input(path, case, data):
    kind, module, x, h0, c0, with_state = case
    tokens = data.draw(st.lists(st.integers(0, module.input_size - 1), min_size=x.shape[0] * x.shape[1],
                                max_size=x.shape[0] * x.shape[1]))
    tokens = np.array(tokens).reshape(x.shape[:2])
    one_hot = np.eye(module.input_size)[tokens]
    hx = _hx(kind, h0, c0) if with_state else None
    default_limit = recurrent._ONE_HOT_PRODUCT_MACS
    recurrent._ONE_HOT_PRODUCT_MACS = TOKEN_PATHS[path]
    try:
        by_tokens, state = module.forward_tokens(tokens, hx)
        dense, dense_state = module(tg.Tensor(one_hot), hx)
        np.testing.assert_allclose(by_tokens.data, dense.data, rtol=1e-12, atol=1e-14)
        _gradcheck_module(kind, module, lambda _, hx: module.forward_tokens(tokens, hx), None, h0, c0,
                          with_state)
    finally:
        recurrent._ONE_HOT_PRODUCT_MACS = default_limit


@given(st.sampled_from(list(KINDS)), st.integers(0, 3), st.integers(1, 4), st.integers(1, 4),
       st.booleans(), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_cell_gradcheck_and_values(kind, batch, input_size, hidden_size, bias, with_state, batched, seed):
    _, cell_class, _, extras = KINDS[kind]
    rng = np.random.default_rng(seed)
    cell = cell_class(input_size, hidden_size, bias=bias, dtype=np.float64, rng=rng, **extras)
    lead = (batch,) if batched else ()
    x = tg.Tensor(rng.standard_normal(lead + (input_size,)), requires_grad=True)
    h = rng.standard_normal(lead + (hidden_size,)) if with_state else np.zeros(lead + (hidden_size,))
    c = rng.standard_normal(lead + (hidden_size,)) if with_state else np.zeros(lead + (hidden_size,))
    state = [tg.Tensor(h, requires_grad=True)] + ([tg.Tensor(c, requires_grad=True)] if kind == "lstm"
                                                   else [])
    names, parameters = zip(*cell.named_parameters())

    def fn(x, *rest):
        hx = (tuple(rest[:2]) if kind == "lstm" else rest[0]) if with_state else None
        out = cell(x, hx)
        return out if kind == "lstm" else (out,)

    inputs = [x] + (state if with_state else []) + list(parameters)
    labels = ["input"] + (["h", "c"][:len(state)] if with_state else []) + list(names)
    assert tg.gradcheck(fn, inputs, names=labels)
    params = cell.state_dict()
    zeros = np.zeros(params["weight_ih"].shape[0])
    expected = numpy_cell(kind, x.data, h, c, params["weight_ih"], params["weight_hh"],
                          params.get("bias_ih", zeros), params.get("bias_hh", zeros))
    for got, want in zip(fn(x, *state), expected):
        assert got.shape == lead + (hidden_size,)
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-14)


# -- structure: names, shapes, initialisation, graph size --------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
def test_parameter_names_order_shapes_and_init(kind):
    module_class, cell_class, gates, extras = KINDS[kind]
    tg.manual_seed(3)
    module = module_class(3, 5, num_layers=2, **extras)
    expected = []
    for k, width in enumerate((3, 5)):
        expected += [(f"weight_ih_l{k}", (gates * 5, width)), (f"weight_hh_l{k}", (gates * 5, 5)),
                     (f"bias_ih_l{k}", (gates * 5,)), (f"bias_hh_l{k}", (gates * 5,))]
    assert [(name, p.shape) for name, p in module.named_parameters()] == expected
    bound = 1 / np.sqrt(5)
    for _, p in module.named_parameters():
        assert p.dtype == np.float32 and p.requires_grad
        assert np.all(np.abs(p.data) <= bound) and p.data.std() > bound / 4
    tg.manual_seed(3)
    again = module_class(3, 5, num_layers=2, **extras)
    for a, b in zip(module.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    cell = cell_class(3, 5, bias=False, **extras)
    assert [name for name, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    both = module_class(3, 5, num_layers=2, bidirectional=True, bias=False, **extras)
    assert [(name, p.shape) for name, p in both.named_parameters()] == [
        ("weight_ih_l0", (gates * 5, 3)), ("weight_hh_l0", (gates * 5, 5)),
        ("weight_ih_l0_reverse", (gates * 5, 3)), ("weight_hh_l0_reverse", (gates * 5, 5)),
        ("weight_ih_l1", (gates * 5, 10)), ("weight_hh_l1", (gates * 5, 5)),
        ("weight_ih_l1_reverse", (gates * 5, 10)), ("weight_hh_l1_reverse", (gates * 5, 5))]


def _graph_size(*outputs) -> int:
    seen, stack = set(), list(outputs)
    while stack:
        node = stack.pop()
        if node._view is not None:  # a slice is a view of its base, not a node
            stack.append(node._view[0])
        if id(node) not in seen and node._parents:
            seen.add(id(node))
            stack.extend(node._parents)
    return len(seen)


@pytest.mark.parametrize(("kind", "bias", "per_step"), [
    ("rnn_tanh", True, 1), ("rnn_relu", False, 1), ("lstm", True, 2), ("gru", True, 2), ("gru", False, 2),
])
def test_graph_nodes_per_time_step(kind, bias, per_step):
    """The time loop adds only the product with W_hh (x_t + h W_hh^T, with a fused tanh/relu
    for the RNN) and, for LSTM and GRU, the fused cell: slices and h, c are views."""
    module_class, _, _, extras = KINDS[kind]
    module = module_class(2, 3, bias=bias, **extras)
    sizes = [_graph_size(module.forward_tokens(np.zeros((steps, 2), dtype=int))[0]) for steps in (3, 4)]
    assert sizes[1] - sizes[0] == per_step


# -- dropout between layers ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
def test_dropout_masks_the_outputs_between_layers_in_training_only(kind):
    module_class, _, _, extras = KINDS[kind]
    p = 0.4
    module = module_class(3, 4, num_layers=2, dropout=p, bidirectional=True, dtype=np.float64, **extras)
    layers = [module_class(3 if k == 0 else 8, 4, bidirectional=True, dtype=np.float64, **extras)
              for k in range(2)]
    for k, layer in enumerate(layers):
        layer.load_state_dict({name.replace(f"_l{k}", "_l0"): value
                               for name, value in module.state_dict().items() if f"_l{k}" in name})
    x = tg.Tensor(np.random.default_rng(1).standard_normal((5, 2, 3)))
    first = layers[0](x)[0]
    mask = (np.random.default_rng(7).random(first.shape) >= p) / (1 - p)  # what manual_seed(7) draws
    tg.manual_seed(7)
    output, _ = module(x)
    np.testing.assert_allclose(output.data, layers[1](first * mask)[0].data, rtol=1e-13)
    module.eval()
    np.testing.assert_allclose(module(x)[0].data, layers[1](first)[0].data, rtol=1e-13)


def test_gradcheck_through_dropout_with_a_fixed_mask():
    tg.manual_seed(0)
    module = nn.LSTM(2, 3, num_layers=2, dropout=0.5, dtype=np.float64)  # masks from the default generator
    x = tg.Tensor(np.random.default_rng(1).standard_normal((3, 2, 2)), requires_grad=True)

    def run(x, *parameters):
        tg.manual_seed(5)  # the same mask at every evaluation
        return module(x)[0]

    assert tg.gradcheck(run, [x, *module.parameters()])


def test_dropout_arguments():
    with pytest.warns(UserWarning, match=r"GRU: dropout=0.2 does nothing with num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)
    with pytest.raises(ValueError, match=r"LSTM: dropout must be in \[0, 1\], got 1.5"):
        nn.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(TypeError, match=r"RNN: dropout must be a number in \[0, 1\], got '0.1'"):
        nn.RNN(3, 4, num_layers=2, dropout="0.1")


# -- PyTorch -----------------------------------------------------------------------------------
@given(sequence_cases())
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    kind, module, x, h0, c0, with_state = case
    torch_class = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM,
                   "gru": torch.nn.GRU}[kind]
    extras = {**KINDS[kind][3], **({"proj_size": module.proj_size} if module.proj_size else {})}
    reference = torch_class(module.input_size, module.hidden_size, num_layers=module.num_layers,
                            bias=module.bias, batch_first=module.batch_first,
                            bidirectional=module.bidirectional, dtype=torch.float64, **extras)
    assert list(reference.state_dict()) == list(module.state_dict())  # same names, same order
    reference.load_state_dict({name: torch.tensor(value) for name, value in module.state_dict().items()})
    torch_x = torch.tensor(x, requires_grad=True)
    torch_state = [torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)][
        :2 if kind == "lstm" else 1]
    torch_hx = (tuple(torch_state) if kind == "lstm" else torch_state[0]) if with_state else None
    torch_output, torch_final = reference(torch_x, torch_hx)
    torch_final = tuple(torch_final) if kind == "lstm" else (torch_final,)

    ours_x = tg.Tensor(x, requires_grad=True)
    ours_state = [tg.Tensor(s.detach().numpy(), requires_grad=True) for s in torch_state]
    ours_hx = (tuple(ours_state) if kind == "lstm" else ours_state[0]) if with_state else None
    output, final = module(ours_x, ours_hx)
    final = _flat_state(kind, final)

    rng = np.random.default_rng(0)
    seeds = [rng.standard_normal(t.shape) for t in (torch_output, *torch_final)]
    torch.autograd.backward([torch_output, *torch_final], [torch.tensor(s) for s in seeds])
    total = (output * seeds[0]).sum()
    for s, seed in zip(final, seeds[1:]):
        total = total + (s * seed).sum()
    total.backward()

    np.testing.assert_allclose(output.data, torch_output.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(final, torch_final):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad, torch_x.grad.numpy(), rtol=1e-9, atol=1e-12)
    if with_state:
        for ours, theirs in zip(ours_state, torch_state):
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    theirs = dict(reference.named_parameters())
    for name, parameter in module.named_parameters():
        np.testing.assert_allclose(parameter.grad, theirs[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("kind", list(KINDS))
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    _, cell_class, _, extras = KINDS[kind]
    cell = cell_class(3, 4, dtype=np.float64, rng=np.random.default_rng(0), **extras)
    torch_class = {"rnn_tanh": torch.nn.RNNCell, "rnn_relu": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell,
                   "gru": torch.nn.GRUCell}[kind]
    reference = torch_class(3, 4, dtype=torch.float64, **extras)
    reference.load_state_dict({name: torch.tensor(value) for name, value in cell.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3))
    ours = cell(tg.Tensor(x))
    theirs = reference(torch.tensor(x))
    for a, b in zip(ours if kind == "lstm" else (ours,), theirs if kind == "lstm" else (theirs,)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)


# -- errors ------------------------------------------------------------------------------------
@pytest.fixture
def lstm():
    return nn.LSTM(3, 4, num_layers=2)


def test_wrong_rank_names_module_and_shapes(lstm):
    with pytest.raises(ValueError, match=r"LSTM: expected input of shape \(T, B, 3\).*"
                                         r"got shape \(2, 2, 2, 3\)"):
        lstm(tg.zeros(2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"GRU: expected input of shape \(B, T, 3\)"):
        nn.GRU(3, 4, batch_first=True)(tg.zeros(3))


def test_wrong_feature_size(lstm):
    with pytest.raises(ValueError, match=r"LSTM: expected input of shape \(T, B, 3\).*3 features.*"
                                         r"\(5, 2, 4\)"):
        lstm(tg.zeros(5, 2, 4))


@pytest.mark.parametrize("name", ["weight_hh_l1", "weight_ih_l0", "bias_hh_l1"])
def test_a_replaced_parameter_of_another_shape_is_named(lstm, name):
    """The time steps skip addmm's checks, so the layer checks its parameters instead."""
    shape = getattr(lstm, name).shape
    setattr(lstm, name, nn.Parameter(np.zeros((shape[0] + 1, *shape[1:]), dtype=np.float32)))
    with pytest.raises(ValueError, match=rf"LSTM: {name} has shape \({shape[0] + 1},"):
        lstm(tg.zeros(5, 2, 3))


@pytest.mark.parametrize("name", ["bias_ih_l0", "bias_hh_l1"])
def test_a_bias_set_to_none_is_named(lstm, name):
    setattr(lstm, name, None)
    with pytest.raises(ValueError, match=rf"LSTM: {name} is missing or None \(the module was built with "
                                         r"bias=True\); expected a Parameter of shape \(16,\)"):
        lstm(tg.zeros(5, 2, 3))


def test_a_replaced_cell_parameter_of_another_dtype_is_named():
    cell = nn.GRUCell(3, 4)
    cell.weight_ih = nn.Parameter(np.zeros((12, 3)))
    with pytest.raises(ValueError, match=r"GRUCell: weight_ih has shape \(12, 3\) and dtype float64, "
                                         r"expected shape \(12, 3\) and dtype float32"):
        cell(tg.zeros(2, 3))


def test_mismatched_initial_state(lstm):
    h = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"LSTM: expected h0 of shape \(2, 2, 4\) \(num_layers, batch, "
                                         r"hidden_size\), got shape \(2, 3, 4\)"):
        lstm(tg.zeros(5, 2, 3), (h, tg.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: expected c0 of shape \(2, 2, 4\).*got shape \(1, 2, 4\)"):
        lstm(tg.zeros(5, 2, 3), (tg.zeros(2, 2, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: expected the state to be a tuple \(h0, c0\)"):
        lstm(tg.zeros(5, 2, 3), tg.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"RNN: expected h0 to be one tensor of shape \(1, 2, 4\)"):
        nn.RNN(3, 4)(tg.zeros(5, 2, 3), (tg.zeros(1, 2, 4),))
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(1, 4\) \(num_layers, hidden_size\) "
                                         r"for unbatched input, got shape \(1, 1, 4\)"):
        nn.GRU(3, 4)(tg.zeros(5, 3), tg.zeros(1, 1, 4))  # unbatched input wants (L, H)
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(4, 2, 4\) \(2 \* num_layers, batch, "
                                         r"hidden_size\), got shape \(2, 2, 4\)"):
        nn.GRU(3, 4, num_layers=2, bidirectional=True)(tg.zeros(5, 2, 3), tg.zeros(2, 2, 4))
    projected = nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=r"LSTM: expected h0 of shape \(1, 2, 2\) \(num_layers, batch, "
                                         r"proj_size\), got shape \(1, 2, 4\)"):
        projected(tg.zeros(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: expected the state to be a tuple \(h0, c0\) of tensors of "
                                         r"shapes \(1, 2, 2\) and \(1, 2, 4\)"):
        projected(tg.zeros(5, 2, 3), tg.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"LSTM: proj_size must be in \[0, hidden_size\) = \[0, 4\), got 4"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(TypeError, match=r"LSTM: proj_size must be an int, got 1.5"):
        nn.LSTM(3, 4, proj_size=1.5)


def test_non_float_input_and_dtype_mismatch(lstm):
    with pytest.raises(ValueError, match=r"LSTM: input must be floating point, got dtype int64.*"
                                         r"forward_tokens"):
        lstm(np.zeros((5, 2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"LSTM: input dtype float64 does not match the parameters' dtype "
                                         r"float32.*\.to\('float64'\).*\.astype\('float32'\)"):
        lstm(tg.zeros(5, 2, 3, dtype="float64"))
    with pytest.raises(ValueError, match=r"LSTM: h0 has dtype float64 but the parameters have dtype float32; "
                                         r"convert the model with \.to\('float64'\) or convert the state"):
        lstm(tg.zeros(5, 2, 3), (tg.zeros(2, 2, 4, dtype="float64"), tg.zeros(2, 2, 4)))
    integer_state = np.zeros((2, 2, 4), dtype=np.int64)  # .to() takes float dtypes only: no such hint
    with pytest.raises(ValueError, match=r"LSTM: c0 has dtype int64 but the parameters have dtype float32; "
                                         r"convert the state with \.astype\('float32'\)$"):
        lstm(tg.zeros(5, 2, 3), (tg.zeros(2, 2, 4), integer_state))


def test_bad_tokens():
    rnn = nn.RNN(5, 4)
    with pytest.raises(ValueError, match=r"RNN: tokens must be integers, got dtype float64"):
        rnn.forward_tokens(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"RNN: tokens must lie in \[0, 5\), got out-of-range values "
                                         r"\[-1, 5, 9\]"):
        rnn.forward_tokens(np.array([[0, 5], [9, -1], [5, 2]]))
    with pytest.raises(ValueError, match=r"RNN: expected tokens of shape \(T, B\) or \(T,\) unbatched, got "
                                         r"shape \(1, 2, 3\)"):
        rnn.forward_tokens(np.zeros((1, 2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"^RNN: tokens must be an array of integers, got a ragged list$"):
        rnn.forward_tokens([[0, 1], [2]])  # NumPy's "inhomogeneous shape" error came out bare


def test_empty_sequence_and_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"RNN: the sequence is empty"):
        nn.RNN(3, 4)(tg.zeros(0, 2, 3))
    with pytest.raises(ValueError, match=r"RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"GRU: hidden_size must be at least 1, got 0"):
        nn.GRU(3, 0)
    with pytest.raises(TypeError, match=r"LSTMCell: parameters must have a floating-point dtype, got int32"):
        nn.LSTMCell(3, 4, dtype=np.int32)


def test_cell_errors():
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"GRUCell: expected input of shape \(B, 3\) or \(3,\).*\(1, 2, 3\)"):
        cell(tg.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"GRUCell: expected hx of shape \(2, 4\) \(batch, hidden_size\), "
                                         r"got shape \(3, 4\)"):
        cell(tg.zeros(2, 3), tg.zeros(3, 4))
    with pytest.raises(ValueError, match=r"LSTMCell: expected the state to be a tuple \(h, c\)"):
        nn.LSTMCell(3, 4)(tg.zeros(2, 3), tg.zeros(2, 4))


def test_repr():
    assert repr(nn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True)) == (
        "RNN(3, 4, num_layers=2, batch_first=True, nonlinearity='relu')")
    assert repr(nn.LSTM(3, 4, bias=False, dtype="float64")) == "LSTM(3, 4, bias=False, dtype=float64)"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"
    assert repr(nn.GRU(3, 4, num_layers=2, dropout=0.25, bidirectional=True)) == (
        "GRU(3, 4, num_layers=2, dropout=0.25, bidirectional=True)")

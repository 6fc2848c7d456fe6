"""nn.utils.rnn's packed sequences: packing against a loop written here, recurrent layers on
packed input against each sequence run alone, finite differences, torch, and the errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

batches = st.lists(st.integers(1, 5), min_size=1, max_size=4)


def packed_by_hand(padded, lengths, batch_first):
    """The rows of every sequence's step t, for t = 0, 1, ..., the longest sequence first."""
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])  # stable, as the library
    rows = []
    for t in range(max(lengths)):
        rows += [padded[b, t] if batch_first else padded[t, b] for b in order if lengths[b] > t]
    return np.stack(rows), order


@given(lengths=batches, batch_first=st.booleans(), extra=st.integers(0, 2), seed=st.integers(0, 99))
def test_pack_then_pad_is_the_loop_and_gives_each_step_its_gradient(lengths, batch_first, extra, seed):
    rng = np.random.default_rng(seed)
    steps = max(lengths) + extra  # the padded input may be longer than its longest sequence
    shape = (len(lengths), steps, 2) if batch_first else (steps, len(lengths), 2)
    padded = tg.Tensor(rng.normal(size=shape), requires_grad=True)
    packed = pack_padded_sequence(padded, lengths, batch_first=batch_first, enforce_sorted=False)
    expected, order = packed_by_hand(padded.data, lengths, batch_first)
    np.testing.assert_array_equal(packed.data.data, expected)
    assert packed.batch_sizes.tolist() == [sum(n > t for n in lengths) for t in range(max(lengths))]
    assert packed.sorted_indices.tolist() == order
    assert packed.unsorted_indices.tolist() == np.argsort(order).tolist()
    back, back_lengths = pad_packed_sequence(packed, batch_first=batch_first, padding_value=-3.0,
                                             total_length=steps)
    assert back_lengths.tolist() == lengths and back.shape == padded.shape
    for b, length in enumerate(lengths):
        real = (b, slice(0, length)) if batch_first else (slice(0, length), b)
        pad = (b, slice(length, None)) if batch_first else (slice(length, None), b)
        np.testing.assert_array_equal(back.data[real], padded.data[real])
        assert np.all(back.data[pad] == -3.0)
    upstream = rng.normal(size=back.shape)
    back.backward(upstream)
    mask = np.zeros(shape)
    for b, length in enumerate(lengths):
        mask[(b, slice(0, length)) if batch_first else (slice(0, length), b)] = 1
    np.testing.assert_array_equal(padded.grad, upstream * mask)  # padding gets no gradient


def test_pack_sequence_of_tokens_and_the_sorted_case():
    packed = pack_sequence([np.array([1, 2, 3]), np.array([4, 5]), np.array([6])])
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3] and packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1)
    assert padded.tolist() == [[1, 2, 3], [4, 5, -1], [6, -1, -1]] and lengths.dtype == np.int64


def module_pair(kind, layers, bidirectional, seed):
    options = {"proj_size": 2} if kind == "LSTMP" else {}
    cls = nn.LSTM if kind == "LSTMP" else getattr(nn, kind)
    return cls(3, 4, num_layers=layers, bidirectional=bidirectional, dtype="float64",
               rng=np.random.default_rng(seed), **options)


def initial_state(module, batch, rng):
    count = module.num_layers * (2 if module.bidirectional else 1)
    h0 = tg.Tensor(rng.normal(size=(count, batch, module.proj_size or module.hidden_size)))
    if isinstance(module, nn.LSTM):
        return h0, tg.Tensor(rng.normal(size=(count, batch, module.hidden_size)))
    return h0


def states(final):
    return final if isinstance(final, tuple) else (final,)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU", "LSTMP"])
@given(lengths=batches, layers=st.integers(1, 2), bidirectional=st.booleans(), seed=st.integers(0, 99))
def test_a_packed_batch_runs_each_sequence_for_its_own_length(kind, lengths, layers, bidirectional, seed):
    """The packed run equals each sequence run alone, unpadded, from its own initial state."""
    rng = np.random.default_rng(seed)
    module = module_pair(kind, layers, bidirectional, seed)
    padded = rng.normal(size=(max(lengths), len(lengths), 3))
    hx = initial_state(module, len(lengths), rng)
    output, final = module(pack_padded_sequence(tg.Tensor(padded), lengths, enforce_sorted=False), hx)
    assert isinstance(output, PackedSequence)
    output, _ = pad_packed_sequence(output)
    for b, length in enumerate(lengths):
        alone_hx = tuple(s[:, b:b + 1] for s in states(hx))
        alone_out, alone_final = module(tg.Tensor(padded[:length, b:b + 1]),
                                        alone_hx if len(alone_hx) == 2 else alone_hx[0])
        np.testing.assert_allclose(output.data[:length, b], alone_out.data[:, 0], rtol=1e-12, atol=1e-14)
        assert np.all(output.data[length:, b] == 0)
        for ours, alone in zip(states(final), states(alone_final)):
            np.testing.assert_allclose(ours.data[:, b], alone.data[:, 0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@given(lengths=st.lists(st.integers(1, 3), min_size=2, max_size=3), seed=st.integers(0, 99))
def test_packed_gradients_pass_gradcheck(kind, lengths, seed):
    rng = np.random.default_rng(seed)
    module = module_pair(kind, 1, True, seed)
    padded = tg.Tensor(rng.normal(size=(len(lengths), max(lengths), 3)), requires_grad=True)
    h0 = tg.Tensor(rng.normal(size=(2, len(lengths), 4)), requires_grad=True)

    def run(x, h, *weights):
        hx = (h, h * 0.5) if kind == "LSTM" else h
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, final = module(packed, hx)
        return output.data, *states(final)

    assert tg.gradcheck(run, [padded, h0, *module.parameters()])


def test_packed_tokens_equal_packed_one_hot_vectors():
    module = nn.GRU(5, 3, dtype="float64", rng=np.random.default_rng(0))
    tokens = [np.array([1, 4, 2]), np.array([3]), np.array([0, 2])]
    by_tokens, h_tokens = module.forward_tokens(pack_sequence(tokens, enforce_sorted=False))
    one_hot = [tg.Tensor(np.eye(5)[sequence]) for sequence in tokens]
    by_vectors, h_vectors = module(pack_sequence(one_hot, enforce_sorted=False))
    np.testing.assert_allclose(by_tokens.data.data, by_vectors.data.data, rtol=1e-13)
    np.testing.assert_allclose(h_tokens.data, h_vectors.data, rtol=1e-13)
    assert by_tokens.batch_sizes.tolist() == [3, 2, 1] and by_tokens.sorted_indices.tolist() == [0, 2, 1]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: pack_padded_sequence(np.zeros((3, 2)), [3, 4]), ValueError,
         r"pack_padded_sequence: every length must lie in \[1, 3\] .* got \[3, 4\]"),
        (lambda: pack_padded_sequence(np.zeros((3, 2)), [3, 0]), ValueError, r"must lie in \[1, 3\]"),
        (lambda: pack_padded_sequence(np.zeros((3, 2)), [1, 3]), ValueError,
         r"lengths must not increase when enforce_sorted=True, got \[1, 3\]; pass enforce_sorted=False"),
        (lambda: pack_padded_sequence(np.zeros((3, 2)), [3]), ValueError,
         r"got 1 lengths for a batch of 2 sequences"),
        (lambda: pack_padded_sequence(np.zeros((3, 2)), [2.0, 1.0]), TypeError,
         r"lengths must be a 1-D sequence of ints, got dtype float64"),
        (lambda: pack_padded_sequence(np.zeros(3), [3]), ValueError,
         r"expected input of shape \(T, B, \*\), got shape \(3,\)"),
        (lambda: pack_padded_sequence([[1, 2]], [1, 1]), TypeError,
         r"expected a Tensor or a NumPy array, got list"),
        (lambda: pad_packed_sequence(pack_sequence([np.ones(3)]), total_length=2), ValueError,
         r"pad_packed_sequence: total_length 2 is less than the longest sequence's 3 steps"),
        (lambda: pad_packed_sequence(pack_sequence([np.arange(3)]), padding_value=0.5), ValueError,
         r"padding_value 0\.5 cannot be held by the sequences' dtype int64"),
        (lambda: pad_packed_sequence(np.ones(3)), TypeError, r"expected a PackedSequence, got ndarray"),
        (lambda: pad_packed_sequence(PackedSequence(np.ones(4), np.array([2, 3]))), ValueError,
         r"batch_sizes must be a non-empty 1-D array of positive ints that never grows, got \[2, 3\]"),
        (lambda: pad_packed_sequence(PackedSequence(np.ones(4), np.array([2, 1]))), ValueError,
         r"the packed data must have batch_sizes.sum\(\) = 3 rows, got \(4,\)"),
        (lambda: nn.RNN(3, 2)(PackedSequence(tg.zeros(3, 2), np.array([2, 1]))), ValueError,
         r"RNN: expected input of shape \(N, 3\) packed"),
        (lambda: nn.RNN(3, 2).forward_tokens(PackedSequence(np.array([0, 5, 1]), np.array([2, 1]))),
         ValueError, r"RNN: tokens must lie in \[0, 3\), got out-of-range values \[5\]"),
        (lambda: nn.GRU(3, 2)(pack_sequence([tg.zeros(2, 3)]), tg.zeros(1, 2, 2)), ValueError,
         r"GRU: expected h0 of shape \(1, 1, 2\)"),
    ],
)
def test_bad_packing_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_input_matches_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype="float64", rng=rng)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        for name, parameter in ours.named_parameters():
            getattr(theirs, name).copy_(torch.from_numpy(parameter.data))
    lengths = [2, 5, 1, 5]
    padded = rng.normal(size=(5, 4, 3))
    x, x_torch = tg.Tensor(padded, requires_grad=True), torch.tensor(padded, requires_grad=True)
    output, final = ours(pack_padded_sequence(x, lengths, enforce_sorted=False))
    output_torch, final_torch = theirs(torch.nn.utils.rnn.pack_padded_sequence(
        x_torch, torch.tensor(lengths), enforce_sorted=False))
    np.testing.assert_array_equal(output.batch_sizes, output_torch.batch_sizes.numpy())
    np.testing.assert_array_equal(output.sorted_indices, output_torch.sorted_indices.numpy())
    padded_out, _ = pad_packed_sequence(output, batch_first=True)
    padded_torch, _ = torch.nn.utils.rnn.pad_packed_sequence(output_torch, batch_first=True)
    np.testing.assert_allclose(padded_out.data, padded_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    for ours_state, torch_state in zip(states(final), final_torch if kind == "LSTM" else (final_torch,)):
        np.testing.assert_allclose(ours_state.data, torch_state.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = rng.normal(size=padded_out.shape)
    (padded_out * tg.Tensor(upstream)).sum().backward()
    (padded_torch * torch.from_numpy(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), rtol=1e-11, atol=1e-14)
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad, getattr(theirs, name).grad.numpy(), rtol=1e-11, atol=1e-13)


def test_pad_sequence_is_there_under_both_paths():
    from tinygrad_rnn.nn import utils

    assert utils.pad_sequence is pad_sequence is nn.pad_sequence
    assert utils.pack_padded_sequence is pack_padded_sequence


def test_a_total_length_no_array_can_hold_is_refused_by_name():
    """Before, NumPy's unnamed "Maximum allowed dimension exceeded"."""
    packed = pack_sequence([tg.zeros(2, 3), tg.zeros(1, 3)])
    with pytest.raises(ValueError, match="^pad_packed_sequence: total_length 10{30} makes a padded batch "
                                         "larger than an array can be"):
        pad_packed_sequence(packed, total_length=10**30)
    assert pad_packed_sequence(packed, total_length=4)[0].shape == (4, 2, 3)

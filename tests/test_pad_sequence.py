"""nn.utils.pad_sequence against a padding loop written here, against torch, and its errors."""

import numpy as np
import pytest
from helpers import shapes
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import functional
from tinygrad_rnn.nn.utils import pad_sequence


def padded_by_hand(arrays, batch_first, value, side):
    longest = max(len(array) for array in arrays)
    rows = []
    for array in arrays:
        fill = np.full((longest - len(array), *array.shape[1:]), value, dtype=array.dtype)
        rows.append(np.concatenate([fill, array] if side == "left" else [array, fill]))
    batch = np.stack(rows)
    return batch if batch_first else np.swapaxes(batch, 0, 1)


settings = st.tuples(st.booleans(), st.sampled_from([0.0, -1.0, 7.0]), st.sampled_from(["right", "left"]))


@given(lengths=st.lists(st.integers(0, 4), min_size=1, max_size=4), trailing=shapes(max_dims=2),
       setting=settings, seed=st.integers(0, 99))
def test_float_sequences_match_the_loop_and_each_gets_its_own_gradient(lengths, trailing, setting, seed):
    batch_first, value, side = setting
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(length, *trailing)) for length in lengths]
    tensors = [tg.Tensor(array, requires_grad=True) for array in arrays]
    out = pad_sequence(tensors, batch_first=batch_first, padding_value=value, padding_side=side)
    expected = padded_by_hand(arrays, batch_first, value, side)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, expected)
    upstream = rng.normal(size=expected.shape)
    out.backward(upstream)
    # The gradient of sequence i is the upstream gradient at the entries it filled.
    markers = padded_by_hand([np.full(array.shape, index) for index, array in enumerate(arrays)],
                             batch_first, -1, side)
    for index, (tensor, array) in enumerate(zip(tensors, arrays)):
        np.testing.assert_array_equal(tensor.grad.ravel(), upstream[markers == index])
        assert tensor.grad.shape == array.shape
    assert tg.gradcheck(lambda *xs: pad_sequence(list(xs), batch_first=batch_first, padding_side=side),
                        tensors)


@given(lengths=st.lists(st.integers(0, 5), min_size=1, max_size=5), setting=settings)
def test_token_ids_keep_their_integer_dtype(lengths, setting):
    batch_first, value, side = setting
    arrays = [np.arange(length, dtype=np.int64) + 10 * index for index, length in enumerate(lengths)]
    out = pad_sequence(arrays, batch_first=batch_first, padding_value=int(value), padding_side=side)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, padded_by_hand(arrays, batch_first, int(value), side))


def test_padded_targets_with_ignore_index_add_nothing_to_the_loss():
    logits = tg.randn(2, 3, 4, rng=np.random.default_rng(0))
    targets = pad_sequence([np.array([1, 2, 3]), np.array([0])], batch_first=True, padding_value=-100)
    loss = functional.cross_entropy(logits, targets.numpy(), ignore_index=-100)
    picked = [logits[0, 0], logits[0, 1], logits[0, 2], logits[1, 0]]
    expected = np.mean([-tg.ops.log_softmax(row).data[target]
                        for row, target in zip(picked, [1, 2, 3, 0])])
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)


@given(lengths=st.lists(st.integers(0, 4), min_size=1, max_size=4), setting=settings)
def test_matches_torch(lengths, setting):
    torch = pytest.importorskip("torch")
    batch_first, value, side = setting
    rng = np.random.default_rng(len(lengths))
    arrays = [rng.normal(size=(length, 2)).astype(np.float32) for length in lengths]
    ours = pad_sequence(arrays, batch_first=batch_first, padding_value=value, padding_side=side)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(a) for a in arrays], batch_first=batch_first,
                                             padding_value=value, padding_side=side)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: pad_sequence([]), ValueError, r"pad_sequence: got no sequences"),
    (lambda: pad_sequence(tg.zeros(2, 3)), TypeError,
     r"pad_sequence: expected a list of Tensors or arrays, got Tensor"),
    (lambda: pad_sequence([tg.zeros(2), [1.0]]), TypeError,
     r"pad_sequence: sequences\[1\] is a list, not a Tensor"),
    (lambda: pad_sequence([tg.zeros(2), tg.zeros(())]), ValueError, r"pad_sequence: sequences\[1\] is 0-d"),
    (lambda: pad_sequence([tg.zeros(2, 2), tg.zeros(3, 3)]), ValueError,
     r"share their shape after the first axis, got shapes \[\(2, 2\), \(3, 3\)\]"),
    (lambda: pad_sequence([np.zeros(2, np.int64), np.zeros(3)]), TypeError,
     r"share one dtype, got \['int64', 'float64'\]"),
    (lambda: pad_sequence([np.zeros(2, np.int64)], padding_value=0.5), ValueError,
     r"padding_value 0\.5 cannot be held by the sequences' dtype int64"),
    (lambda: pad_sequence([np.zeros(2, np.int8)], padding_value=300), ValueError, r"dtype int8"),
    (lambda: pad_sequence([np.zeros(2, np.int64)], padding_value=2**70), ValueError,  # was an OverflowError
     r"padding_value 1180591620717411303424 cannot be held by the sequences' dtype int64"),
    (lambda: pad_sequence([np.zeros(2, np.float16)], padding_value=1e10), ValueError,
     r"padding_value 10000000000\.0 cannot be held by the sequences' dtype float16"),
    (lambda: pad_sequence([tg.zeros(2, requires_grad=True)], padding_value=-1e40), ValueError,
     r"dtype float32"),
    (lambda: pad_sequence([tg.zeros(2)], padding_value="0"), TypeError, r"padding_value must be a number"),
    (lambda: pad_sequence([tg.zeros(2)], padding_side="middle"), ValueError,
     r"padding_side must be 'left' or 'right', got 'middle'"),
    (lambda: pad_sequence([np.array(["a"])]), TypeError, r"pad_sequence: sequences\[0\]: "),
])
def test_bad_input_is_refused_with_the_names(call, error, message):
    with pytest.raises(error, match=message):
        call()

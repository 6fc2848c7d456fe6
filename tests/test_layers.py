"""Linear and Embedding: values, gradients, PyTorch's initialisation, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn

leading_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


@given(leading_shapes, st.integers(1, 4), st.integers(1, 4), st.booleans(), st.integers(0, 2**32 - 1))
def test_linear_values_and_gradcheck(leading, in_features, out_features, bias, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(in_features, out_features, bias=bias, dtype=np.float64, rng=rng)
    x = tg.Tensor(rng.standard_normal(leading + (in_features,)), requires_grad=True)
    y = layer(x)
    expected = x.data @ layer.weight.data.T + (layer.bias.data if bias else 0)
    assert y.shape == leading + (out_features,)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-14)
    names, parameters = zip(*layer.named_parameters())
    assert names == (("weight", "bias") if bias else ("weight",))
    assert tg.gradcheck(lambda x, *_: layer(x), [x, *parameters], names=["x", *names])


def test_linear_init_is_pytorch_uniform_and_seeded():
    tg.manual_seed(0)
    layer = nn.Linear(16, 300)
    bound = 1 / 4
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.all(np.abs(p.data) <= bound)
        # uniform(−b, b) has standard deviation b / √3
        assert abs(p.data.std() - bound / np.sqrt(3)) < 0.02
    tg.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(16, 300).weight.data, layer.weight.data)
    other = nn.Linear(16, 300, rng=np.random.default_rng(1))
    assert not np.array_equal(other.weight.data, layer.weight.data)


def test_linear_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(\.\.\., 3\).*"
                                         r"got shape \(4, 2\)"):
        layer(tg.zeros(4, 2))
    with pytest.raises(ValueError, match=r"Linear: input must be floating point, got dtype int64"):
        layer(np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"Linear: input dtype float64 does not match the parameters' dtype "
                                         r"float32; convert the model with \.to\('float64'\)"):
        layer(tg.zeros(4, 3, dtype="float64"))
    with pytest.raises(TypeError, match=r"Linear: expected a Tensor or a NumPy array"):
        layer([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"Linear: in_features must be at least 1, got 0"):
        nn.Linear(0, 2)


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple), st.integers(1, 5), st.integers(1, 3),
       st.data())
def test_embedding_equals_one_hot_product(leading, num, dim, data):
    table = nn.Embedding(num, dim, dtype=np.float64, rng=np.random.default_rng(0))
    count = int(np.prod(leading, dtype=int))
    ids = np.array(data.draw(st.lists(st.integers(0, num - 1), min_size=count, max_size=count)),
                   dtype=np.int64).reshape(leading)
    out = table(ids)
    one_hot = np.eye(num)[ids]
    assert out.shape == leading + (dim,)
    np.testing.assert_allclose(out.data, one_hot @ table.weight.data, rtol=1e-14)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    # Repeated ids add up: the gradient is one_hot^T @ upstream.
    expected = one_hot.reshape(-1, num).T @ upstream.reshape(-1, dim)
    np.testing.assert_allclose(table.weight.grad, expected, rtol=1e-12, atol=1e-14)
    assert tg.gradcheck(lambda w: table(ids), [table.weight], names=["weight"])


def test_embedding_takes_tensors_and_is_standard_normal():
    tg.manual_seed(0)
    table = nn.Embedding(1000, 40)
    assert table.weight.dtype == np.float32
    assert abs(table.weight.data.mean()) < 0.02 and abs(table.weight.data.std() - 1) < 0.02
    np.testing.assert_array_equal(table(tg.Tensor(np.array([3, 1]))).data, table.weight.data[[3, 1]])
    assert repr(table) == "Embedding(1000, 40)"


def test_embedding_errors():
    table = nn.Embedding(4, 2)
    with pytest.raises(ValueError, match=r"Embedding: ids must lie in \[0, 4\), got out-of-range values "
                                         r"\[-2, 4, 7\]"):
        table(np.array([[0, 4], [7, -2]]))
    with pytest.raises(IndexError, match=r"Embedding: ids must lie in \[0, 4\)"):  # PyTorch's error type
        table([4])
    with pytest.raises(ValueError, match=r"Embedding: ids must be integers, got dtype float64"):
        table(np.array([0.0, 1.0]))


def test_linear_matches_torch():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 2, dtype=np.float64, rng=np.random.default_rng(0))
    reference = torch.nn.Linear(3, 2, dtype=torch.float64)
    reference.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((4, 5, 3))
    np.testing.assert_allclose(layer(tg.Tensor(x)).data, reference(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


# -- Dropout ---------------------------------------------------------------------------------
def test_dropout_module_drops_in_training_and_passes_through_in_eval():
    drop = nn.Dropout(0.5, rng=np.random.default_rng(0))
    x = tg.ones(1000)
    out = drop(x)
    assert set(np.unique(out.data).tolist()) == {0.0, 2.0} and 400 < (out.data == 0).sum() < 600
    assert drop.eval()(x) is x
    assert drop.train()(x) is not x
    assert repr(drop) == "Dropout(p=0.5)" and dict(drop.state_dict()) == {}


def test_dropout_module_with_its_own_generator_ignores_manual_seed():
    a, b = nn.Dropout(0.5, rng=np.random.default_rng(4)), nn.Dropout(0.5, rng=np.random.default_rng(4))
    tg.manual_seed(1)
    first = a(tg.ones(64)).data
    tg.manual_seed(2)
    np.testing.assert_array_equal(b(tg.ones(64)).data, first)


def test_dropout_module_bad_arguments():
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 2"):
        nn.Dropout(2)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or None, got int"):
        nn.Dropout(0.5, rng=3)

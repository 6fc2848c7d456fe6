"""Linear, Embedding, Dropout, LayerNorm and the activation modules: values, gradients,
PyTorch's initialisation and names, errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import arrays, check_vjp, shapes
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import functional, nn, optim
from tinygrad_rnn.nn.layers import Identity, LayerNorm, ReLU, Sigmoid, Tanh

leading_shapes = shapes(max_dims=2)  # none (a single sample), size-1 and empty axes


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


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(10**30, 2), r"^Linear: in_features = 10{30} is larger than an array axis can be"),
    (lambda: nn.Embedding(2, 2**63), r"^Embedding: embedding_dim = 9223372036854775808 is larger"),
    (lambda: nn.GRU(3, 10**19), r"^GRU: hidden_size = 10{19} is larger than an array axis can be"),
])
def test_a_size_no_array_can_have_is_refused_by_name(make, message):
    """Before, NumPy's own "Maximum allowed dimension exceeded", naming no layer or argument."""
    with pytest.raises(ValueError, match=message):
        make()


@given(st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple), st.integers(1, 5), st.integers(1, 3),
       st.data())
def test_embedding_equals_one_hot_product(leading, num, dim, data):
    """Over 0-d, empty and repeated ids, with or without a padding row (a negative index too)."""
    padding_idx = data.draw(st.none() | st.integers(-num, num - 1), label="padding_idx")
    table = nn.Embedding(num, dim, padding_idx, dtype=np.float64, rng=np.random.default_rng(0))
    if padding_idx is not None:
        np.testing.assert_array_equal(table.weight.data[padding_idx], 0.0)  # starts at zeros
        table.weight.data[padding_idx] = 0.5  # and is looked up as it is
    count = int(np.prod(leading, dtype=int))
    ids = np.array(data.draw(st.lists(st.integers(0, num - 1), min_size=count, max_size=count)),
                   dtype=np.int64).reshape(leading)
    out = table(ids)
    one_hot = np.eye(num)[ids]
    assert out.shape == leading + (dim,)
    np.testing.assert_allclose(out.data, one_hot @ table.weight.data, rtol=1e-14)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    # Repeated ids add up: the gradient is one_hot^T @ upstream, with no row for the padding.
    expected = one_hot.reshape(-1, num).T @ upstream.reshape(-1, dim)
    if padding_idx is not None:
        expected[padding_idx] = 0.0
    np.testing.assert_allclose(table.weight.grad, expected, rtol=1e-12, atol=1e-14)
    if padding_idx is None or table.padding_idx not in ids:  # a looked-up padding row has, by
        assert tg.gradcheck(lambda w: table(ids), [table.weight], names=["weight"])  # design, no gradient


def test_embedding_with_padding_idx_matches_torch():
    torch = pytest.importorskip("torch")
    for padding_idx in (0, 3, -2, None):
        ours = nn.Embedding(6, 3, padding_idx, dtype=np.float64, rng=np.random.default_rng(0))
        theirs = torch.nn.Embedding(6, 3, padding_idx, dtype=torch.float64)
        assert repr(ours) == repr(theirs)[:-1] + ", dtype=float64)"
        assert theirs.weight.detach().numpy()[ours.padding_idx or 0].any() == (padding_idx is None)
        theirs.load_state_dict({"weight": torch.tensor(ours.weight.data)})
        ids = np.array([[0, 3, 4, 4], [1, 0, 5, 3]])
        upstream = np.random.default_rng(2).standard_normal((2, 4, 3))
        out = ours(ids)
        out.backward(upstream)
        expected = theirs(torch.tensor(ids))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(out.data, expected.detach().numpy())
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-15)
        functional = tg.functional.embedding(ids, ours.weight, padding_idx)
        reference = torch.nn.functional.embedding(torch.tensor(ids), theirs.weight, padding_idx)
        np.testing.assert_array_equal(functional.data, reference.detach().numpy())


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
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must lie in \[-4, 4\) for 4 embeddings, "
                                         r"got 4"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(TypeError, match=r"Embedding: padding_idx must be an int or None, got 1.0"):
        nn.Embedding(4, 2, padding_idx=1.0)
    with pytest.raises(ValueError, match=r"^Embedding: ids must be an array of integers, got a ragged list$"):
        table([[0, 1], [2]])  # NumPy's "inhomogeneous shape" error came out bare
    weight = tg.Tensor(np.ones((4, 2)), requires_grad=True)
    with pytest.raises(IndexError, match=r"embedding: ids must lie in \[0, 4\) for a weight of shape "
                                         r"\(4, 2\), got values from 0 to 9"):
        tg.functional.embedding([0, 9], weight)
    with pytest.raises(TypeError, match=r"embedding: ids must be integers, got dtype float64 \(shape "):
        tg.functional.embedding([1.0], weight)
    with pytest.raises(ValueError, match=r"embedding: weight must be \(num_embeddings, embedding_dim\), "
                                         r"got shape \(4,\)"):
        tg.functional.embedding([1], tg.Tensor(np.ones(4)))
    with pytest.raises(TypeError, match=r"embedding: weight must be a Tensor, got ndarray"):
        tg.functional.embedding([1], np.ones((4, 2)))


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


@given(x=shapes().flatmap(arrays), p=st.sampled_from([0.0, 0.3, 1.0]) | st.floats(0.0, 1.0),
       seed=st.integers(0, 2**32 - 1), training=st.booleans(), data=st.data())
def test_dropout_module_vjp_with_a_fixed_mask(x, p, seed, training, data):
    """A module with a fresh generator from ``seed`` at each call draws one mask: its VJP (0-d,
    size-1 and empty inputs too) matches central differences; after eval() it is the identity."""
    def run(t):
        module = nn.Dropout(p, rng=np.random.default_rng(seed))
        return module(t) if training else module.eval()(t)

    [out] = check_vjp(run, [x], data)
    keep = np.random.default_rng(seed).random(x.shape) >= p
    expected = np.where(keep, x / (1 - p) if p < 1 else 0.0, 0.0) if training and p else x
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)


def test_dropout_module_with_its_own_generator_ignores_manual_seed():
    a, b = nn.Dropout(0.5, rng=np.random.default_rng(4)), nn.Dropout(0.5, rng=np.random.default_rng(4))
    tg.manual_seed(1)
    first = a(tg.ones(64)).data
    tg.manual_seed(2)
    np.testing.assert_array_equal(b(tg.ones(64)).data, first)


def test_dropout_module_bad_arguments():
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 2"):
        nn.Dropout(2)
    with pytest.raises(TypeError, match="Dropout: rng must be a numpy.random.Generator or None, got int"):
        nn.Dropout(0.5, rng=3)


@pytest.mark.parametrize(("call", "owner"), [
    (lambda: functional.dropout(tg.ones(2), 0.5, rng=3), "dropout"),
    (lambda: functional.dropout(tg.ones(2), 0.5, training=False, rng=3), "dropout"),  # checked anyway
    (lambda: nn.Linear(2, 2, rng=3), "Linear"),
    (lambda: nn.Embedding(2, 2, rng=3), "Embedding"),
    (lambda: nn.GRU(2, 2, rng=3), "GRU"),
    (lambda: nn.LSTMCell(2, 2, rng=3), "LSTMCell"),
    (lambda: nn.init.orthogonal_(nn.Parameter(np.zeros((2, 2))), generator=3), "orthogonal_"),
])
def test_a_bad_generator_is_named_with_its_owner(call, owner):
    with pytest.raises(TypeError, match=rf"^{owner}: (rng|generator) must be a numpy.random.Generator"):
        call()


# -- LayerNorm -------------------------------------------------------------------------------
normalized_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


def layer_norm_formula(x: np.ndarray, normalized_shape: tuple[int, ...], eps: float, weight, bias):
    """PyTorch's documented LayerNorm in NumPy: biased variance over the last axes."""
    axes = tuple(range(-len(normalized_shape), 0))
    mean = x.mean(axis=axes, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(variance + eps)
    return y * (1.0 if weight is None else weight) + (0.0 if bias is None else bias)


def random_layer_norm(normalized_shape, affine: bool, bias: bool, seed: int, eps: float = 1e-5,
                      as_int: bool = False) -> LayerNorm:
    """A float64 LayerNorm whose parameters are random (ones and zeros would hide mistakes)."""
    shape_argument = normalized_shape[0] if as_int else normalized_shape
    norm = LayerNorm(shape_argument, eps=eps, elementwise_affine=affine, bias=bias, dtype=np.float64)
    rng = np.random.default_rng(seed)
    norm.load_state_dict({name: rng.standard_normal(p.shape) for name, p in norm.named_parameters()})
    return norm


def data_or_none(module: nn.Module, name: str) -> np.ndarray | None:
    parameter = getattr(module, name)
    return None if parameter is None else parameter.data


@given(leading_shapes, normalized_shapes, st.booleans(), st.booleans(), st.booleans(),
       st.sampled_from([1e-5, 1e-3, 0.5]), st.integers(0, 2**32 - 1), st.data())
def test_layer_norm_values_and_gradcheck(leading, normalized_shape, affine, bias, as_int, eps, seed,
                                         data):
    norm = random_layer_norm(normalized_shape, affine, bias, seed, eps,
                             as_int=as_int and len(normalized_shape) == 1)
    assert norm.normalized_shape == normalized_shape
    # drawn values include repeated ones: zero variance, where eps alone keeps the output smooth
    x = tg.Tensor(data.draw(arrays(leading + normalized_shape), label="x"), requires_grad=True)
    y = norm(x)
    names, parameters = zip(*norm.named_parameters()) if affine else ((), ())
    assert names == {(True, True): ("weight", "bias"), (True, False): ("weight",)}.get((affine, bias), ())
    assert y.shape == x.shape and y.dtype == np.float64
    expected = layer_norm_formula(x.data, normalized_shape, eps, *(data_or_none(norm, name)
                                                                   for name in ("weight", "bias")))
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)
    assert tg.gradcheck(lambda x, *_: norm(x), [x, *parameters], names=["x", *names])


@given(leading_shapes, st.lists(st.integers(2, 3), min_size=1, max_size=2).map(tuple),
       st.floats(0.1, 10), st.floats(-5, 5), st.integers(0, 2**32 - 1))
def test_layer_norm_without_eps_ignores_shift_and_scale(leading, normalized_shape, scale, shift, seed):
    norm = LayerNorm(normalized_shape, eps=0, elementwise_affine=False)
    x = np.random.default_rng(seed).standard_normal(leading + normalized_shape)
    np.testing.assert_allclose(norm(x * scale + shift).data, norm(x).data, rtol=1e-6, atol=1e-8)


def test_layer_norm_float32_by_default_and_any_batch():
    norm = LayerNorm((2, 3))
    assert norm.weight.dtype == norm.bias.dtype == np.float32
    np.testing.assert_array_equal(norm.weight.data, np.ones((2, 3)))
    np.testing.assert_array_equal(norm.bias.data, np.zeros((2, 3)))
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    y = norm(x.astype(np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, layer_norm_formula(x, (2, 3), 1e-5, None, None), rtol=1e-5, atol=1e-5)
    assert norm(tg.zeros(2, 3)).shape == (2, 3)  # no leading axes
    assert norm(tg.zeros(0, 2, 3)).shape == (0, 2, 3)  # an empty batch
    plain = LayerNorm(3, elementwise_affine=False)  # no parameters: any float dtype
    assert plain.weight is None and plain.bias is None and dict(plain.state_dict()) == {}
    assert plain(tg.zeros(2, 3, dtype="float64")).dtype == np.float64
    assert plain(tg.zeros(2, 3, dtype="float16")).dtype == np.float16


def test_layer_norm_input_errors():
    norm = LayerNorm((2, 3))
    with pytest.raises(ValueError, match=r"LayerNorm: expected input of shape \(\.\.\., 2, 3\) "
                                         r"\(normalized_shape \(2, 3\) in the last axes\), "
                                         r"got shape \(4, 3, 2\)"):
        norm(tg.zeros(4, 3, 2))
    with pytest.raises(ValueError, match=r"LayerNorm: .*got shape \(3,\)"):
        norm(tg.zeros(3))  # fewer axes than normalized_shape
    with pytest.raises(ValueError, match=r"LayerNorm: input must be floating point, got dtype int64 "
                                         r"\(shape \(2, 3\)\)"):
        norm(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"LayerNorm: input dtype float64 does not match the parameters' "
                                         r"dtype float32; convert the model with \.to\('float64'\)"):
        norm(tg.zeros(2, 3, dtype="float64"))
    with pytest.raises(TypeError, match=r"LayerNorm: expected a Tensor or a NumPy array of shape "
                                        r"\(\.\.\., 2, 3\).*got list"):
        norm([[0.0] * 3] * 2)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"normalized_shape": 0}, ValueError, r"every size must be at least 1, got \(0,\)"),
    ({"normalized_shape": (2, 0)}, ValueError, r"every size must be at least 1, got \(2, 0\)"),
    ({"normalized_shape": ()}, ValueError, r"normalized_shape must hold at least one size.*got \(\)"),
    ({"normalized_shape": 2.5}, TypeError, r"normalized_shape must be an int or a tuple of ints, got 2\.5"),
    ({"normalized_shape": (2, "3")}, TypeError, r"normalized_shape must be .* got \(2, '3'\)"),
    ({"normalized_shape": True}, TypeError, r"normalized_shape must be .* got True"),
    ({"normalized_shape": 3, "eps": -1e-5}, ValueError, r"eps must be a finite number >= 0, got -1e-05"),
    ({"normalized_shape": 3, "eps": float("nan")}, ValueError, r"eps must be a finite number >= 0, got nan"),
    ({"normalized_shape": 3, "eps": "1e-5"}, TypeError, r"eps must be a number, got '1e-5'"),
    ({"normalized_shape": 3, "elementwise_affine": "no"}, TypeError,
     r"elementwise_affine must be a bool, got 'no'"),
    ({"normalized_shape": 3, "bias": 0}, TypeError, r"bias must be a bool, got 0"),
    ({"normalized_shape": 3, "dtype": np.int32}, TypeError,
     r"parameters must have a floating-point dtype, got int32"),
])
def test_layer_norm_bad_arguments(arguments, error, message):
    with pytest.raises(error, match="^LayerNorm: .*" + message):
        LayerNorm(**arguments)


def test_layer_norm_repr_and_conversion():
    assert repr(LayerNorm(8)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(LayerNorm([2, 3], eps=1e-3, elementwise_affine=False)) == (
        "LayerNorm((2, 3), eps=0.001, elementwise_affine=False, bias=False)")
    norm = LayerNorm(4, bias=False, dtype=np.float64)
    assert repr(norm) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False, dtype=float64)"
    assert norm.to(np.float32).weight.dtype == np.float32
    assert norm(tg.zeros(1, 4)).dtype == np.float32


@pytest.mark.parametrize(("affine", "bias"), [(True, True), (True, False), (False, True), (False, False)])
def test_layer_norm_state_dict_and_repr_match_torch(affine, bias):
    torch = pytest.importorskip("torch")
    norm = LayerNorm((2, 3), elementwise_affine=affine, bias=bias)
    reference = torch.nn.LayerNorm((2, 3), elementwise_affine=affine, bias=bias)
    ours, theirs = norm.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    for name, value in ours.items():
        np.testing.assert_array_equal(value, theirs[name].numpy())  # ones and zeros, float32
        assert value.dtype == np.float32
    assert repr(norm) == repr(reference)


@given(leading_shapes, normalized_shapes, st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_layer_norm_matches_torch(leading, normalized_shape, affine, bias, seed):
    torch = pytest.importorskip("torch")
    norm = random_layer_norm(normalized_shape, affine, bias, seed)
    reference = torch.nn.LayerNorm(normalized_shape, elementwise_affine=affine, bias=bias,
                                   dtype=torch.float64)
    reference.load_state_dict({name: torch.tensor(value) for name, value in norm.state_dict().items()})
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(leading + normalized_shape)
    upstream = rng.standard_normal(x.shape)
    ours, theirs = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, expected = norm(ours), reference(theirs)
    np.testing.assert_allclose(y.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-10)
    torch_parameters = dict(reference.named_parameters())
    assert list(torch_parameters) == [name for name, _ in norm.named_parameters()]
    for name, parameter in norm.named_parameters():
        np.testing.assert_allclose(parameter.grad, torch_parameters[name].grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=name)


# -- functional.layer_norm: the module's computation, with weight and bias passed in -------------
@given(leading_shapes, normalized_shapes, st.booleans(), st.booleans(), st.sampled_from([1e-5, 0.5]),
       st.integers(0, 2**32 - 1), st.data())
def test_functional_layer_norm_values_and_gradcheck(leading, normalized_shape, with_weight, with_bias,
                                                    eps, seed, data):
    rng = np.random.default_rng(seed)
    x = tg.Tensor(data.draw(arrays(leading + normalized_shape), label="x"), requires_grad=True)
    weight = tg.Tensor(rng.standard_normal(normalized_shape), requires_grad=True) if with_weight else None
    bias = tg.Tensor(rng.standard_normal(normalized_shape), requires_grad=True) if with_bias else None
    y = functional.layer_norm(x, normalized_shape, weight, bias, eps)
    assert y.shape == x.shape and y.dtype == np.float64
    expected = layer_norm_formula(x.data, normalized_shape, eps, *(None if p is None else p.data
                                                                   for p in (weight, bias)))
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)
    given_parameters = [p for p in (weight, bias) if p is not None]

    def fn(x, *parameters):
        supplied = iter(parameters)
        return functional.layer_norm(x, normalized_shape, *(next(supplied) if p is not None else None
                                                            for p in (weight, bias)), eps=eps)

    assert tg.gradcheck(fn, [x, *given_parameters])


@given(leading_shapes, normalized_shapes, st.booleans(), st.integers(0, 2**32 - 1))
def test_functional_layer_norm_is_the_module(leading, normalized_shape, bias, seed):
    norm = random_layer_norm(normalized_shape, True, bias, seed)
    x = np.random.default_rng(seed + 1).standard_normal(leading + normalized_shape)
    np.testing.assert_array_equal(
        functional.layer_norm(tg.Tensor(x), normalized_shape, norm.weight, norm.bias).data, norm(x).data)
    assert nn.functional.layer_norm is functional.layer_norm


@given(leading_shapes, normalized_shapes, st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_functional_layer_norm_matches_torch(leading, normalized_shape, with_weight, with_bias, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x, upstream = rng.standard_normal((2,) + leading + normalized_shape)
    weight = rng.standard_normal(normalized_shape) if with_weight else None
    bias = rng.standard_normal(normalized_shape) if with_bias else None
    ours = [tg.Tensor(v, requires_grad=True) if v is not None else None for v in (x, weight, bias)]
    theirs = [torch.tensor(v, requires_grad=True) if v is not None else None for v in (x, weight, bias)]
    y = functional.layer_norm(ours[0], normalized_shape, ours[1], ours[2], 1e-3)
    expected = torch.nn.functional.layer_norm(theirs[0], normalized_shape, theirs[1], theirs[2], 1e-3)
    np.testing.assert_allclose(y.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        if mine is not None:
            np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: functional.layer_norm(np.zeros((2, 3)), 3), TypeError, r"input must be a Tensor, got ndarray"),
    (lambda: functional.layer_norm(tg.Tensor(np.zeros((2, 3), dtype=np.int64)), 3), TypeError,
     r"input must have a floating-point dtype, got int64 \(shape \(2, 3\)\)"),
    (lambda: functional.layer_norm(tg.zeros(3, 2), 3), ValueError,
     r"input of shape \(3, 2\) does not end in normalized_shape \(3,\)$"),
    (lambda: functional.layer_norm(tg.zeros(3), (2, 3)), ValueError,
     r"input of shape \(3,\) does not end in normalized_shape \(2, 3\)$"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), 0), ValueError, r".*every size must be at least 1"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), "3"), TypeError, r"normalized_shape must be an int"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), 3, np.ones(3)), TypeError,
     r"weight must be a Tensor or None, got ndarray$"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), 3, None, tg.zeros(2)), ValueError,
     r"bias must have shape \(3,\) and the input's dtype float32, got shape \(2,\) and dtype float32$"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), 3, tg.ones(3, dtype="float64")), ValueError,
     r"weight must have shape \(3,\) and the input's dtype float32, got shape \(3,\) and dtype float64$"),
    (lambda: functional.layer_norm(tg.zeros(2, 3), 3, eps=-1.0), ValueError,
     r"eps must be a finite number >= 0, got -1.0$"),
])
def test_functional_layer_norm_errors_name_the_op(call, error, message):
    with pytest.raises(error, match="^layer_norm: " + message):
        call()


# -- activations -------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [Tanh, Sigmoid, ReLU, Identity])
def test_activation_modules_have_no_parameters_and_want_tensors(module):
    activation = module()
    assert repr(activation) == f"{module.__name__}()" and dict(activation.state_dict()) == {}
    for value in (np.zeros(3), 1.0, [1.0]):
        with pytest.raises(TypeError, match=rf"^{module.__name__}: expected a Tensor, got "
                                            rf"{type(value).__name__}$"):
            activation(value)


@given(x=shapes().flatmap(arrays), data=st.data())
def test_identity_passes_the_gradient_through(x, data):
    [out] = check_vjp(Identity(3), [x], data)
    np.testing.assert_array_equal(out.data, x)


def test_identity_returns_its_input_and_ignores_constructor_arguments():
    x = tg.randn(2, 3, requires_grad=True)
    assert Identity()(x) is x
    assert Identity(54, unused="argument")(x) is x


def test_activation_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    for ours, theirs in [(Tanh(), torch.nn.Tanh()), (Sigmoid(), torch.nn.Sigmoid()),
                         (ReLU(), torch.nn.ReLU()), (Identity(), torch.nn.Identity())]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-12)


# -- Sequential of these layers ------------------------------------------------------------------
def test_sequential_linear_tanh_linear_learns_a_tiny_regression():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 8, rng=rng), Tanh(), nn.Linear(8, 1, rng=rng))
    x = rng.standard_normal((16, 3)).astype(np.float32)
    target = np.sin(x.sum(axis=1, keepdims=True))
    optimizer = optim.SGD(model.parameters(), lr=0.3)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = functional.mse_loss(model(tg.Tensor(x)), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(after < before for before, after in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.5 * losses[0], losses


def test_sequential_with_layer_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, rng=rng), LayerNorm(4, dtype=np.float64),
                          Tanh(), nn.Linear(4, 2, dtype=np.float64, rng=rng), Sigmoid())
    model[1].load_state_dict({"weight": rng.standard_normal(4), "bias": rng.standard_normal(4)})
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.Tanh(),
                                    torch.nn.Linear(4, 2), torch.nn.Sigmoid()).double()
    assert list(model.state_dict()) == list(reference.state_dict())
    reference.load_state_dict({name: torch.tensor(value) for name, value in model.state_dict().items()})
    x = rng.standard_normal((5, 3))
    target = rng.standard_normal((5, 2))
    loss = functional.mse_loss(model(tg.Tensor(x)), target)
    expected = torch.nn.functional.mse_loss(reference(torch.tensor(x)), torch.tensor(target))
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    torch_parameters = dict(reference.named_parameters())
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad, torch_parameters[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_embedding_from_pretrained_copies_the_table_and_freezes_it_as_pytorch():
    table = np.arange(6.0).reshape(3, 2)
    tg.manual_seed(1)
    expected_next = tg.randn(2).data
    tg.manual_seed(1)
    frozen = nn.Embedding.from_pretrained(table, padding_idx=0)
    np.testing.assert_array_equal(tg.randn(2).data, expected_next)  # the default stream untouched
    assert frozen.weight.dtype == np.float64 and not frozen.weight.requires_grad
    assert not np.shares_memory(frozen.weight.data, table)
    np.testing.assert_array_equal(frozen([0, 2]).data, [[0.0, 1.0], [4.0, 5.0]])  # the padding row kept
    trained = nn.Embedding.from_pretrained(tg.Tensor(table, dtype="float32"), freeze=False, padding_idx=1)
    trained([1, 2, 2]).sum().backward()
    np.testing.assert_array_equal(trained.weight.grad, [[0, 0], [0, 0], [2, 2]])  # none for padding_idx
    assert trained.padding_idx == 1 and trained.weight.dtype == np.float32
    for bad, described in [(np.ones(3), r"shape \(3,\) and dtype float64"),
                           (np.ones((2, 2), dtype=np.int64), "dtype int64"), ([[1.0]], "got list")]:
        with pytest.raises(ValueError, match=rf"Embedding.from_pretrained: embeddings must be .*{described}"):
            nn.Embedding.from_pretrained(bad)
    with pytest.raises(TypeError, match=r"Embedding.from_pretrained: freeze must be"):
        nn.Embedding.from_pretrained(table, freeze="yes")


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@given(shape=shapes(min_dims=1), data=st.data())
def test_softmax_modules_are_the_functions_along_dim_and_match_torch(name, shape, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="dim")
    x = data.draw(arrays(shape), label="x")
    module = getattr(nn, name)(dim)
    [out] = check_vjp(module, [x], data)
    function = functional.softmax if name == "Softmax" else functional.log_softmax
    np.testing.assert_array_equal(out.data, function(tg.Tensor(x), dim=-1 if dim is None else dim).data)
    upstream = data.draw(arrays(out.shape), label="upstream")
    ours = tg.Tensor(x, requires_grad=True)
    module(ours).backward(upstream)
    theirs = torch.tensor(x, requires_grad=True)
    reference = getattr(torch.nn, name)(dim=-1 if dim is None else dim)(theirs)
    reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_softmax_modules_repr_as_torch_and_refuse_bad_dims():
    torch = pytest.importorskip("torch")
    for name, dim in [("Softmax", 1), ("Softmax", None), ("LogSoftmax", -1), ("LogSoftmax", None)]:
        assert repr(getattr(nn, name)(dim)) == repr(getattr(torch.nn, name)(dim))
    with pytest.raises(TypeError, match=r"^Softmax: dim must be an int or None, got 1.0"):
        nn.Softmax(1.0)
    with pytest.raises(TypeError, match="^LogSoftmax: expected a Tensor, got ndarray"):
        nn.LogSoftmax()(np.zeros(3))
    with pytest.raises(ValueError, match=r"^softmax: axis 2 is out of range for a tensor of shape \(2, 3\)"):
        nn.Softmax(2)(tg.zeros(2, 3))

"""nn.init: each initialiser's formula (bounds, spreads, orthogonality), in place, seeded, refusals."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn import init

# (out, in, *kernel) -> fan_in = in * prod(kernel), fan_out = out * prod(kernel)
weight_shapes = st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda pair: st.tuples(st.just(pair), st.lists(st.integers(1, 3), max_size=2)))


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


@given(shape=weight_shapes.map(lambda parts: (*parts[0], *parts[1])), gain=st.floats(0.1, 3.0),
       seed=st.integers(0, 99))
def test_uniform_initialisers_stay_within_their_bound_in_place(shape, gain, seed):
    fan_in, fan_out = fans(shape)
    cases = [
        (init.xavier_uniform_, {"gain": gain}, gain * math.sqrt(6 / (fan_in + fan_out))),
        (init.kaiming_uniform_, {"a": 0.0, "nonlinearity": "relu"},
         math.sqrt(3) * math.sqrt(2) / math.sqrt(fan_in)),
        (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "tanh"},
         math.sqrt(3) * (5 / 3) / math.sqrt(fan_out)),
        (init.uniform_, {"a": -gain, "b": 2 * gain}, 2 * gain),
    ]
    for function, options, bound in cases:
        weight = nn.Parameter(np.full(shape, 99.0), dtype="float64")
        array = weight.data
        assert function(weight, generator=np.random.default_rng(seed), **options) is weight
        assert weight.data is array  # in place: an optimizer holding it sees the new values
        assert np.all(np.abs(weight.data) <= bound * (1 + 1e-12))


@pytest.mark.parametrize(
    ("function", "options", "std"),
    [
        (init.normal_, {"mean": 0.0, "std": 0.3}, 0.3),
        (init.xavier_normal_, {"gain": 2.0}, 2.0 * math.sqrt(2 / (200 + 300))),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
        (init.kaiming_normal_, {"a": 0.2, "mode": "fan_out"}, math.sqrt(2 / 1.04) / math.sqrt(300)),
        (init.xavier_uniform_, {}, math.sqrt(6 / 500) / math.sqrt(3)),
        (init.kaiming_uniform_, {}, math.sqrt(2 / 1.0001) / math.sqrt(200)),
    ],
)
def test_the_spread_is_the_formulas(function, options, std):
    weight = nn.Parameter(np.zeros((300, 200)), dtype="float64")
    function(weight, generator=np.random.default_rng(0), **options)
    # 60,000 draws: the sample standard deviation is within 1% of the true one (~5 sigma).
    assert abs(weight.data.std() / std - 1) < 0.01 and abs(weight.data.mean()) < 0.02 * std


@given(rows=st.integers(1, 12), columns=st.integers(1, 12), gain=st.floats(0.5, 2.0), seed=st.integers(0, 99))
def test_orthogonal_gives_orthonormal_rows_or_columns(rows, columns, gain, seed):
    weight = nn.Parameter(np.zeros((rows, columns)), dtype="float64")
    init.orthogonal_(weight, gain=gain, generator=np.random.default_rng(seed))
    w = weight.data / gain
    small = min(rows, columns)
    product = w @ w.T if rows <= columns else w.T @ w
    np.testing.assert_allclose(product, np.eye(small), atol=1e-10)


def test_orthogonal_flattens_trailing_axes_and_keeps_float32():
    weight = nn.Parameter(np.zeros((4, 3, 2)), dtype="float32")
    init.orthogonal_(weight)
    flat = weight.data.reshape(4, 6)
    assert weight.dtype == np.float32
    np.testing.assert_allclose(flat @ flat.T, np.eye(4), atol=1e-5)


def test_constant_fills_and_eye():
    weight = nn.Parameter(np.ones((2, 3)))
    assert init.zeros_(weight) is weight and not weight.data.any()
    init.ones_(weight)
    assert np.all(weight.data == 1)
    init.constant_(weight, 0.25)
    assert np.all(weight.data == 0.25)
    init.eye_(weight)
    np.testing.assert_array_equal(weight.data, np.eye(2, 3))
    counts = tg.Tensor(np.zeros(3, dtype=np.int64))
    init.constant_(counts, 7)  # a constant needs no floating point
    assert counts.data.tolist() == [7, 7, 7]


def test_the_default_generator_makes_it_reproducible():
    first, second = nn.Parameter(np.zeros((3, 3))), nn.Parameter(np.zeros((3, 3)))
    tg.manual_seed(5)
    init.xavier_uniform_(first)
    tg.manual_seed(5)
    init.xavier_uniform_(second)
    np.testing.assert_array_equal(first.data, second.data)


def test_calculate_gain_as_pytorch():
    assert init.calculate_gain("linear") == init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    torch = pytest.importorskip("torch")
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3),
                        ("selu", None), ("conv2d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param),
                                                                 rel=1e-15)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: init.xavier_uniform_(nn.Parameter(np.zeros(3))), ValueError,
         r"xavier_uniform_: fan in and fan out need a tensor of 2 or more axes, got shape \(3,\)"),
        (lambda: init.orthogonal_(nn.Parameter(np.zeros(3))), ValueError,
         r"orthogonal_: needs a tensor of 2"),
        (lambda: init.normal_(np.zeros(3)), TypeError, r"normal_: expected a Tensor .* got ndarray"),
        (lambda: init.uniform_(tg.Tensor(np.zeros(3, dtype=np.int32))), TypeError,
         r"uniform_: needs a floating-point tensor, got dtype int32"),
        (lambda: init.uniform_(nn.Parameter(np.zeros(3)), 2.0, 1.0), ValueError,
         r"uniform_: expected a <= b"),
        (lambda: init.normal_(nn.Parameter(np.zeros(3)), std=-1.0), ValueError, r"normal_: std must be"),
        (lambda: init.kaiming_normal_(nn.Parameter(np.zeros((2, 2))), mode="fan"), ValueError,
         r"kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan'"),
        (lambda: init.calculate_gain("gelu"), ValueError, r"calculate_gain: unsupported nonlinearity 'gelu'"),
        (lambda: init.constant_(nn.Parameter(np.zeros(2)), "1"), TypeError,
         r"constant_: val must be a number"),
        (lambda: init.eye_(nn.Parameter(np.zeros((2, 2, 2)))), ValueError, r"eye_: needs a 2-D tensor"),
    ],
)
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_an_empty_weight_is_left_empty():
    weight = nn.Parameter(np.zeros((0, 4)))
    for function in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_):
        assert function(weight).shape == (0, 4)

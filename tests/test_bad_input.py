"""Bad input gets a clear error: a fuzz of the public API's error behaviour.

Hypothesis draws bad arguments — wrong dtypes (complex, object, str arrays; str, None,
dict in place of a Tensor), non-broadcastable shapes, out-of-range axes, non-finite or
negative hyperparameters, non-bool flags, non-str options, non-iterables — for the ops,
the Tensor methods, functional, the nn layers, nn.init, nn.utils, the optimizers and the
schedulers. Each call must either raise a TypeError or ValueError (or one of their
documented subclasses) whose message names the op or class called, or succeed with the
value NumPy or PyTorch gives. Where PyTorch is importable, its refusal of the same input
is checked too.

An out-of-range index is an IndexError, as in PyTorch, NumPy and Python (iteration relies
on it); it must still name the op (``nn.Embedding``'s is also a ValueError).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import arrays, broadcastable_shapes, shapes
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import functional as F
from tinygrad_rnn import lr_scheduler, nn, ops, optim
from tinygrad_rnn.data import CharTokenizer
from tinygrad_rnn.nn import init
from tinygrad_rnn.nn import utils as nn_utils
from tinygrad_rnn.nn.layers import IndexRangeError

try:
    import torch
except ImportError:  # the PyTorch halves of the checks are skipped
    torch = None


def assert_refused(call, *names: str, kinds=(TypeError, ValueError)) -> BaseException:
    """``call()`` raises one of ``kinds`` whose message names one of ``names``; returns it."""
    with pytest.raises(kinds) as caught:
        call()
    message = str(caught.value)
    assert any(name in message for name in names), f"{names} not named in {message!r}"
    return caught.value


def torch_refuses(call) -> None:
    """PyTorch refuses the same input too (any exception: its types are its own)."""
    if torch is not None:
        with pytest.raises(Exception):  # noqa: B017 - torch's error types differ from ours
            call()


# -- bad arguments ---------------------------------------------------------------------------
NAN_INF = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def non_real_arrays(draw) -> np.ndarray:
    """Arrays a Tensor cannot hold: complex, object and str, of a small non-empty shape."""
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=1))
    dtype, value = draw(st.sampled_from([(np.complex128, 1 + 2j), (object, None), ("<U2", "ab")]))
    return np.full(shape, value, dtype=dtype)


not_a_tensor = st.one_of(st.text(max_size=3), st.none(), st.dictionaries(st.text(max_size=1), st.integers(),
                                                                       max_size=1),
                         st.tuples(st.integers()), st.builds(object), non_real_arrays())
# For an argument that takes one of a few strings: an array has no truth value for `in`,
# a dict or list is unhashable, a number is simply not a string.
not_a_string = st.one_of(st.none(), st.integers(-2, 2), st.floats(allow_nan=True),
                         hnp.arrays(np.int64, st.integers(2, 3)), st.lists(st.integers(), max_size=2),
                         st.dictionaries(st.text(max_size=1), st.integers(), max_size=1))
# For a bool flag: `"False"` and `[0]` are truthy, an array has no truth value.
not_a_bool = st.one_of(st.none(), st.integers(0, 2), st.text(max_size=5), st.floats(allow_nan=True),
                       st.lists(st.booleans(), max_size=2), hnp.arrays(np.bool_, st.integers(2, 3)))
not_iterable = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.booleans())


@st.composite
def non_broadcastable_shapes(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes NumPy cannot broadcast: equal but for one axis, sizes >= 2 and different."""
    shape = draw(shapes(min_dims=1, min_side=2))
    axis = draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[axis] = shape[axis] + draw(st.integers(1, 2))
    return shape, tuple(other)


def float_tensor(shape, requires_grad: bool = False) -> tg.Tensor:
    return tg.Tensor(np.linspace(-1.0, 1.0, math.prod(shape)).reshape(shape), requires_grad=requires_grad)


# -- ops and Tensor methods ------------------------------------------------------------------
UNARY_OPS = ["abs", "exp", "log", "log1p", "expm1", "erf", "erfc", "sqrt", "tanh", "sigmoid", "relu", "neg",
             "clone", "softmax", "log_softmax", "sum", "mean", "max", "min", "argmax", "argmin", "flatten",
             "squeeze", "var", "std", "norm"]
BINARY_OPS = ["add", "sub", "mul", "div", "matmul"]
REDUCTIONS = ["sum", "mean", "max", "min", "argmax", "argmin", "var", "std", "logsumexp", "norm",
              "softmax", "log_softmax", "squeeze"]


@given(name=st.sampled_from(UNARY_OPS + BINARY_OPS), value=not_a_tensor)
def test_an_op_called_on_a_non_tensor_names_itself(name, value):
    args = (value, float_tensor((2,))) if name in BINARY_OPS else (value,)
    assert_refused(lambda: getattr(ops, name)(*args), f"{name}:")


@given(name=st.sampled_from(BINARY_OPS), operand=not_a_tensor.filter(lambda v: v is not None),
       reflected=st.booleans())
def test_a_binary_op_refuses_a_non_real_operand_naming_itself(name, operand, reflected):
    """``x + "ab"``, ``{} * x``, ``x @ complex_array``: a TypeError naming the op, either side."""
    x = float_tensor((2, 2), requires_grad=True)
    method = getattr(tg.Tensor, f"__{'r' if reflected else ''}{'truediv' if name == 'div' else name}__")
    assert_refused(lambda: method(x, operand), f"{name}:", kinds=TypeError)


@given(pair=non_broadcastable_shapes(), name=st.sampled_from(["add", "sub", "mul", "div"]))
def test_elementwise_ops_refuse_shapes_that_do_not_broadcast(pair, name):
    left, right = float_tensor(pair[0]), float_tensor(pair[1]) + 2.0
    assert_refused(lambda: getattr(ops, name)(left, right), f"{name}: shapes {pair[0]} and {pair[1]}",
                   kinds=ValueError)
    assert_refused(lambda: ops.where(np.ones(pair[0], bool), left, right), "where")
    if torch is not None:
        torch_refuses(lambda: getattr(torch, name)(torch.zeros(pair[0]), torch.ones(pair[1])))


@given(pair=broadcastable_shapes(), name=st.sampled_from(["add", "sub", "mul", "div"]), data=st.data())
def test_elementwise_ops_that_broadcast_equal_numpy(pair, name, data):
    """The other side of the contract: what is not refused is NumPy's broadcast result."""
    left, right = data.draw(arrays(pair[0])), data.draw(arrays(pair[1])) + 5.0  # right > 0: no 0 division
    out = getattr(ops, name)(tg.Tensor(left), tg.Tensor(right))
    expected = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[name](left, right)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


@given(shape=shapes(min_dims=1, max_dims=2, min_side=1), inner=st.integers(1, 3), extra=st.integers(1, 2))
def test_matmul_refuses_inner_dimensions_that_differ(shape, inner, extra):
    left, right = float_tensor((*shape[:-1], inner)), float_tensor((inner + extra, 2))
    assert_refused(lambda: left @ right, "matmul:", kinds=ValueError)
    torch_refuses(lambda: torch.zeros(left.shape) @ torch.zeros(right.shape))


@given(shape=shapes(max_dims=3, min_side=1), name=st.sampled_from(REDUCTIONS), data=st.data())
def test_an_axis_out_of_range_or_of_the_wrong_kind_is_refused(shape, name, data):
    ndim = len(shape)
    extent = max(ndim, 1)  # 0 and -1 may be taken on a 0-d tensor (argmax takes them, as NumPy and torch)
    out_of_range = st.integers(extent, extent + 3) | st.integers(-extent - 3, -extent - 1)
    axis = data.draw(out_of_range | st.sampled_from([1.5, "0", [0.5]]), label="axis")
    x = float_tensor(shape)
    call = (lambda: ops.logsumexp(x, axis)) if name == "logsumexp" else (lambda: getattr(x, name)(axis))
    if name == "norm":
        call = lambda: x.norm(2, axis)  # noqa: E731 - the axis is norm's third argument
    assert_refused(call, f"{name}:")
    # (torch takes dim 0 and -1 of a 0-d tensor, which NumPy and this library refuse)
    if torch is not None and isinstance(axis, int) and ndim and name in ("sum", "mean", "max", "argmax"):
        torch_refuses(lambda: getattr(torch.zeros(shape), name)(axis))


@given(shape=shapes(max_dims=3, min_side=1), keepdims=not_a_bool.filter(lambda v: not isinstance(v, bool)),
       name=st.sampled_from(["sum", "mean", "max", "min", "var", "logsumexp"]))
def test_keepdims_must_be_a_bool(shape, keepdims, name):
    assert_refused(lambda: getattr(ops, name)(float_tensor(shape), axis=0, keepdims=keepdims), f"{name}:")


@given(shape=shapes(min_dims=1, max_dims=3, min_side=1), data=st.data())
def test_indexing_refuses_wrong_kinds_and_out_of_range_indices(shape, data):
    """A float, str, None-list or complex index is a TypeError or ValueError, an index past
    the end an IndexError (as PyTorch's); each names getitem. A valid int is NumPy's row."""
    x = float_tensor(shape)
    bad_kind = data.draw(st.sampled_from([1.5, "0", {0: 1}, 1j, np.array([0.5])]), label="index")
    assert_refused(lambda: x[bad_kind], "getitem:", kinds=(TypeError, ValueError, IndexError))
    past = data.draw(st.integers(shape[0], shape[0] + 3) | st.integers(-shape[0] - 3, -shape[0] - 1))
    assert_refused(lambda: x[past], "getitem:", kinds=IndexError)
    torch_refuses(lambda: torch.zeros(shape)[past])
    row = data.draw(st.integers(-shape[0], shape[0] - 1))
    np.testing.assert_array_equal(x[row].data, x.data[row])


@given(value=not_a_tensor.filter(lambda v: not isinstance(v, (str, tuple))))
def test_tensor_refuses_data_it_cannot_hold(value):
    assert_refused(lambda: tg.Tensor(value), "Tensor:", kinds=TypeError)


@given(activation=not_a_string.filter(lambda v: v is not None), name=st.sampled_from(["addmm", "linear"]))
@example(activation=np.array([0, 1]), name="linear")
def test_a_fused_products_activation_must_be_one_of_its_names(activation, name):
    """Regression: a dict or an array as ``activation`` raised "unhashable type" naming nothing."""
    x, weight = float_tensor((2, 3)), float_tensor((3, 3))
    assert_refused(lambda: getattr(ops, name)(0.0, x, weight, activation) if name == "addmm"
                   else ops.linear(x, weight, None, activation), f"{name}: activation must be one of")


@given(ids=st.integers(4, 9) | st.integers(-9, -1))
def test_embedding_ids_out_of_range_name_the_op(ids):
    weight = float_tensor((4, 3))
    assert_refused(lambda: F.embedding(np.array([ids]), weight), "embedding:", kinds=IndexError)
    error = assert_refused(lambda: nn.Embedding(4, 3)(np.array([ids])), "Embedding:")
    assert isinstance(error, IndexRangeError) and isinstance(error, IndexError)


# -- functional ------------------------------------------------------------------------------
@given(reduction=not_a_string)
@example(reduction=np.array([0, 1]))
def test_losses_refuse_a_reduction_that_is_not_a_string(reduction):
    """Regression: an array as ``reduction`` raised NumPy's "truth value ... is ambiguous"."""
    logits, targets = float_tensor((2, 3)), np.array([0, 2])
    assert_refused(lambda: F.cross_entropy(logits, targets, reduction=reduction), "cross_entropy:")
    assert_refused(lambda: F.nll_loss(logits, targets, reduction=reduction), "nll_loss:")
    assert_refused(lambda: F.mse_loss(logits, logits, reduction=reduction), "mse_loss:")


@given(training=not_a_bool)
@example(training=np.array([True, False]))
@example(training="False")
def test_dropout_refuses_a_training_flag_that_is_not_a_bool(training):
    """Regression: ``training="False"`` (truthy) dropped elements; an array raised NumPy's error."""
    assert_refused(lambda: F.dropout(float_tensor((2, 3)), 0.5, training=training),
                   "dropout: training must be a bool", kinds=TypeError)


@given(p=NAN_INF | st.floats(-3.0, -1e-3) | st.floats(1.001, 3.0))
def test_dropout_probabilities_outside_0_1_are_refused(p):
    assert_refused(lambda: F.dropout(float_tensor((2,)), p), "dropout")
    assert_refused(lambda: nn.Dropout(p), "Dropout")
    if not math.isnan(p):  # torch takes p = nan, and its dropout then returns nan
        torch_refuses(lambda: torch.nn.Dropout(p))


@given(pair=non_broadcastable_shapes())
def test_mse_loss_refuses_shapes_that_differ(pair):
    assert_refused(lambda: F.mse_loss(float_tensor(pair[0]), float_tensor(pair[1])), "mse_loss")


# -- nn layers -------------------------------------------------------------------------------
LAYERS = {
    "Linear": lambda: nn.Linear(3, 2), "LayerNorm": lambda: nn.LayerNorm(3),
    "RNN": lambda: nn.RNN(3, 2), "LSTM": lambda: nn.LSTM(3, 2), "GRU": lambda: nn.GRU(3, 2),
    "RNNCell": lambda: nn.RNNCell(3, 2), "LSTMCell": lambda: nn.LSTMCell(3, 2),
    "GRUCell": lambda: nn.GRUCell(3, 2),
}


@given(name=st.sampled_from(sorted(LAYERS)), values=non_real_arrays())
def test_a_layer_refuses_a_non_real_array_naming_itself(name, values):
    """Regression: a complex or object array reached ``Tensor()``, whose error named Tensor."""
    layer = LAYERS[name]()
    assert_refused(lambda: layer(values.reshape(-1, 1).repeat(3, axis=1)), f"{name}:")


@given(name=st.sampled_from(sorted(LAYERS)), features=st.integers(1, 6).filter(lambda n: n != 3),
       dtype=st.sampled_from([np.float32, np.int64, np.bool_]))
def test_a_layer_refuses_the_wrong_features_or_an_integer_input(name, features, dtype):
    layer = LAYERS[name]()
    assert_refused(lambda: layer(tg.Tensor(np.ones((2, features), dtype=dtype))), f"{name}:")
    assert_refused(lambda: layer(tg.Tensor(np.ones((2, 3), dtype=np.int64))), f"{name}:")


@given(name=st.sampled_from(["RNN", "RNNCell"]), nonlinearity=not_a_string)
@example(name="RNN", nonlinearity=np.array([0, 1]))
def test_rnn_nonlinearity_must_be_a_string(name, nonlinearity):
    """Regression: an array as ``nonlinearity`` raised NumPy's "truth value ... is ambiguous"."""
    assert_refused(lambda: getattr(nn, name)(3, 2, nonlinearity=nonlinearity), f"{name}: nonlinearity")


@given(size=st.integers(-3, 0) | st.sampled_from([1.5, "3", None, True]),
       name=st.sampled_from(["Linear", "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]))
def test_layer_sizes_must_be_positive_ints(size, name):
    assert_refused(lambda: getattr(nn, name)(size, 2), f"{name}:")
    assert_refused(lambda: getattr(nn, name)(2, size), f"{name}:")


@given(dropout=NAN_INF | st.floats(-2.0, -1e-3) | st.floats(1.001, 2.0),
       name=st.sampled_from(["RNN", "LSTM", "GRU"]))
def test_recurrent_dropout_outside_0_1_is_refused(dropout, name):
    assert_refused(lambda: getattr(nn, name)(3, 2, num_layers=2, dropout=dropout), f"{name}:")


@given(option=st.sampled_from(["input_kind", "loss", "reduction"]), value=not_a_string)
@example(option="input_kind", value=np.array([0, 1]))
@example(option="loss", value=np.array([0, 1]))
def test_recurrent_model_options_must_be_strings(option, value):
    """Regression: an array as ``input_kind``, ``loss`` or ``reduction`` raised NumPy's error."""
    if option == "input_kind":
        assert_refused(lambda: nn.RecurrentModel("rnn", 5, 4, 5, input_kind=value),
                       "RecurrentModel: input_kind")
        return
    model = nn.RecurrentModel("rnn", 5, 4, 5)
    kwargs = {"loss": "ce", "reduction": "mean", option: value}
    assert_refused(lambda: model.loss(np.zeros((2, 1), np.int64), np.zeros((2, 1), np.int64), **kwargs),
                   f"RecurrentModel.loss: {option}")


# -- nn.init ---------------------------------------------------------------------------------
@given(value=NAN_INF, name=st.sampled_from(["xavier_uniform_", "xavier_normal_", "orthogonal_"]))
def test_init_refuses_a_non_finite_gain(value, name):
    """Regression: xavier_uniform_'s NumPy raised OverflowError, the others filled nan or inf."""
    weight = float_tensor((3, 4))
    before = weight.data.copy()
    assert_refused(lambda: getattr(init, name)(weight, gain=value), f"{name}: gain must be finite")
    np.testing.assert_array_equal(weight.data, before)


@given(bound=NAN_INF, which=st.sampled_from(["a", "b"]))
def test_uniform_refuses_a_non_finite_bound(bound, which):
    """Regression: an infinite bound raised NumPy's OverflowError."""
    assert_refused(lambda: init.uniform_(float_tensor((3,)), **{which: bound}), "uniform_:")
    torch_refuses(lambda: torch.nn.init.uniform_(torch.zeros(3), **{which: bound}))


@given(a=NAN_INF, name=st.sampled_from(["kaiming_uniform_", "kaiming_normal_"]))
def test_kaiming_refuses_a_non_finite_slope(a, name):
    """Regression: a = nan filled kaiming_normal_'s tensor with nan, kaiming_uniform_ overflowed."""
    assert_refused(lambda: getattr(init, name)(float_tensor((3, 4)), a=a), f"{name}: a must be finite")


@given(name=st.sampled_from(["kaiming_uniform_", "kaiming_normal_"]),
       option=st.sampled_from(["mode", "nonlinearity"]), value=not_a_string)
@example(name="kaiming_normal_", option="mode", value=np.array([0, 1]))
def test_kaiming_options_must_be_strings_and_errors_name_the_function(name, option, value):
    """Regression: an array raised NumPy's error; a bad nonlinearity named calculate_gain only."""
    assert_refused(lambda: getattr(init, name)(float_tensor((3, 4)), **{option: value}), f"{name}: ")
    assert_refused(lambda: init.calculate_gain(value), "calculate_gain: unsupported nonlinearity",
                   kinds=ValueError)


@given(gain=st.floats(0.1, 3.0), seed=st.integers(0, 99))
def test_xavier_uniform_draws_a_negative_gain_as_its_absolute_value(gain, seed):
    """Regression: a negative gain made NumPy raise "high - low < 0"; it now draws as |gain|,
    as xavier_normal_ always has."""
    negative = init.xavier_uniform_(float_tensor((3, 4)), -gain, np.random.default_rng(seed))
    positive = init.xavier_uniform_(float_tensor((3, 4)), gain, np.random.default_rng(seed))
    np.testing.assert_array_equal(negative.data, positive.data)


@given(value=not_a_tensor, name=st.sampled_from(init.__all__[1:]))
def test_init_functions_refuse_a_non_tensor(value, name):
    args = (value, 1.0) if name == "constant_" else (value,)
    assert_refused(lambda: getattr(init, name)(*args), f"{name}:", kinds=TypeError)


# -- nn.utils --------------------------------------------------------------------------------
@given(parameters=not_iterable, name=st.sampled_from(["clip_grad_norm_", "clip_grad_value_", "get_total_norm",
                                                        "clip_grads_with_norm_"]))
def test_clipping_refuses_parameters_that_are_not_iterable(parameters, name):
    """Regression: None or a number raised "'NoneType' object is not iterable"."""
    args = {"clip_grad_norm_": (1.0,), "clip_grad_value_": (1.0,), "get_total_norm": (),
            "clip_grads_with_norm_": (1.0, 1.0)}[name]
    assert_refused(lambda: getattr(nn_utils, name)(parameters, *args), f"{name}:", kinds=TypeError)


@given(norm_type=not_a_string.filter(lambda v: not isinstance(v, (int, float))))
@example(norm_type=np.array([0, 1]))
def test_clipping_refuses_a_norm_type_that_is_not_a_number(norm_type):
    """Regression: an array as ``norm_type`` raised NumPy's "truth value ... is ambiguous"."""
    weight = float_tensor((3,), requires_grad=True)
    weight.grad = np.ones(3)
    assert_refused(lambda: nn_utils.clip_grad_norm_([weight], 1.0, norm_type=norm_type), "clip_grad_norm_:")
    assert_refused(lambda: nn_utils.get_total_norm([np.ones(2)], norm_type=norm_type), "get_total_norm:")


@given(max_norm=NAN_INF.filter(lambda v: v != math.inf) | st.floats(-3.0, -1e-3))
def test_clip_grad_norm_refuses_a_negative_or_nan_max_norm(max_norm):
    weight = float_tensor((3,), requires_grad=True)
    weight.grad = np.ones(3)
    assert_refused(lambda: nn_utils.clip_grad_norm_([weight], max_norm), "clip_grad_norm_")
    np.testing.assert_array_equal(weight.grad, np.ones(3))


@given(flag=not_a_bool, call=st.sampled_from(["pad_sequence", "pack_padded_sequence batch_first",
                                              "pack_padded_sequence enforce_sorted", "pad_packed_sequence",
                                              "pack_sequence"]))
@example(flag="False", call="pad_sequence")
@example(flag=np.array([True, False]), call="pack_padded_sequence enforce_sorted")
def test_sequence_utilities_refuse_flags_that_are_not_bools(flag, call):
    """Regression: ``batch_first="False"`` or ``enforce_sorted=[0]`` were taken by truthiness."""
    sequences = [float_tensor((3, 2)), float_tensor((1, 2))]
    packed = nn_utils.pack_sequence(sequences)
    calls = {
        "pad_sequence": lambda: nn_utils.pad_sequence(sequences, batch_first=flag),
        "pack_padded_sequence batch_first": lambda: nn_utils.pack_padded_sequence(
            float_tensor((3, 2, 2)), [3, 1], batch_first=flag),
        "pack_padded_sequence enforce_sorted": lambda: nn_utils.pack_padded_sequence(
            float_tensor((3, 2, 2)), [3, 1], enforce_sorted=flag),
        "pad_packed_sequence": lambda: nn_utils.pad_packed_sequence(packed, batch_first=flag),
        "pack_sequence": lambda: nn_utils.pack_sequence(sequences, enforce_sorted=flag),
    }
    assert_refused(calls[call], f"{call.split()[0]}:", kinds=TypeError)


@given(side=not_a_string)
@example(side=np.array([0, 1]))
def test_pad_sequence_padding_side_must_be_a_string(side):
    assert_refused(lambda: nn_utils.pad_sequence([float_tensor((2,))], padding_side=side), "pad_sequence:")


@given(sequences=not_iterable | st.lists(not_a_tensor, min_size=1, max_size=2))
def test_pack_sequence_errors_name_pack_sequence(sequences):
    """Regression: pack_sequence's errors named pad_sequence, which the user did not call."""
    error = assert_refused(lambda: nn_utils.pack_sequence(sequences), "pack_sequence:")
    assert "pad_sequence" not in str(error)


@given(lengths=st.lists(st.integers(-2, 6), min_size=1, max_size=3))
def test_pack_padded_sequence_lengths_are_checked_against_the_batch(lengths):
    padded = float_tensor((4, 2, 1))
    valid = len(lengths) == 2 and all(1 <= n <= 4 for n in lengths) and lengths[0] >= lengths[1]
    if not valid:
        assert_refused(lambda: nn_utils.pack_padded_sequence(padded, lengths), "pack_padded_sequence:")
        return
    packed = nn_utils.pack_padded_sequence(padded, lengths)
    assert packed.batch_sizes.tolist() == [int(sum(n > t for n in lengths)) for t in range(lengths[0])]


# -- optimizers and schedulers ---------------------------------------------------------------
OPTIMIZERS = {"SGD": ["lr", "momentum", "dampening", "weight_decay"],
              "Adagrad": ["lr", "lr_decay", "weight_decay", "eps"],
              "Adam": ["lr", "eps", "weight_decay"], "AdamW": ["lr", "eps", "weight_decay"],
              "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum"],
              "Adamax": ["lr", "eps", "weight_decay"], "RAdam": ["lr", "eps", "weight_decay"],
              "NAdam": ["lr", "eps", "weight_decay", "momentum_decay"]}


@given(name=st.sampled_from(sorted(OPTIMIZERS)), data=st.data(),
       value=NAN_INF | st.floats(-3.0, -1e-3) | st.sampled_from(["0.1", None, [0.1]]))
def test_optimizer_hyperparameters_must_be_finite_non_negative_numbers(name, data, value):
    setting = data.draw(st.sampled_from(OPTIMIZERS[name]), label="setting")
    weight = nn.Parameter(float_tensor((3,)))
    assert_refused(lambda: getattr(optim, name)([weight], **{"lr": 0.1, setting: value}), f"{name}")


@given(name=st.sampled_from(sorted(OPTIMIZERS)), params=not_iterable)
def test_optimizers_refuse_params_that_are_not_iterable(name, params):
    assert_refused(lambda: getattr(optim, name)(params, lr=0.1), name)


def _sgd() -> optim.SGD:
    return optim.SGD([nn.Parameter(float_tensor((3,)))], lr=0.1, momentum=0.9)


@given(last_epoch=not_a_string.filter(lambda v: not isinstance(v, int)) | st.integers(-9, -2))
@example(last_epoch=np.array([0, 1]))
def test_one_cycle_refuses_a_last_epoch_that_is_not_an_int(last_epoch):
    """Regression: an array as ``last_epoch`` raised NumPy's "truth value ... is ambiguous"."""
    assert_refused(lambda: lr_scheduler.OneCycleLR(_sgd(), 0.1, total_steps=10, last_epoch=last_epoch),
                   "OneCycleLR: last_epoch")


@given(value=not_a_string, option=st.sampled_from(["anneal_strategy", "mode", "threshold_mode"]))
@example(value=np.array([0, 1]), option="anneal_strategy")
@example(value=np.array([0, 1]), option="mode")
@example(value=np.array([0, 1]), option="threshold_mode")
def test_scheduler_options_must_be_strings(value, option):
    """Regression: an array as ``anneal_strategy``, ``mode`` or ``threshold_mode`` raised NumPy's error."""
    if option == "anneal_strategy":
        assert_refused(lambda: lr_scheduler.OneCycleLR(_sgd(), 0.1, total_steps=10, anneal_strategy=value),
                       "OneCycleLR: anneal_strategy")
    else:
        assert_refused(lambda: lr_scheduler.ReduceLROnPlateau(_sgd(), **{option: value}),
                       f"ReduceLROnPlateau: {option}")


@given(gamma=NAN_INF | st.sampled_from(["0.5", None]),
       name=st.sampled_from(["StepLR", "MultiStepLR", "ExponentialLR"]))
def test_scheduler_decay_factors_must_be_finite_numbers(gamma, name):
    args = {"StepLR": (2,), "MultiStepLR": ([1, 2],), "ExponentialLR": ()}[name]
    assert_refused(lambda: getattr(lr_scheduler, name)(_sgd(), *args, gamma=gamma), name)


@given(optimizer=not_a_tensor, name=st.sampled_from(["StepLR", "ExponentialLR", "ReduceLROnPlateau"]))
def test_schedulers_refuse_something_that_is_not_an_optimizer(optimizer, name):
    args = {"StepLR": (2,), "ExponentialLR": (0.5,), "ReduceLROnPlateau": ()}[name]
    assert_refused(lambda: getattr(lr_scheduler, name)(optimizer, *args), name, kinds=TypeError)


# -- data ------------------------------------------------------------------------------------
@given(unknown=not_a_string)
@example(unknown=np.array([0, 1]))
def test_tokenizer_encode_unknown_must_be_a_string(unknown):
    """Regression: an array as ``unknown`` raised NumPy's "truth value ... is ambiguous"."""
    assert_refused(lambda: CharTokenizer.fit("abba").encode("ab", unknown=unknown), "encode: unknown")


# -- a hyperparameter the input's dtype cannot hold --------------------------------------------
# NumPy would round it to ±inf with an overflow warning and compute on (celu's exponent at 0
# became 0 · inf = nan, a huge eps made rms_norm's value 0); torch refuses it, and so does this.
@pytest.mark.filterwarnings("error")
@given(dtype=st.sampled_from([np.float16, np.float32]),
       call=st.sampled_from(["hardtanh", "softshrink", "hardshrink", "celu", "celu reciprocal",
                             "normalize", "cosine_similarity", "rms_norm", "RMSNorm", "Hardtanh"]))
@example(dtype=np.float64, call="celu reciprocal")
def test_hyperparameters_beyond_the_input_dtype_are_refused(dtype, call):
    x = tg.Tensor(np.array([[-2.0, 0.0, 0.5]], dtype=dtype))
    huge = 1e300 if dtype == np.float64 else 1e39  # finite in float64, not in float32 or float16
    tiny = 5e-324 if dtype == np.float64 else 1e-300  # its reciprocal overflows the dtype
    calls = {
        "hardtanh": lambda: F.hardtanh(x, -1.0, huge),
        "softshrink": lambda: F.softshrink(x, huge),
        "hardshrink": lambda: F.hardshrink(x, huge),
        "celu": lambda: F.celu(x, huge),
        "celu reciprocal": lambda: F.celu(x, tiny),
        "normalize": lambda: F.normalize(x, eps=huge),
        "cosine_similarity": lambda: F.cosine_similarity(x, x.astype(np.float64), eps=huge),
        "rms_norm": lambda: F.rms_norm(x, 3, eps=huge),
        "RMSNorm": lambda: nn.RMSNorm(3, eps=1e39, elementwise_affine=False)(x),
        "Hardtanh": lambda: nn.Hardtanh(-huge, 1.0)(x),
    }
    assert_refused(calls[call], "does not fit the input's dtype")


@pytest.mark.filterwarnings("error")
def test_hyperparameters_the_dtype_holds_still_work():
    x = tg.Tensor(np.array([-2.0, 0.0, 0.5], dtype=np.float32))
    assert F.hardtanh(x, -math.inf, math.inf).tolist() == x.tolist()
    assert F.celu(x, 1e-38).tolist()[1:] == [0.0, 0.5]  # 1 / alpha = 1e38 fits float32
    assert F.softshrink(x, 3e38).tolist() == [0.0, 0.0, 0.0]
    # float16 is computed in float32, so an eps beyond float16's range is fine there
    assert F.rms_norm(tg.Tensor(np.array([1.0], np.float16)), 1, eps=1e5).item() == pytest.approx(
        1 / math.sqrt(1 + 1e5), rel=1e-3)


@pytest.mark.parametrize("call", [lambda: F.softshrink(tg.ones(2), 10**400),
                                  lambda: F.celu(tg.ones(2), -10**400),
                                  lambda: F.normalize(tg.ones(2, 2), p=10**400),
                                  lambda: F.rms_norm(tg.ones(2), 2, eps=10**400)])
def test_an_int_too_large_for_a_float_is_a_value_error(call):
    assert_refused(call, "softshrink", "celu", "normalize", "rms_norm", kinds=ValueError)


@pytest.mark.parametrize("targets", [np.array([[1, 2], [3, 3]]), np.array([1, 2, 3, 3])])
def test_ctc_loss_refuses_a_huge_target_length_without_allocating_for_it(targets):
    # the (N, max(target_lengths)) mask was made before the shape check: a MemoryError
    log_probs = tg.Tensor(np.log(np.full((5, 2, 4), 0.25, np.float32)))
    assert_refused(lambda: F.ctc_loss(log_probs, targets, [5, 4], [2**40, 2]), "ctc_loss",
                   kinds=ValueError)


def _nadam_state(mu_product):
    param = tg.Tensor(np.ones(3), requires_grad=True)
    opt = optim.NAdam([param])
    param.grad = np.ones(3)
    opt.step()
    saved = opt.state_dict()
    saved["state"]["0"]["mu_product"] = mu_product
    return param, opt, saved


@pytest.mark.parametrize("mu_product", [2.0, -0.5, 1.5, math.nan, math.inf])
def test_nadam_refuses_a_mu_product_outside_0_1(mu_product):
    param, opt, saved = _nadam_state(mu_product)
    before = param.data.copy()
    assert_refused(lambda: opt.load_state_dict(saved), "NAdam.load_state_dict", "mu_product",
                   kinds=ValueError)
    np.testing.assert_array_equal(param.data, before)


def test_nadam_refused_mu_product_would_divide_by_zero():
    # mu_product * mu_2 = 1 makes the first term's 1 - mu_product zero
    mu_2 = 0.9 * (1.0 - 0.5 * 0.96 ** (2 * 4e-3))
    param, opt, saved = _nadam_state(1.0 / mu_2)
    assert_refused(lambda: opt.load_state_dict(saved), "mu_product", kinds=ValueError)
    param, opt, saved = _nadam_state(0.25)  # in range: loads and steps
    opt.load_state_dict(saved)
    param.grad = np.ones(3)
    opt.step()
    assert np.isfinite(param.data).all()


def test_parameter_list_assignment_by_slice_names_what_it_takes():
    params = nn.ParameterList([tg.ones(2)])
    error = assert_refused(lambda: params.__setitem__(slice(0, 1), tg.ones(2)), "ParameterList",
                           kinds=TypeError)
    assert "must be an int, got slice" in str(error)

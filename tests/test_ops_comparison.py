"""Comparisons and logic: eq/ne/lt/le/gt/ge, the bitwise and logical ops, isnan/isinf/isfinite,
isclose/allclose/equal, all/any.

None of them has a gradient: each returns a bool Tensor (a Python bool for allclose and
equal) that records no graph, as in torch. Drawn over broadcast shapes (0-d, size-1 and
empty axes) against NumPy, with small integer-valued floats so that ties and equalities
occur; then the places where torch's rules differ from NumPy's (a scalar beside float16 or
an integer tensor, an int outside the tensor's range, ``x == None``), checked against torch
where it is importable and against the values torch gives where it is not; and bad input
refused at the call with the op's name, the shapes and the dtypes.
"""

import operator

import numpy as np
import pytest
from helpers import arrays, axes, broadcastable_shapes, shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, ops

COMPARISONS = {"eq": (np.equal, operator.eq), "ne": (np.not_equal, operator.ne),
               "lt": (np.less, operator.lt), "le": (np.less_equal, operator.le),
               "gt": (np.greater, operator.gt), "ge": (np.greater_equal, operator.ge)}
# x op y is y op' x, for a Tensor on the right of a number or an array.
MIRRORED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
# Small integers and a NaN, as floats: equal pairs and NaN's comparisons are drawn often.
TIED = st.sampled_from([-1.0, 0.0, 1.0, 2.0, float("nan")])


def assert_mask(result, expected):
    """``result`` is a graph-free bool Tensor holding ``expected``."""
    assert isinstance(result, Tensor) and result.dtype == np.bool_
    assert isinstance(result.data, np.ndarray)  # for 0-d too: not a NumPy scalar
    assert not result.requires_grad and result.grad_fn is None
    assert result.shape == np.shape(expected)
    np.testing.assert_array_equal(result.data, expected)


@pytest.mark.parametrize("name", COMPARISONS)
@given(pair=broadcastable_shapes(), data=st.data())
def test_comparisons_of_broadcast_tensors_match_numpy(name, pair, data):
    left = data.draw(arrays(pair[0], TIED), label="left")
    right = data.draw(arrays(pair[1], TIED), label="right")
    function, python_operator = COMPARISONS[name]
    expected = function(left, right)
    x, y = Tensor(left, requires_grad=True), Tensor(right, requires_grad=True)
    for result in (getattr(ops, name)(x, y), getattr(tg, name)(x, y), getattr(x, name)(y),
                   python_operator(x, y), python_operator(x, right)):
        assert_mask(result, expected)
    assert x.grad is None and y.grad is None


@pytest.mark.parametrize("name", COMPARISONS)
@given(shape=shapes(), scalar=st.sampled_from([0, 1, 1.0, -1.5, True]), data=st.data())
def test_a_number_or_array_on_either_side_of_the_operator(name, shape, scalar, data):
    values = data.draw(arrays(shape, TIED), label="values")
    function, python_operator = COMPARISONS[name]
    x = Tensor(values)
    assert_mask(python_operator(x, scalar), function(values, scalar))
    assert_mask(python_operator(scalar, x), function(scalar, values))
    assert_mask(python_operator(values, x), function(values, values))  # NumPy defers to the Tensor
    assert_mask(getattr(x, MIRRORED[name])(scalar), function(scalar, values))


def test_comparisons_carry_no_gradient_and_masks_steer_where():
    x = Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    mask = x > 0
    assert not mask.requires_grad and mask.grad_fn is None
    tg.where(mask, x * x, 0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 6.0]
    assert x.masked_fill(x == 3.0, 0.0).tolist() == [-2.0, 0.5, 0.0]
    with tg.no_grad():
        assert_mask(x <= 0.5, [True, True, False])


# Operands where torch's rule is not NumPy's: (left, right, op, torch's answer).
MEETINGS = [
    (Tensor(np.array([0.1], np.float16)), 0.1, "eq", [True]),  # the scalar rounded to half
    (Tensor(np.array([65504.0], np.float16)), 1e6, "lt", [True]),  # ... to inf, as torch
    (Tensor(np.array([65504.0], np.float16)), 1e6, "eq", [False]),
    (Tensor(np.array([16777217])), 16777217.0, "eq", [True]),  # a float scalar is float32
    (Tensor(np.array([16777217])), 16777216.0, "eq", [True]),
    (Tensor(np.array([16777217])), Tensor(np.array([16777216.0])), "eq", [False]),  # float64
    (Tensor(np.array([100], np.int8)), 100, "eq", [True]),
    (Tensor(np.array([True, False])), 1, "eq", [True, False]),
    (Tensor(np.array([True, False])), 2, "lt", [True, True]),  # a bool beside an int is 0 or 1
    (Tensor(np.array([True, False])), True, "ne", [False, True]),
    (Tensor(np.array([1, 2])), Tensor(np.array([1.0, 2.5])), "eq", [True, False]),
    (Tensor(np.array([1, 2])), 1.5, "gt", [False, True]),
    (Tensor(np.array([np.nan, 1.0])), Tensor(np.array([np.nan, 1.0])), "ne", [True, False]),
    (Tensor(np.array([2**62 + 1])), 2**62, "gt", [True]),  # exact, where float64 would tie
]


def test_an_int_outside_the_dtypes_range_is_compared_exactly():
    """int8 100 < 1000 is true here, as in NumPy; torch wraps 1000 into int8 (-24) first and
    answers false, and uint8 200 > -1 false (-1 as 255): a silent wrong answer we do not copy.
    Arithmetic with such an int is refused instead (add: the scalar 1000 does not fit ...)."""
    int8, uint8 = Tensor(np.array([100], np.int8)), Tensor(np.array([200], np.uint8))
    assert (int8 < 1000).tolist() == [True] and (int8 == 356).tolist() == [False]
    assert (int8 > -1000).tolist() == [True] and (int8 != 1000).tolist() == [True]
    assert (uint8 > -1).tolist() == [True] and (uint8 == -56).tolist() == [False]
    assert (uint8 < 256).tolist() == [True]
    assert (Tensor(np.array([5], np.int32)) < 2**40).tolist() == [True]
    assert (Tensor(np.array([1], np.int64)) < 2**70).tolist() == [True]
    with pytest.raises(ValueError, match="add: the scalar 1000 does not fit the dtype int8"):
        int8 + 1000


@pytest.mark.parametrize("case", range(len(MEETINGS)))
def test_operands_meet_as_torch_meets_them(case):
    left, right, name, expected = MEETINGS[case]
    assert_mask(getattr(ops, name)(left, right), expected)
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(left.data.copy())
    other = torch.from_numpy(right.data.copy()) if isinstance(right, Tensor) else right
    assert getattr(torch, name)(theirs, other).tolist() == expected


@pytest.mark.parametrize("other", [None, "text", [1.0, 3.0], {"a": 1}, object()],
                         ids=["None", "str", "list", "dict", "object"])
def test_equality_with_what_no_op_takes_is_pythons_answer(other):
    """``x == None`` is False and ``x != None`` True, as for torch's tensors (which answer a list
    the same way); ordering them is Python's TypeError."""
    x = Tensor([1.0, 3.0])
    assert (x == other) is False and (x != other) is True
    assert (other == x) is False
    for python_operator in (operator.lt, operator.le, operator.gt, operator.ge):
        with pytest.raises(TypeError, match="not supported between instances"):
            python_operator(x, other)
    torch = pytest.importorskip("torch")
    theirs = torch.tensor([1.0, 3.0])
    assert (theirs == other, theirs != other, other == theirs) == (x == other, x != other, other == x)


@pytest.mark.parametrize("name", COMPARISONS)
def test_the_functions_name_the_op_for_bad_operands(name):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        getattr(ops, name)(x, Tensor(np.ones(4)))
    with pytest.raises(ValueError, match=rf"^{name}: .*\(2, 3\).*\(4,\)"):
        COMPARISONS[name][1](x, np.ones(4))
    with pytest.raises(TypeError, match=rf"^{name}: unsupported operand of type str"):
        getattr(ops, name)(x, "text")
    with pytest.raises(TypeError, match=rf"^{name}: expected a Tensor as the first argument, got float"):
        getattr(ops, name)(1.0, x)


def test_tensors_stay_hashable_by_identity():
    """Defining ``__eq__`` would drop ``__hash__``; tensors are kept in sets and as dict keys (an
    optimizer's state, a parameter set), by identity, as torch's are."""
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert len({a, b, a}) == 2 and hash(a) == object.__hash__(a)
    state = {a: "first", b: "second"}
    assert state[a] == "first" and state[b] == "second"
    assert a in {a} and b not in {a}
    model = tg.nn.Linear(2, 2)
    assert len(set(model.parameters())) == 2


# -- bitwise and logical --------------------------------------------------------------------
BITWISE = {"bitwise_and": (np.bitwise_and, operator.and_), "bitwise_or": (np.bitwise_or, operator.or_),
           "bitwise_xor": (np.bitwise_xor, operator.xor)}
INTEGER_DTYPES = [np.bool_, np.uint8, np.int8, np.int32, np.int64]


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
@given(pair=broadcastable_shapes(), data=st.data())
def test_bitwise_ops_of_bool_and_integer_tensors_match_numpy(name, dtype, pair, data):
    values = st.booleans() if dtype is np.bool_ else st.integers(0, 100)
    left = data.draw(hnp.arrays(dtype, pair[0], elements=values), label="left")
    right = data.draw(hnp.arrays(dtype, pair[1], elements=values), label="right")
    function, python_operator = BITWISE[name]
    expected = function(left, right)
    x, y = Tensor(left), Tensor(right)
    for result in (getattr(ops, name)(x, y), getattr(x, name)(y), python_operator(x, y),
                   python_operator(x, right), python_operator(left, y)):
        assert isinstance(result, Tensor) and result.dtype == expected.dtype and result.grad_fn is None
        np.testing.assert_array_equal(result.data, expected)
    scalar = True if dtype is np.bool_ else 6
    np.testing.assert_array_equal(python_operator(x, scalar).data, function(left, scalar))
    np.testing.assert_array_equal(python_operator(scalar, x).data, function(scalar, left))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
def test_invert_is_logical_for_bools_and_bitwise_for_integers(dtype):
    values = np.array([True, False]) if dtype is np.bool_ else np.array([0, 5], dtype)
    x = Tensor(values)
    for result in (~x, x.bitwise_not(), tg.bitwise_not(x)):
        assert result.dtype == values.dtype
        np.testing.assert_array_equal(result.data, np.invert(values))
    if dtype is np.int64:
        assert (~x).tolist() == [-1, -6]  # -x - 1, as torch
    torch = pytest.importorskip("torch")
    assert (~torch.from_numpy(values)).tolist() == (~x).tolist()


def test_masks_combine_as_in_torch():
    x = Tensor([-1.0, 0.25, 0.5, 2.0])
    assert ((x > 0) & (x < 1)).tolist() == [False, True, True, False]
    assert ((x < 0) | (x > 1)).tolist() == [True, False, False, True]
    assert ((x > 0) ^ (x > 0.4)).tolist() == [False, True, False, False]
    assert (~(x > 0)).tolist() == [True, False, False, False]
    assert (True & (x > 0)).tolist() == [False, True, True, True]


@pytest.mark.parametrize("name", [*BITWISE, "bitwise_not"])
def test_bitwise_ops_refuse_floats_naming_the_dtype(name):
    floats, mask = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3), bool))
    arguments = () if name == "bitwise_not" else (mask,)
    with pytest.raises(TypeError, match=rf"^{name}: defined for bool and integer tensors, got dtype "
                                        r"float64 \(shape \(2, 3\)\)"):
        getattr(ops, name)(floats, *arguments)
    if name == "bitwise_not":
        return
    with pytest.raises(TypeError, match=rf"^{name}: defined for bool and integer tensors, got dtype float64"):
        getattr(ops, name)(mask, floats)
    with pytest.raises(TypeError, match=rf"^{name}: other must be a bool or integer .* got float "
                                        r"\(tensor of shape \(2, 3\)\)"):
        getattr(ops, name)(mask, 1.5)
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        getattr(ops, name)(mask, np.ones(4, bool))
    with pytest.raises(ValueError, match=rf"^{name}: the integer 1000 does not fit the dtype uint8"):
        getattr(ops, name)(Tensor(np.ones(2, np.uint8)), 1000)


@given(values=hnp.arrays(st.sampled_from([np.float64, np.int64, np.bool_]), shapes()))
def test_logical_not_is_true_where_zero_for_any_dtype(values):
    for result in (tg.logical_not(Tensor(values)), Tensor(values).logical_not()):
        assert_mask(result, values == 0)


# -- NaN, inf, closeness ----------------------------------------------------------------------
SPECIAL = st.sampled_from([0.0, 1.0, -2.5, float("nan"), float("inf"), float("-inf")])


@given(values=st.one_of(arrays(shapes(), SPECIAL),
                        hnp.arrays(np.int64, shapes(), elements=st.integers(-5, 5))))
def test_isnan_isinf_isfinite_match_numpy(values):
    x = Tensor(values)
    for name in ("isnan", "isinf", "isfinite"):
        expected = getattr(np, name)(values)
        assert_mask(getattr(tg, name)(x), expected)
        assert_mask(getattr(x, name)(), expected)


CLOSE = st.sampled_from([1.0, 1.0 + 1e-6, 1.0 + 1e-4, 0.0, 1e-9, float("nan"), float("inf")])


@given(pair=broadcastable_shapes(), rtol=st.sampled_from([0.0, 1e-5, 1e-3]),
       atol=st.sampled_from([0.0, 1e-8, 1e-5]), equal_nan=st.booleans(), data=st.data())
def test_isclose_and_allclose_match_numpy(pair, rtol, atol, equal_nan, data):
    left = data.draw(arrays(pair[0], CLOSE), label="left")
    right = data.draw(arrays(pair[1], CLOSE), label="right")
    expected = np.isclose(left, right, rtol=rtol, atol=atol, equal_nan=equal_nan)
    x, y = Tensor(left), Tensor(right)
    assert_mask(tg.isclose(x, y, rtol, atol, equal_nan), expected)
    assert_mask(x.isclose(y, rtol=rtol, atol=atol, equal_nan=equal_nan), expected)
    answer = x.allclose(y, rtol=rtol, atol=atol, equal_nan=equal_nan)
    assert answer is bool(expected.all())
    assert tg.allclose(x, right, rtol, atol, equal_nan) is answer


def test_isclose_defaults_and_arguments_are_torchs():
    x = Tensor([1.0, 1.0, 0.0])
    assert x.isclose(Tensor([1.0 + 5e-6, 1.0 + 2e-5, 5e-9])).tolist() == [True, False, True]
    assert x.allclose(x) is True and x.allclose(x + 1e-3) is False
    assert Tensor([float("nan")]).isclose(Tensor([float("nan")]), equal_nan=True).tolist() == [True]
    with pytest.raises(ValueError, match=r"^isclose: rtol must be a non-negative number, got -1"):
        x.isclose(x, rtol=-1)
    with pytest.raises(ValueError, match=r"^isclose: atol must be a non-negative number, got nan"):
        x.isclose(x, atol=float("nan"))
    with pytest.raises(TypeError, match=r"^isclose: equal_nan must be a bool, got 'yes'"):
        x.isclose(x, equal_nan="yes")
    with pytest.raises(ValueError, match=r"^isclose: shapes \(3,\) and \(2,\) cannot be broadcast"):
        x.isclose(Tensor([1.0, 2.0]))


def test_equal_is_same_shape_and_values_never_broadcast():
    x = Tensor([1.0, 2.0])
    assert tg.equal(x, Tensor([1.0, 2.0])) is True and x.equal(Tensor(np.array([1, 2]))) is True
    assert x.equal(Tensor([1.0, 3.0])) is False
    assert x.equal(Tensor([[1.0, 2.0]])) is False  # broadcastable, but not the same shape
    assert x.equal(Tensor([1.0])) is False
    nan = Tensor([float("nan")])
    assert nan.equal(nan) is False
    with pytest.raises(TypeError, match=r"^equal: other must be a Tensor, got ndarray \(tensor of shape "
                                        r"\(2,\)\)"):
        x.equal(np.array([1.0, 2.0]))


# -- all, any --------------------------------------------------------------------------------
@st.composite
def reductions(draw):
    """Arrays of bools, or of integers or floats (NaN among them: nonzero, so true) mostly
    zero or one, so that all and any both vary, with an axis and keepdims."""
    shape = draw(shapes())
    dtype, elements = draw(st.sampled_from([(np.bool_, st.booleans()), (np.int64, st.integers(0, 1)),
                                            (np.float64, st.sampled_from([0.0, 1.0, -0.5, float("nan")]))]))
    values = draw(hnp.arrays(dtype, shape, elements=elements))
    return values, draw(axes(len(shape))), draw(st.booleans())


@given(case=reductions())
def test_all_and_any_over_dims_match_numpy(case):
    values, axis, keepdims = case
    x = Tensor(values)
    for name in ("all", "any"):
        expected = getattr(np, name)(values, axis=axis, keepdims=keepdims)
        for result in (getattr(tg, name)(x, axis, keepdims), getattr(x, name)(axis, keepdims),
                       getattr(x, name)(dim=axis, keepdim=keepdims)):
            assert_mask(result, expected)


def test_all_and_any_of_nothing_and_of_uint8_are_torchs():
    empty = Tensor(np.zeros((0, 3)))
    assert tg.all(empty).item() is True and tg.any(empty).item() is False
    assert tg.all(empty, dim=0).tolist() == [True] * 3 and tg.any(empty, dim=1).shape == (0,)
    bytes_ = Tensor(np.array([[0, 2], [1, 1]], np.uint8))
    assert bytes_.all(dim=1).dtype == np.uint8 and bytes_.all(dim=1).tolist() == [0, 1]
    assert bytes_.any().dtype == np.uint8 and bytes_.any().item() == 1
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(bytes_.data.copy())
    assert theirs.all(dim=1).dtype == torch.uint8 and theirs.all(dim=1).tolist() == [0, 1]


@pytest.mark.parametrize("name", ["all", "any"])
def test_all_and_any_name_themselves_in_errors(name):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"^{name}: axis 2 is out of range for a tensor of shape \(2, 3\)"):
        getattr(tg, name)(x, dim=2)
    with pytest.raises(TypeError, match=rf"^{name}: expected a Tensor as the first argument, got list"):
        getattr(tg, name)([True])


def test_the_ops_are_tensor_methods_and_module_functions():
    names = [*COMPARISONS, *BITWISE, "bitwise_not", "logical_not", "isnan", "isinf", "isfinite",
             "isclose", "allclose", "equal"]
    for name in names:
        assert getattr(tg, name) is getattr(ops, name) and name in tg.__all__, name
        assert getattr(Tensor, name) is getattr(ops, name).__wrapped__, name
    for name in ("all", "any"):
        assert getattr(tg, name) is getattr(ops, f"{name}_") and name in tg.__all__
        assert getattr(tg, name).__name__ == name
    assert Tensor.__invert__ is Tensor.bitwise_not
    assert all([True, True]) and not any([False])  # the builtins, beside tg.all and tg.any

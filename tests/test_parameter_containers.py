"""ParameterList and ParameterDict: registration, PyTorch's container semantics, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim
from tinygrad_rnn.nn.module import NameClashError


class Gains(nn.Module):
    """A model whose parameters live in both containers, beside a plain one."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(tg.zeros(3))
        self.scales = nn.ParameterList([tg.ones(3), tg.full((3,), 2.0)])
        self.shifts = nn.ParameterDict({"chars": tg.zeros(3), "words": tg.ones(3)})

    def forward(self, x):
        for scale in self.scales:
            x = x * scale
        return x + self.shifts["chars"] + self.shifts["words"] + self.bias


def test_parameters_in_containers_are_the_models_trained_and_saved_ones(tmp_path):
    model = Gains()
    names = ["bias", "scales.0", "scales.1", "shifts.chars", "shifts.words"]
    assert [name for name, _ in model.named_parameters()] == names
    assert list(model.state_dict()) == names
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    model(tg.ones(2, 3)).sum().backward()
    optimizer.step()
    # d/d scales.0 of sum(x * s0 * s1 + ...) with x = 1, s1 = 2: 2 per row, two rows
    np.testing.assert_allclose(model.scales[0].data, 1.0 - 0.5 * 4.0)
    np.testing.assert_allclose(model.shifts["words"].data, 1.0 - 0.5 * 2.0)
    tg.save(model.state_dict(), tmp_path / "gains.npz")
    restored = Gains()
    restored.load_state_dict(tg.load(tmp_path / "gains.npz"))
    for (name, saved), (_, loaded) in zip(model.named_parameters(), restored.named_parameters()):
        np.testing.assert_array_equal(saved.data, loaded.data, err_msg=name)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_a_tensor_becomes_a_parameter_sharing_its_data_and_dtype(dtype):
    tensor = tg.ones(2, dtype=dtype)
    listed, mapped = nn.ParameterList([tensor]), nn.ParameterDict({"gain": tensor})
    for parameter in (listed[0], mapped["gain"]):
        assert type(parameter) is nn.Parameter and parameter.requires_grad
        assert parameter.dtype == np.dtype(dtype) and parameter.data is tensor.data
    already = nn.Parameter(tg.zeros(2))
    assert nn.ParameterList([already])[0] is already and nn.ParameterDict({"a": already})["a"] is already


def test_parameter_list_indexing_slicing_and_growth_as_in_pytorch():
    first, second, third = (nn.Parameter(tg.full((1,), float(k))) for k in range(3))
    params = nn.ParameterList([first, second])
    params.append(third)
    assert len(params) == 3 and list(params) == [first, second, third]
    assert params[-1] is third and params[np.int64(1)] is second
    sliced = params[1:]
    assert isinstance(sliced, nn.ParameterList) and list(sliced) == [second, third]
    assert list(sliced.state_dict()) == ["0", "1"]  # renumbered, as PyTorch's slice is
    replacement = nn.Parameter(tg.zeros(1))
    params[0] = replacement
    assert [name for name, _ in params.named_parameters()] == ["0", "1", "2"]
    assert params[0] is replacement
    params += [tg.ones(4)]
    assert params.extend([]) is params and params.append(tg.ones(1)) is params
    assert [p.shape for p in params] == [(1,), (1,), (1,), (4,), (1,)]


def test_parameter_dict_mapping_methods_as_in_pytorch():
    a, b, c = (nn.Parameter(tg.full((2,), float(k))) for k in range(3))
    params = nn.ParameterDict([("a", a), ("b", b)])
    assert list(params) == ["a", "b"] and list(params.keys()) == ["a", "b"]
    assert list(params.values()) == [a, b] and list(params.items()) == [("a", a), ("b", b)]
    assert "a" in params and "z" not in params and len(params) == 2
    assert params.get("a") is a and params.get("z") is None and params.get("z", c) is c
    assert params.setdefault("a", tg.zeros(1)) is a
    assert params.setdefault("c", c) is c and list(params) == ["a", "b", "c"]
    assert params.popitem() == ("c", c) and list(params) == ["a", "b"]
    assert params.pop("a") is a and list(params) == ["b"]
    params["a"] = a  # a key put back goes last, as in a dict
    assert list(params) == ["b", "a"] and list(params.state_dict()) == ["b", "a"]
    copied = params.copy()
    assert copied is not params and list(copied.items()) == list(params.items())
    merged = params | nn.ParameterDict({"c": c})
    assert list(merged) == ["b", "a", "c"] and list(params) == ["b", "a"]
    params |= {"c": c}
    assert list(params) == ["b", "a", "c"]
    fresh = params.fromkeys(["x", "y"], tg.ones(3))
    assert list(fresh) == ["x", "y"] and fresh["x"].shape == (3,)
    del params["b"]
    assert list(params) == ["a", "c"] and not hasattr(params, "b")
    params.clear()
    assert len(params) == 0 and list(params.parameters()) == []


# Operations on a ParameterDict, replayed on a plain dict: the two must agree throughout.
_keys = st.sampled_from(["a", "b", "c", "d"])
_operations = st.lists(st.one_of(
    st.tuples(st.just("set"), _keys), st.tuples(st.just("del"), _keys),
    st.tuples(st.just("pop"), _keys), st.tuples(st.just("popitem"), st.none()),
    st.tuples(st.just("setdefault"), _keys), st.tuples(st.just("update"), st.lists(_keys, max_size=3)),
), max_size=12)


@given(operations=_operations)
def test_a_parameter_dict_behaves_like_a_dict_of_its_parameters(operations):
    params, model = nn.ParameterDict(), {}
    for operation, key in operations:
        value = nn.Parameter(tg.zeros(1))
        if operation == "set":
            params[key] = value
            model[key] = value
        elif operation == "setdefault":
            assert params.setdefault(key, value) is model.setdefault(key, value)
        elif operation == "update":
            pairs = [(k, nn.Parameter(tg.zeros(1))) for k in key]
            params.update(pairs)
            model.update(pairs)
        elif operation == "popitem":
            if model:
                assert params.popitem() == model.popitem()
            else:
                with pytest.raises(KeyError, match="ParameterDict.popitem: the dict is empty"):
                    params.popitem()
        elif key not in model:
            with pytest.raises(KeyError):
                params.pop(key) if operation == "pop" else params.__delitem__(key)
        elif operation == "pop":
            assert params.pop(key) is model.pop(key)
        else:
            del params[key]
            del model[key]
        assert list(params.items()) == list(model.items())
        assert [name for name, _ in params.named_parameters()] == list(model)


def test_reprs_list_the_parameters_as_pytorch_does():
    assert repr(nn.ParameterList()) == "ParameterList()" and repr(nn.ParameterDict()) == "ParameterDict()"
    assert repr(nn.ParameterList([tg.zeros(2, 3)])) == (
        "ParameterList(  (0): Parameter containing: [float32 of size 2x3])")
    assert repr(nn.ParameterDict({"a": tg.zeros(2), "b": tg.zeros((), dtype="float64")})) == (
        "ParameterDict(\n"
        "    (a): Parameter containing: [float32 of size 2]\n"
        "    (b): Parameter containing: [float64 of size ]\n"
        ")")
    nested = nn.Sequential(nn.Linear(2, 2))
    nested.gains = nn.ParameterList([tg.ones(2), tg.ones(2)])
    assert repr(nested).endswith(
        "(gains): ParameterList(\n"
        "      (0): Parameter containing: [float32 of size 2]\n"
        "      (1): Parameter containing: [float32 of size 2]\n"
        "  )\n)")


def test_the_same_operations_give_pytorchs_names_and_reprs():
    torch = pytest.importorskip("torch")

    def build(library, parameter):
        container = library.nn.Module()
        container.listed = library.nn.ParameterList([parameter(2, 3), parameter(4)])
        container.listed.append(parameter(1))
        container.mapped = library.nn.ParameterDict({"x": parameter(2)})
        container.mapped["y"] = parameter(3, 1)
        container.mapped.setdefault("z", parameter(1))
        container.mapped.pop("x")
        return container

    ours = build(tg, lambda *shape: tg.zeros(shape))
    theirs = build(torch, lambda *shape: torch.zeros(*shape))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(p.requires_grad for p in theirs.parameters())
    assert repr(ours.listed) == repr(theirs.listed).replace("torch.", "")
    assert repr(ours.listed[1:]) == repr(theirs.listed[1:]).replace("torch.", "")
    # ParameterDict's repr uses the old type names
    legacy = {"torch.FloatTensor": "float32", "torch.DoubleTensor": "float64"}
    expected = repr(theirs.mapped)
    for old, new in legacy.items():
        expected = expected.replace(old, new)
    assert repr(ours.mapped) == expected


def test_bad_entries_and_indices_are_named_errors():
    expected = "expected a Parameter or a float Tensor, got"
    with pytest.raises(TypeError, match=f"ParameterList.append: {expected} list"):
        nn.ParameterList([[1.0, 2.0]])
    with pytest.raises(TypeError, match="ParameterList.append: a parameter must have a floating-point "
                                        "dtype, got int64"):
        nn.ParameterList([tg.tensor([1, 2])])
    with pytest.raises(TypeError, match="ParameterList.extend: expected an iterable of parameters, "
                                        "got Tensor"):
        nn.ParameterList(tg.zeros(3))
    params = nn.ParameterList([tg.zeros(1)])
    with pytest.raises(IndexError, match="ParameterList: index 1 is out of range for 1 parameters"):
        params[1]
    with pytest.raises(IndexError, match="ParameterList: index -2 is out of range for 1 parameters"):
        params[-2] = tg.zeros(1)
    with pytest.raises(TypeError, match="ParameterList: index must be an int or a slice, got str"):
        params["0"]
    with pytest.raises(TypeError, match=f"ParameterList: {expected} ndarray"):
        params[0] = np.zeros(1)
    mapped = nn.ParameterDict()
    with pytest.raises(TypeError, match=f"ParameterDict: {expected} float"):
        mapped["a"] = 1.0
    with pytest.raises(TypeError, match=f"ParameterDict: {expected} NoneType"):
        mapped.setdefault("a")
    with pytest.raises(NameClashError, match="the name 'a.b' contains '.'"):
        mapped["a.b"] = tg.zeros(1)
    with pytest.raises(NameClashError, match="the name 'keys' is already an attribute"):
        mapped["keys"] = tg.zeros(1)
    with pytest.raises(TypeError, match="the name must be a str, got int"):
        mapped[0] = tg.zeros(1)
    with pytest.raises(TypeError, match=r"ParameterDict.update: expected a mapping or \(name, parameter\) "
                                        "pairs, got Tensor"):
        mapped.update(tg.zeros(2))
    with pytest.raises(TypeError, match=r"ParameterDict.update: item 0 is not a \(name, parameter\) pair"):
        mapped.update(["ab"])
    with pytest.raises(KeyError):
        mapped["missing"]
    assert len(mapped) == 0  # nothing was stored by the refused calls


def test_a_module_dict_updates_from_another_one_as_in_pytorch():
    heads = nn.ModuleDict({"chars": nn.Linear(2, 3)})
    merged = nn.ModuleDict({"words": nn.Linear(2, 5)})
    merged.update(heads)
    assert list(merged) == ["words", "chars"] and merged["chars"] is heads["chars"]
    with pytest.raises(TypeError, match="ModuleDict.update: expected a mapping or "
                                        r"\(name, module\) pairs, got Linear"):
        merged.update(nn.Linear(1, 1))

"""Module bookkeeping: registration order, buffers, state_dict, load_state_dict, to(), zero_grad, repr."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn import nn


class Block(nn.Module):
    def __init__(self, dtype=None):
        super().__init__()
        self.scale = nn.Parameter([2.0], dtype=dtype)
        self.inner = nn.Linear(3, 4, dtype=dtype, rng=np.random.default_rng(0))
        self.stack = nn.Sequential(nn.Linear(4, 4, bias=False, dtype=dtype, rng=np.random.default_rng(1)),
                                   nn.Linear(4, 2, dtype=dtype, rng=np.random.default_rng(2)))

    def forward(self, x):
        return self.stack(self.inner(x).tanh()) * self.scale


NAMES = ["scale", "inner.weight", "inner.bias", "stack.0.weight", "stack.1.weight", "stack.1.bias"]


def test_named_parameters_order_and_names():
    block = Block()
    assert [name for name, _ in block.named_parameters()] == NAMES
    assert [p.shape for p in block.parameters()] == [(1,), (4, 3), (4,), (4, 4), (2, 4), (2,)]
    assert [name for name, _ in block.named_children()] == ["inner", "stack"]
    assert [type(m).__name__ for m in block.modules()] == [
        "Block", "Linear", "Sequential", "Linear", "Linear"]
    assert [type(m).__name__ for m in block.children()] == ["Linear", "Sequential"]


def test_shared_parameter_is_listed_once_but_saved_under_each_name():
    first = nn.Linear(2, 2)
    outer = nn.Sequential(first, first)
    assert len(list(outer.parameters())) == 2
    assert list(outer.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_a_parameter_set_to_none_and_back_keeps_its_place_as_in_pytorch():
    """PyTorch keeps a None entry for the name: a Parameter assigned again comes back in its
    old position, so parameters() (and an optimizer's state, which follows their order)
    keeps lining up with a model built afresh."""
    lstm = nn.LSTM(2, 3)
    order = [name for name, _ in lstm.named_parameters()]
    bias = lstm.bias_ih_l0
    lstm.bias_ih_l0 = None
    assert lstm.bias_ih_l0 is None and "bias_ih_l0" not in lstm.state_dict()
    assert [name for name, _ in lstm.named_parameters()] == [n for n in order if n != "bias_ih_l0"]
    with pytest.raises(TypeError, match=r"cannot assign a ndarray to parameter 'bias_ih_l0'"):
        lstm.bias_ih_l0 = np.zeros(12, dtype=np.float32)
    lstm.bias_ih_l0 = bias
    assert [name for name, _ in lstm.named_parameters()] == order
    torch = pytest.importorskip("torch")
    reference = torch.nn.LSTM(2, 3)
    torch_bias = reference.bias_ih_l0
    reference.bias_ih_l0 = None
    reference.bias_ih_l0 = torch_bias
    assert list(reference.state_dict()) == order


def test_registration_rules():
    block = Block()
    with pytest.raises(TypeError, match=r"Block: cannot assign a plain Tensor to parameter 'scale'"):
        block.scale = tg.Tensor([1.0])
    with pytest.raises(TypeError, match=r"Block: cannot assign a ndarray to parameter 'scale' \(nn.Parameter "
                                        r"or None expected\)"):
        block.scale = np.ones(1, dtype=np.float32)
    with pytest.raises(TypeError, match=r"Block: cannot assign a int to sub-module .inner. \(nn.Module"):
        block.inner = 3
    assert "scale" in dict(block.named_parameters()) and "inner" in dict(block.named_children())
    block.inner = None
    assert [name for name, _ in block.named_parameters()][:2] == ["scale", "stack.0.weight"]
    del block.scale
    assert "scale" not in dict(block.named_parameters())

    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"Forgetful: call super\(\).__init__\(\) before assigning "
                                             r"'weight'"):
        Forgetful()


def test_parameter_is_a_float_tensor_that_requires_grad():
    p = nn.Parameter(np.arange(3.0), dtype="float32")
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.dtype == np.float32
    assert repr(p).startswith("Parameter containing:\nTensor([0., 1., 2.]")
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        nn.Parameter(np.arange(3))
    assert type(p * 2) is tg.Tensor  # results of ops are plain tensors


def test_state_dict_is_an_ordered_copy():
    block = Block()
    state = block.state_dict()
    assert list(state) == NAMES
    state["inner.weight"][...] = 7.0
    assert not np.any(block.inner.weight.data == 7.0)
    assert all(isinstance(v, np.ndarray) for v in state.values())


def test_load_state_dict_round_trip_keeps_parameter_arrays():
    source, target = Block(), Block()
    for p in source.parameters():
        p.data += 1.0
    arrays = [p.data for p in target.parameters()]
    assert target.load_state_dict(source.state_dict()) == ([], [])
    for name, p in target.named_parameters():
        np.testing.assert_array_equal(p.data, source.state_dict()[name])
    # Copied in place: an optimizer holding these arrays sees the new values.
    assert all(p.data is array for p, array in zip(target.parameters(), arrays))


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    block = Block()
    before = block.state_dict()
    state = block.state_dict()
    del state["inner.bias"], state["scale"]
    state["inner.weight"] = np.zeros((3, 4), dtype=np.float32)
    state["stack.1.bias"] = np.zeros(2, dtype=np.float64)
    state["head.weight"] = np.zeros(2)
    state["stack.0.weight"] = [[1.0, 2.0], [3.0]]  # ragged: not an array at all
    with pytest.raises(ValueError) as error:
        block.load_state_dict(state)
    message = str(error.value)
    assert message.startswith("Block.load_state_dict: 5 problem(s)")
    assert "'stack.0.weight' is not an array: setting an array element with a sequence" in message
    assert "shape mismatch for 'inner.weight': the state has (3, 4), the model has (4, 3)" in message
    assert "dtype mismatch for 'stack.1.bias': the state has float64, the model has float32" in message
    assert "missing keys: 'scale', 'inner.bias'" in message
    assert "unexpected keys: 'head.weight'" in message
    for name, value in block.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_not_strict():
    block = Block()
    state = {"inner.weight": np.ones((4, 3), dtype=np.float32), "extra": np.zeros(1)}
    result = block.load_state_dict(state, strict=False)
    assert result.missing_keys == [n for n in NAMES if n != "inner.weight"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(block.inner.weight.data, 1.0)
    with pytest.raises(ValueError, match=r"shape mismatch for 'inner.bias'"):
        block.load_state_dict({"inner.bias": np.zeros(5, dtype=np.float32)}, strict=False)
    with pytest.raises(TypeError, match=r"Block.load_state_dict: expected a mapping"):
        block.load_state_dict([("scale", np.zeros(1))])


def test_to_float64_then_gradcheck():
    block = Block()
    x = tg.randn(2, 3)
    block(x).sum().backward()
    parameters = list(block.parameters())
    assert block.to(np.float64) is block
    assert list(block.parameters()) == parameters  # the same Parameter objects
    # Gradients follow their parameters, as in PyTorch (they were cleared: backward(); to();
    # step() then updated nothing).
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in parameters)
    kept = parameters[0].data
    assert block.to(np.float64).parameters().__next__().data is kept  # nothing to cast: kept
    x64 = tg.Tensor(x.data.astype(np.float64), requires_grad=True)
    names = [name for name, _ in block.named_parameters()]
    assert tg.gradcheck(lambda x, *_: block(x), [x64, *parameters], names=["x", *names])
    with pytest.raises(TypeError, match=r"Block.to: parameters must have a floating-point dtype, got int64"):
        block.to(np.int64)


def test_double_and_float_cast_like_to():
    block = Block()
    parameters = list(block.parameters())
    assert block.double() is block and all(p.dtype == np.float64 for p in parameters)
    assert block.float() is block and all(p.dtype == np.float32 for p in parameters)
    assert list(block.parameters()) == parameters


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    block = Block()
    assert block.requires_grad_(False) is block
    assert not any(p.requires_grad for p in block.parameters())
    x = tg.randn(2, 3, requires_grad=True)
    block(x).sum().backward()  # the input still gets its gradient through frozen weights
    assert x.grad is not None and all(p.grad is None for p in block.parameters())
    block.requires_grad_()
    block(x).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    with pytest.raises(TypeError, match=r"Block.requires_grad_: expected True or False, got 'no'"):
        block.requires_grad_("no")


def test_apply_visits_children_before_parents_and_returns_self():
    block = Block()
    visited = []
    assert block.apply(lambda module: visited.append(module)) is block
    expected = [module for module in block.modules() if module is not block]
    assert visited[-1] is block and sorted(map(id, visited[:-1])) == sorted(map(id, expected))
    for module in visited[:-1]:  # every module comes after all of its own sub-modules
        inner = [sub for sub in module.modules() if sub is not module]
        assert all(visited.index(sub) < visited.index(module) for sub in inner)
    with pytest.raises(TypeError, match=r"Block.apply: fn must be callable, got int"):
        block.apply(3)


def test_zero_grad():
    block = Block()
    block(tg.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())
    block(tg.randn(2, 3)).sum().backward()
    block.zero_grad(set_to_none=False)  # PyTorch's option: zeros, kept for the next backward
    assert all(p.grad is not None and not p.grad.any() for p in block.parameters())


def test_train_eval_flags():
    block = Block()
    assert block.training and block.stack[0].training
    block.eval()
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    with pytest.raises(ValueError, match=r"Block.train: mode must be a bool, got 'False'"):
        block.train("False")  # a truthy string would have left dropout on, as torch refuses it
    assert block.train(np.bool_(False)).training is False


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    layers.append(nn.Linear(3, 1))
    assert len(layers) == 3 and layers[-1].out_features == 1
    with pytest.raises(IndexError, match=r"ModuleList: index 3 is out of range for 3 modules"):
        layers[3]
    with pytest.raises(TypeError, match=r"ModuleList: index must be an int or a slice, got str"):
        layers["0"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    with pytest.raises(TypeError, match="ModuleList: expected a Module, got int"):
        layers.append(3)
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        layers(tg.zeros(2))
    model = nn.Sequential(*layers)
    x = tg.randn(5, 2)
    expected = layers[2](layers[1](layers[0](x)))
    np.testing.assert_allclose(model(x).data, expected.data)
    assert isinstance(model[:2], nn.Sequential) and model[:2](x).shape == (5, 3)


def test_repr_is_nested_like_pytorch():
    assert repr(Block()) == (
        "Block(\n"
        "  (inner): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (stack): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=4, bias=False)\n"
        "    (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Linear(2, 3, dtype="float64")) == (
        "Linear(in_features=2, out_features=3, bias=True, dtype=float64)")


# -- found by an audit against torch.nn ----------------------------------------------------------
def test_a_sequential_slice_keeps_the_names_and_a_module_list_slice_renumbers_as_in_pytorch():
    layers = [nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 4), nn.Linear(4, 1)]
    sequential = nn.Sequential(*layers)
    assert list(sequential[1:].state_dict()) == ["2.weight", "2.bias", "3.weight", "3.bias"]
    assert list(sequential[::2].state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(nn.ModuleList(layers)[1:].state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(sequential[2:](x).data, layers[3](layers[2](x)).data)
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 4),
                                 torch.nn.Linear(4, 1))
    assert list(theirs[1:].state_dict()) == list(sequential[1:].state_dict())
    assert list(theirs[::2].state_dict()) == list(sequential[::2].state_dict())


def test_a_module_held_twice_is_one_child_and_applied_once_as_in_pytorch():
    shared = nn.Linear(2, 2)
    pair = nn.Sequential(shared, shared)
    calls = []
    pair.apply(lambda module: calls.append(type(module).__name__))
    assert calls == ["Linear", "Sequential"] and list(pair.children()) == [shared]
    assert list(pair.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # saved under both


def test_a_sub_module_set_to_none_keeps_its_place_as_in_pytorch():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(1, 1), nn.Linear(1, 1)

    two = Two()
    two.a = None
    assert list(two.state_dict()) == ["b.weight", "b.bias"] and "(a): None" in repr(two)
    assert [name for name, _ in two.named_children()] == ["b"]
    two.a = nn.Linear(1, 1)  # it came back after b, reordering parameters() and the optimizer's state
    assert list(two.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_train_and_eval_reach_a_child_through_its_own_train_as_in_pytorch():
    calls = []

    class Child(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    model = nn.Sequential(nn.Sequential(Child()))
    model.eval()
    assert calls == [False] and not any(module.training for module in model.modules())
    model.train()
    assert calls == [False, True] and all(module.training for module in model.modules())


def test_a_module_that_holds_itself_lists_its_parameters_once():
    looped = nn.Sequential(nn.Linear(1, 1))
    looped.append(looped)  # named_parameters() recursed until RecursionError; torch lists them
    assert [name for name, _ in looped.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(looped.parameters())) == 2


def test_containers_take_item_assignment_deletion_insert_and_named_sequentials_as_pytorch():
    from collections import OrderedDict

    def layers():
        return [nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 2), nn.Linear(2, 1)]

    sequential = nn.Sequential(*layers())
    del sequential[1]  # the rest renumbered, as PyTorch's
    assert list(sequential.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight",
                                             "2.bias"]
    listed = nn.ModuleList(layers())
    listed.insert(1, nn.ReLU())
    listed.insert(-1, nn.Tanh())  # list.insert's meaning (PyTorch 2.13 fails with a KeyError)
    assert [type(module).__name__ for module in listed] == ["Linear", "ReLU", "Tanh", "Linear", "Tanh",
                                                           "Linear"]
    replacement = nn.Linear(1, 3)
    listed[-1] = replacement
    assert listed[5] is replacement and list(listed.state_dict())[-2:] == ["5.weight", "5.bias"]
    del listed[1:3]
    assert [type(module).__name__ for module in listed] == ["Linear", "Linear", "Tanh", "Linear"]
    named = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["encoder.weight", "encoder.bias"]
    assert named(tg.randn(4, 2)).shape == (4, 3)
    with pytest.raises(TypeError, match=r"ModuleList: expected a Module, got int"):
        listed[0] = 3
    with pytest.raises(IndexError, match=r"ModuleList: index 9 is out of range for 4 modules"):
        del listed[9]
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(*[torch.nn.Linear(1, 1), torch.nn.Tanh(), torch.nn.Linear(1, 2),
                                   torch.nn.Linear(2, 1)])
    del theirs[1]
    assert list(theirs.state_dict()) == list(sequential.state_dict())


def test_recurse_false_yields_only_the_modules_own_parameters_as_pytorch():
    block = Block()
    assert [name for name, _ in block.named_parameters(recurse=False)] == ["scale"]
    assert [p.shape for p in block.parameters(recurse=False)] == [(1,)]
    assert [name for name, _ in block.named_parameters("m", recurse=False)] == ["m.scale"]
    assert list(block.stack.parameters(recurse=False)) == []


def test_named_modules_takes_memo_and_remove_duplicate_as_pytorch():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sequential(shared))
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "1.0"]
    assert [name for name, _ in model.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "1.0.weight", "1.0.bias"]
    memo = {shared}  # modules already seen elsewhere are skipped, and the rest are added
    assert [name for name, _ in model.named_modules(memo, "net")] == ["net", "net.1"]
    assert len(memo) == 3 and list(model.named_modules(memo)) == []


def test_a_module_that_holds_itself_can_still_be_saved():
    looped = nn.Sequential(nn.Linear(1, 1))
    looped.append(looped)  # state_dict walked the loop until RecursionError (torch does too)
    assert list(looped.state_dict()) == ["0.weight", "0.bias"]
    assert [name for name, _ in looped.named_modules(remove_duplicate=False)] == ["", "0"]


def test_a_module_whose_class_defines_eq_can_be_walked():
    class Compared(nn.Linear):
        def __eq__(self, other):  # and so no __hash__
            return isinstance(other, Compared)

    model = nn.Sequential(Compared(1, 1), Compared(1, 1))
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]


def test_register_parameter_add_module_and_lookup_by_dotted_name_as_pytorch():
    block = Block()
    block.register_parameter("offset", nn.Parameter([0.5]))
    block.add_module("extra", nn.Linear(2, 1))
    block.register_module("spare", None)  # keeps a place, as a sub-module set to None
    block.register_parameter("later", None)
    assert [name for name, _ in block.named_parameters()] == [
        "scale", "offset", *NAMES[1:], "extra.weight", "extra.bias"]
    assert block.offset is block.get_parameter("offset") and block.spare is None
    assert block.get_submodule("stack.1") is block.stack[1] and block.get_submodule("") is block
    assert block.get_parameter("stack.1.bias") is block.stack[1].bias
    block.later = nn.Parameter([1.0])  # the reserved name took its place among the parameters
    assert [name for name, _ in block.named_parameters()][:3] == ["scale", "offset", "later"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.register_parameter("a.b", None), KeyError,
         r"register_parameter: the name 'a\.b' contains '\.'"),
        (lambda m: m.register_parameter("", None), ValueError, r"register_parameter: the name '' is empty"),
        (lambda m: m.register_parameter("inner", nn.Parameter([1.0])), KeyError,
         r"Block\.register_parameter: the name 'inner' is already an attribute"),
        (lambda m: m.register_parameter("w", tg.Tensor([1.0])), TypeError,
         r"register_parameter: 'w' must be an nn.Parameter or None, got Tensor"),
        (lambda m: m.add_module(3, nn.Linear(1, 1)), TypeError,
         r"add_module: the name must be a str, got int"),
        (lambda m: m.add_module("scale", nn.Linear(1, 1)), ValueError,
         r"the name 'scale' is already an attribute"),
        (lambda m: m.add_module("x", nn.Parameter([1.0])), TypeError,
         r"add_module: 'x' must be an nn.Module or None, got Parameter"),
        (lambda m: m.get_submodule("stack.7"), AttributeError,
         r"get_submodule: stack has no sub-module '7' \(looking up 'stack\.7'\)"),
        (lambda m: m.get_parameter("inner.gain"), AttributeError,
         r"get_parameter: inner has no parameter 'gain' \(looking up 'inner\.gain'\)"),
        (lambda m: m.get_parameter("nothing"), AttributeError,
         r"get_parameter: Block has no parameter 'nothing'"),
    ],
)
def test_registration_and_lookup_refuse_bad_names_clearly(call, error, message):
    block = Block()
    with pytest.raises(error, match=message) as caught:
        call(block)
    assert not str(caught.value).startswith("'")  # a KeyError without its quotes
    assert [name for name, _ in block.named_parameters()] == NAMES  # nothing registered


def test_traversal_names_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        shared = lib.Linear(2, 2)
        return lib.Sequential(shared, lib.Sequential(shared, lib.Tanh()), lib.Linear(2, 1))

    ours, theirs = build(nn), build(torch.nn)
    for call in (lambda m: [n for n, _ in m.named_modules()],
                 lambda m: [n for n, _ in m.named_modules(prefix="x", remove_duplicate=False)],
                 lambda m: [n for n, _ in m.named_parameters(remove_duplicate=False)],
                 lambda m: [n for n, _ in m.named_parameters(recurse=False)],
                 lambda m: [n for n, _ in m[1].named_parameters("p", recurse=True)],
                 lambda m: [n for n, _ in m.named_children()],
                 lambda m: list(m.state_dict())):
        assert call(ours) == call(theirs)


def test_module_dict_is_a_mapping_of_registered_modules_as_pytorch():
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 1)
    heads.update([("c", nn.Tanh())])
    assert list(heads) == ["a", "b", "c"] and len(heads) == 3 and "b" in heads and "z" not in heads
    assert [name for name, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert list(heads.keys()) == ["a", "b", "c"] and [type(m).__name__ for m in heads.values()] == [
        "Linear", "Linear", "Tanh"]
    replacement = nn.Linear(2, 3)
    heads["a"] = replacement  # replaced in place: its position is kept
    assert list(heads.items())[0] == ("a", replacement)
    assert heads.pop("b") is not None and list(heads) == ["a", "c"]
    del heads["c"]
    assert list(heads.state_dict()) == ["a.weight", "a.bias"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    with pytest.raises(KeyError):
        heads["missing"]
    with pytest.raises(KeyError, match=r"ModuleDict.add_module: the name 'x\.y' contains '\.'"):
        heads["x.y"] = nn.Tanh()
    with pytest.raises(TypeError, match=r"ModuleDict.add_module: 'w' must be an nn.Module or None, got int"):
        heads["w"] = 3
    with pytest.raises(TypeError, match=r"ModuleDict.update: item 0 is not a \(name, module\) pair"):
        heads.update([nn.Tanh()])
    with pytest.raises(TypeError, match=r"ModuleDict.update: expected a mapping .* got Tanh"):
        nn.ModuleDict(nn.Tanh())


# -- buffers: state that is saved but not trained, as torch.nn.Module's ------------------------
class Buffered(nn.Module):
    """Block's layout with buffers around its parameters: ``count`` (int64, persistent),
    ``mean`` (float32, persistent), ``scratch`` (not persistent) and ``stack.0.shift``."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter([2.0])
        self.register_buffer("count", tg.Tensor(np.array([0, 1], dtype=np.int64)))
        self.inner = nn.Linear(3, 4, rng=np.random.default_rng(0))
        self.register_buffer("mean", tg.Tensor(np.zeros(4, dtype=np.float32)))
        self.register_buffer("scratch", tg.Tensor(np.ones(3, dtype=np.float32)), persistent=False)
        self.stack = nn.Sequential(nn.Linear(4, 2, rng=np.random.default_rng(1)))
        self.stack[0].register_buffer("shift", tg.Tensor(np.full(2, 0.5, dtype=np.float32)))


# torch's order: each module's parameters, then its persistent buffers, then its children's.
BUFFERED_KEYS = ["scale", "count", "mean", "inner.weight", "inner.bias", "stack.0.weight", "stack.0.bias",
                 "stack.0.shift"]


def test_buffers_are_registered_tensors_that_state_dict_saves_and_optimizers_never_see():
    model = Buffered()
    assert list(model.state_dict()) == BUFFERED_KEYS
    assert [name for name, _ in model.named_buffers()] == ["count", "mean", "scratch", "stack.0.shift"]
    assert [name for name, _ in model.named_parameters()] == [
        "scale", "inner.weight", "inner.bias", "stack.0.weight", "stack.0.bias"]
    assert [b.shape for b in model.buffers()] == [(2,), (4,), (3,), (2,)]
    assert [name for name, _ in model.named_buffers("m", recurse=False)] == ["m.count", "m.mean", "m.scratch"]
    assert list(model.stack.buffers(recurse=False)) == []
    assert model.mean is model.get_buffer("mean")
    assert model.get_buffer("stack.0.shift") is model.stack[0].shift
    assert not any(buffer.requires_grad for buffer in model.buffers())
    state = model.state_dict()
    state["mean"][...] = 7.0  # a copy, as for parameters
    assert not model.mean.data.any() and state["count"].dtype == np.int64
    model.count.data[...] = 3
    assert model.state_dict()["count"].tolist() == [3, 3]
    # zero_grad, train/eval, apply, named_modules and repr do not see buffers
    model.zero_grad(set_to_none=False)
    assert all(buffer.grad is None for buffer in model.buffers())
    assert [name for name, _ in model.named_modules()] == ["", "inner", "stack", "stack.0"]
    assert repr(model) == (
        "Buffered(\n"
        "  (inner): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (stack): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )


def test_a_buffer_set_to_none_keeps_its_place_and_registering_again_replaces():
    model = Buffered()
    model.count = None  # as torch: kept as a name, skipped by buffers() and state_dict()
    assert model.count is None and model.get_buffer("count") is None
    assert "count" not in model.state_dict() and "count" not in dict(model.named_buffers())
    replacement = tg.Tensor(np.arange(5))
    model.count = replacement  # back in its place, before "mean"
    assert list(model.state_dict()) == BUFFERED_KEYS and model.count is replacement
    model.register_buffer("later", None)
    assert model.later is None and list(model.state_dict()) == BUFFERED_KEYS
    model.register_buffer("mean", tg.zeros(1), persistent=False)  # registering again replaces
    assert "mean" not in model.state_dict() and model.mean.shape == (1,)
    model.mean = tg.zeros(2)  # an assigned tensor keeps the buffer's persistence
    assert "mean" not in model.state_dict() and "mean" in dict(model.named_buffers())
    model.register_buffer("mean", model.mean)  # persistent again, in its place
    assert list(model.state_dict()) == BUFFERED_KEYS


def test_a_plain_tensor_attribute_is_not_a_buffer_and_del_removes_a_buffer():
    model = Buffered()
    model.note = tg.zeros(2)  # as torch: only register_buffer makes a buffer
    assert "note" not in dict(model.named_buffers()) and "note" not in model.state_dict()
    del model.mean
    assert not hasattr(model, "mean") and "mean" not in dict(model.named_buffers())
    assert "mean" not in model.state_dict()
    model.mean = nn.Parameter([1.0])  # the name is free again: now a parameter
    assert "mean" in dict(model.named_parameters())
    del model.scratch
    model.register_buffer("scratch", tg.zeros(1))  # persistent by default: the old flag is gone
    assert list(model.state_dict())[:4] == ["scale", "mean", "count", "scratch"]


def test_assigning_a_parameter_or_a_module_to_a_buffer_name_takes_it_over_as_in_pytorch():
    model = Buffered()
    model.scratch = nn.Parameter([1.0])
    model.mean = nn.Linear(1, 1)
    assert [name for name, _ in model.named_buffers()] == ["count", "stack.0.shift"]
    assert list(model._parameters) == ["scale", "scratch"] and list(model._modules)[-1] == "mean"
    assert "scratch" in model.state_dict() and "mean.weight" in model.state_dict()
    assert model._non_persistent_buffers == set()  # scratch's flag went with the buffer
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Module()
    theirs.register_buffer("scratch", torch.ones(1), persistent=False)
    theirs.register_buffer("mean", torch.zeros(1))
    theirs.scratch = torch.nn.Parameter(torch.ones(1))
    theirs.mean = torch.nn.Linear(1, 1)
    assert list(theirs.named_buffers()) == [] and list(theirs.state_dict()) == [
        "scratch", "mean.weight", "mean.bias"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.register_buffer("a.b", None), KeyError,
         r"^Buffered\.register_buffer: the name 'a\.b' contains '\.'$"),
        (lambda m: m.register_buffer("", None), ValueError,
         r"^Buffered\.register_buffer: the name '' is empty$"),
        (lambda m: m.register_buffer(3, None), TypeError,
         r"^Buffered\.register_buffer: the name must be a str, got int$"),
        (lambda m: m.register_buffer("scale", tg.zeros(1)), KeyError,
         r"^Buffered\.register_buffer: the name 'scale' is already an attribute$"),
        (lambda m: m.register_buffer("inner", None), KeyError, r"the name 'inner' is already an attribute"),
        (lambda m: m.register_buffer("training", None), KeyError, r"the name 'training' is already"),
        (lambda m: m.register_parameter("mean", None), KeyError,
         r"^Buffered\.register_parameter: the name 'mean' is already an attribute$"),
        (lambda m: m.add_module("count", nn.Tanh()), KeyError,
         r"^Buffered\.add_module: the name 'count' is already an attribute$"),
        (lambda m: m.register_buffer("w", 3), TypeError,
         r"^Buffered\.register_buffer: buffer 'w' must be a Tensor or None, got int$"),
        (lambda m: m.register_buffer("w", np.zeros(2)), TypeError,
         r"^Buffered\.register_buffer: buffer 'w' must be a Tensor or None, got ndarray; wrap the array "
         r"in tg\.Tensor\(\.\.\.\)$"),
        (lambda m: m.register_buffer("w", tg.zeros(2, requires_grad=True)), ValueError,
         r"^Buffered\.register_buffer: buffer 'w' cannot hold a Tensor that requires grad .*\.detach\(\)$"),
        (lambda m: m.register_buffer("w", nn.Parameter([1.0])), ValueError,
         r"buffer 'w' cannot hold a Parameter that requires grad \(buffers are not trained\); register it "
         r"as an nn\.Parameter"),
        (lambda m: m.register_buffer("w", tg.zeros(1), persistent="no"), TypeError,
         r"^Buffered\.register_buffer: persistent must be a bool, got 'no'$"),
        (lambda m: setattr(m, "mean", 3.0), TypeError,
         r"^Buffered: buffer 'mean' must be a Tensor or None, got float$"),
        (lambda m: setattr(m, "mean", np.zeros(4)), TypeError,
         r"^Buffered: buffer 'mean' must be a Tensor or None, got ndarray; wrap the array"),
        (lambda m: setattr(m, "count", tg.zeros(2, requires_grad=True)), ValueError,
         r"^Buffered: buffer 'count' cannot hold a Tensor that requires grad"),
        (lambda m: m.get_buffer("gain"), AttributeError,
         r"^Buffered\.get_buffer: Buffered has no buffer 'gain' \(looking up 'gain'\)$"),
        (lambda m: m.get_buffer("scale"), AttributeError, r"Buffered has no buffer 'scale'"),
        (lambda m: m.get_buffer("stack.0.weight"), AttributeError,
         r"^Buffered\.get_buffer: stack\.0 has no buffer 'weight' \(looking up 'stack\.0\.weight'\)$"),
        (lambda m: m.get_buffer("stack.3.shift"), AttributeError,
         r"^Buffered\.get_submodule: stack has no sub-module '3' \(looking up 'stack\.3'\)$"),
        (lambda m: m.get_parameter("mean"), AttributeError,
         r"get_parameter: Buffered has no parameter 'mean'"),
    ],
)
def test_buffer_registration_and_lookup_refuse_bad_names_and_values_clearly(call, error, message):
    model = Buffered()
    before = {name: buffer for name, buffer in model.named_buffers()}
    with pytest.raises(error, match=message) as caught:
        call(model)
    assert not str(caught.value).startswith("'")  # a KeyError without its quotes
    assert dict(model.named_buffers()) == before and list(model.state_dict()) == BUFFERED_KEYS


def test_named_buffers_gives_dotted_names_and_removes_duplicates_as_pytorch():
    shared_buffer = tg.zeros(2)
    inner = nn.Module()
    inner.register_buffer("running", shared_buffer)
    inner.register_buffer("alias", shared_buffer)  # one tensor under two names
    outer = nn.Sequential(inner, nn.Sequential(inner))  # one module under two names
    assert [name for name, _ in outer.named_buffers()] == ["0.running"]
    assert [name for name, _ in outer.named_buffers(remove_duplicate=False)] == [
        "0.running", "0.alias", "1.0.running", "1.0.alias"]
    assert [name for name, _ in outer.named_buffers("net")] == ["net.0.running"]
    assert list(outer.buffers()) == [shared_buffer]
    # state_dict saves a tensor under every name that reaches it, as it does parameters
    assert list(outer.state_dict()) == ["0.running", "0.alias", "1.0.running", "1.0.alias"]
    looped = nn.Sequential(inner)
    looped.append(looped)
    assert [name for name, _ in looped.named_buffers()] == ["0.running"]


BUFFER_DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_]


@given(dtypes=st.lists(st.sampled_from(BUFFER_DTYPES), min_size=1, max_size=5),
       target=st.sampled_from([np.float16, np.float32, np.float64]))
def test_to_casts_floating_buffers_and_keeps_the_others_as_pytorch(dtypes, target):
    model = nn.Sequential(nn.Linear(2, 2))
    for position, dtype in enumerate(dtypes):  # alternately the Sequential's and the Linear's
        owner = model if position % 2 else model[0]
        owner.register_buffer(f"b{position}", tg.Tensor(np.arange(3).astype(dtype)))
    by_name = dict(model.named_buffers())
    buffers = [by_name[f"b{p}" if p % 2 else f"0.b{p}"] for p in range(len(dtypes))]

    def cast(dtype, to):
        return to if np.issubdtype(dtype, np.floating) else dtype

    assert model.to(target) is model and dict(model.named_buffers()) == by_name  # the same Tensors
    for buffer, dtype in zip(buffers, dtypes):
        assert buffer.dtype == cast(dtype, target) and not buffer.requires_grad
        np.testing.assert_array_equal(buffer.data, np.arange(3).astype(dtype).astype(cast(dtype, target)))
    for method, floating in ((model.double, np.float64), (model.float, np.float32)):
        assert method() is model
        assert [b.dtype for b in buffers] == [cast(d, floating) for d in dtypes]


def buffered_module(specs: list[tuple[tuple[int, ...], type, bool]], fill: float) -> nn.Module:
    """A Linear holding one buffer per ``(shape, dtype, persistent)``, in a Sequential, its
    values ``fill`` + position (buffers "0.b0", "0.b1", ...)."""
    layer = nn.Linear(2, 2, rng=np.random.default_rng(int(fill)))
    for position, (shape, dtype, persistent) in enumerate(specs):
        values = np.full(shape, fill + position).astype(dtype)
        layer.register_buffer(f"b{position}", tg.Tensor(values), persistent=persistent)
    return nn.Sequential(layer)


buffer_specs = st.lists(st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
                                  st.sampled_from(BUFFER_DTYPES), st.booleans()), max_size=4)


@given(specs=buffer_specs)
def test_load_state_dict_copies_persistent_buffers_in_place_and_round_trips_a_checkpoint(
        specs, tmp_path_factory):
    source, target = buffered_module(specs, 1.0), buffered_module(specs, 5.0)
    arrays = [buffer.data for buffer in target.buffers()]
    saved = tmp_path_factory.mktemp("buffers") / "model.npz"
    tg.save({"model": source.state_dict()}, str(saved))
    loaded = tg.load(str(saved))["model"]
    assert list(loaded) == list(source.state_dict())
    assert target.load_state_dict(loaded) == ([], [])
    assert all(buffer.data is array for buffer, array in zip(target.buffers(), arrays))  # in place
    for (name, buffer), (_, original), (_, _, persistent) in zip(target.named_buffers(),
                                                                  source.named_buffers(), specs):
        if persistent:
            assert buffer.dtype == original.dtype and name in target.state_dict()
            np.testing.assert_array_equal(buffer.data, original.data)
        else:  # not saved, so not loaded: it keeps the target's values
            assert name not in loaded
            np.testing.assert_array_equal(buffer.data, buffered_module(specs, 5.0).get_buffer(name).data)


def test_load_state_dict_reports_buffer_problems_with_the_parameters_and_changes_nothing():
    model = Buffered()
    before = model.state_dict()
    state = model.state_dict()
    del state["stack.0.shift"]
    state["mean"] = np.zeros(5, dtype=np.float32)
    state["count"] = np.zeros(2, dtype=np.int32)
    state["inner.bias"] = np.zeros(4, dtype=np.float64)
    state["scratch"] = np.ones(3, dtype=np.float32)  # a non-persistent buffer's key: unexpected, as torch
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert message.startswith("Buffered.load_state_dict: 5 problem(s)")
    assert "shape mismatch for 'mean': the state has (5,), the model has (4,)" in message
    # no "cast the model with .to()" for an integer buffer: to() casts floating tensors only
    assert "dtype mismatch for 'count': the state has int32, the model has int64\n" in message
    assert ("dtype mismatch for 'inner.bias': the state has float64, the model has float32 (cast the model "
            "with .to('float64')") in message
    assert "missing keys: 'stack.0.shift'" in message and "unexpected keys: 'scratch'" in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    np.testing.assert_array_equal(model.scratch.data, 1.0)


def test_a_state_dict_saved_before_the_module_had_buffers_loads_where_it_did():
    """A checkpoint of parameters only: strict loading names the buffers it lacks, and
    strict=False loads the parameters and leaves the buffers, as in torch."""
    model = Buffered()
    old = {name: np.full(p.shape, 0.25, dtype=p.dtype) for name, p in model.named_parameters()}
    with pytest.raises(ValueError,
                       match=r"1 problem\(s\):\n  missing keys: 'count', 'mean', 'stack\.0\.shift'$"):
        model.load_state_dict(old)
    assert model.load_state_dict(old, strict=False) == (["count", "mean", "stack.0.shift"], [])
    assert all((p.data == 0.25).all() for p in model.parameters())
    assert model.count.data.tolist() == [0, 1]


def test_the_librarys_models_hold_no_buffers_so_their_checkpoint_keys_are_unchanged():
    from tinygrad_rnn.nn.models import RecurrentModel

    for cell in ("rnn", "lstm", "gru"):
        model = RecurrentModel(cell, input_size=5, hidden_size=4, output_size=5, num_layers=2)
        assert list(model.buffers()) == []
        names = [name for name, _ in model.named_parameters(remove_duplicate=False)]
        assert list(model.state_dict()) == names


MEMBER_KINDS = ("parameter", "buffer", "non_persistent", "none_buffer", "same_buffer", "child", "same_child")


@st.composite
def module_recipes(draw, depth: int = 2) -> list:
    """A module tree to build in both libraries: a list of (name, kind, dtype, sub-recipe);
    "same_buffer"/"same_child" register again the last buffer/child made anywhere before."""
    recipe = []
    for name in draw(st.lists(st.sampled_from("abcde"), unique=True, max_size=4)):
        kind = draw(st.sampled_from(MEMBER_KINDS if depth else MEMBER_KINDS[:5]))
        dtype = draw(st.sampled_from(["float32", "int64"]))
        recipe.append((name, kind, dtype, draw(module_recipes(depth - 1)) if kind == "child" else None))
    return recipe


def build_module(recipe: list, module_class, parameter, tensor):
    """``recipe`` built with one library's ``Module`` class and makers of a parameter and a
    buffer of a dtype (named as a string)."""
    last = {"buffer": None, "child": None}

    def build(recipe):
        module = module_class()
        for name, kind, dtype, sub_recipe in recipe:
            if kind == "parameter":
                module.register_parameter(name, parameter())
            elif kind in ("buffer", "non_persistent"):
                last["buffer"] = tensor(dtype)
                module.register_buffer(name, last["buffer"], persistent=kind == "buffer")
            elif kind == "none_buffer":
                module.register_buffer(name, None)
            elif kind == "child":
                last["child"] = build(sub_recipe)
                module.add_module(name, last["child"])
            elif last[kind.removeprefix("same_")] is not None:  # a finished one: never an ancestor
                shared = last[kind.removeprefix("same_")]
                (module.add_module if kind == "same_child" else module.register_buffer)(name, shared)
        return module

    return build(recipe)


@given(recipe=module_recipes())
def test_buffer_names_state_dict_order_and_casting_match_torch(recipe):
    torch = pytest.importorskip("torch")
    ours = build_module(recipe, nn.Module, lambda: nn.Parameter(np.zeros(2)),
                        lambda dtype: tg.Tensor(np.zeros(2, dtype=dtype)))
    theirs = build_module(recipe, torch.nn.Module, lambda: torch.nn.Parameter(torch.zeros(2)),
                          lambda dtype: torch.zeros(2, dtype=getattr(torch, dtype)))
    for view in (lambda m: list(m.state_dict()),
                 lambda m: [name for name, _ in m.named_buffers()],
                 lambda m: [name for name, _ in m.named_buffers(remove_duplicate=False)],
                 lambda m: [name for name, _ in m.named_buffers("p", recurse=False)],
                 lambda m: [name for name, _ in m.named_parameters()],
                 lambda m: len(list(m.buffers())),
                 # torch's double() puts a new tensor under each name, so one buffer held under
                 # two names is two after it (ours stays one): compare by every name
                 lambda m: [(name, str(buffer.dtype).removeprefix("torch."))
                            for name, buffer in m.double().named_buffers(remove_duplicate=False)]):
        assert view(ours) == view(theirs)
    parameters_only = {name: np.zeros(2) for name, _ in ours.named_parameters(remove_duplicate=False)}
    result = ours.load_state_dict(parameters_only, strict=False)
    expected = theirs.load_state_dict({name: torch.zeros(2, dtype=torch.float64) for name in parameters_only},
                                      strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)

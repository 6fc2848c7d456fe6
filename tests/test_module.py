"""Module bookkeeping: registration order, state_dict, load_state_dict, to(), zero_grad, repr."""

from __future__ import annotations

import numpy as np
import pytest

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

"""``Parameter`` and ``Module``: the bookkeeping that turns tensors into a model.

A :class:`Module` registers every :class:`Parameter` and sub-module assigned to one
of its attributes, in assignment order, so ``named_parameters()`` yields dotted names
(``rnn.weight_ih_l0``) in a stable order that ``state_dict`` and checkpoints rely on.
Modules only compose the engine's ops; none of them writes backward code.

>>> import tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> class TwoLayer(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.hidden = nn.Linear(3, 4)
...         self.out = nn.Linear(4, 2)
...     def forward(self, x):
...         return self.out(self.hidden(x).tanh())
>>> [name for name, _ in TwoLayer().named_parameters()]
['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor


class NameClashError(KeyError, ValueError):
    """A name that ``register_parameter``/``add_module`` cannot take: empty, dotted, or held by
    another attribute. A KeyError as in PyTorch, and a ValueError, as bad input is here."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class Parameter(Tensor):
    """A floating-point tensor that a module owns and trains: it always requires grad.

    >>> from tinygrad_rnn import nn
    >>> w = nn.Parameter([[1.0, 2.0]])
    >>> w.requires_grad, w.dtype
    (True, dtype('float32'))
    """

    __slots__ = ()

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def float_dtype(dtype, owner: str) -> np.dtype:
    """``dtype`` as a NumPy floating dtype (float32 when None), or a TypeError naming ``owner``."""
    try:
        resolved = np.dtype(np.float32 if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{owner}: {dtype!r} is not a dtype") from None
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"{owner}: parameters must have a floating-point dtype, got {resolved}")
    return resolved


def positive_int(value, name: str, owner: str) -> int:
    """``value`` as an int >= 1, or an error naming the argument and the module."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be at least 1, got {value}")
    return int(value)


def flag(value, name: str, owner: str) -> bool:
    """``value`` as a bool, or a TypeError naming the argument: ``bias="False"`` is truthy,
    and was taken for True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return bool(value)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: override ``forward``, call the module.

    Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it;
    ``parameters()``, ``state_dict()``, ``to()`` and ``zero_grad()`` then reach it.
    Subclasses call ``super().__init__()`` before assigning anything.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration --------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        parameters = self.__dict__.get("_parameters")
        if parameters is None:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning {name!r}"
            )
        modules = self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            modules[name] = value
        elif name in parameters and isinstance(value, Tensor):
            raise TypeError(
                f"{type(self).__name__}: cannot assign a plain Tensor to parameter {name!r}; "
                "wrap it in nn.Parameter, or change the parameter's .data in place"
            )
        elif value is not None and (name in parameters or name in modules):
            # As PyTorch: only a Parameter (or None, which removes it) may replace a parameter,
            # and only a Module (or None) a sub-module; anything else would silently drop it
            # from parameters(), state_dict() and the optimizer.
            kind, expected = (("parameter", "nn.Parameter") if name in parameters
                              else ("sub-module", "nn.Module"))
            raise TypeError(
                f"{type(self).__name__}: cannot assign a {type(value).__name__} to {kind} {name!r} "
                f"({expected} or None expected); to change a parameter's values, write into its .data"
            )
        elif value is None and name in parameters:
            parameters[name] = None  # as PyTorch: the name keeps its place, for a later Parameter
        elif value is None and name in modules:
            modules[name] = None  # likewise for a sub-module (re-assigned, it kept no place)
        else:
            parameters.pop(name, None)
            modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- traversal -----------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names, in registration order; one
        held under two names (or set to None) is yielded once (not at all), as in PyTorch."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every sub-module, depth first, as PyTorch's.

        Each module is yielded once, and none that is in ``memo`` (a set this call adds the
        yielded modules to); with ``remove_duplicate=False`` a module held under several
        names is yielded under each (a module that contains itself is not entered again).
        """
        if not remove_duplicate:
            yield from self._walk(prefix)
            return
        seen: set[int] = set()  # ids: a module whose class defines __eq__ may not hash
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen or (memo is not None and module in memo):
                continue
            seen.add(id(module))
            if memo is not None:
                memo.add(module)
            yield name, module
            children = [(f"{name}.{child}" if name else child, sub)
                        for child, sub in module._modules.items() if sub is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs: own parameters first, then each sub-module's.

        A parameter shared by two modules is yielded once unless ``remove_duplicate`` is false;
        with ``recurse=False`` only this module's own parameters are yielded.
        """
        seen: set[int] = set()
        walk = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                else [(prefix, self)])
        for module_name, module in walk:
            for name, parameter in module._parameters.items():
                if parameter is None:  # set to None: not a parameter until one is assigned again
                    continue
                if remove_duplicate:
                    if id(parameter) in seen:
                        continue
                    seen.add(id(parameter))
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def _walk(self, prefix: str) -> Iterator[tuple[str, Module]]:
        """Every (name, module) reachable by attributes, repeats included (for shared modules),
        except that a module inside itself is not entered again (that path would never end)."""
        stack = [(prefix, self, (self,))]
        while stack:
            name, module, path = stack.pop()
            yield name, module
            children = [(f"{name}.{child}" if name else child, sub, (*path, sub))
                        for child, sub in module._modules.items()
                        if sub is not None and all(sub is not above for above in path)]
            stack.extend(reversed(children))

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order (what optimizers take)."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    # -- registration by name, and lookup by dotted name, as PyTorch ---------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name``, as ``self.name = param`` does; ``None`` keeps
        the name's place for a parameter assigned later."""
        self._register("register_parameter", name, param, Parameter, self._parameters, self._modules)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name``, as ``self.name = module`` does (None keeps a place)."""
        self._register("add_module", name, module, Module, self._modules, self._parameters)

    register_module = add_module

    def _register(self, method: str, name: Any, value, kind: type, registry: dict, other: dict) -> None:
        """Put ``value`` (a ``kind`` or None) into ``registry`` under a checked ``name``."""
        owner = f"{type(self).__name__}.{method}"
        if not isinstance(name, str):
            raise TypeError(f"{owner}: the name must be a str, got {type(name).__name__}")
        problem = ("is empty" if not name else "contains '.'" if "." in name
                   else "is already an attribute" if hasattr(self, name) and name not in registry
                   else None)
        if problem:
            raise NameClashError(f"{owner}: the name {name!r} {problem}")
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{owner}: {name!r} must be an nn.{kind.__name__} or None, "
                            f"got {type(value).__name__}")
        other.pop(name, None)
        registry[name] = value
        object.__setattr__(self, name, value)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` (``""`` is this module), as PyTorch's."""
        module = self
        for depth, name in enumerate(target.split(".") if target else []):
            found = module._modules.get(name)
            if found is None:
                where = ".".join(target.split(".")[:depth]) or type(self).__name__
                raise AttributeError(f"{type(self).__name__}.get_submodule: {where} has no "
                                     f"sub-module {name!r} (looking up {target!r})")
            module = found
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"rnn.weight_hh_l0"``), as PyTorch's."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        parameter = module._parameters.get(name)
        if parameter is None:
            raise AttributeError(f"{type(self).__name__}.get_parameter: {path or type(self).__name__} "
                                 f"has no parameter {name!r} (looking up {target!r})")
        return parameter

    # -- training helpers ----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to None (or, with ``set_to_none=False``, to zeros)."""
        for parameter in self.parameters():
            parameter.zero_grad(set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set the ``training`` flag here and in every sub-module; return self.

        ``mode`` must be a bool, as in PyTorch (``train("False")`` would be truthy).
        """
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        object.__setattr__(self, "training", bool(mode))
        for child in self.children():  # through their own train(), which a subclass may override
            child.train(bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def to(self, dtype) -> Module:
        """Cast every parameter and its gradient to ``dtype`` (same Parameter objects, as in
        PyTorch; an array already of that dtype is kept); return self.

        >>> import numpy as np
        >>> from tinygrad_rnn import nn
        >>> nn.Linear(2, 3).to(np.float64).weight.dtype
        dtype('float64')
        """
        dtype = float_dtype(dtype, f"{type(self).__name__}.to")
        for parameter in self.parameters():
            grad = parameter.grad  # kept, as PyTorch keeps it: backward(); float(); step() updates
            parameter.data = parameter.data.astype(dtype, copy=False)
            parameter.grad = None if grad is None else grad.astype(dtype, copy=False)
        return self

    def double(self) -> Module:
        """``to(np.float64)``, PyTorch's spelling (what gradient checks need)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``to(np.float32)``, PyTorch's spelling."""
        return self.to(np.float32)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (False freezes the module); return self."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.requires_grad_: expected True or False, "
                            f"got {requires_grad!r}")
        for parameter in self.parameters():
            parameter.requires_grad_(bool(requires_grad))
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module, children before parents, then on self; return self
        (as PyTorch's, e.g. for a custom initialization).

        >>> import numpy as np
        >>> from tinygrad_rnn import nn
        >>> def zero_biases(module):
        ...     if isinstance(module, nn.Linear):
        ...         module.bias.data[...] = 0
        >>> net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)).apply(zero_biases)
        >>> float(np.abs(net[1].bias.data).sum())
        0.0
        """
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}.apply: fn must be callable, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered dict from dotted parameter name to a copy of its array."""
        return OrderedDict(
            (name, parameter.data.copy())
            for name, parameter in self.named_parameters(remove_duplicate=False)
        )

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into the parameters' existing arrays (optimizers keep working).

        Everything is checked before anything is copied. A shape or dtype mismatch is
        always an error; with ``strict`` (the default) so are missing and unexpected
        keys. All problems are reported together in one ValueError. Returns the
        missing and unexpected keys (both empty when ``strict``).
        """
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{owner}.load_state_dict: expected a mapping of name -> array, "
                            f"got {type(state).__name__}")
        own = OrderedDict(self.named_parameters(remove_duplicate=False))
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        values, mismatches = {}, []
        for name, parameter in own.items():
            if name not in state:
                continue
            value = state[name]
            try:
                value = np.asarray(value.data if isinstance(value, Tensor) else value)
            except ValueError as error:  # a ragged nested list, say
                mismatches.append(f"{name!r} is not an array: {error}")
                continue
            if value.shape != parameter.shape:
                mismatches.append(f"shape mismatch for {name!r}: the state has {value.shape}, "
                                  f"the model has {parameter.shape}")
            elif value.dtype != parameter.dtype:
                mismatches.append(f"dtype mismatch for {name!r}: the state has {value.dtype}, "
                                  f"the model has {parameter.dtype} (cast the model with "
                                  f".to({str(value.dtype)!r}) or the arrays with .astype)")
            values[name] = value
        problems = list(mismatches)
        if strict and missing:
            problems.append("missing keys: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(map(repr, unexpected)))
        if problems:
            raise ValueError(f"{owner}.load_state_dict: {len(problems)} problem(s):\n  "
                             + "\n  ".join(problems))
        for name, value in values.items():
            np.copyto(own[name].data, value)
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The module's own settings, shown inside its parentheses by ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = [self.extra_repr()] if self.extra_repr() else []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")  # None too, as PyTorch prints it
            lines.append(f"({name}): {child}")
        if not self._modules:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleList(Module):
    """A list of modules, registered under the names "0", "1", ...

    >>> from tinygrad_rnn import nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    >>> len(layers), [name for name, _ in layers.named_parameters()][-1]
    (2, '1.bias')
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    @classmethod
    def _from_items(cls, items: list[tuple[str, Module]]) -> ModuleList:
        """A slice: a ModuleList numbers its modules afresh, as PyTorch's."""
        return cls([module for _, module in items])

    def _position(self, index: Any, count: int | None = None) -> int:
        """``index`` as a position in [0, count) (count: the modules held), or a named error."""
        count = len(self._modules) if count is None else count
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: index must be an int or a slice, got "
                            f"{type(index).__name__}")
        if not -count <= index < count:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for "
                             f"{count} modules")
        return int(index) % count

    def __getitem__(self, index: int | slice):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return list(self._modules.values())[self._position(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at ``index`` (under its name), as PyTorch's."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        setattr(self, list(self._modules)[self._position(index)], module)

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module(s) at ``index``; the rest are numbered "0", "1", ... again, as
        PyTorch's."""
        keys = list(self._modules)
        doomed = set(keys[index]) if isinstance(index, slice) else {keys[self._position(index)]}
        self._renumber([module for key, module in self._modules.items() if key not in doomed])

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as list.insert); renumber, as PyTorch's."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}.insert: index must be an int, got {type(index).__name__}")
        modules = list(self._modules.values())
        modules.insert(int(index), module)
        self._renumber(modules)

    def _renumber(self, modules: list[Module]) -> None:
        for key in list(self._modules):
            delattr(self, key)
        for position, module in enumerate(modules):
            setattr(self, str(position), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Modules applied one after another: ``Sequential(a, b)(x) == b(a(x))``.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    >>> model(tg.randn(5, 3)).shape
    (5, 2)
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):  # PyTorch's named form
            super().__init__()
            for name, module in modules[0].items():
                if not isinstance(name, str) or not isinstance(module, Module):
                    raise TypeError(f"Sequential: an OrderedDict of str -> Module expected, got "
                                    f"{name!r} -> {type(module).__name__}")
                setattr(self, name, module)
        else:
            super().__init__(modules)

    @classmethod
    def _from_items(cls, items: list[tuple[str, Module]]) -> Sequential:
        """A slice keeps the modules' names, so its state_dict keys are the model's, as in
        PyTorch (``model[1:]`` of four layers holds "1", "2", "3", not "0", "1", "2")."""
        sliced = cls()
        for name, module in items:
            setattr(sliced, name, module)
        return sliced

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleDict(Module):
    """Modules held by name, in insertion order, as ``torch.nn.ModuleDict``: a mapping whose
    entries are registered sub-modules (their parameters are ``"name.weight"``, ...).

    >>> from tinygrad_rnn import nn
    >>> heads = nn.ModuleDict({"chars": nn.Linear(8, 65), "words": nn.Linear(8, 1000)})
    >>> list(heads), heads["chars"].weight.shape
    (['chars', 'words'], (65, 8))
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(key)
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (name, module) pairs, in their order."""
        if isinstance(modules, (str, Module)) or not isinstance(modules, (Mapping, Iterable)):
            raise TypeError(f"ModuleDict.update: expected a mapping or (name, module) pairs, got "
                            f"{type(modules).__name__}")
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: item {position} is not a (name, module) pair")
            self[pair[0]] = pair[1]

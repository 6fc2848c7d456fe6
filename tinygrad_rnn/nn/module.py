"""``Parameter`` and ``Module``: the bookkeeping that turns tensors into a model.

A :class:`Module` registers every :class:`Parameter` and sub-module assigned to one
of its attributes, in assignment order, so ``named_parameters()`` yields dotted names
(``rnn.weight_ih_l0``) in a stable order that ``state_dict`` and checkpoints rely on.
State that is saved but not trained (a loss's class weight, running statistics) is a
buffer: a plain Tensor registered with ``register_buffer``, as in PyTorch.
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

from ..functional import flag  # noqa: F401  (the modules import it from here)
from ..tensor import Tensor, to_arguments


class NameClashError(KeyError, ValueError):
    """A name that ``register_parameter``/``register_buffer``/``add_module`` cannot take: empty,
    dotted, or held by another attribute. A KeyError as in PyTorch, and a ValueError, as bad
    input is here."""

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
    if value > np.iinfo(np.intp).max:  # NumPy would refuse it unnamed: "maximum dimension exceeded"
        raise ValueError(f"{owner}: {name} = {value} is larger than an array axis can be "
                         f"({np.iinfo(np.intp).max})")
    return int(value)


def _check_buffer(value, name: str, owner: str) -> None:
    """Refuse what buffer ``name`` cannot hold: anything but a Tensor or None (a NumPy array
    too, as PyTorch refuses one), or a tensor that requires grad (a buffer is not trained)."""
    if value is None:
        return
    if not isinstance(value, Tensor):
        hint = "; wrap the array in tg.Tensor(...)" if isinstance(value, np.ndarray) else ""
        raise TypeError(f"{owner}: buffer {name!r} must be a Tensor or None, got "
                        f"{type(value).__name__}{hint}")
    if value.requires_grad:
        kind = type(value).__name__
        raise ValueError(f"{owner}: buffer {name!r} cannot hold a {kind} that requires grad (buffers "
                         f"are not trained); register it as an nn.Parameter, or pass .detach()")


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: override ``forward``, call the module.

    Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it;
    ``parameters()``, ``state_dict()``, ``to()`` and ``zero_grad()`` then reach it. A
    buffer is registered with ``register_buffer`` only (a Tensor assigned to a new name is
    a plain attribute), and a Tensor assigned to its name later replaces it.
    Subclasses call ``super().__init__()`` before assigning anything.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
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
        modules, buffers = self._modules, self._buffers
        if isinstance(value, (Parameter, Module)):
            # As PyTorch: a Parameter or a Module takes the name from a buffer or a member of
            # the other kind, and keeps the name's place if it held one of its own kind.
            registry = parameters if isinstance(value, Parameter) else modules
            self._unregister(name, keep=registry)
            registry[name] = value
        elif name in buffers:
            _check_buffer(value, name, type(self).__name__)
            buffers[name] = value  # persistent or not as registered; None keeps the place
        elif name in parameters and isinstance(value, Tensor):
            raise TypeError(
                f"{type(self).__name__}: cannot assign a plain Tensor to parameter {name!r}; "
                "wrap it in nn.Parameter, or change the parameter's .data in place"
            )
        elif name in parameters or name in modules:
            # As PyTorch: only a Parameter (or None) may replace a parameter, and only a Module
            # (or None) a sub-module; anything else would silently drop it from parameters(),
            # state_dict() and the optimizer. None keeps the name's place for a later one.
            registry = parameters if name in parameters else modules
            if value is not None:
                kind, expected = (("parameter", "nn.Parameter") if registry is parameters
                                  else ("sub-module", "nn.Module"))
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to {kind} "
                    f"{name!r} ({expected} or None expected); to change a parameter's values, "
                    "write into its .data"
                )
            registry[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._unregister(name)
        object.__delattr__(self, name)

    def _unregister(self, name: str, keep: dict | None = None) -> None:
        """Drop ``name`` from every registry but ``keep`` (the attribute itself stays)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

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
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, persistent or not, walked as ``named_parameters``
        (own buffers first; ``remove_duplicate``, ``recurse`` alike); a buffer set to None
        is skipped, as in PyTorch."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
                       ) -> Iterator[tuple[str, Tensor]]:
        """The members of each module's ``registry`` (``"_parameters"`` or ``"_buffers"``)
        with dotted names, each once (by identity) when ``remove_duplicate``."""
        seen: set[int] = set()
        walk = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                else [(prefix, self)])
        for module_name, module in walk:
            for name, member in getattr(module, registry).items():
                if member is None:  # set to None: not a member until one is assigned again
                    continue
                if remove_duplicate:
                    if id(member) in seen:
                        continue
                    seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

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

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once, in ``named_buffers`` order."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- registration by name, and lookup by dotted name, as PyTorch ---------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name``, as ``self.name = param`` does; ``None`` keeps
        the name's place for a parameter assigned later."""
        self._register("register_parameter", name, param, Parameter, self._parameters)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as buffer ``name``: state that ``state_dict()`` saves (unless
        ``persistent`` is false), ``load_state_dict`` restores in place and ``to()`` casts
        (if floating-point), but that no optimizer trains, as PyTorch's.

        ``tensor`` is a Tensor that does not require grad, or None (the name is kept, and
        skipped by ``buffers()`` and ``state_dict()`` until a Tensor is assigned to it). As
        in PyTorch, a NumPy array is refused: wrap it in ``tg.Tensor``. Unlike PyTorch, a
        tensor that requires grad is refused (pass ``.detach()``), and ``persistent`` must be
        a bool. Registering a name again replaces the buffer; ``self.name = tensor`` does too.

        >>> import tinygrad_rnn as tg
        >>> from tinygrad_rnn import nn
        >>> counter = nn.Module()
        >>> counter.register_buffer("steps", tg.Tensor([0], dtype="int64"))
        >>> counter.register_buffer("scratch", tg.zeros(2), persistent=False)
        >>> list(counter.state_dict()), [name for name, _ in counter.named_buffers()]
        (['steps'], ['steps', 'scratch'])
        """
        persistent = flag(persistent, "persistent", f"{type(self).__name__}.register_buffer")
        self._register("register_buffer", name, tensor, Tensor, self._buffers)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name``, as ``self.name = module`` does (None keeps a place)."""
        self._register("add_module", name, module, Module, self._modules)

    register_module = add_module

    def _register(self, method: str, name: Any, value, kind: type, registry: dict) -> None:
        """Put ``value`` (a ``kind`` or None) into ``registry`` under a checked ``name``.

        A name held by another registry is an attribute, so it is refused: the registries
        never share a name.
        """
        owner = f"{type(self).__name__}.{method}"
        if not isinstance(name, str):
            raise TypeError(f"{owner}: the name must be a str, got {type(name).__name__}")
        problem = ("is empty" if not name else "contains '.'" if "." in name
                   else "is already an attribute" if hasattr(self, name) and name not in registry
                   else None)
        if problem:
            raise NameClashError(f"{owner}: the name {name!r} {problem}")
        if kind is Tensor:
            _check_buffer(value, name, owner)
        elif value is not None and not isinstance(value, kind):
            raise TypeError(f"{owner}: {name!r} must be an nn.{kind.__name__} or None, "
                            f"got {type(value).__name__}")
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
        return self._member("get_parameter", target, "_parameters", "parameter", none_is_member=False)

    def get_buffer(self, target: str) -> Tensor | None:
        """The buffer at dotted path ``target`` (``"0.weight"``), as PyTorch's: a buffer set to
        None is still a buffer, and gives None (a parameter set to None is no parameter)."""
        return self._member("get_buffer", target, "_buffers", "buffer", none_is_member=True)

    def _member(self, method: str, target: str, registry: str, kind: str, none_is_member: bool):
        """The member of ``registry`` at dotted path ``target``, or an AttributeError naming
        the sub-module where the lookup stopped."""
        path, _, name = target.rpartition(".")
        members = getattr(self.get_submodule(path), registry)
        if name not in members or (members[name] is None and not none_is_member):
            raise AttributeError(f"{type(self).__name__}.{method}: {path or type(self).__name__} "
                                 f"has no {kind} {name!r} (looking up {target!r})")
        return members[name]

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

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False) -> Module:
        """Cast every parameter and its gradient, and every floating-point buffer, to
        ``dtype`` (same Parameter objects, as in PyTorch; an array already of that dtype is
        kept); return self. The arguments are PyTorch's: ``to(dtype)``, ``to(tensor)``,
        ``to("cpu")`` (the only device: nothing to move), ``to(device, dtype)``. Integer and
        bool buffers keep their dtype, as in PyTorch. A buffer stays the same Tensor object,
        where PyTorch puts a new one in its place (and so splits a buffer held under two
        names into two).

        >>> import numpy as np
        >>> from tinygrad_rnn import nn
        >>> nn.Linear(2, 3).to(np.float64).weight.dtype
        dtype('float64')
        """
        owner = f"{type(self).__name__}.to"
        dtype = to_arguments(owner, args, dtype, device)
        if dtype is None:
            return self
        dtype = float_dtype(dtype, owner)
        for parameter in self.parameters():
            grad = parameter.grad  # kept, as PyTorch keeps it: backward(); float(); step() updates
            parameter.data = parameter.data.astype(dtype, copy=False)
            parameter.grad = None if grad is None else grad.astype(dtype, copy=False)
        for buffer in self.buffers():
            if np.issubdtype(buffer.dtype, np.floating):
                buffer.data = buffer.data.astype(dtype, copy=False)
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
        """An ordered dict from dotted name to a copy of the array of every parameter and
        persistent buffer, in PyTorch's order: a module's parameters, then its buffers, then
        each sub-module's in turn. A tensor reached under several names is saved under each;
        a parameter or buffer set to None is left out.

        >>> import tinygrad_rnn as tg
        >>> from tinygrad_rnn import nn
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> model[0].register_buffer("calls", tg.Tensor([0], dtype="int64"))
        >>> list(model.state_dict())
        ['0.weight', '0.bias', '0.calls', '1.weight', '1.bias']
        """
        return OrderedDict((name, tensor.data.copy()) for name, tensor in self._state_tensors())

    def _state_tensors(self) -> Iterator[tuple[str, Tensor]]:
        """The live tensors that ``state_dict`` copies and ``load_state_dict`` fills, by name."""
        for module_name, module in self._walk(""):
            persistent = [(name, buffer) for name, buffer in module._buffers.items()
                          if name not in module._non_persistent_buffers]
            for name, tensor in [*module._parameters.items(), *persistent]:
                if tensor is not None:
                    yield (f"{module_name}.{name}" if module_name else name), tensor

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into the existing arrays of the parameters and persistent buffers
        (optimizers keep working). A key for a non-persistent buffer is unexpected, as in
        PyTorch.

        Everything is checked before anything is copied. A shape or dtype mismatch is
        always an error; with ``strict`` (the default) so are missing and unexpected
        keys. All problems are reported together in one ValueError. Returns the
        missing and unexpected keys (both empty when ``strict``).
        """
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{owner}.load_state_dict: expected a mapping of name -> array, "
                            f"got {type(state).__name__}")
        own = OrderedDict(self._state_tensors())
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        values, mismatches = {}, []
        for name, tensor in own.items():
            if name not in state:
                continue
            value = state[name]
            try:
                value = np.asarray(value.data if isinstance(value, Tensor) else value)
            except ValueError as error:  # a ragged nested list, say
                mismatches.append(f"{name!r} is not an array: {error}")
                continue
            if value.shape != tensor.shape:
                mismatches.append(f"shape mismatch for {name!r}: the state has {value.shape}, "
                                  f"the model has {tensor.shape}")
            elif value.dtype != tensor.dtype:
                # to() casts floating-point tensors only: no use suggesting it for an int buffer
                floating = all(np.issubdtype(d, np.floating) for d in (value.dtype, tensor.dtype))
                hint = (f" (cast the model with .to({str(value.dtype)!r}) or the arrays with .astype)"
                        if floating else "")
                mismatches.append(f"dtype mismatch for {name!r}: the state has {value.dtype}, "
                                  f"the model has {tensor.dtype}{hint}")
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
        """PyTorch's layout: settings on one line stay inside the parentheses; several
        lines of settings, or sub-modules, go one per line, indented."""
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        single = len(lines) == 1
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")  # None too, as PyTorch prints it
            lines.append(f"({name}): {child}")
        if single and not self._modules or not lines:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _position(owner: str, index: Any, count: int, members: str,
              allowed: str = "an int or a slice") -> int:
    """A list container's ``index`` as a position in [0, count) (count: the ``members`` it
    holds), or a TypeError/IndexError naming ``owner``."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{owner}: index must be {allowed}, got {type(index).__name__}")
    if not -count <= index < count:
        raise IndexError(f"{owner}: index {index} is out of range for {count} {members}")
    return int(index) % count


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

    def _position(self, index: Any) -> int:
        return _position(type(self).__name__, index, len(self._modules), "modules")

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


class _Mapping(Module):
    """The mapping protocol shared by :class:`ModuleDict` and :class:`ParameterDict`: its
    entries are the members of one registry (``_members``), kept in insertion order, each
    also an attribute, so their state_dict keys are ``"name..."``."""

    _members = "_modules"
    _kind = "module"

    def _entries(self) -> OrderedDict:
        return getattr(self, self._members)

    def __getitem__(self, key: str):
        if key not in self._entries():
            raise KeyError(key)
        return self._entries()[key]

    def __delitem__(self, key: str) -> None:
        if key not in self._entries():
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._entries()):
            delattr(self, key)

    def update(self, entries) -> None:
        """Add or replace entries from a mapping (another ModuleDict or ParameterDict too) or
        from (name, value) pairs, in their order."""
        owner, kind = f"{type(self).__name__}.update", self._kind
        named = isinstance(entries, (Mapping, _Mapping))
        if not named and (isinstance(entries, (str, Tensor, Module)) or not isinstance(entries, Iterable)):
            raise TypeError(f"{owner}: expected a mapping or (name, {kind}) pairs, got "
                            f"{type(entries).__name__}")
        pairs = entries.items() if named else entries
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{owner}: item {position} is not a (name, {kind}) pair")
            self[pair[0]] = pair[1]


class ModuleDict(_Mapping):
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

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)


def _as_parameter(value, owner: str) -> Parameter:
    """``value`` as a Parameter: a Parameter as it is, any other float Tensor wrapped (its
    data shared, as PyTorch's ``Parameter(tensor)``); anything else a TypeError."""
    if isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(f"{owner}: expected a Parameter or a float Tensor, got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{owner}: a parameter must have a floating-point dtype, got {value.dtype}")
    parameter = Parameter(value.data)
    parameter.data = value.data  # the same array, not Parameter()'s copy
    return parameter


def _parameter_lines(items: Iterable[tuple[str, Parameter]]) -> str:
    """PyTorch's listing of a parameter container: ``  (name): Parameter containing: [...]``."""
    return "\n".join(f"  ({name}): Parameter containing: [{parameter.dtype} of size "
                     f"{'x'.join(map(str, parameter.shape))}]" for name, parameter in items)


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ..., as
    ``torch.nn.ParameterList``: a float Tensor given to it becomes a Parameter sharing its
    data. (PyTorch also keeps any other object, as a plain attribute; this one refuses it.)

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> scales = nn.ParameterList([tg.ones(3), nn.Parameter(tg.zeros(2, 3))])
    >>> [name for name, _ in scales.named_parameters()], scales[0].requires_grad
    (['0', '1'], True)
    """

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value: Tensor) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Tensor]) -> ParameterList:
        return self.extend(values)

    def _position(self, index: Any, allowed: str = "an int or a slice") -> int:
        return _position("ParameterList", index, len(self), "parameters", allowed)

    def __getitem__(self, index: int | slice):
        """The parameter at ``index``; a slice is a new ParameterList of the same parameters,
        numbered afresh, as PyTorch's."""
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[str(self._position(index))]

    def __setitem__(self, index: int, value: Tensor) -> None:
        self.register_parameter(str(self._position(index, "an int")), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def extra_repr(self) -> str:
        return _parameter_lines(self._parameters.items())


class ParameterDict(_Mapping):
    """Parameters held by name, in insertion order, as ``torch.nn.ParameterDict``: a float
    Tensor stored in it becomes a Parameter sharing its data; the state_dict keys are the
    names.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> gains = nn.ParameterDict({"chars": tg.ones(65), "words": tg.ones(1000)})
    >>> list(gains), gains["chars"].shape, "words" in gains
    (['chars', 'words'], (65,), True)
    """

    _members = "_parameters"
    _kind = "parameter"

    def __init__(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters[key] if key in self._parameters else default

    def setdefault(self, key: str, default: Tensor | None = None) -> Parameter:
        """The parameter at ``key``; if there is none, ``default`` stored there first."""
        if key not in self._parameters:
            self[key] = default
        return self._parameters[key]

    def popitem(self) -> tuple[str, Parameter]:
        """Remove and return the entry inserted last."""
        if not self._parameters:
            raise KeyError("ParameterDict.popitem: the dict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same Parameter objects (a shallow copy)."""
        return ParameterDict(self._parameters.items())

    def fromkeys(self, keys: Iterable[str], default: Tensor | None = None) -> ParameterDict:
        """A new ParameterDict with ``default`` under every key in ``keys``, as PyTorch's."""
        return ParameterDict((key, default) for key in keys)

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return _parameter_lines(self._parameters.items())

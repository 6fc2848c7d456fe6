"""The Tensor and the backward sweep: the engine, nothing else.

A :class:`Tensor` wraps a NumPy array (``.data``). Every op (in ``ops.py``) builds its
output with :func:`result`, handing over its parents and a ``backward(grad)`` closure
that returns one gradient per parent (``None`` where a parent needs none). The engine
does the shared chores, so an op states only its math:

* it records the graph only when grad mode is on and some parent requires grad;
* it sums a gradient back to its parent's shape when the op broadcast (``unbroadcast``);
* it accumulates with ``+=`` into buffers it owns, never overwriting and never
  aliasing a gradient into another tensor's ``.grad``;
* it releases each node's saved buffers as soon as its backward has run.

The sweep is iterative: nodes carry a creation counter, and a node always comes after
its parents, so processing nodes in decreasing creation order (a heap) visits every
node after all of its consumers. There is no recursion, so a graph unrolled over
100,000 time steps is fine.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import numbers
import sys
import types
from collections.abc import Callable, Sequence

import numpy as np

from . import rng as _rng

_grad_enabled = True
_creation_order = itertools.count(1)

Backward = Callable[[np.ndarray], Sequence["np.ndarray | Scatter | None"]]


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> import tinygrad_rnn as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)

    ``data`` is copied into a new NumPy array. Python numbers and lists become float32
    unless ``dtype`` says otherwise; NumPy arrays keep their dtype. Only floating-point
    tensors can require gradients.
    """

    __slots__ = ("data", "_grad", "requires_grad", "_parents", "_backward", "_op", "_order",
                 "_owns_grad", "_pending", "_view", "_retained", "__weakref__")
    # Make `ndarray + Tensor` defer to Tensor.__radd__ instead of broadcasting over it.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self._grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""
        self._order = 0
        self._owns_grad = False
        self._pending: list[Product] | None = None
        self._view: tuple[Tensor, object] | None = None
        self._retained: list | None = None  # [grad or None] once retain_grad() was called

    # -- array-like facts -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> _Size:
        """The number of elements, as NumPy's ``size``; called, the shape, as PyTorch's
        ``size()``: ``t.size == t.numel()``, ``t.size() == t.shape``, ``t.size(-1) == t.shape[-1]``."""
        return _Size(self.data.shape)

    def dim(self) -> int:
        """The number of axes, PyTorch's spelling of ``ndim``."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements, as PyTorch's ``numel()`` (NumPy's ``size``)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op that records a graph."""
        return self._backward is None and self._view is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "only one-element tensors convert (reduce it first, e.g. .max() or .sum())")
        return bool(self.data)

    def __iter__(self):
        """The sub-tensors along the first axis, ``self[0], self[1], ...`` (as PyTorch's)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(len(self.data)))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(tensor)``: the data (a copy only when ``dtype`` or ``copy`` asks)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has shape {self.shape}, only one-element tensors convert")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied, like PyTorch's ``Tensor.numpy``)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new tensor sharing this one's data, cut from the graph (no gradient flows back)."""
        return _leaf(self.data)

    def double(self) -> Tensor:
        """``astype(np.float64)``, PyTorch's spelling; the gradient flows back in this dtype."""
        return self.astype(np.float64)

    def float(self) -> Tensor:
        """``astype(np.float32)``, PyTorch's spelling."""
        return self.astype(np.float32)

    def half(self) -> Tensor:
        """``astype(np.float16)``, PyTorch's spelling."""
        return self.astype(np.float16)

    def long(self) -> Tensor:
        """An int64 copy outside the graph, as PyTorch's (no gradient flows through it)."""
        return self.to(np.int64)

    def int(self) -> Tensor:
        """An int32 copy outside the graph, as PyTorch's (no gradient flows through it)."""
        return self.to(np.int32)

    def bool(self) -> Tensor:
        """A bool copy outside the graph, as PyTorch's (non-zero is True)."""
        return self.to(np.bool_)

    def to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False) -> Tensor:
        """PyTorch's ``to``: ``to(dtype)``, ``to(other)`` (other's dtype), ``to("cpu")``,
        ``to(device, dtype)``, or the keywords.

        The tensor itself when nothing changes (unless ``copy``). To a floating-point
        dtype it is ``astype``, and the gradient flows back; to an integer or bool dtype
        the copy leaves the graph, as in PyTorch. The only device is the CPU.
        """
        dtype = to_arguments("to", args, dtype, device)
        for name, value in (("copy", copy), ("non_blocking", non_blocking)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"to: {name} must be True or False, got {value!r}")
        target = self.data.dtype if dtype is None else dtype
        if target.kind not in "biuf":
            raise TypeError(f"to: unsupported dtype {target} (tensor of shape {self.shape} and dtype "
                            f"{self.dtype}); use a boolean, integer or floating-point dtype")
        if target == self.data.dtype:
            return self.clone() if copy else self
        if target.kind == "f":
            return self.astype(target)
        return _leaf(self.data.astype(target))

    def cpu(self) -> Tensor:
        """The tensor itself, as PyTorch's ``cpu()`` of a CPU tensor (``t.cpu().numpy()``)."""
        return self

    @property
    def grad_fn(self) -> GradFn | None:
        """The op that made this tensor in the graph, or None for a leaf (as PyTorch's)."""
        return None if self.is_leaf else GradFn(self._op)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward`` (as PyTorch's;
        a no-op on a leaf, which keeps its gradient anyway). Gradients of later backward
        passes add up in it, as a leaf's do; ``zero_grad`` clears it.

        >>> import tinygrad_rnn as tg
        >>> x = tg.Tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3
        >>> h.retain_grad()
        >>> (h * h).sum().backward()
        >>> h.grad
        array([ 6., 12.], dtype=float32)
        """
        if not self.requires_grad:
            raise ValueError(f"retain_grad: this tensor (shape {self.shape}) does not require grad, "
                             "so it gets no gradient to retain")
        if self.is_leaf or self._retained is not None:
            return
        if self._view is not None:
            raise ValueError(f"retain_grad: this tensor (shape {self.shape}) is a slice view, whose "
                             "gradient goes straight into the tensor it was sliced from; call "
                             "retain_grad() on that tensor, or clone() the slice first")
        self._retained = [None]

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return self._retained is not None

    @property
    def grad(self) -> np.ndarray | None:
        """The accumulated gradient (an array of the tensor's shape and dtype), or None.

        It may be set by hand, as in PyTorch: ``p.grad = None`` forgets it, and an array
        (or Tensor) of exactly the tensor's shape and dtype replaces it; anything else is
        refused here, as PyTorch refuses it, rather than in the middle of a later
        backward. The engine treats a grad set by hand as the user's array: it adds later
        gradients to a copy, never into it in place.
        """
        return self._grad if self._retained is None else self._retained[0]

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            value = _hand_set_grad(self, value)
        if self._retained is not None:  # a non-leaf's retained gradient, not the sweep's buffer
            self._retained[0] = value
            return
        self._grad = value
        self._owns_grad = False  # whatever was set is not the engine's buffer to add into

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient (``grad`` becomes None, PyTorch's default).

        With ``set_to_none=False`` a gradient already held is zeroed instead, as PyTorch's
        ``zero_()``: in place if the engine made the buffer, else replaced by zeros (an
        array set by hand stays the caller's); None stays None.
        """
        if not isinstance(set_to_none, (bool, np.bool_)):
            raise TypeError(f"zero_grad: set_to_none must be True or False, got {set_to_none!r}")
        if set_to_none or self.grad is None:
            self.grad = None
        elif self._retained is not None:
            self._retained[0] = np.zeros(self.data.shape, dtype=self.data.dtype)
        elif self._owns_grad and self._grad.shape == self.data.shape and self._grad.dtype == self.data.dtype:
            self._grad.fill(0)
        else:
            self._grad = np.zeros(self.data.shape, dtype=self.data.dtype)
            self._owns_grad = True

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf tensor and return it."""
        if not self.is_leaf:
            raise ValueError("requires_grad_: only leaf tensors can change requires_grad")
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(f"requires_grad_: dtype {self.data.dtype} cannot require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=50)
        extras = [f"dtype={self.data.dtype}"]
        if self.requires_grad:
            extras.append(f"grad_fn=<{self._op}>" if self._op else "requires_grad=True")
        return f"Tensor({body}, {', '.join(extras)})"

    # -- the backward sweep -----------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) · grad into ``.grad`` of every leaf that requires grad.

        ``grad`` may be omitted only for a one-element output (it defaults to 1).
        Gradients add up across calls, as in PyTorch; clear them with ``zero_grad``.
        Unless ``retain_graph`` is true, the graph's saved buffers are released as
        soon as they have been used, and intermediate (non-leaf) gradients are dropped.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward: this tensor does not require grad: no tensor it was computed from "
                "has requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: grad can be implied only for a one-element output, but this "
                    f"output has shape {self.shape}; pass grad= with that shape (or reduce it, "
                    f"e.g. .sum())"
                )
            seed = np.ones_like(self.data)
        else:
            try:
                given = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
            except ValueError:  # a ragged list
                given = np.array(None)  # refused just below, with the output's shape
            if given.dtype.kind not in "biuf":
                raise TypeError(
                    f"backward: grad must be a Tensor or an array of real numbers with the output's "
                    f"shape {self.shape}, got {type(grad).__name__} of dtype {given.dtype}"
                )
            seed = np.array(given, dtype=self.data.dtype)
            if seed.shape != self.data.shape:
                raise ValueError(
                    f"backward: grad has shape {seed.shape} but the output has shape {self.shape}"
                )
        start = self
        if self._view is not None:
            start, seed = self._view[0], _view_gradient(self, seed)
        _accumulate(start, seed)
        if start._backward is None:
            return
        ndarray, pop, push = np.ndarray, heapq.heappop, heapq.heappush
        queue = [(-start._order, start)]
        deferred_leaves = []
        node = start
        try:
            while queue:
                node = pop(queue)[1]
                if node._pending is not None:
                    _flush(node)
                if node._retained is not None:
                    _retain(node)
                grads = node._backward(node._grad)
                for parent, parent_grad in zip(node._parents, grads):
                    if parent_grad is None or not parent.requires_grad:
                        continue
                    if parent._view is not None:  # a view: the gradient goes to its base
                        base, index = parent._view
                        if (base._owns_grad and type(parent_grad) is ndarray
                                and parent_grad.shape == parent.data.shape
                                and parent_grad.dtype == parent.data.dtype):
                            _add_at(base._grad, index, parent_grad)  # its buffer exists
                            continue
                        parent_grad = _view_gradient(parent, parent_grad)
                        parent = base
                    if (parent._backward is not None and parent._grad is None
                            and parent._pending is None):
                        # An interior node's first gradient: queue the node (it has a lower
                        # creation order than every consumer, so it is still to come) and, in
                        # the common case, keep the gradient as it is.
                        push(queue, (-parent._order, parent))
                        data = parent.data
                        if (type(parent_grad) is ndarray and parent_grad.shape == data.shape
                                and parent_grad.dtype == data.dtype):
                            parent._grad = parent_grad
                            parent._owns_grad = False
                            continue
                    elif (type(parent_grad) is ndarray and parent._grad is not None
                            and parent_grad.shape == parent.data.shape
                            and parent_grad.dtype == parent.data.dtype):
                        # A later dense gradient of the same shape: add it to an owned buffer
                        # (a leaf's may have been set by hand: it must match the leaf).
                        if parent._backward is None:
                            _check_existing_grad(parent)
                        if parent._owns_grad:
                            parent._grad += parent_grad
                        else:
                            parent._grad = parent._grad + parent_grad
                            parent._owns_grad = True
                        continue
                    if type(parent_grad) is Product:
                        if parent._pending is None:
                            parent._pending = []
                            if parent._backward is None:
                                deferred_leaves.append(parent)
                        parent._pending.append(parent_grad)
                    else:
                        _accumulate(parent, parent_grad)
                node._grad = None
                node._owns_grad = False
                if not retain_graph:
                    node._parents = ()
                    node._backward = _graph_freed
            for leaf in deferred_leaves:
                _flush(leaf)
        except BaseException:
            # Leave no half-accumulated gradient behind: a later sweep must start clean (a
            # leaf's products still pending would otherwise keep it out of every later flush).
            for unfinished in [node, *(entry[1] for entry in queue)]:
                unfinished._grad, unfinished._pending, unfinished._owns_grad = None, None, False
            for leaf in deferred_leaves:
                leaf._pending = None
            raise


class Scatter:
    """A sparse gradient: ``values`` belong at ``index`` of the parent, zeros elsewhere.

    Returned by indexing ops so that taking ``x[t]`` for each of T steps costs O(step)
    in backward, not O(T·step). ``basic`` says the index holds only ints and slices
    (no repeats possible), so a plain ``+=`` is exact; otherwise ``np.add.at``
    accumulates repeated indices correctly (an embedding lookup of a repeated token).
    """

    __slots__ = ("index", "values", "basic")

    def __init__(self, index, values: np.ndarray, basic: bool):
        self.index = index
        self.values = values
        self.basic = basic

    def add_into(self, buffer: np.ndarray) -> None:
        index = self.index
        if self.basic:
            _add_at(buffer, index, self.values)
        elif type(index) is np.ndarray and index.dtype.kind in "iu" and buffer.ndim >= 1:
            _scatter_rows(buffer, index, self.values)
        else:
            np.add.at(buffer, index, self.values)


def _add_at(buffer: np.ndarray, index, values: np.ndarray) -> None:
    """``buffer[index] += values`` for a basic index, without writing the slice back onto
    itself (which the augmented assignment does, as a copy)."""
    target = buffer[index]
    if type(target) is np.ndarray:
        np.add(target, values, out=target)
    else:  # a single element
        buffer[index] += values


def _scatter_rows(buffer: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``buffer[index] += values`` with repeated rows adding up (an embedding's backward).

    While the product is small (a character vocabulary and a short batch) this is
    ``one_hot(index).T @ values``, one BLAS call. Beyond that the rows are sorted:
    those that occur once are added with one fancy-indexed add (their targets are
    distinct), and each repeated one's run is summed on its own; this moves the values
    once, where the product would do ``len(buffer)`` multiply-adds per value (and
    ``np.add.reduceat`` over rows is slower still for wide rows). All of it does what
    ``np.add.at`` does, several times faster.
    """
    count = buffer.shape[0]
    rows = index.reshape(-1) % count
    if rows.size == 0:
        return
    if not buffer.flags.c_contiguous:  # reshape would copy it, and the sums would be lost
        contiguous = np.zeros(buffer.shape, dtype=buffer.dtype)
        _scatter_rows(contiguous, index, values)
        buffer += contiguous
        return
    values = values.reshape(rows.size, -1)
    target = buffer.reshape(count, -1)
    # The product multiplies every value by every row's 0 or 1: an inf or nan would make
    # nan of rows that were never indexed (0 · inf), so non-finite values take the runs.
    if rows.size * count * values.shape[1] <= _ONE_HOT_MACS and np.isfinite(values).all():
        one_hot = np.zeros((rows.size, count), dtype=values.dtype)
        one_hot[np.arange(rows.size), rows] = 1
        target += np.dot(one_hot.T, values)
        return
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    ends = np.r_[starts[1:], rows.size]
    once = ends - starts == 1
    target[sorted_rows[starts[once]]] += values[order[starts[once]]]
    for start, end in zip(starts[~once].tolist(), ends[~once].tolist()):
        row = target[sorted_rows[start]]
        row += values.take(order[start:end], axis=0).sum(axis=0)


_ONE_HOT_MACS = 2**24  # the one-hot product's multiply-adds up to which it is the faster way


class Product:
    """A deferred gradient ``left.T @ right`` (2-D), from ``x @ W``'s backward for ``W``.

    A weight used at every time step receives T such products; the engine keeps them
    pending and, before the weight's node runs (or at the end, for a leaf), sums them
    with ONE matrix product of the stacked factors, ``[x_1; …; x_T].T @ [g_1; …; g_T]``,
    instead of T small ones: the same arithmetic, in a single BLAS call.

    ``left_rows`` and ``right_rows``, when given as ``(block, index)``, say that the factor
    is ``block[index]``, a row of a C-contiguous (T, N, k) array: products whose factors
    are neighbouring rows of the same two blocks are already stacked there, so their sum
    is one product of slices of the blocks, with no copy (``_stacked_factors``). A
    recurrent layer writes its hidden states and its steps' gradients into such blocks.
    """

    __slots__ = ("left", "right", "left_rows", "right_rows")

    def __init__(self, left: np.ndarray, right: np.ndarray, left_rows: tuple[np.ndarray, int] | None = None,
                 right_rows: tuple[np.ndarray, int] | None = None):
        self.left = left
        self.right = right
        self.left_rows = left_rows
        self.right_rows = right_rows

    def dense(self) -> np.ndarray:
        return np.dot(self.left.T, self.right)


def _flush(node: Tensor) -> None:
    """Materialise ``node``'s pending products into its gradient, in one product per run."""
    pending, node._pending = node._pending, None
    if len(pending) == 1:
        total = pending[0].dense()
    else:
        total = None
        for left, right in _stacked_factors(pending):
            part = np.dot(left.T, right)
            total = part if total is None else np.add(total, part, out=total)
    if node._grad is None:
        node._grad = total.astype(node.data.dtype, copy=False)
        node._owns_grad = True
    else:
        _accumulate(node, total)


def _stacked_factors(pending: list[Product]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (L, R) of stacked factors whose products ``L.T @ R`` sum to the pending ones.

    A run of products whose factors are consecutive rows of the same two blocks, walked
    in the same direction (a layer's steps, backward from the last), is one pair of
    slices of those blocks; every other product is stacked, by copying, into one more pair.
    """
    pairs, loose = [], []
    count, start = len(pending), 0
    while start < count:
        first = pending[start]
        end = start + 1
        if first.left_rows is not None and first.right_rows is not None:
            (left_block, left_at), (right_block, right_at) = first.left_rows, first.right_rows
            direction = 0
            while end < count:
                later = pending[end]
                left_rows, right_rows = later.left_rows, later.right_rows
                if (left_rows is None or right_rows is None or left_rows[0] is not left_block
                        or right_rows[0] is not right_block):
                    break
                move = left_rows[1] - left_at
                if move not in (1, -1) or right_rows[1] - right_at != move or direction not in (0, move):
                    break
                direction, left_at, right_at = move, left_rows[1], right_rows[1]
                end += 1
        if end - start == 1:
            loose.append(first)
        else:
            run = end - start
            left_low = min(left_at, first.left_rows[1])
            right_low = min(right_at, first.right_rows[1])
            pairs.append((left_block[left_low:left_low + run].reshape(-1, left_block.shape[-1]),
                          right_block[right_low:right_low + run].reshape(-1, right_block.shape[-1])))
        start = end
    if len(loose) == 1:
        pairs.append((loose[0].left, loose[0].right))
    elif loose:
        pairs.append((np.concatenate([p.left for p in loose]), np.concatenate([p.right for p in loose])))
    return pairs


def _graph_freed(_grad):
    raise RuntimeError(
        "backward: this part of the graph was already used by an earlier backward() and its "
        "buffers were released; pass retain_graph=True to the first backward() to go through "
        "it twice, or detach() tensors you carry from one step to the next"
    )


def _accumulate(node: Tensor, grad) -> None:
    """Add ``grad`` into ``node.grad`` (summed back to node's shape and dtype).

    A leaf's first gradient is copied so that no two tensors share a gradient buffer;
    later ones are added in place into that owned buffer. A ``.grad`` that no longer
    matches the tensor (its ``.data`` was replaced) and an integer tensor made to require
    grad are refused.
    """
    if node._grad is not None:
        _check_existing_grad(node)
    elif node._backward is None and node.data.dtype.kind != "f":
        raise TypeError(f"backward: a tensor of dtype {node.data.dtype} (shape {node.shape}) has "
                        "requires_grad=True; only floating-point tensors can have gradients")
    if type(grad) is Scatter:
        buffer = node._grad
        if buffer is None or not node._owns_grad:
            fresh = np.zeros(node.data.shape, dtype=node.data.dtype)
            if buffer is not None:
                fresh += buffer
            node._grad = buffer = fresh
            node._owns_grad = True
        grad.add_into(buffer)
        return
    shape = node.data.shape
    if grad.shape != shape:
        grad = unbroadcast(grad, shape)
    if grad.dtype != node.data.dtype:
        grad = grad.astype(node.data.dtype)
    if node._grad is None:
        if node._backward is None:
            node._grad = np.array(grad, order="C", copy=True)  # C order: optimizers sweep it fast
            node._owns_grad = True
        else:
            node._grad = grad
            node._owns_grad = False
    elif node._owns_grad:
        node._grad += grad
    else:
        node._grad = node._grad + grad
        node._owns_grad = True


def _hand_set_grad(tensor: Tensor, value) -> np.ndarray:
    """``value`` for ``tensor.grad = value``: an array (a Tensor's data, a NumPy scalar as a
    0-d array) of exactly the tensor's shape and dtype, or a named error."""
    if isinstance(value, Tensor):
        value = value.data
    elif isinstance(value, np.generic):
        value = np.asarray(value)
    held = f"a tensor of shape {tensor.shape} and dtype {tensor.dtype}"
    if not isinstance(value, np.ndarray):
        raise TypeError(f"Tensor.grad: {held} takes None, an array or a Tensor as its grad, got "
                        f"{type(value).__name__}")
    if value.shape != tensor.data.shape:
        raise ValueError(f"Tensor.grad: {held} cannot take a grad of shape {value.shape}")
    if value.dtype != tensor.data.dtype:
        raise TypeError(f"Tensor.grad: {held} cannot take a grad of dtype {value.dtype}; "
                        f"cast it with .astype({str(tensor.dtype)!r})")
    return value


def _check_existing_grad(node: Tensor) -> None:
    existing, shape = node._grad, node.data.shape
    if (not isinstance(existing, (np.ndarray, np.generic)) or existing.shape != shape
            or existing.dtype != node.data.dtype):
        raise ValueError(
            f"backward: the .grad already held by a tensor of shape {shape} and dtype "
            f"{node.data.dtype} is a {type(existing).__name__} of shape {np.shape(existing)} and "
            f"dtype {np.asarray(existing).dtype} (was .data replaced?); set .grad to None or to an "
            "array shaped and typed like the tensor"
        )


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


# -- building tensors -------------------------------------------------------------------
_new = object.__new__


class _Size(int):
    """``Tensor.size``: the number of elements (an int, as NumPy's ``size``) that, called,
    gives the shape or one axis of it, as PyTorch's ``size()`` and ``size(dim)``."""

    def __new__(cls, shape: tuple[int, ...]):
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
            raise TypeError(f"size: dim must be an int, got {dim!r}")
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dim {dim} is out of range for a tensor of shape {self.shape} "
                             f"(expected -{len(self.shape)} <= dim < {len(self.shape)})"
                             if self.shape else f"size: a 0-d tensor has no dim {dim}")
        return self.shape[dim]


class GradFn:
    """``Tensor.grad_fn``: names the op that made a non-leaf tensor (``name()``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name}>"


_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta")  # device strings ``to`` recognizes (only cpu runs)


def to_arguments(op: str, args: tuple, dtype, device) -> np.dtype | None:
    """The dtype that PyTorch's ``to`` arguments ask for (None: keep it): ``to(dtype)``,
    ``to(tensor)`` (its dtype), ``to("cpu")``, ``to(device, dtype)`` or the keywords. The only
    device is the CPU; a dtype or a device given twice is refused."""
    def once(current, given):
        if current is not None:
            raise TypeError(f"{op}: got two dtypes or devices, {current!r} and {given!r}")
        return given

    for arg in args:
        if isinstance(arg, Tensor):
            dtype = once(dtype, arg.dtype)
        elif isinstance(arg, str) and arg.split(":")[0] in _DEVICES:
            device = once(device, arg)
        else:
            dtype = once(dtype, arg)
    if device is not None and (not isinstance(device, str) or device.split(":")[0] != "cpu"):
        raise ValueError(f"{op}: this library runs on the CPU only, got device {device!r}")
    return None if dtype is None else _as_dtype(dtype, op)


def _retain(node: Tensor) -> None:
    """Keep a copy of ``node``'s gradient (complete when its backward is about to run) in
    its retained slot, adding to what an earlier sweep left there."""
    held, grad = node._retained, node._grad
    held[0] = np.array(grad, copy=True) if held[0] is None else held[0] + grad


def _leaf(data: np.ndarray, requires_grad: bool = False) -> Tensor:
    """Wrap an array without copying or checking (internal fast path)."""
    out = _new(Tensor)
    out.data = data
    out._grad = None
    out.requires_grad = requires_grad
    out._parents = ()
    out._backward = None
    out._op = ""
    out._order = 0
    out._owns_grad = False
    out._pending = None
    out._view = None
    out._retained = None
    return out


def view(base: Tensor, index) -> Tensor:
    """``base[index]`` for a basic index (ints, slices, None, Ellipsis), as a view.

    A view is not a node of the graph: a gradient that reaches it is added straight
    into ``base``'s gradient at ``index``. Slicing ``x[t]`` at every time step, or an
    LSTM's gate columns, then costs no node in the backward sweep.
    """
    data = base.data[index]
    if type(data) is not np.ndarray:  # every index an int: NumPy gives a scalar, keep 0-d
        data = np.asarray(data)
    if not (_grad_enabled and base.requires_grad):
        return _leaf(data)
    if base._view is not None:
        # A view of a view: x[t][i, j] is x[t, i, j] when t is an int and i, j are ints or
        # slices (a GRU step's x_t[:, 2H:]); other combinations become an ordinary node.
        outer, first = base._view
        parts = index if type(index) is tuple else (index,)
        if type(first) is not int or not all(type(part) in (int, slice) for part in parts):
            return result(data, (base,), lambda grad: (Scatter(index, grad, True),), "getitem")
        base, index = outer, (first, *parts)
    out = _leaf(data, True)
    out._view = (base, index)
    out._op = "getitem"
    return out


def _view_gradient(view_tensor: Tensor, grad) -> Scatter:
    """A gradient arriving at a view, as a sparse gradient of its base."""
    data = view_tensor.data
    if type(grad) is Scatter:
        dense = np.zeros(data.shape, dtype=data.dtype)
        grad.add_into(dense)
        grad = dense
    elif type(grad) is Product:
        grad = grad.dense()
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape)
    return Scatter(view_tensor._view[1], grad, True)


def result(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward, op: str) -> Tensor:
    """Wrap an op's output, recording the graph if grad mode is on and a parent needs it.

    A NumPy ufunc on 0-d arrays returns a NumPy scalar, not an array: it is made a 0-d
    array here, so every tensor's ``.data`` is an ndarray (writable, viewable, in-place-able)."""
    out = _new(Tensor)
    out.data = data if isinstance(data, np.ndarray) else np.asarray(data)
    out._grad = None
    out._owns_grad = False
    out._pending = None
    out._view = None
    out._retained = None
    out._op = op
    if _grad_enabled:
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._order = next(_creation_order)
                return out
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._order = 0
    return out


def _to_array(data, dtype, op: str = "Tensor") -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = _as_dtype(dtype, op)
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, dtype=dtype)
    else:
        try:
            array = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__}: {error}") from None
        if dtype is None and array.dtype.kind in "biuf":
            array = array.astype(np.float32)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{op}: unsupported dtype {array.dtype} (from {type(data).__name__}); "
            "use a boolean, integer or floating-point array"
        )
    return array


def _as_dtype(dtype, op: str) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype") from None


def _shape(op: str, shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and n >= 0
               for n in shape):
        raise ValueError(f"{op}: shape must be non-negative integers, got {shape}")
    shape = tuple(int(n) for n in shape)
    if math.prod(shape) > _MAX_ELEMENTS:
        raise ValueError(f"{op}: shape {shape} has {math.prod(shape):.3g} elements, more than an "
                         "array can hold")
    return shape


_MAX_ELEMENTS = np.iinfo(np.intp).max // 8  # the most 8-byte elements an address space holds


def _float_dtype(dtype, op: str) -> np.dtype:
    dtype = np.dtype(np.float32) if dtype is None else _as_dtype(dtype, op)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be floating point, got {dtype}")
    return dtype


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``. float32 unless ``dtype``."""
    dtype = _float_dtype(dtype, "zeros")
    return _leaf(np.zeros(_shape("zeros", shape), dtype=dtype), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; ``ones(2, 3)`` or ``ones((2, 3))``. float32 unless ``dtype``."""
    dtype = _float_dtype(dtype, "ones")
    return _leaf(np.ones(_shape("ones", shape), dtype=dtype), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False, rng=None) -> Tensor:
    """Standard-normal samples from ``rng`` (default: the generator ``manual_seed`` seeds)."""
    dtype = _float_dtype(dtype, "randn")
    data = _rng.resolve(rng, "randn").standard_normal(_shape("randn", shape)).astype(dtype)
    return _leaf(data, requires_grad)


def rand(*shape, low: float = 0.0, high: float = 1.0, dtype=None, requires_grad: bool = False,
         rng=None) -> Tensor:
    """Uniform samples in [low, high) from ``rng`` (default: the generator ``manual_seed`` seeds)."""
    dtype = _float_dtype(dtype, "rand")
    bounds_ok = all(isinstance(bound, numbers.Real) and not isinstance(bound, (bool, np.bool_))
                    for bound in (low, high))
    if not (bounds_ok and math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"rand: low and high must be finite numbers with low <= high, got "
                         f"low={low!r}, high={high!r}")
    data = _rng.resolve(rng, "rand").uniform(low, high, _shape("rand", shape)).astype(dtype)
    return _leaf(data, requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, rng=None) -> Tensor:
    """Category indices drawn in proportion to the weights in each row of ``input`` (1-D, or
    2-D for one draw per row), as ``torch.multinomial``: int64, shape ``(num_samples,)`` or
    ``(rows, num_samples)``. The weights need not sum to 1. Without ``replacement`` a row
    gives each category at most once (zero-weight ones only after all the others).

    >>> import tinygrad_rnn as tg
    >>> tg.multinomial(tg.Tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]
    """
    op = "multinomial"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor of weights, got {type(input).__name__}")
    weights = input.data
    if weights.dtype.kind != "f" or weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise ValueError(f"{op}: input must be a 1-D or 2-D floating-point tensor with at least one "
                         f"category, got shape {input.shape} and dtype {input.dtype}")
    if isinstance(num_samples, (bool, np.bool_)) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples <= 0:
        raise ValueError(f"{op}: num_samples must be a positive int, got {num_samples!r}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"{op}: replacement must be True or False, got {replacement!r}")
    rows = weights.reshape(-1, weights.shape[-1]).astype(np.float64)
    count = int(num_samples)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError(f"{op}: weights must be finite and non-negative (input of shape {input.shape})")
    if len(rows) and not (rows.sum(axis=1) > 0).all():
        raise ValueError(f"{op}: every row needs a positive weight (input of shape {input.shape})")
    if not replacement and count > rows.shape[1]:
        raise ValueError(f"{op}: cannot draw {count} samples without replacement from "
                         f"{rows.shape[1]} categories (input of shape {input.shape})")
    generator = _rng.resolve(rng, op)
    samples = np.empty((len(rows), count), dtype=np.int64)
    for row, row_weights in enumerate(rows):
        probabilities = row_weights / row_weights.sum()
        if replacement:  # inverse CDF: a zero weight has an empty interval and is never drawn
            cdf = np.cumsum(probabilities)
            cdf /= cdf[-1]
            samples[row] = np.searchsorted(cdf, generator.random(count), side="right")
            continue
        # Without replacement the non-zero categories come first; once they are used up, the
        # rest are zero-weight ones in random order (where PyTorch goes on too).
        drawn = min(count, np.count_nonzero(probabilities))
        samples[row, :drawn] = generator.choice(len(probabilities), drawn, replace=False, p=probabilities)
        if drawn < count:
            samples[row, drawn:] = generator.permutation(np.flatnonzero(probabilities == 0))[:count - drawn]
    return _leaf(samples.reshape(weights.shape[:-1] + (count,)))


def _like(op: str, input: Tensor, dtype) -> np.dtype:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    dtype = input.dtype if dtype is None else _as_dtype(dtype, op)
    if dtype.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {dtype}; use a boolean, integer or floating-point dtype")
    return dtype


def _new_leaf(op: str, data: np.ndarray, requires_grad) -> Tensor:
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"{op}: requires_grad must be True or False, got {requires_grad!r}")
    if requires_grad and data.dtype.kind != "f":
        raise TypeError(f"{op}: only floating-point tensors can require gradients, got dtype {data.dtype}")
    return _leaf(data, bool(requires_grad))


def zeros_like(input: Tensor, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape and (unless ``dtype``) dtype, as ``torch.zeros_like``."""
    return _new_leaf("zeros_like", np.zeros(input.shape, _like("zeros_like", input, dtype)), requires_grad)


def ones_like(input: Tensor, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape and (unless ``dtype``) dtype, as ``torch.ones_like``."""
    return _new_leaf("ones_like", np.ones(input.shape, _like("ones_like", input, dtype)), requires_grad)


def _number_dtype(op: str, values) -> np.dtype:
    """PyTorch's dtype for Python numbers: bool if all are bools, int64 if all are
    integers, else float32 (its default float)."""
    for value in values:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: expected real numbers, got {type(value).__name__} {value!r}")
    if all(isinstance(value, (bool, np.bool_)) for value in values):
        return np.dtype(np.bool_)
    if all(isinstance(value, numbers.Integral) for value in values):
        return np.dtype(np.int64)
    return np.dtype(np.float32)


def full(size, fill_value, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` (a tuple or list) filled with ``fill_value``, as
    ``torch.full``: its dtype follows the value (bool, int64 or float32) unless ``dtype``."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full: size must be a tuple or list of ints, got {type(size).__name__}")
    dtype = _number_dtype("full", (fill_value,)) if dtype is None else _as_dtype(dtype, "full")
    if dtype.kind not in "biuf":
        raise TypeError(f"full: unsupported dtype {dtype}; use a boolean, integer or floating-point dtype")
    return _new_leaf("full", np.full(_shape("full", (size,)), fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to (not including) ``end``, as ``torch.arange``:
    ``arange(5)``, ``arange(1, 5)``, ``arange(0, 1, 0.25)``. int64 when every bound is an
    integer, else float32, unless ``dtype``; the values are computed in float64 and cast."""
    if end is None:
        start, end = 0, start
    inferred = _number_dtype("arange", (start, end, step))
    if dtype is None:
        dtype = np.dtype(np.int64) if inferred.kind == "b" else inferred
    dtype = _as_dtype(dtype, "arange")
    if dtype.kind not in "iuf":
        raise TypeError(f"arange: unsupported dtype {dtype}; use an integer or floating-point dtype")
    if not all(math.isfinite(bound) for bound in (start, end, step)):
        raise ValueError(f"arange: start, end and step must be finite, got {start}, {end}, {step}")
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"arange: step {step} cannot go from {start} to {end}"
                         if step else "arange: step must be non-zero")
    count = math.ceil((end - start) / step)
    values = (start + np.arange(_shape("arange", (count,))[0], dtype=np.float64) * step
              if inferred.kind == "f" else np.arange(start, end, step, dtype=np.int64))
    return _new_leaf("arange", values.astype(dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory, as ``torch.from_numpy`` (``Tensor(array)`` copies)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype} (array of shape {array.shape}); "
                        "use a boolean, integer or floating-point array")
    return _leaf(array)


def tensor(data, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copied from ``data``, as ``torch.tensor``: Python bools become bool,
    Python ints int64 and any float float32 (``Tensor(data)`` makes all of them float32);
    arrays and tensors keep their dtype."""
    if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        try:
            array = np.array(data)
        except (TypeError, ValueError) as error:
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}: {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"tensor: unsupported data {type(data).__name__} (NumPy reads it as "
                            f"{array.dtype}); use numbers, nested lists of numbers or an array")
        dtype = {"b": np.bool_, "f": np.float32}.get(array.dtype.kind, np.int64)
        data = array
    return _new_leaf("tensor", _to_array(data, dtype, "tensor"), requires_grad)


Tensor.zeros = staticmethod(zeros)
Tensor.ones = staticmethod(ones)
Tensor.randn = staticmethod(randn)
Tensor.rand = staticmethod(rand)
Tensor.multinomial = multinomial


# -- grad mode --------------------------------------------------------------------------
def is_grad_enabled() -> bool:
    """Whether ops currently record a graph."""
    return _grad_enabled


class _GradMode:
    """A context manager and decorator that sets whether ops record a graph, and restores
    the previous mode on exit (nested and re-entrant uses included). Subclasses set
    ``_enabled``; as a decorator it works with or without parentheses."""

    _enabled: bool

    def __new__(cls, function=None):
        if function is not None:
            return cls()(function)
        return super().__new__(cls)

    def __init__(self, function=None):
        self._previous: list[bool] = []

    def __enter__(self):
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self._enabled
        return self

    def __exit__(self, *exc_info) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()

    def __call__(self, function):
        mode = type(self)

        @functools.wraps(function)
        def in_mode(*args, **kwargs):
            with mode():
                return function(*args, **kwargs)

        return in_mode


class no_grad(_GradMode):
    """Context manager and decorator under which no op records a graph.

    >>> import tinygrad_rnn as tg
    >>> w = tg.Tensor([1.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False

    As a decorator it works with or without parentheses (``@no_grad()``, ``@no_grad``).
    """

    _enabled = False


class enable_grad(_GradMode):
    """Context manager and decorator under which ops record a graph again, inside ``no_grad``.

    >>> import tinygrad_rnn as tg
    >>> w = tg.Tensor([1.0], requires_grad=True)
    >>> with tg.no_grad(), tg.enable_grad():
    ...     y = w * 2
    >>> y.requires_grad
    True
    """

    _enabled = True


class set_grad_enabled:
    """Turn graph recording on or off, as ``torch.set_grad_enabled(mode)``: called, it sets the
    mode at once; used with ``with`` (or as a decorator), the previous mode comes back after.

    >>> import tinygrad_rnn as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    >>> tg.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {mode!r}")
        self._previous, self._mode = _grad_enabled, bool(mode)
        _grad_enabled = self._mode

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc_info) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, function):
        global _grad_enabled
        _grad_enabled = self._previous  # decorating sets nothing now, only around each call
        mode = self._mode

        @functools.wraps(function)
        def in_mode(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return in_mode


class _TensorModule(types.ModuleType):
    """This module, callable: ``tinygrad_rnn.tensor(data)`` is :func:`tensor` (PyTorch's
    ``torch.tensor``), while ``tinygrad_rnn.tensor.Tensor`` and the rest stay where they are."""

    def __call__(self, data, *, dtype=None, requires_grad: bool = False) -> Tensor:
        return tensor(data, dtype=dtype, requires_grad=requires_grad)


sys.modules[__name__].__class__ = _TensorModule

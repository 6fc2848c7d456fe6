"""Shared hypothesis strategies and the numerical-gradient helper for the test suite.

Test modules import from here with ``from helpers import ...``: ``tests/`` has no
``__init__.py``, so pytest's default ``prepend`` import mode puts ``tests/`` on
``sys.path`` when it imports ``tests/conftest.py`` and the test modules.

Strategies build valid inputs by construction. Values are bounded away from an op's
trouble spots (zero for division and relu, ties for max) rather than drawn freely and
filtered with ``assume``, so every drawn example is tested.

:func:`check_vjp` is the MyGrad-style gradient test: it runs an op forward on float64
tensors, sends a random upstream gradient back, compares every input's gradient with
central differences, and checks the invariants (inputs not mutated, gradients of the
right shape and dtype, no gradient sharing memory with another gradient, an input or
the upstream gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg
from tinygrad_rnn.gradcheck import central_difference

MAX_DIMS = 3
MAX_SIDE = 3


# -- shapes --------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 0,
           max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, by default including 0-d scalars, size-1 axes and empty axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = MAX_DIMS,
                         min_side: int = 0,
                         max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that NumPy broadcasts together (size-1, 0-d, empty)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda shapes: shapes.input_shapes)


def axes(ndim: int) -> st.SearchStrategy:
    """A reduction ``axis`` argument for ``ndim`` dimensions: None, an int or a tuple (negatives too)."""
    if ndim == 0:
        return st.sampled_from([None, ()])
    one_axis = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True).flatmap(
        lambda chosen: st.tuples(*[st.sampled_from([i, i - ndim]) for i in chosen])
    )
    return st.none() | one_axis | several


# -- values --------------------------------------------------------------------------
def uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite float64 values in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    """sign · uniform(low, high): never within ``low`` of zero (division, relu, powers)."""
    return st.builds(lambda sign, magnitude: sign * magnitude, st.sampled_from([-1.0, 1.0]),
                     uniform(low, high))


def arrays(shape, elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (a tuple or a strategy), values in [-3, 3] by default."""
    return hnp.arrays(np.float64, shape, elements=uniform(-3.0, 3.0) if elements is None else elements)


@st.composite
def distinct_arrays(draw, shape: tuple[int, ...], spacing: float = 0.5) -> np.ndarray:
    """float64 arrays whose values differ pairwise by at least ``spacing / 2`` (no ties).

    The values are a shuffled ladder ``offset + spacing · k`` plus a jitter below
    ``spacing / 4``, so a finite-difference step never reorders them.
    """
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(arrays((size,), uniform(0.0, spacing / 4)))
    offset = draw(uniform(-3.0, 3.0))
    return (offset + spacing * order + jitter).reshape(shape)


def one_hot(indices, classes: int) -> np.ndarray:
    """float64 one-hot rows: ``one_hot([2, 0], 3) == [[0, 0, 1], [1, 0, 0]]``."""
    return np.eye(classes)[np.asarray(indices)]


# -- classification losses ---------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def classification_with_options(draw, reduction="sum", logit_values=None):
    """(logits, targets, ignore_index, label_smoothing). ignore_index is -100, another negative,
    C or more, or (C > 1) a class; some targets equal it, the others are other classes; ε is
    0, 1 or in between. Under "mean" at least one target is kept, by construction; under "sum"
    and "none" the leading shape may be empty (no predictions)."""
    leading = draw(shapes(max_dims=2, min_side=int(reduction == "mean")))
    classes = draw(st.integers(1, 5))
    classes_to_ignore = range(classes) if classes > 1 else []
    ignore_index = draw(st.sampled_from([-100, -1, classes, classes + 3, *classes_to_ignore]))
    ignored = draw(hnp.arrays(np.bool_, leading))
    if reduction == "mean" and ignored.all():
        ignored = ignored.copy()
        ignored.flat[draw(st.integers(0, ignored.size - 1))] = False
    kept_classes = [c for c in range(classes) if c != ignore_index]
    targets = draw(hnp.arrays(np.int64, leading, elements=st.sampled_from(kept_classes)))
    targets = np.where(ignored, ignore_index, targets)
    smoothing = draw(st.sampled_from([0.0, 1.0]) | uniform(0.0, 1.0))
    return draw(arrays((*leading, classes), logit_values)), targets, ignore_index, smoothing


# -- gradients -------------------------------------------------------------------------
Op = Callable[..., "tg.Tensor | Sequence[tg.Tensor]"]


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def numerical_gradients(fn: Op, inputs: Sequence[np.ndarray], upstreams: Sequence[np.ndarray],
                        eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of ``L = Σ upstream · fn(*inputs)`` with respect to each input.

    ``fn`` takes Tensors and returns a Tensor or a list of them (one upstream each).
    Everything runs in float64, under ``no_grad``, on private copies of ``inputs``.
    """
    points = [np.array(x, dtype=np.float64) for x in inputs]
    projection = np.concatenate([np.ravel(up) for up in upstreams]).astype(np.float64)

    def outputs_at() -> np.ndarray:
        """Every output, flattened into one vector (differenced before it is projected)."""
        with tg.no_grad():
            outputs = _as_list(fn(*[tg.Tensor(x) for x in points]))
        return np.concatenate([np.ravel(out.data) for out in outputs]).astype(np.float64)

    gradients = []
    for point in points:
        gradient = np.zeros_like(point)
        for index in np.ndindex(point.shape):
            gradient[index] = central_difference(point, index, outputs_at, eps) @ projection
        gradients.append(gradient)
    return gradients


def check_vjp(fn: Op, inputs: Sequence[np.ndarray], data, *, rtol: float = 1e-5,
              atol: float = 1e-7) -> list:
    """Check ``fn``'s backward with a random upstream gradient against central differences.

    ``inputs`` are float64 arrays, each wrapped in a Tensor that requires grad; ``data``
    is hypothesis's ``st.data()`` object, used to draw one upstream gradient per output.
    Each output gets its own ``backward(upstream)`` (so multiple outputs also exercise
    accumulation). Asserts the gradients match and that no invariant is broken; returns
    the outputs so the caller can compare the forward values too.
    """
    originals = [np.array(x, dtype=np.float64) for x in inputs]
    tensors = [tg.Tensor(x, requires_grad=True) for x in originals]
    outputs = _as_list(fn(*tensors))
    upstreams = [data.draw(arrays(out.shape, uniform(-2.0, 2.0)), label="upstream") for out in outputs]
    upstream_copies = [up.copy() for up in upstreams]
    for out, up in zip(outputs, upstreams):
        out.backward(up, retain_graph=True)

    expected = numerical_gradients(fn, originals, upstreams)
    grads = [t.grad for t in tensors]
    for i, (tensor, original, grad, numerical) in enumerate(zip(tensors, originals, grads, expected)):
        assert np.array_equal(tensor.data, original), f"input {i} was mutated"
        assert grad is not None, f"input {i} got no gradient"
        assert grad.shape == original.shape and grad.dtype == np.float64, (i, grad.shape, grad.dtype)
        np.testing.assert_allclose(grad, numerical, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
        others = [g for j, g in enumerate(grads) if j != i] + [t.data for t in tensors] + upstreams
        assert not any(np.shares_memory(grad, other) for other in others), f"gradient {i} aliases"
    for up, copy in zip(upstreams, upstream_copies):
        assert np.array_equal(up, copy), "the upstream gradient was mutated"
    return outputs

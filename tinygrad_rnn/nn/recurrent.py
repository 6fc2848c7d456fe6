"""Recurrent cells and multi-layer RNN / LSTM / GRU, with PyTorch's names and equations.

Rows are vectors, as in PyTorch: x_t is (B, D), h_t is (B, H), W_ih is (G·H, D) and
W_hh is (G·H, H) with G gates stacked along the first axis.

* RNN (G = 1):   h_t = φ(x_t W_ih^T + b_ih + h_{t−1} W_hh^T + b_hh),  φ = tanh or relu
* LSTM (G = 4, gates i, f, g, o in that order): with a = x_t W_ih^T + b_ih + h_{t−1} W_hh^T + b_hh
  split into a_i, a_f, a_g, a_o,
  i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o);  c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
* GRU (G = 3, gates r, z, n):
  r = σ(x_t W_ir^T + b_ir + h_{t−1} W_hr^T + b_hr),  z likewise,
  n = tanh(x_t W_in^T + b_in + r ⊙ (h_{t−1} W_hn^T + b_hn)),  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

As in PyTorch, ``bidirectional=True`` gives every layer a second set of weights
(``weight_ih_l{k}_reverse``, ...) that reads the sequence from last step to first: the
output is (T, B, 2H), the forward direction's features first, and states are (2L, B, H),
numbered layer by layer, forward before reverse. ``dropout=p`` zeroes each output of
every layer but the last with probability p (scaling the rest by 1/(1 − p)) while the
module is in training mode (``module.train()``, the default; ``module.eval()`` turns it off).
A ``PackedSequence`` input (``nn.utils.rnn.pack_padded_sequence``) runs every sequence of a
batch for its own length, as in PyTorch.

Everything is composed from the engine's ops. The sequence modules are written for
speed on a graph engine: the input projection x_t W_ih^T + b_ih of every step is one
matrix product before the time loop (for one-hot tokens, a row gather when large), b_hh
is folded into it wherever the equations allow (all of it for RNN and LSTM, the r and
z parts for GRU), each step multiplies by W_hh through ``ops.linear`` (so W_hh gets its
gradient as one product over all steps, in its own layout, with no transpose node),
reading its slice of the projection as a view; the RNN's tanh or relu is fused into
that product, and the LSTM and GRU updates are one fused node each (``ops.lstm_cell``,
``ops.gru_cell``), so a step adds one node (RNN) or two. An RNN layer's steps write h_t
into row t of one (T, B, H) array, and their gradients into another (``ops.StepRows``):
the output and W_hh's gradient factors are then stacked without a copy.

>>> import tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> lstm = nn.LSTM(3, 5, num_layers=2)
>>> output, (h_n, c_n) = lstm(tg.randn(7, 2, 3))
>>> output.shape, h_n.shape, c_n.shape
((7, 2, 5), (2, 2, 5), (2, 2, 5))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import functional, ops
from .. import rng as _rng
from ..tensor import Tensor, _leaf, view, zeros
from .layers import check_float_input, check_indices, uniform_parameter
from .module import Module, flag, float_dtype, positive_int
from .utils.rnn import PackedSequence, check_packed, padded_positions, take_padded

State = tuple[Tensor, ...]


# -- one time step of each kind: (x_t W_ih^T + folded biases, state, W_hh, W_hh^T as a C-contiguous
# array, extra) -> state, where extra is b_hn for the GRU, W_hr for an LSTM with a projection,
# else None --------------------------------------------------------------------------------------
def _tanh_step(x_t: Tensor, state: State, weight_hh: Tensor, weight_hh_t: np.ndarray, extra,
               rows=None) -> State:
    (h,) = state
    return (ops.linear_prechecked(h, weight_hh, x_t, "tanh", weight_hh_t, rows),)


def _relu_step(x_t: Tensor, state: State, weight_hh: Tensor, weight_hh_t: np.ndarray, extra,
               rows=None) -> State:
    (h,) = state
    return (ops.linear_prechecked(h, weight_hh, x_t, "relu", weight_hh_t, rows),)


def _lstm_step(x_t: Tensor, state: State, weight_hh: Tensor, weight_hh_t: np.ndarray,
               weight_hr: Tensor | None) -> State:
    h, c = state
    h, c = ops.lstm_cell(ops.linear_prechecked(h, weight_hh, x_t, None, weight_hh_t), c)
    if weight_hr is not None:  # proj_size: h_t = (o ⊙ tanh(c_t)) W_hr^T
        h = ops.linear_prechecked(h, weight_hr, None)
    return h, c


def _gru_step(x_t: Tensor, state: State, weight_hh: Tensor, weight_hh_t: np.ndarray,
              bias_hn: Tensor | None) -> State:
    (h,) = state
    # v = h W_hh^T + [0 | 0 | b_hn]: b_hr and b_hz are folded into x_t (they enter r and z
    # only through the sum x_t + v), b_hn stays in v, inside r ⊙ (...).
    return (ops.gru_cell(x_t, ops.linear_prechecked(h, weight_hh, bias_hn, None, weight_hh_t), h),)


class _Kind(NamedTuple):
    gates: int
    states: int  # 1 (h) or 2 (h, c)
    step: Callable[..., State]
    keeps_bias_hn: bool  # GRU: b_hn sits inside r ⊙ (...) and cannot be folded
    # The step takes ``rows`` (ops.StepRows, t, previous t): its h_t is a row of one array.
    writes_rows: bool = False


_KINDS = {
    "rnn_tanh": _Kind(1, 1, _tanh_step, False, True),
    "rnn_relu": _Kind(1, 1, _relu_step, False, True),
    "lstm": _Kind(4, 2, _lstm_step, False),
    "gru": _Kind(3, 1, _gru_step, True),
}


def _rnn_mode(nonlinearity: str, owner: str) -> str:
    if not isinstance(nonlinearity, str) or nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return f"rnn_{nonlinearity}"


def _add_parameters(module: Module, suffix: str, input_size: int, hidden_size: int, gates: int,
                    bias: bool, dtype: np.dtype, rng: np.random.Generator, proj_size: int = 0) -> None:
    """Register weight_ih, weight_hh, bias_ih, bias_hh, weight_hr (if ``proj_size``) (+ suffix),
    in PyTorch's order, with its init."""
    bound = 1 / math.sqrt(hidden_size)
    shapes = {"weight_ih": (gates * hidden_size, input_size),
              "weight_hh": (gates * hidden_size, proj_size or hidden_size)}
    if bias:
        shapes.update(bias_ih=(gates * hidden_size,), bias_hh=(gates * hidden_size,))
    if proj_size:
        shapes.update(weight_hr=(proj_size, hidden_size))
    for name, shape in shapes.items():
        setattr(module, name + suffix, uniform_parameter(rng, bound, shape, dtype))


def _biases(module: Module, suffix: str, kind: _Kind) -> tuple[Tensor | None, Tensor | None]:
    """(bias added to the input projection, [0 | 0 | b_hn] kept inside the GRU step or None)."""
    bias_ih = getattr(module, "bias_ih" + suffix, None)
    if bias_ih is None:
        return None, None
    bias_hh = getattr(module, "bias_hh" + suffix)
    if not kind.keeps_bias_hn:
        return bias_ih + bias_hh, None
    kept = bias_hh.shape[0] - bias_hh.shape[0] // kind.gates  # where the last gate (n) starts
    folded_part = np.ones(bias_hh.shape, dtype=bias_hh.dtype)
    folded_part[kept:] = 0
    return bias_ih + bias_hh * folded_part, bias_hh * (1 - folded_part)


# Up to this many multiply-adds, tokens are projected by the one-hot product itself.
_ONE_HOT_PRODUCT_MACS = 2**20


def _token_projection(tokens: np.ndarray, weight_ih: Tensor, folded: Tensor | None) -> Tensor:
    """one_hot(tokens) @ W_ih^T + b for checked int tokens of any shape: (*tokens.shape, G·H).

    A small problem (min-char-rnn's size) takes the product itself: one node, whose
    weight gradient is a single (G·H, rows) @ (rows, V) product, already in W_ih's
    layout. A larger one gathers rows of the (V, G·H) table W_ih^T + b instead, moving
    rows·G·H numbers where the product would do V times as many multiply-adds (and the
    bias is added to V rows, not to every step's).
    """
    width, vocab = weight_ih.shape
    if tokens.size * vocab * width <= _ONE_HOT_PRODUCT_MACS:
        one_hot = np.zeros((tokens.size, vocab), dtype=weight_ih.dtype)
        one_hot[np.arange(tokens.size), tokens.reshape(-1)] = 1
        projection = ops.linear(_leaf(one_hot), weight_ih, folded)
        return projection.reshape(*tokens.shape, width)
    table = weight_ih.T if folded is None else weight_ih.T + folded
    return table[tokens]


def _check_weights(module: Module, suffix: str, input_size: int, dtype: np.dtype) -> None:
    """Refuse parameters that were replaced with other shapes or dtypes.

    The time steps call ``ops.linear_prechecked``, which trusts its operands, so the
    shapes it relies on are checked here, once per layer and call.
    """
    rows, hidden = module._kind.gates * module.hidden_size, module.hidden_size
    projection = module.proj_size
    expected = {"weight_ih": (rows, input_size), "weight_hh": (rows, projection or hidden)}
    if module.bias:
        expected.update(bias_ih=(rows,), bias_hh=(rows,))
    if projection:
        expected.update(weight_hr=(projection, hidden))
    for name, shape in expected.items():
        param = getattr(module, name + suffix, None)
        if param is None:
            hint = " (the module was built with bias=True)" if name.startswith("bias") else ""
            raise ValueError(f"{type(module).__name__}: {name}{suffix} is missing or None{hint}; "
                             f"expected a Parameter of shape {shape} and dtype {dtype}")
        if param.shape != shape or param.dtype != dtype:
            raise ValueError(f"{type(module).__name__}: {name}{suffix} has shape {param.shape} and "
                             f"dtype {param.dtype}, expected shape {shape} and dtype {dtype}")


def _initial_state(owner: str, hx, names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...],
                   batched_shapes: tuple[tuple[int, ...], ...], described: tuple[str, ...],
                   dtype: np.dtype) -> State:
    """``hx`` checked against ``shapes`` (one per name; zeros when None), as tensors of
    ``batched_shapes``; ``described`` names each shape's axes for the messages."""
    if hx is None:
        return tuple(zeros(batched, dtype=dtype) for batched in batched_shapes)
    if len(names) == 1:
        if isinstance(hx, (tuple, list)):
            raise ValueError(f"{owner}: expected {names[0]} to be one tensor of shape {shapes[0]}, "
                             f"got a {type(hx).__name__}")
        items = (hx,)
    elif not isinstance(hx, (tuple, list)) or len(hx) != len(names):
        raise ValueError(f"{owner}: expected the state to be a tuple ({', '.join(names)}) of "
                         f"tensors of shapes {' and '.join(map(str, shapes))}, got {type(hx).__name__}")
    else:
        items = tuple(hx)
    state = []
    for name, item, shape, batched_shape, axes in zip(names, items, shapes, batched_shapes, described):
        if isinstance(item, np.ndarray):
            item = Tensor(item)
        elif not isinstance(item, Tensor):
            raise ValueError(f"{owner}: expected {name} to be a Tensor of shape {shape}, "
                             f"got {type(item).__name__}")
        if item.shape != shape:
            raise ValueError(f"{owner}: expected {name} of shape {shape} {axes}, "
                             f"got shape {item.shape}")
        if item.dtype != dtype:
            model_too = (f"convert the model with .to({str(item.dtype)!r}) or "
                         if item.dtype.kind == "f" else "")  # .to() takes float dtypes only
            raise ValueError(f"{owner}: {name} has dtype {item.dtype} but the parameters have "
                             f"dtype {dtype}; {model_too}convert the state with .astype({str(dtype)!r})")
        state.append(item if shape == batched_shape else item.reshape(batched_shape))
    return tuple(state)


# -- cells -------------------------------------------------------------------------------------
class _Cell(Module):
    """One step of a recurrent layer; parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    proj_size = 0

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool, dtype,
                 rng: np.random.Generator | None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", owner)
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.bias = flag(bias, "bias", owner)
        self._kind = _KINDS[mode]
        _add_parameters(self, "", self.input_size, self.hidden_size, self._kind.gates, self.bias,
                        float_dtype(dtype, owner), _rng.resolve(rng, owner))

    def _step(self, input: Tensor, hx, names: tuple[str, ...]) -> State:
        owner, size, hidden = type(self).__name__, self.input_size, self.hidden_size
        dtype = self.weight_hh.dtype
        x = check_float_input(owner, input, size, dtype, f"(B, {size}) or ({size},)")
        if x.ndim > 2:
            raise ValueError(f"{owner}: expected input of shape (B, {size}) or ({size},), "
                             f"got shape {x.shape}")
        batched = x.ndim == 2
        if not batched:
            x = x.reshape(1, size)
        batch = x.shape[0]
        shape = (batch, hidden) if batched else (hidden,)
        described = "(batch, hidden_size)" if batched else "(hidden_size,) for unbatched input"
        count = len(names)
        state = _initial_state(owner, hx, names, (shape,) * count, ((batch, hidden),) * count,
                               (described,) * count, dtype)
        _check_weights(self, "", size, dtype)
        folded, bias_hn = _biases(self, "", self._kind)
        state = self._kind.step(functional.linear(x, self.weight_ih, folded), state, self.weight_hh,
                                None, bias_hn)
        return state if batched else tuple(s.reshape(hidden) for s in state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False") + (
            "" if self.weight_hh.dtype == np.float32 else f", dtype={self.weight_hh.dtype}")


class RNNCell(_Cell):
    """h' = φ(x W_ih^T + b_ih + h W_hh^T + b_hh), φ = tanh or relu.

    ``forward(input, hx=None)``: input (B, D) or (D,), hx (B, H) or (H,) (zeros by
    default) → h' of hx's shape.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.RNNCell(3, 4)(tg.randn(2, 3)).shape
    (2, 4)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, rng: np.random.Generator | None = None) -> None:
        super().__init__(_rnn_mode(nonlinearity, "RNNCell"), input_size, hidden_size, bias, dtype, rng)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx, ("hx",))[0]

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")


class LSTMCell(_Cell):
    """One LSTM step: ``forward(input, hx=None)`` with hx = (h, c) → (h', c').

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> h, c = nn.LSTMCell(3, 4)(tg.randn(2, 3))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__("lstm", input_size, hidden_size, bias, dtype, rng)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        return self._step(input, hx, ("h", "c"))


class GRUCell(_Cell):
    """One GRU step: ``forward(input, hx=None)`` → h'.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> nn.GRUCell(3, 4)(tg.randn(3)).shape
    (4,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__("gru", input_size, hidden_size, bias, dtype, rng)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx, ("hx",))[0]


# -- multi-layer sequence modules ---------------------------------------------------------------
class _Recurrent(Module):
    """Layers of one kind over a whole sequence; layer k has ``weight_ih_l{k}`` etc."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                 batch_first: bool, dropout: float, bidirectional: bool, dtype,
                 rng: np.random.Generator | None, proj_size: int = 0) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", owner)
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        self.bias = flag(bias, "bias", owner)
        self.batch_first = flag(batch_first, "batch_first", owner)
        self.dropout = functional.check_probability(owner, dropout, "dropout")
        if self.dropout and self.num_layers == 1:
            warnings.warn(f"{owner}: dropout={self.dropout} does nothing with num_layers=1: it "
                          "applies to the outputs of every layer but the last", UserWarning, stacklevel=3)
        self.bidirectional = flag(bidirectional, "bidirectional", owner)
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)):
            raise TypeError(f"{owner}: proj_size must be an int, got {proj_size!r}")
        if not 0 <= proj_size < self.hidden_size:
            raise ValueError(f"{owner}: proj_size must be in [0, hidden_size) = [0, {self.hidden_size}), "
                             f"got {proj_size}")
        self.proj_size = int(proj_size)
        self._kind = _KINDS[mode]
        self._dropout_rng = rng  # None: the default generator at each call (see manual_seed)
        dtype, rng = float_dtype(dtype, owner), _rng.resolve(rng, owner)
        for layer in range(self.num_layers):
            for suffix in self._suffixes(layer):
                _add_parameters(self, suffix, self._layer_input(layer), self.hidden_size,
                                self._kind.gates, self.bias, dtype, rng, self.proj_size)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer: int) -> tuple[str, ...]:
        """Layer ``layer``'s parameter suffixes, PyTorch's: "_l{k}" and, if bidirectional, "_l{k}_reverse"."""
        return (f"_l{layer}", f"_l{layer}_reverse")[:self._directions]

    @property
    def _output_size(self) -> int:
        """Features of h per direction: proj_size if set, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _layer_input(self, layer: int) -> int:
        return self.input_size if layer == 0 else self._output_size * self._directions

    @property
    def _dtype(self) -> np.dtype:
        return self.weight_hh_l0.dtype

    def forward(self, input: Tensor, hx=None):
        """Run over a float sequence: input (T, B, D), (B, T, D) if batch_first, or (T, D).

        Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``): output holds the last
        layer's hidden state at every step, (T, B, H) or (B, T, H); h_n (L, B, H).

        ``input`` may also be a :class:`~tinygrad_rnn.nn.utils.rnn.PackedSequence` (from
        ``pack_padded_sequence``), as in PyTorch: each sequence then runs for its own
        length, h_n holds each one's state after its last step, and the output is packed.
        """
        owner, size = type(self).__name__, self.input_size
        if isinstance(input, PackedSequence):
            return self._packed(input, hx, tokens=False)
        layout = f"(B, T, {size})" if self.batch_first else f"(T, B, {size})"
        expected = f"{layout} or (T, {size}) unbatched"
        x = check_float_input(owner, input, size, self._dtype, expected,
                              "; for integer tokens read as one-hot vectors use forward_tokens()")
        if x.ndim not in (2, 3):
            raise ValueError(f"{owner}: expected input of shape {expected}, got shape {x.shape}")
        batched = x.ndim == 3
        if not batched:
            x = x.reshape(x.shape[0], 1, size)
        time_axis = self._time_axis(batched)
        state = self._check_sequence(owner, x.shape[:2], hx, batched, time_axis)
        return self._layers(x, state, batched, time_axis)

    def forward_tokens(self, tokens, hx=None):
        """Run over integer tokens read as one-hot vectors of size ``input_size``.

        tokens (T, B), (B, T) if batch_first, or (T,) unbatched. The first layer's input
        projection one_hot(tokens) @ weight_ih_l0.T is that product while it is small and
        otherwise the row gather ``weight_ih_l0.T[tokens]``, without the one-hot matrix.
        Returns what ``forward`` returns; packed tokens (a PackedSequence of ids) work too.
        """
        owner = type(self).__name__
        if isinstance(tokens, PackedSequence):
            return self._packed(tokens, hx, tokens=True)
        tokens = check_indices(owner, tokens, self.input_size, "tokens")
        if tokens.ndim not in (1, 2):
            layout = "(B, T)" if self.batch_first else "(T, B)"
            raise ValueError(f"{owner}: expected tokens of shape {layout} or (T,) unbatched, "
                             f"got shape {tokens.shape}")
        batched = tokens.ndim == 2
        if not batched:
            tokens = tokens[:, None]
        time_axis = self._time_axis(batched)
        state = self._check_sequence(owner, tokens.shape, hx, batched, time_axis)
        return self._layers(tokens, state, batched, time_axis)

    def _packed(self, packed: PackedSequence, hx, tokens: bool):
        """Run over a PackedSequence: each sequence for its own length, as PyTorch.

        The packed steps are laid out as a padded (T, B, ·) batch in the packed (longest
        first) order, and the time loop is the padded one, except that at a step where a
        sequence has ended its state is carried over unchanged (``active``): its last state is
        the one after its last step, and a reverse direction starts at its last step from
        h0. The output is packed again; h0 and h_n are in the batch's own order.
        """
        owner = type(self).__name__
        batch_sizes = check_packed(owner, packed)
        data = packed.data
        index = padded_positions(batch_sizes, None)
        if tokens:
            data = check_indices(owner, data, self.input_size, "tokens")
            if data.ndim != 1:
                raise ValueError(f"{owner}: expected packed tokens of shape (N,), got shape {data.shape}")
        else:
            size = self.input_size
            data = check_float_input(owner, data, size, self._dtype, f"(N, {size}) packed")
            if data.ndim != 2:
                raise ValueError(f"{owner}: expected packed data of shape (N, {size}), "
                                 f"got shape {data.shape}")
        inputs = take_padded(data, index, 0)  # token 0 or a zero row past each sequence's end
        state = self._check_sequence(owner, index.shape, hx, True, 0)
        order, restore = packed.sorted_indices, packed.unsorted_indices
        if order is not None:
            state = tuple(s[:, np.asarray(order)] for s in state)
        batch = index.shape[1]
        active = [None if size == batch else
                  _leaf((np.arange(batch) < size).astype(self._dtype)[:, None]) for size in batch_sizes]
        output, final = self._layers(inputs, state, True, 0, active)
        # The padded (t, b) of each packed row, in packed order: the row-major order of the steps.
        output = output.reshape(-1, output.shape[-1])[np.flatnonzero(index < len(data))]
        if restore is not None:
            final = (tuple(s[:, np.asarray(restore)] for s in final) if isinstance(final, tuple)
                     else final[:, np.asarray(restore)])
        return PackedSequence(output, batch_sizes, order, restore), final

    def _time_axis(self, batched: bool) -> int:
        return 1 if batched and self.batch_first else 0

    def _check_sequence(self, owner: str, leading: tuple[int, int], hx, batched: bool,
                        time_axis: int) -> State:
        """Refuse an empty sequence; check the initial state (zeros when None)."""
        if leading[time_axis] == 0:
            raise ValueError(f"{owner}: the sequence is empty (input shape starts with {leading})")
        batch = leading[1 - time_axis]
        stacked = self.num_layers * self._directions
        names = ("h0", "c0") if self._kind.states == 2 else ("h0",)
        sizes = ((self._output_size, "proj_size" if self.proj_size else "hidden_size"),
                 (self.hidden_size, "hidden_size"))[:len(names)]
        layers = "2 * num_layers" if self.bidirectional else "num_layers"
        full = tuple((stacked, batch, size) for size, _ in sizes)
        shapes = full if batched else tuple((stacked, size) for size, _ in sizes)
        # The axes' names, for the messages about a given state (none needed for zeros).
        described = () if hx is None else tuple(
            f"({layers}, batch, {axis})" if batched else f"({layers}, {axis}) for unbatched input"
            for _, axis in sizes)
        return _initial_state(owner, hx, names, shapes, full, described, self._dtype)

    def _layers(self, inputs: Tensor | np.ndarray, state: State, batched: bool, time_axis: int,
                active: list[Tensor | None] | None = None):
        """The time loop of every layer over checked inputs: floats (T, B, D) or tokens (T, B).

        (B first instead when batch_first.) Each layer's input projection, with the
        folded biases, is computed for all steps at once: a matrix product, or for
        tokens a gather of rows of W_ih^T, i.e. one_hot(tokens) @ W_ih^T. A reverse
        direction reads the steps from last to first; its outputs are joined to the
        forward ones along the feature axis, in time order. Between layers, in training
        mode, ``dropout`` applies to those outputs. With ``active`` (packed input), a
        sequence whose ``active[t]`` row is 0 keeps its state through step t.
        """
        steps = inputs.shape[time_axis]
        step = self._kind.step
        finals = []
        for layer in range(self.num_layers):
            directions = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                _check_weights(self, suffix, self._layer_input(layer), self._dtype)
                folded, bias_hn = _biases(self, suffix, self._kind)
                extra = getattr(self, "weight_hr" + suffix) if self.proj_size else bias_hn
                weight_ih = getattr(self, "weight_ih" + suffix)
                if isinstance(inputs, np.ndarray):
                    projection = _token_projection(inputs, weight_ih, folded)
                else:
                    projection = functional.linear(inputs, weight_ih, folded)
                weight_hh = getattr(self, "weight_hh" + suffix)
                weight_hh_t = np.ascontiguousarray(weight_hh.data.T)
                layer_state = tuple(view(s, len(finals)) for s in state)
                outputs = [None] * steps
                # An RNN writes h_t straight into row t of one (T, B, H) array: its outputs
                # then need no stacking, nor W_hh's gradient factors (ops.StepRows).
                rows = (ops.StepRows(steps, inputs.shape[1], self.hidden_size, self._dtype)
                        if self._kind.writes_rows and time_axis == 0 and active is None else None)
                previous = None
                for t in (range(steps - 1, -1, -1) if direction else range(steps)):
                    x_t = view(projection, t if time_axis == 0 else (slice(None), t))
                    if rows is None:
                        carried = layer_state
                        layer_state = step(x_t, layer_state, weight_hh, weight_hh_t, extra)
                        if active is not None and active[t] is not None:  # s_t = s_{t−1} + m (s_t − s_{t−1})
                            layer_state = tuple(old + (new - old) * active[t]
                                                for old, new in zip(carried, layer_state))
                    else:
                        layer_state = step(x_t, layer_state, weight_hh, weight_hh_t, extra,
                                           (rows, t, previous))
                    outputs[t], previous = layer_state[0], t
                directions.append(ops.stack(outputs, axis=time_axis) if rows is None
                                  else ops.stacked_rows(outputs, rows))
                finals.append(layer_state)
            inputs = directions[0] if len(directions) == 1 else ops.concatenate(directions, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inputs = functional.dropout(inputs, self.dropout, rng=self._dropout_rng)
        output = inputs
        final = tuple(ops.stack(list(per_layer)) for per_layer in zip(*finals))
        if not batched:
            output = output.reshape(steps, self._output_size * self._directions)
            final = tuple(s.reshape(len(finals), s.shape[-1]) for s in final)
        return output, (final if len(final) == 2 else final[0])

    def extra_repr(self) -> str:
        settings = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            settings.append(f"num_layers={self.num_layers}")
        if not self.bias:
            settings.append("bias=False")
        if self.batch_first:
            settings.append("batch_first=True")
        if self.dropout:
            settings.append(f"dropout={self.dropout}")
        if self.bidirectional:
            settings.append("bidirectional=True")
        if self.proj_size:
            settings.append(f"proj_size={self.proj_size}")
        if self._dtype != np.float32:
            settings.append(f"dtype={self._dtype}")
        return ", ".join(settings)


class RNN(_Recurrent):
    """Elman RNN over a sequence, ``num_layers`` deep: h_t = φ(x_t W_ih^T + b_ih + h_{t−1} W_hh^T + b_hh).

    ``forward(input, hx=None) -> (output, h_n)``; see :meth:`forward` and
    :meth:`forward_tokens` (one-hot integer tokens).

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> output, h_n = nn.RNN(65, 8).forward_tokens([[1, 2], [3, 4], [5, 6]])
    >>> output.shape, h_n.shape
    ((3, 2, 8), (1, 2, 8))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype=None, rng: np.random.Generator | None = None) -> None:
        super().__init__(_rnn_mode(nonlinearity, "RNN"), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, dtype, rng)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")


class LSTM(_Recurrent):
    """LSTM over a sequence, ``num_layers`` deep; the state is the pair (h, c).

    ``forward(input, hx=None) -> (output, (h_n, c_n))`` with hx = (h0, c0), each (L, B, H)
    ((2L, B, H) if ``bidirectional``). With ``proj_size`` P > 0 (PyTorch's LSTMP), h_t =
    (o ⊙ tanh(c_t)) W_hr^T through one more weight per layer, ``weight_hr_l{k}`` (P, H):
    h, the outputs and W_hh's columns have P features, c keeps H.

    >>> import tinygrad_rnn as tg
    >>> from tinygrad_rnn import nn
    >>> lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.1, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(tg.randn(6, 2, 3))
    >>> output.shape, h_n.shape
    ((6, 2, 8), (4, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, dtype=None, rng: np.random.Generator | None = None) -> None:
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, rng, proj_size)


class GRU(_Recurrent):
    """GRU over a sequence, ``num_layers`` deep: ``forward(input, hx=None) -> (output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, rng)

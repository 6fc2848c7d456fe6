"""``RecurrentModel``: the whole sequence model the workflow trains (embedding → RNN → head).

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> model = nn.RecurrentModel("lstm", 65, 32, 65, embedding_dim=16)
>>> [name for name, _ in model.named_parameters()][:3]
['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0']
>>> tokens = np.zeros((25, 4), dtype=np.int64)
>>> loss, state = model.loss(tokens, tokens)
>>> loss.backward()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional
from ..tensor import Tensor, zeros
from .layers import Embedding, Linear
from .module import Module, flag, float_dtype, positive_int
from .recurrent import GRU, LSTM, RNN

_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
_LOSSES = ("ce", "ce_last", "mse", "mse_last")
_REDUCTIONS = ("mean", "sum")

ModelState = Tensor | tuple[Tensor, Tensor]


class RecurrentModel(Module):
    """A recurrent sequence model: optional ``embedding``, then ``rnn``, then a linear ``head``.

    * ``cell``: "rnn" | "lstm" | "gru"; ``nonlinearity`` ("tanh" | "relu") is for "rnn" only.
    * ``input_kind="tokens"``: inputs are integer ids (T, B) in [0, input_size). With
      ``embedding_dim`` they go through ``embedding`` (Embedding(input_size, embedding_dim));
      without, the RNN reads them as one-hot vectors (``rnn.forward_tokens``).
    * ``input_kind="dense"``: inputs are floats (T, B, input_size).
    * ``head`` is Linear(hidden_size, output_size) (with a bias iff ``bias``, as the RNN).
    * ``dropout=p`` (as char-rnn): in training mode, dropout with probability p between
      the RNN's layers and on its last layer's output, before the head.

    Parameter names are therefore ``embedding.weight``, ``rnn.weight_ih_l0``,
    ``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0``, ..., ``head.weight``,
    ``head.bias``. ``state`` is h (L, B, H), or (h, c) for "lstm".
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int,
                 num_layers: int = 1, embedding_dim: int | None = None, input_kind: str = "tokens",
                 nonlinearity: str = "tanh", bias: bool = True, dropout: float = 0.0, dtype=None,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        owner = "RecurrentModel"
        if not isinstance(cell, str) or cell not in _CELLS:
            raise ValueError(f"{owner}: cell must be one of {tuple(_CELLS)}, got {cell!r}")
        if not isinstance(input_kind, str) or input_kind not in ("tokens", "dense"):
            raise ValueError(f"{owner}: input_kind must be 'tokens' or 'dense', got {input_kind!r}")
        if cell != "rnn" and not (isinstance(nonlinearity, str) and nonlinearity == "tanh"):
            raise ValueError(f"{owner}: nonlinearity applies to cell='rnn' only, got "
                             f"nonlinearity={nonlinearity!r} with cell={cell!r}")
        if embedding_dim is not None and input_kind != "tokens":
            raise ValueError(f"{owner}: embedding_dim is for input_kind='tokens' only, got "
                             f"embedding_dim={embedding_dim} with input_kind={input_kind!r}")
        dtype = float_dtype(dtype, owner)
        self.input_size = positive_int(input_size, "input_size", owner)
        self.cell = cell
        self.input_kind = input_kind
        self.output_size = positive_int(output_size, "output_size", owner)
        rnn_input = self.input_size
        if embedding_dim is not None:
            self.embedding = Embedding(self.input_size, embedding_dim, dtype=dtype, rng=rng)
            rnn_input = self.embedding.embedding_dim
        else:
            self.embedding = None
        self.dropout = functional.check_probability(owner, dropout, "dropout")
        num_layers = positive_int(num_layers, "num_layers", owner)
        bias = flag(bias, "bias", owner)
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = _CELLS[cell](rnn_input, hidden_size, num_layers, bias=bias, dtype=dtype, rng=rng,
                                dropout=self.dropout if num_layers > 1 else 0.0, **extra)
        # Masks come from ``rng`` when one is given (a training run's own generator, whose
        # state its checkpoints keep), else from the default generator at each call.
        self._dropout_rng = rng
        self.head = Linear(self.rnn.hidden_size, self.output_size, bias=bias, dtype=dtype, rng=rng)

    def config(self) -> dict[str, Any]:
        """The constructor arguments as a JSON-able dict: ``RecurrentModel(**config)`` rebuilds it."""
        return {
            "cell": self.cell,
            "input_size": self.input_size,
            "hidden_size": self.rnn.hidden_size,
            "output_size": self.output_size,
            "num_layers": self.rnn.num_layers,
            "embedding_dim": None if self.embedding is None else self.embedding.embedding_dim,
            "input_kind": self.input_kind,
            "nonlinearity": getattr(self.rnn, "nonlinearity", "tanh"),
            "bias": self.rnn.bias,
            "dropout": self.dropout,
            "dtype": str(self.head.weight.dtype),
        }

    def _drop(self, hidden: Tensor) -> Tensor:
        if not (self.dropout and self.training):  # the common case, without dropout's checks
            return hidden
        return functional.dropout(hidden, self.dropout, rng=self._dropout_rng)

    def _hidden(self, inputs, state: ModelState | None) -> tuple[Tensor, ModelState]:
        """The RNN's last-layer hidden states (T, B, H) and its final state."""
        # The RNN also accepts unbatched input; the model's losses need (T, B, ...).
        shape = np.shape(inputs.data if isinstance(inputs, Tensor) else inputs)
        if self.input_kind == "dense":
            if len(shape) != 3:
                raise ValueError(f"RecurrentModel: dense inputs must have shape "
                                 f"(T, B, {self.rnn.input_size}), got {shape}")
            return self.rnn(inputs, state)
        if len(shape) != 2:
            raise ValueError(f"RecurrentModel: token inputs must have shape (T, B), got {shape}")
        if self.embedding is not None:
            return self.rnn(self.embedding(inputs), state)
        return self.rnn.forward_tokens(inputs, state)

    def forward(self, inputs, state: ModelState | None = None) -> tuple[Tensor, ModelState]:
        """outputs (T, B, output_size) for every step, and the final state.

        The head is applied once, to all T·B hidden states together.
        """
        hidden, state = self._hidden(inputs, state)
        return self.head(self._drop(hidden)), state

    def loss(self, inputs, targets, loss: str = "ce", reduction: str = "mean",
             state: ModelState | None = None) -> tuple[Tensor, ModelState]:
        """The loss of the outputs against ``targets``, and the final state.

        ``loss``: "ce" (cross-entropy at every step, int targets (T, B)), "ce_last" (last
        step only, targets (B,)), "mse" (every step, float targets (T, B, O)) or
        "mse_last" (last step, (B, O)). ``reduction``: "mean" (over predictions for
        cross-entropy, over elements for MSE, as PyTorch) or "sum". For the *_last
        losses the head reads only the last step.
        """
        if not isinstance(loss, str) or loss not in _LOSSES:
            raise ValueError(f"RecurrentModel.loss: loss must be one of {_LOSSES}, got {loss!r}")
        if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
            raise ValueError(f"RecurrentModel.loss: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        hidden, state = self._hidden(inputs, state)
        if loss == "ce":
            # The head reads the T·B hidden states as one (T·B, H) matrix and the loss takes
            # its (T·B, O) logits as they are: two reshape nodes fewer than head(hidden).
            target_array = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
            if target_array.shape != hidden.shape[:2]:
                raise ValueError(f"RecurrentModel.loss: targets of shape {target_array.shape} do not "
                                 f"match the {hidden.shape[:2]} (T, B) predictions; loss='ce' "
                                 f"needs one class index per step and sequence")
            logits = self.head(self._drop(hidden).reshape(-1, hidden.shape[-1]))
            return functional.cross_entropy(logits, target_array.reshape(-1), reduction), state
        if loss.endswith("_last"):
            h_n = state[0] if isinstance(state, tuple) else state
            hidden = h_n[-1]  # the last layer's final hidden state, == hidden[-1]
        outputs = self.head(self._drop(hidden))
        if loss.startswith("ce"):
            return functional.cross_entropy(outputs, targets, reduction), state
        return functional.mse_loss(outputs, targets, reduction), state

    def init_state(self, batch_size: int) -> ModelState:
        """The zero state for ``batch_size`` sequences: h (L, B, H), or (h, c) for "lstm"."""
        shape = (self.rnn.num_layers, positive_int(batch_size, "batch_size", "RecurrentModel"),
                 self.rnn.hidden_size)
        dtype = self.head.weight.dtype
        if self.cell == "lstm":
            return zeros(shape, dtype=dtype), zeros(shape, dtype=dtype)
        return zeros(shape, dtype=dtype)

    @staticmethod
    def detach_state(state: ModelState | None) -> ModelState | None:
        """The state cut from the graph (truncated BPTT: carry values, not gradients)."""
        if state is None:
            return None
        parts = state if isinstance(state, tuple) else (state,)
        if not all(isinstance(part, Tensor) for part in parts):
            raise TypeError("RecurrentModel.detach_state: expected None, a Tensor or a tuple of "
                            f"Tensors (as loss() and forward() return), got {type(state).__name__}")
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

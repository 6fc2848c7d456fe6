"""Three-way gradient comparison: autograd, the hand-derived BPTT reference, finite differences.

:func:`compare_gradients` builds one model twice — ``nn.RecurrentModel`` through the
autograd engine, and the plain-NumPy ``reference`` — with the same weights, inputs,
targets and initial state, and reports for every parameter (and the initial state):

* ``autograd vs reference``: the largest absolute difference, and the relative
  difference ``max|a − r| / max|r|`` (relative to the tensor's largest gradient, so
  tiny entries do not blow it up);
* ``autograd vs FD`` and ``reference vs FD``: the same against central differences
  ``(L(θ + ε) − L(θ − ε)) / 2ε`` of the loss, computed in float64 on the reference's
  forward, on every element of small tensors and a seeded sample of big ones.

A row passes when autograd and reference agree to ``agree_rtol`` (1e-9 in float64,
1e-4 in float32) and both agree with finite differences within gradcheck's
tolerances (``|g − fd| ≤ 1e-5 + 1e-3 |fd|``).

>>> report = compare_gradients(cell="gru", loss="ce", seq_len=4, batch=2)
>>> report.passed
True
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from . import reference
from .gradcheck import central_difference
from .nn.models import RecurrentModel
from .runtime import callable_module
from .tensor import Tensor

CELLS = ("rnn", "lstm", "gru")
LOSSES = ("ce", "ce_last", "mse", "mse_last")
INPUTS = ("onehot", "embedding", "dense")
FD_ATOL, FD_RTOL = 1e-5, 1e-3


@dataclass
class GradientRow:
    """The comparison for one parameter (or the initial state)."""

    name: str
    shape: tuple[int, ...]
    abs_autograd_reference: float
    rel_autograd_reference: float
    abs_autograd_fd: float
    rel_autograd_fd: float
    abs_reference_fd: float
    rel_reference_fd: float
    fd_elements: int
    passed: bool


@dataclass
class ComparisonReport:
    """Everything :func:`compare_gradients` measured."""

    config: dict
    loss_autograd: float
    loss_reference: float
    agree_rtol: float
    rows: list[GradientRow] = field(default_factory=list)

    @property
    def loss_difference(self) -> float:
        return abs(self.loss_autograd - self.loss_reference)

    @property
    def passed(self) -> bool:
        loss_ok = self.loss_difference <= self.agree_rtol * max(abs(self.loss_reference), 1.0)
        return loss_ok and all(row.passed for row in self.rows)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed, "loss_difference": self.loss_difference}

    def format_table(self) -> str:
        c = self.config
        title = (f"{c['cell']} · loss {c['loss']} · input {c['input']} · T={c['seq_len']} "
                 f"B={c['batch']} D={c['input_size']} H={c['hidden_size']} O={c['output_size']} "
                 f"layers={c['num_layers']} · {c['dtype']} · seed {c['seed']}")
        header = (f"{'parameter':<20}{'shape':<12}{'auto vs ref':>24}{'auto vs FD':>24}"
                  f"{'ref vs FD':>24}{'FD elems':>9}  ok")
        sub = f"{'':<32}" + f"{'max abs':>12}{'max rel':>12}" * 3
        lines = [title, header, sub, "-" * len(header)]
        for r in self.rows:
            lines.append(
                f"{r.name:<20}{str(r.shape):<12}"
                f"{r.abs_autograd_reference:>12.2e}{r.rel_autograd_reference:>12.2e}"
                f"{r.abs_autograd_fd:>12.2e}{r.rel_autograd_fd:>12.2e}"
                f"{r.abs_reference_fd:>12.2e}{r.rel_reference_fd:>12.2e}"
                f"{r.fd_elements:>9}  {'ok' if r.passed else 'FAIL'}")
        lines.append(f"loss: autograd {self.loss_autograd:.12g}, reference "
                     f"{self.loss_reference:.12g}, difference {self.loss_difference:.2e}")
        lines.append(f"{'PASS' if self.passed else 'FAIL'}: autograd vs reference within rel "
                     f"{self.agree_rtol:g}; both vs FD within atol {FD_ATOL:g} + rtol {FD_RTOL:g}")
        return "\n".join(lines)


def compare_gradients(
    *,
    cell: str = "rnn",
    loss: str = "ce",
    input: str = "onehot",
    seq_len: int = 5,
    batch: int = 2,
    input_size: int = 6,
    hidden_size: int = 5,
    output_size: int | None = None,
    num_layers: int = 1,
    embedding_dim: int = 4,
    nonlinearity: str = "tanh",
    bias: bool = True,
    initial_state: bool = False,
    reduction: str = "mean",
    dtype: str = "float64",
    seed: int = 0,
    fd_samples: int = 40,
    eps: float = 1e-6,
) -> ComparisonReport:
    """Build the same model in autograd and in the reference and compare their gradients.

    ``input``: "onehot" tokens, tokens through an "embedding" of ``embedding_dim``, or
    "dense" float vectors of ``input_size``. ``output_size`` defaults to ``input_size``
    for token inputs (a language model) and to 3 for dense inputs. ``fd_samples`` (>= 1)
    finite-difference elements are checked per parameter (all of a smaller one).
    """
    _choice("cell", cell, CELLS)
    _choice("loss", loss, LOSSES)
    _choice("input", input, INPUTS)
    _choice("dtype", dtype, ("float64", "float32"))
    # Checked here, under compare's name (the model's own errors named RNN or RecurrentModel.loss)
    _choice("nonlinearity", nonlinearity, ("tanh", "relu"))
    if nonlinearity != "tanh" and cell != "rnn":
        raise ValueError(f"compare: nonlinearity={nonlinearity!r} applies to cell='rnn' only, got {cell!r}")
    _choice("reduction", reduction, ("mean", "sum"))
    for name, value in (("bias", bias), ("initial_state", initial_state)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"compare: {name} must be True or False, got {value!r}")
    if output_size is None:
        output_size = 3 if input == "dense" else input_size
    sizes = {"seq_len": seq_len, "batch": batch, "input_size": input_size, "hidden_size": hidden_size,
             "output_size": output_size, "num_layers": num_layers, "fd_samples": fd_samples}
    if input == "embedding":
        sizes["embedding_dim"] = embedding_dim
    for name, value in sizes.items():
        _check_int(name, value, minimum=1)
    _check_int("seed", seed, minimum=0)
    number = isinstance(eps, (int, float, np.floating)) and not isinstance(eps, bool)
    if not (number and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"compare: eps must be a positive finite number, got {eps!r}")
    config = {"cell": cell, "loss": loss, "input": input, "seq_len": seq_len, "batch": batch,
              "input_size": input_size, "hidden_size": hidden_size, "output_size": output_size,
              "num_layers": num_layers, "embedding_dim": embedding_dim if input == "embedding" else None,
              "nonlinearity": nonlinearity, "bias": bias, "initial_state": initial_state,
              "reduction": reduction, "dtype": dtype, "seed": seed}
    rng = np.random.default_rng(seed)
    model = RecurrentModel(cell, input_size, hidden_size, output_size, num_layers=num_layers,
                           embedding_dim=config["embedding_dim"],
                           input_kind="dense" if input == "dense" else "tokens",
                           nonlinearity=nonlinearity, bias=bias, dtype=dtype, rng=rng)
    params = model.state_dict()
    inputs, targets = _problem(rng, input, loss, seq_len, batch, input_size, output_size, dtype)
    state = _initial_state(rng, cell, num_layers, batch, hidden_size, dtype) if initial_state else None
    forward = {"cell": cell, "num_layers": num_layers, "nonlinearity": nonlinearity, "loss": loss,
               "reduction": reduction}

    # autograd
    state_tensors = None
    if state is not None:
        state_tensors = tuple(Tensor(s, requires_grad=True) for s in state)
    model_state = None if state_tensors is None else (
        state_tensors if cell == "lstm" else state_tensors[0])
    loss_tensor, _ = model.loss(inputs, targets, loss, reduction, state=model_state)
    loss_tensor.backward()
    autograd = {name: p.grad for name, p in model.named_parameters()}

    # reference
    h0 = None if state is None else (state if cell == "lstm" else state[0])
    result = reference.forward_backward(params, inputs, targets, h0=h0, **forward)
    ref = dict(result.grads)
    if state is not None:
        ref_state = result.grad_h0 if cell == "lstm" else (result.grad_h0,)
        for label, tensor, ref_grad in zip(("h0", "c0"), state_tensors, ref_state):
            autograd[label] = tensor.grad
            ref[label] = ref_grad

    # finite differences, float64, on the reference's forward
    params64 = {k: v.astype(np.float64) for k, v in params.items()}
    state64 = None if state is None else [s.astype(np.float64) for s in state]
    targets64 = targets.astype(np.float64) if loss.startswith("mse") else targets
    inputs64 = inputs.astype(np.float64) if input == "dense" else inputs

    def loss_at() -> float:
        h0_64 = None if state64 is None else (tuple(state64) if cell == "lstm" else state64[0])
        return reference.forward_backward(params64, inputs64, targets64, h0=h0_64, **forward).loss

    values = {**params64, **({} if state64 is None else dict(zip(("h0", "c0"), state64)))}
    agree_rtol = 1e-9 if dtype == "float64" else 1e-4
    report = ComparisonReport(config, float(loss_tensor.item()), float(result.loss), agree_rtol)
    sampler = np.random.default_rng(seed + 1)
    for name in autograd:
        a, r = np.asarray(autograd[name], np.float64), np.asarray(ref[name], np.float64)
        indices = _sample(sampler, a.shape, fd_samples)
        fd = np.array([central_difference(values[name], index, loss_at, eps) for index in indices])
        a_s, r_s = np.array([a[i] for i in indices]), np.array([r[i] for i in indices])
        row = GradientRow(
            name=name, shape=a.shape,
            abs_autograd_reference=_max_abs(a - r), rel_autograd_reference=_rel(a, r),
            abs_autograd_fd=_max_abs(a_s - fd), rel_autograd_fd=_rel(a_s, fd),
            abs_reference_fd=_max_abs(r_s - fd), rel_reference_fd=_rel(r_s, fd),
            fd_elements=len(indices),
            passed=bool(_rel(a, r) <= agree_rtol and _fd_ok(a_s, fd) and _fd_ok(r_s, fd)),
        )
        report.rows.append(row)
    return report


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"compare: {name} must be one of {choices}, got {value!r}")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"compare: {name} must be an integer >= {minimum}, got {value!r}")


def _problem(rng, input_kind, loss, seq_len, batch, input_size, output_size, dtype):
    if input_kind == "dense":
        inputs = rng.standard_normal((seq_len, batch, input_size)).astype(dtype)
    else:
        inputs = rng.integers(0, input_size, (seq_len, batch))
    if loss == "ce":
        targets = rng.integers(0, output_size, (seq_len, batch))
    elif loss == "ce_last":
        targets = rng.integers(0, output_size, (batch,))
    elif loss == "mse":
        targets = rng.standard_normal((seq_len, batch, output_size)).astype(dtype)
    else:
        targets = rng.standard_normal((batch, output_size)).astype(dtype)
    return inputs, targets


def _initial_state(rng, cell, num_layers, batch, hidden_size, dtype):
    shape = (num_layers, batch, hidden_size)
    count = 2 if cell == "lstm" else 1
    return [rng.uniform(-0.5, 0.5, shape).astype(dtype) for _ in range(count)]


def _sample(rng, shape, limit) -> list[tuple[int, ...]]:
    """Every index of a small tensor, or ``limit`` distinct random ones of a big one."""
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= limit else np.sort(rng.choice(size, limit, replace=False))
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat]


def _max_abs(difference: np.ndarray) -> float:
    return float(np.abs(difference).max()) if difference.size else 0.0


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    scale = float(np.abs(b).max()) if b.size else 0.0
    return _max_abs(a - b) / scale if scale > 0 else _max_abs(a - b)


def _fd_ok(gradient: np.ndarray, fd: np.ndarray) -> bool:
    return bool(np.all(np.abs(gradient - fd) <= FD_ATOL + FD_RTOL * np.abs(fd)))


# -- the command line ---------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cell", nargs="+", choices=CELLS, default=list(CELLS),
                        help="cell type(s) to compare (default: all three)")
    parser.add_argument("--loss", choices=LOSSES, default="ce",
                        help="ce: cross-entropy every step; ce_last: last step only; mse, "
                             "mse_last: squared error every step / last step (default: ce)")
    parser.add_argument("--input", choices=INPUTS, default="onehot",
                        help="token ids as one-hot, token ids through an embedding, or dense "
                             "vectors (default: onehot)")
    parser.add_argument("--seq-len", type=int, default=5, help="time steps T (default 5)")
    parser.add_argument("--batch", type=int, default=2, help="batch size B (default 2)")
    parser.add_argument("--input-size", type=int, default=6,
                        help="vocabulary size or input features (default 6)")
    parser.add_argument("--hidden", type=int, default=5, help="hidden size H (default 5)")
    parser.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    parser.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh",
                        help="rnn cell only (default tanh)")
    parser.add_argument("--no-bias", action="store_true", help="models without biases")
    parser.add_argument("--initial-state", action="store_true",
                        help="start from a random initial state and compare its gradient too")
    parser.add_argument("--reduction", choices=("mean", "sum"), default="mean",
                        help="combine the loss terms (one per target, for mse one per output "
                             "element) by their mean or their sum (default: mean)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="dtype of both models (finite differences always run in float64)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights, inputs, targets, initial state and the sampled "
                             "finite-difference elements (default: 0)")
    parser.add_argument("--fd-samples", type=int, default=40,
                        help="finite-difference elements per parameter (all, if fewer)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


# The integer options of the command, under their flag names, and their smallest values.
_INT_FLAGS = {"--seq-len": ("seq_len", 1), "--batch": ("batch", 1), "--input-size": ("input_size", 1),
              "--hidden": ("hidden", 1), "--layers": ("layers", 1), "--fd-samples": ("fd_samples", 1),
              "--seed": ("seed", 0)}


def run(args: argparse.Namespace) -> int:
    # Checked here so that the message names the flag (compare_gradients names its
    # arguments: hidden_size for --hidden, num_layers for --layers).
    for flag, (name, minimum) in _INT_FLAGS.items():
        value = getattr(args, name)
        if value < minimum:
            raise ValueError(f"{flag} must be an integer >= {minimum}, got {value}")
    reports = []
    for cell in args.cell:
        nonlinearity = args.nonlinearity if cell == "rnn" else "tanh"
        reports.append(compare_gradients(
            cell=cell, loss=args.loss, input=args.input, seq_len=args.seq_len, batch=args.batch,
            input_size=args.input_size, hidden_size=args.hidden, num_layers=args.layers,
            nonlinearity=nonlinearity, bias=not args.no_bias, initial_state=args.initial_state,
            reduction=args.reduction, dtype=args.dtype, seed=args.seed, fd_samples=args.fd_samples,
        ))
    if args.json:
        print(json.dumps([report.to_dict() for report in reports], indent=2))
    else:
        print("\n\n".join(report.format_table() for report in reports))
    return 0 if all(report.passed for report in reports) else 1


callable_module(__name__, compare_gradients)  # tinygrad_rnn.compare(...) calls compare_gradients

"""``tinygrad-rnn gradcheck``: gradcheck every op and every module at small sizes.

Each check builds a small float64 problem, runs :func:`~tinygrad_rnn.gradcheck.check_gradients`
over every input and parameter, and reports the worst absolute and relative error
against central differences. The command prints a table (or JSON with ``--json``) and
exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from . import functional as F
from .gradcheck import check_gradients
from .nn.utils import pack_padded_sequence, pad_sequence
from .ops import concatenate, gru_cell, linear, lstm_cell, split, stack, where
from .tensor import Tensor

Problem = tuple[Callable, list, list[str]]


def _t(rng: np.random.Generator, *shape: int, low: float = -1.0, high: float = 1.0) -> Tensor:
    return Tensor(rng.uniform(low, high, shape), dtype=np.float64, requires_grad=True)


def _away_from_zero(rng: np.random.Generator, *shape: int) -> Tensor:
    magnitude = rng.uniform(0.2, 1.5, shape)
    return Tensor(np.where(rng.random(shape) < 0.5, -magnitude, magnitude), requires_grad=True)


def _join_and_split(a: Tensor, b: Tensor) -> Tensor:
    pieces = split(concatenate([a, b], axis=1), [1, 4], axis=1)
    weights = stack([a.sum(axis=1), b.sum(axis=1), a.max(axis=1), b[:, 0], a[:, 1]], axis=1)
    return concatenate(pieces[::-1], axis=1) * weights


def _both_lstm_outputs(gates: Tensor, cell: Tensor) -> Tensor:
    h, c = lstm_cell(gates, cell)
    return h * 1.5 + c


def _packed_outputs(out) -> tuple[Tensor, Tensor]:
    packed, final = out
    return packed.data, final


def _op_checks() -> dict[str, Callable[[np.random.Generator], Problem]]:
    def binary(fn):
        return lambda r: (fn, [_t(r, 3, 1, 4), _t(r, 2, 1)], ["a (3,1,4)", "b (2,1)"])

    def unary(fn, make=_t, shape=(3, 4)):
        return lambda r: (fn, [make(r, *shape)], [f"x {shape}"])

    return {
        "add (broadcast)": binary(lambda a, b: a + b),
        "sub (broadcast)": binary(lambda a, b: a - b),
        "mul (broadcast)": binary(lambda a, b: a * b),
        "div (broadcast)": lambda r: (lambda a, b: a / b, [_t(r, 3, 4), _away_from_zero(r, 4)],
                                      ["a (3,4)", "b (4,)"]),
        "neg, reflected scalars": unary(lambda x: 2.0 - (-x) * 3.0 + 1.5 / (x + 3.0)),
        "pow (scalar exponent)": unary(lambda x: x ** 2.5, lambda r, *s: _t(r, *s, low=0.5, high=2)),
        "matmul 2-D": lambda r: (lambda a, b: a @ b, [_t(r, 3, 4), _t(r, 4, 2)], ["a", "b"]),
        "matmul batched": lambda r: (lambda a, b: a @ b, [_t(r, 2, 1, 3, 4), _t(r, 3, 4, 2)],
                                     ["a (2,1,3,4)", "b (3,4,2)"]),
        "addmm (broadcast bias)": lambda r: (lambda b, x, w: b.addmm(x, w),
                                             [_t(r, 1, 2), _t(r, 3, 4), _t(r, 4, 2)],
                                             ["bias (1,2)", "x (3,4)", "weight (4,2)"]),
        "addmm, fused activation": lambda r: (lambda b, x, w: b.addmm(x, w, activation="tanh"),
                                           [_t(r, 2), _t(r, 3, 4), _t(r, 4, 2)],
                                           ["bias (2,)", "x (3,4)", "weight (4,2)"]),
        "linear (x Wᵀ + b), fused activation": lambda r: (
            lambda x, w, b: linear(x, w, b, activation="tanh"),
            [_t(r, 3, 4), _t(r, 2, 4), _t(r, 2)], ["x (3,4)", "weight (2,4)", "bias (2,)"]),
        "lstm_cell (fused LSTM update)": lambda r: (_both_lstm_outputs, [_t(r, 2, 12), _t(r, 2, 3)],
                                                    ["gates (2,12)", "cell (2,3)"]),
        "gru_cell (fused GRU update)": lambda r: (
            gru_cell, [_t(r, 2, 9), _t(r, 2, 9), _t(r, 2, 3)],
            ["input_gates (2,9)", "hidden_gates (2,9)", "hidden (2,3)"]),
        "matmul 1-D": lambda r: (lambda a, b: a @ b, [_t(r, 4), _t(r, 2, 4, 3)], ["a (4,)", "b"]),
        "sum (axis, keepdims)": unary(lambda x: x.sum(axis=(0, 2), keepdims=True), shape=(2, 3, 4)),
        "mean": unary(lambda x: x.mean(axis=-1), shape=(2, 3, 4)),
        "max": lambda r: (lambda x: x.max(axis=1),
                          [Tensor(r.permutation(24).reshape(2, 3, 4) / 7.0, requires_grad=True)],
                          ["x (distinct values)"]),
        "min": lambda r: (lambda x: x.min(axis=(0, 2)),
                          [Tensor(r.permutation(24).reshape(2, 3, 4) / 7.0, requires_grad=True)],
                          ["x (distinct values)"]),
        "reshape, transpose, .T": unary(lambda x: x.reshape(4, 6).T.transpose(1, 0).reshape(-1),
                                        shape=(2, 3, 4)),
        "squeeze, unsqueeze, flatten, permute": unary(
            lambda x: x.unsqueeze(0).permute(2, 0, 3, 1).flatten(1).squeeze() * 1.5, shape=(2, 1, 3)),
        "getitem (slices)": unary(lambda x: x[1:, ::-2, None, ...], shape=(3, 4, 2)),
        "getitem (gather, repeats)": unary(lambda x: x[np.array([[1, 1], [4, 0]])], shape=(5, 3)),
        "gather, index_select (repeated indices)": unary(
            lambda x: x.gather(1, np.array([[0, 0], [2, 1], [3, 3]])) * x.index_select(1, np.array([2, 0])),
            shape=(3, 4)),
        "maximum, minimum (broadcast)": lambda r: (
            lambda a, b: a.maximum(b) + 2.0 * a.minimum(b), [_t(r, 3, 4), _t(r, 4)], ["a (3,4)", "b (4,)"]),
        "cumsum, repeat, t, mm": unary(lambda x: x.cumsum(dim=0).repeat(2, 1).t().mm(x.repeat(2, 1)),
                                       shape=(3, 4)),
        "concatenate, stack, split": lambda r: (_join_and_split, [_t(r, 3, 2), _t(r, 3, 3)],
                                                ["a (3,2)", "b (3,3)"]),
        "clone": unary(lambda x: x.clone() * x),
        "where, masked_fill (broadcast)": lambda r: (
            lambda a, b: where(np.array([[True], [False], [True]]), a, b).masked_fill(
                np.array([False, True, False, False]), 0.5) * b,
            [_t(r, 3, 4), _t(r, 4)], ["input (3,4)", "other (4,)"]),
        "expand, chunk": unary(lambda x: concatenate(x.expand(2, 3, 4).chunk(3, dim=2)[::-1], axis=2) * 1.5,
                               shape=(3, 1)),
        "var, std (correction)": unary(
            lambda x: x.var(dim=0).unsqueeze(0) * x.std(dim=1, correction=0).unsqueeze(1), shape=(3, 4)),
        "logsumexp": unary(lambda x: x.logsumexp(dim=-1, keepdim=True), shape=(3, 4)),
        "norm (p = 2, 1, 3)": unary(lambda x: x.norm() + x.norm(p=1, dim=0) * x.norm(p=3, dim=0),
                                    _away_from_zero),
        "exp": unary(lambda x: x.exp()),
        "log": unary(lambda x: x.log(), lambda r, *s: _t(r, *s, low=0.2, high=3)),
        "log1p, expm1": unary(lambda x: x.log1p() * x.expm1(), lambda r, *s: _t(r, *s, low=-0.8, high=2)),
        "erf, erfc": unary(lambda x: x.erf() * x.erfc()),
        "tanh": unary(lambda x: x.tanh()),
        "sigmoid": unary(lambda x: x.sigmoid()),
        "relu": unary(lambda x: x.relu(), _away_from_zero),
        "sqrt, abs, clamp": unary(lambda x: abs(x).sqrt() * x.clamp(-0.5, 0.5), _away_from_zero),
        # |x| >= 0.2 keeps the kinks out of the differences: 0 (leaky_relu, elu) and softplus's
        # switch at βx = threshold (here β · 3x = 1.5x, at least 0.3 from 0; threshold 0.25).
        "leaky_relu, elu, softplus, silu": unary(
            lambda x: F.leaky_relu(x, 0.2) * F.elu(x, 0.7) + F.softplus(x * 3.0, beta=0.5, threshold=0.25)
            + F.silu(x), _away_from_zero),
        "gelu (exact and approximate)": unary(lambda x: F.gelu(x) * F.gelu(x, approximate="tanh")),
        "logsigmoid, softsign, tanhshrink, mish, celu, selu": unary(
            lambda x: F.logsigmoid(x) * F.softsign(x) + F.tanhshrink(x) * F.mish(x)
            + F.celu(x, 0.5) * F.selu(x), _away_from_zero),
        # 4x spans every kink (±1, 0, ±3, 6, ±λ); a random draw lands within eps of one with
        # probability ~1e-6 per element, and the seed is fixed.
        "hardtanh, relu6, hardsigmoid, hardswish, softshrink, hardshrink": unary(
            lambda x: F.hardtanh(x * 4.0) * F.relu6(x * 8.0) + F.hardsigmoid(x * 4.0)
            * F.hardswish(x * 4.0) + F.softshrink(x, 0.3) * F.hardshrink(x * 4.0, 0.7)),
        "glu, prelu (weight)": lambda r: (
            lambda x, w: F.glu(x, dim=1) * F.prelu(x[:, :2], w),
            [_away_from_zero(r, 3, 4), _t(r, 2, low=0.1, high=0.5)], ["input (3,4)", "weight (2,)"]),
        "layer_norm (weight, bias)": lambda r: (
            lambda x, w, b: F.layer_norm(x, (2, 3), w, b, eps=1e-3),
            [_t(r, 4, 2, 3), _t(r, 2, 3), _t(r, 2, 3)], ["input (4,2,3)", "weight (2,3)", "bias (2,3)"]),
        "rms_norm (weight)": lambda r: (
            lambda x, w: F.rms_norm(x, (2, 3), w, eps=1e-3),
            [_t(r, 4, 2, 3), _t(r, 2, 3)], ["input (4,2,3)", "weight (2,3)"]),
        "normalize (p = 2, 3), cosine_similarity (broadcast)": lambda r: (
            lambda a, b: F.normalize(a, dim=0) * F.normalize(a, p=3.0, dim=1)
            + F.cosine_similarity(a, b, dim=1).unsqueeze(1),
            [_away_from_zero(r, 3, 4), _away_from_zero(r, 4)], ["x1 (3,4)", "x2 (4,)"]),
        "softmax": unary(lambda x: x.softmax(axis=0)),
        "log_softmax": unary(lambda x: x.log_softmax(axis=-1)),
        "cross_entropy": lambda r: (lambda x: F.cross_entropy(x, np.array([[0, 3], [2, 2]])),
                                    [_t(r, 2, 2, 4, low=-3, high=3)], ["logits (2,2,4)"]),
        "cross_entropy (weight, ignore_index, label_smoothing)": lambda r: (
            lambda x: F.cross_entropy(x, np.array([[0, -100], [2, 1]]), weight=np.array([1.0, 2.0, 0.5, 3.0]),
                                      ignore_index=-100, label_smoothing=0.2),
            [_t(r, 2, 2, 4, low=-3, high=3)], ["logits (2,2,4)"]),
        "pad_sequence": lambda r: (lambda a, b: pad_sequence([a, b], padding_value=0.5) * 2.0,
                                   [_t(r, 3, 2), _t(r, 1, 2)], ["a (3,2)", "b (1,2)"]),
        "mse_loss": lambda r: (F.mse_loss, [_t(r, 3, 2), _t(r, 3, 2)], ["prediction", "target"]),
        "binary_cross_entropy_with_logits (weight, pos_weight)": lambda r: (
            lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=np.array([1.0, 0.5, 2.0]),
                                                            pos_weight=np.array([3.0, 1.0, 0.25])),
            [_t(r, 4, 3, low=-3, high=3), _t(r, 4, 3, low=0, high=1)], ["logits (4,3)", "target (4,3)"]),
        "binary_cross_entropy (weight)": lambda r: (
            lambda p, y: F.binary_cross_entropy(p, y, weight=np.array([[1.0], [2.0]]), reduction="sum"),
            [_t(r, 2, 3, low=0.1, high=0.9), _t(r, 2, 3, low=0, high=1)], ["input (2,3)", "target (2,3)"]),
        # |input − target| ≥ 0.15: smooth_l1's linear branch (beta 0.1), huber's quadratic (delta 2).
        "l1_loss, smooth_l1_loss, huber_loss": lambda r: (
            lambda x, y: F.l1_loss(x, y) + F.smooth_l1_loss(x, y, reduction="sum", beta=0.1)
            + F.huber_loss(x, y, "none", delta=2.0).sum(),
            [_away_from_zero(r, 3, 4), _t(r, 3, 4, low=-0.05, high=0.05)], ["input (3,4)", "target (3,4)"]),
        "nll_loss (weight, ignore_index)": lambda r: (
            lambda x: F.nll_loss(x.log_softmax(-1), np.array([0, 3, -100, 1]),
                                 weight=np.array([1.0, 2.0, 0.5, 1.5])),
            [_t(r, 4, 4, low=-3, high=3)], ["input (4,4)"]),
        "kl_div (batchmean; log_target)": lambda r: (
            lambda x, t: F.kl_div(x.log_softmax(-1), t, reduction="batchmean")
            + F.kl_div(x, t.log(), reduction="sum", log_target=True),
            [_t(r, 3, 4, low=-3, high=3), _t(r, 3, 4, low=0.1, high=0.9)], ["input (3,4)", "target (3,4)"]),
        "ctc_loss (repeats, lengths)": lambda r: (
            lambda x: F.ctc_loss(x.log_softmax(-1), np.array([[1, 1], [2, 0]]), [5, 4], [2, 1]),
            [_t(r, 5, 2, 3, low=-2, high=2)], ["logits (5,2,3)"]),
        # A fresh generator per call: every evaluation uses the same mask.
        "dropout (fixed mask)": unary(lambda x: F.dropout(x, 0.4, rng=np.random.default_rng(3))),
    }


def _module_checks() -> dict[str, Callable[[np.random.Generator], Problem]]:
    from . import nn

    def module_problem(module, make_input, call):
        module.to(np.float64)
        names, params = zip(*module.named_parameters())

        def problem(r):
            x = make_input(r)
            return (lambda x, *_: call(module, x), [x, *params], ["input", *names])

        return problem

    def sequence(r, t=3, b=2, d=3):
        return _t(r, t, b, d)

    def last_state(out):
        return out[1] if not isinstance(out[1], tuple) else out[1][1]

    rng = np.random.default_rng(1)
    checks = {
        "Linear": module_problem(nn.Linear(3, 2, rng=rng), lambda r: _t(r, 4, 3), lambda m, x: m(x)),
        "RNNCell": module_problem(nn.RNNCell(3, 4, rng=rng), lambda r: _t(r, 2, 3),
                                  lambda m, x: m(x)),
        "LSTMCell": module_problem(nn.LSTMCell(3, 4, rng=rng), lambda r: _t(r, 2, 3),
                                   lambda m, x: m(x)[0] * m(x)[1]),
        "GRUCell": module_problem(nn.GRUCell(3, 4, rng=rng), lambda r: _t(r, 2, 3),
                                  lambda m, x: m(x)),
        "RNN (tanh, 2 layers)": module_problem(nn.RNN(3, 4, num_layers=2, rng=rng), sequence,
                                               lambda m, x: m(x)[0]),
        "RNN (relu)": module_problem(nn.RNN(3, 4, nonlinearity="relu", rng=rng), sequence,
                                     lambda m, x: m(x)[0]),
        "LSTM (2 layers)": module_problem(nn.LSTM(3, 4, num_layers=2, rng=rng), sequence,
                                          lambda m, x: (m(x)[0], last_state(m(x)))),
        "GRU (2 layers, batch_first)": module_problem(
            nn.GRU(3, 4, num_layers=2, batch_first=True, rng=rng), sequence, lambda m, x: m(x)[0]),
        "LayerNorm": module_problem(nn.LayerNorm((2, 3)), lambda r: _t(r, 4, 2, 3), lambda m, x: m(x)),
        "RMSNorm": module_problem(nn.RMSNorm((2, 3)), lambda r: _t(r, 4, 2, 3), lambda m, x: m(x)),
        "PReLU (per channel), Flatten, Unflatten": module_problem(
            nn.Sequential(nn.PReLU(3), nn.Flatten(), nn.Unflatten(1, (2, 3))),
            lambda r: _away_from_zero(r, 4, 3, 2), lambda m, x: m(x)),
        "Sequential (Linear, LayerNorm, Tanh)": module_problem(
            nn.Sequential(nn.Linear(3, 4, rng=rng), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2, rng=rng)),
            lambda r: _t(r, 5, 3), lambda m, x: m(x)),
        "LSTM (bidirectional, proj_size, 2 layers)": module_problem(
            nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, rng=rng), sequence,
            lambda m, x: (m(x)[0], last_state(m(x)))),
        "GRU (bidirectional, packed, lengths 3, 1)": module_problem(
            nn.GRU(3, 4, bidirectional=True, rng=rng), sequence,
            lambda m, x: _packed_outputs(m(pack_padded_sequence(x, [1, 3], enforce_sorted=False)))),
    }
    activations, nll = nn.Sequential(nn.Softmax(dim=0), nn.LogSoftmax()), nn.NLLLoss(reduction="sum")
    checks["Softmax, LogSoftmax, NLLLoss"] = lambda r: (
        lambda x: nll(activations(x), np.array([2, 0, 3])), [_t(r, 3, 4)], ["input (3,4)"])
    embedding = nn.Embedding(5, 3, rng=rng).to(np.float64)
    checks["Embedding (repeated ids)"] = lambda r: (
        lambda w: embedding(np.array([[1, 1], [4, 0]])), [embedding.weight], ["weight"])
    model = nn.RecurrentModel("lstm", 6, 5, 6, embedding_dim=3, rng=rng).to(np.float64)
    tokens = np.array([[1, 2], [2, 5], [0, 0]])
    names, params = zip(*model.named_parameters())
    checks["RecurrentModel (LSTM LM, cross-entropy)"] = lambda r: (
        lambda *_: model.loss(tokens[:-1], tokens[1:])[0], list(params), list(names))
    return checks


@dataclass
class CheckRow:
    """One line of the gradcheck table."""

    check: str
    inputs: int
    elements: int
    max_abs_error: float
    max_rel_error: float
    passed: bool
    seconds: float
    detail: str = ""


def run_checks(selected: str | None = None, seed: int = 0, include_modules: bool = True
               ) -> list[CheckRow]:
    """Run every check (or those whose name contains ``selected``) and return the rows."""
    checks = _op_checks()
    if include_modules:
        checks.update(_module_checks())
    rows = []
    for name, build in checks.items():
        if selected and selected.lower() not in name.lower():
            continue
        start = time.perf_counter()
        fn, inputs, names = build(np.random.default_rng(seed))
        results = check_gradients(fn, inputs, names=names, seed=seed)
        failures = [r.describe() for r in results if not r.passed]
        rows.append(CheckRow(
            check=name,
            inputs=len(results),
            elements=int(sum(np.prod(r.shape) for r in results)),
            max_abs_error=max(r.max_abs_error for r in results),
            max_rel_error=max(r.max_rel_error for r in results),
            passed=not failures,
            seconds=time.perf_counter() - start,
            detail="; ".join(failures),
        ))
    return rows


def format_table(rows: list[CheckRow]) -> str:
    width = max([42, *(len(row.check) + 2 for row in rows)])  # the longest name, and two spaces
    header = f"{'check':<{width}}{'inputs':>7}{'elements':>10}{'max abs err':>13}{'max rel err':>13}  status"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.check:<{width}}{row.inputs:>7}{row.elements:>10}{row.max_abs_error:>13.2e}"
            f"{row.max_rel_error:>13.2e}  {'ok' if row.passed else 'FAIL'}"
        )
        if row.detail:
            lines.append(f"    {row.detail}")
    failed = sum(not r.passed for r in rows)
    lines.append(f"{len(rows) - failed} passed, {failed} failed "
                 "(float64, central differences, eps 1e-6, atol 1e-5, rtol 1e-3)")
    return "\n".join(lines)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", metavar="TEXT", help="run only checks whose name contains TEXT")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the random problems (>= 0)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    rows = run_checks(args.only, args.seed)
    if not rows:
        raise ValueError(f"gradcheck: no check matches --only {args.only!r}")
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print(format_table(rows))
    return 0 if all(row.passed for row in rows) else 1

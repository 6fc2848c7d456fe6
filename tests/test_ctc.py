"""functional.ctc_loss, its fused likelihood ops.ctc_log_likelihood, and its module CTCLoss.

The loss is checked against a brute force that enumerates every alignment (every path of
length T over C classes) and keeps those that collapse to the target; the fused op's value
and gradient against the same recursion unrolled from ops (``ctc_log_likelihood_unrolled``,
autograd's gradient; −inf scores, impossible samples, random upstream gradients); the
loss's gradient against central differences (float64, unnormalized scores, impossible
samples under zero_infinity); against torch where it is installed (values and gradients in
float32 and float64, padded and concatenated targets, every reduction, different input
lengths, impossible samples, unbatched input; and torch's gradient for log_probs, which is
not the derivative of its loss there, see ``ctc_loss``'s docstring); the module against
the function; and the errors, which name the op.
"""

from __future__ import annotations

import inspect
import itertools
from functools import cache

import numpy as np
import pytest
from helpers import REDUCTIONS, arrays, check_vjp, uniform
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, functional, ops
from tinygrad_rnn.nn import CTCLoss


# -- the brute-force reference -------------------------------------------------------------
def collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    """CTC's many-to-one map: merge repeated labels, then drop the blanks."""
    merged = [label for i, label in enumerate(path) if i == 0 or label != path[i - 1]]
    return tuple(label for label in merged if label != blank)


@cache
def alignments(steps: int, classes: int, blank: int) -> dict[tuple[int, ...], np.ndarray]:
    """Every path of length ``steps`` over ``classes`` classes, grouped by what it collapses to
    (each group a (paths, steps) array); ``steps`` = 0 has one path, the empty one."""
    groups: dict[tuple[int, ...], list] = {}
    for path in itertools.product(range(classes), repeat=steps):
        groups.setdefault(collapse(path, blank), []).append(path)
    return {target: np.array(paths, dtype=np.intp).reshape(len(paths), steps)
            for target, paths in groups.items()}


def brute_force_loss(scores: np.ndarray, target, blank: int) -> float:
    """−log Σ exp(Σ_t scores[t, path_t]) over the paths that collapse to ``target``: inf if
    none does. ``scores`` is (T_n, C), the sample's steps within its input length."""
    steps, classes = scores.shape
    paths = alignments(steps, classes, blank).get(tuple(int(label) for label in target))
    if paths is None:
        return np.inf
    path_scores = scores[np.arange(steps), paths].sum(axis=1)  # (paths,)
    return float(-np.logaddexp.reduce(path_scores, initial=-np.inf))


def repeats(target) -> int:
    return sum(a == b for a, b in zip(target[:-1], target[1:]))


def reduced(losses: np.ndarray, target_lengths, reduction: str) -> np.ndarray:
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return (losses / np.maximum(target_lengths, 1)).mean()


# -- the recursion unrolled from ops: the fused op's reference ----------------------------
def _logsumexp_last(scores: Tensor) -> Tensor:
    """logsumexp over the last axis, −inf with gradient 0 where every score is −inf.

    ``ops.logsumexp`` gives −inf there too, but its gradient, softmax = 0/0, is nan; and
    0 · nan stays nan even where no path leads on. Such slices are set to 0 for the
    logsumexp (any finite value would do) and its result back to −inf, by masked_fill,
    which passes no gradient through the filled entries.
    """
    dead = np.all(scores.data == -np.inf, axis=-1)
    if not dead.any():
        return scores.logsumexp(axis=-1)
    return scores.masked_fill(dead[..., None], 0.0).logsumexp(axis=-1).masked_fill(dead, -np.inf)


def ctc_log_likelihood_unrolled(lp: Tensor, labels: np.ndarray, input_lengths: np.ndarray,
                                target_lengths: np.ndarray, blank: int) -> Tensor:
    """``ops.ctc_log_likelihood`` from ops (gather, getitem, masked_fill, where, logsumexp),
    several nodes per step, so its gradient is autograd's: the alpha recursion of
    ``ctc_loss``'s docstring, looped over time, over the batch and the states in NumPy, in
    ``lp``'s dtype. (This was ``ctc_loss``'s own computation before the fused op.)"""
    count = lp.shape[1]
    states = 2 * labels.shape[1] + 1  # for the longest target; shorter ones never read theirs
    extended = np.full((count, states), blank, dtype=np.intp)
    extended[:, 1::2] = labels
    s = np.arange(states)
    # The three predecessors of each state, clipped into range; the masked ones are −inf.
    predecessors = np.stack([s, np.maximum(s - 1, 0), np.maximum(s - 2, 0)], axis=-1)  # (L, 3)
    skip = np.zeros((count, states), dtype=bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    barred = np.stack([np.zeros_like(skip), np.broadcast_to(s < 1, skip.shape), ~skip], axis=-1)

    longest_input = int(input_lengths.max())
    # y_t(l'_s) for every step, sample and state: one gather, one scatter-add in backward
    emissions = lp[:longest_input].gather(
        2, np.broadcast_to(extended, (longest_input, count, states)))
    start = np.full((count, states), -np.inf, dtype=lp.dtype)
    start[:, 0] = 0.0
    alpha = Tensor(start)
    for t in range(longest_input):
        candidates = alpha[:, predecessors].masked_fill(barred, -np.inf)  # (N, L, 3)
        new = _logsumexp_last(candidates) + emissions[t]
        running = t < input_lengths
        # a sample past its input length keeps its last alpha (where: no gradient to new)
        alpha = new if running.all() else ops.where(running[:, None], new, alpha)

    finals = np.stack([2 * target_lengths, np.maximum(2 * target_lengths - 1, 0)], axis=-1)
    # an empty target ends in state 0 alone: its "second" final state is barred
    no_second = np.stack([np.zeros(count, dtype=bool), target_lengths == 0], axis=-1)
    ends = alpha.gather(1, finals).masked_fill(no_second, -np.inf)
    likelihood = _logsumexp_last(ends)
    if longest_input == 0:  # no step ran: keep the result in lp's graph, with gradient 0
        likelihood = likelihood + lp[:0].sum()
    return likelihood


# -- strategies ----------------------------------------------------------------------------
@st.composite
def ctc_cases(draw, max_steps: int = 5, max_classes: int = 4, max_batch: int = 3,
              feasible: bool = False, scores=None):
    """(log_probs (T, N, C), per-sample targets, input_lengths, blank): any blank (not only 0),
    labels from few classes (repeats like [1, 1] are common), targets from empty up to as long
    as the input allows (one step per label and one more per repeat) or, unless ``feasible``,
    longer (impossible); input lengths from 0 to T. C^T <= 1024 paths for the brute force."""
    steps = draw(st.integers(1, max_steps), label="T")
    classes = draw(st.integers(1, max_classes), label="C")
    blank = draw(st.integers(0, classes - 1), label="blank")
    labels = [c for c in range(classes) if c != blank]
    batch = draw(st.integers(1, max_batch), label="N")
    input_lengths, targets = [], []
    for _ in range(batch):
        length = draw(st.integers(0, steps), label="input length")
        target = draw(st.lists(st.sampled_from(labels), max_size=steps + 1), label="target") if labels else []
        if feasible:
            while len(target) + repeats(target) > length:  # cut down to what the input allows
                target = target[:-1]
        input_lengths.append(length)
        targets.append(target)
    values = uniform(-3.0, 3.0) if scores is None else scores
    log_probs = draw(arrays((steps, batch, classes), values), label="log_probs")
    return log_probs, targets, input_lengths, blank


@st.composite
def target_formats(draw, targets: list[list[int]], classes: int, blank: int):
    """The targets padded (N, S), S >= the longest, padded with junk (ignored: -1, blank, C + 3,
    a label), or concatenated; as an array, a list or a Tensor."""
    if draw(st.booleans(), label="concatenated"):
        data = np.array([label for target in targets for label in target], dtype=np.int64)
    else:
        width = max(map(len, targets)) + draw(st.integers(0, 2), label="extra padding")
        fill = draw(st.sampled_from([-1, blank, classes + 3, max(classes - 1, 0)]), label="padding")
        data = np.full((len(targets), width), fill, dtype=np.int64)
        for row, target in zip(data, targets):
            row[:len(target)] = target
    kind = draw(st.sampled_from(["array", "list", "Tensor"]), label="targets as")
    return {"array": data, "list": data.tolist(), "Tensor": Tensor(data)}[kind]


# -- 1. values: the brute force ------------------------------------------------------------
@given(case=ctc_cases(), data=st.data())
def test_values_are_the_log_sum_of_every_alignment(case, data):
    """Any real scores (not normalized: neither is torch's), every reduction, padded or
    concatenated targets; impossible samples give inf, or 0 under zero_infinity."""
    log_probs, targets, input_lengths, blank = case
    target_lengths = [len(target) for target in targets]
    encoded = data.draw(target_formats(targets, log_probs.shape[2], blank), label="targets")
    expected = np.array([brute_force_loss(log_probs[:length, n], target, blank)
                         for n, (length, target) in enumerate(zip(input_lengths, targets))])
    for n, (length, target) in enumerate(zip(input_lengths, targets)):
        assert np.isinf(expected[n]) == (len(target) + repeats(target) > length)  # the rule in the docs
    for zero_infinity in (False, True):
        wanted = np.where(np.isinf(expected), 0.0, expected) if zero_infinity else expected
        for reduction in REDUCTIONS:
            out = functional.ctc_loss(Tensor(log_probs), encoded, input_lengths, np.array(target_lengths),
                                      blank, reduction, zero_infinity)
            assert out.dtype == np.float64
            np.testing.assert_allclose(out.data, reduced(wanted, target_lengths, reduction), rtol=1e-12,
                                       atol=1e-12, err_msg=f"{reduction}, zero_infinity={zero_infinity}")


@pytest.mark.parametrize("steps, target, possible", [
    (1, [1], True), (2, [1, 1], False), (3, [1, 1], True), (3, [1, 2, 1], True), (4, [2, 2, 2], False),
    (5, [2, 2, 2], True), (0, [], True), (0, [1], False), (3, [], True), (4, [1, 2, 3, 1], True),
])
def test_edge_cases_of_length_and_repeats_against_the_brute_force(steps, target, possible):
    """Targets exactly as long as the input allows, one repeat too many, input length 0."""
    rng = np.random.default_rng(steps)
    scores = rng.normal(size=(max(steps, 1), 1, 4))
    for blank in (0, 3) if max(target, default=0) < 3 else (0,):
        expected = brute_force_loss(scores[:steps, 0], target, blank)
        out = functional.ctc_loss(Tensor(scores), np.array(target, dtype=np.int64), [steps], [len(target)],
                                  blank=blank, reduction="sum")
        assert np.isfinite(expected) == possible
        np.testing.assert_allclose(out.item(), expected, rtol=1e-12)


def test_minus_infinity_scores_rule_alignments_out_with_a_finite_gradient():
    """Masked classes (−inf log-probabilities) are alignments of score 0: the loss is the
    brute force's, inf if every alignment is masked, and the gradient has no nan."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4, 2, 3))
    scores[1, :, 2] = -np.inf  # class 2 cannot be emitted at t = 1
    scores[:, 1, 1] = -np.inf  # sample 1 can never emit class 1
    x = Tensor(scores, requires_grad=True)
    out = functional.ctc_loss(x, np.array([[2, 1], [1, 2]]), [4, 4], [2, 2], reduction="none")
    out.backward(np.array([1.0, 1.0]))
    expected = [brute_force_loss(scores[:, n], target, 0) for n, target in enumerate([[2, 1], [1, 2]])]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert np.isinf(out.data[1]) and np.isfinite(out.data[0])
    assert np.isfinite(x.grad).all()
    assert (x.grad[1, 0, 2] == 0) and (x.grad[:, 1] == 0).all()


# -- 2. gradients: central differences -----------------------------------------------------
@given(case=ctc_cases(max_steps=4), data=st.data())
def test_gradients_match_central_differences(case, data):
    """float64, any real scores; impossible samples too, under zero_infinity (loss and
    gradient 0). Every reduction and target format."""
    log_probs, targets, input_lengths, blank = case
    target_lengths = [len(target) for target in targets]
    encoded = data.draw(target_formats(targets, log_probs.shape[2], blank), label="targets")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    impossible = any(len(t) + repeats(t) > n for t, n in zip(targets, input_lengths))

    def loss(x):
        return functional.ctc_loss(x, encoded, input_lengths, target_lengths, blank, reduction,
                                   zero_infinity=impossible)

    [out] = check_vjp(loss, [log_probs], data, rtol=1e-6, atol=1e-8)
    assert np.isfinite(out.data).all()


@given(case=ctc_cases(max_steps=4, feasible=True), data=st.data())
def test_the_gradient_for_log_softmax_logits_is_softmax_minus_the_occupation(case, data):
    """Through log_softmax, the gradient for the logits of a feasible sample sums to 0 over the
    classes at each step within its input length (softmax − occupation, both summing to 1)."""
    logits, targets, input_lengths, blank = case
    x = Tensor(logits, requires_grad=True)
    width = max(map(len, targets))
    padded = [t + [blank] * (width - len(t)) for t in targets]  # a list of lists, blank-padded
    functional.ctc_loss(x.log_softmax(2), padded, input_lengths,
                        [len(t) for t in targets], blank, "sum").backward()
    within = np.arange(logits.shape[0])[:, None] < np.array(input_lengths)[None, :]
    np.testing.assert_allclose(x.grad.sum(axis=2), 0.0, atol=1e-12)
    assert (x.grad[~within] == 0).all()


# -- 3. against torch ----------------------------------------------------------------------
def torch_reference(torch, logits: np.ndarray, targets, input_lengths, target_lengths, upstream, **settings):
    """torch's loss of log_softmax(logits) and its gradients for the logits and for log_probs."""
    x = torch.tensor(logits, requires_grad=True)
    log_probs = x.log_softmax(-1)
    log_probs.retain_grad()
    out = torch.nn.functional.ctc_loss(log_probs, torch.as_tensor(targets), torch.as_tensor(input_lengths),
                                       torch.as_tensor(target_lengths), **settings)
    out.backward(torch.as_tensor(upstream))
    return out.detach().numpy(), x.grad.numpy(), log_probs.grad.numpy()


def ours(logits: np.ndarray, targets, input_lengths, target_lengths, upstream, **settings):
    x = Tensor(logits, requires_grad=True)
    log_probs = x.log_softmax(-1)
    log_probs.retain_grad()
    out = functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, **settings)
    out.backward(upstream)
    return out.data, x.grad, log_probs.grad, log_probs.data


def sample_upstreams(upstream: np.ndarray, target_lengths, reduction: str, batch: int) -> np.ndarray:
    """d(reduced loss)/d(loss_n) · upstream, per sample (N,)."""
    if reduction == "none":
        return np.asarray(upstream, dtype=np.float64).reshape(batch)
    if reduction == "sum":
        return np.full(batch, float(upstream))
    return float(upstream) / (batch * np.maximum(np.asarray(target_lengths, dtype=np.float64), 1))


def compare_with_torch(torch, logits, targets, input_lengths, target_lengths, rng, tolerance, **settings):
    """Values and logit gradients equal torch's; torch's log_probs gradient is ours plus
    exp(log_probs) · (that sample's upstream) within its input length. An impossible sample
    without zero_infinity: inf in both, its gradient nan in torch and 0 here."""
    dtype = logits.dtype
    reduction = settings["reduction"]
    batched = logits.ndim == 3
    shape = (len(input_lengths),) if reduction == "none" and batched else ()
    upstream = rng.uniform(0.5, 2.0, shape).astype(dtype)
    value, logit_grad, lp_grad, log_probs = ours(logits, targets, input_lengths, target_lengths, upstream,
                                                 **settings)
    t_value, t_logit_grad, t_lp_grad = torch_reference(torch, logits, targets, input_lengths, target_lengths,
                                                       upstream, **settings)
    assert value.dtype == dtype and value.shape == t_value.shape
    np.testing.assert_allclose(value, t_value, rtol=tolerance, atol=tolerance)
    if not batched:
        logit_grad, t_logit_grad, lp_grad, t_lp_grad, log_probs = (
            a[:, None] for a in (logit_grad, t_logit_grad, lp_grad, t_lp_grad, log_probs))
    lengths = np.atleast_1d(np.asarray(input_lengths))
    per_sample = np.atleast_1d(np.asarray(target_lengths))
    losses = np.atleast_1d(ours(logits, targets, input_lengths, target_lengths,
                                np.ones(np.shape(lengths) if batched else ()),
                                **{**settings, "reduction": "none", "zero_infinity": False})[0])
    infinite = np.isinf(losses)
    kept = ~infinite if not settings.get("zero_infinity") else np.ones_like(infinite)
    np.testing.assert_allclose(logit_grad[:, kept], t_logit_grad[:, kept], rtol=tolerance, atol=tolerance)
    if not settings.get("zero_infinity"):
        within = np.arange(logits.shape[0])[:, None] < lengths[None, :]
        assert np.isnan(t_logit_grad[:, infinite][within[:, infinite]]).all()
        assert (logit_grad[:, infinite] == 0).all()
    # torch's log_probs gradient: ours + exp(log_probs) · g_n for t < T_n (not the derivative)
    g = sample_upstreams(upstream, per_sample, reduction, len(lengths))
    if settings.get("zero_infinity"):
        g = np.where(infinite, 0.0, g)
    within = (np.arange(logits.shape[0])[:, None] < lengths[None, :])[..., None]
    shifted = lp_grad + np.exp(log_probs.astype(np.float64)) * g[None, :, None] * within
    np.testing.assert_allclose(shifted[:, kept], t_lp_grad[:, kept], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-5), (np.float64, 1e-11)])
def test_values_and_gradients_match_torch(dtype, tolerance, concatenated):
    """T = 12, N = 5, C = 6, blank 0 and 3: different input lengths, an empty target, repeats,
    a sample that needs every step, an impossible one; every reduction, zero_infinity both ways."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(int(concatenated))
    logits = (rng.standard_normal((12, 5, 6)) * 2).astype(dtype)
    targets_by_sample = [[1, 2, 2, 4], [5], [], [4, 4, 4, 4, 4, 4], [2, 2, 2, 2]]
    input_lengths = [12, 7, 3, 11, 6]  # the fourth needs 6 + 5 = 11 steps; the fifth 7 > 6
    target_lengths = [len(t) for t in targets_by_sample]
    for blank in (0, 3):
        relabelled = [[blank if c == 3 else 3 if c == blank else c for c in t] for t in targets_by_sample]
        if concatenated:
            targets = np.array([c for t in relabelled for c in t], dtype=np.int64)
        else:
            targets = np.full((5, 7), -1, dtype=np.int64)
            for row, t in zip(targets, relabelled):
                row[:len(t)] = t
        for reduction in REDUCTIONS:
            for zero_infinity in (False, True):
                compare_with_torch(torch, logits, targets, input_lengths, target_lengths, rng, tolerance,
                                   blank=blank, reduction=reduction, zero_infinity=zero_infinity)


@given(case=ctc_cases(), data=st.data())
def test_small_cases_match_torch(case, data):
    """The drawn cases (any blank, input lengths 0 to T, impossible samples), as logits."""
    torch = pytest.importorskip("torch")
    logits, targets, input_lengths, blank = case
    target_lengths = [len(t) for t in targets]
    concatenated = np.array([c for t in targets for c in t], dtype=np.int64)
    rng = np.random.default_rng(0)
    for reduction in REDUCTIONS:
        for zero_infinity in (False, True):
            compare_with_torch(torch, logits, concatenated, input_lengths, target_lengths, rng, 1e-11,
                               blank=blank, reduction=reduction, zero_infinity=zero_infinity)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-5), (np.float64, 1e-11)])
def test_unbatched_input_matches_torch(dtype, tolerance):
    """(T, C) log_probs, targets (S,) or (1, S), lengths 0-d or (1,): a 0-d loss."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((8, 5)).astype(dtype)
    for targets, input_length, target_length in ((np.array([1, 2, 2]), np.array(8), np.array(3)),
                                                 (np.array([[4, 4, 9]]), np.array([6]), np.array([2])),
                                                 (np.array([3, 3, 3, 3, 3]), np.array(8), np.array(5))):
        for reduction in REDUCTIONS:
            for zero_infinity in (False, True):
                compare_with_torch(torch, logits, targets, input_length, target_length, rng, tolerance,
                                   reduction=reduction, zero_infinity=zero_infinity)
    out = functional.ctc_loss(Tensor(logits), [1, 2], 8, 2, reduction="none")  # an int length too
    assert out.shape == () and out.dtype == dtype


def test_signatures_keep_torchs_names_and_defaults():
    torch = pytest.importorskip("torch")
    for mine, theirs in ((functional.ctc_loss, torch.nn.functional.ctc_loss), (CTCLoss, torch.nn.CTCLoss)):
        mine, theirs = inspect.signature(mine).parameters, inspect.signature(theirs).parameters
        assert list(mine) == list(theirs)
        assert all(mine[p].default == theirs[p].default for p in mine)
        assert all(p.kind == p.POSITIONAL_OR_KEYWORD for p in mine.values())


# -- 4. errors -----------------------------------------------------------------------------
LOG_PROBS = Tensor(np.zeros((4, 2, 3)))
TARGETS = np.array([[1, 2], [2, 0]])


def call(**changes):
    arguments = {"log_probs": LOG_PROBS, "targets": TARGETS, "input_lengths": [4, 3],
                 "target_lengths": [2, 1], **changes}
    return lambda: functional.ctc_loss(**arguments)


@pytest.mark.parametrize("bad, error, message", [
    (call(log_probs=np.zeros((4, 2, 3))), TypeError, r"ctc_loss: log_probs must be a Tensor, got ndarray$"),
    (call(log_probs=Tensor(np.zeros((4, 2, 3), dtype=np.int64))), TypeError,
     r"ctc_loss: log_probs must be a floating-point Tensor, got dtype int64 \(shape \(4, 2, 3\)\)$"),
    (call(log_probs=Tensor(np.zeros(4))), ValueError,
     r"ctc_loss: log_probs must be \(T, N, C\) or, unbatched, \(T, C\), got shape \(4,\)$"),
    (call(log_probs=Tensor(np.zeros((1, 4, 2, 3)))), ValueError, r"ctc_loss: log_probs must be \(T, N, C\)"),
    (call(log_probs=Tensor(np.zeros((0, 2, 3)))), ValueError,
     r"ctc_loss: log_probs must not be empty, got shape \(0, 2, 3\)$"),
    (call(input_lengths=[4]), ValueError, r"ctc_loss: input_lengths must hold 2 length\(s\), one per sample "
                                          r"of log_probs of shape \(4, 2, 3\), got shape \(1,\)$"),
    (call(target_lengths=2), ValueError,
     r"ctc_loss: target_lengths must hold 2 length\(s\).* got shape \(\)$"),
    (call(input_lengths=[4, -1]), ValueError, r"ctc_loss: input_lengths must be >= 0, got -1"),
    (call(input_lengths=[5, 3]), ValueError,
     r"ctc_loss: input_lengths must be at most T = 4 \(log_probs of shape \(4, 2, 3\)\), got 5$"),
    (call(target_lengths=[-2, 1]), ValueError, r"ctc_loss: target_lengths must be >= 0, got -2"),
    (call(target_lengths=[3, 1]), ValueError, r"ctc_loss: padded targets must have shape \(N, S\) with N = 2 "
                                              r"and S >= max\(target_lengths\) = 3, got shape \(2, 2\)$"),
    (call(targets=np.array([[1, 2]])), ValueError, r"ctc_loss: padded targets must have shape \(N, S\) with "
                                                   r"N = 2"),
    (call(targets=np.array([1, 2, 2, 1])), ValueError,
     r"ctc_loss: concatenated targets must hold sum\(target_lengths\) = 3 labels, got shape \(4,\)$"),
    (call(targets=np.zeros((2, 2, 1), dtype=np.int64)), ValueError,
     r"ctc_loss: targets must be padded \(N, S\) or concatenated \(sum\(target_lengths\),\), got shape "
     r"\(2, 2, 1\)$"),
    (call(input_lengths=np.array([4.0, 3.0])), TypeError,
     r"ctc_loss: input_lengths must be integers, got dtype float64 \(shape \(2,\)\)$"),
    (call(target_lengths=[True, False]), TypeError,
     r"ctc_loss: target_lengths must be integers, got dtype bool"),
    (call(input_lengths=[[4], [3, 1]]), ValueError,
     r"ctc_loss: input_lengths must be one integer per sample, got a ragged list$"),
    (call(targets=TARGETS.astype(np.float64)), TypeError,
     r"ctc_loss: targets must be integer class indices, got dtype float64 \(shape \(2, 2\)\)$"),
    (call(targets=np.array([[1, 3], [2, 0]])), ValueError,
     r"ctc_loss: targets must be class indices in \[0, 3\) other than blank = 0, got \[3\] \(log_probs of "
     r"shape \(4, 2, 3\)\)$"),
    (call(targets=np.array([[-1, 1], [2, 0]])), ValueError, r"ctc_loss: targets must be class indices .*"
                                                            r"got \[-1\]"),
    (call(targets=np.array([[1, 0], [2, 0]])), ValueError, r"ctc_loss: targets must be class indices in "
                                                           r"\[0, 3\) other than blank = 0, got \[0\]"),
    (call(blank=2), ValueError, r"ctc_loss: targets must be class indices in \[0, 3\) other than blank = 2, "
                                r"got \[2, 2\]"),
    (call(blank=3), ValueError, r"ctc_loss: blank must be a class index >= 0 below C = 3, got 3$"),
    (call(blank=-1), ValueError, r"ctc_loss: blank must be a class index >= 0 below C = 3, got -1$"),
    (call(blank=1.0), TypeError, r"ctc_loss: blank must be an int, got 1.0 \(float\)$"),
    (call(blank=True), TypeError, r"ctc_loss: blank must be an int, got True \(bool\)$"),
    (call(reduction="avg"), ValueError, r"ctc_loss: reduction must be one of \('mean', 'sum', 'none'\), "
                                        r"got 'avg'$"),
    (call(zero_infinity="False"), TypeError, r"ctc_loss: zero_infinity must be a bool, got 'False'$"),
    (call(zero_infinity=1), TypeError, r"ctc_loss: zero_infinity must be a bool, got 1$"),
    (call(log_probs=Tensor(np.zeros((4, 3))), targets=[1, 2], input_lengths=[4, 4], target_lengths=[2]),
     ValueError, r"ctc_loss: input_lengths must hold 1 length\(s\), one per sample of log_probs of shape "
                 r"\(4, 3\), got shape \(2,\)$"),
    (lambda: CTCLoss(blank=-1), ValueError, r"CTCLoss: blank must be a class index >= 0, got -1$"),
    (lambda: CTCLoss(blank="0"), TypeError, r"CTCLoss: blank must be an int, got '0' \(str\)$"),
    (lambda: CTCLoss(reduction="batchmean"), ValueError, r"CTCLoss: reduction must be one of"),
    (lambda: CTCLoss(zero_infinity=None), TypeError, r"CTCLoss: zero_infinity must be a bool, got None$"),
    (lambda: CTCLoss(blank=3)(LOG_PROBS, TARGETS, [4, 3], [2, 1]), ValueError,
     r"ctc_loss: blank must be a class index >= 0 below C = 3, got 3$"),
])
def test_bad_input_is_refused_naming_the_op(bad, error, message):
    with pytest.raises(error, match=f"^{message}"):
        bad()


def test_padding_past_the_target_lengths_is_not_checked():
    """As in torch: what lies past a sample's length (here blank, -1 and C) is ignored."""
    padded = functional.ctc_loss(LOG_PROBS, np.array([[1, 0, -1], [2, 3, 0]]), [4, 3], [1, 1],
                                 reduction="none")
    concatenated = functional.ctc_loss(LOG_PROBS, np.array([1, 2]), [4, 3], [1, 1], reduction="none")
    np.testing.assert_array_equal(padded.data, concatenated.data)


# -- 1b. the fused op: the recursion unrolled from ops -------------------------------------
MINUS_INFINITY_TOO = uniform(-3.0, 3.0) | st.just(-np.inf)  # −inf scores rule alignments out
UPSTREAM = uniform(-2.0, 2.0) | st.sampled_from([0.0, -1.0])  # zeros and negatives too


def padded_labels(targets: list[list[int]], blank: int) -> np.ndarray:
    width = max(map(len, targets))
    rows = [t + [blank] * (width - len(t)) for t in targets]
    return np.array(rows, dtype=np.intp).reshape(len(targets), width)


def likelihood_and_gradient(likelihood, log_probs: np.ndarray, upstream: np.ndarray, *args):
    x = Tensor(log_probs, requires_grad=True)
    out = likelihood(x, *args)
    out.backward(upstream)
    return out, x.grad


@given(case=ctc_cases(max_steps=6, max_classes=5, max_batch=4, scores=MINUS_INFINITY_TOO), data=st.data())
def test_the_fused_likelihood_is_the_recursion_unrolled_from_ops(case, data):
    """Value and gradient, for a random upstream gradient: blanks, repeats, input lengths 0 to
    T, impossible samples (−inf, gradient 0) and −inf scores (gradient 0 there, no nan)."""
    log_probs, targets, input_lengths, blank = case
    labels = padded_labels(targets, blank)
    lengths = np.array(input_lengths), np.array([len(t) for t in targets])
    upstream = data.draw(arrays((len(targets),), UPSTREAM), label="upstream")
    x = Tensor(log_probs, requires_grad=True)
    node = ops.ctc_log_likelihood(x, labels, *lengths, blank)
    assert node._op == "ctc_log_likelihood" and node._parents == (x,)  # one node, on log_probs itself
    out, grad = likelihood_and_gradient(ops.ctc_log_likelihood, log_probs, upstream, labels, *lengths, blank)
    expected, expected_grad = likelihood_and_gradient(ctc_log_likelihood_unrolled, log_probs, upstream,
                                                      labels, *lengths, blank)
    assert out.shape == expected.shape and out.dtype == np.float64 and grad.dtype == np.float64
    np.testing.assert_array_equal(np.isneginf(out.data), np.isneginf(expected.data))
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-12)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    impossible = np.isneginf(out.data)
    assert (grad[:, impossible] == 0).all() and (grad[log_probs == -np.inf] == 0).all()
    past = np.arange(log_probs.shape[0])[:, None] >= lengths[0][None, :]
    assert (grad[past] == 0).all()


@given(case=ctc_cases(max_steps=6, max_classes=5, max_batch=4, scores=MINUS_INFINITY_TOO), data=st.data())
def test_the_loss_through_the_fused_op_is_the_unrolled_one(case, data):
    """ctc_loss(reduction="none"), either zero_infinity, any target format, a random upstream
    gradient: the loss and its gradient are those of −(the unrolled likelihood)."""
    log_probs, targets, input_lengths, blank = case
    target_lengths = [len(t) for t in targets]
    encoded = data.draw(target_formats(targets, log_probs.shape[2], blank), label="targets")
    zero_infinity = data.draw(st.booleans(), label="zero_infinity")
    upstream = data.draw(arrays((len(targets),), UPSTREAM), label="upstream")
    def loss(x):
        return functional.ctc_loss(x, encoded, input_lengths, target_lengths, blank, "none", zero_infinity)

    out, grad = likelihood_and_gradient(loss, log_probs, upstream)

    def unrolled(x):
        losses = -ctc_log_likelihood_unrolled(x, padded_labels(targets, blank), np.array(input_lengths),
                                              np.array(target_lengths), blank)
        return losses.masked_fill(np.isinf(losses.data), 0.0) if zero_infinity else losses

    expected, expected_grad = likelihood_and_gradient(unrolled, log_probs, upstream)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 2e-2), (np.float32, 1e-5)])
def test_the_fused_op_keeps_the_dtype_and_computes_in_float64(dtype, tolerance):
    """float16 and float32 log_probs give a likelihood and a gradient of their dtype, close to
    the float64 unrolled recursion (the fused op is exact to float64 before rounding)."""
    rng = np.random.default_rng(4)
    scores = np.log(rng.dirichlet(np.ones(5), size=(9, 3))).astype(dtype)
    labels, lengths = np.array([[1, 2, 2], [3, 3, 0], [4, 0, 0]]), (np.array([9, 7, 2]), np.array([3, 2, 1]))
    upstream = np.array([1.0, -0.5, 2.0])
    out, grad = likelihood_and_gradient(ops.ctc_log_likelihood, scores, upstream.astype(dtype), labels,
                                        *lengths, 0)
    expected, expected_grad = likelihood_and_gradient(ctc_log_likelihood_unrolled, scores.astype(np.float64),
                                                      upstream, labels, *lengths, 0)
    assert out.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(out.data, expected.data.astype(dtype), rtol=tolerance)
    np.testing.assert_allclose(grad, expected_grad, rtol=tolerance, atol=tolerance)


def test_the_fused_op_can_run_backward_twice_and_does_not_touch_its_input():
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(6, 2, 4))
    kept = scores.copy()
    x = Tensor(scores, requires_grad=True)
    out = ops.ctc_log_likelihood(x, np.array([[1, 1], [2, 3]]), [6, 5], [2, 2], 0)
    out.backward(np.array([1.0, 2.0]), retain_graph=True)
    first = x.grad.copy()
    out.backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-14)
    np.testing.assert_array_equal(scores, kept)


@pytest.mark.parametrize("change, error, message", [
    ({"log_probs": Tensor(np.zeros((4, 3)))}, TypeError,
     r"ctc_log_likelihood: log_probs must be a floating-point Tensor \(T, N, C\), got dtype float64 and "
     r"shape \(4, 3\)$"),
    ({"log_probs": np.zeros((4, 2, 3))}, TypeError,
     r"ctc_log_likelihood: expected a Tensor as the first argument, got ndarray of shape \(4, 2, 3\)"),
    ({"log_probs": Tensor(np.zeros((4, 0, 3)))}, ValueError,
     r"ctc_log_likelihood: log_probs must not be empty, got shape \(4, 0, 3\)$"),
    ({"labels": np.array([1, 2])}, ValueError,
     r"ctc_log_likelihood: labels must be integers \(N, S\) with N = 2, got dtype int64 and shape \(2,\)$"),
    ({"labels": np.array([[1, 3], [2, 0]])}, ValueError,
     r"ctc_log_likelihood: labels must be class indices in \[0, 3\), got 0 to 3$"),
    ({"input_lengths": [5, 3]}, ValueError,
     r"ctc_log_likelihood: input_lengths must lie in \[0, 4\], got 3 to 5$"),
    ({"target_lengths": [1]}, ValueError,
     r"ctc_log_likelihood: target_lengths must be 2 integer\(s\), one per sample, got dtype int64 and shape "
     r"\(1,\)$"),
    ({"target_lengths": [3, 1]}, ValueError, r"ctc_log_likelihood: target_lengths must lie in \[0, 2\]"),
    ({"blank": 3}, ValueError, r"ctc_log_likelihood: blank must be a class index in \[0, 3\), got 3$"),
])
def test_the_fused_op_refuses_bad_operands_naming_itself(change, error, message):
    arguments = {"log_probs": LOG_PROBS, "labels": TARGETS, "input_lengths": [4, 3], "target_lengths": [2, 1],
                 "blank": 0, **change}
    with pytest.raises(error, match=f"^{message}"):
        ops.ctc_log_likelihood(*arguments.values())  # positional, as the Tensor-first ops take log_probs


# -- 5. the module -------------------------------------------------------------------------
def test_module_repr_and_defaults():
    """torch's defaults (blank 0, "mean", no zero_infinity); the repr names them (torch's is
    ``CTCLoss()`` whatever the settings); no parameters, no buffers."""
    criterion = CTCLoss()
    assert (criterion.blank, criterion.reduction, criterion.zero_infinity) == (0, "mean", False)
    assert repr(criterion) == "CTCLoss(blank=0, reduction='mean', zero_infinity=False)"
    assert repr(CTCLoss(2, "sum", True)) == "CTCLoss(blank=2, reduction='sum', zero_infinity=True)"
    assert list(criterion.parameters()) == [] and dict(criterion.state_dict()) == {}
    try:
        import torch
    except ImportError:
        return
    reference = torch.nn.CTCLoss()
    assert (reference.blank, reference.reduction, reference.zero_infinity) == (0, "mean", False)


@given(case=ctc_cases(), data=st.data())
def test_the_module_is_the_function_with_its_settings(case, data):
    log_probs, targets, input_lengths, blank = case
    target_lengths = [len(t) for t in targets]
    encoded = data.draw(target_formats(targets, log_probs.shape[2], blank), label="targets")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    zero_infinity = data.draw(st.booleans(), label="zero_infinity")
    results = []
    for loss in (CTCLoss(blank, reduction, zero_infinity),
                 lambda *args: functional.ctc_loss(*args, blank=blank, reduction=reduction,
                                                   zero_infinity=zero_infinity)):
        x = Tensor(log_probs, requires_grad=True)
        out = loss(x, encoded, input_lengths, target_lengths)
        out.backward(np.ones(out.shape))
        results.append((out.data, x.grad))
    for module_result, function_result in zip(*results):
        np.testing.assert_array_equal(module_result, function_result)

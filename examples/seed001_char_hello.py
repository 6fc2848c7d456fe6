"""Learn to spell "hello": a character-level RNN, then generation by feeding samples back.

Reproduces seed 001 ("RNN built from scratch, NumPy only"): vocabulary e, h, l, o;
inputs "hell", targets "ello"; hidden size 10; weights randn * 0.01, biases zero;
plain gradient descent with learning rate 0.1 for 200 iterations, each gradient
entry clipped to [-5, 5] (``clip_grad_value_``, min-char-rnn's ``np.clip``). The
gradients come from ``loss.backward()`` through the library, not from hand-written BPTT.

With weights this small every softmax starts almost uniform over the 4 characters,
so the first summed loss over the 4 steps is close to 4 ln 4 = 5.545.

Pass: greedy generation from "h" (feeding each predicted character back) is exactly
"hello", and the initial loss is within 0.01 of 4 ln 4.

    python examples/seed001_char_hello.py [--seed N]
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from seed_common import init_weights, int_at_least, number_at_least, verify_gradients

from tinygrad_rnn.data import CharTokenizer
from tinygrad_rnn.nn import RecurrentModel, clip_grad_value_
from tinygrad_rnn.optim import SGD
from tinygrad_rnn.runtime import blas_threads
from tinygrad_rnn.sample import generate

WORD = "hello"


def main(argv: list[str] | None = None) -> dict:
    """Train on "hello", generate from 'h'; return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--iterations", type=int_at_least(1), default=200)
    parser.add_argument("--lr", type=number_at_least(0, strict=True), default=0.1)
    parser.add_argument("--fast", action="store_true",
                        help="accepted for uniformity: the full run already takes about a second")
    args = parser.parse_args(argv)

    tokenizer = CharTokenizer.fit(WORD)
    ids = tokenizer.encode(WORD)
    inputs, targets = ids[:-1, None], ids[1:, None]  # (T=4, B=1): "hell" -> "ello"
    print(f"Vocabulary: {tokenizer.vocab}; inputs {WORD[:-1]!r}, targets {WORD[1:]!r}")

    rng = np.random.default_rng(args.seed)
    model = RecurrentModel("rnn", len(tokenizer), 10, len(tokenizer), rng=rng)
    init_weights(model, lambda shape: rng.standard_normal(shape) * 0.01)
    gradients = verify_gradients(model, lambda m: m.loss(inputs, targets, reduction="sum")[0])

    optimizer = SGD(model.parameters(), lr=args.lr)
    losses = []
    for iteration in range(args.iterations):
        loss, _ = model.loss(inputs, targets, reduction="sum")
        optimizer.zero_grad()
        loss.backward()
        clip_grad_value_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
        if iteration == 0:
            print(f"Initial loss: {losses[0]:.4f} (4 ln 4 = {4 * math.log(4):.4f}: uniform guesses)")
        elif (iteration + 1) % 20 == 0:
            print(f"Iteration {iteration + 1}, loss: {losses[-1]:.4f}")

    greedy = WORD[0] + generate(model, tokenizer, WORD[0], len(WORD) - 1, temperature=0)
    sampled = WORD[0] + generate(model, tokenizer, WORD[0], len(WORD) - 1, temperature=1.0, rng=rng)
    print(f"Generated from 'h' (greedy): {greedy}")
    print(f"Generated from 'h' (sampled, temperature 1): {sampled}")

    initial_ok = abs(losses[0] - 4 * math.log(4)) < 0.01
    passed = greedy == WORD and initial_ok
    print(f"{'PASS' if passed else 'FAIL'}: greedy generation {'is' if greedy == WORD else 'is not'} "
          f"{WORD!r}; initial loss {'is' if initial_ok else 'is not'} within 0.01 of 4 ln 4")
    return {"passed": passed, "greedy": greedy, "sampled": sampled, "initial_loss": losses[0],
            "final_loss": losses[-1], "losses": losses, "gradients": gradients}


if __name__ == "__main__":
    with blas_threads(1):  # many small products: one BLAS thread is faster
        sys.exit(0 if main()["passed"] else 1)

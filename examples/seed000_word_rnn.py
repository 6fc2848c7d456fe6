"""Next-word prediction on three sentences, with a word-level RNN trained by BPTT.

Reproduces seed 000 ("RNN from scratch in pure Python"): a sorted 6-word vocabulary,
one-hot words in, hidden size 8, weights uniform in (-0.1, 0.1), plain SGD with
learning rate 0.1 for 100 epochs, the hidden state reset for every sentence and one
update per sentence on its summed cross-entropy. The seed derived dL/dW by hand; here
``loss.backward()`` runs backpropagation through time through the library's ops.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   y_t = softmax(W_head h_t + b_head)

Pass: after training, all 9 next words of the three sentences are predicted correctly.

    python examples/seed000_word_rnn.py [--seed N]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from seed_common import init_weights, int_at_least, number_at_least, verify_gradients

import tinygrad_rnn as tg
from tinygrad_rnn.nn import RecurrentModel
from tinygrad_rnn.optim import SGD
from tinygrad_rnn.runtime import blas_threads

SENTENCES = ["hello how are you", "how are you doing", "are you doing well"]


def main(argv: list[str] | None = None) -> dict:
    """Train, predict the 9 next words, print as the seed did; return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--epochs", type=int_at_least(1), default=100)
    parser.add_argument("--lr", type=number_at_least(0, strict=True), default=0.1)
    parser.add_argument("--fast", action="store_true",
                        help="accepted for uniformity: the full run already takes about a second")
    args = parser.parse_args(argv)

    vocab = sorted({word for sentence in SENTENCES for word in sentence.split()})
    index = {word: i for i, word in enumerate(vocab)}
    # Each sentence is one batch of size 1: inputs are words 0..n-2, targets words 1..n-1.
    pairs = [(ids[:-1, None], ids[1:, None])
             for ids in (np.array([index[w] for w in s.split()]) for s in SENTENCES)]
    print(f"Vocabulary ({len(vocab)} words): {vocab}")

    rng = np.random.default_rng(args.seed)
    model = RecurrentModel("rnn", len(vocab), 8, len(vocab), input_kind="tokens", rng=rng)
    init_weights(model, lambda shape: rng.uniform(-0.1, 0.1, shape))

    def sentence_loss(model: RecurrentModel, inputs: np.ndarray, targets: np.ndarray) -> tg.Tensor:
        return model.loss(inputs, targets, loss="ce", reduction="sum")[0]  # fresh zero state

    gradients = verify_gradients(model, lambda m: sum(sentence_loss(m, x, y) for x, y in pairs))

    optimizer = SGD(model.parameters(), lr=args.lr)
    losses = []
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for inputs, targets in pairs:
            loss = sentence_loss(model, inputs, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total)
        if epoch % 10 == 0:
            print(f"Epoch {epoch}, Loss: {total:.4f}")

    correct = 0
    with tg.no_grad():
        for inputs, targets in pairs:
            predicted = model(inputs)[0].data[:, 0].argmax(axis=-1)
            for word, guess, target in zip(inputs[:, 0], predicted, targets[:, 0]):
                correct += int(guess == target)
                print(f"Input: '{vocab[word]}' → Predicted: '{vocab[guess]}' (Target: '{vocab[target]}')")
    total_words = sum(len(targets) for _, targets in pairs)
    passed = correct == total_words
    print(f"{correct}/{total_words} next words correct: {'PASS' if passed else 'FAIL'}")
    return {"passed": passed, "correct": correct, "total": total_words, "losses": losses,
            "gradients": gradients}


if __name__ == "__main__":
    with blas_threads(1):  # many small products: one BLAS thread is faster
        sys.exit(0 if main()["passed"] else 1)

"""A toy sequence classifier: 3 steps of 2 features in, a class out at every step.

Reproduces seed 002 ("RNN from scratch using NumPy"): input size 2, hidden size 4,
2 classes, T = 3, batch 1; weights randn * 0.1, biases zero; the target is class 0 at
every step; the loss is the cross-entropy summed over the 3 steps; gradient descent
with learning rate 0.1 for 10 epochs (one update per epoch). The seed accumulated
its BPTT gradients over the steps by hand; here ``loss.backward()`` does it.

    a_t = tanh(W_ih x_t + b_ih + W_hh a_{t-1} + b_hh),   y_t = softmax(W_head a_t + b_head)

Pass: the gradients agree with central differences, and the loss falls every epoch.

    python examples/seed002_toy_classifier.py [--seed N]
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

INPUT_SIZE, HIDDEN_SIZE, CLASSES, STEPS, BATCH = 2, 4, 2, 3, 1


def main(argv: list[str] | None = None) -> dict:
    """Train the toy classifier for 10 epochs; return the losses and final probabilities."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--epochs", type=int_at_least(1), default=10)
    parser.add_argument("--lr", type=number_at_least(0, strict=True), default=0.1)
    parser.add_argument("--fast", action="store_true",
                        help="accepted for uniformity: the full run takes well under a second")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    inputs = rng.standard_normal((STEPS, BATCH, INPUT_SIZE))  # (T, B, features)
    targets = np.zeros((STEPS, BATCH), dtype=np.int64)  # class 0 at every step
    model = RecurrentModel("rnn", INPUT_SIZE, HIDDEN_SIZE, CLASSES, input_kind="dense", rng=rng)
    init_weights(model, lambda shape: rng.standard_normal(shape) * 0.1)

    def summed_loss(model: RecurrentModel) -> tg.Tensor:
        x = inputs.astype(model.head.weight.dtype)
        return model.loss(x, targets, loss="ce", reduction="sum")[0]

    gradients = verify_gradients(model, summed_loss)

    optimizer = SGD(model.parameters(), lr=args.lr)
    losses = []
    for epoch in range(1, args.epochs + 1):
        loss = summed_loss(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print(f"Epoch {epoch}, Loss: {losses[-1]:.6f}")

    with tg.no_grad():
        # Each epoch prints the loss its update started from; this is where the last one ended,
        # so that every update, the last (and with --epochs 1 the only) one too, is judged.
        final = summed_loss(model).item()
        logits, _ = model(inputs.astype(np.float32))
        probabilities = logits.softmax(axis=-1).data[:, 0]  # (T, classes)
    print("Final probabilities (rows: time steps, columns: classes 0 and 1):")
    print(np.array2string(probabilities, precision=4, suppress_small=True))

    trajectory = [*losses, final]
    fell = sum(after < before for before, after in zip(trajectory, trajectory[1:]))
    falls = fell == args.epochs
    print(f"{'PASS' if falls else 'FAIL'}: the loss {'falls' if falls else 'does not fall'} every epoch "
          f"({fell} of {args.epochs} updates; {losses[0]:.4f} -> {final:.4f} after training); "
          "gradients verified")
    return {"passed": falls, "losses": losses, "final_loss": final, "probabilities": probabilities,
            "gradients": gradients}


if __name__ == "__main__":
    with blas_threads(1):  # many small products: one BLAS thread is faster
        sys.exit(0 if main()["passed"] else 1)

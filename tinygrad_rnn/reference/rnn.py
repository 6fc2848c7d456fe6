"""Vanilla (Elman) RNN layer: forward over time and backpropagation through time.

Notation. T time steps, B sequences in a batch, D input features, H hidden units.
Vectors are rows, as in PyTorch: x_t is (B, D), h_t is (B, H), W_ih is (H, D),
W_hh is (H, H), b_ih and b_hh are (H,). ⊙ is the elementwise product.

Forward
-------
For t = 1..T, starting from a given h_0 (zeros by default):

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        pre-activation, (B, H)
    h_t = φ(a_t)                                          φ = tanh or relu

The input part u_t = x_t W_ih^T + b_ih does not depend on h, so it is computed for
all steps at once, before the loop, as one (T*B, D) @ (D, H) product. The caller
does it (model.py), because for token inputs it is a column gather of W_ih rather
than a product; `forward` receives the stack u_1..u_T as `x_proj`. Only the term
h_{t-1} W_hh^T has to wait for the previous step.

Backward
--------
The loss L reaches h_t by two roads: directly, through whatever reads the layer's
output (the head, or the next layer up), and through h_{t+1}, which is computed
from h_t. Call the direct part g_t = ∂L/∂h_t (the argument `doutputs`), and δh_t
the total. Walking backward from t = T:

    δh_T = g_T                       nothing after step T reads h_T
    δh_t = g_t + δa_{t+1} W_hh       t < T: the recurrent road, see (2)

(1) Through the nonlinearity, elementwise:

    δa_t = δh_t ⊙ φ'(a_t)
    φ'(a_t) = 1 - h_t ⊙ h_t          for tanh, since tanh' = 1 - tanh²
    φ'(a_t) = [h_t > 0]              for relu (0 at a_t = 0, as in PyTorch)

    Both are functions of the output h_t, so the cache keeps only h_0..h_T, and
    φ'(a_t) for every t is computed in one vectorized operation before the loop.

(2) Back through a_t = ... + h_{t-1} W_hh^T, a product with h_{t-1}:

    ∂L/∂h_{t-1} (recurrent part) = δa_t W_hh        (B, H) @ (H, H)

    This is min-char-rnn's `dhnext`. It is the only part of the backward pass
    that must run step by step; at t = 1 it is the gradient of the initial
    state, ∂L/∂h_0 = δa_1 W_hh.

(3) The weights are shared by every step, so their gradients are sums over time.
    Within one step, a = h W^T gives ∂a_j/∂W_jk = h_k, so each row contributes the
    outer product δa^T h, and the (H, B) @ (B, H) product δa_t^T h_{t-1} already
    sums those over the batch:

    ∂L/∂W_hh = Σ_t δa_t^T h_{t-1}        (H, H)
    ∂L/∂b_hh = Σ_t Σ_b δa_t              (H,)
    ∂L/∂W_ih = Σ_t δa_t^T x_t            (H, D)   (done by the caller)
    ∂L/∂b_ih = ∂L/∂b_hh                           (both enter a_t the same way)
    ∂L/∂x_t  = δa_t W_ih                 (B, D)   the g_t of the layer below

    With δa_1..δa_T stacked into a (T, B, H) array A, and h_0..h_{T-1} into P,
    Σ_t δa_t^T h_{t-1} is the single product A'^T P' of the (T*B, H) reshapes:
    one large matrix product after the loop instead of T small ones inside it.
    `backward` returns A itself as `dx_proj` (∂L/∂u_t, since u_t enters a_t with
    weight 1) so that the caller can form ∂L/∂W_ih, ∂L/∂b_ih and ∂L/∂x_t the same way.

Array layout: `hidden[0]` is h_0 and `hidden[t]` is h_t, so the forward loop reads
`hidden[:-1]` (h_{t-1}) and writes `hidden[1:]` (h_t); the backward loop walks the
(T, B, H) stacks from the end. The loops iterate over views of preallocated
arrays and write with `out=`, so no step allocates anything.
"""

from typing import NamedTuple

import numpy as np


class Cache(NamedTuple):
    """What `backward` needs from `forward`."""

    hidden: np.ndarray  # (T+1, B, H): h_0, h_1, ..., h_T
    weight_hh: np.ndarray  # (H, H)
    nonlinearity: str  # "tanh" or "relu"


def forward(
    x_proj: np.ndarray,
    h0: np.ndarray,
    weight_hh: np.ndarray,
    bias_hh: np.ndarray | None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, Cache]:
    """Run the layer over T steps.

    `x_proj` (T, B, H) is u_t = x_t W_ih^T + b_ih for every step; `h0` is (B, H).
    Returns the outputs h_1..h_T as a (T, B, H) array and the cache for `backward`.
    """
    seq_len, batch, hidden_size = x_proj.shape
    # Both biases are constants added at every step: fold b_hh into u once.
    pre = x_proj + bias_hh if bias_hh is not None else x_proj
    hidden = np.empty((seq_len + 1, batch, hidden_size), dtype=x_proj.dtype)
    hidden[0] = h0
    weight_hh_t = np.ascontiguousarray(weight_hh.T)  # a contiguous copy multiplies faster
    activation = np.tanh if nonlinearity == "tanh" else _relu
    for h_prev, h, u in zip(hidden[:-1], hidden[1:], pre):
        np.dot(h_prev, weight_hh_t, out=h)  # h_{t-1} W_hh^T
        h += u  # a_t
        activation(h, out=h)  # h_t = φ(a_t), in place
    return hidden[1:], Cache(hidden, weight_hh, nonlinearity)


def backward(
    doutputs: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagate through time.

    `doutputs` (T, B, H) is g_t = ∂L/∂h_t from above for every step. Returns
    `(dx_proj, dh0, dweight_hh, dbias_hh)`: ∂L/∂u_t stacked as (T, B, H) (which
    is also δa_t), ∂L/∂h_0 (B, H), ∂L/∂W_hh (H, H) and ∂L/∂b_hh (H,).
    """
    hidden, weight_hh, nonlinearity = cache
    seq_len, batch, hidden_size = doutputs.shape
    outputs = hidden[1:]
    # φ'(a_t) for all steps at once; the loop then scales it in place into δa_t.
    if nonlinearity == "tanh":
        dpre = 1 - outputs * outputs
    else:
        dpre = (outputs > 0).astype(outputs.dtype)
    dh = np.zeros((batch, hidden_size), dtype=doutputs.dtype)  # δa_{t+1} W_hh, zero after step T
    for da, g in zip(dpre[::-1], doutputs[::-1]):
        dh += g  # δh_t = g_t + δa_{t+1} W_hh
        da *= dh  # δa_t = δh_t ⊙ φ'(a_t)
        np.dot(da, weight_hh, out=dh)  # recurrent part of ∂L/∂h_{t-1}
    # Sums over time as one product each: (H, T*B) @ (T*B, H) and a column sum.
    rows = seq_len * batch
    dpre_rows = dpre.reshape(rows, hidden_size)
    dweight_hh = dpre_rows.T @ hidden[:-1].reshape(rows, hidden_size)
    dbias_hh = dpre_rows.sum(axis=0)
    return dpre, dh, dweight_hh, dbias_hh


def _relu(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0, out=out)

"""LSTM layer: forward over time and backpropagation through time.

Notation as in rnn.py: T steps, B batch, H hidden units, row vectors, ⊙ the
elementwise product, σ(a) = 1 / (1 + e^(-a)). W_ih is (4H, D), W_hh is (4H, H),
b_ih and b_hh are (4H,), with the four gates stacked in PyTorch's order i, f, g, o.

Forward
-------
For t = 1..T, from given h_0 and c_0 (zeros by default):

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh = [a_i | a_f | a_g | a_o]   (B, 4H)

    i_t = σ(a_i)           input gate: how much of the candidate to write
    f_t = σ(a_f)           forget gate: how much of the old cell to keep
    g_t = tanh(a_g)        candidate values
    o_t = σ(a_o)           output gate: how much of the cell to show

    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

As in rnn.py, u_t = x_t W_ih^T + b_ih arrives precomputed for all steps (`x_proj`).

Backward
--------
Two states now flow backward: δh_t = ∂L/∂h_t and δc_t = ∂L/∂c_t (totals), and the
layer receives the direct part g_t = ∂L/∂h_t from above (`doutputs`). Walking
backward from t = T (nothing flows in from after step T, so the recurrent terms
start at zero):

(1) Total gradient of h_t: from above, plus through the gates of step t+1
    (a_{t+1} contains h_t W_hh^T):

    δh_t = g_t + δa_{t+1} W_hh

(2) Total gradient of c_t: through h_t = o_t ⊙ tanh(c_t), plus through
    c_{t+1} = f_{t+1} ⊙ c_t + ... (the "constant error carousel": a gradient
    that is only ever multiplied by forget gates, which is why LSTMs remember):

    δc_t = δh_t ⊙ o_t ⊙ (1 - tanh²(c_t)) + δc_{t+1} ⊙ f_{t+1}

(3) The gate values, by the product rule on c_t and h_t:

    δo_t = δh_t ⊙ tanh(c_t)
    δi_t = δc_t ⊙ g_t
    δg_t = δc_t ⊙ i_t
    δf_t = δc_t ⊙ c_{t-1}

(4) Through the gate nonlinearities (σ' = σ(1 - σ), tanh' = 1 - tanh²):

    δa_i = δi_t ⊙ i_t ⊙ (1 - i_t)
    δa_f = δf_t ⊙ f_t ⊙ (1 - f_t)
    δa_g = δg_t ⊙ (1 - g_t ⊙ g_t)
    δa_o = δo_t ⊙ o_t ⊙ (1 - o_t)

    and δa_t = [δa_i | δa_f | δa_g | δa_o], (B, 4H).

(5) Back to the previous step: ∂L/∂h_{t-1} gets δa_t W_hh (that is (1) one step
    earlier) and ∂L/∂c_{t-1} gets δc_t ⊙ f_t (that is (2) one step earlier). At
    t = 1 these are the gradients of the initial state (h_0, c_0).

(6) Weights, shared across steps, get sums over time exactly as in rnn.py:

    ∂L/∂W_hh = Σ_t δa_t^T h_{t-1}    (4H, H)     ∂L/∂b_hh = Σ_t Σ_b δa_t
    ∂L/∂W_ih = Σ_t δa_t^T x_t        (4H, D)     ∂L/∂b_ih = ∂L/∂b_hh
    ∂L/∂x_t  = δa_t W_ih

    each one product of (T*B, ·) reshapes after the loop.

Making the loop short. In (3)-(4), each δa is an upstream gradient (δh_t or δc_t)
times a factor that depends only on forward values:

    δa_i = δc_t ⊙ [g_t ⊙ i_t(1 - i_t)]        δa_f = δc_t ⊙ [c_{t-1} ⊙ f_t(1 - f_t)]
    δa_g = δc_t ⊙ [i_t ⊙ (1 - g_t²)]          δa_o = δh_t ⊙ [tanh(c_t) ⊙ o_t(1 - o_t)]

and the factor o_t ⊙ (1 - tanh²(c_t)) in (2) is one too. These brackets are
computed for all T steps in a few vectorized operations before the loop; the
loop only multiplies them by δh_t and δc_t and does the one matrix product.
"""

from typing import NamedTuple

import numpy as np


class Cache(NamedTuple):
    """What `backward` needs from `forward`."""

    hidden: np.ndarray  # (T+1, B, H): h_0 .. h_T
    cell: np.ndarray  # (T+1, B, H): c_0 .. c_T
    tanh_cell: np.ndarray  # (T, B, H): tanh(c_1) .. tanh(c_T)
    gates: np.ndarray  # (T, B, 4, H): i, f, g, o after their nonlinearities
    weight_hh: np.ndarray  # (4H, H)


def forward(
    x_proj: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    weight_hh: np.ndarray,
    bias_hh: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, Cache]:
    """Run the layer over T steps.

    `x_proj` (T, B, 4H) is u_t = x_t W_ih^T + b_ih for every step; `h0`, `c0` are
    (B, H). Returns the outputs h_1..h_T (T, B, H), the final cell state c_T
    (B, H) and the cache for `backward`.
    """
    seq_len, batch, four_h = x_proj.shape
    hidden_size = four_h // 4
    dtype = x_proj.dtype
    pre = x_proj + bias_hh if bias_hh is not None else x_proj
    hidden = np.empty((seq_len + 1, batch, hidden_size), dtype=dtype)
    cell = np.empty((seq_len + 1, batch, hidden_size), dtype=dtype)
    tanh_cell = np.empty((seq_len, batch, hidden_size), dtype=dtype)
    gates = np.empty((seq_len, batch, 4, hidden_size), dtype=dtype)
    hidden[0] = h0
    cell[0] = c0
    weight_hh_t = np.ascontiguousarray(weight_hh.T)  # a contiguous copy multiplies faster
    written = np.empty((batch, hidden_size), dtype=dtype)  # scratch for i ⊙ g
    steps = zip(
        hidden[:-1], cell[:-1], pre.reshape(gates.shape), gates, cell[1:], tanh_cell, hidden[1:]
    )
    for h_prev, c_prev, u, a, c, tanh_c, h in steps:
        # `a` (B, 4, H) receives the pre-activations, then the gate values in place.
        np.dot(h_prev, weight_hh_t, out=a.reshape(batch, four_h))
        a += u
        _sigmoid(a[:, :2])  # i, f
        np.tanh(a[:, 2], out=a[:, 2])  # g
        _sigmoid(a[:, 3])  # o
        i, f, g, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        np.multiply(f, c_prev, out=c)
        c += np.multiply(i, g, out=written)  # c_t = f ⊙ c_{t-1} + i ⊙ g
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h)  # h_t = o ⊙ tanh(c_t)
    return hidden[1:], cell[-1], Cache(hidden, cell, tanh_cell, gates, weight_hh)


def backward(
    doutputs: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagate through time.

    `doutputs` (T, B, H) is g_t = ∂L/∂h_t from above. Returns
    `(dx_proj, dh0, dc0, dweight_hh, dbias_hh)`: ∂L/∂u_t = δa_t stacked as
    (T, B, 4H), ∂L/∂h_0 and ∂L/∂c_0 (B, H), ∂L/∂W_hh (4H, H), ∂L/∂b_hh (4H,).
    """
    hidden, cell, tanh_cell, gates, weight_hh = cache
    seq_len, batch, hidden_size = doutputs.shape
    i, f, g, o = (gates[:, :, k] for k in range(4))
    # The bracketed local factors of the module docstring, for all steps at once.
    # `dpre` holds them and the loop scales them in place into δa_t.
    dpre = np.empty_like(gates)
    dpre[:, :, 0] = g * i * (1 - i)
    dpre[:, :, 1] = cell[:-1] * f * (1 - f)
    dpre[:, :, 2] = i * (1 - g * g)
    dpre[:, :, 3] = tanh_cell * o * (1 - o)
    dcell_from_h = o * (1 - tanh_cell * tanh_cell)  # ∂h_t/∂c_t
    dh = np.zeros((batch, hidden_size), dtype=doutputs.dtype)
    dc = np.zeros_like(dh)
    dc_from_h = np.empty_like(dh)  # scratch
    dpre_flat = dpre.reshape(seq_len, batch, 4 * hidden_size)
    steps = zip(dpre[::-1], dpre_flat[::-1], doutputs[::-1], dcell_from_h[::-1], f[::-1])
    for da, da_flat, dout, dcell_dh, forget in steps:
        dh += dout  # (1) δh_t
        dc += np.multiply(dh, dcell_dh, out=dc_from_h)  # (2) δc_t
        da[:, :3] *= dc[:, None, :]  # (3)-(4) δa_i, δa_f, δa_g
        da[:, 3] *= dh  # δa_o
        dc *= forget  # (5) ∂L/∂c_{t-1} = δc_t ⊙ f_t
        np.dot(da_flat, weight_hh, out=dh)  # (5) ∂L/∂h_{t-1} = δa_t W_hh
    rows = seq_len * batch
    dpre_rows = dpre.reshape(rows, 4 * hidden_size)
    dweight_hh = dpre_rows.T @ hidden[:-1].reshape(rows, hidden_size)
    dbias_hh = dpre_rows.sum(axis=0)
    return dpre_flat, dh, dc, dweight_hh, dbias_hh


def _sigmoid(a: np.ndarray) -> None:
    """σ(a) = 1 / (1 + e^(-a)) in place.

    Where e^(-a) overflows (a below -88 in float32, -709 in float64) it is inf and σ
    comes out 0, within the dtype's smallest normal number of the truth: an expected
    overflow, so it is not reported.
    """
    np.multiply(a, -1.0, out=a)  # not np.negative(a, out=a): wrong in NumPy 2.4 for some views
    with np.errstate(over="ignore"):
        np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)

"""GRU layer: forward over time and backpropagation through time.

Notation as in rnn.py: T steps, B batch, H hidden units, row vectors, ⊙ the
elementwise product, σ the logistic sigmoid. W_ih is (3H, D), W_hh is (3H, H),
b_ih and b_hh are (3H,), with the three gates stacked in PyTorch's order r, z, n.

Forward
-------
Split the two projections into gate chunks, u_t = x_t W_ih^T + b_ih = [u_r | u_z | u_n]
and v_t = h_{t-1} W_hh^T + b_hh = [v_r | v_z | v_n], each (B, H). Then, for t = 1..T:

    r_t = σ(u_r + v_r)                 reset gate
    z_t = σ(u_z + v_z)                 update gate
    n_t = tanh(u_n + r_t ⊙ v_n)        candidate state
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

Unlike an LSTM, the input and hidden projections cannot simply be added before
the gates: the reset gate multiplies the hidden part of the candidate, v_n, *including
its bias* b_hn (PyTorch's convention; the original GRU paper put r inside the
product, r ⊙ h_{t-1}, before multiplying by W_hn). So the loop keeps v_t separate.
As in rnn.py, u_t arrives precomputed for all steps (`x_proj`).

Backward
--------
With g_t = ∂L/∂h_t from above (`doutputs`) and δh_t the total, walking back from t = T:

(1) Total gradient of h_t: from above, from h_{t+1} directly (the z ⊙ h term),
    and through the projection v_{t+1}:

    δh_t = g_t + δh_{t+1} ⊙ z_{t+1} + δv_{t+1} W_hh

(2) Through h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}:

    δn_t = δh_t ⊙ (1 - z_t)
    δz_t = δh_t ⊙ (h_{t-1} - n_t)

(3) Through the candidate's tanh, then the product r_t ⊙ v_n:

    δ(pre-n) = δn_t ⊙ (1 - n_t ⊙ n_t)     gradient of u_n + r_t ⊙ v_n
    δu_n = δ(pre-n)                      u_n enters with weight 1
    δv_n = δ(pre-n) ⊙ r_t                v_n enters scaled by r_t
    δr_t = δ(pre-n) ⊙ v_n

(4) Through the sigmoids (σ' = σ(1 - σ)); u and v enter r and z the same way:

    δu_r = δv_r = δr_t ⊙ r_t ⊙ (1 - r_t)
    δu_z = δv_z = δz_t ⊙ z_t ⊙ (1 - z_t)

    so δu_t = [δu_r | δu_z | δu_n] and δv_t = [δu_r | δu_z | δv_n] differ only
    in the n chunk.

(5) Back to the previous step: ∂L/∂h_{t-1} = δh_t ⊙ z_t + δv_t W_hh, which is (1)
    one step earlier; at t = 1 it is the gradient of h_0.

(6) Weights, as sums over time (one product each after the loop):

    ∂L/∂W_hh = Σ_t δv_t^T h_{t-1}     ∂L/∂b_hh = Σ_t Σ_b δv_t
    ∂L/∂W_ih = Σ_t δu_t^T x_t         ∂L/∂b_ih = Σ_t Σ_b δu_t
    ∂L/∂x_t  = δu_t W_ih

Making the loop short: δu_n, δz_t (through its sigmoid) and δu_r are δh_t or
δu_n times factors of forward values only,

    δu_n = δh_t ⊙ [(1 - z_t) ⊙ (1 - n_t²)]
    δu_z = δh_t ⊙ [(h_{t-1} - n_t) ⊙ z_t(1 - z_t)]
    δu_r = δu_n ⊙ [v_n ⊙ r_t(1 - r_t)]

and the brackets are computed for all T steps before the loop.
"""

from typing import NamedTuple

import numpy as np

from .lstm import _sigmoid


class Cache(NamedTuple):
    """What `backward` needs from `forward`."""

    hidden: np.ndarray  # (T+1, B, H): h_0 .. h_T
    gates: np.ndarray  # (T, B, 3, H): r, z, n after their nonlinearities
    hidden_proj: np.ndarray  # (T, B, 3, H): v_t = h_{t-1} W_hh^T + b_hh
    weight_hh: np.ndarray  # (3H, H)


def forward(
    x_proj: np.ndarray,
    h0: np.ndarray,
    weight_hh: np.ndarray,
    bias_hh: np.ndarray | None,
) -> tuple[np.ndarray, Cache]:
    """Run the layer over T steps.

    `x_proj` (T, B, 3H) is u_t = x_t W_ih^T + b_ih for every step; `h0` is (B, H).
    Returns the outputs h_1..h_T as a (T, B, H) array and the cache for `backward`.
    """
    seq_len, batch, three_h = x_proj.shape
    hidden_size = three_h // 3
    dtype = x_proj.dtype
    u = x_proj.reshape(seq_len, batch, 3, hidden_size)
    hidden = np.empty((seq_len + 1, batch, hidden_size), dtype=dtype)
    gates = np.empty((seq_len, batch, 3, hidden_size), dtype=dtype)
    hidden_proj = np.empty((seq_len, batch, 3, hidden_size), dtype=dtype)
    hidden[0] = h0
    weight_hh_t = np.ascontiguousarray(weight_hh.T)  # a contiguous copy multiplies faster
    bias = bias_hh.reshape(3, hidden_size) if bias_hh is not None else None
    steps = zip(hidden[:-1], u, hidden_proj, gates, hidden[1:])
    for h_prev, u_t, v, gate, h in steps:
        np.dot(h_prev, weight_hh_t, out=v.reshape(batch, three_h))
        if bias is not None:
            v += bias  # v_t = h_{t-1} W_hh^T + b_hh
        rz = gate[:, :2]
        np.add(u_t[:, :2], v[:, :2], out=rz)
        _sigmoid(rz)  # r, z
        r, z, n = gate[:, 0], gate[:, 1], gate[:, 2]
        np.multiply(r, v[:, 2], out=n)
        n += u_t[:, 2]
        np.tanh(n, out=n)  # n = tanh(u_n + r ⊙ v_n)
        np.subtract(h_prev, n, out=h)
        h *= z
        h += n  # h_t = n + z ⊙ (h_{t-1} - n), the same as (1 - z) ⊙ n + z ⊙ h_{t-1}
    return hidden[1:], Cache(hidden, gates, hidden_proj, weight_hh)


def backward(
    doutputs: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagate through time.

    `doutputs` (T, B, H) is g_t = ∂L/∂h_t from above. Returns
    `(dx_proj, dh0, dweight_hh, dbias_hh)`: δu_t stacked as (T, B, 3H), ∂L/∂h_0
    (B, H), ∂L/∂W_hh (3H, H) and ∂L/∂b_hh (3H,).
    """
    hidden, gates, hidden_proj, weight_hh = cache
    seq_len, batch, hidden_size = doutputs.shape
    three_h = 3 * hidden_size
    r, z, n = gates[:, :, 0], gates[:, :, 1], gates[:, :, 2]
    # Local factors of the module docstring, for all steps at once.
    factor_n = (1 - z) * (1 - n * n)
    factor_z = (hidden[:-1] - n) * z * (1 - z)
    factor_r = hidden_proj[:, :, 2] * r * (1 - r)
    dv = np.empty_like(gates)  # δv_t, (T, B, 3, H)
    du_n = np.empty_like(n)  # δu_n, (T, B, H); δu_r, δu_z are in dv
    dh = np.zeros((batch, hidden_size), dtype=doutputs.dtype)
    dh_through_v = np.empty_like(dh)  # scratch
    dv_flat = dv.reshape(seq_len, batch, three_h)
    per_step = (dv, dv_flat, du_n, doutputs, factor_n, factor_z, factor_r, r, z)
    for dv_t, dv_t_flat, du_n_t, dout, fac_n, fac_z, fac_r, reset, update in zip(
        *(array[::-1] for array in per_step)
    ):
        dh += dout  # (1) δh_t
        np.multiply(dh, fac_n, out=du_n_t)  # (2)-(3) δu_n
        np.multiply(dh, fac_z, out=dv_t[:, 1])  # (2),(4) δv_z
        np.multiply(du_n_t, fac_r, out=dv_t[:, 0])  # (3)-(4) δv_r
        np.multiply(du_n_t, reset, out=dv_t[:, 2])  # (3) δv_n
        dh *= update  # (5) direct road h_{t-1} -> h_t
        dh += np.dot(dv_t_flat, weight_hh, out=dh_through_v)  # (5) through v_t
    rows = seq_len * batch
    dv_rows = dv.reshape(rows, three_h)
    dweight_hh = dv_rows.T @ hidden[:-1].reshape(rows, hidden_size)
    dbias_hh = dv_rows.sum(axis=0)
    du = dv.copy()  # δu_t equals δv_t except in the n chunk
    du[:, :, 2] = du_n
    return du.reshape(seq_len, batch, three_h), dh, dweight_hh, dbias_hh

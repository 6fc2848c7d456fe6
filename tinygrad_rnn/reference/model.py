"""The whole model, forward and backward, by hand: inputs → L recurrent layers → head → loss.

Notation: T steps, B batch, H hidden units, O outputs, N the number of rows the loss
reads (T*B for per-step losses, B for the "*_last" ones). Row vectors, ⊙ elementwise.

Forward
-------
    x_t         = E[token_t]              embedding row gather, if "embedding.weight" is given
                = one_hot(token_t)        token ids without an embedding (never materialized)
                = the given vector        dense (T, B, D) inputs
    h^(0)_t     = x_t
    h^(k)_t     = layer_k(h^(k)_{t-1}, h^(k-1)_t)        k = 1..L, see rnn.py, lstm.py, gru.py
    y_t         = h^(L)_t W_o^T + b_o                    logits or predictions, (B, O)

Each layer's input projection u_t = x_t W_ih^T + b_ih is computed here for all steps
at once (`_project`). For one-hot inputs, one_hot(v) W_ih^T is column v of W_ih, so
the "product" is the column gather W_ih[:, token_t]^T.

Losses and their gradient with respect to the logits, δy = ∂L/∂y
----------------------------------------------------------------
Cross-entropy ("ce", "ce_last"). With p = softmax(y) over the O outputs of one row,
the loss of that row is

    ℓ = -log p_target = logsumexp(y) - y_target,   logsumexp(y) = log Σ_j e^(y_j)

and since ∂ logsumexp(y) / ∂y_j = e^(y_j) / Σ_k e^(y_k) = p_j,

    ∂ℓ/∂y_j = p_j - [j = target]          softmax minus one-hot

"mean" divides the sum of the N row losses, and so each δy, by N ("sum" does not).
For stability, logsumexp(y) = m + log Σ_j e^(y_j - m) with m = max_j y_j: the largest
exponent is 0, so nothing overflows, and the sum is at least 1, so its log is finite
(logits of ±1e4 are fine).

Mean squared error ("mse", "mse_last"), over all M = N*O elements:

    L = Σ (y - target)² / M,       δy = 2 (y - target) / M       ("sum": no / M)

"*_last" losses read only the last step, y_T (sequence-to-one). Then δy_t = 0 for
t < T, but the gradient still reaches every step: BPTT carries δh back from step T
through the recurrence. `logits` in the result holds y_t for all T steps all the same.

Backward through the head, then the layers
------------------------------------------
The head is shared by all steps, so (one product each over the N rows):

    ∂L/∂W_o = Σ_t δy_t^T h^(L)_t     ∂L/∂b_o = Σ_t Σ_b δy_t     g^(L)_t = δy_t W_o

g^(L)_t = ∂L/∂h^(L)_t is what the top layer's `backward` starts from. Each layer
returns δu_t = ∂L/∂u_t, from which

    ∂L/∂W_ih = Σ_t δu_t^T x_t        ∂L/∂b_ih = Σ_t Σ_b δu_t
    g^(k-1)_t = ∂L/∂x_t = δu_t W_ih  (the gradient the layer below starts from)

For one-hot inputs, Σ_t δu_t^T one_hot(token_t) adds the row δu_t into column
token_t of ∂L/∂W_ih; for an embedding, ∂L/∂E[v] = Σ of ∂L/∂x_t over the (t, b)
whose token is v. Tokens repeat, so both are scatter-adds: `np.add.at`, not
`grad[tokens] += rows`, which would keep only one of the repeated writes.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import gru, lstm, rnn

CELLS = ("rnn", "lstm", "gru")
LOSSES = ("ce", "ce_last", "mse", "mse_last")
REDUCTIONS = ("mean", "sum")
NONLINEARITIES = ("tanh", "relu")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_WHERE = "reference.forward_backward"

State = np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ReferenceResult:
    """What `forward_backward` returns.

    loss: the loss as a Python float.
    grads: ∂loss/∂param for every parameter, same keys, shapes and dtype as the params.
    grad_h0: ∂loss/∂h0, (L, B, H); for lstm a tuple (∂loss/∂h0, ∂loss/∂c0).
    h_n: the final state (L, B, H), for lstm a tuple (h_n, c_n): what truncated BPTT
        carries into the next chunk as its h0.
    logits: the head outputs for every step, (T, B, O), also for the "*_last" losses.
    """

    loss: float
    grads: dict[str, np.ndarray]
    grad_h0: State
    h_n: State
    logits: np.ndarray


def param_shapes(
    *,
    cell: str,
    input_size: int,
    hidden_size: int,
    output_size: int,
    num_layers: int = 1,
    embedding_dim: int | None = None,
    bias: bool = True,
) -> dict[str, tuple[int, ...]]:
    """Name → shape of every parameter of the model, in PyTorch's layout.

    `input_size` is the vocabulary size V for token inputs or the feature size D
    for dense inputs. With `embedding_dim` E, tokens go through "embedding.weight"
    (V, E); without it, token inputs are one-hot and "rnn.weight_ih_l0" is (G*H, V).

    >>> param_shapes(cell="gru", input_size=10, hidden_size=4, output_size=10, bias=False)
    {'rnn.weight_ih_l0': (12, 10), 'rnn.weight_hh_l0': (12, 4), 'head.weight': (10, 4)}
    """
    return _param_shapes(
        "reference.param_shapes",
        cell,
        input_size,
        hidden_size,
        output_size,
        num_layers,
        embedding_dim,
        bias,
    )


def _param_shapes(
    where, cell, input_size, hidden_size, output_size, num_layers, embedding_dim, bias
):
    _check_choice(where, "cell", cell, CELLS)
    sizes = {
        "input_size": input_size,
        "hidden_size": hidden_size,
        "output_size": output_size,
        "num_layers": num_layers,
    }
    if embedding_dim is not None:
        sizes["embedding_dim"] = embedding_dim
    for name, value in sizes.items():
        _check_positive_int(where, name, value)
    gates_h = _GATES[cell] * hidden_size
    shapes: dict[str, tuple[int, ...]] = {}
    layer_input = input_size
    if embedding_dim is not None:
        shapes["embedding.weight"] = (input_size, embedding_dim)
        layer_input = embedding_dim
    for k in range(num_layers):
        shapes[f"rnn.weight_ih_l{k}"] = (gates_h, layer_input if k == 0 else hidden_size)
        shapes[f"rnn.weight_hh_l{k}"] = (gates_h, hidden_size)
        if bias:
            shapes[f"rnn.bias_ih_l{k}"] = (gates_h,)
            shapes[f"rnn.bias_hh_l{k}"] = (gates_h,)
    shapes["head.weight"] = (output_size, hidden_size)
    if bias:
        shapes["head.bias"] = (output_size,)
    return shapes


def init_params(
    *,
    cell: str,
    input_size: int,
    hidden_size: int,
    output_size: int,
    num_layers: int = 1,
    embedding_dim: int | None = None,
    bias: bool = True,
    dtype: np.dtype | type = np.float64,
    rng: np.random.Generator | int | None = None,
) -> dict[str, np.ndarray]:
    """Fresh parameters, initialized like PyTorch.

    Recurrent weights, biases and the head: uniform(-1/√H, 1/√H) (H = hidden_size,
    which is also the head's fan-in). The embedding: standard normal. `rng` is a
    Generator or a seed.

    >>> params = init_params(cell="lstm", input_size=65, hidden_size=32, output_size=65, rng=0)
    >>> params["rnn.weight_hh_l0"].shape, params["rnn.weight_hh_l0"].dtype
    ((128, 32), dtype('float64'))
    """
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"reference.init_params: dtype must be float32 or float64, got {dtype}")
    shapes = param_shapes(
        cell=cell,
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        num_layers=num_layers,
        embedding_dim=embedding_dim,
        bias=bias,
    )
    rng = np.random.default_rng(rng)
    bound = 1.0 / np.sqrt(hidden_size)
    params = {}
    for name, shape in shapes.items():
        if name == "embedding.weight":
            value = rng.standard_normal(shape)
        else:
            value = rng.uniform(-bound, bound, shape)
        params[name] = value.astype(dtype)
    return params


def forward_backward(
    params: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    cell: str = "rnn",
    num_layers: int = 1,
    nonlinearity: str = "tanh",
    loss: str = "ce",
    reduction: str = "mean",
    h0: State | None = None,
) -> ReferenceResult:
    """Loss and all gradients of the model in the module docstring, by hand-derived BPTT.

    `inputs`: int token ids (T, B), or float vectors (T, B, D). `targets`: int (T, B)
    for "ce", int (B,) for "ce_last", float (T, B, O) for "mse", float (B, O) for
    "mse_last". `h0`: None (zeros) or (L, B, H); for lstm also a tuple (h0, c0), c0
    None meaning zeros. Dense inputs, float targets and h0 are converted to the
    parameters' dtype (float32 or float64), which is the dtype of every result.

    >>> params = init_params(cell="gru", input_size=5, hidden_size=3, output_size=5, rng=0)
    >>> tokens = np.array([[0, 1], [2, 3], [4, 0]])              # T=3, B=2
    >>> result = forward_backward(params, tokens, tokens[::-1], cell="gru")
    >>> result.grads["rnn.weight_hh_l0"].shape, result.logits.shape
    ((9, 3), (3, 2, 5))
    """
    _check_options(cell, num_layers, nonlinearity, loss, reduction)
    inputs = np.asarray(inputs)
    dtype, hidden_size, output_size = _check_params(params, inputs, cell, num_layers)
    one_hot = inputs.ndim == 2 and "embedding.weight" not in params
    seq_len, batch = inputs.shape[:2]
    targets = _check_targets(targets, loss, seq_len, batch, output_size, dtype)
    h0, c0 = _check_h0(h0, cell, num_layers, batch, hidden_size, dtype)

    # Forward, keeping each layer's input and cache.
    if inputs.ndim == 3:
        x = np.ascontiguousarray(inputs, dtype=dtype)
    elif one_hot:
        x = inputs
    else:
        x = params["embedding.weight"][inputs]
    layer_inputs, caches = [], []
    h_n = np.empty((num_layers, batch, hidden_size), dtype=dtype)
    c_n = np.empty_like(h_n) if cell == "lstm" else None
    for k in range(num_layers):
        weight_ih, weight_hh, bias_ih, bias_hh = _layer_params(params, k)
        x_proj = _project(x, weight_ih, bias_ih, one_hot=one_hot and k == 0)
        if cell == "lstm":
            outputs, c_n[k], cache = lstm.forward(x_proj, h0[k], c0[k], weight_hh, bias_hh)
        elif cell == "gru":
            outputs, cache = gru.forward(x_proj, h0[k], weight_hh, bias_hh)
        else:
            outputs, cache = rnn.forward(x_proj, h0[k], weight_hh, bias_hh, nonlinearity)
        h_n[k] = outputs[-1]
        layer_inputs.append(x)
        caches.append(cache)
        x = outputs
    head_weight, head_bias = params["head.weight"], params.get("head.bias")
    top = x.reshape(seq_len * batch, hidden_size)
    logits = top @ head_weight.T
    if head_bias is not None:
        logits += head_bias
    logits = logits.reshape(seq_len, batch, output_size)

    # Loss and δy; the "*_last" losses read only the last step.
    last = loss.endswith("_last")
    read = logits[-1] if last else logits.reshape(seq_len * batch, output_size)
    loss_fn = _cross_entropy if loss.startswith("ce") else _squared_error
    loss_value, dlogits = loss_fn(read, targets, reduction == "mean")

    # Head backward: g^(L)_t = δy_t W_o, and the head's gradients.
    grads = {}
    read_hidden = x[-1] if last else top
    grads["head.weight"] = dlogits.T @ read_hidden
    if head_bias is not None:
        grads["head.bias"] = dlogits.sum(axis=0)
    if last:
        doutputs = np.zeros((seq_len, batch, hidden_size), dtype=dtype)
        doutputs[-1] = dlogits @ head_weight
    else:
        doutputs = (dlogits @ head_weight).reshape(seq_len, batch, hidden_size)

    # Layers backward, top to bottom.
    dh0 = np.empty((num_layers, batch, hidden_size), dtype=dtype)
    dc0 = np.empty_like(dh0) if cell == "lstm" else None
    for k in reversed(range(num_layers)):
        if cell == "lstm":
            dx_proj, dh0[k], dc0[k], dweight_hh, dbias_hh = lstm.backward(doutputs, caches[k])
        elif cell == "gru":
            dx_proj, dh0[k], dweight_hh, dbias_hh = gru.backward(doutputs, caches[k])
        else:
            dx_proj, dh0[k], dweight_hh, dbias_hh = rnn.backward(doutputs, caches[k])
        weight_ih = params[f"rnn.weight_ih_l{k}"]
        need_dx = k > 0 or (inputs.ndim == 2 and not one_hot)  # not for the model's input
        dweight_ih, dbias_ih, doutputs = _project_backward(
            dx_proj, layer_inputs[k], weight_ih, one_hot=one_hot and k == 0, need_dx=need_dx
        )
        grads[f"rnn.weight_ih_l{k}"] = dweight_ih
        grads[f"rnn.weight_hh_l{k}"] = dweight_hh
        if f"rnn.bias_hh_l{k}" in params:
            grads[f"rnn.bias_ih_l{k}"] = dbias_ih
            grads[f"rnn.bias_hh_l{k}"] = dbias_hh
    if "embedding.weight" in params:
        embedding = params["embedding.weight"]
        dembedding = np.zeros_like(embedding)
        _scatter_add_rows(dembedding, inputs, doutputs.reshape(seq_len * batch, -1))
        grads["embedding.weight"] = dembedding

    if cell == "lstm":
        return ReferenceResult(
            loss_value, {n: grads[n] for n in params}, (dh0, dc0), (h_n, c_n), logits
        )
    return ReferenceResult(loss_value, {n: grads[n] for n in params}, dh0, h_n, logits)


def _layer_params(params, k):
    return (
        params[f"rnn.weight_ih_l{k}"],
        params[f"rnn.weight_hh_l{k}"],
        params.get(f"rnn.bias_ih_l{k}"),
        params.get(f"rnn.bias_hh_l{k}"),
    )


def _project(x, weight_ih, bias_ih, *, one_hot):
    """u_t = x_t W_ih^T + b_ih for all steps, (T, B, G*H): one product, or a column gather."""
    if one_hot:
        x_proj = weight_ih.T[x]  # row token_t of W_ih^T is one_hot(token_t) W_ih^T
    else:
        seq_len, batch, features = x.shape
        x_proj = (x.reshape(seq_len * batch, features) @ weight_ih.T).reshape(seq_len, batch, -1)
    if bias_ih is not None:
        x_proj += bias_ih
    return x_proj


def _project_backward(dx_proj, x, weight_ih, *, one_hot, need_dx):
    """∂L/∂W_ih = Σ_t δu_t^T x_t, ∂L/∂b_ih = Σ δu_t, and ∂L/∂x_t = δu_t W_ih if needed."""
    seq_len, batch, gates_h = dx_proj.shape
    rows = dx_proj.reshape(seq_len * batch, gates_h)
    if one_hot:
        dweight_ih_t = np.zeros((weight_ih.shape[1], gates_h), dtype=dx_proj.dtype)
        _scatter_add_rows(dweight_ih_t, x, rows)  # row δu_t into row token_t of ∂L/∂W_ih^T
        dweight_ih = np.ascontiguousarray(dweight_ih_t.T)
    else:
        dweight_ih = rows.T @ x.reshape(seq_len * batch, -1)
    dbias_ih = rows.sum(axis=0)
    dx = (rows @ weight_ih).reshape(seq_len, batch, -1) if need_dx else None
    return dweight_ih, dbias_ih, dx


def _scatter_add_rows(target, index, rows):
    """target[index[n]] += rows[n] for every n, repeated indices adding up.

    That is `np.add.at(target, index, rows)`, computed by sorting the rows by index so
    that each index's rows form one block, summed in one call: a character vocabulary
    repeats every token many times in a batch, and `np.add.at` (one row at a time) is
    several times slower than this.
    """
    index = index.ravel()
    if index.size == 0:
        return
    order = np.argsort(index, kind="stable")
    sorted_index, sorted_rows = index[order], rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    ends = np.r_[starts[1:], index.size]
    for start, end in zip(starts.tolist(), ends.tolist()):
        target[sorted_index[start]] += sorted_rows[start:end].sum(axis=0)


def _cross_entropy(logits, targets, mean):
    """Σ or mean over rows of logsumexp(y) - y_target, and δy = softmax(y) - one_hot."""
    rows = np.arange(len(targets))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    loss = np.log(sum_exp).sum() - shifted[rows, targets].sum()
    dlogits = exp
    dlogits /= sum_exp
    dlogits[rows, targets] -= 1
    if mean:
        loss /= len(targets)
        dlogits *= 1.0 / len(targets)
    return float(loss), dlogits


def _squared_error(predictions, targets, mean):
    """Σ or mean of (y - target)², and δy = 2 (y - target) (/ M)."""
    diff = predictions - targets
    loss = float(np.vdot(diff, diff))
    scale = 2.0
    if mean:
        loss /= diff.size
        scale /= diff.size
    diff *= scale
    return loss, diff


# Validation: every check raises at the call with the function name and the shapes.


def _check_choice(where, name, value, choices):
    if value not in choices:
        raise ValueError(f"{where}: {name} must be one of {choices}, got {value!r}")


def _check_positive_int(where, name, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")


def _check_options(cell, num_layers, nonlinearity, loss, reduction):
    _check_choice(_WHERE, "cell", cell, CELLS)
    _check_choice(_WHERE, "loss", loss, LOSSES)
    _check_choice(_WHERE, "reduction", reduction, REDUCTIONS)
    _check_choice(_WHERE, "nonlinearity", nonlinearity, NONLINEARITIES)
    _check_positive_int(_WHERE, "num_layers", num_layers)
    if nonlinearity != "tanh" and cell != "rnn":
        raise ValueError(
            f"{_WHERE}: nonlinearity={nonlinearity!r} is only for cell='rnn'; "
            f"{cell} has fixed gate nonlinearities"
        )


def _check_params(params, inputs, cell, num_layers):
    """Check names, shapes and dtypes; return (dtype, hidden_size, output_size)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{_WHERE}: params must be a dict of NumPy arrays, got {type(params).__name__}"
        )
    dtype = None
    for name, value in params.items():
        if not isinstance(value, np.ndarray) or value.dtype not in _FLOAT_DTYPES:
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise TypeError(
                f"{_WHERE}: parameter {name!r} must be a float32 or float64 array, got {kind}"
            )
        if dtype is None:
            dtype = value.dtype
        elif value.dtype != dtype:
            raise TypeError(
                f"{_WHERE}: all parameters must share one dtype, got {dtype} and "
                f"{value.dtype} ({name!r})"
            )
    dense = inputs.ndim == 3 and inputs.dtype.kind == "f"
    if not dense and not (inputs.ndim == 2 and inputs.dtype.kind in "iu"):
        raise TypeError(
            f"{_WHERE}: inputs must be integer token ids (T, B) or float vectors (T, B, D), "
            f"got dtype {inputs.dtype} and shape {inputs.shape}"
        )
    if 0 in inputs.shape:
        raise ValueError(f"{_WHERE}: inputs must not be empty, got shape {inputs.shape}")
    weight_hh = _required_matrix(params, "rnn.weight_hh_l0")
    head = _required_matrix(params, "head.weight")
    if 0 in weight_hh.shape or 0 in head.shape:
        raise ValueError(
            f"{_WHERE}: 'rnn.weight_hh_l0' {weight_hh.shape} and 'head.weight' {head.shape} "
            "must not be empty"
        )
    embedding_dim = None
    if dense:
        if "embedding.weight" in params:
            raise ValueError(
                f"{_WHERE}: dense inputs of shape {inputs.shape} cannot use 'embedding.weight'; "
                "pass token ids (T, B) or drop the embedding"
            )
        input_size = inputs.shape[2]
    else:
        if "embedding.weight" in params:
            input_size, embedding_dim = _required_matrix(params, "embedding.weight").shape
            vocabulary = f"'embedding.weight' has {input_size} rows"
        else:
            input_size = _required_matrix(params, "rnn.weight_ih_l0").shape[1]
            vocabulary = f"one-hot inputs: 'rnn.weight_ih_l0' has {input_size} columns"
        low, high = inputs.min(), inputs.max()
        if low < 0 or high >= input_size:
            raise ValueError(
                f"{_WHERE}: token ids must lie in [0, {input_size}) ({vocabulary}), got "
                f"values in [{low}, {high}] (inputs shape {inputs.shape})"
            )
    hidden_size, output_size = weight_hh.shape[1], head.shape[0]
    has_bias = "rnn.bias_ih_l0" in params
    expected = _param_shapes(
        _WHERE, cell, input_size, hidden_size, output_size, num_layers, embedding_dim, has_bias
    )
    model = f"cell={cell!r}, num_layers={num_layers}, hidden_size={hidden_size}"
    for name, shape in expected.items():
        if name not in params:
            raise ValueError(
                f"{_WHERE}: missing parameter {name!r} of shape {shape} ({model}; the "
                "recurrent biases are all present or all absent)"
            )
        if params[name].shape != shape:
            raise ValueError(
                f"{_WHERE}: parameter {name!r} should have shape {shape}, got "
                f"{params[name].shape} ({model}, inputs of shape {inputs.shape})"
            )
    for name in params:
        if name not in expected:
            raise ValueError(
                f"{_WHERE}: unexpected parameter {name!r} of shape {params[name].shape} "
                f"({model}; expected {sorted(expected)})"
            )
    return dtype, hidden_size, output_size


def _required_matrix(params, name):
    if name not in params:
        raise ValueError(f"{_WHERE}: missing parameter {name!r}")
    value = params[name]
    if value.ndim != 2:
        raise ValueError(f"{_WHERE}: parameter {name!r} must be 2-D, got shape {value.shape}")
    return value


def _check_targets(targets, loss, seq_len, batch, output_size, dtype):
    targets = np.asarray(targets)
    last = loss.endswith("_last")
    if loss.startswith("ce"):
        shape = (batch,) if last else (seq_len, batch)
        if targets.dtype.kind not in "iu":
            raise TypeError(
                f"{_WHERE}: loss={loss!r} needs integer class targets of shape {shape}, "
                f"got dtype {targets.dtype}"
            )
    else:
        shape = (batch, output_size) if last else (seq_len, batch, output_size)
        if targets.dtype.kind != "f":
            raise TypeError(
                f"{_WHERE}: loss={loss!r} needs float targets of shape {shape}, "
                f"got dtype {targets.dtype}"
            )
    if targets.shape != shape:
        raise ValueError(
            f"{_WHERE}: loss={loss!r} needs targets of shape {shape}, got {targets.shape}"
        )
    if loss.startswith("ce"):
        if targets.min() < 0 or targets.max() >= output_size:
            raise ValueError(
                f"{_WHERE}: class targets must lie in [0, {output_size}) "
                f"(head.weight has {output_size} rows), got values in "
                f"[{targets.min()}, {targets.max()}]"
            )
        return targets.ravel()
    return targets.astype(dtype, copy=False).reshape(-1, output_size)


def _check_h0(h0, cell, num_layers, batch, hidden_size, dtype):
    """Return (h0, c0) as (L, B, H) arrays of the parameters' dtype; c0 is None unless lstm."""
    c0 = None
    if isinstance(h0, tuple | list):
        if cell != "lstm":
            raise TypeError(
                f"{_WHERE}: h0 for cell={cell!r} is one array (L, B, H), got a "
                f"{type(h0).__name__} of {len(h0)}"
            )
        if len(h0) != 2:
            raise ValueError(f"{_WHERE}: h0 for lstm must be (h0, c0), got {len(h0)} items")
        h0, c0 = h0
        if h0 is None and c0 is not None:
            raise ValueError(f"{_WHERE}: c0 may be given only together with h0")
    shape = (num_layers, batch, hidden_size)
    states = []
    for name, state in (("h0", h0), ("c0", c0)):
        if state is None:
            states.append(np.zeros(shape, dtype=dtype))
            continue
        state = np.asarray(state)
        if state.dtype.kind != "f" or state.shape != shape:
            raise ValueError(
                f"{_WHERE}: {name} must be a float array of shape (L, B, H) = {shape}, "
                f"got dtype {state.dtype} and shape {state.shape}"
            )
        states.append(state.astype(dtype, copy=False))
    return states[0], (states[1] if cell == "lstm" else None)

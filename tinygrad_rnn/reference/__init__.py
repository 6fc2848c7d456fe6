"""Hand-derived backpropagation through time in plain NumPy: the oracle.

Everything the autograd engine computes for a recurrent language model (loss,
gradients of every parameter and of the initial state, final state) is computed
here again by hand, from the equations, with nothing from the rest of
tinygrad_rnn: this package imports only NumPy. Tests compare the two; benchmarks
race them.

Read it in this order: `rnn.py` (the plain RNN, the whole BPTT idea), `lstm.py`
and `gru.py` (the same with gates), `model.py` (embedding or one-hot inputs,
stacked layers, the head and the losses). Every file opens with its derivation.

>>> import numpy as np
>>> from tinygrad_rnn.reference import forward_backward, init_params
>>> params = init_params(cell="lstm", input_size=65, hidden_size=32, output_size=65, rng=0)
>>> tokens = np.random.default_rng(0).integers(0, 65, size=(25, 4))   # (T, B)
>>> result = forward_backward(params, tokens[:-1], tokens[1:], cell="lstm")
>>> sorted(result.grads) == sorted(params)
True
"""

from .model import ReferenceResult, forward_backward, init_params, param_shapes

__all__ = ["ReferenceResult", "forward_backward", "init_params", "param_shapes"]

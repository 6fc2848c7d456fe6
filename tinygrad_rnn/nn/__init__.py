"""Neural-network modules built only from the engine's ops (no backward code here).

>>> import numpy as np, tinygrad_rnn as tg
>>> from tinygrad_rnn import nn
>>> rnn = nn.GRU(input_size=3, hidden_size=4, num_layers=2)
>>> output, h_n = rnn(tg.randn(5, 2, 3))
>>> output.shape, h_n.shape
((5, 2, 4), (2, 2, 4))
"""

from .layers import (
    ELU,
    GELU,
    CosineSimilarity,
    Dropout,
    Embedding,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    RMSNorm,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .models import RecurrentModel
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "RMSNorm",
    "RNNCell",
    "ReLU",
    "RecurrentModel",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "clip_grad_norm_",
    "clip_grad_value_",
    "functional",
    "init",
    "pad_sequence",
    "utils",
]

from . import functional, init, utils  # noqa: E402  (torch.nn.functional's alias; initialisers; clipping, padding, packing)
from .utils import clip_grad_norm_, clip_grad_value_, pad_sequence  # noqa: E402

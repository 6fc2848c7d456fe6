"""Use a trained language model: load its checkpoint, generate text, measure its loss on text.

With the model that ``tinygrad-rnn demo`` leaves (seed 0, 1,000 steps):

>>> model, tokenizer, checkpoint = load_checkpoint("runs/demo")      # doctest: +SKIP
>>> print(generate(model, tokenizer, "MACBETH.\\n", 200, temperature=0.7))  # doctest: +SKIP
>>> evaluate(model, tokenizer, open("tinygrad_rnn/corpus/README.md").read())  # doctest: +SKIP
{'level': 'char', 'tokens': 703, 'predicted': 702, 'nats_per_token': 3.1565..., \
'bits_per_token': 4.5539..., 'bits_per_char': 4.5539..., 'unknown': 32, 'unknown_handling': 'skipped'}

A checkpoint is the ``.npz`` written by :func:`tinygrad_rnn.train.train` (through the
atomic :func:`tinygrad_rnn.serialization.save`); its layout is documented there. This
module reads only what a trained model needs: ``model_config``, ``model`` and ``tokenizer``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import functional
from .data import UNK, Tokenizer, load_text, tokenizer_from_dict, train_val_split
from .nn import RecurrentModel
from .reference import param_shapes
from .rng import resolve
from .serialization import CheckpointError, load
from .tensor import no_grad

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_NAME",
    "CHECKPOINT_VERSION",
    "checkpoint_path",
    "default_prime",
    "describe_loss",
    "describe_model",
    "encode_for_evaluation",
    "encode_prime",
    "evaluate",
    "evaluate_ids",
    "evaluate_validation",
    "generate",
    "is_checkpoint_version",
    "load_checkpoint",
    "mean_loss",
]

CHECKPOINT_NAME = "checkpoint.npz"
CHECKPOINT_FORMAT = "tinygrad_rnn.language_model"
CHECKPOINT_VERSION = 1
_REQUIRED = ("model_config", "model", "tokenizer")


# -- checkpoints -------------------------------------------------------------------------
def checkpoint_path(path_or_run_dir: str | Path) -> Path:
    """The checkpoint file: ``path`` itself, or ``path/checkpoint.npz`` for a run folder.

    Raises FileNotFoundError, saying which of the two is missing.
    """
    path = Path(path_or_run_dir)
    if path.is_dir():
        file = path / CHECKPOINT_NAME
        if not file.exists():
            raise FileNotFoundError(f"the run folder {path} holds no {CHECKPOINT_NAME} (not trained yet?)")
        return file
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint or run folder at {path}")
    return path


def load_checkpoint(path_or_run_dir: str | Path) -> tuple[RecurrentModel, Tokenizer, dict[str, Any]]:
    """Rebuild ``(model, tokenizer, checkpoint)`` from a run folder or a checkpoint file.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` (a ValueError)
    naming the file for anything that is not a language-model checkpoint of this library:
    a foreign or damaged file, a missing entry, a tokenizer whose vocabulary size does not
    match the model's, or weights that do not fit the saved architecture.
    """
    path = checkpoint_path(path_or_run_dir)
    checkpoint = load(path)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is not a language-model checkpoint (format {checkpoint.get('format')!r}, "
            f"expected {CHECKPOINT_FORMAT!r})"
        )
    if not is_checkpoint_version(checkpoint.get("version")):
        raise CheckpointError(
            f"{path}: unsupported language-model checkpoint version {checkpoint.get('version')!r} "
            f"(this version reads {CHECKPOINT_VERSION})"
        )
    missing = [key for key in _REQUIRED if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: the checkpoint lacks {', '.join(missing)}")
    try:
        tokenizer = tokenizer_from_dict(checkpoint["tokenizer"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: unreadable tokenizer: {err}") from None
    config, weights = checkpoint["model_config"], checkpoint["model"]
    if not isinstance(config, dict) or not isinstance(weights, dict):
        raise CheckpointError(f"{path}: model_config and model must be dicts, got "
                              f"{type(config).__name__} and {type(weights).__name__}")
    if config.get("input_kind", "tokens") != "tokens":  # a language model reads token ids
        raise CheckpointError(f"{path}: the model reads input_kind={config.get('input_kind')!r}, not "
                              "token ids: it is no language model that can generate or be evaluated")
    sizes = {config.get("input_size"), config.get("output_size")}
    if sizes != {len(tokenizer)}:
        raise CheckpointError(
            f"{path}: the model is built for {config.get('input_size')} input and "
            f"{config.get('output_size')} output symbols but the tokenizer has {len(tokenizer)}: "
            "the weights belong to another vocabulary"
        )
    does_not_fit = f"{path}: the weights do not fit the saved architecture ({describe_model(config)})"
    # Before building: a configuration that disagrees with the weights could ask for any
    # amount of memory (hidden_size=10**7 is petabytes), and building would fail on that.
    mismatch = _weights_mismatch(config, weights)
    if mismatch:
        raise CheckpointError(f"{does_not_fit}: {mismatch}")
    try:
        # The weights are overwritten below; a private generator keeps the default one untouched.
        model = RecurrentModel(**config, rng=np.random.default_rng(0))
    except (TypeError, ValueError, MemoryError) as err:
        raise CheckpointError(f"{path}: cannot build the model from its saved configuration: "
                              f"{err or type(err).__name__}") from None
    try:
        model.load_state_dict(weights)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{does_not_fit}: {err}") from None
    return model, tokenizer, checkpoint


def is_checkpoint_version(value: Any) -> bool:
    """``value`` is the language-model checkpoint version this library reads (not ``True``,
    which Python counts as equal to 1)."""
    return type(value) is int and value == CHECKPOINT_VERSION


def _weights_mismatch(config: dict[str, Any], weights: dict[str, Any]) -> str:
    """How the saved weights' names and shapes differ from what ``config`` builds ("" if they
    agree, or if ``config`` is invalid: building the model then reports it)."""
    layers = config.get("num_layers", 1)
    if isinstance(layers, int) and layers > len(weights):  # each layer has weights; don't list 10**9
        return f"{layers} layers, but only {len(weights)} weight arrays are saved"
    try:
        expected = param_shapes(
            cell=config.get("cell"), input_size=config.get("input_size"),
            hidden_size=config.get("hidden_size"), output_size=config.get("output_size"),
            num_layers=config.get("num_layers", 1), embedding_dim=config.get("embedding_dim"),
            bias=config.get("bias", True))
    except (TypeError, ValueError):
        return ""
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    if missing or unexpected:
        return f"missing {missing}, unexpected {unexpected}"
    shapes = [f"{name} is {_shape(weights[name])}, the configuration needs {shape}"
              for name, shape in expected.items() if _shape(weights[name]) != shape]
    return ("shape mismatch: " + "; ".join(shapes)) if shapes else ""


def _shape(value: Any) -> tuple[int, ...] | str:
    return value.shape if isinstance(value, np.ndarray) else f"a {type(value).__name__}, not an array"


def describe_model(config: dict[str, Any]) -> str:
    """A short human description of a ``RecurrentModel.config()``: ``"gru, 2 layers, hidden 128"``."""
    layers = config.get("num_layers", 1)
    inputs = "one-hot" if not config.get("embedding_dim") else f"embedding {config['embedding_dim']}"
    dropout = f", dropout {config['dropout']:g}" if config.get("dropout") else ""
    return (f"{config.get('cell')}, {layers} layer{'s' * (layers != 1)}, hidden {config.get('hidden_size')}, "
            f"{inputs}, vocabulary {config.get('output_size')}{dropout}")


@contextlib.contextmanager
def inference(model: RecurrentModel):
    """``no_grad`` with the model in eval mode (no dropout); its mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        model.train(was_training)


# -- generation --------------------------------------------------------------------------
def default_prime(tokenizer: Tokenizer) -> str:
    """A neutral one-symbol prime: a line break for characters, ``.`` for words (if known),
    else the first symbol of the vocabulary that is not ``<unk>``.

    ValueError when the vocabulary holds nothing but ``<unk>``, which no text encodes to.
    """
    preferred = "\n" if tokenizer.kind == "char" else "."
    if preferred in tokenizer.vocab:
        return preferred
    for symbol in tokenizer.vocab:
        if symbol != UNK:
            return symbol
    raise ValueError(f"default_prime: the model's vocabulary holds only {UNK}, which no prime can "
                     "be written in (a word model trained with too high a --min-freq?)")


def encode_prime(tokenizer: Tokenizer, prime: str) -> np.ndarray:
    """The ids of ``prime``; ValueError naming its symbols outside the vocabulary, or if it has none."""
    if not isinstance(prime, str):
        raise TypeError(f"generate: the prime must be a str, got {type(prime).__name__} {prime!r}")
    symbols = tokenizer.split(prime)
    if not symbols:
        raise ValueError(f"generate: the prime {prime!r} has no symbols; give at least one "
                         f"(for example {default_prime(tokenizer)!r})")
    known = set(tokenizer.vocab)
    unknown = list(dict.fromkeys(symbol for symbol in symbols if symbol not in known))
    if unknown:
        shown = ", ".join(repr(symbol) for symbol in unknown[:8]) + (", ..." if len(unknown) > 8 else "")
        raise ValueError(
            f"the prime contains {len(unknown)} symbol(s) that are not in the model's "
            f"{len(tokenizer)}-symbol vocabulary: {shown}"
        )
    return tokenizer.encode(prime)


def _next_token(logits: np.ndarray, temperature: float, top_k: int | None,
                rng: np.random.Generator) -> int:
    """Draw from softmax(logits / temperature) restricted to the ``top_k`` largest logits.

    ``temperature`` 0 and inf are the two limits: the largest logit, and a uniform draw
    among the allowed tokens (computed as such: (-inf - max) / inf would be nan).
    """
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits.astype(np.float64)
    if top_k is not None and top_k < logits.size:
        # A stable sort keeps the lowest index among ties first, as argmax does, so top_k=1 is greedy.
        keep = np.argsort(-logits, kind="stable")[:top_k]
        filtered = np.full_like(logits, -np.inf)
        filtered[keep] = logits[keep]
        logits = filtered
    if math.isinf(temperature):
        scaled = np.where(logits > -np.inf, 0.0, -np.inf)
    else:
        with np.errstate(over="ignore"):  # a tiny temperature: -inf below the max, greedy
            scaled = (logits - logits.max()) / temperature
    cdf = np.cumsum(np.exp(scaled))
    # Inverse-CDF sampling; side="right" never lands on a zero-probability token.
    return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), logits.size - 1)


def _piece(tokenizer: Tokenizer, previous: int, token: int) -> str:
    """The text ``token`` adds after ``previous`` (for words: the word and the space before it)."""
    return tokenizer.decode([previous, token])[len(tokenizer.decode([previous])):]


def generate(
    model: RecurrentModel,
    tokenizer: Tokenizer,
    prime: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
    stream: Callable[[str], None] | None = None,
) -> str:
    """Continue ``prime`` by ``length`` tokens and return the continuation (without the prime).

    The prime is fed through the model in one pass; then each new token is drawn from
    softmax(logits / ``temperature``) over the ``top_k`` most likely tokens (all when None)
    and fed back. ``temperature=0`` is greedy: always the most likely token;
    ``temperature=inf`` is the other limit, a uniform draw among the ``top_k`` most likely
    tokens (all when None): softmax(logits / T) tends to it as T grows, so inf means what
    very large temperatures already do, rather than being an error. ``rng`` (a
    NumPy Generator; default: the library's default generator) makes sampling reproducible.
    ``stream``, if given, receives each new piece of text as soon as it is drawn, so that
    ``"".join(pieces)`` is the returned string.

    Raises ValueError for an empty prime, a prime with symbols outside the vocabulary
    (naming them), a negative ``length`` or ``temperature`` (or nan), or ``top_k < 1``, and
    TypeError for a prime that is not a str or a temperature that is not a number.

    >>> generate(model, tokenizer, "KING", 40, temperature=0)    # the demo's model  # doctest: +SKIP
    '.\\nThe seep the seeps the seeps the seeps'
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"generate: length must be a non-negative integer, got {length!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"generate: temperature must be a number >= 0, got {temperature!r}")
    if not temperature >= 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"generate: top_k must be a positive integer or None, got {top_k!r}")
    ids = encode_prime(tokenizer, prime)
    rng = resolve(rng, "generate")
    pieces: list[str] = []
    with inference(model):
        outputs, state = model.forward(ids.reshape(-1, 1))
        previous = int(ids[-1])
        for position in range(length):
            token = _next_token(outputs.data[-1, 0], temperature, top_k, rng)
            piece = _piece(tokenizer, previous, token)
            pieces.append(piece)
            if stream is not None:
                stream(piece)
            previous = token
            if position + 1 < length:
                outputs, state = model.forward(np.array([[token]], dtype=np.int64), state)
    return "".join(pieces)


# -- evaluation --------------------------------------------------------------------------
def mean_loss(model: RecurrentModel, ids, *, streams: int = 16, seq_len: int = 64) -> float:
    """Mean cross-entropy, in nats per predicted token, of the model on the token stream ``ids``.

    Every token after the first is predicted once. To keep the Python loop over time
    short, the ``N − 1`` (input, target) pairs are laid out as ``streams`` contiguous
    pieces read in parallel (the last padded at its end, the padding not counted); each
    piece starts from a zero state and carries its state across windows of ``seq_len``
    steps, so only the first few tokens of each piece see less context than in one long
    pass. ``streams=1`` reads the text as a single sequence. Runs under ``no_grad``, in eval mode.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"mean_loss: expected a 1-D array of token ids, got shape {ids.shape} "
                         f"dtype {ids.dtype}")
    pairs = len(ids) - 1
    if pairs < 1:
        raise ValueError(f"mean_loss: need at least 2 tokens to predict one, got {len(ids)}")
    vocab = model.output_size
    if ids.min() < 0 or ids.max() >= vocab:  # the last one is only a target, whose -100
        bad = np.unique(ids[(ids < 0) | (ids >= vocab)])  # cross_entropy ignores unasked
        raise ValueError(f"mean_loss: token ids must lie in [0, {vocab}), got {bad[:10].tolist()}")
    for name, value in (("streams", streams), ("seq_len", seq_len)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"mean_loss: {name} must be an integer >= 1, got {value!r}")
    if streams < 1 or seq_len < 1:
        raise ValueError(f"mean_loss: streams and seq_len must be >= 1, got {streams} and {seq_len}")
    streams = min(streams, pairs)
    length = -(-pairs // streams)
    pad = streams * length - pairs

    def layout(values: np.ndarray) -> np.ndarray:
        padded = np.concatenate([values, np.zeros(pad, dtype=values.dtype)])
        return padded.reshape(streams, length).T  # (time, stream)

    inputs = layout(ids[:-1].astype(np.int64))
    targets = layout(ids[1:].astype(np.int64))
    counted = layout(np.ones(pairs, dtype=bool))
    total, state = 0.0, None
    with inference(model):
        for start in range(0, length, seq_len):
            window = slice(start, start + seq_len)
            outputs, state = model.forward(inputs[window], state)
            losses = functional.cross_entropy(outputs, targets[window], reduction="none").data
            total += float(np.sum(losses, dtype=np.float64, where=counted[window]))
    return total / pairs


def encode_for_evaluation(tokenizer: Tokenizer, text: str) -> tuple[np.ndarray, int, str]:
    """``(ids, unknown, handling)``: the text's ids and how its unknown symbols were treated.

    With a ``<unk>`` symbol in the vocabulary, unknown symbols map to it (``handling`` is
    ``"mapped to <unk>"``); without one they are dropped from the stream (``"skipped"``).
    ``unknown`` counts them either way.
    """
    unknown = tokenizer.count_unknown(text)
    if tokenizer.unk_id is not None:
        return tokenizer.encode(text, unknown="unk"), unknown, f"mapped to {UNK}"
    if not unknown:
        return tokenizer.encode(text), 0, "none"
    known = {symbol: i for i, symbol in enumerate(tokenizer.vocab)}
    ids = np.array([known[s] for s in tokenizer.split(text) if s in known], dtype=np.int64)
    return ids, unknown, "skipped"


def evaluate_ids(model: RecurrentModel, tokenizer: Tokenizer, ids, *, unknown: int = 0,
                 handling: str = "none", streams: int = 16, seq_len: int = 64) -> dict[str, Any]:
    """The report of :func:`evaluate` for an already encoded token stream."""
    nats = mean_loss(model, ids, streams=streams, seq_len=seq_len)
    report: dict[str, Any] = {
        "level": tokenizer.kind,
        "tokens": len(ids),
        "predicted": len(ids) - 1,
        "nats_per_token": nats,
        "bits_per_token": nats / math.log(2),
    }
    if tokenizer.kind == "char":
        report["bits_per_char"] = report["bits_per_token"]
    else:
        report["perplexity"] = math.exp(nats)
    report["unknown"] = unknown
    report["unknown_handling"] = handling
    return report


def evaluate(model: RecurrentModel, tokenizer: Tokenizer, text: str, *, streams: int = 16,
             seq_len: int = 64) -> dict[str, Any]:
    """Mean loss of the model on ``text``, with the unknown symbols it had to deal with.

    Returns a JSON-able dict: ``level`` ("char" or "word"), ``tokens`` (tokens scored
    from), ``predicted`` (``tokens − 1`` predictions), ``nats_per_token``,
    ``bits_per_token``, then ``bits_per_char`` for a character model or ``perplexity``
    (e^nats) for a word model, ``unknown`` (symbols of the text outside the vocabulary) and
    ``unknown_handling`` (see :func:`encode_for_evaluation`). See :func:`mean_loss` for
    ``streams`` and ``seq_len``.
    """
    ids, unknown, handling = encode_for_evaluation(tokenizer, text)
    if len(ids) < 2:
        raise ValueError(
            f"evaluate: the text has {len(ids)} known token(s) ({unknown} unknown); need at least 2"
        )
    return evaluate_ids(model, tokenizer, ids, unknown=unknown, handling=handling,
                        streams=streams, seq_len=seq_len)


def evaluate_validation(model: RecurrentModel, tokenizer: Tokenizer,
                        checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The :func:`evaluate` report on the validation part of the text the checkpoint was trained on.

    The text is reloaded from the path in the checkpoint's ``train_config`` and split as in
    training (its last ``val_fraction``), and read as training read it (``batch`` streams,
    windows of ``seq_len``), so the loss is the one training reported. Raises ValueError
    when the run kept no validation text or when the text has changed since (its SHA-256
    differs from the checkpoint's).
    """
    config = checkpoint.get("train_config") or {}
    fraction = config.get("val_fraction", 0)
    if not fraction:
        raise ValueError("this run kept no validation text (val_fraction 0); give a text to evaluate on")
    path = config.get("data")
    # Runs record their text's absolute path; older ones the path as given, relative to the
    # folder training ran in, which may not be this one.
    source = "the built-in corpus" if path is None else f"the text at {path}"
    if path is not None and not Path(path).is_absolute():
        source += f" (recorded relative to the folder training ran in; read here as {Path(path).absolute()})"
    try:
        text = load_text(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"this run was trained on {source}, which does not exist; give a "
                                "text to evaluate on") from None
    if checkpoint.get("data_sha256") not in (None, hashlib.sha256(text.encode("utf-8")).hexdigest()):
        raise ValueError(f"{source} is not the text this run was trained on (its SHA-256 differs: "
                         "it has changed since, or it is another file); give a text to evaluate on")
    ids, _, handling = encode_for_evaluation(tokenizer, text)
    _, val_ids = train_val_split(ids, fraction)
    unknown = 0 if tokenizer.unk_id is None else int(np.sum(val_ids == tokenizer.unk_id))
    return evaluate_ids(model, tokenizer, val_ids, unknown=unknown, handling=handling,
                        streams=config.get("batch", 16), seq_len=config.get("seq_len", 64))


def describe_loss(nats: float, level: str) -> str:
    """``"1.6021 nats/char (2.3113 bits/char)"``, or for words ``"5.1200 nats/token (perplexity 167.3)"``.

    A word-level token is a word or a punctuation mark (see ``WordTokenizer``).
    """
    if level == "char":
        return f"{nats:.4f} nats/char ({nats / math.log(2):.4f} bits/char)"
    perplexity = math.exp(nats) if nats < 700 else math.inf
    return f"{nats:.4f} nats/token (perplexity {perplexity:.1f})"

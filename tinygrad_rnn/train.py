"""Train a character- or word-level language model on a text, resumably.

>>> from tinygrad_rnn.train import TrainConfig, train
>>> result = train(TrainConfig(cell="gru", hidden=128, steps=2000, out="runs/gru"))  # doctest: +SKIP
>>> round(result.val_loss, 4)                     # validation nats/char at step 2000  # doctest: +SKIP
1.7942

One run, step by step:

1. the text (:func:`~tinygrad_rnn.data.load_text`) is tokenized by characters or words;
   its last ``val_fraction`` (by position) is the validation text, the rest feeds a
   :class:`~tinygrad_rnn.data.BatchStream` of ``batch`` parallel streams;
2. each step reads the next window of ``seq_len`` steps, starting from the hidden state
   the previous window ended in, *detached* (truncated backpropagation through time; the
   state is reset to zeros at each epoch start), computes the mean cross-entropy,
   backpropagates, clips the gradients and updates the weights;
3. every ``eval_every`` steps the mean loss over the whole validation text is measured
   (nats per token; bits per char = nats / ln 2; perplexity = e^nats for words), every
   ``sample_every`` steps a short sample is printed, every ``checkpoint_every`` steps (and
   at the end) ``checkpoint.npz`` is written atomically.

The run folder holds ``checkpoint.npz``, ``log.csv`` (one row per step: ``step,
train_loss, val_loss, tokens_per_sec, elapsed_sec``; ``val_loss`` is empty between
evaluations), with matplotlib installed ``loss.png``, and with ``patience`` set ``best.npz``
(the checkpoint of the step with the best validation loss that patience has counted).

The checkpoint is a dict saved with :func:`tinygrad_rnn.serialization.save`::

    format, version     "tinygrad_rnn.language_model", 1
    model_config        RecurrentModel.config()  (RecurrentModel(**model_config) rebuilds it)
    model               the model's state_dict()
    tokenizer           the tokenizer's to_dict()
    optimizer           the optimizer's state_dict()
    train_config        dataclasses.asdict(TrainConfig)
    step                optimizer steps taken
    batch_state         the BatchStream's state_dict() (where the next window starts)
    hidden              the carried hidden state (array, or tuple (h, c) for LSTM), or None
    rng_state           the run's numpy bit_generator.state (JSON values)
    history             arrays step, train_loss, val_loss (nan when not measured),
                        tokens_per_sec, elapsed_sec: the rows of log.csv
    data_sha256         SHA-256 of the training text, to refuse resuming on other text
    patience_start      the step from which evaluations count for ``patience`` (None while it
                        is off); optional: older checkpoints lack it

Resuming (``resume=True``) restores all of it, so a run stopped at step k and resumed
produces bitwise the same losses as one that never stopped.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import math
import numbers
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .data import UNK, BatchStream, CharTokenizer, Tokenizer, WordTokenizer, load_text, train_val_split
from .lr_scheduler import cosine_annealing
from .nn import RecurrentModel, clip_grad_norm_, clip_grad_value_
from .optim import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, Optimizer, RAdam, RMSprop
from .reference import param_shapes
from .runtime import blas_threads, callable_module
from .sample import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_NAME,
    CHECKPOINT_VERSION,
    default_prime,
    describe_loss,
    describe_model,
    generate,
    is_checkpoint_version,
    mean_loss,
)
from .serialization import CheckpointError, load, save
from .tensor import Tensor

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "saved_config", "train"]

# Measured on the built-in corpus with 32x48 tokens per step and clip 1. Adam (GRU, hidden 128):
# 1.82 nats/char after 900 steps at 2e-3, 1.71 at 4e-3, 1.70 at 7e-3 but flat from step 600.
# After 150 steps (hidden 64): SGD 3.29 at 0.5, 2.67 at 2, 2.37 at 5; Adagrad 2.03 at 0.1.
# 900 steps, GRU hidden 128: RMSprop 1.79 at 2e-3, 1.75 at 5e-3, 1.77 at 1e-2; AdamW 1.69 at 5e-3.
DEFAULT_LR = {"sgd": 5.0, "adagrad": 0.1, "adam": 5e-3, "adamw": 5e-3, "adamax": 5e-3, "nadam": 5e-3,
              "radam": 5e-3, "rmsprop": 5e-3}
LR_SCHEDULES = ("constant", "cosine")
BEST_NAME = "best.npz"
LOG_NAME = "log.csv"
PLOT_NAME = "loss.png"
# A folder holding any of these holds a run (or what is left of one): only --overwrite replaces it.
RUN_FILES = (CHECKPOINT_NAME, BEST_NAME, LOG_NAME)
LOG_COLUMNS = ("step", "train_loss", "val_loss", "tokens_per_sec", "elapsed_sec")
# Options that define the model, its data, its optimizer or its random stream: a resumed run
# must keep them. The optimizer's state was built with the saved momentum, and the generator
# continues from its saved state (so the losses match an uninterrupted run's), which a seed
# given on resume could not change.
FIXED_ON_RESUME = ("level", "lower", "min_freq", "val_fraction", "cell", "layers", "hidden",
                   "embedding", "dtype", "seq_len", "batch", "optimizer", "momentum", "seed")
# Entries of the checkpoint that resuming restores (patience_start is optional: older
# checkpoints lack it).
RESUME_ENTRIES = ("model_config", "model", "tokenizer", "optimizer", "train_config", "step",
                  "batch_state", "hidden", "rng_state", "history", "data_sha256")


class TrainingDiverged(RuntimeError):
    """The loss became nan or inf; the message names the step and what to change."""


@dataclass
class TrainConfig:
    """Every option of a training run. The CLI flag of ``seq_len`` is ``--seq-len``, and so on.

    Data: ``data`` (a file or folder; None = the built-in corpus), ``level`` ("char" |
    "word"), for words ``lower`` and ``min_freq`` (rarer words become ``<unk>``),
    ``val_fraction`` (the last part of the text, held out).
    Model: ``cell`` ("rnn" | "lstm" | "gru"), ``layers``, ``hidden``, ``embedding``
    (embedding size; None or 0 = one-hot inputs), ``dtype``, ``dropout`` (while training,
    between layers and before the head; a resumed run may change it).
    Optimization: ``seq_len`` (T, the truncated-BPTT window), ``batch`` (B parallel
    streams), ``optimizer`` (a key of ``DEFAULT_LR``: "sgd", "adam", ...), ``lr`` (None = its
    default in ``DEFAULT_LR``), ``momentum`` (SGD only), ``clip`` (None or 0 = off) with
    ``clip_mode`` ("norm": rescale the joint gradient norm to at most ``clip``; "value":
    clip each entry to [−clip, clip]), ``steps`` or ``epochs`` (epochs, when set, wins).
    Schedule: ``warmup`` steps whose rate rises linearly to ``lr``, then ``lr_schedule``
    "constant" or "cosine" (from ``lr`` towards ``min_lr``, reached one step after the last; see
    :func:`learning_rate`); ``patience`` (0 = off) stops the run early once that many
    evaluations in a row bring no new best validation loss, and keeps the best model in
    ``best.npz``. It counts only the evaluations every ``eval_every`` steps made while it
    is on (not the extra one at a last step off that schedule, which a longer run would
    not make; continuing a finished run drops it from the history): turned on when
    resuming, it starts from the model the run resumes from (and its evaluation, if that
    step had one).
    Reporting: ``eval_every``, ``sample_every``, ``sample_length``, ``checkpoint_every``
    (0 = never, except at the end), ``seed`` (model initialization and samples).
    Run folder: ``out``, ``resume`` (continue the run in ``out``), ``overwrite`` (replace
    the run in ``out`` as a whole; without it a ``checkpoint.npz``, ``best.npz`` or
    ``log.csv`` there is an error).
    Speed: ``blas_threads`` (BLAS threads while training: N wins over the environment
    variables ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``; 0 = the
    BLAS library's own default; None = those variables if one is set, else 1).
    A relative ``data`` path is made absolute when the run starts, so the checkpoint's
    ``train_config`` names the text from any folder.
    """

    data: str | None = None
    level: str = "char"
    lower: bool = False
    min_freq: int = 1
    val_fraction: float = 0.1
    cell: str = "gru"
    layers: int = 1
    hidden: int = 128
    embedding: int | None = None
    dtype: str = "float32"
    dropout: float = 0.0
    seq_len: int = 48
    batch: int = 32
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.0
    clip: float | None = 1.0
    clip_mode: str = "norm"
    steps: int | None = 1000
    epochs: int | None = None
    lr_schedule: str = "constant"
    warmup: int = 0
    min_lr: float = 0.0
    patience: int = 0
    eval_every: int = 100
    sample_every: int = 500
    sample_length: int = 200
    checkpoint_every: int = 500
    seed: int = 0
    out: str = "runs/train"
    resume: bool = False
    overwrite: bool = False
    blas_threads: int | None = None

    def resolved(self) -> TrainConfig:
        """A validated copy with ``lr`` filled in and "off" values (0) normalized to None."""
        choices = {"level": ("char", "word"), "cell": ("rnn", "lstm", "gru"),
                   "optimizer": tuple(DEFAULT_LR), "clip_mode": ("norm", "value"),
                   "dtype": ("float32", "float64"), "lr_schedule": LR_SCHEDULES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{_option(name)} must be one of {', '.join(allowed)}; "
                                 f"got {getattr(self, name)!r}")
        for name in ("layers", "hidden", "seq_len", "batch", "min_freq", "sample_length"):
            _check_int(self, name, minimum=1)
        for name in ("eval_every", "sample_every", "checkpoint_every", "seed", "warmup", "patience"):
            _check_int(self, name, minimum=0)
        for name in ("steps", "epochs", "embedding", "blas_threads"):
            if getattr(self, name) is not None:
                _check_int(self, name, minimum=0)
        for name, value in (("data", self.data), ("out", self.out)):
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise TypeError(f"{_option(name)} must be a path, got {value!r}")
            if value is not None and not os.fspath(value):
                # Path("") is the current folder: never read or write there by accident.
                raise ValueError(f"{_option(name)} is an empty path; give a file or folder "
                                 f"(or leave {_option(name)} out for its default)")
        if not isinstance(self.lower, (bool, np.bool_)):
            raise TypeError(f"--lower must be True or False, got {self.lower!r}")
        for name in ("val_fraction", "lr", "momentum", "clip", "min_lr", "dropout"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise TypeError(f"{_option(name)} must be a number, got {value!r}")
        if self.epochs is None and self.steps is None:
            raise ValueError("give the length of the run: --steps N or --epochs N")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        lr = DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"--lr must be a positive number, got {self.lr}")
        if self.clip is not None and not self.clip >= 0:
            raise ValueError(f"--clip must be >= 0 (0 = no clipping), got {self.clip}")
        if self.momentum and self.optimizer != "sgd":
            raise ValueError(f"--momentum applies to --optimizer sgd only, not {self.optimizer}")
        if self.level != "word" and (self.lower or self.min_freq != 1):
            flag = "--lower" if self.lower else f"--min-freq {self.min_freq}"
            raise ValueError(f"{flag} applies to --level word only, not {self.level} (a character "
                             "vocabulary keeps every character as it is)")
        if not 0 <= self.min_lr <= lr:
            raise ValueError(f"--min-lr must be in [0, --lr] = [0, {lr:g}], got {self.min_lr}")
        if self.min_lr and self.lr_schedule != "cosine":
            raise ValueError(f"--min-lr applies to --lr-schedule cosine only, not {self.lr_schedule}")
        if self.patience and not (self.eval_every and self.val_fraction):
            raise ValueError("--patience counts evaluations of the validation loss: it needs "
                             f"--eval-every > 0 and --val-fraction > 0 (got {self.eval_every} and "
                             f"{self.val_fraction})")
        paths = {name: os.fspath(getattr(self, name)) for name in ("data", "out") if getattr(self, name)}
        if "data" in paths:
            paths["data"] = os.path.abspath(paths["data"])
        return dataclasses.replace(self, lr=lr, embedding=self.embedding or None, clip=self.clip or None,
                                   lower=bool(self.lower), **paths)

    def total_steps(self, windows_per_epoch: int) -> int:
        """The step the run ends at: ``epochs`` whole epochs if set, else ``steps``."""
        return self.epochs * windows_per_epoch if self.epochs is not None else self.steps


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_int(config: TrainConfig, name: str, minimum: int) -> None:
    check_int_option(_option(name), getattr(config, name), minimum)


def check_int_option(flag: str, value: Any, minimum: int) -> None:
    """ValueError naming ``flag`` unless ``value`` is an integer (not a bool) >= ``minimum``.

    >>> check_int_option("--steps", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: --steps must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{flag} must be an integer >= {minimum}, got {value!r}")


def existing_run_files(run_dir: str | Path) -> list[str]:
    """Which of the files a run leaves (``RUN_FILES`` and the plot) are in ``run_dir``: a
    new run replaces them only with --overwrite (a lone loss.png was deleted unasked)."""
    return [name for name in (*RUN_FILES, PLOT_NAME) if (Path(run_dir) / name).exists()]


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained model and the run's record."""

    config: TrainConfig
    run_dir: Path
    step: int
    val_loss: float | None
    interrupted: bool
    model: RecurrentModel
    tokenizer: Tokenizer
    history: dict[str, np.ndarray] = field(repr=False)
    elapsed_sec: float = 0.0
    stopped_early: bool = False
    output_closed: bool = False  # the log's output closed (a broken pipe), which stopped the run


def saved_config(run_dir: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` stored in the checkpoint of ``run_dir`` (to resume with it)."""
    path = Path(run_dir) / CHECKPOINT_NAME
    if not path.exists():
        raise FileNotFoundError(f"cannot resume: no {CHECKPOINT_NAME} in {run_dir}")
    checkpoint = load(path)
    try:
        return TrainConfig(**checkpoint["train_config"])
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: no usable train_config in this checkpoint ({err})") from None


# -- pieces of a run ---------------------------------------------------------------------
def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """The rate of the optimizer step that follows ``step`` steps (``config`` resolved).

    The first ``warmup`` steps climb linearly to ``lr`` (lr/warmup, 2·lr/warmup, ..., lr);
    after them, "constant" stays at ``lr`` and "cosine" follows
    :func:`~tinygrad_rnn.lr_scheduler.cosine_annealing` from ``lr`` towards ``min_lr``, which
    it would reach at ``total_steps``. A pure function of the step, so a resumed run
    continues the same schedule (stretched to the new length if ``--steps`` grew).

    >>> config = TrainConfig(lr=1.0, warmup=2, lr_schedule="cosine", steps=6).resolved()
    >>> [round(learning_rate(config, step, 6), 3) for step in range(6)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146]
    """
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    if config.lr_schedule == "cosine":
        return cosine_annealing(config.lr, config.min_lr, step - config.warmup,
                                max(total_steps - config.warmup, 1))
    return config.lr


def _same_architecture(saved: Any, current: dict[str, Any]) -> bool:
    """Equal model configs up to ``dropout``, which a resumed run may change (and which
    checkpoints from before it existed do not hold)."""
    if not isinstance(saved, dict):
        return False
    return {**saved, "dropout": None} == {**current, "dropout": None}


def fit_tokenizer(text: str, config: TrainConfig) -> Tokenizer:
    """The tokenizer ``config.level`` asks for, fitted on the whole text (sorted, deterministic).

    ValueError naming ``--min-freq`` when it keeps no word: a vocabulary of ``<unk>`` alone
    has nothing to predict and nothing to write a prime in.
    """
    if config.level == "char":
        return CharTokenizer.fit(text)
    tokenizer = WordTokenizer.fit(text, lower=config.lower, min_freq=config.min_freq)
    if len(tokenizer) == 1:
        counts = Counter(tokenizer.split(text))
        word, count = counts.most_common(1)[0]
        raise ValueError(
            f"--min-freq {config.min_freq} keeps 0 of the {len(counts):,} distinct tokens (words and "
            f"punctuation marks) of the text, leaving only {UNK} (the most frequent, {word!r}, occurs "
            f"{count:,} times); give --min-freq {count} or less"
        )
    return tokenizer


def _check_split(config: TrainConfig, train_ids: np.ndarray, val_ids: np.ndarray) -> None:
    """ValueError naming the flags when the training part is too short for one window of
    every stream, or the validation part too short to measure (one token predicts nothing)."""
    unit = "chars" if config.level == "char" else "tokens"
    steps = BatchStream.steps_per_stream(len(train_ids), config.batch)
    if steps < config.seq_len:
        raise ValueError(
            f"the {len(train_ids):,} training {unit} (the text less its last --val-fraction "
            f"{config.val_fraction:g}) cut into --batch {config.batch} streams give {max(steps, 0):,} "
            f"steps per stream, fewer than --seq-len {config.seq_len}; lower --batch or --seq-len, "
            f"or give more text (at least --batch x --seq-len + 1 = "
            f"{config.batch * config.seq_len + 1:,} training {unit})"
        )
    if len(val_ids) == 1:
        raise ValueError(
            f"--val-fraction {config.val_fraction:g} holds out 1 of the text's "
            f"{len(train_ids) + 1:,} {unit}, too few for a validation loss (it takes 2: one to "
            "predict the other); raise --val-fraction, or give 0 for no validation"
        )


def _format_bytes(size: int) -> str:
    """``"1.5 GB"``: decimal units, as memory is sold."""
    value, unit = float(size), "bytes"
    for larger in ("KB", "MB", "GB", "TB", "PB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{value:,.1f} {unit}"


def _physical_memory() -> int | None:
    """Bytes of RAM of this machine, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


# Arrays per parameter that the optimizer keeps (Adam's two moments, SGD's momentum, ...).
_OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "adamax": 2, "nadam": 2, "radam": 2, "rmsprop": 1, "adagrad": 1}


def _describe_size(config: TrainConfig, vocab_size: int) -> str:
    return (f"the model (--hidden {config.hidden}, --layers {config.layers}, --embedding "
            f"{config.embedding or 0}, vocabulary {vocab_size})")


def _check_model_fits(config: TrainConfig, vocab_size: int) -> None:
    """ValueError naming the size flags when the weights, their gradients and the optimizer's
    state alone would not fit in this machine's memory: checked before building the model,
    which would otherwise fail with a bare MemoryError (or be killed) at --hidden 100000."""
    shapes = param_shapes(cell=config.cell, input_size=vocab_size, hidden_size=config.hidden,
                          output_size=vocab_size, num_layers=config.layers, embedding_dim=config.embedding)
    parameters = sum(math.prod(shape) for shape in shapes.values())
    states = _OPTIMIZER_STATES.get(config.optimizer, 1 if config.momentum else 0)
    needed = (2 + states) * parameters * np.dtype(config.dtype).itemsize
    available = _physical_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"{_describe_size(config, vocab_size)} has {parameters:,} parameters: its "
            f"{config.dtype} weights, their gradients and {config.optimizer}'s state alone need "
            f"{_format_bytes(needed)}, more than this machine's {_format_bytes(available)} of memory"
        )


def _make_optimizer(config: TrainConfig, model: RecurrentModel) -> Optimizer:
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return SGD(params, lr=config.lr, momentum=config.momentum)
    return _ADAPTIVE_OPTIMIZERS[config.optimizer](params, lr=config.lr)


_ADAPTIVE_OPTIMIZERS = {"adagrad": Adagrad, "adam": Adam, "adamw": AdamW, "adamax": Adamax,
                        "nadam": NAdam, "radam": RAdam, "rmsprop": RMSprop}


def _state_arrays(state):
    """The carried hidden state as plain arrays (a tuple of them for LSTM), for the checkpoint."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(part.data for part in state)
    return state.data


def _state_tensors(saved):
    if saved is None:
        return None
    if isinstance(saved, (tuple, list)):
        return tuple(Tensor(np.asarray(part)) for part in saved)
    return Tensor(np.asarray(saved))


class _History:
    """The per-step record behind log.csv, plot and checkpoint."""

    def __init__(self, saved: dict[str, np.ndarray] | None = None) -> None:
        """An empty history, or the one saved in a checkpoint (ValueError naming a missing column)."""
        self.columns: dict[str, list] = {name: [] for name in LOG_COLUMNS}
        if saved is None:
            return
        if not isinstance(saved, dict):
            raise ValueError(f"history must be a dict of arrays, got {type(saved).__name__}")
        missing = [name for name in LOG_COLUMNS if name not in saved]
        if missing:
            raise ValueError(f"the history lacks {', '.join(missing)}")
        for name in LOG_COLUMNS:
            self.columns[name] = np.asarray(saved[name]).tolist()

    def append(self, **row: float) -> None:
        for name in LOG_COLUMNS:
            self.columns[name].append(row[name])

    def set_val_loss(self, value: float) -> None:
        self.columns["val_loss"][-1] = value

    def last_row(self) -> tuple:
        return tuple(self.columns[name][-1] for name in LOG_COLUMNS)

    def rows(self):
        return zip(*(self.columns[name] for name in LOG_COLUMNS))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.array(values, dtype=np.int64 if name == "step" else np.float64)
                for name, values in self.columns.items()}

    def last_val_loss(self) -> float | None:
        measured = [v for v in self.columns["val_loss"] if not math.isnan(v)]
        return measured[-1] if measured else None

    def best_val_loss(self, since_step: int = 0) -> tuple[float, int, int] | None:
        """(best validation loss, its step, evaluations since) over the evaluations at steps
        >= ``since_step``, or None before any."""
        measured = [(value, step) for value, step in zip(self.columns["val_loss"], self.columns["step"])
                    if step >= since_step and not math.isnan(value)]
        if not measured:
            return None
        index = min(range(len(measured)), key=lambda i: measured[i][0])  # the first best
        return measured[index][0], measured[index][1], len(measured) - 1 - index


def _csv_row(row) -> list[str]:
    step, train_loss, val_loss, tokens_per_sec, elapsed = row
    return [str(step), repr(train_loss), "" if math.isnan(val_loss) else repr(val_loss),
            f"{tokens_per_sec:.1f}", f"{elapsed:.3f}"]


def write_plot(history: dict[str, np.ndarray], path: Path, level: str) -> bool:
    """Write the train/validation loss curves to ``path``; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    steps, train_loss, val_loss = history["step"], history["train_loss"], history["val_loss"]
    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    axes.plot(steps, train_loss, color="tab:blue", alpha=0.3, linewidth=0.8, label="train (per step)")
    if len(steps) >= 20:
        width = max(len(steps) // 50, 5)
        smooth = np.convolve(train_loss, np.ones(width) / width, mode="valid")
        axes.plot(steps[width - 1:], smooth, color="tab:blue", label=f"train ({width}-step mean)")
    measured = ~np.isnan(val_loss)
    if measured.any():
        axes.plot(steps[measured], val_loss[measured], "o-", color="tab:orange", label="validation")
    axes.set_xlabel("step")
    axes.set_ylabel(f"loss (nats/{'char' if level == 'char' else 'token'})")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    return True


class _StopRequests:
    """Turns the first Ctrl-C, or the closing of the log's output, into a request to stop
    after the current step.

    The step then finishes, so the checkpoint written on the way out is consistent; a
    second Ctrl-C raises KeyboardInterrupt at once and nothing more is saved. Messages go
    through :meth:`say`: once the log's output is closed (a BrokenPipeError, as in
    ``tinygrad-rnn train | head``), they are dropped and the run stops as on Ctrl-C, rather
    than failing at whatever line the output closed in, without a checkpoint.
    """

    def __init__(self, log: Callable[[str], None]) -> None:
        self.requested = False
        self.forced = False
        self.output_closed = False
        self._log = log

    def say(self, message: str) -> None:
        if self.output_closed:
            return
        try:
            self._log(message)
        except BrokenPipeError:
            self.output_closed = True
            self.requested = True

    def _handle(self, signum, frame) -> None:
        if self.requested:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True
        self.say("interrupted: finishing this step and saving a checkpoint (Ctrl-C again to abort)")

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


# -- the run -----------------------------------------------------------------------------
class _Run:
    """The state of one training run and the operations on it (step, evaluate, save)."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.run_dir = Path(config.out)
        self.checkpoint_path = self.run_dir / CHECKPOINT_NAME
        checkpoint = self._existing_checkpoint()
        self.text = load_text(config.data)
        self.data_sha256 = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        self.tokenizer = fit_tokenizer(self.text, config)
        # Only a word vocabulary with min_freq > 1 leaves symbols out; they become <unk>.
        unknown = "unk" if self.tokenizer.unk_id is not None else "error"
        ids = self.tokenizer.encode(self.text, unknown=unknown)
        self.train_ids, self.val_ids = train_val_split(ids, config.val_fraction)
        _check_split(config, self.train_ids, self.val_ids)
        self.batches = BatchStream(self.train_ids, config.batch, config.seq_len)
        self.total_steps = config.total_steps(len(self.batches))
        self.rng = np.random.default_rng(config.seed)
        _check_model_fits(config, len(self.tokenizer))
        try:  # what fits the machine's memory may still not fit what is free of it
            self.model = RecurrentModel(
                config.cell, len(self.tokenizer), config.hidden, len(self.tokenizer),
                num_layers=config.layers, embedding_dim=config.embedding, input_kind="tokens",
                dropout=config.dropout, dtype=config.dtype, rng=self.rng,
            )
        except MemoryError as err:
            raise ValueError(f"{_describe_size(config, len(self.tokenizer))} does not fit in the "
                             f"memory free now: {err}") from None
        self.optimizer = _make_optimizer(config, self.model)
        self.step = 0
        self.hidden = None
        self.batch_state = self.batches.state_dict()
        self.history = _History()
        self.elapsed_before = 0.0
        self.saved_step = 0
        self.patience_start = 0 if config.patience else None
        if checkpoint is not None:
            self._restore(checkpoint)
            self.saved_step = self.step
            if self.step < self.total_steps:
                self._forget_final_evaluation(checkpoint["train_config"].get("eval_every"))
        self.stopped_early = self.patience_ran_out()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if not config.resume:  # --overwrite: nothing of the replaced run may stay beside this one
                for name in (*RUN_FILES, PLOT_NAME):
                    (self.run_dir / name).unlink(missing_ok=True)
        except OSError as err:
            raise OSError(f"cannot create the run folder {self.run_dir}: {err.strerror}") from None
        if config.resume and self.patience_start == self.step:
            self._start_patience()

    def _existing_checkpoint(self) -> dict[str, Any] | None:
        if self.config.resume:
            if not self.checkpoint_path.exists():
                raise FileNotFoundError(f"cannot resume: no {CHECKPOINT_NAME} in {self.run_dir}")
            return load(self.checkpoint_path)
        found = existing_run_files(self.run_dir)
        if found and not self.config.overwrite:
            if CHECKPOINT_NAME in found:
                raise FileExistsError(
                    f"{self.run_dir} already holds a training run; pass --resume to continue it, "
                    "--overwrite to replace it, or choose another --out"
                )
            # best.npz, log.csv or loss.png without a checkpoint: a run's results, nothing to resume.
            raise FileExistsError(
                f"{self.run_dir} already holds files of a training run ({', '.join(found)}) but no "
                f"{CHECKPOINT_NAME} to resume from; pass --overwrite to replace them, or choose another --out"
            )
        return None

    def _restore(self, checkpoint: dict[str, Any]) -> None:
        where = f"cannot resume from {self.checkpoint_path}"
        version = checkpoint.get("version")
        if checkpoint.get("format") != CHECKPOINT_FORMAT or not is_checkpoint_version(version):
            raise CheckpointError(f"{where}: not a language-model checkpoint of this version")
        missing = [name for name in RESUME_ENTRIES if name not in checkpoint]
        if missing:
            raise CheckpointError(f"{where}: the checkpoint lacks {', '.join(missing)}")
        saved = checkpoint["train_config"]
        if not isinstance(saved, dict):
            raise CheckpointError(f"{where}: train_config must be a dict, got {type(saved).__name__}")
        # As the flags are typed: --cell gru, --embedding 0 (None is "off"), not 'gru' and None.
        def typed(value: Any) -> str:
            return "0" if value is None else str(value)

        changed = [f"{_option(name)} {typed(saved.get(name))} (now {typed(getattr(self.config, name))})"
                   for name in FIXED_ON_RESUME if saved.get(name) != getattr(self.config, name)]
        if changed:
            raise ValueError(f"{where}: the run was trained with {'; '.join(changed)}; "
                             "start a new run (another --out) to change these")
        saved_tokenizer = checkpoint["tokenizer"]
        if saved_tokenizer != self.tokenizer.to_dict():
            saved_vocab = saved_tokenizer.get("vocab", []) if isinstance(saved_tokenizer, dict) else []
            raise ValueError(
                f"{where}: its {len(saved_vocab)}-symbol vocabulary "
                f"differs from the {len(self.tokenizer)} symbols of this data: it was trained on other text"
            )
        if checkpoint["data_sha256"] != self.data_sha256:
            raise ValueError(f"{where}: it was trained on a different text (the data's SHA-256 differs)")
        saved_model = checkpoint["model_config"]
        if not _same_architecture(saved_model, self.model.config()):
            described = describe_model(saved_model) if isinstance(saved_model, dict) else repr(saved_model)
            raise ValueError(f"{where}: its model ({described}) "
                             f"is not this run's ({describe_model(self.model.config())})")
        step = checkpoint["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise CheckpointError(f"{where}: step must be an integer >= 0, got {step!r}")
        try:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.batches.load_state_dict(checkpoint["batch_state"])
            self.rng.bit_generator.state = checkpoint["rng_state"]
            self.history = _History(checkpoint["history"])
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{where}: {err}") from None
        # The learning rate is the one optimizer setting a resumed run may change.
        self.optimizer.param_groups[0]["lr"] = self.config.lr
        self.batch_state = self.batches.state_dict()
        self.hidden = _state_tensors(checkpoint["hidden"])
        self.step = int(step)
        if self.history.columns["elapsed_sec"]:
            self.elapsed_before = self.history.columns["elapsed_sec"][-1]
        # Checkpoints from before patience_start counted every evaluation when patience was on.
        saved_start = checkpoint.get("patience_start", 0 if saved.get("patience") else None)
        if not self.config.patience:
            self.patience_start = None
        elif saved_start is None:  # turned on now: the count starts with the model resumed from
            self.patience_start = self.step
        else:
            self.patience_start = int(saved_start)

    def _forget_final_evaluation(self, eval_every: Any) -> None:
        """A finished run, continued: its extra evaluation at its last step, off the
        ``eval_every`` schedule it ran with, is dropped from the history (and so from
        log.csv), which is then the one an uninterrupted longer run would have."""
        steps, losses = self.history.columns["step"], self.history.columns["val_loss"]
        on_schedule = isinstance(eval_every, int) and eval_every > 0 and self.step % eval_every == 0
        if steps and steps[-1] == self.step and not on_schedule:
            losses[-1] = math.nan

    def _start_patience(self) -> None:
        """Patience turned on when resuming: best.npz, if an earlier count left one, is not
        this count's; the model resumed from is its first, if its step was evaluated."""
        (self.run_dir / BEST_NAME).unlink(missing_ok=True)
        if self.history.best_val_loss(self.patience_start) is not None:
            self.save_best()

    def patience_ran_out(self) -> bool:
        """Early stopping is on and its last ``patience`` evaluations found no new best."""
        if self.patience_start is None:
            return False
        best = self.history.best_val_loss(self.patience_start)
        return best is not None and best[2] >= self.config.patience

    def describe(self) -> str:
        config = self.config
        source = "the built-in corpus (Macbeth)" if config.data is None else config.data
        unit = "chars" if config.level == "char" else "tokens"
        clip = "no clipping" if config.clip is None else f"clip {config.clip_mode} {config.clip:g}"
        schedule = f" after {config.warmup} warm-up steps" if config.warmup else ""
        if config.lr_schedule == "cosine":
            schedule = f", cosine to {config.min_lr:g}{schedule}"
        stop = (f", early stop after {config.patience} evaluations without a new best"
                if config.patience else "")
        if self.patience_start:
            stop += f" (counted from step {self.patience_start}, where --patience was turned on)"
        return (
            f"data: {source}: {len(self.train_ids):,} training and {len(self.val_ids):,} validation "
            f"{unit}, vocabulary {len(self.tokenizer)}\n"
            f"model: {describe_model(self.model.config())}, "
            f"{sum(p.size for p in self.model.parameters()):,} parameters\n"
            f"training: {self.total_steps} steps of {config.batch}x{config.seq_len} tokens "
            f"({len(self.batches)} per epoch), {config.optimizer} lr {config.lr:g}{schedule}, {clip}{stop}"
        )

    def train_step(self, windows) -> tuple[float, float]:
        """One optimizer step on the next window: (loss, tokens per second)."""
        started = time.perf_counter()
        epoch_start = self.batches.window == 0
        inputs, targets = next(windows)
        if epoch_start:
            self.hidden = None
        self.optimizer.zero_grad()
        self.optimizer.param_groups[0]["lr"] = learning_rate(self.config, self.step, self.total_steps)
        loss, state = self.model.loss(inputs, targets, state=self.hidden)
        value = loss.item()
        if not math.isfinite(value):
            last = (f"; the last checkpoint (step {self.saved_step}) is in {self.run_dir}"
                    if self.saved_step else "")
            raise TrainingDiverged(
                f"training diverged at step {self.step + 1}: the loss is {value}; lower the "
                f"learning rate (--lr, now {self.config.lr:g}) or clip the gradients "
                f"(--clip, now {'off' if self.config.clip is None else f'{self.config.clip:g}'}){last}"
            )
        loss.backward()
        if self.config.clip is not None:
            if self.config.clip_mode == "norm":
                clip_grad_norm_(self.model.parameters(), self.config.clip)
            else:
                clip_grad_value_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        seconds = time.perf_counter() - started
        # Bookkeeping last, together: an interruption before this point leaves the previous step intact.
        self.hidden = self.model.detach_state(state)
        self.batch_state = self.batches.state_dict()
        self.step += 1
        return value, inputs.size / seconds

    def validation_loss(self) -> float | None:
        if not len(self.val_ids):
            return None
        return mean_loss(self.model, self.val_ids, streams=self.config.batch, seq_len=self.config.seq_len)

    def sample(self) -> str:
        prime = default_prime(self.tokenizer)
        return prime + generate(self.model, self.tokenizer, prime, self.config.sample_length,
                                temperature=0.8, rng=self.rng)

    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model_config": self.model.config(),
            "model": dict(self.model.state_dict()),
            "tokenizer": self.tokenizer.to_dict(),
            "optimizer": self.optimizer.state_dict(),
            "train_config": dataclasses.asdict(self.config),
            "step": self.step,
            "batch_state": self.batch_state,
            "hidden": _state_arrays(self.hidden),
            "rng_state": self.rng.bit_generator.state,
            "history": self.history.arrays(),
            "data_sha256": self.data_sha256,
            "patience_start": self.patience_start,
        }

    def save(self) -> None:
        save(self.checkpoint(), self.checkpoint_path)
        self.saved_step = self.step

    def save_best(self) -> None:
        save(self.checkpoint(), self.run_dir / BEST_NAME)

    def open_log(self):
        """log.csv, rewritten from the history (so a resumed run drops rows after its checkpoint)."""
        path = self.run_dir / LOG_NAME
        try:
            file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by train)
        except OSError as err:
            raise OSError(f"cannot write {path}: {err.strerror}") from None
        writer = csv.writer(file)
        writer.writerow(LOG_COLUMNS)
        writer.writerows(_csv_row(row) for row in self.history.rows())
        file.flush()
        return file, writer


def _windows(batches: BatchStream):
    """The stream's windows, epoch after epoch, without end."""
    while True:
        yield from batches


def train(
    config: TrainConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Run (or, with ``config.resume``, continue) the training run described by ``config``.

    ``progress`` shows a tqdm bar with the running loss and tokens/s (only on a
    terminal). ``log`` receives every message line (default: printed through tqdm, so the
    bar stays intact). ``callback(step, loss)`` is called after every step.

    Ctrl-C finishes the current step, saves a checkpoint and returns with
    ``interrupted=True`` (a KeyboardInterrupt raised by ``callback`` does the same). So does
    a ``log`` whose output is closed (it raises BrokenPipeError, as printing does in
    ``tinygrad-rnn train | head``), with ``output_closed=True``; no more messages are sent.
    A nan or inf loss raises :class:`TrainingDiverged`. Bad options raise ValueError; a
    missing data file or an unwritable run folder, OSError; an unusable checkpoint,
    CheckpointError.
    """
    config = config.resolved()
    stops = _StopRequests(log if log is not None else tqdm.write)
    say = stops.say
    run = _Run(config)
    if run.step >= run.total_steps and config.resume:
        say(f"the run in {run.run_dir} is already at step {run.step} of {run.total_steps}; "
            "nothing to do (raise --steps to continue it)")
    elif run.stopped_early:
        say(f"the run in {run.run_dir} stopped early at step {run.step}; nothing to do "
            "(raise --patience, or set it to 0, to continue it)")
    say((f"resuming at step {run.step}\n" if config.resume else "") + run.describe())
    started = time.perf_counter()
    interrupted = False
    windows = _windows(run.batches)
    log_file, writer = run.open_log()
    bar = tqdm(total=run.total_steps, initial=run.step, unit="step", dynamic_ncols=True,
               disable=not progress or not _stderr_is_terminal())
    try:
        # Overflow shows up as a nan or inf loss, reported with advice; numpy's warnings would only add noise.
        quiet_overflow = np.errstate(over="ignore", invalid="ignore")
        with stops.installed(), _blas_threads(config.blas_threads), quiet_overflow:
            while run.step < run.total_steps and not run.stopped_early:
                try:
                    if stops.requested:  # by Ctrl-C or a closed output, during the last step or before
                        raise KeyboardInterrupt
                    loss, tokens_per_sec = run.train_step(windows)
                    run.history.append(step=run.step, train_loss=loss, val_loss=math.nan,
                                       tokens_per_sec=tokens_per_sec,
                                       elapsed_sec=run.elapsed_before + time.perf_counter() - started)
                    recent = np.mean(run.history.columns["train_loss"][-50:])
                    bar.set_postfix_str(f"loss {recent:.3f}, {tokens_per_sec:,.0f} tok/s", refresh=False)
                    bar.update(1)
                    _report(run, say)
                    writer.writerow(_csv_row(run.history.last_row()))
                    log_file.flush()
                    if callback is not None:
                        callback(run.step, loss)
                except KeyboardInterrupt:
                    if stops.forced:
                        raise
                    interrupted = True
                    break
            run.save()
    finally:
        bar.close()
        log_file.close()
    val_loss = run.history.last_val_loss()
    best = f" {BEST_NAME}," if config.patience and (run.run_dir / BEST_NAME).exists() else ""
    files = f"{CHECKPOINT_NAME},{best} {LOG_NAME}"
    if write_plot(run.history.arrays(), run.run_dir / PLOT_NAME, config.level):
        files += f", {PLOT_NAME}"
    else:
        files += "; loss.png skipped: matplotlib is not installed (pip install 'tinygrad_rnn[plot]')"
    if interrupted:
        status = f"interrupted at step {run.step}"
    else:
        status = f"{'stopped early' if run.stopped_early else 'done'}: step {run.step}"
    say(f"{status}; run folder {run.run_dir} ({files})")
    return TrainResult(config=config, run_dir=run.run_dir, step=run.step, val_loss=val_loss,
                       interrupted=interrupted, model=run.model, tokenizer=run.tokenizer,
                       history=run.history.arrays(), stopped_early=run.stopped_early,
                       elapsed_sec=run.elapsed_before + time.perf_counter() - started,
                       output_closed=stops.output_closed)


def _report(run: _Run, say: Callable[[str], None]) -> None:
    """Evaluate, sample and checkpoint when this step calls for it."""
    config, step = run.config, run.step
    last = step == run.total_steps
    on_schedule = bool(config.eval_every) and step % config.eval_every == 0
    if on_schedule or last:
        val_loss = run.validation_loss()
        if val_loss is not None:
            run.history.set_val_loss(val_loss)
            train_loss = np.mean(run.history.columns["train_loss"][-(config.eval_every or 50):])
            varying = config.lr_schedule != "constant" or step <= config.warmup
            rate = f", lr {run.optimizer.param_groups[0]['lr']:.3g}" if varying else ""
            say(f"step {step}: train {train_loss:.4f}, "
                f"validation {describe_loss(val_loss, config.level)}{rate}")
            # The extra evaluation at the last step is not one a longer run makes: patience
            # counts only those on the schedule, so that --resume --steps N extends a
            # finished run exactly as if it had been given N steps.
            if config.patience and on_schedule:
                _early_stopping(run, say)
    if config.sample_every and step % config.sample_every == 0:
        say(f"--- sample at step {step} ---\n{run.sample().lstrip(chr(10))}\n---")
    if config.checkpoint_every and step % config.checkpoint_every == 0 and not last:
        run.save()


def _early_stopping(run: _Run, say: Callable[[str], None]) -> None:
    """After an evaluation: keep a new best model, or stop once patience runs out."""
    best_loss, best_step, since = run.history.best_val_loss(run.patience_start)
    if since == 0:
        run.save_best()
    elif since >= run.config.patience:
        run.stopped_early = True
        kept = (f"is in {BEST_NAME}" if (run.run_dir / BEST_NAME).exists()
                else f"was saved to {BEST_NAME}, which has since been removed from the run folder")
        say(f"early stop: {since} evaluations without a better validation loss; the best, "
            f"{describe_loss(best_loss, run.config.level)} at step {best_step}, {kept}")


def _blas_threads(requested: int | None):
    """The BLAS thread limit of a run's ``blas_threads`` (see :class:`TrainConfig`): the
    default (None) is 1 unless the environment sets a count; a number the user gave is
    applied whatever the environment says; 0 leaves the library's own."""
    if requested is None:
        return blas_threads(1)
    return blas_threads(requested or None, over_environment=True)


def _stderr_is_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


callable_module(__name__, train)  # tinygrad_rnn.train(...) calls train

"""The ``tinygrad-rnn`` command line (also ``python -m tinygrad_rnn``).

Subcommands::

    demo        check gradients, train a small char model on Macbeth, print samples
    train       train a char- or word-level RNN/LSTM/GRU language model (resumable)
    eval        loss of a trained model on a text (nats/token, bits/char or perplexity)
    sample      generate text from a trained model, optionally interactively
    compare     three-way gradient comparison (engine, hand-derived BPTT, differences)
    gradcheck   finite-difference check of every op and module

Errors a user can cause (a bad data file, a missing or foreign checkpoint, a prime with
unknown symbols, ...) print one line, ``tinygrad-rnn: error: ...``, and exit with 2.
Ctrl-C exits with 130. A closed standard output (``tinygrad-rnn sample run | head``) ends
the command quietly with 141, as SIGPIPE would (``train`` first saves a checkpoint).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .sample import (
    CHECKPOINT_NAME,
    default_prime,
    describe_loss,
    describe_model,
    encode_prime,
    evaluate,
    evaluate_validation,
    generate,
    load_checkpoint,
)
from .serialization import CheckpointError
from .train import (
    BEST_NAME,
    DEFAULT_LR,
    FIXED_ON_RESUME,
    LR_SCHEDULES,
    RUN_FILES,
    TrainConfig,
    TrainingDiverged,
    check_int_option,
    existing_run_files,
    saved_config,
    train,
)

PROG = "tinygrad-rnn"
USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT
OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away
DEFAULTS = TrainConfig()
# Errors that mean "the input was wrong", reported in one line. Anything else is a bug
# and keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, CheckpointError, TrainingDiverged)


def _error(message: str) -> None:
    """One line on stderr: line breaks (and the indentation around them) become one space;
    other spaces are kept, as in a quoted prime of three spaces."""
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    print(f"{PROG}: error: {line}", file=sys.stderr)


# -- train -------------------------------------------------------------------------------
def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    data = parser.add_argument_group("data")
    data.add_argument("--data", metavar="PATH",
                      help="a UTF-8 text file, or a folder of *.txt/*.raw/*.tokens files "
                           "(default: the built-in corpus, Shakespeare's Macbeth)")
    data.add_argument("--level", choices=("char", "word"),
                      help=f"tokens: characters or words (default: {d.level})")
    data.add_argument("--lower", action="store_true", help="word level: lower-case the text first")
    data.add_argument("--min-freq", type=int, metavar="N",
                      help=f"word level: words seen fewer than N times become <unk> (default: {d.min_freq})")
    data.add_argument("--val-fraction", type=float, metavar="X",
                      help=f"the last X of the text is held out for validation (default: {d.val_fraction})")
    model = parser.add_argument_group("model")
    model.add_argument("--cell", choices=("rnn", "lstm", "gru"), help=f"recurrent cell (default: {d.cell})")
    model.add_argument("--layers", type=int, metavar="N", help=f"stacked layers (default: {d.layers})")
    model.add_argument("--hidden", type=int, metavar="N",
                       help=f"hidden units per layer (default: {d.hidden})")
    model.add_argument("--embedding", type=int, metavar="N",
                       help="embedding size; 0 = one-hot inputs (default: 0)")
    model.add_argument("--dropout", type=float, metavar="P",
                       help="while training, drop hidden outputs with probability P between layers "
                            f"and before the output layer (default: {d.dropout:g})")
    model.add_argument("--dtype", choices=("float32", "float64"),
                       help=f"parameter dtype (default: {d.dtype})")
    optimization = parser.add_argument_group("optimization")
    optimization.add_argument("--seq-len", type=int, metavar="T",
                              help=f"truncated-BPTT window, in tokens (default: {d.seq_len})")
    optimization.add_argument("--batch", type=int, metavar="B",
                              help=f"parallel streams per step (default: {d.batch})")
    optimization.add_argument("--optimizer", choices=tuple(DEFAULT_LR),
                              help=f"optimizer (default: {d.optimizer})")
    optimization.add_argument("--lr", type=float, metavar="X",
                              help="learning rate (default: "
                                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    optimization.add_argument("--momentum", type=float, metavar="X", help="SGD momentum (default: 0)")
    optimization.add_argument("--clip", type=float, metavar="X",
                              help=f"gradient clipping threshold; 0 = off (default: {d.clip:g})")
    optimization.add_argument("--clip-mode", choices=("norm", "value"),
                              help="norm: rescale the joint gradient norm to at most X; value: clip "
                                   f"every entry to [-X, X] (default: {d.clip_mode})")
    optimization.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                              help="constant, or cosine: decay from --lr to --min-lr over the run "
                                   f"(default: {d.lr_schedule})")
    optimization.add_argument("--warmup", type=int, metavar="N",
                              help=f"first N steps: the rate rises linearly to --lr (default: {d.warmup})")
    optimization.add_argument("--min-lr", type=float, metavar="X",
                              help=f"where the cosine schedule ends (default: {d.min_lr:g})")
    optimization.add_argument("--patience", type=int, metavar="N",
                              help="stop early after N evaluations without a better validation loss, "
                                   "keeping the best model in best.npz; 0 = off (default: 0). Only "
                                   "the evaluations every --eval-every steps made while it is on "
                                   "count: turned on with --resume, it starts from the model the run "
                                   "resumes from")
    length = optimization.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, metavar="N", help=f"optimizer steps (default: {d.steps})")
    length.add_argument("--epochs", type=int, metavar="N", help="whole passes over the training text")
    optimization.add_argument("--seed", type=int, metavar="S",
                              help="seed of the initialization and the samples; a resumed run "
                                   f"continues its saved random state (default: {d.seed})")
    report = parser.add_argument_group("reporting and run folder")
    report.add_argument("--eval-every", type=int, metavar="N",
                        help=f"validation loss every N steps and at the end; 0 = only at the end "
                             f"(default: {d.eval_every})")
    report.add_argument("--sample-every", type=int, metavar="N",
                        help=f"print a sample every N steps; 0 = never (default: {d.sample_every})")
    report.add_argument("--sample-length", type=int, metavar="N",
                        help=f"tokens per sample (default: {d.sample_length})")
    report.add_argument("--checkpoint-every", type=int, metavar="N",
                        help="checkpoint every N steps, and always at the end "
                             f"(default: {d.checkpoint_every})")
    report.add_argument("--out", metavar="DIR",
                        help=f"run folder for checkpoint.npz, log.csv and loss.png (default: {d.out})")
    # Continue the run in --out, or replace it: not both (--overwrite was silently ignored).
    mode = report.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="continue the run in --out with its saved options; options given "
                           "here override them (--steps to extend the run, --lr, ...), except "
                           "those that define the data, the model, the optimizer and the random "
                           "stream, which must stay as they were: "
                           + ", ".join("--" + name.replace("_", "-") for name in FIXED_ON_RESUME))
    mode.add_argument("--overwrite", action="store_true",
                      help="replace an existing run in --out (its checkpoint, best model, log "
                           "and plot are removed first)")
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.add_argument("--blas-threads", type=int, metavar="N",
                        help="BLAS threads while training; N wins over OPENBLAS_NUM_THREADS, "
                             "OMP_NUM_THREADS and MKL_NUM_THREADS; 0 = the BLAS library's own "
                             "default (default: one of those variables if set, else 1: a recurrent "
                             "step multiplies many small matrices, where more threads mostly wait "
                             "for each other)")


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The run's options: the defaults (or, with --resume, the saved run's), overridden by the flags."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    given = {name: value for name, value in vars(args).items() if name in fields}
    if "steps" in given:
        given["epochs"] = None
    resume = given.get("resume", False)
    out = given.get("out", DEFAULTS.out)
    base = saved_config(out) if resume else DEFAULTS
    return dataclasses.replace(base, **{"overwrite": False, **given, "out": out, "resume": resume})


def _run_train(args: argparse.Namespace) -> int:
    result = train(_train_config(args), progress=not getattr(args, "no_progress", False))
    if result.output_closed:
        return OUTPUT_CLOSED
    return INTERRUPTED if result.interrupted else 0


# -- eval --------------------------------------------------------------------------------
def _run_eval(args: argparse.Namespace) -> int:
    model, tokenizer, checkpoint = load_checkpoint(args.checkpoint)
    if args.data is None:
        report = evaluate_validation(model, tokenizer, checkpoint)
        source = "validation part of the training text"
    else:
        from .data import load_text

        report = evaluate(model, tokenizer, load_text(args.data))
        source = args.data
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "text": source, **report}, indent=2))
        return 0
    unit = "chars" if report["level"] == "char" else "tokens"
    handling = {"none": "", "skipped": " (skipped: the vocabulary has no <unk>)"}.get(
        report["unknown_handling"], f" ({report['unknown_handling']})")
    print(f"model: {describe_model(checkpoint['model_config'])}; step {checkpoint.get('step', '?')}")
    print(f"text: {source} ({report['tokens']:,} {unit})")
    print(f"loss: {describe_loss(report['nats_per_token'], report['level'])} "
          f"over {report['predicted']:,} predictions")
    print(f"unknown symbols: {report['unknown']:,}{handling}")
    return 0


# -- sample ------------------------------------------------------------------------------
def _print_piece(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def unescape(text: str) -> str:
    r"""A prime as typed in a shell: ``\n``, ``\t`` and ``\\`` become a line break, a tab
    and one backslash; any other backslash stays as it is.

    >>> unescape(r"MACBETH.\nFirst Witch:\tC:\\x \d")
    'MACBETH.\nFirst Witch:\tC:\\x \\d'
    """
    return re.sub(r"\\([nt\\])", lambda match: _ESCAPES[match.group(1)], text)


def _check_sample_flags(args: argparse.Namespace) -> None:
    """The flags generate() would refuse, checked under their own names before any output
    (or, with --interactive, before reading a line)."""
    check_int_option("--length", args.length, minimum=0)
    if args.top_k is not None:
        check_int_option("--top-k", args.top_k, minimum=1)
    if not args.temperature >= 0:  # nan too
        raise ValueError(f"--temperature must be >= 0 (0 = always the most likely token), "
                         f"got {args.temperature}")
    if args.seed is not None:
        check_int_option("--seed", args.seed, minimum=0)


def _run_sample(args: argparse.Namespace) -> int:
    _check_sample_flags(args)
    model, tokenizer, _ = load_checkpoint(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    options = {"temperature": args.temperature, "top_k": args.top_k, "rng": rng, "stream": _print_piece}

    def continue_from(prime: str) -> None:
        encode_prime(tokenizer, prime)  # refuse unknown symbols before printing anything
        _print_piece(prime)
        generate(model, tokenizer, prime, args.length, **options)
        _print_piece("\n")

    if not args.interactive:
        continue_from(default_prime(tokenizer) if args.prime is None else unescape(args.prime))
        return 0
    while True:
        _print_piece("> ")
        line = sys.stdin.readline()
        if not line:
            _print_piece("\n")
            return 0
        prime = unescape(line.rstrip("\r\n")) or (
            default_prime(tokenizer) if args.prime is None else unescape(args.prime))
        try:
            continue_from(prime)
        except ValueError as err:
            _error(err)


# -- compare and gradcheck: written elsewhere, imported only when asked for ---------------
def _run_delegated(command: str, argv: list[str]) -> int:
    try:
        if command == "compare":
            from . import compare as module
        else:
            from . import selfcheck as module
    except ImportError as err:
        _error(f"the {command} subcommand is not available yet ({err})")
        return USAGE_ERROR
    parser = argparse.ArgumentParser(prog=f"{PROG} {command}", description=_DESCRIPTIONS[command])
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


# -- demo --------------------------------------------------------------------------------
# ~15 s of training on 2 cores (the whole demo ~17 s). Macbeth is small (93k training chars,
# 16 epochs by then): the validation loss bottoms out near here (1.69 nats/char at step 1000,
# 1.72 at 1200) while the training loss keeps falling.
DEMO_STEPS = 1000
DEMO_PRIMES = ("MACBETH.\n", "LADY MACBETH.\n", "The ")
# Written by the demo next to its run files: {"made_by": ..., "files_sha256": {name: digest}}.
DEMO_MARKER = "demo.json"


def _verify_gradients() -> bool:
    """Step 1 of the demo: every cell's gradients three ways, in float64, one line per cell."""
    try:
        from .compare import compare_gradients
    except ImportError:
        return _gradcheck_cells()
    print(f"{'cell':<6}{'autograd vs reference':>23}{'autograd vs finite diff.':>26}"
          f"{'reference vs finite diff.':>27}  status")
    passed = True
    for cell in ("rnn", "lstm", "gru"):
        report = compare_gradients(cell=cell, loss="ce", dtype="float64", seed=0)
        rows = report.rows
        print(f"{cell:<6}{max(r.rel_autograd_reference for r in rows):>23.1e}"
              f"{max(r.rel_autograd_fd for r in rows):>26.1e}{max(r.rel_reference_fd for r in rows):>27.1e}"
              f"  {'ok' if report.passed else 'FAIL'}")
        if not report.passed:
            print(report.format_table())
        passed = passed and report.passed
    print("largest relative difference over all parameters: the engine's backward, the hand-derived\n"
          "BPTT of reference/, and central differences (one-hot char model, T=5, B=2, H=5)")
    return passed


def _gradcheck_cells() -> bool:
    """Fallback of step 1: central differences on a tiny language model of each cell."""
    from .gradcheck import check_gradients
    from .nn import RecurrentModel

    tokens = np.array([[1, 2, 0], [4, 4, 1], [0, 3, 2], [2, 1, 4]])
    print(f"{'model':<32}{'elements':>9}{'max abs err':>13}{'max rel err':>13}  status")
    passed = True
    for cell in ("rnn", "lstm", "gru"):
        model = RecurrentModel(cell, 5, 4, 5, embedding_dim=3, dtype="float64",
                               rng=np.random.default_rng(0))
        names, params = zip(*model.named_parameters())
        checks = check_gradients(lambda *_, model=model: model.loss(tokens[:-1], tokens[1:])[0],
                                 list(params), names=list(names))
        ok = all(check.passed for check in checks)
        passed = passed and ok
        elements = sum(int(np.prod(check.shape)) for check in checks)
        print(f"{cell + ' language model (T=3, B=3)':<32}{elements:>9}"
              f"{max(c.max_abs_error for c in checks):>13.2e}{max(c.max_rel_error for c in checks):>13.2e}"
              f"  {'ok' if ok else 'FAIL'}")
    print("backward() against central differences (float64, eps 1e-6, atol 1e-5, rtol 1e-3)")
    return passed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_earlier_demo(run_dir: Path) -> bool:
    """``run_dir`` holds what an earlier demo left there, and nothing of another run.

    The demo records in ``demo.json`` the SHA-256 of every run file it left (checkpoint.npz,
    log.csv, best.npz: ``_run_file_digests``). The folder is still that demo's output only
    while those are exactly the run files there, byte for byte: ``train --resume`` or
    ``train --overwrite`` in the folder change them, and a marker copied elsewhere matches
    no other run. A name or the checkpoint's recorded options could not tell a demo from a
    train run with the same settings; the digests can. (A marker of an earlier release
    holds only ``checkpoint_sha256``: it counts while the checkpoint is that file and there
    is no best.npz.)
    """
    try:
        marker = json.loads((run_dir / DEMO_MARKER).read_text(encoding="utf-8"))
        if "files_sha256" in marker:
            return marker["files_sha256"] == _run_file_digests(run_dir)
        recorded = marker["checkpoint_sha256"]
        return recorded == _sha256(run_dir / CHECKPOINT_NAME) and not (run_dir / BEST_NAME).exists()
    except (OSError, ValueError, TypeError, KeyError):
        return False


def _run_file_digests(run_dir: Path) -> dict[str, str]:
    """The SHA-256 of each run file (``RUN_FILES``) in ``run_dir``, by name."""
    return {name: _sha256(run_dir / name) for name in RUN_FILES if (run_dir / name).is_file()}


def _mark_demo(run_dir: Path) -> None:
    """Record the run files the demo leaves in ``run_dir``, so that the next demo may replace
    them. (A marker cut short by a crash does not parse, and the folder is then refused
    like any other: the safe side.)"""
    marker = {"made_by": f"{PROG} demo", "files_sha256": _run_file_digests(run_dir)}
    (run_dir / DEMO_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _mark_if_written(run_dir: Path, before: dict[str, str]) -> None:
    """After a run that ended in an exception (a second Ctrl-C, a failure): mark the run files
    as the demo's if it wrote all of them, so that the next demo replaces them without
    --overwrite. A file left as it was before (``before``: its digest then) is another run's,
    which ``demo --overwrite`` had not yet replaced: then nothing is marked."""
    try:
        if run_dir.is_dir():
            after = _run_file_digests(run_dir)
            if all(before.get(name) != digest for name, digest in after.items()):
                _mark_demo(run_dir)
    except OSError:
        pass


def _demo_config(args: argparse.Namespace) -> TrainConfig:
    """The demo's training run; its flags are checked here, under their own names."""
    for flag, value, minimum in (("--steps", args.steps, 1), ("--hidden", args.hidden, 1),
                                 ("--seed", args.seed, 0)):
        if value is not None:
            check_int_option(flag, value, minimum)
    steps = (20 if args.quick else DEMO_STEPS) if args.steps is None else args.steps
    # The defaults of TrainConfig are the demo's settings; --quick shrinks them to a few seconds.
    tiny = {"hidden": 16, "seq_len": 16, "batch": 8, "lr": 1e-2} if args.quick else {}
    if args.hidden is not None:
        tiny["hidden"] = args.hidden
    config = dataclasses.replace(
        TrainConfig(**tiny), steps=steps, eval_every=steps if args.quick else max(steps // 5, 1),
        sample_every=0 if args.quick else max(steps // 2, 1), sample_length=120, seed=args.seed,
        out=args.out,
    )
    config.resolved()  # the options derived from the flags (and --out) are valid too
    # Unlike train, the demo refuses any folder with files in it (not only a run): it is the
    # command people run first, with a default --out they did not choose.
    run_dir = Path(args.out)
    if run_dir.exists() and not run_dir.is_dir():
        raise FileExistsError(f"--out {run_dir} is a file, not a folder; choose another --out")
    present = sorted(path.name for path in run_dir.iterdir()) if run_dir.is_dir() else []
    replace = args.overwrite or _is_earlier_demo(run_dir)
    if present and not replace:
        found = existing_run_files(run_dir)
        held = (f"files of a training run ({', '.join(found)})" if found else
                f"other files ({', '.join(present[:3])}{', ...' if len(present) > 3 else ''})")
        raise FileExistsError(
            f"{run_dir} already holds {held} and is not an earlier demo's output; pass --overwrite "
            "to write over it, or choose another --out"
        )
    return dataclasses.replace(config, overwrite=replace)


def _run_demo(args: argparse.Namespace) -> int:
    quick = args.quick
    started = time.perf_counter()
    config = _demo_config(args)  # before the gradient checks: a bad flag fails at once
    steps = config.steps
    print("== 1. gradients: every cell checked in float64 ==")
    if not _verify_gradients():
        _error("a gradient check failed; not training on wrong gradients")
        return 1
    print(f"\n== 2. training a char-level GRU on Macbeth ({steps} steps) ==")
    run_dir = Path(config.out)
    before = _run_file_digests(run_dir) if run_dir.is_dir() else {}
    try:
        result = train(config, progress=not args.no_progress)
    except BaseException:
        _mark_if_written(run_dir, before)
        raise
    _mark_demo(result.run_dir)
    print("\n== 3. results ==")
    if result.val_loss is not None:
        print(f"validation loss: {describe_loss(result.val_loss, 'char')}")
        print(f"(a uniform guess over the {len(result.tokenizer)} symbols: "
              f"{describe_loss(float(np.log(len(result.tokenizer))), 'char')})")
    rng = np.random.default_rng(args.seed)
    for prime in DEMO_PRIMES:
        if any(symbol not in result.tokenizer.vocab for symbol in prime):
            continue
        text = generate(result.model, result.tokenizer, prime, 60 if quick else 240, temperature=0.7, rng=rng)
        print(f"--- sample, temperature 0.7, prime {prime!r} ---\n{prime}{text}")
    files = [name for name in (CHECKPOINT_NAME, "log.csv", "loss.png", DEMO_MARKER)
             if (result.run_dir / name).exists()]
    print(f"---\nrun folder: {result.run_dir} ({', '.join(files)}); "
          f"{time.perf_counter() - started:.0f} s in all")
    print(f"next: {PROG} sample {result.run_dir} --prime 'MACBETH.' --length 400   "
          f"or   {PROG} eval {result.run_dir}")
    return INTERRUPTED if result.interrupted else 0


# -- the parser --------------------------------------------------------------------------
_HELP = {
    "demo": "check gradients, train a small char model on Macbeth, show samples (start here)",
    "train": "train a char- or word-level RNN/LSTM/GRU language model (resumable)",
    "eval": "loss of a trained model on a text (nats/token, bits/char or perplexity)",
    "sample": "generate text from a trained model, optionally interactively",
    "compare": "three-way gradient comparison: engine, hand-derived BPTT, finite differences",
    "gradcheck": "finite-difference check of every op and module",
}
_DESCRIPTIONS = {
    "demo": "Check the gradients, train a small character-level GRU on the built-in Macbeth for "
            "about half a minute, then print its validation loss and a few samples.",
    "train": "Train a character- or word-level RNN/LSTM/GRU language model with truncated "
             "backpropagation through time. The run folder (--out) receives checkpoint.npz, "
             "log.csv and, with matplotlib, loss.png. Ctrl-C stops after the current step and "
             "saves a checkpoint; --resume continues it.",
    "eval": "Mean loss of a trained model on a text: nats per token, bits per char (char "
            "models) or perplexity (word models), with the count of symbols outside the vocabulary.",
    "sample": "Generate text from a trained model, printing it as it is produced.",
    "compare": "Three-way gradient comparison: the engine's backward, the hand-derived BPTT "
               "in reference/, and finite differences.",
    "gradcheck": "Finite-difference check of every op and module (a table).",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand except the options of compare/gradcheck."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate and sample character- and word-level recurrent language "
                    "models built on a small NumPy autodiff engine.",
        epilog=f"Start with: {PROG} demo. Each subcommand has its own --help.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=_HELP[name], description=_DESCRIPTIONS[name], **kwargs)
        sub.set_defaults(command_parser=sub)  # its usage, not the top level's, with its errors
        return sub

    demo = command("demo")
    demo.add_argument("--steps", type=int, metavar="N", help=f"training steps (default: {DEMO_STEPS})")
    demo.add_argument("--hidden", type=int, metavar="N", help=f"hidden units (default: {DEFAULTS.hidden})")
    demo.add_argument("--out", metavar="DIR", default="runs/demo", help="run folder (default: runs/demo)")
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default: 0)")
    demo.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds (for tests)")
    demo.add_argument("--overwrite", action="store_true",
                      help="write into --out even if it holds a training run or other files; without "
                           "it only an earlier demo's output (recognized by its demo.json) is replaced")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(handler=_run_demo)

    train_parser = command("train", argument_default=argparse.SUPPRESS)
    _add_train_arguments(train_parser)
    train_parser.set_defaults(handler=_run_train)

    evaluate_parser = command("eval")
    evaluate_parser.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR",
                                 help="a run folder or its checkpoint.npz")
    evaluate_parser.add_argument("--data", metavar="PATH",
                                 help="text file or folder to evaluate on (default: the validation "
                                      "part of the text the model was trained on)")
    evaluate_parser.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate_parser.set_defaults(handler=_run_eval)

    sample = command("sample")
    sample.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR",
                        help="a run folder or its checkpoint.npz")
    sample.add_argument("--prime", metavar="TEXT",
                        help="text to start from; \\n, \\t and \\\\ stand for a line break, a tab "
                             "and a backslash (default: a line break for char models, "
                             "'.' for word models)")
    sample.add_argument("--length", type=int, default=300, metavar="N",
                        help="tokens to generate (default: 300)")
    sample.add_argument("--temperature", type=float, default=0.8, metavar="X",
                        help="softmax temperature; 0 = always the most likely token (default: 0.8)")
    sample.add_argument("--top-k", type=int, metavar="K", help="sample among the K most likely tokens only")
    sample.add_argument("--seed", type=int, metavar="S", help="seed, for reproducible samples")
    sample.add_argument("--interactive", action="store_true",
                        help="read primes from stdin, one per line (prompt '> '), until end of input")
    sample.set_defaults(handler=_run_sample)

    for name in ("compare", "gradcheck"):
        delegated = command(name, add_help=False, usage=f"{PROG} {name} [options] (see {PROG} {name} --help)")
        delegated.set_defaults(handler=None)
    return parser


def _discard_stdout() -> None:
    """Point standard output at the null device: its reader is gone (a broken pipe), and
    Python's flush at exit would otherwise fail again and print a traceback."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # a stream without a file descriptor: nothing to flush at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for user errors, one line on stderr;
    130 after Ctrl-C; 141 when standard output was closed, without a word)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.handler is not None and extra:
        args.command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        status = _run_delegated(args.command, extra) if args.handler is None else args.handler(args)
        sys.stdout.flush()  # output still buffered meets a closed pipe here, not at exit
    except BrokenPipeError:  # an OSError, but no user error: the reader of the output went away
        status = OUTPUT_CLOSED
    except USER_ERRORS as err:
        _error(err)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return INTERRUPTED
    if status == OUTPUT_CLOSED:
        _discard_stdout()
    return status


__all__ = ["build_parser", "main"]

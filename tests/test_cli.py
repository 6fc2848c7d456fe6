"""The command line end to end, in subprocesses: train, eval, sample, demo, help, and user errors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tinygrad_rnn import cli as cli_module
from tinygrad_rnn import serialization
from tinygrad_rnn.cli import main

TEXT = "the quick brown fox jumps over the lazy dog. " * 40
TINY = ["--hidden", "12", "--seq-len", "8", "--batch", "4", "--lr", "0.01", "--eval-every", "5",
        "--sample-every", "0", "--no-progress"]


def cli(*args: str, cwd, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *map(str, args)], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def cli_in_process(*args: str, capsys) -> subprocess.CompletedProcess:
    """cli() without the subprocess, for refusals made before any work (in the current folder)."""
    status = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2 and exactly one line on stderr, ``tinygrad-rnn: error: ...``, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygrad-rnn: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder trained by the CLI for 10 steps on a small text (shared by this module's tests)."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "text.txt").write_text(TEXT, encoding="utf-8")
    result = cli("train", "--data", "text.txt", *TINY, "--steps", "10", "--out", "run", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "validation" in result.stdout and "done: step 10" in result.stdout
    return folder


def test_train_writes_the_run_folder(trained):
    assert {p.name for p in (trained / "run").iterdir()} >= {"checkpoint.npz", "log.csv"}
    assert serialization.load(trained / "run" / "checkpoint.npz")["step"] == 10


def test_resume_continues_with_the_saved_options(trained):
    result = cli("train", "--out", "run", "--resume", "--steps", "14", "--no-progress", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert "resuming at step 10" in result.stdout and "done: step 14" in result.stdout
    assert "hidden 12" in result.stdout  # the saved --hidden, not the default


def test_eval_reports_the_loss_on_a_text_and_on_the_validation_split(trained):
    held_out = "The lazy dog?! the quick fox."
    (trained / "held_out.txt").write_text(held_out, encoding="utf-8")
    result = cli("eval", "run", "--data", "held_out.txt", "--json", cwd=trained)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unknown"] == 3 and report["unknown_handling"] == "skipped"  # 'T', '?', '!'
    assert report["tokens"] == len(held_out) - 3
    assert report["bits_per_char"] == pytest.approx(report["nats_per_token"] / np.log(2))
    text = cli("eval", "run/checkpoint.npz", cwd=trained)
    assert text.returncode == 0, text.stderr
    assert "validation part" in text.stdout and "bits/char" in text.stdout
    # Read as training read it, the validation loss is the one training reported last.
    history = serialization.load(trained / "run" / "checkpoint.npz")["history"]
    assert f"{history['val_loss'][-1]:.4f} nats/char" in text.stdout


def test_sample_is_reproducible_with_a_seed_and_greedy_at_temperature_0(trained):
    args = ("sample", "run", "--prime", "the ", "--length", "30", "--seed", "3")
    first, second = cli(*args, cwd=trained), cli(*args, cwd=trained)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.startswith("the ")
    assert len(first.stdout) == len("the ") + 30 + 1
    greedy = cli("sample", "run", "--prime", "the ", "--length", "30", "--temperature", "0", cwd=trained)
    top1 = cli("sample", "run", "--prime", "the ", "--length", "30", "--top-k", "1", "--seed", "9",
               cwd=trained)
    assert greedy.stdout == top1.stdout


def test_interactive_sampling_reads_primes_until_end_of_input(trained):
    result = cli("sample", "run", "--interactive", "--length", "10", "--seed", "0", cwd=trained,
                 stdin="the\nZEBRA\nfox\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("> ") == 4  # three primes, then end of input
    assert "\nthe" in result.stdout or result.stdout.startswith("> the")
    assert "fox" in result.stdout
    # The unknown letters of "ZEBRA" are reported and the session goes on.
    assert result.stderr.startswith("tinygrad-rnn: error: ") and "'Z'" in result.stderr


def test_demo_quick_runs_everything_in_seconds(tmp_path):
    result = cli("demo", "--quick", "--out", "demo", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for fragment in ("gradients", "ok", "validation loss", "bits/char", "--- sample", "MACBETH."):
        assert fragment in result.stdout
    assert (tmp_path / "demo" / "checkpoint.npz").exists() and (tmp_path / "demo" / "log.csv").exists()


def test_demo_replaces_only_its_own_earlier_output(trained, tmp_path):
    quick = ("demo", "--quick", "--steps", "2", "--no-progress", "--out", "run")
    shutil.copytree(trained / "run", tmp_path / "run")
    train_run = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    refused = cli(*quick, cwd=tmp_path)
    assert_user_error(refused, "run already holds files of a training run (checkpoint.npz, log.csv)",
                      "--overwrite")
    assert refused.stdout == "" and (tmp_path / "run" / "checkpoint.npz").read_bytes() == train_run
    # --overwrite replaces it; the README's `demo` then runs again and again in its own folder.
    for args in ((*quick, "--overwrite"), quick):
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "validation loss" in result.stdout and "demo.json" in result.stdout
    checkpoint = serialization.load(tmp_path / "run" / "checkpoint.npz")
    assert checkpoint["train_config"]["hidden"] == 16 and checkpoint["step"] == 2
    # A run continued by `train --resume` in the demo's folder is no longer the demo's output.
    checkpoint["step"] = 7
    serialization.save(checkpoint, tmp_path / "run" / "checkpoint.npz")
    assert_user_error(cli(*quick, cwd=tmp_path), "not an earlier demo's output", "--overwrite")
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["step"] == 7


def test_a_demo_aborted_by_a_second_ctrl_c_stays_replaceable(tmp_path, monkeypatch, capsys):
    # The marker used to be written only once training returned, so a demo aborted mid-run
    # left a folder that the next demo refused without --overwrite.
    import tinygrad_rnn.cli as cli_module

    real_train = cli_module.train

    def train_aborted_at_step_3(config, **kwargs):
        def two_ctrl_cs(step, loss):
            if step == 3:
                signal.raise_signal(signal.SIGINT)  # the first asks to stop after this step
                signal.raise_signal(signal.SIGINT)  # the second aborts at once
        return real_train(config, callback=two_ctrl_cs, **kwargs)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_module, "_verify_gradients", lambda: True)
    monkeypatch.setattr(cli_module, "train", train_aborted_at_step_3)
    quick = ("demo", "--quick", "--steps", "10", "--no-progress", "--out", "run")
    assert main(list(quick)) == 130
    marker = json.loads((tmp_path / "run" / "demo.json").read_text(encoding="utf-8"))
    assert list(marker["files_sha256"]) == ["log.csv"]  # aborted before any checkpoint
    assert len((tmp_path / "run" / "log.csv").read_text().splitlines()) == 4  # header and 3 steps
    monkeypatch.setattr(cli_module, "train", real_train)
    assert main(list(quick)) == 0
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["step"] == 10
    # What the finished demo left is recorded file by file: appending to the log disowns it.
    with open(tmp_path / "run" / "log.csv", "a", encoding="utf-8") as log:
        log.write("11,1.0,,1.0,1.0\n")
    capsys.readouterr()
    assert_user_error(cli_in_process(*quick, capsys=capsys), "not an earlier demo's output")


def test_demo_overwrite_aborted_before_training_leaves_the_other_run_protected(
        trained, tmp_path, monkeypatch, capsys):
    import tinygrad_rnn.cli as cli_module

    def aborted(config, **kwargs):  # Ctrl-C while the run is being set up, before it writes
        raise KeyboardInterrupt

    shutil.copytree(trained / "run", tmp_path / "run")
    train_run = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_module, "_verify_gradients", lambda: True)
    monkeypatch.setattr(cli_module, "train", aborted)
    quick = ("demo", "--quick", "--steps", "2", "--no-progress", "--out", "run")
    assert main([*quick, "--overwrite"]) == 130
    assert not (tmp_path / "run" / "demo.json").exists()
    capsys.readouterr()
    assert_user_error(cli_in_process(*quick, capsys=capsys), "not an earlier demo's output")
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == train_run


@pytest.mark.parametrize(("flag", "value", "minimum"),
                         [("--steps", 0, 1), ("--steps", -1, 1), ("--hidden", 0, 1), ("--seed", -1, 0)])
def test_demo_flags_are_checked_before_any_work(flag, value, minimum, tmp_path, monkeypatch, capsys):
    # --steps 0 and --hidden 0 used to fall back to the defaults; --steps -1 was reported as
    # --eval-every, after the gradient checks.
    monkeypatch.chdir(tmp_path)
    result = cli_in_process("demo", "--quick", flag, value, "--no-progress", capsys=capsys)
    assert_user_error(result, f"{flag} must be an integer >= {minimum}, got {value}")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_demo_refuses_a_folder_of_other_files(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "loss.png").write_bytes(b"my own plot")
    monkeypatch.chdir(tmp_path)
    result = cli_in_process("demo", "--quick", "--out", "mine", "--no-progress", capsys=capsys)
    assert_user_error(result, "mine already holds files of a training run (loss.png)", "--overwrite")
    assert result.stdout == "" and (tmp_path / "mine" / "loss.png").read_bytes() == b"my own plot"


def test_demo_refuses_a_file_as_its_folder_before_the_gradient_checks(tmp_path, monkeypatch, capsys):
    (tmp_path / "one.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    result = cli_in_process("demo", "--quick", "--out", "one.txt", "--no-progress", capsys=capsys)
    assert_user_error(result, "--out one.txt is a file, not a folder; choose another --out")
    assert result.stdout == "" and (tmp_path / "one.txt").read_text() == "mine"


def test_an_error_is_one_line_that_quotes_the_spaces_it_was_given(capsys):
    # The message went through ' '.join(message.split()): a word-level run's prime '   ' was
    # quoted as ' '.
    cli_module._error("generate: the prime '   ' has no symbols;\n    give at least one")
    expected = "tinygrad-rnn: error: generate: the prime '   ' has no symbols; give at least one\n"
    assert capsys.readouterr().err == expected


def test_train_refuses_resume_and_overwrite_together(trained, monkeypatch, capsys):
    # --overwrite was silently ignored beside --resume.
    monkeypatch.chdir(trained)
    before = (trained / "run" / "checkpoint.npz").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", "run", "--resume", "--overwrite"])
    assert exit_info.value.code == 2
    assert "argument --overwrite: not allowed with argument --resume" in capsys.readouterr().err
    assert (trained / "run" / "checkpoint.npz").read_bytes() == before


def test_an_unknown_option_is_reported_with_its_subcommands_usage(capsys):
    # It printed the top-level usage, which lists no option of train.
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--bogus"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--blas-threads" in error and error.splitlines()[-1] == (
        "tinygrad-rnn train: error: unrecognized arguments: --bogus")


def test_seeds_are_checked_as_train_checks_them(trained, monkeypatch, capsys):
    monkeypatch.chdir(trained)
    for command in (("train", "--out", "other"), ("sample", "run"), ("compare",)):
        result = cli_in_process(*command, "--seed", "-1", capsys=capsys)
        assert_user_error(result, "--seed must be an integer >= 0, got -1")


def test_compare_flags_are_checked_naming_the_flag(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    result = cli_in_process("compare", "--fd-samples", "0", capsys=capsys)
    assert_user_error(result, "--fd-samples must be an integer >= 1, got 0")
    assert "PASS" not in result.stdout


def test_empty_data_path_and_word_options_at_char_level(trained, monkeypatch, capsys):
    monkeypatch.chdir(trained)  # holds text files that an empty path would have read
    assert_user_error(cli_in_process("train", "--data", "", "--out", "other", capsys=capsys),
                      "--data is an empty path")
    assert_user_error(cli_in_process("eval", "run", "--data", "", capsys=capsys),
                      "load_text: the path is empty")
    result = cli_in_process("train", "--data", "text.txt", "--min-freq", "2", "--out", "other", capsys=capsys)
    assert_user_error(result, "--min-freq 2 applies to --level word only, not char")
    result = cli_in_process("train", "--data", "text.txt", "--lower", "--out", "other", capsys=capsys)
    assert_user_error(result, "--lower applies to --level word only, not char")
    assert not (trained / "other").exists()


@pytest.mark.parametrize("command", ["demo", "train", "eval", "sample", "gradcheck"])
def test_every_subcommand_has_help(command, tmp_path):
    result = cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: tinygrad-rnn {command}")


def test_compare_is_delegated_or_reported_missing(tmp_path):
    result = cli("compare", "--help", cwd=tmp_path)
    if importlib.util.find_spec("tinygrad_rnn.compare") is None:
        assert_user_error(result, "compare", "not available yet")
    else:
        assert result.returncode == 0 and result.stdout.startswith("usage: tinygrad-rnn compare")


def test_top_level_help_lists_the_subcommands(tmp_path):
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("demo", "train", "eval", "sample", "compare", "gradcheck"):
        assert command in result.stdout


# -- errors: one line on stderr, exit status 2 ---------------------------------------------
def test_empty_data_file(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    assert_user_error(cli("train", "--data", "empty.txt", *TINY, "--out", "run", cwd=tmp_path), "empty")


def test_data_file_that_is_not_utf8(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("déjà vu, encore".encode("latin-1"))
    assert_user_error(cli("train", "--data", "latin1.txt", *TINY, "--out", "run", cwd=tmp_path), "UTF-8")


def test_missing_data_file(tmp_path):
    assert_user_error(cli("train", "--data", "nope.txt", *TINY, "--out", "run", cwd=tmp_path), "nope.txt")


def test_sequence_longer_than_the_text(tmp_path):
    (tmp_path / "short.txt").write_text("a short text")
    result = cli("train", "--data", "short.txt", *TINY, "--seq-len", "50", "--out", "run", cwd=tmp_path)
    # The flags, not BatchStream's parameter names (batch_size=4, seq_len=50).
    assert_user_error(result, "the 11 training chars (the text less its last --val-fraction 0.1) cut into "
                      "--batch 4 streams give 2 steps per stream, fewer than --seq-len 50",
                      "at least --batch x --seq-len + 1 = 201 training chars")


def test_diverging_training(tmp_path):
    (tmp_path / "text.txt").write_text(TEXT)
    result = cli("train", "--data", "text.txt", *TINY, "--optimizer", "sgd", "--lr", "1e38", "--clip", "0",
                 "--out", "run", cwd=tmp_path)
    assert_user_error(result, "diverged at step", "--lr")


def test_unwritable_run_folder(tmp_path):
    (tmp_path / "text.txt").write_text(TEXT)
    (tmp_path / "a_file").write_text("not a folder")
    result = cli("train", "--data", "text.txt", *TINY, "--out", "a_file/run", cwd=tmp_path)
    assert_user_error(result, "a_file/run")


def test_prime_with_unknown_symbols(trained):
    result = cli("sample", "run", "--prime", "ZZ top", cwd=trained)
    assert_user_error(result, "'Z'", "vocabulary")
    assert result.stdout == ""


def test_missing_run_folder_and_missing_checkpoint(trained, tmp_path):
    assert_user_error(cli("sample", "no_such_run", cwd=trained), "no_such_run")
    (tmp_path / "empty_run").mkdir()
    assert_user_error(cli("eval", "empty_run", cwd=tmp_path), "holds no checkpoint.npz")
    assert_user_error(cli("train", "--out", "empty_run", "--resume", cwd=tmp_path), "cannot resume")


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert_user_error(cli("sample", "notes.txt", cwd=tmp_path), "notes.txt", "not a tinygrad_rnn checkpoint")


def test_checkpoint_of_another_architecture(trained, tmp_path):
    checkpoint = serialization.load(trained / "run" / "checkpoint.npz")
    checkpoint["model_config"]["cell"] = "lstm"
    serialization.save(checkpoint, tmp_path / "tampered.npz")
    assert_user_error(cli("sample", "tampered.npz", cwd=tmp_path), "do not fit", "lstm")
    result = cli("train", "--out", "run", "--resume", "--hidden", "64", cwd=trained)
    assert_user_error(result, "--hidden 12 (now 64)")


def test_resume_on_another_vocabulary(trained):
    (trained / "other.txt").write_text(TEXT.upper())
    result = cli("train", "--data", "other.txt", "--out", "run", "--resume", cwd=trained)
    assert_user_error(result, "vocabulary", "other text")


def test_existing_run_without_resume(trained):
    result = cli("train", "--data", "text.txt", *TINY, "--steps", "3", "--out", "run", cwd=trained)
    assert_user_error(result, "--resume", "--overwrite")


def test_ctrl_c_stops_training_with_a_checkpoint(tmp_path):
    (tmp_path / "text.txt").write_text(TEXT)
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_rnn", "train", "--data", "text.txt", *TINY, "--steps", "100000",
         "--out", "run"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "run" / "log.csv"
    deadline = time.monotonic() + 60
    while not (log.exists() and len(log.read_text().splitlines()) > 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted at step" in stdout
    step = serialization.load(tmp_path / "run" / "checkpoint.npz")["step"]
    assert 3 <= step < 100000
    assert len(log.read_text().splitlines()) == step + 1


def test_schedule_and_early_stopping_flags(tmp_path):
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    result = cli("train", "--data", "text.txt", *TINY, "--steps", "10", "--out", "run", "--lr-schedule",
                 "cosine", "--warmup", "2", "--min-lr", "0.001", "--patience", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "adam lr 0.01, cosine to 0.001 after 2 warm-up steps" in result.stdout
    assert "early stop after 1 evaluations without a new best" in result.stdout
    assert ", lr 0.00" in result.stdout and (tmp_path / "run" / "best.npz").exists()
    refused = cli("train", "--data", "text.txt", *TINY, "--out", "other", "--min-lr", "0.5", cwd=tmp_path)
    assert_user_error(refused, "--min-lr must be in [0, --lr] = [0, 0.01], got 0.5")


def test_a_closed_output_ends_train_with_a_checkpoint_and_sample_quietly(trained, tmp_path):
    # As `tinygrad-rnn train ... | head -3`: train used to abort with "error: [Errno 32] Broken
    # pipe", status 2 and no checkpoint; sample printed the same error.
    def read_a_little_then_close(*args: str, until: str = "") -> subprocess.CompletedProcess:
        process = subprocess.Popen([sys.executable, "-m", "tinygrad_rnn", *args], cwd=trained,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        process.stdout.read(50)
        # Up to the line `until` (the reader closing before step 1 was a race it could win)
        line = "\n"
        while until and line and until not in line:
            line = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=60)
        return subprocess.CompletedProcess(args, process.returncode, "", stderr)

    out = tmp_path / "piped"
    trained_run = read_a_little_then_close("train", "--data", "text.txt", *TINY, "--sample-every", "1",
                                           "--sample-length", "300", "--steps", "100000", "--out", str(out),
                                           until="--- sample at step 1 ---")
    assert (trained_run.returncode, trained_run.stderr) == (141, "")
    step = serialization.load(out / "checkpoint.npz")["step"]
    assert 1 <= step < 100000
    assert len((out / "log.csv").read_text().splitlines()) == step + 1
    sampled = read_a_little_then_close("sample", "run", "--length", "100000")
    assert (sampled.returncode, sampled.stderr) == (141, "")


@pytest.mark.parametrize(("flags", "message"), [
    (("--top-k", "0"), "--top-k must be an integer >= 1, got 0"),
    (("--temperature", "-1"), "--temperature must be >= 0 (0 = always the most likely token), got -1.0"),
    (("--temperature", "nan"), "--temperature must be >= 0 (0 = always the most likely token), got nan"),
    (("--length", "-5"), "--length must be an integer >= 0, got -5"),
])
@pytest.mark.parametrize("interactive", [False, True], ids=["prime", "interactive"])
def test_sample_flags_are_checked_before_any_output(trained, monkeypatch, capsys, flags, message,
                                                     interactive):
    # They were checked by generate() after the prime was printed, under its parameter names,
    # and with --interactive once per line read, with exit status 0.
    monkeypatch.chdir(trained)
    monkeypatch.setattr(sys, "stdin", None)  # reading a line would fail
    mode = ["--interactive"] if interactive else []
    result = cli_in_process("sample", "run", *flags, *mode, capsys=capsys)
    assert_user_error(result, message)
    assert result.stdout == ""


def test_every_compare_option_has_help():
    import argparse

    from tinygrad_rnn import compare

    parser = argparse.ArgumentParser()
    compare.add_arguments(parser)
    assert [action.dest for action in parser._actions if not action.help] == []


def test_prime_escapes_name_a_line_break_a_tab_and_a_backslash(trained):
    from tinygrad_rnn.cli import unescape

    assert unescape(r"a\nb\tc\\d\e") == "a\nb\tc\\d\\e"
    assert unescape(r"\\n") == "\\n"  # an escaped backslash, then a plain n
    # The text has neither a line break nor a backslash: the error names the decoded symbol.
    assert_user_error(cli("sample", "run", "--prime", r"the\n", cwd=trained), r"'\n'", "vocabulary")
    interactive = cli("sample", "run", "--interactive", "--length", "3", cwd=trained, stdin="the\\t\n")
    assert r"'\t'" in interactive.stderr and "vocabulary" in interactive.stderr

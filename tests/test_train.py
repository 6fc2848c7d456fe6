"""The training loop: learning, exact resume, Ctrl-C, divergence, and the run folder's files."""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import signal
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import serialization
from tinygrad_rnn import train as train_module
from tinygrad_rnn.nn import RecurrentModel
from tinygrad_rnn.optim import Adam
from tinygrad_rnn.sample import CHECKPOINT_FORMAT, evaluate_validation, load_checkpoint
from tinygrad_rnn.serialization import CheckpointError
from tinygrad_rnn.train import (
    DEFAULT_LR,
    LOG_COLUMNS,
    TrainConfig,
    TrainingDiverged,
    learning_rate,
    saved_config,
    train,
)

# 1,800 characters; with batch 4 and seq_len 8, an epoch is 51 windows, the last one 4 steps long.
TEXT = "the quick brown fox jumps over the lazy dog. " * 40


def quiet(_message: str) -> None:
    pass


@pytest.fixture
def config(tmp_path) -> TrainConfig:
    data = tmp_path / "text.txt"
    data.write_text(TEXT, encoding="utf-8")
    return TrainConfig(data=str(data), cell="gru", hidden=16, seq_len=8, batch=4, lr=1e-2, steps=20,
                       eval_every=10, sample_every=0, checkpoint_every=0, out=str(tmp_path / "run"))


def run(config: TrainConfig, **overrides):
    return train(dataclasses.replace(config, **overrides), progress=False, log=quiet)


def test_loss_decreases_on_a_repeated_text(config):
    result = run(config, steps=60)
    losses = result.history["train_loss"]
    assert losses[-10:].mean() < losses[:10].mean() - 0.8
    val = result.history["val_loss"][~np.isnan(result.history["val_loss"])]
    assert len(val) == 6 and val[-1] < val[0]
    assert result.val_loss == val[-1] and not result.interrupted and result.step == 60


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_stop_and_resume_gives_bitwise_the_same_losses(config, tmp_path, cell):
    # 30 + 30 steps cross the epoch boundary (51 windows), where the state is reset.
    straight = run(config, cell=cell, steps=60, out=str(tmp_path / "straight"), checkpoint_every=25)
    first = run(config, cell=cell, steps=30, out=str(tmp_path / "split"))
    assert first.step == 30
    resumed = run(config, cell=cell, steps=60, out=str(tmp_path / "split"), resume=True)
    assert resumed.step == 60
    for column in ("step", "train_loss"):
        np.testing.assert_array_equal(resumed.history[column], straight.history[column])
    assert resumed.val_loss == straight.val_loss
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_keyboard_interrupt_from_a_callback_saves_a_resumable_checkpoint(config, tmp_path):
    def stop_at_7(step, loss):
        if step == 7:
            raise KeyboardInterrupt

    out = str(tmp_path / "interrupted")
    stopped = train(dataclasses.replace(config, out=out), progress=False, log=quiet, callback=stop_at_7)
    assert stopped.interrupted and stopped.step == 7
    assert serialization.load(tmp_path / "interrupted" / "checkpoint.npz")["step"] == 7
    resumed = run(config, out=out, resume=True)
    straight = run(config, out=str(tmp_path / "straight"))
    np.testing.assert_array_equal(resumed.history["train_loss"], straight.history["train_loss"])


def test_ctrl_c_finishes_the_step_then_saves(config):
    def press_ctrl_c(step, loss):
        if step == 5:
            os.kill(os.getpid(), signal.SIGINT)

    result = train(config, progress=False, log=quiet, callback=press_ctrl_c)
    assert result.interrupted and result.step == 5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupt_inside_a_step_keeps_the_checkpoint_at_the_previous_step(config, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = RecurrentModel.loss

    def loss_interrupted_at_the_sixth_call(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecurrentModel, "loss", loss_interrupted_at_the_sixth_call)
    out = str(tmp_path / "interrupted")
    stopped = run(config, out=out, eval_every=0)
    monkeypatch.undo()
    assert stopped.interrupted and stopped.step == 5
    resumed = run(config, out=out, resume=True, eval_every=0)
    straight = run(config, out=str(tmp_path / "straight"), eval_every=0)
    np.testing.assert_array_equal(resumed.history["train_loss"], straight.history["train_loss"])


def test_a_diverging_run_stops_naming_the_step_and_the_remedies(config):
    with pytest.raises(TrainingDiverged, match=r"diverged at step 2: the loss is (nan|inf).*--lr.*--clip"):
        run(config, optimizer="sgd", lr=1e38, clip=0)


def test_log_csv_has_one_row_per_step_and_the_validation_loss_at_evaluations(config, tmp_path):
    run(config, steps=12, eval_every=5)
    with open(tmp_path / "run" / "log.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == LOG_COLUMNS
    assert LOG_COLUMNS == ("step", "train_loss", "val_loss", "tokens_per_sec", "elapsed_sec")
    body = rows[1:]
    assert [int(row[0]) for row in body] == list(range(1, 13))
    assert [int(row[0]) for row in body if row[2]] == [5, 10, 12]  # and at the end
    assert all(float(row[1]) > 0 and float(row[3]) > 0 for row in body)
    elapsed = [float(row[4]) for row in body]
    assert elapsed == sorted(elapsed)


def test_checkpoint_holds_everything_to_rebuild_and_resume(config, tmp_path):
    run(config, cell="lstm", layers=2, embedding=6, steps=9, eval_every=3)
    checkpoint = serialization.load(tmp_path / "run" / "checkpoint.npz")
    assert set(checkpoint) == {
        "format", "version", "model_config", "model", "tokenizer", "optimizer", "train_config",
        "step", "batch_state", "hidden", "rng_state", "history", "data_sha256", "patience_start",
    }
    assert checkpoint["format"] == CHECKPOINT_FORMAT and checkpoint["step"] == 9
    assert checkpoint["patience_start"] is None  # patience is off
    assert checkpoint["model_config"]["embedding_dim"] == 6
    model = RecurrentModel(**checkpoint["model_config"])
    model.load_state_dict(checkpoint["model"])
    h, c = checkpoint["hidden"]  # LSTM: (h, c), each (layers, batch, hidden)
    assert h.shape == c.shape == (2, 4, 16)
    assert checkpoint["batch_state"]["window"] == 9
    assert checkpoint["optimizer"]["optimizer"] == "Adam"
    assert checkpoint["train_config"]["cell"] == "lstm"
    np.random.default_rng().bit_generator.state = checkpoint["rng_state"]  # accepted as saved
    assert len(checkpoint["history"]["train_loss"]) == 9
    assert np.isnan(checkpoint["history"]["val_loss"]).sum() == 6
    loaded, tokenizer, _ = load_checkpoint(tmp_path / "run")
    assert len(tokenizer) == len(set(TEXT))


def test_the_plot_is_written_when_matplotlib_is_installed(config, tmp_path):
    pytest.importorskip("matplotlib")
    run(config, steps=5)
    assert (tmp_path / "run" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_existing_run_is_neither_overwritten_nor_resumed_by_accident(config):
    run(config, steps=3)
    with pytest.raises(FileExistsError, match="--resume.*--overwrite"):
        run(config, steps=3)
    assert run(config, steps=4, overwrite=True).step == 4


@pytest.mark.parametrize("kept", [("best.npz", "log.csv"), ("best.npz",), ("log.csv",)], ids="+".join)
def test_the_files_of_a_run_without_its_checkpoint_are_kept_too(config, tmp_path, kept):
    # Someone deleted checkpoint.npz to keep only the best model (or the log) of a run.
    run_dir = tmp_path / "run"
    run(config, steps=3)
    (run_dir / "checkpoint.npz").rename(run_dir / "best.npz")
    for name in {"best.npz", "log.csv"} - set(kept):
        (run_dir / name).unlink()
    before = {name: (run_dir / name).read_bytes() for name in kept}
    with pytest.raises(FileExistsError, match=rf"holds files of a training run \({', '.join(kept)}\) but no "
                       r"checkpoint\.npz to resume from; pass --overwrite"):
        run(config, steps=3)
    assert {name: (run_dir / name).read_bytes() for name in kept} == before
    with pytest.raises(FileNotFoundError, match="cannot resume: no checkpoint.npz"):
        run(config, steps=3, resume=True)
    assert run(config, steps=3, overwrite=True).step == 3
    assert not (run_dir / "best.npz").exists()


def test_a_lone_loss_plot_is_kept_too(config, tmp_path):
    # A fresh run deleted it unasked, and wrote none in its place without matplotlib.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "loss.png").write_bytes(b"a plot")
    with pytest.raises(FileExistsError, match=r"holds files of a training run \(loss\.png\) but no "):
        run(config, steps=3)
    assert (tmp_path / "run" / "loss.png").read_bytes() == b"a plot"
    assert run(config, steps=3, overwrite=True).step == 3


def test_overwrite_removes_the_replaced_runs_checkpoint_before_training(config, tmp_path):
    # A new run that fails before its first save must not leave the old checkpoint beside its
    # own log.csv, where eval and --resume would take the old model for this run's.
    run(config, steps=3)
    with pytest.raises(TrainingDiverged, match="diverged at step 2") as failure:
        run(config, optimizer="sgd", lr=1e38, clip=0, overwrite=True)
    assert "last checkpoint" not in str(failure.value)
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["log.csv"]
    with pytest.raises(FileNotFoundError, match="cannot resume: no checkpoint.npz"):
        run(config, resume=True)


def test_a_closed_output_stops_the_run_and_saves_a_checkpoint(config, tmp_path):
    # As `tinygrad-rnn train | head -3` closes the pipe: the run stops as on Ctrl-C.
    messages = []

    def log_until_closed(message):
        if len(messages) == 3:
            raise BrokenPipeError(32, "Broken pipe")
        messages.append(message)

    result = train(dataclasses.replace(config, steps=1000, eval_every=2), progress=False,
                   log=log_until_closed)
    # The description, the evaluations at steps 2 and 4, and at step 6 the output is gone.
    assert result.output_closed and result.interrupted and result.step == 6
    assert len(messages) == 3 and messages[-1].startswith("step 4: ")
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["step"] == 6
    assert len((tmp_path / "run" / "log.csv").read_text().splitlines()) == 7
    assert not run(config, steps=8, resume=True).output_closed


def test_momentum_and_seed_cannot_change_on_resume(config, tmp_path):
    # The optimizer's state was built with the saved momentum, and the generator continues
    # from its saved state: a new value would be recorded in train_config but not used.
    sgd = {"optimizer": "sgd", "lr": 0.5, "momentum": 0.5}
    run(config, **sgd, steps=3)
    with pytest.raises(ValueError, match=r"trained with --momentum 0.5 \(now 0.9\); start a new run"):
        run(config, **{**sgd, "momentum": 0.9}, steps=6, resume=True)
    with pytest.raises(ValueError, match=r"trained with --seed 0 \(now 3\); start a new run"):
        run(config, **sgd, seed=3, steps=6, resume=True)
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["step"] == 3
    assert run(config, **sgd, steps=6, resume=True).step == 6
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["train_config"]["momentum"] == 0.5


def test_a_min_freq_that_keeps_no_word_is_refused_at_the_start(config, monkeypatch):
    monkeypatch.setattr(train_module, "RecurrentModel", None)  # refused before any model is built
    with pytest.raises(ValueError, match=r"--min-freq 100000 keeps 0 of the 9 distinct tokens .*of the "
                       r"text, leaving only <unk> \(the most frequent, 'the', occurs 80 times\); "
                       r"give --min-freq 80 or less"):
        run(config, level="word", min_freq=100000)


@pytest.mark.parametrize(("sizes", "flag"), [({"hidden": 1_000_000}, "--hidden 1000000"),
                                             ({"embedding": 2_000_000_000}, "--embedding 2000000000")])
def test_a_model_too_big_for_memory_is_refused_before_it_is_built(config, monkeypatch, sizes, flag):
    monkeypatch.setattr(train_module, "RecurrentModel", None)  # building it would be a TypeError
    with pytest.raises(ValueError, match=rf"the model \(.*{flag}.*vocabulary 28\) has [\d,]+ parameters: "
                       r"its float32 weights, their gradients and adam's state alone need [\d,.]+ [TP]B, "
                       r"more than "
                       r"this machine's [\d,.]+ [KMGT]B of memory"):
        run(config, **sizes)


def test_a_model_that_runs_out_of_memory_while_built_names_the_size_flags(config, monkeypatch):
    # It escaped as a bare MemoryError traceback from inside the initialization.
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.22 GiB for an array with shape (36000, 12000)")

    monkeypatch.setattr(train_module, "RecurrentModel", exhausted)
    with pytest.raises(ValueError, match=r"the model \(--hidden 16, --layers 1, --embedding 0, vocabulary "
                                         r"28\) does not fit in the memory free now: Unable to allocate 3"):
        run(config)


def test_a_relative_data_path_is_recorded_absolute(config, tmp_path, monkeypatch):
    # Recorded as given, "text.txt" meant another file (or none) from another folder: eval said
    # the text had changed, and --resume refused or failed.
    monkeypatch.chdir(tmp_path)
    run(config, data="text.txt", steps=4)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "text.txt").write_text("another text in another folder", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    recorded = saved_config(tmp_path / "run")
    assert recorded.data == str(tmp_path / "text.txt")
    model, tokenizer, checkpoint = load_checkpoint(tmp_path / "run")
    report = evaluate_validation(model, tokenizer, checkpoint)
    assert report["nats_per_token"] == pytest.approx(checkpoint["history"]["val_loss"][-1], rel=1e-6)
    assert run(recorded, steps=6, resume=True).step == 6


def test_blas_threads_given_wins_over_the_environment(config, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_thread_counts():
        return {pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"}

    def counts_while_training(**options):
        seen = []
        train(dataclasses.replace(config, steps=2, eval_every=0, overwrite=True, **options), progress=False,
              log=quiet, callback=lambda *_: seen.append(blas_thread_counts()))
        return seen

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        outside = blas_thread_counts()
        assert counts_while_training(blas_threads=1) == [{1}, {1}]
        # Without the option, the environment's choice stands.
        assert counts_while_training() == [outside, outside]


def test_a_checkpoint_missing_an_entry_is_named_on_resume(config, tmp_path):
    run(config, steps=3)
    path = tmp_path / "run" / "checkpoint.npz"
    complete = serialization.load(path)
    without_step = {name: value for name, value in complete.items() if name != "step"}
    serialization.save(without_step, path)
    with pytest.raises(CheckpointError, match=r"cannot resume from .*checkpoint\.npz: the checkpoint "
                       r"lacks step$"):
        run(config, steps=6, resume=True)
    history = {name: value for name, value in complete["history"].items() if name != "train_loss"}
    serialization.save({**complete, "history": history}, path)
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: the history lacks train_loss$"):
        run(config, steps=6, resume=True)


def test_a_validation_part_of_one_token_is_refused_naming_val_fraction(config):
    # 1,800 chars: 0.0005 of them is 1, which measures nothing; validation and patience were off.
    with pytest.raises(ValueError, match=r"--val-fraction 0.0005 holds out 1 of the text's 1,800 chars, "
                       r"too few for a validation loss"):
        run(config, val_fraction=0.0005)


def test_word_level_options_are_refused_at_char_level(config):
    with pytest.raises(ValueError, match="--min-freq 2 applies to --level word only, not char"):
        run(config, min_freq=2)
    with pytest.raises(ValueError, match="--lower applies to --level word only, not char"):
        run(config, lower=True)
    with pytest.raises(TypeError, match="--lower must be True or False, got 'no'"):
        run(config, level="word", lower="no")


def test_empty_paths_are_refused_rather_than_meaning_the_current_folder(config, tmp_path, monkeypatch):
    (tmp_path / "stray.txt").write_text("some text lying around in the current folder")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="--data is an empty path"):
        run(config, data="")
    with pytest.raises(ValueError, match="--out is an empty path"):
        run(config, out="")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stray.txt", "text.txt"]


def test_a_changed_option_is_named_as_its_flag_is_typed(config):
    # It read --embedding None (now 8) and --cell 'gru' (now 'lstm').
    run(config, steps=2)
    with pytest.raises(ValueError, match=r"trained with --cell gru \(now lstm\); --embedding 0 \(now 8\); "):
        run(config, steps=4, resume=True, cell="lstm", embedding=8)


def test_resume_refuses_another_architecture_or_text(config, tmp_path):
    run(config, steps=3)
    with pytest.raises(ValueError, match="--hidden 16 .now 32"):
        run(config, steps=6, hidden=32, resume=True)
    other = tmp_path / "other.txt"
    other.write_text(TEXT.upper(), encoding="utf-8")
    with pytest.raises(ValueError, match="other text"):
        run(config, steps=6, data=str(other), resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint.npz"):
        run(config, out=str(tmp_path / "nowhere"), resume=True)


def test_epochs_set_the_length_and_word_level_reports_perplexity(config):
    logs = []
    result = train(dataclasses.replace(config, level="word", seq_len=4, epochs=2, steps=None),
                   progress=False, log=logs.append)
    # 400 words and periods, 360 for training: 89 steps per stream, 23 windows of 4 (the last 1) per epoch.
    assert result.step == 46
    assert any("perplexity" in line for line in logs)


def test_bad_options_are_refused_with_the_flag_name(config):
    with pytest.raises(ValueError, match="--seq-len must be an integer >= 1"):
        run(config, seq_len=0)
    with pytest.raises(ValueError, match="--cell must be one of"):
        run(config, cell="transformer")
    with pytest.raises(ValueError, match=r"--batch 4 streams give 404 steps per stream, fewer than "
                       r"--seq-len 1000; lower --batch or --seq-len"):
        run(config, seq_len=1000)
    assert math.isclose(TrainConfig(optimizer="adagrad").resolved().lr, 0.1)


def test_without_matplotlib_the_plot_is_skipped_with_a_note(config, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    logs = []
    train(dataclasses.replace(config, steps=3), progress=False, log=logs.append)
    assert not (tmp_path / "run" / "loss.png").exists()
    assert "loss.png skipped: matplotlib is not installed" in logs[-1]


def test_the_module_is_callable_as_train(config):
    import tinygrad_rnn

    result = tinygrad_rnn.train(dataclasses.replace(config, steps=2, eval_every=0), progress=False,
                                log=quiet)
    assert result.step == 2


# -- learning-rate schedule and early stopping ----------------------------------------------------

@given(lr=st.floats(1e-4, 10.0), min_fraction=st.floats(0.0, 1.0), warmup=st.integers(0, 20),
       total=st.integers(1, 200), schedule=st.sampled_from(["constant", "cosine"]))
def test_learning_rate_warms_up_then_follows_its_schedule(lr, min_fraction, warmup, total, schedule):
    min_lr = lr * min_fraction if schedule == "cosine" else 0.0
    config = TrainConfig(lr=lr, min_lr=min_lr, warmup=warmup, lr_schedule=schedule).resolved()
    rates = np.array([learning_rate(config, step, total) for step in range(total)])
    ramp = rates[:warmup]
    np.testing.assert_allclose(ramp, lr * np.arange(1, len(ramp) + 1) / warmup)
    after = rates[warmup:]
    if schedule == "constant":
        assert (after == lr).all()
    elif len(after):
        assert after[0] == pytest.approx(lr)
        assert (np.diff(after) <= 1e-12 * lr).all() and (after >= min_lr * (1 - 1e-12)).all()
        # halfway through the decay the rate is halfway between lr and min_lr
        if len(after) % 2 == 0:
            assert after[len(after) // 2] == pytest.approx((lr + min_lr) / 2)


def test_the_optimizer_steps_with_the_scheduled_rate(config, monkeypatch):
    used = []
    original = Adam.step

    def recording_step(self):
        used.append(self.param_groups[0]["lr"])
        original(self)

    monkeypatch.setattr(Adam, "step", recording_step)
    result = run(config, optimizer="adam", steps=12, warmup=4, lr_schedule="cosine", min_lr=1e-3)
    expected = [learning_rate(result.config, step, 12) for step in range(12)]
    assert used == expected
    assert used[:4] == [0.0025, 0.005, 0.0075, 0.01] and used[4] == pytest.approx(0.01) and used[-1] < 0.0014


def test_a_scheduled_run_stopped_and_resumed_gives_bitwise_the_same_losses(config, tmp_path):
    schedule = {"steps": 24, "warmup": 5, "lr_schedule": "cosine", "min_lr": 1e-4}

    def stop_at_11(step, loss):
        if step == 11:
            raise KeyboardInterrupt

    out = str(tmp_path / "split")
    first = train(dataclasses.replace(config, **schedule, out=out), progress=False, log=quiet,
                  callback=stop_at_11)
    assert first.interrupted and first.step == 11
    resumed = run(config, **schedule, out=out, resume=True)
    straight = run(config, **schedule, out=str(tmp_path / "straight"))
    assert resumed.step == 24
    np.testing.assert_array_equal(resumed.history["train_loss"], straight.history["train_loss"])
    constant = run(config, steps=24, out=str(tmp_path / "constant"))
    assert not np.array_equal(constant.history["train_loss"], straight.history["train_loss"])


def scripted_validation(monkeypatch, losses):
    """Make the run's validation losses the given sequence (one per evaluation)."""
    remaining = list(losses)
    monkeypatch.setattr(train_module._Run, "validation_loss", lambda self: remaining.pop(0))


def test_early_stop_does_not_claim_a_best_model_that_was_deleted(config, tmp_path, monkeypatch):
    scripted_validation(monkeypatch, [3.0, 2.0, 2.5, 2.1, 2.2])
    best = tmp_path / "run" / "best.npz"

    def delete_best(step, _loss):
        if step == 12:
            best.unlink()

    logs = []
    result = train(dataclasses.replace(config, steps=100, eval_every=5, patience=3), progress=False,
                   log=logs.append, callback=delete_best)
    assert result.stopped_early and result.step == 25 and not best.exists()
    stop = next(line for line in logs if line.startswith("early stop"))
    assert "at step 10, was saved to best.npz, which has since been removed" in stop
    assert "best.npz" not in logs[-1]


def test_patience_stops_the_run_and_keeps_the_best_model(config, tmp_path, monkeypatch):
    scripted_validation(monkeypatch, [3.0, 2.0, 2.5, 2.1, 2.2, 1.0])
    logs = []
    result = train(dataclasses.replace(config, steps=100, eval_every=5, patience=3), progress=False,
                   log=logs.append)
    # evaluations at steps 5, 10, 15, 20, 25: the best is at step 10, three worse ones follow
    assert result.stopped_early and result.step == 25 and not result.interrupted
    assert any("early stop: 3 evaluations without a better validation loss" in line
               and "at step 10" in line for line in logs)
    assert "stopped early: step 25" in logs[-1] and "best.npz" in logs[-1]
    best = serialization.load(tmp_path / "run" / "best.npz")
    assert best["step"] == 10
    model, _, checkpoint = load_checkpoint(tmp_path / "run" / "best.npz")
    assert checkpoint["step"] == 10 and isinstance(model, RecurrentModel)
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["step"] == 25


def test_an_early_stopped_run_resumes_only_with_more_patience(config, tmp_path, monkeypatch):
    scripted_validation(monkeypatch, [3.0, 2.0, 2.5, 2.6, 1.5, 1.4])
    first = run(config, steps=100, eval_every=5, patience=2)
    assert first.stopped_early and first.step == 20
    logs = []
    again = train(dataclasses.replace(config, steps=100, eval_every=5, patience=2, resume=True),
                  progress=False, log=logs.append)
    assert again.step == 20 and again.stopped_early
    assert any("stopped early at step 20; nothing to do" in line for line in logs)
    more = run(config, steps=30, eval_every=5, patience=4, resume=True)
    assert more.step == 30 and not more.stopped_early
    assert serialization.load(tmp_path / "run" / "best.npz")["step"] == 30


def test_patience_turned_on_when_resuming_counts_only_the_evaluations_from_there(config, tmp_path,
                                                                                monkeypatch):
    # Without patience: evaluations at steps 5, 10, 15, 20, the best (2.0) at step 10. Counting
    # those, patience 1 had "stopped early at step 20" on resuming, a run that never stopped.
    scripted_validation(monkeypatch, [3.0, 2.0, 2.5, 2.6, 2.4, 2.45])
    run(config, steps=20, eval_every=5)
    logs = []
    result = train(dataclasses.replace(config, steps=100, eval_every=5, patience=1, resume=True),
                   progress=False, log=logs.append)
    # Counted from step 20 (2.6): 2.4 at step 25 is a new best, 2.45 at step 30 is not.
    assert result.stopped_early and result.step == 30
    assert not any("nothing to do" in line for line in logs)
    assert any("early stop after 1 evaluations without a new best (counted from step 20" in line
               for line in logs)
    assert any("the best, 2.4000 nats/char" in line and "at step 25, is in best.npz" in line for line in logs)
    assert serialization.load(tmp_path / "run" / "best.npz")["step"] == 25


def test_extending_a_finished_run_with_patience_is_the_run_given_all_its_steps(config, tmp_path):
    # A run of 15 steps also evaluates its last step, off the eval_every=10 schedule; that
    # evaluation used to count for patience (and to be kept as best.npz) once the run was
    # extended with --resume --steps, which then stopped or kept a model a 40-step run never had.
    settings = {"eval_every": 10, "patience": 1, "lr": 0.2}
    whole = run(config, steps=40, out=str(tmp_path / "whole"), **settings)
    run(config, steps=15, **settings)
    extended = run(config, steps=40, resume=True, **settings)
    assert (extended.step, extended.stopped_early) == (whole.step, whole.stopped_early)
    np.testing.assert_array_equal(extended.history["val_loss"], whole.history["val_loss"])
    np.testing.assert_array_equal(extended.history["train_loss"], whole.history["train_loss"])
    assert (serialization.load(tmp_path / "run" / "best.npz")["step"]
            == serialization.load(tmp_path / "whole" / "best.npz")["step"])
    logged = [row.split(",")[:3] for row in (tmp_path / "run" / "log.csv").read_text().splitlines()]
    assert logged == [row.split(",")[:3] for row in (tmp_path / "whole" / "log.csv").read_text().splitlines()]


def test_a_finished_run_resumed_with_nothing_to_do_keeps_its_final_evaluation(config, tmp_path):
    finished = run(config, steps=15)
    again = run(config, steps=15, resume=True)
    assert not np.isnan(finished.history["val_loss"][-1])
    np.testing.assert_array_equal(again.history["val_loss"], finished.history["val_loss"])


def test_patience_turned_on_when_resuming_keeps_the_model_it_starts_from(config, tmp_path, monkeypatch):
    # The model resumed from (step 10, validation 2.0) is the best patience sees: the claim that
    # best.npz holds it must be true, though no new best was found after resuming.
    scripted_validation(monkeypatch, [3.0, 2.0, 5.0])
    run(config, steps=10, eval_every=5)
    at_step_10 = serialization.load(tmp_path / "run" / "checkpoint.npz")["model"]
    logs = []
    result = train(dataclasses.replace(config, steps=100, eval_every=5, patience=1, resume=True),
                   progress=False, log=logs.append)
    assert result.stopped_early and result.step == 15
    assert any("the best, 2.0000 nats/char" in line and "at step 10, is in best.npz" in line for line in logs)
    best = serialization.load(tmp_path / "run" / "best.npz")
    assert best["step"] == 10
    for name, weights in at_step_10.items():
        np.testing.assert_array_equal(best["model"][name], weights, err_msg=name)
    # The count goes on from step 10 when the run is resumed again with more patience.
    assert serialization.load(tmp_path / "run" / "checkpoint.npz")["patience_start"] == 10


def test_a_fresh_run_removes_a_replaced_runs_best_model(config, tmp_path, monkeypatch):
    scripted_validation(monkeypatch, [3.0, 2.0, 1.0])  # the last is the final step's evaluation
    run(config, steps=10, eval_every=5, patience=1)
    assert (tmp_path / "run" / "best.npz").exists()
    run(config, steps=4, eval_every=0, overwrite=True)
    assert not (tmp_path / "run" / "best.npz").exists()


def test_bad_schedule_options_are_refused_with_the_flag_name(config):
    with pytest.raises(ValueError, match="--lr-schedule must be one of constant, cosine"):
        run(config, lr_schedule="linear")
    with pytest.raises(ValueError, match="--warmup must be an integer >= 0"):
        run(config, warmup=-1)
    with pytest.raises(ValueError, match=r"--min-lr must be in \[0, --lr\] = \[0, 0.01\], got 0.5"):
        run(config, lr_schedule="cosine", min_lr=0.5)
    with pytest.raises(ValueError, match="--min-lr applies to --lr-schedule cosine only"):
        run(config, min_lr=1e-4)
    with pytest.raises(ValueError, match="--patience counts evaluations.*--eval-every > 0"):
        run(config, patience=2, eval_every=0)
    with pytest.raises(ValueError, match="--patience must be an integer >= 0"):
        run(config, patience=1.5)
    for name, flag in (("min_lr", "--min-lr"), ("val_fraction", "--val-fraction"), ("lr", "--lr"),
                       ("momentum", "--momentum"), ("clip", "--clip")):
        with pytest.raises(TypeError, match=f"{flag} must be a number, got 'x'"):
            run(config, **{name: "x"})


# -- dropout --------------------------------------------------------------------------------------

def test_a_dropout_run_stopped_and_resumed_gives_bitwise_the_same_losses(config, tmp_path):
    options = {"cell": "lstm", "layers": 2, "dropout": 0.3, "steps": 16}

    def stop_at_7(step, loss):
        if step == 7:
            raise KeyboardInterrupt

    out = str(tmp_path / "split")
    train(dataclasses.replace(config, **options, out=out), progress=False, log=quiet, callback=stop_at_7)
    resumed = run(config, **options, out=out, resume=True)
    straight = run(config, **options, out=str(tmp_path / "straight"))
    np.testing.assert_array_equal(resumed.history["train_loss"], straight.history["train_loss"])
    np.testing.assert_array_equal(resumed.history["val_loss"], straight.history["val_loss"])
    plain = run(config, **{**options, "dropout": 0.0}, out=str(tmp_path / "plain"))
    assert not np.array_equal(plain.history["train_loss"], straight.history["train_loss"])


def test_a_run_may_change_dropout_and_resume_a_checkpoint_from_before_dropout(config, tmp_path):
    first = run(config, steps=6)
    path = tmp_path / "run" / "checkpoint.npz"
    checkpoint = serialization.load(path)
    del checkpoint["model_config"]["dropout"]  # as written before the option existed
    serialization.save(checkpoint, path)
    resumed = run(config, steps=10, dropout=0.2, resume=True)
    assert first.step == 6 and resumed.step == 10 and resumed.model.dropout == 0.2
    with pytest.raises(ValueError, match=r"--dropout must be in \[0, 1\), got 1.0"):
        run(config, dropout=1.0)


@pytest.mark.parametrize("optimizer", list(DEFAULT_LR))
def test_every_optimizer_trains_and_resumes_bitwise(config, tmp_path, optimizer):
    # RAdam's first five steps move by lr * m_hat only (5e-3 of a gradient), and its rectified
    # rate then starts near 0: it needs more steps than the others before the loss falls.
    steps = 40 if optimizer == "radam" else 8
    straight = run(config, optimizer=optimizer, lr=None, steps=steps, out=str(tmp_path / "straight"))
    run(config, optimizer=optimizer, lr=None, steps=steps // 2, out=str(tmp_path / "split"))
    resumed = run(config, optimizer=optimizer, lr=None, steps=steps, out=str(tmp_path / "split"),
                  resume=True)
    np.testing.assert_array_equal(resumed.history["train_loss"], straight.history["train_loss"])
    assert straight.config.lr == DEFAULT_LR[optimizer]
    assert straight.history["train_loss"][-2:].mean() < straight.history["train_loss"][:2].mean()

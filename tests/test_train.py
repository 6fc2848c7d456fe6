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

from tinygrad_rnn import serialization
from tinygrad_rnn.nn import RecurrentModel
from tinygrad_rnn.sample import CHECKPOINT_FORMAT, load_checkpoint
from tinygrad_rnn.train import LOG_COLUMNS, TrainConfig, TrainingDiverged, train

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
        "step", "batch_state", "hidden", "rng_state", "history", "data_sha256",
    }
    assert checkpoint["format"] == CHECKPOINT_FORMAT and checkpoint["step"] == 9
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
    with pytest.raises(ValueError, match=r"steps.*than seq_len|seq_len"):
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

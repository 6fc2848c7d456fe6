"""Generation, evaluation and checkpoint loading of trained language models."""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import Counter

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import serialization
from tinygrad_rnn.cli import main
from tinygrad_rnn.data import CharTokenizer, WordTokenizer
from tinygrad_rnn.nn import RecurrentModel
from tinygrad_rnn.sample import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    default_prime,
    evaluate,
    evaluate_validation,
    generate,
    load_checkpoint,
    mean_loss,
)
from tinygrad_rnn.serialization import CheckpointError

TEXT = "to be, or not to be: that is the question.\n"


@pytest.fixture
def tokenizer() -> CharTokenizer:
    return CharTokenizer.fit(TEXT)


@pytest.fixture
def model(tokenizer) -> RecurrentModel:
    vocab = len(tokenizer)
    return RecurrentModel("gru", vocab, 12, vocab, rng=np.random.default_rng(0)).to("float64")


def test_temperature_zero_is_the_argmax_at_every_step(model, tokenizer):
    text = generate(model, tokenizer, "to be", 15, temperature=0)
    ids = list(tokenizer.encode("to be"))
    with tg.no_grad():
        for _ in range(15):
            outputs, _ = model.forward(np.array(ids).reshape(-1, 1))
            ids.append(int(np.argmax(outputs.data[-1, 0])))
    assert text == tokenizer.decode(ids[5:])
    assert generate(model, tokenizer, "to be", 15, temperature=0) == text


def test_a_tiny_temperature_is_greedy_without_warnings(model, tokenizer):
    # (logits - max) / 1e-320 overflows to -inf below the max: right, but NumPy warned the user.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny = generate(model, tokenizer, "to be", 15, temperature=1e-320)
    assert tiny == generate(model, tokenizer, "to be", 15, temperature=0)


def test_top_k_1_is_greedy_whatever_the_rng_and_temperature(model, tokenizer):
    greedy = generate(model, tokenizer, "that", 20, temperature=0)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        assert generate(model, tokenizer, "that", 20, temperature=1.5, top_k=1, rng=rng) == greedy


def test_a_seed_reproduces_a_sample_and_another_seed_changes_it(model, tokenizer):
    def sample(seed):
        return generate(model, tokenizer, "is ", 40, temperature=1.0, rng=np.random.default_rng(seed))

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)
    assert len(sample(1)) == 40


def test_top_k_only_draws_among_the_k_most_likely(model, tokenizer):
    ids = tokenizer.encode("t")
    with tg.no_grad():
        logits = model.forward(ids.reshape(-1, 1))[0].data[-1, 0]
    allowed = {tokenizer.vocab[i] for i in np.argsort(-logits)[:3]}
    drawn = {generate(model, tokenizer, "t", 1, temperature=5.0, top_k=3, rng=np.random.default_rng(s))
             for s in range(40)}
    assert drawn <= allowed and len(drawn) > 1


def test_infinite_temperature_draws_uniformly_among_the_top_k(model, tokenizer):
    ids = tokenizer.encode("t")
    with tg.no_grad():
        logits = model.forward(ids.reshape(-1, 1))[0].data[-1, 0]
    allowed = {tokenizer.vocab[i] for i in np.argsort(-logits)[:3]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" from (-inf - max) / inf
        drawn = Counter(generate(model, tokenizer, "t", 1, temperature=math.inf, top_k=3,
                                 rng=np.random.default_rng(seed)) for seed in range(90))
        everything = {generate(model, tokenizer, "t", 1, temperature=math.inf,
                               rng=np.random.default_rng(seed)) for seed in range(90)}
    assert set(drawn) == allowed and min(drawn.values()) >= 15  # about 30 each
    assert len(everything) > 10  # without top_k: any of the vocabulary


def test_bad_argument_types_are_refused_naming_generate(model, tokenizer):
    for temperature in ("1", None, True):
        message = f"generate: temperature must be a number >= 0, got {temperature!r}"
        with pytest.raises(TypeError, match=message):
            generate(model, tokenizer, "to", 5, temperature=temperature)
    with pytest.raises(ValueError, match="generate: temperature must be >= 0, got nan"):
        generate(model, tokenizer, "to", 5, temperature=math.nan)
    with pytest.raises(TypeError, match="generate: the prime must be a str, got NoneType None"):
        generate(model, tokenizer, None, 5)


def test_mean_loss_refuses_an_id_out_of_the_vocabulary_even_as_the_last_target(model, tokenizer):
    # A -100 as the last id (a target only) was ignored by cross_entropy, yet counted: half the loss.
    vocab = len(tokenizer)
    with pytest.raises(ValueError, match=rf"mean_loss: token ids must lie in \[0, {vocab}\), got \[-100\]"):
        mean_loss(model, np.array([1, 2, -100]))


def test_mean_loss_refuses_sizes_that_are_not_integers(model, tokenizer):
    ids = tokenizer.encode(TEXT)
    with pytest.raises(TypeError, match="mean_loss: streams must be an integer >= 1, got 2.5"):
        mean_loss(model, ids, streams=2.5)
    with pytest.raises(TypeError, match="mean_loss: seq_len must be an integer >= 1, got None"):
        mean_loss(model, ids, seq_len=None)


def test_stream_receives_the_text_piece_by_piece(model, tokenizer):
    pieces = []
    text = generate(model, tokenizer, "not", 12, rng=np.random.default_rng(0), stream=pieces.append)
    assert len(pieces) == 12 and "".join(pieces) == text


def test_word_pieces_carry_their_spaces():
    tokenizer = WordTokenizer.fit("the cat sat on the mat . the dog , too .")
    vocab = len(tokenizer)
    model = RecurrentModel("rnn", vocab, 8, vocab, rng=np.random.default_rng(3))
    pieces = []
    text = generate(model, tokenizer, "the cat", 25, rng=np.random.default_rng(0), stream=pieces.append)
    assert "".join(pieces) == text
    for piece in pieces:  # one token each, with the space that join() puts before words
        symbol = piece.lstrip(" ")
        assert symbol in tokenizer.vocab
        assert piece == (symbol if symbol in {".", ","} else " " + symbol)


def test_a_prime_with_unknown_symbols_is_refused_naming_them(model, tokenizer):
    with pytest.raises(ValueError, match=r"2 symbol\(s\).*'Z', '#'"):
        generate(model, tokenizer, "to Z#Z", 5)
    with pytest.raises(ValueError, match="no symbols"):
        generate(model, tokenizer, "", 5)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, tokenizer, "to", 5, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        generate(model, tokenizer, "to", 5, top_k=0)


def test_mean_loss_in_one_stream_is_the_loss_of_the_whole_text(model, tokenizer):
    ids = tokenizer.encode(TEXT * 3)
    with tg.no_grad():
        whole, _ = model.loss(ids[:-1].reshape(-1, 1), ids[1:].reshape(-1, 1))
    assert math.isclose(mean_loss(model, ids, streams=1, seq_len=7), whole.item(), rel_tol=1e-12)
    # Parallel streams score every token once; only the first steps of each stream see less context.
    assert math.isclose(mean_loss(model, ids, streams=5, seq_len=7), whole.item(), rel_tol=0.05)


def test_sampling_and_scoring_run_in_eval_mode_and_restore_the_mode(tokenizer):
    vocab = len(tokenizer)
    dropped = RecurrentModel("lstm", vocab, 12, vocab, num_layers=2, dropout=0.5, dtype="float64",
                             rng=np.random.default_rng(0))
    plain = RecurrentModel("lstm", vocab, 12, vocab, num_layers=2, dtype="float64")
    plain.load_state_dict(dropped.state_dict())
    ids = tokenizer.encode(TEXT * 2)
    assert mean_loss(dropped, ids, streams=3) == mean_loss(plain, ids, streams=3)
    assert generate(dropped, tokenizer, "to", 20, temperature=0) == generate(plain, tokenizer, "to", 20,
                                                                             temperature=0)
    assert dropped.training  # back in training mode
    dropped.eval()
    mean_loss(dropped, ids)
    assert not dropped.training


def test_evaluate_skips_and_counts_unknown_symbols_without_unk(model, tokenizer):
    report = evaluate(model, tokenizer, "to be Xor not to be? Q")
    assert report["unknown"] == 3 and report["unknown_handling"] == "skipped"
    assert report["tokens"] == len("to be Xor not to be? Q") - 3
    assert math.isclose(report["nats_per_token"], mean_loss(model, tokenizer.encode("to be or not to be ")))
    assert math.isclose(report["bits_per_char"], report["nats_per_token"] / math.log(2))


def test_evaluate_maps_unknown_symbols_to_unk_when_the_vocabulary_has_it():
    tokenizer = CharTokenizer.fit(TEXT, unk=True)
    vocab = len(tokenizer)
    model = RecurrentModel("lstm", vocab, 6, vocab, rng=np.random.default_rng(1))
    report = evaluate(model, tokenizer, "to be Xor not?")
    assert report["unknown"] == 2 and report["unknown_handling"] == "mapped to <unk>"
    assert report["tokens"] == len("to be Xor not?")


def test_evaluate_reports_perplexity_for_words():
    tokenizer = WordTokenizer.fit(TEXT)
    vocab = len(tokenizer)
    model = RecurrentModel("gru", vocab, 6, vocab, rng=np.random.default_rng(1))
    report = evaluate(model, tokenizer, TEXT + " whether tis nobler")
    assert report["level"] == "word" and report["unknown"] == 3
    assert math.isclose(report["perplexity"], math.exp(report["nats_per_token"]))
    assert "bits_per_char" not in report


def save_checkpoint(path, model, tokenizer, **changes):
    checkpoint = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                  "model_config": model.config(), "model": dict(model.state_dict()),
                  "tokenizer": tokenizer.to_dict(), **changes}
    serialization.save(checkpoint, path)
    return path


def test_load_checkpoint_accepts_the_file_or_its_run_folder(model, tokenizer, tmp_path):
    save_checkpoint(tmp_path / "checkpoint.npz", model, tokenizer)
    for where in (tmp_path, tmp_path / "checkpoint.npz"):
        loaded, loaded_tokenizer, checkpoint = load_checkpoint(where)
        assert loaded_tokenizer == tokenizer and checkpoint["format"] == CHECKPOINT_FORMAT
        assert generate(loaded, tokenizer, "to", 10, temperature=0) == generate(model, tokenizer, "to", 10,
                                                                                temperature=0)


def test_load_checkpoint_refuses_missing_foreign_and_mismatched_files(model, tokenizer, tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint or run folder"):
        load_checkpoint(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="holds no checkpoint.npz"):
        load_checkpoint(tmp_path)
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="foreign.npz"):
        load_checkpoint(tmp_path / "foreign.npz")
    serialization.save({"step": 3}, tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match="not a language-model checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    bigger = {**model.config(), "hidden_size": 20}
    save_checkpoint(tmp_path / "arch.npz", model, tokenizer, model_config=bigger)
    mismatch = "(?s)do not fit the saved architecture.*hidden 20.*shape mismatch"
    with pytest.raises(CheckpointError, match=mismatch):
        load_checkpoint(tmp_path / "arch.npz")
    other_vocab = CharTokenizer.fit("abc")
    save_checkpoint(tmp_path / "vocab.npz", model, other_vocab)
    with pytest.raises(CheckpointError, match="another vocabulary"):
        load_checkpoint(tmp_path / "vocab.npz")
    # It loaded, and generate and evaluate then failed on inputs of the wrong shape.
    dense = {**model.config(), "input_kind": "dense"}
    save_checkpoint(tmp_path / "dense.npz", model, tokenizer, model_config=dense)
    with pytest.raises(CheckpointError, match="reads input_kind='dense', not token ids"):
        load_checkpoint(tmp_path / "dense.npz")


@pytest.mark.parametrize("options", [
    {"cell": "lstm", "num_layers": 2, "embedding_dim": 5},
    {"cell": "rnn", "nonlinearity": "relu", "bias": False},
    {"cell": "gru", "dropout": 0.3},
], ids=["lstm-2-layers-embedding", "rnn-relu-no-bias", "gru-dropout"])
def test_load_checkpoint_rebuilds_every_architecture(tokenizer, tmp_path, options):
    vocab = len(tokenizer)
    model = RecurrentModel(input_size=vocab, hidden_size=7, output_size=vocab, dtype="float64",
                           rng=np.random.default_rng(0), **options)
    loaded, _, _ = load_checkpoint(save_checkpoint(tmp_path / "c.npz", model, tokenizer))
    assert loaded.config() == model.config()
    for (name, saved), (_, restored) in zip(model.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(saved, restored, err_msg=name)


def test_load_checkpoint_compares_shapes_before_building_a_huge_model(model, tokenizer, tmp_path):
    # Built first, hidden_size=10**7 would ask for petabytes (MemoryError) before any check.
    huge = {**model.config(), "hidden_size": 10**7}
    save_checkpoint(tmp_path / "huge.npz", model, tokenizer, model_config=huge)
    with pytest.raises(CheckpointError, match=r"huge\.npz: the weights do not fit .*hidden 10000000.*"
                       r"rnn\.weight_hh_l0 is \(36, 12\), the configuration needs \(30000000, 10000000\)"):
        load_checkpoint(tmp_path / "huge.npz")
    deep = {**model.config(), "num_layers": 3}
    save_checkpoint(tmp_path / "deep.npz", model, tokenizer, model_config=deep)
    with pytest.raises(CheckpointError, match=r"deep\.npz: .*missing \['rnn\.weight_ih_l1'"):
        load_checkpoint(tmp_path / "deep.npz")
    save_checkpoint(tmp_path / "deeper.npz", model, tokenizer, model_config={**deep, "num_layers": 10**9})
    with pytest.raises(CheckpointError, match="1000000000 layers, but only 6 weight arrays are saved"):
        load_checkpoint(tmp_path / "deeper.npz")


def test_load_checkpoint_refuses_version_true(model, tokenizer, tmp_path):
    save_checkpoint(tmp_path / "c.npz", model, tokenizer, version=True)  # True == 1 in Python
    with pytest.raises(CheckpointError, match="c.npz: unsupported language-model checkpoint version True"):
        load_checkpoint(tmp_path / "c.npz")


def test_a_vocabulary_of_only_unk_has_no_default_prime(tmp_path, capsys):
    # A word model trained with too high a min_freq: default_prime used to end in a bare StopIteration.
    tokenizer = WordTokenizer(["<unk>"])
    with pytest.raises(ValueError, match="default_prime: the model's vocabulary holds only <unk>"):
        default_prime(tokenizer)
    model = RecurrentModel("gru", 1, 4, 1, rng=np.random.default_rng(0))
    save_checkpoint(tmp_path / "unk.npz", model, tokenizer)
    assert main(["sample", str(tmp_path / "unk.npz"), "--length", "5"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("tinygrad-rnn: error: default_prime: ") and len(err.splitlines()) == 1


def test_evaluate_validation_says_which_text_it_read(model, tokenizer, tmp_path, monkeypatch):
    # A checkpoint from before paths were recorded absolute: "text.txt" is read from the current
    # folder, where another text.txt is not "the training text, changed since".
    train_config = {"data": "text.txt", "val_fraction": 0.2, "batch": 2, "seq_len": 8}
    sha256 = hashlib.sha256(TEXT.encode("utf-8")).hexdigest()
    checkpoint = {"train_config": train_config, "data_sha256": sha256}
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"this run was trained on the text at text.txt \(recorded "
                       r"relative to the folder training ran in; read here as .*text.txt\), which does "
                       r"not exist"):
        evaluate_validation(model, tokenizer, checkpoint)
    (tmp_path / "text.txt").write_text("to be or not", encoding="utf-8")
    with pytest.raises(ValueError, match=r"the text at text.txt .* is not the text this run was trained on "
                       r"\(its SHA-256 differs: it has changed since, or it is another file\)"):
        evaluate_validation(model, tokenizer, checkpoint)
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    assert evaluate_validation(model, tokenizer, checkpoint)["tokens"] == round(len(TEXT) * 0.2)

"""Data path: tokenizers, corpus loading, train/validation split, truncated-BPTT batches."""

import json
import unicodedata

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn.data import (
    BatchStream,
    CharTokenizer,
    WordTokenizer,
    default_corpus_path,
    load_text,
    tokenizer_from_dict,
    train_val_split,
)

# Words, apostrophes, punctuation, brackets, unicode letters and marks, all kinds of spaces.
texts = st.text(
    alphabet=st.sampled_from(list("abcXYZ019_'’.,;:!?()[]{}-\"éß中\u0301\u0307\u093e \t\n\r\u00a0")),
    max_size=60
)


# --- tokenizers ---------------------------------------------------------------------


@given(st.text(min_size=1, max_size=80))
def test_char_round_trip_is_exact_for_any_text(text):
    tokenizer = CharTokenizer.fit(text)
    ids = tokenizer.encode(text)
    assert ids.dtype == np.int64 and len(ids) == len(text)
    assert tokenizer.decode(ids) == text
    assert tokenizer.vocab == sorted(set(text)) and len(tokenizer) == len(set(text))


@given(st.text(min_size=1, max_size=40), st.data())
def test_char_round_trip_on_any_text_over_the_fitted_alphabet(alphabet, data):
    tokenizer = CharTokenizer.fit(alphabet)
    text = data.draw(st.text(alphabet=sorted(set(alphabet)), max_size=40))
    assert tokenizer.decode(tokenizer.encode(text)) == text


@given(texts | st.text(max_size=60), st.booleans())
def test_word_encode_decode_encode_is_stable(text, lower):
    tokenizer = WordTokenizer.fit(text + " x", lower=lower)
    ids = tokenizer.encode(text)
    assert 0 not in ids.tolist()
    np.testing.assert_array_equal(tokenizer.encode(tokenizer.decode(ids)), ids)


def test_word_split_and_decode():
    tokenizer = WordTokenizer.fit("'Tis the King's o'er-worn crown (gold), said he.\nAy!")
    assert tokenizer.split("'Tis the King's o'er-worn (gold), he.") == [
        "'", "Tis", "the", "King's", "o'er", "-", "worn", "(", "gold", ")", ",", "he", ".",
    ]
    ids = tokenizer.encode("said he.\n\n  Ay! (gold), the   King's")
    assert tokenizer.decode(ids) == "said he. Ay! (gold), the King's"


def test_word_accents_written_apart_and_curly_apostrophes_stay_in_their_word():
    # Decomposed accents (NFD, as macOS writes) split every accented word: 'cafe ́ de ́ ja ̀ vu'.
    decomposed = unicodedata.normalize("NFD", "café déjà vu")
    tokenizer = WordTokenizer.fit(decomposed)
    assert tokenizer.vocab == ["<unk>", "café", "déjà", "vu"]
    assert tokenizer.decode(tokenizer.encode(decomposed)) == "café déjà vu"
    np.testing.assert_array_equal(tokenizer.encode("café déjà vu"), tokenizer.encode(decomposed))
    assert WordTokenizer.fit("İzmir", lower=True).vocab == ["<unk>", "i\u0307zmir"]  # no composed form
    assert WordTokenizer.fit("नमस्ते दुनिया").split("नमस्ते") == ["नमस्ते"]  # vowel signs are marks
    curly = WordTokenizer.fit("don’t, she said")
    assert curly.split("don’t, she said") == ["don’t", ",", "she", "said"]
    assert curly.decode(curly.encode("don’t, she said")) == "don’t, she said"
    comma = WordTokenizer.fit(unicodedata.normalize("NFD", "café, ok"))
    assert comma.split("café, ok") == ["café", ",", "ok"]
    # A mark apart from "(" (hypothesis found it): decoding glued it on, and re-encoding then
    # read one unknown token "(́".
    stray = WordTokenizer.fit("( \u0301 x")
    assert stray.split("( \u0301") == ["(", "\u0301"]
    assert stray.split(stray.decode(stray.encode("( \u0301"))) == ["(", "\u0301"]


def test_word_vocab_is_sorted_with_unk_first():
    tokenizer = WordTokenizer.fit("b a c a . b")
    assert tokenizer.vocab == ["<unk>", ".", "a", "b", "c"]
    assert tokenizer.unk_id == 0


def test_word_min_freq_and_lower():
    text = "The cat and the dog and THE bird."
    assert WordTokenizer.fit(text, min_freq=2).vocab == ["<unk>", "and"]
    lowered = WordTokenizer.fit(text, lower=True, min_freq=2)
    assert lowered.vocab == ["<unk>", "and", "the"]
    np.testing.assert_array_equal(lowered.encode("THE And the", unknown="error"), [2, 1, 2])
    np.testing.assert_array_equal(lowered.encode("the cat", unknown="unk"), [2, 0])
    with pytest.raises(ValueError, match="min_freq must be >= 1"):
        WordTokenizer.fit(text, min_freq=0)


def test_char_unk_only_when_asked():
    assert CharTokenizer.fit("ba").vocab == ["a", "b"]
    with_unk = CharTokenizer.fit("ba", unk=True)
    assert with_unk.vocab == ["<unk>", "a", "b"]
    np.testing.assert_array_equal(with_unk.encode("abz", unknown="unk"), [1, 2, 0])
    assert with_unk.decode([1, 0]) == "a<unk>"


def test_unknown_error_names_symbols_and_count():
    tokenizer = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match=r"8 symbol\(s\).*\(7 distinct\).*3-symbol vocabulary: "
                       r"'x', 'y', 'z', '!', '\\n', \.\.\.$"):
        tokenizer.encode("axyz!\nQRax")
    with pytest.raises(ValueError, match=r"1 symbol\(s\) .*: 'é'$"):
        tokenizer.encode("é", unknown="error")


def test_unknown_unk_needs_an_unk_symbol():
    with pytest.raises(ValueError, match=r"'q'.*needs a '<unk>' symbol.*unk=True"):
        CharTokenizer.fit("abc").encode("aq", unknown="unk")
    np.testing.assert_array_equal(CharTokenizer.fit("abc").encode("ca", unknown="unk"), [2, 0])


def test_word_unknown_maps_to_unk():
    tokenizer = WordTokenizer.fit("to be or not")
    np.testing.assert_array_equal(tokenizer.encode("to see or", unknown="unk"), [4, 0, 3])
    with pytest.raises(ValueError, match="'see'"):
        tokenizer.encode("to see or")


def test_bad_unknown_policy():
    with pytest.raises(ValueError, match="unknown must be 'error' or 'unk', got 'skip'"):
        CharTokenizer.fit("a").encode("a", unknown="skip")


def test_count_unknown():
    assert CharTokenizer.fit("abc").count_unknown("abxxyc") == 3
    assert WordTokenizer.fit("to be", lower=True).count_unknown("To see, be") == 2


def test_decode_rejects_bad_ids():
    tokenizer = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match="id 3 is outside the vocabulary of size 3"):
        tokenizer.decode([0, 3])
    with pytest.raises(ValueError, match="1-D sequence of integer ids"):
        tokenizer.decode([[0]])
    assert tokenizer.decode([]) == ""


@pytest.mark.parametrize(
    "tokenizer",
    [CharTokenizer.fit("hello"), CharTokenizer.fit("hi", unk=True), WordTokenizer.fit("A b.", lower=True)],
)
def test_to_dict_from_dict_round_trip(tokenizer):
    d = json.loads(json.dumps(tokenizer.to_dict()))
    rebuilt = tokenizer_from_dict(d)
    assert rebuilt == tokenizer and type(rebuilt) is type(tokenizer)
    assert rebuilt.vocab == tokenizer.vocab
    assert type(tokenizer).from_dict(d) == tokenizer


def test_word_to_dict_keeps_lower():
    assert WordTokenizer.fit("A b", lower=True).to_dict() == {
        "kind": "word", "vocab": ["<unk>", "a", "b"], "lower": True,
    }


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"kind": "bpe", "vocab": ["a"]}, "unknown tokenizer kind 'bpe'"),
        ({"vocab": ["a"]}, "unknown tokenizer kind None"),
        ({"kind": "char", "vocab": ["a", "a"]}, "without duplicates"),
        ({"kind": "char", "vocab": ["ab"]}, "single characters"),
        ({"kind": "word", "vocab": ["a"], "lower": False}, "id 0 must be '<unk>'"),
    ],
)
def test_from_dict_rejects_bad_descriptions(d, message):
    with pytest.raises(ValueError, match=message):
        tokenizer_from_dict(d)


@pytest.mark.parametrize(
    ("d", "error", "message"),
    [
        ({"kind": "char", "vocab": ["a"], "x": 1}, ValueError,
         r"CharTokenizer.from_dict: unexpected key\(s\) \['x'\]"),
        ({"kind": "char"}, ValueError, "CharTokenizer.from_dict: no 'vocab' entry"),
        ({"kind": "char", "vocab": None}, TypeError,
         "CharTokenizer: vocab must be a list of str, got NoneType"),
        ({"kind": "char", "vocab": ["a", 1]}, TypeError, "vocabulary entries must be str, got 1 of type int"),
        ({"kind": ["char"], "vocab": ["a"]}, ValueError, r"unknown tokenizer kind \['char'\]"),
        ({"kind": "word", "vocab": ["<unk>"], "lower": "no"}, TypeError,
         "WordTokenizer: lower must be True or False, got 'no'"),
        (["char", ["a"]], TypeError, "tokenizer_from_dict: expected a dict .*, got list"),
    ],
)
def test_from_dict_refuses_wrong_keys_and_types(d, error, message):
    with pytest.raises(error, match=message):
        tokenizer_from_dict(d)


def test_tokenizers_refuse_values_of_the_wrong_type():
    with pytest.raises(TypeError, match="CharTokenizer: vocabulary entries must be str, got 1 of type int"):
        CharTokenizer([1, 2])
    with pytest.raises(TypeError, match="WordTokenizer: vocab must be a list of str, got int"):
        WordTokenizer(5)
    tokenizer = CharTokenizer.fit("abc")
    with pytest.raises(TypeError, match="encode: text must be a str, got NoneType"):
        tokenizer.encode(None)
    with pytest.raises(TypeError, match="count_unknown: text must be a str, got list"):
        tokenizer.count_unknown(["a"])
    with pytest.raises(TypeError, match="min_freq must be an integer, got 2.0"):
        WordTokenizer.fit("a b", min_freq=2.0)


def test_from_dict_checks_kind():
    with pytest.raises(ValueError, match="kind 'char' is not 'word'"):
        WordTokenizer.from_dict(CharTokenizer.fit("a").to_dict())


def test_fit_on_empty_text():
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.fit("")
    with pytest.raises(ValueError, match="no tokens"):
        WordTokenizer.fit(" \n ")


# --- corpus loading -------------------------------------------------------------------


def test_default_corpus_is_macbeth_inside_the_package():
    path = default_corpus_path()
    assert path.name == "macbeth.txt" and path.parent.name == "corpus"
    assert "shared" not in path.parts
    text = load_text()
    assert text.startswith("MACBETH\n\nby William Shakespeare")
    assert len(text) > 90_000 and text == path.read_text(encoding="utf-8")
    assert 50 < len(CharTokenizer.fit(text)) < 80


def test_load_text_file_keeps_bytes_exactly(tmp_path):
    (tmp_path / "a.txt").write_bytes("line one\r\nlïne two\n".encode())
    assert load_text(tmp_path / "a.txt") == "line one\r\nlïne two\n"
    assert load_text(str(tmp_path / "a.txt")) == "line one\r\nlïne two\n"


def test_load_text_folder_is_recursive_sorted_and_filtered(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / "b" / "deep" / "wiki.train.raw").write_text("raw")
    (tmp_path / "b" / "a.tokens").write_text("tokens")
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / "c.TXT").write_text("upper")
    (tmp_path / "notes.md").write_text("ignored")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\xff\xfe")
    (tmp_path / "dir.txt").mkdir()
    assert load_text(tmp_path) == "first\ntokens\nraw\nupper"


def test_load_text_refuses_an_empty_path_instead_of_reading_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "stray.txt").write_text("not meant as training text")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="load_text: the path is empty"):
        load_text("")
    with pytest.raises(TypeError, match="load_text: path must be a str, a path or None, got int"):
        load_text(3)


def test_load_text_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.txt does not exist"):
        load_text(tmp_path / "nothing.txt")


def test_load_text_empty_file(tmp_path):
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(ValueError, match=r"e\.txt is empty"):
        load_text(tmp_path / "e.txt")


def test_load_text_folder_of_empty_files(tmp_path):
    (tmp_path / "e.txt").write_text("")
    (tmp_path / "f.raw").write_text("")
    with pytest.raises(ValueError, match="the 2 text file.* are all empty"):
        load_text(tmp_path)


def test_load_text_folder_without_text_files(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(ValueError, match=r"no \*\.txt, \*\.raw, \*\.tokens files under"):
        load_text(tmp_path)


def test_load_text_non_utf8_names_file_and_offset(tmp_path):
    (tmp_path / "ok.txt").write_text("fine")
    (tmp_path / "z.txt").write_bytes(b"caf\xe9 au lait")
    with pytest.raises(ValueError, match=r"z\.txt is not UTF-8 text: .* at byte offset 3"):
        load_text(tmp_path)


def test_load_text_drops_a_byte_order_mark_at_the_start_of_each_file(tmp_path):
    # It became a symbol of the vocabulary (and of samples), as an invisible first character.
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfone")
    (tmp_path / "b.txt").write_bytes(b"\xef\xbb\xbftwo \xef\xbb\xbf")
    assert load_text(tmp_path / "a.txt") == "one"
    assert load_text(tmp_path) == "one\ntwo \ufeff"  # only a leading one is a mark


# --- train/validation split -----------------------------------------------------------


@given(st.integers(2, 200), st.floats(0.01, 0.9))
def test_split_is_by_position(n, fraction):
    ids = np.arange(n)
    n_val = round(n * fraction)
    if n_val in (0, n):
        with pytest.raises(ValueError, match="both must be non-empty"):
            train_val_split(ids, fraction)
        return
    train, val = train_val_split(ids, fraction)
    assert len(val) == n_val
    np.testing.assert_array_equal(np.concatenate([train, val]), ids)


def test_split_examples_and_errors():
    train, val = train_val_split(np.arange(100), 0.29)
    assert (len(train), len(val)) == (71, 29)
    train, val = train_val_split(np.arange(5), 0.0)
    assert len(train) == 5 and len(val) == 0
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got 1"):
        train_val_split(np.arange(5), 1)
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got -0.1"):
        train_val_split(np.arange(5), -0.1)
    with pytest.raises(ValueError, match="val_fraction=0.1 of 4 tokens gives 4 training and 0 validation"):
        train_val_split(np.arange(4), 0.1)
    with pytest.raises(ValueError, match="1-D integer array"):
        train_val_split(np.zeros(4), 0.5)
    with pytest.raises(TypeError, match="train_val_split: val_fraction must be a number, got '0.1'"):
        train_val_split(np.arange(5), "0.1")
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got nan"):
        train_val_split(np.arange(5), float("nan"))


# --- truncated-BPTT batches -----------------------------------------------------------

streams = st.integers(1, 6).flatmap(
    lambda batch_size: st.integers(1, 9).flatmap(
        lambda seq_len: st.tuples(
            st.just(batch_size),
            st.just(seq_len),
            st.integers(batch_size * seq_len + 1, batch_size * seq_len * 4 + 12),
            st.booleans(),
        )
    )
)


@given(streams)
def test_epoch_covers_every_stream_position_once_in_order(params):
    batch_size, seq_len, num_tokens, drop_last = params
    ids = np.arange(num_tokens) * 7  # distinct values, so a position is known by its value
    batches = BatchStream(ids, batch_size, seq_len, drop_last=drop_last)
    steps = (num_tokens - 1) // batch_size
    windows = list(batches)
    assert len(windows) == len(batches)
    for inputs, targets in windows:
        assert inputs.dtype == targets.dtype == np.int64
        assert inputs.shape == targets.shape and inputs.shape[1] == batch_size
        assert 1 <= inputs.shape[0] <= seq_len
    assert all(inputs.shape[0] == seq_len for inputs, _ in windows[:-1])
    inputs = np.concatenate([x for x, _ in windows])
    targets = np.concatenate([y for _, y in windows])
    kept = steps if not drop_last else steps - steps % seq_len
    for b in range(batch_size):
        np.testing.assert_array_equal(inputs[:, b], ids[b * steps: b * steps + kept])
        np.testing.assert_array_equal(targets[:, b], ids[b * steps + 1: b * steps + kept + 1])
    assert batches.state_dict()["epoch"] == 1 and batches.state_dict()["window"] == 0


@given(streams, st.data())
def test_resume_from_state_dict_gives_the_same_remaining_windows(params, data):
    batch_size, seq_len, num_tokens, drop_last = params
    ids = np.arange(num_tokens)
    reference = BatchStream(ids, batch_size, seq_len, drop_last=drop_last)
    expected = list(reference) + list(reference)  # two epochs
    stop = data.draw(st.integers(0, len(expected) - 1))

    interrupted = BatchStream(ids, batch_size, seq_len, drop_last=drop_last)
    seen = []
    while len(seen) <= stop:
        for window in interrupted:
            seen.append(window)
            if len(seen) > stop:
                state = interrupted.state_dict()
                break
    resumed = BatchStream(ids, batch_size, seq_len, drop_last=drop_last)
    resumed.load_state_dict(json.loads(json.dumps(state)))
    rest = []
    while resumed.epoch < 2:
        rest += list(resumed)
    assert len(seen) + len(rest) == len(expected)
    for (x, y), (want_x, want_y) in zip(seen + rest, expected):
        np.testing.assert_array_equal(x, want_x)
        np.testing.assert_array_equal(y, want_y)


def test_windows_continue_each_other_and_are_read_only():
    batches = BatchStream(np.arange(21), batch_size=2, seq_len=4)
    assert len(batches) == 3 and batches.steps_per_stream == 10
    (x0, y0), (x1, _), (x2, y2) = batches
    np.testing.assert_array_equal(x0, [[0, 10], [1, 11], [2, 12], [3, 13]])
    np.testing.assert_array_equal(y0, [[1, 11], [2, 12], [3, 13], [4, 14]])
    np.testing.assert_array_equal(x1[0], y0[-1])
    np.testing.assert_array_equal(x2, [[8, 18], [9, 19]])
    np.testing.assert_array_equal(y2, [[9, 19], [10, 20]])
    with pytest.raises(ValueError, match="read-only"):
        x0[0, 0] = 5
    assert len(BatchStream(np.arange(21), batch_size=2, seq_len=4, drop_last=True)) == 2


def test_too_short_stream_names_all_sizes():
    with pytest.raises(ValueError, match=r"100 tokens .*batch_size=10 .*9 steps.*seq_len=10"):
        BatchStream(np.arange(100), batch_size=10, seq_len=10)
    with pytest.raises(ValueError, match=r"3 tokens .*batch_size=5 .*0 steps.*seq_len=1"):
        BatchStream(np.arange(3), batch_size=5, seq_len=1)
    with pytest.raises(ValueError, match="must be >= 1, got batch_size=0, seq_len=3"):
        BatchStream(np.arange(30), batch_size=0, seq_len=3)
    with pytest.raises(ValueError, match="1-D integer array"):
        BatchStream(np.arange(30).reshape(5, 6), batch_size=1, seq_len=3)


@pytest.mark.parametrize("bad", [2.5, None, True, "5"], ids=repr)
@pytest.mark.parametrize("name", ["batch_size", "seq_len"])
def test_batch_sizes_must_be_integers(name, bad):
    sizes = {"batch_size": 2, "seq_len": 3, name: bad}
    with pytest.raises(TypeError, match=f"BatchStream: {name} must be an integer, got {bad!r}"):
        BatchStream(np.arange(30), **sizes)


def test_drop_last_must_be_a_bool():
    with pytest.raises(TypeError, match="BatchStream: drop_last must be True or False, got 'no'"):
        BatchStream(np.arange(30), 2, 3, drop_last="no")


def test_load_state_dict_refuses_other_streams_and_positions():
    batches = BatchStream(np.arange(50), batch_size=2, seq_len=5)
    state = batches.state_dict()
    with pytest.raises(ValueError, match=r"batch_size=2 \(this stream: 3\)"):
        BatchStream(np.arange(50), batch_size=3, seq_len=5).load_state_dict(state)
    with pytest.raises(ValueError, match=r"window=5 is not a position .* 5 windows"):
        batches.load_state_dict({**state, "window": 5})
    with pytest.raises(ValueError, match="expected keys"):
        batches.load_state_dict({"epoch": 0, "window": 0})
    with pytest.raises(TypeError, match=r"BatchStream.load_state_dict: expected a dict from state_dict\(\), "
                                        r"got NoneType"):
        batches.load_state_dict(None)


def test_fit_refuses_what_is_not_text():
    # None was "the text is empty"; an int failed inside set() or the regex.
    for fit in (CharTokenizer.fit, WordTokenizer.fit):
        for text in (None, 123, b"bytes"):
            with pytest.raises(TypeError, match=rf"^{fit.__qualname__}: text must be a str, got "):
                fit(text)


def test_a_position_loaded_while_a_loop_runs_moves_the_loop_there():
    # The loop went on from its own count (window 1) and then overwrote the loaded position.
    batches = BatchStream(np.arange(50), batch_size=2, seq_len=5)
    windows = iter(batches)
    next(windows)
    batches.load_state_dict({**batches.state_dict(), "window": 0})
    np.testing.assert_array_equal(next(windows)[0][0], [0, 24])
    assert batches.state_dict()["window"] == 1
    last = len(batches) - 1  # loaded in the body of an epoch's last window, the loop goes on
    seen = []
    for inputs, _ in batches:
        seen.append(int(inputs[0, 0]))
        if len(seen) == 4:
            batches.load_state_dict({**batches.state_dict(), "epoch": 1, "window": last})
    assert seen == [5, 10, 15, 20, 20] and batches.state_dict()["epoch"] == 2


def test_load_state_dict_refuses_bools_where_integers_belong():
    batches = BatchStream(np.arange(50), batch_size=1, seq_len=5)
    state = batches.state_dict()
    # True == 1 in Python: without a type check these would pass for epoch 1, window 1, batch_size 1.
    with pytest.raises(ValueError, match="epoch=True, window=0 is not a position"):
        batches.load_state_dict({**state, "epoch": True})
    with pytest.raises(ValueError, match="epoch=0, window=True is not a position"):
        batches.load_state_dict({**state, "window": True})
    with pytest.raises(ValueError, match=r"batch_size=True \(this stream: 1\)"):
        batches.load_state_dict({**state, "batch_size": True})
    assert batches.state_dict() == state

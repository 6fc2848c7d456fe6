"""Text in, token-id windows out: corpus loading, char/word tokenizers, truncated-BPTT batches.

The pieces of the language-model data path, in the order a training run uses them::

    text = load_text()                      # the built-in Macbeth, or a file / folder
    tokenizer = CharTokenizer.fit(text)     # or WordTokenizer.fit(text, lower=True)
    train_ids, val_ids = train_val_split(tokenizer.encode(text), val_fraction=0.1)
    batches = BatchStream(train_ids, batch_size=32, seq_len=64)
    for inputs, targets in batches:         # both int64, shape (seq_len, batch_size)
        ...

The tokenizer's :meth:`~Tokenizer.to_dict` is plain JSON, meant to be stored inside the
checkpoint next to the weights, and :func:`tokenizer_from_dict` rebuilds it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "UNK",
    "BatchStream",
    "CharTokenizer",
    "Tokenizer",
    "WordTokenizer",
    "default_corpus_path",
    "load_text",
    "tokenizer_from_dict",
    "train_val_split",
]

UNK = "<unk>"
TEXT_SUFFIXES = (".txt", ".raw", ".tokens")
_SHOWN_UNKNOWN = 5  # unknown symbols quoted in an error message


class Tokenizer:
    """A fixed vocabulary and the text <-> id mapping built on it.

    Subclasses say how text splits into symbols (:meth:`split`) and how symbols join back
    (:meth:`join`); encoding, decoding, the unknown-symbol policy and serialization are
    shared. Ids index :attr:`vocab`, which is sorted so that fitting the same text always
    gives the same ids.
    """

    kind = ""
    # The to_dict() entries besides "kind" and "vocab", which from_dict passes back.
    options: tuple[str, ...] = ()

    def __init__(self, vocab: Iterable[str]) -> None:
        name = type(self).__name__
        if isinstance(vocab, (str, bytes)) or not isinstance(vocab, Iterable):
            raise TypeError(f"{name}: vocab must be a list of str, got {type(vocab).__name__}")
        self.vocab: list[str] = list(vocab)
        odd = [symbol for symbol in self.vocab if not isinstance(symbol, str)]
        if odd:
            raise TypeError(f"{name}: vocabulary entries must be str, got {odd[0]!r} of type "
                            f"{type(odd[0]).__name__}")
        self._ids = {symbol: i for i, symbol in enumerate(self.vocab)}
        if not self.vocab or len(self._ids) != len(self.vocab):
            raise ValueError(
                f"{type(self).__name__}: the vocabulary must be non-empty and without "
                f"duplicates, got {len(self.vocab)} symbols of which {len(self._ids)} distinct"
            )

    def split(self, text: str) -> list[str]:
        """The symbols of ``text``, in order."""
        raise NotImplementedError

    def join(self, symbols: list[str]) -> str:
        """Text made of ``symbols``."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.vocab)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={len(self)})"

    @property
    def unk_id(self) -> int | None:
        """Id of ``<unk>``, or None when the vocabulary has none."""
        return self._ids.get(UNK)

    def count_unknown(self, text: str) -> int:
        """How many symbols of ``text`` are not in the vocabulary (for evaluation reports)."""
        _check_text(text, "count_unknown")
        return sum(symbol not in self._ids for symbol in self.split(text))

    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        """Ids of the symbols of ``text`` as a 1-D int64 array.

        Symbols outside the vocabulary follow ``unknown``:

        - ``"error"`` (default; used for sampling primes): raise ValueError quoting the first
          few unknown symbols and how many there are;
        - ``"unk"`` (used to evaluate on held-out text): map them to ``<unk>``; raise
          ValueError if the vocabulary has no ``<unk>``.

        >>> CharTokenizer.fit("abba").encode("ab")
        array([0, 1])
        """
        if not isinstance(unknown, str) or unknown not in ("error", "unk"):
            raise ValueError(f"encode: unknown must be 'error' or 'unk', got {unknown!r}")
        _check_text(text, "encode")
        symbols = self.split(text)
        missing = [symbol for symbol in symbols if symbol not in self._ids]
        if missing:
            distinct = list(dict.fromkeys(missing))
            shown = ", ".join(repr(symbol) for symbol in distinct[:_SHOWN_UNKNOWN])
            more = ", ..." if len(distinct) > _SHOWN_UNKNOWN else ""
            problem = (
                f"{len(missing)} symbol(s) of the text ({len(distinct)} distinct) are not in "
                f"the {len(self)}-symbol vocabulary: {shown}{more}"
            )
            if unknown == "error":
                raise ValueError(f"encode: {problem}")
            if self.unk_id is None:
                raise ValueError(
                    f"encode: {problem}; unknown='unk' needs a {UNK!r} symbol, which this "
                    f"vocabulary does not have (fit a CharTokenizer with unk=True)"
                )
        fallback = self.unk_id
        return np.array([self._ids.get(symbol, fallback) for symbol in symbols], dtype=np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Text of the symbols with these ids (``<unk>`` decodes to the string ``"<unk>"``)."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(
                f"decode: expected a 1-D sequence of integer ids, got shape {ids.shape} "
                f"dtype {ids.dtype}"
            )
        bad = ids[(ids < 0) | (ids >= len(self))]
        if bad.size:
            raise ValueError(
                f"decode: id {int(bad[0])} is outside the vocabulary of size {len(self)}"
            )
        return self.join([self.vocab[i] for i in ids.tolist()])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description that :func:`tokenizer_from_dict` turns back into ``self``."""
        return {"kind": self.kind, "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tokenizer:
        """Inverse of :meth:`to_dict` for this kind of tokenizer."""
        name = f"{cls.__name__}.from_dict"
        if not isinstance(d, dict):
            raise TypeError(f"{name}: expected a dict from to_dict(), got {type(d).__name__}")
        if d.get("kind") != cls.kind:
            raise ValueError(f"{name}: kind {d.get('kind')!r} is not {cls.kind!r}")
        allowed = {"kind", "vocab", *cls.options}
        unexpected = sorted(str(key) for key in d if key not in allowed)
        if unexpected or "vocab" not in d:
            problem = f"unexpected key(s) {unexpected}" if unexpected else "no 'vocab' entry"
            raise ValueError(f"{name}: {problem}; a {cls.kind} tokenizer has {sorted(allowed)}")
        return cls(**{key: value for key, value in d.items() if key != "kind"})


class CharTokenizer(Tokenizer):
    """One symbol per Unicode character; ``decode(encode(text)) == text`` exactly.

    >>> tok = CharTokenizer.fit("hello")
    >>> tok.vocab
    ['e', 'h', 'l', 'o']
    >>> tok.decode(tok.encode("hole"))
    'hole'
    """

    kind = "char"

    def __init__(self, vocab: Iterable[str]) -> None:
        super().__init__(vocab)
        odd = [symbol for symbol in self.vocab if len(symbol) != 1 and symbol != UNK]
        if odd:
            raise ValueError(f"CharTokenizer: vocabulary entries must be single characters, got {odd[:3]!r}")

    @classmethod
    def fit(cls, text: str, unk: bool = False) -> CharTokenizer:
        """The sorted characters of ``text``; with ``unk=True``, ``<unk>`` is added as id 0.

        Without ``<unk>`` the vocabulary is exactly the characters of the text.
        """
        _check_text(text, "CharTokenizer.fit")
        if not text:
            raise ValueError("CharTokenizer.fit: the text is empty")
        return cls([UNK] * unk + sorted(set(text)))

    def split(self, text: str) -> list[str]:
        return list(text)

    def join(self, symbols: list[str]) -> str:
        return "".join(symbols)


class WordTokenizer(Tokenizer):
    """Words and punctuation marks, with ``<unk>`` always id 0.

    A word is a run of letters, digits and underscores, possibly joined by apostrophes
    (``King's``, ``o'er``, ``don’t``); every other non-space character is a token of its
    own, and whitespace is dropped. With ``lower=True`` text is lower-cased before
    splitting. Text is compared in Unicode's composed form (NFC), and a combining mark
    stays with the character before it, so ``déjà`` written with separate accents (as
    macOS writes file names) and ``i̇zmir`` (``"İzmir".lower()``) are one word each.

    Decoding puts single spaces between tokens, except before ``. , ; : ! ? ' ) ] }`` and
    after ``( [ {``. It is therefore *not* an exact inverse of encoding (line breaks and
    spacing are lost), but re-encoding decoded text gives the same ids:
    ``encode(decode(encode(t))) == encode(t)``.

    >>> tok = WordTokenizer.fit("To be, or not to be.")
    >>> tok.decode(tok.encode("not to be, or to be."))
    'not to be, or to be.'
    """

    kind = "word"
    options = ("lower",)
    TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
    NO_SPACE_BEFORE = frozenset(".,;:!?'’)]}")
    NO_SPACE_AFTER = frozenset("([{")

    def __init__(self, vocab: Iterable[str], lower: bool = False) -> None:
        super().__init__(vocab)
        if self.vocab[0] != UNK:
            raise ValueError(f"WordTokenizer: id 0 must be {UNK!r}, got {self.vocab[0]!r}")
        if not isinstance(lower, (bool, np.bool_)):
            raise TypeError(f"WordTokenizer: lower must be True or False, got {lower!r}")
        self.lower = bool(lower)

    @classmethod
    def fit(cls, text: str, lower: bool = False, min_freq: int = 1) -> WordTokenizer:
        """``<unk>`` then the sorted tokens of ``text`` that occur at least ``min_freq`` times."""
        if not _is_int(min_freq):
            raise TypeError(f"WordTokenizer.fit: min_freq must be an integer, got {min_freq!r}")
        if min_freq < 1:
            raise ValueError(f"WordTokenizer.fit: min_freq must be >= 1, got {min_freq}")
        _check_text(text, "WordTokenizer.fit")
        counts = Counter(cls._tokens(text.lower() if lower else text))
        if not counts:
            raise ValueError("WordTokenizer.fit: the text has no tokens")
        kept = sorted(token for token, count in counts.items() if count >= min_freq)
        return cls([UNK, *kept], lower=lower)

    def split(self, text: str) -> list[str]:
        return self._tokens(text.lower() if self.lower else text)

    @classmethod
    def _tokens(cls, text: str) -> list[str]:
        """``TOKEN``'s matches in the NFC form of ``text``, where a combining mark (which
        no word-character class matches) is joined to the token just before it, and a word straight
        after a mark to that token: "de" "◌́" "ja" is one word, not three tokens."""
        text = unicodedata.normalize("NFC", text)
        tokens = cls.TOKEN.findall(text)
        if all(len(token) > 1 or not _is_mark(token) for token in tokens):
            return tokens  # no stray mark: the usual case, at findall's speed
        tokens, end = [], -1
        for match in cls.TOKEN.finditer(text):
            piece, start = match.group(), match.start()
            if tokens and start == end and (_is_mark(piece[0]) or (
                    _is_mark(tokens[-1][-1]) and (piece[0].isalnum() or piece[0] == "_"))):
                tokens[-1] += piece
            else:
                tokens.append(piece)
            end = match.end()
        return tokens

    def join(self, symbols: list[str]) -> str:
        pieces = []
        for i, symbol in enumerate(symbols):
            attached = i == 0 or symbol in self.NO_SPACE_BEFORE or symbols[i - 1] in self.NO_SPACE_AFTER
            # A token that starts with a combining mark was apart from the one before (else it
            # would have joined it): glued after "(", it would join it on re-encoding.
            attached = attached and (i == 0 or not _is_mark(symbol[0]))
            pieces.append(symbol if attached else " " + symbol)
        return "".join(pieces)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "lower": self.lower}


_TOKENIZERS: dict[str, type[Tokenizer]] = {t.kind: t for t in (CharTokenizer, WordTokenizer)}


def tokenizer_from_dict(d: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer of any kind from its :meth:`~Tokenizer.to_dict`."""
    if not isinstance(d, dict):
        raise TypeError(f"tokenizer_from_dict: expected a dict from to_dict(), got {type(d).__name__}")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in _TOKENIZERS:
        raise ValueError(
            f"tokenizer_from_dict: unknown tokenizer kind {kind!r}, expected one of {sorted(_TOKENIZERS)}"
        )
    return _TOKENIZERS[kind].from_dict(d)


def _is_mark(character: str) -> bool:
    """A combining mark (Unicode category M: accents, vowel signs, ...)."""
    return unicodedata.category(character)[0] == "M"


def _is_int(value: Any) -> bool:
    """An integer, and not a bool (which Python counts as one)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_text(text: Any, caller: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{caller}: text must be a str, got {type(text).__name__}")


def default_corpus_path() -> Path:
    """Path of the built-in corpus, Shakespeare's *Macbeth* (see ``corpus/README.md``)."""
    return Path(str(resources.files("tinygrad_rnn") / "corpus" / "macbeth.txt"))


def _read_utf8(path: Path) -> str:
    """The file's text; a byte-order mark at its start (as Windows editors write) is not text
    and is dropped, where it became a symbol of the vocabulary."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text: {err.reason} at byte offset {err.start}") from None


def load_text(path: str | Path | None = None) -> str:
    """The training text: the built-in corpus, one UTF-8 file, or a folder of them.

    - ``None``: the built-in corpus (:func:`default_corpus_path`).
    - a file: its text, decoded as UTF-8 (line endings kept as they are; a leading byte-order
      mark dropped).
    - a folder: every ``*.txt``, ``*.raw`` and ``*.tokens`` file under it, recursively
      (WikiText's ``wiki.train.raw`` included), in order of relative path, joined by ``"\\n"``.

    Raises FileNotFoundError for a missing path and ValueError for an empty path string
    (``Path("")`` would be the current folder), a file that is not UTF-8 (naming the file
    and byte offset), an empty file, or a folder with no text in it.
    """
    if path is not None and not isinstance(path, (str, PathLike)):
        raise TypeError(f"load_text: path must be a str, a path or None, got {type(path).__name__}")
    if path is not None and not str(path):
        raise ValueError("load_text: the path is empty; give a text file or folder, or None for "
                         "the built-in corpus")
    path = default_corpus_path() if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_text: {path} does not exist")
    if not path.is_dir():
        text = _read_utf8(path)
        if not text:
            raise ValueError(f"load_text: {path} is empty")
        return text
    files = sorted(
        (file for file in path.rglob("*") if file.suffix.lower() in TEXT_SUFFIXES and file.is_file()),
        key=lambda file: file.relative_to(path).as_posix(),
    )
    if not files:
        raise ValueError(f"load_text: no {', '.join('*' + s for s in TEXT_SUFFIXES)} files under {path}")
    texts = [_read_utf8(file) for file in files]
    if not any(texts):
        raise ValueError(f"load_text: the {len(files)} text file(s) under {path} are all empty")
    return "\n".join(texts)


def _as_token_ids(ids: Any, caller: str) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"{caller}: expected a 1-D integer array of token ids, got shape {ids.shape} dtype {ids.dtype}"
        )
    return ids


def train_val_split(ids: Any, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Split a token stream by position: the last ``val_fraction`` of it is validation.

    Returns views ``(train, val)``; ``val`` is empty when ``val_fraction == 0``. The
    validation part has ``round(len(ids) * val_fraction)`` tokens and both parts must be
    non-empty (ValueError otherwise).

    >>> train_val_split(np.arange(10), 0.2)
    (array([0, 1, 2, 3, 4, 5, 6, 7]), array([8, 9]))
    """
    ids = _as_token_ids(ids, "train_val_split")
    if isinstance(val_fraction, (bool, np.bool_)) or not isinstance(val_fraction, (int, float, np.number)):
        raise TypeError(f"train_val_split: val_fraction must be a number, got {val_fraction!r}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"train_val_split: val_fraction must be in [0, 1), got {val_fraction}")
    n_val = round(len(ids) * val_fraction)
    n_train = len(ids) - n_val
    if n_train == 0 or (val_fraction > 0 and n_val == 0):
        raise ValueError(
            f"train_val_split: val_fraction={val_fraction} of {len(ids)} tokens gives "
            f"{n_train} training and {n_val} validation tokens; both must be non-empty"
        )
    return ids[:n_train], ids[n_train:]


class BatchStream:
    """Truncated-BPTT windows over a token stream, time-major, resumable.

    The ``N`` ids are cut into ``batch_size`` contiguous streams of ``n = (N - 1) //
    batch_size`` steps: stream ``b`` reads inputs ``ids[b*n : b*n + n]`` and predicts
    targets ``ids[b*n + 1 : b*n + n + 1]`` (the last ``N - 1 - batch_size*n`` ids are
    unused). Each epoch walks the streams in windows of ``seq_len`` steps and yields
    ``(inputs, targets)``, both read-only int64 arrays of shape ``(T, batch_size)`` with
    ``targets[t, b] == ids[b*n + w*seq_len + t + 1]`` for window ``w``. ``T == seq_len``
    except for the last window of an epoch, which is shorter when ``seq_len`` does not
    divide ``n``; ``drop_last=True`` drops it instead.

    Window ``w + 1`` of column ``b`` continues exactly where window ``w`` ended, so the
    caller carries the hidden state from one window to the next, detached from the graph
    (that is what makes the backpropagation "truncated"), and resets it at each new epoch.

    Iterating runs the rest of the current epoch and moves the stream's position as it
    goes, so :meth:`state_dict` taken inside the loop body resumes *after* the window being
    processed::

        for inputs, targets in batches:
            ...
            checkpoint["data"] = batches.state_dict()   # later: batches.load_state_dict(...)
    """

    @staticmethod
    def steps_per_stream(count: int, batch_size: int) -> int:
        """``n = (N - 1) // batch_size``: the steps each of the streams of ``count`` ids holds."""
        return (count - 1) // batch_size

    def __init__(self, ids: Any, batch_size: int, seq_len: int, drop_last: bool = False) -> None:
        ids = _as_token_ids(ids, "BatchStream")
        for name, value in (("batch_size", batch_size), ("seq_len", seq_len)):
            if not _is_int(value):
                raise TypeError(f"BatchStream: {name} must be an integer, got {value!r}")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(f"BatchStream: drop_last must be True or False, got {drop_last!r}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(
                "BatchStream: batch_size and seq_len must be >= 1, "
                f"got batch_size={batch_size}, seq_len={seq_len}"
            )
        steps = self.steps_per_stream(len(ids), batch_size)
        if steps < seq_len:
            raise ValueError(
                f"BatchStream: {len(ids)} tokens split into batch_size={batch_size} streams give "
                f"{max(steps, 0)} steps per stream, fewer than seq_len={seq_len}; use a smaller "
                f"batch_size or seq_len, or more text (need at least batch_size*seq_len + 1 tokens)"
            )
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.drop_last = bool(drop_last)
        self.num_tokens = len(ids)
        self.steps_per_stream = steps
        used = ids[: batch_size * steps + 1].astype(np.int64)
        # Rows are time steps, columns streams; consecutive windows are consecutive row blocks.
        self._inputs = np.ascontiguousarray(used[:-1].reshape(batch_size, steps).T)
        self._targets = np.ascontiguousarray(used[1:].reshape(batch_size, steps).T)
        self._inputs.flags.writeable = False
        self._targets.flags.writeable = False
        self.epoch = 0
        self.window = 0
        self._loads = 0  # load_state_dict calls: a loop running over the stream follows them

    def __len__(self) -> int:
        """Windows per epoch."""
        full, rest = divmod(self.steps_per_stream, self.seq_len)
        return full + (rest > 0 and not self.drop_last)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The windows from the current position to the end of its epoch. The position is
        read at every window, so a ``load_state_dict`` in the loop body moves the loop
        there (it went on from its own count, then overwrote the loaded position)."""
        while True:
            window, loads = self.window, self._loads
            # Advance before yielding: a state_dict() taken in the loop body resumes after this window.
            last = window + 1 == len(self)
            if last:
                self.epoch, self.window = self.epoch + 1, 0
            else:
                self.window = window + 1
            rows = slice(window * self.seq_len, (window + 1) * self.seq_len)
            yield self._inputs[rows], self._targets[rows]
            if last and self._loads == loads:
                return

    def state_dict(self) -> dict[str, int | bool]:
        """The position (epoch, next window) plus the settings it is only valid for."""
        return {
            "epoch": self.epoch,
            "window": self.window,
            "num_tokens": self.num_tokens,
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume at a position from :meth:`state_dict`; the settings must match this stream."""
        name = "BatchStream.load_state_dict"
        mine = self.state_dict()
        if not isinstance(state, dict):
            raise TypeError(f"{name}: expected a dict from state_dict(), got {type(state).__name__}")
        if set(state) != set(mine):
            raise ValueError(f"{name}: expected keys {sorted(mine)}, got {sorted(state)}")
        settings = ("num_tokens", "batch_size", "seq_len", "drop_last")
        # The type counts too: True == 1 in Python, but it is no batch size.
        changed = [f"{key}={state[key]!r} (this stream: {mine[key]!r})" for key in settings
                   if state[key] != mine[key] or isinstance(state[key], bool) != isinstance(mine[key], bool)]
        if changed:
            raise ValueError(f"{name}: saved for a different stream: {', '.join(changed)}")
        epoch, window = state["epoch"], state["window"]
        valid = _is_int(epoch) and _is_int(window) and epoch >= 0
        if not (valid and 0 <= window < len(self)):
            raise ValueError(
                f"{name}: epoch={epoch!r}, window={window!r} "
                f"is not a position of a stream with {len(self)} windows per epoch"
            )
        self.epoch, self.window = int(epoch), int(window)
        self._loads += 1

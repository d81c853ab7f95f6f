"""The `language_model` task: a character- or word-level language model of a UTF-8 text file,
trained with truncated BPTT on parallel streams (`NextTokenTask`).

    task = "language_model"
    [data]
    path = "../shared/data/tinyshakespeare/input.txt"
    level = "char"           # or "word": whitespace-separated words, <eos> after each line
    min_freq = 1             # training tokens seen fewer times read as <unk>
    valid_fraction = 0.1
    test_fraction = 0.0

The tokens are split in order, never shuffled: train | valid | test, the test part last (the
tinyshakespeare convention is the first 90% for training and the last 10% for validation). The
vocabulary counts the training part only, with an unknown token for the rest; it is saved in
checkpoints, so a restored model reads any text with the vocabulary it was trained with.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import torch

from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_text
from rnnkit.data.text import END_OF_LINE, char_tokens, split_by_fraction, word_tokens
from rnnkit.data.vocab import Vocab
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.stream import NextTokenTask

LEVELS = ("char", "word")


@dataclass(frozen=True)
class TextData:
    """The [data] section. path: a text file (relative paths from where rnnkit runs), in
    `encoding` (default utf-8; latin-1, cp1252, ...). level: "char" or "word". min_freq: the
    training count a token needs to enter the vocabulary. valid_fraction, test_fraction: the
    parts of the tokens at the end of the text (test last). valid_file, test_file: read that
    split from its own file instead (corpora such as Penn Treebank come as three files); its
    fraction is then not cut from `path`."""

    path: str
    level: str = field(default="char", metadata={"choices": LEVELS})
    min_freq: int = field(default=1, metadata={"min": 1})
    valid_fraction: float = field(default=0.1, metadata={"min": 0.0})
    test_fraction: float = field(default=0.0, metadata={"min": 0.0})
    valid_file: str = ""
    test_file: str = ""
    encoding: str = field(default="utf-8", metadata={"encoding": True})

    @property
    def fractions(self) -> tuple[float, float]:
        """The valid and test parts cut from `path` (0 for a split read from its own file)."""
        return (0.0 if self.valid_file else self.valid_fraction,
                0.0 if self.test_file else self.test_fraction)


class LanguageModelTask(NextTokenTask):
    """Metrics: loss (nats per token), perplexity, accuracy, and at the character level bpc
    (bits per character, loss / ln 2)."""

    name = "language_model"
    Data = TextData

    def __init__(self, data: TextData, model, state=None):
        super().__init__(data, model, state)
        valid, test = data.fractions
        if valid + test >= 1.0:
            raise ConfigError(f"data.valid_fraction + data.test_fraction: expected < 1 (the rest "
                              f"is training text), got {valid} + {test}")
        if not valid and not data.valid_file:
            raise ConfigError("data.valid_fraction: expected a value > 0, or data.valid_file, "
                              "for a validation split; got 0 and no file")
        self._splits: dict[str, torch.Tensor] | None = None
        if state is None:  # training: read now, so a bad file is an error before anything runs
            parts = self._read()
            self.vocab = Vocab.from_counts(Counter(parts["train"]), min_freq=data.min_freq,
                                           pad=None)
            self._splits = self._ids(parts)
        else:
            self.vocab = Vocab.from_dict(state["vocab"], source="the checkpoint's vocabulary")

    @property
    def metric_names(self):
        return NextTokenTask.metric_names + (("bpc",) if self.data.level == "char" else ())

    def metrics(self, sums):
        metrics = super().metrics(sums)
        if self.data.level == "char":
            metrics["bpc"] = metrics["loss"] / math.log(2)
        return metrics

    def _read(self) -> dict[str, list[str]]:
        """The tokens of each split: train | valid | test cut in order from `data.path`, or a
        split from its own file."""
        data = self.data
        tokens = self._tokens("data.path", data.path)
        valid, test = data.fractions
        train, rest = (split_by_fraction(tokens, 1.0 - valid - test) if valid or test
                       else (tokens, []))
        cut = len(rest) - int(len(tokens) * test)
        parts = {"train": train, "valid": rest[:cut], "test": rest[cut:]}
        for split in ("valid", "test"):
            own = getattr(data, f"{split}_file")
            if own:
                parts[split] = self._tokens(f"data.{split}_file", own)
        return parts

    def _tokens(self, key: str, path: str) -> list[str]:
        try:
            text = read_text(path, self.data.encoding)
        except OSError as error:
            raise DataError(f"{key}: cannot read {path!r} "
                            f"({type(error).__name__}: {error.strerror})") from error
        except DataFormatError as error:
            raise DataError(f"{key}: {error}") from error
        return char_tokens(text) if self.data.level == "char" else word_tokens(text)

    def _ids(self, parts: dict[str, list[str]]) -> dict[str, torch.Tensor]:
        return {name: torch.tensor(self.vocab.encode(tokens), dtype=torch.int64)
                for name, tokens in parts.items()}

    def token_splits(self):
        if self._splits is None:
            self._splits = self._ids(self._read())
        return self._splits

    def stream_batch(self, split, batch_size):
        if split == "test" and not (self.data.test_fraction or self.data.test_file):
            raise DataError("data.test_fraction: 0 and no data.test_file, so there is no test "
                            "split; evaluate on the valid split, or train with a test fraction "
                            "or file")
        return super().stream_batch(split, batch_size)

    def tokens_of(self, text):
        """Characters; or words, with <eos> at each line break, as the file is read."""
        if self.data.level == "char":
            return char_tokens(text)
        tokens = word_tokens(text)
        return tokens if text.endswith("\n") else tokens[:-1]  # no line break after the last

    def join(self, tokens):
        if self.data.level == "char":
            return "".join(tokens)
        return re.sub(f" ?{re.escape(END_OF_LINE)} ?", "\n", " ".join(tokens))

    @property
    def start_token(self):
        """A line break: generated text starts as a new line would."""
        return "\n" if self.data.level == "char" else END_OF_LINE

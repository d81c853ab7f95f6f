"""Plain text for character and word language models: tokenise, split.

The usual recipe for tinyshakespeare (Karpathy's char-rnn) is `char_tokens(read_text(path))`
(`files.read_text`), then `split_by_fraction(tokens, 0.9)`; for word-level corpora in the PTB
style (Zaremba et al. 2014) it is `word_tokens(read_text(path))`, one end-of-line token after
each line's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rnnkit._check import describe

END_OF_LINE = "<eos>"

Items = TypeVar("Items", bound=Sequence)


def char_tokens(text: str) -> list[str]:
    """Every character of `text`, newlines included, in order."""
    return list(text)


def word_tokens(text: str, end_of_line: str | None = END_OF_LINE) -> list[str]:
    """The whitespace-separated words of each line, each line followed by `end_of_line`
    (None: no marker). A final newline does not start another (empty) line."""
    if not text:
        return []
    marker = () if end_of_line is None else (end_of_line,)
    lines = text.removesuffix("\n").split("\n")
    return [word for line in lines for word in (*line.split(), *marker)]


def split_by_fraction(items: Items, train_fraction: float = 0.9) -> tuple[Items, Items]:
    """(the first `train_fraction` of `items`, the rest), without shuffling: the validation part
    of a text must come after the training part, or a language model sees its context."""
    if isinstance(train_fraction, bool) or not isinstance(train_fraction, (int, float)):
        raise TypeError(f"train_fraction: expected a float in (0, 1), "
                        f"got {describe(train_fraction)}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction: expected a float in (0, 1), got {train_fraction}")
    cut = int(len(items) * train_fraction)
    return items[:cut], items[cut:]

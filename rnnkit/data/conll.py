"""CoNLL column files: one token per line with its annotations in whitespace-separated columns,
a blank line after each sentence, "-DOCSTART-" lines between documents.

CoNLL-2003 as released has four columns (token, POS, chunk, NER tag); the copy in shared/data
keeps two (token, NER tag). `token_column` and `tag_column` pick the columns (negative indices
count from the right), so the default (0, -1) reads both.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from rnnkit import _check
from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_text

DOCUMENT_START = "-DOCSTART-"


class TaggedSentence(NamedTuple):
    tokens: list[str]
    tags: list[str]  # one per token


def read_conll(path, *, token_column: int = 0, tag_column: int = -1,
               num_columns: int | None = None, tag_set: Collection[str] | None = None,
               encoding: str = "utf-8") -> list[TaggedSentence]:
    """The sentences of a CoNLL file, in order (`parse_conll` of its text)."""
    return parse_conll(read_text(path, encoding), path, token_column=token_column,
                       tag_column=tag_column, num_columns=num_columns, tag_set=tag_set)


def parse_conll(text: str, source, *, token_column: int = 0, tag_column: int = -1,
                num_columns: int | None = None,
                tag_set: Collection[str] | None = None) -> list[TaggedSentence]:
    """The sentences of CoNLL text read from `source` (a path, or e.g. "<stdin>": what errors
    name), in order.

    num_columns: how many columns every token line has; None takes the first token line's count.
    tag_set: if given, every tag must be in it (read the training file first and pass its tags
    when reading the test file, to catch a tag the model cannot predict).
    A line with the wrong number of columns, too few for the chosen columns, or an unknown tag
    raises DataFormatError naming the file and line.
    """
    needed = max(_columns_needed(token_column, "token_column"),
                 _columns_needed(tag_column, "tag_column"))
    if num_columns is not None:
        _check.positive_int("num_columns", num_columns)
        if num_columns < needed:
            raise ValueError(f"num_columns: expected at least {needed} for token_column="
                             f"{token_column} and tag_column={tag_column}, got {num_columns}")
    columns_from = ""  # where num_columns came from, for the message when a line disagrees
    sentences, tokens, tags = [], [], []
    # The extra blank line at the end closes the last sentence when the file lacks one.
    lines = [*text.split("\n"), ""]
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0] == DOCUMENT_START:
            if tokens:
                sentences.append(TaggedSentence(tokens, tags))
                tokens, tags = [], []
            continue
        if num_columns is None:
            if len(fields) < needed:
                raise DataFormatError(source, f"line {number}", f"at least {needed} columns (for "
                                      f"token_column={token_column} and tag_column={tag_column})",
                                      f"{len(fields)}: {line.strip()!r}")
            num_columns, columns_from = len(fields), f" (as on line {number})"
        elif len(fields) != num_columns:
            raise DataFormatError(source, f"line {number}", f"{num_columns} columns{columns_from}",
                                  f"{len(fields)}: {line.strip()!r}")
        tag = fields[tag_column]
        if tag_set is not None and tag not in tag_set:
            raise DataFormatError(source, f"line {number}",
                                  f"a tag in the tag set ({', '.join(sorted(tag_set))})", repr(tag))
        tokens.append(fields[token_column])
        tags.append(tag)
    return sentences


def _columns_needed(column: int, name: str) -> int:
    """How many columns a line needs to have column index `column`."""
    if isinstance(column, bool) or not isinstance(column, int):
        raise TypeError(f"{name}: expected an int (a column index), got {_check.describe(column)}")
    return column + 1 if column >= 0 else -column

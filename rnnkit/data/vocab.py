"""A vocabulary: tokens <-> indices, built from counts, saved as JSON next to a model."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rnnkit import _check
from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_json

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """Tokens in index order, with reserved indices at the front:

    - the padding token, if any, is index 0 (so zero-filled padding reads as padding);
    - the unknown token, if any, comes next (index 1 with padding, 0 without); `encode` maps
      every token not in the vocabulary to it. Without one (a tag set), an unknown token is an
      error.

    `Vocab.from_counts` orders the other tokens by descending count, then alphabetically, so the
    same counts always give the same indices.
    """

    def __init__(self, tokens: Sequence[str], *, pad: str | None = PAD, unk: str | None = UNK):
        """tokens: every token in index order, the reserved ones included at their places."""
        tokens = list(tokens)
        problem = _tokens_problem(tokens, pad, unk)
        if problem:
            raise ValueError(f"tokens: expected {problem[0]}, got {problem[1]}")
        self._tokens = tokens
        self._index = {token: i for i, token in enumerate(tokens)}
        self.pad, self.unk = pad, unk

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_freq: int = 1,
                    max_size: int | None = None, pad: str | None = PAD,
                    unk: str | None = UNK) -> Vocab:
        """The reserved tokens, then the tokens counted at least `min_freq` times, most frequent
        first; at most `max_size` tokens in all (None: no limit)."""
        _check.positive_int("min_freq", min_freq)
        reserved = _reserved(pad, unk)
        if max_size is not None and _check.positive_int("max_size", max_size) < len(reserved):
            raise ValueError(f"max_size: expected at least {len(reserved)} (the reserved "
                             f"tokens), got {max_size}")
        kept = sorted((token for token, count in counts.items()
                       if count >= min_freq and token not in reserved),
                      key=lambda token: (-counts[token], token))
        return cls((reserved + kept)[:max_size], pad=pad, unk=unk)

    @property
    def pad_index(self) -> int | None:
        return None if self.pad is None else 0

    @property
    def unk_index(self) -> int | None:
        return None if self.unk is None else self._index[self.unk]

    @property
    def tokens(self) -> list[str]:
        """Every token in index order (a copy)."""
        return list(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token) -> bool:
        return token in self._index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """The index of each token; the unknown token's index for a token not in the vocabulary."""
        tokens = list(tokens)
        indices = [self._index.get(token, self.unk_index) for token in tokens]
        if self.unk is None and None in indices:
            unknown = tokens[indices.index(None)]
            raise ValueError(f"tokens: expected tokens of the vocabulary (it has no unknown "
                             f"token), got {unknown!r}")
        return indices

    def decode(self, indices: Iterable[int]) -> list[str]:
        """The token at each index (ints, or a 1-D integer tensor)."""
        indices = [int(i) for i in indices]
        for i in indices:
            if not 0 <= i < len(self._tokens):
                raise ValueError(f"indices: expected values in [0, {len(self._tokens)}), got {i}")
        return [self._tokens[i] for i in indices]

    def to_dict(self) -> dict:
        """A JSON-ready dict, for a checkpoint; `Vocab.from_dict` reads it back."""
        return {"tokens": list(self._tokens), "pad": self.pad, "unk": self.unk}

    @classmethod
    def from_dict(cls, data, *, source="the vocabulary dict") -> Vocab:
        """The vocabulary `to_dict` gave. A malformed dict raises DataFormatError naming
        `source` (where the dict came from), the key and what was wrong."""
        if not isinstance(data, dict) or set(data) != {"tokens", "pad", "unk"}:
            got = f"keys {sorted(data)}" if isinstance(data, dict) else _check.describe(data)
            raise DataFormatError(source, "the top level", "an object with keys 'tokens', "
                                  "'pad', 'unk' (as Vocab.to_dict writes)", got)
        for key in ("pad", "unk"):
            if data[key] is not None and not isinstance(data[key], str):
                raise DataFormatError(source, f"key {key!r}", "a string or null",
                                      _check.describe(data[key]))
        if not isinstance(data["tokens"], list):
            raise DataFormatError(source, "key 'tokens'", "a list of strings",
                                  _check.describe(data["tokens"]))
        problem = _tokens_problem(data["tokens"], data["pad"], data["unk"])
        if problem:
            raise DataFormatError(source, "key 'tokens'", *problem)
        return cls(data["tokens"], pad=data["pad"], unk=data["unk"])

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path) -> Vocab:
        """The vocabulary that `save` wrote to `path`; DataFormatError if the file is not one."""
        return cls.from_dict(read_json(path), source=path)


def _reserved(pad: str | None, unk: str | None) -> list[str]:
    return [token for token in (pad, unk) if token is not None]


def _tokens_problem(tokens: list, pad: str | None, unk: str | None) -> tuple[str, str] | None:
    """(expected, got) if `tokens` cannot be a vocabulary's tokens, else None. Shared by the
    constructor (a ValueError) and from_dict (a DataFormatError that names the file)."""
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            return "a list of strings", f"{_check.describe(token)} at index {i}"
    first_index = {}
    for i, token in enumerate(tokens):
        if token in first_index:
            return "distinct tokens", f"{token!r} at indices {first_index[token]} and {i}"
        first_index[token] = i
    reserved = _reserved(pad, unk)
    if tokens[:len(reserved)] != reserved:
        return f"the reserved tokens {reserved} first", f"{tokens[:len(reserved)]}"
    return None

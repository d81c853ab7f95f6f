"""Generated sequence-to-sequence tasks on digit strings: copy, reverse, sort. Train on short
sequences, test on longer ones, score by exact match.

One vocabulary serves source and target: PAD = 0, BOS = 1, EOS = 2, digit d = 3 + d.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit import _check

PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3
VOCAB_SIZE = DIGIT0 + 10

TASKS: dict[str, Callable[[list[int]], list[int]]] = {
    "copy": lambda digits: list(digits),
    "reverse": lambda digits: digits[::-1],
    "sort": sorted,
}


@dataclass
class Seq2SeqBatch:
    """src: (S, B) token ids, PAD after each sequence's end; src_lengths: (B,); targets: (T, B),
    the answer then EOS, PAD after it (what `Seq2Seq.forward` takes); answers: each answer's
    tokens without EOS (what exact match compares decoded sequences with)."""

    src: Tensor
    src_lengths: Tensor
    targets: Tensor
    answers: list[list[int]]


def make_batch(task: str, batch_size: int, min_len: int, max_len: int,
               rng: random.Random) -> Seq2SeqBatch:
    """batch_size random digit strings of lengths uniform in [min_len, max_len] and the task's
    answer to each."""
    solve = TASKS[_check.one_of("task", task, tuple(TASKS))]
    _check.positive_int("batch_size", batch_size)
    _check.positive_int("min_len", min_len)
    if _check.positive_int("max_len", max_len) < min_len:
        raise ValueError(f"max_len: expected at least min_len={min_len}, got {max_len}")
    sources = [[DIGIT0 + rng.randrange(10) for _ in range(rng.randint(min_len, max_len))]
               for _ in range(batch_size)]
    answers = [solve(s) for s in sources]
    return Seq2SeqBatch(_pad(sources), torch.tensor([len(s) for s in sources]),
                        _pad([a + [EOS] for a in answers]), answers)


def _pad(rows: Sequence[list[int]]) -> Tensor:
    """Rows of ids -> (max length, len(rows)), time-major, PAD after each row."""
    out = torch.full((max(map(len, rows)), len(rows)), PAD, dtype=torch.long)
    for b, row in enumerate(rows):
        out[:len(row), b] = torch.tensor(row)
    return out


def exact_match(predictions: Sequence[Sequence[int]], answers: Sequence[Sequence[int]]) -> float:
    """The share of predictions equal to their answer, token for token."""
    if len(predictions) != len(answers):
        raise ValueError(f"predictions: expected {len(answers)} sequences (one per answer), "
                         f"got {len(predictions)}")
    if not answers:
        raise ValueError("answers: expected at least one, got none")
    return sum(list(p) == list(a) for p, a in zip(predictions, answers)) / len(answers)


def to_text(tokens: Sequence[int]) -> str:
    """Token ids -> a readable string: digits as themselves, specials as <pad>, <bos>, <eos>."""
    names = {PAD: "<pad>", BOS: "<bos>", EOS: "<eos>"}
    return "".join(names.get(t, str(t - DIGIT0)) for t in tokens)

"""The generated tasks: strings, deterministic masks, streams, the paper's metric on hand-made
predictions, the curriculum; and the seq2seq digit tasks."""

import random
import re

import pytest
import torch

from rnnkit.data import seq2seq_tasks as s2s
from rnnkit.data.stack_tasks import (TASKS, TEST_N, TRAIN_N, curriculum, deterministic,
                                       encode, paper_metric, sequences_correct, stream,
                                       to_tensors)


@pytest.mark.parametrize("n", [1, 2, 7])
def test_counting_tasks_make_their_strings(n):
    rng = random.Random(0)
    assert TASKS["anbn"].make(n, rng) == "a" * n + "b" * n
    assert TASKS["anbncn"].make(n, rng) == "a" * n + "b" * n + "c" * n
    assert TASKS["anbncndn"].make(n, rng) == "a" * n + "b" * n + "c" * n + "d" * n
    assert TASKS["anb2n"].make(n, rng) == "a" * n + "b" * 2 * n


def test_sum_of_counts_memorisation_and_addition():
    rng = random.Random(0)
    for n in range(2, 30):
        a, b, c = re.fullmatch(r"(a+)(b+)(c+)", TASKS["anbmcnm"].make(n, rng)).groups()
        assert len(a) + len(b) == len(c) == n
        word, back = TASKS["memorisation"].make(n, rng).split("a")
        assert len(word) == n and back == word[::-1] and set(word) <= set("bc")
        x, y, z = re.fullmatch(r"([01]+)\+([01]+)=([01]+)\.",
                               TASKS["binary_addition"].make(n, rng)).groups()
        assert int(x, 2) + int(y, 2) == int(z[::-1], 2)
        assert len(x) + len(y) in (n, n + 1)  # n digits; an empty operand is written 0
    with pytest.raises(ValueError, match=r"n: expected n >= 2 for a\^n b\^m c\^\(n\+m\)"):
        TASKS["anbmcnm"].make(1, rng)


def test_deterministic_masks():
    # a^n b^n: after the first b, every symbol is determined.
    assert deterministic(TASKS["anbn"], "aaabbb") == [False] * 4 + [True] * 2
    assert deterministic(TASKS["anbncn"], "aabbcc") == [False] * 3 + [True] * 3
    assert deterministic(TASKS["anbmcnm"], "abbccc") == [False] * 4 + [True] * 2
    assert deterministic(TASKS["memorisation"], "bcacb") == [False] * 3 + [True] * 2
    assert deterministic(TASKS["binary_addition"], "1+1=01.") == [False] * 4 + [True] * 3


def test_stream_counts_the_next_start_toward_the_sequence_before():
    s = stream(TASKS["anbn"], [2, 1], random.Random(0))
    assert s.text == "aabbab" + "a"
    assert s.deterministic == [False, False, False, True, True, False, True]
    assert s.owner == [-1, -1, -1, 0, 0, -1, 1]
    memorise = stream(TASKS["memorisation"], [1, 1], random.Random(0))
    assert len(memorise.text) == 6  # no start symbol: sequences start at random
    assert memorise.owner == [-1, -1, 0, -1, -1, 1]


def test_metric_on_hand_made_predictions():
    task = TASKS["anbn"]
    s = stream(task, [2, 1, 2], random.Random(0))  # aabb ab aabb a
    perfect = encode(task, s.text[1:])
    assert sequences_correct(task, perfect, s) == [True, True, True]
    guess = list(perfect)
    guess[0] = 1 - guess[0]  # the second a: not determined, not scored
    assert sequences_correct(task, guess, s) == [True, True, True]
    guess[5] = 1 - guess[5]  # symbol 6, the first a of the third sequence: the end of the second
    assert sequences_correct(task, torch.tensor(guess), s) == [True, False, True]
    assert paper_metric([2, 1, 2], [True, False, True]) == 0.5
    assert paper_metric([2, 2, 3, 4], [True, False, True, True]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"predicted: expected 10 predictions"):
        sequences_correct(task, perfect[:-1], s)
    with pytest.raises(ValueError, match=r"correct: expected one entry per sequence \(2\)"):
        paper_metric([2, 3], [True])


def test_curriculum_and_ranges():
    assert list(curriculum(0)) == [2]
    assert list(curriculum(2)) == [2, 3, 4]
    assert curriculum(50) == TRAIN_N == range(2, 20)
    assert TEST_N == range(2, 61)


def test_to_tensors_is_time_major_and_shifted():
    task = TASKS["anbn"]
    streams = [stream(task, [2], random.Random(0)), stream(task, [1], random.Random(0))]
    batch = to_tensors(task, streams)  # "aabb" + "a" and "ab" + "a", each read after a "b"
    assert batch["lengths"].tolist() == [5, 3]
    assert batch["inputs"][:, 0].tolist() == [1, 0, 0, 1, 1]  # b a a b b
    assert batch["targets"][:, 0].tolist() == [0, 0, 1, 1, 0]  # a a b b a
    assert batch["mask"][:, 0].tolist() == [False, False, False, True, True]
    assert batch["mask"][:, 1].tolist() == [False, False, True, False, False]


@pytest.mark.parametrize("task, solve", [("copy", lambda d: d), ("reverse", lambda d: d[::-1]),
                                         ("sort", sorted)])
def test_seq2seq_tasks(task, solve):
    batch = s2s.make_batch(task, 20, 2, 6, random.Random(0))
    assert batch.src.shape[1] == batch.targets.shape[1] == 20
    for b, answer in enumerate(batch.answers):
        n = int(batch.src_lengths[b])
        assert 2 <= n <= 6
        digits = batch.src[:n, b].tolist()
        assert (batch.src[n:, b] == s2s.PAD).all()
        assert answer == solve(digits)
        assert batch.targets[:n + 1, b].tolist() == answer + [s2s.EOS]
        assert (batch.targets[n + 1:, b] == s2s.PAD).all()
    assert s2s.exact_match(batch.answers, batch.answers) == 1.0
    assert s2s.exact_match([[]] + batch.answers[1:], batch.answers) == 19 / 20
    assert s2s.to_text([s2s.BOS, 3, 12, s2s.EOS]) == "<bos>09<eos>"
    with pytest.raises(ValueError, match=r"task: expected one of 'copy', 'reverse', 'sort'"):
        s2s.make_batch("add", 2, 1, 2, random.Random(0))
    with pytest.raises(ValueError, match=r"max_len: expected at least min_len=3, got 2"):
        s2s.make_batch(task, 2, 3, 2, random.Random(0))

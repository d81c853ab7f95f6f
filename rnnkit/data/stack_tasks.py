"""The algorithmic tasks of Joulin & Mikolov (2015), made as in the authors' code (Stack-RNN,
task.h), and the paper's metric.

A network reads a stream of sequences one symbol at a time and predicts the next symbol. Only
some symbols can be predicted: in a^n b^n, n is random, but once the first b has come n is known,
and every symbol after it is determined, up to the first a of the next sequence. These
deterministic symbols are what is scored: a sequence is correct when all of them are predicted
right, and the metric is the share of the tested values of n (2 to 60, after training on n < 20
with a curriculum) for which every test sequence is correct.

    task = TASKS["anbn"]
    s = stream(task, [3, 5], random.Random(0))   # "aaabbbaaaaabbbbba"
    inputs, targets = encode(task, s.text[:-1]), encode(task, s.text[1:])
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit import _check

TRAIN_N = range(2, 20)
TEST_N = range(2, 61)


@dataclass(frozen=True)
class StackTask:
    """name; alphabet: its symbols, the id of a symbol being its index; make(n, rng): one
    sequence of size n; decided(sequence): the position after which every symbol of the
    sequence is determined by the ones before; start: the symbol every sequence starts with
    (then the end of a sequence is determined too), or None; end: a symbol that ends sequences,
    which the network reads before a stream's first symbol (`to_tensors`), as if a sequence had
    just ended: the authors start every stream so (`cur = nchar - 1` in their train_toy.cpp).
    Without it the first sequence of a stream would read differently from every later one, and
    a network that counts the a's after an end can be off by one on one kind or the other."""

    name: str
    alphabet: str
    make: Callable[[int, random.Random], str]
    decided: Callable[[str], int]
    start: str | None
    end: str


def _blocks(*multiples: int) -> Callable[[int, random.Random], str]:
    """a^n, then b^(k_1 n), c^(k_2 n), ...: the counting tasks."""
    def make(n: int, rng: random.Random) -> str:
        return "a" * n + "".join(chr(ord("b") + i) * (k * n) for i, k in enumerate(multiples))
    return make


def _sum_of_counts(n: int, rng: random.Random) -> str:
    """a^(n-m) b^m c^n with m uniform in [1, n-1]: a^n' b^m c^(n'+m) with n = n' + m, as the
    authors draw it (so that n, the number of c's, is the size being tested)."""
    if n < 2:
        raise ValueError(f"n: expected n >= 2 for a^n b^m c^(n+m) (n = n' + m, both >= 1), "
                         f"got {n}")
    m = rng.randint(1, n - 1)
    return "a" * (n - m) + "b" * m + "c" * n


def _memorisation(n: int, rng: random.Random) -> str:
    """n random symbols from b, c, the separator a, then the n symbols in reverse order."""
    word = "".join(rng.choice("bc") for _ in range(n))
    return word + "a" + word[::-1]


def _binary_addition(n: int, rng: random.Random) -> str:
    """x+y=z. with n binary digits in x and y together (split uniformly; an empty operand is 0),
    x and y most significant digit first, z least significant first: the order in which a
    column-by-column addition produces it (the authors' generate_addition)."""
    digits = rng.randint(0, n)

    def number(length: int) -> str:
        if length == 0:
            return "0"
        return "1" + "".join(rng.choice("01") for _ in range(length - 1))

    x, y = number(digits), number(n - digits)
    return f"{x}+{y}={bin(int(x, 2) + int(y, 2))[2:][::-1]}."


TASKS: dict[str, StackTask] = {task.name: task for task in [
    StackTask("anbn", "ab", _blocks(1), lambda s: s.index("b"), "a", "b"),
    StackTask("anbncn", "abc", _blocks(1, 1), lambda s: s.index("b"), "a", "c"),
    StackTask("anbncndn", "abcd", _blocks(1, 1, 1), lambda s: s.index("b"), "a", "d"),
    StackTask("anb2n", "ab", _blocks(2), lambda s: s.index("b"), "a", "b"),
    StackTask("anbmcnm", "abc", _sum_of_counts, lambda s: s.index("c"), "a", "c"),
    StackTask("memorisation", "abc", _memorisation, lambda s: s.index("a"), None, "c"),
    StackTask("binary_addition", "01+=.", _binary_addition, lambda s: s.index("="), None, "."),
]}


def deterministic(task: StackTask, sequence: str) -> list[bool]:
    """Which symbols of one sequence are determined by the symbols before them."""
    decided = task.decided(sequence)
    return [i > decided for i in range(len(sequence))]


@dataclass
class Stream:
    """Sequences one after another. deterministic[i]: symbol i is determined by the ones before;
    owner[i]: the sequence whose correctness symbol i counts toward (-1 for none); ns: each
    sequence's size. Where a task's sequences all start alike, that first symbol is determined
    and counts toward the sequence before it (knowing where that one ended), and the stream ends
    with one more start symbol so that the last sequence's end is tested too."""

    text: str
    deterministic: list[bool]
    owner: list[int]
    ns: list[int]


def stream(task: StackTask, ns: Sequence[int], rng: random.Random) -> Stream:
    """One sequence of each size in `ns`, in order."""
    text, mask, owner = "", [], []
    for j, n in enumerate(ns):
        sequence = task.make(_check.positive_int("n", n), rng)
        marks = deterministic(task, sequence)
        owners = [j if d else -1 for d in marks]
        if task.start is not None and j:
            marks[0], owners[0] = True, j - 1  # the end of the sequence before
        text, mask, owner = text + sequence, mask + marks, owner + owners
    if task.start is not None and ns:
        text, mask, owner = text + task.start, mask + [True], owner + [len(ns) - 1]
    return Stream(text, mask, owner, list(ns))


def encode(task: StackTask, text: str) -> list[int]:
    """Symbols -> ids (their index in the task's alphabet)."""
    return [task.alphabet.index(c) for c in text]


def sequences_correct(task: StackTask, predicted: Sequence[int] | Tensor,
                      s: Stream) -> list[bool]:
    """predicted[i]: the id predicted for symbol i + 1 of the stream, after reading symbols
    0..i (len(s.text) - 1 predictions). -> for each sequence, whether every deterministic symbol
    counting toward it was predicted right."""
    predicted = predicted.tolist() if isinstance(predicted, Tensor) else list(predicted)
    if len(predicted) != len(s.text) - 1:
        raise ValueError(f"predicted: expected {len(s.text) - 1} predictions (one per symbol "
                         f"after the first), got {len(predicted)}")
    correct = [True] * len(s.ns)
    for i, (target, guess) in enumerate(zip(encode(task, s.text[1:]), predicted), start=1):
        if s.deterministic[i] and s.owner[i] >= 0 and guess != target:
            correct[s.owner[i]] = False
    return correct


def paper_metric(ns: Sequence[int], correct: Sequence[bool]) -> float:
    """ns[j], correct[j]: the size of test sequence j and whether it was correct -> the share of
    the distinct values of n for which every sequence of that size was correct."""
    if len(ns) != len(correct):
        raise ValueError(f"correct: expected one entry per sequence ({len(ns)}), "
                         f"got {len(correct)}")
    if not ns:
        raise ValueError("ns: expected at least one test sequence, got none")
    all_right: dict[int, bool] = {}
    for n, ok in zip(ns, correct):
        all_right[n] = all_right.get(n, True) and bool(ok)
    return sum(all_right.values()) / len(all_right)


def curriculum(epoch: int, *, start: int = 3, limit: int = TRAIN_N.stop) -> range:
    """The sizes n to train on at an epoch (0-based): n from 2 up to but excluding
    min(start + epoch, limit), one more size per epoch, as the authors' training loop
    (nmax = min(epoch + 3, nmaxmax)). With the defaults: {2}, then {2, 3}, ..., then n < 20."""
    _check.positive_int("epoch", epoch, allow_zero=True)
    return range(TRAIN_N.start, max(TRAIN_N.start + 1, min(start + epoch, limit)))


def to_tensors(task: StackTask, streams: Sequence[Stream]) -> dict[str, Tensor]:
    """A time-major batch, one stream per column, padded at the end: each stream's text is read
    after `task.end` (see StackTask), so inputs (T, B) are end + text[:-1] and targets (T, B)
    the text (targets[t] = inputs[t + 1]); mask (T, B) bool, True where the target is
    deterministic and counts toward a sequence, sizes (T, B) the size n of that sequence where
    mask is True (0 elsewhere), and lengths (B,) the texts' lengths."""
    T = max(len(s.text) for s in streams)
    inputs = torch.zeros(T, len(streams), dtype=torch.long)
    targets, sizes = torch.zeros_like(inputs), torch.zeros_like(inputs)
    for b, s in enumerate(streams):
        ids = torch.tensor(encode(task, task.end + s.text))
        length = len(s.text)
        inputs[:length, b], targets[:length, b] = ids[:-1], ids[1:]
        sizes[:length, b] = torch.tensor([s.ns[o] if d and o >= 0 else 0
                                          for d, o in zip(s.deterministic, s.owner)])
    lengths = torch.tensor([len(s.text) for s in streams])
    return {"inputs": inputs, "targets": targets, "mask": sizes > 0, "sizes": sizes,
            "lengths": lengths}

"""Entity spans from chunk tags, as the conlleval script reads them, conversion between the
tag schemes, and conlleval's entity-level counts and scores (precision, recall, F1).

A tag is "O" (outside) or PREFIX-TYPE, e.g. "B-PER". The schemes differ in their prefixes:

- IOB1 (CoNLL-2003 as first released): I- everywhere; B- only on the first token of a chunk
  that directly follows a chunk of the same type.
- IOB2 ("BIO"): B- on the first token of every chunk, I- on the rest.
- IOBES: S- on a one-token chunk; B-, I-..., E- on a longer one.

`entities(tags)` reads any of them; `convert(tags, scheme)` writes any of them. A conversion is
reading the entities and writing them again, so it also repairs tags that break their scheme
(an I- that starts a chunk in IOB2 becomes B-).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

SCHEMES = ("IOB1", "IOB2", "IOBES")
OUTSIDE = "O"
_PREFIXES = ("B", "I", "E", "S")


class Entity(NamedTuple):
    type: str
    start: int  # index of the first token
    end: int    # index one past the last token


def entities(tags: Sequence[str]) -> list[Entity]:
    """The chunks in `tags` (IOB1, IOB2 or IOBES), left to right, by conlleval's rules.

    conlleval ends a chunk before a token and starts one at it from the pair of prefixes and
    types: B- and S- always start a chunk, as does I- or E- after O, E- or S- (so an I- can start
    a chunk, as IOB1 needs); E- and S- always end one; and a change of type does both. The S- and
    E- rules are the IOBES extension that the common Python ports of conlleval add.
    """
    found = []
    start = None  # where the open chunk began
    previous_prefix, previous_type = OUTSIDE, ""
    # A final "O" closes a chunk that runs to the end.
    for i, tag in enumerate([*tags, OUTSIDE]):
        prefix, type_ = _split(tag, i)
        if start is not None and _chunk_ends(previous_prefix, previous_type, prefix, type_):
            found.append(Entity(previous_type, start, i))
            start = None
        if _chunk_starts(previous_prefix, previous_type, prefix, type_):
            start = i
        previous_prefix, previous_type = prefix, type_
    return found


def _chunk_ends(previous_prefix, previous_type, prefix, type_) -> bool:
    """Whether the chunk holding the previous token ends before this one."""
    return (previous_prefix in ("E", "S")
            or (previous_prefix in ("B", "I") and prefix in ("B", "S", OUTSIDE))
            or previous_type != type_)


def _chunk_starts(previous_prefix, previous_type, prefix, type_) -> bool:
    """Whether a chunk starts at this token."""
    return (prefix in ("B", "S")
            or (previous_prefix in ("E", "S", OUTSIDE) and prefix in ("I", "E"))
            or (prefix != OUTSIDE and previous_type != type_))


def _split(tag: str, position: int) -> tuple[str, str]:
    """"B-PER" -> ("B", "PER"); "O" -> ("O", "")."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, dash, type_ = tag.partition("-")
    if not dash or prefix not in _PREFIXES or not type_:
        raise ValueError(f"tags: position {position}: expected 'O' or one of "
                         f"{', '.join(p + '-TYPE' for p in _PREFIXES)}, got {tag!r}")
    return prefix, type_


def convert(tags: Sequence[str], scheme: str) -> list[str]:
    """The same entities as `tags` (in any scheme), written in `scheme` (one of SCHEMES)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    return _write(entities(tags), len(tags), scheme)


def _write(spans: list[Entity], length: int, scheme: str) -> list[str]:
    """`length` tags in `scheme` marking `spans` (left to right, not overlapping)."""
    tags = [OUTSIDE] * length
    previous = None
    for span in spans:
        size = span.end - span.start
        if scheme == "IOBES" and size == 1:
            prefixes = ["S"]
        elif scheme == "IOBES":
            prefixes = ["B"] + ["I"] * (size - 2) + ["E"]
        elif scheme == "IOB2":
            prefixes = ["B"] + ["I"] * (size - 1)
        else:  # IOB1: B- only to separate this chunk from an adjacent one of the same type
            adjacent = previous is not None and (previous.end, previous.type) == (span.start,
                                                                                  span.type)
            prefixes = ["B" if adjacent else "I"] + ["I"] * (size - 1)
        tags[span.start:span.end] = [f"{prefix}-{span.type}" for prefix in prefixes]
        previous = span
    return tags


class ChunkCounts(NamedTuple):
    """What conlleval counts, summed over sentences: chunks predicted with the right span and
    type, chunks in the gold tags, chunks in the predicted tags."""

    chunks_correct: int
    chunks_gold: int
    chunks_found: int

    def __add__(self, other: ChunkCounts) -> ChunkCounts:
        return ChunkCounts(*(a + b for a, b in zip(self, other)))


def chunk_counts(gold: Sequence[str], predicted: Sequence[str]) -> ChunkCounts:
    """The counts of one sentence. A predicted chunk is correct when a gold chunk has its type,
    first and last token: conlleval's rule, which it applies to the two tag columns side by side
    (a sentence's end ends every chunk); both are read by `entities`."""
    if len(gold) != len(predicted):
        raise ValueError(f"predicted: expected {len(gold)} tags (as gold), got {len(predicted)}")
    gold_chunks, found = entities(gold), entities(predicted)
    return ChunkCounts(len(set(gold_chunks) & set(found)), len(gold_chunks), len(found))


def chunk_scores(counts: ChunkCounts) -> tuple[float, float, float]:
    """(precision, recall, F1) as fractions, as conlleval computes them (it prints percentages):
    precision = correct / found, recall = correct / gold, F1 = 2 P R / (P + R), each 0 when its
    denominator is 0."""
    correct, gold, found = counts
    precision = correct / found if found else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1

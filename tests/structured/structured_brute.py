"""Brute force for the structured tests: every tag path of every sequence, scored by a plain
loop over the definition, and random small cases (a distinct module name: tests/ folders have no
__init__)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from rnnkit.structured import CRF

DT = torch.float64
K = 3
THREE = ["O", "B-X", "I-X"]          # one entity type in BIO: no I-X first, no O -> I-X


def path_score(em, path, start, trans, end) -> float:
    """The definition: em (L, K) for one sequence; start, trans [from, to], end (or None).
    Tensors or nested lists."""
    s = start[path[0]] + em[0][path[0]]
    for t in range(1, len(path)):
        s += trans[path[t - 1]][path[t]] + em[t][path[t]]
    return float(s + (end[path[-1]] if end is not None else 0.0))


def ranked(em, start, trans, end, allowed=lambda path: True, extra=lambda path: 0.0):
    """Every path of len(em) tags (those `allowed`), as (score + extra(path), path), best first."""
    em, start, trans = em.tolist(), start.tolist(), trans.tolist()   # plain floats: fast
    end = end.tolist() if end is not None else None
    scored = [(path_score(em, p, start, trans, end) + extra(p), list(p))
              for p in itertools.product(range(len(em[0])), repeat=len(em)) if allowed(p)]
    return sorted(scored, key=lambda sp: -sp[0])


def allowed_by(constraints):
    """The predicate: does a path keep to these (transitions, start, end) bool masks?"""
    trans, start, end = constraints

    def ok(path):
        return (bool(start[path[0]]) and bool(end[path[-1]])
                and all(bool(trans[a, b]) for a, b in zip(path, path[1:])))
    return ok


def log_z(scored) -> float:
    top = scored[0][0]
    return top + math.log(sum(math.exp(s - top) for s, _ in scored))


def brute_marginals(em, start, trans, end, allowed=lambda path: True) -> torch.Tensor:
    """(L, K) p(y_t = k) by summing the probabilities of all paths."""
    scored = ranked(em, start, trans, end, allowed)
    z = log_z(scored)
    probs = torch.zeros(em.shape, dtype=DT)
    for s, p in scored:
        for t, k in enumerate(p):
            probs[t, k] += math.exp(s - z)
    return probs


@dataclass
class Case:
    """A random CRF and batch. emissions, tags and mask are in the CRF's layout (mask may be
    None); tags hold -100 at padding. seq(b) gives sequence b's (L, K) emissions and gold path."""
    crf: CRF
    emissions: torch.Tensor
    tags: torch.Tensor
    mask: torch.Tensor | None
    lengths: list[int]

    def time_major(self, x):
        return x.transpose(0, 1) if self.crf.batch_first else x

    def seq(self, b: int):
        length = self.lengths[b]
        em = self.time_major(self.emissions)[:length, b]
        return em, self.time_major(self.tags)[:length, b].tolist()

    def params(self):
        c = self.crf
        return c.start_transitions.detach(), c.transitions.detach(), c.end_transitions.detach()


# (T, lengths or None for no mask, batch_first): lengths differ, the last steps may be padding
# for every sequence, single-step sequences, both layouts.
SHAPES = [(4, [4, 2, 1], False), (4, [3, 1, 2], True), (3, None, False), (3, [3, 3], True),
          (1, [1, 1], False), (2, [1, 2, 2], True)]
SHAPE_IDS = [f"T{T}-{'nomask' if ls is None else ''.join(map(str, ls))}-{'bf' if bf else 'tm'}"
             for T, ls, bf in SHAPES]


def make_case(T, lengths, batch_first, seed=0, constraints=None, scale=1.0) -> Case:
    gen = torch.Generator().manual_seed(seed)
    B = len(lengths) if lengths is not None else 2
    crf = CRF(K, batch_first=batch_first, constraints=constraints, dtype=DT)
    with torch.no_grad():
        for p in crf.parameters():       # generic values, not the small initial ones
            p.copy_(torch.randn(p.shape, generator=gen, dtype=DT))
    full = lengths if lengths is not None else [T] * B
    on = torch.arange(T).unsqueeze(1) < torch.tensor(full)                   # (T, B)
    emissions = torch.randn(T, B, K, generator=gen, dtype=DT) * scale
    tags = torch.where(on, torch.randint(0, K, (T, B), generator=gen), -100)
    flip = (lambda x: x.transpose(0, 1).contiguous()) if batch_first else (lambda x: x)
    return Case(crf, flip(emissions), flip(tags), None if lengths is None else flip(on), full)

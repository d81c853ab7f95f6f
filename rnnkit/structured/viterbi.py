"""The best paths of a linear chain: Viterbi, and its n-best generalisation (list Viterbi).

Plain Viterbi keeps, for every sequence and every tag k, the best score of a path over steps
0..t that ends in k, and a pointer to the tag it came from. The n-best version keeps the n best
such partial paths per tag instead of one, ranked: a pointer names (previous tag, its rank).
Every path into tag j at step t extends one of the n partial paths ending in some tag i at t-1,
so the n best into j are the n best of those K * n extensions; at the end the n best of the
K * n complete paths are the answer, each read back through the pointers. With n = 1 this is
exactly Viterbi, so both are this one function. The batch is vectorised; the loops run over time.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.structured.chain import Potentials


def _top(x: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """x.topk(n, dim=-1): values and indices, best first. Through max when n = 1, which is several
    times faster on CPU."""
    return x.max(dim=-1, keepdim=True) if n == 1 else x.topk(n, dim=-1)


def viterbi(emissions: Tensor, mask: Tensor, pot: Potentials, n: int = 1) -> tuple[Tensor, Tensor]:
    """The n highest-scoring paths of each sequence, best first.

    emissions: (T, B, K); mask: (T, B) bool, left-aligned, mask[0] on (validated by the caller).
    Returns scores (B, n) and tags (T, B, n) int64, zero at padded positions. When a sequence has
    fewer than n paths (K ** length < n), the surplus entries have score -inf and arbitrary tags.
    """
    T, B, K = emissions.shape
    # At tagging sizes (K ~ 10, B ~ 10-30) a step costs what its tensor calls cost, not their
    # arithmetic: whatever does not depend on the step is indexed once, outside the loops, and the
    # candidates lie along the last axis, so that the best of them come out as (B, K, n) with no
    # transposes or copies.
    # score[b, k, r]: the r-th best score of a path over steps 0..t ending in tag k.
    # At step 0 there is one path per tag: rank 0; the other ranks do not exist yet.
    score = emissions.new_full((B, K, n), float("-inf"))
    score[:, :, 0] = pot.start + emissions[0]
    into = pot.transitions.t().repeat_interleave(n, dim=1)    # (K_to, K_from * n): [j, i * n + r]
    step_emissions = emissions.unsqueeze(3)                                   # (T, B, K, 1)
    step_on = mask[:, :, None, None]                                          # (T, B, 1, 1)
    pointers = []                           # per step t >= 1: (B, K * n) flat index i * n + r
    for t in range(1, T):
        # extend every (from tag i, rank r) by every to tag j: (B, K_to, K_from * n)
        extended = score.view(B, 1, K * n) + into
        best, came_from = _top(extended, n)                                   # (B, K, n)
        score = torch.where(step_on[t], best + step_emissions[t], score)
        pointers.append(came_from.view(B, K * n))
    scores, last = _top((score + pot.end[:, None]).view(B, K * n), n)        # (B, n)

    # Read the paths back from each sequence's last step. A sequence that ends at step t starts
    # its read-back there; before that (in its padding) what is carried is never used.
    ends = (torch.arange(T, device=mask.device).unsqueeze(1)
            == mask.sum(0) - 1).unsqueeze(2)                                  # (T, B, 1)
    at = last                                                                # (B, n): i * n + r
    read = []
    for t in range(T - 1, -1, -1):
        at = torch.where(ends[t], last, at)
        read.append(at)
        if t > 0:
            at = pointers[t - 1].gather(1, at)
    tags = torch.stack(read[::-1]) // n                                       # (T, B, n)
    return scores, torch.where(mask.unsqueeze(2), tags, 0)


def best_paths(tags: Tensor, mask: Tensor) -> list[list[int]]:
    """tags (T, B) of one path per sequence -> per sequence, its path cut to its length.
    (Written so that TorchScript compiles it: a scripted CRF's decode.)"""
    lengths: list[int] = mask.sum(0).tolist()
    rows: list[list[int]] = tags.t().tolist()
    paths: list[list[int]] = []
    for b in range(len(rows)):
        paths.append(rows[b][:lengths[b]])
    return paths


def as_lists(tags: Tensor, mask: Tensor) -> list[list[list[int]]]:
    """tags (T, B, n) -> per sequence, its n paths as lists cut to the sequence's length."""
    paths = tags.permute(1, 2, 0).tolist()                                   # B x n x T
    return [[path[:length] for path in seq] for seq, length in zip(paths, mask.sum(0).tolist())]

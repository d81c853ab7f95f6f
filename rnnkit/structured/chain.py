"""Sums on a linear chain of tags: one path's score, the log-sum over all paths (the forward
algorithm) and per-position marginals (forward-backward), all in log space.

A chain is scored by per-step `emissions (T, B, K)` plus `Potentials`: a score for the first tag,
for each transition [from, to] and for the last tag. The score of a path y_0..y_{L-1} is

    start[y_0] + sum_t emissions[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_{L-1}]

`mask (T, B)` is bool, left-aligned (each sequence is a prefix of the time axis) with mask[0] on;
positions where it is off do not exist. These are private helpers: the callers validate.
"""

# No `from __future__ import annotations`: TorchScript reads this module's NamedTuple fields.
from typing import NamedTuple

import torch
from torch import Tensor


class Potentials(NamedTuple):
    """start (K,), transitions (K, K) indexed [from, to], end (K,)."""
    start: Tensor
    transitions: Tensor
    end: Tensor


def last_tags(tags: Tensor, mask: Tensor) -> Tensor:
    """Each path's tag at its sequence's last step. tags: (T, N), mask: (T, N) -> (N,)."""
    return tags.gather(0, (mask.sum(0) - 1).unsqueeze(0)).squeeze(0)


def path_score(emissions: Tensor, tags: Tensor, mask: Tensor, pot: Potentials) -> Tensor:
    """The score of the given paths. tags: (T, B) int64 (any value in range at padding) -> (B,)."""
    on_path = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)             # (T, B)
    steps = pot.transitions[tags[:-1], tags[1:]]                             # (T-1, B)
    return (pot.start[tags[0]]
            + torch.where(mask, on_path, 0).sum(0)
            + torch.where(mask[1:], steps, 0).sum(0)
            + pot.end[last_tags(tags, mask)])


def forward_scores(emissions: Tensor, mask: Tensor, pot: Potentials) -> Tensor:
    """alpha: (T, B, K), alpha[t, b, k] = log-sum of the scores of all paths over steps 0..t
    ending in tag k (without `end`). After a sequence ends it holds its last value, so alpha[-1]
    is every sequence's final alpha."""
    alpha = pot.start + emissions[0]                                         # (B, K)
    alphas = [alpha]
    for t in range(1, emissions.shape[0]):
        # (B, K_from, 1) + (K_from, K_to) + (B, 1, K_to), summed over K_from
        step = torch.logsumexp(alpha.unsqueeze(2) + pot.transitions + emissions[t].unsqueeze(1),
                               dim=1)
        alpha = torch.where(mask[t].unsqueeze(1), step, alpha)
        alphas.append(alpha)
    return torch.stack(alphas)


def backward_scores(emissions: Tensor, mask: Tensor, pot: Potentials) -> Tensor:
    """beta: (T, B, K), beta[t, b, k] = log-sum of the scores of all continuations of a path that
    is in tag k at step t (steps t+1.. and `end`, not emissions[t]). At a sequence's last step
    beta is `end`; at padding it is `end` too (never used)."""
    beta = pot.end.expand_as(emissions[0])                                   # (B, K)
    betas = [beta]
    for t in range(emissions.shape[0] - 1, 0, -1):
        # (K_from, K_to) + (B, 1, K_to), summed over K_to
        step = torch.logsumexp(pot.transitions + (emissions[t] + beta).unsqueeze(1), dim=2)
        # step t exists: continue from it; otherwise step t-1 is the last one (or padding)
        beta = torch.where(mask[t].unsqueeze(1), step, pot.end)
        betas.append(beta)
    return torch.stack(betas[::-1])


def log_partition(emissions: Tensor, mask: Tensor, pot: Potentials) -> Tensor:
    """log Z: (B,), the log-sum of the scores of all paths of each sequence's length."""
    return torch.logsumexp(forward_scores(emissions, mask, pot)[-1] + pot.end, dim=1)


def marginals(emissions: Tensor, mask: Tensor, pot: Potentials) -> Tensor:
    """p(y_t = k | x): (T, B, K) by forward-backward; zero at padded positions."""
    alpha = forward_scores(emissions, mask, pot)
    beta = backward_scores(emissions, mask, pot)
    # every path passes through exactly one tag at step 0, so Z = sum_k exp(alpha_0 + beta_0)
    log_z = torch.logsumexp(alpha[0] + beta[0], dim=1)                       # (B,)
    probs = torch.exp(alpha + beta - log_z.unsqueeze(1))
    return torch.where(mask.unsqueeze(2), probs, 0)

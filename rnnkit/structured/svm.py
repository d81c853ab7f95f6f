"""The structured SVM loss (margin rescaling; Taskar et al. 2003, Tsochantaridis et al. 2005) on
a CRF's scores.

    loss = max_y [score(x, y) + cost * hamming(y, gold)] - score(x, gold)  >= 0

The gold path must beat every other path by a margin that grows with the number of tags it gets
wrong. Hamming cost decomposes over steps, so the max is a Viterbi on cost-augmented emissions:
emissions[t, k] + cost wherever k != gold[t]. The gold path gains nothing from the augmentation,
so the loss is the perceptron's violation on the augmented emissions (>= 0, with y = gold).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit import _check
from rnnkit.structured.crf import CRF
from rnnkit.structured.perceptron import check_crf, violation
from rnnkit.structured.reduction import REDUCTIONS, reduce


def cost_augmented(emissions: Tensor, tags: Tensor, cost: float) -> Tensor:
    """emissions (T, B, K) + cost at every tag other than the gold one: (T, B, K)."""
    wrong = torch.ones_like(emissions).scatter_(2, tags.unsqueeze(2), 0.0)
    return emissions + cost * wrong


def svm_loss(crf: CRF, emissions: Tensor, tags: Tensor, mask: Tensor | None = None,
             reduction: str = "sum", cost: float = 1.0) -> Tensor:
    """Margin-rescaled structured hinge loss of `crf` on a batch: (B,) with reduction 'none',
    else a scalar ('sum', 'mean', 'token_mean' as CRF.forward). `cost` is the margin per wrong
    tag (>= 0; 0 gives the perceptron loss). Inputs as CRF.forward. Minimise it."""
    check_crf(crf)
    _check.one_of("reduction", reduction, REDUCTIONS)
    if isinstance(cost, bool) or not isinstance(cost, (int, float)):
        raise TypeError(f"cost: expected a float >= 0, got {_check.describe(cost)}")
    if cost < 0:
        raise ValueError(f"cost: expected a float >= 0, got {cost}")
    emissions, tags, mask = crf.prepare(emissions, tags, mask)
    augmented = cost_augmented(emissions, tags, float(cost))
    return reduce(violation(crf, augmented, tags, mask), reduction, mask)

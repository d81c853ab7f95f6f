"""The structured perceptron loss (Collins 2002) on a CRF's scores.

    loss = max_y score(x, y) - score(x, gold)  >= 0

The score of the Viterbi path minus the score of the gold path: zero exactly when the gold
path is (one of) the best, and its gradient moves the scores of the two paths apart, as the
perceptron update does. It needs no partition function, only decoding.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit import _check
from rnnkit.structured import chain
from rnnkit.structured.crf import CRF
from rnnkit.structured.reduction import REDUCTIONS, reduce
from rnnkit.structured.viterbi import viterbi


def check_crf(crf) -> CRF:
    if not isinstance(crf, CRF):
        raise TypeError(f"crf: expected a rnnkit.structured.CRF, got {_check.describe(crf)}")
    return crf


def violation(crf: CRF, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
    """(B,) max_y score(y) - score(tags) under the CRF's potentials, on validated time-major
    inputs. The best path is found without gradients; the gradient flows through the scores of
    the two paths (the subgradient of the max)."""
    pot = crf.potentials()
    with torch.no_grad():
        best = viterbi(emissions, mask, pot)[1][..., 0]                      # (T, B)
    return chain.path_score(emissions, best, mask, pot) - chain.path_score(emissions, tags,
                                                                           mask, pot)


def perceptron_loss(crf: CRF, emissions: Tensor, tags: Tensor, mask: Tensor | None = None,
                    reduction: str = "sum") -> Tensor:
    """Structured perceptron loss of `crf` on a batch: (B,) with reduction 'none', else a scalar
    ('sum', 'mean', 'token_mean' as CRF.forward). Inputs as CRF.forward (batch_first from the
    CRF). Minimise it."""
    check_crf(crf)
    _check.one_of("reduction", reduction, REDUCTIONS)
    emissions, tags, mask = crf.prepare(emissions, tags, mask)
    return reduce(violation(crf, emissions, tags, mask), reduction, mask)

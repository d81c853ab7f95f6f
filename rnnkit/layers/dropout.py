"""Dropout for sequences: standard (a fresh mask at every time step) or variational (one mask
per sequence, shared by all time steps; Gal & Ghahramani 2016), and DropConnect on a weight."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import _check


def variational_mask(like: Tensor, p: float) -> Tensor:
    """like: (B, F) -> a (B, F) mask of 0 and 1/(1-p), to be reused at every step (all zeros
    for p = 1, as torch's dropout)."""
    if p == 1.0:
        return like.new_zeros(like.shape)
    return like.new_empty(like.shape).bernoulli_(1.0 - p).div_(1.0 - p)


class SequenceDropout(nn.Module):
    """x: (T, B, F) -> x with units dropped with probability p during training.

    variational=False: an independent mask per time step (Zaremba et al. 2014, between layers).
    variational=True: one mask (B, F) for the whole sequence (Gal & Ghahramani 2016).
    Padded positions are zero before and stay zero after."""

    def __init__(self, p: float = 0.0, variational: bool = False):
        super().__init__()
        self.p = _check.probability("dropout", p)
        self.variational = variational

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.variational:
            return x * variational_mask(x[0], self.p).unsqueeze(0)
        return nn.functional.dropout(x, self.p, training=True)

    def extra_repr(self) -> str:
        return f"p={self.p}, variational={self.variational}"


def drop_connect(weight: Tensor, p: float) -> Tensor:
    """DropConnect (Wan et al. 2013) as weight drop (Merity et al. 2017): each entry of the weight
    is zeroed with probability p, once per sequence, so the same recurrent weights serve every
    step."""
    return nn.functional.dropout(weight, p, training=True)

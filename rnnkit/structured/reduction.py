"""How per-sequence values become one number, as pytorch-crf."""

from __future__ import annotations

from torch import Tensor

REDUCTIONS = ("none", "sum", "mean", "token_mean")


def reduce(values: Tensor, reduction: str, mask: Tensor) -> Tensor:
    """values: (B,) one per sequence; mask: (T, B) bool.
    'none' -> (B,); 'sum'; 'mean' over sequences; 'token_mean': the sum over the number of
    unmasked steps, so that long sequences weigh more."""
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean":
        return values.mean()
    return values.sum() / mask.sum().to(values.dtype)

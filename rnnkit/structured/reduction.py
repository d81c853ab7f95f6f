"""How per-sequence values become one number, as pytorch-crf."""

from __future__ import annotations

from torch import Tensor

REDUCTIONS = ("none", "sum", "mean", "token_mean")


def check_scripted(reduction: str,
                   allowed: tuple[str, str, str, str] = REDUCTIONS) -> None:
    """The check of `reduction` that TorchScript compiles for a scripted CRF (the eager one is
    `_check.one_of`'s). REDUCTIONS comes in as a default argument: TorchScript reads no global
    tuple."""
    if reduction not in allowed:
        raise ValueError(f"reduction: expected none, sum, mean or token_mean, got {reduction}")


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

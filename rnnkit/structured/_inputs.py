"""Validation and layout for the public entry points of structured/: emissions, tags and mask
are checked in the caller's layout (so that errors show the shapes that came) and returned
time-major. Errors name the argument, what was expected and what came (as rnnkit/_check.py)."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from rnnkit import _check

_INTEGER = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def time_major(value: Tensor, batch_first: bool) -> Tensor:
    return value.transpose(0, 1) if batch_first else value


def _matches(name: str, value: Tensor, like: Tensor, against: str) -> None:
    """`value` has the first two dimensions and the device of `like` (named `against`)."""
    if value.shape != like.shape[:2]:
        raise ValueError(f"{name}: expected shape {tuple(like.shape[:2])} (the {against}' first "
                         f"two dimensions), got {tuple(value.shape)}")
    if value.device != like.device:
        raise ValueError(f"{name}: expected a tensor on {like.device} (the {against}' device), "
                         f"got one on {value.device}")


def scores(name: str, value, num_tags: int, like: Tensor, batch_first: bool) -> Tensor:
    """Per-step scores (T, B, K) (emissions, log posteriors) of `like`'s dtype and device, at
    least one step long."""
    _check.tensor_like_params(name, value, like, ndim=3, last=num_tags, last_name="num_tags")
    if value.shape[int(batch_first)] == 0:
        raise ValueError(f"{name}: expected at least one time step, got shape "
                         f"{tuple(value.shape)}")
    return value


def tags(value, like: Tensor | None, against: str = "emissions") -> Tensor:
    """An integer tensor of 2 dimensions, the first two of `like` (when given) -> int64."""
    if not isinstance(value, Tensor):
        raise TypeError(f"tags: expected an integer tensor, got {_check.describe(value)}")
    if value.dtype not in _INTEGER:
        raise TypeError(f"tags: expected an integer dtype (e.g. torch.int64), got {value.dtype}")
    if like is None and value.dim() != 2:
        raise ValueError(f"tags: expected 2 dimensions ((T, B), or (B, T) with batch_first), "
                         f"got shape {tuple(value.shape)}")
    if like is not None:
        _matches("tags", value, like, against)
    return value.long()


def mask(value, like: Tensor, batch_first: bool, against: str = "emissions") -> Tensor:
    """`mask` (None: every step on) -> bool (T, B), each sequence a prefix of the time axis that
    includes the first step. `like` is the tensor whose first two dimensions it must match."""
    if value is None:
        return torch.ones(like.shape[:2], dtype=torch.bool, device=like.device).transpose(
            0, int(batch_first))
    if not isinstance(value, Tensor):
        raise TypeError(f"mask: expected a bool or uint8 tensor, got {_check.describe(value)}")
    if value.dtype not in (torch.bool, torch.uint8):
        raise TypeError(f"mask: expected dtype torch.bool or torch.uint8, got {value.dtype}")
    _matches("mask", value, like, against)
    on = time_major(value.bool(), batch_first)
    off_first = (~on[0]).nonzero().flatten().tolist()
    if off_first:
        raise ValueError(f"mask: expected the first step on for every sequence, got it off for "
                         f"batch index(es) {off_first}")
    # a step on after a step off: padding in the middle or at the start
    gaps = (on[1:] & ~on[:-1]).any(0).nonzero().flatten().tolist()
    if gaps:
        raise ValueError(f"mask: expected each sequence's steps as a contiguous prefix (padding "
                         f"at the end only), got a step on after a step off for batch "
                         f"index(es) {gaps}")
    return on


def tags_in_range(value: Tensor, on: Tensor, num_tags: int) -> Tensor:
    """Time-major int64 tags with values in [0, num_tags) where `on`; padded positions may hold
    anything (e.g. -100) and come back as 0."""
    outside = on & ((value < 0) | (value >= num_tags))
    if outside.any():
        raise ValueError(f"tags: expected values in [0, {num_tags - 1}] (num_tags {num_tags}) "
                         f"where the mask is on, got {value[outside].unique().tolist()}")
    return torch.where(on, value, 0)


def prepare(name: str, values, tag_values, mask_value, *, num_tags: int, like: Tensor,
            batch_first: bool) -> tuple[Tensor, Tensor | None, Tensor]:
    """Validate per-step scores (named `name`) with optional tags and a mask. All come back
    time-major: scores (T, B, K), tags (T, B) int64 (None if not given), mask (T, B) bool."""
    values = scores(name, values, num_tags, like, batch_first)
    on = mask(mask_value, values, batch_first, against=name)
    if tag_values is not None:
        tag_values = tags(tag_values, values, against=name)
        tag_values = tags_in_range(time_major(tag_values, batch_first), on, num_tags)
    return time_major(values, batch_first), tag_values, on


def prepare_scripted(emissions: Tensor, tags: Optional[Tensor], mask: Optional[Tensor],
                     num_tags: int, batch_first: bool
                     ) -> tuple[Tensor, Optional[Tensor], Tensor]:
    """What `prepare` does, for a CRF compiled by TorchScript, which cannot compile `prepare`'s
    messages: the same checks of shapes and of the mask's first step (the signature has already
    checked the types), shorter messages, and the same time-major results."""
    if emissions.dim() != 3 or emissions.shape[2] != num_tags:
        raise ValueError(f"emissions: expected 3 dimensions, the last num_tags = {num_tags}, "
                         f"got shape {emissions.shape}")
    first_two = emissions.shape[:2]
    if mask is None:
        on = torch.ones(first_two, dtype=torch.bool, device=emissions.device)
    else:
        if mask.shape != first_two:
            raise ValueError(f"mask: expected shape {first_two} (the emissions' first two "
                             f"dimensions), got {mask.shape}")
        on = mask.to(torch.bool)
    if batch_first:
        emissions, on = emissions.transpose(0, 1), on.transpose(0, 1)
    if not bool(on[0].all()):
        raise ValueError("mask: expected the first step on for every sequence")
    if tags is not None:
        if tags.shape != first_two:
            raise ValueError(f"tags: expected shape {first_two} (the emissions' first two "
                             f"dimensions), got {tags.shape}")
        tags = tags.long()
        tags = torch.where(on, tags.transpose(0, 1) if batch_first else tags, 0)
    return emissions, tags, on

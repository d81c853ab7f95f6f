"""The plain loop over time: works for every cell, and is the definition the other engines are
tested against."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, State, Weights


def run(cell: RecurrentCell, w: Weights, x: Tensor, state: State, lengths: Tensor | None,
        recurrent_mask: Tensor | None = None) -> tuple[Tensor, State]:
    """x: (T, B, I); state: the cell's tuple of (B, size); lengths: (B,) or None;
    recurrent_mask: (B, size of state[0]), the recurrent dropout mask of every step (see
    `RecurrentCell.recurrence`).
    Returns (outputs (T, B, O), final state)."""
    T = x.shape[0]
    # The input's share of every step in one matrix product over the whole sequence.
    x_proj = cell.input_part(w, x)
    # Steps before the shortest length need no masking; after it, sequences that have ended keep
    # their state and output zeros.
    first_masked = T if lengths is None else int(lengths.min())
    if first_masked < T:
        active = valid_steps(lengths, x)
    outputs = []
    for t in range(T):
        out, new_state = cell.recurrence(w, x_proj[t], state, recurrent_mask)
        if t >= first_masked:
            keep = active[t]
            new_state = tuple(torch.where(keep, n, s) for n, s in zip(new_state, state))
            out = out * keep
        state = new_state
        outputs.append(out)
    return torch.stack(outputs), state


def valid_steps(lengths: Tensor, like: Tensor) -> Tensor:
    """lengths: (B,) -> (T, B, 1) bool on like's device, True where t < lengths[b]; T from
    like: (T, B, ...)."""
    steps = torch.arange(like.shape[0]).unsqueeze(1) < lengths
    return steps.to(like.device).unsqueeze(-1)

"""Generated tasks that need no download, for demos and quick checks of long-range memory.

Both take a torch.Generator, so a seed fixes the data, and are time-major like the layers.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit import _check


def adding_problem(batch: int, length: int,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """The adding problem (Hochreiter & Schmidhuber 1997): x (T, B, 2), y (B,).

    Each step carries a value uniform in [0, 1] and a marker; exactly two steps are marked, one
    in each half of the sequence, and the target is the sum of their values. Predicting the mean
    (1.0) scores an MSE of about 0.167.
    """
    _check.positive_int("batch", batch)
    if _check.positive_int("length", length) < 2:
        raise ValueError(f"length: expected at least 2 (one marked step in each half), "
                         f"got {length}")
    values = torch.rand(length, batch, generator=generator)
    first = torch.randint(0, length // 2, (batch,), generator=generator)
    second = torch.randint(length // 2, length, (batch,), generator=generator)
    markers = torch.zeros(length, batch)
    markers[first, torch.arange(batch)] = 1.0
    markers[second, torch.arange(batch)] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(0)


BLANK = 0  # the copy task's "nothing" symbol, input and target


def copy_task(batch: int, length: int, delay: int, num_symbols: int = 8,
              generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """The copy task (Hochreiter & Schmidhuber 1997; as set by Arjovsky et al. 2016):
    inputs, targets (S, B) int64 with S = 2 * length + delay.

    The input is `length` random symbols from 1..num_symbols, then `delay - 1` blanks (0), then
    the go marker (num_symbols + 1), then `length` blanks; the target is blank until the go
    marker has been seen and then repeats the symbols. An embedding of num_symbols + 2 entries
    covers every input; predicting blanks and then random symbols scores a cross-entropy of
    length * log(num_symbols) / S.
    """
    _check.positive_int("batch", batch)
    _check.positive_int("length", length)
    _check.positive_int("delay", delay)
    _check.positive_int("num_symbols", num_symbols)
    symbols = torch.randint(1, num_symbols + 1, (length, batch), generator=generator)
    go = torch.full((1, batch), num_symbols + 1)
    inputs = torch.cat([symbols, torch.full((delay - 1, batch), BLANK), go,
                        torch.full((length, batch), BLANK)])
    targets = torch.cat([torch.full((length + delay, batch), BLANK), symbols])
    return inputs, targets

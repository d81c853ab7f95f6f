"""Truncated backpropagation through time over a long stream (Williams & Peng 1990).

BPTT(k2; k1): an update every k1 steps, whose gradient flows back k2 steps from the update
point: the errors of the k1 new outputs reach back to the start of a window of k2 steps, and no
further. The state entering a window is carried over from the previous window, detached, so
memory stays bounded however long the stream. k1 == k2 is the common form (Zaremba et al. 2014):
windows do not overlap. With k2 > k1 each window re-runs the k2 - k1 steps before its new ones
to let gradients reach back through them; the state carried to the next window is the one
after this window's first `carry - start` steps.

    stream: 0 ........ start ... carry ....... loss_from ...... end ......
                       |<-- k2 - k1 -->|
                       |<-------------------- k2 ------------------->|
                                                 |<----- k1 ------>|
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.tasks.base import Batch, Task


@dataclass(frozen=True)
class Window:
    """Steps [start, end) run forward; outputs [loss_from, end) enter the loss; the state after
    step `carry` (start <= carry <= end) starts the next window."""

    start: int
    carry: int
    loss_from: int
    end: int


def windows(length: int, k1: int, k2: int) -> list[Window]:
    """The windows over a stream of `length` steps; the last may have fewer than k1 new steps.
    k2 >= k1."""
    overlap = k2 - k1
    ends = list(range(k1, length, k1)) + [length]
    starts = [max(0, end - overlap) for end in [0] + ends]  # where each window's run begins
    return [Window(starts[i], starts[i + 1], loss_from, end)
            for i, (loss_from, end) in enumerate(zip([0] + ends[:-1], ends))]


def detach(state):
    """A state in torch's layout (a tensor, a tuple of them, or None) cut from the graph."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach(s) for s in state)


def run_window(task: Task, model, stream: Batch, window: Window, state):
    """Run one window of `stream` (inputs (L, B, ...), targets (L, B)) from `state`.
    -> (loss over the window's new outputs, the task's sums, the detached state for the next
    window)."""
    outputs, carried = [], state
    if window.carry > window.start:
        out, carried = model(stream.inputs[window.start:window.carry], state)
        outputs.append(out)
    if window.end > window.carry:
        out, _ = model(stream.inputs[window.carry:window.end], carried)
        outputs.append(out)
    outputs = torch.cat(outputs)[window.loss_from - window.start:]
    loss, sums = task.loss(outputs, stream.targets[window.loss_from:window.end])
    return loss, sums, detach(carried)

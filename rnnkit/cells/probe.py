"""A window into the cells: record the named intermediates of every step while a model runs.

Each cell calls `note(self, name, value)` in `recurrence` for the quantities of its equations
(an LSTM's pre-activations a_i, a_f, a_g, a_o, its gates i, f, o, the candidate g, the cell c and
the output h), always under the names of its docstring; pre-activations are named `a` or `a_k`.
Outside `probe()` a note costs one read of a global and records nothing:

    with engines.use("loop"), probe() as recording:
        output = model(x)
    recording.steps(cell)[t]["i"]          # (B, H): the input gate of `cell` at step t

Only the loop engine runs `recurrence` step by step (torch's kernels and the fused C++ loop
compute the same numbers out of Python's sight), so record with it forced, as `rnnkit.explain`
does. The recorded tensors stay in the autograd graph: gradients can be taken with respect to
them.
"""

from __future__ import annotations

import contextlib
import contextvars

from torch import Tensor, nn

Step = dict[str, Tensor]


class Recording:
    """The steps of every cell that ran under `probe()`, in the order the cells first ran.

    A cell notes each of its names once per step, so a name it notes again starts its next
    step. A cell that runs several times under one probe (two calls of a model) continues its
    list of steps."""

    def __init__(self):
        self._steps: dict[nn.Module, list[Step]] = {}

    def note(self, cell: nn.Module, name: str, value: Tensor) -> None:
        steps = self._steps.setdefault(cell, [])
        if not steps or name in steps[-1]:
            steps.append({})
        steps[-1][name] = value

    @property
    def cells(self) -> list[nn.Module]:
        """The cells that ran, in the order they first ran (bottom layer first, forward before
        backward direction)."""
        return list(self._steps)

    def steps(self, cell: nn.Module) -> list[Step]:
        """cell's steps in its own time order: one dict name -> (B, size) tensor per step (a
        backward direction's step 0 reads the last input)."""
        return self._steps[cell]


_recording: contextvars.ContextVar[Recording | None] = contextvars.ContextVar(
    "rnnkit_probe", default=None)


# How many probes are open, in any thread: while none is, a note is one read of this global,
# which graph capture (torch.compile, torch.export) traces, where it cannot trace the
# context-variable lookup.
_open = 0


def note(cell: nn.Module, name: str, value: Tensor) -> None:
    """Called by cells: record `value` (B, size) as `name` for this step of `cell`, if a probe
    is active."""
    if not _open:
        return
    recording = _recording.get()
    if recording is not None:
        recording.note(cell, name, value)


@contextlib.contextmanager
def probe():
    """with probe() as recording: ... records every noted value of every cell run inside."""
    global _open
    recording = Recording()
    token = _recording.set(recording)
    _open += 1
    try:
        yield recording
    finally:
        _open -= 1
        _recording.reset(token)

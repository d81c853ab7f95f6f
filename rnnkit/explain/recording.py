"""Run a model with its cells recorded (`rnnkit.cells.probe`), and pick one cell's steps.

The loop engine is forced for the run: torch's kernels and the fused C++ loop compute the same
numbers without calling `cell.recurrence`, where the cells note their values.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from rnnkit import engines
from rnnkit.cells.probe import Recording, Step, probe


def run_recorded(model: Callable, x) -> tuple[object, Recording]:
    """-> (model(x), the recording of every rnnkit cell that ran in it)."""
    with engines.use("loop"), probe() as recording:
        output = model(x)
    if not recording.cells:
        raise ValueError("model: expected a model built from rnnkit cells (rnnkit.LSTM, "
                         "Recurrent(cell), ...), but no rnnkit cell ran on the input")
    return output, recording


def cell_steps(recording: Recording, cell: nn.Module | None = None) -> tuple[nn.Module, list[Step]]:
    """-> (cell, its steps); `cell` None means the first cell that ran: the bottom layer's
    forward direction."""
    if cell is None:
        cell = recording.cells[0]
    elif cell not in recording.cells:
        names = ", ".join(type(c).__name__ for c in recording.cells)
        raise ValueError(f"cell: expected one of the cells that ran ({names}), got a "
                         f"{type(cell).__name__} that did not run")
    return cell, recording.steps(cell)


def pick(step: Step, name: str, argument: str):
    """step[name], or a ValueError naming `argument` and the names the cell records."""
    if name not in step:
        raise ValueError(f"{argument}: expected one of the values the cell records "
                         f"({', '.join(step)}), got {name!r}")
    return step[name]

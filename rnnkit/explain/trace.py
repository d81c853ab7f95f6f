"""The hand calculation, done by the machine: every pre-activation, gate, cell state and output
of a cell at every step of one input sequence, as numbers and as a table."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.probe import probe

Trace = list[dict[str, np.ndarray]]


def trace(cell: RecurrentCell, x, state=None) -> Trace:
    """Run `cell` step by step over one sequence x: (T, I) (a tensor, array or nested lists),
    from `state` (the cell's tuple of (size,) vectors, or None for zeros).

    -> one dict per step: "x" the input x_t, then every value the cell records in the order it
    computes them (for an LSTM a_i, i, a_f, f, a_g, g, c, a_o, o, h; see each cell's
    docstring), each a (size,) float64 array. Computed in the cell's dtype."""
    if not isinstance(cell, RecurrentCell):
        raise TypeError(f"cell: expected a rnnkit RecurrentCell, got {_check.describe(cell)}")
    like = cell.weight_ih
    x = torch.as_tensor(x, dtype=like.dtype, device=like.device)
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] != cell.input_size:
        raise ValueError(f"x: expected shape (T, {cell.input_size}) with T >= 1 (one sequence "
                         f"of input_size features per step), got {tuple(x.shape)}")
    if state is not None:
        state = tuple(torch.as_tensor(s, dtype=like.dtype, device=like.device).view(1, -1)
                      for s in state)
    with torch.no_grad(), probe() as recording:
        for x_t in x:
            _, state = cell.step(x_t.view(1, -1), state)
    return [{"x": _numbers(x_t), **{name: _numbers(value[0]) for name, value in step.items()}}
            for x_t, step in zip(x, recording.steps(cell))]


def _numbers(value: torch.Tensor) -> np.ndarray:
    return value.detach().cpu().double().numpy()


def trace_table(steps: Trace) -> tuple[list[str], list[list[float]]]:
    """-> (headers, rows): a column "t", then one per value and unit ("i[0]", "i[1]", ...;
    plain "i" for a value of one unit), one row per step."""
    headers = ["t"] + [name if len(v) == 1 else f"{name}[{k}]"
                       for name, v in steps[0].items() for k in range(len(v))]
    rows = [[t, *np.concatenate(list(step.values())).tolist()] for t, step in enumerate(steps)]
    return headers, rows


def format_trace(steps: Trace, *, digits: int = 4, width: int = 100) -> str:
    """The trace as a text table, one row per step; the values that do not fit in `width`
    characters continue in a further table below, which repeats the t column (a value's units
    stay together)."""
    headers, rows = trace_table(steps)
    cells = [[str(row[0])] + [f"{v:.{digits}f}" for v in row[1:]] for row in rows]
    widths = [max(len(h), *(len(r[j]) for r in cells)) for j, h in enumerate(headers)]
    blocks, block, used, start = [], [], widths[0], 1
    for v in steps[0].values():  # the columns of one value: start .. start + len(v) - 1
        group = list(range(start, start + len(v)))
        start += len(v)
        extra = sum(2 + widths[j] for j in group)
        if block and used + extra > width:
            blocks.append(block)
            block, used = [], widths[0]
        block += group
        used += extra
    blocks.append(block)
    out = []
    for block in blocks:
        columns = [0, *block]
        line = "  ".join(headers[j].rjust(widths[j]) for j in columns)
        out += [line, "-" * len(line)]
        out += ["  ".join(r[j].rjust(widths[j]) for j in columns) for r in cells]
        out.append("")
    return "\n".join(out[:-1])


def write_trace_csv(steps: Trace, path: str | Path) -> None:
    """The trace as CSV at full precision: the headers of `trace_table`, one row per step."""
    headers, rows = trace_table(steps)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(headers)
        writer.writerows(rows)

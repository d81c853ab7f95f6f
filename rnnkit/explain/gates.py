"""What a cell does at each step of one sequence: its gates, cell state and output over time, as
numbers and as heat maps (time on x, units on y)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from rnnkit.explain import figures
from rnnkit.explain.recording import cell_steps, pick, run_recorded


def gate_activations(model: Callable, x, *, cell: nn.Module | None = None
                     ) -> dict[str, np.ndarray]:
    """Run `model(x)` on one sequence (a batch of 1, e.g. x (T, 1, I)) and return every value
    `cell` records, name -> (T, n) array in the order the cell computes them: for an LSTM
    a_i, i, a_f, f, a_g, g, c, a_o, o, h (see each cell's docstring).

    cell: default the first cell that runs (the bottom layer's forward direction); a backward
    direction's rows run in its own time order, row 0 having read the last input."""
    with torch.no_grad():
        _, recording = run_recorded(model, x)
    cell, steps = cell_steps(recording, cell)
    batch = next(iter(steps[0].values())).shape[0]
    if batch != 1:
        raise ValueError(f"x: expected one sequence (a batch of 1), got a batch of {batch}")
    return {name: np.stack([step[name][0].cpu().double().numpy() for step in steps])
            for name in steps[0]}


def is_preactivation(name: str) -> bool:
    """Pre-activations are named a or a_k by the cells (rnnkit.cells.probe)."""
    return name == "a" or name.startswith("a_")


def plot_gates(activations: dict[str, np.ndarray], tokens: Sequence[str] | None = None,
               path: str | Path | None = None, *, names: Sequence[str] | None = None,
               title: str | None = None) -> Figure:
    """Heat maps, one panel per value: time on x (labelled with `tokens` if given), units on y.
    names: which values (default every one but the pre-activations). Values in [0, 1] (gates)
    share a fixed 0..1 scale, so open and shut gates read the same in every panel; others (cell
    state, output) a diverging scale centred on 0. Saved as PNG when `path` is given."""
    names = [n for n in activations if not is_preactivation(n)] if names is None else list(names)
    T = next(iter(activations.values())).shape[0]
    if tokens is not None and len(tokens) != T:
        raise ValueError(f"tokens: expected one per time step ({T}), got {len(tokens)}")
    values = [pick(activations, name, "names").T for name in names]  # (n, T) each
    heights = [min(2.0, 0.5 + 0.08 * len(v)) for v in values]  # inches: more units, taller
    fig = Figure(figsize=(min(16.0, 2.0 + 0.28 * T), sum(heights) + 1.2), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, name, v in zip(axes, names, values):
        if v.min() >= 0.0 and v.max() <= 1.0:
            image = ax.imshow(v, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                              interpolation="nearest")
        else:
            bound = max(float(np.abs(v).max()), 1e-12)
            image = ax.imshow(v, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                              interpolation="nearest")
        fig.colorbar(image, ax=ax, pad=0.01, aspect=8)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", labelpad=8, fontsize="large")
        ax.set_yticks(range(len(v)) if len(v) <= 8 else [])  # unit numbers while readable
    if title is not None:
        fig.suptitle(title)
    bottom = axes[-1]
    if tokens is None:
        bottom.set_xlabel("time step t")
    else:
        bottom.set_xticks(range(T), tokens, rotation=90, fontsize="small")
    return figures.finish(fig, path)

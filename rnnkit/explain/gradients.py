"""How gradients flow back through time: the norms of dL/dh_t and of dh_T/dh_t at every step t.

Backpropagation through time multiplies one Jacobian dh_{t+1}/dh_t per step, so what reaches an
early step from a late loss shrinks or grows geometrically with the distance (Bengio, Simard &
Frasconi 1994; Pascanu, Mikolov & Bengio 2013). A tanh RNN's curves fall by orders of magnitude
as t goes back from T; an LSTM's additive cell path c_t = f c_{t-1} + i g keeps them up for as
long as its forget gates stay near 1 (Hochreiter & Schmidhuber 1997).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from rnnkit.explain import figures
from rnnkit.explain.recording import cell_steps, pick, run_recorded


@dataclass(frozen=True)
class GradientFlow:
    """One cell's gradient norms over its steps t = 0 .. T-1, each the mean over the batch of a
    per-sequence norm.

    loss: (T,) ||dL/dh_t||_2. With a loss that averages over the batch, each sequence's share
        carries the factor 1/B; compare curves measured on batches of the same size.
    final: (T,) ||dh_{T-1}/dh_t||_F, the Frobenius norm of the (n, n) Jacobian of the last
        step's h with respect to h_t (sqrt(n) at t = T-1, the identity).
    wrt: the recorded value that plays h: by default the state the cell feeds back (h, or y for
        a Jordan cell); any name the cell records, e.g. "c" for an LSTM's cell.

    Both differentiate with respect to h_t as the cell computes it at step t: everything
    computed from it later follows (for wrt "c", an LSTM's h_t = o tanh(c_t) too), what was
    computed before it or beside it is held (c_t for wrt "h"), as in backpropagation through
    time.
    """

    loss: np.ndarray
    final: np.ndarray
    wrt: str

    @property
    def ratio(self) -> float:
        """||dL/dh_0|| / ||dL/dh_{T-1}||: the fraction of the gradient that reaches step 0."""
        return float(self.loss[0] / self.loss[-1])


def gradient_norms(model: Callable, x, loss_fn: Callable[[object], Tensor], *,
                   cell: nn.Module | None = None, wrt: str | None = None) -> GradientFlow:
    """Run `model(x)` on the plain loop and measure how the scalar `loss_fn(model(x))` and the
    last step depend on each step's value `wrt` of `cell`.

    model: any callable whose recurrent parts are rnnkit cells (a layer, a drop-in such as
        rnnkit.LSTM, a model around one); x: what it takes, e.g. (T, B, I). To pass lengths,
        wrap it: `lambda x: layer(x, lengths=lengths)`; steps past a sequence's end then get a
        zero dL/dh_t, while `final` always differentiates the last step T-1.
    cell: which cell's steps (default: the first that runs, the bottom layer's forward
        direction; a backward direction counts its own steps, step 0 reading the last input).
    The model runs in the mode it is in (call .eval() to measure without dropout).
    Cost: one forward pass, and one backward pass for the loss plus one per unit of h for the
    Jacobian (exact, no sampling).
    """
    with torch.enable_grad():
        output, recording = run_recorded(model, x)
        cell, steps = cell_steps(recording, cell)
        name = cell.state_names[0] if wrt is None else wrt
        states = [pick(step, name, "wrt") for step in steps]  # T tensors (B, n)
        loss = loss_fn(output)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(f"loss_fn: expected a scalar tensor, got "
                             f"{type(loss).__name__} {getattr(loss, 'shape', '')}")
        d_loss = _grads(loss, states)
        final = states[-1]
        squares = [torch.zeros_like(final[:, 0]) for _ in states]  # (B,) each
        for unit in range(final.shape[1]):  # row `unit` of every Jacobian dh_{T-1}/dh_t at once
            for total, g in zip(squares, _grads(final[:, unit].sum(), states)):
                total += (g ** 2).sum(-1)
    return GradientFlow(loss=np.array([g.norm(dim=-1).mean().item() for g in d_loss]),
                        final=np.array([s.sqrt().mean().item() for s in squares]), wrt=name)


def _grads(output: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """d output / d each input, zeros for an input output does not depend on."""
    grads = torch.autograd.grad(output, inputs, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g.detach() for g, x in zip(grads, inputs)]


def plot_gradients(stages: Mapping[str, Mapping[str, GradientFlow]],
                   path: str | Path | None = None) -> Figure:
    """stages: {stage title: {model name: GradientFlow}}, e.g. {"at init": ..., "trained": ...}.
    One column per stage, rows ||dL/dh_t|| and ||dh_T/dh_t|| on a log scale, one line per model;
    saved as PNG when `path` is given."""
    fig = Figure(figsize=(5.2 * len(stages), 6.4), layout="constrained")
    axes = fig.subplots(2, len(stages), sharex=True, sharey="row", squeeze=False)
    for column, (title, flows) in enumerate(stages.items()):
        top, bottom = axes[0, column], axes[1, column]
        for model, flow in flows.items():
            top.semilogy(flow.loss, label=model)
            bottom.semilogy(flow.final, label=model)
        top.set_title(title)
        top.legend(fontsize="small")
        bottom.set_xlabel("time step t")
    wrt = next(iter(next(iter(stages.values())).values())).wrt
    axes[0, 0].set_ylabel(f"||dL/d{wrt}_t||")
    axes[1, 0].set_ylabel(f"||d{wrt}_T/d{wrt}_t||  (Frobenius)")
    for ax in axes.flat:
        ax.grid(True, which="major", alpha=0.3)
    return figures.finish(fig, path)

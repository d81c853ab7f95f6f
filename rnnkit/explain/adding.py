"""The built-in comparison: a tanh RNN, an LSTM and a GRU on the adding problem (Hochreiter &
Schmidhuber 1997, `rnnkit.demo.adding_problem`), a task whose answer depends on two steps that
may lie far before the end.

Each model is a recurrent network read at its last step by a linear output (`demo.Regressor`).
Their gradient flow is measured on one fixed batch before and after a short training, which
records the learning curves: the untrained tanh RNN's ||dL/dh_t|| collapses long before step 0,
the LSTM's and the GRU's reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.demo import Regressor, adding_problem
from rnnkit.explain import figures, models
from rnnkit.explain.gradients import GradientFlow, gradient_norms

MODELS = {"RNN (tanh)": "elman", "LSTM": "lstm", "GRU": "gru"}
MEAN_GUESS_MSE = 1 / 6  # predicting 1.0, the mean of the sum: Var(u1 + u2) for u ~ U(0, 1)


def regressor(network: str | nn.Module, seed: int = 0) -> Regressor:
    """A model for the adding problem: x (T, B, 2) -> prediction (B,). `network` is a layer
    reading 2 features, or a spec for `explain.models.build`, built with the given seed."""
    if isinstance(network, str):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return Regressor(models.build(network, input_size=2))
    return Regressor(network)


def train(model: nn.Module, *, steps: int, length: int, batch: int = 64, lr: float = 1e-2,
          seed: int = 0) -> np.ndarray:
    """Adam on `steps` fresh batches of the adding problem (the same batches for every model
    trained with the same seed), gradients clipped at norm 1. -> (steps,) the training loss
    (MSE) of each step; every batch is new data, so it also measures generalisation."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    data = torch.Generator().manual_seed(seed)
    losses = np.empty(steps)
    model.train()
    for step in range(steps):
        x, y = adding_problem(batch, length, data)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        losses[step] = loss.item()
    model.eval()
    return losses


def probe_batch(length: int, batch: int = 16, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The fixed batch that gradients are measured on: x (T, B, 2), y (B,); a data stream of its
    own (seed + 1), apart from the training batches."""
    return adding_problem(batch, length, torch.Generator().manual_seed(seed + 1))


def adding_gradients(model: nn.Module, x: Tensor, y: Tensor, **options) -> GradientFlow:
    """`gradient_norms` of the MSE of `model(x)` against y."""
    return gradient_norms(model, x, lambda prediction: nn.functional.mse_loss(prediction, y),
                          **options)


@dataclass
class Comparison:
    """What `compare_on_adding_problem` measured. models: name -> the trained Regressor;
    at_init / trained: name -> GradientFlow on the probe batch (trained is empty without
    training); losses: name -> (steps,) the learning curve."""

    length: int
    models: dict[str, Regressor] = field(default_factory=dict)
    at_init: dict[str, GradientFlow] = field(default_factory=dict)
    trained: dict[str, GradientFlow] = field(default_factory=dict)
    losses: dict[str, np.ndarray] = field(default_factory=dict)

    def stages(self) -> dict[str, dict[str, GradientFlow]]:
        """The gradient curves by stage, as `plot_gradients` takes them."""
        stages = {"at initialisation": self.at_init}
        if self.trained:
            steps = len(next(iter(self.losses.values())))
            stages[f"after {steps} training steps"] = self.trained
        return stages


def compare_on_adding_problem(networks: Mapping[str, str | nn.Module] | None = None, *,
                              length: int = 50, steps: int = 1000, batch: int = 64,
                              lr: float = 1e-2, seed: int = 0, wrt: str | None = None,
                              report: Callable[[str], None] | None = None) -> Comparison:
    """Measure each network's gradient flow at init, train it `steps` steps on the adding
    problem of length T = `length`, and measure again.

    networks: name -> a layer reading 2 features or a model spec ("elman", "lstm:spec=CIFG");
    default MODELS, a tanh RNN, an LSTM and a GRU of 32 units. With the defaults this takes
    about 20 seconds on two CPU cores: training runs on the fastest engine, measuring on the
    plain loop. report: called with a line as each model starts and ends (progress)."""
    _check.positive_int("length", length)
    _check.positive_int("steps", steps, allow_zero=True)
    _check.positive_int("batch", batch)
    x, y = probe_batch(length, seed=seed)
    result = Comparison(length)
    networks = networks or MODELS
    for k, (name, network) in enumerate(networks.items(), start=1):
        if report:
            report(f"{name} ({k}/{len(networks)}): measuring at init"
                   + (f", training {steps} steps, measuring again" if steps else ""))
        model = regressor(network, seed).eval()
        result.models[name] = model
        result.at_init[name] = adding_gradients(model, x, y, wrt=wrt)
        if steps:
            result.losses[name] = train(model, steps=steps, length=length, batch=batch, lr=lr,
                                        seed=seed)
            result.trained[name] = adding_gradients(model, x, y, wrt=wrt)
    return result


def plot_learning_curves(losses: Mapping[str, np.ndarray], path: str | Path | None = None
                         ) -> Figure:
    """losses: name -> (steps,) training MSE. A running mean over a twentieth of the run, on a
    log scale, with the MSE of always guessing the mean for reference."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for name, curve in losses.items():
        window = max(1, len(curve) // 20)
        smooth = np.convolve(curve, np.ones(window) / window, mode="valid")
        ax.semilogy(np.arange(window, len(curve) + 1), smooth, label=name)
    ax.axhline(MEAN_GUESS_MSE, color="gray", linestyle="--", label="guessing the mean")
    ax.set_xlabel("training step")
    ax.set_ylabel("MSE (running mean)")
    ax.set_title("the adding problem")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return figures.finish(fig, path)


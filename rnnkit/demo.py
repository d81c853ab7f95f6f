"""A one-minute tour: several cells learn the adding problem (Hochreiter & Schmidhuber 1997).

Each input step carries a random number in [0, 1] and a marker; exactly two steps are marked, and
the target is the sum of their numbers. Predicting the mean (1.0) scores an MSE of about 0.167;
a network that has learned to carry the marked numbers across time does far better. The data is
generated, so this needs no download.

    python -m rnnkit.demo [--steps N] [--length T] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

import rnnkit
from rnnkit.cli.demo import add_arguments
from rnnkit.data.synthetic import adding_problem
from rnnkit.layers import Recurrent


class Regressor(nn.Module):
    """A recurrent layer read at the last step, then a linear output."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.head = nn.Linear(layer.output_size, 1)

    def forward(self, x):
        out, _ = self.layer(x)
        return self.head(out[-1]).squeeze(-1)


CONTESTANTS = {
    "LSTM (PyTorch's, drop-in)": lambda: rnnkit.LSTM(2, 32),
    "LSTM vanilla (peepholes)": lambda: Recurrent(rnnkit.LSTMCell(2, 32, spec="vanilla")),
    "LSTM CIFG": lambda: Recurrent(rnnkit.LSTMCell(2, 32, spec="CIFG")),
    "GRU": lambda: rnnkit.GRU(2, 32),
    "MUT1": lambda: Recurrent(rnnkit.MUTCell(2, 32, kind="MUT1", input_proj=True)),
    "Elman tanh": lambda: rnnkit.RNN(2, 32),
}


def train(name, make_layer, steps, length, seed):
    torch.manual_seed(seed)
    model = Regressor(make_layer())
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        x, y = adding_problem(64, length, data)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    with torch.no_grad():
        x, y = adding_problem(1000, length, torch.Generator().manual_seed(seed + 1))
        test_mse = nn.functional.mse_loss(model(x), y).item()
    return test_mse, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args) -> int:
    print(f"rnnkit {rnnkit.__version__}: the adding problem, T={args.length}, "
          f"{args.steps} Adam steps of 64 sequences per cell")
    print("test MSE of predicting the mean: ~0.167 (lower is better)\n")
    print(f"{'cell':<28}{'test MSE':>10}{'seconds':>10}")
    for name, make_layer in CONTESTANTS.items():
        mse, seconds = train(name, make_layer, args.steps, args.length, args.seed)
        print(f"{name:<28}{mse:>10.4f}{seconds:>10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sequence regression: a recurrent network read at the last step, then a linear output."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.models.network import ModelConfig, build_network


class SequenceRegressor(nn.Module):
    """model(x (T, B, I), state=None, lengths=None) -> (y (B,), final state in torch's layout).

    The readout is the network's output at each sequence's last step (for a bidirectional
    network, its backward half there has read only that step)."""

    def __init__(self, cfg: ModelConfig, input_size: int):
        super().__init__()
        self.rnn = build_network(cfg, input_size)
        self.head = nn.Linear(self.rnn.output_size, 1)

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        out, state = self.rnn(x, state, lengths)
        last = out[-1] if lengths is None else out[lengths - 1, torch.arange(out.shape[1])]
        return self.head(last).squeeze(-1), state

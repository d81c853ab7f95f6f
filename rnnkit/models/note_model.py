"""A next-step model of polyphonic music (Boulanger-Lewandowski et al. 2012): a recurrent
network over piano-roll steps, then one logit per key (`tasks/music.py` trains it)."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.data import NUM_KEYS
from rnnkit.models.network import ModelConfig, build_network


class NoteModel(nn.Module):
    """model(x (T, B, 88) piano roll, state=None, lengths=None) -> (logits (T, B, 88), state):
    the recurrent network, then a linear output per step; sigmoid(logits[t]) is each key's
    probability at step t + 1 of the roll x was read from."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.rnn = build_network(cfg, NUM_KEYS)
        self.head = nn.Linear(self.rnn.output_size, NUM_KEYS)

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        out, state = self.rnn(x, state, lengths)
        return self.head(out), state

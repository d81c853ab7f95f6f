"""The stack-augmented RNN (Joulin & Mikolov 2015) as a sequence layer: the driver over time
(`Recurrent`) running a `StackCell`, whose docstring has the step's equations."""

from __future__ import annotations

from rnnkit.cells.stack import StackCell
from rnnkit.layers.recurrent import Recurrent


class StackRNN(Recurrent):
    """StackRNN(input_size, hidden_size, num_stacks=1, depth=100, k=2, no_op=True,
    discrete="never", batch_first=False, *, hidden_recurrence=True, recurrent_dropout=0.0,
    weight_drop=0.0)

    forward(input, state=None, lengths=None) -> (output (T, B, H), (h (B, H), stack (B, S depth)))
        as `Recurrent`: the state starts with h = 0 and empty stacks, ended sequences keep theirs.
    depth must exceed the number of symbols a task keeps at once (a^n b^n pushes n); `discrete`
    ("never" | "eval" | "always") is the paper's rounding at test time, and
    hidden_recurrence=False leaves the stacks as the only memory (see `StackCell`).
    """

    def __init__(self, input_size: int, hidden_size: int, num_stacks: int = 1, depth: int = 100,
                 k: int = 2, no_op: bool = True, discrete: str = "never",
                 batch_first: bool = False, *, hidden_recurrence: bool = True,
                 recurrent_dropout: float = 0.0, weight_drop: float = 0.0, device=None,
                 dtype=None):
        cell = StackCell(input_size, hidden_size, num_stacks=num_stacks, depth=depth, k=k,
                         no_op=no_op, discrete=discrete, hidden_recurrence=hidden_recurrence,
                         device=device, dtype=dtype)
        super().__init__(cell, batch_first, recurrent_dropout=recurrent_dropout,
                         weight_drop=weight_drop)

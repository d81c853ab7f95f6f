"""The driver: runs any cell over time."""

from __future__ import annotations

from torch import Tensor

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State
from rnnkit.layers.dropout import drop_connect, variational_mask
from rnnkit import engines
from rnnkit.engines import fused, loop, native
from rnnkit.layers.sequence import SequenceLayer

ENGINES = {"fused": fused, "loop": loop}


class Recurrent(SequenceLayer):
    """Runs `cell` over a sequence, one direction.

    Recurrent(cell, batch_first=False, recurrent_dropout=0.0, weight_drop=0.0)
    forward(input, state=None, lengths=None) -> (output, final_state)
        input:  (T, B, I), (B, T, I) if batch_first, or a PackedSequence
        state:  the cell's state tuple, each (B, size); zeros if None
        output: (T, B, cell.output_size), zero at padded positions
        final_state: the state at each sequence's true end

    recurrent_dropout: variational dropout on the fed-back state (state[0]) with one mask per
        sequence (Gal & Ghahramani 2016); weight_drop: DropConnect on weight_hh, one mask per
        sequence (Merity et al. 2017). Both only in training mode.
    """

    def __init__(self, cell: RecurrentCell, batch_first: bool = False, *,
                 recurrent_dropout: float = 0.0, weight_drop: float = 0.0):
        super().__init__()
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"cell: expected a rnnkit RecurrentCell, got {_check.describe(cell)}")
        self.cell = cell
        self.batch_first = batch_first
        self.input_size = cell.input_size
        self.output_size = cell.output_size
        self.recurrent_dropout = _check.probability("recurrent_dropout", recurrent_dropout)
        self.weight_drop = _check.probability("weight_drop", weight_drop)
        if weight_drop and getattr(cell, "weight_hh", None) is None:
            raise ValueError(f"weight_drop: drops entries of weight_hh, which "
                             f"{type(cell).__name__}({cell.extra_repr()}) does not have")

    def reference_parameter(self) -> Tensor:
        return self.cell.weight_ih

    def check_state(self, state, batch_size: int) -> State | None:
        return None if state is None else self.cell.check_state("state", state, batch_size)

    def run(self, x: Tensor, state: State | None, lengths: Tensor | None):
        cell = self.cell
        state = cell.init_state(x.shape[1]) if state is None else state
        w = cell.weights()
        if self.training and self.weight_drop:
            w["weight_hh"] = drop_connect(w["weight_hh"], self.weight_drop)
        recurrent_mask = None
        if self.training and self.recurrent_dropout:
            recurrent_mask = variational_mask(state[0], self.recurrent_dropout)
        engine = engines.choose(cell, x, recurrent_dropout=recurrent_mask is not None)
        if engine == "native":
            return native.run(cell, w, x, state, lengths)
        return ENGINES[engine].run(cell, w, x, state, lengths, recurrent_mask)

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Streaming: one step with explicit state, as `forward` computes it in eval mode
        (no dropout). x_t: (B, I) -> (output (B, O), new state)."""
        return self.cell.step(x_t, state)

    def extra_repr(self) -> str:
        extra = [f"batch_first={self.batch_first}"] if self.batch_first else []
        extra += [f"recurrent_dropout={self.recurrent_dropout}"] if self.recurrent_dropout else []
        extra += [f"weight_drop={self.weight_drop}"] if self.weight_drop else []
        return ", ".join(extra)

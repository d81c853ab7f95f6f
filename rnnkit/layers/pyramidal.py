"""The pyramidal RNN of Listen, Attend and Spell (Chan et al. 2016): each layer after the first
reads r consecutive outputs of the layer below concatenated, so the sequence gets r times shorter
per layer and the layers above run over fewer, richer steps.

Lengths that are not a multiple of r: the last group of a sequence is completed with zero frames,
so a sequence of length L has ceil(L / r) outputs. Dropping the incomplete group instead (floor)
would lose input frames, and a sequence shorter than r would have no output at all. And because a
layer's outputs are zero at padded positions, one reshape of the whole padded batch completes
each sequence's last group with zeros within its own length: every sequence gets exactly what it
would get alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.dropout import SequenceDropout
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.sequence import SequenceLayer
from rnnkit.layers.stacked import check_layer_states


def concat_frames(x: Tensor, r: int) -> Tensor:
    """x: (T, B, F) -> (ceil(T / r), B, r * F): step t holds frames r t, ..., r t + r - 1
    concatenated in time order; the last group is completed with zero frames."""
    T, B, F = x.shape
    missing = -T % r
    if missing:
        x = torch.cat([x, x.new_zeros(missing, B, F)])
    return x.view(-1, r, B, F).transpose(1, 2).reshape(-1, B, r * F)


def reduced_lengths(lengths: Tensor | None, r: int) -> Tensor | None:
    """lengths: (B,) -> ceil(lengths / r), the lengths after `concat_frames`."""
    return None if lengths is None else -(-lengths // r)


class Pyramidal(SequenceLayer):
    """Pyramidal(layers, reduction=2, dropout=0.0, batch_first=False)

    layers: sequence layers, typically `Bidirectional` (see `Pyramidal.bidirectional`). Layer
        k >= 1 reads r_k consecutive outputs of layer k-1 concatenated, so its input_size must be
        r_k * layers[k-1].output_size.
    reduction: r for every layer after the first, or a list of len(layers) - 1 factors r_k >= 1.
    dropout: on the input of every layer after the first (as `Stacked`'s).

    forward(input, state=None | [state of each layer], lengths=None)
        -> (output (T', B, output_size), [final state of each layer])
    with T' = ceil(... ceil(T / r_1) ... / r_last); `output_lengths(lengths)` gives each
    sequence's output length (what an attention decoder masks with). A PackedSequence input
    comes back packed with those lengths; padded positions of the output are zero.
    """

    def __init__(self, layers: Sequence[SequenceLayer], reduction: int | Sequence[int] = 2,
                 dropout: float = 0.0, batch_first: bool = False):
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("layers: expected at least one layer, got an empty list")
        self.reductions = _check_reductions(reduction, len(layers))
        for k, layer in enumerate(layers):
            if not isinstance(layer, SequenceLayer):
                raise TypeError(f"layers[{k}]: expected a rnnkit sequence layer, "
                                f"got {_check.describe(layer)}")
            if k:
                r, below = self.reductions[k - 1], layers[k - 1].output_size
                if layer.input_size != r * below:
                    raise ValueError(f"layers[{k}]: expected input_size {r * below} (reduction "
                                     f"{r} x layers[{k - 1}].output_size {below}), "
                                     f"got {layer.input_size}")
        self.layers = nn.ModuleList(layers)
        self.dropout = SequenceDropout(dropout)
        self.batch_first = batch_first
        self.input_size = layers[0].input_size
        self.output_size = layers[-1].output_size

    @classmethod
    def bidirectional(cls, make_cell: Callable[[int], RecurrentCell], input_size: int,
                      num_layers: int, reduction: int | Sequence[int] = 2, *,
                      merge: str = "concat", dropout: float = 0.0,
                      batch_first: bool = False) -> Pyramidal:
        """The LAS listener: `num_layers` bidirectional layers of cells made by
        `make_cell(input_size)`, e.g. `lambda size: rnnkit.LSTMCell(size, 256)`."""
        _check.positive_int("num_layers", num_layers)
        reductions = _check_reductions(reduction, num_layers)
        layers, size = [], _check.positive_int("input_size", input_size)
        for k in range(num_layers):
            size = size * reductions[k - 1] if k else size
            layer = Bidirectional(Recurrent(make_cell(size)), Recurrent(make_cell(size)), merge)
            layers.append(layer)
            size = layer.output_size
        return cls(layers, reductions, dropout, batch_first)

    def reference_parameter(self) -> Tensor:
        return self.layers[0].reference_parameter()

    def check_state(self, state, batch_size: int):
        return check_layer_states(self.layers, state, batch_size)

    def run(self, x: Tensor, state, lengths: Tensor | None):
        state = [None] * len(self.layers) if state is None else state
        finals = []
        for k, (layer, layer_state) in enumerate(zip(self.layers, state)):
            if k:
                r = self.reductions[k - 1]
                x, lengths = self.dropout(concat_frames(x, r)), reduced_lengths(lengths, r)
            x, final = layer.run(x, layer_state, lengths)
            lengths = layer.output_lengths(lengths)
            finals.append(final)
        return x, finals

    def output_lengths(self, lengths: Tensor | None) -> Tensor | None:
        """lengths: (B,) of the input sequences -> (B,) of the output ones (None stays None)."""
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths)
        for k, layer in enumerate(self.layers):
            if k:
                lengths = reduced_lengths(lengths, self.reductions[k - 1])
            lengths = layer.output_lengths(lengths)
        return lengths

    def extra_repr(self) -> str:
        return f"reductions={list(self.reductions)}"


def _check_reductions(reduction, num_layers: int) -> tuple[int, ...]:
    """An int or a list of num_layers - 1 ints >= 1 -> the tuple of per-layer factors."""
    if isinstance(reduction, (list, tuple)):
        if len(reduction) != num_layers - 1:
            raise ValueError(f"reduction: expected {num_layers - 1} factors (one per layer after "
                             f"the first), got {len(reduction)}")
        return tuple(_check.positive_int(f"reduction[{k}]", r) for k, r in enumerate(reduction))
    return (_check.positive_int("reduction", reduction),) * (num_layers - 1)

"""PyTorch's own fused kernels, for the cells that are exactly what torch.nn.LSTM/GRU/RNN compute:
LSTMCell with the default spec (proj_size included), GRUCell with reset_after, ElmanCell with
tanh or relu."""

from __future__ import annotations

import torch
from torch import Tensor, _VF
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.base import RecurrentCell, State, Weights

# The order torch's kernels take one layer's weights in.
_ORDER = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")


def kernel_for(cell: RecurrentCell):
    """torch's kernel computing exactly this cell, or None."""
    if type(cell) is LSTMCell and cell.spec.is_torch:
        return _VF.lstm
    if type(cell) is GRUCell and cell.spec.is_torch:
        return _VF.gru
    if type(cell) is ElmanCell and cell.nonlinearity in ("tanh", "relu"):
        return _VF.rnn_tanh if cell.nonlinearity == "tanh" else _VF.rnn_relu
    return None


def run(cell: RecurrentCell, w: Weights, x: Tensor, state: State,
        lengths: Tensor | None) -> tuple[Tensor, State]:
    """The same contract as `engines.loop.run` (without recurrent dropout): x: (T, B, I),
    state: tuple of (B, size), lengths: (B,) or None -> (outputs (T, B, O), final state)."""
    kernel = kernel_for(cell)
    weights = [w[name] for name in _ORDER if name in w]
    # torch's kernels take the state as (layers * directions, B, size): here one layer.
    hx = tuple(s.unsqueeze(0) for s in state)
    hx = hx if len(hx) > 1 else hx[0]
    if lengths is None:
        out, *final = kernel(x, hx, weights, cell.bias, 1, 0.0, False, False, False)
        return out, tuple(f.squeeze(0) for f in final)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    order, back = packed.sorted_indices, packed.unsorted_indices
    hx = tuple(h[:, order] for h in hx) if isinstance(hx, tuple) else hx[:, order]
    out, *final = kernel(packed.data, packed.batch_sizes, hx, weights, cell.bias, 1, 0.0, False,
                         False)
    out, _ = pad_packed_sequence(packed._replace(data=out), total_length=x.shape[0])
    return out, tuple(f[0, back] for f in final)

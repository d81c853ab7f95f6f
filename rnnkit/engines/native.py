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
    # torch's kernels take each state part as (layers * directions, B, size): here one layer.
    out, final = run_stack(kernel_for(cell), [weights_of(w)], cell.bias, x,
                           tuple(s.unsqueeze(0) for s in state), lengths)
    return out, tuple(f.squeeze(0) for f in final)


def weights_of(w: Weights) -> list[Tensor]:
    """One layer-direction's weights in the order torch's kernels take them."""
    return [w[name] for name in _ORDER if name in w]


def run_stack(kernel, weights: list[list[Tensor]], bias: bool, x: Tensor, hx: tuple[Tensor, ...],
              lengths: Tensor | None, *, num_layers: int = 1, dropout: float = 0.0,
              training: bool = False, bidirectional: bool = False):
    """A whole stack in one call of torch's kernel, as torch.nn.LSTM/GRU/RNN.forward does.
    weights: per layer and direction (torch's order); hx: the state parts, each
    (num_layers * directions, B, size). -> (outputs (T, B, O), final state parts)."""
    if torch.compiler.is_compiling() and not torch.compiler.is_exporting():
        # Inductor cannot lower the CPU kernel (it fails on aten.mkldnn_rnn_layer), and
        # torch.compile leaves torch.nn.LSTM's kernel to eager mode too: so does this, at the
        # cost of a graph break. torch.export captures the kernel as one operation.
        return _run_stack_eagerly(kernel, weights, bias, x, hx, lengths, num_layers=num_layers,
                                  dropout=dropout, training=training, bidirectional=bidirectional)
    return _run_stack(kernel, weights, bias, x, hx, lengths, num_layers=num_layers,
                      dropout=dropout, training=training, bidirectional=bidirectional)


def _run_stack(kernel, weights, bias, x, hx, lengths, *, num_layers, dropout, training,
               bidirectional):
    flat = [p for layer in weights for p in layer]
    # The kernel's `train` flag turns its dropout on and also, on CUDA, keeps what cuDNN's
    # backward needs (without it backward fails even with no dropout): so it is on whenever
    # autograd may ask for a backward, with the dropout only when training.
    args = (bias, num_layers, dropout if training else 0.0, training or torch.is_grad_enabled(),
            bidirectional)
    single = len(hx) == 1  # rnn and gru take a tensor, lstm a tuple
    if lengths is None:
        out, *final = kernel(x, hx[0] if single else hx, flat, *args, False)
        return out, tuple(final)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    order, back = packed.sorted_indices, packed.unsorted_indices
    hx = tuple(h[:, order] for h in hx)
    out, *final = kernel(packed.data, packed.batch_sizes, hx[0] if single else hx, flat, *args)
    out, _ = pad_packed_sequence(packed._replace(data=out), total_length=x.shape[0])
    return out, tuple(f[:, back] for f in final)


_run_stack_eagerly = torch.compiler.disable(_run_stack)

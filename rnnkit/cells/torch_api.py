"""torch.nn.LSTMCell / GRUCell / RNNCell's API over rnnkit's cells, for users who write their
own loop over time:

    h, c = cell(x, (h, c))        # rnnkit.nn.LSTMCell, any LSTMSpec (FGR: (h, c, gates))
    h = cell(x, h)                # rnnkit.nn.GRUCell, rnnkit.nn.RNNCell

x: (B, I) or unbatched (I,); the state as torch's cells take it, None for zeros. The same
parameters (weight_ih, weight_hh, bias_ih, bias_hh; a variant's extras beside them), so torch's
state dicts load. rnnkit's own cells return (output, state) instead; these keep that as `step`,
so they also run inside rnnkit's layers.
"""

from __future__ import annotations

from torch import Tensor

from rnnkit import _check
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell as _GRUCell
from rnnkit.cells.gru import GRUSpec
from rnnkit.cells.lstm import LSTMCell as _LSTMCell


class _TorchCellAPI:
    """forward(input, hx=None) -> the new state, as torch's cells: a tensor for cells with one
    state part, a tuple otherwise; unbatched input gives unbatched state."""

    def forward(self, input: Tensor, hx=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"input: expected a tensor, got {_check.describe(input)}")
        if input.dim() not in (1, 2):
            raise _check.ShapeError(f"input: expected 1 dimension (I,) or 2 (B, I) for "
                                    f"{type(self).__name__}, got shape {tuple(input.shape)}")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = hx.unsqueeze(0) if isinstance(hx, Tensor) else tuple(
                    h.unsqueeze(0) if isinstance(h, Tensor) else h for h in hx)
        _, state = self.step(input, hx)
        if unbatched:
            state = tuple(s.squeeze(0) for s in state)
        return state[0] if len(state) == 1 else state


class LSTMCell(_TorchCellAPI, _LSTMCell):
    """torch.nn.LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None), plus
    rnnkit.LSTMCell's keyword options (spec, proj_size, forget_bias, recurrent_init)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None, **options):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype, **options)


class GRUCell(_TorchCellAPI, _GRUCell):
    """torch.nn.GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None), plus
    reset_after (default True, torch's) and recurrent_init."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None, *, reset_after: bool = True, recurrent_init: str = "default"):
        super().__init__(input_size, hidden_size, bias, spec=GRUSpec(reset_after),
                         recurrent_init=recurrent_init, device=device, dtype=dtype)


class RNNCell(_TorchCellAPI, ElmanCell):
    """torch.nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
    dtype=None), plus "sigmoid" and recurrent_init."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None, *,
                 recurrent_init: str = "default"):
        super().__init__(input_size, hidden_size, bias, nonlinearity=nonlinearity,
                         recurrent_init=recurrent_init, device=device, dtype=dtype)

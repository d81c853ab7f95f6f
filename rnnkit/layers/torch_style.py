"""Drop-in replacements for torch.nn.RNN, LSTM and GRU, built from rnnkit's parts.

`rnnkit.LSTM(...)` takes what `torch.nn.LSTM(...)` takes, in the same order, plus keyword options
for the variants; its forward takes and returns what torch's does (PackedSequence included), and
its `state_dict` uses torch's names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), so a state dict
of a torch module loads unchanged and the other way round. Inside it is a `Stacked` of
`Recurrent` (or `Bidirectional`) layers over rnnkit cells, reachable as `.stack`; `lstm.weight_ih_l0`
works as in torch, while `named_parameters()` shows the inner names.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from rnnkit import _check, engines
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, LSTMCell, RecurrentCell
from rnnkit.engines import native
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.sequence import SequenceLayer
from rnnkit.layers.stacked import Stacked


class TorchStyleRNN(SequenceLayer):
    """The shared body of the drop-ins: `num_layers` layers of cells made by
    `make_cell(input_size)`, optionally bidirectional, with torch's state layout.

    State ("hx"): for cells with one state part (h), a tensor (D * num_layers, B, H_out); for
    cells with several (LSTM: h, c; FGR adds the previous gates), a tuple of such tensors, one per
    part, each (D * num_layers, B, size). Row l * D + d holds layer l, direction d, as in torch.

    Options beyond torch's: `variational` (one dropout mask per sequence), `input_dropout`,
    `output_dropout`, `recurrent_dropout` (variational, on the fed-back state), `weight_drop`
    (DropConnect on weight_hh), `merge` for bidirectional layers (default "concat", as torch).
    """

    def __init__(self, make_cell: Callable[[int], RecurrentCell], input_size: int,
                 num_layers: int = 1, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *, variational: bool = False,
                 input_dropout: float = 0.0, output_dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, weight_drop: float = 0.0,
                 merge: str = "concat"):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.num_layers = _check.positive_int("num_layers", num_layers)
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1

        def one_direction(size: int) -> Recurrent:
            return Recurrent(make_cell(size), recurrent_dropout=recurrent_dropout,
                             weight_drop=weight_drop)

        layers, size = [], input_size
        for _ in range(num_layers):
            layer = (Bidirectional(one_direction(size), one_direction(size), merge)
                     if bidirectional else one_direction(size))
            layers.append(layer)
            size = layer.output_size
        self.stack = Stacked(layers, dropout, variational=variational,
                             input_dropout=input_dropout, output_dropout=output_dropout)
        self.output_size = self.stack.output_size
        first_cell = self.cells[0][0]
        self.state_names, self.state_sizes = first_cell.state_names, first_cell.state_sizes
        self._torch_names = self._build_torch_names()
        self.register_state_dict_post_hook(_to_torch_names)
        self.register_load_state_dict_pre_hook(_from_torch_names)

    # --- structure --------------------------------------------------------------------------------
    @property
    def cells(self) -> list[list[RecurrentCell]]:
        """cells[l][d]: the cell of layer l, direction d (0 forward, 1 backward)."""
        if self.bidirectional:
            return [[layer.fwd.cell, layer.bwd.cell] for layer in self.stack.layers]
        return [[layer.cell] for layer in self.stack.layers]

    def _build_torch_names(self) -> dict[str, str]:
        """torch's flat parameter names -> our inner names, in torch's order."""
        names = {}
        for l, layer in enumerate(self.stack.layers):
            paths = ["fwd.", "bwd."] if self.bidirectional else [""]
            for d, path in enumerate(paths):
                suffix = f"_l{l}" + ("_reverse" if d else "")
                for param in self.cells[l][d].weights():
                    names[param + suffix] = f"stack.layers.{l}.{path}cell.{param}"
        return names

    def __getattr__(self, name: str):
        torch_names = self.__dict__.get("_torch_names")
        if torch_names is not None and name in torch_names:
            return self.get_parameter(torch_names[name])
        return super().__getattr__(name)

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """As torch's: the parameters of each layer and direction, in torch's order."""
        return [list(cell.weights().values()) for layer in self.cells for cell in layer]

    def reference_parameter(self) -> Tensor:
        return self.cells[0][0].weight_ih

    # --- torch's state layout <-> ours ------------------------------------------------------------
    def check_state(self, hx, batch_size: int):
        """hx in torch's layout (validated) -> [per-layer state] or None."""
        parts = self._check_hx(hx, batch_size)
        return None if parts is None else self._per_layer(parts)

    def _check_hx(self, hx, batch_size: int) -> tuple[Tensor, ...] | None:
        """hx validated -> its parts (h, c, ...), each (D * num_layers, B, size), or None."""
        if hx is None:
            return None
        parts = (hx,) if isinstance(hx, Tensor) else hx
        names = [f"hx[{k}] ({name}_0)" for k, name in enumerate(self.state_names)]
        if len(self.state_names) == 1:
            names = ["hx"]
        if not isinstance(parts, (tuple, list)) or len(parts) != len(self.state_names):
            expected = "a tensor" if len(self.state_names) == 1 else \
                f"a tuple of {len(self.state_names)} tensors {self.state_names}"
            raise TypeError(f"hx: expected {expected}, got {_check.describe(hx)}")
        rows = self.num_layers * self.num_directions
        for name, part, size in zip(names, parts, self.state_sizes):
            _check.tensor_like_params(name, part, self.reference_parameter(),
                                      shape=(rows, batch_size, size))
        return tuple(parts)

    def _per_layer(self, parts: tuple[Tensor, ...]):
        """torch's layout -> [per-layer state]: the cell's tuple, or a (fwd, bwd) pair of them."""
        rows = self.num_layers * self.num_directions
        per_row = [tuple(part[r] for part in parts) for r in range(rows)]
        if self.bidirectional:
            return [(per_row[2 * l], per_row[2 * l + 1]) for l in range(self.num_layers)]
        return per_row

    def export_state(self, finals):
        """[per-layer state] -> torch's layout."""
        rows = [s for layer_state in finals
                for s in (layer_state if self.bidirectional else (layer_state,))]
        parts = tuple(torch.stack([row[k] for row in rows]) for k in range(len(self.state_names)))
        return parts[0] if len(parts) == 1 else parts

    # --- running ----------------------------------------------------------------------------------
    def forward(self, input, hx=None, lengths=None):
        """input: (T, B, I), (B, T, I) if batch_first, (T, I) unbatched, or a PackedSequence;
        hx: torch's layout or None; lengths: (B,) true lengths of padded input (an rnnkit
        extension). Returns (output, h_n) or (output, (h_n, c_n)) in the layout of the input."""
        unbatched = isinstance(input, Tensor) and input.dim() == 2
        if unbatched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                hx = _map_state(hx, lambda t: t.unsqueeze(1) if isinstance(t, Tensor) else t)
        x, lengths, packed = self.prepare_input(input, lengths)
        parts = self._check_hx(hx, x.shape[1])
        if self._whole_stack_is_native():
            output, h_n = self._run_native_stack(x, parts, lengths)
        else:
            output, finals = self.stack.run(x, None if parts is None else self._per_layer(parts),
                                            lengths)
            h_n = self.export_state(finals)
        output = self.restore_output(output, lengths, packed)
        if unbatched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n = _map_state(h_n, lambda t: t.squeeze(1))
        return output, h_n

    def run(self, x: Tensor, state, lengths: Tensor | None):
        return self.stack.run(x, state, lengths)

    def _whole_stack_is_native(self) -> bool:
        """True when torch's kernel computes the whole network at once, exactly as the layers
        would: torch's cells, concatenated directions, and no dropout beyond torch's (between
        layers, a fresh mask per step) in force now. One call then replaces 2 * num_layers."""
        if engines.current() not in ("auto", "native"):
            return False
        cell = self.cells[0][0]
        if native.kernel_for(cell) is None:
            return False
        if self.bidirectional and self.stack.layers[0].merge != "concat":
            return False
        if not self.training:
            return True
        stack = self.stack
        layers = [r for layer in stack.layers
                  for r in ((layer.fwd, layer.bwd) if self.bidirectional else (layer,))]
        return (stack.input_dropout.p == stack.output_dropout.p == 0.0
                and (stack.dropout.p == 0.0 or not stack.dropout.variational)
                and all(r.recurrent_dropout == r.weight_drop == 0.0 for r in layers))

    def _run_native_stack(self, x: Tensor, parts, lengths):
        B, rows = x.shape[1], self.num_layers * self.num_directions
        if parts is None:
            parts = tuple(x.new_zeros(rows, B, size) for size in self.state_sizes)
        cell = self.cells[0][0]
        out, final = native.run_stack(
            native.kernel_for(cell), [native.weights_of(c.weights()) for l in self.cells for c in l],
            cell.bias, x, parts, lengths, num_layers=self.num_layers, dropout=self.stack.dropout.p,
            training=self.training, bidirectional=self.bidirectional)
        return out, final[0] if len(final) == 1 else final

    def step(self, x_t: Tensor, hx=None):
        """Streaming, unidirectional only: one step in eval-mode semantics (no dropout).
        x_t: (B, I); hx: torch's layout or None -> (output (B, H_out), new hx)."""
        if self.bidirectional:
            raise ValueError("step: a bidirectional network needs the whole sequence; "
                             "got bidirectional=True")
        _check.tensor_like_params("x_t", x_t, self.reference_parameter(), ndim=2,
                                  last=self.input_size, last_name="input_size")
        out, states = self.stack.step(x_t, self.check_state(hx, x_t.shape[0]))
        return out, self.export_state(states)


def _map_state(hx, fn):
    return fn(hx) if isinstance(hx, Tensor) else type(hx)(fn(t) for t in hx)


def _to_torch_names(module: TorchStyleRNN, state_dict, prefix, local_metadata) -> None:
    inner_to_torch = {prefix + v: prefix + k for k, v in module._torch_names.items()}
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        state_dict[inner_to_torch.get(key, key)] = value


def _from_torch_names(module: TorchStyleRNN, state_dict, prefix, *args) -> None:
    for torch_name, inner in module._torch_names.items():
        if prefix + torch_name in state_dict:
            state_dict[prefix + inner] = state_dict.pop(prefix + torch_name)


class LSTM(TorchStyleRNN):
    """torch.nn.LSTM's arguments, plus: spec (an LSTMSpec or variant name such as "CIFG" or
    "NIAF+NOAF"; default PyTorch's LSTM), forget_bias (default 1.0; None = torch's init),
    recurrent_init ("default", "orthogonal", "identity"), and TorchStyleRNN's dropout options."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *, spec=None,
                 forget_bias: float | None = 1.0, recurrent_init: str = "default", **options):

        def make_cell(size: int) -> LSTMCell:
            return LSTMCell(size, hidden_size, bias, spec=spec, proj_size=proj_size,
                            forget_bias=forget_bias, recurrent_init=recurrent_init,
                            device=device, dtype=dtype)

        super().__init__(make_cell, input_size, num_layers, batch_first, dropout, bidirectional,
                         **options)
        self.hidden_size, self.proj_size = hidden_size, proj_size


class GRU(TorchStyleRNN):
    """torch.nn.GRU's arguments, plus: reset_after (default True, PyTorch's convention; False is
    Cho et al.'s), recurrent_init, and TorchStyleRNN's dropout options."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, *, reset_after: bool = True,
                 recurrent_init: str = "default", **options):

        def make_cell(size: int) -> GRUCell:
            return GRUCell(size, hidden_size, bias, spec=GRUSpec(reset_after),
                           recurrent_init=recurrent_init, device=device, dtype=dtype)

        super().__init__(make_cell, input_size, num_layers, batch_first, dropout, bidirectional,
                         **options)
        self.hidden_size = hidden_size


class RNN(TorchStyleRNN):
    """torch.nn.RNN's arguments (nonlinearity "tanh" or "relu", plus "sigmoid"), plus
    recurrent_init ("identity" with relu is the IRNN) and TorchStyleRNN's dropout options."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None, *,
                 recurrent_init: str = "default", **options):

        def make_cell(size: int) -> ElmanCell:
            return ElmanCell(size, hidden_size, bias, nonlinearity=nonlinearity,
                             recurrent_init=recurrent_init, device=device, dtype=dtype)

        super().__init__(make_cell, input_size, num_layers, batch_first, dropout, bidirectional,
                         **options)
        self.hidden_size, self.nonlinearity = hidden_size, nonlinearity

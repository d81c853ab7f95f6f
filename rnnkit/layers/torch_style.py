"""Drop-in replacements for torch.nn.RNN, LSTM and GRU, built from rnnkit's parts.

`rnnkit.LSTM(...)` takes what `torch.nn.LSTM(...)` takes, in the same order, plus keyword options
for the variants; its forward takes and returns what torch's does (PackedSequence included). Its
parameters are registered on it under torch's names and in torch's layout (`weight_ih_l0`,
`bias_hh_l1_reverse`; a variant's extra weights follow the pattern: `weight_ch_l0` for the
peepholes), so state dicts load both ways, and whatever reparametrises, ties, deletes or replaces
a weight of `torch.nn.LSTM` (weight_norm, parametrizations, `functional_call`) does the same here.
Inside is a `Stacked` of `Recurrent` (or `Bidirectional`) layers over rnnkit cells, reachable as
`.stack`; the cells read their weights from this module at every use (`adopt_weights`).

`isinstance(rnnkit.LSTM(...), torch.nn.LSTM)` is False on purpose: tools that dispatch on
torch's classes would run torch's LSTM math on a variant's weights. `to_torch()` gives the
equivalent torch module where there is one, and dynamic quantisation takes rnnkit's classes
(`layers/quantize.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnkit import _check, engines
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, LSTMCell, LSTMSpec, RecurrentCell
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
        self.hidden_size = first_cell.hidden_size
        self.bias = any(name.startswith("bias") for name in first_cell.weights())
        self.mode = type(first_cell).__name__  # the drop-ins set torch's: "LSTM", "RNN_TANH", ...
        # torch's names, per layer and direction (the weights move here from the cells).
        self._all_weights = [cell.adopt_weights(self, f"_l{l}" + ("_reverse" if d else ""))
                             for l, layer in enumerate(self.cells) for d, cell in enumerate(layer)]
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        if dropout and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)

    # --- structure --------------------------------------------------------------------------------
    @property
    def cells(self) -> list[list[RecurrentCell]]:
        """cells[l][d]: the cell of layer l, direction d (0 forward, 1 backward)."""
        if self.bidirectional:
            return [[layer.fwd.cell, layer.bwd.cell] for layer in self.stack.layers]
        return [[layer.cell] for layer in self.stack.layers]

    # --- torch.nn.RNNBase's attributes --------------------------------------------------------------
    @property
    def _flat_weights(self) -> list[Tensor]:
        """The weights in torch's order, as they are now (parametrized, replaced, ...)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """As torch's: the weights of each layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def dropout(self) -> float:
        """The dropout between layers, as torch's; setting it takes effect at the next forward."""
        return self.stack.dropout.p

    @dropout.setter
    def dropout(self, p: float) -> None:
        self.stack.dropout.p = _check.probability("dropout", p)

    def flatten_parameters(self) -> None:
        """Nothing to do: torch compacts weights into one buffer for cuDNN; rnnkit's kernels
        read them where they are."""

    def reset_parameters(self) -> None:
        """Each cell's init: PyTorch's uniform, then the cell's recurrent_init and biases."""
        for layer in self.cells:
            for cell in layer:
                cell.reset_parameters()

    def to_torch(self) -> nn.RNNBase:
        """The torch.nn.LSTM / GRU / RNN that computes exactly this network, holding copies of
        its weights: for tools that only know torch's classes. A ValueError naming what torch
        has no module for (a variant cell, a merge other than concat, rnnkit's extra dropouts)."""
        reason = self._beyond_torch(with_dropouts=True)
        if reason is not None:
            raise ValueError(f"to_torch: {reason}")
        cell = self.cells[0][0]
        kind = {LSTMCell: nn.LSTM, GRUCell: nn.GRU, ElmanCell: nn.RNN}[type(cell)]
        options = ({"proj_size": cell.proj_size} if kind is nn.LSTM else
                   {"nonlinearity": cell.nonlinearity} if kind is nn.RNN else {})
        ref = self.reference_parameter()
        module = kind(self.input_size, self.hidden_size, self.num_layers, bias=self.bias,
                      batch_first=self.batch_first, dropout=self.dropout,
                      bidirectional=self.bidirectional, device=ref.device, dtype=ref.dtype,
                      **options)
        module.load_state_dict(self.state_dict())
        return module.train(self.training)

    def _beyond_torch(self, *, with_dropouts: bool) -> str | None:
        """What torch's modules cannot compute of this network (a variant cell, a merge other
        than concat, and with_dropouts: rnnkit's extra dropouts), or None."""
        cell = self.cells[0][0]
        if native.kernel_for(cell) is None:
            return f"torch.nn has no module computing {_describe(cell)}"
        if self.bidirectional and self.stack.layers[0].merge != "concat":
            return (f"torch concatenates the two directions; this network merges them by "
                    f"{self.stack.layers[0].merge!r}")
        if not with_dropouts:
            return None
        stack = self.stack
        recurrents = [r for layer in stack.layers
                      for r in ((layer.fwd, layer.bwd) if self.bidirectional else (layer,))]
        found = {"input_dropout": stack.input_dropout.p, "output_dropout": stack.output_dropout.p,
                 "variational": stack.dropout.variational and stack.dropout.p > 0,
                 "recurrent_dropout": max(r.recurrent_dropout for r in recurrents),
                 "weight_drop": max(r.weight_drop for r in recurrents)}
        extra = {name: value for name, value in found.items() if value}
        if not extra:
            return None
        return (f"torch.nn has no {', '.join(extra)}; got "
                + ", ".join(f"{name}={value}" for name, value in extra.items()))

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
        if engines.current() not in ("auto", "native") or engines.under_vmap():
            return False
        return self._beyond_torch(with_dropouts=self.training) is None

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


def _describe(cell: RecurrentCell) -> str:
    """A cell named as a user would: LSTMCell(spec='CIFG'), GRUCell(3, 4, reset_after=False)."""
    spec = getattr(cell, "spec", None)
    if isinstance(spec, LSTMSpec):
        return f"{type(cell).__name__}(spec={spec.name!r})"
    return f"{type(cell).__name__}({cell.extra_repr()})"


def _map_state(hx, fn):
    return fn(hx) if isinstance(hx, Tensor) else type(hx)(fn(t) for t in hx)


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
        self.proj_size, self.mode = proj_size, "LSTM"
        self.spec = self.cells[0][0].spec


def _no_projection(kind: str, proj_size) -> None:
    """torch.nn.GRU and RNN take proj_size (positionally after bidirectional) and refuse > 0."""
    if proj_size != 0:
        raise ValueError(f"proj_size: only LSTM has a projection, not {kind}; "
                         f"expected 0, got {proj_size!r}")


class GRU(TorchStyleRNN):
    """torch.nn.GRU's arguments, plus: reset_after (default True, PyTorch's convention; False is
    Cho et al.'s), recurrent_init, and TorchStyleRNN's dropout options."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *, reset_after: bool = True,
                 recurrent_init: str = "default", **options):
        _no_projection("GRU", proj_size)

        def make_cell(size: int) -> GRUCell:
            return GRUCell(size, hidden_size, bias, spec=GRUSpec(reset_after),
                           recurrent_init=recurrent_init, device=device, dtype=dtype)

        super().__init__(make_cell, input_size, num_layers, batch_first, dropout, bidirectional,
                         **options)
        self.proj_size, self.mode = 0, "GRU"


class RNN(TorchStyleRNN):
    """torch.nn.RNN's arguments (nonlinearity "tanh" or "relu", plus "sigmoid"), plus
    recurrent_init ("identity" with relu is the IRNN) and TorchStyleRNN's dropout options."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None, *, recurrent_init: str = "default", **options):
        _no_projection("RNN", proj_size)

        def make_cell(size: int) -> ElmanCell:
            return ElmanCell(size, hidden_size, bias, nonlinearity=nonlinearity,
                             recurrent_init=recurrent_init, device=device, dtype=dtype)

        super().__init__(make_cell, input_size, num_layers, batch_first, dropout, bidirectional,
                         **options)
        self.proj_size, self.nonlinearity = 0, nonlinearity
        self.mode = f"RNN_{nonlinearity.upper()}"

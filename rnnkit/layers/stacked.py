"""Deep recurrent networks: layers stacked so that each reads the outputs of the one below."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import _check
from rnnkit.layers.dropout import SequenceDropout
from rnnkit.layers.sequence import SequenceLayer


class Stacked(SequenceLayer):
    """Stacked(layers, dropout=0.0, variational=False, input_dropout=0.0, output_dropout=0.0)

    Layer k+1 reads layer k's output sequence; `layers[k+1].input_size` must equal
    `layers[k].output_size`. Dropout acts on the non-recurrent connections only (Zaremba et al.
    2014): `input_dropout` on the input of the first layer, `dropout` between layers (as
    torch.nn.LSTM's), `output_dropout` on the last layer's output. With variational=True each of
    them uses one mask per sequence for all time steps (Gal & Ghahramani 2016). Dropout on the
    recurrent connections is an option of each `Recurrent` layer.
    forward(input, state=None | [state of each layer], lengths=None)
        -> (output (T, B, output_size), [final state of each layer])
    """

    def __init__(self, layers, dropout: float = 0.0, *, variational: bool = False,
                 input_dropout: float = 0.0, output_dropout: float = 0.0,
                 batch_first: bool = False):
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("layers: expected at least one layer, got an empty list")
        for k, layer in enumerate(layers):
            if not isinstance(layer, SequenceLayer):
                raise TypeError(f"layers[{k}]: expected a rnnkit sequence layer, "
                                f"got {_check.describe(layer)}")
            if k and layer.input_size != layers[k - 1].output_size:
                raise ValueError(f"layers[{k}]: expected input_size {layers[k - 1].output_size} "
                                 f"(layers[{k - 1}].output_size), got {layer.input_size}")
        self.layers = nn.ModuleList(layers)
        self.input_dropout = SequenceDropout(input_dropout, variational)
        self.dropout = SequenceDropout(dropout, variational)
        self.output_dropout = SequenceDropout(output_dropout, variational)
        self.batch_first = batch_first
        self.input_size = layers[0].input_size
        self.output_size = layers[-1].output_size

    def reference_parameter(self) -> Tensor:
        return self.layers[0].reference_parameter()

    def check_state(self, state, batch_size: int):
        return check_layer_states(self.layers, state, batch_size)

    def run(self, x: Tensor, state, lengths: Tensor | None):
        state = [None] * len(self.layers) if state is None else state
        finals = []
        x = self.input_dropout(x)
        for k, (layer, layer_state) in enumerate(zip(self.layers, state)):
            if k:
                x = self.dropout(x)
            x, final = layer.run(x, layer_state, lengths)
            lengths = layer.output_lengths(lengths)
            finals.append(final)
        return self.output_dropout(x), finals

    def output_lengths(self, lengths: Tensor | None) -> Tensor | None:
        for layer in self.layers:
            lengths = layer.output_lengths(lengths)
        return lengths

    def step(self, x_t: Tensor, state=None):
        """Streaming through every layer, as `forward` in eval mode (no dropout).
        x_t: (B, I); state: [state of each layer] or None -> (output (B, O), new states)."""
        state = [None] * len(self.layers) if state is None else state
        new_states = []
        for layer, layer_state in zip(self.layers, state):
            if not hasattr(layer, "step"):
                raise TypeError(f"step: {type(layer).__name__} cannot stream (a bidirectional "
                                f"layer needs the whole sequence)")
            x_t, s = layer.step(x_t, layer_state)
            new_states.append(s)
        return x_t, new_states


def check_layer_states(layers, state, batch_size: int):
    """The state of a layer of layers (Stacked, Pyramidal): None, or one state per layer."""
    if state is None:
        return None
    if not isinstance(state, (tuple, list)) or len(state) != len(layers):
        raise TypeError(f"state: expected a list of {len(layers)} layer states or None, "
                        f"got {_check.describe(state)}")
    return [layer.check_state(s, batch_size) for layer, s in zip(layers, state)]

"""Layers: how steps run over time, in both directions and in stacks."""

from rnnkit.layers.bidirectional import MERGE_MODES, Bidirectional
from rnnkit.layers.dropout import SequenceDropout, drop_connect
from rnnkit.layers.pyramidal import Pyramidal
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.sequence import SequenceLayer, reverse_within_lengths
from rnnkit.layers.stack_augmented import StackRNN
from rnnkit.layers.stacked import Stacked
from rnnkit.layers.torch_style import GRU, LSTM, RNN, TorchStyleRNN
from rnnkit.layers import quantize  # noqa: F401  registers the drop-ins with quantize_dynamic

__all__ = ["SequenceLayer", "Recurrent", "Bidirectional", "Stacked", "Pyramidal", "StackRNN",
           "SequenceDropout", "drop_connect", "reverse_within_lengths", "MERGE_MODES",
           "TorchStyleRNN", "RNN", "LSTM", "GRU"]

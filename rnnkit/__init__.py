"""rnnkit: recurrent neural networks from the math to trained models."""

from rnnkit._check import DeviceError, DtypeError, ShapeError, TensorError
from rnnkit.cells import (ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell,
                          RecurrentCell, StackCell)
from rnnkit.layers import (GRU, LSTM, RNN, Bidirectional, Pyramidal, Recurrent, SequenceLayer,
                           Stacked, StackRNN, TorchStyleRNN)
from rnnkit.structured import CRF
from rnnkit import nn  # torch.nn's API under torch.nn's names (LSTM, LSTMCell, ..., CRF)

__version__ = "0.1.0"

__all__ = ["RecurrentCell", "ElmanCell", "JordanCell", "LSTMCell", "LSTMSpec", "GRUCell",
           "GRUSpec", "MUTCell", "StackCell", "SequenceLayer", "Recurrent", "Bidirectional",
           "Stacked", "Pyramidal", "StackRNN", "TorchStyleRNN", "RNN", "LSTM", "GRU", "CRF",
           "TensorError", "ShapeError", "DeviceError", "DtypeError"]

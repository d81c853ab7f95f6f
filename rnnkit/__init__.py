"""rnnkit: recurrent neural networks from the math to trained models."""

from rnnkit.cells import (ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell,
                          RecurrentCell)
from rnnkit.layers import (GRU, LSTM, RNN, Bidirectional, Recurrent, SequenceLayer, Stacked,
                           TorchStyleRNN)
from rnnkit.structured import CRF

__version__ = "0.1.0"

__all__ = ["RecurrentCell", "ElmanCell", "JordanCell", "LSTMCell", "LSTMSpec", "GRUCell",
           "GRUSpec", "MUTCell", "SequenceLayer", "Recurrent", "Bidirectional", "Stacked",
           "TorchStyleRNN", "RNN", "LSTM", "GRU", "CRF"]

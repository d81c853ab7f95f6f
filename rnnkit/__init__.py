"""rnnkit: recurrent neural networks from the math to trained models."""

from rnnkit.cells import (ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell,
                          RecurrentCell)

__version__ = "0.1.0"

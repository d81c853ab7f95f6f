"""Cells: the math of one time step. Each holds its parameters and has no loop over time."""

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell, GRUSpec
from rnnkit.cells.jordan import JordanCell
from rnnkit.cells.lstm import VARIANTS as LSTM_VARIANTS
from rnnkit.cells.lstm import LSTMCell, LSTMSpec
from rnnkit.cells.mut import MUTCell
from rnnkit.cells.stack import StackCell

__all__ = ["RecurrentCell", "ElmanCell", "JordanCell", "LSTMCell", "LSTMSpec", "LSTM_VARIANTS",
           "GRUCell", "GRUSpec", "MUTCell", "StackCell"]

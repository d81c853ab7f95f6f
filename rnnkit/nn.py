"""rnnkit's modules with torch.nn's API, under torch.nn's names: swap `torch.nn` for
`rnnkit.nn` in `nn.LSTM(...)`, `nn.LSTMCell(...)` and the code around them stays as it is.

    LSTM, GRU, RNN             torch.nn's recurrent layers (also rnnkit.LSTM, ...)
    LSTMCell, GRUCell, RNNCell torch.nn's cells: h, c = cell(x, (h, c))
    CRF                        pytorch-crf's torchcrf.CRF
"""

from rnnkit.cells.torch_api import GRUCell, LSTMCell, RNNCell
from rnnkit.layers.torch_style import GRU, LSTM, RNN
from rnnkit.structured.crf import CRF

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "CRF"]

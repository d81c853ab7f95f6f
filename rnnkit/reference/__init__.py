"""The NumPy reference: forward and hand-derived backward (BPTT) of every cell and layer, in
float64, the truth the torch code is tested against.

    ref = rnnkit.reference.from_torch(torch_layer_or_cell)     # same options, float64 params
    out, final, cache = ref.forward(x, state, lengths)         # for a cell: Recurrent(ref)
    dx, d_state, d_params = ref.backward(cache, d_out, d_final)

Cells (one step: `forward_step`, `backward_step`) live in elman.py, jordan.py, lstm.py, gru.py,
mut.py, stack.py; the time loop, bidirectional and stacked layers in layers.py; tree cells and
backpropagation through structure in tree.py; finite differences in gradcheck.py. Only
convert.py touches torch.
"""

from rnnkit.reference import gradcheck
from rnnkit.reference.cell import Cell
from rnnkit.reference.convert import from_torch
from rnnkit.reference.elman import ElmanCell
from rnnkit.reference.gru import GRUCell
from rnnkit.reference.jordan import JordanCell
from rnnkit.reference.layers import Bidirectional, Recurrent, Stacked, reverse_within_lengths
from rnnkit.reference.lstm import LSTMCell
from rnnkit.reference.mut import MUTCell
from rnnkit.reference.stack import StackCell

__all__ = ["gradcheck", "from_torch", "Cell", "ElmanCell", "JordanCell", "LSTMCell", "GRUCell",
           "MUTCell", "StackCell", "Recurrent", "Bidirectional", "Stacked", "reverse_within_lengths"]

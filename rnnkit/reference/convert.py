"""From torch modules to reference ones: the options read off the module, the parameters copied
to float64 NumPy arrays under the same names. The only place of the reference that sees torch."""

from __future__ import annotations

import numpy as np

from rnnkit import cells as torch_cells
from rnnkit import layers as torch_layers
from rnnkit.cells import tree as torch_tree
from rnnkit.reference import layers, tree
from rnnkit.reference.elman import ElmanCell
from rnnkit.reference.gru import GRUCell
from rnnkit.reference.jordan import JordanCell
from rnnkit.reference.lstm import LSTMCell
from rnnkit.reference.mut import MUTCell
from rnnkit.reference.stack import StackCell


def to_numpy(tensor) -> np.ndarray:
    """A torch tensor -> a float64 NumPy copy."""
    return tensor.detach().cpu().double().numpy().copy()


def _cell(cell):
    params = {name: to_numpy(p) for name, p in cell.weights().items()}
    if isinstance(cell, torch_cells.ElmanCell):
        return ElmanCell(params, cell.nonlinearity)
    if isinstance(cell, torch_cells.JordanCell):
        return JordanCell(params, cell.nonlinearity, cell.output_activation)
    if isinstance(cell, torch_cells.LSTMCell):
        return LSTMCell(params, cell.spec)
    if isinstance(cell, torch_cells.GRUCell):
        return GRUCell(params, cell.spec.reset_after)
    if isinstance(cell, torch_cells.MUTCell):
        return MUTCell(params, cell.kind)
    if isinstance(cell, torch_cells.StackCell):
        return StackCell(params, cell.num_stacks, cell.depth, cell.k, cell.no_op,
                         discrete=cell.discrete != "never")
    raise TypeError(f"from_torch: no reference for {type(cell).__name__}")


def from_torch(module):
    """A reference cell or layer with the options and a float64 copy of the parameters of
    `module`: an rnnkit cell or tree cell, or a `Recurrent`, `Bidirectional` or `Stacked` layer
    (computed as in eval mode: the reference has no dropout)."""
    if isinstance(module, torch_tree.TreeCell):
        params = {name: to_numpy(p) for name, p in module.named_parameters()}
        return tree.CELLS[type(module).__name__](params)
    if isinstance(module, torch_cells.RecurrentCell):
        return _cell(module)
    if isinstance(module, torch_layers.Recurrent):
        return layers.Recurrent(_cell(module.cell))
    if isinstance(module, torch_layers.Bidirectional):
        linear = getattr(module, "merge_linear", None)
        weight, bias = (None, None) if linear is None else (to_numpy(linear.weight),
                                                            to_numpy(linear.bias))
        return layers.Bidirectional(from_torch(module.fwd), from_torch(module.bwd),
                                    module.merge, weight, bias)
    if isinstance(module, torch_layers.Stacked):
        return layers.Stacked([from_torch(layer) for layer in module.layers])
    raise TypeError(f"from_torch: expected an rnnkit cell, a tree cell or a Recurrent, "
                    f"Bidirectional or Stacked layer, got {type(module).__name__}")

"""Tree cells: the math of one node of a tree-structured network, and nothing about the tree.

A node's state is computed from a word (a leaf) or from its children's states (an inner node;
constituency trees such as SST's carry words at the leaves only):

    state = cell.leaf(x)              x: (N, I), N nodes at once
    state = cell.compose(children)    children: a tuple of (N, K, size), K children per node,
                                      missing children (of nodes with fewer than K) all zeros

A state is a tuple of (N, size) tensors, its first entry the node's output h. Zero children are
exactly "no child" for every cell here that takes any number of children (they add nothing to
the sums), which is what lets the batched engine (`layers/tree.py`) pad. Cells with a fixed
`arity` (binary) need exactly that many children at every inner node.

- `RecursiveCell` (Socher et al. 2011): leaf h = x;  p = tanh(W [c_1; c_2] + b), and with
  `tensor` the RNTN's (Socher et al. 2013) p = tanh([c_1; c_2]^T V^[1:H] [c_1; c_2] + W [...] + b).
- `ChildSumTreeLSTMCell` and `BinaryTreeLSTMCell` (Tai et al. 2015).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import _check

State = tuple[Tensor, ...]


class TreeCell(nn.Module):
    """Base class. arity: children per inner node (None: any number); state_sizes: the widths of
    the state's tensors; hidden_size: the width of h, the output."""

    arity: int | None = None
    hidden_size: int
    state_sizes: tuple[int, ...]

    def leaf(self, x: Tensor) -> State:
        """x: (N, I) -> the state of N leaves."""
        raise NotImplementedError

    def compose(self, children: State) -> State:
        """children: tuple of (N, K, size) -> the state of N inner nodes."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)), torch's default for its recurrent cells."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)


class RecursiveCell(TreeCell):
    """The recursive neural network (Socher et al. 2011), optionally the RNTN (2013).

    leaf:     h = x  (the word vector itself; input_size must equal hidden_size)
    compose:  c = [c_1; c_2] (2H),  p = tanh(W c + b + t),  t_d = c^T V_d c  (with `tensor`)
    Params: weight (H, 2H), bias (H), and with `tensor` weight_tensor (H, 2H, 2H)."""

    arity = 2

    def __init__(self, input_size: int, hidden_size: int, tensor: bool = False):
        super().__init__()
        _check.positive_int("hidden_size", hidden_size)
        if input_size != hidden_size:
            raise ValueError(f"input_size: the recursive cell's leaves are the word vectors, so "
                             f"expected hidden_size={hidden_size}, got {input_size}")
        self.hidden_size, self.state_sizes = hidden_size, (hidden_size,)
        self.weight = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.weight_tensor = (nn.Parameter(torch.empty(hidden_size, 2 * hidden_size,
                                                       2 * hidden_size)) if tensor else None)
        self.reset_parameters()
        if tensor:  # small, as Socher et al. start V: the tensor term grows as c^2
            nn.init.uniform_(self.weight_tensor, -0.1 / hidden_size, 0.1 / hidden_size)

    def leaf(self, x):
        return (x,)

    def compose(self, children):
        c = children[0].flatten(1)  # (N, 2H): [c_1; c_2]
        z = nn.functional.linear(c, self.weight, self.bias)
        if self.weight_tensor is not None:
            z = z + torch.einsum("nk,dkl,nl->nd", c, self.weight_tensor, c)
        return (torch.tanh(z),)


def lstm_node(i: Tensor, g: Tensor, o: Tensor, carried: Tensor | float) -> State:
    """The memory cell shared by the Tree-LSTMs, pre-activations (N, H) each:

        c = sigmoid(i) * tanh(g) + carried,    h = sigmoid(o) * tanh(c)

    carried: (N, H) sum_k f_k * c_k over the children (0 at a leaf). -> (h, c)."""
    c = torch.sigmoid(i) * torch.tanh(g) + carried
    return torch.sigmoid(o) * torch.tanh(c), c


class _TreeLSTMCell(TreeCell):
    """What both Tree-LSTMs share: state (h, c); a leaf reads its word only,
    (i, g, o) = W_ih x + b_ih, c = sigmoid(i) tanh(g) (no children, nothing carried).
    Params: weight_ih (3H, I), bias_ih (3H), and the subclass's weight_hh, bias_hh."""

    def __init__(self, input_size: int, hidden_size: int, hh_rows: int, hh_cols: int):
        super().__init__()
        _check.positive_int("input_size", input_size)
        _check.positive_int("hidden_size", hidden_size)
        self.hidden_size, self.state_sizes = hidden_size, (hidden_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(hh_rows, hh_cols))
        self.bias_hh = nn.Parameter(torch.empty(hh_rows))
        self.reset_parameters()

    def leaf_part(self, x: Tensor) -> Tensor:
        """x: (N, I) -> (N, 3H) a leaf's pre-activations (i, g, o) = W_ih x + b_ih (the part
        the fused engine leaves to autograd, as one product over all leaves)."""
        return nn.functional.linear(x, self.weight_ih, self.bias_ih)

    def leaf(self, x):
        i, g, o = self.leaf_part(x).chunk(3, -1)
        return lstm_node(i, g, o, 0.0)


class ChildSumTreeLSTMCell(_TreeLSTMCell):
    """Child-sum Tree-LSTM (Tai et al. 2015, eqs. 2-8), any number of children:

        h~ = sum_k h_k,   (i, g, o) = U_(i,g,o) h~ + b_(i,g,o),   f_k = sigmoid(U_f h_k + b_f)
        c = sigmoid(i) tanh(g) + sum_k f_k c_k,   h = sigmoid(o) tanh(c)

    weight_hh (4H, H), bias_hh (4H), rows in gate order i, f, g, o (torch's)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size, 4 * hidden_size, hidden_size)

    def compose(self, children):
        h, c = children  # (N, K, H) each
        H = self.hidden_size
        w, b = self.weight_hh, self.bias_hh
        i, g, o = nn.functional.linear(h.sum(1), torch.cat([w[:H], w[2 * H:]]),
                                       torch.cat([b[:H], b[2 * H:]])).chunk(3, -1)
        # Each child its own forget gate, from its own h; a zero (missing) child carries 0.
        f = torch.sigmoid(nn.functional.linear(h, w[H:2 * H], b[H:2 * H]))
        return lstm_node(i, g, o, (f * c).sum(1))


class BinaryTreeLSTMCell(_TreeLSTMCell):
    """Binary (N-ary, N = 2) Tree-LSTM (Tai et al. 2015, eqs. 9-14): every gate reads both
    children through its own matrices, and each child has its own forget gate:

        (i, f_1, f_2, g, o) = U [h_1; h_2] + b
        c = sigmoid(i) tanh(g) + sigmoid(f_1) c_1 + sigmoid(f_2) c_2,   h = sigmoid(o) tanh(c)

    weight_hh (5H, 2H), bias_hh (5H), rows in the order i, f_1, f_2, g, o."""

    arity = 2

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size, 5 * hidden_size, 2 * hidden_size)

    def compose(self, children):
        h, c = children  # (N, 2, H) each
        i, f1, f2, g, o = nn.functional.linear(h.flatten(1), self.weight_hh,
                                               self.bias_hh).chunk(5, -1)
        f = torch.sigmoid(torch.stack([f1, f2], 1))  # (N, 2, H)
        return lstm_node(i, g, o, (f * c).sum(1))


# The config's names; "rntn" is the recursive cell with the tensor.
TREE_CELLS: dict[str, type[TreeCell]] = {"recursive": RecursiveCell, "rntn": RecursiveCell,
                                         "childsum": ChildSumTreeLSTMCell,
                                         "binary": BinaryTreeLSTMCell}


def build_tree_cell(name: str, input_size: int, hidden_size: int) -> TreeCell:
    """A tree cell by its config name, one of TREE_CELLS."""
    _check.one_of("tree_cell", name, tuple(TREE_CELLS))
    if TREE_CELLS[name] is RecursiveCell:
        return RecursiveCell(input_size, hidden_size, tensor=name == "rntn")
    return TREE_CELLS[name](input_size, hidden_size)

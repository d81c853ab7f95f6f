"""Tree cells in NumPy, forward and hand-derived backward, and backpropagation through structure
(Goller & Kuechler 1996): the truth `cells/tree.py` and `layers/tree.py` are tested against.

One node at a time, vectors 1-D (a tree's nodes are few; the batched engine is torch's job):

    state, cache = cell.leaf_forward(x)               x: (I,)
    dx, grads = cell.leaf_backward(cache, d_state)
    state, cache = cell.compose_forward(children)     children: a list of states, left to right
    d_children, grads = cell.compose_backward(cache, d_state)

A state is a tuple of (size,) arrays, h first. `TreeNet(cell)` runs a whole tree: `forward(tree,
x)` -> (h of every node in postorder (n, H), cache); `backward(cache, d_h)` walks the nodes
parents first, each node's state gradient the sum of what its own output and its parent send.
The equations are those of `cells/tree.py`, under its parameter names.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.cell import Params
from rnnkit.reference.ops import SIGMOID, TANH, sigmoid


class TreeCell:
    """Base class: `params` name -> float64 array, the torch cell's names and layouts."""

    def __init__(self, params: Params):
        self.params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}

    def zero_grads(self) -> Params:
        return {name: np.zeros_like(p) for name, p in self.params.items()}


class RecursiveCell(TreeCell):
    """leaf: h = x.  compose: c = [c_1; c_2], p = tanh(W c + b + t), t_d = c^T V_d c (with
    `weight_tensor` V (H, 2H, 2H) among the params: the RNTN)."""

    def leaf_forward(self, x):
        return (x,), None

    def leaf_backward(self, cache, d_state):
        return d_state[0], {}

    def compose_forward(self, children):
        p = self.params
        c = np.concatenate([child[0] for child in children])
        z = p["weight"] @ c + p["bias"]
        if "weight_tensor" in p:
            z = z + np.einsum("k,dkl,l->d", c, p["weight_tensor"], c)
        h = np.tanh(z)
        return (h,), (c, h)

    def compose_backward(self, cache, d_state):
        c, h = cache
        p = self.params
        dz = TANH.backward(h, d_state[0])
        grads = {"weight": np.outer(dz, c), "bias": dz}
        dc = p["weight"].T @ dz
        if "weight_tensor" in p:
            V = p["weight_tensor"]
            grads["weight_tensor"] = dz[:, None, None] * np.outer(c, c)  # dL/dV_d = dz_d c c^T
            dc = dc + np.einsum("d,dkl,l->k", dz, V, c) + np.einsum("d,dkl,k->l", dz, V, c)
        return [(part,) for part in np.split(dc, 2)], grads


def lstm_node_forward(i, g, o, carried):
    """c = sigmoid(i) tanh(g) + carried, h = sigmoid(o) tanh(c) -> ((h, c), cache)."""
    si, tg, so = sigmoid(i), np.tanh(g), sigmoid(o)
    c = si * tg + carried
    tc = np.tanh(c)
    return (so * tc, c), (si, tg, so, tc)


def lstm_node_backward(cache, d_state):
    """(dh, dc) -> (di, dg, do, d_carried), the pre-activations' gradients."""
    si, tg, so, tc = cache
    dh, dc = d_state
    dc = dc + TANH.backward(tc, dh * so)  # c reaches the loss directly and through h
    return (SIGMOID.backward(si, dc * tg), TANH.backward(tg, dc * si),
            SIGMOID.backward(so, dh * tc), dc)


class _TreeLSTMCell(TreeCell):
    """The leaves of both Tree-LSTMs: (i, g, o) = W_ih x + b_ih, nothing carried."""

    def leaf_forward(self, x):
        i, g, o = np.split(self.params["weight_ih"] @ x + self.params["bias_ih"], 3)
        state, node = lstm_node_forward(i, g, o, 0.0)
        return state, (x, node)

    def leaf_backward(self, cache, d_state):
        x, node = cache
        di, dg, do, _ = lstm_node_backward(node, d_state)
        dz = np.concatenate([di, dg, do])
        return self.params["weight_ih"].T @ dz, {"weight_ih": np.outer(dz, x), "bias_ih": dz}


class ChildSumTreeLSTMCell(_TreeLSTMCell):
    """h~ = sum_k h_k, (i, g, o) = U_(i,g,o) h~ + b, f_k = sigmoid(U_f h_k + b_f),
    c = sigmoid(i) tanh(g) + sum_k f_k c_k; weight_hh rows i, f, g, o."""

    def _blocks(self):
        H = self.params["weight_hh"].shape[1]
        w, b = self.params["weight_hh"], self.params["bias_hh"]
        return H, np.concatenate([w[:H], w[2 * H:]]), np.concatenate([b[:H], b[2 * H:]]), \
            w[H:2 * H], b[H:2 * H]

    def compose_forward(self, children):
        H, w_igo, b_igo, w_f, b_f = self._blocks()
        hs = [child[0] for child in children]
        cs = [child[1] for child in children]
        h_sum = np.sum(hs, axis=0)
        i, g, o = np.split(w_igo @ h_sum + b_igo, 3)
        fs = [sigmoid(w_f @ h + b_f) for h in hs]
        state, node = lstm_node_forward(i, g, o, sum(f * c for f, c in zip(fs, cs)))
        return state, (hs, cs, h_sum, fs, node)

    def compose_backward(self, cache, d_state):
        hs, cs, h_sum, fs, node = cache
        H, w_igo, _, w_f, _ = self._blocks()
        di, dg, do, d_carried = lstm_node_backward(node, d_state)
        dz_iog = np.concatenate([di, dg, do])
        dw, db = np.zeros_like(self.params["weight_hh"]), np.zeros_like(self.params["bias_hh"])
        rows = np.r_[0:H, 2 * H:4 * H]  # the i, g, o rows in weight_hh
        dw[rows], db[rows] = np.outer(dz_iog, h_sum), dz_iog
        dh_sum = w_igo.T @ dz_iog  # every child's h enters h~ with weight 1
        d_children = []
        for h, c, f in zip(hs, cs, fs):
            dz_f = SIGMOID.backward(f, d_carried * c)
            dw[H:2 * H] += np.outer(dz_f, h)
            db[H:2 * H] += dz_f
            d_children.append((dh_sum + w_f.T @ dz_f, d_carried * f))
        return d_children, {"weight_hh": dw, "bias_hh": db}


class BinaryTreeLSTMCell(_TreeLSTMCell):
    """(i, f_1, f_2, g, o) = U [h_1; h_2] + b, c = sigmoid(i) tanh(g) + sum_k sigmoid(f_k) c_k."""

    def compose_forward(self, children):
        (h1, c1), (h2, c2) = children
        h = np.concatenate([h1, h2])
        i, f1, f2, g, o = np.split(self.params["weight_hh"] @ h + self.params["bias_hh"], 5)
        f = (sigmoid(f1), sigmoid(f2))
        state, node = lstm_node_forward(i, g, o, f[0] * c1 + f[1] * c2)
        return state, (h, (c1, c2), f, node)

    def compose_backward(self, cache, d_state):
        h, cs, f, node = cache
        di, dg, do, d_carried = lstm_node_backward(node, d_state)
        df = [SIGMOID.backward(f_k, d_carried * c_k) for f_k, c_k in zip(f, cs)]
        dz = np.concatenate([di, df[0], df[1], dg, do])
        dh = np.split(self.params["weight_hh"].T @ dz, 2)
        return ([(dh[k], d_carried * f[k]) for k in range(2)],
                {"weight_hh": np.outer(dz, h), "bias_hh": dz})


class TreeNet:
    """A cell run over one tree: forward and backpropagation through structure."""

    def __init__(self, cell: TreeCell):
        self.cell, self.params = cell, cell.params

    def forward(self, tree, x: np.ndarray):
        """tree: an `rnnkit.data.Tree` (read through `postorder`, `is_leaf`, `children` only:
        the reference imports nothing it checks); x: (n_leaves, I), left to right -> (h (n, H)
        in postorder, cache)."""
        nodes = tree.postorder()
        leaves = iter(x)
        states, caches = {}, {}
        for node in nodes:
            if node.is_leaf:
                states[id(node)], caches[id(node)] = self.cell.leaf_forward(next(leaves))
            else:
                states[id(node)], caches[id(node)] = self.cell.compose_forward(
                    [states[id(c)] for c in node.children])
        return np.stack([states[id(node)][0] for node in nodes]), (nodes, states, caches)

    def backward(self, cache, d_h: np.ndarray):
        """d_h: (n, H) the loss's gradient w.r.t. each node's h, postorder -> (dx (n_leaves,
        I), d_params)."""
        nodes, states, caches = cache
        grads = self.cell.zero_grads()
        # Each node's state gradient: its own output's, plus what its parent sends (parents
        # come later in postorder, so walking it backwards finishes a node before its children).
        d_state = {id(node): [np.zeros_like(part) for part in states[id(node)]] for node in nodes}
        dx = []
        for node, dh in zip(reversed(nodes), d_h[::-1]):
            d = d_state[id(node)]
            d[0] = d[0] + dh
            if node.is_leaf:
                d_input, node_grads = self.cell.leaf_backward(caches[id(node)], d)
                dx.append(d_input)
            else:
                d_children, node_grads = self.cell.compose_backward(caches[id(node)], d)
                for child, d_child in zip(node.children, d_children):
                    d_state[id(child)] = [a + b for a, b in zip(d_state[id(child)], d_child)]
            for name, g in node_grads.items():
                grads[name] += g
        return np.stack(dx[::-1]), grads


CELLS = {"RecursiveCell": RecursiveCell, "ChildSumTreeLSTMCell": ChildSumTreeLSTMCell,
         "BinaryTreeLSTMCell": BinaryTreeLSTMCell}

"""Running a tree cell over a batch of trees, level by level, and the plain recursion it equals.

Batched execution (`run_batched`): every node is given a row; row 0 is a zero state ("no
child"), then come all leaves of the batch (height 0), then all nodes of height 1, and so on.
A node's children all have smaller heights, so when a level is composed every child's state is
already known: each level is one gather of its children's rows and one `cell.compose` (one
matrix product) for all its nodes across the batch, forward and, through autograd, backward.
The number of cell calls is the height of the tallest tree, not the number of nodes.

`run_recursive` is the readable reference: one call per node, children first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit import engines
from rnnkit.cells.tree import TreeCell
from rnnkit.data.trees import Tree
from rnnkit.engines import fused

IGNORE = -100  # the label of a node without one (cross_entropy's ignore_index)


@dataclass
class TreeBatch:
    """The structure of a batch of B trees with N nodes in all, as index tensors.

    tokens: (L,) the leaves' token ids, in row order (rows 1..L); levels: for each height
    1, 2, ..., (N_h, K_h) the rows of each node's children, left to right, padded with 0 (the
    zero row); labels: (N,) each node's label in row order (IGNORE where it has none); roots:
    (B,) the row - 1 of each tree's root in the outputs (which have no zero row); order: for
    each tree, (n_b,) the row - 1 of its nodes in postorder (`Tree.postorder`), and `trees`
    the trees themselves (for `run_recursive`)."""

    tokens: Tensor
    levels: list[Tensor]
    labels: Tensor
    roots: Tensor
    order: list[Tensor]
    trees: list[Tree]

    @property
    def size(self) -> int:
        return len(self.trees)

    def to(self, device) -> TreeBatch:
        return TreeBatch(self.tokens.to(device), [c.to(device) for c in self.levels],
                         self.labels.to(device), self.roots.to(device), self.order, self.trees)


def wrong_arity(tree: Tree, arity: int | None) -> int | None:
    """The children of the first inner node of `tree` that has other than `arity` (None: any
    number is right), or None."""
    if arity is None:
        return None
    return next((len(node.children) for node in tree.postorder()
                 if not node.is_leaf and len(node.children) != arity), None)


def batch_trees(trees: Sequence[Tree], tokens: Sequence[Sequence[int]],
                arity: int | None = None) -> TreeBatch:
    """trees and, for each, its leaves' token ids left to right -> their TreeBatch. arity: the
    cell's children per inner node, or None for any; a ValueError names the first tree (its
    index in `trees`) with an inner node of another count, or with the wrong number of ids."""
    if not trees:
        raise ValueError("trees: expected at least one tree, got none")
    by_height: list[list[tuple[int, Tree]]] = []  # (tree index, node) of each height
    for b, (tree, ids) in enumerate(zip(trees, tokens, strict=True)):
        nodes = tree.postorder()
        if sum(node.is_leaf for node in nodes) != len(ids):
            raise ValueError(f"tokens[{b}]: expected one id per leaf of tree {b} "
                             f"({len(tree.leaves())}), got {len(ids)}")
        bad = wrong_arity(tree, arity)
        if bad is not None:
            raise ValueError(f"trees[{b}]: the cell takes {arity} children per inner node, "
                             f"tree {b} has a node with {bad}: {tree}")
        height: dict[int, int] = {}  # id(node) -> height; postorder puts children first
        for node in nodes:
            h = 1 + max((height[id(c)] for c in node.children), default=-1)
            height[id(node)] = h
            while len(by_height) <= h:
                by_height.append([])
            by_height[h].append((b, node))
    row: dict[tuple[int, int], int] = {}  # (tree, id(node)) -> row, 1-based
    for b, node in (entry for level in by_height for entry in level):
        row[b, id(node)] = len(row) + 1
    levels = []
    for level in by_height[1:]:
        width = max(len(node.children) for _, node in level)
        # one tensor per level, not one per node: it halves the time to batch 25 SST trees
        levels.append(torch.tensor([[row[b, id(c)] for c in node.children]
                                    + [0] * (width - len(node.children)) for b, node in level],
                                   dtype=torch.long))
    leaf_tokens = {}
    for b, (tree, ids) in enumerate(zip(trees, tokens)):
        for leaf, token in zip(tree.leaves(), ids):
            leaf_tokens[row[b, id(leaf)]] = token
    labels = [IGNORE if node.label is None else node.label
              for level in by_height for _, node in level]
    return TreeBatch(
        torch.tensor([leaf_tokens[r] for r in range(1, len(by_height[0]) + 1)]),
        levels, torch.tensor(labels),
        torch.tensor([row[b, id(tree)] - 1 for b, tree in enumerate(trees)]),
        [torch.tensor([row[b, id(n)] - 1 for n in tree.postorder()])
         for b, tree in enumerate(trees)],
        list(trees))


def run_batched(cell: TreeCell, batch: TreeBatch, leaf_inputs: Tensor) -> Tensor:
    """leaf_inputs: (L, I) the leaves' inputs in row order -> (N, H) every node's h, in row
    order (row r at index r - 1). On the engine `engines.choose_tree` picks: the binary
    Tree-LSTM's C++ levels, or the Python loop over levels below."""
    if engines.choose_tree(cell, leaf_inputs) == "fused":
        return fused.run_tree(cell, batch.levels, leaf_inputs)
    params = tuple(cell.parameters())
    if torch.is_grad_enabled() and (leaf_inputs.requires_grad
                                    or any(p.requires_grad for p in params)):
        return _LevelByLevel.apply(cell, batch.levels, leaf_inputs, *params)
    return fill_rows(cell, batch.levels, leaf_inputs)[0][1:]


def fill_rows(cell: TreeCell, levels: list[Tensor], leaf_inputs: Tensor,
              graphs: list | None = None) -> list[Tensor]:
    """The row tables, one (N + 1, size) per state part, filled in place level by level: row 0
    zero, then the leaves, then each height's nodes. graphs: a list to record in, for each level,
    (inputs, state, rows, children) with an autograd graph from the detached inputs to the
    state, for `_LevelByLevel.backward`."""
    N = leaf_inputs.shape[0] + sum(children.shape[0] for children in levels)
    tables = [leaf_inputs.new_zeros(N + 1, size) for size in cell.state_sizes]
    start = 1

    def run(compute, inputs, children):
        nonlocal start
        if graphs is not None:
            inputs = tuple(x.detach().requires_grad_() for x in inputs)
            with torch.enable_grad():
                state = compute(*inputs)
            graphs.append((inputs, state, slice(start, start + len(state[0])), children))
        else:
            state = compute(*inputs)
        for table, part in zip(tables, state):
            table[start:start + len(part)] = part.detach()
        start += len(state[0])

    run(cell.leaf, (leaf_inputs,), None)
    for children in levels:  # (N_h, K) rows: gather (N_h, K, size) per part, compose
        run(lambda *parts: cell.compose(parts), tuple(t[children] for t in tables), children)
    return tables


class _LevelByLevel(torch.autograd.Function):
    """`run_batched` with a backward whose cost grows with the nodes, not nodes x levels.

    Plain autograd through the level loop would rebuild the row table at every level (a cat)
    and, in backward, turn every level's gather into a zero tensor of the whole table's size:
    on SST, a training step at batch 100 took 1.5x as long so (RESULTS.md). Here forward fills
    preallocated tables in place and keeps each level's own small graph (detached children ->
    state); backward walks the levels from the top, asks each graph for its children's and the
    parameters' gradients, and adds the children's into a table of row gradients (index_add_)."""

    @staticmethod
    def forward(ctx, cell, levels, leaf_inputs, *params):
        ctx.graphs, ctx.params = [], params
        tables = fill_rows(cell, levels, leaf_inputs, ctx.graphs)
        ctx.shapes = [table.shape for table in tables]
        return tables[0][1:]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h):
        grads = [grad_h.new_zeros(shape) for shape in ctx.shapes]
        grads[0][1:] = grad_h
        trained = [p for p, need in zip(ctx.params, ctx.needs_input_grad[3:]) if need]
        param_grads = [torch.zeros_like(p) for p in trained]
        for inputs, state, rows, children in reversed(ctx.graphs):
            # retain_graph: backward may run again on the same forward (gradcheck does); the
            # graphs go with ctx, when the caller's graph goes
            found = torch.autograd.grad(state, (*inputs, *trained),
                                        [grad[rows] for grad in grads], allow_unused=True,
                                        retain_graph=True)
            for total, g in zip(param_grads, found[len(inputs):]):
                if g is not None:
                    total += g
            if children is None:  # the leaves: their inputs' gradient
                grad_leaves = found[0]
                continue
            for grad, g in zip(grads, found[:len(inputs)]):
                grad.index_add_(0, children.flatten(), g.flatten(0, 1))
        param_grads = iter(param_grads)
        return (None, None, grad_leaves if ctx.needs_input_grad[2] else None,
                *[next(param_grads) if need else None for need in ctx.needs_input_grad[3:]])


def run_recursive(cell: TreeCell, tree: Tree, leaf_inputs: Tensor) -> Tensor:
    """The reference: one tree, one node at a time. leaf_inputs: (n_leaves, I), left to right
    -> (n, H) every node's h in postorder."""
    leaves = iter(leaf_inputs.split(1))
    states: dict[int, tuple] = {}  # id(node) -> its state, each part (1, size)
    for node in tree.postorder():
        if node.is_leaf:
            states[id(node)] = cell.leaf(next(leaves))
        else:
            children = [states[id(c)] for c in node.children]
            states[id(node)] = cell.compose(tuple(torch.stack(part, 1)
                                                  for part in zip(*children)))
    return torch.cat([states[id(node)][0] for node in tree.postorder()])

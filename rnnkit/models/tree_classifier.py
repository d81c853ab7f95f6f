"""A classifier over parse trees (Socher et al. 2013; Tai et al. 2015): a tree cell composes
each tree bottom-up and a softmax classifies every node (`tasks/sst_tree.py` trains it)."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.tree import build_tree_cell
from rnnkit.errors import ConfigError
from rnnkit.layers.tree import TreeBatch, run_batched, run_recursive
from rnnkit.models.network import ModelConfig

class TreeClassifier(nn.Module):
    """model(trees: TreeBatch, recursive=False) -> (logits (N, C) of every node in row order,
    None).

    Embeddings (random; `embedding_size`, 0: hidden_size) with `embedding_dropout`, the
    `tree_cell` of [model] run by `run_batched` (or, with `recursive`, the reference
    `run_recursive` one tree at a time: the same numbers), `head_dropout`, a linear layer."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, num_classes: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embedding_size or cfg.hidden_size,
                                  padding_idx=0)
        self.embedding_dropout = nn.Dropout(cfg.embedding_dropout)
        try:
            self.cell = build_tree_cell(cfg.tree_cell, self.embed.embedding_dim, cfg.hidden_size)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"model: {error}") from error
        self.head_dropout = nn.Dropout(cfg.head_dropout)
        self.head = nn.Linear(cfg.hidden_size, num_classes)

    def forward(self, trees: TreeBatch, recursive: bool = False):
        leaves = self.embedding_dropout(self.embed(trees.tokens))  # (L, E), row order
        if recursive:
            h = torch.empty(len(trees.labels), self.cell.hidden_size, dtype=leaves.dtype,
                            device=leaves.device)
            first = 0
            for tree, order in zip(trees.trees, trees.order):
                n = len(tree.leaves())
                # A tree's leaves are contiguous in row order, left to right (postorder meets
                # them so), so its inputs are the next n rows.
                h = h.index_put((order,), run_recursive(self.cell, tree, leaves[first:first + n]))
                first += n
        else:
            h = run_batched(self.cell, trees, leaves)
        return self.head(self.head_dropout(h)), None

"""Additive attention (Bahdanau, Cho & Bengio 2015): a decoder state scores every encoder output
through a one-hidden-layer network, and reads their softmax-weighted mean."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class AdditiveAttention(nn.Module):
    r"""AdditiveAttention(query_size, key_size, attention_size)

        e_j = v^T tanh(W q + U k_j),   alpha = softmax_j(e_j) over valid j,   c = sum_j alpha_j k_j

    U k_j does not depend on the query, so `project_keys` computes it once per source sequence
    and every decoder step reuses it.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int, *, device=None,
                 dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.query_proj = nn.Linear(query_size, attention_size, **kw)  # W (and the one bias)
        self.key_proj = nn.Linear(key_size, attention_size, bias=False, **kw)  # U
        self.score = nn.Linear(attention_size, 1, bias=False, **kw)  # v

    def project_keys(self, keys: Tensor) -> Tensor:
        """keys: (S, B, C) -> U k: (S, B, A)."""
        return self.key_proj(keys)

    def forward(self, query: Tensor, projected_keys: Tensor, values: Tensor,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """query: (B, Q); projected_keys: (S, B, A) from `project_keys`; values: (S, B, C), the
        keys themselves; mask: (S, B) bool, True at valid steps, or None.
        Returns (context (B, C), weights (S, B)): the weights of each sequence sum to 1 over its
        valid steps and are exactly zero on padding."""
        scores = self.score(torch.tanh(self.query_proj(query) + projected_keys)).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight at all
        weights = scores.softmax(dim=0)
        return (weights.unsqueeze(-1) * values).sum(0), weights

"""Pooling over time: a recurrent network's outputs for a padded batch of sequences -> one vector
per sequence, for a classifier to read. Padded steps never count, whatever they hold."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.models.attention import AdditiveAttention

POOLINGS = ("last", "mean", "max", "attention")


class SequencePooling(nn.Module):
    """SequencePooling(kind, size, bidirectional=False)

    forward(outputs (T, B, size), lengths (B,) or None) -> (B, size), with kind:

    - "last": the output at each sequence's true end. For a bidirectional network (outputs
      [forward; backward] concatenated, as rnnkit's and torch's layers give them) the backward
      half is read at the first step instead, where the backward direction has read the whole
      sequence.
    - "mean", "max": over each sequence's true steps.
    - "attention": a weighted mean, the weights a softmax over the true steps of scores
      v^T tanh(W q + U h_t) with a learned query q (Yang et al. 2016), so a padded step gets
      weight exactly zero.
    """

    def __init__(self, kind: str, size: int, bidirectional: bool = False):
        super().__init__()
        self.kind = _check.one_of("kind", kind, POOLINGS)
        self.size = _check.positive_int("size", size)
        self.bidirectional = bidirectional
        if kind == "attention":
            self.query = nn.Parameter(torch.randn(size) / size ** 0.5)
            self.attention = AdditiveAttention(size, size, size)

    def forward(self, outputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        T, B, _ = outputs.shape
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.int64)
        lengths = lengths.to(outputs.device)
        mask = torch.arange(T, device=outputs.device)[:, None] < lengths[None, :]  # (T, B)
        if self.kind == "last":
            last = outputs[lengths - 1, torch.arange(B, device=outputs.device)]  # (B, size)
            if not self.bidirectional:
                return last
            half = self.size // 2
            return torch.cat([last[:, :half], outputs[0, :, half:]], dim=-1)
        if self.kind == "mean":
            # rnnkit's layers give zeros at padded steps; masking here keeps the pooling right
            # for any network.
            total = outputs.masked_fill(~mask.unsqueeze(-1), 0.0).sum(0)
            return total / lengths.unsqueeze(-1).to(outputs.dtype)
        if self.kind == "max":
            return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(0)
        query = self.query.expand(B, self.size)
        pooled, _ = self.attention(query, self.attention.project_keys(outputs), outputs, mask)
        return pooled

    def extra_repr(self) -> str:
        return f"{self.kind!r}, size={self.size}, bidirectional={self.bidirectional}"

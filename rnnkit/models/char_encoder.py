"""A word's characters -> one vector: a character BiLSTM (Lample et al. 2016: its two final
states concatenated) or a character CNN (Ma & Hovy 2016: one convolution, max-pooled over the
word). Taggers concatenate it to the word's embedding, so that rare and unknown words still have
their spelling (capitals, suffixes, digits)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.layers import LSTM

CHAR_ENCODERS = ("none", "lstm", "cnn")


class CharEncoder(nn.Module):
    """CharEncoder(kind, num_chars, embedding_size, hidden_size, kernel_size=3)

    forward(chars (N, C) character ids, 0 after each word's end) -> (N, output_size).
    kind "lstm": a BiLSTM of `hidden_size` units per direction over each word, output
    [h_fwd at the word's last character; h_bwd at its first] (2 * hidden_size). kind "cnn":
    `hidden_size` filters of width `kernel_size` over the character embeddings (zero-padded by
    kernel_size // 2 at both ends, so every character is a centre), the max over the word's
    positions (hidden_size). A row with no character at all (padding) reads as one padding
    character."""

    def __init__(self, kind: str, num_chars: int, embedding_size: int, hidden_size: int,
                 kernel_size: int = 3):
        super().__init__()
        if kind not in CHAR_ENCODERS[1:]:
            raise ValueError(f"kind: expected one of {', '.join(CHAR_ENCODERS[1:])}, "
                             f"got {kind!r}")
        self.kind = kind
        self.embed = nn.Embedding(num_chars, embedding_size, padding_idx=0)
        if kind == "lstm":
            self.rnn = LSTM(embedding_size, hidden_size, bidirectional=True)
            self.output_size = 2 * hidden_size
        else:
            self.conv = nn.Conv1d(embedding_size, hidden_size, kernel_size,
                                  padding=kernel_size // 2)
            self.output_size = hidden_size

    def forward(self, chars: Tensor) -> Tensor:
        lengths = (chars != 0).sum(1).clamp(min=1)                           # (N,)
        embedded = self.embed(chars)                                         # (N, C, E)
        if self.kind == "lstm":
            # h_n: (2, N, H), row 0 the forward direction at each word's end, row 1 the
            # backward one at its start
            _, (h_n, _) = self.rnn(embedded.transpose(0, 1), lengths=lengths.cpu())
            return torch.cat([h_n[0], h_n[1]], dim=1)
        features = self.conv(embedded.transpose(1, 2))                       # (N, H, C')
        # output position j is centred on character j (for odd widths): pool over the word only
        inside = torch.arange(features.shape[2], device=chars.device) < lengths[:, None]
        return features.masked_fill(~inside.unsqueeze(1), float("-inf")).amax(2)

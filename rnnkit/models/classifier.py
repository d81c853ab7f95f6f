"""Sequence classification: embeddings, a recurrent encoder, pooling over time, a linear output.

Sentence classifiers of this shape (random embeddings, an LSTM or BiLSTM, the last state or a
pooled state, softmax) are the recurrent baselines of the SST literature (Tai et al. 2015;
Yang et al. 2016 for attention pooling)."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.layers.dropout import SequenceDropout
from rnnkit.models.network import ModelConfig, build_network
from rnnkit.models.pooling import SequencePooling


class SequenceClassifier(nn.Module):
    """model(x (T, B) token ids, state=None, lengths=None) -> (logits (B, C), final state).

    [model] gives the encoder (any cell, depth, direction, dropout), `embedding_size` (0:
    hidden_size), `embedding_dropout` (one mask per sequence when `variational`), `pooling` and
    `head_dropout`. Embeddings start random; index 0 is padding, whose embedding stays zero."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, num_classes: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embedding_size or cfg.hidden_size,
                                  padding_idx=0)
        self.embedding_dropout = SequenceDropout(cfg.embedding_dropout, cfg.variational)
        self.rnn = build_network(cfg, self.embed.embedding_dim)
        self.pool = SequencePooling(cfg.pooling, self.rnn.output_size, cfg.bidirectional)
        self.head_dropout = nn.Dropout(cfg.head_dropout)
        self.head = nn.Linear(self.rnn.output_size, num_classes)

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        embedded = self.embedding_dropout(self.embed(x))
        out, state = self.rnn(embedded, state, lengths)
        return self.head(self.head_dropout(self.pool(out, lengths))), state

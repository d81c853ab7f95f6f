"""Sequence tagging: a tag for every token (named entities, chunks).

    word ids ──► embedding ─┐
    characters ─► CharEncoder (optional) ─┴─► concat ─► dropout ─► [d blank steps] ─► encoder
    ─► outputs t + d ─► dropout ─► linear ─► emissions (T, B, K) ─► head (loss, decode)

The encoder is any [model] network (build_network: cell, depth, direction, dropout), a BiLSTM
in Lample et al. (2016). The head (models/tag_heads.py) is softmax, CRF, structured perceptron,
structured SVM or the RNN-HMM hybrid.

Target delay (Graves & Schmidhuber 2005): a one-directional encoder has read only tokens
0..t when it reaches token t; with `delay = d` the input is padded with d learned blank steps
after each sentence's true end and the tag of token t is read from output t + d, so that it
sees d tokens of right context. A bidirectional encoder already sees the whole sentence.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.layers.dropout import SequenceDropout
from rnnkit.models.char_encoder import CharEncoder
from rnnkit.models.network import ModelConfig, build_network
from rnnkit.models.tag_heads import build_head
from rnnkit.structured import allowed_transitions


def check_config(cfg: ModelConfig) -> None:
    """The [model] options a tagger cannot have, as ConfigError naming the key."""
    if cfg.delay and cfg.bidirectional:
        raise ConfigError(f"model.delay: a bidirectional encoder already reads the whole "
                          f"sentence; expected 0 with model.bidirectional = true, "
                          f"got {cfg.delay}")


class Tagger(nn.Module):
    """Tagger(cfg, vocab_size, num_chars, tag_names, scheme)

    model(x (T, B, 1 + C) int64, state=None, lengths=None) -> (emissions (T, B, K), state):
    x[..., 0] holds the word ids (0 padding), x[..., 1:] each word's character ids (0 after its
    end; C = 0 without a character encoder); K = len(tag_names). `head.loss(emissions, tags,
    mask)` and `head.decode(emissions, mask)` train and decode (models/tag_heads.py).

    scheme: "BIO" or "IOBES", the tag names' scheme, for `cfg.constraints`."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, num_chars: int,
                 tag_names: list[str], scheme: str):
        super().__init__()
        check_config(cfg)
        self.delay = cfg.delay
        self.embed = nn.Embedding(vocab_size, cfg.embedding_size or cfg.hidden_size,
                                  padding_idx=0)
        size = self.embed.embedding_dim
        self.chars = None
        if cfg.char_encoder != "none":
            self.chars = CharEncoder(cfg.char_encoder, num_chars, cfg.char_embedding_size,
                                     cfg.char_hidden_size, cfg.char_kernel_size)
            size += self.chars.output_size
        self.embedding_dropout = SequenceDropout(cfg.embedding_dropout, cfg.variational)
        # the input of a blank step: learned, starting at zero
        self.blank = nn.Parameter(torch.zeros(size)) if self.delay else None
        self.rnn = build_network(cfg, size)
        self.head_dropout = nn.Dropout(cfg.head_dropout)
        self.project = nn.Linear(self.rnn.output_size, len(tag_names))
        constraints = allowed_transitions(list(tag_names), scheme) if cfg.constraints else None
        self.head = build_head(cfg.head, len(tag_names), constraints, cfg.svm_cost)

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        T, B = x.shape[:2]
        features = self.embed(x[..., 0])                                    # (T, B, E)
        if self.chars is not None:
            # every position's word, padding included (a padded word reads as one pad char)
            spelled = self.chars(x[..., 1:].reshape(T * B, -1)).view(T, B, -1)
            features = torch.cat([features, spelled], dim=2)                # (T, B, F)
        features = self.embedding_dropout(features)
        if self.delay:
            features, lengths = self.with_blanks(features, lengths)         # (T + d, B, F)
        out, state = self.rnn(features, state, lengths)
        # token t's output is step t + d (a sequence of length L ends at L + d)
        out = out[self.delay:self.delay + T]                                # (T, B, O)
        return self.project(self.head_dropout(out)), state

    def with_blanks(self, features: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
        """features (T, B, F) -> (T + d, B, F) with the blank input at steps L_b .. L_b + d - 1
        of each sequence b (L_b its length, T when `lengths` is None), and lengths L_b + d."""
        T, B, F = features.shape
        d = self.delay
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.int64)
        steps = torch.arange(T + d).unsqueeze(1)                             # (T + d, 1)
        blank = ((steps >= lengths) & (steps < lengths + d)).to(features.device)
        padded = torch.cat([features, features.new_zeros(d, B, F)])
        return torch.where(blank.unsqueeze(2), self.blank, padded), lengths + d

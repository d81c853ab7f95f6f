"""Sequence to sequence with attention (Bahdanau, Cho & Bengio 2015): any rnnkit sequence layer
encodes the source; a decoder cell emits the target one token at a time, attending over the
encoder's outputs at every step.

Tokens are time-major ids: a source (S, B), a target (T, B). The two halves:

    memory, state = model.encode(src, lengths)                         # once per source
    logits, state, weights = model.decode_step(memory, y_prev, state)  # once per target token

`forward` runs the decoder with teacher forcing (training); `greedy` and `beam_search` decode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State
from rnnkit.engines.loop import valid_steps
from rnnkit.layers.sequence import SequenceLayer
from rnnkit.models import beam_search as beam
from rnnkit.models.attention import AdditiveAttention


@dataclass
class Memory:
    """The encoded source that every decoder step attends to. values: (S', B, C), the encoder's
    outputs; keys: (S', B, A), their attention projection; mask: (S', B) bool, True at valid
    steps, or None when all are valid. S' is the encoder's output length (about S / 4 under a
    three-layer pyramidal encoder of reduction 2)."""

    values: Tensor
    keys: Tensor
    mask: Tensor | None

    def rows(self, index: Tensor) -> Memory:
        """The memory of batch rows `index` (B',) -> a batch of B'."""
        mask = None if self.mask is None else self.mask[:, index]
        return Memory(self.values[:, index], self.keys[:, index], mask)


class Seq2Seq(nn.Module):
    """Seq2Seq(encoder, decoder_cell, src_vocab_size, tgt_vocab_size, embedding_dim, *,
    attention="additive", attention_size=None, bos_index=1, eos_index=2)

    encoder: any rnnkit SequenceLayer with input_size = embedding_dim; under a `Pyramidal` one
        the decoder attends over the reduced sequence, masked by its `output_lengths`.
    decoder_cell: any rnnkit RecurrentCell with input_size = embedding_dim + encoder.output_size.
    attention_size: of the additive attention's hidden layer (default: the decoder's state[0]).

    Decoder step i, with s[0] the part of the cell's state that it feeds back (h):
        c_i      = attention(query s_{i-1}[0], keys and values: the encoder outputs)
        out_i, s_i = cell([E y_{i-1}; c_i], s_{i-1})
        logits_i = W_o [out_i; c_i] + b_o
    (Bahdanau et al.'s readout, minus its maxout layer.) The first state is
    s_0[0] = tanh(W_b mean(encoder outputs over the valid steps) + b_b), its other parts zero:
    Bahdanau et al. start from the backward encoder's first state, which only a bidirectional
    encoder has; the mean exists for every encoder.
    """

    def __init__(self, encoder: SequenceLayer, decoder_cell: RecurrentCell, src_vocab_size: int,
                 tgt_vocab_size: int, embedding_dim: int, *, attention: str = "additive",
                 attention_size: int | None = None, bos_index: int = 1, eos_index: int = 2):
        super().__init__()
        if not isinstance(encoder, SequenceLayer):
            raise TypeError(f"encoder: expected a rnnkit sequence layer, "
                            f"got {_check.describe(encoder)}")
        if not isinstance(decoder_cell, RecurrentCell):
            raise TypeError(f"decoder_cell: expected a rnnkit RecurrentCell, "
                            f"got {_check.describe(decoder_cell)}")
        self.src_vocab_size = _check.positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = _check.positive_int("tgt_vocab_size", tgt_vocab_size)
        self.embedding_dim = _check.positive_int("embedding_dim", embedding_dim)
        _check.one_of("attention", attention, ("additive",))
        for name, index in (("bos_index", bos_index), ("eos_index", eos_index)):
            if _check.positive_int(name, index, allow_zero=True) >= tgt_vocab_size:
                raise ValueError(f"{name}: expected a token id below tgt_vocab_size "
                                 f"{tgt_vocab_size}, got {index}")
        self.bos_index, self.eos_index = bos_index, eos_index
        if encoder.input_size != embedding_dim:
            raise ValueError(f"encoder: expected input_size {embedding_dim} (embedding_dim), "
                             f"got {encoder.input_size}")
        wanted = embedding_dim + encoder.output_size
        if decoder_cell.input_size != wanted:
            raise ValueError(f"decoder_cell: expected input_size {wanted} (embedding_dim "
                             f"{embedding_dim} + encoder.output_size {encoder.output_size}), "
                             f"got {decoder_cell.input_size}")
        p = encoder.reference_parameter()
        if decoder_cell.weight_ih.dtype != p.dtype:
            raise TypeError(f"decoder_cell: expected dtype {p.dtype} (the encoder's), "
                            f"got {decoder_cell.weight_ih.dtype}")
        self.encoder, self.decoder = encoder, decoder_cell
        kw = {"device": p.device, "dtype": p.dtype}
        C, Q = encoder.output_size, decoder_cell.state_sizes[0]
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, **kw)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, **kw)
        size = Q if attention_size is None else _check.positive_int("attention_size",
                                                                    attention_size)
        self.attention = AdditiveAttention(Q, C, size, **kw)
        self.bridge = nn.Linear(C, Q, **kw)
        self.readout = nn.Linear(decoder_cell.output_size + C, tgt_vocab_size, **kw)

    # --- the two halves -------------------------------------------------------------------------
    def encode(self, src: Tensor, lengths: Tensor | None = None) -> tuple[Memory, State]:
        """src: (S, B) token ids; lengths: (B,) or None -> (Memory, the decoder's first state).
        Validates its input (the decoding methods all start here)."""
        _check.token_ids("src", src, self.src_vocab_size, ndim=2)
        if src.shape[0] == 0:
            raise ValueError("src: expected at least one time step, got a time dimension of 0")
        if lengths is not None:
            lengths = _check.lengths(lengths, src.shape[1], src.shape[0])
        outputs, _ = self.encoder.run(self.src_embedding(src), None, lengths)
        lengths = self.encoder.output_lengths(lengths)
        if lengths is None:
            mask, mean = None, outputs.mean(0)
        else:
            mask = valid_steps(lengths, outputs)[..., 0]
            mean = outputs.sum(0) / lengths.to(outputs)[:, None]  # padded outputs are zero
        state = self.decoder.init_state(src.shape[1])
        state = (torch.tanh(self.bridge(mean)), *state[1:])
        return Memory(outputs, self.attention.project_keys(outputs), mask), state

    def decode_step(self, memory: Memory, y_prev: Tensor,
                    state: State) -> tuple[Tensor, State, Tensor]:
        """y_prev: (B,) the previous target tokens; state: the decoder's.
        Returns (logits (B, tgt_vocab_size), new state, attention weights (S', B))."""
        context, weights = self.attention(state[0], memory.keys, memory.values, memory.mask)
        w = self.decoder.weights()
        x = torch.cat([self.tgt_embedding(y_prev), context], dim=-1)
        out, state = self.decoder.recurrence(w, self.decoder.input_part(w, x), state)
        return self.readout(torch.cat([out, context], dim=-1)), state, weights

    # --- training and decoding ------------------------------------------------------------------
    def forward(self, src: Tensor, lengths: Tensor | None, targets: Tensor) -> Tensor:
        """Teacher forcing. src: (S, B); targets: (T, B), the tokens to predict (ending with EOS,
        padded with anything in the vocabulary). Returns logits (T, B, tgt_vocab_size): logits[t]
        predicts targets[t] from BOS, targets[0], ..., targets[t-1]."""
        memory, state = self.encode(src, lengths)
        _check.token_ids("targets", targets, self.tgt_vocab_size, ndim=2)
        if targets.shape[1] != src.shape[1]:
            raise ValueError(f"targets: expected batch size {src.shape[1]} (src's), "
                             f"got shape {tuple(targets.shape)}")
        y_prev = torch.cat([torch.full_like(targets[:1], self.bos_index), targets[:-1]])
        logits = []
        for y in y_prev:
            step_logits, state, _ = self.decode_step(memory, y, state)
            logits.append(step_logits)
        return torch.stack(logits)

    @torch.no_grad()
    def greedy(self, src: Tensor, lengths: Tensor | None = None,
               max_len: int = 50) -> list[list[int]]:
        """The most likely next token at every step, until EOS or max_len tokens.
        Returns each sequence's tokens without EOS."""
        _check.positive_int("max_len", max_len)
        memory, state = self.encode(src, lengths)
        y = torch.full((src.shape[1],), self.bos_index, device=src.device)
        done = torch.zeros_like(y, dtype=torch.bool)
        tokens = []
        for _ in range(max_len):
            logits, state, _ = self.decode_step(memory, y, state)
            y = logits.argmax(-1)
            tokens.append(y)
            done |= y == self.eos_index
            if done.all():
                break
        return [_until_eos(row, self.eos_index) for row in torch.stack(tokens, 1).tolist()]

    @torch.no_grad()
    def beam_search(self, src: Tensor, lengths: Tensor | None = None, beam_size: int = 4,
                    max_len: int = 50, alpha: float = 0.6,
                    penalty: str = "gnmt") -> list[list[int]]:
        """The best hypothesis of a beam search per sequence, by log-probability divided by a
        length penalty (see `rnnkit.models.beam_search`); tokens without EOS."""
        return beam.search(self, src, lengths, beam_size=beam_size, max_len=max_len,
                           alpha=alpha, penalty=penalty)


def _until_eos(tokens: list[int], eos: int) -> list[int]:
    return tokens[:tokens.index(eos)] if eos in tokens else tokens

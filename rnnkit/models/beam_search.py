"""Beam search for `Seq2Seq`, batched: every source sequence keeps its own beam, and all beams of
the batch advance together as one decoder batch of B * beam_size rows.

The rules, chosen so that a beam of 1 is exactly greedy decoding and a beam as wide as the whole
hypothesis space is exactly exhaustive search:
- every step, each live hypothesis is extended by every token; the beam_size best extensions of
  a sequence by log-probability (all have the same length here, so this is also the best by
  normalised score) are kept;
- those that end in EOS leave the beam, which shrinks: they are finished, scored by their
  log-probability divided by the length penalty;
- after max_len tokens the hypotheses still live finish too (without EOS);
- the answer is the finished hypothesis with the best normalised score. The search stops when
  no hypothesis is live. (No early stop: with a length penalty a live hypothesis can still
  overtake a finished one.)
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit import _check

PENALTIES = ("gnmt", "power")


def length_penalty(length: int, alpha: float, penalty: str = "gnmt") -> float:
    """What a hypothesis's log-probability is divided by; length counts the generated tokens, EOS
    included. "gnmt": ((5 + length) / 6) ** alpha (Wu et al. 2016); "power": length ** alpha.
    alpha = 0 is no normalisation; larger alpha favours longer hypotheses."""
    base = (5 + length) / 6 if penalty == "gnmt" else length
    return base ** alpha


def search(model, src: Tensor, lengths: Tensor | None, *, beam_size: int, max_len: int,
           alpha: float, penalty: str) -> list[list[int]]:
    """model: a Seq2Seq; src: (S, B) token ids; lengths: (B,) or None.
    Returns the best finished hypothesis of each sequence, tokens without EOS."""
    k = _check.positive_int("beam_size", beam_size)
    _check.positive_int("max_len", max_len)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
        raise ValueError(f"alpha: expected a float >= 0, got {alpha!r}")
    _check.one_of("penalty", penalty, PENALTIES)
    memory, state = model.encode(src, lengths)
    B, V, eos = src.shape[1], model.tgt_vocab_size, model.eos_index
    # Row b * k + j of the decoder batch is hypothesis j of sequence b.
    memory = memory.rows(torch.arange(B, device=src.device).repeat_interleave(k))
    state = tuple(part.repeat_interleave(k, dim=0) for part in state)
    scores = torch.full((B, k), float("-inf"), dtype=memory.values.dtype, device=src.device)
    scores[:, 0] = 0.0  # one live hypothesis to start with, the empty one; -inf: none there
    history = torch.empty(B, k, 0, dtype=torch.long, device=src.device)  # (B, k, t)
    best_score = torch.full_like(scores[:, 0], float("-inf"))
    best = [[] for _ in range(B)]
    y = torch.full((B * k,), model.bos_index, device=src.device)
    for t in range(max_len):
        logits, state, _ = model.decode_step(memory, y, state)
        log_probs = logits.log_softmax(-1).view(B, k, V)
        top, index = (scores.unsqueeze(-1) + log_probs).view(B, k * V).topk(k, dim=1)
        parent, token = index // V, index % V  # (B, k) each
        history = torch.cat([history.gather(1, parent[..., None].expand(-1, -1, t)),
                             token[..., None]], dim=-1)
        live = top > float("-inf")
        finished = live & ((token == eos) | (t == max_len - 1))
        normalised = torch.where(finished, top / length_penalty(t + 1, alpha, penalty),
                                 float("-inf"))
        value, which = normalised.max(dim=1)
        for b in (value > best_score).nonzero().flatten().tolist():
            best_score[b] = value[b]
            tokens = history[b, which[b]].tolist()
            best[b] = tokens[:-1] if tokens[-1] == eos else tokens
        scores = torch.where(finished, float("-inf"), top)
        if not (scores > float("-inf")).any():
            break
        rows = (torch.arange(B, device=src.device)[:, None] * k + parent).flatten()
        state = tuple(part[rows] for part in state)
        y = token.flatten()
    return best

"""A recurrent language model and sampling from it.

    model = LanguageModel(ModelConfig(hidden_size=256, num_layers=2, tie_weights=True), len(vocab))
    logits, state = model(ids)                     # ids (T, B) -> logits (T, B, V)
    text = generate(model, vocab, list("ROMEO:"), 200, temperature=0.8,
                    generator=torch.Generator().manual_seed(0))

The tasks that train it on a stream of tokens are in `stream.py` (a generated chain) and
`text_lm.py` (a text file, character or word level).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.data.vocab import Vocab
from rnnkit.errors import ConfigError
from rnnkit.models.network import ModelConfig, build_network

INIT_RANGE = 0.1  # embeddings and decoder start uniform in [-0.1, 0.1], as PyTorch's word LM


class LanguageModel(nn.Module):
    """model(ids (T, B), state=None, lengths=None) -> (logits (T, B, V), state): an embedding
    (V -> E), the recurrent network of the [model] section (its input and output dropout are the
    dropout on the embeddings and before the decoder), a linear decoder (O -> V).

    With cfg.tie_weights the decoder's weight is the embedding matrix (one Parameter), so E must
    equal the network's output size O (hidden_size, or proj_size for a projected LSTM)."""

    def __init__(self, cfg: ModelConfig, vocab_size: int):
        super().__init__()
        if cfg.bidirectional:
            # The backward direction would read the very tokens the model is asked to predict.
            raise ConfigError("model.bidirectional: a language model reads left to right only; "
                              "expected false, got true")
        self.embed = nn.Embedding(vocab_size, cfg.embedding_size or cfg.hidden_size)
        self.rnn = build_network(cfg, self.embed.embedding_dim)
        self.head = nn.Linear(self.rnn.output_size, vocab_size)
        nn.init.uniform_(self.embed.weight, -INIT_RANGE, INIT_RANGE)
        nn.init.uniform_(self.head.weight, -INIT_RANGE, INIT_RANGE)
        nn.init.zeros_(self.head.bias)
        if cfg.tie_weights:
            if self.embed.embedding_dim != self.rnn.output_size:
                raise ConfigError(
                    f"model.tie_weights: needs model.embedding_size equal to the network's output "
                    f"size ({self.rnn.output_size}: proj_size if set, else hidden_size), got "
                    f"embedding_size {self.embed.embedding_dim}"
                    + (" (0 means hidden_size)" if not cfg.embedding_size else ""))
            self.head.weight = self.embed.weight

    def forward(self, ids: Tensor, state=None, lengths: Tensor | None = None):
        out, state = self.rnn(self.embed(ids), state, lengths)
        return self.head(out), state


def generate(model: nn.Module, vocab: Vocab, prime: Sequence[str], length: int,
             temperature: float = 1.0, greedy: bool = False,
             generator: torch.Generator | None = None) -> list[str]:
    """The `length` tokens that follow `prime`, one at a time, each fed back as the next input.

    model: a language model (ids (T, B) -> logits (T, B, V), state), run in eval mode without
    gradients. prime: at least one token; tokens outside the vocabulary read as its unknown
    token (an error if it has none), as the validation text does. Each token is drawn from
    softmax(logits / temperature) (lower: closer to the most likely token), or with greedy=True
    is the most likely one; never the unknown token, which names no text. generator: a CPU
    torch.Generator for the draws (None: torch's global generator), so that a seed fixes the
    sample."""
    if isinstance(prime, str) or not isinstance(prime, Sequence) or not prime:
        raise ValueError(f"prime: expected a non-empty list of tokens, "
                         f"got {_check.describe(prime)}")
    _check.positive_int("length", length, allow_zero=True)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or temperature <= 0:
        raise ValueError(f"temperature: expected a number > 0, got {_check.describe(temperature)}")
    device = next(model.parameters()).device
    ids = torch.tensor(vocab.encode(prime), device=device).view(-1, 1)
    was_training = model.training
    model.eval()
    picked: list[int] = []
    try:
        with torch.no_grad():
            logits, state = model(ids)
            while len(picked) < length:
                last = logits[-1, 0]
                if vocab.unk is not None:
                    last[vocab.unk_index] = -math.inf
                picked.append(_pick(last, temperature, greedy, generator))
                logits, state = model(ids.new_tensor([[picked[-1]]]), state)
    finally:
        model.train(was_training)
    return vocab.decode(picked)


def _pick(logits: Tensor, temperature: float, greedy: bool,
          generator: torch.Generator | None) -> int:
    """logits (V,) -> a token id."""
    if greedy:
        return int(logits.argmax())
    probs = torch.softmax(logits.float().cpu() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))

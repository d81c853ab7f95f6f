"""The `seq2seq` task: an attention encoder-decoder (`seq2seq.py`) trained by teacher forcing on
generated digit strings (`seq2seq_tasks.py`: copy, reverse, sort), tested on longer strings
than it was trained on, scored by exact match.

How it plugs into the trainer. A batch is the padded sources (S, B) with their lengths and the
targets (T, B) (the answer, EOS, then PAD); the model reads the targets too (teacher forcing:
logits[t] predicts targets[t] from targets[:t]), which the `model(inputs, lengths)` contract has
no place for, so the task overrides `Task.outputs` (one line) and the trainer, `evaluate` and
checkpoints stay as they are.

Exact match without decoding. Greedy decoding feeds back the argmax of each step. If the argmax
under teacher forcing equals the target at every step up to and including EOS, greedy decoding
is fed exactly the targets and so produces the answer and stops; conversely, if greedy decoding
produces the answer and then EOS, it was fed the targets and every argmax was right. So a
sequence's greedy output is an exact match exactly when its teacher-forced argmaxes are all
right (ties aside), and `loss` scores exact match from the logits it already has:
`sequence_accuracy`, summed over batches like every other metric. `predict` decodes greedily.

The splits: train (`train_size` strings of `min_len` .. `max_len` digits) and valid
(`valid_size`, the same lengths, for early stopping and best keeping) measure what was learnt;
test (`test_size` strings of `test_min_len` .. `test_max_len` digits) measures how far it
generalises to lengths never trained on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.models.network import build_cell, build_network
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.data.seq2seq_tasks import (BOS, DIGIT0, EOS, PAD, TASKS, VOCAB_SIZE, Seq2SeqBatch,
                                         make_batch, to_text)
from rnnkit.tasks.base import Batch, Encoded, Task, bucketed, cross_entropy_sums

SPLIT_SEEDS = {"train": 0, "valid": 1, "test": 2}  # each split drawn from its own generator


@dataclass(frozen=True)
class Seq2SeqData:
    """The [data] section. task: copy, reverse or sort. train_size and valid_size strings of
    min_len .. max_len digits; test_size strings of test_min_len .. test_max_len digits (longer,
    to test generalisation). seed: the generated data."""

    task: str = field(default="reverse", metadata={"choices": tuple(TASKS)})
    train_size: int = field(default=10_000, metadata={"min": 1})
    valid_size: int = field(default=500, metadata={"min": 1})
    test_size: int = field(default=1_000, metadata={"min": 1})
    min_len: int = field(default=1, metadata={"min": 1})
    max_len: int = field(default=10, metadata={"min": 1})
    test_min_len: int = field(default=11, metadata={"min": 1})
    test_max_len: int = field(default=15, metadata={"min": 1})
    seed: int = 0


class Seq2SeqTask(Task):
    """inputs (S, B) source token ids, lengths (B,); targets (T, B): the answer, EOS, PAD after
    it. The model: `Seq2Seq` with the [model] network as encoder (embedding_size, 0 meaning
    hidden_size) and one cell of the same kind as decoder."""

    name = "seq2seq"
    Data = Seq2SeqData
    monitor = "loss"
    metric_names = ("loss", "token_accuracy", "sequence_accuracy")
    output_batch_dim = 1

    def __init__(self, data: Seq2SeqData, model, state=None):
        super().__init__(data, model, state)
        for low, high in (("min_len", "max_len"), ("test_min_len", "test_max_len")):
            if getattr(data, high) < getattr(data, low):
                raise ConfigError(f"data.{high}: expected at least data.{low} "
                                  f"({getattr(data, low)}), got {getattr(data, high)}")
        self._splits: dict[str, Seq2SeqBatch] = {}

    def build_model(self):
        cfg = self.model_config
        embedding = cfg.embedding_size or cfg.hidden_size
        encoder = build_network(cfg, embedding)
        try:
            decoder = build_cell(cfg, embedding + encoder.output_size)
        except (TypeError, ValueError) as error:  # the cells name their argument
            raise ConfigError(f"model: {error}") from error
        return Seq2Seq(encoder, decoder, VOCAB_SIZE, VOCAB_SIZE, embedding, bos_index=BOS,
                       eos_index=EOS)

    # --- data ---------------------------------------------------------------------------------
    def split(self, split: str) -> Seq2SeqBatch:
        """A whole split as one padded batch (made on first use)."""
        if split not in self._splits:
            d = self.data
            size, low, high = {"train": (d.train_size, d.min_len, d.max_len),
                               "valid": (d.valid_size, d.min_len, d.max_len),
                               "test": (d.test_size, d.test_min_len, d.test_max_len)}[split]
            rng = random.Random(d.seed * len(SPLIT_SEEDS) + SPLIT_SEEDS[split])
            self._splits[split] = make_batch(d.task, size, low, high, rng)
        return self._splits[split]

    def size(self, split):
        return len(self.split(split).answers)

    def batches(self, split, batch_size, epoch, seed):
        """Batches of strings of similar lengths, cut to their longest source and target."""
        whole = self.split(split)
        target_lengths = (whole.targets != PAD).sum(0)
        for index in bucketed(whole.src_lengths, split, batch_size, epoch, seed):
            index = torch.as_tensor(index)
            lengths = whole.src_lengths[index]
            yield Batch(whole.src[:int(lengths.max()), index],
                        whole.targets[:int(target_lengths[index].max()), index], len(index),
                        target_dim=1, lengths=lengths)

    def outputs(self, model, batch):
        """Teacher forcing: logits (T, B, V) for the targets (T, B)."""
        return model(batch.inputs, batch.lengths, batch.targets)

    # --- scoring ------------------------------------------------------------------------------
    def loss(self, outputs, targets):
        """outputs (T, B, V) logits, targets (T, B). The sums: nll, correct and n over the
        target tokens (EOS included, PAD not); exact and sequences: the sequences whose every
        token is the argmax (their greedy decoding is an exact match, see the module docstring)."""
        real = targets != PAD
        loss, sums = cross_entropy_sums(outputs[real], targets[real])
        wrong = (outputs.argmax(-1) != targets) & real
        sums.update(exact=int((~wrong.any(0)).sum()), sequences=targets.shape[1])
        return loss, sums

    def metrics(self, sums):
        """loss: nats per target token; token_accuracy; sequence_accuracy: exact match."""
        return {"loss": sums["nll"] / sums["n"], "token_accuracy": sums["correct"] / sums["n"],
                "sequence_accuracy": sums["exact"] / sums["sequences"]}

    # --- raw input ----------------------------------------------------------------------------
    def encode(self, line, number=1):
        """A string of digits (spaces ignored), "31415" -> source ids (S, 1), labelled by the
        digits."""
        digits = [c for c in line if not c.isspace()]
        if not digits or not all(c in "0123456789" for c in digits):
            raise DataError(f"input line {number}: expected a string of digits 0-9 (e.g. "
                            f"'31415'), got {line!r}")
        return Encoded(torch.tensor([DIGIT0 + int(c) for c in digits]).view(-1, 1), digits)

    def predict(self, model, lines):
        """Each line, digits -> the greedy decoding's digits."""
        predictions = []
        for number, line in enumerate(lines, 1):
            src = self.encode(line, number).inputs
            # An answer is as long as its source; the margin lets a wrong model show it.
            tokens = model.greedy(src, max_len=2 * len(src) + 1)[0]
            predictions.append(to_text(tokens))
        return predictions

    def example_input(self, length=None):
        raise ConfigError("task: export traces one forward pass over an input, and the seq2seq "
                          "task's model decodes step by step, feeding back its own tokens; "
                          "expected a task other than seq2seq")

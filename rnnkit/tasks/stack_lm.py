"""The `stack_lm` task: Joulin & Mikolov's (2015) algorithmic patterns (`stack_tasks.py`) as a
next-symbol task the trainer trains like any other, for any cell of the [model] section (the
stack RNN is `cell = "stack"`), scored by the paper's metric.

How it plugs into the trainer. The paper grows the training range of n by one per epoch (its
curriculum), so the training data is a function of the epoch. A stream task cannot express
that (the trainer cuts one fixed stream into TBPTT windows, the same every epoch), but the
batches of a non-stream task are asked for by epoch (`Task.batches(split, B, epoch, seed)`), so
the curriculum is simply what `batches` draws: at epoch e, `train_size` fresh streams of
`sequences` sequences each, their sizes n uniform over `curriculum(e)`, generated from (data
seed, train seed, epoch), so a resumed run sees the data an uninterrupted one sees. Each stream
is one padded column with its length, trained by full BPTT: the state runs on from one sequence
into the next, as in the authors' one long stream, and must learn where each ends.

What is scored. The targets carry, beside the next symbol, the size n of the sequence that a
deterministic symbol counts toward (0 for symbols that are not deterministic), so `loss` adds up,
per n, the scored symbols and the wrong ones: sums that add over batches and processes. n is
right when none of its symbols is wrong, i.e. when every sequence of that size is correct, and
`accuracy` is the paper's share of the tested n that are right (`stack_tasks.paper_metric`).
`symbol_accuracy` is the share of deterministic symbols predicted right, `loss` the cross-entropy
per symbol over all symbols (what is trained, as the authors do).

The splits: valid holds, for each n of the training range (2 .. train_max_n), one stream of
`eval_sequences` sequences of that size; test the same for n = 2 .. test_max_n (the paper: train
on n < 20, test up to 60). One stream per n, in its own column, keeps evaluation batched; the
authors run one stream through all n, so there a mistake on small n can carry into larger ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from rnnkit.data.vocab import Vocab
from rnnkit.data import stack_tasks
from rnnkit.data.stack_tasks import TASKS, curriculum, paper_metric, stream, to_tensors
from rnnkit.tasks.stream import TokenTask
from rnnkit.tasks.base import Batch, Encoded, cross_entropy_sums

PADDING = -1  # the target after a stream's end: no symbol, so the loss skips it
MIN_N = stack_tasks.TRAIN_N.start


@dataclass(frozen=True)
class StackLMData:
    """The [data] section. task: one of stack_tasks.TASKS (anbn, anbncn, anbncndn, anb2n,
    anbmcnm, memorisation, binary_addition). Training: `train_size` streams per epoch, each of
    `sequences` sequences with n in 2 .. train_max_n, or with `curriculum` in the epoch's range
    (2 at the first epoch, one more size every `curriculum_epochs` epochs: more updates at each
    size). Valid: n = 2 .. train_max_n; test: n = 2 .. test_max_n; `eval_sequences` sequences
    of each size. seed: the valid and test data (the training data also follows train.seed)."""

    task: str = field(default="anbn", metadata={"choices": tuple(TASKS)})
    train_size: int = field(default=200, metadata={"min": 1})
    sequences: int = field(default=10, metadata={"min": 1})
    curriculum: bool = True
    curriculum_epochs: int = field(default=1, metadata={"min": 1})
    train_max_n: int = field(default=19, metadata={"min": MIN_N})
    test_max_n: int = field(default=60, metadata={"min": MIN_N})
    eval_sequences: int = field(default=10, metadata={"min": 1})
    seed: int = 0


class StackLMTask(TokenTask):
    """inputs (T, B) symbol ids, one stream per column; targets (T, B, 2): [..., 0] the next
    symbol (PADDING after the stream's end), [..., 1] the size n of the sequence it counts toward
    when it is deterministic, else 0."""

    name = "stack_lm"
    Data = StackLMData
    windowed = True  # `train.tbptt`: the authors' many small updates, through 50-step windows
    monitor = "loss"
    metric_names = ("loss", "symbol_accuracy", "accuracy")

    def __init__(self, data: StackLMData, model, state=None):
        super().__init__(data, model, state)
        self.task = TASKS[data.task]
        self.vocab = Vocab(list(self.task.alphabet), pad=None, unk=None)
        self.max_n = max(data.train_max_n, data.test_max_n)
        self._eval: dict[str, list[stack_tasks.Stream]] = {}

    # --- data ---------------------------------------------------------------------------------
    def train_sizes(self, epoch: int) -> range:
        """The sizes n drawn from at an epoch (0-based)."""
        if self.data.curriculum:
            return curriculum(epoch // self.data.curriculum_epochs,
                              limit=self.data.train_max_n + 1)
        return range(MIN_N, self.data.train_max_n + 1)

    def streams(self, split: str, epoch: int = 0, seed: int = 0) -> list[stack_tasks.Stream]:
        """The streams of a split; the training split's are new every (epoch, seed)."""
        if split == "train":
            rng = random.Random(f"{self.data.seed}-{seed}-{epoch}")
            sizes = self.train_sizes(epoch)
            return [stream(self.task, [rng.choice(sizes) for _ in range(self.data.sequences)],
                           rng) for _ in range(self.data.train_size)]
        if split not in self._eval:
            top = self.data.train_max_n if split == "valid" else self.data.test_max_n
            rng = random.Random(f"{self.data.seed}-{split}")
            self._eval[split] = [stream(self.task, [n] * self.data.eval_sequences, rng)
                                 for n in range(MIN_N, top + 1)]
        return self._eval[split]

    def size(self, split):
        if split == "train":
            return self.data.train_size
        return len(self.streams(split))

    def batches(self, split, batch_size, epoch, seed):
        """Padded batches of streams: training streams in the order drawn (already random),
        the last partial batch dropped; valid and test in order of n, whole."""
        streams = self.streams(split, epoch, seed)
        stop = len(streams) - len(streams) % batch_size if split == "train" else len(streams)
        for start in range(0, stop, batch_size):
            tensors = to_tensors(self.task, streams[start:start + batch_size])
            lengths = tensors["lengths"]
            steps = torch.arange(len(tensors["targets"]))[:, None]
            targets = tensors["targets"].masked_fill(steps >= lengths, PADDING)
            yield Batch(tensors["inputs"], torch.stack([targets, tensors["sizes"]], -1),
                        int(lengths.sum()), target_dim=1, lengths=lengths)

    # --- scoring ------------------------------------------------------------------------------
    def loss(self, outputs, targets):
        """outputs (T, B, V) logits; targets (T, B, 2) as the class docstring. The sums: nll,
        correct and n over all symbols; scored and scored_correct over deterministic ones;
        scored_n{n} and wrong_n{n} for every n in 1 .. max_n (the same keys in every batch, so
        that processes can add them up)."""
        ids, sizes = targets[..., 0], targets[..., 1]
        loss, sums = cross_entropy_sums(outputs[ids != PADDING], ids[ids != PADDING])
        scored = sizes > 0
        hit = outputs.argmax(-1) == ids
        per_n = torch.bincount(sizes[scored], minlength=self.max_n + 1).tolist()
        wrong = torch.bincount(sizes[scored & ~hit], minlength=self.max_n + 1).tolist()
        sums.update(scored=int(scored.sum()), scored_correct=int((scored & hit).sum()))
        for n in range(1, self.max_n + 1):
            sums[f"scored_n{n}"], sums[f"wrong_n{n}"] = per_n[n], wrong[n]
        return loss, sums

    def metrics(self, sums):
        """loss: nats per symbol; symbol_accuracy: over deterministic symbols; accuracy: the
        share of tested sizes n whose every sequence is correct (NaN when nothing was scored)."""
        tested = [n for n in range(1, self.max_n + 1) if sums[f"scored_n{n}"]]
        accuracy = (paper_metric(tested, [sums[f"wrong_n{n}"] == 0 for n in tested])
                    if tested else float("nan"))
        scored = sums["scored"]
        return {"loss": sums["nll"] / sums["n"],
                "symbol_accuracy": sums["scored_correct"] / scored if scored else float("nan"),
                "accuracy": accuracy}

    # --- text ---------------------------------------------------------------------------------
    def tokens_of(self, text):
        """Every symbol is one character; spaces are ignored."""
        return [c for c in text if not c.isspace()]

    def join(self, tokens):
        return "".join(tokens)

    def encode(self, line, number=1):
        """A line, a stream's beginning -> ids (T + 1, 1): read after `task.end` as in training
        (`stack_tasks.to_tensors`), so the first step is that end symbol."""
        encoded = super().encode(line, number)
        end = torch.tensor(self.vocab.encode([self.task.end])).view(1, 1)
        return Encoded(torch.cat([end, encoded.inputs]), [self.task.end, *encoded.labels])

    @property
    def start_token(self):
        """Generation starts where every stream does: after an end symbol."""
        return self.task.end

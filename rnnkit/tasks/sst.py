"""Sentence classification on the Stanford Sentiment Treebank (Socher et al. 2013): the words of
each tree's leaves in, the root's sentiment out; accuracy on whole sentences.

"fine": the five classes 0..4; "binary": negative (0, 1) vs positive (3, 4), sentences with a
neutral root dropped (`rnnkit.data.binary_view`). With `phrases`, training also sees every
labelled phrase (subtree) of the training trees, as most of the literature does. A fine-grained
model also reports `binary_accuracy`: its predictions read as binary on the non-neutral
sentences (`binary_hits`), so one model gives both of the literature's numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.data import (Tree, Vocab, binary_label, binary_view, pad_sequences,
                         read_trees)
from rnnkit.errors import DataError
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.names import SPLITS
from rnnkit.tasks.base import (Batch, Encoded, Task, bucketed, cross_entropy_sums,
                                read_data)

FILES = {"train": "train.txt", "valid": "dev.txt", "test": "test.txt"}
LABELS = {"fine": ("very negative", "negative", "neutral", "positive", "very positive"),
          "binary": ("negative", "positive")}
EXPORT_LENGTH = 20  # the words of an exported model's input unless export asks for others
PREDICT_BATCH = 256  # sentences per forward pass in `predict`


@dataclass(frozen=True)
class SSTData:
    """The [data] section. path: the folder of the treebank's train.txt, dev.txt and test.txt
    (one tree per line, the standard trainDevTestTrees_PTB release). granularity: "fine" or
    "binary". phrases: also train on each distinct labelled phrase of the training trees once
    (binary: the non-neutral ones), with its subtree's label; validation and test stay whole
    sentences. min_freq: training words seen fewer times are unknown. lowercase: fold words to
    lower case, in training and prediction alike. encoding: the files' (default utf-8)."""

    path: str
    granularity: str = field(default="binary", metadata={"choices": tuple(LABELS)})
    phrases: bool = False
    min_freq: int = field(default=1, metadata={"min": 1})
    lowercase: bool = True
    encoding: str = field(default="utf-8", metadata={"encoding": True})


class Examples(NamedTuple):
    """A split, encoded: ids[i] (T_i,) token ids, labels (N,), lengths (N,)."""

    ids: list[Tensor]
    labels: Tensor
    lengths: Tensor


def sentence_view(trees: list[Tree], granularity: str) -> list[Tree]:
    """The sentences of a granularity: all of them ("fine"), or the non-neutral ones relabelled
    by `binary_label` ("binary", `binary_view`)."""
    return binary_view(trees) if granularity == "binary" else trees


def binary_hits(logits: Tensor, labels: Tensor) -> tuple[int, int]:
    """A fine-grained prediction read as a binary one, as Looks et al. (2017) report the binary
    accuracy of their fine-grained Tree-LSTM: logits (N, 5), labels (N,) fine classes (any
    other value, such as an ignore index, counts as unlabelled) -> (hits, count) over the
    non-neutral labels (split as `binary_label` splits them), where the prediction is positive
    when p(3) + p(4) > p(0) + p(1)."""
    probs = logits.softmax(-1)
    positive = probs[:, 3:].sum(-1) > probs[:, :2].sum(-1)
    labelled = (labels >= 0) & (labels < len(LABELS["fine"])) & (labels != 2)
    return int((positive == (labels > 2))[labelled].sum()), int(labelled.sum())


def labelled_examples(trees: list[Tree], granularity: str,
                      phrases: bool) -> list[tuple[list[str], int]]:
    """(words, label) of each sentence (binary: neutral ones dropped); with `phrases`, of each
    distinct phrase with a label instead (the sentences among them). A phrase's words fix its
    label in SST, so the first one met is kept."""
    if not phrases:
        sentences = sentence_view(trees, granularity)
        return [(tree.words(), tree.label) for tree in sentences]
    if granularity == "binary":
        # The phrases of neutral sentences count too: only neutral phrases are left out.
        trees = [tree.map_labels(binary_label) for tree in trees]
    labels: dict[tuple[str, ...], int] = {}
    for tree in trees:
        for node in tree.postorder():
            if node.label is not None:
                labels.setdefault(tuple(node.words()), node.label)
    return [(list(words), label) for words, label in labels.items()]


class SSTTask(Task):
    name = "sst"
    Data = SSTData
    monitor = "accuracy"

    def __init__(self, data: SSTData, model, state=None):
        super().__init__(data, model, state)
        self.labels = LABELS[data.granularity]
        self._splits: dict[str, Examples] = {}
        if state is not None:
            self.vocab = Vocab.from_dict(state["vocab"], source="the checkpoint's vocabulary")
            return
        # Training: read every split now, so that a missing or bad file stops the run before
        # anything is written.
        trees = {split: self._read(split) for split in SPLITS}
        sentences = labelled_examples(trees["train"], data.granularity, phrases=False)
        counts = Counter(word for words, _ in sentences for word in self.tokens(words))
        self.vocab = Vocab.from_counts(counts, min_freq=data.min_freq)
        self._splits = {split: self._encode(split, trees[split]) for split in SPLITS}

    def _read(self, split: str) -> list[Tree]:
        return read_data(lambda path: read_trees(path, encoding=self.data.encoding),
                         Path(self.data.path) / FILES[split])

    def tokens(self, words: list[str]) -> list[str]:
        return [word.lower() for word in words] if self.data.lowercase else words

    def _encode(self, split: str, trees: list[Tree]) -> Examples:
        examples = labelled_examples(trees, self.data.granularity,
                                     self.data.phrases and split == "train")
        ids = [torch.tensor(self.vocab.encode(self.tokens(words))) for words, _ in examples]
        return Examples(ids, torch.tensor([label for _, label in examples]),
                        torch.tensor([len(i) for i in ids]))

    def split(self, name: str) -> Examples:
        """A split's examples, read on first use (a restored task reads only what it needs)."""
        if name not in self._splits:
            self._splits[name] = self._encode(name, self._read(name))
        return self._splits[name]

    @property
    def metric_names(self):
        return ("loss", "accuracy") + self._binary_metric()

    def _binary_metric(self) -> tuple[str, ...]:
        return ("binary_accuracy",) if self.data.granularity == "fine" else ()

    def _add_binary_hits(self, sums: dict, logits: Tensor, labels: Tensor) -> dict:
        """sums with "binary_correct" and "binary_n" of `binary_hits` added (fine only)."""
        if self._binary_metric():
            sums["binary_correct"], sums["binary_n"] = binary_hits(logits, labels)
        return sums

    def _binary_accuracy(self, sums: dict) -> dict[str, float]:
        if not self._binary_metric():
            return {}
        hits, count = sums["binary_correct"], sums["binary_n"]
        # NaN when nothing was counted: a training batch of neutral sentences only
        return {"binary_accuracy": hits / count if count else float("nan")}

    def state_dict(self):
        return {"vocab": self.vocab.to_dict()}

    def build_model(self):
        return SequenceClassifier(self.model_config, len(self.vocab), len(self.labels))

    def size(self, split):
        return len(self.split(split).ids)

    def batches(self, split, batch_size, epoch, seed):
        """Padded batches (T, B) of sentences of similar lengths, with their lengths."""
        examples = self.split(split)
        for index in bucketed(examples.lengths, split, batch_size, epoch, seed):
            padded = pad_sequences([examples.ids[i] for i in index])
            yield Batch(padded.data, examples.labels[index], len(index),
                        lengths=padded.lengths)

    def loss(self, outputs, targets):
        loss, sums = cross_entropy_sums(outputs, targets)
        return loss, self._add_binary_hits(sums, outputs, targets)

    def metrics(self, sums):
        return {"loss": sums["nll"] / sums["n"], "accuracy": sums["correct"] / sums["n"],
                **self._binary_accuracy(sums)}

    def encode(self, line, number=1):
        """A sentence, tokenised as the treebank is (words separated by spaces, e.g. "it 's not
        a bad film .") -> ids (T, 1), labelled by its words."""
        words = line.split()
        if not words:
            raise DataError(f"input line {number}: expected a sentence (words separated by "
                            f"spaces), got {line!r}")
        return Encoded(torch.tensor(self.vocab.encode(self.tokens(words))).view(-1, 1), words)

    def predict(self, model, lines):
        """Each line, a sentence as `encode` reads it -> its label's name."""
        ids = [self.encode(line, number).inputs[:, 0] for number, line in enumerate(lines, 1)]
        predictions = []
        for start in range(0, len(ids), PREDICT_BATCH):
            padded = pad_sequences(ids[start:start + PREDICT_BATCH])
            with torch.no_grad():
                logits, _ = model(padded.data, lengths=padded.lengths)
            predictions += [self.labels[k] for k in logits.argmax(-1).tolist()]
        return predictions

    def example_input(self, length=None):
        return torch.randint(len(self.vocab), (length or EXPORT_LENGTH, 1),
                             generator=torch.Generator().manual_seed(0))

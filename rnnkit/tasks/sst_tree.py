"""Sentiment over parse trees (Socher et al. 2013; Tai et al. 2015): a tree cell composes the
words of each SST tree bottom-up, and a softmax classifies every node, so every labelled phrase
is a training signal; the metric is the root's accuracy (`accuracy`), beside every labelled
node's (`phrase_accuracy`) and, for a fine-grained model, its roots read as binary
(`binary_accuracy`, as `sst`'s).

The task `sst_tree` reads the treebank as `sst` does (`tasks/sst.py`: files, granularity,
vocabulary), but keeps the trees. Its batches carry a `TreeBatch` (`layers/tree.py`) instead of
a (T, B) tensor; `Task.outputs` hands it to the model, so the trainer is the one every task
uses. Targets: (N, 2) per node in the batch's row order, its label (IGNORE where it has none:
binary's neutral phrases) and whether it is a root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from rnnkit.cells.tree import TREE_CELLS
from rnnkit.data import Tree, parse_tree
from rnnkit.data.errors import DataFormatError
from rnnkit.errors import ConfigError, DataError
from rnnkit.layers.tree import IGNORE, batch_trees, wrong_arity
from rnnkit.models.tree_classifier import TreeClassifier
from rnnkit.tasks.sst import FILES, LABELS, PREDICT_BATCH, SSTTask, sentence_view
from rnnkit.tasks.base import Batch, Encoded, shuffled


@dataclass
class TreeTaskBatch(Batch):
    """A Batch whose `inputs` is a TreeBatch; `count` is its number of trees."""

    @property
    def size(self) -> int:
        return self.inputs.size

    def part(self, rank: int, world: int) -> TreeTaskBatch:
        if world != 1:
            raise ConfigError("sst_tree: data-parallel training (torchrun) is not supported: "
                              "a batch of trees has no batch dimension to slice")
        return self

    def to(self, device) -> TreeTaskBatch:
        return TreeTaskBatch(self.inputs.to(device), self.targets.to(device), self.count)


@dataclass(frozen=True)
class SSTTreeData:
    """The [data] section, as `sst`'s without `phrases` (every labelled node is trained on).
    path: the folder of train.txt, dev.txt, test.txt; granularity: "fine" or "binary";
    min_freq: rarer training words are unknown; lowercase: fold words to lower case;
    encoding: the files' (default utf-8)."""

    path: str
    granularity: str = field(default="binary", metadata={"choices": tuple(LABELS)})
    min_freq: int = field(default=1, metadata={"min": 1})
    lowercase: bool = True
    encoding: str = field(default="utf-8", metadata={"encoding": True})


class SSTTreeTask(SSTTask):
    name = "sst_tree"
    Data = SSTTreeData
    monitor = "accuracy"

    @property
    def metric_names(self):
        return ("loss", "accuracy", "phrase_accuracy") + self._binary_metric()

    def _encode(self, split: str, trees: list[Tree]) -> list[tuple[Tree, list[int]]]:
        """A split's trees (binary: neutral roots dropped, neutral nodes unlabelled) with their
        leaves' token ids. A tree the cell cannot compose is a DataError naming its file and
        its number there (blank lines not counted)."""
        arity = TREE_CELLS[self.model_config.tree_cell].arity
        for number, tree in enumerate(trees, start=1):
            bad = wrong_arity(tree, arity)
            if bad is not None:
                raise DataError(f"data.path: {Path(self.data.path) / FILES[split]}, tree "
                                f"{number}: the {self.model_config.tree_cell} cell takes "
                                f"{arity} children per inner node, got a node with {bad}")
        return [(tree, self.vocab.encode(self.tokens(tree.words())))
                for tree in sentence_view(trees, self.data.granularity)]

    def cell_name(self):
        return self.model_config.tree_cell

    def build_model(self):
        return TreeClassifier(self.model_config, len(self.vocab), len(self.labels))

    def size(self, split):
        return len(self.split(split))

    def _batch(self, examples: list[tuple[Tree, list[int]]]) -> TreeTaskBatch:
        trees, tokens = zip(*examples)
        structure = batch_trees(trees, tokens, TREE_CELLS[self.model_config.tree_cell].arity)
        is_root = torch.zeros(len(structure.labels), dtype=torch.long)
        is_root[structure.roots] = 1
        return TreeTaskBatch(structure, torch.stack([structure.labels, is_root], -1),
                             len(trees))

    def batches(self, split, batch_size, epoch, seed):
        """Batches of trees: the training split shuffled by (seed, epoch), its last partial
        batch dropped; the others in order and whole."""
        examples = self.split(split)
        if split == "train":
            order = shuffled(len(examples), batch_size, epoch, seed)
        else:
            order = (range(start, min(start + batch_size, len(examples)))
                     for start in range(0, len(examples), batch_size))
        for index in order:
            yield self._batch([examples[int(i)] for i in index])

    def outputs(self, model, batch):
        return model(batch.inputs)[0]

    def loss(self, outputs: Tensor, targets: Tensor):
        """outputs (N, C), targets (N, 2) -> (the mean cross-entropy over labelled nodes, sums:
        "nll" and "n" over labelled nodes, "correct" among them, "root_correct" of "roots";
        fine: the roots' `binary_hits` too)."""
        labels, is_root = targets[:, 0], targets[:, 1].bool()
        loss = nn.functional.cross_entropy(outputs, labels, ignore_index=IGNORE)
        hits = outputs.argmax(-1) == labels
        labelled = int((labels != IGNORE).sum())
        sums = {"nll": loss.item() * labelled, "n": labelled, "correct": hits.sum().item(),
                "root_correct": hits[is_root].sum().item(), "roots": int(is_root.sum())}
        return loss, self._add_binary_hits(sums, outputs[is_root], labels[is_root])

    def metrics(self, sums):
        return {"loss": sums["nll"] / sums["n"], "accuracy": sums["root_correct"] / sums["roots"],
                "phrase_accuracy": sums["correct"] / sums["n"], **self._binary_accuracy(sums)}

    def _parse(self, line: str, number: int) -> Tree:
        try:
            return parse_tree(line, num_labels=len(LABELS["fine"]), source="input",
                              line=number)
        except DataFormatError as error:
            raise DataError(str(error)) from error

    def encode(self, line, number=1):
        """A tree in SST's brackets (its labels are read and ignored) -> its leaves' ids
        (T, 1), labelled by their words."""
        words = self._parse(line, number).words()
        return Encoded(torch.tensor(self.vocab.encode(self.tokens(words))).view(-1, 1), words)

    def predict(self, model, lines):
        """Each line a tree in SST's brackets -> the label name of its root."""
        examples = [(tree, self.vocab.encode(self.tokens(tree.words())))
                    for tree in (self._parse(line, n) for n, line in enumerate(lines, 1))]
        predictions = []
        for start in range(0, len(examples), PREDICT_BATCH):
            batch = self._batch(examples[start:start + PREDICT_BATCH]).inputs
            with torch.no_grad():
                logits, _ = model(batch)
            predictions += [self.labels[k] for k in logits[batch.roots].argmax(-1).tolist()]
        return predictions

    def example_input(self, length=None):
        raise ConfigError("sst_tree: export takes a (T, 1) sequence; a tree model reads trees")

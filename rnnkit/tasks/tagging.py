"""Sequence tagging on CoNLL column files (CoNLL-2003 named entities, chunking): a tag for every
token, scored as conlleval scores it: entity-level precision, recall and F1 (a predicted
entity counts when its span and type are exactly a gold one's), and token accuracy.

The tags are read in any of IOB1, IOB2, IOBES and converted to the configured scheme ("BIO",
i.e. IOB2, or "IOBES", which Lample et al. 2016 found slightly better); the model predicts in
that scheme and `predict` writes it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.data import (ChunkCounts, TaggedSentence, Vocab, chunk_counts, chunk_scores,
                         convert, pad_sequences, parse_conll, read_conll)
from rnnkit.data.errors import DataFormatError
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.tagger import Tagger, check_config
from rnnkit.names import SPLITS
from rnnkit.tasks.base import (Batch, Encoded, Task, bucketed, epoch_generator,
                                read_data)

SCHEMES = {"BIO": "IOB2", "IOBES": "IOBES"}  # the config's name -> data.tag_schemes' name
PREFIXES = {"BIO": "BI", "IOBES": "BIES"}
PAD_TAG = -100  # the target at padded positions
EXPORT_LENGTH = 20  # the tokens of an exported model's input unless export asks for others
EXPORT_WORD_LENGTH = 8  # the characters per token of that input (with a character encoder)
PREDICT_BATCH = 256  # sentences per forward pass in `predict`


@dataclass(frozen=True)
class TaggingData:
    """The [data] section. path: the folder of the CoNLL files `train_file`, `valid_file`,
    `test_file` (one token per line, whitespace-separated columns, a blank line after each
    sentence, -DOCSTART- lines skipped). token_column, tag_column: which columns (negative ones
    count from the right). num_columns: how many every line has (0: as many as the first
    line). scheme: "BIO" or "IOBES", the tags the model learns (read in any scheme). min_freq:
    training words seen fewer times are unknown. lowercase: fold words to lower case;
    zero_digits: read every digit 0-9 in a word as 0 (Lample et al. 2016). Both change the word
    lookup only: the character encoder sees the token as written. singleton_unk: in each
    training batch, each occurrence of a word seen once in training is read as <unk> with this
    probability (Lample et al. 2016 use 0.5 with min_freq = 1), so that the <unk> embedding is
    trained on words like the rare ones of the test set while the singletons keep their own.
    encoding: the files' text encoding (default utf-8; CoNLL-2002 is latin-1)."""

    path: str
    train_file: str = "train.txt"
    valid_file: str = "valid.txt"
    test_file: str = "test.txt"
    token_column: int = 0
    tag_column: int = -1
    num_columns: int = field(default=0, metadata={"min": 0})
    scheme: str = field(default="IOBES", metadata={"choices": tuple(SCHEMES)})
    min_freq: int = field(default=1, metadata={"min": 1})
    lowercase: bool = False
    zero_digits: bool = False
    singleton_unk: float = field(default=0.0, metadata={"min": 0.0, "below": 1.0})
    encoding: str = field(default="utf-8", metadata={"encoding": True})


class Examples(NamedTuple):
    """A split, encoded: inputs[i] (T_i, 1 + C_i) word and character ids (see Tagger), tags[i]
    (T_i,) tag ids, lengths (N,)."""

    inputs: list[Tensor]
    tags: list[Tensor]
    lengths: Tensor


def tag_names(types, scheme: str) -> list[str]:
    """Every tag of `scheme` ("BIO" or "IOBES") over the entity types: "O", then by type and
    prefix ("B-LOC", "I-LOC", ...), so that any conversion's output is among them."""
    return ["O"] + [f"{prefix}-{kind}" for kind in sorted(types) for prefix in PREFIXES[scheme]]


def entity_types(tags) -> set[str | None]:
    """The entity types of the tags ("B-PER" -> "PER"), "O" left out; None for a tag that is
    not PREFIX-TYPE in any scheme."""
    types = set()
    for tag in set(tags) - {"O"}:
        prefix, dash, kind = tag.partition("-")
        types.add(kind if dash and kind and prefix in tuple(PREFIXES["IOBES"]) else None)
    return types


def readable_tags(types) -> set[str]:
    """The tags a file may hold for these entity types: those of any scheme (IOB1, IOB2 and
    IOBES use the prefixes B, I, E, S)."""
    return set(tag_names(types, "IOBES"))


def pad_inputs(inputs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Sentences (T_i, 1 + C_i) -> (T, B, 1 + C) with C the longest word, and lengths (B,)."""
    width = max(x.shape[1] for x in inputs)
    padded = pad_sequences([nn.functional.pad(x, (0, width - x.shape[1])) for x in inputs])
    return padded.data, padded.lengths


class Scored(NamedTuple):
    """What `TaggingTask.outputs` gives `loss`: emissions (T, B, K) and the model's head."""

    emissions: Tensor
    head: nn.Module


class TaggingTask(Task):
    name = "tagging"
    Data = TaggingData
    unit = "tokens"
    monitor = "f1"
    metric_names = ("loss", "accuracy", "precision", "recall", "f1")
    output_batch_dim = 1

    def __init__(self, data: TaggingData, model, state=None):
        super().__init__(data, model, state)
        check_config(model)
        if data.singleton_unk and data.min_freq != 1:
            raise ConfigError(f"data.singleton_unk: needs data.min_freq = 1 (the words seen once "
                              f"in the vocabulary), got min_freq = {data.min_freq}")
        self._splits: dict[str, Examples] = {}
        self._singletons: Tensor | None = None  # word ids seen once in training (singleton_unk)
        if state is not None:
            self.words, self.chars, self.tags = (
                Vocab.from_dict(state[key], source=f"the checkpoint's {key} vocabulary")
                for key in ("words", "chars", "tags"))
            return
        # Training: read every split now, so that a missing or bad file stops the run before
        # anything is written. The tag set is every tag of the training file's entity types.
        train = self._read("train")
        types = entity_types(tag for sentence in train for tag in sentence.tags)
        allowed = readable_tags(types - {None})
        if None in types:  # a malformed tag: read again to name its line
            self._read("train", allowed)
        sentences = {"train": train, **{split: self._read(split, allowed)
                                         for split in SPLITS[1:]}}
        words = Counter(self.word(token) for s in train for token in s.tokens)
        self.words = Vocab.from_counts(words, min_freq=data.min_freq)
        self.chars = Vocab.from_counts(Counter(char for s in train for token in s.tokens
                                               for char in token))
        self.tags = Vocab(tag_names(types, data.scheme), pad=None, unk=None)
        self._splits = {split: self._encode(sentences[split]) for split in SPLITS}

    # --- data -------------------------------------------------------------------------------
    def _read(self, split: str, tag_set=None) -> list[TaggedSentence]:
        data = self.data
        path = Path(data.path) / getattr(data, f"{split}_file")
        return read_data(lambda p: read_conll(p, token_column=data.token_column,
                                              tag_column=data.tag_column,
                                              num_columns=data.num_columns or None,
                                              tag_set=tag_set, encoding=data.encoding), path)

    def word(self, token: str) -> str:
        """The form of a token that the word vocabulary holds."""
        if self.data.lowercase:
            token = token.lower()
        return re.sub("[0-9]", "0", token) if self.data.zero_digits else token

    def token_ids(self, tokens: list[str]) -> Tensor:
        """A sentence's tokens -> (T, 1 + C): word ids, then the characters of each token (C the
        longest token; none without a character encoder)."""
        words = self.words.encode(self.word(token) for token in tokens)
        if self.model_config.char_encoder == "none":
            return torch.tensor(words).unsqueeze(1)
        chars = [self.chars.encode(token) for token in tokens]
        width = max(map(len, chars))
        # lists, then one tensor: a tensor per token would cost more than the rest of reading
        return torch.tensor([[word, *spelled, *[0] * (width - len(spelled))]
                             for word, spelled in zip(words, chars)])

    def _encode(self, sentences: list[TaggedSentence]) -> Examples:
        scheme = SCHEMES[self.data.scheme]
        inputs = [self.token_ids(s.tokens) for s in sentences]
        tags = [torch.tensor(self.tags.encode(convert(s.tags, scheme))) for s in sentences]
        return Examples(inputs, tags, torch.tensor([len(t) for t in tags]))

    def split(self, name: str) -> Examples:
        """A split's examples, read on first use (a restored task reads only what it needs)."""
        if name not in self._splits:
            types = entity_types(self.tags.tokens)
            self._splits[name] = self._encode(self._read(name, readable_tags(types)))
        return self._splits[name]

    def state_dict(self):
        return {"words": self.words.to_dict(), "chars": self.chars.to_dict(),
                "tags": self.tags.to_dict()}

    # --- model and batches ------------------------------------------------------------------
    def build_model(self):
        """A fresh Tagger; the "hybrid" head counts the training tags when the task read them
        (a restored model gets its counts from the checkpoint)."""
        model = Tagger(self.model_config, len(self.words), len(self.chars), self.tags.tokens,
                       self.data.scheme)
        if self.model_config.head == "hybrid" and "train" in self._splits:
            tags = pad_sequences(self._splits["train"].tags, padding_value=PAD_TAG)
            model.head.count(tags.data, tags.mask)
        return model

    def size(self, split):
        return len(self.split(split).tags)

    def batches(self, split, batch_size, epoch, seed):
        """Padded batches of sentences of similar lengths: inputs (T, B, 1 + C), targets
        (T, B) tag ids, PAD_TAG after each sentence's end."""
        examples = self.split(split)
        # singleton_unk draws from a stream of its own, apart from the batch order's and like it
        # a function of (seed, epoch) alone: a resumed run hides what an uninterrupted one does
        generator = epoch_generator(seed + 1, epoch)
        for index in bucketed(examples.lengths, split, batch_size, epoch, seed):
            inputs, lengths = pad_inputs([examples.inputs[i] for i in index])
            targets = pad_sequences([examples.tags[i] for i in index], padding_value=PAD_TAG)
            if split == "train" and self.data.singleton_unk:
                inputs = self.hide_singletons(inputs, generator)
            yield Batch(inputs, targets.data, int(lengths.sum()), target_dim=1, lengths=lengths)

    def hide_singletons(self, inputs: Tensor, generator: torch.Generator) -> Tensor:
        """inputs (T, B, 1 + C) -> the same with each word id of a training singleton replaced
        by <unk>'s with probability data.singleton_unk (padding and characters untouched)."""
        if self._singletons is None:
            ids = torch.cat([x[:, 0] for x in self.split("train").inputs])
            counts = torch.bincount(ids, minlength=len(self.words))
            self._singletons = (counts == 1).nonzero().squeeze(1)
        words = inputs[..., 0]
        hide = torch.isin(words, self._singletons) & (
            torch.rand(words.shape, generator=generator) < self.data.singleton_unk)
        inputs = inputs.clone()
        inputs[..., 0] = words.masked_fill(hide, self.words.unk_index)
        return inputs

    # --- loss and metrics -------------------------------------------------------------------
    def outputs(self, model, batch):
        """The emissions with the head that scores and decodes them: the head holds parameters
        of its own (a CRF's transitions), so `loss` needs it beside the emissions."""
        return Scored(model(batch.inputs, lengths=batch.lengths)[0], model.head)

    def loss(self, outputs, targets):
        """outputs: `Scored` (emissions (T, B, K), head); targets (T, B). The loss is the
        head's (summed over the batch) per token. The sums: "nll" the head's loss, "n" the
        tokens, "right" those tagged right, and conlleval's chunk counts (`ChunkCounts`)."""
        emissions, head = outputs
        mask = targets != PAD_TAG
        total = head.loss(emissions, targets, mask)
        lengths = mask.sum(0).tolist()
        gold = [row[:length] for row, length in zip(targets.t().tolist(), lengths)]
        counts, right = ChunkCounts(0, 0, 0), 0
        for predicted, truth in zip(head.decode(emissions.detach(), mask), gold):
            right += sum(p == t for p, t in zip(predicted, truth))
            counts += chunk_counts(self.tags.decode(truth), self.tags.decode(predicted))
        n = sum(lengths)
        return total / n, {"nll": total.item(), "n": n, "right": right, **counts._asdict()}

    def metrics(self, sums):
        """loss: the head's loss per token; accuracy: tokens tagged right; precision, recall,
        F1 of the entities as conlleval computes them (fractions where it prints percents)."""
        counts = ChunkCounts(*(int(sums[key]) for key in ChunkCounts._fields))
        precision, recall, f1 = chunk_scores(counts)
        return {"loss": sums["nll"] / sums["n"], "accuracy": sums["right"] / sums["n"],
                "precision": precision, "recall": recall, "f1": f1}

    # --- raw input --------------------------------------------------------------------------
    def encode(self, line, number=1):
        """A sentence, its tokens separated by whitespace -> inputs (T, 1, 1 + C) as
        `token_ids`, labelled by its tokens."""
        tokens = line.split()
        if not tokens:
            raise DataError(f"input line {number}: expected a sentence (tokens separated by "
                            f"spaces), got {line!r}")
        return Encoded(self.token_ids(tokens).unsqueeze(1), tokens)

    def predict(self, model, lines):
        """Each line, a sentence as `encode` reads it -> its tagging, one "token<TAB>tag" line
        per token and a line break after the last (so that the command line's output has a
        blank line after each sentence, as CoNLL files do)."""
        sentences = [self.encode(line, number) for number, line in enumerate(lines, 1)]
        predictions = []
        for start in range(0, len(sentences), PREDICT_BATCH):
            chunk = sentences[start:start + PREDICT_BATCH]
            inputs, lengths = pad_inputs([encoded.inputs[:, 0] for encoded in chunk])
            mask = torch.arange(inputs.shape[0])[:, None] < lengths[None, :]
            with torch.no_grad():
                emissions, _ = model(inputs, lengths=lengths)
            for encoded, tags in zip(chunk, model.head.decode(emissions, mask)):
                predictions.append("".join(f"{token}\t{tag}\n" for token, tag in
                                           zip(encoded.labels, self.tags.decode(tags))))
        return predictions

    def conll_lines(self, text: str, source) -> list[str]:
        """CoNLL text (`rnnkit predict --conll`) -> one line per sentence for `predict`: its
        tokens, from the data's token column, joined by spaces. Other columns may be absent."""
        column = self.data.token_column
        try:
            sentences = parse_conll(text, source, token_column=column, tag_column=column)
        except DataFormatError as error:
            raise DataError(str(error)) from error
        return [" ".join(sentence.tokens) for sentence in sentences]

    def example_input(self, length=None):
        """(T, 1, 1 + C): random known words, each of EXPORT_WORD_LENGTH random characters
        with a character encoder."""
        generator = torch.Generator().manual_seed(0)
        T = length or EXPORT_LENGTH
        words = torch.randint(2, len(self.words), (T, 1, 1), generator=generator)
        if self.model_config.char_encoder == "none":
            return words
        chars = torch.randint(2, len(self.chars), (T, 1, EXPORT_WORD_LENGTH),
                              generator=generator)
        return torch.cat([words, chars], dim=2)

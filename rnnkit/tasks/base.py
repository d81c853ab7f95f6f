"""What the trainer needs from a task, so that new tasks (classifiers, taggers, language models
on real data) plug in without touching the training loop.

A task owns its data and its head: it builds its model from the [model] config section, yields
the batches of a split, turns outputs and targets into a loss and metric sums, says how to
read one line of raw input (`encode`, behind `rnnkit predict` and `rnnkit explain`), how to
predict from it, and what an exported model takes (`rnnkit export`).

Every model a task builds follows one contract:
`model(inputs, state=None, lengths=None) -> (outputs, state)`, inputs time-major (T, B, ...),
lengths as `Batch.lengths`, state in torch's layout (what `rnnkit.LSTM` returns), so the trainer
can carry it across the windows of a stream (truncated BPTT). The one exception goes through
`Task.outputs`, the single place where the trainer and `evaluate` call a model on a batch: a
sequence-to-sequence model reads its targets too (teacher forcing), which the contract has no
argument for, so its task overrides `outputs` rather than the trainer growing a second loop.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.data.batching import BucketBatchSampler
from rnnkit.data.errors import DataFormatError
from rnnkit.errors import DataError
from rnnkit.models.network import ModelConfig



class Encoded(NamedTuple):
    """One line of raw input as the model reads it. inputs: (T, 1, ...), a batch of one
    sequence; labels: (T,) what the model reads at each step, as text (for plots)."""

    inputs: Tensor
    labels: list[str]


@dataclass
class Batch:
    """inputs: (T, B, ...) time-major; targets: B along `target_dim`; count: what throughput
    counts in it (sequences or tokens, the task's `unit`); lengths: (B,) int64 on the CPU, the
    true length of each padded sequence, or None when all are T long."""

    inputs: Tensor
    targets: Tensor
    count: int
    target_dim: int = 0
    lengths: Tensor | None = None

    @property
    def size(self) -> int:
        return self.inputs.shape[1]

    def part(self, rank: int, world: int) -> Batch:
        """The rank-th of `world` equal slices along the batch (data-parallel training)."""
        n = self.size // world
        lengths = None if self.lengths is None else self.lengths.narrow(0, rank * n, n)
        return Batch(self.inputs.narrow(1, rank * n, n),
                     self.targets.narrow(self.target_dim, rank * n, n),
                     self.count // world, self.target_dim, lengths)

    def to(self, device) -> Batch:
        """Inputs and targets on `device`; lengths stay on the CPU, where layers take them."""
        return Batch(self.inputs.to(device), self.targets.to(device), self.count,
                     self.target_dim, self.lengths)


class Task(abc.ABC):
    """A task. Subclasses set the class attributes and implement the methods.

    name: the config's `task`. Data: the dataclass of its [data] section. unit: "sequences" or
    "tokens" (what throughput counts). stream: False when a split is independent batches of
    whole sequences; True when it is one long stream per batch column, which the trainer cuts
    into truncated-BPTT windows and carries the state across. windowed: a non-stream task whose
    training batches are streams too (the model takes and returns a state, `loss` reads
    (T, B, ...) targets), so that `train.tbptt` may cut each batch into windows. monitor: the
    validation metric for early stopping and best keeping (metrics whose names end in one of
    MAXIMISED are maximised, others minimised); metric_names: what `metrics` returns.
    output_batch_dim: where the batch is in the model's outputs (for export)."""

    name: ClassVar[str]
    Data: ClassVar[type]
    unit: ClassVar[str] = "sequences"
    stream: ClassVar[bool] = False
    windowed: ClassVar[bool] = False
    monitor: ClassVar[str] = "loss"
    metric_names: ClassVar[tuple[str, ...]] = ("loss",)
    output_batch_dim: ClassVar[int] = 0

    def __init__(self, data, model: ModelConfig, state: dict | None = None):
        """state: what `state_dict()` returned when the model was trained (a vocabulary); with
        it the task can build, predict and export without reading its data."""
        self.data, self.model_config = data, model

    def cell_name(self) -> str:
        """The cell the model is built around, as the [model] section names it."""
        return self.model_config.cell

    def state_dict(self) -> dict:
        """What `rnnkit predict` needs besides the weights (saved in checkpoints)."""
        return {}

    @abc.abstractmethod
    def build_model(self) -> nn.Module:
        """A fresh model (the contract in the module docstring)."""

    def size(self, split: str) -> int:
        """Non-stream tasks: the number of sequences in a split."""
        raise NotImplementedError

    def batches(self, split: str, batch_size: int, epoch: int, seed: int) -> Iterator[Batch]:
        """Non-stream tasks: the batches of a split; the training split shuffled by (seed,
        epoch) with its last partial batch dropped, the others in order and whole."""
        raise NotImplementedError

    def stream_batch(self, split: str, batch_size: int) -> Batch:
        """Stream tasks: the whole split as one batch of `batch_size` parallel streams, inputs
        (L, B, ...) and targets (L, B)."""
        raise NotImplementedError

    def outputs(self, model: nn.Module, batch: Batch) -> Tensor:
        """Non-stream tasks: the model's outputs on a batch, which `loss` compares with
        `batch.targets`; by default `model(inputs, lengths=lengths)` from the zero state."""
        return model(batch.inputs, lengths=batch.lengths)[0]

    @abc.abstractmethod
    def loss(self, outputs: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
        """-> (the mean loss to minimise, sums over the batch that `metrics` turns into
        numbers; "n" is the count they are sums over)."""

    @abc.abstractmethod
    def metrics(self, sums: dict[str, float]) -> dict[str, float]:
        """Accumulated sums -> metrics, "loss" among them."""

    @abc.abstractmethod
    def encode(self, line: str, number: int = 1) -> Encoded:
        """A line of raw input, in the task's `predict` format -> what the model reads; a
        DataError naming line `number` when it does not parse."""

    @abc.abstractmethod
    def predict(self, model: nn.Module, lines: list[str]) -> list[str]:
        """One prediction per line of raw input; raises DataError naming a bad line."""

    @abc.abstractmethod
    def example_input(self, length: int | None = None) -> Tensor:
        """An input of one sequence (T, 1, ...) for export; T = length or the task's own."""


MAXIMISED = ("accuracy", "precision", "recall", "f1")  # the ends of the names of such metrics


def is_better(metric: str, new: float, best: float | None) -> bool:
    """Is `new` an improvement on `best` for this metric?"""
    if best is None:
        return True
    return new > best if metric.endswith(MAXIMISED) else new < best


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator that orders a training split's batches in `epoch`: a function of (seed,
    epoch) alone, so a resumed run sees the order an uninterrupted one sees."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def shuffled(count: int, batch_size: int, epoch: int, seed: int) -> Iterator[Tensor]:
    """Index batches of a training split: a permutation fixed by (seed, epoch); the last partial
    batch is dropped so that data-parallel slices stay equal."""
    order = torch.randperm(count, generator=epoch_generator(seed, epoch))
    for start in range(0, count - batch_size + 1, batch_size):
        yield order[start:start + batch_size]


def bucketed(lengths: Tensor, split: str, batch_size: int, epoch: int,
             seed: int) -> Iterator[list[int]]:
    """Index batches of sequences of similar lengths, so that little of a padded batch is
    padding. The training split: shuffled by (seed, epoch), its last partial batch dropped (as
    `shuffled`); the other splits in order of length, whole."""
    train = split == "train"
    return iter(BucketBatchSampler(lengths, batch_size, drop_last=train, shuffle=train,
                                   generator=epoch_generator(seed, epoch)))


def read_data(read: Callable, path):
    """read(path), a missing, malformed or empty file reported as a DataError that names it
    (the command line prints those without a traceback)."""
    try:
        content = read(path)
    except OSError as error:
        raise DataError(f"data.path: cannot read {str(path)!r} "
                        f"({error.strerror or error})") from error
    except DataFormatError as error:
        raise DataError(f"data.path: {error}") from error
    if not content:
        raise DataError(f"data.path: {str(path)!r} holds no examples (it is empty, or blank "
                        f"lines only)")
    return content


def cross_entropy_sums(logits: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
    """logits (..., C), targets (...) class ids -> (mean cross-entropy, sums: "nll" its sum,
    "correct" the argmax hits, "n" the count): a `Task.loss` for classes."""
    flat, target = logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    loss = nn.functional.cross_entropy(flat, target)
    sums = {"nll": loss.item() * len(target),
            "correct": (flat.argmax(-1) == target).sum().item(), "n": len(target)}
    return loss, sums

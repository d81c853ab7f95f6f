"""The built-in demo: the adding problem (Hochreiter & Schmidhuber 1997), generated, so it needs
no download. Each step carries a number in [0, 1] and a marker; two steps are marked and the
target is the sum of their numbers. Predicting the mean scores an MSE of about 0.167."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.data.synthetic import adding_problem
from rnnkit.errors import DataError
from rnnkit.models.regressor import SequenceRegressor
from rnnkit.names import SPLITS
from rnnkit.tasks.base import Batch, Encoded, Task, shuffled

TOLERANCE = 0.04  # a prediction within this of the target counts as right


@dataclass(frozen=True)
class AddingData:
    """The [data] section: sequence length, the number of sequences per split, and the seed of
    the generator (each split has its own stream of it)."""

    length: int = 30
    train_size: int = 8192
    valid_size: int = 1024
    test_size: int = 1024
    seed: int = 0


class AddingTask(Task):
    name = "adding"
    Data = AddingData
    monitor = "mse"
    metric_names = ("loss", "mse", "accuracy")

    def __init__(self, data: AddingData, model, state=None):
        super().__init__(data, model, state)
        self._splits: dict[str, tuple[Tensor, Tensor]] = {}

    def split(self, name: str) -> tuple[Tensor, Tensor]:
        """-> x (T, N, 2), y (N,), generated on first use."""
        if name not in self._splits:
            size = self.size(name)
            seed = self.data.seed * len(SPLITS) + SPLITS.index(name)
            self._splits[name] = adding_problem(size, self.data.length,
                                                torch.Generator().manual_seed(seed))
        return self._splits[name]

    def build_model(self) -> nn.Module:
        return SequenceRegressor(self.model_config, input_size=2)

    def size(self, split):
        return getattr(self.data, f"{split}_size")

    def batches(self, split, batch_size, epoch, seed) -> Iterator[Batch]:
        x, y = self.split(split)
        if split == "train":
            indices = shuffled(len(y), batch_size, epoch, seed)
        else:
            indices = torch.arange(len(y)).split(batch_size)
        for index in indices:
            yield Batch(x[:, index], y[index], len(index))

    def loss(self, outputs, targets):
        error = (outputs - targets).detach()
        sums = {"squared_error": (error ** 2).sum().item(),
                "within": (error.abs() < TOLERANCE).sum().item(), "n": len(targets)}
        return nn.functional.mse_loss(outputs, targets), sums

    def metrics(self, sums):
        mse = sums["squared_error"] / sums["n"]
        return {"loss": mse, "mse": mse, "accuracy": sums["within"] / sums["n"]}

    def encode(self, line, number=1):
        """One sequence of `value,marker` pairs separated by spaces, e.g. "0.3,0 0.5,1 0.9,1"
        -> x (T, 1, 2), labelled by `step_labels`."""
        try:
            steps = [[float(v) for v in pair.split(",")] for pair in line.split()]
            x = torch.tensor(steps, dtype=torch.float32).view(-1, 1, 2)
        except (ValueError, RuntimeError) as error:
            raise DataError(f"input line {number}: expected value,marker pairs separated by "
                            f"spaces (e.g. '0.3,0 0.5,1 0.9,1'), got {line!r}") from error
        if not len(x):
            raise DataError(f"input line {number}: expected at least one value,marker pair, "
                            f"got {line!r}")
        return Encoded(x, step_labels(x))

    def predict(self, model, lines):
        """Each line as `encode` reads it -> the predicted sum of the marked values (for
        "0.3,0 0.5,1 0.2,0 0.9,1" the target is 1.4; the model is most accurate at the length it
        was trained on)."""
        predictions = []
        for number, line in enumerate(lines, 1):
            with torch.no_grad():
                predictions.append(f"{model(self.encode(line, number).inputs)[0].item():.4f}")
        return predictions

    def example_input(self, length=None):
        x, _ = adding_problem(1, length or self.data.length, torch.Generator().manual_seed(0))
        return x


def step_labels(x: Tensor) -> list[str]:
    """One sequence of the adding problem, x (T, 1, 2) -> a label per step: its number, in
    brackets where it is marked."""
    return [f"[{v:.2f}]" if m else f"{v:.2f}" for v, m in x[:, 0].tolist()]

"""Evaluating a model on a split, and bringing a trained model back from a checkpoint (for
`rnnkit eval`, `predict`, `info` and `export`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.tasks import Task, task_class
from rnnkit.training import checkpoint, tbptt
from rnnkit.training.config import Config, from_dict


def evaluate(task: Task, model: nn.Module, split: str, batch_size: int, k1: int,
             device: torch.device = torch.device("cpu")) -> dict[str, float]:
    """The task's metrics over a whole split, in eval mode without gradients; a stream is run in
    windows of k1 steps with the state carried across."""
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    with torch.no_grad():
        if task.stream:
            stream, state = task.stream_batch(split, batch_size).to(device), None
            for window in tbptt.windows(stream.inputs.shape[0], k1, k1):
                _, sums, state = tbptt.run_window(task, model, stream, window, state)
                _add(totals, sums)
        else:
            for batch in task.batches(split, batch_size, epoch=0, seed=0):
                batch = batch.to(device)
                _, sums = task.loss(task.outputs(model, batch), batch.targets)
                _add(totals, sums)
    model.train(was_training)
    return task.metrics(totals)


def _add(totals: dict[str, float], sums: dict[str, float]) -> None:
    for key, value in sums.items():
        totals[key] = totals.get(key, 0.0) + value


@dataclass
class Trained:
    """A model restored from a checkpoint, in eval mode, with its config and task."""

    path: Path
    config: Config
    task: Task
    model: nn.Module
    payload: dict


def load_trained(run_or_checkpoint: str | Path, prefer: str = checkpoint.BEST) -> Trained:
    """A checkpoint file, or a run folder (its `prefer` checkpoint if it has one, else its
    last)."""
    path = checkpoint.resolve(run_or_checkpoint, prefer)
    payload = checkpoint.load(path)
    try:
        config = from_dict(payload["config"])
    except ConfigError as error:
        raise CheckpointError(f"{str(path)!r}: its config does not fit this rnnkit "
                              f"({error})") from error
    task = task_class(config.task)(config.data, config.model, state=payload["task_state"])
    model = task.build_model()
    model.load_state_dict(payload["model"])
    return Trained(path, config, task, model.eval(), payload)

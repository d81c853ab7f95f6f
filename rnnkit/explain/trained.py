"""Gradient flow in a model trained by `rnnkit train`, measured on its own validation data, so
that trained networks of any task can be compared (`rnnkit explain gradients --checkpoint`)."""

from __future__ import annotations

import dataclasses

from torch import nn

from rnnkit import _check
from rnnkit.explain.gradients import GradientFlow, gradient_norms
from rnnkit.tasks.base import Batch, Task


def validation_batch(task: Task, batch_size: int, length: int) -> Batch:
    """The first batch of the task's valid split: `batch_size` sequences (as the task batches
    them, padded with lengths), or for a stream task the first `length` steps of `batch_size`
    parallel streams."""
    _check.positive_int("batch_size", batch_size)
    _check.positive_int("length", length)
    if task.stream:
        whole = task.stream_batch("valid", batch_size)
        return Batch(whole.inputs[:length], whole.targets[:length], batch_size,
                     target_dim=whole.target_dim)
    return next(iter(task.batches("valid", batch_size, epoch=0, seed=0)))


def task_gradient_flow(task: Task, model: nn.Module, *, batch_size: int = 16, length: int = 50,
                       wrt: str | None = None) -> GradientFlow:
    """||dL/dh_t|| and ||dh_T/dh_t|| of `model`'s first cell on `validation_batch`, L the
    task's own training loss (the mean over the batch), the model called as the trainer calls
    it (`task.outputs`). The model runs in the mode it is in (a trained model from
    `load_trained` is in eval mode: no dropout)."""
    batch = validation_batch(task, batch_size, length)

    def run(x):
        return task.outputs(model, dataclasses.replace(batch, inputs=x))

    def loss(outputs):
        return task.loss(outputs, batch.targets)[0]

    return gradient_norms(run, batch.inputs, loss, wrt=wrt)

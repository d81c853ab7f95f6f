"""Export a trained model so that it runs without rnnkit: TorchScript (torch.jit.load) or ONNX
(onnxruntime and any other ONNX runtime).

The export traces the model on an example input with rnnkit's plain loop engine forced: the
fused C++ engine is an extension that neither TorchScript nor ONNX can record, and the loop is
ordinary tensor operations. Tracing unrolls the loop over time, so the exported model takes
sequences of exactly the example's length T (the task's own, or `length`); the batch size stays
free. ONNX goes through torch's TorchScript-based exporter (`dynamo=False`), which works offline
with the pinned versions and needs no onnxscript.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from rnnkit import engines
from rnnkit.tasks.base import Task
from rnnkit.training.checkpoint import atomic_write



class Outputs(nn.Module):
    """model(inputs) -> outputs only, from the zero initial state: what an exported model
    computes."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tensor:
        return self.model(inputs)[0]


def export(task: Task, model: nn.Module, fmt: str, path: str | Path,
           length: int | None = None) -> Tensor:
    """Write `model` to `path` in format `fmt` (one of FORMATS), atomically. Returns the example
    input it was traced with, (T, 1, ...)."""
    module = Outputs(model).eval()
    example = task.example_input(length)
    buffer = io.BytesIO()
    with engines.use("loop"), torch.no_grad(), warnings.catch_warnings():
        # Tracing warns that Python values in the loop become constants: T does, by design.
        warnings.simplefilter("ignore")
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(module, (example,)), buffer)
        else:
            torch.onnx.export(module, (example,), buffer, dynamo=False,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {1: "batch"},
                                            "output": {task.output_batch_dim: "batch"}})
    data = buffer.getvalue()
    atomic_write(Path(path), lambda file: file.write(data))
    return example

"""Data-parallel training over processes with torch.distributed, as started by torchrun.

Each of the W processes computes the loss on its 1/W slice of the global batch; the gradients
are averaged over the processes before clipping and the optimiser step, so every process takes
the same step as one process on the whole batch would (up to the order of float additions).
Every process evaluates the whole validation split with the same parameters, so decisions such
as early stopping agree without further messages; only rank 0 writes files.

    torchrun --standalone --nproc_per_node 2 -m rnnkit train CONFIG
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from rnnkit.errors import ConfigError


@dataclass(frozen=True)
class Context:
    """This process's place: rank 0 of 1 without torchrun."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, model: nn.Module) -> None:
        """Replace every gradient by its mean over the processes (one message for all)."""
        if self.world == 1:
            return
        params = [p for p in model.parameters() if p.requires_grad]
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p, g in zip(params, grads):
            p.grad = flat[offset:offset + g.numel()].view_as(g).clone()
            offset += g.numel()

    def sum_values(self, values: dict[str, float]) -> dict[str, float]:
        """Each value summed over the processes."""
        if self.world == 1:
            return values
        flat = torch.tensor(list(values.values()), dtype=torch.float64, device=self.device)
        dist.all_reduce(flat)
        return dict(zip(values, flat.tolist()))

    def any(self, flag: bool) -> bool:
        """True on every process when it is True on one (e.g. a stop was requested)."""
        if self.world == 1:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def setup(device: str = "auto") -> Context:
    """The context of this process: joins the process group when torchrun started it (WORLD_SIZE
    set), with gloo on the CPU and nccl on GPUs. device: "auto" (a GPU when there is one),
    "cpu" or "cuda"."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: expected a device that is present, got 'cuda' on a "
                          "machine without a usable GPU")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Context(device=torch.device("cuda" if use_cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Context(dist.get_rank(), dist.get_world_size(),
                   torch.device(f"cuda:{local}" if use_cuda else "cpu"))


def teardown(context: Context) -> None:
    if context.world > 1 and dist.is_initialized():
        dist.destroy_process_group()

"""Which engine runs a given cell, and a switch to force one.

The fused engine's kernels are PyTorch operators (`rnnkit::fused_forward`, with autograd and
fake implementations), so torch.compile puts each in its graph as one operation. They are
float32 and float64 C++ loops, though, and an exported graph (torch.export, tracing, ONNX)
must run without rnnkit; torch.func transforms (vmap, grad, ...) have no rule for them. There
"auto" takes the plain loop instead, whose aten operations every one of those tools
understands, and forcing "fused" is a clear error. torch's own kernels ("native") serve export,
autocast and bfloat16 as in torch.nn.LSTM.
"""

from __future__ import annotations

import contextlib
import contextvars
import os

import torch
from torch import Tensor

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.tree import TreeCell
from rnnkit.engines import fused, native

ENGINES = ("auto", "native", "fused", "loop")
_forced: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnkit_engine", default=None)


@torch.compiler.assume_constant_result  # graph capture reads it once, as a constant
def current() -> str:
    """The engine in force: set by `use`, else $RNNKIT_ENGINE, else "auto". Under graph
    capture it is read when the graph is captured."""
    forced = _forced.get()
    if forced is not None:
        return forced
    return _check.one_of("RNNKIT_ENGINE", os.environ.get("RNNKIT_ENGINE", "auto"), ENGINES)


@contextlib.contextmanager
def use(engine: str):
    """with rnnkit.engines.use("loop"): ...  runs every layer inside on that engine."""
    token = _forced.set(_check.one_of("engine", engine, ENGINES))
    try:
        yield
    finally:
        _forced.reset(token)


def fused_unusable(x: Tensor) -> str | None:
    """Why the fused engine cannot run on `x` now (see the module docstring), or None."""
    if torch.compiler.is_exporting() or torch.jit.is_tracing():
        return ("an exported graph (torch.export, torch.jit.trace, ONNX) must run without "
                "rnnkit's C++ extension")
    # (While torch.compile traces, the functorch stack is not empty even without transforms.)
    if not torch.compiler.is_compiling() and torch._C._functorch.peek_interpreter_stack():
        return "torch.func transforms (vmap, grad, ...) cannot see into its C++ loop"
    if x.dtype not in (torch.float32, torch.float64):
        return f"its kernels are float32 and float64 only, got {x.dtype}"
    if torch.is_autocast_enabled(x.device.type):
        return "autocast is on (its kernels are float32 and float64 only)"
    return None


def under_vmap() -> bool:
    """True inside torch.func.vmap, which has no batching rule for torch's RNN kernels."""
    if torch.compiler.is_compiling():
        return False
    vmap = torch._C._functorch.TransformType.Vmap
    return any(level.key() == vmap for level in torch._C._functorch.get_interpreter_stack() or ())


def choose(cell: RecurrentCell, x: Tensor, *, recurrent_dropout: bool) -> str:
    """The engine that runs this cell on this input now: "native", "fused" or "loop".

    "auto" takes torch's kernel when it computes exactly this cell (and there is no recurrent
    dropout, which masks the state inside the step, out of the kernel's reach, and no vmap),
    else the fused engine when it has a kernel for the cell, could be built and can run now
    (`fused_unusable`), else the loop."""
    wanted = current()
    can_native = (native.kernel_for(cell) is not None and not recurrent_dropout
                  and not under_vmap())
    can_fused = fused.supports(cell, x)
    what = f"{type(cell).__name__}({cell.extra_repr()})"
    if wanted == "native" and not can_native:
        raise ValueError(f"engine: 'native' was forced, but torch's kernels cannot compute {what}"
                         + (" with recurrent dropout" if recurrent_dropout else ""))
    if wanted == "fused":
        _check_fused(can_fused, what, x)
    if wanted == "auto":
        if can_native:
            return "native"
        usable = can_fused and fused_unusable(x) is None and fused.unavailable_reason() is None
        return "fused" if usable else "loop"
    return wanted


def choose_tree(cell: TreeCell, leaf_inputs: Tensor) -> str:
    """The engine that runs a batch of trees now (`layers/tree.py`): "fused" (the C++ levels,
    for the binary Tree-LSTM on the CPU) or "loop" (the Python loop over levels, every tree
    cell). "auto" takes fused where it has a kernel and could be built; "native" has no tree
    kernels and runs the loop."""
    wanted = current()
    can_fused = fused.supports_tree(cell, leaf_inputs)
    if wanted == "fused":
        _check_fused(can_fused, type(cell).__name__, leaf_inputs)
        return "fused"
    if (wanted == "auto" and can_fused and fused_unusable(leaf_inputs) is None
            and fused.unavailable_reason() is None):
        return "fused"
    return "loop"


def _check_fused(can_fused: bool, what: str, x: Tensor) -> None:
    """engines.use("fused") for something it cannot run here or now: a clear error."""
    if not can_fused:
        raise ValueError(f"engine: 'fused' was forced, but it has no kernel for {what} on "
                         f"{x.device}")
    reason = fused.unavailable_reason() or fused_unusable(x)
    if reason is not None:
        raise RuntimeError(f"engine: 'fused' was forced, but {reason}")

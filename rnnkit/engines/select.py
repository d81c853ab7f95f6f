"""Which engine runs a given cell, and a switch to force one."""

from __future__ import annotations

import contextlib
import contextvars
import os

from torch import Tensor

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.tree import TreeCell
from rnnkit.engines import fused, native

ENGINES = ("auto", "native", "fused", "loop")
_forced: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnkit_engine", default=None)


def current() -> str:
    """The engine in force: set by `use`, else $RNNKIT_ENGINE, else "auto"."""
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


def choose(cell: RecurrentCell, x: Tensor, *, recurrent_dropout: bool) -> str:
    """The engine that runs this cell on this input now: "native", "fused" or "loop".

    "auto" takes torch's kernel when it computes exactly this cell (and there is no recurrent
    dropout, which masks the state inside the step, out of the kernel's reach), else the fused
    engine when it has a kernel for the cell and could be built, else the loop."""
    wanted = current()
    can_native = native.kernel_for(cell) is not None and not recurrent_dropout
    can_fused = fused.supports(cell, x)
    what = f"{type(cell).__name__}({cell.extra_repr()})"
    if wanted == "native" and not can_native:
        raise ValueError(f"engine: 'native' was forced, but torch's kernels cannot compute {what}"
                         + (" with recurrent dropout" if recurrent_dropout else ""))
    if wanted == "fused":
        _check_fused(can_fused, what, x.device)
    if wanted == "auto":
        if can_native:
            return "native"
        return "fused" if can_fused and fused.unavailable_reason() is None else "loop"
    return wanted


def choose_tree(cell: TreeCell, leaf_inputs: Tensor) -> str:
    """The engine that runs a batch of trees now (`layers/tree.py`): "fused" (the C++ levels,
    for the binary Tree-LSTM on the CPU) or "loop" (the Python loop over levels, every tree
    cell). "auto" takes fused where it has a kernel and could be built; "native" has no tree
    kernels and runs the loop."""
    wanted = current()
    can_fused = fused.supports_tree(cell, leaf_inputs)
    if wanted == "fused":
        _check_fused(can_fused, type(cell).__name__, leaf_inputs.device)
        return "fused"
    if wanted == "auto" and can_fused and fused.unavailable_reason() is None:
        return "fused"
    return "loop"


def _check_fused(can_fused: bool, what: str, device) -> None:
    """engines.use("fused") for something it cannot run here: a clear error."""
    if not can_fused:
        raise ValueError(f"engine: 'fused' was forced, but it has no kernel for {what} on "
                         f"{device}")
    reason = fused.unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"engine: 'fused' was forced, but {reason}")

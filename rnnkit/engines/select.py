"""Which engine runs a given cell, and a switch to force one."""

from __future__ import annotations

import contextlib
import contextvars
import os

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell
from rnnkit.engines import native

ENGINES = ("auto", "native", "loop")
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


def choose(cell: RecurrentCell, *, recurrent_dropout: bool) -> str:
    """"native" or "loop" for this cell now. Recurrent dropout masks the state inside the step,
    which torch's kernels cannot do."""
    wanted = current()
    possible = native.kernel_for(cell) is not None and not recurrent_dropout
    if wanted == "native" and not possible:
        raise ValueError(f"engine: 'native' was forced, but torch's kernels cannot compute "
                         f"{type(cell).__name__}({cell.extra_repr()})"
                         + (" with recurrent dropout" if recurrent_dropout else ""))
    return "native" if possible and wanted != "loop" else "loop"

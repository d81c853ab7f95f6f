"""Engines: who runs the loop over time. Every engine computes exactly what the plain loop of
`cell.recurrence` computes; they differ only in speed.

- "loop": the plain Python loop over `cell.recurrence` (`engines/loop.py`), for every cell;
- "native": PyTorch's own fused kernels (`torch._VF.lstm/gru/rnn_*`) for the cells that are
  exactly what torch computes (`engines/native.py`);
- "fused": our C++ loop with a hand-written backward (`engines/fused.py`, `engines/csrc/`),
  built on first use;
- "auto" (the default): native where it applies, else fused where it has a kernel and could be
  built, else the loop.

Trees (`layers/tree.py`) have two: the Python loop over levels for every tree cell, and the
fused engine's C++ levels for the binary Tree-LSTM (`engines.choose_tree`).

`rnnkit.engines.use("loop")` forces one for the code inside it (tests use it to check engines
against each other); the environment variable RNNKIT_ENGINE sets the default.
"""

from rnnkit.engines.select import ENGINES, choose, choose_tree, current, use

__all__ = ["ENGINES", "choose", "choose_tree", "current", "use"]

"""Engines: who runs the loop over time. Every engine computes exactly what the plain loop of
`cell.recurrence` computes; they differ only in speed.

- "loop": the plain Python loop over `cell.recurrence` (`engines/loop.py`), for every cell;
- "native": PyTorch's own fused kernels (`torch._VF.lstm/gru/rnn_*`) for the cells that are
  exactly what torch computes (`engines/native.py`);
- "fused": our C++ loop with a hand-written backward (`engines/fused.py`, `engines/csrc/`),
  built on first use;
- "auto" (the default): native where it applies, else fused where it has a kernel, could be
  built and can run now, else the loop. Under torch.compile / torch.export, torch.func
  transforms, autocast and dtypes other than float32/64 the fused engine cannot run, and "auto"
  takes the loop, which all of them understand (`select.fused_unusable`).

Trees (`layers/tree.py`) have two: the Python loop over levels for every tree cell, and the
fused engine's C++ levels for the binary Tree-LSTM (`engines.choose_tree`).

`rnnkit.engines.use("loop")` forces one for the code inside it (tests use it to check engines
against each other); the environment variable RNNKIT_ENGINE sets the default.
"""

from rnnkit.engines.select import (ENGINES, choose, choose_tree, current, fused_unusable,
                                   under_vmap, use)

__all__ = ["ENGINES", "choose", "choose_tree", "current", "fused_unusable", "under_vmap", "use"]

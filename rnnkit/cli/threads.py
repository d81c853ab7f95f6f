"""`--threads` for every command that computes: torch's CPU threads in this process.

The default is one thread on a machine with 4 cores or fewer, where for rnnkit's models (small
matrices, one step after another) more threads cost more in synchronisation than they give and
slow down whatever else shares the cores; on larger machines it is torch's choice. `rnnkit
train` takes the config's `train.threads` instead.
"""

from __future__ import annotations

import argparse
import os

FEW_CORES = 4
HELP = (f"torch's CPU threads (default: 1 on a machine with {FEW_CORES} cores or fewer, else "
        f"torch's choice)")


def add_argument(parser) -> None:
    parser.add_argument("--threads", type=_count, default=None, metavar="N", help=HELP)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected 0 (torch's choice) or a positive number, "
                                         f"got {text!r}")
    return int(text)


def resolve(requested: int | None) -> int:
    """The thread count to set, or 0 for torch's choice."""
    if requested is not None:
        return requested
    return 1 if (os.cpu_count() or 1) <= FEW_CORES else 0


def apply(requested: int | None) -> None:
    count = resolve(requested)
    if count:
        import torch  # only a command that computes pays for importing torch
        torch.set_num_threads(count)

"""Shared helpers for the explain tests (a distinct module name: tests/ folders have no
__init__)."""

from __future__ import annotations

import torch

DT = torch.float64


def randomize(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Every parameter N(0, scale^2): generic values, no init structure to hide a wrong
    equation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return module


def randn(*shape, seed: int = 1) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def is_png(path) -> bool:
    data = open(path, "rb").read()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"

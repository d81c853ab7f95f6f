"""What every picture of `rnnkit.explain` shares: saving a matplotlib Figure as PNG.

Figures are made with `matplotlib.figure.Figure`, never pyplot: no global state, no display
backend, and a notebook shows a returned Figure as it is.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure

DPI = 100  # small files: the README's pictures stay well under 150 KB


def finish(fig: Figure, path: str | Path | None) -> Figure:
    """Save `fig` as PNG at `path` (if given) and return it."""
    if path is not None:
        fig.savefig(path, format="png", dpi=DPI)
    return fig


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()

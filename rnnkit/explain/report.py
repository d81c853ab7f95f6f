"""One self-contained HTML page: the tokens of a sequence and the pictures made of it."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from rnnkit.explain.figures import png_bytes

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 100em; }
.tokens { margin-bottom: 1.5em; line-height: 1.2; }
.token { display: inline-block; border: 1px solid #ccc; margin: 1px; padding: 0.1em 0.4em;
         text-align: center; }
.token small { color: #888; }
figure { margin: 0 0 2em 0; }
img { max-width: 100%; }
"""


def html_report(tokens: Sequence[str], figures: Mapping[str, Figure | str | Path],
                path: str | Path, *, title: str = "rnnkit explain") -> Path:
    """Write an HTML page to `path`: `title`, the tokens, each under its time step t (the time
    axis of the pictures), then each picture under its caption. figures: caption -> a
    matplotlib Figure or the path of a PNG file; the images are embedded (base64), so the page
    stands alone."""
    words = "".join(f"<span class='token'><small>{t}</small><br>{html.escape(str(token))}</span>"
                    for t, token in enumerate(tokens))
    parts = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             f"<div class='tokens'>{words}</div>"]
    for caption, picture in figures.items():
        png = (png_bytes(picture) if isinstance(picture, Figure)
               else Path(picture).read_bytes())
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(caption, quote=True)}' "
                     f"src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</body></html>\n")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path

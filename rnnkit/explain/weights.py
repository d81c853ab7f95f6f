"""A cell's weights as plain JSON, for traces by hand: parameter name -> nested lists, under the
cell's parameter names and shapes (`cell.weights()`, e.g. weight_ih (4H, I) for an LSTM)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import torch

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell


def weights_template(cell: RecurrentCell) -> dict[str, list]:
    """The cell's current weights, name -> nested lists."""
    return {name: p.detach().cpu().tolist() for name, p in cell.weights().items()}


def set_weights(cell: RecurrentCell, weights: Mapping, source: str = "weights") -> None:
    """Copy `weights` (name -> nested lists, arrays or tensors) into the cell. Every parameter
    must be given with its exact shape; an error names `source`, the key, the expected and the
    given shape."""
    if not isinstance(weights, Mapping):
        raise TypeError(f"{source}: expected a mapping of parameter names to nested lists, "
                        f"got {_check.describe(weights)}")
    params = cell.weights()
    expected = ", ".join(f"{n} {tuple(p.shape)}" for n, p in params.items())
    unknown = [key for key in weights if key not in params]
    if unknown:
        raise ValueError(f"{source}: unexpected key {unknown[0]!r}; {type(cell).__name__} has "
                         f"{expected}")
    missing = [name for name in params if name not in weights]
    if missing:
        raise ValueError(f"{source}: missing {missing[0]!r}; {type(cell).__name__} has "
                         f"{expected}")
    values = {}
    for name, p in params.items():
        try:
            value = torch.as_tensor(weights[name], dtype=p.dtype)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{source}: {name}: expected numbers in nested lists of shape "
                             f"{tuple(p.shape)}, got {weights[name]!r:.80}") from error
        if value.shape != p.shape:
            raise ValueError(f"{source}: {name}: expected shape {tuple(p.shape)}, "
                             f"got {tuple(value.shape)}")
        values[name] = value
    with torch.no_grad():  # only once every value is valid: no half-set cell
        for name, value in values.items():
            params[name].copy_(value)


def read_weights(cell: RecurrentCell, path: str | Path) -> None:
    """Set the cell's weights from a JSON file (see `set_weights`)."""
    path = Path(path)
    try:
        weights = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"{path}: cannot read the weights file ({error.strerror})") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from error
    set_weights(cell, weights, source=str(path))


def write_weights(cell: RecurrentCell, path: str | Path) -> None:
    """Write the cell's weights as JSON, one matrix row per line, to edit and read back."""
    entries = []
    for name, value in weights_template(cell).items():
        if value and isinstance(value[0], list):
            rows = ",\n".join(f"    {json.dumps(row)}" for row in value)
            entries.append(f'  "{name}": [\n{rows}\n  ]')
        else:
            entries.append(f'  "{name}": {json.dumps(value)}')
    Path(path).write_text("{\n" + ",\n".join(entries) + "\n}\n")

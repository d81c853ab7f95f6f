"""rnnkit: recurrent neural networks from the math to trained models.

The names below load on first use (PEP 562), so that `import rnnkit` and the command line's
`--help` need no torch: `rnnkit.LSTM` imports the layers, and torch with them."""

import importlib
import importlib.util

__version__ = "0.1.0"

_HOMES = {
    "rnnkit._check": ("TensorError", "ShapeError", "DeviceError", "DtypeError"),
    "rnnkit.cells": ("RecurrentCell", "ElmanCell", "JordanCell", "LSTMCell", "LSTMSpec",
                     "GRUCell", "GRUSpec", "MUTCell", "StackCell"),
    "rnnkit.layers": ("SequenceLayer", "Recurrent", "Bidirectional", "Stacked", "Pyramidal",
                      "StackRNN", "TorchStyleRNN", "RNN", "LSTM", "GRU"),
    "rnnkit.structured": ("CRF",),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [name for names in _HOMES.values() for name in names]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif importlib.util.find_spec(f"rnnkit.{name}") is not None:
        # a subpackage, as `rnnkit.engines.use(...)` after `import rnnkit`; rnnkit.nn is
        # torch.nn's API under torch.nn's names (LSTM, LSTMCell, ..., CRF)
        value = importlib.import_module(f"rnnkit.{name}")
    else:
        raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *__all__, "nn"])

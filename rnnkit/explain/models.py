"""Fresh recurrent networks named by a short spec, as `rnnkit explain --model` takes them:

    CELL[:KEY=VALUE,...]      "lstm", "gru", "elman", "lstm:spec=CIFG,hidden_size=64",
                              "elman:nonlinearity=relu,recurrent_init=identity"

CELL is one of lstm, gru, elman, jordan, mut1, mut2, mut3. The keys are those of a model
config's [model] section: hidden_size (32), num_layers (1) and recurrent_init for every cell;
spec and proj_size for lstm; reset_after for gru; nonlinearity for elman and jordan (whose
output size is hidden_size).
"""

from __future__ import annotations

from rnnkit import _check
from rnnkit.layers import TorchStyleRNN
from rnnkit.names import EXPLAIN_CELLS
from rnnkit.models.network import ModelConfig, build_network

CELLS = EXPLAIN_CELLS
_COMMON = {"hidden_size": int, "num_layers": int, "recurrent_init": str}
_OWN = {"lstm": {"spec": str, "proj_size": int}, "gru": {"reset_after": bool},
        "elman": {"nonlinearity": str}, "jordan": {"nonlinearity": str}}


def parse(spec: str) -> tuple[str, dict]:
    """"lstm:hidden_size=64,spec=CIFG" -> ("lstm", {"hidden_size": 64, "spec": "CIFG"})."""
    if not isinstance(spec, str):
        raise TypeError(f"model: expected a spec string such as 'lstm:hidden_size=32', "
                        f"got {_check.describe(spec)}")
    cell, _, rest = spec.partition(":")
    cell = _check.one_of("model", cell.strip().lower(), CELLS)
    types = _COMMON | _OWN.get(cell, {})
    options = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, text = (s.strip() for s in item.partition("="))
        if not eq or key not in types:
            raise ValueError(f"model {spec!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(types)} (for {cell}), got {item!r}")
        options[key] = _value(spec, key, text, types[key])
    return cell, options


def _value(spec: str, key: str, text: str, kind: type):
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"model {spec!r}: {key}: expected true or false, got {text!r}")
        return text.lower() == "true"
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"model {spec!r}: {key}: expected an integer, got {text!r}") from None
    return text


def build(spec: str, input_size: int) -> TorchStyleRNN:
    """A fresh network with torch.nn.LSTM's interface reading `input_size` features, built as
    a config's [model] section would be: forward(x (T, B, input_size)) -> (output (T, B, O),
    final state)."""
    cell, options = parse(spec)
    try:
        return build_network(ModelConfig(cell=cell, **options), input_size)
    except ValueError as error:  # the cells and layers name their argument
        raise ValueError(f"model {spec!r}: {error.__cause__ or error}") from error

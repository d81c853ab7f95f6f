"""Dynamic quantisation (`torch.ao.quantization.quantize_dynamic`) of the drop-ins.

torch's quantize_dynamic matches modules by exact class, so it never touches `rnnkit.LSTM` unless
asked by rnnkit's class: `quantize_dynamic(model, {rnnkit.LSTM, nn.Linear})`. For that call this
module registers rnnkit's classes in torch's default dynamic mapping: a network that is exactly
torch's LSTM or GRU becomes torch's quantized LSTM / GRU (through `to_torch()`); any other (a
variant, an Elman RNN, for which torch has no quantized layer) raises a ValueError naming it,
never a quantized model of different math.
"""

from __future__ import annotations

from torch import nn
from torch.ao.nn.quantized import dynamic as quantized_dynamic
from torch.ao.quantization.quantization_mappings import DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS

from rnnkit.layers.torch_style import GRU, LSTM, RNN, TorchStyleRNN

_QUANTIZED = {nn.LSTM: quantized_dynamic.LSTM, nn.GRU: quantized_dynamic.GRU}


class DynamicQuantized:
    """What torch's convert step calls for a drop-in: `from_float(module)`."""

    @classmethod
    def from_float(cls, module: TorchStyleRNN, use_precomputed_fake_quant: bool = False):
        try:
            float_module = module.to_torch()
        except ValueError as error:
            raise ValueError(f"quantize_dynamic: cannot quantize rnnkit.{type(module).__name__}: "
                             f"{error}; leave it out of qconfig_spec to keep it in float") from None
        if type(float_module) not in _QUANTIZED:
            raise ValueError(f"quantize_dynamic: cannot quantize rnnkit.{type(module).__name__}: "
                             f"torch has quantized LSTM and GRU layers only")
        float_module.qconfig = module.qconfig
        return _QUANTIZED[type(float_module)].from_float(
            float_module, use_precomputed_fake_quant=use_precomputed_fake_quant)


for _kind in (LSTM, GRU, RNN, TorchStyleRNN):
    DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS.setdefault(_kind, DynamicQuantized)

"""Two layers over the same sequence, one reading it backwards, merged step by step."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.engines.loop import valid_steps
from rnnkit.layers.sequence import SequenceLayer, reverse_within_lengths

MERGE_MODES = ("concat", "sum", "mean", "mul", "linear")


class Bidirectional(SequenceLayer):
    """Bidirectional(fwd, bwd, merge="concat")

    `fwd` reads the sequence as given; `bwd` reads each sequence reversed within its own length
    (padding stays at the end), and its outputs are reversed back so that both align at every t.
    merge: "concat" -> [fwd; bwd] (2H), "sum", "mean", "mul" -> H, "linear" -> a learned
    W [fwd; bwd] + b with W (H, 2H) (`self.merge_linear`).
    forward(input, state=None | (fwd_state, bwd_state), lengths=None)
        -> (output (T, B, output_size), (fwd_final, bwd_final))
    """

    def __init__(self, fwd: SequenceLayer, bwd: SequenceLayer, merge: str = "concat",
                 batch_first: bool = False):
        super().__init__()
        for name, layer in (("fwd", fwd), ("bwd", bwd)):
            if not isinstance(layer, SequenceLayer):
                raise TypeError(f"{name}: expected a rnnkit sequence layer (e.g. Recurrent), "
                                f"got {_check.describe(layer)}")
        if fwd.input_size != bwd.input_size:
            raise ValueError(f"bwd: expected input_size {fwd.input_size} (fwd's), "
                             f"got {bwd.input_size}")
        self.merge = _check.one_of("merge", merge, MERGE_MODES)
        if merge != "concat" and fwd.output_size != bwd.output_size:
            raise ValueError(f"bwd: merge={merge!r} needs output_size {fwd.output_size} (fwd's), "
                             f"got {bwd.output_size}")
        self.fwd, self.bwd = fwd, bwd
        self.batch_first = batch_first
        self.input_size = fwd.input_size
        both = fwd.output_size + bwd.output_size
        self.output_size = both if merge == "concat" else fwd.output_size
        if merge == "linear":
            p = fwd.reference_parameter()
            self.merge_linear = nn.Linear(both, fwd.output_size, device=p.device, dtype=p.dtype)

    def reference_parameter(self) -> Tensor:
        return self.fwd.reference_parameter()

    def check_state(self, state, batch_size: int):
        if state is None:
            return None
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state: expected (fwd_state, bwd_state) or None, "
                            f"got {_check.describe(state)}")
        return (self.fwd.check_state(state[0], batch_size),
                self.bwd.check_state(state[1], batch_size))

    def run(self, x: Tensor, state, lengths: Tensor | None):
        fwd_state, bwd_state = (None, None) if state is None else state
        out_f, final_f = self.fwd.run(x, fwd_state, lengths)
        out_b, final_b = self.bwd.run(reverse_within_lengths(x, lengths), bwd_state, lengths)
        out_b = reverse_within_lengths(out_b, lengths)
        return self.merge_outputs(out_f, out_b, lengths), (final_f, final_b)

    def merge_outputs(self, out_f: Tensor, out_b: Tensor, lengths: Tensor | None) -> Tensor:
        if self.merge == "concat":
            return torch.cat([out_f, out_b], dim=-1)
        if self.merge == "sum":
            return out_f + out_b
        if self.merge == "mean":
            return (out_f + out_b) / 2
        if self.merge == "mul":
            return out_f * out_b
        merged = self.merge_linear(torch.cat([out_f, out_b], dim=-1))
        # Padded positions stay zero, which the linear map's bias would otherwise break.
        return merged if lengths is None else merged * valid_steps(lengths, merged)

    def extra_repr(self) -> str:
        return f"merge={self.merge!r}"

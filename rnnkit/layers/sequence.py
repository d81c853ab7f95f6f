"""What every sequence layer shares: the input conventions of torch.nn.LSTM.

A layer's public `forward(input, state=None, lengths=None)` accepts
- a tensor (T, B, I), or (B, T, I) with batch_first=True, with optional `lengths` (B,) of each
  sequence's true length (padded positions of the output are zero; final states are taken at
  each sequence's true end);
- a `torch.nn.utils.rnn.PackedSequence`, in which case the output is packed the same way.
It converts to the internal convention, time-major (T, B, I) with lengths or None, calls
`run(x, state, lengths)` (which subclasses implement and which composite layers call on each
other directly), and converts back.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit import _check


class SequenceLayer(nn.Module):
    """Base class: subclasses set `input_size`, `output_size`, `batch_first` and implement
    `run`, `check_state` and (for streaming) `step`."""

    input_size: int
    output_size: int
    batch_first: bool = False

    def run(self, x: Tensor, state, lengths: Tensor | None):
        """x: (T, B, I) validated; state validated (or None); lengths (B,) int64 CPU or None.
        Returns (output (T, B, output_size), final state)."""
        raise NotImplementedError

    def check_state(self, state, batch_size: int):
        """Validate a user-given state for a batch of `batch_size` (None stays None)."""
        raise NotImplementedError

    def output_lengths(self, lengths: Tensor | None) -> Tensor | None:
        """The lengths (B,) of the output sequences for input lengths (B,) (None stays None): the
        same, except in layers that change the time resolution (`Pyramidal`)."""
        return lengths

    def reference_parameter(self) -> Tensor:
        """A parameter whose dtype and device inputs must match."""
        return next(self.parameters())

    def forward(self, input, state=None, lengths=None):
        """input: (T, B, I) (or (B, T, I) if batch_first) or a PackedSequence.
        Returns (output in the same layout as input, final state)."""
        x, lengths, packed = self.prepare_input(input, lengths)
        state = self.check_state(state, x.shape[1])
        output, final = self.run(x, state, lengths)
        return self.restore_output(output, self.output_lengths(lengths), packed), final

    # --- input conversion, shared with the torch-style drop-ins ----------------------------------
    def prepare_input(self, input, lengths):
        """-> (x (T, B, I) validated, lengths (B,) int64 on CPU or None, the PackedSequence or
        None)."""
        packed = None
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError("lengths: expected None with a PackedSequence input (it carries "
                                 "its own lengths), got a value")
            packed = input
            x, lengths = pad_packed_sequence(input)
        elif isinstance(input, Tensor):
            if input.dim() != 3:
                layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
                raise _check.ShapeError(f"input: expected 3 dimensions {layout}, "
                                        f"got shape {tuple(input.shape)}")
            x = input.transpose(0, 1) if self.batch_first else input
        else:
            raise TypeError(f"input: expected a tensor or a PackedSequence, "
                            f"got {_check.describe(input)}")
        # Checked as given, so that an error shows the shape the caller passed.
        _check.tensor_like_params("input", input if packed is None else x,
                                  self.reference_parameter(), last=self.input_size,
                                  last_name="input_size")
        if x.shape[0] == 0:
            raise _check.ShapeError("input: expected at least one time step, "
                                    "got a time dimension of 0")
        if lengths is not None:
            lengths = _check.lengths(lengths, x.shape[1], x.shape[0])
        return x, lengths, packed

    def restore_output(self, output: Tensor, lengths: Tensor | None,
                       packed: PackedSequence | None):
        """Back to the caller's layout: the same packing, or batch_first."""
        if packed is not None:
            order = packed.sorted_indices
            if order is not None:
                # lengths stay on the CPU (pack_padded_sequence wants them there); the order
                # is on the data's device
                output, lengths = output[:, order], lengths[order.cpu()]
            repacked = pack_padded_sequence(output, lengths)
            return PackedSequence(repacked.data, repacked.batch_sizes, packed.sorted_indices,
                                  packed.unsorted_indices)
        return output.transpose(0, 1) if self.batch_first else output


def reverse_within_lengths(x: Tensor, lengths: Tensor | None) -> Tensor:
    """x: (T, B, ...) -> each sequence b reversed over its first lengths[b] steps; the padding
    after it stays in place. Applying it twice gives x back."""
    if lengths is None:
        return x.flip(0)
    T = x.shape[0]
    t = torch.arange(T).unsqueeze(1)  # (T, 1)
    source = torch.where(t < lengths, lengths - 1 - t, t).to(x.device)  # (T, B)
    source = source.view(T, -1, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, source)


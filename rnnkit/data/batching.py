"""From examples to batches: padding with lengths and a mask, batches of similar lengths, and the
contiguous streams of truncated backpropagation through time.

Batches are time-major, (T, B, ...), as rnnkit's layers take them, unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit import _check


class PaddedBatch(NamedTuple):
    data: Tensor     # (T, B, *) or, batch_first, (B, T, *); padding_value after each end
    lengths: Tensor  # (B,) int64: each sequence's true length, what the layers take
    mask: Tensor     # (T, B) or (B, T) bool, on data's device: True at real steps


def pad_sequences(sequences: Sequence, *, batch_first: bool = False,
                  padding_value: float = 0) -> PaddedBatch:
    """Pad B sequences of shapes (T_b, *) (tensors, or lists that torch.as_tensor takes) to the
    longest, T = max T_b. Every sequence needs at least one step, as the layers' lengths do."""
    if not isinstance(sequences, Sequence) or isinstance(sequences, Tensor) or not sequences:
        raise ValueError(f"sequences: expected a non-empty list of sequences, "
                         f"got {_check.describe(sequences)}")
    tensors = [torch.as_tensor(s) for s in sequences]
    first = tensors[0]
    for b, tensor in enumerate(tensors):
        if tensor.dim() == 0 or len(tensor) == 0:
            raise ValueError(f"sequences[{b}]: expected at least one step, "
                             f"got {_check.describe(tensor)}")
        if tensor.shape[1:] != first.shape[1:] or tensor.dtype != first.dtype:
            raise ValueError(f"sequences[{b}]: expected steps of shape {tuple(first.shape[1:])} "
                             f"and dtype {first.dtype} (as sequences[0]), "
                             f"got {_check.describe(tensor)}")
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.int64)
    steps = int(lengths.max())
    data = first.new_full((steps, len(tensors), *first.shape[1:]), padding_value)
    for b, tensor in enumerate(tensors):
        data[:len(tensor), b] = tensor
    # lengths stay on the CPU, where packing wants them; the mask goes where the loss is computed
    mask = torch.arange(steps, device=data.device)[:, None] < lengths.to(data.device)[None, :]
    if batch_first:
        return PaddedBatch(data.transpose(0, 1).contiguous(), lengths, mask.t().contiguous())
    return PaddedBatch(data, lengths, mask)


class BucketBatchSampler:
    """Batches of indices whose lengths are close, so that little of a padded batch is padding.

    Each epoch (each `iter`) shuffles the indices, sorts them by length (the shuffle decides the
    order among equal lengths), cuts the sorted list into batches and shuffles the batches. With
    `drop_last`, the indices that do not fill a batch are left out before sorting, so they are a
    random few each epoch rather than always the longest. `shuffle=False` gives the batches in
    order of length, the same every time (for evaluation).

    Pass a seeded `torch.Generator` for a reproducible sequence of epochs; without one, the
    shuffles draw from torch's global generator (so `torch.manual_seed` fixes them). Use it as a
    DataLoader's `batch_sampler`.
    """

    def __init__(self, lengths: Sequence[int] | Tensor, batch_size: int, *,
                 drop_last: bool = False, shuffle: bool = True,
                 generator: torch.Generator | None = None):
        lengths = torch.as_tensor(lengths)
        if lengths.dim() != 1 or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
            raise ValueError(f"lengths: expected a 1-D sequence of ints, "
                             f"got {_check.describe(lengths)}")
        self.lengths = lengths
        self.batch_size = _check.positive_int("batch_size", batch_size)
        self.drop_last, self.shuffle, self.generator = drop_last, shuffle, generator

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full + int(rest > 0 and not self.drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        count = len(self.lengths)
        order = self._permutation(count) if self.shuffle else torch.arange(count)
        if self.drop_last:
            order = order[:count - count % self.batch_size]
        order = order[torch.argsort(self.lengths[order], stable=True)]
        batches = order.split(self.batch_size)
        batch_order = self._permutation(len(batches)) if self.shuffle else range(len(batches))
        for i in batch_order:
            yield batches[i].tolist()

    def _permutation(self, n: int) -> Tensor:
        return torch.randperm(n, generator=self.generator)


def parallel_streams(tokens: Sequence[int] | Tensor, num_streams: int) -> Tensor:
    """(B, N): one long sequence of L token ids cut into B = num_streams contiguous streams of
    N = L // B tokens (the last L mod B tokens are dropped): stream b is tokens[b*N:(b+1)*N].
    As Zaremba et al.'s `batchify`, whose (N, B) this is transposed."""
    tokens = torch.as_tensor(tokens)
    _check.positive_int("num_streams", num_streams)
    if tokens.dim() != 1 or len(tokens) < 2 * num_streams:
        raise ValueError(f"tokens: expected a 1-D sequence of at least 2 * num_streams = "
                         f"{2 * num_streams} tokens (each stream needs an input and a target), "
                         f"got {_check.describe(tokens)}")
    length = len(tokens) // num_streams
    return tokens[:length * num_streams].view(num_streams, length)


def bptt_chunks(streams: Tensor, steps: int) -> Iterator[tuple[Tensor, Tensor]]:
    """(input, target) chunks of `steps` steps from streams (B, N), both (T, B) with T = steps
    except maybe the last; target[t] = input[t + 1] in the stream, so one chunk's first input is
    the previous chunk's last target. A chunk's final state is the next one's initial state
    (detached), as truncated BPTT does."""
    _check.positive_int("steps", steps)
    if not isinstance(streams, Tensor) or streams.dim() != 2:
        raise ValueError(f"streams: expected a (B, N) tensor (see parallel_streams), "
                         f"got {_check.describe(streams)}")
    return _chunks(streams, steps)


def _chunks(streams: Tensor, steps: int) -> Iterator[tuple[Tensor, Tensor]]:
    # The last token has no target, so inputs run up to N - 1.
    last = streams.shape[1] - 1
    for start in range(0, last, steps):
        end = min(start + steps, last)
        yield (streams[:, start:end].t().contiguous(),
               streams[:, start + 1:end + 1].t().contiguous())

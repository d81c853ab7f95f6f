"""Padding with lengths and a mask, batches of similar lengths, and the contiguous streams of
truncated BPTT."""

import pytest
import torch

from rnnkit.data import BucketBatchSampler, bptt_chunks, pad_sequences, parallel_streams


def test_padding_time_major_with_lengths_and_mask():
    batch = pad_sequences([torch.tensor([1, 2, 3]), torch.tensor([4]), [5, 6]])
    assert torch.equal(batch.data, torch.tensor([[1, 4, 5], [2, 0, 6], [3, 0, 0]]))
    assert batch.lengths.dtype == torch.int64 and batch.lengths.tolist() == [3, 1, 2]
    assert torch.equal(batch.mask, batch.data != 0)


def test_padding_batch_first_with_features_and_a_padding_value():
    sequences = [torch.ones(2, 3), torch.ones(4, 3)]
    data, lengths, mask = pad_sequences(sequences, batch_first=True, padding_value=-1.0)
    assert data.shape == (2, 4, 3) and mask.shape == (2, 4)
    assert torch.equal(mask, torch.tensor([[True, True, False, False], [True] * 4]))
    assert data[mask].eq(1).all() and data[~mask].eq(-1).all()
    assert lengths.tolist() == [2, 4]


@pytest.mark.parametrize("sequences, message", [
    ([], "sequences: expected a non-empty list"),
    ([torch.ones(2), torch.ones(0)], r"sequences\[1\]: expected at least one step"),
    ([torch.ones(2, 3), torch.ones(2, 4)], r"sequences\[1\]: expected steps of shape \(3,\)"),
    ([torch.ones(2), torch.ones(2, dtype=torch.int64)], "dtype torch.float32"),
])
def test_padding_errors_name_the_sequence(sequences, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(sequences)


LENGTHS = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 1, 9, 2]


def epoch(sampler):
    return list(sampler)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 13, 20])
def test_buckets_cover_every_index_once(batch_size):
    sampler = BucketBatchSampler(LENGTHS, batch_size, generator=torch.Generator().manual_seed(0))
    batches = epoch(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(len(LENGTHS)))
    assert len(batches) == len(sampler)
    assert sum(len(batch) < batch_size for batch in batches) <= 1


def test_buckets_group_similar_lengths():
    sampler = BucketBatchSampler(LENGTHS, 4, shuffle=False)
    spans = [[LENGTHS[i] for i in batch] for batch in sampler]
    assert spans == [[1, 1, 2, 2], [3, 3, 4, 5], [6, 7, 8, 9], [9]]


def test_drop_last_leaves_out_a_random_remainder():
    sampler = BucketBatchSampler(LENGTHS, 4, drop_last=True,
                                 generator=torch.Generator().manual_seed(0))
    epochs = [epoch(sampler) for _ in range(5)]
    for batches in epochs:
        assert len(batches) == len(sampler) == 3 and all(len(b) == 4 for b in batches)
        assert len({i for b in batches for i in b}) == 12
    left_out = {next(iter(set(range(13)) - {i for b in batches for i in b})) for batches in epochs}
    assert len(left_out) > 1


def test_same_generator_seed_same_batches_and_epochs_differ():
    def sampler():
        return BucketBatchSampler(LENGTHS, 3, generator=torch.Generator().manual_seed(7))
    first, second = sampler(), sampler()
    assert [epoch(first) for _ in range(3)] == [epoch(second) for _ in range(3)]
    assert epoch(first) != epoch(first)


def test_bucket_lengths_must_be_integers():
    with pytest.raises(ValueError, match="lengths: expected a 1-D sequence of ints"):
        BucketBatchSampler([1.5, 2.0], 2)


def test_parallel_streams_cut_the_sequence_into_contiguous_rows():
    streams = parallel_streams(torch.arange(11), 3)
    assert torch.equal(streams, torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]]))
    with pytest.raises(ValueError, match="at least 2 \\* num_streams = 8 tokens"):
        parallel_streams(range(7), 4)


def test_bptt_chunks_are_contiguous_and_targets_are_inputs_shifted_by_one():
    tokens = torch.arange(2 * 23)
    streams = parallel_streams(tokens, 2)  # (2, 23): rows 0..22 and 23..45
    chunks = list(bptt_chunks(streams, 5))
    assert [x.shape for x, _ in chunks] == [(5, 2)] * 4 + [(2, 2)]  # 22 inputs: 5+5+5+5+2
    for x, y in chunks:
        assert x.shape == y.shape
        assert torch.equal(y, x + 1)  # the stream is consecutive integers
    for (_, y), (x_next, y_next) in zip(chunks, chunks[1:]):
        assert torch.equal(x_next[0], y[-1])
        assert torch.equal(y_next[0], y[-1] + 1)
    inputs = torch.cat([x for x, _ in chunks])
    assert torch.equal(inputs.t(), streams[:, :-1])


def test_bptt_chunks_check_arguments():
    with pytest.raises(ValueError, match="streams: expected a \\(B, N\\) tensor"):
        bptt_chunks(torch.arange(5), 2)
    with pytest.raises(ValueError, match="steps: expected an int >= 1"):
        bptt_chunks(torch.zeros(2, 5), 0)

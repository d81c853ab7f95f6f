"""The pyramidal layer against a construction by hand: each sequence alone, its frames grouped
and concatenated in a Python loop, then the next layer's Bidirectional on the result."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from rnnkit.layers import Bidirectional, Pyramidal, Recurrent, Stacked

F64 = torch.float64
I, H = 3, 2
CELLS = {
    "lstm": lambda size: rnnkit.LSTMCell(size, H, dtype=F64),
    "gru": lambda size: rnnkit.GRUCell(size, H, dtype=F64),
    "elman": lambda size: rnnkit.ElmanCell(size, H, dtype=F64),
}


def by_hand(layer, x, length):
    """One sequence x: (T, 1, I) through `layer` (a Pyramidal) by its definition, with the
    last group of every layer's outputs completed by zero frames."""
    out, _ = layer.layers[0](x[:length])
    for r, next_layer in zip(layer.reductions, layer.layers[1:]):
        frames = list(out[:, 0])
        frames += [torch.zeros_like(frames[0])] * (-len(frames) % r)
        grouped = [torch.cat(frames[t:t + r]) for t in range(0, len(frames), r)]
        out, _ = next_layer(torch.stack(grouped).unsqueeze(1))
    return out


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("reduction", [2, [3, 2]])
def test_pyramidal_equals_construction_by_hand(cell, reduction):
    torch.manual_seed(0)
    layer = Pyramidal.bidirectional(CELLS[cell], I, 3, reduction)
    x = torch.randn(9, 3, I, dtype=F64)
    lengths = torch.tensor([9, 4, 1])
    out, finals = layer(x, lengths=lengths)
    out_lengths = layer.output_lengths(lengths)
    r1, r2 = layer.reductions
    assert out_lengths.tolist() == [-(-(-(-n // r1)) // r2) for n in lengths.tolist()]
    assert out.shape == (-(-(-(-9 // r1)) // r2), 3, 2 * H)
    for b, n in enumerate(out_lengths.tolist()):
        want = by_hand(layer, x[:, b:b + 1], lengths[b])
        torch.testing.assert_close(out[:n, b:b + 1], want, atol=1e-12, rtol=0)
        assert out[n:, b].abs().sum() == 0


def test_odd_time_dimension_pads_the_last_group_with_zeros():
    torch.manual_seed(1)
    layer = Pyramidal.bidirectional(CELLS["gru"], I, 2)
    x = torch.randn(5, 2, I, dtype=F64)
    out, _ = layer(x)
    assert out.shape == (3, 2, 2 * H)
    torch.testing.assert_close(out, layer(x, lengths=[5, 5])[0], atol=0, rtol=0)
    for b in range(2):
        torch.testing.assert_close(out[:, b:b + 1], by_hand(layer, x[:, b:b + 1], 5),
                                   atol=1e-12, rtol=0)
    # A sequence shorter than the reduction still has one output step.
    assert layer.output_lengths(torch.tensor([1, 2])).tolist() == [1, 1]


def test_reduction_of_one_is_a_plain_stack():
    torch.manual_seed(2)
    layer = Pyramidal.bidirectional(CELLS["lstm"], I, 2, reduction=1)
    stack = Stacked(layer.layers)
    x, lengths = torch.randn(4, 2, I, dtype=F64), torch.tensor([4, 3])
    torch.testing.assert_close(layer(x, lengths=lengths)[0], stack(x, lengths=lengths)[0],
                               atol=0, rtol=0)


def test_batch_first_and_packed_inputs_come_back_with_the_reduced_lengths():
    torch.manual_seed(3)
    layer = Pyramidal.bidirectional(CELLS["gru"], I, 2)
    x, lengths = torch.randn(5, 3, I, dtype=F64), torch.tensor([3, 5, 2])
    want, _ = layer(x, lengths=lengths)
    layer.batch_first = True
    got, _ = layer(x.transpose(0, 1), lengths=lengths)
    torch.testing.assert_close(got.transpose(0, 1), want, atol=0, rtol=0)
    layer.batch_first = False
    packed, _ = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))
    unpacked, packed_lengths = pad_packed_sequence(packed)
    assert packed_lengths.tolist() == [2, 3, 1]
    torch.testing.assert_close(unpacked, want, atol=1e-12, rtol=0)


def test_stacked_passes_the_reduced_lengths_on():
    torch.manual_seed(4)
    pyramid = Pyramidal.bidirectional(CELLS["elman"], I, 2)
    top = Recurrent(rnnkit.ElmanCell(2 * H, H, dtype=F64))
    stack = Stacked([pyramid, top])
    x, lengths = torch.randn(6, 2, I, dtype=F64), torch.tensor([6, 3])
    out, finals = stack(x, lengths=lengths)
    assert stack.output_lengths(lengths).tolist() == [3, 2]
    below, _ = pyramid(x, lengths=lengths)
    for b, n in enumerate([3, 2]):
        alone, alone_final = top(below[:n, b:b + 1])
        torch.testing.assert_close(out[:n, b:b + 1], alone, atol=1e-12, rtol=0)
        torch.testing.assert_close(finals[1][0][b:b + 1], alone_final[0], atol=1e-12, rtol=0)


def test_pyramidal_gradcheck_with_lengths():
    torch.manual_seed(5)
    layer = Pyramidal.bidirectional(CELLS["lstm"], 2, 2, reduction=2)
    params = dict(layer.named_parameters())
    x = torch.randn(5, 2, 2, dtype=F64, requires_grad=True)
    lengths = torch.tensor([5, 2])

    def f(x, *values):
        out, finals = torch.func.functional_call(layer, dict(zip(params, values)), (x,),
                                                 {"lengths": lengths})
        (h_f, c_f), (h_b, _) = finals[-1]
        return out.pow(2).sum() + (h_f * c_f).sum() + h_b.sum()

    assert torch.autograd.gradcheck(f, (x, *params.values()))


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(reduction=0), ValueError, r"reduction: expected an int >= 1, got 0"),
    (dict(reduction=2.0), TypeError, r"reduction: expected an int, got float 2.0"),
    (dict(reduction=[2, 2]), ValueError, r"reduction: expected 1 factors .* got 2"),
    (dict(reduction=[True]), TypeError, r"reduction\[0\]: expected an int, got bool"),
])
def test_bad_reduction(kwargs, error, pattern):
    layers = [Bidirectional(Recurrent(CELLS["gru"](I)), Recurrent(CELLS["gru"](I))),
              Bidirectional(Recurrent(CELLS["gru"](4 * H)), Recurrent(CELLS["gru"](4 * H)))]
    with pytest.raises(error, match=pattern):
        Pyramidal(layers, **kwargs)


def test_bad_layers_and_state():
    low = Bidirectional(Recurrent(CELLS["gru"](I)), Recurrent(CELLS["gru"](I)))
    with pytest.raises(ValueError, match=r"layers\[1\]: expected input_size 8 \(reduction 2 x "
                                         r"layers\[0\].output_size 4\), got 4"):
        Pyramidal([low, Recurrent(CELLS["gru"](2 * H))])
    with pytest.raises(TypeError, match=r"layers\[0\]: expected a rnnkit sequence layer"):
        Pyramidal([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match=r"layers: expected at least one layer"):
        Pyramidal([])
    layer = Pyramidal.bidirectional(CELLS["gru"], I, 2)
    with pytest.raises(TypeError, match=r"state: expected a list of 2 layer states or None"):
        layer(torch.randn(4, 2, I, dtype=F64), state=[None])
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, 4\]"):
        layer(torch.randn(4, 2, I, dtype=F64), lengths=[5, 1])

"""Bad input to layers raises an error naming the argument, what was expected and what came."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit
from rnnkit.layers import Bidirectional, Recurrent, Stacked

I, H = 3, 4


@pytest.fixture
def lstm():
    return rnnkit.LSTM(I, H, num_layers=2)


@pytest.mark.parametrize("x, error, pattern", [
    (torch.randn(5, 2, 3, 1), ValueError, r"input: expected 3 dimensions .*got shape \(5, 2, 3, 1\)"),
    (torch.randn(5, 2, 7), ValueError, r"input: expected last dimension 3 \(input_size\), got shape \(5, 2, 7\)"),
    (torch.randn(5, 2, 3, dtype=torch.float64), TypeError, r"input: expected dtype torch.float32 .* got torch.float64"),
    (torch.randint(0, 3, (5, 2, 3)), TypeError, r"input: expected dtype torch.float32 .* got torch.int64"),
    (torch.randn(0, 2, 3), ValueError, r"input: expected at least one time step"),
    ([[1.0, 2.0, 3.0]], TypeError, r"input: expected a tensor or a PackedSequence, got a list of 1"),
])
def test_bad_input(lstm, x, error, pattern):
    with pytest.raises(error, match=pattern):
        lstm(x)


@pytest.mark.parametrize("lengths, error, pattern", [
    (torch.tensor([5, 2, 1]), ValueError, r"lengths: expected shape \(2,\) to match the batch, got \(3,\)"),
    (torch.tensor([6, 2]), ValueError, r"lengths: expected values in \[1, 5\] .* got min 2 and max 6"),
    (torch.tensor([0, 2]), ValueError, r"lengths: expected values in \[1, 5\] .* got min 0"),
    (torch.tensor([5.0, 2.0]), TypeError, r"lengths: expected an integer tensor, got dtype torch.float32"),
    ("5,2", TypeError, r"lengths: expected a 1-D integer tensor or a list of ints, got str"),
])
def test_bad_lengths(lstm, lengths, error, pattern):
    with pytest.raises(error, match=pattern):
        lstm(torch.randn(5, 2, I), lengths=lengths)


def test_lengths_with_packed_input(lstm):
    packed = pack_padded_sequence(torch.randn(5, 2, I), torch.tensor([5, 3]))
    with pytest.raises(ValueError, match="lengths: expected None with a PackedSequence"):
        lstm(packed, lengths=torch.tensor([5, 3]))


@pytest.mark.parametrize("hx, error, pattern", [
    (torch.zeros(2, 2, H), TypeError, r"hx: expected a tuple of 2 tensors \('h', 'c'\), got a tensor"),
    ((torch.zeros(1, 2, H), torch.zeros(2, 2, H)), ValueError, r"hx\[0\] \(h_0\): expected shape \(2, 2, 4\), got \(1, 2, 4\)"),
    ((torch.zeros(2, 2, H), torch.zeros(2, 3, H)), ValueError, r"hx\[1\] \(c_0\): expected shape \(2, 2, 4\), got \(2, 3, 4\)"),
    ((torch.zeros(2, 2, H), torch.zeros(2, 2, H, dtype=torch.float64)), TypeError, r"hx\[1\] \(c_0\): expected dtype torch.float32"),
])
def test_bad_state(lstm, hx, error, pattern):
    with pytest.raises(error, match=pattern):
        lstm(torch.randn(5, 2, I), hx)


def test_bad_state_of_single_state_network():
    gru = rnnkit.GRU(I, H, bidirectional=True)
    with pytest.raises(ValueError, match=r"hx: expected shape \(2, 2, 4\), got \(1, 2, 4\)"):
        gru(torch.randn(5, 2, I), torch.zeros(1, 2, H))


def test_bad_state_of_generic_layers():
    layer = Recurrent(rnnkit.LSTMCell(I, H))
    with pytest.raises(ValueError, match=r"state\[c\]: expected shape \(2, 4\), got \(2, 5\)"):
        layer(torch.randn(5, 2, I), (torch.zeros(2, H), torch.zeros(2, 5)))
    bi = Bidirectional(Recurrent(rnnkit.GRUCell(I, H)), Recurrent(rnnkit.GRUCell(I, H)))
    with pytest.raises(TypeError, match=r"state: expected \(fwd_state, bwd_state\) or None"):
        bi(torch.randn(5, 2, I), torch.zeros(2, H))
    stack = Stacked([Recurrent(rnnkit.GRUCell(I, H))])
    with pytest.raises(TypeError, match=r"state: expected a list of 1 layer states"):
        stack(torch.randn(5, 2, I), [None, None])


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(num_layers=0), ValueError, r"num_layers: expected an int >= 1, got 0"),
    (dict(dropout=1.5), ValueError, r"dropout: expected a probability in \[0, 1\], got 1.5"),
    (dict(recurrent_dropout=-0.1), ValueError, r"recurrent_dropout: expected a probability"),
    (dict(weight_drop="0.5"), TypeError, r"weight_drop: expected a float in \[0, 1\], got str"),
    (dict(spec="LSTMX"), ValueError, r"spec: expected an LSTM variant name, one of .*NIG.*got 'LSTMX'"),
    (dict(spec="CIFG+NIG"), ValueError, r"coupled=True \(CIFG, f = 1 - i\) needs the input gate"),
    (dict(merge="max", bidirectional=True), ValueError, r"merge: expected one of .*got 'max'"),
    (dict(proj_size=4), ValueError, r"proj_size: expected a value < hidden_size \(4\), got 4"),
    (dict(recurrent_init="xavier"), ValueError, r"recurrent_init: expected one of .*got 'xavier'"),
])
def test_bad_constructor_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        rnnkit.LSTM(I, H, **kwargs)


def test_bad_layer_arguments():
    with pytest.raises(TypeError, match=r"cell: expected a rnnkit RecurrentCell, got LSTMCell"):
        Recurrent(torch.nn.LSTMCell(I, H))
    with pytest.raises(ValueError, match=r"bwd: expected input_size 3 \(fwd's\), got 5"):
        Bidirectional(Recurrent(rnnkit.GRUCell(I, H)), Recurrent(rnnkit.GRUCell(5, H)))
    with pytest.raises(ValueError, match=r"bwd: merge='sum' needs output_size 4 \(fwd's\), got 6"):
        Bidirectional(Recurrent(rnnkit.GRUCell(I, H)), Recurrent(rnnkit.GRUCell(I, 6)), "sum")
    with pytest.raises(ValueError, match=r"layers: expected at least one layer"):
        Stacked([])
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of 'tanh', 'relu', 'sigmoid', got 'gelu'"):
        rnnkit.RNN(I, H, nonlinearity="gelu")


def test_input_on_another_device(lstm):
    """The 'meta' device stands in for a GPU: the check is the same."""
    with pytest.raises(ValueError, match=r"input: expected a tensor on cpu .* got one on meta"):
        lstm(torch.randn(5, 2, I, device="meta"))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h_0\): expected a tensor on cpu"):
        lstm(torch.randn(5, 2, I), (torch.zeros(2, 2, H, device="meta"), torch.zeros(2, 2, H)))

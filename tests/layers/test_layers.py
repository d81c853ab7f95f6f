"""The driver, bidirectional and stacked layers on every kind of cell: lengths, reversal, merges,
streaming, and gradients."""

import pytest
import torch

import rnnkit
from rnnkit.layers import Bidirectional, Recurrent, Stacked, reverse_within_lengths

F64 = torch.float64
I, H, B, T = 3, 4, 3, 6
LENGTHS = torch.tensor([6, 2, 4])


def make_cell(name, input_size=I):
    kw = dict(dtype=F64)
    return {
        "elman": lambda: rnnkit.ElmanCell(input_size, H, nonlinearity="sigmoid", **kw),
        "jordan": lambda: rnnkit.JordanCell(input_size, H, 2, **kw),
        "lstm-vanilla": lambda: rnnkit.LSTMCell(input_size, H, spec="vanilla", **kw),
        "lstm-fgr-proj": lambda: rnnkit.LSTMCell(input_size, H, spec="FGR", proj_size=2, **kw),
        "lstm-cifg": lambda: rnnkit.LSTMCell(input_size, H, spec="CIFG", **kw),
        "gru-before": lambda: rnnkit.GRUCell(input_size, H, spec=rnnkit.GRUSpec(False), **kw),
        "mut2": lambda: rnnkit.MUTCell(input_size, H, kind="MUT2", input_proj=True, **kw),
    }[name]()


CELLS = ["elman", "jordan", "lstm-vanilla", "lstm-fgr-proj", "lstm-cifg", "gru-before", "mut2"]


def step_loop(cell, x, state=None):
    """The plain loop of cell.step over x: (T, B, I) -> (outputs (T, B, O), final state)."""
    outputs = []
    for x_t in x:
        out, state = cell.step(x_t, state)
        outputs.append(out)
    return torch.stack(outputs), state


@pytest.mark.parametrize("name", CELLS)
def test_recurrent_with_lengths_equals_each_sequence_alone(name):
    torch.manual_seed(0)
    layer = Recurrent(make_cell(name))
    x = torch.randn(T, B, I, dtype=F64)
    state0 = tuple(torch.randn(B, n, dtype=F64) for n in layer.cell.state_sizes)
    out, final = layer(x, state0, lengths=LENGTHS)
    for b, length in enumerate(LENGTHS.tolist()):
        alone, alone_final = step_loop(layer.cell, x[:length, b:b + 1],
                                       tuple(s[b:b + 1] for s in state0))
        torch.testing.assert_close(out[:length, b:b + 1], alone, atol=1e-12, rtol=0)
        assert out[length:, b].abs().sum() == 0
        for got, want in zip(final, alone_final):
            torch.testing.assert_close(got[b:b + 1], want, atol=1e-12, rtol=0)


def test_reverse_within_lengths():
    x = torch.arange(T * B, dtype=F64).view(T, B, 1)
    rev = reverse_within_lengths(x, LENGTHS)
    assert rev[:, 1, 0].tolist() == [x[1, 1, 0], x[0, 1, 0], *x[2:, 1, 0].tolist()]
    assert rev[:4, 2, 0].tolist() == x[:4, 2, 0].flip(0).tolist()
    torch.testing.assert_close(reverse_within_lengths(rev, LENGTHS), x)
    torch.testing.assert_close(reverse_within_lengths(x, None), x.flip(0))


@pytest.mark.parametrize("name", ["lstm-vanilla", "jordan", "mut2"])
@pytest.mark.parametrize("merge", ["concat", "sum", "mean", "mul", "linear"])
def test_bidirectional_equals_two_directions_run_alone(name, merge):
    torch.manual_seed(1)
    layer = Bidirectional(Recurrent(make_cell(name)), Recurrent(make_cell(name)), merge)
    x = torch.randn(T, B, I, dtype=F64)
    out, (final_f, final_b) = layer(x, lengths=LENGTHS)
    for b, length in enumerate(LENGTHS.tolist()):
        seq = x[:length, b:b + 1]
        fwd, fwd_final = step_loop(layer.fwd.cell, seq)
        bwd_rev, bwd_final = step_loop(layer.bwd.cell, seq.flip(0))
        bwd = bwd_rev.flip(0)
        want = {"concat": lambda: torch.cat([fwd, bwd], -1), "sum": lambda: fwd + bwd,
                "mean": lambda: (fwd + bwd) / 2, "mul": lambda: fwd * bwd,
                "linear": lambda: layer.merge_linear(torch.cat([fwd, bwd], -1))}[merge]()
        torch.testing.assert_close(out[:length, b:b + 1], want, atol=1e-12, rtol=0)
        assert out[length:, b].abs().sum() == 0
        for got, expected in zip(final_f + final_b, fwd_final + bwd_final):
            torch.testing.assert_close(got[b:b + 1], expected, atol=1e-12, rtol=0)
    assert out.shape[-1] == layer.output_size


def test_stacked_chains_layers_and_checks_sizes():
    torch.manual_seed(2)
    first = Bidirectional(Recurrent(make_cell("gru-before")), Recurrent(make_cell("gru-before")))
    second = Recurrent(rnnkit.LSTMCell(2 * H, H, spec="NOG", dtype=F64))
    stack = Stacked([first, second])
    x = torch.randn(T, B, I, dtype=F64)
    out, finals = stack(x, lengths=LENGTHS)
    mid, mid_final = first(x, lengths=LENGTHS)
    top, top_final = second(mid, lengths=LENGTHS)
    torch.testing.assert_close(out, top)
    assert len(finals) == 2
    with pytest.raises(ValueError, match=r"layers\[1\]: expected input_size 8 .* got 3"):
        Stacked([first, Recurrent(make_cell("elman"))])


@pytest.mark.parametrize("spec", ["torch", "FGR"])
def test_streaming_step_equals_full_sequence(spec):
    torch.manual_seed(3)
    lstm = rnnkit.LSTM(I, H, num_layers=2, dropout=0.5, spec=spec, dtype=F64).eval()
    x = torch.randn(T, B, I, dtype=F64)
    full, final = lstm(x)
    hx, outs = None, []
    for x_t in x:
        out, hx = lstm.step(x_t, hx)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs), full, atol=1e-12, rtol=0)
    for got, want in zip(hx, final):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    assert len(final) == (3 if spec == "FGR" else 2)  # FGR also carries the previous gates


def test_streaming_refuses_bidirectional():
    gru = rnnkit.GRU(I, H, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        gru.step(torch.randn(B, I))


def test_layer_gradcheck_with_lengths():
    """Autograd through lengths masking, reversal and merges, against finite differences."""
    torch.manual_seed(4)
    lstm = rnnkit.LSTM(I, 2, num_layers=2, bidirectional=True, spec="vanilla", dtype=F64)
    params = dict(lstm.named_parameters())
    x = torch.randn(4, 2, I, dtype=F64, requires_grad=True)
    lengths = torch.tensor([4, 2])

    def f(x, *values):
        out, (h, c) = torch.func.functional_call(lstm, dict(zip(params, values)), (x,),
                                                 {"lengths": lengths})
        return out.sum() + (h * c).sum()

    assert torch.autograd.gradcheck(f, (x, *params.values()))

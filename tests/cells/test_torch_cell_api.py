"""rnnkit.nn.LSTMCell / GRUCell / RNNCell take and return what torch.nn's cells do, for torch's
cells (equal to torch, float64, values and gradients) and for variants (a user's own loop over
time equals rnnkit's layer)."""

import pytest
import torch
from torch import nn

import rnnkit
import rnnkit.nn as rnn

I, H, B, T = 3, 5, 4, 6
DT = torch.float64
PAIRS = {
    "lstm": (lambda: nn.LSTMCell(I, H, dtype=DT), lambda: rnn.LSTMCell(I, H, dtype=DT)),
    "gru": (lambda: nn.GRUCell(I, H, dtype=DT), lambda: rnn.GRUCell(I, H, dtype=DT)),
    "rnn_relu": (lambda: nn.RNNCell(I, H, nonlinearity="relu", dtype=DT),
                 lambda: rnn.RNNCell(I, H, nonlinearity="relu", dtype=DT)),
    "no_bias": (lambda: nn.LSTMCell(I, H, bias=False, dtype=DT),
                lambda: rnn.LSTMCell(I, H, bias=False, dtype=DT)),
}


def _flat(state):
    return torch.cat([s.reshape(-1) for s in state]) if isinstance(state, tuple) else state.reshape(-1)


@pytest.mark.parametrize("kind", list(PAIRS))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_equals_torchs_cell(kind, batched, with_state):
    make_theirs, make_ours = PAIRS[kind]
    theirs, ours = make_theirs(), make_ours()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    lead = (B,) if batched else ()
    x = torch.randn(*lead, I, dtype=DT)
    hx = None
    if with_state:
        parts = [torch.randn(*lead, H, dtype=DT) for _ in range(2 if "lstm" in kind or
                                                                  kind == "no_bias" else 1)]
        hx = tuple(parts) if len(parts) == 2 else parts[0]
    got, want = ours(x, hx), theirs(x, hx)
    assert type(got) is type(want)
    torch.testing.assert_close(_flat(got), _flat(want))
    weights = torch.randn_like(_flat(want))
    (_flat(got) @ weights).backward()
    (_flat(want) @ weights).backward()
    for name, p in theirs.named_parameters():
        torch.testing.assert_close(dict(ours.named_parameters())[name].grad, p.grad)


@pytest.mark.parametrize("spec", ["CIFG", "VANILLA", "NIAF+NOAF"])
def test_a_variant_cell_in_a_users_loop_equals_the_layer(spec):
    cell = rnn.LSTMCell(I, H, spec=spec, dtype=DT)
    layer = rnnkit.LSTM(I, H, spec=spec, dtype=DT)
    layer.load_state_dict({f"{name}_l0": p for name, p in cell.state_dict().items()})
    x = torch.randn(T, B, I, dtype=DT)
    h, c = torch.zeros(B, H, dtype=DT), torch.zeros(B, H, dtype=DT)
    outputs = []
    for t in range(T):
        h, c = cell(x[t], (h, c))
        outputs.append(h)
    out, (h_n, c_n) = layer(x)
    torch.testing.assert_close(torch.stack(outputs), out)
    torch.testing.assert_close(c, c_n[0])


def test_fgr_returns_its_whole_state_and_gru_variant_its_h():
    fgr = rnn.LSTMCell(I, H, spec="FGR", dtype=DT)
    h, c, gates = fgr(torch.randn(B, I, dtype=DT))
    assert h.shape == c.shape == (B, H) and gates.shape == (B, 3 * H)
    again = fgr(torch.randn(B, I, dtype=DT), (h, c, gates))
    assert len(again) == 3
    cho = rnn.GRUCell(I, H, reset_after=False, dtype=DT)
    x, h0 = torch.randn(B, I, dtype=DT), torch.randn(B, H, dtype=DT)
    torch.testing.assert_close(cho(x, h0), cho.step(x, (h0,))[0])


def test_the_cells_still_run_inside_rnnkits_layers():
    cell = rnn.GRUCell(I, H, dtype=DT)
    out, (h_n,) = rnnkit.Recurrent(cell)(torch.randn(T, B, I, dtype=DT))
    assert out.shape == (T, B, H) and h_n.shape == (B, H)


def test_bad_input_names_the_argument():
    cell = rnn.LSTMCell(I, H)
    with pytest.raises(rnnkit.ShapeError, match=r"input: expected 1 dimension \(I,\) or 2"):
        cell(torch.randn(T, B, I))
    with pytest.raises(RuntimeError, match=r"x_t: expected last dimension 3 \(input_size\)"):
        cell(torch.randn(B, I + 1))
    with pytest.raises(RuntimeError, match=r"state\[h\]: expected shape \(4, 5\)"):
        cell(torch.randn(B, I), (torch.zeros(B + 1, H), torch.zeros(B + 1, H)))
    with pytest.raises(TypeError, match="input: expected a tensor"):
        cell([1.0, 2.0, 3.0])

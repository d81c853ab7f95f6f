"""The cells PyTorch also has equal PyTorch's: outputs, new states, and the gradients of the
input, the state and every parameter, in float64 within 1e-10.

LSTMCell (default spec) vs torch.nn.LSTMCell; LSTMCell(proj_size) vs a one-step
torch.nn.LSTM(proj_size=...); GRUCell (reset_after=True) vs torch.nn.GRUCell; ElmanCell
tanh/relu vs torch.nn.RNNCell."""

import pytest
import torch

from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, LSTMCell

from cells_helpers import DT

TOL = dict(atol=1e-10, rtol=0)
I, H, B = 5, 6, 3


def _generic(module, seed=0):
    """Generic weights (not the init's structure) in both modules, set on the torch side."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=DT) * 0.5)
    return module


def _inputs(h_sizes, seed=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, I, generator=gen, dtype=DT)
    state = tuple(torch.randn(B, n, generator=gen, dtype=DT) for n in h_sizes)
    return x, state


def _compare(run_theirs, theirs, run_ours, ours, param_map, h_sizes):
    """run_*(module, x, state) -> tuple of output tensors. Compares the outputs, then the
    gradients of one random linear functional of them w.r.t. x, state and the parameters
    (ours by name -> theirs by name in param_map)."""
    x0, s0 = _inputs(h_sizes)
    results = []
    for run, module in ((run_theirs, theirs), (run_ours, ours)):
        x = x0.clone().requires_grad_()
        state = tuple(s.clone().requires_grad_() for s in s0)
        outs = run(module, x, state)
        results.append((x, state, outs))
    (x_t, s_t, out_t), (x_o, s_o, out_o) = results
    assert len(out_t) == len(out_o)
    for a, b in zip(out_o, out_t):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **TOL)
    gen = torch.Generator().manual_seed(7)
    probes = [torch.randn(o.shape, generator=gen, dtype=DT) for o in out_t]
    sum((o * w).sum() for o, w in zip(out_t, probes)).backward()
    sum((o * w).sum() for o, w in zip(out_o, probes)).backward()
    torch.testing.assert_close(x_o.grad, x_t.grad, **TOL)
    for a, b in zip(s_o, s_t):
        torch.testing.assert_close(a.grad, b.grad, **TOL)
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert set(ours_params) == set(param_map), "every parameter of ours must be compared"
    assert set(theirs_params) == set(param_map.values())
    for name, their_name in param_map.items():
        assert ours_params[name].grad is not None, name
        torch.testing.assert_close(ours_params[name].grad, theirs_params[their_name].grad, **TOL)


def _copy(ours, theirs, param_map):
    with torch.no_grad():
        for name, their_name in param_map.items():
            getattr(ours, name).copy_(getattr(theirs, their_name))


def _run_cell_ours(module, x, state):
    out, new_state = module.step(x, state)
    return (out, *new_state)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_equals_torch_lstm_cell(bias):
    theirs = _generic(torch.nn.LSTMCell(I, H, bias=bias, dtype=DT))
    ours = LSTMCell(I, H, bias=bias, dtype=DT)
    assert ours.spec.is_torch
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    pmap = {n: n for n in names}
    _copy(ours, theirs, pmap)

    def run_theirs(module, x, state):
        h, c = module(x, state)
        return (h, h, c)  # ours returns (output, (h, c)); the output is h

    _compare(run_theirs, theirs, _run_cell_ours, ours, pmap, (H, H))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("proj_size", [1, 3])
def test_lstm_cell_proj_equals_one_step_of_torch_lstm(proj_size, bias):
    theirs = _generic(torch.nn.LSTM(I, H, bias=bias, proj_size=proj_size, dtype=DT))
    ours = LSTMCell(I, H, bias=bias, proj_size=proj_size, dtype=DT)
    assert ours.weight_hr.shape == (proj_size, H)
    assert ours.output_size == proj_size and ours.state_sizes == (proj_size, H)
    names = ["weight_ih", "weight_hh", "weight_hr"] + (["bias_ih", "bias_hh"] if bias else [])
    pmap = {n: n + "_l0" for n in names}
    _copy(ours, theirs, pmap)

    def run_theirs(module, x, state):
        h0, c0 = state
        out, (hn, cn) = module(x.unsqueeze(0), (h0.unsqueeze(0), c0.unsqueeze(0)))
        return (out[0], hn[0], cn[0])

    _compare(run_theirs, theirs, _run_cell_ours, ours, pmap, (proj_size, H))


@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell_reset_after_equals_torch_gru_cell(bias):
    theirs = _generic(torch.nn.GRUCell(I, H, bias=bias, dtype=DT))
    ours = GRUCell(I, H, bias=bias, spec=GRUSpec(reset_after=True), dtype=DT)
    assert GRUCell(I, H).spec.reset_after, "PyTorch's convention is the default"
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    pmap = {n: n for n in names}
    _copy(ours, theirs, pmap)

    def run_theirs(module, x, state):
        h = module(x, state[0])
        return (h, h)

    _compare(run_theirs, theirs, _run_cell_ours, ours, pmap, (H,))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_cell_equals_torch_rnn_cell(nonlinearity, bias):
    theirs = _generic(torch.nn.RNNCell(I, H, bias=bias, nonlinearity=nonlinearity, dtype=DT))
    ours = ElmanCell(I, H, bias=bias, nonlinearity=nonlinearity, dtype=DT)
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    pmap = {n: n for n in names}
    _copy(ours, theirs, pmap)

    def run_theirs(module, x, state):
        h = module(x, state[0])
        return (h, h)

    _compare(run_theirs, theirs, _run_cell_ours, ours, pmap, (H,))


def test_state_dicts_load_from_torch_cells():
    """Same parameter names and shapes as PyTorch's cells: a state_dict loads strictly."""
    for theirs, ours in [(torch.nn.LSTMCell(I, H), LSTMCell(I, H)),
                         (torch.nn.GRUCell(I, H), GRUCell(I, H)),
                         (torch.nn.RNNCell(I, H), ElmanCell(I, H))]:
        ours.load_state_dict(theirs.state_dict(), strict=True)
        for name, value in theirs.state_dict().items():
            assert torch.equal(ours.state_dict()[name], value)


def test_none_state_is_zeros_like_torch():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(B, I, generator=gen, dtype=DT)
    theirs = _generic(torch.nn.LSTMCell(I, H, dtype=DT))
    ours = LSTMCell(I, H, dtype=DT)
    ours.load_state_dict(theirs.state_dict())
    h_t, c_t = theirs(x)
    out, (h, c) = ours.step(x)
    torch.testing.assert_close(h, h_t, **TOL)
    torch.testing.assert_close(c, c_t, **TOL)

"""Shared helpers for the cell tests (a distinct module name: tests/ folders have no __init__)."""

from __future__ import annotations

import torch
from torch.func import functional_call

DT = torch.float64


def randomize(cell: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Overwrite every parameter with generic values N(0, scale^2): no special init structure
    (constant forget bias, identity blocks) that could hide a wrong equation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return cell


def random_state(cell, batch: int, seed: int = 1) -> tuple[torch.Tensor, ...]:
    """A generic state of the cell's shapes; the FGR previous-gates entry lies in (0, 1)."""
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for name, size in zip(cell.state_names, cell.state_sizes):
        t = torch.randn(batch, size, generator=gen, dtype=DT)
        parts.append(torch.sigmoid(t) if name == "gates" else t)
    return tuple(parts)


def random_input(cell, batch: int, seed: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, cell.input_size, generator=gen, dtype=DT)


def step_of_everything(cell):
    """(f, names): f(x, *state, *params) -> (output, *new_state), a pure function of the input,
    the state and every parameter of the cell (via torch.func.functional_call)."""
    names = [n for n, _ in cell.named_parameters()]
    n_state = len(cell.state_sizes)

    def f(x, *rest):
        state, params = rest[:n_state], rest[n_state:]
        out, new_state = functional_call(cell, dict(zip(names, params)), (x, tuple(state)))
        return (out, *new_state)

    return f, names


def lstm_reference(cell, x, state):
    """The LSTM equations of the LSTMCell docstring, written out gate by gate from the
    parameter blocks (an independent implementation to compare the cell against)."""
    spec, H = cell.spec, cell.hidden_size
    h, c = state[0], state[1]
    W = dict(zip(spec.gates, cell.weight_ih.split(H, 0)))
    U = dict(zip(spec.gates, cell.weight_hh.split(H, 0)))
    if cell.bias:
        b = dict(zip(spec.gates, cell.bias_ih.split(H, 0)))
        b2 = dict(zip(spec.gates, cell.bias_hh.split(H, 0)))
    else:
        zero = torch.zeros(H, dtype=x.dtype)
        b = b2 = {k: zero for k in spec.gates}
    a = {k: x @ W[k].T + b[k] + h @ U[k].T + b2[k] for k in spec.gates}
    if spec.full_gate_recurrence:
        V = cell.weight_gg  # rows: targets i, f, o; columns: sources i, f, o (t-1)
        prev = state[2]
        for row, k in enumerate("ifo"):
            a[k] = a[k] + prev @ V[row * H:(row + 1) * H].T
    p = dict(zip(spec.peephole_gates, cell.weight_ch)) if spec.peepholes else {}
    one = torch.ones_like(c)
    i = torch.sigmoid(a["i"] + (p["i"] * c if "i" in p else 0)) if spec.input_gate else one
    if spec.coupled:
        f = 1 - i
    elif spec.forget_gate:
        f = torch.sigmoid(a["f"] + (p["f"] * c if "f" in p else 0))
    else:
        f = one
    g = torch.tanh(a["g"]) if spec.input_activation else a["g"]
    c_new = f * c + i * g
    o = torch.sigmoid(a["o"] + (p["o"] * c_new if "o" in p else 0)) if spec.output_gate else one
    m = o * (torch.tanh(c_new) if spec.output_activation else c_new)
    h_new = m @ cell.weight_hr.T if cell.proj_size else m
    if spec.full_gate_recurrence:
        return h_new, (h_new, c_new, torch.cat([i, f, o], -1))
    return h_new, (h_new, c_new)

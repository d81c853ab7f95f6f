"""Shared cases for the reference tests (a distinct module name: tests/ folders have no
__init__): every cell x option as a factory of float64 torch cells (of input size I unless told
otherwise), and random data."""

from __future__ import annotations

import numpy as np
import torch

import rnnkit
from rnnkit.cells.lstm import VARIANTS, LSTMSpec

I, H, B, T = 3, 4, 2, 4
JORDAN_OUT = 2
LENGTHS = np.array([T, 2])   # one full sequence, one padded: masking and true ends both matter
DT = torch.float64


def _elman(nonlinearity, bias=True):
    return lambda size=I: rnnkit.ElmanCell(size, H, bias, nonlinearity=nonlinearity, dtype=DT)


def _jordan(nonlinearity, output_activation, bias=True):
    return lambda size=I: rnnkit.JordanCell(size, H, JORDAN_OUT, bias, nonlinearity=nonlinearity,
                                     output_activation=output_activation, dtype=DT)


def _lstm(spec, proj_size=0, bias=True):
    return lambda size=I: rnnkit.LSTMCell(size, H, bias, spec=spec, proj_size=proj_size, dtype=DT)


def _gru(reset_after, bias=True):
    return lambda size=I: rnnkit.GRUCell(size, H, bias, spec=rnnkit.GRUSpec(reset_after), dtype=DT)


def _mut(kind, input_proj, bias=True):
    # without input_proj, MUT1 and MUT2 add the raw input to H-vectors: they need I == H
    fixed = not input_proj and kind != "MUT3"
    return lambda size=I: rnnkit.MUTCell(H if fixed else size, H, bias, kind=kind,
                                         input_proj=input_proj, dtype=DT)


def _stack(no_op, hidden_recurrence):
    # 2 stacks of 3 entries, the top 2 read: small enough for finite differences, deep enough
    # that PUSH drops an entry off the bottom and POP brings EMPTY in within T steps
    return lambda size=I: rnnkit.StackCell(size, H, num_stacks=2, depth=3, k=2, no_op=no_op,
                                           hidden_recurrence=hidden_recurrence, dtype=DT)


CELLS = {
    **{f"elman-{a}": _elman(a) for a in ("tanh", "relu", "sigmoid")},
    "elman-nobias": _elman("tanh", bias=False),
    **{f"jordan-{a}-{o}": _jordan(a, o)
       for a in ("tanh", "relu", "sigmoid") for o in ("tanh", "sigmoid", "identity")},
    "jordan-nobias": _jordan("tanh", "tanh", bias=False),
    "lstm-torch": _lstm(None),
    **{f"lstm-{name}": _lstm(name) for name in VARIANTS},
    **{f"lstm-{combo}": _lstm(combo) for combo in (
        "NIAF+NOAF", "NIG+NOG", "NFG+NOG", "NIG+NFG+NOG", "CIFG+NOAF", "CIFG+NOG", "CIFG+NP",
        "FGR+NIAF+NOAF", "FGR+NP", "NIG+NIAF", "NFG+NP")},
    "lstm-peephole-no-fgate": _lstm(LSTMSpec(forget_gate=False, peepholes=True,
                                             output_activation=False)),
    "lstm-torch-proj": _lstm(None, proj_size=2),
    "lstm-VANILLA-proj": _lstm("VANILLA", proj_size=2),
    "lstm-FGR-proj": _lstm("FGR", proj_size=3),
    "lstm-CIFG+NOAF-proj": _lstm("CIFG+NOAF", proj_size=2),
    "lstm-torch-nobias": _lstm(None, bias=False),
    "lstm-VANILLA-nobias": _lstm("VANILLA", bias=False),
    "lstm-FGR-proj-nobias": _lstm("FGR", proj_size=2, bias=False),
    "gru-reset-after": _gru(True),
    "gru-reset-before": _gru(False),
    "gru-reset-after-nobias": _gru(True, bias=False),
    "gru-reset-before-nobias": _gru(False, bias=False),
    # MUT3 has no raw-input term, so input_proj applies to MUT1 and MUT2 only
    **{f"{kind.lower()}-proj{int(proj)}": _mut(kind, proj)
       for kind in ("MUT1", "MUT2") for proj in (False, True)},
    "mut3": _mut("MUT3", False),
    "mut3-nobias": _mut("MUT3", False, bias=False),
    "mut2-nobias": _mut("MUT2", True, bias=False),
    "stack": _stack(no_op=True, hidden_recurrence=True),
    "stack-push-pop-only": _stack(no_op=False, hidden_recurrence=True),
    "stack-no-hidden-recurrence": _stack(no_op=True, hidden_recurrence=False),
}


def make_cell(name: str, seed: int = 0, input_size: int = I) -> torch.nn.Module:
    """The float64 torch cell of case `name`, every parameter redrawn N(0, 0.5^2): generic
    values, no init structure (forget bias, zero blocks) that could hide a wrong equation.
    (MUT1 and MUT2 without input_proj take input size H whatever is asked.)"""
    torch.manual_seed(seed)
    cell = CELLS[name](input_size)
    randomize(cell, seed)
    return cell


def randomize(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
    return module


def random_sequence(input_size: int, seed: int = 1) -> np.ndarray:
    """x: (T, B, input_size)."""
    return np.random.default_rng(seed).standard_normal((T, B, input_size))


def random_state_tree(zeros, seed: int = 2):
    """A random tree shaped like `zeros` (a layer's zero_state): the gradient w.r.t. a generic
    initial state is checked, not only at zero."""
    rng = np.random.default_rng(seed)
    if isinstance(zeros, np.ndarray):
        return rng.standard_normal(zeros.shape)
    return type(zeros)(random_state_tree(part, int(rng.integers(1 << 30))) for part in zeros)

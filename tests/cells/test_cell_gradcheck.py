"""torch.autograd.gradcheck in float64 at tiny sizes, for every cell and option, with respect to
the input, every state tensor and every parameter (the step as a pure function of all of them
through torch.func.functional_call)."""

import pytest
import torch

from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell
from rnnkit.cells.lstm import VARIANTS

from cells_helpers import DT, random_input, random_state, randomize, step_of_everything

I, H, B = 3, 4, 2


def _lstm(**kw):
    return lambda: LSTMCell(I, H, dtype=DT, **kw)


CASES = {}
for _name in VARIANTS:
    CASES[f"lstm-{_name}"] = _lstm(spec=_name)
for _combo in ["NIAF+NOAF", "CIFG+NP", "NOAF+NOG", "NIG+NOG", "NIG+NP", "NFG+NIAF",
               "CIFG+NOAF+NIAF", "FGR+NP", "FGR+NOAF", "torch+CIFG"]:
    CASES[f"lstm-{_combo}"] = _lstm(spec=_combo)
CASES.update({
    "lstm-default": _lstm(),
    "lstm-spec-object-vanilla": _lstm(spec=LSTMSpec.variant()),
    "lstm-proj": _lstm(proj_size=2),
    "lstm-proj-vanilla": _lstm(proj_size=3, spec="VANILLA"),
    "lstm-proj-FGR": _lstm(proj_size=1, spec="FGR"),
    "lstm-proj-CIFG": _lstm(proj_size=2, spec="CIFG"),
    "lstm-nobias": _lstm(bias=False),
    "lstm-nobias-vanilla": _lstm(bias=False, spec="vanilla"),
    "lstm-nobias-CIFG": _lstm(bias=False, spec="CIFG"),
    "lstm-nobias-FGR-proj": _lstm(bias=False, spec="FGR", proj_size=2),
})
for _reset_after in (True, False):
    for _bias in (True, False):
        CASES[f"gru-reset_after={_reset_after}-bias={_bias}"] = (
            lambda ra=_reset_after, b=_bias: GRUCell(I, H, b, spec=GRUSpec(ra), dtype=DT))
for _kind in ("MUT1", "MUT2", "MUT3"):
    CASES[f"{_kind}-square"] = lambda k=_kind: MUTCell(H, H, kind=k, dtype=DT)
    CASES[f"{_kind}-nobias"] = lambda k=_kind: MUTCell(H, H, False, kind=k, dtype=DT)
for _kind in ("MUT1", "MUT2"):  # MUT3 has no raw-input term, so no input_proj
    CASES[f"{_kind}-input_proj"] = lambda k=_kind: MUTCell(I, H, kind=k, input_proj=True,
                                                           dtype=DT)
    CASES[f"{_kind}-input_proj-square"] = lambda k=_kind: MUTCell(H, H, kind=k, input_proj=True,
                                                                  dtype=DT)
CASES["MUT3-rectangular"] = lambda: MUTCell(I, H, kind="MUT3", dtype=DT)
for _act in ("tanh", "relu", "sigmoid"):
    CASES[f"elman-{_act}"] = lambda a=_act: ElmanCell(I, H, nonlinearity=a, dtype=DT)
CASES["elman-nobias"] = lambda: ElmanCell(I, H, False, dtype=DT)
for _out in ("tanh", "sigmoid", "identity"):
    CASES[f"jordan-out={_out}"] = lambda o=_out: JordanCell(I, H, 2, output_activation=o,
                                                            dtype=DT)
    CASES[f"jordan-relu-out={_out}"] = lambda o=_out: JordanCell(
        I, H, 5, nonlinearity="relu", output_activation=o, dtype=DT)
CASES["jordan-sigmoid-nobias"] = lambda: JordanCell(I, H, 3, False, nonlinearity="sigmoid",
                                                    dtype=DT)


def _inputs(case):
    cell = randomize(CASES[case](), scale=0.7)
    f, names = step_of_everything(cell)
    x = random_input(cell, B).requires_grad_()
    state = tuple(s.requires_grad_() for s in random_state(cell, B))
    params = tuple(p.detach().clone().requires_grad_() for p in cell.parameters())
    return cell, f, ["x", *cell.state_names, *names], (x, *state, *params)


@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck_input_state_and_parameters(case):
    cell, f, labels, inputs = _inputs(case)
    assert len(labels) > 1 + len(cell.state_names), "a cell without parameters?"
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_every_input_state_and_parameter_is_used(case):
    """gradcheck passes trivially for an input the step ignores (a zero Jacobian both ways), so
    check separately that the output depends on every one of them."""
    cell, f, labels, inputs = _inputs(case)
    outs = f(*inputs)
    total = sum((o * torch.linspace(0.3, 1.7, o.numel(), dtype=DT).view_as(o)).sum()
                for o in outs)
    grads = torch.autograd.grad(total, inputs, allow_unused=True)
    for label, g in zip(labels, grads):
        assert g is not None and g.abs().max() > 0, f"{case}: no gradient for {label}"


def test_every_variant_is_covered():
    assert {f"lstm-{n}" for n in VARIANTS} <= set(CASES)

"""The fused engine's LSTM kernel equals the plain loop (the definition) for every spec option:
outputs, final states and every gradient, with lengths, initial state and recurrent dropout."""

import pytest
import torch

import rnnkit
from rnnkit.cells.lstm import VARIANTS
from rnnkit.engines import fused, loop

# Only a missing compiler skips; a build that fails fails the tests.
pytestmark = pytest.mark.skipif(fused.missing_toolchain() is not None,
                                reason=f"no toolchain for the fused engine: {fused.missing_toolchain()}")

I, H, B, T = 3, 4, 4, 6
SPECS = [v.lower() for v in VARIANTS] + ["NIAF+NOAF", "CIFG+NP", "NIG+NFG+NOG", "NOG+NOAF"]


def compare(cell, dtype, lengths, with_mask, atol):
    torch.manual_seed(1)
    x = torch.randn(T, B, I, dtype=dtype, requires_grad=True)
    state = tuple((0.5 * torch.randn(B, n, dtype=dtype)).requires_grad_()
                  for n in cell.state_sizes)
    mask = (torch.rand(B, cell.state_sizes[0]) > 0.3).to(dtype) / 0.7 if with_mask else None
    results = []
    for engine in (fused, loop):
        out, final = engine.run(cell, cell.weights(), x, state, lengths, mask)
        probe = torch.cat([out.reshape(-1), *[f.reshape(-1) for f in final]])
        weights = torch.linspace(-1, 1, probe.numel(), dtype=dtype)
        grads = torch.autograd.grad((probe.sin() * weights).sum(),
                                    [x, *state, *cell.parameters()])
        results.append((probe, grads))
    (probe_f, grads_f), (probe_l, grads_l) = results
    torch.testing.assert_close(probe_f, probe_l, atol=atol, rtol=0)
    names = ["x", *cell.state_names, *dict(cell.named_parameters())]
    for name, a, b in zip(names, grads_f, grads_l):
        torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=name)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("proj_size", [0, 2])
@pytest.mark.parametrize("lengths, with_mask", [(torch.tensor([6, 2, 4, 5]), True), (None, False)],
                         ids=["lengths+mask", "plain"])
def test_fused_lstm_equals_loop_float64(spec, proj_size, lengths, with_mask):
    torch.manual_seed(0)
    cell = rnnkit.LSTMCell(I, H, spec=spec, proj_size=proj_size, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.8, 0.8)  # away from the init's forget bias: every path carries weight
    compare(cell, torch.float64, lengths, with_mask, atol=1e-10)


@pytest.mark.parametrize("spec", ["vanilla", "FGR", "CIFG"])
def test_fused_lstm_equals_loop_float32_without_bias(spec):
    cell = rnnkit.LSTMCell(I, H, bias=False, spec=spec)
    compare(cell, torch.float32, torch.tensor([6, 2, 4, 5]), True, atol=1e-5)


def test_fused_lstm_gradcheck():
    torch.manual_seed(2)
    cell = rnnkit.LSTMCell(2, 3, spec="FGR", proj_size=2, dtype=torch.float64)
    params = dict(cell.named_parameters())
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])

    def f(x, *values):
        w = dict(zip(params, values))
        out, final = fused.run(cell, w, x, cell.init_state(2), lengths)
        return out, *final

    assert torch.autograd.gradcheck(f, (x, *params.values()))

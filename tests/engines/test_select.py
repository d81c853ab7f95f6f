"""Which engine runs which cell, and forcing one."""

import pytest
import torch

import rnnkit
from rnnkit import engines
from rnnkit.engines import loop, native

NATIVE = [lambda: rnnkit.LSTMCell(3, 4), lambda: rnnkit.LSTMCell(3, 4, proj_size=2),
          lambda: rnnkit.GRUCell(3, 4), lambda: rnnkit.ElmanCell(3, 4, nonlinearity="relu")]
LOOP_ONLY = [lambda: rnnkit.LSTMCell(3, 4, spec="vanilla"), lambda: rnnkit.LSTMCell(3, 4, spec="CIFG"),
             lambda: rnnkit.GRUCell(3, 4, spec=rnnkit.GRUSpec(reset_after=False)),
             lambda: rnnkit.ElmanCell(3, 4, nonlinearity="sigmoid"),
             lambda: rnnkit.MUTCell(4, 4, kind="MUT1"), lambda: rnnkit.JordanCell(3, 4, 2)]


@pytest.mark.parametrize("make", NATIVE)
def test_cells_torch_computes_go_to_torchs_kernels(make):
    cell = make()
    x = torch.zeros(2, 1, 3)
    assert engines.choose(cell, x, recurrent_dropout=False) == "native"
    assert engines.choose(cell, x, recurrent_dropout=True) in ("fused", "loop")
    with engines.use("loop"):
        assert engines.choose(cell, x, recurrent_dropout=False) == "loop"


@pytest.mark.parametrize("make", LOOP_ONLY)
def test_other_cells_run_on_the_loop_and_refuse_forced_native(make):
    cell, x = make(), torch.zeros(2, 1, 3)
    assert engines.choose(cell, x, recurrent_dropout=False) in ("fused", "loop")
    with engines.use("native"), pytest.raises(ValueError, match="engine: 'native' was forced"):
        engines.choose(cell, x, recurrent_dropout=False)


@pytest.mark.parametrize("make", NATIVE)
def test_native_equals_loop_with_lengths_state_and_gradients(make):
    torch.manual_seed(0)
    cell = make().double()
    x = torch.randn(6, 3, 3, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(3, n, dtype=torch.float64, requires_grad=True)
                  for n in cell.state_sizes)
    lengths = torch.tensor([2, 6, 4])
    results = []
    for engine in (native, loop):
        out, final = engine.run(cell, cell.weights(), x, state, lengths)
        probe = torch.cat([out.reshape(-1), *[f.reshape(-1) for f in final]])
        grads = torch.autograd.grad(probe.sin().sum(), [x, *state, *cell.parameters()])
        results.append((probe, grads))
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-12, rtol=0)
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_environment_variable_and_bad_names(monkeypatch):
    monkeypatch.setenv("RNNKIT_ENGINE", "loop")
    assert engines.current() == "loop"
    monkeypatch.setenv("RNNKIT_ENGINE", "fast")
    with pytest.raises(ValueError, match="RNNKIT_ENGINE: expected one of 'auto', 'native', 'fused', 'loop', got 'fast'"):
        engines.current()
    with pytest.raises(ValueError, match="engine: expected one of"):
        with engines.use("cuda"):
            pass

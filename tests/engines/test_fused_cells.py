"""The fused engine's GRU, MUT, Jordan and stack RNN kernels (the LSTM's: test_fused_lstm.py)
equal the plain loop (the definition): outputs, final states and the gradients of the input, the
initial state and every parameter, with lengths, a random initial state and a recurrent dropout
mask, for every option of each cell."""

import pytest
import torch

import rnnkit
from rnnkit import engines
from rnnkit.engines import fused, loop

_reason = fused.unavailable_reason()
if _reason is not None:
    pytest.skip(f"the fused engine cannot be built here: {_reason}", allow_module_level=True)

I, H, O = 3, 5, 2  # input, hidden and (Jordan) output sizes
LENGTHS = [6, 2, 4, 5]
T, B = max(LENGTHS), len(LENGTHS)

GRU = {f"gru-reset_{'after' if after else 'before'}-{'bias' if bias else 'nobias'}":
       (lambda after=after, bias=bias: rnnkit.GRUCell(I, H, bias,
                                                       spec=rnnkit.GRUSpec(reset_after=after)))
       for after in (True, False) for bias in (True, False)}
MUT = {f"{kind.lower()}-{'bias' if bias else 'nobias'}":
       (lambda kind=kind, bias=bias: rnnkit.MUTCell(H, H, bias, kind=kind))
       for kind in ("MUT1", "MUT2", "MUT3") for bias in (True, False)}
MUT.update({f"{kind.lower()}-input_proj": (lambda kind=kind: rnnkit.MUTCell(I, H, kind=kind,
                                                                             input_proj=True))
            for kind in ("MUT1", "MUT2")})
JORDAN = {f"jordan-{act}-{out}-{'bias' if bias else 'nobias'}":
          (lambda act=act, out=out, bias=bias: rnnkit.JordanCell(
              I, H, O, bias, nonlinearity=act, output_activation=out))
          for act in ("tanh", "relu", "sigmoid") for out in ("tanh", "sigmoid", "identity")
          for bias in (True, False)}
# 3 entries a stack, so that within T steps PUSH drops the bottom entry and POP brings EMPTY in
STACK = {f"stack-{'noop' if no_op else 'push_pop'}-{'rec' if rec else 'norec'}":
         (lambda no_op=no_op, rec=rec: rnnkit.StackCell(I, H, num_stacks=2, depth=3, k=2,
                                                        no_op=no_op, hidden_recurrence=rec))
         for no_op in (True, False) for rec in (True, False)}
CELLS = {**GRU, **MUT, **JORDAN, **STACK}


def _case(make, dtype, *, lengths: bool, mask: bool, seed: int = 0):
    torch.manual_seed(seed)
    cell = make().to(dtype)
    x = torch.randn(T, B, cell.input_size, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(B, n, dtype=dtype, requires_grad=True) for n in cell.state_sizes)
    lens = torch.tensor(LENGTHS) if lengths else None
    # variational dropout's mask: zeros and 1 / keep
    keep = 0.7
    m = (torch.rand(B, cell.state_sizes[0]) < keep).to(dtype) / keep if mask else None
    return cell, x, state, lens, m


def _run(engine, cell, x, state, lengths, mask):
    """Outputs, final state and the gradients of x, the state and every parameter, from a loss
    that weighs every output and final-state entry differently."""
    out, final = engine.run(cell, cell.weights(), x, state, lengths, mask)
    gen = torch.Generator().manual_seed(1)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    for f in final:
        loss = loss + (f * torch.randn(f.shape, generator=gen, dtype=f.dtype)).sum()
    wrt = [x, *state, *cell.parameters()]
    names = ["x", *(f"state[{n}]" for n in cell.state_names),
             *(n for n, _ in cell.named_parameters())]
    return {"out": out, **{f"final[{i}]": f for i, f in enumerate(final)},
            # a stack cell without hidden recurrence does not read h_0: its gradient is zero
            **{f"grad {n}": g for n, g in zip(names, torch.autograd.grad(
                loss, wrt, allow_unused=True, materialize_grads=True))}}


def _assert_engines_agree(make, dtype, atol, *, lengths, mask, rtol=0.0):
    cell, x, state, lens, m = _case(make, dtype, lengths=lengths, mask=mask)
    got, want = _run(fused, cell, x, state, lens, m), _run(loop, cell, x, state, lens, m)
    assert got.keys() == want.keys()
    for name in want:
        torch.testing.assert_close(got[name], want[name], atol=atol, rtol=rtol, msg=lambda e: (
            f"{name}: {e}"))


@pytest.mark.parametrize("name", CELLS)
def test_fused_equals_loop_with_lengths_state_and_mask_float64(name):
    _assert_engines_agree(CELLS[name], torch.float64, 1e-10, lengths=True, mask=True)


@pytest.mark.parametrize("name", CELLS)
def test_fused_equals_loop_without_lengths_or_mask_float64(name):
    _assert_engines_agree(CELLS[name], torch.float64, 1e-10, lengths=False, mask=False)


@pytest.mark.parametrize("name", CELLS)
def test_fused_equals_loop_float32(name):
    # relative too: a weight gradient sums T*B terms and reaches ~50, where float32's rounding
    # alone is ~1e-5
    _assert_engines_agree(CELLS[name], torch.float32, 1e-5, lengths=True, mask=True, rtol=1e-5)


@pytest.mark.parametrize("lengths,mask", [(True, False), (False, True)])
@pytest.mark.parametrize("name", ["gru-reset_before-bias", "mut3-bias", "jordan-tanh-tanh-bias"])
def test_fused_equals_loop_with_only_lengths_or_only_mask(name, lengths, mask):
    _assert_engines_agree(CELLS[name], torch.float64, 1e-10, lengths=lengths, mask=mask)


@pytest.mark.parametrize("name", ["gru-reset_after-bias", "gru-reset_before-bias", "mut1-bias",
                                  "mut2-bias", "mut3-bias", "jordan-tanh-sigmoid-bias"])
def test_gradcheck_through_the_fused_path(name):
    cell, x, state, lens, m = _case(CELLS[name], torch.float64, lengths=True, mask=True)
    names = [n for n, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]

    def f(x, h0, *ps):
        out, final = fused.run(cell, dict(zip(names, ps)), x, (h0,), lens, m)
        return out, *final

    assert torch.autograd.gradcheck(f, (x, state[0], *params))


@pytest.mark.parametrize("name", ["gru-reset_before-bias", "mut2-bias", "jordan-relu-tanh-bias"])
def test_only_the_outputs_or_only_the_final_state_used(name):
    cell, x, state, lens, m = _case(CELLS[name], torch.float64, lengths=True, mask=True)
    for pick in (0, 1):
        results = []
        for engine in (fused, loop):
            out, final = engine.run(cell, cell.weights(), x, state, lens, m)
            used = (out, final[0])[pick]
            results.append(torch.autograd.grad(used.sin().sum(), [x, state[0]]))
        for a, b in zip(*results):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ["gru-reset_before-bias", "mut1-bias", "jordan-tanh-tanh-bias",
                                  "stack-noop-rec"])
def test_auto_picks_the_fused_engine_for_these_cells(name):
    cell, x = CELLS[name](), torch.zeros(2, 1, I if "mut" not in name else H)
    assert engines.choose(cell, x, recurrent_dropout=True) == "fused"


def test_the_stack_cells_rounding_runs_on_the_loop():
    """The kernel has the continuous stack only: discrete="eval" in eval mode goes to the loop,
    in training mode (no rounding) to the kernel."""
    cell, x = rnnkit.StackCell(I, H, discrete="eval"), torch.zeros(2, 1, I)
    assert engines.choose(cell, x, recurrent_dropout=False) == "fused"
    assert engines.choose(cell.eval(), x, recurrent_dropout=False) == "loop"


@pytest.mark.parametrize("engine", [fused, loop], ids=["fused", "loop"])
@pytest.mark.parametrize("kind", ["MUT1", "MUT2", "MUT3"])
def test_mut_with_every_unit_dropped_still_carries_the_undropped_state(engine, kind):
    """Gal & Ghahramani: an all-zero mask silences the recurrent products (so r, z and n come
    from the input alone; MUT3's tanh(0) = 0) while h_t = h_{t-1} + z (n - h_{t-1}) keeps the
    undropped h_{t-1}."""
    torch.manual_seed(3)
    cell = rnnkit.MUTCell(H, H, kind=kind).double()
    x = torch.randn(T, B, H, dtype=torch.float64)
    h = torch.randn(B, H, dtype=torch.float64)
    out, (h_n,) = engine.run(cell, cell.weights(), x, (h,), None,
                             torch.zeros(B, H, dtype=torch.float64))
    x_z, _, x_n = cell.input_part(cell.weights(), x).split(H, dim=-1)
    for t in range(T):
        z, n = torch.sigmoid(x_z[t]), torch.tanh(x_n[t])
        h = h + z * (n - h)
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_n, h, atol=1e-12, rtol=0)

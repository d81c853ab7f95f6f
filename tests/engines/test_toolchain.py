"""The PyTorch 2 toolchain on the drop-ins, for torch's LSTM and for variants (CIFG, the
peephole LSTM, Cho's GRU), whatever engine eager mode picks for them:

- torch.compile (inductor): outputs and gradients equal eager;
- torch.export: the exported program equals eager;
- ONNX (dynamo and TorchScript exporters): the file runs in onnxruntime and equals eager;
- bfloat16 parameters and autocast: within bfloat16's tolerance of float32;
- torch.func: vmap over a batch of inputs equals a loop; grad through functional_call equals
  autograd.
"""

import warnings

import numpy as np
import pytest
import torch
from torch.func import functional_call, grad, vmap

import rnnkit
from rnnkit import engines

I, H, B, T = 3, 5, 2, 4
MODELS = {
    "torch-lstm": lambda: rnnkit.LSTM(I, H),
    "cifg": lambda: rnnkit.LSTM(I, H, spec="CIFG"),
    "peephole": lambda: rnnkit.LSTM(I, H, spec="VANILLA"),
    "gru-cho": lambda: rnnkit.GRU(I, H, reset_after=False),
}
TOL = dict(atol=1e-5, rtol=1e-5)  # float32, a different order of operations
BF16_TOL = dict(atol=3e-2, rtol=0)  # bfloat16 keeps 8 bits of mantissa


def make(name):
    torch.manual_seed(0)
    return MODELS[name]()


@pytest.fixture(params=list(MODELS))
def name(request):
    return request.param


@pytest.fixture
def model(name):
    return make(name)


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations inside torch's exporters
        yield


def inputs():
    torch.manual_seed(1)
    return torch.randn(T, B, I), (torch.randn(1, B, H),)


def hx_for(module, h0):
    return (h0[0], torch.zeros_like(h0[0])) if isinstance(module, rnnkit.LSTM) else h0[0]


def test_compile_equals_eager_values_and_gradients(model):
    torch._dynamo.reset()
    x, h0 = inputs()
    hx = hx_for(model, h0)
    compiled = torch.compile(model)
    results = []
    for module in (model, compiled):
        model.zero_grad()
        x_leaf = x.clone().requires_grad_()
        out, _ = module(x_leaf, hx)
        (out * torch.arange(out.numel()).view_as(out)).sum().backward()
        results.append((out.detach(), x_leaf.grad,
                        {n: p.grad.clone() for n, p in model.named_parameters()}))
    (out_e, dx_e, dw_e), (out_c, dx_c, dw_c) = results
    torch.testing.assert_close(out_c, out_e, **TOL)
    torch.testing.assert_close(dx_c, dx_e, **TOL)
    for name in dw_e:
        torch.testing.assert_close(dw_c[name], dw_e[name], **TOL)


def test_compile_fullgraph_for_variants():
    """A variant compiles into one graph (torch's own cells leave their kernel to eager mode,
    as torch.nn.LSTM does, which is a graph break)."""
    torch._dynamo.reset()
    module = make("cifg")
    x, _ = inputs()
    torch.testing.assert_close(torch.compile(module, fullgraph=True)(x)[0], module(x)[0], **TOL)


def test_export_equals_eager(model):
    x, h0 = inputs()
    program = torch.export.export(model.eval(), (x,))
    torch.testing.assert_close(program.module()(x)[0], model(x)[0], **TOL)
    other = torch.randn(T, B, I)  # the graph is not specialised to the example's values
    torch.testing.assert_close(program.module()(other)[0], model(other)[0], **TOL)


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
def test_onnx_runs_in_onnxruntime_and_equals_eager(model, dynamo, tmp_path):
    pytest.importorskip("onnxruntime")
    if dynamo:
        pytest.importorskip("onnxscript")
    import onnxruntime
    x, _ = inputs()
    path = tmp_path / "model.onnx"
    torch.onnx.export(model.eval(), (x,), str(path), dynamo=dynamo)
    session = onnxruntime.InferenceSession(str(path))
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, model(x)[0].detach().numpy(), atol=1e-5, rtol=1e-5)


def test_bfloat16_parameters_within_tolerance_of_float32(name, model):
    x, _ = inputs()
    want = model(x)[0]
    low = make(name).bfloat16()
    got = low(x.bfloat16())[0]
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want, **BF16_TOL)
    got.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.bfloat16 for p in low.parameters())


def test_autocast_within_tolerance_of_float32(model):
    x, _ = inputs()
    want = model(x)[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = model(x)[0]
    torch.testing.assert_close(got.float(), want, **BF16_TOL)


def test_float16_parameters_within_tolerance_of_float32(name, model):
    x, _ = inputs()
    want = model(x)[0]
    low = make(name).half()
    try:
        got = low(x.half())[0]
    except RuntimeError as error:  # torch's CPU kernels may lack float16: torch's own message
        assert isinstance(model, rnnkit.LSTM) and model.spec.is_torch, error
        return
    torch.testing.assert_close(got.float(), want, atol=5e-3, rtol=0)


def test_vmap_over_inputs_equals_a_loop(model):
    xs = torch.randn(3, T, B, I)
    batched = vmap(lambda x: model(x)[0])(xs)
    torch.testing.assert_close(batched, torch.stack([model(x)[0] for x in xs]), **TOL)


def test_vmap_of_grad_through_functional_call_equals_autograd(model):
    params = {n: p.detach() for n, p in model.named_parameters()}
    xs = torch.randn(3, T, B, I)

    def loss(p, x):
        return functional_call(model, p, (x,))[0].pow(2).sum()

    per_input = vmap(grad(loss), in_dims=(None, 0))(params, xs)
    for k, x in enumerate(xs):
        model.zero_grad()
        model(x)[0].pow(2).sum().backward()
        for name, p in model.named_parameters():
            torch.testing.assert_close(per_input[name][k], p.grad, **TOL)


def test_forcing_the_fused_engine_where_it_cannot_run_is_a_clear_error():
    module = make("cifg")
    x, _ = inputs()
    with engines.use("fused"):
        with pytest.raises(RuntimeError, match="'fused' was forced, but its kernels are float32 "
                                               "and float64 only, got torch.bfloat16"):
            module.bfloat16()(x.bfloat16())
        with pytest.raises(RuntimeError, match="'fused' was forced, but torch.func transforms"):
            vmap(lambda xi: module.float()(xi)[0])(torch.randn(2, T, B, I))



# The other cells, through the generic drop-in: export, vmap and bfloat16 take the loop for
# each of them, and compile keeps each one's fused kernel as one operation.
OTHER_CELLS = {
    "elman-sigmoid": lambda size: rnnkit.ElmanCell(size, H, nonlinearity="sigmoid"),
    "mut1": lambda size: rnnkit.MUTCell(size, H, kind="MUT1", input_proj=True),
    "jordan": lambda size: rnnkit.JordanCell(size, H, 2),
    "stack": lambda size: rnnkit.StackCell(size, H, num_stacks=2, depth=4, k=2),
    "lstm-fgr-proj": lambda size: rnnkit.LSTMCell(size, H, spec="FGR", proj_size=2),
}


@pytest.mark.parametrize("cell_name", list(OTHER_CELLS))
def test_every_cell_exports_vmaps_runs_in_bfloat16_and_compiles(cell_name):
    torch.manual_seed(0)
    module = rnnkit.TorchStyleRNN(OTHER_CELLS[cell_name], I)
    x, _ = inputs()
    want = module(x)[0]
    torch.testing.assert_close(torch.export.export(module, (x,)).module()(x)[0], want, **TOL)
    xs = torch.stack([x, 2 * x])
    torch.testing.assert_close(vmap(lambda xi: module(xi)[0])(xs),
                               torch.stack([module(xi)[0] for xi in xs]), **TOL)
    low = rnnkit.TorchStyleRNN(OTHER_CELLS[cell_name], I)
    low.load_state_dict(module.state_dict())
    torch.testing.assert_close(low.bfloat16()(x.bfloat16())[0].float(), want, **BF16_TOL)
    torch._dynamo.reset()
    torch.testing.assert_close(torch.compile(module, fullgraph=True)(x)[0], want, **TOL)

"""Initialisation: PyTorch's uniform default, the forget-gate bias (and -forget_bias on the input
gate with CIFG), recurrent_init="orthogonal" (each gate block of weight_hh orthogonal) and
"identity" (each block the identity, biases zero: IRNN)."""

import math

import pytest
import torch

from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell

from cells_helpers import DT

I, H = 3, 6
BOUND = 1 / math.sqrt(H)


def _block(t, k, n=H):
    return t[k * n:(k + 1) * n]


def _is_uniform_init(t, bound=BOUND):
    """Within (-bound, bound), not constant, and spread over the interval."""
    return (t.abs().max() <= bound and t.numel() > 1 and t.max() - t.min() > bound / 4)


ALL_CELLS = {
    "elman": lambda **kw: ElmanCell(I, H, dtype=DT, **kw),
    "elman-relu": lambda **kw: ElmanCell(I, H, nonlinearity="relu", dtype=DT, **kw),
    "jordan": lambda **kw: JordanCell(I, H, H, dtype=DT, **kw),
    "jordan-narrow": lambda **kw: JordanCell(I, H, 2, dtype=DT, **kw),
    "lstm": lambda **kw: LSTMCell(I, H, dtype=DT, forget_bias=None, **kw),
    "lstm-vanilla": lambda **kw: LSTMCell(I, H, spec="vanilla", dtype=DT, forget_bias=None, **kw),
    "lstm-CIFG": lambda **kw: LSTMCell(I, H, spec="CIFG", dtype=DT, forget_bias=None, **kw),
    "lstm-FGR": lambda **kw: LSTMCell(I, H, spec="FGR", dtype=DT, forget_bias=None, **kw),
    "lstm-proj": lambda **kw: LSTMCell(I, H, proj_size=2, dtype=DT, forget_bias=None, **kw),
    "gru": lambda **kw: GRUCell(I, H, dtype=DT, **kw),
    "gru-before": lambda **kw: GRUCell(I, H, spec=GRUSpec(False), dtype=DT, **kw),
    "MUT1": lambda **kw: MUTCell(H, H, kind="MUT1", dtype=DT, **kw),
    "MUT2": lambda **kw: MUTCell(I, H, kind="MUT2", input_proj=True, dtype=DT, **kw),
    "MUT3": lambda **kw: MUTCell(I, H, kind="MUT3", dtype=DT, **kw),
}
# number of gate blocks stacked in weight_hh
BLOCKS = {"elman": 1, "elman-relu": 1, "jordan": 1, "jordan-narrow": 1, "lstm": 4,
          "lstm-vanilla": 4, "lstm-CIFG": 3, "lstm-FGR": 4, "lstm-proj": 4, "gru": 3,
          "gru-before": 3, "MUT1": 2, "MUT2": 3, "MUT3": 3}


# --- PyTorch's default -------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL_CELLS))
def test_default_init_is_uniform_in_one_over_sqrt_hidden(name):
    torch.manual_seed(0)
    cell = ALL_CELLS[name]()
    assert cell.recurrent_init == "default"
    for pname, p in cell.named_parameters():
        assert _is_uniform_init(p.detach()), f"{name}.{pname}"


def test_default_init_is_random_per_seed_and_reproducible():
    torch.manual_seed(1)
    a = LSTMCell(I, H)
    torch.manual_seed(1)
    b = LSTMCell(I, H)
    c = LSTMCell(I, H)
    assert torch.equal(a.weight_hh, b.weight_hh)
    assert not torch.equal(a.weight_hh, c.weight_hh)


# --- forget-gate bias --------------------------------------------------------------------------

@pytest.mark.parametrize("spec, f_index", [(None, 1), ("vanilla", 1), ("NIG", 0), ("NOG", 1),
                                           ("FGR", 1), ("NIAF+NOAF", 1)])
@pytest.mark.parametrize("forget_bias", [1.0, 2.5, -0.5, 0.0])
def test_forget_bias_sets_the_forget_block(spec, f_index, forget_bias):
    torch.manual_seed(0)
    kw = {} if forget_bias == 1.0 else {"forget_bias": forget_bias}  # 1.0 is the default
    cell = LSTMCell(I, H, spec=spec, dtype=DT, **kw)
    assert cell.spec.gates[f_index] == "f"
    assert torch.equal(_block(cell.bias_ih, f_index), torch.full((H,), forget_bias, dtype=DT))
    assert torch.equal(_block(cell.bias_hh, f_index), torch.zeros(H, dtype=DT))
    for k, gate in enumerate(cell.spec.gates):  # the other blocks keep the uniform init
        if gate != "f":
            assert _is_uniform_init(_block(cell.bias_ih, k)), gate
            assert _is_uniform_init(_block(cell.bias_hh, k)), gate


def test_forget_bias_none_keeps_the_uniform_init():
    torch.manual_seed(0)
    cell = LSTMCell(I, H, forget_bias=None, dtype=DT)
    for k in range(4):
        assert _is_uniform_init(_block(cell.bias_ih, k))
        assert _is_uniform_init(_block(cell.bias_hh, k))


def test_forget_bias_makes_the_forget_gate_start_open():
    """With zero input and state, f = sigmoid(forget_bias + b_hh_f) = sigmoid(forget_bias)."""
    cell = LSTMCell(I, H, forget_bias=3.0, dtype=DT)
    x = torch.zeros(2, I, dtype=DT)
    a = torch.nn.functional.linear(x, cell.weight_ih, cell.bias_ih) + cell.bias_hh
    torch.testing.assert_close(torch.sigmoid(_block(a[0], 1)),
                               torch.full((H,), torch.sigmoid(torch.tensor(3.0, dtype=DT)).item(),
                                          dtype=DT), atol=1e-15, rtol=0)


@pytest.mark.parametrize("spec", ["CIFG", "CIFG+NP", "CIFG+NOAF"])
@pytest.mark.parametrize("forget_bias", [1.0, 2.0])
def test_cifg_puts_minus_forget_bias_on_the_input_gate(spec, forget_bias):
    torch.manual_seed(0)
    cell = LSTMCell(I, H, spec=spec, forget_bias=forget_bias, dtype=DT)
    assert cell.spec.gates[0] == "i" and "f" not in cell.spec.gates
    assert torch.equal(_block(cell.bias_ih, 0), torch.full((H,), -forget_bias, dtype=DT))
    assert torch.equal(_block(cell.bias_hh, 0), torch.zeros(H, dtype=DT))
    # so that f = 1 - i = sigmoid(-a_i) starts at sigmoid(forget_bias) for zero input/state
    f = 1 - torch.sigmoid(_block(cell.bias_ih + cell.bias_hh, 0))
    torch.testing.assert_close(f, torch.sigmoid(torch.full((H,), forget_bias, dtype=DT)),
                               atol=1e-15, rtol=0)
    for k in (1, 2):
        assert _is_uniform_init(_block(cell.bias_ih, k))


@pytest.mark.parametrize("spec", ["NFG", "NFG+NP"])
def test_no_forget_gate_no_forget_bias(spec):
    torch.manual_seed(0)
    cell = LSTMCell(I, H, spec=spec, forget_bias=5.0, dtype=DT)
    for k in range(3):
        assert _is_uniform_init(_block(cell.bias_ih, k))
        assert _is_uniform_init(_block(cell.bias_hh, k))


def test_forget_bias_without_bias_parameters():
    cell = LSTMCell(I, H, bias=False, forget_bias=2.0)
    assert not hasattr(cell, "bias_ih") and not hasattr(cell, "bias_hh")


# --- orthogonal --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL_CELLS))
def test_orthogonal_makes_each_gate_block_orthogonal(name):
    torch.manual_seed(0)
    cell = ALL_CELLS[name](recurrent_init="orthogonal")
    w = cell.weight_hh.detach()
    blocks = w.chunk(BLOCKS[name], dim=0)
    assert len(blocks) == BLOCKS[name]
    for block in blocks:
        rows, cols = block.shape
        assert rows == H
        if rows <= cols:  # W W^T = I (square blocks: also W^T W = I)
            torch.testing.assert_close(block @ block.T, torch.eye(rows, dtype=DT),
                                       atol=1e-12, rtol=0)
        if cols <= rows:  # orthonormal columns (the proj / narrow-Jordan blocks, H x R)
            torch.testing.assert_close(block.T @ block, torch.eye(cols, dtype=DT),
                                       atol=1e-12, rtol=0)
    # blocks drawn independently, not one matrix repeated, and not the identity
    for a in range(len(blocks)):
        assert not torch.allclose(blocks[a], torch.eye(*blocks[a].shape, dtype=DT))
        for b in range(a + 1, len(blocks)):
            assert not torch.allclose(blocks[a], blocks[b])
    # the input weights keep the uniform init
    assert _is_uniform_init(cell.weight_ih.detach())


def test_orthogonal_stack_is_not_orthogonal_as_a_whole():
    """The init is per block: the stacked (4H, H) matrix has W^T W = 4 I, not I."""
    cell = LSTMCell(I, H, recurrent_init="orthogonal", dtype=DT)
    w = cell.weight_hh.detach()
    torch.testing.assert_close(w.T @ w, 4 * torch.eye(H, dtype=DT), atol=1e-12, rtol=0)


def test_orthogonal_keeps_the_forget_bias():
    cell = LSTMCell(I, H, recurrent_init="orthogonal", dtype=DT)
    assert torch.equal(_block(cell.bias_ih, 1), torch.ones(H, dtype=DT))


# --- identity (IRNN) ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL_CELLS))
def test_identity_makes_each_block_the_identity_and_zeroes_biases(name):
    torch.manual_seed(0)
    cell = ALL_CELLS[name](recurrent_init="identity")
    blocks = cell.weight_hh.detach().chunk(BLOCKS[name], dim=0)
    for block in blocks:
        assert torch.equal(block, torch.eye(*block.shape, dtype=DT))
    biases = [n for n, _ in cell.named_parameters() if n.startswith("bias")]
    assert biases, name
    for bname in biases:
        assert torch.equal(getattr(cell, bname), torch.zeros_like(getattr(cell, bname))), bname
    assert _is_uniform_init(cell.weight_ih.detach())


def test_irnn_copies_its_state():
    """Le et al. (2015): ReLU, W_hh = I, b = 0: with no input, a non-negative state is kept."""
    cell = ElmanCell(I, H, nonlinearity="relu", recurrent_init="identity", dtype=DT)
    h = torch.rand(2, H, dtype=DT)
    out, (h1,) = cell.step(torch.zeros(2, I, dtype=DT), (h,))
    assert torch.equal(h1, h)


def test_identity_then_forget_bias_on_lstm():
    """reset_parameters applies recurrent_init, then the cell's biases: an LSTM with identity
    init has zero biases except the forget-gate block, which gets forget_bias."""
    cell = LSTMCell(I, H, recurrent_init="identity", dtype=DT)
    expected = torch.zeros(4 * H, dtype=DT)
    expected[H:2 * H] = 1.0
    assert torch.equal(cell.bias_ih, expected)
    assert torch.equal(cell.bias_hh, torch.zeros(4 * H, dtype=DT))
    cell = LSTMCell(I, H, recurrent_init="identity", forget_bias=None, dtype=DT)
    assert torch.equal(cell.bias_ih, torch.zeros(4 * H, dtype=DT))


def test_reset_parameters_reapplies_the_init():
    cell = GRUCell(I, H, recurrent_init="identity", dtype=DT)
    with torch.no_grad():
        for p in cell.parameters():
            p.fill_(7.0)
    cell.reset_parameters()
    for block in cell.weight_hh.detach().chunk(3):
        assert torch.equal(block, torch.eye(H, dtype=DT))
    assert torch.equal(cell.bias_hh, torch.zeros(3 * H, dtype=DT))
    assert _is_uniform_init(cell.weight_ih.detach())

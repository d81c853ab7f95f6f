"""The equations, checked by hand (not by gradcheck): each cell against its docstring formulas
computed from the parameter blocks, and the properties that tell the variants apart."""

import pytest
import torch

import rnnkit.cells.lstm as lstm_module
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell
from rnnkit.cells.lstm import VARIANTS, as_spec

from cells_helpers import DT, lstm_reference, random_input, random_state, randomize

TOL = dict(atol=1e-12, rtol=0)
I, H, B = 3, 4, 5


def _close(a, b):
    torch.testing.assert_close(a, b, **TOL)


# --- LSTM: spec and names ----------------------------------------------------------------------

@pytest.mark.parametrize("name, field, value", [
    ("NIG", "input_gate", False), ("NFG", "forget_gate", False), ("NOG", "output_gate", False),
    ("NIAF", "input_activation", False), ("NOAF", "output_activation", False),
    ("NP", "peepholes", False), ("CIFG", "coupled", True), ("FGR", "full_gate_recurrence", True)])
def test_each_variant_changes_one_thing_of_the_vanilla_lstm(name, field, value):
    vanilla = LSTMSpec.variant()
    assert vanilla == LSTMSpec(peepholes=True) == as_spec("VANILLA")
    spec = LSTMSpec.variant(name)
    assert getattr(spec, field) == value != getattr(vanilla, field)
    differing = [f for f in LSTMSpec.__dataclass_fields__ if getattr(spec, f) != getattr(vanilla, f)]
    assert differing == [field]
    assert as_spec(name) == as_spec(name.lower()) == as_spec([name]) == spec


def test_pytorch_lstm_is_np_and_the_default():
    assert LSTMSpec() == LSTMSpec.variant("NP") == LSTMSpec.variant("torch") == as_spec(None)
    assert LSTMSpec().is_torch and not LSTMSpec.variant().is_torch
    assert LSTMCell(I, H).spec.is_torch


def test_combinations_by_string_list_and_variant_agree():
    spec = as_spec("NIAF+NOAF")
    assert spec == LSTMSpec.variant("NIAF", "NOAF") == as_spec(["NIAF", "NOAF"])
    assert not spec.input_activation and not spec.output_activation and spec.peepholes
    assert as_spec("CIFG+NP") == LSTMSpec(coupled=True)
    assert LSTMCell(I, H, spec="CIFG+NP").spec == LSTMSpec(coupled=True)


@pytest.mark.parametrize("spec, gates, peep", [
    ("torch", "ifgo", ""), ("vanilla", "ifgo", "ifo"), ("NIG", "fgo", "fo"), ("NFG", "igo", "io"),
    ("NOG", "ifg", "if"), ("CIFG", "igo", "io"), ("CIFG+NP", "igo", ""), ("FGR", "ifgo", "ifo")])
def test_parameter_blocks_follow_the_gates(spec, gates, peep):
    cell = LSTMCell(I, H, spec=spec)
    assert cell.spec.gates == tuple(gates)
    assert cell.spec.peephole_gates == tuple(peep)
    assert cell.weight_ih.shape == (len(gates) * H, I)
    assert cell.weight_hh.shape == (len(gates) * H, H)
    assert cell.bias_ih.shape == cell.bias_hh.shape == (len(gates) * H,)
    assert hasattr(cell, "weight_ch") == bool(peep)
    if peep:
        assert cell.weight_ch.shape == (len(peep), H)
    assert hasattr(cell, "weight_gg") == (spec == "FGR")
    if spec == "FGR":
        assert cell.weight_gg.shape == (3 * H, 3 * H)
        assert cell.state_names == ("h", "c", "gates") and cell.state_sizes == (H, H, 3 * H)


# --- LSTM: against the written-out equations ---------------------------------------------------

SPECS = list(VARIANTS) + ["NIAF+NOAF", "CIFG+NP", "NOAF+NOG", "NIG+NFG", "NIG+NOG+NP",
                          "CIFG+NIAF+NOAF", "FGR+NP", "FGR+NIAF"]


@pytest.mark.parametrize("proj_size", [0, 2])
@pytest.mark.parametrize("spec", SPECS)
def test_lstm_matches_the_docstring_equations(spec, proj_size):
    cell = randomize(LSTMCell(I, H, spec=spec, proj_size=proj_size, dtype=DT))
    x, state = random_input(cell, B), random_state(cell, B)
    out, new_state = cell.step(x, state)
    ref_out, ref_state = lstm_reference(cell, x, state)
    _close(out, ref_out)
    assert len(new_state) == len(ref_state)
    for a, b in zip(new_state, ref_state):
        _close(a, b)
    # and a second step from the new state (FGR feeds back the gates, peepholes use c)
    out2, _ = cell.step(x.flip(0), new_state)
    ref2, _ = lstm_reference(cell, x.flip(0), ref_state)
    _close(out2, ref2)


def test_lstm_without_bias_matches_the_equations():
    cell = randomize(LSTMCell(I, H, bias=False, spec="vanilla", dtype=DT))
    x, state = random_input(cell, B), random_state(cell, B)
    _close(cell.step(x, state)[0], lstm_reference(cell, x, state)[0])


def _blocks(cell, x, h):
    """Pre-activations a_k = W_k x + b_k + U_k h + b'_k of each gate block, without peepholes."""
    H = cell.hidden_size
    W = dict(zip(cell.spec.gates, cell.weight_ih.split(H)))
    U = dict(zip(cell.spec.gates, cell.weight_hh.split(H)))
    b = dict(zip(cell.spec.gates, (cell.bias_ih + cell.bias_hh).split(H)))
    return {k: x @ W[k].T + h @ U[k].T + b[k] for k in cell.spec.gates}


def test_cifg_forget_gate_is_one_minus_input_gate(monkeypatch):
    """Instrumented: record every sigmoid the step computes. CIFG (no peepholes) computes two,
    i then o, none for f; and c_t = (1 - i) c + i g with that i."""
    cell = randomize(LSTMCell(I, H, spec="CIFG+NP", dtype=DT))
    x, (h, c) = random_input(cell, B), random_state(cell, B)
    seen = []
    real_sigmoid = torch.sigmoid

    def recording_sigmoid(t):
        out = real_sigmoid(t)
        seen.append(out)
        return out

    monkeypatch.setattr(lstm_module.torch, "sigmoid", recording_sigmoid)
    _, (h_new, c_new) = cell.step(x, (h, c))
    monkeypatch.undo()
    assert len(seen) == 2, "CIFG has two sigmoid gates (i, o); f is not a gate of its own"
    i, o = seen
    a = _blocks(cell, x, h)
    _close(i, torch.sigmoid(a["i"]))
    g = torch.tanh(a["g"])
    _close(c_new, (1 - i) * c + i * g)
    _close(h_new, o * torch.tanh(c_new))
    # the forget gate is also sigmoid(-a_i), the identity behind the -forget_bias init
    _close(1 - i, torch.sigmoid(-a["i"]))


def test_nig_with_all_zero_weights_has_input_gate_one():
    """NIG, every weight zero (biases b_f, b_g, b_o only): f = sigmoid(b_f), g = tanh(b_g) and
    i = 1, so c_t = sigmoid(b_f) c + tanh(b_g) exactly; a vanilla LSTM with the same weights
    has i = sigmoid(0) = 1/2."""
    nig = LSTMCell(I, H, spec="NIG", dtype=DT)
    vanilla = LSTMCell(I, H, spec="vanilla", dtype=DT)
    gen = torch.Generator().manual_seed(4)
    b = {k: torch.randn(H, generator=gen, dtype=DT) for k in "fgo"}
    b["i"] = torch.zeros(H, dtype=DT)  # only the vanilla cell has it: a_i = 0
    for cell in (nig, vanilla):
        with torch.no_grad():
            for p in cell.parameters():
                p.zero_()
            cell.bias_ih.copy_(torch.cat([b[k] for k in cell.spec.gates]))
    x, (h, c) = random_input(nig, B), random_state(nig, B)
    _, (_, c_nig) = nig.step(x, (h, c))
    _, (_, c_van) = vanilla.step(x, (h, c))
    _close(c_nig, torch.sigmoid(b["f"]) * c + torch.tanh(b["g"]))
    _close(c_van, torch.sigmoid(b["f"]) * c + 0.5 * torch.tanh(b["g"]))


@pytest.mark.parametrize("name, gate", [("NIG", "i"), ("NFG", "f"), ("NOG", "o")])
def test_a_removed_gate_is_a_saturated_gate(name, gate):
    """NIG/NFG/NOG equal the vanilla LSTM whose gate block has zero weights, zero peephole and a
    huge bias (sigmoid(1000) == 1.0 exactly in float64)."""
    reduced = randomize(LSTMCell(I, H, spec=name, dtype=DT), seed=5)
    full = LSTMCell(I, H, spec="vanilla", dtype=DT)
    with torch.no_grad():
        for pname in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            src = dict(zip(reduced.spec.gates, getattr(reduced, pname).split(H)))
            dst = dict(zip(full.spec.gates, getattr(full, pname).split(H)))
            for k in full.spec.gates:
                if k == gate:
                    dst[k].fill_(1000.0 if pname == "bias_ih" else 0.0)
                else:
                    dst[k].copy_(src[k])
        src = dict(zip(reduced.spec.peephole_gates, reduced.weight_ch))
        for row, k in zip(full.weight_ch, full.spec.peephole_gates):
            if k == gate:
                row.zero_()
            else:
                row.copy_(src[k])
    x, state = random_input(full, B), random_state(full, B)
    out_r, (h_r, c_r) = reduced.step(x, state)
    out_f, (h_f, c_f) = full.step(x, state)
    _close(out_r, out_f)
    _close(c_r, c_f)
    if gate == "f":
        # and concretely: NFG's cell never forgets, c_t - c_{t-1} = i * g
        a = _blocks(reduced, x, state[0])
        p = dict(zip(reduced.spec.peephole_gates, reduced.weight_ch))
        i = torch.sigmoid(a["i"] + p["i"] * state[1])
        _close(c_r - state[1], i * torch.tanh(a["g"]))


def test_noaf_nog_output_is_the_cell():
    cell = randomize(LSTMCell(I, H, spec="NOAF+NOG", dtype=DT))
    x, state = random_input(cell, B), random_state(cell, B)
    out, (h, c) = cell.step(x, state)
    assert torch.equal(h, c) and torch.equal(out, c)
    assert not torch.equal(h, torch.tanh(c))


def test_niaf_block_input_is_linear_and_noaf_output_has_no_tanh():
    cell = randomize(LSTMCell(I, H, spec="NIAF+NP", dtype=DT))
    x, (h, c) = random_input(cell, B), random_state(cell, B)
    _, (_, c_new) = cell.step(x, (h, c))
    a = _blocks(cell, x, h)
    i, f = torch.sigmoid(a["i"]), torch.sigmoid(a["f"])
    _close(c_new, f * c + i * a["g"])

    cell = randomize(LSTMCell(I, H, spec="NOAF+NP", dtype=DT))
    out, (h_new, c_new) = cell.step(x, (h, c))
    o = torch.sigmoid(_blocks(cell, x, h)["o"])
    _close(h_new, o * c_new)


def test_peepholes_see_previous_cell_for_i_f_and_new_cell_for_o():
    """Only the peepholes and the block-input bias non-zero: i and f see c_{t-1}, o sees c_t."""
    cell = LSTMCell(I, H, spec="vanilla", dtype=DT)
    gen = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.weight_ch.copy_(torch.randn(3, H, generator=gen, dtype=DT))
        cell.bias_ih[2 * H:3 * H] = torch.randn(H, generator=gen, dtype=DT)  # block g
    x, (h, c) = random_input(cell, B), random_state(cell, B)
    _, (h_new, c_new) = cell.step(x, (h, c))
    p_i, p_f, p_o = cell.weight_ch
    g = torch.tanh(cell.bias_ih[2 * H:3 * H])
    i, f = torch.sigmoid(p_i * c), torch.sigmoid(p_f * c)
    _close(c_new, f * c + i * g)
    _close(h_new, torch.sigmoid(p_o * c_new) * torch.tanh(c_new))


def test_fgr_gates_state_feeds_the_gates():
    cell = randomize(LSTMCell(I, H, spec="FGR+NP", dtype=DT))
    x, (h, c, prev) = random_input(cell, B), random_state(cell, B)
    _, (h1, c1, gates) = cell.step(x, (h, c, prev))
    a = _blocks(cell, x, h)
    extra = (prev @ cell.weight_gg.T).split(H, -1)
    i, f, o = (torch.sigmoid(a[k] + e) for k, e in zip("ifo", extra))
    _close(gates, torch.cat([i, f, o], -1))
    _close(c1, f * c + i * torch.tanh(a["g"]))
    _close(h1, o * torch.tanh(c1))
    # the previous gates matter
    _, (h2, _, _) = cell.step(x, (h, c, torch.zeros_like(prev)))
    assert (h2 - h1).abs().max() > 1e-6


def test_projection_multiplies_the_gated_cell():
    cell = randomize(LSTMCell(I, H, proj_size=2, dtype=DT))
    x, (h, c) = random_input(cell, B), random_state(cell, B)
    out, (h_new, c_new) = cell.step(x, (h, c))
    a = _blocks(cell, x, h)
    m = torch.sigmoid(a["o"]) * torch.tanh(c_new)
    _close(h_new, m @ cell.weight_hr.T)
    assert out.shape == (B, 2) and c_new.shape == (B, H)


# --- GRU ---------------------------------------------------------------------------------------

def _gru_by_hand(cell, x, h, reset_after):
    W_r, W_z, W_n = cell.weight_ih.split(H)
    U_r, U_z, U_n = cell.weight_hh.split(H)
    b_ir, b_iz, b_in = cell.bias_ih.split(H)
    b_hr, b_hz, b_hn = cell.bias_hh.split(H)
    r = torch.sigmoid(x @ W_r.T + b_ir + h @ U_r.T + b_hr)
    z = torch.sigmoid(x @ W_z.T + b_iz + h @ U_z.T + b_hz)
    if reset_after:
        n = torch.tanh(x @ W_n.T + b_in + r * (h @ U_n.T + b_hn))
    else:
        n = torch.tanh(x @ W_n.T + b_in + (r * h) @ U_n.T + b_hn)
    return (1 - z) * n + z * h


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_the_docstring_equations(reset_after):
    cell = randomize(GRUCell(I, H, spec=GRUSpec(reset_after), dtype=DT))
    x, (h,) = random_input(cell, B), random_state(cell, B)
    out, (h_new,) = cell.step(x, (h,))
    _close(h_new, _gru_by_hand(cell, x, h, reset_after))
    assert torch.equal(out, h_new)


def _gru_pair(seed=0):
    after = randomize(GRUCell(I, H, spec=GRUSpec(True), dtype=DT), seed=seed)
    before = GRUCell(I, H, spec=GRUSpec(False), dtype=DT)
    before.load_state_dict(after.state_dict())
    return after, before


def test_gru_conventions_differ_for_generic_weights():
    after, before = _gru_pair()
    x, state = random_input(after, B), random_state(after, B)
    assert (after.step(x, state)[0] - before.step(x, state)[0]).abs().max() > 1e-3
    # also with b_hn = 0: r * (W h) != W (r * h) for a generic r
    with torch.no_grad():
        after.bias_hh[2 * H:] = 0
        before.bias_hh[2 * H:] = 0
    assert (after.step(x, state)[0] - before.step(x, state)[0]).abs().max() > 1e-3


@pytest.mark.parametrize("zero_b_hn", [True, False])
def test_gru_conventions_agree_when_reset_gate_is_one(zero_b_hn):
    after, before = _gru_pair(seed=3)
    with torch.no_grad():
        for cell in (after, before):
            cell.bias_ih[:H] = 1000.0  # r = sigmoid(~1000) == 1.0 exactly
            if zero_b_hn:
                cell.bias_hh[2 * H:] = 0.0
    x, state = random_input(after, B), random_state(after, B)
    _close(after.step(x, state)[0], before.step(x, state)[0])


# --- MUT1-3 ------------------------------------------------------------------------------------

def _mut_by_hand(cell, x, h):
    """Jozefowicz et al. (2015), as in the MUTCell docstring, from the named blocks."""
    kind, sig = cell.kind, torch.sigmoid
    Wx = dict(zip(cell.input_rows, cell.weight_ih.split(H)))
    Wh = dict(zip(cell.recurrent_rows, cell.weight_hh.split(H)))
    b_z, b_r, b_h = cell.bias_ih.split(H)
    raw = x @ cell.weight_px.T if cell.input_proj else x
    if kind == "MUT1":
        z = sig(x @ Wx["z"].T + b_z)
        r = sig(x @ Wx["r"].T + h @ Wh["r"].T + b_r)
        n = torch.tanh((r * h) @ Wh["n"].T + torch.tanh(raw) + b_h)
    elif kind == "MUT2":
        z = sig(x @ Wx["z"].T + h @ Wh["z"].T + b_z)
        r = sig(raw + h @ Wh["r"].T + b_r)
        n = torch.tanh((r * h) @ Wh["n"].T + x @ Wx["n"].T + b_h)
    else:
        z = sig(x @ Wx["z"].T + torch.tanh(h) @ Wh["z"].T + b_z)
        r = sig(x @ Wx["r"].T + h @ Wh["r"].T + b_r)
        n = torch.tanh((r * h) @ Wh["n"].T + x @ Wx["n"].T + b_h)
    return n * z + h * (1 - z)


@pytest.mark.parametrize("kind, input_rows, recurrent_rows", [
    ("MUT1", "zr", "rn"), ("MUT2", "zn", "zrn"), ("MUT3", "zrn", "zrn")])
def test_mut_parameter_blocks(kind, input_rows, recurrent_rows):
    cell = MUTCell(H, H, kind=kind)
    assert cell.weight_ih.shape == (len(input_rows) * H, H)
    assert cell.weight_hh.shape == (len(recurrent_rows) * H, H)
    assert cell.bias_ih.shape == (3 * H,)
    assert not hasattr(cell, "bias_hh") and not hasattr(cell, "weight_px")
    proj = MUTCell(I, H, kind=kind, input_proj=kind != "MUT3")  # MUT3 takes any input size
    assert proj.weight_ih.shape == (len(input_rows) * H, I)
    assert hasattr(proj, "weight_px") == (kind != "MUT3")


@pytest.mark.parametrize("kind, input_size, input_proj", [
    (kind, size, proj) for kind in ("MUT1", "MUT2") for size, proj in
    ((H, False), (I, True), (H, True))] + [("MUT3", H, False), ("MUT3", I, False)])
def test_mut_matches_the_paper_equations(kind, input_size, input_proj):
    cell = randomize(MUTCell(input_size, H, kind=kind, input_proj=input_proj, dtype=DT))
    x, (h,) = random_input(cell, B), random_state(cell, B)
    out, (h_new,) = cell.step(x, (h,))
    _close(h_new, _mut_by_hand(cell, x, h))
    assert torch.equal(out, h_new)


def test_mut_kinds_are_different_cells():
    x = torch.randn(B, H, dtype=DT)
    h = torch.randn(B, H, dtype=DT)
    cells = [randomize(MUTCell(H, H, kind=k, dtype=DT)) for k in ("MUT1", "mut2", "Mut3")]
    assert [c.kind for c in cells] == ["MUT1", "MUT2", "MUT3"]  # kind is case-insensitive
    outs = [c.step(x, (h,))[0] for c in cells]
    for a in range(3):
        for b in range(a + 1, 3):
            assert (outs[a] - outs[b]).abs().max() > 1e-3


# --- Elman and Jordan --------------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid"])
def test_elman_by_hand(nonlinearity):
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[nonlinearity]
    cell = randomize(ElmanCell(I, H, nonlinearity=nonlinearity, dtype=DT))
    x, (h,) = random_input(cell, B), random_state(cell, B)
    out, (h_new,) = cell.step(x, (h,))
    _close(h_new, act(x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh))
    assert torch.equal(out, h_new)


@pytest.mark.parametrize("output_activation", ["tanh", "sigmoid", "identity"])
def test_jordan_feeds_back_the_output_not_the_hidden_layer(output_activation):
    O = 2
    out_act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "identity": lambda z: z}[output_activation]
    cell = randomize(JordanCell(I, H, O, output_activation=output_activation, dtype=DT))
    assert cell.state_names == ("y",) and cell.state_sizes == (O,)
    assert cell.weight_hh.shape == (H, O) and cell.weight_ho.shape == (O, H)
    x1, x2 = random_input(cell, B, seed=8), random_input(cell, B, seed=9)
    (y0,) = random_state(cell, B)

    def by_hand(x, y_prev):
        h = torch.tanh(x @ cell.weight_ih.T + cell.bias_ih + y_prev @ cell.weight_hh.T
                       + cell.bias_hh)
        return out_act(h @ cell.weight_ho.T + cell.bias_ho)

    y1, (s1,) = cell.step(x1, (y0,))
    assert y1.shape == (B, O) and torch.equal(s1, y1), "the state is the output y"
    _close(y1, by_hand(x1, y0))
    y2, _ = cell.step(x2, (s1,))
    _close(y2, by_hand(x2, y1))
    # The output layer is in the loop: changing W_ho changes the next step through y.
    with torch.no_grad():
        cell.weight_ho.mul_(-1.0)
    y1b, (s1b,) = cell.step(x1, (y0,))
    assert (s1b - s1).abs().max() > 1e-3


# --- the input_part / recurrence split ---------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: LSTMCell(I, H, spec="vanilla", proj_size=2, dtype=DT),
    lambda: LSTMCell(I, H, spec="FGR", dtype=DT),
    lambda: GRUCell(I, H, spec=GRUSpec(False), dtype=DT),
    lambda: MUTCell(I, H, kind="MUT1", input_proj=True, dtype=DT),
    lambda: MUTCell(H, H, kind="MUT2", dtype=DT),
    lambda: ElmanCell(I, H, dtype=DT),
    lambda: JordanCell(I, H, 2, dtype=DT),
], ids=["lstm", "lstm-fgr", "gru", "mut1", "mut2", "elman", "jordan"])
def test_input_part_over_time_equals_per_step(make):
    cell = randomize(make())
    w = cell.weights()
    xs = torch.randn(4, B, cell.input_size, dtype=DT)
    whole = cell.input_part(w, xs)
    state = random_state(cell, B)
    for t in range(4):
        _close(whole[t], cell.input_part(w, xs[t]))
        out_a, state_a = cell.recurrence(w, whole[t], state)
        out_b, state_b = cell.step(xs[t], state)
        _close(out_a, out_b)
        state = state_b

"""The trace against the NumPy reference forward pass (rnnkit.reference): every gate, state and
output its caches hold, and every pre-activation through its activation."""

import numpy as np
import pytest
import torch

from rnnkit import reference
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell
from rnnkit.explain import format_trace, trace, trace_table, write_trace_csv
from rnnkit.reference.ops import ACTIVATIONS, SIGMOID, TANH

from explain_helpers import DT, randn, randomize

T = 4
CASES = {
    "lstm": lambda: LSTMCell(2, 3, dtype=DT),
    "lstm-vanilla": lambda: LSTMCell(2, 3, spec="vanilla", dtype=DT),
    "lstm-cifg": lambda: LSTMCell(2, 3, spec="CIFG", dtype=DT),
    "lstm-niaf-noaf": lambda: LSTMCell(2, 3, spec="NIAF+NOAF", dtype=DT),
    "lstm-nig-nfg": lambda: LSTMCell(2, 3, spec="NIG+NFG", dtype=DT),
    "lstm-fgr-proj": lambda: LSTMCell(2, 3, spec="FGR", proj_size=2, dtype=DT),
    "gru": lambda: GRUCell(2, 3, dtype=DT),
    "gru-reset-before": lambda: GRUCell(2, 3, spec=GRUSpec(reset_after=False), dtype=DT),
    "mut1": lambda: MUTCell(3, 3, kind="MUT1", dtype=DT),
    "mut2-proj": lambda: MUTCell(2, 3, kind="MUT2", input_proj=True, dtype=DT),
    "mut3": lambda: MUTCell(2, 3, kind="MUT3", bias=False, dtype=DT),
    "elman-tanh": lambda: ElmanCell(2, 3, dtype=DT),
    "elman-relu": lambda: ElmanCell(2, 3, nonlinearity="relu", dtype=DT),
    "jordan": lambda: JordanCell(2, 3, 2, output_activation="sigmoid", dtype=DT),
}


def reference_values(ref, x):
    """Per step: the values the reference forward pass computes, under the trace's names."""
    state, steps = ref.zero_state(1), []
    for x_t in x:
        out, state, cache = ref.forward_step(x_t[None], state)
        if isinstance(ref, reference.LSTMCell):
            values = {"i": cache.i, "f": cache.f, "g": cache.g, "c": cache.c_new, "o": cache.o,
                      "m": cache.m}
        elif isinstance(ref, (reference.GRUCell, reference.MUTCell)):
            values = {"r": cache.r, "z": cache.z, "n": cache.n}
        elif isinstance(ref, reference.JordanCell):
            values = {"h": cache[1]}
        else:
            values = {}
        values[ref_output_name(ref)] = out
        steps.append({k: v[0] for k, v in values.items()})
    return steps


def ref_output_name(ref) -> str:
    return "y" if isinstance(ref, reference.JordanCell) else "h"


def activation_of(cell, name):
    """The function that maps a pre-activation a_k (or a) to the value k (or h)."""
    if isinstance(cell, (ElmanCell, JordanCell)):
        return "h", ACTIVATIONS[cell.nonlinearity].forward
    gate = name[2:]
    if gate == "n" or (gate == "g" and getattr(cell, "spec").input_activation):
        return gate, TANH.forward
    if gate == "g":
        return gate, lambda a: a  # NIAF
    return gate, SIGMOID.forward


@pytest.mark.parametrize("name", CASES)
def test_trace_equals_the_reference_forward_pass(name):
    cell = randomize(CASES[name]())
    x = randn(T, cell.input_size)
    steps = trace(cell, x)
    expected = reference_values(reference.from_torch(cell), x.numpy())
    assert len(steps) == T
    for t, (step, ref) in enumerate(zip(steps, expected)):
        np.testing.assert_array_equal(step["x"], x[t].numpy())
        for key, value in ref.items():
            # untraced: m without a projection (it is h), a gate that is off (the constant 1)
            traced = step.get(key, step["h"] if key == "m" else np.ones_like(value))
            np.testing.assert_allclose(traced, value, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} {key} at t={t}")
        for key in step:
            if key == "a" or key.startswith("a_"):
                value_name, fn = activation_of(cell, key)
                np.testing.assert_allclose(fn(step[key]), step[value_name], rtol=1e-12,
                                           atol=1e-14, err_msg=f"{name} {key} at t={t}")


def test_a_gate_that_is_off_is_not_traced_and_a_coupled_one_is():
    nig = trace(LSTMCell(2, 3, spec="NIG", dtype=DT), randn(2, 2))
    assert "i" not in nig[0] and "a_i" not in nig[0]
    cifg = trace(LSTMCell(2, 3, spec="CIFG", dtype=DT), randn(2, 2))
    np.testing.assert_allclose(cifg[0]["f"], 1 - cifg[0]["i"])


def test_trace_from_a_given_state():
    cell = randomize(LSTMCell(2, 3, dtype=DT))
    x, h0, c0 = randn(3, 2), randn(3, seed=5), randn(3, seed=6)
    steps = trace(cell, x, state=(h0, c0))
    _, _, cache = reference.from_torch(cell).forward_step(x[:1].numpy(),
                                                         (h0[None].numpy(), c0[None].numpy()))
    np.testing.assert_allclose(steps[0]["c"], cache.c_new[0], rtol=1e-12)


def test_input_errors_name_the_argument():
    cell = ElmanCell(2, 3, dtype=DT)
    with pytest.raises(ValueError, match=r"x: expected shape \(T, 2\) with T >= 1"):
        trace(cell, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"x: expected shape"):
        trace(cell, torch.zeros(0, 2))
    with pytest.raises(TypeError, match="cell: expected a rnnkit RecurrentCell"):
        trace(torch.nn.RNNCell(2, 3), [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"state\[h\]"):
        trace(cell, [[1.0, 2.0]], state=([1.0],))


def test_table_columns_rows_and_text(tmp_path):
    cell = randomize(LSTMCell(1, 2, dtype=DT))
    steps = trace(cell, [[1.0], [0.5], [-1.0]])
    headers, rows = trace_table(steps)
    assert headers[:4] == ["t", "x", "a_i[0]", "a_i[1]"] and headers[-1] == "h[1]"
    assert len(rows) == 3 and all(len(r) == len(headers) for r in rows)
    assert rows[2][0] == 2 and rows[2][1] == -1.0
    assert rows[1][-1] == steps[1]["h"][1]

    wide = format_trace(steps, digits=3, width=1000)
    lines = wide.splitlines()
    assert lines[0].split() == headers and len(lines) == 2 + 3
    assert lines[3].split()[-1] == f"{steps[1]['h'][1]:.3f}"
    narrow = format_trace(steps, width=50)
    blocks = narrow.split("\n\n")
    assert len(blocks) > 1 and all(max(map(len, b.splitlines())) <= 50 for b in blocks)
    assert all(b.splitlines()[0].split()[0] == "t" for b in blocks)
    # a value's units stay in one block
    assert not any(b.splitlines()[0].split()[-1].endswith("[0]") for b in blocks)

    write_trace_csv(steps, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0].split(",") == headers
    assert float(text[2].split(",")[-1]) == steps[1]["h"][1]  # full precision

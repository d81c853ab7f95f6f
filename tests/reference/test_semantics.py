"""The reference's own layer semantics, checked from their definitions without torch: lengths
(a padded sequence = the same sequence run alone, truncated), the reversal of the backward
direction, and each merge; and that the math stays free of torch."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from ref_cases import LENGTHS, T, make_cell, random_sequence, random_state_tree

import rnnkit.reference
from rnnkit.reference import Bidirectional, Recurrent, Stacked, from_torch, reverse_within_lengths
from rnnkit.reference.gradcheck import leaves


def test_reverse_within_lengths():
    x = np.arange(T * 2).reshape(T, 2, 1).astype(float)
    out = reverse_within_lengths(x, np.array([T, 2]))
    np.testing.assert_array_equal(out[:, 0, 0], x[::-1, 0, 0])
    np.testing.assert_array_equal(out[:, 1, 0], [x[1, 1, 0], x[0, 1, 0], *x[2:, 1, 0]])
    np.testing.assert_array_equal(reverse_within_lengths(out, np.array([T, 2])), x)
    np.testing.assert_array_equal(reverse_within_lengths(x, None), x[::-1])


def run_alone(layer, x, state, b: int, length: int):
    """Sequence b alone, truncated to its length: (output (length, O), final state tree)."""
    one = [s[b:b + 1] for s in state]
    out, final, _ = layer.forward(x[:length, b:b + 1], tuple(one))
    return out[:, 0], final


@pytest.mark.parametrize("name", ["lstm-FGR", "jordan-tanh-tanh", "mut2-proj0"])
def test_lengths_equal_truncated_sequences(name):
    layer = Recurrent(from_torch(make_cell(name)))
    x = random_sequence(layer.input_size)
    state = random_state_tree(layer.zero_state(x.shape[1]))
    out, final, _ = layer.forward(x, state, LENGTHS)
    for b, length in enumerate(LENGTHS):
        alone, alone_final = run_alone(layer, x, state, b, length)
        np.testing.assert_allclose(out[:length, b], alone, rtol=1e-12, atol=1e-12)
        assert np.all(out[length:, b] == 0.0)
        for s, s_alone in zip(final, alone_final):
            np.testing.assert_allclose(s[b], s_alone[0], rtol=1e-12, atol=1e-12)


def bidirectional(merge: str) -> Bidirectional:
    fwd = Recurrent(from_torch(make_cell("gru-reset-after", seed=1)))
    bwd = Recurrent(from_torch(make_cell("elman-tanh", seed=2)))
    rng = np.random.default_rng(0)
    return Bidirectional(fwd, bwd, merge, rng.standard_normal((4, 8)), rng.standard_normal(4))


@pytest.mark.parametrize("merge", ["concat", "sum", "mean", "mul", "linear"])
def test_bidirectional_definition(merge):
    layer = bidirectional(merge)
    x = random_sequence(layer.input_size)
    out, (final_f, final_b), _ = layer.forward(x, None, LENGTHS)
    for b, length in enumerate(LENGTHS):
        zeros = layer.zero_state(1)
        y_f, f_alone = layer.fwd.forward(x[:length, b:b + 1], zeros[0])[:2]
        y_b, b_alone = layer.bwd.forward(x[:length, b:b + 1][::-1], zeros[1])[:2]
        y_f, y_b = y_f[:, 0], y_b[::-1, 0]     # bwd's outputs reversed back to input order
        both = np.concatenate([y_f, y_b], -1)
        if merge == "linear":
            p = layer.params
            expected = both @ p["merge_linear.weight"].T + p["merge_linear.bias"]
        else:
            expected = {"concat": both, "sum": y_f + y_b, "mean": (y_f + y_b) / 2,
                        "mul": y_f * y_b}[merge]
        np.testing.assert_allclose(out[:length, b], expected, rtol=1e-12, atol=1e-12)
        assert np.all(out[length:, b] == 0.0)   # the linear merge's bias too
        np.testing.assert_allclose(final_f[0][b], f_alone[0][0], rtol=1e-12)
        np.testing.assert_allclose(final_b[0][b], b_alone[0][0], rtol=1e-12)


def test_stacked_feeds_each_layer_the_output_below():
    low = Recurrent(from_torch(make_cell("lstm-FGR-proj")))   # output 3 = high's input
    high = bidirectional("sum")
    x = random_sequence(low.input_size)
    out, finals, _ = Stacked([low, high]).forward(x, None, LENGTHS)
    y_low, final_low, _ = low.forward(x, None, LENGTHS)
    y_high, final_high, _ = high.forward(y_low, None, LENGTHS)
    np.testing.assert_array_equal(out, y_high)
    for got, expected in zip(leaves(finals), leaves([final_low, final_high]), strict=True):
        np.testing.assert_array_equal(got, expected)


STDLIB_AND_NUMPY = {"__future__", "collections", "dataclasses", "types", "typing", "numpy"}


def test_only_convert_imports_torch():
    """The reference is independent of what it checks: its math modules import NumPy only."""
    for path in Path(rnnkit.reference.__file__).parent.glob("*.py"):
        if path.name in ("__init__.py", "convert.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert (module.split(".")[0] in STDLIB_AND_NUMPY
                        or module.startswith("rnnkit.reference.")), f"{path.name}: {module}"

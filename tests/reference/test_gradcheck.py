"""The hand-derived backward of every reference cell and layer against central finite
differences in float64: gradients of the input, the initial state and every parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ref_cases import CELLS, DT, LENGTHS, make_cell, random_sequence, random_state_tree, randomize

import rnnkit
from rnnkit.reference import Bidirectional, Recurrent, Stacked, from_torch, gradcheck


def check(layer, lengths=LENGTHS, seed: int = 0) -> None:
    x = random_sequence(layer.input_size, seed + 1)
    state = random_state_tree(layer.zero_state(x.shape[1]), seed + 2)
    gradcheck.assert_gradients_close(gradcheck.gradients(layer, x, state, lengths, seed))


@pytest.mark.parametrize("name", CELLS)
def test_cell_over_time_with_lengths(name):
    check(Recurrent(from_torch(make_cell(name))))


@pytest.mark.parametrize("name", ["lstm-FGR-proj", "gru-reset-before", "mut1-proj0",
                                  "jordan-relu-identity"])
def test_cell_over_time_full_lengths(name):
    check(Recurrent(from_torch(make_cell(name))), lengths=None)


def ref_cell(cell: torch.nn.Module, seed: int):
    return from_torch(randomize(cell, seed))


def merge_linear(rng, out: int, both: int) -> tuple[np.ndarray, np.ndarray]:
    return 0.5 * rng.standard_normal((out, both)), 0.5 * rng.standard_normal(out)


@pytest.mark.parametrize("merge", ["concat", "sum", "mean", "mul", "linear"])
def test_bidirectional(merge):
    # Two different cells, so that mixing up the directions cannot go unnoticed.
    fwd = Recurrent(ref_cell(rnnkit.LSTMCell(3, 4, spec="VANILLA", dtype=DT), 10))
    bwd = Recurrent(ref_cell(rnnkit.GRUCell(3, 4, dtype=DT), 11))
    linear = merge_linear(np.random.default_rng(3), 4, 8) if merge == "linear" else ()
    layer = Bidirectional(fwd, bwd, merge, *linear)
    check(layer)
    check(layer, lengths=np.array([3, 1]))


def test_stacked_mixed_layers():
    rng = np.random.default_rng(4)
    layers = [
        Bidirectional(Recurrent(ref_cell(rnnkit.ElmanCell(3, 3, nonlinearity="relu",
                                                          dtype=DT), 20)),
                      Recurrent(ref_cell(rnnkit.MUTCell(3, 3, kind="MUT3", dtype=DT), 21)),
                      "concat"),
        Recurrent(ref_cell(rnnkit.LSTMCell(6, 4, spec="FGR", proj_size=3, dtype=DT), 22)),
        Bidirectional(Recurrent(ref_cell(rnnkit.JordanCell(3, 4, 2, dtype=DT), 23)),
                      Recurrent(ref_cell(rnnkit.GRUCell(3, 2, spec=rnnkit.GRUSpec(False),
                                                        dtype=DT), 24)),
                      "linear", *merge_linear(rng, 2, 4)),
    ]
    check(Stacked(layers))
    check(Stacked(layers), lengths=None)

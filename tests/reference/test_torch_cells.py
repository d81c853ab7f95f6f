"""Reference == torch for every cell x option: the torch cell driven by a plain Python loop of
`recurrence(w, input_part(w, x_t), state)` with the lengths masking, in float64; outputs and
final states, then the gradients of a random linear functional of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ref_cases import CELLS, LENGTHS, make_cell, random_sequence, random_state_tree
from torch_bridge import assert_close, to_torch, torch_gradients, upstream

from rnnkit.reference import Recurrent, from_torch


def torch_loop(cell, x: torch.Tensor, state: tuple, lengths) -> tuple[torch.Tensor, tuple]:
    """x: (T, B, I) -> (outputs (T, B, O), final state): sequences past their length keep their
    state and output zeros."""
    w = cell.weights()
    T = x.shape[0]
    active = torch.arange(T).unsqueeze(1) < torch.as_tensor(lengths)   # (T, B)
    outputs = []
    for t in range(T):
        out, new_state = cell.recurrence(w, cell.input_part(w, x[t]), state)
        keep = active[t].unsqueeze(1)
        state = tuple(torch.where(keep, n, s) for n, s in zip(new_state, state))
        outputs.append(out * keep)
    return torch.stack(outputs), state


@pytest.mark.parametrize("name", CELLS)
def test_cell_matches_torch(name):
    cell = make_cell(name)
    ref = Recurrent(from_torch(cell))
    x = random_sequence(cell.input_size)
    state = random_state_tree(ref.zero_state(x.shape[1]))
    out, final, cache = ref.forward(x, state, LENGTHS)

    x_t, state_t = to_torch(x), to_torch(state)
    out_t, final_t = torch_loop(cell, x_t, state_t, LENGTHS)
    assert_close(out_t, out, "output")
    for j, (a, b) in enumerate(zip(final_t, final)):
        assert_close(a, b, f"final state[{j}]")

    g_out, g_final = upstream(out, final)
    dx, d_state, d_params = ref.backward(cache, g_out, g_final)
    names = list(cell.weights())
    grads = torch_gradients(out_t, final_t, g_out, g_final,
                            [x_t, *state_t, *cell.weights().values()])
    assert_close(grads[0], dx, "d x")
    for j, (a, b) in enumerate(zip(grads[1:1 + len(state)], d_state)):
        assert_close(a, b, f"d state[{j}]")
    assert set(d_params) == {f"cell.{n}" for n in names}
    for n, g in zip(names, grads[1 + len(state):]):
        assert_close(g, d_params[f"cell.{n}"], f"d {n}")


def test_from_torch_copies_options_and_parameters():
    cell = make_cell("lstm-FGR-proj")
    ref = from_torch(cell)
    assert ref.spec == cell.spec and ref.state_sizes == cell.state_sizes
    assert ref.output_size == cell.output_size == 3
    for name, p in cell.weights().items():
        assert ref.params[name].dtype == np.float64
        np.testing.assert_array_equal(ref.params[name], p.detach().numpy())
    with pytest.raises(TypeError, match="from_torch"):
        from_torch(torch.nn.Linear(2, 2))


def test_stack_cell_rounding_matches_torch_and_has_no_backward():
    """discrete="always": one-hot actions and 0/1 pushed values, in both; the reference refuses
    a backward through the rounding rather than return a wrong gradient."""
    cell = make_cell("stack")
    cell.discrete = "always"
    ref = Recurrent(from_torch(cell))
    assert ref.cell.discrete
    x = random_sequence(cell.input_size)
    state = ref.zero_state(x.shape[1])
    out, final, cache = ref.forward(x, state, LENGTHS)
    out_t, final_t = torch_loop(cell, to_torch(x), to_torch(state), LENGTHS)
    assert_close(out_t, out, "output")
    assert_close(final_t[1], final[1], "final stacks")
    assert set(np.unique(final[1])) <= {-1.0, 0.0, 1.0}
    with pytest.raises(ValueError, match="discrete"):
        ref.backward(cache, *upstream(out, final))

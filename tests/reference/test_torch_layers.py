"""Reference == rnnkit.layers: Recurrent, Bidirectional (every merge) and Stacked, with lengths
and given initial states, and with the defaults (no lengths, zero state); outputs, final states
and the gradients of the input, the initial state and every parameter by name. Each runs on the
default engine choice and on the plain loop; the cells torch computes exactly also on PyTorch's
own kernels ("native")."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ref_cases import CELLS, DT, LENGTHS, make_cell, random_sequence, random_state_tree, randomize
from torch_bridge import assert_close, tensor_leaves, to_torch, torch_gradients, upstream

import rnnkit
from rnnkit import engines
from rnnkit.layers import Bidirectional, Recurrent, Stacked
from rnnkit.reference import from_torch
from rnnkit.reference.gradcheck import leaves


def compare(layer: torch.nn.Module, lengths=LENGTHS, with_state: bool = True) -> None:
    """Run `layer` and its reference on the same data, with a random initial state or None."""
    layer = randomize(layer, seed=7).eval()
    ref = from_torch(layer)
    params = dict(layer.named_parameters())
    assert set(ref.params) == set(params)
    x = random_sequence(layer.input_size)
    state = random_state_tree(ref.zero_state(x.shape[1])) if with_state else None
    out, final, cache = ref.forward(x, state, lengths)

    x_t = to_torch(x)
    state_t = to_torch(state) if with_state else None
    out_t, final_t = layer(x_t, state_t, None if lengths is None else torch.tensor(lengths))
    assert_close(out_t, out, "output")
    for j, (a, b) in enumerate(zip(tensor_leaves(final_t), leaves(final), strict=True)):
        assert_close(a, b, f"final state leaf {j}")

    g_out, g_final = upstream(out, final)
    dx, d_state, d_params = ref.backward(cache, g_out, g_final)
    state_leaves = tensor_leaves(state_t) if with_state else []
    grads = torch_gradients(out_t, final_t, g_out, g_final,
                            [x_t, *state_leaves, *params.values()])
    assert_close(grads[0], dx, "d x")
    for j, (a, b) in enumerate(zip(grads[1:1 + len(state_leaves)], leaves(d_state))):
        assert_close(a, b, f"d state leaf {j}")
    for name, g in zip(params, grads[1 + len(state_leaves):]):
        assert_close(g, d_params[name], f"d {name}")


@pytest.fixture(params=["auto", "loop"], ids=lambda e: f"engine={e}")
def engine(request):
    """The default engine choice (a compiled kernel where one applies) and the plain loop."""
    with engines.use(request.param):
        yield request.param


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("name", ["lstm-FGR-proj", "gru-reset-before", "jordan-relu-sigmoid",
                                  "mut2-proj1"])
@pytest.mark.parametrize("lengths", [LENGTHS, None], ids=["lengths", "full"])
def test_recurrent(name, lengths):
    compare(Recurrent(make_cell(name)), lengths)
    compare(Recurrent(make_cell(name)), lengths, with_state=False)


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("merge", ["concat", "sum", "mean", "mul", "linear"])
def test_bidirectional(merge):
    layer = Bidirectional(Recurrent(rnnkit.LSTMCell(3, 4, spec="CIFG", dtype=DT)),
                          Recurrent(rnnkit.MUTCell(3, 4, kind="MUT3", dtype=DT)), merge)
    compare(layer)
    compare(layer, lengths=np.array([1, 3]), with_state=False)
    compare(layer, lengths=None)


@pytest.mark.usefixtures("engine")
def test_stacked():
    layer = Stacked([
        Bidirectional(Recurrent(rnnkit.ElmanCell(3, 3, nonlinearity="sigmoid", dtype=DT)),
                      Recurrent(rnnkit.GRUCell(3, 2, dtype=DT)), "concat"),
        Recurrent(rnnkit.LSTMCell(5, 4, spec="NIAF+NOAF", proj_size=2, dtype=DT)),
        Bidirectional(Recurrent(rnnkit.JordanCell(2, 3, 2, output_activation="identity",
                                                  dtype=DT)),
                      Recurrent(rnnkit.LSTMCell(2, 2, spec="FGR", dtype=DT)), "linear"),
        Stacked([Recurrent(rnnkit.MUTCell(2, 3, kind="MUT1", input_proj=True, dtype=DT))]),
    ])
    compare(layer)
    compare(layer, with_state=False)
    compare(layer, lengths=None)


# The cells rnnkit hands to PyTorch's fused kernels under the "native" engine.
NATIVE = ["elman-tanh", "elman-relu", "lstm-torch", "lstm-torch-proj", "lstm-torch-nobias",
          "gru-reset-after", "gru-reset-after-nobias"]


@pytest.mark.parametrize("engine", ["native", "loop"])
@pytest.mark.parametrize("name", NATIVE)
def test_recurrent_on_each_engine(name, engine):
    with engines.use(engine):
        compare(Recurrent(make_cell(name)))
        compare(Recurrent(make_cell(name)), lengths=None, with_state=False)


@pytest.mark.parametrize("engine", ["native", "loop"])
def test_stacked_bidirectional_on_each_engine(engine):
    layer = Stacked([
        Bidirectional(Recurrent(rnnkit.LSTMCell(3, 4, proj_size=2, dtype=DT)),
                      Recurrent(rnnkit.LSTMCell(3, 4, proj_size=2, dtype=DT)), "concat"),
        Bidirectional(Recurrent(rnnkit.GRUCell(4, 3, dtype=DT)),
                      Recurrent(rnnkit.ElmanCell(4, 3, nonlinearity="relu", dtype=DT)), "mul"),
    ])
    with engines.use(engine):
        compare(layer)
        compare(layer, lengths=np.array([2, 3]), with_state=False)


@pytest.mark.parametrize("name", CELLS)
def test_every_cell_in_two_bidirectional_layers_on_the_fast_path(name):
    """The default engine choice (PyTorch's kernels or the fused C++ loop) equals the reference
    for every cell and option, with lengths, both directions and 2 layers."""
    first = make_cell(name)
    size = first.output_size  # "sum" merges: the second layer reads one direction's width

    def bidirectional(input_size):
        return Bidirectional(Recurrent(make_cell(name, 1, input_size)),
                             Recurrent(make_cell(name, 2, input_size)), "sum")
    with engines.use("auto"):
        compare(Stacked([bidirectional(first.input_size), bidirectional(size)]))

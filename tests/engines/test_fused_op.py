"""The fused kernels as PyTorch operators: torch.library.opcheck holds rnnkit::fused_forward to
the custom-op contract (schema, fake shapes equal to the real kernel's, autograd registration,
outputs that own their memory) for every family and the options that change what it returns,
and torch.compile puts the kernel into its graph as one operation."""

import pytest
import torch

import rnnkit
from rnnkit.cells.tree import BinaryTreeLSTMCell
from rnnkit.data import parse_tree
from rnnkit.engines import fused
from rnnkit.layers.tree import batch_trees

_reason = fused.unavailable_reason()
if _reason is not None:
    pytest.skip(f"the fused engine cannot be built here: {_reason}", allow_module_level=True)

I, H, B, T = 3, 4, 2, 5
CELLS = {
    "elman": lambda: rnnkit.ElmanCell(I, H, nonlinearity="sigmoid"),
    "gru-before": lambda: rnnkit.GRUCell(I, H, spec=rnnkit.GRUSpec(reset_after=False)),
    "gru-after-nobias": lambda: rnnkit.GRUCell(I, H, False),
    "mut1": lambda: rnnkit.MUTCell(H, H, kind="MUT1"),
    "mut3": lambda: rnnkit.MUTCell(H, H, kind="MUT3"),
    "jordan": lambda: rnnkit.JordanCell(I, H, 2),
    "lstm-cifg": lambda: rnnkit.LSTMCell(I, H, spec="CIFG"),
    "lstm-fgr-proj": lambda: rnnkit.LSTMCell(I, H, spec="FGR", proj_size=2),
    "lstm-noaf-nig": lambda: rnnkit.LSTMCell(I, H, spec="NOAF+NIG"),
    "stack": lambda: rnnkit.StackCell(I, H, num_stacks=2, depth=3, k=2),
}


def _captured_calls(run):
    """The (family, options, n_outputs, inputs) of every kernel call that run() makes: what
    the operator is called with under torch.compile."""
    calls, real = [], fused._apply

    def capture(family, options, n_outputs, *inputs):
        calls.append((family, options, n_outputs, list(inputs)))
        return real(family, options, n_outputs, *inputs)

    fused._apply = capture
    try:
        run()
    finally:
        fused._apply = real
    return calls


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("padded", [False, True], ids=["full", "lengths+mask"])
def test_opcheck_every_family(name, padded):
    torch.manual_seed(0)
    cell = CELLS[name]().double()
    x = torch.randn(T, B, cell.input_size, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(B, n, dtype=torch.float64, requires_grad=True)
                  for n in cell.state_sizes)
    lengths = torch.tensor([T, 2]) if padded else None
    mask = torch.full((B, cell.state_sizes[0]), 2.0, dtype=torch.float64) if padded else None
    calls = _captured_calls(lambda: fused.run(cell, cell.weights(), x, state, lengths, mask))
    assert len(calls) == 1
    torch.library.opcheck(torch.ops.rnnkit.fused_forward.default, calls[0])


def test_opcheck_tree_lstm():
    cell = BinaryTreeLSTMCell(I, H).double()
    trees = [parse_tree("(1 (2 a) (3 b))"), parse_tree("(1 (2 (3 a) (1 b)) (2 c))")]
    batch = batch_trees(trees, [[0, 1], [2, 3, 4]], cell.arity)
    leaf_inputs = torch.randn(5, I, dtype=torch.float64, requires_grad=True)
    calls = _captured_calls(lambda: fused.run_tree(cell, batch.levels, leaf_inputs))
    assert len(calls) == 1
    torch.library.opcheck(torch.ops.rnnkit.fused_forward.default, calls[0])


def test_compile_puts_the_kernel_in_the_graph_as_one_operation():
    torch._dynamo.reset()
    module = rnnkit.LSTM(I, H, spec="CIFG")
    graphs = []

    def backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    x = torch.randn(T, B, I)
    out = torch.compile(module, backend=backend, fullgraph=True)(x)[0]
    torch.testing.assert_close(out, module(x)[0])
    targets = [str(node.target) for g in graphs for node in g.graph.nodes]
    assert sum("rnnkit.fused_forward" in t for t in targets) == 1, targets

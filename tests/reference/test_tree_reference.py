"""The NumPy tree reference: its hand-derived backpropagation through structure against finite
differences, and torch's tree cells (batched engine) against it."""

import numpy as np
import pytest
import torch

from rnnkit.cells.tree import TREE_CELLS, build_tree_cell
from rnnkit.data import parse_tree
from rnnkit.layers.tree import batch_trees, run_batched
from rnnkit.reference import from_torch, gradcheck
from rnnkit.reference.tree import TreeNet

BINARY = "(0 (1 (2 a) (1 (0 dull) (2 film))) (2 (2 ,) (1 (2 truly) (2 so))))"
ANY = "(4 (3 (2 one) (2 two) (3 three)) (4 (4 four)) (2 (2 five) (2 six)))"
H = 3


def net_and_tree(name, seed=0):
    torch.manual_seed(seed)
    cell = build_tree_cell(name, H, H)
    tree = parse_tree(ANY if cell.arity is None else BINARY)
    x = np.random.default_rng(seed).standard_normal((len(tree.leaves()), H))
    return cell, TreeNet(from_torch(cell)), tree, x


@pytest.mark.parametrize("name", list(TREE_CELLS))
def test_backprop_through_structure_equals_finite_differences(name):
    _, net, tree, x = net_and_tree(name)
    result = gradcheck.tree_gradients(net, tree, x)
    assert set(result) == {"x", *net.params}
    gradcheck.assert_gradients_close(result)


@pytest.mark.parametrize("name", list(TREE_CELLS))
def test_torch_batched_engine_equals_the_reference(name):
    cell, net, tree, x = net_and_tree(name, seed=1)
    cell = cell.double()
    batch = batch_trees([tree], [list(range(len(x)))], cell.arity)
    leaves = torch.tensor(x, requires_grad=True)
    h = run_batched(cell, batch, leaves)[batch.order[0]]  # postorder, as the reference
    h_ref, cache = net.forward(tree, x)
    np.testing.assert_allclose(h.detach().numpy(), h_ref, rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(2).standard_normal(h_ref.shape)
    (h * torch.tensor(g)).sum().backward()
    dx, d_params = net.backward(cache, g)
    np.testing.assert_allclose(leaves.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    for name_, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), d_params[name_], rtol=1e-10, atol=1e-12,
                                   err_msg=name_)

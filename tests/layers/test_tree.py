"""The batched tree engine equals the plain recursion: every node's output, the loss, and every
gradient, in float64, for each tree cell, on both tree engines (conftest.py runs every test
under "auto", the fused C++ levels for the binary Tree-LSTM, and under "loop", the Python loop
over levels)."""

import pytest
import torch

from rnnkit import engines
from rnnkit.cells.tree import TREE_CELLS, build_tree_cell
from rnnkit.engines import fused
from rnnkit.data import parse_tree
from rnnkit.layers.tree import IGNORE, batch_trees, run_batched, run_recursive

BINARY = ["(3 (2 It) (4 (4 (2 's) (4 great)) (2 .)))",
          "(1 bad)",
          "(0 (1 (2 a) (1 (0 dull) (2 film))) (2 (2 ,) (1 (2 truly) (2 so))))",
          "(2 (3 (2 not) (3 (3 at) (1 all))) (1 (2 no) (1 .)))"]
# Child-sum trees: any number of children, a unary node and a node of three.
ANY = BINARY + ["(4 (3 (2 one) (2 two) (3 three)) (4 (4 four)))"]
H, I, C = 3, 3, 5  # the recursive cell's leaves are its inputs: I == H


def case(name, seed=0):
    torch.manual_seed(seed)
    texts = ANY if TREE_CELLS[name].arity is None else BINARY
    trees = [parse_tree(text) for text in texts]
    tokens = [[(7 * b + k) % 11 for k in range(len(t.leaves()))] for b, t in enumerate(trees)]
    cell = build_tree_cell(name, I, H).double()
    embed = torch.randn(11, I, dtype=torch.float64, requires_grad=True)
    head = torch.randn(C, H, dtype=torch.float64, requires_grad=True)
    return cell, trees, tokens, embed, head


def loss_and_grads(cell, h, labels, embed, head):
    loss = torch.nn.functional.cross_entropy(h @ head.T, labels, ignore_index=IGNORE,
                                             reduction="sum")
    params = [embed, head, *cell.parameters()]
    return loss, torch.autograd.grad(loss, params)


@pytest.mark.parametrize("name", list(TREE_CELLS))
def test_batched_equals_recursive(name):
    cell, trees, tokens, embed, head = case(name)
    batch = batch_trees(trees, tokens, cell.arity)
    h_batched = run_batched(cell, batch, embed[batch.tokens])
    parts, labels = [], []
    for tree, ids, order in zip(trees, tokens, batch.order):
        h = run_recursive(cell, tree, embed[torch.tensor(ids)])
        torch.testing.assert_close(h_batched[order], h, rtol=0, atol=1e-12)
        parts.append(h)
        labels += [node.label for node in tree.postorder()]
    loss_b, grads_b = loss_and_grads(cell, h_batched, batch.labels, embed, head)
    loss_r, grads_r = loss_and_grads(cell, torch.cat(parts), torch.tensor(labels), embed, head)
    torch.testing.assert_close(loss_b, loss_r, rtol=1e-12, atol=0)
    for gb, gr in zip(grads_b, grads_r, strict=True):
        torch.testing.assert_close(gb, gr, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["childsum", "binary"])
@pytest.mark.parametrize("frozen", ["leaves", "cell"])
def test_gradients_when_only_the_cell_or_only_the_leaves_are_trained(frozen, name):
    cell, trees, tokens, embed, _ = case(name)
    batch = batch_trees(trees, tokens, cell.arity)
    leaves = embed[batch.tokens].detach().requires_grad_(frozen == "cell")
    cell.requires_grad_(frozen == "leaves")
    trained = [leaves] if frozen == "cell" else list(cell.parameters())
    batched = torch.autograd.grad(run_batched(cell, batch, leaves).sin().sum(), trained)
    parts, first = [], 0
    for tree in trees:
        n = len(tree.leaves())
        parts.append(run_recursive(cell, tree, leaves[first:first + n]))
        first += n
    by_rows = torch.cat(parts)[torch.cat(batch.order).argsort()]  # postorder -> row order
    recursive = torch.autograd.grad(by_rows.sin().sum(), trained)
    for b, r in zip(batched, recursive, strict=True):
        torch.testing.assert_close(b, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(TREE_CELLS))
def test_gradcheck(name):
    cell, trees, tokens, embed, head = case(name, seed=1)
    batch = batch_trees(trees[:3], tokens[:3], cell.arity)
    params = tuple(cell.parameters())

    def root_outputs(leaves, *_):
        return run_batched(cell, batch, leaves)[batch.roots]

    assert torch.autograd.gradcheck(root_outputs, (embed[batch.tokens].detach()
                                                   .requires_grad_(), *params))


def test_engine_choice():
    binary, childsum = build_tree_cell("binary", I, H), build_tree_cell("childsum", I, H)
    x = torch.zeros(2, I)
    fused_here = fused.unavailable_reason() is None
    with engines.use("auto"):
        assert engines.choose_tree(binary, x) == ("fused" if fused_here else "loop")
        assert engines.choose_tree(childsum, x) == "loop"
    with engines.use("loop"):
        assert engines.choose_tree(binary, x) == "loop"
    with engines.use("fused"), pytest.raises(ValueError, match="no kernel for ChildSumTreeLSTM"):
        engines.choose_tree(childsum, x)


@pytest.mark.skipif(fused.unavailable_reason() is not None,
                    reason=f"the fused engine is unavailable: {fused.unavailable_reason()}")
def test_fused_levels_in_float32_equal_the_loop():
    """The kernel's own activations in float32: the two engines agree to rounding."""
    cell, trees, tokens, embed, head = case("binary")
    cell, embed = cell.float(), embed.detach().float().requires_grad_()
    batch = batch_trees(trees, tokens, cell.arity)
    results = []
    for engine in ("fused", "loop"):
        with engines.use(engine):
            h = run_batched(cell, batch, embed[batch.tokens])
            results.append((h, *torch.autograd.grad(h.sin().sum(), [embed, *cell.parameters()])))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_structure_levels_and_rows():
    trees = [parse_tree(BINARY[0]), parse_tree(BINARY[1])]
    batch = batch_trees(trees, [[1, 2, 3, 4], [5]], arity=2)
    assert batch.tokens.tolist() == [1, 2, 3, 4, 5]  # every leaf first, tree by tree
    assert [level.shape[0] for level in batch.levels] == [1, 1, 1]
    assert batch.roots.tolist() == [7, 4]  # "bad" is a leaf and a root
    assert batch.labels.tolist() == [2, 2, 4, 2, 1, 4, 4, 3]


def test_binary_cell_refuses_other_arities():
    tree = parse_tree("(2 (2 (2 one) (2 two) (2 three)) (2 four))")
    with pytest.raises(ValueError, match=r"trees\[1\].*2 children.*with 3"):
        batch_trees([parse_tree(BINARY[1]), tree], [[1], [1, 2, 3, 4]], arity=2)
    with pytest.raises(ValueError, match=r"trees\[0\].*with 1"):
        batch_trees([parse_tree("(2 (2 (2 one)) (2 two))")], [[1, 2]], arity=2)


def test_bad_batches():
    with pytest.raises(ValueError, match="at least one tree"):
        batch_trees([], [])
    with pytest.raises(ValueError, match=r"tokens\[0\].*\(4\), got 2"):
        batch_trees([parse_tree(BINARY[0])], [[1, 2]])


def test_recursive_cell_needs_word_sized_leaves():
    with pytest.raises(ValueError, match="input_size.*hidden_size=4, got 3"):
        build_tree_cell("recursive", 3, 4)

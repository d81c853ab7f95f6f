"""The sst_tree task on a tiny treebank: trees with every node's label as targets, the model's
batched path equal to its recursive reference through loss and every gradient, and
`rnnkit train` / `eval` on it for each tree cell."""

import pytest
import torch

from rnnkit import engines
from rnnkit.cells.tree import TREE_CELLS
from rnnkit.errors import DataError
from rnnkit.layers.tree import IGNORE
from rnnkit.models import ModelConfig
from rnnkit.tasks.sst import binary_hits
from rnnkit.tasks.sst_tree import SSTTreeData, SSTTreeTask
from tasks_helpers import train_and_eval
from tests.models.test_classifier import TREES


@pytest.fixture
def sst(tmp_path):
    for name, lines in TREES.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return tmp_path


def task(folder, tree_cell="childsum", **data):
    return SSTTreeTask(SSTTreeData(str(folder), **data),
                       ModelConfig(hidden_size=4, tree_cell=tree_cell))


def test_targets_are_every_nodes_label_and_whether_it_is_a_root(sst):
    fine, binary = task(sst, granularity="fine"), task(sst)
    assert fine.size("train") == 6 and binary.size("train") == 5  # one neutral root dropped
    batch = next(fine.batches("valid", 2, epoch=0, seed=0))
    assert batch.count == batch.size == 2
    labels, roots = batch.targets.T
    # Rows: the four leaves (great film | a film), then the two roots.
    assert labels.tolist() == [4, 2, 2, 2, 4, 2] and roots.tolist() == [0, 0, 0, 0, 1, 1]
    labels, _ = next(binary.batches("valid", 2, epoch=0, seed=0)).targets.T
    assert labels.tolist() == [1, IGNORE, 0, IGNORE, 1, 0]  # neutral nodes have no target
    assert [b.count for b in fine.batches("train", 4, epoch=0, seed=0)] == [4]  # partial dropped


@pytest.mark.parametrize("tree_cell", list(TREE_CELLS))
def test_batched_model_equals_recursive_in_loss_and_every_gradient(sst, tree_cell):
    sst_task = task(sst, tree_cell, granularity="fine")
    torch.manual_seed(0)
    model = sst_task.build_model().double().eval()  # eval: no dropout masks to match
    batch = next(sst_task.batches("train", 5, epoch=0, seed=0))
    results = []
    for recursive in (False, True):
        model.zero_grad()
        loss, sums = sst_task.loss(model(batch.inputs, recursive=recursive)[0], batch.targets)
        loss.backward()
        results.append((loss, sums, {n: p.grad.clone() for n, p in model.named_parameters()}))
    (loss_b, sums_b, grads_b), (loss_r, sums_r, grads_r) = results
    torch.testing.assert_close(loss_b, loss_r, rtol=1e-12, atol=0)
    assert sums_b.keys() == sums_r.keys() and sums_b["roots"] == 5
    assert grads_b.keys() == grads_r.keys()
    for name in grads_b:
        torch.testing.assert_close(grads_b[name], grads_r[name], rtol=1e-10, atol=1e-12,
                                   msg=name)


@pytest.mark.parametrize("tree_cell", ["rntn", "binary"])
def test_train_eval_and_predict(sst, tmp_path, capsys, tree_cell):
    config = (f'task = "sst_tree"\n[model]\ntree_cell = "{tree_cell}"\nhidden_size = 4\n'
              f'[data]\npath = "{sst}"\ngranularity = "fine"\n')
    with engines.use("loop"):
        metrics = train_and_eval(tmp_path, capsys, config, batch_size=2)
    assert set(metrics) - {"split"} == {"loss", "accuracy", "phrase_accuracy", "binary_accuracy"}
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["binary_accuracy"] <= 1


def test_a_fine_model_reads_its_roots_as_binary(sst):
    fine = task(sst, granularity="fine")
    model = fine.build_model().eval()
    batch = next(fine.batches("valid", 3, epoch=0, seed=0))
    logits = fine.outputs(model, batch)
    _, sums = fine.loss(logits, batch.targets)
    roots = batch.targets[:, 1].bool()
    assert (sums["binary_correct"], sums["binary_n"]) == binary_hits(logits[roots],
                                                                    batch.targets[roots, 0])
    assert sums["binary_n"] == 2  # dev's roots: 4, 2 (neutral, left out), 0
    assert "binary_accuracy" not in task(sst).metric_names


def test_predict_reads_trees_and_names_a_bad_line(sst):
    sst_task = task(sst, granularity="fine")
    model = sst_task.build_model().eval()
    assert all(p in sst_task.labels for p in sst_task.predict(
        model, ["(2 (2 good) (2 film))", "(0 unseen)"]))
    with pytest.raises(DataError, match="input.*line 2"):
        sst_task.predict(model, ["(2 good)", "(2 (2 good) (2 film)"])


def test_a_tree_the_binary_cells_cannot_compose_names_file_and_tree(sst):
    (sst / "dev.txt").write_text("(2 (2 a) (2 film))\n\n(3 (2 a) (3 good) (2 film))\n")
    task(sst, "childsum")  # any number of children
    for cell in ("binary", "recursive"):
        with pytest.raises(DataError, match=rf"dev.txt, tree 2: the {cell} cell takes 2 children"
                                            r" per inner node, got a node with 3"):
            task(sst, cell)

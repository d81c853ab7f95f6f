"""`python -m rnnkit.bench.trees`: level-batched against one-node-at-a-time tree execution, in
trees per second of training (forward, the loss at every labelled node, backward) and of
inference (forward in eval mode, no gradients), on SST trees, in one process, runs
interleaved; and the two losses' difference, which the tests hold at rounding (they equal in
float64, loss and every gradient).

Batching composes all nodes of one height across the batch in one matrix product, so a batch
costs about as many cell calls as its tallest tree is high, where the recursion makes one per
node.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import torch

from rnnkit.bench import parse_ints
from rnnkit.bench.timing import interleaved_medians
from rnnkit.cells.tree import TREE_CELLS
from rnnkit.data import Vocab, read_trees
from rnnkit.layers.tree import IGNORE, batch_trees
from rnnkit.models.network import ModelConfig
from rnnkit.tasks.sst_tree import TreeClassifier


def training_step(model: TreeClassifier, trees, recursive: bool):
    """-> a function running one training step and returning its loss."""
    def run():
        model.zero_grad(set_to_none=True)
        logits, _ = model(trees, recursive=recursive)
        loss = torch.nn.functional.cross_entropy(logits, trees.labels, ignore_index=IGNORE)
        loss.backward()
        return loss.item()
    return run


def inference(model: TreeClassifier, trees, recursive: bool):
    """-> a function running the model on the batch in eval mode without gradients."""
    def run():
        model.eval()
        with torch.no_grad():
            model(trees, recursive=recursive)
        model.train()
    return run


def measure(model: TreeClassifier, trees, B: int, *, repeats: int, warmup: int) -> dict:
    result = {"B": B, "nodes": len(trees.labels), "levels": len(trees.levels) + 1}
    for name, make in (("train", training_step), ("infer", inference)):
        batched_s, recursive_s = interleaved_medians(make(model, trees, False),
                                                     make(model, trees, True),
                                                     warmup=warmup, repeats=repeats)
        result.update({f"{name}_batched": B / batched_s, f"{name}_recursive": B / recursive_s,
                       f"{name}_speedup": recursive_s / batched_s})
    losses = [training_step(model, trees, r)() for r in (False, True)]
    return {**result, "loss_diff": abs(losses[0] - losses[1])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.bench.trees", description=__doc__)
    parser.add_argument("--data", default="../shared/data/sst/train.txt",
                        help="a file of SST trees (default: ../shared/data/sst/train.txt)")
    parser.add_argument("--cell", choices=tuple(TREE_CELLS), default="binary")
    parser.add_argument("--B", type=parse_ints, default=[1, 25, 100], help="trees per batch")
    parser.add_argument("--H", type=int, default=150, help="hidden size (default 150)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    args = parser.parse_args(argv)
    trees = read_trees(Path(args.data))[:max(args.B)]
    vocab = Vocab.from_counts(Counter(w.lower() for t in trees for w in t.words()))
    torch.manual_seed(0)
    model = TreeClassifier(ModelConfig(hidden_size=args.H, tree_cell=args.cell), len(vocab), 5)
    print(f"tree training steps and inference, {args.cell} cell, H={args.H}: torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats} "
          f"interleaved runs, the first B trees of {args.data}")
    print(f"{'B':>5}{'nodes':>7}{'levels':>8}"
          + "".join(f"{name + ' batched':>16}{name + ' recursive':>18}{name + ' x':>9}"
                    for name in ("train", "infer"))
          + f"{'|loss diff|':>13}    (trees per second)", flush=True)
    for B in args.B:
        batch = batch_trees(trees[:B], [vocab.encode(w.lower() for w in t.words())
                                        for t in trees[:B]], TREE_CELLS[args.cell].arity)
        r = measure(model, batch, B, repeats=args.repeats, warmup=args.warmup)
        print(f"{r['B']:>5}{r['nodes']:>7}{r['levels']:>8}"
              + "".join(f"{r[name + '_batched']:>16.1f}{r[name + '_recursive']:>18.1f}"
                        f"{r[name + '_speedup']:>8.1f}x" for name in ("train", "infer"))
              + f"{r['loss_diff']:>13.2e}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

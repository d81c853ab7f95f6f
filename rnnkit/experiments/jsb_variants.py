"""`python -m rnnkit.experiments.jsb_variants`: Greff et al.'s LSTM variants side by side on JSB
Chorales: every variant x seed trained from one config (the vanilla LSTM's, each variant set
through `model.spec`), the best checkpoint of each run evaluated on test, then a table
(variants.md) and a plot (variants.png) of the test NLL per variant.

    python -m rnnkit.experiments.jsb_variants                       # all 9 variants x 3 seeds
    python -m rnnkit.experiments.jsb_variants --variants vanilla,NIG,CIFG --seeds 0 \\
        --set train.epochs=20 --out runs/jsb_quick

Each run lives in OUT/<variant>-seed<k>/ and leaves its test metrics in test.json there; a run
with test.json is not trained again, and one with only a checkpoint (stopped by Ctrl-C) is
resumed, so the command can be run again until the table is complete.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from rnnkit.cells.lstm import VARIANTS
from rnnkit.experiments.runs import argument_parser, names, parameters, run_all, run_once
from rnnkit.training.evaluate import evaluate

ALL = tuple(name for name in VARIANTS if name != "TORCH")  # VANILLA, NIG, ..., FGR


def parse_args(argv=None) -> argparse.Namespace:
    parser = argument_parser("jsb_variants", __doc__, "configs/jsb_vanilla.toml",
                             "runs/jsb_variants")
    parser.add_argument("--variants", default=",".join(ALL),
                        help="comma-separated LSTM spec names (any that model.spec takes)")
    return parser.parse_args(argv)


def run_one(args, variant: str, seed: int) -> dict | None:
    """Train (or resume) one run and evaluate its best checkpoint on test; its record, or None
    when a signal stopped it."""
    overrides = args.overrides + [f"model.spec={json.dumps(variant)}", f"train.seed={seed}"]

    def measure(trained) -> dict:
        def nll(split: str) -> float:
            train = trained.config.train
            return evaluate(trained.task, trained.model, split, train.batch_size,
                            train.k1)["nll"]

        return {"variant": variant, "seed": seed, "test_nll": nll("test"),
                "valid_nll": nll("valid"), "best_step": trained.payload["trainer"]["step"],
                "parameters": parameters(trained)}

    return run_once(Path(args.out) / f"{variant}-seed{seed}", args.config, overrides, measure)


def table(records: list[dict], variants: list[str]) -> str:
    """A Markdown table: one row per variant, its test NLL over seeds."""
    lines = ["| variant | parameters | test NLL: mean ± sd | min | seeds | valid NLL: mean "
             "| minutes per run |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for variant in variants:
        rows = [r for r in records if r["variant"] == variant]
        test = [r["test_nll"] for r in rows]
        sd = statistics.stdev(test) if len(test) > 1 else 0.0
        lines.append(f"| {variant} | {rows[0]['parameters']:,} | {statistics.mean(test):.3f} ± "
                     f"{sd:.3f} | {min(test):.3f} | {len(test)} | "
                     f"{statistics.mean(r['valid_nll'] for r in rows):.3f} | "
                     f"{statistics.mean(r['seconds'] for r in rows) / 60:.1f} |")
    return "\n".join(lines) + "\n"


def plot(records: list[dict], variants: list[str], path: Path) -> None:
    """Each variant's test NLLs as a box with its seeds as points, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [[r["test_nll"] for r in records if r["variant"] == v] for v in variants]
    fig, ax = plt.subplots(figsize=(1 + 0.8 * len(variants), 4), layout="constrained")
    ax.boxplot(values, widths=0.5)
    ax.set_xticks(range(1, len(variants) + 1), variants)
    for k, points in enumerate(values, 1):
        ax.plot([k] * len(points), points, "o", alpha=0.6)
    ax.set(title="LSTM variants on JSB Chorales", ylabel="test NLL per time step (nats)")
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    variants, seeds = names(args.variants), [int(s) for s in names(args.seeds)]
    records = run_all(
        (lambda v=variant, k=seed: run_one(args, v, k) for variant in variants for seed in seeds),
        lambda r: f"{r['variant']} seed {r['seed']}: test NLL {r['test_nll']:.3f} "
                  f"({r['seconds'] / 60:.1f} min)")
    if isinstance(records, int):
        return records
    out = Path(args.out)
    (out / "variants.md").write_text(table(records, variants))
    plot(records, variants, out / "variants.png")
    print(table(records, variants) + f"\nwrote {out / 'variants.md'}, {out / 'variants.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import time
from pathlib import Path

from rnnkit.cells.lstm import VARIANTS
from rnnkit.errors import RnnkitError
from rnnkit.training import config as configs
from rnnkit.training.checkpoint import LAST, atomic_write
from rnnkit.training.evaluate import evaluate, load_trained
from rnnkit.training.trainer import Trainer

ALL = tuple(name for name in VARIANTS if name != "TORCH")  # VANILLA, NIG, ..., FGR
RESULT = "test.json"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.experiments.jsb_variants",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", default="configs/jsb_vanilla.toml")
    parser.add_argument("--variants", default=",".join(ALL),
                        help="comma-separated LSTM spec names (any that model.spec takes)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated train.seed values")
    parser.add_argument("--out", default="runs/jsb_variants", help="the folder of the runs")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE", help="config overrides for every run")
    return parser.parse_args(argv)


def run_one(args, variant: str, seed: int) -> dict | None:
    """Train (or resume) one run and evaluate its best checkpoint on test; its record, or None
    when a signal stopped it."""
    folder = Path(args.out) / f"{variant}-seed{seed}"
    if (folder / RESULT).is_file():
        return json.loads((folder / RESULT).read_text())
    config = configs.load(args.config, args.overrides + [
        f"model.spec={json.dumps(variant)}", f"train.seed={seed}",
        f"run.folder={json.dumps(str(folder))}", "quiet=true"])
    start = time.perf_counter()
    outcome = Trainer(config, resume=(folder / LAST).is_file()).fit()
    if outcome.status == "interrupted":
        return None
    trained = load_trained(folder)  # its best checkpoint

    def nll(split: str) -> float:
        return evaluate(trained.task, trained.model, split, config.train.batch_size,
                        config.train.k1)["nll"]

    record = {"variant": variant, "seed": seed, "test_nll": nll("test"),
              "valid_nll": nll("valid"), "best_step": trained.payload["trainer"]["step"],
              "parameters": sum(p.numel() for p in trained.model.parameters()),
              "seconds": round(time.perf_counter() - start, 1)}
    text = json.dumps(record).encode()
    atomic_write(folder / RESULT, lambda file: file.write(text))
    return record


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
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    seeds = [int(s) for s in args.seeds.split(",")]
    records = []
    try:
        for variant in variants:
            for seed in seeds:
                record = run_one(args, variant, seed)
                if record is None:
                    print("interrupted: run the same command again to continue", file=sys.stderr)
                    return 130
                records.append(record)
                print(f"{variant} seed {seed}: test NLL {record['test_nll']:.3f} "
                      f"({record['seconds'] / 60:.1f} min)", flush=True)
    except RnnkitError as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    (out / "variants.md").write_text(table(records, variants))
    plot(records, variants, out / "variants.png")
    print(table(records, variants) + f"\nwrote {out / 'variants.md'}, {out / 'variants.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m rnnkit.experiments.stack_table`: Joulin & Mikolov's (2015) Table 2 measured: the
stack RNN, an LSTM and a plain RNN on the counting tasks, every model x task x seed trained
from one config (the stack RNN's; the others through `model.cell`), the best checkpoint of each
run evaluated on test (n = 2 .. 60), then a table (table.md: ours beside the paper's numbers)
and a plot (table.png) of the paper's metric, the share of n whose test sequences are all right.

    python -m rnnkit.experiments.stack_table                        # 3 models x 5 tasks x 3 seeds
    python -m rnnkit.experiments.stack_table --models stack --tasks anbn,anbncn --seeds 0 \\
        --set train.epochs=20 --out runs/stack_quick

Each run lives in OUT/<task>-<model>-seed<k>/ and leaves its test metrics in test.json there; a
run with test.json is not trained again, and one with only a checkpoint (stopped by Ctrl-C) is
resumed, so the command can be run again until the table is complete. Every model has the
config's hidden size (40), so the LSTM has about four times the plain RNN's weights.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from rnnkit.experiments.runs import argument_parser, names, parameters, run_all, run_once
from rnnkit.training.evaluate import evaluate

# What each model changes in the config (whose own network is the stack RNN).
MODELS = {"stack": [], "lstm": ["model.cell=lstm"], "rnn": ["model.cell=elman"]}
LABELS = {"stack": "Stack RNN", "lstm": "LSTM", "rnn": "RNN"}
TASKS = ("anbn", "anbncn", "anbncndn", "anb2n", "anbmcnm")
TITLES = {"anbn": "a^n b^n", "anbncn": "a^n b^n c^n", "anbncndn": "a^n b^n c^n d^n",
          "anb2n": "a^n b^2n", "anbmcnm": "a^n b^m c^(n+m)"}
# Joulin & Mikolov (2015), Table 2, in %: the share of n = 2 .. 60 whose sequences are all right;
# None where we do not have the published number. The plain RNN scores around 25% there.
PAPER = {"stack": (100.0, 100.0, 100.0, 100.0, None),  # 40 hidden units, 10 stacks
         "lstm": (100.0, 100.0, 68.3, 75.0, 100.0)}
PAPER_NOTE = "Paper (Joulin & Mikolov 2015, Table 2): the plain RNN scores around 25%."

def parse_args(argv=None) -> argparse.Namespace:
    parser = argument_parser("stack_table", __doc__, "configs/stack_anbn.toml",
                             "runs/stack_table")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--tasks", default=",".join(TASKS),
                        help="comma-separated data.task values (any the stack_lm task takes)")
    args = parser.parse_args(argv)
    args.models, args.tasks = names(args.models), names(args.tasks)
    args.seeds = [int(s) for s in names(args.seeds)]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"--models: expected names among {', '.join(MODELS)}, got {unknown[0]!r}")
    return args


def run_one(args, task: str, model: str, seed: int) -> dict | None:
    """Train (or resume) one run and evaluate its best checkpoint on valid and test; its
    record, or None when a signal stopped it."""
    overrides = args.overrides + MODELS[model] + [f"data.task={task}", f"train.seed={seed}"]

    def measure(trained) -> dict:
        train = trained.config.train
        test, valid = (evaluate(trained.task, trained.model, split, train.batch_size, train.k1)
                       for split in ("test", "valid"))
        return {"task": task, "model": model, "seed": seed, "test_accuracy": test["accuracy"],
                "test_symbol_accuracy": test["symbol_accuracy"],
                "valid_accuracy": valid["accuracy"], "valid_loss": valid["loss"],
                "best_step": trained.payload["trainer"]["step"],
                "parameters": parameters(trained)}

    return run_once(Path(args.out) / f"{task}-{model}-seed{seed}", args.config, overrides,
                    measure)


def table(records: list[dict], models: list[str], tasks: list[str]) -> str:
    """A Markdown table: one row per model (test accuracy in %, mean over seeds with the min
    and max), then the paper's rows for the tasks it reports."""
    header = "| model | parameters | " + " | ".join(TITLES.get(t, t) for t in tasks) + " |"
    lines = [header, "| --- | ---: |" + " ---: |" * len(tasks)]
    for model in models:
        cells = []
        for task in tasks:
            values = [100 * r["test_accuracy"] for r in records
                      if r["model"] == model and r["task"] == task]
            cells.append(f"{statistics.mean(values):.1f} ({min(values):.0f}-{max(values):.0f}, "
                         f"{len(values)} seeds)" if values else "")
        counts = {r["parameters"] for r in records if r["model"] == model}
        size = "/".join(f"{c:,}" for c in sorted(counts))
        lines.append(f"| {LABELS[model]} (ours) | {size} | " + " | ".join(cells) + " |")
    for model, values in PAPER.items():
        paper = dict(zip(TASKS, values))
        lines.append(f"| {LABELS[model]} (paper) | | " + " | ".join(
            "" if paper.get(t) is None else f"{paper[t]:.1f}" for t in tasks) + " |")
    return "\n".join(lines) + f"\n\n{PAPER_NOTE}\n"


def plot(records: list[dict], models: list[str], tasks: list[str], path: Path) -> None:
    """Grouped bars: per task, each model's mean test accuracy, its seeds as points, and the
    paper's number for that model as a black tick."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(2 + 1.5 * len(tasks), 4), layout="constrained")
    for m, model in enumerate(models):
        xs = [t + (m - (len(models) - 1) / 2) * width for t in range(len(tasks))]
        values = [[100 * r["test_accuracy"] for r in records
                   if r["model"] == model and r["task"] == task] for task in tasks]
        ax.bar(xs, [statistics.mean(v) if v else 0 for v in values], width,
               label=LABELS[model], alpha=0.7)
        for x, points in zip(xs, values):
            ax.plot([x] * len(points), points, "k.", alpha=0.6)
        published = dict(zip(TASKS, PAPER.get(model, ())))
        for x, task in zip(xs, tasks):
            if published.get(task) is not None:
                ax.plot([x - width / 2, x + width / 2], [published[task]] * 2, "k-", lw=2)
    ax.set_xticks(range(len(tasks)), [TITLES.get(t, t) for t in tasks])
    ax.set(ylim=(0, 105), ylabel="n = 2..60 all right (%)",
           title="Joulin & Mikolov (2015), Table 2: ours (bars, seeds as dots), paper (ticks)")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    records = run_all(
        (lambda t=task, m=model, k=seed: run_one(args, t, m, k)
         for task in args.tasks for model in args.models for seed in args.seeds),
        lambda r: f"{r['task']} {r['model']} seed {r['seed']}: test accuracy "
                  f"{100 * r['test_accuracy']:.1f}% ({r['seconds'] / 60:.1f} min)")
    if isinstance(records, int):
        return records
    out = Path(args.out)
    (out / "table.md").write_text(table(records, args.models, args.tasks))
    plot(records, args.models, args.tasks, out / "table.png")
    print(table(records, args.models, args.tasks) + f"\nwrote {out / 'table.md'}, "
          f"{out / 'table.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

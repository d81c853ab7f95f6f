"""`rnnkit bench`: rnnkit's layers against PyTorch's native ones, in the same process.

For each case and grid point it reports the median time of a training step (forward +
backward) and of inference (forward under no_grad) for both layers, their ratio rnnkit / native
(below 1 means rnnkit is faster), and the peak memory of a training step. The table goes to the
screen, `--json PATH` writes one record per case and grid point, and `--markdown PATH` the
BENCHMARKS.md page (the tables, and the grid points that miss the speed targets).

torch and the cases are imported where they are used, so that `rnnkit bench --help` needs no
torch.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys

from rnnkit.cli import threads as cli_threads

FULL_GRID = {"T": [50, 200], "B": [16, 64], "H": [64, 256, 512]}
QUICK_GRID = {"T": [50], "B": [16], "H": [64]}


def measure(case, T: int, B: int, H: int, *, repeats: int, warmup: int,
            memory: bool) -> dict:
    """One record: medians of both layers in training and inference, and peak memory."""
    import torch

    from rnnkit.bench.timing import compare, inference_step, peak_memory_bytes, training_step

    torch.manual_seed(0)
    ours, native = case.make_ours(H).train(), case.make_native(H).train()
    x = torch.randn(T, B, H)
    record = {"case": case.name, "native": case.native_name, "T": T, "B": B, "H": H}
    for mode, make_step in (("train", training_step), ("inference", inference_step)):
        record[mode] = compare(make_step(ours, x), make_step(native, x), warmup=warmup,
                               repeats=repeats)
    if memory:
        mine, theirs = (peak_memory_bytes(training_step(m, x)) for m in (ours, native))
        record["train_peak_memory"] = {"rnnkit_mb": mine / 2**20, "native_mb": theirs / 2**20,
                                       "ratio": mine / theirs if theirs else float("nan")}
    return record


def format_row(r: dict) -> str:
    cells = [f"{r['case']:<24}{r['T']:>5}{r['B']:>4}{r['H']:>5}"]
    for mode in ("train", "inference"):
        m = r[mode]
        cells.append(f"{m['rnnkit_ms']:>9.2f}{m['native_ms']:>9.2f}{m['ratio']:>7.2f}x")
    if "train_peak_memory" in r:
        m = r["train_peak_memory"]
        cells.append(f"{m['rnnkit_mb']:>8.1f}{m['native_mb']:>8.1f}{m['ratio']:>7.2f}x")
    return "  ".join(cells)


HEADER = (f"{'case':<24}{'T':>5}{'B':>4}{'H':>5}  "
          f"{'train ms: rnnkit  native  ratio':>34}  {'inference ms: rnnkit  native  ratio':>34}  "
          f"{'train peak MB: rnnkit native ratio':>34}")


def parse_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_cases(text: str) -> list[str]:
    from rnnkit.bench.cases import CASES

    names = [v for v in text.split(",") if v]
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown case {', '.join(unknown) or text!r}; expected some of: {', '.join(CASES)}")
    return names


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="rnnkit bench", description=__doc__)
    parser.add_argument("--cases", type=parse_cases, default=None,
                        help="comma-separated case names (default: all; a wrong name lists "
                             "them)")
    parser.add_argument("--T", type=parse_ints, help="sequence lengths, e.g. 50,200")
    parser.add_argument("--B", type=parse_ints, help="batch sizes, e.g. 16,64")
    parser.add_argument("--H", type=parse_ints, help="hidden (= input) sizes, e.g. 64,256,512")
    parser.add_argument("--quick", action="store_true",
                        help="T=50, B=16, H=64, 3 repeats: every case in under a minute once built")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    cli_threads.add_argument(parser)  # for both sides; applied by the command line
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory pass")
    parser.add_argument("--json", metavar="PATH", help="write the records as JSON")
    parser.add_argument("--markdown", metavar="PATH",
                        help="write the tables as a Markdown page (as BENCHMARKS.md)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


def _command_line() -> str:
    """How this run was started, as the user typed it (`rnnkit bench ...` or through
    `python -m rnnkit.bench ...`, where argv has no "bench")."""
    args = sys.argv[1:]
    return " ".join(["rnnkit", *args] if args[:1] == ["bench"] else ["rnnkit bench", *args])


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_meta(command: str, *, repeats: int, warmup: int) -> dict:
    """What a benchmark's JSON says about its run: when, how started, on what, with how many
    threads and repeats. Call it after setting the threads; add "load_after" at the end."""
    import torch

    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": command,
            "machine": f"{_cpu_model()}, {platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "repeats": repeats, "warmup": warmup,
            # other work on the machine slows both sides unevenly: the reader should see it
            "load_before": os.getloadavg()[0]}


def run(args) -> int:
    from rnnkit.bench.cases import CASES
    from rnnkit.bench.report import markdown

    grid = dict(QUICK_GRID if args.quick else FULL_GRID)
    for key in grid:
        if getattr(args, key):
            grid[key] = getattr(args, key)
    repeats = args.repeats or (3 if args.quick else 10)
    cli_threads.apply(args.threads)
    meta = run_meta(_command_line(), repeats=repeats, warmup=args.warmup)
    print(f"rnnkit bench: torch {meta['torch']}, {meta['threads']} threads, median of "
          f"{repeats} interleaved runs; ratio = rnnkit / native (< 1: rnnkit faster)")
    print(HEADER, flush=True)
    records = []
    for name in args.cases or CASES:
        for T in grid["T"]:
            for B in grid["B"]:
                for H in grid["H"]:
                    record = measure(CASES[name], T, B, H, repeats=repeats,
                                     warmup=args.warmup, memory=not args.no_memory)
                    records.append(record)
                    print(format_row(record), flush=True)
    meta["load_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "records": records}, f, indent=1)
        print(f"wrote {len(records)} records to {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(meta, records))
        print(f"wrote the tables to {args.markdown}")
    return 0

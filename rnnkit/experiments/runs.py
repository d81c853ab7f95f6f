"""What the experiment scripts share: one run per folder, trained in-process through `Trainer`,
its best checkpoint measured once and the record left in the folder (test.json), so that a
script stopped by Ctrl-C is simply run again: finished runs are read back, a run with only a
checkpoint is resumed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rnnkit.errors import RnnkitError
from rnnkit.training import config as configs
from rnnkit.training.checkpoint import LAST, atomic_write
from rnnkit.training.evaluate import Trained, load_trained
from rnnkit.training.trainer import Trainer

RESULT = "test.json"
INTERRUPTED = 130  # the exit status of a script stopped by a signal


def argument_parser(module: str, doc: str, config: str, out: str) -> argparse.ArgumentParser:
    """The options every experiment takes (--config, --seeds, --out, --set); `module` is the
    script's name under rnnkit.experiments, `doc` its docstring."""
    parser = argparse.ArgumentParser(prog=f"python -m rnnkit.experiments.{module}",
                                     description=doc.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", default=config)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated train.seed values")
    parser.add_argument("--out", default=out, help="the folder of the runs")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE", help="config overrides for every run")
    return parser


def names(text: str) -> list[str]:
    """"a, b,,c" -> ["a", "b", "c"]: a comma-separated option."""
    return [part.strip() for part in text.split(",") if part.strip()]


def run_once(folder: Path, config_path: str, overrides: list[str],
             measure: Callable[[Trained], dict]) -> dict | None:
    """The record of the run in `folder`: read back if it finished before; else trained (or
    resumed) from `config_path` with `overrides`, its best checkpoint passed to `measure`, and
    the record (what `measure` returns, plus "seconds" of this call) written. None when a
    signal stopped the training."""
    if (folder / RESULT).is_file():
        return json.loads((folder / RESULT).read_text())
    config = configs.load(config_path, overrides + [f"run.folder={json.dumps(str(folder))}",
                                                    "quiet=true"])
    start = time.perf_counter()
    outcome = Trainer(config, resume=(folder / LAST).is_file()).fit()
    if outcome.status == "interrupted":
        return None
    record = {**measure(load_trained(folder)), "seconds": round(time.perf_counter() - start, 1)}
    text = json.dumps(record).encode()
    atomic_write(folder / RESULT, lambda file: file.write(text))
    return record


def run_all(jobs: Iterable[Callable[[], dict | None]],
            report: Callable[[dict], str]) -> list[dict] | int:
    """Run each job in turn, printing `report(record)` after each. -> the records, or the exit
    status when a job was interrupted (130) or failed with an rnnkit error (2, printed)."""
    records = []
    try:
        for job in jobs:
            record = job()
            if record is None:
                print("interrupted: run the same command again to continue", file=sys.stderr)
                return INTERRUPTED
            records.append(record)
            print(report(record), flush=True)
    except RnnkitError as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    return records


def parameters(trained: Trained) -> int:
    return sum(p.numel() for p in trained.model.parameters())

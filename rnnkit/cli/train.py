"""`rnnkit train`: train from a config (TOML or YAML), or the built-in demo with none.

    rnnkit train                                   the demo: an LSTM learns the adding problem
    rnnkit train configs/adding.toml --set model.cell=gru train.epochs=5
    rnnkit train --resume runs/adding-1            continue an interrupted run
    torchrun --standalone --nproc_per_node 2 -m rnnkit train CONFIG    data-parallel

Ctrl-C or SIGTERM saves a checkpoint and exits with 128 + the signal's number (130, 143);
`--resume` then continues to the numbers an uninterrupted run reaches.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from rnnkit.errors import ConfigError


def add_parser(commands) -> None:
    parser = commands.add_parser("train", help="train a model from a config (no config: the demo)",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", metavar="CONFIG",
                        help="a .toml, .yaml or .yml config; none: the built-in demo")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE",
                        help="override config keys, e.g. --set train.epochs=5 model.cell=gru "
                             "(values are read as TOML; plain words as strings)")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue the run in this folder from its last checkpoint, with "
                             "its own config (plus any --set)")
    parser.add_argument("--quiet", action="store_true",
                        help="plain log lines at each evaluation instead of a progress bar")
    parser.set_defaults(run=run)


def run(args) -> int:
    # Here, not at the top: `rnnkit --help` needs no torch (cli/main.py).
    from rnnkit.training import config as configs
    from rnnkit.training import distributed
    from rnnkit.training.run_folder import CONFIG_FILE
    from rnnkit.training.trainer import Trainer

    overrides = list(args.overrides) + (["quiet=true"] if args.quiet else [])
    if args.resume:
        if args.config:
            raise ConfigError("CONFIG: a resumed run uses its own config (RUN/config.toml); "
                              "got a config file too")
        if not (Path(args.resume) / CONFIG_FILE).is_file():
            raise ConfigError(f"--resume: expected the folder of a run (with {CONFIG_FILE}), "
                              f"got {args.resume!r}")
        config = configs.load(Path(args.resume) / CONFIG_FILE,
                              # JSON's string escapes are TOML's
                              overrides + [f"run.folder={json.dumps(args.resume)}"])
    else:
        config = configs.load(args.config, overrides)
    context = distributed.setup(config.train.device)
    try:
        trainer = Trainer(config, resume=bool(args.resume), context=context)
        if context.main:
            action = "resuming" if args.resume else "training"
            print(f"{action} {config.task} ({trainer.task.cell_name()}, "
                  f"{config.model.hidden_size} units) in {trainer.folder}", flush=True)
        outcome = trainer.fit()
        # every process leaves the group together: the main one still writes plots after its
        # last collective, and a peer that had already exited once made a rank abort at exit
        # (a suspected cause of a rare failure of tests/training/test_distributed.py)
        context.barrier()
    finally:
        distributed.teardown(context)
    if context.main:
        _report(outcome)
    return 128 + outcome.signal if outcome.status == "interrupted" else 0


def _report(outcome) -> None:
    if outcome.status == "interrupted":
        name = signal.Signals(outcome.signal).name if outcome.signal else "request"
        print(f"interrupted by {name} after step {outcome.step}; checkpoint saved. Continue "
              f"with: rnnkit train --resume {outcome.folder}")
        return
    print(f"{outcome.status} after step {outcome.step}")
    for label, metrics in (("last", outcome.last), ("best", outcome.best)):
        if metrics:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "step")
            print(f"  {label} valid (step {metrics['step']}): {shown}")
    files = sorted(p.name for p in outcome.folder.iterdir() if not p.name.startswith("."))
    print(f"run folder {outcome.folder}: {', '.join(files)}")

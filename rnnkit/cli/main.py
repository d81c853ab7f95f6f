"""The `rnnkit` command: a thin shell over the library.

    rnnkit build    compile the fused C++ kernels ahead of first use
    rnnkit train    train a model from a config (no config: the one-minute demo)
    rnnkit eval     evaluate a trained model on a split
    rnnkit predict  predictions of a trained model for raw input
    rnnkit generate text sampled from a trained language model
    rnnkit info     a checkpoint's config, sizes and metrics
    rnnkit export   a trained model as ONNX or TorchScript
    rnnkit demo     six cells race on the adding problem
    rnnkit bench    rnnkit's layers against PyTorch's native ones
    rnnkit explain  see inside: gradient flow over time, gates, step-by-step traces

User errors (a bad config, a missing file, a corrupt checkpoint) print `rnnkit: error: ...` on
stderr and exit with 2; a run stopped by a NaN loss, a failed build or a file that cannot be
written (a full disk) exits with 1.
"""

from __future__ import annotations

import argparse
import sys

from rnnkit import bench
from rnnkit.cli import build, checkpoints, demo, explain, generate, threads, train
from rnnkit.errors import BuildError, RnnkitError, StorageError, TrainingError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnkit", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build.add_parser(commands)
    train.add_parser(commands)
    checkpoints.add_parsers(commands)
    generate.add_parser(commands)
    checkpoints.add_export_parser(commands)
    explain.add_parser(commands)
    demo.add_parser(commands)
    bench.build_parser(commands.add_parser("bench", help="time rnnkit against native PyTorch",
                                           description=bench.__doc__)).set_defaults(run=bench.run)
    for name in COMPUTING:
        threads.add_argument(commands.choices[name])
    return parser


# The commands that compute take --threads (bench and explain's own commands add it
# themselves; train takes the config's train.threads).
COMPUTING = ("eval", "predict", "export", "generate", "demo")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "threads"):  # the commands that compute (train: train.threads)
            threads.apply(args.threads)
        return args.run(args)
    except RnnkitError as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, (TrainingError, BuildError, StorageError)) else 2


if __name__ == "__main__":
    sys.exit(main())

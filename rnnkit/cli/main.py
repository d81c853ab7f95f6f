"""The `rnnkit` command: a thin shell over the library.

    rnnkit demo     the one-minute tour (six cells learn the adding problem)
    rnnkit bench    rnnkit's layers against PyTorch's native ones
    rnnkit explain  see inside: gradient flow over time, gates, step-by-step traces
"""

from __future__ import annotations

import argparse
import sys

from rnnkit import bench, demo
from rnnkit.cli import explain


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rnnkit", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench.build_parser(commands.add_parser("bench", help="time rnnkit against native PyTorch",
                                           description=bench.__doc__))
    demo_parser = commands.add_parser("demo", help="the one-minute tour",
                                      description=demo.__doc__)
    demo.add_arguments(demo_parser)
    explain.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "bench":
        return bench.run(args)
    if args.command == "explain":
        return explain.run(args)
    return demo.run(args)


if __name__ == "__main__":
    sys.exit(main())

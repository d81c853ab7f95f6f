"""`rnnkit demo`: the tour of `rnnkit/demo.py`, whose models need torch; its parser, here,
does not (so that `--help` is quick)."""

from __future__ import annotations

import argparse

DESCRIPTION = ("Several cells learn the adding problem (Hochreiter & Schmidhuber 1997) on "
               "generated data, one after another; each reports its test MSE (predicting the "
               "mean scores about 0.167) and its time.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=300, help="training steps per cell")
    parser.add_argument("--length", type=int, default=30, help="sequence length T")
    parser.add_argument("--seed", type=int, default=0)


def add_parser(commands) -> None:
    parser = commands.add_parser("demo", help="six cells race on the adding problem",
                                 description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from rnnkit import demo
    return demo.run(args)

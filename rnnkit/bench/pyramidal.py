"""`python -m rnnkit.bench.pyramidal`: what the pyramidal layer saves against a plain stack of
bidirectional layers of the same width and depth: the median time of a training step (forward +
backward of the summed outputs) and its peak memory, in one process, runs interleaved.

The layers above the first run over T / r, T / r^2, ... steps (with r times wider inputs), so a
deep pyramid should approach the cost of its first layer alone; the table shows how close.
"""

from __future__ import annotations

import argparse

import torch

import rnnkit
from rnnkit.bench import parse_ints
from rnnkit.bench.timing import interleaved_medians, peak_memory_bytes, training_step
from rnnkit.layers import Bidirectional, Pyramidal, Recurrent, Stacked

CELLS = {"lstm": rnnkit.LSTMCell, "gru": rnnkit.GRUCell, "elman": rnnkit.ElmanCell}


def layers(cell: str, H: int, num_layers: int, reduction: int) -> tuple[Pyramidal, Stacked]:
    """A pyramid and a plain stack of `num_layers` bidirectional layers of H units per
    direction, over inputs of H features."""
    def make(size: int):
        return CELLS[cell](size, H)

    pyramid = Pyramidal.bidirectional(make, H, num_layers, reduction)
    stack = Stacked([Bidirectional(Recurrent(make(H if k == 0 else 2 * H)),
                                   Recurrent(make(H if k == 0 else 2 * H)))
                     for k in range(num_layers)])
    return pyramid, stack


def measure(cell: str, T: int, B: int, H: int, num_layers: int, reduction: int, *,
            repeats: int, warmup: int) -> dict:
    """One record: training-step medians and peak memory of both, and their ratios."""
    torch.manual_seed(0)
    pyramid, stack = layers(cell, H, num_layers, reduction)
    x = torch.randn(T, B, H)
    pyramid_s, stack_s = interleaved_medians(training_step(pyramid, x), training_step(stack, x),
                                             warmup=warmup, repeats=repeats)
    pyramid_b, stack_b = (peak_memory_bytes(training_step(m, x)) for m in (pyramid, stack))
    return {"cell": cell, "T": T, "B": B, "H": H, "layers": num_layers, "reduction": reduction,
            "output_T": pyramid(x)[0].shape[0],
            "pyramidal_ms": pyramid_s * 1e3, "stacked_ms": stack_s * 1e3,
            "time_ratio": pyramid_s / stack_s,
            "pyramidal_mb": pyramid_b / 2**20, "stacked_mb": stack_b / 2**20,
            "memory_ratio": pyramid_b / stack_b if stack_b else float("nan")}


HEADER = (f"{'cell':<6}{'T':>6}{'B':>5}{'H':>6}{'L':>3}{'r':>3}{'T out':>7}  "
          f"{'train ms: pyramid  stack  ratio':>32}  {'peak MB: pyramid  stack  ratio':>32}")


def format_row(r: dict) -> str:
    return (f"{r['cell']:<6}{r['T']:>6}{r['B']:>5}{r['H']:>6}{r['layers']:>3}"
            f"{r['reduction']:>3}{r['output_T']:>7}  "
            f"{r['pyramidal_ms']:>15.2f}{r['stacked_ms']:>8.2f}{r['time_ratio']:>8.2f}x  "
            f"{r['pyramidal_mb']:>15.1f}{r['stacked_mb']:>8.1f}{r['memory_ratio']:>8.2f}x")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.bench.pyramidal", description=__doc__)
    parser.add_argument("--cell", choices=CELLS, default="lstm")
    parser.add_argument("--T", type=parse_ints, default=[200, 800], help="sequence lengths")
    parser.add_argument("--B", type=parse_ints, default=[16], help="batch sizes")
    parser.add_argument("--H", type=parse_ints, default=[128], help="units per direction")
    parser.add_argument("--layers", type=parse_ints, default=[3], help="numbers of layers")
    parser.add_argument("--reduction", type=int, default=2, help="r of every layer but the first")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    args = parser.parse_args(argv)
    print(f"pyramidal vs stacked bidirectional layers: torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} interleaved runs; "
          "ratio = pyramidal / stacked (< 1: the pyramid saves)")
    print(HEADER, flush=True)
    for T in args.T:
        for B in args.B:
            for H in args.H:
                for num_layers in args.layers:
                    print(format_row(measure(args.cell, T, B, H, num_layers, args.reduction,
                                             repeats=args.repeats, warmup=args.warmup)),
                          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

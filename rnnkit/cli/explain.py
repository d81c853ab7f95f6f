"""rnnkit explain: see inside a recurrent network.

    rnnkit explain gradients   ||dL/dh_t|| and ||dh_T/dh_t|| over time for several models on the
                               adding problem, before and after a short training (PNG, CSV)
    rnnkit explain gates       heat maps of a model's gates, cell state and output over one
                               sequence (PNG, an HTML page with the tokens, the numbers as .npz)
    rnnkit explain trace       every pre-activation, gate, state and output of a cell at every
                               step of an input given on the command line, as a table

Models are named by a spec, CELL[:KEY=VALUE,...] (see `rnnkit.explain.models`): a fresh network
that reads the adding problem (2 features per step) through a linear output at its last step,
trained on it first when --steps is given. Errors go to stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import numpy as np
import torch

from rnnkit import explain
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell
from rnnkit.cells.elman import ELMAN_NONLINEARITIES
from rnnkit.cells.jordan import JORDAN_OUTPUT_ACTIVATIONS
from rnnkit.explain import adding, models

# Which trace options each cell takes (the others must stay unset).
TRACE_OPTIONS = {"spec": ("lstm",), "proj_size": ("lstm",), "forget_bias": ("lstm",),
                 "reset_before": ("gru",), "nonlinearity": ("elman", "jordan"),
                 "output_size": ("jordan",), "output_activation": ("jordan",),
                 "input_proj": ("mut1", "mut2")}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `explain` with its three subcommands to the `rnnkit` command's subparsers."""
    parser = subparsers.add_parser("explain", help="see inside: gradient flow, gates, traces",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    commands = parser.add_subparsers(dest="explain_command", required=True, metavar="WHAT")
    _add_gradients(commands)
    _add_gates(commands)
    _add_trace(commands)
    return parser


def _add_gradients(commands) -> None:
    p = commands.add_parser(
        "gradients", help="gradient norms over time, one line per model",
        description="For each model, the norms of dL/dh_t and of dh_T/dh_t at every step t of "
                    "the adding problem (Hochreiter & Schmidhuber 1997), measured on a fixed "
                    "batch at initialisation and after --steps training steps, on a log scale; "
                    "plus the learning curves. Without --model: a tanh RNN, an LSTM and a GRU "
                    "(30 to 50 s with the defaults). Writes gradients.png, "
                    "learning-curves.png and gradients.csv to --out.")
    p.add_argument("--model", action="append", metavar="SPEC",
                   help="a model, CELL[:KEY=VALUE,...], e.g. elman, lstm:spec=CIFG, "
                        "gru:hidden_size=64; repeat for several (default: elman, lstm, gru)")
    p.add_argument("--length", type=int, default=50, help="sequence length T (default 50)")
    p.add_argument("--steps", type=int, default=1000,
                   help="training steps, batches of --batch (default 1000; 0: no training)")
    p.add_argument("--batch", type=int, default=64, help="training batch size (default 64)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    p.add_argument("--wrt", metavar="NAME",
                   help="the recorded value that plays h_t, e.g. c for an LSTM's cell state "
                        "(default: the state the cell feeds back, h)")
    p.add_argument("--out", type=Path, default=Path("explain"), help="output folder")


def _add_gates(commands) -> None:
    p = commands.add_parser(
        "gates", help="heat maps of gates, cell state and output over one sequence",
        description="Run a model on one sequence of the adding problem and draw what its first "
                    "cell computes at every step: gates, cell state, output (time on x, units "
                    "on y). Writes gates.png, gates.html (the picture with the tokens) and "
                    "gates.npz (the numbers) to --out.")
    p.add_argument("--model", default="lstm:hidden_size=16", metavar="SPEC",
                   help="CELL[:KEY=VALUE,...] (default lstm:hidden_size=16)")
    p.add_argument("--steps", type=int, default=0,
                   help="train the model this many steps on the adding problem first "
                        "(default 0: as initialised)")
    p.add_argument("--input", metavar="STEPS",
                   help="the sequence: value,marker pairs separated by ';' or spaces, e.g. "
                        "'0.3,0;0.5,1;0.2,0;0.9,1' (default: a random one of --length steps)")
    p.add_argument("--length", type=int, default=30,
                   help="sequence length for training and the random sequence (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    p.add_argument("--names", metavar="NAMES",
                   help="comma-separated values to draw, e.g. i,f,c,h (default: all but the "
                        "pre-activations a_*)")
    p.add_argument("--out", type=Path, default=Path("explain"), help="output folder")


def _add_trace(commands) -> None:
    p = commands.add_parser(
        "trace", help="a cell's every value at every step, as a table",
        description="The hand calculation, done by the machine: run one cell over an input "
                    "sequence and print every pre-activation, gate, cell state and output at "
                    "every step (float64). Weights come from a JSON file (name -> nested lists, "
                    "the cell's parameter names and shapes; --dump-weights writes one to edit) "
                    "or from the cell's random initialisation (--init SEED).",
        epilog="example: rnnkit explain trace --cell lstm --spec vanilla --hidden-size 2 "
               "--init 0 --dump-weights w.json --input '1,0.5;0,-1'")
    p.add_argument("--cell", required=True, choices=models.CELLS)
    p.add_argument("--input", metavar="STEPS",
                   help="the sequence: steps separated by ';' or spaces, features by ',', "
                        "e.g. '1,0.5;0,-1' (two steps of two features)")
    p.add_argument("--input-size", type=int,
                   help="features per step (default: read off --input)")
    p.add_argument("--hidden-size", type=int, required=True)
    p.add_argument("--weights", type=Path, metavar="FILE", help="the weights, a JSON file")
    p.add_argument("--init", type=int, metavar="SEED",
                   help="random weights: the cell's own initialisation with this seed")
    p.add_argument("--dump-weights", type=Path, metavar="PATH",
                   help="write the cell's weights as JSON (a template to edit)")
    p.add_argument("--no-bias", action="store_true", help="a cell without biases")
    p.add_argument("--recurrent-init", default="default",
                   choices=("default", "orthogonal", "identity"), help="with --init")
    cells = p.add_argument_group("cell options")
    cells.add_argument("--spec", help="lstm: a variant, e.g. vanilla, CIFG, NIAF+NOAF "
                                      "(default: PyTorch's LSTM)")
    cells.add_argument("--proj-size", type=int, help="lstm: the projection's size")
    cells.add_argument("--forget-bias", type=float, help="lstm: the forget-gate bias at --init "
                                                         "(default 1)")
    cells.add_argument("--reset-before", action="store_const", const=True,
                       help="gru: the reset gate before the recurrent product (Cho et al.)")
    cells.add_argument("--nonlinearity", choices=ELMAN_NONLINEARITIES, help="elman, jordan")
    cells.add_argument("--output-size", type=int, help="jordan (default: --hidden-size)")
    cells.add_argument("--output-activation", choices=JORDAN_OUTPUT_ACTIVATIONS, help="jordan")
    cells.add_argument("--input-proj", action="store_const", const=True,
                       help="mut1, mut2: project the raw input (needed when input size != "
                            "hidden size)")
    p.add_argument("--digits", type=int, default=4, help="decimals in the table (default 4)")
    p.add_argument("--width", type=int, default=100,
                   help="table width before it continues below (default 100)")
    p.add_argument("--out", type=Path, help="also write trace.csv (full precision) here")


def run(args) -> int:
    """Run the subcommand; a user error (bad option, file, spec) -> message on stderr, 2."""
    command = {"gradients": gradients, "gates": gates, "trace": trace}[args.explain_command]
    try:
        return command(args)
    except (ValueError, TypeError, OSError) as error:  # the library names the culprit
        print(f"rnnkit explain {args.explain_command}: error: {error}", file=sys.stderr)
        return 2


def gradients(args) -> int:
    networks = {spec: spec for spec in args.model} if args.model else adding.MODELS
    result = explain.compare_on_adding_problem(networks, length=args.length, steps=args.steps,
                                               batch=args.batch, lr=args.lr, seed=args.seed,
                                               wrt=args.wrt)
    out = _folder(args.out)
    explain.plot_gradients(result.stages(), out / "gradients.png")
    written = [out / "gradients.png"]
    if result.losses:
        explain.plot_learning_curves(result.losses, out / "learning-curves.png")
        written.append(out / "learning-curves.png")
    with open(out / "gradients.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["stage", "model", "t", "dL_dh", "dhT_dh"])
        for stage, flows in result.stages().items():
            for model, flow in flows.items():
                writer.writerows((stage, model, t, a, b)
                                 for t, (a, b) in enumerate(zip(flow.loss, flow.final)))
    written.append(out / "gradients.csv")
    print(f"||dL/dh_0|| / ||dL/dh_T-1|| on the adding problem, T = {args.length}:")
    print(f"{'model':<24}{'at init':>12}{'trained':>12}{'final MSE':>12}")
    for model, flow in result.at_init.items():
        trained = f"{result.trained[model].ratio:12.3g}" if result.trained else f"{'-':>12}"
        mse = (f"{result.losses[model][-max(1, args.steps // 20):].mean():12.4f}"
               if result.losses else f"{'-':>12}")
        print(f"{model:<24}{flow.ratio:12.3g}{trained}{mse}")
    _report(written)
    return 0


def gates(args) -> int:
    model = adding.regressor(args.model, args.seed)
    if args.steps:
        adding.train(model, steps=args.steps, length=args.length, seed=args.seed)
    x = (torch.tensor(_numbers(args.input, "--input", width=2)).unsqueeze(1) if args.input
         else adding.probe_batch(args.length, batch=1, seed=args.seed)[0])
    values = explain.gate_activations(model.eval(), x)
    names = None if args.names is None else [n.strip() for n in args.names.split(",")]
    tokens = adding.tokens(x)
    title = f"{args.model}, " + (f"trained {args.steps} steps" if args.steps else "untrained")
    out = _folder(args.out)
    figure = explain.plot_gates(values, tokens, out / "gates.png", names=names,
                                title=f"{title}: the adding problem, marked numbers in brackets")
    explain.html_report(tokens, {title: figure}, out / "gates.html",
                        title=f"rnnkit explain gates: {args.model}")
    np.savez(out / "gates.npz", **values)
    _report([out / "gates.png", out / "gates.html", out / "gates.npz"])
    return 0


def trace(args) -> int:
    x = None if args.input is None else _numbers(args.input, "--input", width=args.input_size)
    if x is None and args.dump_weights is None:
        raise ValueError("--input: expected a sequence to trace (or --dump-weights alone to "
                         "write a weights template), got neither")
    if x is not None and args.weights is None and args.init is None:
        raise ValueError("--weights: expected a weights file, or --init SEED for random "
                         "weights, got neither")
    input_size = args.input_size or (len(x[0]) if x is not None else None)
    if input_size is None:
        raise ValueError("--input-size: expected a size (there is no --input to read it off)")
    torch.manual_seed(args.init or 0)
    cell = _cell(args, input_size)
    if args.weights is not None:
        explain.read_weights(cell, args.weights)
    if args.dump_weights is not None:
        explain.write_weights(cell, args.dump_weights)
        _report([args.dump_weights])
    if x is None:
        return 0
    steps = explain.trace(cell, x)
    print(explain.format_trace(steps, digits=args.digits, width=args.width))
    if args.out is not None:
        explain.write_trace_csv(steps, _folder(args.out) / "trace.csv")
        _report([args.out / "trace.csv"])
    return 0


def _cell(args, input_size: int):
    """The cell named by --cell with its options, in float64 (exact enough to check by hand)."""
    for option, cells in TRACE_OPTIONS.items():
        if getattr(args, option) is not None and args.cell not in cells:
            flag = "--" + option.replace("_", "-")
            raise ValueError(f"{flag}: an option of --cell {' or '.join(cells)}, "
                             f"got --cell {args.cell}")
    common = dict(bias=not args.no_bias, recurrent_init=args.recurrent_init,
                  dtype=torch.float64)
    I, H = input_size, args.hidden_size
    if args.cell == "lstm":
        return LSTMCell(I, H, spec=args.spec, proj_size=args.proj_size or 0,
                        forget_bias=1.0 if args.forget_bias is None else args.forget_bias,
                        **common)
    if args.cell == "gru":
        return GRUCell(I, H, spec=GRUSpec(reset_after=not args.reset_before), **common)
    if args.cell == "elman":
        return ElmanCell(I, H, nonlinearity=args.nonlinearity or "tanh", **common)
    if args.cell == "jordan":
        return JordanCell(I, H, args.output_size or H, nonlinearity=args.nonlinearity or "tanh",
                          output_activation=args.output_activation or "tanh", **common)
    return MUTCell(I, H, kind=args.cell.upper(), input_proj=bool(args.input_proj), **common)


def _numbers(text: str, option: str, width: int | None) -> list[list[float]]:
    """'1,0.5;0,-1' (steps by ';' or spaces, features by ',') -> [[1.0, 0.5], [0.0, -1.0]],
    every step of `width` features (of the first step's when None)."""
    steps = [s for s in re.split(r"[;\s]+", text.strip()) if s]
    try:
        rows = [[float(v) for v in step.split(",")] for step in steps]
    except ValueError:
        raise ValueError(f"{option}: expected numbers, features separated by ',' and steps by "
                         f"';' (e.g. '1,0.5;0,-1'), got {text!r}") from None
    if not rows:
        raise ValueError(f"{option}: expected at least one step, got {text!r}")
    width = width or len(rows[0])
    for t, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"{option}: expected {width} features per step, got {len(row)} "
                             f"at step {t} ({steps[t]!r})")
    return rows


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report(paths) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)

"""rnnkit explain: see inside a recurrent network.

    rnnkit explain gradients   ||dL/dh_t|| and ||dh_T/dh_t|| over time for several models on the
                               adding problem, before and after a short training (PNG, CSV)
    rnnkit explain gates       heat maps of a model's gates, cell state and output over one
                               sequence (PNG, an HTML page with the tokens, the numbers as .npz)
    rnnkit explain trace       every pre-activation, gate, state and output of a cell at every
                               step of an input given on the command line, as a table

Models are named by a spec, CELL[:KEY=VALUE,...] (see `rnnkit.explain.models`): a fresh network
that reads the adding problem (2 features per step) through a linear output at its last step,
trained on it first when --steps is given. Or, with --checkpoint, a model trained by
`rnnkit train` on its own task: gates on a line of input in the task's `rnnkit predict` format,
gradients on a batch of its validation data. Errors go to stderr with exit status 2.
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
from rnnkit.cli import threads
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell
from rnnkit.cells.elman import ELMAN_NONLINEARITIES
from rnnkit.cells.jordan import JORDAN_OUTPUT_ACTIVATIONS
from rnnkit.explain import adding, models
from rnnkit.explain.trained import task_gradient_flow
from rnnkit.models.adding import step_labels
from rnnkit.training.evaluate import load_trained

DEFAULT_GATES_MODEL = "lstm:hidden_size=16"
DEFAULT_TRAINING_STEPS = 1000

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
    for command in commands.choices.values():
        threads.add_argument(command)  # applied by the command line (cli/main.py)
    return parser


def _add_gradients(commands) -> None:
    p = commands.add_parser(
        "gradients", help="gradient norms over time, one line per model",
        description="For each model, the norms of dL/dh_t and of dh_T/dh_t at every step t of "
                    "the adding problem (Hochreiter & Schmidhuber 1997), measured on a fixed "
                    "batch at initialisation and after --steps training steps, on a log scale; "
                    "plus the learning curves. Without --model: a tanh RNN, an LSTM and a GRU "
                    "(about 20 s with the defaults on 2 cores). With --checkpoint: trained "
                    "models on the first batch of their own validation data instead. Writes "
                    "gradients.png, learning-curves.png and gradients.csv to --out.")
    p.add_argument("--model", action="append", metavar="SPEC",
                   help="a model, CELL[:KEY=VALUE,...], e.g. elman, lstm:spec=CIFG, "
                        "gru:hidden_size=64; repeat for several (default: elman, lstm, gru)")
    p.add_argument("--checkpoint", action="append", metavar="RUN",
                   help="a model trained by `rnnkit train` (a run folder or a .pt file), "
                        "measured on the first --batch sequences of its task's validation "
                        "split (a language model: the first --length steps of --batch "
                        "streams), its loss the task's own; repeat to compare (instead of "
                        "--model and --steps)")
    p.add_argument("--length", type=int, default=50, help="sequence length T (default 50)")
    p.add_argument("--steps", type=int,
                   help=f"training steps, batches of --batch (default "
                        f"{DEFAULT_TRAINING_STEPS}; 0: no training)")
    p.add_argument("--batch", type=int, default=64,
                   help="batch size of the training and of the measured batch (default 64)")
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
                    "on y). With --checkpoint: a trained model on a line of its task's input. "
                    "Writes gates.png, gates.html (the picture with the tokens) and gates.npz "
                    "(the numbers) to --out.")
    p.add_argument("--model", metavar="SPEC",
                   help=f"CELL[:KEY=VALUE,...] (default {DEFAULT_GATES_MODEL})")
    p.add_argument("--checkpoint", metavar="RUN",
                   help="a model trained by `rnnkit train` (a run folder or a .pt file) instead "
                        "of --model; --input is then one line in its task's `rnnkit predict` "
                        "format, e.g. a sentence for sst")
    p.add_argument("--steps", type=int,
                   help="train the model this many steps on the adding problem first "
                        "(default 0: as initialised)")
    p.add_argument("--input", metavar="STEPS",
                   help="the sequence: value,marker pairs separated by ';' or spaces, e.g. "
                        "'0.3,0;0.5,1;0.2,0;0.9,1' (default: a random one of --length steps); "
                        "with --checkpoint, a line of the task's input (required)")
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
    if args.checkpoint:
        _exclusive(args, "--checkpoint", ("model", "steps"))
        return _trained_gradients(args)
    networks = {spec: spec for spec in args.model} if args.model else adding.MODELS
    steps = DEFAULT_TRAINING_STEPS if args.steps is None else args.steps
    result = explain.compare_on_adding_problem(networks, length=args.length, steps=steps,
                                               batch=args.batch, lr=args.lr, seed=args.seed,
                                               wrt=args.wrt)
    out = _folder(args.out)
    written = _write_gradients(result.stages(), out)
    if result.losses:
        explain.plot_learning_curves(result.losses, out / "learning-curves.png")
        written.append(out / "learning-curves.png")
    print(f"||dL/dh_0|| / ||dL/dh_T-1|| on the adding problem, T = {args.length}:")
    print(f"{'model':<24}{'at init':>12}{'trained':>12}{'final MSE':>12}")
    for model, flow in result.at_init.items():
        trained = f"{result.trained[model].ratio:12.3g}" if result.trained else f"{'-':>12}"
        mse = (f"{result.losses[model][-max(1, steps // 20):].mean():12.4f}"
               if result.losses else f"{'-':>12}")
        print(f"{model:<24}{flow.ratio:12.3g}{trained}{mse}")
    _report(written)
    return 0


def _trained_gradients(args) -> int:
    """Each checkpoint's gradient flow on its own validation batch."""
    flows, tasks = {}, {}
    for run_or_file in args.checkpoint:
        trained = load_trained(run_or_file)
        name = _run_name(trained.path, flows)
        flows[name] = task_gradient_flow(trained.task, trained.model, batch_size=args.batch,
                                         length=args.length, wrt=args.wrt)
        tasks[name] = trained.config.task
    written = _write_gradients({"trained, on a validation batch": flows}, _folder(args.out))
    print("||dL/dh_0|| / ||dL/dh_T-1|| of each trained model's first cell:")
    print(f"{'model':<24}{'task':<16}{'steps':>8}{'ratio':>12}")
    for name, flow in flows.items():
        print(f"{name:<24}{tasks[name]:<16}{len(flow.loss):>8}{flow.ratio:12.3g}")
    _report(written)
    return 0


def _write_gradients(stages, out: Path) -> list[Path]:
    """gradients.png and gradients.csv of {stage: {model: GradientFlow}} in `out`."""
    explain.plot_gradients(stages, out / "gradients.png")
    with open(out / "gradients.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["stage", "model", "t", "dL_dh", "dhT_dh"])
        for stage, flows in stages.items():
            for model, flow in flows.items():
                writer.writerows((stage, model, t, a, b)
                                 for t, (a, b) in enumerate(zip(flow.loss, flow.final)))
    return [out / "gradients.png", out / "gradients.csv"]


def gates(args) -> int:
    if args.checkpoint:
        _exclusive(args, "--checkpoint", ("model", "steps"))
        if args.input is None:
            raise ValueError("--input: expected a line of the task's input (the format of "
                             "`rnnkit predict`) to run the trained model on, got none")
        trained = load_trained(args.checkpoint)
        model, encoded = trained.model, trained.task.encode(args.input)
        x, tokens = encoded.inputs, encoded.labels
        label = f"{trained.config.task} model {_run_name(trained.path, {})}"
        title, caption = label, label
    else:
        spec = args.model or DEFAULT_GATES_MODEL
        model = adding.regressor(spec, args.seed)
        if args.steps:
            adding.train(model, steps=args.steps, length=args.length, seed=args.seed)
        x = (torch.tensor(_numbers(args.input, "--input", width=2)).unsqueeze(1) if args.input
             else adding.probe_batch(args.length, batch=1, seed=args.seed)[0])
        tokens = step_labels(x)
        title = f"{spec}, " + (f"trained {args.steps} steps" if args.steps else "untrained")
        caption, label = f"{title}: the adding problem, marked numbers in brackets", spec
    values = explain.gate_activations(model.eval(), x)
    names = None if args.names is None else [n.strip() for n in args.names.split(",")]
    out = _folder(args.out)
    figure = explain.plot_gates(values, tokens, out / "gates.png", names=names, title=caption)
    explain.html_report(tokens, {title: figure}, out / "gates.html",
                        title=f"rnnkit explain gates: {label}")
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


def _exclusive(args, flag: str, others) -> None:
    """An error naming the first of `others` (argument names) that is set along with `flag`."""
    for other in others:
        if getattr(args, other) is not None:
            raise ValueError(f"{flag}: explains a trained model; --{other} belongs to the "
                             f"adding-problem models, expected one or the other, got both")


def _run_name(path: Path, taken) -> str:
    """A short name for a checkpoint: its run folder's name (the file's name too where it is
    not the best), the full path where that name is already taken."""
    name = path.parent.name + ("" if path.name == "best.pt" else f"/{path.name}")
    return str(path) if name in taken else name


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report(paths) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)

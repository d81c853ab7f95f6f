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

The parsers are here; the commands, which need torch, in `explain_commands.py`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.cli import threads
from rnnkit.names import ELMAN_NONLINEARITIES, EXPLAIN_CELLS, JORDAN_OUTPUT_ACTIVATIONS

DEFAULT_GATES_MODEL = "lstm:hidden_size=16"
DEFAULT_TRAINING_STEPS = 1000

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
    p.add_argument("--cell", required=True, choices=EXPLAIN_CELLS)
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
    from rnnkit.cli import explain_commands
    command = getattr(explain_commands, args.explain_command)
    try:
        return command(args)
    except (ValueError, TypeError, OSError) as error:  # the library names the culprit
        print(f"rnnkit explain {args.explain_command}: error: {error}", file=sys.stderr)
        return 2



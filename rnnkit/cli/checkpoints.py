"""The commands that use a trained model: eval, predict, info. Each takes a checkpoint file or a
run folder (its best checkpoint, else its last). The parsers import nothing heavy, so that
`--help` needs no torch; each command imports what it runs with."""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.errors import DataError
from rnnkit.names import EXPORT_FORMATS, SPLITS

RUN_OR_CHECKPOINT = "a checkpoint file (.pt) or a run folder (its best.pt, else last.pt)"


def add_parsers(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate a trained model on a split",
                                 description="Evaluate a trained model on a data split and print "
                                             "its metrics.")
    parser.add_argument("checkpoint", metavar="RUN_OR_CHECKPOINT", help=RUN_OR_CHECKPOINT)
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(run=run_eval)

    parser = commands.add_parser(
        "predict", help="predict from raw input, one line per example",
        description="Read examples, one per line, from a file or stdin and write one prediction "
                    "per line. The format is the task's: adding, `value,marker` pairs "
                    "('0.3,0 0.5,1 0.9,1'); language_model and stream, a prefix of text (symbols "
                    "separated by spaces for stream) whose next token is predicted; sst, a "
                    "sentence with its words separated by spaces ('it \'s a gorgeous film .') "
                    "whose label is predicted; music, steps separated by spaces, each its MIDI "
                    "notes joined by commas or '-' for silence ('60,64,67 62,65 -'), whose next "
                    "step's notes are predicted; tagging, a sentence with its tokens separated by "
                    "spaces, or with --conll a CoNLL file, each token tagged on a line "
                    "'token<TAB>tag', a blank line after each sentence; stack_lm, symbols of the "
                    "task ('aaabb') whose next symbol is predicted; seq2seq, digits ('31415') "
                    "whose answer (copied, reversed or sorted) is decoded greedily.")
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help=RUN_OR_CHECKPOINT)
    parser.add_argument("--input", default="-", metavar="FILE",
                        help="the examples, one per line (default: stdin)")
    parser.add_argument("--conll", action="store_true",
                        help="tagging: the input is a CoNLL file (a token per line in the "
                             "training data's token column, a blank line after each sentence)")
    parser.set_defaults(run=run_predict)

    parser = commands.add_parser("info", help="config, sizes and metrics of a checkpoint",
                                 description="Show a checkpoint's config, model sizes, parameter "
                                             "count, training position and metrics so far.")
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a checkpoint file (.pt) or a run folder (its last.pt)")
    parser.set_defaults(run=run_info)


def run_eval(args) -> int:
    from rnnkit.training.evaluate import evaluate, load_trained

    trained = load_trained(args.checkpoint)
    train = trained.config.train
    metrics = evaluate(trained.task, trained.model, args.split, train.batch_size, train.k1)
    if args.json:
        print(json.dumps({"split": args.split, **metrics}))
    else:
        print(f"{args.split} ({trained.path}): "
              + "  ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    return 0


def run_predict(args) -> int:
    from rnnkit.training.evaluate import load_trained

    trained = load_trained(args.checkpoint)
    if args.input == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(args.input, encoding="utf-8") as file:
                text = file.read()
        except OSError as error:
            raise DataError(f"--input: cannot read {args.input!r} ({error.strerror})") from error
    if args.conll:
        if not hasattr(trained.task, "conll_lines"):
            raise DataError(f"--conll: expected a checkpoint of the tagging task, got one of "
                            f"{trained.config.task!r}")
        source = "<stdin>" if args.input == "-" else args.input
        lines = trained.task.conll_lines(text, source)
    else:
        lines = [line for line in text.splitlines() if line.strip()]
    for prediction in trained.task.predict(trained.model, lines):
        print(prediction)
    return 0


def run_info(args) -> int:
    from rnnkit.training.checkpoint import LAST
    from rnnkit.training.config import to_toml
    from rnnkit.training.evaluate import load_trained

    trained = load_trained(args.checkpoint, prefer=LAST)
    payload, model = trained.payload, trained.model
    position = payload["trainer"]
    print(f"checkpoint: {trained.path}")
    print(f"task: {trained.config.task}; trained {position['step']} steps "
          f"(epoch {position['epoch']}, batch {position['batch']}) on {payload['world']} "
          f"process(es)")
    total = sum(p.numel() for p in model.parameters())
    print(f"parameters: {total:,}")
    for name, module in model.named_children():
        count = sum(p.numel() for p in module.parameters())
        print(f"  {name}: {count:,}  {_describe(module)}")
    for label in ("last", "best"):
        metrics = payload["metrics"][label]
        if metrics:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "step")
            print(f"{label} valid (step {metrics['step']}): {shown}")
    print("\nconfig:\n" + to_toml(trained.config), end="")
    return 0


def _describe(module) -> str:
    """One line: the module's class and its main sizes."""
    sizes = [f"{key}={getattr(module, key)}" for key in
             ("input_size", "hidden_size", "output_size", "num_layers", "bidirectional",
              "num_embeddings", "embedding_dim", "in_features", "out_features")
             if isinstance(getattr(module, key, None), (int, bool))]
    return f"{type(module).__name__}({', '.join(sizes)})"


def add_export_parser(commands) -> None:
    parser = commands.add_parser(
        "export", help="export a trained model to ONNX or TorchScript",
        description="Export a trained model so that it runs without rnnkit. The recurrent loop "
                    "is unrolled over a fixed number of steps (--length; the batch size stays "
                    "free), computed by rnnkit's plain loop engine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help=RUN_OR_CHECKPOINT)
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    parser.add_argument("--output", metavar="PATH",
                        help="where to write (default: beside the checkpoint, model.onnx or "
                             "model.torchscript.pt)")
    parser.add_argument("--length", type=_positive_int, metavar="T",
                        help="the sequence length the exported model takes (default: the "
                             "task's)")
    parser.set_defaults(run=run_export)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def run_export(args) -> int:
    from rnnkit.training.export import export
    from rnnkit.training.evaluate import load_trained

    trained = load_trained(args.checkpoint)
    output = args.output or trained.path.with_name(
        "model.onnx" if args.format == "onnx" else "model.torchscript.pt")
    example = export(trained.task, trained.model, args.format, output, args.length)
    print(f"wrote {output} ({args.format}): input {_shape(example)} (T, batch, ...), the batch "
          f"size free")
    return 0


def _shape(tensor) -> str:
    return "(" + ", ".join(str(s) for s in tensor.shape) + f") {tensor.dtype}"

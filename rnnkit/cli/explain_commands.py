"""The commands of `rnnkit explain` (the parsers, which need no torch, are in explain.py)."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np
import torch

from rnnkit import explain
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell
from rnnkit.cli.explain import DEFAULT_GATES_MODEL, DEFAULT_TRAINING_STEPS
from rnnkit.explain import adding
from rnnkit.explain.trained import task_gradient_flow
from rnnkit.tasks.adding import step_labels
from rnnkit.training.evaluate import load_trained

# Which trace options each cell takes (the others must stay unset).
TRACE_OPTIONS = {"spec": ("lstm",), "proj_size": ("lstm",), "forget_bias": ("lstm",),
                 "reset_before": ("gru",), "nonlinearity": ("elman", "jordan"),
                 "output_size": ("jordan",), "output_activation": ("jordan",),
                 "input_proj": ("mut1", "mut2")}


def gradients(args) -> int:
    if args.checkpoint:
        _exclusive(args, "--checkpoint", ("model", "steps"))
        return _trained_gradients(args)
    networks = {spec: spec for spec in args.model} if args.model else adding.MODELS
    steps = DEFAULT_TRAINING_STEPS if args.steps is None else args.steps
    result = explain.compare_on_adding_problem(networks, length=args.length, steps=steps,
                                               batch=args.batch, lr=args.lr, seed=args.seed,
                                               wrt=args.wrt, report=_progress)
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


def _progress(line: str) -> None:
    print(f"rnnkit explain: {line}", file=sys.stderr, flush=True)


def _report(paths) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)

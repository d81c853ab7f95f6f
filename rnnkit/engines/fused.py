"""The fused engine: the loop over time in C++ with a hand-written backward (BPTT).

Why this design (measured with `rnnkit bench`): a Python loop spends most of its time dispatching
a dozen small operations per step, twice (forward, then autograd's backward). Here:
- the input part of every step stays one matrix product over the whole sequence, in autograd
  (`cell.input_part`), so its weight gradient is one product too;
- the C++ loop does one matrix product per step for the recurrent weights and one fused pass
  over the gate arithmetic, saving the activations the backward needs;
- the backward loop (BPTT) does one fused pass and one matrix product per step, and the
  recurrent weights' gradients are single matrix products over all T*B rows after the loop.

The extension is compiled from `csrc/` with torch.utils.cpp_extension on first use and cached
(in $TORCH_EXTENSIONS_DIR, default ~/.cache/torch_extensions). Without a C++ compiler or ninja it
is unavailable and "auto" falls back to the plain loop; `engines.use("fused")` forces it.
"""

from __future__ import annotations

import functools
import pathlib
import shutil
import warnings

import torch
from torch import Tensor

from rnnkit.cells import ElmanCell, GRUCell, JordanCell, LSTMCell, MUTCell, StackCell
from rnnkit.cells.base import RecurrentCell, State, Weights
from rnnkit.cells.tree import BinaryTreeLSTMCell, TreeCell

_CSRC = pathlib.Path(__file__).parent / "csrc"
_SOURCES = ["bindings.cpp", "elman.cpp", "gru.cpp", "mut.cpp", "jordan.cpp", "lstm.cpp",
            "stack.cpp", "tree_lstm.cpp"]
_NONE = torch.empty(0)
ACTIVATION_CODES = {"tanh": 0, "sigmoid": 1, "relu": 2, "identity": 3}


def _simd_flags() -> list[str]:
    """AVX2 and FMA where this CPU has them: the kernels' fast_exp loops then run 8 floats at a
    time. (-march=native would tie a cached build to one CPU model.)"""
    try:
        cpu_flags = pathlib.Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return []
    return ["-mavx2", "-mfma"] if {"avx2", "fma"} <= set(cpu_flags) else []


@functools.cache
def extension():
    """The compiled kernels (built on first call, then loaded from the cache). The name carries
    the SIMD flags, so that a cache shared by different CPUs keeps one build for each."""
    from torch.utils.cpp_extension import load
    simd = _simd_flags()
    # -fno-trapping-math: lets the compiler vectorize the clamps in fast_exp; nothing here
    # relies on floating-point traps.
    return load(name="rnnkit_fused" + ("_avx2" if simd else ""),
                sources=[str(_CSRC / s) for s in _SOURCES],
                extra_cflags=["-O3", "-fno-trapping-math", *simd], verbose=False)


def missing_toolchain() -> str | None:
    """What is missing to build the extension here, or None."""
    try:
        import ninja  # noqa: F401  (torch's extension builder needs it)
    except ImportError:
        return "the Python package ninja is not installed"
    if shutil.which("c++") is None and shutil.which("g++") is None:
        return "no C++ compiler (c++ or g++) on PATH"
    return None


@functools.cache
def unavailable_reason() -> str | None:
    """Why the fused engine cannot run here (no toolchain, or the build failed), or None."""
    missing = missing_toolchain()
    if missing is not None:
        return missing
    try:
        extension()
    except Exception as error:  # "auto" then runs the loop; the warning says why
        warnings.warn(f"rnnkit: the fused engine could not be built, using the plain loop: "
                      f"{error}", RuntimeWarning, stacklevel=2)
        return f"building the C++ extension failed: {error}"
    return None


class _Fused(torch.autograd.Function):
    """Runs `<family>_forward` and, on backward, `<family>_backward` from the extension."""

    @staticmethod
    def forward(ctx, family: str, options: list[int], n_outputs: int, *inputs: Tensor):
        results = getattr(extension(), f"{family}_forward")(list(inputs), options)
        ctx.family, ctx.options, ctx.n_inputs = family, options, len(inputs)
        ctx.save_for_backward(*inputs, *results[n_outputs:])
        return tuple(results[:n_outputs])

    @staticmethod
    def backward(ctx, *grads: Tensor):
        saved = ctx.saved_tensors
        # What a kernel returned undefined (None here) goes back as an empty tensor.
        inputs, extra = list(saved[:ctx.n_inputs]), [_optional(t) for t in saved[ctx.n_inputs:]]
        grads = [_optional(g) for g in grads]  # an output that is None has no gradient
        d_inputs = getattr(extension(), f"{ctx.family}_backward")(grads, extra, inputs,
                                                                 ctx.options)
        return (None, None, None, *d_inputs)


def _optional(t: Tensor | None) -> Tensor:
    return _NONE if t is None else t


def _elman(cell: ElmanCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    out, h_n = _Fused.apply("elman", [ACTIVATION_CODES[cell.nonlinearity]], 2, x_proj, state[0],
                            w["weight_hh"], _optional(w.get("bias_hh")), lengths, mask)
    return out, (h_n,)


def _gru(cell: GRUCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    out, h_n = _Fused.apply("gru", [int(cell.spec.reset_after)], 2, x_proj, state[0],
                            w["weight_hh"], _optional(w.get("bias_hh")), lengths, mask)
    return out, (h_n,)


def _mut(cell: MUTCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    # the kernel knows each kind's weight_hh blocks (cell.recurrent_rows) from its number
    out, h_n = _Fused.apply("mut", [int(cell.kind[-1])], 2, x_proj, state[0], w["weight_hh"],
                            lengths, mask)
    return out, (h_n,)


def _jordan(cell: JordanCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    options = [ACTIVATION_CODES[cell.nonlinearity], ACTIVATION_CODES[cell.output_activation]]
    out, y_n = _Fused.apply("jordan", options, 2, x_proj, state[0], w["weight_hh"],
                            _optional(w.get("bias_hh")), w["weight_ho"],
                            _optional(w.get("bias_ho")), lengths, mask)
    return out, (y_n,)


def _lstm(cell: LSTMCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    spec = cell.spec
    fgr = spec.full_gate_recurrence
    options = [spec.input_gate, spec.forget_gate and not spec.coupled, spec.output_gate,
               spec.input_activation, spec.output_activation, spec.coupled, fgr,
               cell.proj_size > 0]
    out, h_n, c_n, gates_n = _Fused.apply(
        "lstm", [int(o) for o in options], 4, x_proj, state[0], state[1],
        state[2] if fgr else _NONE, w["weight_hh"], *(_optional(w.get(name)) for name in (
            "bias_hh", "weight_ch", "weight_gg", "weight_hr")), lengths, mask)
    return out, ((h_n, c_n, gates_n) if fgr else (h_n, c_n))


def _stack(cell: StackCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    options = [cell.num_stacks, cell.depth, cell.k, cell.num_actions]
    out, h_n, stack_n = _Fused.apply(
        "stack", options, 3, x_proj, state[0], state[1], _optional(w.get("weight_hh")),
        *(w[name] for name in ("weight_sh", "weight_action", "bias_action", "weight_push",
                               "bias_push")), lengths, mask)
    return out, (h_n, stack_n)


_KERNELS = {ElmanCell: _elman, GRUCell: _gru, MUTCell: _mut, JordanCell: _jordan,
            LSTMCell: _lstm, StackCell: _stack}


def supports(cell: RecurrentCell, x: Tensor) -> bool:
    """A kernel for this cell on this device; the stack cell's rounding (test time) is not in
    its kernel and runs on the loop."""
    rounding = isinstance(cell, StackCell) and cell.rounds()
    return type(cell) in _KERNELS and x.device.type == "cpu" and not rounding


def supports_tree(cell: TreeCell, leaf_inputs: Tensor) -> bool:
    return type(cell) is BinaryTreeLSTMCell and leaf_inputs.device.type == "cpu"


def run_tree(cell: BinaryTreeLSTMCell, levels: list[Tensor], leaf_inputs: Tensor) -> Tensor:
    """`layers.tree.run_batched` for the binary Tree-LSTM: the leaves' input part in autograd
    (one product over all leaves), the levels in C++ with a hand-written backward.
    levels: each height's (N_h, 2) children rows; leaf_inputs: (L, I) -> (N, H) every node's
    h in row order."""
    leaf_pre = cell.leaf_part(leaf_inputs)
    children = (torch.cat(levels) if levels
                else torch.zeros(0, 2, dtype=torch.long, device=leaf_inputs.device))
    sizes = torch.tensor([len(level) for level in levels], dtype=torch.long)
    (h,) = _Fused.apply("tree_lstm", [], 1, leaf_pre, cell.weight_hh, cell.bias_hh,
                        children, sizes)
    return h


def run(cell: RecurrentCell, w: Weights, x: Tensor, state: State, lengths: Tensor | None,
        recurrent_mask: Tensor | None = None) -> tuple[Tensor, State]:
    """The same contract as `engines.loop.run`."""
    x_proj = cell.input_part(w, x)
    return _KERNELS[type(cell)](cell, w, x_proj, state, _optional(lengths),
                                _optional(recurrent_mask))

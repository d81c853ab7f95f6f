"""The fused engine: the loop over time in C++ with a hand-written backward (BPTT).

Why this design (measured with `rnnkit bench`): a Python loop spends most of its time dispatching
a dozen small operations per step, twice (forward, then autograd's backward). Here:
- the input part of every step stays one matrix product over the whole sequence, in autograd
  (`cell.input_part`), so its weight gradient is one product too;
- the C++ loop does one matrix product per step for the recurrent weights and one fused pass
  over the gate arithmetic, saving the activations the backward needs;
- the backward loop (BPTT) does one fused pass and one matrix product per step, and the
  recurrent weights' gradients are single matrix products over all T*B rows after the loop.

Under torch.compile the kernels run as custom operators (`rnnkit::fused_forward`, below), which
inductor keeps as single nodes of its graph.

The extension is compiled from `csrc/` by `rnnkit build` or on first use, and cached
(`engines/build.py`: ~/.cache/rnnkit). Without a C++ compiler or ninja it is unavailable and
"auto" falls back to the plain loop; `engines.use("fused")` forces it.
"""

from __future__ import annotations

import functools
import shutil
import warnings

import torch
from torch import Tensor

from rnnkit.cells import ElmanCell, GRUCell, JordanCell, LSTMCell, MUTCell, StackCell
from rnnkit.cells.base import RecurrentCell, State, Weights
from rnnkit.cells.tree import BinaryTreeLSTMCell, TreeCell
from rnnkit.engines import build

_NONE = torch.empty(0)
ACTIVATION_CODES = {"tanh": 0, "sigmoid": 1, "relu": 2, "identity": 3}


@functools.cache
def extension():
    """The compiled kernels: built on the first call if `rnnkit build` has not built them, then
    loaded from the cache (`engines/build.py`)."""
    return build.load()


def missing_toolchain() -> str | None:
    """What is missing to build the extension here, or None."""
    try:
        import ninja  # noqa: F401  (torch's extension builder needs it)
    except ImportError:
        return "the Python package ninja is not installed"
    if shutil.which("c++") is None and shutil.which("g++") is None:
        return "no C++ compiler (c++ or g++) on PATH"
    return None


@torch.compiler.assume_constant_result  # graph capture calls it once, not traces it
def unavailable_reason() -> str | None:
    """Why the fused engine cannot run here (no toolchain, or the build failed), or None."""
    return _unavailable_reason()


@functools.cache
def _unavailable_reason() -> str | None:
    missing = None if build.is_built() else missing_toolchain()  # a cached build needs none
    if missing is not None:
        return missing
    try:
        extension()
    except Exception as error:  # "auto" then runs the loop; the warning says why
        warnings.warn(f"rnnkit: the fused engine could not be built, using the plain loop: "
                      f"{error}", RuntimeWarning, stacklevel=2)
        return f"building the C++ extension failed: {error}"
    return None


# --- the kernels as PyTorch operators ---------------------------------------------------------
# One operator pair serves every family: rnnkit::fused_forward runs `<family>_forward` and
# returns the outputs followed by what the backward needs; rnnkit::fused_backward runs
# `<family>_backward`. As torch.library custom ops with autograd and fake (shape-only)
# implementations, torch.compile captures them as single operations in its graphs. Eager mode
# calls the same kernels through the lighter `_Eager` (see `_apply`).

@torch.library.custom_op("rnnkit::fused_forward", mutates_args=())
def fused_forward(family: str, options: list[int], n_outputs: int,
                  inputs: list[Tensor]) -> list[Tensor]:
    """inputs: the family's tensors (empty for an absent one) -> its n_outputs outputs, then
    what its backward needs (empty for an undefined one)."""
    results = getattr(extension(), f"{family}_forward")(inputs, options)
    return _own_storage([inputs[0].new_empty(0) if t is None else t for t in results], inputs)


@torch.library.custom_op("rnnkit::fused_backward", mutates_args=())
def fused_backward(family: str, options: list[int], grads: list[Tensor], saved: list[Tensor],
                   inputs: list[Tensor]) -> list[Tensor]:
    """-> one gradient per input (empty where there is none)."""
    d_inputs = getattr(extension(), f"{family}_backward")(grads, saved, inputs, options)
    return _own_storage([x.new_empty(0) if d is None else d for d, x in zip(d_inputs, inputs)],
                        [*grads, *saved, *inputs])


def _own_storage(results: list[Tensor], others: list[Tensor]) -> list[Tensor]:
    """A custom op's outputs may not share memory with its inputs or with each other, and each
    is laid out as its fake implementation says (a fresh contiguous tensor). The kernels return
    views (h_T of hs; hs[:T] as the fed-back state without a mask): those are copied here, a
    (B, H) row, or one (T, B, H) tensor for some families."""
    seen = {t.untyped_storage().data_ptr() for t in others if t.numel()}
    owned = []
    for t in results:
        if t.numel():
            whole = (t.storage_offset() == 0 and t.is_contiguous()
                     and t.untyped_storage().nbytes() == t.numel() * t.element_size())
            if not whole or t.untyped_storage().data_ptr() in seen:
                t = t.clone(memory_format=torch.contiguous_format)
            seen.add(t.untyped_storage().data_ptr())
        owned.append(t)
    return owned


# Trailing inputs that take no gradient: lengths and the recurrent mask, or a tree's structure.
_NON_DIFFERENTIABLE = 2


@fused_forward.register_fake
def _(family: str, options: list[int], n_outputs: int, inputs: list[Tensor]) -> list[Tensor]:
    x = inputs[0]
    return [x.new_empty(shape) for shape in _forward_shapes(family, options, inputs)]


@fused_backward.register_fake
def _(family, options, grads, saved, inputs):
    n = len(inputs) - _NON_DIFFERENTIABLE
    return [torch.empty_like(x) if k < n and x.numel() else x.new_empty(0)
            for k, x in enumerate(inputs)]


def _forward_shapes(family: str, options: list[int], inputs: list[Tensor]) -> list[tuple]:
    """What `<family>_forward` returns, by shape (csrc/<family>.cpp), (0,) for undefined."""
    none = (0,)
    if family == "tree_lstm":
        leaf_pre, children = inputs[0], inputs[3]
        H, M = leaf_pre.shape[1] // 3, children.shape[0]
        N = leaf_pre.shape[0] + M
        return [(N, H), (N + 1, H), (N + 1, H), (N + 1, H), (N + 1, 5 * H), (M, 2 * H)]
    T, B, K = inputs[0].shape
    S0 = inputs[1].shape[1]  # the size of the fed-back state
    seq, last, full = (T, B, S0), (B, S0), (T + 1, B, S0)
    if family == "elman":
        return [seq, last, full]
    if family == "gru":
        H = S0
        return [seq, last, full, seq, (T, B, 3 * H), (T, B, 3 * H if options[0] else H)]
    if family == "mut":
        H = S0
        return [seq, last, full, seq, (T, B, 3 * H), seq, seq if options[0] == 3 else none]
    if family == "jordan":
        return [seq, last, full, seq, (T, B, K)]
    if family == "lstm":
        H = inputs[2].shape[1]
        output_act, fgr, proj = options[4], options[6], options[7]
        return [seq, last, (B, H), (B, 3 * H) if fgr else none, full, (T + 1, B, H), (T, B, K),
                (T, B, H) if output_act else none, (T, B, H) if proj else none,
                (T + 1, B, 3 * H) if fgr else none]
    if family == "stack":
        S, D, _, n = options
        return [seq, last, (B, S * D), full, (T + 1, B, S * D), (T, B, S * n), (T, B, S)]
    raise ValueError(f"family: expected one of the fused kernels, got {family!r}")


def _setup_context(ctx, inputs, output) -> None:
    family, options, n_outputs, tensors = inputs
    ctx.family, ctx.options, ctx.n_inputs, ctx.n_outputs = family, options, len(tensors), n_outputs
    ctx.save_for_backward(*tensors, *output)


def _backward(ctx, grads: list[Tensor | None]):
    saved = ctx.saved_tensors
    inputs, outputs = list(saved[:ctx.n_inputs]), list(saved[ctx.n_inputs:])
    n = ctx.n_outputs
    # An output without a gradient (unused) goes in as an empty tensor.
    grads = [out.new_empty(0) if g is None else g for g, out in zip(grads[:n], outputs)]
    d_inputs = fused_backward(ctx.family, ctx.options, grads, outputs[n:], inputs)
    # No gradient for family, options and n_outputs. (AOTAutograd reads a non-empty list of
    # ints as one constant, but an empty one as a list: it wants [] back for the Tree-LSTM's.)
    return (None, None if ctx.options else [], None,
            [d if d.numel() else None for d in d_inputs])


fused_forward.register_autograd(_backward, setup_context=_setup_context)


def _optional(t: Tensor | None) -> Tensor:
    return _NONE if t is None else t


def _apply(family: str, options: list[int], n_outputs: int, *inputs: Tensor) -> list[Tensor]:
    """The first n_outputs results of the family's kernel (the rest are for its backward): as
    the custom op while torch.compile captures a graph, else through `_Eager`."""
    if torch.compiler.is_compiling():
        return fused_forward(family, options, n_outputs, list(inputs))[:n_outputs]
    return _Eager.apply(family, options, n_outputs, *inputs)


class _Eager(torch.autograd.Function):
    """The same kernels without the operator dispatch, whose cost (about 0.15 ms a call,
    forward and backward: 10% of an LSTM training step at T=50, B=16, H=64) eager mode need
    not pay; views among the results are fine here."""

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


def _elman(cell: ElmanCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    out, h_n = _apply("elman", [ACTIVATION_CODES[cell.nonlinearity]], 2, x_proj, state[0],
                      w["weight_hh"], _optional(w.get("bias_hh")), lengths, mask)
    return out, (h_n,)


def _gru(cell: GRUCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    out, h_n = _apply("gru", [int(cell.spec.reset_after)], 2, x_proj, state[0],
                      w["weight_hh"], _optional(w.get("bias_hh")), lengths, mask)
    return out, (h_n,)


def _mut(cell: MUTCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    # the kernel knows each kind's weight_hh blocks (cell.recurrent_rows) from its number
    out, h_n = _apply("mut", [int(cell.kind[-1])], 2, x_proj, state[0], w["weight_hh"],
                      lengths, mask)
    return out, (h_n,)


def _jordan(cell: JordanCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    options = [ACTIVATION_CODES[cell.nonlinearity], ACTIVATION_CODES[cell.output_activation]]
    out, y_n = _apply("jordan", options, 2, x_proj, state[0], w["weight_hh"],
                      _optional(w.get("bias_hh")), w["weight_ho"], _optional(w.get("bias_ho")),
                      lengths, mask)
    return out, (y_n,)


def _lstm(cell: LSTMCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    spec = cell.spec
    fgr = spec.full_gate_recurrence
    options = [spec.input_gate, spec.forget_gate and not spec.coupled, spec.output_gate,
               spec.input_activation, spec.output_activation, spec.coupled, fgr,
               cell.proj_size > 0]
    out, h_n, c_n, gates_n = _apply(
        "lstm", [int(o) for o in options], 4, x_proj, state[0], state[1],
        state[2] if fgr else _NONE, w["weight_hh"], *(_optional(w.get(name)) for name in (
            "bias_hh", "weight_ch", "weight_gg", "weight_hr")), lengths, mask)
    return out, ((h_n, c_n, gates_n) if fgr else (h_n, c_n))


def _stack(cell: StackCell, w: Weights, x_proj: Tensor, state: State, lengths, mask):
    options = [cell.num_stacks, cell.depth, cell.k, cell.num_actions]
    out, h_n, stack_n = _apply(
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
    (h,) = _apply("tree_lstm", [], 1, leaf_pre, cell.weight_hh, cell.bias_hh,
                        children, sizes)
    return h


def run(cell: RecurrentCell, w: Weights, x: Tensor, state: State, lengths: Tensor | None,
        recurrent_mask: Tensor | None = None) -> tuple[Tensor, State]:
    """The same contract as `engines.loop.run`."""
    x_proj = cell.input_part(w, x)
    return _KERNELS[type(cell)](cell, w, x_proj, state, _optional(lengths),
                                _optional(recurrent_mask))

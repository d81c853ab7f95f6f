"""MUT1, MUT2, MUT3: the three architectures found by evolutionary search in Jozefowicz,
Zaremba & Sutskever, "An Empirical Exploration of Recurrent Network Architectures" (ICML 2015)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State, Weights, check_init, dropped, factory
from rnnkit.cells.probe import note

MUT_KINDS = ("MUT1", "MUT2", "MUT3")
# Which of the blocks z, r, n have an input matrix (weight_ih rows) and a recurrent matrix
# (weight_hh rows), in that order; the paper adds the raw input in MUT1's n and MUT2's r.
_INPUT_ROWS = {"MUT1": "zr", "MUT2": "zn", "MUT3": "zrn"}
_RECURRENT_ROWS = {"MUT1": "rn", "MUT2": "zrn", "MUT3": "zrn"}


class MUTCell(RecurrentCell):
    r"""One step of MUT1, MUT2 or MUT3 (Jozefowicz et al. 2015, Sec. 3.3), x' the raw input:

        MUT1:  z = sigm(W_xz x + b_z)
               r = sigm(W_xr x + W_hr h + b_r)
               n = tanh(W_hh (r * h) + tanh(x') + b_h)
        MUT2:  z = sigm(W_xz x + W_hz h + b_z)
               r = sigm(x' + W_hr h + b_r)
               n = tanh(W_hh (r * h) + W_xh x + b_h)
        MUT3:  z = sigm(W_xz x + W_hz tanh(h) + b_z)
               r = sigm(W_xr x + W_hr h + b_r)
               n = tanh(W_hh (r * h) + W_xh x + b_h)
        h_t = n * z + h * (1 - z)

    MUT1 and MUT2 add the raw input x' = x without a matrix, which needs input_size ==
    hidden_size. Our choice: that is an error by default, and `input_proj=True` adds a learned
    matrix weight_px (H, I) with x' = weight_px x, so the cells work for any input size. MUT3
    has no raw-input term: it takes any input size, and input_proj=True is an error.

    Parameters: weight_ih (k*H, I) with blocks of those of z, r, n that have an input matrix,
    weight_hh (k*H, H) with blocks of those that have a recurrent matrix (W_hh is the n block),
    bias_ih (3H) in the order z, r, n (one bias per gate, as in the paper), weight_px (H, I)
    when input_proj. State: (h,). Under `rnnkit.cells.probe` a step records a_z, z, a_r, r, a_n,
    n (a_k: the argument of the sigmoid or tanh) and h (h_t).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 kind: str = "MUT1", input_proj: bool = False, recurrent_init: str = "default",
                 device=None, dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        self.kind = _check.one_of("kind", kind.upper() if isinstance(kind, str) else kind,
                                  MUT_KINDS)
        self.input_proj = input_proj
        if self.kind in ("MUT1", "MUT2") and not input_proj and input_size != hidden_size:
            raise ValueError(
                f"input_size: {self.kind} adds the raw input to a hidden-size vector, so it "
                f"expects input_size == hidden_size ({hidden_size}), got {input_size}; pass "
                f"input_proj=True to learn a projection instead")
        if self.kind == "MUT3" and input_proj:
            raise ValueError("input_proj: MUT3 has no raw-input term to project, so expected "
                             "False, got True")
        self.bias = bias
        self.recurrent_init = check_init(recurrent_init)
        self.output_size = hidden_size
        self.state_names, self.state_sizes = ("h",), (hidden_size,)
        self.input_rows, self.recurrent_rows = _INPUT_ROWS[self.kind], _RECURRENT_ROWS[self.kind]
        self.recurrent_blocks = len(self.recurrent_rows)
        H, kw = hidden_size, factory(device, dtype)
        self.weight_ih = nn.Parameter(torch.empty(len(self.input_rows) * H, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(len(self.recurrent_rows) * H, H, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * H, **kw))
        if input_proj:
            self.weight_px = nn.Parameter(torch.empty(H, input_size, **kw))
        self.reset_parameters()

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., 3H): the input's share of the z, r, n pre-activations."""
        projected = dict(zip(self.input_rows,
                             nn.functional.linear(x, w["weight_ih"]).split(self.hidden_size, -1)))
        raw = nn.functional.linear(x, w["weight_px"]) if self.input_proj else x
        if self.kind == "MUT1":
            projected["n"] = torch.tanh(raw)
        elif self.kind == "MUT2":
            projected["r"] = raw
        out = torch.cat([projected["z"], projected["r"], projected["n"]], dim=-1)
        return out + w["bias_ih"] if self.bias else out

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        H, h = self.hidden_size, state[0]
        h_in = dropped(h, mask)  # what the products see; the carry h (1 - z) is undropped
        a_z, x_r, x_n = x_proj.split(H, dim=-1)
        U = dict(zip(self.recurrent_rows, w["weight_hh"].split(H, dim=0)))
        if "z" in U:
            a_z = a_z + nn.functional.linear(
                torch.tanh(h_in) if self.kind == "MUT3" else h_in, U["z"])
        note(self, "a_z", a_z)
        z = torch.sigmoid(a_z)
        note(self, "z", z)
        a_r = x_r + nn.functional.linear(h_in, U["r"])
        note(self, "a_r", a_r)
        r = torch.sigmoid(a_r)
        note(self, "r", r)
        a_n = x_n + nn.functional.linear(r * h_in, U["n"])
        note(self, "a_n", a_n)
        n = torch.tanh(a_n)
        note(self, "n", n)
        h_new = h + z * (n - h)  # = n * z + h * (1 - z)
        note(self, "h", h_new)
        return h_new, (h_new,)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, kind={self.kind!r}"

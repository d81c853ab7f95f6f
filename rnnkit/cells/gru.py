"""The GRU (Cho et al. 2014) in both conventions for where the reset gate acts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State, Weights, check_init, dropped, factory
from rnnkit.cells.probe import note


@dataclass(frozen=True)
class GRUSpec:
    """reset_after=True: the reset gate scales W_hn h + b_hn (cuDNN / PyTorch, the default);
    False: it scales h before the product, W_hn (r * h) + b_hn (Cho et al. 2014)."""

    reset_after: bool = True

    @property
    def is_torch(self) -> bool:
        return self.reset_after


class GRUCell(RecurrentCell):
    r"""One step of a GRU. Gate blocks in PyTorch's order r, z, n:

        r   = sigmoid(W_ir x + b_ir + W_hr h_{t-1} + b_hr)
        z   = sigmoid(W_iz x + b_iz + W_hz h_{t-1} + b_hz)
        n   = tanh(W_in x + b_in + r * (W_hn h_{t-1} + b_hn))     reset_after (PyTorch, cuDNN)
        n   = tanh(W_in x + b_in + W_hn (r * h_{t-1}) + b_hn)     reset before (Cho et al. 2014)
        h_t = (1 - z) * n + z * h_{t-1}

    Parameters: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H), bias_hh (3H). State: (h,).
    Under `rnnkit.cells.probe` a step records a_r, r, a_z, z, a_n, n (a_k: the argument of the
    sigmoid or tanh) and h (h_t).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 spec: GRUSpec | None = None, recurrent_init: str = "default",
                 device=None, dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        if spec is not None and not isinstance(spec, GRUSpec):
            raise TypeError(f"spec: expected a GRUSpec, got {_check.describe(spec)}")
        self.spec = spec or GRUSpec()
        self.bias = bias
        self.recurrent_init = check_init(recurrent_init)
        self.output_size = hidden_size
        self.recurrent_blocks = 3
        self.state_names, self.state_sizes = ("h",), (hidden_size,)
        kw = factory(device, dtype)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size, **kw))
        self.reset_parameters()

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., 3H) = W_i{r,z,n} x + b_i{r,z,n}."""
        return nn.functional.linear(x, w["weight_ih"], w.get("bias_ih"))

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        H, h = self.hidden_size, state[0]
        h_in = dropped(h, mask)  # what the products see; z keeps the undropped h
        x_r, x_z, x_n = x_proj.split(H, dim=-1)
        w_hh, b_hh = w["weight_hh"], w.get("bias_hh")
        if self.spec.reset_after:
            h_r, h_z, h_n = nn.functional.linear(h_in, w_hh, b_hh).split(H, dim=-1)
        else:
            b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * H], b_hh[2 * H:])
            h_r, h_z = nn.functional.linear(h_in, w_hh[:2 * H], b_rz).split(H, dim=-1)
        a_r, a_z = x_r + h_r, x_z + h_z
        note(self, "a_r", a_r)
        r = torch.sigmoid(a_r)
        note(self, "r", r)
        note(self, "a_z", a_z)
        z = torch.sigmoid(a_z)
        note(self, "z", z)
        if self.spec.reset_after:
            a_n = x_n + r * h_n
        else:
            a_n = x_n + nn.functional.linear(r * h_in, w_hh[2 * H:], b_n)
        note(self, "a_n", a_n)
        n = torch.tanh(a_n)
        note(self, "n", n)
        h_new = n + z * (h - n)  # = (1 - z) * n + z * h, one product fewer
        note(self, "h", h_new)
        return h_new, (h_new,)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, reset_after={self.spec.reset_after}"

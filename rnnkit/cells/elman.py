"""The Elman RNN (Elman 1990): the hidden state is fed back."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import (RecurrentCell, State, Weights, activation, check_init, dropped,
                               factory)
from rnnkit.cells.probe import note
from rnnkit.names import ELMAN_NONLINEARITIES


class ElmanCell(RecurrentCell):
    r"""One step of an Elman RNN, as torch.nn.RNNCell (plus a sigmoid option).

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act in {tanh, relu, sigmoid}

    Parameters: weight_ih (H, I), weight_hh (H, H), bias_ih (H), bias_hh (H). State: (h,).
    Under `rnnkit.cells.probe` a step records a (the argument of act) and h (h_t).
    `recurrent_init="identity"` with `nonlinearity="relu"` is the IRNN of Le et al. (2015).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 nonlinearity: str = "tanh", recurrent_init: str = "default",
                 device=None, dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        self.nonlinearity = _check.one_of("nonlinearity", nonlinearity, ELMAN_NONLINEARITIES)
        self.act = activation(nonlinearity)
        self.bias = bias
        self.recurrent_init = check_init(recurrent_init)
        self.output_size = hidden_size
        self.state_names, self.state_sizes = ("h",), (hidden_size,)
        kw = factory(device, dtype)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size, **kw))
        self.reset_parameters()

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., H) = W_ih x + b_ih."""
        return nn.functional.linear(x, w["weight_ih"], w.get("bias_ih"))

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        h_in = dropped(state[0], mask)
        a = x_proj + nn.functional.linear(h_in, w["weight_hh"], w.get("bias_hh"))
        note(self, "a", a)
        h = self.act(a)
        note(self, "h", h)
        return h, (h,)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"

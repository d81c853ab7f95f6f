"""The Jordan RNN (Jordan 1986): the previous *output* is fed back, not the hidden state."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import (RecurrentCell, State, Weights, activation, check_init, dropped,
                               factory)
from rnnkit.cells.probe import note
from rnnkit.names import ELMAN_NONLINEARITIES, JORDAN_OUTPUT_ACTIVATIONS


class JordanCell(RecurrentCell):
    r"""One step of a Jordan RNN; the output layer is part of the cell.

        h_t = act(W_ih x_t + b_ih + W_hh y_{t-1} + b_hh)
        y_t = out_act(W_ho h_t + b_ho)

    Parameters: weight_ih (H, I), weight_hh (H, O) (from the previous output to the hidden
    layer), bias_ih (H), bias_hh (H), weight_ho (O, H), bias_ho (O). State: (y,) of size O.
    `output_activation` defaults to tanh so that the fed-back output stays bounded.
    Under `rnnkit.cells.probe` a step records a (the argument of act), h (h_t) and y (y_t).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, bias: bool = True,
                 *, nonlinearity: str = "tanh", output_activation: str = "tanh",
                 recurrent_init: str = "default", device=None, dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        self.output_size = _check.positive_int("output_size", output_size)
        self.nonlinearity = _check.one_of("nonlinearity", nonlinearity, ELMAN_NONLINEARITIES)
        self.output_activation = _check.one_of("output_activation", output_activation,
                                               JORDAN_OUTPUT_ACTIVATIONS)
        self.act = activation(nonlinearity)
        self.out_act = activation(output_activation, "output_activation")
        self.bias = bias
        self.recurrent_init = check_init(recurrent_init)
        self.state_names, self.state_sizes = ("y",), (output_size,)
        kw = factory(device, dtype)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, output_size, **kw))
        self.weight_ho = nn.Parameter(torch.empty(output_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size, **kw))
            self.bias_ho = nn.Parameter(torch.empty(output_size, **kw))
        self.reset_parameters()

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., H) = W_ih x + b_ih."""
        return nn.functional.linear(x, w["weight_ih"], w.get("bias_ih"))

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        y_in = dropped(state[0], mask)
        a = x_proj + nn.functional.linear(y_in, w["weight_hh"], w.get("bias_hh"))
        note(self, "a", a)
        h = self.act(a)
        note(self, "h", h)
        y = self.out_act(nn.functional.linear(h, w["weight_ho"], w.get("bias_ho")))
        note(self, "y", y)
        return y, (y,)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, {self.output_size}, "
                f"nonlinearity={self.nonlinearity!r}, output_activation={self.output_activation!r}")

"""Jordan RNN, forward and backward of one step; the output layer is part of the cell:

    h_t = act(W_ih x_t + b_ih + W_hh y_{t-1} + b_hh)
    y_t = out_act(W_ho h_t + b_ho)
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.elman import hidden_backward, hidden_forward
from rnnkit.reference.ops import ACTIVATIONS, affine


class JordanCell(Cell):
    """Params: weight_ih (H, I), weight_hh (H, O), bias_ih (H), bias_hh (H), weight_ho (O, H),
    bias_ho (O). State: (y,) of size O."""

    def __init__(self, params: Params, nonlinearity: str = "tanh",
                 output_activation: str = "tanh"):
        super().__init__(params)
        self.act = ACTIVATIONS[nonlinearity]
        self.out_act = ACTIVATIONS[output_activation]
        self.hidden_size = self.params["weight_ih"].shape[0]
        self.output_size = self.params["weight_ho"].shape[0]
        self.state_sizes = (self.output_size,)

    def forward_step(self, x: np.ndarray, state: State):
        h, hidden_cache = hidden_forward(self.params, self.act, x, state[0])
        y = self.out_act.forward(affine(h, self.params["weight_ho"], self.params.get("bias_ho")))
        return y, (y,), (hidden_cache, h, y)

    def backward_step(self, cache, d_output: np.ndarray, d_state: State):
        hidden_cache, h, y = cache
        dy = d_output + d_state[0]           # y_t is both the output and the fed-back state
        dq = self.out_act.backward(y, dy)    # q = W_ho h + b_ho: dq = out_act'(q) * dy
        dh = dq @ self.params["weight_ho"]   # dh = W_ho^T dq
        dx, dy_prev, grads = hidden_backward(self.params, self.act, hidden_cache, dh)
        grads.update(weight_ho=dq.T @ h, bias_ho=dq.sum(0))
        return dx, (dy_prev,), self.only_params(grads)

"""Elman RNN, forward and backward of one step:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,    h_t = act(a_t),    act in {tanh, relu, sigmoid}

The hidden layer `hidden_forward` / `hidden_backward` is shared with the Jordan cell, which feeds
back its output instead of h.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.ops import ACTIVATIONS, Activation, affine


def hidden_forward(p: Params, act: Activation, x: np.ndarray, fed: np.ndarray):
    """x: (B, I), fed: (B, F) the fed-back vector -> (h (B, H), cache)."""
    h = act.forward(affine(x, p["weight_ih"], p.get("bias_ih"))
                    + affine(fed, p["weight_hh"], p.get("bias_hh")))
    return h, (x, fed, h)


def hidden_backward(p: Params, act: Activation, cache, dh: np.ndarray):
    """dh: (B, H), the total gradient of h -> (dx (B, I), d_fed (B, F), grads)."""
    x, fed, h = cache
    da = act.backward(h, dh)             # da = act'(a) * dh
    grads = {"weight_ih": da.T @ x,      # dL/dW_ih = sum_b da_b x_b^T
             "weight_hh": da.T @ fed,    # dL/dW_hh = sum_b da_b fed_b^T
             "bias_ih": da.sum(0), "bias_hh": da.sum(0)}
    return da @ p["weight_ih"], da @ p["weight_hh"], grads   # dx = W_ih^T da, d_fed = W_hh^T da


class ElmanCell(Cell):
    """Params: weight_ih (H, I), weight_hh (H, H), bias_ih (H), bias_hh (H). State: (h,)."""

    def __init__(self, params: Params, nonlinearity: str = "tanh"):
        super().__init__(params)
        self.act = ACTIVATIONS[nonlinearity]
        self.hidden_size = self.output_size = self.params["weight_hh"].shape[0]
        self.state_sizes = (self.hidden_size,)

    def forward_step(self, x: np.ndarray, state: State):
        h, cache = hidden_forward(self.params, self.act, x, state[0])
        return h, (h,), cache

    def backward_step(self, cache, d_output: np.ndarray, d_state: State):
        # h_t is both the output and the state: its gradient is the sum of the two.
        dx, dh_prev, grads = hidden_backward(self.params, self.act, cache, d_output + d_state[0])
        return dx, (dh_prev,), self.only_params(grads)

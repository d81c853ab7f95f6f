"""GRU, forward and backward of one step, blocks in PyTorch's order r, z, n:

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))      reset_after (PyTorch, cuDNN)
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)      reset before (Cho et al. 2014)
    h_t = (1 - z) n + z h
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.ops import SIGMOID, TANH, affine


def _split(a: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(a, parts, axis=1)


class GRUCell(Cell):
    """Params: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H), bias_hh (3H). State: (h,)."""

    def __init__(self, params: Params, reset_after: bool = True):
        super().__init__(params)
        self.reset_after = reset_after
        self.hidden_size = self.output_size = self.params["weight_hh"].shape[1]
        self.state_sizes = (self.hidden_size,)

    def forward_step(self, x: np.ndarray, state: State):
        p, H, h = self.params, self.hidden_size, state[0]
        x_r, x_z, x_n = _split(affine(x, p["weight_ih"], p.get("bias_ih")), 3)
        w_hh, b_hh = p["weight_hh"], p.get("bias_hh")
        if self.reset_after:
            h_r, h_z, h_n = _split(affine(h, w_hh, b_hh), 3)
            r, z = SIGMOID.forward(x_r + h_r), SIGMOID.forward(x_z + h_z)
            reset = h_n                       # what r scales: W_hn h + b_hn
            n = TANH.forward(x_n + r * h_n)
        else:
            b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * H], b_hh[2 * H:])
            h_r, h_z = _split(affine(h, w_hh[:2 * H], b_rz), 2)
            r, z = SIGMOID.forward(x_r + h_r), SIGMOID.forward(x_z + h_z)
            reset = r * h                     # what W_hn multiplies
            n = TANH.forward(x_n + affine(reset, w_hh[2 * H:], b_n))
        h_new = (1.0 - z) * n + z * h
        return h_new, (h_new,), SimpleNamespace(x=x, h=h, r=r, z=z, n=n, reset=reset)

    def backward_step(self, cache: SimpleNamespace, d_output: np.ndarray, d_state: State):
        p, H = self.params, self.hidden_size
        w_hh = p["weight_hh"]
        dh_new = d_output + d_state[0]   # h_t is the output and the state
        # h_t = (1 - z) n + z h  ->  dn = (1 - z) dh_t, dz = (h - n) dh_t, dh = z dh_t
        dn = dh_new * (1.0 - cache.z)
        dz = dh_new * (cache.h - cache.n)
        dh = dh_new * cache.z
        # da_k: gradients of the pre-activations a_r, a_z, a_n
        da_n = TANH.backward(cache.n, dn)
        da_z = SIGMOID.backward(cache.z, dz)
        if self.reset_after:
            # a_n = x_n + r * (W_hn h + b_hn)  ->  dr = da_n (W_hn h + b_hn), d(W_hn h) = r da_n
            da_r = SIGMOID.backward(cache.r, da_n * cache.reset)
            d_hp = np.concatenate([da_r, da_z, da_n * cache.r], axis=1)
            d_weight_hh, d_bias_hh = d_hp.T @ cache.h, d_hp.sum(0)
            dh = dh + d_hp @ w_hh
        else:
            # a_n = x_n + W_hn (r h) + b_hn  ->  d(r h) = W_hn^T da_n, dW_hn = da_n (r h)^T
            d_reset = da_n @ w_hh[2 * H:]
            da_r = SIGMOID.backward(cache.r, d_reset * cache.h)
            d_rz = np.concatenate([da_r, da_z], axis=1)
            d_weight_hh = np.concatenate([d_rz.T @ cache.h, da_n.T @ cache.reset])
            d_bias_hh = np.concatenate([d_rz.sum(0), da_n.sum(0)])
            dh = dh + d_reset * cache.r + d_rz @ w_hh[:2 * H]
        # [x_r; x_z; x_n] = W_ih x + b_ih enter a_r, a_z, a_n unchanged
        d_xp = np.concatenate([da_r, da_z, da_n], axis=1)
        grads = {"weight_ih": d_xp.T @ cache.x, "weight_hh": d_weight_hh,
                 "bias_ih": d_xp.sum(0), "bias_hh": d_bias_hh}
        return d_xp @ p["weight_ih"], (dh,), self.only_params(grads)

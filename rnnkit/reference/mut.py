"""MUT1, MUT2, MUT3 (Jozefowicz et al. 2015), forward and backward of one step, x' the raw
input (x, or weight_px x with input_proj):

    MUT1:  z = sigm(W_xz x + b_z)                  r = sigm(W_xr x + W_hr h + b_r)
           n = tanh(W_hh (r h) + tanh(x') + b_h)
    MUT2:  z = sigm(W_xz x + W_hz h + b_z)         r = sigm(x' + W_hr h + b_r)
           n = tanh(W_hh (r h) + W_xh x + b_h)
    MUT3:  z = sigm(W_xz x + W_hz tanh(h) + b_z)   r = sigm(W_xr x + W_hr h + b_r)
           n = tanh(W_hh (r h) + W_xh x + b_h)
    h_t = n z + h (1 - z)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.ops import IDENTITY, SIGMOID, TANH

# Which of z, r, n have an input matrix (weight_ih blocks) and a recurrent one (weight_hh
# blocks), in this order: the layout of rnnkit.cells.MUTCell.
INPUT_ROWS = {"MUT1": "zr", "MUT2": "zn", "MUT3": "zrn"}
RECURRENT_ROWS = {"MUT1": "rn", "MUT2": "zrn", "MUT3": "zrn"}
# Where the raw input x' enters, and through which function.
RAW_INPUT = {"MUT1": ("n", TANH), "MUT2": ("r", IDENTITY), "MUT3": None}


class MUTCell(Cell):
    """Params: weight_ih (k*H, I), weight_hh (k'*H, H) in the blocks above, bias_ih (3H) in the
    order z, r, n, weight_px (H, I) when the raw input is projected. State: (h,)."""

    def __init__(self, params: Params, kind: str = "MUT1"):
        super().__init__(params)
        self.kind = kind
        self.hidden_size = self.output_size = self.params["weight_hh"].shape[1]
        self.state_sizes = (self.hidden_size,)
        self.input_proj = "weight_px" in self.params

    def _matrices(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """-> (W, U): the (H, I) input blocks and the (H, H) recurrent blocks, by gate."""
        H = self.hidden_size

        def blocks(name: str, rows: str) -> dict[str, np.ndarray]:
            return {k: self.params[name][j * H:(j + 1) * H] for j, k in enumerate(rows)}

        return (blocks("weight_ih", INPUT_ROWS[self.kind]),
                blocks("weight_hh", RECURRENT_ROWS[self.kind]))

    def forward_step(self, x: np.ndarray, state: State):
        p, h = self.params, state[0]
        W, U = self._matrices()
        a = {k: x @ W[k].T if k in W else np.zeros((x.shape[0], self.hidden_size)) for k in "zrn"}
        raw_term = None   # fn(x'), added to one pre-activation
        if RAW_INPUT[self.kind] is not None:
            into, fn = RAW_INPUT[self.kind]
            raw_term = fn.forward(x @ p["weight_px"].T if self.input_proj else x)
            a[into] = a[into] + raw_term
        if self.has_bias:
            a = {k: a[k] + b_k for k, b_k in zip("zrn", np.split(p["bias_ih"], 3))}
        # z reads tanh(h) in MUT3, h otherwise; MUT1's z has no recurrent matrix
        h_z = TANH.forward(h) if self.kind == "MUT3" else h
        if "z" in U:
            a["z"] = a["z"] + h_z @ U["z"].T
        z = SIGMOID.forward(a["z"])
        r = SIGMOID.forward(a["r"] + h @ U["r"].T)
        n = TANH.forward(a["n"] + (r * h) @ U["n"].T)
        h_new = n * z + h * (1.0 - z)
        return h_new, (h_new,), SimpleNamespace(x=x, h=h, h_z=h_z, raw_term=raw_term, z=z, r=r,
                                                n=n)

    def backward_step(self, cache: SimpleNamespace, d_output: np.ndarray, d_state: State):
        p = self.params
        W, U = self._matrices()
        dh_new = d_output + d_state[0]   # h_t is the output and the state
        # h_t = n z + h (1 - z)  ->  dn = z dh_t, dz = (n - h) dh_t, dh = (1 - z) dh_t;
        # da_k: gradients of the pre-activations a_z, a_r, a_n
        da = {"n": TANH.backward(cache.n, dh_new * cache.z),
              "z": SIGMOID.backward(cache.z, dh_new * (cache.n - cache.h))}
        dh = dh_new * (1.0 - cache.z)
        # a_n += U_n (r h)  ->  d(r h) = U_n^T da_n, dU_n = da_n (r h)^T
        d_rh = da["n"] @ U["n"]
        dU = {"n": da["n"].T @ (cache.r * cache.h)}
        da["r"] = SIGMOID.backward(cache.r, d_rh * cache.h)
        dh = dh + d_rh * cache.r
        # a_r += U_r h
        dU["r"] = da["r"].T @ cache.h
        dh = dh + da["r"] @ U["r"]
        # a_z += U_z h_z with h_z = tanh(h) (MUT3) or h
        if "z" in U:
            dU["z"] = da["z"].T @ cache.h_z
            d_hz = da["z"] @ U["z"]
            dh = dh + (TANH.backward(cache.h_z, d_hz) if self.kind == "MUT3" else d_hz)
        # the input side: a_k += W_k x for the blocks of weight_ih, a += bias_ih (z, r, n)
        grads = {"weight_ih": np.concatenate([da[k].T @ cache.x for k in W]),
                 "weight_hh": np.concatenate([dU[k] for k in U]),
                 "bias_ih": np.concatenate([da[k].sum(0) for k in "zrn"])}
        dx = sum(da[k] @ W_k for k, W_k in W.items())
        # a_into += fn(x'), x' = W_px x (input_proj) or x  ->  dx' = fn'(x') da_into
        if RAW_INPUT[self.kind] is not None:
            into, fn = RAW_INPUT[self.kind]
            d_raw = fn.backward(cache.raw_term, da[into])
            if self.input_proj:
                grads["weight_px"] = d_raw.T @ cache.x   # dW_px = dx' x^T, dx = W_px^T dx'
                d_raw = d_raw @ p["weight_px"]
            dx = dx + d_raw
        return dx, (dh,), self.only_params(grads)

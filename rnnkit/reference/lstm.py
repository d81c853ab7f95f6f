"""LSTM with every option of `rnnkit.cells.LSTMSpec`, forward and backward of one step.

With x: (B, I), h_{t-1}: (B, R) (R = proj_size or H), c_{t-1}: (B, H), blocks k in spec.gates:

    a_k = W_k x + b_k + U_k h_{t-1} + b'_k  [+ p_k c_{t-1}, k in (i, f)]  [+ (V [i;f;o]_{t-1})_k]
    i = sigmoid(a_i) or 1 (NIG);  f = sigmoid(a_f), 1 (NFG) or 1 - i (CIFG)
    g = tanh(a_g) or a_g (NIAF);  c_t = f c_{t-1} + i g
    o = sigmoid(a_o [+ p_o c_t]) or 1 (NOG);  s = tanh(c_t) or c_t (NOAF);  m = o s
    h_t = W_hr m (proj_size) or m
State: (h, c), plus [i; f; o] (B, 3H) with full gate recurrence (FGR).

A gate that is off is the constant 1 here (a product with it is exact), so forward and backward
are written once for every spec; only gates in spec.gates get a pre-activation gradient.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.ops import IDENTITY, SIGMOID, TANH, affine


class LSTMCell(Cell):
    """`spec`: an `rnnkit.cells.LSTMSpec` (read for its flags and block layout: `gates`,
    `peephole_gates`). Params as the torch cell: weight_ih (G*H, I), weight_hh (G*H, R),
    bias_ih, bias_hh (G*H), weight_ch (P, H) with P = len(peephole_gates) > 0, weight_gg (3H, 3H), weight_hr (R, H); the
    projection is on when weight_hr is present."""

    def __init__(self, params: Params, spec):
        super().__init__(params)
        self.spec = spec
        self.hidden_size = H = self.params["weight_ih"].shape[0] // len(spec.gates)
        self.proj = "weight_hr" in self.params
        self.output_size = R = self.params["weight_hr"].shape[0] if self.proj else H
        self.state_sizes = (R, H, 3 * H) if spec.full_gate_recurrence else (R, H)
        self.in_act = TANH if spec.input_activation else IDENTITY
        self.out_act = TANH if spec.output_activation else IDENTITY

    def _blocks(self, a: np.ndarray, names) -> dict[str, np.ndarray]:
        """a: (B, len(names)*H) -> {name: (B, H)}."""
        H = self.hidden_size
        return {k: a[:, j * H:(j + 1) * H] for j, k in enumerate(names)}

    def forward_step(self, x: np.ndarray, state: State):
        p, spec = self.params, self.spec
        h, c = state[0], state[1]
        a = self._blocks(affine(x, p["weight_ih"], p.get("bias_ih"))
                         + affine(h, p["weight_hh"], p.get("bias_hh")), spec.gates)
        prev_gates = state[2] if spec.full_gate_recurrence else None
        if prev_gates is not None:
            extra = self._blocks(prev_gates @ p["weight_gg"].T, "ifo")
            a = {k: a[k] + extra[k] if k in extra else a[k] for k in a}
        # weight_ch exists when some gate has a peephole (not with NIG+NFG+NOG)
        peep = dict(zip(spec.peephole_gates, p["weight_ch"])) if spec.peephole_gates else {}

        def gate(k: str, c_seen: np.ndarray) -> np.ndarray:
            if k not in spec.gates:
                return np.ones_like(c)
            return SIGMOID.forward(a[k] + peep[k] * c_seen if k in peep else a[k])

        i = gate("i", c)
        f = 1.0 - i if spec.coupled else gate("f", c)
        g = self.in_act.forward(a["g"])
        c_new = f * c + i * g
        o = gate("o", c_new)
        s = self.out_act.forward(c_new)
        m = o * s
        h_new = m @ p["weight_hr"].T if self.proj else m
        new_state = (h_new, c_new)
        if prev_gates is not None:
            new_state += (np.concatenate([i, f, o], axis=1),)
        cache = SimpleNamespace(x=x, h=h, c=c, prev_gates=prev_gates, peep=peep,
                                i=i, f=f, g=g, c_new=c_new, o=o, s=s, m=m)
        return h_new, new_state, cache

    def backward_step(self, cache: SimpleNamespace, d_output: np.ndarray, d_state: State):
        p, spec = self.params, self.spec
        grads = {}
        dh_new = d_output + d_state[0]   # h_t is the output and the fed-back state
        # h_t = W_hr m  ->  dm = W_hr^T dh_t, dW_hr = dh_t m^T
        if self.proj:
            grads["weight_hr"] = dh_new.T @ cache.m
            dm = dh_new @ p["weight_hr"]
        else:
            dm = dh_new
        # FGR: [i; f; o] is itself state, read by the next step's pre-activations
        d_fed = (self._blocks(d_state[2], "ifo") if spec.full_gate_recurrence
                 else dict.fromkeys("ifo", 0.0))
        # m = o s, s = act(c_t)  ->  do = s dm, dc_t = act'(c_t) o dm (+ the state's dc_t)
        do = dm * cache.s + d_fed["o"]
        dc_new = d_state[1] + self.out_act.backward(cache.s, dm * cache.o)
        da = {}   # gradients of the pre-activations a_k of the gates that exist
        if "o" in spec.gates:
            da["o"] = SIGMOID.backward(cache.o, do)   # sigmoid' = o (1 - o)
            if "o" in cache.peep:
                dc_new = dc_new + da["o"] * cache.peep["o"]   # a_o += p_o c_t
        # c_t = f c_{t-1} + i g
        di = dc_new * cache.g + d_fed["i"]
        df = dc_new * cache.c + d_fed["f"]
        dc = dc_new * cache.f
        da["g"] = self.in_act.backward(cache.g, dc_new * cache.i)
        if spec.coupled:
            di = di - df   # f = 1 - i
        if "i" in spec.gates:
            da["i"] = SIGMOID.backward(cache.i, di)
        if "f" in spec.gates:
            da["f"] = SIGMOID.backward(cache.f, df)
        # peepholes: a_i, a_f += p * c_{t-1}, a_o += p_o * c_t  ->  dp_k = sum_b da_k * c_seen
        for name in ("i", "f"):
            if name in cache.peep:
                dc = dc + da[name] * cache.peep[name]
        if spec.peephole_gates:
            seen = {"i": cache.c, "f": cache.c, "o": cache.c_new}
            grads["weight_ch"] = np.stack([(da[name] * seen[name]).sum(0)
                                           for name in spec.peephole_gates])
        # a = W_ih x + b_ih + W_hh h_{t-1} + b_hh, blocks in spec.gates order
        d_pre = np.concatenate([da[name] for name in spec.gates], axis=1)
        grads.update(weight_ih=d_pre.T @ cache.x, weight_hh=d_pre.T @ cache.h,
                     bias_ih=d_pre.sum(0), bias_hh=d_pre.sum(0))
        dx, dh = d_pre @ p["weight_ih"], d_pre @ p["weight_hh"]
        d_state_prev = (dh, dc)
        if spec.full_gate_recurrence:
            # a_{i,f,o} += V [i; f; o]_{t-1}  ->  dV = d[a_i; a_f; a_o] prev^T, d prev = V^T d[.]
            d_from = np.concatenate([da["i"], da["f"], da["o"]], axis=1)
            grads["weight_gg"] = d_from.T @ cache.prev_gates
            d_state_prev += (d_from @ p["weight_gg"],)
        return dx, d_state_prev, self.only_params(grads)

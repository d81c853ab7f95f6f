"""Sequence layers over reference cells, forward and backward through time (BPTT).

Every layer has the same interface, the semantics of `rnnkit.layers` in eval mode (no dropout):

    output, final, cache = layer.forward(x, state=None, lengths=None)
    dx, d_state, d_params = layer.backward(cache, d_output, d_final)

x: (T, B, I) time-major; lengths: (B,) ints in [1, T] or None (all T). At time t only sequences
with t < lengths[b] advance: the others keep their state and output zeros, so `final` is each
sequence's state at its true end. `state` / `final` / `d_state` / `d_final` are the layer's state
tree: a cell's tuple (Recurrent), a pair (Bidirectional), a list per layer (Stacked); `d_state`
is the gradient with respect to the initial state (zeros when it was None). `params` and
`d_params` are flat dicts keyed by the names of the torch layer's `named_parameters()`.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.cell import Cell, Params
from rnnkit.reference.ops import affine


def active_steps(lengths: np.ndarray | None, T: int, B: int) -> np.ndarray:
    """-> (T, B, 1) bool: True where t < lengths[b] (every step when lengths is None)."""
    if lengths is None:
        return np.ones((T, B, 1), dtype=bool)
    return (np.arange(T)[:, None] < np.asarray(lengths)[None, :])[..., None]


def reverse_within_lengths(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """x: (T, B, F) -> out[t, b] = x[L_b - 1 - t, b] for t < L_b, x[t, b] after (padding stays).
    A permutation of each column that is its own inverse, so it is also its own backward."""
    T = x.shape[0]
    if lengths is None:
        return x[::-1].copy()
    t = np.arange(T)[:, None]
    L = np.asarray(lengths)[None, :]
    source = np.where(t < L, L - 1 - t, t)  # (T, B)
    return np.take_along_axis(x, source[..., None], axis=0)


def prefixed(prefix: str, params: Params) -> Params:
    return {f"{prefix}.{name}": value for name, value in params.items()}


class Recurrent:
    """Runs `cell` over time (rnnkit.layers.Recurrent). Params: `cell.<name>`."""

    def __init__(self, cell: Cell):
        self.cell = cell
        self.input_size, self.output_size = cell.input_size, cell.output_size
        self.params = prefixed("cell", cell.params)   # the same arrays as cell.params

    def zero_state(self, batch_size: int):
        return self.cell.zero_state(batch_size)

    def forward(self, x: np.ndarray, state=None, lengths=None):
        """x: (T, B, I), state: tuple of (B, size) or None -> (output (T, B, O), final, cache)."""
        T, B = x.shape[:2]
        state = self.zero_state(B) if state is None else tuple(state)
        active = active_steps(lengths, T, B)
        outputs, caches = np.zeros((T, B, self.output_size)), []
        for t in range(T):
            out, new_state, cache = self.cell.forward_step(x[t], state)
            # with m = [t < L_b]: s_t = m ? s'_t : s_{t-1},  y_t = m ? y'_t : 0
            m = active[t]
            state = tuple(np.where(m, new, old) for new, old in zip(new_state, state))
            outputs[t] = np.where(m, out, 0.0)
            caches.append(cache)
        return outputs, state, (caches, active, x.shape)

    def backward(self, cache, d_output: np.ndarray, d_final):
        """d_output: (T, B, O), d_final: tuple of (B, size) -> (dx (T, B, I), d_state, d_params);
        the forward loop run backwards."""
        caches, active, shape = cache
        grads = {name: np.zeros_like(p) for name, p in self.cell.params.items()}
        dx = np.zeros(shape)
        d_state = tuple(d_final)   # dL/ds_t, from t = T - 1 down
        for t in reversed(range(shape[0])):
            m = active[t]
            # s_t = m ? s'_t : s_{t-1} and y_t = m ? y'_t : 0 route each gradient to one side:
            # the step gets m-masked gradients, the inactive rows pass d s_t on to s_{t-1}
            dx[t], d_prev, step_grads = self.cell.backward_step(
                caches[t], np.where(m, d_output[t], 0.0),
                tuple(np.where(m, d, 0.0) for d in d_state))
            d_state = tuple(dp + np.where(m, 0.0, d) for dp, d in zip(d_prev, d_state))
            for name, g in step_grads.items():
                grads[name] += g
        return dx, d_state, prefixed("cell", grads)


MERGE_MODES = ("concat", "sum", "mean", "mul", "linear")


class Bidirectional:
    """`fwd` reads x, `bwd` reads each sequence reversed within its length, its outputs reversed
    back (rnnkit.layers.Bidirectional). merge: "concat" [y_f; y_b], "sum", "mean", "mul", or
    "linear" W [y_f; y_b] + b with `merge_weight` (O, O_f + O_b) and `merge_bias` (O,), zero at
    padded positions. Params: `fwd.*`, `bwd.*`, `merge_linear.weight`, `merge_linear.bias`."""

    def __init__(self, fwd, bwd, merge: str = "concat", merge_weight=None, merge_bias=None):
        if merge not in MERGE_MODES:
            raise ValueError(f"merge: expected one of {MERGE_MODES}, got {merge!r}")
        self.fwd, self.bwd, self.merge = fwd, bwd, merge
        self.input_size = fwd.input_size
        self.params = prefixed("fwd", fwd.params) | prefixed("bwd", bwd.params)
        if merge == "linear":
            self.params["merge_linear.weight"] = np.array(merge_weight, dtype=np.float64)
            self.params["merge_linear.bias"] = np.array(merge_bias, dtype=np.float64)
            self.output_size = self.params["merge_linear.weight"].shape[0]
        elif merge == "concat":
            self.output_size = fwd.output_size + bwd.output_size
        else:
            self.output_size = fwd.output_size

    def zero_state(self, batch_size: int):
        return (self.fwd.zero_state(batch_size), self.bwd.zero_state(batch_size))

    def forward(self, x: np.ndarray, state=None, lengths=None):
        """x: (T, B, I), state: (fwd_state, bwd_state) or None -> (output (T, B, O),
        (fwd_final, bwd_final), cache)."""
        fwd_state, bwd_state = (None, None) if state is None else state
        y_f, final_f, cache_f = self.fwd.forward(x, fwd_state, lengths)
        y_b, final_b, cache_b = self.bwd.forward(reverse_within_lengths(x, lengths), bwd_state,
                                                 lengths)
        y_b = reverse_within_lengths(y_b, lengths)
        if self.merge == "concat":
            out = np.concatenate([y_f, y_b], axis=-1)
        elif self.merge == "sum":
            out = y_f + y_b
        elif self.merge == "mean":
            out = 0.5 * (y_f + y_b)
        elif self.merge == "mul":
            out = y_f * y_b
        else:
            T, B = x.shape[:2]
            both = np.concatenate([y_f, y_b], axis=-1)
            out = np.where(active_steps(lengths, T, B),
                           affine(both, self.params["merge_linear.weight"],
                                  self.params["merge_linear.bias"]), 0.0)
        return out, (final_f, final_b), (cache_f, cache_b, y_f, y_b, lengths)

    def backward(self, cache, d_output: np.ndarray, d_final):
        cache_f, cache_b, y_f, y_b, lengths = cache
        grads = {}
        n_f = y_f.shape[-1]
        if self.merge == "concat":     # y = [y_f; y_b]: split the gradient
            d_f, d_b = d_output[..., :n_f], d_output[..., n_f:]
        elif self.merge == "sum":      # y = y_f + y_b
            d_f, d_b = d_output, d_output
        elif self.merge == "mean":     # y = (y_f + y_b) / 2
            d_f, d_b = 0.5 * d_output, 0.5 * d_output
        elif self.merge == "mul":      # y = y_f y_b: dy_f = y_b dy, dy_b = y_f dy
            d_f, d_b = d_output * y_b, d_output * y_f
        else:
            # out = m (W [y_f; y_b] + b): dW = sum_{t,b} m d_out [y_f; y_b]^T, d[y_f; y_b] = W^T m d
            T, B = y_f.shape[:2]
            d_pre = np.where(active_steps(lengths, T, B), d_output, 0.0)
            both = np.concatenate([y_f, y_b], axis=-1)
            grads["merge_linear.weight"] = np.einsum("tbo,tbi->oi", d_pre, both)
            grads["merge_linear.bias"] = d_pre.sum((0, 1))
            d_both = d_pre @ self.params["merge_linear.weight"]
            d_f, d_b = d_both[..., :n_f], d_both[..., n_f:]
        dx_f, d_state_f, grads_f = self.fwd.backward(cache_f, d_f, d_final[0])
        # the reversal is its own inverse: reverse the gradient into bwd's time order and back
        dx_b, d_state_b, grads_b = self.bwd.backward(
            cache_b, reverse_within_lengths(d_b, lengths), d_final[1])
        dx = dx_f + reverse_within_lengths(dx_b, lengths)   # x feeds both directions
        grads |= prefixed("fwd", grads_f) | prefixed("bwd", grads_b)
        return dx, (d_state_f, d_state_b), grads


class Stacked:
    """Layer k+1 reads layer k's output (rnnkit.layers.Stacked, no dropout).
    Params: `layers.<k>.*`."""

    def __init__(self, layers: list):
        self.layers = list(layers)
        self.input_size, self.output_size = layers[0].input_size, layers[-1].output_size
        self.params = {}
        for k, layer in enumerate(self.layers):
            self.params |= prefixed(f"layers.{k}", layer.params)

    def zero_state(self, batch_size: int):
        return [layer.zero_state(batch_size) for layer in self.layers]

    def forward(self, x: np.ndarray, state=None, lengths=None):
        """x: (T, B, I), state: [state of each layer] or None -> (output (T, B, O),
        [final state of each layer], cache)."""
        state = [None] * len(self.layers) if state is None else state
        finals, caches = [], []
        for layer, layer_state in zip(self.layers, state):
            x, final, cache = layer.forward(x, layer_state, lengths)
            finals.append(final)
            caches.append(cache)
        return x, finals, caches

    def backward(self, cache, d_output: np.ndarray, d_final):
        d_states, grads = [None] * len(self.layers), {}
        for k in reversed(range(len(self.layers))):
            # layer k's output is layer k+1's input: its gradient is what k+1 sends down
            d_output, d_states[k], layer_grads = self.layers[k].backward(
                cache[k], d_output, d_final[k])
            grads |= prefixed(f"layers.{k}", layer_grads)
        return d_output, d_states, grads

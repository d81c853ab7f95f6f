"""The contract of a reference cell: one time step forward, and its exact backward.

    output, new_state, cache = cell.forward_step(x, state)
    dx, d_state_prev, d_params = cell.backward_step(cache, d_output, d_new_state)

x: (B, I); state: tuple of (B, size) arrays in the order of the torch cell's `state_names`;
output: (B, output_size). `d_output` and `d_new_state` are the gradients of the loss with respect
to this step's output and new state (the new state usually *is* the output, so a backward step
adds the two); `d_params` has the keys of `cell.params`. Everything is float64 NumPy; the time
loop lives in `reference.layers.Recurrent`.
"""

from __future__ import annotations

import numpy as np

State = tuple[np.ndarray, ...]
Params = dict[str, np.ndarray]


class Cell:
    """Base class. `params`: name -> float64 array, under the torch cell's parameter names and
    block layouts (a missing bias means bias=False). Subclasses set `hidden_size`,
    `output_size`, `state_sizes` and define `forward_step` and `backward_step`."""

    hidden_size: int
    output_size: int
    state_sizes: tuple[int, ...]

    def __init__(self, params: Params):
        self.params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
        self.input_size = self.params["weight_ih"].shape[1]
        self.has_bias = "bias_ih" in self.params

    def zero_state(self, batch_size: int) -> State:
        return tuple(np.zeros((batch_size, n)) for n in self.state_sizes)

    def forward_step(self, x: np.ndarray, state: State):
        """-> (output (B, output_size), new state, cache for backward_step)."""
        raise NotImplementedError

    def backward_step(self, cache, d_output: np.ndarray, d_state: State):
        """-> (dx (B, I), gradient w.r.t. the previous state, d_params)."""
        raise NotImplementedError

    def only_params(self, grads: Params) -> Params:
        """The gradients of the parameters this cell has: backward steps compute bias gradients
        unconditionally (they are cheap) and drop them here when bias=False."""
        return {name: grads[name] for name in self.params}

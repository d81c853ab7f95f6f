"""The contract every recurrent cell follows: the math of one time step, and nothing about time.

A step is split in two so that the part which does not depend on the state can run for all time
steps at once (one matrix product over the whole sequence) before the loop:

    x_proj = cell.input_part(w, x)                 # any leading dims: (B, I) or (T, B, I)
    output, state = cell.recurrence(w, x_proj[t], state)

`step(x_t, state)` composes the two for a single step. `w` is the dict of the cell's parameters
(`cell.weights()`); passing it explicitly lets a driver transform a weight once per sequence
(DropConnect on `weight_hh`) without touching the module.

A state is always a tuple of tensors, each (B, size), named by `state_names`; its first entry is
what is fed back through the recurrent weights (h for most cells, y for Jordan), which is where
variational recurrent dropout applies (`recurrence`'s `mask`).

A cell normally owns its parameters. The drop-ins (`rnnkit.LSTM`, ...) adopt them instead, under
torch's names (`weight_hh_l1_reverse`), so that whatever reparametrises, ties, deletes or replaces
a weight of torch.nn.LSTM does the same to theirs; the cell then reads each weight from its owner
at every use (`adopt_weights`), and `cell.weight_hh` still works.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.names import RECURRENT_INITS

State = tuple[Tensor, ...]
Weights = dict[str, Tensor]


class RecurrentCell(nn.Module):
    """Base class: subclasses set `input_size`, `hidden_size`, `output_size`, `state_names`,
    `state_sizes`, create their parameters, and define `input_part` and `recurrence`."""

    input_size: int
    hidden_size: int
    output_size: int  # size of what one step outputs (hidden_size, proj_size or Jordan's output)
    state_names: tuple[str, ...]
    state_sizes: tuple[int, ...]
    # How the default init treats weight_hh: a stack of `recurrent_blocks` square-ish blocks, one
    # per gate, each initialised on its own (orthogonal / identity). Set by subclasses.
    recurrent_blocks: int = 1

    # --- the math (subclasses) -------------------------------------------------------------------
    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., K): everything of a step that depends on the input alone."""
        raise NotImplementedError

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        """x_proj: (B, K) from `input_part`; state: tuple of (B, size) -> (output (B, O), state).
        mask: (B, size of state[0]) or None, variational recurrent dropout (Gal & Ghahramani
        2016): it multiplies state[0] wherever state[0] enters a recurrent weight product, and
        nowhere else (a GRU's carried z * h uses the undropped h)."""
        raise NotImplementedError

    # --- shared machinery -------------------------------------------------------------------------
    def weights(self) -> Weights:
        """The parameters by name (`weight_ih`, `weight_hh`, ...), as the math functions take them:
        the cell's own, or, once adopted, whatever its owner holds under their names now (a
        Parameter, a parametrized weight, a plain tensor assigned in place of one)."""
        adopted = self.__dict__.get("_adopted")
        if adopted is None:
            return dict(self.named_parameters(recurse=False))
        owner, suffix, names = adopted
        found = {name: getattr(owner, name + suffix) for name in names}
        return {name: w for name, w in found.items() if w is not None}  # as named_parameters

    def adopt_weights(self, owner: nn.Module, suffix: str) -> list[str]:
        """Move this cell's parameters onto `owner`, each registered there as name + suffix, and
        read them from there from now on. Returns the owner's names, in the cell's order."""
        names = tuple(self._parameters)
        for name in names:
            owner.register_parameter(name + suffix, self._parameters.pop(name))
        # A plain attribute, not a submodule: the owner holds the cell, not the other way round.
        object.__setattr__(self, "_adopted", (owner, suffix, names))
        return [name + suffix for name in names]

    def __getattr__(self, name: str):
        adopted = self.__dict__.get("_adopted")
        if adopted is not None and name in adopted[2]:
            return getattr(adopted[0], name + adopted[1])
        return super().__getattr__(name)

    def init_state(self, batch_size: int, *, dtype=None, device=None) -> State:
        """Zeros of the right shapes: a tuple of (B, size) tensors."""
        ref = self.weight_ih
        dtype = ref.dtype if dtype is None else dtype
        device = ref.device if device is None else device
        return tuple(torch.zeros(batch_size, n, dtype=dtype, device=device) for n in self.state_sizes)

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One time step. x_t: (B, I); state: tuple of (B, size) or None for zeros.
        Returns (output (B, output_size), new state)."""
        _check.tensor_like_params("x_t", x_t, self.weight_ih, ndim=2, last=self.input_size,
                                  last_name="input_size")
        state = self.check_state("state", state, x_t.shape[0])
        w = self.weights()
        return self.recurrence(w, self.input_part(w, x_t), state)

    forward = step

    def check_state(self, name: str, state, batch_size: int) -> State:
        """Validate a user-given state (or make zeros when None) for a batch of `batch_size`."""
        if state is None:
            return self.init_state(batch_size)
        given = state
        if isinstance(state, Tensor) and len(self.state_sizes) == 1:
            state = (state,)
        if not isinstance(state, (tuple, list)) or len(state) != len(self.state_sizes):
            raise TypeError(
                f"{name}: expected a tuple of {len(self.state_sizes)} tensors "
                f"{self.state_names} for {type(self).__name__}, got {_check.describe(given)}")
        for part, label, size in zip(state, self.state_names, self.state_sizes):
            _check.tensor_like_params(f"{name}[{label}]", part, self.weight_ih, ndim=2,
                                      shape=(batch_size, size))
        return tuple(state)

    # --- initialisation ---------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """PyTorch's default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), then the cell's
        `recurrent_init` on weight_hh, then cell-specific biases (`_init_biases`)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        with torch.no_grad():
            for p in self.weights().values():
                p.uniform_(-bound, bound)
            _init_recurrent(self, self.recurrent_init)
            self._init_biases()

    def _init_biases(self) -> None:
        """Hook for cell-specific bias init (the LSTM's forget-gate bias)."""

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


def _init_recurrent(cell: RecurrentCell, how: str) -> None:
    """Re-initialise weight_hh block by block (one block per gate).

    - "orthogonal": each block an orthogonal matrix (Saxe et al. 2014), keeping the norm of the
      state through the recurrent product at init.
    - "identity": each block the identity and every bias zero (IRNN, Le et al. 2015): a ReLU RNN
      then starts out copying its state, which lets it carry information over long spans.
    """
    if how == "default":
        return
    blocks = cell.weight_hh.chunk(cell.recurrent_blocks, dim=0)
    for block in blocks:
        if how == "orthogonal":
            nn.init.orthogonal_(block)
        else:
            nn.init.eye_(block)
    if how == "identity":
        for name, p in cell.weights().items():
            if name.startswith("bias"):
                p.zero_()


def dropped(fed_back: Tensor, mask: Tensor | None) -> Tensor:
    """What enters the recurrent products: the fed-back state, times the dropout mask if any."""
    return fed_back if mask is None else fed_back * mask


def check_init(recurrent_init: str) -> str:
    return _check.one_of("recurrent_init", recurrent_init, RECURRENT_INITS)


ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def activation(name: str, argument: str = "nonlinearity"):
    """The elementwise function called `name`, or a ValueError naming `argument`."""
    return ACTIVATIONS[_check.one_of(argument, name, tuple(ACTIVATIONS))]


def factory(device, dtype) -> dict:
    return {"device": device, "dtype": dtype}

"""The stack-augmented RNN of Joulin & Mikolov (2015), "Inferring algorithmic patterns with
stack-augmented recurrent nets": a sigmoid RNN that writes to continuous stacks and reads their
top entries back.

A stack holds `depth` scalars, s[0] its top. Every step the network chooses, through a softmax,
how much to PUSH a new value, POP the top, or (optionally) do nothing, and the next stack is the
mixture of the three stacks these actions would give; with one-hot actions it is an ordinary
stack. An empty entry holds EMPTY = -1, as in the authors' code (Stack-RNN, `EMPTY_STACK_VALUE`):
stacks start full of it, and POP brings it in at the bottom. -1 lies outside the (0, 1) range of
pushed values, so the network can tell an empty stack from any pushed value.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State, Weights, check_init, dropped, factory

EMPTY = -1.0
PUSH, POP, NO_OP = 0, 1, 2
DISCRETE_MODES = ("never", "eval", "always")


class StackCell(RecurrentCell):
    r"""One step of a stack RNN with S stacks of `depth` entries, the top k of each read back.

        h_t   = sigmoid(U x_t + b + R h_{t-1} + P [s^1_{t-1}[0:k]; ...; s^S_{t-1}[0:k]])
                (without R h_{t-1} when hidden_recurrence is False)
        a^j_t = softmax(A_j h_t + b_A,j)         over (PUSH, POP) or (PUSH, POP, NO-OP)
        v^j_t = sigmoid(D_j h_t + b_D,j)         the value PUSH puts on top
    and for every stack (its superscript j dropped), with s_{t-1}[depth] = EMPTY:
        s_t[0] = a_t[PUSH] v_t          + a_t[POP] s_{t-1}[1]   + a_t[NO-OP] s_{t-1}[0]
        s_t[i] = a_t[PUSH] s_{t-1}[i-1] + a_t[POP] s_{t-1}[i+1] + a_t[NO-OP] s_{t-1}[i]
    (PUSH lets the bottom entry fall off a full stack.) The output is h_t.

    Parameters: weight_ih U (H, I), bias_ih b (H), weight_hh R (H, H), weight_sh P (H, S k),
    weight_action A (S n_actions, H), bias_action (S n_actions), weight_push D (S, H),
    bias_push (S); no R without hidden_recurrence. State: (h (B, H), stack (B, S depth)),
    stack j in columns [j depth, (j+1) depth), top first; `init_state` gives h = 0 and empty
    stacks.

    hidden_recurrence: False is the authors' setting for their toy tasks (their code's `-mod 1`,
    "recurrence only through stacks"): the only memory is the stacks, so a count must be kept
    there, where it does not blur as n grows past the training range.

    discrete: "never", "always", or "eval" (only when the module is in eval mode): the paper's
    rounding at test time, each action replaced by the one-hot of its argmax (as the authors'
    `-hard` option) and each pushed value rounded to 0 or 1, so that the stacks hold exact
    symbols and long sequences do not blur them. It has no gradient; it is not for training.
    """

    def __init__(self, input_size: int, hidden_size: int, *, num_stacks: int = 1,
                 depth: int = 100, k: int = 2, no_op: bool = True, discrete: str = "never",
                 hidden_recurrence: bool = True, recurrent_init: str = "default", device=None,
                 dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        self.num_stacks = _check.positive_int("num_stacks", num_stacks)
        self.depth = _check.positive_int("depth", depth)
        self.k = _check.positive_int("k", k)
        if k > depth:
            raise ValueError(f"k: expected at most depth={depth} top entries, got {k}")
        self.no_op = no_op
        self.num_actions = 3 if no_op else 2
        self.discrete = _check.one_of("discrete", discrete, DISCRETE_MODES)
        if not hidden_recurrence and recurrent_init != "default":
            raise ValueError(f"recurrent_init: {recurrent_init!r} initialises weight_hh, which a "
                             f"stack cell without hidden_recurrence does not have")
        self.recurrent_init = check_init(recurrent_init)
        self.output_size = hidden_size
        self.state_names = ("h", "stack")
        self.state_sizes = (hidden_size, num_stacks * depth)
        kw = factory(device, dtype)
        S, H = num_stacks, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(H, input_size, **kw))
        self.bias_ih = nn.Parameter(torch.empty(H, **kw))
        self.weight_hh = nn.Parameter(torch.empty(H, H, **kw)) if hidden_recurrence else None
        self.weight_sh = nn.Parameter(torch.empty(H, S * k, **kw))
        self.weight_action = nn.Parameter(torch.empty(S * self.num_actions, H, **kw))
        self.bias_action = nn.Parameter(torch.empty(S * self.num_actions, **kw))
        self.weight_push = nn.Parameter(torch.empty(S, H, **kw))
        self.bias_push = nn.Parameter(torch.empty(S, **kw))
        self.reset_parameters()

    def init_state(self, batch_size: int, *, dtype=None, device=None) -> State:
        """h = 0 (B, H), and every stack empty: (B, S depth) of EMPTY."""
        h, stack = super().init_state(batch_size, dtype=dtype, device=device)
        return h, stack.fill_(EMPTY)

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., H) = U x + b."""
        return nn.functional.linear(x, w["weight_ih"], w["bias_ih"])

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        """x_proj: (B, H); state: (h (B, H), stack (B, S depth)) -> (h, (h, new stack))."""
        h_prev, stack = state
        stacks = stack.view(-1, self.num_stacks, self.depth)  # (B, S, depth)
        read = stacks[:, :, :self.k].flatten(1)  # (B, S k): the top k of each stack
        z = x_proj + nn.functional.linear(read, w["weight_sh"])
        if self.hidden_recurrence:
            z = z + nn.functional.linear(dropped(h_prev, mask), w["weight_hh"])
        h = torch.sigmoid(z)
        logits = nn.functional.linear(h, w["weight_action"], w["bias_action"])
        actions = logits.view(-1, self.num_stacks, self.num_actions).softmax(-1)  # (B, S, n)
        value = torch.sigmoid(nn.functional.linear(h, w["weight_push"], w["bias_push"]))  # (B, S)
        if self.rounds():
            actions = nn.functional.one_hot(actions.argmax(-1), self.num_actions).to(h.dtype)
            value = value.round()
        return h, (h, update_stacks(stacks, actions, value).flatten(1))

    @property
    def hidden_recurrence(self) -> bool:
        """Whether h_{t-1} feeds h_t through R (weight_hh exists only then)."""
        return self.weight_hh is not None

    def rounds(self) -> bool:
        """Whether this step uses discrete actions and values (`discrete`)."""
        return self.discrete == "always" or (self.discrete == "eval" and not self.training)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_stacks={self.num_stacks}, "
                f"depth={self.depth}, k={self.k}, no_op={self.no_op}, "
                f"discrete={self.discrete!r}"
                + ("" if self.hidden_recurrence else ", hidden_recurrence=False"))


def update_stacks(stacks: Tensor, actions: Tensor, value: Tensor) -> Tensor:
    """The continuous stack update. stacks: (B, S, depth), top first; actions: (B, S, 2 or 3)
    weights of PUSH, POP (, NO-OP); value: (B, S), what PUSH puts on top -> (B, S, depth)."""
    pushed = torch.cat([value.unsqueeze(-1), stacks[..., :-1]], dim=-1)
    popped = torch.cat([stacks[..., 1:], torch.full_like(stacks[..., :1], EMPTY)], dim=-1)
    new = actions[..., PUSH, None] * pushed + actions[..., POP, None] * popped
    if actions.shape[-1] > NO_OP:
        new = new + actions[..., NO_OP, None] * stacks
    return new

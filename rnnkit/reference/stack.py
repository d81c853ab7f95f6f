"""Stack RNN (Joulin & Mikolov 2015), forward and backward of one step, S stacks of `depth`
entries (top first), the top k of each read back:

    h_t   = sigmoid(U x_t + b + R h_{t-1} + P read_{t-1})     read = [s^1[0:k]; ...; s^S[0:k]]
    a^j_t = softmax(A_j h_t + b_A,j)                          over PUSH, POP (, NO-OP)
    v^j_t = sigmoid(D_j h_t + b_D,j)
    s_t[i] = a[PUSH] pushed[i] + a[POP] popped[i] (+ a[NO-OP] s_{t-1}[i])
    pushed = [v; s_{t-1}[0:depth-1]],   popped = [s_{t-1}[1:depth]; EMPTY]

(no R h_{t-1} without hidden recurrence). The backward of the stack update is the same mixture
read the other way: entry i of the old stack reaches entry i+1 through PUSH, i-1 through POP and
i through NO-OP, so its gradient gathers d s_t from those three places.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rnnkit.reference.cell import Cell, Params, State
from rnnkit.reference.ops import SIGMOID, affine

EMPTY = -1.0  # what fills an empty entry, as the torch cell (rnnkit.cells.stack.EMPTY)
PUSH, POP, NO_OP = 0, 1, 2


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class StackCell(Cell):
    """Params: weight_ih U (H, I), bias_ih b (H), weight_hh R (H, H) (only with hidden
    recurrence), weight_sh P (H, S k), weight_action A (S n, H), bias_action (S n), weight_push
    D (S, H), bias_push (S), n = 3 actions with NO-OP, else 2. State: (h (B, H), stack (B, S
    depth)), stack j in columns [j depth, (j+1) depth). discrete: the test-time rounding (one-hot
    actions, pushed values rounded); forward only, as it has no gradient."""

    def __init__(self, params: Params, num_stacks: int, depth: int, k: int, no_op: bool = True,
                 discrete: bool = False):
        super().__init__(params)
        self.num_stacks, self.depth, self.k = num_stacks, depth, k
        self.num_actions = 3 if no_op else 2
        self.discrete = discrete
        self.hidden_size = self.output_size = self.params["weight_ih"].shape[0]
        self.state_sizes = (self.hidden_size, num_stacks * depth)

    def zero_state(self, batch_size: int) -> State:
        """h = 0 and every stack empty (all EMPTY), as the torch cell's init_state."""
        h, stack = super().zero_state(batch_size)
        return h, np.full_like(stack, EMPTY)

    def forward_step(self, x: np.ndarray, state: State):
        p, S, n = self.params, self.num_stacks, self.num_actions
        h_prev, flat = state
        stacks = flat.reshape(-1, S, self.depth)                 # (B, S, depth)
        read = stacks[:, :, :self.k].reshape(-1, S * self.k)     # (B, S k)
        z = affine(x, p["weight_ih"], p["bias_ih"]) + read @ p["weight_sh"].T
        if "weight_hh" in p:
            z = z + h_prev @ p["weight_hh"].T
        h = SIGMOID.forward(z)
        actions = softmax(affine(h, p["weight_action"], p["bias_action"]).reshape(-1, S, n))
        value = SIGMOID.forward(affine(h, p["weight_push"], p["bias_push"]))   # (B, S)
        if self.discrete:
            actions = np.eye(n)[actions.argmax(-1)]
            value = np.round(value)
        pushed = np.concatenate([value[..., None], stacks[..., :-1]], -1)
        popped = np.concatenate([stacks[..., 1:], np.full_like(stacks[..., :1], EMPTY)], -1)
        moved = [pushed, popped, stacks][:n]                     # the stack after each action
        new = sum(actions[..., a, None] * moved[a] for a in range(n))
        cache = SimpleNamespace(x=x, h_prev=h_prev, read=read, h=h, actions=actions,
                                value=value, moved=moved)
        return h, (h, new.reshape(flat.shape)), cache

    def backward_step(self, cache: SimpleNamespace, d_output: np.ndarray, d_state: State):
        if self.discrete:
            raise ValueError("discrete: the rounded stack has no gradient; backward needs "
                             "discrete=False")
        p, S, depth, k = self.params, self.num_stacks, self.depth, self.k
        dh, d_new = d_output + d_state[0], d_state[1].reshape(-1, S, depth)
        a = cache.actions
        # s_t = sum_a a[a] moved[a]: d a[a] = <d s_t, moved[a]>, d moved[a] = a[a] d s_t
        d_actions = np.stack([(d_new * m).sum(-1) for m in cache.moved], -1)   # (B, S, n)
        d_stacks = np.zeros_like(d_new)
        d_stacks[..., :-1] += a[..., PUSH, None] * d_new[..., 1:]   # pushed[i+1] = s[i]
        d_stacks[..., 1:] += a[..., POP, None] * d_new[..., :-1]    # popped[i-1] = s[i]
        if self.num_actions > NO_OP:
            d_stacks += a[..., NO_OP, None] * d_new
        d_value = a[..., PUSH] * d_new[..., 0]                      # pushed[0] = v
        # softmax: d logits = a (d a - <a, d a>); sigmoid: d pre = v (1 - v) d v
        d_logits = a * (d_actions - (a * d_actions).sum(-1, keepdims=True))
        d_logits = d_logits.reshape(-1, S * self.num_actions)
        d_push = SIGMOID.backward(cache.value, d_value)
        dh = dh + d_logits @ p["weight_action"] + d_push @ p["weight_push"]
        dz = SIGMOID.backward(cache.h, dh)
        grads = {"weight_ih": dz.T @ cache.x, "bias_ih": dz.sum(0),
                 "weight_sh": dz.T @ cache.read,
                 "weight_action": d_logits.T @ cache.h, "bias_action": d_logits.sum(0),
                 "weight_push": d_push.T @ cache.h, "bias_push": d_push.sum(0)}
        # the read top k of each stack feed z through P
        d_stacks[..., :k] += (dz @ p["weight_sh"]).reshape(-1, S, k)
        if "weight_hh" in p:
            grads["weight_hh"] = dz.T @ cache.h_prev
            dh_prev = dz @ p["weight_hh"]
        else:
            dh_prev = np.zeros_like(cache.h_prev)
        return dz @ p["weight_ih"], (dh_prev, d_stacks.reshape(d_state[1].shape)), grads

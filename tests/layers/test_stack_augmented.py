"""The stack RNN (Joulin & Mikolov 2015): one step against the paper's equations written out
entry by entry, the stack operations, the rounding at test time, and gradients."""

import math

import pytest
import torch

from rnnkit import StackCell, StackRNN
from rnnkit.cells.stack import EMPTY, update_stacks

F64 = torch.float64
I, H, S, DEPTH, K = 3, 4, 2, 4, 2


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def step_by_hand(cell, x, h_prev, stack):
    """The paper's equations for one sequence, one scalar at a time. x: (I,), h_prev: (H,),
    stack: (S * depth,) -> (h, new stack) as lists."""
    w = {name: p.tolist() for name, p in cell.named_parameters()}
    n_act = cell.num_actions
    s = [stack[j * cell.depth:(j + 1) * cell.depth].tolist() for j in range(cell.num_stacks)]
    read = [s[j][i] for j in range(cell.num_stacks) for i in range(cell.k)]
    h = [sigmoid(sum(w["weight_ih"][u][i] * x[i] for i in range(len(x))) + w["bias_ih"][u]
                 + sum(w["weight_hh"][u][v] * h_prev[v] for v in range(len(h_prev)))
                 + sum(w["weight_sh"][u][r] * read[r] for r in range(len(read))))
         for u in range(cell.hidden_size)]
    new = []
    for j in range(cell.num_stacks):
        z = [sum(w["weight_action"][j * n_act + a][u] * h[u] for u in range(len(h)))
             + w["bias_action"][j * n_act + a] for a in range(n_act)]
        total = sum(math.exp(v) for v in z)
        a = [math.exp(v) / total for v in z]
        value = sigmoid(sum(w["weight_push"][j][u] * h[u] for u in range(len(h)))
                        + w["bias_push"][j])
        below = s[j] + [EMPTY]  # s_{t-1}[depth] = EMPTY
        for i in range(cell.depth):
            pushed = value if i == 0 else s[j][i - 1]
            entry = a[0] * pushed + a[1] * below[i + 1]
            if n_act == 3:
                entry += a[2] * s[j][i]
            new.append(entry)
    return h, new


@pytest.mark.parametrize("no_op", [True, False])
def test_one_step_equals_the_papers_equations(no_op):
    torch.manual_seed(0)
    cell = StackCell(I, H, num_stacks=S, depth=DEPTH, k=K, no_op=no_op, dtype=F64)
    x = torch.randn(2, I, dtype=F64)
    state = (torch.rand(2, H, dtype=F64), torch.rand(2, S * DEPTH, dtype=F64) * 2 - 1)
    h, (h_state, stack) = cell.step(x, state)
    assert torch.equal(h, h_state)
    for b in range(2):
        want_h, want_stack = step_by_hand(cell, x[b].tolist(), state[0][b].tolist(), state[1][b])
        torch.testing.assert_close(h[b], torch.tensor(want_h, dtype=F64), atol=1e-12, rtol=0)
        torch.testing.assert_close(stack[b], torch.tensor(want_stack, dtype=F64), atol=1e-12,
                                   rtol=0)


def test_without_hidden_recurrence_the_stacks_are_the_only_memory():
    torch.manual_seed(0)
    cell = StackCell(I, H, num_stacks=S, depth=DEPTH, k=K, hidden_recurrence=False, dtype=F64)
    assert "weight_hh" not in dict(cell.named_parameters())
    assert "hidden_recurrence=False" in repr(cell)
    x = torch.randn(2, I, dtype=F64)
    stack = torch.rand(2, S * DEPTH, dtype=F64) * 2 - 1
    h, (_, new_stack) = cell.step(x, (torch.rand(2, H, dtype=F64), stack))
    other_h, (_, other_stack) = cell.step(x, (torch.rand(2, H, dtype=F64), stack))
    assert torch.equal(h, other_h) and torch.equal(new_stack, other_stack)  # h_{t-1} unused
    with_r = StackCell(I, H, num_stacks=S, depth=DEPTH, k=K, dtype=F64)
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(with_r, name).copy_(p)
        with_r.weight_hh.zero_()  # R = 0 is the same step
    torch.testing.assert_close(with_r.step(x, (torch.rand(2, H, dtype=F64), stack))[0], h,
                               atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="weight_drop: drops entries of weight_hh, which "
                                         "StackCell.*does not have"):
        StackRNN(I, H, hidden_recurrence=False, weight_drop=0.5)
    with pytest.raises(ValueError, match="recurrent_init: 'orthogonal' initialises weight_hh"):
        StackCell(I, H, hidden_recurrence=False, recurrent_init="orthogonal")


def test_pure_actions_are_the_stack_operations():
    stacks = torch.tensor([[[0.1, 0.2, 0.3], [0.4, 0.5, EMPTY]]], dtype=F64)  # (1, 2, 3)
    value = torch.tensor([[0.9, 0.8]], dtype=F64)

    def act(a):
        return torch.nn.functional.one_hot(torch.tensor([[a, a]]), 3).to(F64)

    assert update_stacks(stacks, act(0), value).tolist() == [[[0.9, 0.1, 0.2], [0.8, 0.4, 0.5]]]
    assert update_stacks(stacks, act(1), value).tolist() == [[[0.2, 0.3, EMPTY],
                                                              [0.5, EMPTY, EMPTY]]]
    assert update_stacks(stacks, act(2), value).tolist() == stacks.tolist()
    half = torch.tensor([[[0.5, 0.5, 0.0]] * 2], dtype=F64)
    torch.testing.assert_close(update_stacks(stacks, half, value),
                               (update_stacks(stacks, act(0), value)
                                + update_stacks(stacks, act(1), value)) / 2)


def test_stacks_start_empty():
    cell = StackCell(I, H, num_stacks=S, depth=DEPTH)
    h, stack = cell.init_state(3)
    assert h.shape == (3, H) and (h == 0).all()
    assert stack.shape == (3, S * DEPTH) and (stack == EMPTY).all()


def _pushing_cell(discrete):
    """A cell whose actions lean to PUSH (softmax ~0.73) and whose pushed value is ~0.73."""
    cell = StackCell(I, H, num_stacks=1, depth=3, k=1, discrete=discrete, dtype=F64)
    with torch.no_grad():
        cell.weight_action.zero_()
        cell.bias_action.copy_(torch.tensor([1.0, 0.0, 0.0]))
        cell.weight_push.zero_()
        cell.bias_push.fill_(1.0)
    return cell


def test_discrete_mode_rounds_actions_and_values_at_test_time():
    x = torch.randn(1, I, dtype=F64)
    cell = _pushing_cell("eval")
    _, (_, continuous) = cell.step(x)
    a_push = math.exp(1) / (math.exp(1) + 2)  # the rest goes to POP and NO-OP of EMPTY entries
    want = a_push * sigmoid(1.0) + (1 - a_push) * EMPTY
    torch.testing.assert_close(continuous[0, 0], torch.tensor(want, dtype=F64))
    cell.eval()
    _, (_, rounded) = cell.step(x)
    assert rounded.tolist() == [[1.0, EMPTY, EMPTY]]  # a pure PUSH of round(0.73) = 1
    never = _pushing_cell("never").eval()
    torch.testing.assert_close(never.step(x)[1][1], continuous, atol=0, rtol=0)
    always = _pushing_cell("always")
    assert always.step(x)[1][1].tolist() == [[1.0, EMPTY, EMPTY]]


def test_stack_rnn_with_lengths_equals_each_sequence_alone():
    torch.manual_seed(1)
    layer = StackRNN(I, H, num_stacks=S, depth=DEPTH, k=K, dtype=F64)
    x, lengths = torch.randn(5, 3, I, dtype=F64), torch.tensor([5, 2, 3])
    out, (h, stack) = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone, (h_b, stack_b) = layer(x[:n, b:b + 1])
        torch.testing.assert_close(out[:n, b:b + 1], alone, atol=1e-12, rtol=0)
        assert out[n:, b].abs().sum() == 0
        torch.testing.assert_close(h[b:b + 1], h_b, atol=1e-12, rtol=0)
        torch.testing.assert_close(stack[b:b + 1], stack_b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("hidden_recurrence", [True, False])
def test_stack_rnn_gradcheck(hidden_recurrence):
    torch.manual_seed(2)
    layer = StackRNN(2, 3, num_stacks=2, depth=3, k=2, hidden_recurrence=hidden_recurrence,
                     dtype=F64)
    params = dict(layer.named_parameters())
    x = torch.randn(4, 2, 2, dtype=F64, requires_grad=True)
    lengths = torch.tensor([4, 2])

    def f(x, *values):
        out, (h, stack) = torch.func.functional_call(layer, dict(zip(params, values)), (x,),
                                                     {"lengths": lengths})
        return out.pow(2).sum() + (stack * stack.sin()).sum()

    assert torch.autograd.gradcheck(f, (x, *params.values()))


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(k=5, depth=4), ValueError, r"k: expected at most depth=4 top entries, got 5"),
    (dict(num_stacks=0), ValueError, r"num_stacks: expected an int >= 1, got 0"),
    (dict(depth=2.5), TypeError, r"depth: expected an int, got float 2.5"),
    (dict(discrete=True), ValueError, r"discrete: expected one of 'never', 'eval', 'always'"),
])
def test_bad_options(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        StackRNN(I, H, **kwargs)


def test_bad_state():
    layer = StackRNN(I, H, num_stacks=S, depth=DEPTH)
    x = torch.randn(3, 2, I)
    with pytest.raises(ValueError, match=r"state\[stack\]: expected shape \(2, 8\), got \(2, 4\)"):
        layer(x, (torch.zeros(2, H), torch.zeros(2, DEPTH)))
    with pytest.raises(TypeError, match=r"state: expected a tuple of 2 tensors \('h', 'stack'\)"):
        layer(x, torch.zeros(2, H))

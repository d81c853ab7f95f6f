"""The generated tasks: shapes, the rule each target follows, and reproducibility."""

import pytest
import torch

from rnnkit.data import adding_problem, copy_task


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    x, y = adding_problem(8, 10, torch.Generator().manual_seed(0))
    assert x.shape == (10, 8, 2) and y.shape == (8,)
    assert torch.equal(x[..., 1].sum(0), torch.full((8,), 2.0))
    for b in range(8):
        marked = x[:, b, 1] == 1
        torch.testing.assert_close(y[b], x[marked, b, 0].sum())
    # one marked step in each half
    assert x[:5, :, 1].sum(0).eq(1).all() and x[5:, :, 1].sum(0).eq(1).all()


def test_adding_problem_needs_two_steps():
    with pytest.raises(ValueError, match="length: expected at least 2"):
        adding_problem(4, 1)


def test_copy_task_repeats_the_symbols_after_the_go_marker():
    length, delay, symbols = 4, 3, 5
    inputs, targets = copy_task(6, length, delay, symbols, torch.Generator().manual_seed(0))
    steps = 2 * length + delay
    assert inputs.shape == targets.shape == (steps, 6) and inputs.dtype == torch.int64
    shown = inputs[:length]
    assert ((1 <= shown) & (shown <= symbols)).all()
    assert inputs[length:length + delay - 1].eq(0).all()
    assert inputs[length + delay - 1].eq(symbols + 1).all()  # go
    assert inputs[length + delay:].eq(0).all()
    assert targets[:length + delay].eq(0).all()
    assert torch.equal(targets[length + delay:], shown)


def test_same_seed_same_data():
    def make(seed):
        return copy_task(3, 5, 2, generator=torch.Generator().manual_seed(seed))
    assert all(torch.equal(a, b) for a, b in zip(make(1), make(1)))
    assert not torch.equal(make(1)[0], make(2)[0])

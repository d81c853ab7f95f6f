"""The README's main job: the demo's data and a short run end to end."""

import torch

from rnnkit import demo


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    x, y = demo.adding_problem(8, 10, torch.Generator().manual_seed(0))
    assert x.shape == (10, 8, 2) and y.shape == (8,)
    assert torch.equal(x[..., 1].sum(0), torch.full((8,), 2.0))
    for b in range(8):
        marked = x[:, b, 1] == 1
        torch.testing.assert_close(y[b], x[marked, b, 0].sum())


def test_demo_runs_end_to_end(capsys):
    demo.main(["--steps", "2", "--length", "6"])
    out = capsys.readouterr().out
    for name in demo.CONTESTANTS:
        assert name in out

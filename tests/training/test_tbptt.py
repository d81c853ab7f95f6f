"""Truncated BPTT: the windows, the carried and detached state, and Williams & Peng's k1/k2
gradient against a hand computation."""

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.tasks import Batch
from rnnkit.models.network import ModelConfig
from rnnkit.models.language_model import LanguageModel
from rnnkit.training import tbptt


@pytest.mark.parametrize("length, k1, k2", [(10, 3, 3), (10, 3, 5), (10, 2, 7), (3, 5, 5),
                                            (12, 4, 4), (11, 1, 3)])
def test_windows_cover_every_output_once_and_reach_back_k2_steps(length, k1, k2):
    windows = tbptt.windows(length, k1, k2)
    assert [w.loss_from for w in windows] == list(range(0, length, k1))
    assert [w.end for w in windows] == [min(t + k1, length) for t in range(0, length, k1)]
    for w, following in zip(windows, windows[1:] + [None]):
        assert w.start == max(0, w.loss_from - (k2 - k1))  # k2 steps back from a full end
        assert w.start <= w.carry <= w.end
        if following is not None:
            assert following.start == w.carry  # the carried state starts the next window


class LinearRNN(nn.Module):
    """h_t = w h_{t-1} + x_t, output h_t: small enough to differentiate by hand."""

    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))

    def forward(self, x, state=None):
        h = torch.zeros(x.shape[1], dtype=torch.float64) if state is None else state
        outputs = []
        for x_t in x:
            h = self.w * h + x_t
            outputs.append(h)
        return torch.stack(outputs), h


class MeanOutput:
    """A task whose loss is the mean of the outputs."""

    def loss(self, outputs, targets):
        return outputs.mean(), {"n": outputs.numel()}


def hand_gradients(x: np.ndarray, w: float, k1: int, k2: int) -> list[float]:
    """dL/dw of each window, where the state entering the window is a constant:
    h_t = w^(t-s+1) c + sum_{j=s..t} w^(t-j) x_j for a window starting at s with state c, so
    dh_t/dw = (t-s+1) w^(t-s) c + sum_{j=s..t} (t-j) w^(t-j-1) x_j."""
    T, B = x.shape
    h = np.zeros((T, B))  # the true forward values
    for t in range(T):
        h[t] = w * (h[t - 1] if t else 0.0) + x[t]
    grads = []
    for window in tbptt.windows(T, k1, k2):
        s = window.start
        c = h[s - 1] if s else np.zeros(B)
        total = 0.0
        for t in range(window.loss_from, window.end):
            dh = (t - s + 1) * w ** (t - s) * c
            dh = dh + sum((t - j) * w ** (t - j - 1) * x[j] for j in range(s, t))
            total += dh.sum()
        grads.append(total / ((window.end - window.loss_from) * B))
    return grads


@pytest.mark.parametrize("k1, k2", [(2, 2), (2, 5), (3, 4)])
def test_k1_k2_gradient_equals_the_hand_computation(k1, k2):
    x = np.random.default_rng(0).normal(size=(9, 2))
    model, w = LinearRNN(0.8), 0.8
    stream = Batch(torch.from_numpy(x), torch.zeros(9, 2), 18, target_dim=1)
    state, grads = None, []
    for window in tbptt.windows(9, k1, k2):
        loss, _, state = tbptt.run_window(MeanOutput(), model, stream, window, state)
        model.zero_grad()
        loss.backward()
        grads.append(model.w.grad.item())
    np.testing.assert_allclose(grads, hand_gradients(x, w, k1, k2), rtol=1e-12)


def test_the_carried_state_is_detached_and_is_the_state_after_the_carry_step():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm", hidden_size=5, embedding_size=3), vocab_size=4)
    x = torch.randint(4, (12, 2))
    stream = Batch(x, torch.randint(4, (12, 2)), 24, target_dim=1)
    window = tbptt.windows(12, 4, 6)[1]  # start 2, carry 6, loss 4..8
    _, expected = model(x[:window.carry])
    _, state_in = model(x[:window.start])
    _, _, carried = tbptt.run_window(FakeLM(), model, stream, window, tbptt.detach(state_in))
    assert all(not s.requires_grad for s in carried)
    for got, want in zip(carried, expected):
        torch.testing.assert_close(got, want)


class FakeLM:
    def loss(self, outputs, targets):
        return nn.functional.cross_entropy(outputs.reshape(-1, 4), targets.reshape(-1)), {}

"""The [optim] section: SGD with momentum, Adam, AdamW, and L2 weight decay."""

import pytest
import torch
from torch import nn

from rnnkit.training.config import OptimConfig
from rnnkit.training.trainer import build_optimizer


@pytest.mark.parametrize("cfg, kind, settings", [
    (OptimConfig(name="sgd", lr=0.5, momentum=0.9, nesterov=True, weight_decay=1e-4),
     torch.optim.SGD, {"lr": 0.5, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    (OptimConfig(name="adam", lr=0.01, weight_decay=1e-5), torch.optim.Adam,
     {"lr": 0.01, "weight_decay": 1e-5}),
    (OptimConfig(name="adamw", lr=0.01, weight_decay=0.1), torch.optim.AdamW,
     {"lr": 0.01, "weight_decay": 0.1}),
])
def test_each_optimiser_gets_its_settings(cfg, kind, settings):
    optimizer = build_optimizer(cfg, nn.Linear(2, 2))
    assert type(optimizer) is kind
    assert {k: optimizer.param_groups[0][k] for k in settings} == settings


def test_l2_weight_decay_shrinks_weights_without_a_gradient_from_the_loss():
    layer = nn.Linear(2, 2, bias=False)
    before = layer.weight.detach().clone()
    optimizer = build_optimizer(OptimConfig(name="sgd", lr=0.1, weight_decay=0.5), layer)
    layer.weight.grad = torch.zeros_like(layer.weight)
    optimizer.step()
    torch.testing.assert_close(layer.weight.detach(), before * (1 - 0.1 * 0.5))

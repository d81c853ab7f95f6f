"""The [optim] section: SGD with momentum, Adam, AdamW, L2 weight decay, the fused update."""

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError
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


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_the_fused_update_is_the_same_algorithm(name):
    """Three steps of torch's fused kernel and of its per-tensor loop, from the same weights
    and gradients: the same weights to float32 rounding."""
    layers = [nn.Linear(5, 3), nn.Linear(5, 3)]
    layers[1].load_state_dict(layers[0].state_dict())
    start = layers[0].weight.detach().clone()
    optimizers = [build_optimizer(OptimConfig(name=name, lr=0.01, weight_decay=0.1, fused=fused),
                                  layer) for fused, layer in zip((False, True), layers)]
    assert optimizers[1].param_groups[0]["fused"] and not optimizers[0].param_groups[0]["fused"]
    for step in range(3):
        gradients = torch.randn(3, 5, generator=torch.Generator().manual_seed(step))
        for layer, optimizer in zip(layers, optimizers):
            layer.weight.grad, layer.bias.grad = gradients.clone(), gradients[:, 0].clone()
            optimizer.step()
    for a, b in zip(layers[0].parameters(), layers[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert not torch.allclose(layers[0].weight, start)  # the steps did move the weights


def test_fused_sgd_is_refused():
    with pytest.raises(ConfigError, match="optim.fused.*sgd"):
        build_optimizer(OptimConfig(name="sgd", lr=0.1, fused=True), nn.Linear(2, 2))

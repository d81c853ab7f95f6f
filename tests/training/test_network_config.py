"""The [model] section builds any rnnkit cell as a network; its errors are config errors."""

import pytest
import torch

from rnnkit import engines
from rnnkit.errors import ConfigError
from rnnkit.models.network import CELLS, ModelConfig, build_network


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_builds_a_deep_bidirectional_network(cell):
    cfg = ModelConfig(cell=cell, hidden_size=6, num_layers=2, bidirectional=True, dropout=0.1,
                      recurrent_dropout=0.1)
    network = build_network(cfg, input_size=3)
    with engines.use("loop"):  # the fused engine would compile first
        out, _ = network(torch.randn(4, 2, 3))
    assert out.shape == (4, 2, 12)


@pytest.mark.parametrize("options, cell_check", [
    ({"cell": "lstm", "spec": "NIAF+NOAF"}, lambda c: not c.spec.input_activation),
    ({"cell": "lstm", "spec": "vanilla", "proj_size": 3}, lambda c: c.spec.peepholes
     and c.proj_size == 3),
    ({"cell": "gru", "reset_after": False}, lambda c: not c.spec.reset_after),
    ({"cell": "elman", "nonlinearity": "relu"}, lambda c: c.nonlinearity == "relu"),
    ({"cell": "mut2"}, lambda c: c.kind == "MUT2" and c.input_proj),
])
def test_cell_options_reach_the_cell(options, cell_check):
    network = build_network(ModelConfig(hidden_size=6, **options), input_size=3)
    assert cell_check(network.cells[0][0])


def test_a_bad_cell_option_is_a_config_error_naming_the_argument():
    with pytest.raises(ConfigError, match="model: spec: expected an LSTM variant name"):
        build_network(ModelConfig(spec="NOPE"), input_size=3)


def test_the_regressor_reads_each_sequence_at_its_own_last_step():
    from rnnkit.models.regressor import SequenceRegressor
    torch.manual_seed(0)
    model = SequenceRegressor(ModelConfig(hidden_size=4), input_size=2)
    x = torch.randn(5, 2, 2)
    y, _ = model(x, lengths=torch.tensor([5, 3]))
    torch.testing.assert_close(y, torch.stack([model(x[:, :1])[0][0],
                                               model(x[:3, 1:])[0][0]]))

"""Dropout on non-recurrent connections, variational masks, recurrent dropout, weight drop."""

import pytest
import torch

import rnnkit
from rnnkit.layers import Recurrent, SequenceDropout

T, B, F = 20, 4, 50


def test_variational_mask_is_shared_by_all_time_steps():
    torch.manual_seed(0)
    drop = SequenceDropout(0.5, variational=True)
    out = drop(torch.ones(T, B, F))
    assert torch.equal(out, out[:1].expand_as(out))  # the same mask at every step
    assert set(out.unique().tolist()) == {0.0, 2.0}  # kept units scaled by 1/(1-p)
    assert 0.3 < (out[0] == 0).float().mean() < 0.7


def test_standard_dropout_draws_a_mask_per_step_and_eval_is_identity():
    torch.manual_seed(0)
    drop = SequenceDropout(0.5)
    out = drop(torch.ones(T, B, F))
    assert not torch.equal(out[0], out[1])
    x = torch.randn(T, B, F)
    assert torch.equal(drop.eval()(x), x)


@pytest.mark.parametrize("option", ["dropout", "input_dropout", "output_dropout",
                                    "recurrent_dropout", "weight_drop"])
def test_every_dropout_acts_in_training_only(option):
    torch.manual_seed(1)
    lstm = rnnkit.LSTM(6, 8, num_layers=2, **{option: 0.5})
    plain = rnnkit.LSTM(6, 8, num_layers=2)
    plain.load_state_dict(lstm.state_dict())
    x = torch.randn(5, 3, 6)
    assert not torch.allclose(lstm.train()(x)[0], plain(x)[0])
    torch.testing.assert_close(lstm.eval()(x)[0], plain(x)[0])


def test_recurrent_dropout_uses_one_mask_and_leaves_final_state_undropped():
    """With a recurrent mask m, every step sees m * h_{t-1}: equal to a manual loop."""
    torch.manual_seed(2)
    cell = rnnkit.ElmanCell(3, 5, dtype=torch.float64)
    layer = Recurrent(cell, recurrent_dropout=0.5).train()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    torch.manual_seed(3)
    out, (h_final,) = layer(x)
    torch.manual_seed(3)
    mask = torch.empty(2, 5, dtype=torch.float64).bernoulli_(0.5) / 0.5
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in range(6):
        h = torch.tanh(x[t] @ cell.weight_ih.T + cell.bias_ih + (h * mask) @ cell.weight_hh.T
                       + cell.bias_hh)
        torch.testing.assert_close(out[t], h)
    torch.testing.assert_close(h_final, h)


def test_weight_drop_uses_one_mask_per_sequence_and_keeps_the_parameter():
    torch.manual_seed(4)
    cell = rnnkit.ElmanCell(3, 5, dtype=torch.float64)
    layer = Recurrent(cell, weight_drop=0.5).train()
    before = cell.weight_hh.detach().clone()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    torch.manual_seed(5)
    out, _ = layer(x)
    torch.manual_seed(5)
    dropped = torch.nn.functional.dropout(cell.weight_hh, 0.5, training=True)
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in range(6):
        h = torch.tanh(x[t] @ cell.weight_ih.T + cell.bias_ih + h @ dropped.T + cell.bias_hh)
        torch.testing.assert_close(out[t], h)
    assert torch.equal(cell.weight_hh, before)


def test_variational_option_of_the_drop_in():
    torch.manual_seed(6)
    gru = rnnkit.GRU(4, 4, input_dropout=0.5, variational=True).train()
    seen = []
    gru.stack.input_dropout.register_forward_hook(lambda m, i, o: seen.append(o))
    gru(torch.ones(T, 2, 4))
    dropped = seen[0] == 0
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))
    assert dropped.any()


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_recurrent_dropout_masks_the_products_not_the_carried_state(reset_after):
    """Gal & Ghahramani's GRU: m * h_{t-1} enters the recurrent products; z keeps h_{t-1}."""
    torch.manual_seed(7)
    cell = rnnkit.GRUCell(3, 5, spec=rnnkit.GRUSpec(reset_after), dtype=torch.float64)
    layer = Recurrent(cell, recurrent_dropout=0.5).train()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    torch.manual_seed(8)
    out, _ = layer(x)
    torch.manual_seed(8)
    mask = torch.empty(2, 5, dtype=torch.float64).bernoulli_(0.5) / 0.5
    W_i, W_h, b_i, b_h = (p.split(5) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                                cell.bias_hh))
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in range(6):
        hm = h * mask
        r = torch.sigmoid(x[t] @ W_i[0].T + b_i[0] + hm @ W_h[0].T + b_h[0])
        z = torch.sigmoid(x[t] @ W_i[1].T + b_i[1] + hm @ W_h[1].T + b_h[1])
        if reset_after:
            n = torch.tanh(x[t] @ W_i[2].T + b_i[2] + r * (hm @ W_h[2].T + b_h[2]))
        else:
            n = torch.tanh(x[t] @ W_i[2].T + b_i[2] + (r * hm) @ W_h[2].T + b_h[2])
        h = (1 - z) * n + z * h
        torch.testing.assert_close(out[t], h)

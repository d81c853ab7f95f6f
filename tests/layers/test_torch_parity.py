"""The drop-ins equal torch.nn.RNN/LSTM/GRU: outputs, final states and gradients, float64."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit

TOL = dict(atol=1e-6, rtol=0)  # the bar; in practice the difference is ~1e-16
I, H, B, T = 5, 6, 3, 7


def pair(kind, **kw):
    """A torch module and an rnnkit drop-in with the same weights, both float64."""
    torch_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN,
                 "rnn_relu": torch.nn.RNN}[kind]
    ours_cls = {"lstm": rnnkit.LSTM, "gru": rnnkit.GRU, "rnn_tanh": rnnkit.RNN,
                "rnn_relu": rnnkit.RNN}[kind]
    if kind.startswith("rnn"):
        kw["nonlinearity"] = kind[4:]
    theirs = torch_cls(I, H, dtype=torch.float64, **kw)
    ours = ours_cls(I, H, dtype=torch.float64, **kw)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def initial_state(kind, module, batch):
    rows = module.num_layers * (2 if module.bidirectional else 1)
    h_size = getattr(module, "proj_size", 0) or H
    h0 = torch.randn(rows, batch, h_size, dtype=torch.float64)
    return (h0, torch.randn(rows, batch, H, dtype=torch.float64)) if kind == "lstm" else h0


def flat(value):
    """Every tensor in a (nested) output, flattened into one vector."""
    if isinstance(value, torch.nn.utils.rnn.PackedSequence):
        return value.data.reshape(-1)
    if isinstance(value, torch.Tensor):
        return value.reshape(-1)
    return torch.cat([flat(v) for v in value])


def compare(theirs, ours, make_input, hx):
    """Run both on the same input and state; compare values and every gradient.
    make_input() -> (what the module takes, the leaf tensor whose gradient is compared)."""
    results = []
    for module in (theirs, ours):
        x, leaf = make_input()
        state = None if hx is None else tuple(h.clone().requires_grad_() for h in flat_states(hx))
        single = state is not None and not isinstance(hx, tuple)
        out = module(x, state[0] if single else state)
        results.append((leaf, state, out))
    (leaf_t, s_t, out_t), (leaf_o, s_o, out_o) = results
    torch.testing.assert_close(flat(out_o), flat(out_t), **TOL)
    if isinstance(out_t[0], torch.nn.utils.rnn.PackedSequence):
        assert torch.equal(out_o[0].batch_sizes, out_t[0].batch_sizes)
    weights = torch.randn_like(flat(out_t))
    (flat(out_t) @ weights).backward()
    (flat(out_o) @ weights).backward()
    torch.testing.assert_close(leaf_o.grad, leaf_t.grad, **TOL)
    for a, b in zip(s_o or (), s_t or ()):
        torch.testing.assert_close(a.grad, b.grad, **TOL)
    ours_params = ours.state_dict(keep_vars=True)
    for name, p in theirs.named_parameters():
        torch.testing.assert_close(ours_params[name].grad, p.grad, **TOL, msg=name)


def flat_states(s):
    return s if isinstance(s, tuple) else (s,)


def leaf_input(x):
    def make():
        leaf = x.clone().requires_grad_()
        return leaf, leaf
    return make


CONFIGS = [dict(num_layers=n, bidirectional=bi) for n, bi in itertools.product((1, 2), (False, True))]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"L{c['num_layers']}-bi{int(c['bidirectional'])}")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_padded_input_matches_torch(kind, config, batch_first, with_state):
    torch.manual_seed(0)
    theirs, ours = pair(kind, batch_first=batch_first, **config)
    shape = (B, T, I) if batch_first else (T, B, I)
    x = torch.randn(*shape, dtype=torch.float64)
    hx = initial_state(kind, theirs, B) if with_state else None
    compare(theirs, ours, leaf_input(x), hx)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"L{c['num_layers']}-bi{int(c['bidirectional'])}")
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_input_matches_torch(kind, config, enforce_sorted):
    torch.manual_seed(1)
    theirs, ours = pair(kind, **config)
    lengths = torch.tensor([7, 5, 5, 2]) if enforce_sorted else torch.tensor([5, 7, 2, 5])
    x = torch.randn(T, 4, I, dtype=torch.float64)

    def make_input():
        leaf = x.clone().requires_grad_()
        return pack_padded_sequence(leaf, lengths, enforce_sorted=enforce_sorted), leaf

    compare(theirs, ours, make_input, initial_state(kind, theirs, 4))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"L{c['num_layers']}-bi{int(c['bidirectional'])}")
def test_lstm_proj_size_matches_torch(config):
    torch.manual_seed(2)
    theirs, ours = pair("lstm", proj_size=3, **config)
    x = torch.randn(T, B, I, dtype=torch.float64)
    compare(theirs, ours, leaf_input(x), initial_state("lstm", theirs, B))


def test_lengths_equal_packed_torch():
    """Our `lengths` extension on padded input gives torch's packed result, padding zeroed."""
    torch.manual_seed(3)
    theirs, ours = pair("lstm", num_layers=2, bidirectional=True, batch_first=True)
    lengths = torch.tensor([4, 7, 1])
    x = torch.randn(3, T, I, dtype=torch.float64)
    packed_out, (h_t, c_t) = theirs(pack_padded_sequence(x, lengths, batch_first=True,
                                                         enforce_sorted=False))
    padded_t, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True,
                                                         total_length=T)
    out, (h_o, c_o) = ours(x, lengths=lengths)
    torch.testing.assert_close(out, padded_t, **TOL)
    torch.testing.assert_close(h_o, h_t, **TOL)
    torch.testing.assert_close(c_o, c_t, **TOL)
    assert out[2, 1:].abs().max() == 0 and out[0, 4:].abs().max() == 0


def test_unbatched_input_matches_torch():
    torch.manual_seed(4)
    theirs, ours = pair("gru", num_layers=2, bidirectional=True)
    x = torch.randn(T, I, dtype=torch.float64)
    h0 = torch.randn(4, H, dtype=torch.float64)
    out_t, h_t = theirs(x, h0)
    out_o, h_o = ours(x, h0)
    assert out_o.shape == out_t.shape and h_o.shape == h_t.shape
    torch.testing.assert_close(out_o, out_t, **TOL)
    torch.testing.assert_close(h_o, h_t, **TOL)


def test_state_dict_round_trip_and_torch_attribute_names():
    theirs, ours = pair("lstm", num_layers=2, bidirectional=True, proj_size=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    back = torch.nn.LSTM(I, H, 2, bidirectional=True, proj_size=2, dtype=torch.float64)
    back.load_state_dict(ours.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[name], value)
        assert torch.equal(getattr(ours, name), value)
    assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == \
        [[tuple(p.shape) for p in layer] for layer in theirs.all_weights]


def test_constructor_takes_torchs_positional_arguments():
    lstm = rnnkit.LSTM(I, H, 2, False, True, 0.0, True, 3)  # bias, batch_first, dropout, bi, proj
    assert (lstm.num_layers, lstm.batch_first, lstm.bidirectional, lstm.proj_size) == (2, True, True, 3)
    assert "bias_ih_l0" not in lstm.state_dict()
    rnn = rnnkit.RNN(I, H, 1, "relu")
    assert rnn.cells[0][0].nonlinearity == "relu"


def test_whole_network_goes_to_one_kernel_call_only_when_exact(engine):
    """One call of torch's kernel replaces the layers only where it computes the same thing."""
    exact = engine == "auto"
    assert rnnkit.LSTM(I, H, 2, bidirectional=True, dropout=0.3)._whole_stack_is_native() == exact
    assert rnnkit.GRU(I, H, 2, dropout=0.3, variational=True).eval()._whole_stack_is_native() == exact
    assert not rnnkit.GRU(I, H, 2, dropout=0.3, variational=True)._whole_stack_is_native()
    assert not rnnkit.LSTM(I, H, recurrent_dropout=0.2)._whole_stack_is_native()
    assert not rnnkit.LSTM(I, H, spec="CIFG")._whole_stack_is_native()
    assert not rnnkit.LSTM(I, H, bidirectional=True, merge="sum")._whole_stack_is_native()

"""What code written for torch.nn.LSTM/GRU/RNN does to a module works on rnnkit's drop-ins, for
torch's cells and for variants: the parameters are registered under torch's names, so
reparametrising, tying, deleting, replacing and functional_call act on what forward uses; the
attributes of torch.nn.RNNBase; dropout as torch takes it; proj_size; the error types; to_torch
and dynamic quantisation."""

import copy
import pickle
import re
import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrizations, parametrize

import rnnkit

I, H, B, T = 4, 5, 3, 6
DT = torch.float64

MODELS = {
    "lstm": lambda **kw: rnnkit.LSTM(I, H, 2, bidirectional=True, dtype=DT, **kw),
    "cifg": lambda **kw: rnnkit.LSTM(I, H, 2, bidirectional=True, spec="CIFG", dtype=DT, **kw),
    "peephole": lambda **kw: rnnkit.LSTM(I, H, 2, spec="VANILLA", dtype=DT, **kw),
    "gru-cho": lambda **kw: rnnkit.GRU(I, H, 2, reset_after=False, dtype=DT, **kw),
    "rnn": lambda **kw: rnnkit.RNN(I, H, 2, nonlinearity="relu", dtype=DT, **kw),
}
TORCH_TWINS = {  # what torch builds for the same arguments, where torch has the cell
    "lstm": lambda: nn.LSTM(I, H, 2, bidirectional=True, dtype=DT),
    "rnn": lambda: nn.RNN(I, H, 2, nonlinearity="relu", dtype=DT),
}


@pytest.fixture(params=list(MODELS))
def name(request):
    return request.param


def x_in():
    return torch.randn(T, B, I, dtype=DT)


def output(module, x):
    return module(x)[0]


def with_weights(module, **weights):
    """A copy of `module` whose named weights hold these values: what forward should compute."""
    twin = copy.deepcopy(module)
    with torch.no_grad():
        for weight_name, value in weights.items():
            getattr(twin, weight_name).copy_(value)
    return twin


# --- names and attributes ------------------------------------------------------------------------

def test_parameters_are_registered_under_torchs_names_in_torchs_order():
    ours = rnnkit.LSTM(I, H, 2, bidirectional=True, proj_size=2)
    theirs = nn.LSTM(I, H, 2, bidirectional=True, proj_size=2)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert ours._all_weights == theirs._all_weights
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for got, want in zip(ours._flat_weights, theirs._flat_weights):
        assert got.shape == want.shape
    assert all(p is getattr(ours, n) for n, p in ours.named_parameters())


def test_a_variants_extra_weights_follow_torchs_naming():
    peephole = rnnkit.LSTM(I, H, 2, spec="VANILLA")
    assert [n for n, _ in peephole.named_parameters()] == [
        f"{w}_l{l}" for l in (0, 1)
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ch")]
    fgr = rnnkit.LSTM(I, H, bidirectional=True, spec="FGR", proj_size=2)
    assert "weight_gg_l0_reverse" in fgr._flat_weights_names
    assert fgr._flat_weights_names[-1] == "weight_hr_l0_reverse"
    assert fgr.weight_ch_l0.shape == (3, H)


def test_rnnbase_attributes(name):
    module = MODELS[name]()
    module.flatten_parameters()  # a no-op, as on the CPU in torch
    assert module.bias is True and module.hidden_size == H and module.num_layers == 2
    assert module.dropout == 0.0
    assert module.mode == {"lstm": "LSTM", "cifg": "LSTM", "peephole": "LSTM", "gru-cho": "GRU",
                           "rnn": "RNN_RELU"}[name]
    assert module.proj_size == 0
    assert [[id(p) for p in layer] for layer in module.all_weights] == \
        [[id(getattr(module, n)) for n in names] for names in module._all_weights]
    assert not MODELS[name](bias=False).bias


@pytest.mark.parametrize("twin", list(TORCH_TWINS))
def test_attributes_equal_torchs(twin):
    ours, theirs = MODELS[twin](), TORCH_TWINS[twin]()
    for attribute in ("mode", "bias", "hidden_size", "proj_size", "num_layers", "dropout",
                      "bidirectional", "batch_first", "input_size", "_flat_weights_names",
                      "_all_weights"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute


def test_not_an_instance_of_torchs_class_and_to_torch():
    """A variant is not torch.nn.LSTM's math, so the drop-in does not claim torch's class;
    to_torch gives torch's module where one computes the same thing, and refuses otherwise."""
    ours = rnnkit.LSTM(I, H, 2, bidirectional=True, proj_size=2, dtype=DT)
    assert not isinstance(ours, nn.LSTM)
    theirs = ours.to_torch()
    assert type(theirs) is nn.LSTM and theirs.proj_size == 2 and theirs.weight_ih_l0.dtype == DT
    x = x_in()
    torch.testing.assert_close(output(theirs, x), output(ours, x), atol=1e-12, rtol=0)
    assert type(rnnkit.RNN(I, H, nonlinearity="relu").to_torch()) is nn.RNN
    with pytest.raises(ValueError, match=r"to_torch: torch.nn has no module computing "
                                         r"LSTMCell\(spec='CIFG'\)"):
        rnnkit.LSTM(I, H, spec="CIFG").to_torch()
    with pytest.raises(ValueError, match=r"GRUCell\(.*reset_after=False"):
        rnnkit.GRU(I, H, reset_after=False).to_torch()
    with pytest.raises(ValueError, match=r"torch.nn has no recurrent_dropout; "
                                         r"got recurrent_dropout=0.25"):
        rnnkit.LSTM(I, H, recurrent_dropout=0.25).to_torch()


def test_quantize_dynamic_quantizes_torchs_lstm_and_names_a_variant_it_cannot():
    quantize = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice
        model = nn.Sequential(rnnkit.LSTM(I, H))
        quantized = quantize(model, {rnnkit.LSTM}, dtype=torch.qint8)
        assert type(quantized[0]) is torch.ao.nn.quantized.dynamic.LSTM
        x = torch.randn(T, B, I)
        torch.testing.assert_close(output(quantized[0], x), output(model[0], x), atol=0.05, rtol=0)
        assert type(quantize(nn.Sequential(rnnkit.GRU(I, H)), {rnnkit.GRU})[0]) is \
            torch.ao.nn.quantized.dynamic.GRU
        with pytest.raises(ValueError, match=r"cannot quantize rnnkit.LSTM: .*spec='CIFG'"):
            quantize(nn.Sequential(rnnkit.LSTM(I, H, spec="CIFG")), {rnnkit.LSTM})
        with pytest.raises(ValueError, match=r"cannot quantize rnnkit.RNN: torch has quantized "
                                             r"LSTM and GRU layers only"):
            quantize(nn.Sequential(rnnkit.RNN(I, H)), {rnnkit.RNN})


# --- reparametrising, replacing, tying ------------------------------------------------------------

def test_old_weight_norm_acts_on_forward(name):
    module = MODELS[name]()
    plain = copy.deepcopy(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.nn.utils.weight_norm is deprecated
        nn.utils.weight_norm(module, "weight_hh_l0")
    assert "weight_hh_l0_g" in dict(module.named_parameters())
    with torch.no_grad():
        module.weight_hh_l0_g.mul_(2.0)  # doubles every row of the weight
    x = x_in()
    out = output(module, x)
    torch.testing.assert_close(out, output(with_weights(plain, weight_hh_l0=2 * plain.weight_hh_l0), x))
    out.sum().backward()
    assert module.weight_hh_l0_g.grad.abs().sum() > 0 and module.weight_hh_l0_v.grad is not None


def test_parametrized_weight_norm_acts_on_forward(name):
    module = MODELS[name]()
    plain = copy.deepcopy(module)
    parametrizations.weight_norm(module, "weight_ih_l1")
    with torch.no_grad():
        module.parametrizations.weight_ih_l1.original0.mul_(0.5)
    x = x_in()
    torch.testing.assert_close(output(module, x),
                               output(with_weights(plain, weight_ih_l1=plain.weight_ih_l1 / 2), x))
    output(module, x).sum().backward()
    assert module.parametrizations.weight_ih_l1.original1.grad.abs().sum() > 0


def test_orthogonal_parametrization_acts_on_forward():
    module = rnnkit.RNN(I, H, dtype=DT)
    plain = copy.deepcopy(module)
    parametrizations.orthogonal(module, "weight_hh_l0")
    w = module.weight_hh_l0
    torch.testing.assert_close(w @ w.T, torch.eye(H, dtype=DT))
    x = x_in()
    torch.testing.assert_close(output(module, x), output(with_weights(plain, weight_hh_l0=w), x))


def test_a_custom_parametrization_and_its_removal(name):
    class Scaled(nn.Module):
        def forward(self, w):
            return 3.0 * w

    module = MODELS[name]()
    plain = copy.deepcopy(module)
    parametrize.register_parametrization(module, "weight_hh_l1", Scaled())
    x = x_in()
    torch.testing.assert_close(output(module, x),
                               output(with_weights(plain, weight_hh_l1=3 * plain.weight_hh_l1), x))
    parametrize.remove_parametrizations(module, "weight_hh_l1")  # keeps 3 w as the parameter
    assert isinstance(module.weight_hh_l1, nn.Parameter)
    torch.testing.assert_close(module.weight_hh_l1, 3 * plain.weight_hh_l1)


def test_assigning_a_new_parameter(name):
    module = MODELS[name]()
    new = nn.Parameter(torch.zeros_like(module.weight_hh_l0))
    module.weight_hh_l0 = new
    assert dict(module.named_parameters())["weight_hh_l0"] is new
    x = x_in()
    out = output(module, x)
    plain = MODELS[name]()
    plain.load_state_dict(module.state_dict())
    torch.testing.assert_close(out, output(plain, x))
    out.sum().backward()
    assert new.grad is not None and new.grad.abs().sum() > 0


def test_deleting_a_weight_and_setting_a_plain_tensor(name):
    module = MODELS[name]()
    plain = copy.deepcopy(module)
    replacement = (0.5 * module.weight_hh_l0.detach()).requires_grad_()
    del module.weight_hh_l0
    assert "weight_hh_l0" not in dict(module.named_parameters())
    module.weight_hh_l0 = replacement
    x = x_in()
    out = output(module, x)
    torch.testing.assert_close(out, output(with_weights(plain, weight_hh_l0=replacement), x))
    out.sum().backward()
    assert replacement.grad.abs().sum() > 0


def test_tying_two_weights(name):
    module = MODELS[name]()
    untied = copy.deepcopy(module)
    untied.weight_hh_l1 = nn.Parameter(untied.weight_hh_l0.detach().clone())
    module.weight_hh_l1 = module.weight_hh_l0  # (G*H, H) in both layers
    names = [n for n, _ in module.named_parameters()]
    assert "weight_hh_l0" in names and "weight_hh_l1" not in names  # deduplicated, as in torch
    x = x_in()
    torch.testing.assert_close(output(module, x), output(untied, x))
    output(module, x).sum().backward()
    output(untied, x).sum().backward()
    # The shared weight's gradient is the sum of what each use contributes.
    torch.testing.assert_close(module.weight_hh_l0.grad,
                               untied.weight_hh_l0.grad + untied.weight_hh_l1.grad)


def test_functional_call_with_torchs_names(name):
    module = MODELS[name]()
    w = torch.randn_like(module.weight_ih_l0)
    x = x_in()
    got = functional_call(module, {"weight_ih_l0": w}, (x,))[0]
    torch.testing.assert_close(got, output(with_weights(module, weight_ih_l0=w), x))
    assert not torch.equal(module.weight_ih_l0, w)  # the module itself is unchanged


def test_functional_call_matches_torch():
    ours = rnnkit.LSTM(I, H, 2, bidirectional=True, dtype=DT)
    theirs = nn.LSTM(I, H, 2, bidirectional=True, dtype=DT)
    params = {n: torch.randn_like(p) for n, p in theirs.named_parameters()}
    x = x_in()
    torch.testing.assert_close(functional_call(ours, params, (x,))[0],
                               functional_call(theirs, params, (x,))[0])


def test_a_named_parameters_loop_reaches_every_recurrent_weight(name):
    module = MODELS[name]()
    for param_name, p in module.named_parameters():
        if "weight_hh" in param_name:
            nn.init.zeros_(p)
        elif "bias" in param_name:
            nn.init.constant_(p, 0.1)
    for layer in module.cells:
        for cell in layer:
            assert not cell.weights()["weight_hh"].any()


def test_apply_and_reset_parameters(name):
    module = MODELS[name]()
    module.apply(lambda m: [nn.init.ones_(p) for p in m.parameters(recurse=False)])
    assert all(bool((p == 1).all()) for p in module.parameters())
    module.reset_parameters()
    assert all(not bool((p == 1).all()) for p in module.parameters())


def test_copies_and_pickles_are_independent(name):
    module = MODELS[name]()
    twin = copy.deepcopy(module)
    revived = pickle.loads(pickle.dumps(module))
    with torch.no_grad():
        twin.weight_ih_l0.zero_()
    x = x_in()
    assert not torch.equal(output(twin, x), output(module, x))
    torch.testing.assert_close(output(revived, x), output(module, x))


def test_moving_dtype_moves_what_the_cells_read(name):
    module = MODELS[name]().float()
    assert module.cells[0][0].weight_ih.dtype == torch.float32
    assert output(module, x_in().float()).dtype == torch.float32


# --- dropout and proj_size as torch takes them ----------------------------------------------------

def test_dropout_one_is_accepted_and_zeroes_what_reaches_the_next_layer(name):
    module = MODELS[name](dropout=1.0).train()
    x = x_in()
    layer_0 = module.stack.layers[0]
    _, finals = layer_0.run(x, None, None)
    # Layer 1 reads zeros: its output is what it computes from an all-zero input.
    zeros = torch.zeros(T, B, layer_0.output_size, dtype=DT)
    expected, _ = module.stack.layers[1].run(zeros, None, None)
    torch.testing.assert_close(output(module, x), expected)


def test_setting_dropout_takes_effect(name):
    module = MODELS[name]().train()
    x = x_in()
    before = output(module, x)
    torch.testing.assert_close(output(module, x), before)  # no dropout: deterministic
    module.dropout = 1.0
    assert module.dropout == 1.0
    assert not torch.allclose(output(module, x), before)
    module.dropout = 0
    torch.testing.assert_close(output(module, x), before)
    with pytest.raises(ValueError, match=r"dropout: expected a probability in \[0, 1\], got 1.5"):
        module.dropout = 1.5


def test_dropout_one_equals_torchs():
    ours = rnnkit.LSTM(I, H, 3, dropout=1.0, dtype=DT)
    theirs = nn.LSTM(I, H, 3, dropout=1.0, dtype=DT)
    ours.load_state_dict(theirs.state_dict())
    x = x_in()
    torch.testing.assert_close(output(ours.train(), x), output(theirs.train(), x))


def test_dropout_on_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        rnnkit.GRU(I, H, dropout=0.5)


def test_gru_and_rnn_take_proj_size_positionally_and_refuse_a_projection():
    gru = rnnkit.GRU(I, H, 1, True, False, 0.0, False, 0)  # ..., bidirectional, proj_size
    rnn = rnnkit.RNN(I, H, 1, "tanh", True, False, 0.0, False, 0)
    assert gru.proj_size == rnn.proj_size == 0
    for make in (lambda: rnnkit.GRU(I, H, proj_size=2), lambda: rnnkit.RNN(I, H, proj_size=2)):
        with pytest.raises(ValueError, match=r"proj_size: only LSTM has a projection"):
            make()
        with pytest.raises(ValueError):  # what torch raises for the same call
            nn.GRU(I, H, proj_size=2)


# --- error types that code written for torch catches -----------------------------------------------

def test_errors_are_what_torch_raises_and_still_name_the_argument():
    ours, theirs = rnnkit.LSTM(I, H), nn.LSTM(I, H)
    bad_calls = {
        "input": lambda m: m(torch.randn(T, B, I + 1)),
        "hx[0] (h_0)": lambda m: m(torch.randn(T, B, I), (torch.zeros(1, B + 1, H),
                                                           torch.zeros(1, B + 1, H))),
    }
    for argument, call in bad_calls.items():
        with pytest.raises(RuntimeError):
            call(theirs)
        with pytest.raises(RuntimeError, match=rf"^{re.escape(argument)}: expected") as info:
            call(ours)
        assert isinstance(info.value, ValueError)
    for call in (lambda m: m(torch.randn(T, B, I, 1)), lambda m: m(torch.randn(T, B, I).double())):
        with pytest.raises(ValueError):
            call(theirs)
        with pytest.raises(ValueError, match=r"^input: expected"):
            call(ours)


def test_batch_first_errors_show_the_shape_given():
    module = rnnkit.GRU(I, H, batch_first=True)
    with pytest.raises(rnnkit.ShapeError, match=rf"got shape \({B}, {T}, {I + 1}\)"):
        module(torch.randn(B, T, I + 1))


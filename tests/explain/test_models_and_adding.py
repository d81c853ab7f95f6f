"""Model specs for the command line, and the built-in comparison on the adding problem."""

import numpy as np
import pytest
import torch

from rnnkit import engines
from rnnkit.cells import ElmanCell, GRUCell, JordanCell, LSTMCell, MUTCell
from rnnkit.explain import adding, compare_on_adding_problem, models, plot_learning_curves
from rnnkit.tasks.adding import step_labels

from explain_helpers import is_png


@pytest.mark.parametrize("spec, cell_type, check", [
    ("lstm", LSTMCell, lambda c: c.hidden_size == 32 and c.spec.is_torch),
    ("LSTM:spec=CIFG, hidden_size=8", LSTMCell, lambda c: c.spec.coupled and c.hidden_size == 8),
    ("lstm:proj_size=2,hidden_size=4", LSTMCell, lambda c: c.output_size == 2),
    ("gru:reset_after=false", GRUCell, lambda c: not c.spec.reset_after),
    ("elman:nonlinearity=relu,recurrent_init=identity", ElmanCell,
     lambda c: c.nonlinearity == "relu" and torch.equal(c.weight_hh, torch.eye(32))),
    ("jordan:hidden_size=5", JordanCell, lambda c: c.output_size == 5),
    ("mut1:hidden_size=4", MUTCell, lambda c: c.kind == "MUT1" and c.input_proj),
    ("mut3", MUTCell, lambda c: c.kind == "MUT3" and not c.input_proj),
])
def test_specs_build_the_named_cells(spec, cell_type, check):
    network = models.build(spec, input_size=2)
    cell = network.cells[0][0]
    assert type(cell) is cell_type and check(cell)
    with engines.use("loop"):  # no C++ build for the cells without torch kernels
        out, _ = network(torch.randn(3, 2, 2))
    assert out.shape == (3, 2, cell.output_size)


def test_layers_are_stacked():
    network = models.build("gru:num_layers=3,hidden_size=4", input_size=2)
    assert len(network.cells) == 3


@pytest.mark.parametrize("spec, message", [
    ("cnn", r"model: expected one of 'lstm', 'gru'"),
    ("gru:spec=CIFG", r"model 'gru:spec=CIFG': expected KEY=VALUE with KEY one of hidden_size, "
                      r"num_layers, recurrent_init, reset_after \(for gru\), got 'spec=CIFG'"),
    ("lstm:hidden_size", r"expected KEY=VALUE"),
    ("lstm:hidden_size=big", r"model 'lstm:hidden_size=big': hidden_size: expected an integer, "
                             r"got 'big'"),
    ("gru:reset_after=maybe", r"reset_after: expected true or false, got 'maybe'"),
    ("lstm:hidden_size=0", r"model 'lstm:hidden_size=0': hidden_size: expected an int >= 1"),
    ("lstm:spec=XYZ", r"model 'lstm:spec=XYZ': spec: expected an LSTM variant name"),
])
def test_bad_specs_name_the_key(spec, message):
    with pytest.raises(ValueError, match=message):
        models.build(spec, input_size=2)


def test_the_comparison_measures_trains_and_measures_again(tmp_path):
    result = compare_on_adding_problem({"rnn": "elman:hidden_size=4", "lstm": "lstm:hidden_size=4"},
                                       length=6, steps=3, batch=4)
    assert list(result.at_init) == list(result.trained) == list(result.losses) == ["rnn", "lstm"]
    assert all(len(f.loss) == len(f.final) == 6 for f in result.at_init.values())
    assert all(curve.shape == (3,) and np.all(curve > 0) for curve in result.losses.values())
    assert list(result.stages()) == ["at initialisation", "after 3 training steps"]
    assert not np.allclose(result.at_init["lstm"].loss, result.trained["lstm"].loss)
    # the same seed gives the same numbers
    again = compare_on_adding_problem({"rnn": "elman:hidden_size=4"}, length=6, steps=3, batch=4)
    np.testing.assert_array_equal(again.losses["rnn"], result.losses["rnn"])
    untrained = compare_on_adding_problem({"gru": "gru:hidden_size=4"}, length=6, steps=0)
    assert untrained.trained == {} and list(untrained.stages()) == ["at initialisation"]
    plot_learning_curves(result.losses, tmp_path / "curves.png")
    assert is_png(tmp_path / "curves.png")


def test_a_layer_can_be_compared_and_tokens_mark_the_marked_steps():
    result = compare_on_adding_problem({"mine": models.build("elman", 2)},
                                       length=5, steps=0)
    assert result.models["mine"].layer.cells[0][0].hidden_size == 32
    x = torch.tensor([[[0.25, 0.0]], [[0.5, 1.0]]])
    assert step_labels(x) == ["0.25", "[0.50]"]
    with pytest.raises(ValueError, match="length: expected an int >= 1"):
        compare_on_adding_problem(length=0)

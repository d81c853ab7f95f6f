"""Gate activations of one sequence, their heat maps, and the HTML report."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.cells import GRUCell, LSTMCell
from rnnkit.explain import gate_activations, html_report, plot_gates, trace
from rnnkit.explain.gates import is_preactivation
from rnnkit.layers import Recurrent

from explain_helpers import DT, is_png, randn, randomize


def test_activations_of_a_layer_equal_the_trace_of_its_cell():
    cell = randomize(LSTMCell(2, 3, spec="vanilla", dtype=DT))
    x = randn(5, 1, 2)
    values = gate_activations(Recurrent(cell), x)
    steps = trace(cell, x[:, 0])
    assert list(values) == [k for k in steps[0] if k != "x"]
    for name, v in values.items():
        assert v.shape == (5, 3)
        np.testing.assert_allclose(v, np.stack([s[name] for s in steps]), rtol=1e-12)


def test_a_chosen_cell_and_the_batch_of_one():
    gru = rnnkit.GRU(2, 4, num_layers=2)
    values = gate_activations(gru, torch.randn(6, 1, 2), cell=gru.cells[1][0])
    assert set(values) == {"a_r", "r", "a_z", "z", "a_n", "n", "h"}
    assert values["z"].shape == (6, 4) and np.all((values["z"] > 0) & (values["z"] < 1))
    with pytest.raises(ValueError, match="x: expected one sequence \\(a batch of 1\\), got a "
                                         "batch of 2"):
        gate_activations(gru, torch.randn(6, 2, 2))


def test_heat_maps_are_written(tmp_path):
    values = gate_activations(Recurrent(LSTMCell(2, 3)), torch.randn(7, 1, 2))
    tokens = [f"w{t}" for t in range(7)]
    figure = plot_gates(values, tokens, tmp_path / "gates.png", title="an LSTM")
    assert is_png(tmp_path / "gates.png")
    shown = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()]
    assert shown == ["i", "f", "g", "c", "o", "h"]  # every value but the pre-activations
    bottom = next(ax for ax in figure.axes if ax.get_ylabel() == "h")
    assert [t.get_text() for t in bottom.get_xticklabels()] == tokens
    chosen = plot_gates(values, names=["f", "c"])
    assert [ax.get_ylabel() for ax in chosen.axes if ax.get_ylabel()] == ["f", "c"]
    with pytest.raises(ValueError, match=r"tokens: expected one per time step \(7\), got 2"):
        plot_gates(values, ["a", "b"])
    with pytest.raises(ValueError, match=r"names: expected one of the values .*got 'q'"):
        plot_gates(values, names=["q"])
    assert is_preactivation("a") and is_preactivation("a_i") and not is_preactivation("h")


def test_html_report_holds_the_tokens_and_the_images(tmp_path):
    values = gate_activations(Recurrent(GRUCell(2, 3)), torch.randn(3, 1, 2))
    figure = plot_gates(values)
    plot_gates(values, path=tmp_path / "saved.png")
    tokens = ["the", "<b>movie</b>", "rocks"]
    page = html_report(tokens, {"from a figure": figure, "from a file": tmp_path / "saved.png"},
                       tmp_path / "report.html", title="gates & tokens")
    text = page.read_text()
    assert "&lt;b&gt;movie&lt;/b&gt;" in text and ">the<" in text and ">rocks<" in text
    assert text.count("src='data:image/png;base64,iVBORw0KGgo") == 2
    assert "from a figure" in text and "gates &amp; tokens" in text

"""Weights as JSON: a template round-trips; every bad file names the key, expected and got."""

import json

import pytest
import torch

from rnnkit.cells import ElmanCell, LSTMCell
from rnnkit.explain import read_weights, set_weights, weights_template, write_weights

from explain_helpers import DT, randomize


def test_written_weights_read_back_exactly(tmp_path):
    source = randomize(LSTMCell(2, 3, spec="vanilla", proj_size=2, dtype=DT))
    write_weights(source, tmp_path / "w.json")
    target = LSTMCell(2, 3, spec="vanilla", proj_size=2, dtype=DT)
    read_weights(target, tmp_path / "w.json")
    for (name, a), b in zip(source.weights().items(), target.weights().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    text = (tmp_path / "w.json").read_text()
    rows = sum(len(p) for p in source.weights().values() if p.dim() == 2)
    assert sum(line.startswith("    [") for line in text.splitlines()) == rows  # a row a line
    assert set(json.loads(text)) == set(weights_template(source))


def elman_weights(**changes):
    weights = {"weight_ih": [[1.0, 2.0]], "weight_hh": [[0.5]], "bias_ih": [0.0],
               "bias_hh": [0.1]}
    weights.update(changes)
    return {k: v for k, v in weights.items() if v is not None}


@pytest.mark.parametrize("weights, message", [
    (elman_weights(weight_hh=None), r"w.json: missing 'weight_hh'; ElmanCell has weight_ih "
                                    r"\(1, 2\), weight_hh \(1, 1\)"),
    (elman_weights(extra=[1.0]), r"w.json: unexpected key 'extra'; ElmanCell has"),
    (elman_weights(weight_hh=[[1.0, 2.0]]), r"w.json: weight_hh: expected shape \(1, 1\), "
                                            r"got \(1, 2\)"),
    (elman_weights(bias_ih=0.5), r"w.json: bias_ih: expected shape \(1,\), got \(\)"),
    (elman_weights(weight_ih=[[1.0], [1.0, 2.0]]), r"w.json: weight_ih: expected numbers in "
                                                   r"nested lists of shape \(1, 2\)"),
    (elman_weights(weight_ih=[["a", "b"]]), r"w.json: weight_ih: expected numbers"),
    ([1, 2], r"w.json: expected a mapping of parameter names"),
])
def test_bad_weights_name_the_key_expected_and_got(tmp_path, weights, message):
    (tmp_path / "w.json").write_text(json.dumps(weights))
    cell = ElmanCell(2, 1, dtype=DT)
    before = {k: v.clone() for k, v in cell.weights().items()}
    with pytest.raises((ValueError, TypeError), match=message):
        read_weights(cell, tmp_path / "w.json")
    for name, value in cell.weights().items():  # nothing was half set
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)


def test_unreadable_files(tmp_path):
    cell = ElmanCell(2, 1, dtype=DT)
    with pytest.raises(ValueError, match=r"missing.json: cannot read the weights file"):
        read_weights(cell, tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text('{"weight_ih": [[1, 2]')
    with pytest.raises(ValueError, match=r"broken.json: not JSON"):
        read_weights(cell, tmp_path / "broken.json")


def test_set_weights_from_the_api():
    cell = ElmanCell(2, 1, dtype=DT)
    set_weights(cell, elman_weights())
    assert cell.weight_hh.item() == 0.5 and cell.bias_hh.item() == pytest.approx(0.1)

"""rnnkit explain from the command line: help, outputs, and errors on stderr with status 2."""

import numpy as np
import pytest

from rnnkit.cells import LSTMCell
from rnnkit.cli.main import main
from rnnkit.explain import trace, write_weights

from explain_helpers import DT, is_png, randomize


@pytest.mark.parametrize("command", [[], ["gradients"], ["gates"], ["trace"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["explain", *command, "--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: rnnkit explain")
    assert {"gradients": "--model", "gates": "--input", "trace": "--weights"}.get(
        (command or ["explain"])[0], "gradients") in text


def test_trace_from_a_weights_file(tmp_path, capsys):
    cell = randomize(LSTMCell(2, 2, spec="vanilla", dtype=DT))
    write_weights(cell, tmp_path / "w.json")
    code = main(["explain", "trace", "--cell", "lstm", "--spec", "vanilla", "--hidden-size", "2",
                 "--weights", str(tmp_path / "w.json"), "--input", "1,0.5;0,-1",
                 "--digits", "6", "--width", "1000", "--out", str(tmp_path / "out")])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    headers, rows = lines[0].split(), [line.split() for line in lines[2:]]
    steps = trace(cell, [[1.0, 0.5], [0.0, -1.0]])
    assert headers[:3] == ["t", "x[0]", "x[1]"] and len(rows) == 2
    for t, step in enumerate(steps):
        expected = np.concatenate(list(step.values()))
        np.testing.assert_allclose([float(v) for v in rows[t][1:]], expected, atol=1e-6)
    assert (tmp_path / "out" / "trace.csv").read_text().startswith("t,x[0],x[1],a_i[0]")


def test_trace_with_random_weights_and_a_template(tmp_path, capsys):
    code = main(["explain", "trace", "--cell", "gru", "--reset-before", "--hidden-size", "3",
                 "--input-size", "1", "--init", "3", "--dump-weights", str(tmp_path / "w.json")])
    assert code == 0 and (tmp_path / "w.json").exists()
    assert capsys.readouterr().out == ""  # no --input: only the template
    code = main(["explain", "trace", "--cell", "gru", "--reset-before", "--hidden-size", "3",
                 "--weights", str(tmp_path / "w.json"), "--input", "1 2 3"])
    assert code == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:4] == ["t", "x", "a_r[0]", "a_r[1]"]


@pytest.mark.parametrize("args, message", [
    (["--cell", "elman", "--hidden-size", "1", "--weights", "{bad}", "--input", "1,2"],
     "bad.json: weight_hh: expected shape (1, 1), got (1, 2)"),
    (["--cell", "elman", "--hidden-size", "1", "--weights", "{missing}", "--input", "1,2"],
     "missing.json: cannot read the weights file"),
    (["--cell", "elman", "--hidden-size", "1", "--input", "1,2"],
     "--weights: expected a weights file, or --init SEED"),
    (["--cell", "elman", "--hidden-size", "1", "--init", "0", "--input", "1,2;3"],
     "--input: expected 2 features per step, got 1 at step 1 ('3')"),
    (["--cell", "elman", "--hidden-size", "1", "--init", "0", "--input", "1,x"],
     "--input: expected numbers"),
    (["--cell", "gru", "--hidden-size", "1", "--init", "0", "--spec", "CIFG", "--input", "1"],
     "--spec: an option of --cell lstm, got --cell gru"),
    (["--cell", "elman", "--hidden-size", "1", "--init", "0"],
     "--input: expected a sequence to trace"),
])
def test_trace_errors_go_to_stderr_with_status_2(tmp_path, capsys, args, message):
    (tmp_path / "bad.json").write_text('{"weight_ih": [[1, 2]], "weight_hh": [[1, 2]], '
                                       '"bias_ih": [0], "bias_hh": [0]}')
    args = [a.format(bad=tmp_path / "bad.json", missing=tmp_path / "missing.json") for a in args]
    assert main(["explain", "trace", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rnnkit explain trace: error: ") and message in captured.err


def test_gradients_writes_pictures_and_numbers(tmp_path, capsys):
    code = main(["explain", "gradients", "--model", "elman:hidden_size=3", "--model",
                 "lstm:hidden_size=3", "--length", "5", "--steps", "3", "--batch", "4",
                 "--out", str(tmp_path)])
    assert code == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "elman:hidden_size=3" in out and "lstm:hidden_size=3" in out
    # progress while it runs: a line as each model starts
    assert ("rnnkit explain: lstm:hidden_size=3 (2/2): measuring at init, training 3 steps, "
            "measuring again") in captured.err
    assert is_png(tmp_path / "gradients.png") and is_png(tmp_path / "learning-curves.png")
    rows = (tmp_path / "gradients.csv").read_text().splitlines()
    assert rows[0] == "stage,model,t,dL_dh,dhT_dh" and len(rows) == 1 + 2 * 2 * 5


def test_gradients_bad_model_is_an_error(tmp_path, capsys):
    assert main(["explain", "gradients", "--model", "lstm:size=3", "--out", str(tmp_path)]) == 2
    assert "expected KEY=VALUE with KEY one of hidden_size" in capsys.readouterr().err


def test_gates_writes_the_heat_maps_the_page_and_the_numbers(tmp_path):
    code = main(["explain", "gates", "--model", "lstm:hidden_size=3", "--steps", "2",
                 "--length", "4", "--input", "0.3,0;0.5,1;0.2,0;0.9,1", "--out", str(tmp_path)])
    assert code == 0
    assert is_png(tmp_path / "gates.png")
    page = (tmp_path / "gates.html").read_text()
    assert "[0.50]" in page and "[0.90]" in page and "data:image/png;base64," in page
    values = np.load(tmp_path / "gates.npz")
    assert values["c"].shape == (4, 3) and "a_i" in values


def test_gates_with_a_random_sequence_and_chosen_names(tmp_path):
    assert main(["explain", "gates", "--model", "gru:hidden_size=2", "--length", "6",
                 "--names", "z,h", "--out", str(tmp_path)]) == 0
    assert np.load(tmp_path / "gates.npz")["z"].shape == (6, 2)

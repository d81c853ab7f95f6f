"""The stack-table driver on a tiny setting: every task x model x seed trained once, the table
(ours beside the paper's) and the plot written, finished runs reused."""

import json

from rnnkit import engines
from rnnkit.experiments import stack_table

CONFIG = """\
task = "stack_lm"
[model]
cell = "stack"
hidden_size = 4
stack_depth = 10
[data]
train_size = 4
sequences = 2
train_max_n = 3
test_max_n = 4
eval_sequences = 1
[train]
epochs = 1
batch_size = 2
threads = 1
device = "cpu"
[run]
plots = false
"""


def test_runs_every_task_model_and_seed_and_writes_a_table_and_a_plot(tmp_path, capsys):
    (tmp_path / "c.toml").write_text(CONFIG)
    argv = ["--config", str(tmp_path / "c.toml"), "--models", "stack,rnn", "--tasks",
            "anbn,anbncn", "--seeds", "0,1", "--out", str(tmp_path / "out")]
    with engines.use("loop"):  # tiny sizes: the plain loop, no extension to build
        assert stack_table.main(argv) == 0
    out = tmp_path / "out"
    runs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(runs) == 8 and "anbncn-rnn-seed1" in runs
    record = json.loads((out / "anbncn-stack-seed1" / "test.json").read_text())
    assert record["task"] == "anbncn" and record["model"] == "stack" and record["seed"] == 1
    assert 0 <= record["test_accuracy"] <= 1
    rows = (out / "table.md").read_text().splitlines()
    assert rows[0] == "| model | parameters | a^n b^n | a^n b^n c^n |"
    assert rows[2].startswith("| Stack RNN (ours) | ") and rows[3].startswith("| RNN (ours) | ")
    assert rows[2].count(", 2 seeds)") == 2  # mean (min-max, seeds) per task
    assert rows[4] == "| Stack RNN (paper) | | 100.0 | 100.0 |"
    assert rows[5] == "| LSTM (paper) | | 100.0 | 100.0 |"
    assert "around 25%" in rows[-1]
    assert (out / "table.png").stat().st_size > 1000
    # finished runs are read back, not trained again
    (out / "anbn-rnn-seed0" / "last.pt").unlink()
    capsys.readouterr()
    assert stack_table.main(argv) == 0
    assert not (out / "anbn-rnn-seed0" / "last.pt").exists()
    assert "| RNN (ours) | " in capsys.readouterr().out


def test_an_unknown_model_is_refused_by_name(capsys):
    try:
        stack_table.main(["--models", "stack,gru"])
    except SystemExit as exit:
        assert exit.code == 2
    assert "--models: expected names among stack, lstm, rnn, got 'gru'" in capsys.readouterr().err

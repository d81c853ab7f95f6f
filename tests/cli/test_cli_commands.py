"""The command line: --help everywhere, train -> eval / predict / info, and user errors as
`rnnkit: error: ...` with a non-zero exit and no traceback."""

import io
import json
import subprocess
import sys

import pytest

from rnnkit.cli.main import main
from cli_helpers import write_config

COMMANDS = ["train", "eval", "predict", "generate", "info", "export", "demo", "bench"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: rnnkit {command}" in capsys.readouterr().out


def test_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny adding run: its folder."""
    folder = tmp_path_factory.mktemp("cli")
    assert main(["train", str(write_config(folder)), "--set", "train.epochs=3"]) == 0
    return folder / "run"


def test_train_prints_the_outcome_and_leaves_the_run(trained):
    assert {"config.toml", "metrics.jsonl", "last.pt", "best.pt"} <= \
        {p.name for p in trained.iterdir()}


def test_eval_prints_the_metrics_of_a_split(trained, capsys):
    assert main(["eval", str(trained), "--split", "valid", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["split"] == "valid" and set(metrics) >= {"loss", "mse", "accuracy"}
    assert main(["eval", str(trained / "last.pt")]) == 0
    assert capsys.readouterr().out.startswith(f"test ({trained / 'last.pt'}): loss ")


def test_predict_reads_a_file_or_stdin(trained, tmp_path, capsys, monkeypatch):
    examples = "0.3,0 0.5,1 0.2,0 0.9,1\n\n0.1,1 0.1,0 0.7,1\n"
    (tmp_path / "in.txt").write_text(examples)
    assert main(["predict", str(trained), "--input", str(tmp_path / "in.txt")]) == 0
    from_file = capsys.readouterr().out.split()
    monkeypatch.setattr(sys, "stdin", io.StringIO(examples))
    assert main(["predict", str(trained)]) == 0
    assert capsys.readouterr().out.split() == from_file and len(from_file) == 2
    assert all(float(p) == pytest.approx(float(p)) for p in from_file)


def test_info_shows_config_sizes_parameters_and_metrics(trained, capsys):
    assert main(["info", str(trained)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"checkpoint: {trained / 'last.pt'}\ntask: adding; trained 12 steps")
    assert "task: adding; trained" in out and "parameters: " in out
    assert "rnn: " in out and "TorchStyleRNN(input_size=2, hidden_size=8, output_size=8" in out
    assert "best valid (step " in out and '[model]\ncell = "lstm"' in out


def error_of(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_user_errors_exit_2_with_a_message(trained, tmp_path, capsys):
    cases = [
        (["train", str(tmp_path / "none.toml")], "rnnkit: error: config: no such file"),
        (["train", "--set", "model.hiden=3"], "rnnkit: error: model.hiden: unknown key"),
        (["train", "--set", "train.epochs=many"], "rnnkit: error: train.epochs: expected an "
                                                  "integer, got str 'many'"),
        (["train", "x.toml", "--resume", str(trained)], "rnnkit: error: CONFIG: a resumed run"),
        (["train", "--resume", str(tmp_path)], "--resume: expected the folder of a run"),
        (["eval", str(tmp_path)], "a folder without a checkpoint"),
        (["info", str(tmp_path / "none.pt")], "no such checkpoint file"),
    ]
    for argv, message in cases:
        code, err = error_of(argv, capsys)
        assert code == 2 and err.startswith("rnnkit: error: ") and message in err, (argv, err)


def test_a_corrupt_checkpoint_is_reported_and_left_alone(tmp_path, capsys):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    code, err = error_of(["predict", str(tmp_path / "bad.pt")], capsys)
    assert code == 2 and "not a readable checkpoint" in err
    assert (tmp_path / "bad.pt").read_bytes() == b"not a checkpoint"


def test_a_bad_prediction_input_names_the_line(trained, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("0.3,0 0.5,1\n0.3;0\n")
    code, err = error_of(["predict", str(trained), "--input", str(tmp_path / "in.txt")], capsys)
    assert code == 2 and "input line 2: expected value,marker pairs" in err
    (tmp_path / "in.conll").write_text("a\n")
    code, err = error_of(["predict", str(trained), "--conll", "--input",
                          str(tmp_path / "in.conll")], capsys)
    assert code == 2 and "--conll: expected a checkpoint of the tagging task, got one of " \
                         "'adding'" in err


def test_a_nan_stop_exits_1(tmp_path, capsys):
    config = write_config(tmp_path)
    code, err = error_of(["train", str(config), "--set", "optim.name=sgd", "optim.lr=1e12",
                          "train.clip_norm=0.0", "train.epochs=20"], capsys)
    assert code == 1 and "rnnkit: error: the " in err and " at step " in err


def test_the_command_runs_as_a_module_and_errors_have_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnkit", "train", str(tmp_path / "no.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"rnnkit: error: config: no such file: '{tmp_path / 'no.yaml'}'\n"


def test_the_progress_bar_shows_loss_metric_lr_and_throughput(tmp_path, capsys):
    assert main(["train", str(write_config(tmp_path)), "--set", "quiet=false"]) == 0
    err = capsys.readouterr().err
    assert all(field in err for field in ("step/s", "loss=", "mse=", "lr=", "seq/s="))
    assert "step 8 (epoch 2): valid loss " in err


def test_quiet_prints_a_line_per_evaluation_and_no_bar(tmp_path, capsys):
    assert main(["train", str(write_config(tmp_path)), "--set", "quiet=false", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("step 4 (epoch 1): valid loss ") and "step/s" not in err
    assert len(err.splitlines()) == 2

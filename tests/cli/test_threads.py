"""Every command that computes takes --threads; the default is one thread on a machine with few
cores, torch's choice on a larger one; train keeps its config's train.threads."""

import pytest

from rnnkit.cli import threads
from rnnkit.cli.main import COMPUTING, main


@pytest.mark.parametrize("cores, expected", [(2, 1), (4, 1), (16, 0), (None, 1)])
def test_the_default_depends_on_the_cores(monkeypatch, cores, expected):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cores)
    assert threads.resolve(None) == expected
    assert threads.resolve(3) == 3


@pytest.mark.parametrize("command", [[name] for name in (*COMPUTING, "bench")]
                         + [["explain", name] for name in ("gradients", "gates", "trace")])
def test_every_computing_command_takes_threads(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--threads N" in capsys.readouterr().out


def test_the_command_line_applies_it_before_running(monkeypatch, tmp_path, capsys):
    applied = []
    monkeypatch.setattr(threads, "apply", applied.append)
    assert main(["eval", str(tmp_path / "no-run"), "--threads", "3"]) == 2  # no checkpoint there
    assert applied == [3]
    with pytest.raises(SystemExit):
        main(["eval", str(tmp_path), "--threads", "-1"])
    assert "--threads: expected 0 (torch's choice) or a positive number" in capsys.readouterr().err

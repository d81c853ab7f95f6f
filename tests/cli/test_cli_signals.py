"""SIGTERM and Ctrl-C save a checkpoint and exit cleanly; --resume continues the run."""

import os
import signal
import subprocess
import sys
import time

from rnnkit.cli.main import main
from rnnkit.training import checkpoint
from rnnkit.training.trainer import Trainer
from cli_helpers import write_config


def test_sigterm_saves_a_checkpoint_and_resume_continues(tmp_path):
    config = write_config(tmp_path, epochs=10_000)  # far longer than the test waits
    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "rnnkit", "train", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ((run / "metrics.jsonl").exists() and (run / "metrics.jsonl").read_text()):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert "interrupted by SIGTERM after step" in out and f"--resume {run}" in out
    step = checkpoint.load(run / "last.pt")["trainer"]["step"]
    assert f"after step {step};" in out  # the checkpoint is of the step it stopped after
    assert step >= 1 and not [p for p in run.iterdir() if p.name.endswith(".tmp")]

    assert main(["train", "--resume", str(run), "--set", f"train.max_steps={step + 3}"]) == 0
    assert checkpoint.load(run / "last.pt")["trainer"]["step"] == step + 3


def test_ctrl_c_stops_after_the_current_step(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path, epochs=50)
    original = Trainer._train_step

    def step_then_ctrl_c(self, *args):
        original(self, *args)
        if self.step == 2:  # the 3rd step, counted from 0 before it ends
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Trainer, "_train_step", step_then_ctrl_c)
    assert main(["train", str(config)]) == 128 + signal.SIGINT
    assert "interrupted by SIGINT after step 3" in capsys.readouterr().out
    assert checkpoint.load(tmp_path / "run" / "last.pt")["trainer"]["step"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored

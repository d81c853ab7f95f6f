"""Data-parallel training: 2 CPU processes under torchrun (gloo) end with the parameters of one
process with the same global batch."""

import os
import subprocess
import sys

import pytest
import torch

from rnnkit.training import checkpoint
from rnnkit.training.config import to_toml
from rnnkit.training.trainer import Trainer
from training_helpers import metrics, tiny

SETTINGS = dict(model={"cell": "gru"}, optim={"name": "adam", "lr": 0.02},
                train={"epochs": 2, "batch_size": 16})


@pytest.mark.parametrize("task", ["adding", "stream"])  # batches of sequences; TBPTT columns
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, task):
    one = Trainer(tiny(tmp_path / "one", task, **SETTINGS))
    one.fit()

    config = tmp_path / "two.toml"
    config.write_text(to_toml(tiny(tmp_path / "two", task, **SETTINGS)))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", "-m", "rnnkit", "train", str(config)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]

    two = checkpoint.load(tmp_path / "two" / "last.pt")
    assert two["world"] == 2 and two["trainer"]["step"] == one.step > 0
    for name, value in one.model.state_dict().items():
        torch.testing.assert_close(two["model"][name], value, rtol=1e-5, atol=1e-6)
    valid = [[r["loss"] for r in metrics(tmp_path / run) if r["split"] == "valid"]
             for run in ("one", "two")]
    torch.testing.assert_close(valid[0], valid[1], rtol=1e-4, atol=0)

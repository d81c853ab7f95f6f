"""Checkpoints: atomic under a crash, recognised on reading, never overwritten when bad."""

import pytest
import torch

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.training import checkpoint
from rnnkit.training.trainer import Trainer
from training_helpers import tiny


def test_a_crash_while_writing_leaves_the_previous_checkpoint_and_no_temporary_file(
        tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    checkpoint.save(path, {"step": 1, "weights": torch.ones(3)})
    before = path.read_bytes()

    def crash_half_way(obj, file):
        file.write(b"half a checkpoint")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(torch, "save", crash_half_way)
    with pytest.raises(OSError, match="simulated"):
        checkpoint.save(path, {"step": 2, "weights": torch.zeros(3)})
    assert path.read_bytes() == before
    assert checkpoint.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_crash_before_the_rename_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    checkpoint.save(path, {"step": 1})

    def killed(*args):
        raise KeyboardInterrupt  # e.g. a second Ctrl-C between write and rename

    monkeypatch.setattr(checkpoint.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {"step": 2})
    monkeypatch.undo()
    assert checkpoint.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("content, message", [
    (b"", "not a readable checkpoint, the file is corrupt or not a torch file"),
    (b"PK\x03\x04 truncated zip", "not a readable checkpoint"),
    (b"\x80\x04K\x01.", "not a readable checkpoint"),  # a plain pickle of 1
])
def test_a_corrupt_file_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "last.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


def test_a_foreign_torch_file_or_an_unknown_version_is_refused(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an rnnkit checkpoint"):
        checkpoint.load(tmp_path / "foreign.pt")
    torch.save({"format": checkpoint.FORMAT, "version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version 99; this rnnkit reads version 1"):
        checkpoint.load(tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        checkpoint.load(tmp_path / "missing.pt")


def test_resuming_from_a_corrupt_checkpoint_fails_and_leaves_the_run_untouched(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, train={"max_steps": 3})).fit()
    (folder / "last.pt").write_bytes(b"garbage")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(CheckpointError, match="corrupt"):
        Trainer(tiny(folder), resume=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_new_run_refuses_a_folder_that_holds_a_checkpoint(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, train={"max_steps": 2})).fit()
    before = (folder / "last.pt").read_bytes()
    with pytest.raises(ConfigError, match="already holds a checkpoint .* --resume"):
        Trainer(tiny(folder))
    assert (folder / "last.pt").read_bytes() == before


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, train={"max_steps": 2})).fit()
    with pytest.raises(CheckpointError, match="written for another model"):
        Trainer(tiny(folder, model={"hidden_size": 5}), resume=True)

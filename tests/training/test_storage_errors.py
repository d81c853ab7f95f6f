"""A disk that fills up (or a folder that cannot be written) mid-run ends the run with one
`rnnkit: error:` line naming the file and what to do, exit code 1, and the last good checkpoint
intact and resumable; what a killed run left half-written is cleaned up by the next one."""

import errno
import pathlib

import pytest
import torch

from rnnkit.cli.main import main
from rnnkit.errors import StorageError
from rnnkit.training import checkpoint
from rnnkit.training.trainer import Trainer
from training_helpers import tiny

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def _fail_on_call(monkeypatch, target, attribute, call_number, should_fail=lambda *a: True,
                  error=DISK_FULL):
    """Make target.attribute raise `error` from its call_number-th call (1-based) on, counting
    the calls for which should_fail(*args) holds."""
    real, calls = getattr(target, attribute), []

    def failing(*args, **kwargs):
        if should_fail(*args):
            calls.append(args)
            if len(calls) >= call_number:
                raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, attribute, failing)


def test_a_full_disk_during_a_checkpoint_keeps_the_last_good_one(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    config = tiny(folder, train={"epochs": 3}, run={"checkpoint_every": 1, "keep_best": False})
    _fail_on_call(monkeypatch, torch, "save", 3)  # steps 1 and 2 are written, step 3 is not
    with pytest.raises(StorageError) as info:
        Trainer(config).fit()
    message = str(info.value)
    assert f"cannot write '{folder / 'last.pt'}': No space left on device; free space on that " \
           f"disk; '{folder / 'last.pt'}' is intact: then continue with `rnnkit train --resume " \
           f"{folder}`" == message
    assert checkpoint.load(folder / "last.pt")["trainer"]["step"] == 2
    assert not list(folder.glob(".*.tmp"))
    monkeypatch.undo()
    assert Trainer(config, resume=True).fit().status == "finished"


def test_a_full_disk_while_logging_metrics_is_one_error_line(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "run"
    config_file = tmp_path / "run.toml"
    config_file.write_text(f'task = "adding"\nquiet = true\n[model]\nhidden_size = 4\n'
                           f'[data]\nlength = 5\ntrain_size = 32\nvalid_size = 16\n'
                           f'test_size = 16\n[train]\nepochs = 2\nbatch_size = 16\n'
                           f'threads = 1\n[run]\nfolder = "{folder}"\nplots = false\n')
    _fail_on_call(monkeypatch, pathlib.Path, "open", 3,
                  should_fail=lambda path, *rest: path.name == "metrics.jsonl")
    assert main(["train", str(config_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"rnnkit: error: cannot write '{folder / 'metrics.jsonl'}': No space "
                       f"left on device; free space on that disk")
    assert not any("Traceback" in line for line in err)


def test_a_folder_that_cannot_be_written_names_it(tmp_path, monkeypatch):
    _fail_on_call(monkeypatch, pathlib.Path, "mkdir", 1,
                  should_fail=lambda path, *rest: path.name == "locked",
                  error=PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(StorageError, match=r"cannot write '.*locked': Permission denied; make "
                                           r"the folder writable, or choose another run.folder"):
        Trainer(tiny(tmp_path / "locked"))


def test_the_next_run_removes_what_a_killed_one_left_half_written(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, train={"max_steps": 2})).fit()
    leftovers = [folder / ".grad_norm.png.abc123.tmp", folder / ".last.pt.xyz.tmp"]
    for path in leftovers:
        path.write_bytes(b"half")
    Trainer(tiny(folder, train={"max_steps": 3}), resume=True).fit()
    assert not any(path.exists() for path in leftovers)

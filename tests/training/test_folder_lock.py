"""One trainer per run folder: a second trainer is refused while the first holds the folder,
and leaves the folder as it was; a lock left by a killed trainer is not in force; --resume on a
folder without a checkpoint says there is nothing to resume and how to start."""

import signal
import subprocess
import sys
import textwrap

import pytest

from rnnkit.errors import ConfigError
from rnnkit.training.trainer import Trainer
from rnnkit.training.folder_lock import LOCK_FILE, FolderLock
from training_helpers import tiny


def _holder(folder):
    """Another process that holds the folder's lock until it is killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from rnnkit.training.folder_lock import FolderLock
        lock = FolderLock({str(folder)!r})
        lock.acquire()
        print("locked", flush=True)
        time.sleep(120)
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_trainer_is_refused_and_a_killed_ones_lock_is_not_in_force(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, train={"max_steps": 2})).fit()
    before = (folder / "metrics.jsonl").read_text()
    holder = _holder(folder)
    try:
        with pytest.raises(ConfigError, match=rf"run.folder: '{folder}' is being trained into by "
                                              rf"process {holder.pid} on .*; wait for it to end"):
            Trainer(tiny(folder, train={"max_steps": 4}), resume=True)
        assert (folder / "metrics.jsonl").read_text() == before  # untouched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (folder / LOCK_FILE).exists()  # the killed process could not remove its file...
    outcome = Trainer(tiny(folder, train={"max_steps": 4}), resume=True).fit()  # ...no matter
    assert outcome.step == 4
    assert not (folder / LOCK_FILE).exists()  # a trainer that ends removes its own


def test_the_lock_is_exclusive_within_a_process_too(tmp_path):
    first, second = FolderLock(tmp_path), FolderLock(tmp_path)
    first.acquire()
    with pytest.raises(ConfigError, match="is being trained into by process"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_resume_without_a_checkpoint_says_how_to_start(tmp_path):
    folder = tmp_path / "never"
    with pytest.raises(ConfigError, match=r"--resume: .* holds no checkpoint \(last.pt\) to "
                                          r"resume; start a run there without --resume"):
        Trainer(tiny(folder), resume=True)
    assert not folder.exists()  # the refused call leaves nothing behind
    (folder).mkdir()
    (folder / "config.toml").write_text("task = 'adding'\n")  # killed before its first checkpoint
    with pytest.raises(ConfigError, match=r"the run stopped before its first one. Start it "
                                          r"again without --resume"):
        Trainer(tiny(folder), resume=True)
    assert (folder / "config.toml").exists()

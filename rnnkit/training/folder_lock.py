"""One trainer per run folder.

A trainer holds an exclusive `flock` on `<folder>/train.lock`, which names its process, and
removes the file when it is done. The kernel drops the lock when the process ends, however it
ends (a kill, an OOM), so a lock file left by a dead trainer is never in force: the next
trainer takes it. A second trainer on the same folder is refused with the first one's process.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rnnkit.errors import ConfigError
from rnnkit.training.checkpoint import writing

try:
    import fcntl
except ImportError:  # not POSIX: no locking (rnnkit's CI and users' machines are POSIX)
    fcntl = None

LOCK_FILE = "train.lock"


class FolderLock:
    """lock = FolderLock(folder); lock.acquire() ... lock.release() (also on garbage collection
    and at process exit)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self._file = None

    def acquire(self) -> None:
        """Take the lock, creating the folder if needed; a ConfigError naming the holder when
        another live process has it."""
        if fcntl is None or self._file is not None:
            return
        with writing(self.path.parent):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            with writing(self.path):
                file = open(self.path, "a+")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.seek(0)
                holder = file.read().strip() or "another process"
                file.close()
                raise ConfigError(f"run.folder: {str(self.path.parent)!r} is being trained into "
                                  f"by {holder}; wait for it to end, or choose another "
                                  f"folder") from None
            # The holder before us removes the file as it releases: a lock on a file that is
            # no longer at the path is worth nothing, so take the new one.
            if _same_file(file, self.path):
                break
            file.close()
        file.seek(0)
        file.truncate()
        file.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self.path.unlink(missing_ok=True)  # while still locked: see acquire
            self._file.close()  # closing the file drops the lock
            self._file = None

    def __del__(self):
        self.release()


def _same_file(file, path: Path) -> bool:
    try:
        return os.fstat(file.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False

"""Checkpoints: written atomically, recognised on reading, never overwritten when unreadable.

A checkpoint is a torch file holding a dict with rnnkit's format marker and version, the
resolved config, the task's state, the model, optimiser and schedule states, the trainer's
position in the data, and the random number generators' states, so that a resumed run
continues exactly where the interrupted one stopped.

Writing goes to a temporary file in the same folder, which is flushed and fsync'ed and then
renamed over the target (`os.replace` is atomic on POSIX): a crash at any moment leaves either
the previous checkpoint or the new one, never a mix, and no temporary file when Python can
clean up. Loading reads with `weights_only=True`, so a foreign pickle runs no code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import torch

from rnnkit.errors import CheckpointError, StorageError

FORMAT = "rnnkit-checkpoint"
VERSION = 1
LAST, BEST = "last.pt", "best.pt"


_WHAT_TO_DO = {errno.ENOSPC: "free space on that disk", errno.EDQUOT: "free space in your quota",
               errno.EACCES: "make the folder writable, or choose another run.folder",
               errno.EPERM: "make the folder writable, or choose another run.folder",
               errno.EROFS: "the file system is read-only: choose another run.folder"}


@contextlib.contextmanager
def writing(path: Path):
    """Turn a failure to write `path` (OSError: disk full, no permission, ...) into a
    StorageError that names the file and what to do."""
    try:
        yield
    except OSError as error:
        if isinstance(error, StorageError):
            raise
        what_to_do = _WHAT_TO_DO.get(error.errno, "check the disk and the folder")
        raise StorageError(f"cannot write {str(path)!r}: {error.strerror or error}; "
                           f"{what_to_do}") from error


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call write(file) on a temporary file beside `path`, make it durable, then rename it to
    `path`. On any failure the temporary file is removed and `path` is untouched; a failure
    to write (a full disk) is a StorageError."""
    path = Path(path)
    with writing(path):
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    # The rename itself is durable only once the folder's entry is on disk.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def save(path: Path, payload: dict) -> None:
    """Write a checkpoint atomically: payload plus the format marker and version."""
    atomic_write(path, lambda file: torch.save({"format": FORMAT, "version": VERSION, **payload},
                                                file))


def load(path: str | Path) -> dict:
    """Read a checkpoint; CheckpointError for a missing, corrupt or foreign file (which is left
    as it is)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{str(path)!r}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged or foreign file
        raise CheckpointError(f"{str(path)!r}: not a readable checkpoint, the file is corrupt or "
                              f"not a torch file ({type(error).__name__}); it was left as it "
                              f"is") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r}: not an rnnkit checkpoint (a torch file without "
                              f"rnnkit's format marker); it was left as it is")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{str(path)!r}: checkpoint format version "
                              f"{payload.get('version')!r}; this rnnkit reads version {VERSION}")
    return payload


def resolve(run_or_file: str | Path, prefer: str = BEST) -> Path:
    """A checkpoint file, or a run folder -> its `prefer` checkpoint if it has one, else the
    last."""
    path = Path(run_or_file)
    if path.is_dir():
        for name in (prefer, LAST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{str(path)!r}: a folder without a checkpoint "
                              f"({BEST} or {LAST}); expected a run folder or a checkpoint file")
    return path


def rng_state() -> dict:
    """The states of torch's, NumPy's and Python's global generators."""
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"]["key"] = torch.from_numpy(numpy_state["state"]["key"].astype(np.int64))
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = dict(state["numpy"])
    numpy_state["state"] = dict(numpy_state["state"],
                                key=state["numpy"]["state"]["key"].numpy().astype(np.uint32))
    np.random.set_state(numpy_state)
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def remove_temporaries(folder: Path) -> list[Path]:
    """Remove what `atomic_write` leaves when a process is killed mid-write (`.<name>.*.tmp`);
    only its own writer can still be writing one, and a run folder has one writer."""
    removed = sorted(Path(folder).glob(".*.*.tmp"))
    for temporary in removed:
        temporary.unlink(missing_ok=True)
    return removed

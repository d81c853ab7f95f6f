"""Where a run writes, and the checks before it does: the folder is chosen (`run.folder`, or
runs/<task>-<n>), claimed (one trainer per folder, then "does it hold what the run needs",
under the lock), read for a resume (the checkpoint must be of the same task, model and data),
and opened (config.toml written, the metrics log truncated to the checkpoint's step)."""

from __future__ import annotations

import shutil
from pathlib import Path

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.training import checkpoint, distributed
from rnnkit.training.checkpoint import BEST, LAST
from rnnkit.training.config import Config, from_dict, to_toml
from rnnkit.training.folder_lock import FolderLock
from rnnkit.training.metrics import FILE as METRICS_FILE
from rnnkit.training.metrics import MetricsLog

CONFIG_FILE = "config.toml"


class RunFolder:
    """RunFolder(config, context, resume): chosen and, on the main process, claimed."""

    def __init__(self, config: Config, context: distributed.Context, resume: bool):
        self.config, self.context, self.resume = config, context, resume
        self.path = self._choose()
        self.lock = FolderLock(self.path)
        if context.main:
            self._claim()

    def _choose(self) -> Path:
        folder = self.config.run.folder
        if self.resume and not folder:
            raise ConfigError("run.folder: resuming needs the run's folder, got none")
        if not folder:  # runs/<task>-<n>: the first free n (all ranks agree before creating it)
            n = 1
            while Path("runs", f"{self.config.task}-{n}").exists():
                n += 1
            folder = Path("runs", f"{self.config.task}-{n}")
            self.context.barrier()
        return Path(folder)

    def _claim(self) -> None:
        """Lock the folder (one trainer per folder), then check it holds what the run needs:
        checked under the lock, so that two trainers cannot both find it free. A folder this
        call created is removed again if the check fails."""
        folder = self.path
        created = not folder.exists()
        self.lock.acquire()
        existing = [name for name in (LAST, BEST) if (folder / name).exists()]
        problem = None
        if self.resume and LAST not in existing:
            problem = ConfigError(
                f"--resume: {str(folder)!r} holds no checkpoint ({LAST}) to resume: the run "
                f"stopped before its first one. Start it again without --resume (its config is "
                f"{str(folder / CONFIG_FILE)!r})" if (folder / CONFIG_FILE).exists() else
                f"--resume: {str(folder)!r} holds no checkpoint ({LAST}) to resume; start a run "
                f"there without --resume")
        elif not self.resume and existing:
            problem = ConfigError(f"run.folder: {str(folder)!r} already holds a checkpoint "
                                  f"({existing[0]}); continue it with `rnnkit train --resume "
                                  f"{folder}`, or choose another folder")
        if problem is not None:
            self.lock.release()
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            raise problem

    def load_for_resume(self) -> dict:
        """last.pt's payload, refused if written for another task, model or data."""
        payload = checkpoint.load(self.path / LAST)
        # Through the schema, so that keys added to it since the checkpoint take their defaults.
        saved = from_dict(payload["config"]).to_dict()
        for section in ("task", "model", "data"):
            if saved[section] != self.config.to_dict()[section]:
                raise CheckpointError(f"{str(self.path / LAST)!r}: written for another "
                                      f"{section} ({saved[section]}); resume with the run's own "
                                      f"config")
        return payload

    def open(self, step: int) -> MetricsLog:
        """Write config.toml and start the metrics log (after `step` on a resume); only the
        main process writes."""
        log = MetricsLog(self.path / METRICS_FILE, enabled=self.context.main)
        if not self.context.main:
            return log
        with checkpoint.writing(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
        checkpoint.remove_temporaries(self.path)  # a killed run's half-written files
        text = to_toml(self.config).encode()
        checkpoint.atomic_write(self.path / CONFIG_FILE, lambda file: file.write(text))
        if self.resume:
            log.truncate_after(step)
        else:
            (self.path / METRICS_FILE).unlink(missing_ok=True)
        return log

    def release(self) -> None:
        self.lock.release()

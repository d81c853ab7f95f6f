"""Learning-rate schedules: linear warm-up, then constant, step decay by epoch (Zaremba et al.
2014) or reduce-on-plateau, with a floor; NaN rollbacks scale the rate down too."""

from __future__ import annotations

import torch

from rnnkit.tasks.base import is_better
from rnnkit.training.config import ScheduleConfig


class Schedule:
    """lr(step) = max(base * scale, min_lr) * warm-up(step), where `scale` collects every
    decay so far. The trainer calls `epoch_end` after each epoch, `evaluated` after each
    validation, and `apply` before each optimiser step."""

    def __init__(self, cfg: ScheduleConfig, base_lr: float):
        self.cfg, self.base_lr = cfg, base_lr
        self.scale = 1.0
        self.best: float | None = None  # plateau: the best monitored value so far
        self.bad = 0  # plateau: evaluations since it improved

    def lr(self, step: int) -> float:
        """The rate of optimiser step `step` (0-based)."""
        warm = min(1.0, (step + 1) / self.cfg.warmup_steps) if self.cfg.warmup_steps else 1.0
        return max(self.base_lr * self.scale, self.cfg.min_lr) * warm

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        lr = self.lr(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr

    def epoch_end(self, epoch: int) -> None:
        """epoch: the 1-based number of the epoch that just ended."""
        cfg = self.cfg
        if cfg.kind == "step" and epoch >= cfg.start_epoch and \
                (epoch - cfg.start_epoch) % cfg.every == 0:
            self.scale *= cfg.factor

    def evaluated(self, metric: str, value: float, epoch: int = 1) -> bool:
        """An evaluation in `epoch` (1-based) -> True when it decayed the rate (plateau, which
        counts evaluations without improvement from epoch start_epoch on)."""
        if self.cfg.kind != "plateau":
            return False
        if is_better(metric, value, self.best):
            self.best, self.bad = value, 0
            return False
        if epoch < self.cfg.start_epoch:
            return False
        self.bad += 1
        if self.bad >= self.cfg.patience:
            self.scale *= self.cfg.factor
            self.bad = 0
            return True
        return False

    def state_dict(self) -> dict:
        return {"scale": self.scale, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict) -> None:
        self.scale, self.best, self.bad = state["scale"], state["best"], state["bad"]

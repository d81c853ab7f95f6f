"""The training loop: epochs of optimiser steps, evaluation, early stopping, best keeping,
checkpoints, and a guard against NaN losses.

    trainer = Trainer(config)                 # or Trainer(config, resume=True)
    outcome = trainer.fit()                   # -> Outcome(status, step, folder, ...)

One step: the batch (or, for a stream task, the next truncated-BPTT window) on this process's
slice, the loss, its backward pass, gradients averaged over processes, the global gradient
norm measured (and logged) before clipping by norm and/or value, the scheduled learning rate,
the optimiser step. The trainer's position (epoch, batch within it, step), the carried stream
state and every random generator's state go into each checkpoint, so `resume=True` continues
exactly where the run stopped and reaches the numbers an uninterrupted run reaches.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnkit.errors import ConfigError, StorageError, TrainingError
from rnnkit.tasks import Batch, task_class
from rnnkit.tasks.base import is_better
from rnnkit.training import checkpoint, distributed, tbptt
from rnnkit.training.checkpoint import BEST, LAST
from rnnkit.training.config import Config, OptimConfig
from rnnkit.training.evaluate import evaluate
from rnnkit.training.interrupt import StopRequest
from rnnkit.training.plots import plot_run
from rnnkit.training.progress import Progress
from rnnkit.training.run_folder import RunFolder
from rnnkit.training.schedules import Schedule

MAX_ROLLBACKS = 3  # NaN rollbacks in one process before the run gives up


@dataclass
class Outcome:
    """status: "finished" (all epochs), "early stopping", "max steps", "time limit" or
    "interrupted" (then
    `signal` is the signal's number, or None when `fit(stop_at=...)` stopped it)."""

    status: str
    step: int
    folder: Path
    last: dict | None
    best: dict | None
    signal: int | None = None


class _NonFinite(Exception):
    """A NaN or infinite loss or gradient norm at the current step."""


def build_optimizer(cfg: OptimConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    if cfg.name == "sgd":
        if cfg.fused:
            raise ConfigError("optim.fused: the fused update is for adam and adamw, got "
                              "optim.name = \"sgd\"")
        if cfg.nesterov and cfg.momentum <= 0:
            raise ConfigError(f"optim.nesterov: needs optim.momentum > 0, got momentum "
                              f"{cfg.momentum}")
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=cfg.weight_decay)
    kind = torch.optim.Adam if cfg.name == "adam" else torch.optim.AdamW
    return kind(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=cfg.fused or None)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)


class Trainer:
    """Everything is checked (config, data, checkpoint) before the run folder is touched, so a
    bad input leaves nothing behind."""

    def __init__(self, config: Config, *, resume: bool = False,
                 context: distributed.Context | None = None):
        self.config, train = config, config.train
        if train.threads:
            torch.set_num_threads(train.threads)
        self.context = ctx = context or distributed.setup(train.device)
        self.k1, self.k2 = train.k1, train.k2 or train.k1
        if self.k2 < self.k1:
            raise ConfigError(f"train.k2: expected 0 (= k1) or a value >= train.k1 "
                              f"({self.k1}), got {train.k2}")
        schedule = config.schedule
        if schedule.restore_best and (schedule.kind != "plateau" or not config.run.keep_best):
            raise ConfigError(f"schedule.restore_best: needs schedule.kind = \"plateau\" and "
                              f"run.keep_best = true, got kind {schedule.kind!r} and keep_best "
                              f"{str(config.run.keep_best).lower()}")
        if train.batch_size % ctx.world:
            raise ConfigError(f"train.batch_size: expected a multiple of the {ctx.world} "
                              f"processes, got {train.batch_size}")
        self.task = task = task_class(config.task)(config.data, config.model)
        if train.tbptt and not task.windowed:
            raise ConfigError(f"train.tbptt: expected false for the {task.name} task, whose "
                              + ("training stream is always cut into k1/k2 windows" if task.stream
                                 else "batches are not streams to cut into windows")
                              + ", got true")
        self.monitor = train.monitor or task.monitor
        if self.monitor not in task.metric_names:
            raise ConfigError(f"train.monitor: expected one of {', '.join(task.metric_names)} "
                              f"(the {task.name} task's metrics), got {self.monitor!r}")
        self.batches_per_epoch = self._plan_epochs()

        seed_everything(train.seed)
        self.model = task.build_model().to(ctx.device)
        self.optimizer = build_optimizer(config.optim, self.model)
        self.schedule = Schedule(config.schedule, config.optim.lr)
        self.step = self.epoch = self.batch = 0  # epoch and batch: 0-based, of the next step
        self.seconds = 0.0  # wall time spent in the loop, summed over resumes (train.max_minutes)
        self.best: float | None = None
        self.bad_evals = 0
        self.carry = None  # a stream's state between windows
        self.last_metrics: dict | None = None
        self.best_metrics: dict | None = None
        self.rollbacks = 0

        self.run_folder = RunFolder(config, ctx, resume)
        self.folder = self.run_folder.path
        if resume:
            self._restore(self.run_folder.load_for_resume())
        self.log = self.run_folder.open(self.step)
        self.stop = StopRequest()

    # --- setting up -------------------------------------------------------------------------------
    def _plan_epochs(self) -> int:
        """The number of steps per epoch; for a stream task also its TBPTT windows and this
        process's columns of the training stream, on its device (`self.windows`,
        `self.train_stream`), the same every epoch."""
        B, ctx = self.config.train.batch_size, self.context
        if self.task.stream:
            stream = self.task.stream_batch("train", B)
            self.windows = tbptt.windows(stream.inputs.shape[0], self.k1, self.k2)
            self.train_stream = stream.part(ctx.rank, ctx.world).to(ctx.device)
            return len(self.windows)
        size = self.task.size("train")
        if size < B:
            raise ConfigError(f"train.batch_size: expected at most the {size} training "
                              f"sequences, got {B}")
        return size // B

    # --- checkpoints ------------------------------------------------------------------------------
    def _payload(self) -> dict:
        return {"config": self.config.to_dict(), "task_state": self.task.state_dict(),
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(),
                "trainer": {"step": self.step, "epoch": self.epoch, "batch": self.batch,
                            "best": self.best, "bad_evals": self.bad_evals,
                            "seconds": self.seconds, "carry": tbptt.detach(self.carry)},
                "metrics": {"last": self.last_metrics, "best": self.best_metrics},
                "rng": checkpoint.rng_state(), "world": self.context.world}

    def _save(self, *names: str) -> None:
        if self.context.main:
            payload = self._payload()
            for name in names:
                try:
                    checkpoint.save(self.folder / name, payload)
                except StorageError as error:
                    kept = self.folder / LAST
                    if kept.exists():
                        raise StorageError(f"{error}; {str(kept)!r} is intact: then continue "
                                           f"with `rnnkit train --resume {self.folder}`") from None
                    raise

    def _restore(self, payload: dict) -> None:
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.schedule.load_state_dict(payload["schedule"])
        state = payload["trainer"]
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self.best, self.bad_evals = state["best"], state["bad_evals"]
        self.seconds = state.get("seconds", 0.0)  # absent in checkpoints before max_minutes
        self.carry = _to(state["carry"], self.context.device)
        self.last_metrics = payload["metrics"]["last"]
        self.best_metrics = payload["metrics"]["best"]
        checkpoint.set_rng_state(payload["rng"])

    # --- the loop ---------------------------------------------------------------------------------
    def total_steps(self) -> int:
        train = self.config.train
        if train.tbptt:  # the windows of each epoch's batches: their lengths vary by epoch
            total = sum(1 for epoch in range(train.epochs) for _ in self._windowed(epoch))
        else:
            total = train.epochs * self.batches_per_epoch
        return min(total, train.max_steps) if train.max_steps else total

    def fit(self, stop_at: int | None = None) -> Outcome:
        """Train to the end (or early stopping, max_steps, max_minutes, a signal). stop_at: stop after that
        step as a signal would (a checkpoint, resumable)."""
        self.progress = Progress(self.total_steps(), self.step, self.task.unit,
                                 quiet=self.config.quiet, enabled=self.context.main)
        try:
            with self.stop.installed():
                while True:
                    try:
                        status = self._run(stop_at)
                        break
                    except _NonFinite as problem:
                        self._roll_back(str(problem))
        finally:
            self.progress.close()
            if self.context.main and self.config.run.plots and self.step:
                plot_run(self.folder, self.config.train.clip_norm)
            self.run_folder.release()
        return Outcome(status, self.step, self.folder, self.last_metrics, self.best_metrics,
                       self.stop.signal)

    def _run(self, stop_at: int | None) -> str:
        train, ctx = self.config.train, self.context
        if train.max_steps and self.step >= train.max_steps:  # resumed at the limit
            return "max steps"
        budget = 60 * train.max_minutes or math.inf
        if self.seconds >= budget:
            return "time limit"
        started = time.monotonic() - self.seconds
        while self.epoch < train.epochs:
            for batch, last_of_epoch in self._epoch_batches():
                epoch_number = self.epoch + 1
                self._train_step(batch, epoch_number)
                self.step, self.batch = self.step + 1, self.batch + 1
                if last_of_epoch:
                    self.schedule.epoch_end(epoch_number)
                    self.epoch, self.batch, self.carry = self.epoch + 1, 0, None
                self.seconds = time.monotonic() - started
                # Every process must agree to stop at the same step.
                out_of_time = ctx.any(self.seconds >= budget)
                due = self.step % train.eval_every == 0 if train.eval_every else last_of_epoch
                at_max = bool(train.max_steps) and self.step >= train.max_steps
                # A run stopped by the clock or by max_steps is validated at its last step, so
                # that its final model has a number and can become best.pt.
                improved = (due or out_of_time or at_max) and self._evaluate(epoch_number)
                self.seconds = time.monotonic() - started
                # A due evaluation that used up the budget ends the run here, already validated.
                out_of_time = out_of_time or ctx.any(self.seconds >= budget)
                early = bool(train.patience) and self.bad_evals >= train.patience
                interrupted = ctx.any(self.stop.signal is not None or self.step == stop_at)
                every = self.config.run.checkpoint_every
                save = (self.step % every == 0 if every else due) or interrupted or early \
                    or at_max or out_of_time or self.epoch == train.epochs
                if save:
                    self._save(LAST)
                if improved and self.config.run.keep_best:
                    self._save(BEST)
                for status, happened in (("interrupted", interrupted), ("early stopping", early),
                                         ("max steps", at_max), ("time limit", out_of_time)):
                    if happened:
                        return status
        return "finished"

    def _epoch_batches(self) -> Iterator[tuple[Batch | tbptt.Window | tuple[Batch, tbptt.Window],
                                               bool]]:
        """The rest of the current epoch from batch `self.batch`, each with whether it is the
        epoch's last."""
        B, n = self.config.train.batch_size, self.batches_per_epoch
        if self.config.train.tbptt:  # how many windows an epoch has shows only at its end
            ctx = self.context
            # each batch sliced and moved once, not once per window
            windows = self._windowed(self.epoch,
                                     lambda batch: batch.part(ctx.rank, ctx.world).to(ctx.device))
            items = itertools.islice(windows, self.batch, None)
            item = next(items, None)
            for following in items:
                yield item, False
                item = following
            if item is not None:
                yield item, True
            return
        if self.task.stream:
            items = iter(self.windows)
        else:
            items = self.task.batches("train", B, self.epoch, self.config.train.seed)
        for index, item in enumerate(items):
            if index >= self.batch:
                yield item, index == n - 1

    def _windowed(self, epoch: int, prepare=lambda batch: batch
                  ) -> Iterator[tuple[Batch, tbptt.Window]]:
        """`train.tbptt`: each training batch of the epoch, through `prepare`, with each of its
        k1/k2 windows."""
        train = self.config.train
        for batch in self.task.batches("train", train.batch_size, epoch, train.seed):
            batch = prepare(batch)
            for window in tbptt.windows(batch.inputs.shape[0], self.k1, self.k2):
                yield batch, window

    def _train_step(self, item: Batch | tbptt.Window | tuple[Batch, tbptt.Window],
                    epoch_number: int) -> None:
        ctx, train, model = self.context, self.config.train, self.model
        model.train()
        if self.task.stream:
            loss, sums, carry = tbptt.run_window(self.task, model, self.train_stream, item,
                                                 self.carry)
            count = (item.end - item.loss_from) * train.batch_size
        elif train.tbptt:
            batch, window = item  # this rank's slice, on its device (`_epoch_batches`)
            # A batch's first window starts from the initial state, the others from the last.
            state = self.carry if window.loss_from else None
            loss, sums, carry = tbptt.run_window(self.task, model, batch, window, state)
            count = (window.end - window.loss_from) * batch.inputs.shape[1]
        else:
            batch = item.part(ctx.rank, ctx.world).to(ctx.device)
            loss, sums = self.task.loss(self.task.outputs(model, batch), batch.targets)
            carry, count = None, item.count
        metrics = self.task.metrics(ctx.sum_values(sums))
        where = f"step {self.step + 1} (epoch {epoch_number}, batch {self.batch + 1})"
        if not math.isfinite(metrics["loss"]):
            raise _NonFinite(f"the loss is {metrics['loss']} at {where}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        ctx.average_gradients(model)
        norm = float(nn.utils.clip_grad_norm_(model.parameters(), train.clip_norm or math.inf))
        if not math.isfinite(norm):
            raise _NonFinite(f"the gradient norm is {norm} at {where}")
        if train.clip_value:
            nn.utils.clip_grad_value_(model.parameters(), train.clip_value)
        lr = self.schedule.apply(self.optimizer, self.step)
        self.optimizer.step()
        self.carry = carry
        if (self.step + 1) % train.log_every == 0:
            self.log.write({"split": "train", "step": self.step + 1, "epoch": epoch_number,
                            **metrics, "lr": lr, "grad_norm": norm})
        self.progress.step(count, metrics, self.monitor, lr)

    def _evaluate(self, epoch_number: int) -> bool:
        """Validate, log, update the schedule and early stopping; True if the monitored metric
        improved."""
        metrics = evaluate(self.task, self.model, "valid", self.config.train.batch_size,
                           self.k1, self.context.device)
        self.log.write({"split": "valid", "step": self.step, "epoch": epoch_number, **metrics})
        value = metrics[self.monitor]
        decayed = self.schedule.evaluated(self.monitor, value, epoch_number)
        self.progress.evaluated(self.step, epoch_number, metrics, self.schedule.lr(self.step))
        self.last_metrics = {"step": self.step, **metrics}
        improved = is_better(self.monitor, value, self.best)
        if improved:
            self.best, self.bad_evals, self.best_metrics = value, 0, self.last_metrics
        else:
            self.bad_evals += 1
        if decayed and self.config.schedule.restore_best and (self.folder / BEST).is_file():
            self._back_to_best()
        return improved

    def _back_to_best(self) -> None:
        """schedule.restore_best: the model and optimiser of best.pt; the counters, the data
        order and the (just decayed) schedule go on."""
        payload = checkpoint.load(self.folder / BEST)
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.progress.message(f"restored the model of step {payload['trainer']['step']} "
                              f"(best.pt), learning rate now {self.schedule.lr(self.step):.3g}")

    def _roll_back(self, problem: str) -> None:
        """After a NaN: back to the last checkpoint with a lower learning rate, or stop."""
        advice = ("lower optim.lr, clip the gradient (train.clip_norm), or set "
                  "train.on_nan = \"rollback\"")
        if self.config.train.on_nan != "rollback":
            raise TrainingError(f"{problem}; {advice}")
        if not (self.folder / LAST).is_file():
            raise TrainingError(f"{problem}, and there is no checkpoint yet to roll back to")
        if self.rollbacks >= MAX_ROLLBACKS:
            raise TrainingError(f"{problem}, after {MAX_ROLLBACKS} rollbacks with lower learning "
                                f"rates; {advice}")
        self._restore(checkpoint.load(self.folder / LAST))
        self.rollbacks += 1
        self.schedule.scale *= self.config.train.nan_lr_factor
        self.log.truncate_after(self.step)
        self.progress.rewind(self.step)
        self.progress.message(f"{problem}: rolled back to step {self.step} with the learning "
                              f"rate times {self.schedule.scale:.3g}")


def _to(state, device):
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.to(device)
    return type(state)(_to(s, device) for s in state)

"""Learning-rate schedules: warm-up, step decay, reduce-on-plateau, the floor."""

import pytest

from rnnkit.training.config import ScheduleConfig
from rnnkit.training.schedules import Schedule


def test_warm_up_is_linear_then_constant():
    schedule = Schedule(ScheduleConfig(warmup_steps=4), base_lr=0.1)
    assert [schedule.lr(s) for s in range(6)] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1,
                                                                0.1])


def test_step_decay_as_zaremba_et_al():
    # halve after epoch 4 and after every epoch since (Zaremba et al. 2014, the small model)
    schedule = Schedule(ScheduleConfig(kind="step", start_epoch=4, factor=0.5), base_lr=1.0)
    rates = []
    for epoch in range(1, 8):
        rates.append(schedule.lr(0))
        schedule.epoch_end(epoch)
    assert rates == [1, 1, 1, 1, 0.5, 0.25, 0.125]
    every_other = Schedule(ScheduleConfig(kind="step", start_epoch=1, every=2, factor=0.1), 1.0)
    for epoch in range(1, 5):
        every_other.epoch_end(epoch)
    assert every_other.lr(0) == pytest.approx(0.01)


def test_plateau_reduces_after_patience_evaluations_without_improvement():
    schedule = Schedule(ScheduleConfig(kind="plateau", patience=2, factor=0.5), base_lr=1.0)
    rates = []
    for value in [5, 4, 4.5, 4.2, 3, 3.5, 3.1, 3.2]:
        schedule.evaluated("perplexity", value)
        rates.append(schedule.lr(0))
    assert rates == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    late = Schedule(ScheduleConfig(kind="plateau", patience=1, start_epoch=3), base_lr=1.0)
    for epoch, value in enumerate([5, 6, 7, 6, 4, 5], start=1):  # worse in epochs 2 and 3
        late.evaluated("perplexity", value, epoch)
        rates.append(late.lr(0))
    assert rates[-6:] == [1, 1, 0.5, 0.25, 0.25, 0.125]  # counted from epoch 3 on
    accuracy = Schedule(ScheduleConfig(kind="plateau", patience=1), base_lr=1.0)
    accuracy.evaluated("accuracy", 0.5)
    accuracy.evaluated("accuracy", 0.6)  # higher is better for accuracy
    assert accuracy.lr(0) == 1.0


def test_min_lr_is_a_floor_and_the_state_round_trips():
    schedule = Schedule(ScheduleConfig(kind="step", factor=0.1, min_lr=0.05), base_lr=1.0)
    for epoch in range(1, 4):
        schedule.epoch_end(epoch)
    assert schedule.lr(0) == 0.05
    other = Schedule(ScheduleConfig(kind="step", factor=0.1, min_lr=0.05), base_lr=1.0)
    other.load_state_dict(schedule.state_dict())
    assert other.scale == schedule.scale

"""A NaN or infinite loss stops the run with the step named, or rolls back with a lower rate."""

import math

import pytest

from rnnkit.errors import TrainingError
from rnnkit.training.trainer import Trainer
from training_helpers import metrics, tiny


def inject_nan(trainer: Trainer, at_steps: set[int]) -> None:
    """Make the training loss NaN at these steps (each once)."""
    original = trainer.task.loss

    def loss(outputs, targets):
        value, sums = original(outputs, targets)
        step = trainer.step + 1
        if trainer.model.training and step in at_steps:
            at_steps.discard(step)
            return value * math.nan, {**sums, "squared_error": math.nan}
        return value, sums

    trainer.task.loss = loss


def test_a_nan_loss_stops_with_a_message_naming_the_step(tmp_path):
    trainer = Trainer(tiny(tmp_path / "run"))
    inject_nan(trainer, {6})
    with pytest.raises(TrainingError) as info:
        trainer.fit()
    assert str(info.value).startswith("the loss is nan at step 6 (epoch 2, batch 2); lower "
                                      "optim.lr")
    assert trainer.step == 5


def test_a_diverging_run_stops_with_the_step_named(tmp_path):
    with pytest.raises(TrainingError, match=r"is (nan|inf) at step \d+ \(epoch \d+, batch \d+\)"):
        Trainer(tiny(tmp_path / "run", optim={"name": "sgd", "lr": 1e12},
                     train={"clip_norm": 0.0, "epochs": 20})).fit()


def test_rollback_goes_back_to_the_last_checkpoint_with_a_lower_rate(tmp_path, capsys):
    folder = tmp_path / "run"
    trainer = Trainer(tiny(folder, optim={"name": "sgd", "lr": 0.1},
                           train={"on_nan": "rollback", "nan_lr_factor": 0.5},
                           run={"checkpoint_every": 2}))
    inject_nan(trainer, {5})
    assert trainer.fit().status == "finished"
    assert "the loss is nan at step 5 (epoch 2, batch 1): rolled back to step 4" in \
        capsys.readouterr().err
    train = [r for r in metrics(folder) if r["split"] == "train"]
    assert [r["step"] for r in train] == list(range(1, 9))
    assert [r["lr"] for r in train] == [0.1] * 4 + [0.05] * 4


def test_rollback_without_a_checkpoint_stops(tmp_path):
    trainer = Trainer(tiny(tmp_path / "run", train={"on_nan": "rollback"}))
    inject_nan(trainer, {2})
    with pytest.raises(TrainingError, match="at step 2 .*no checkpoint yet to roll back to"):
        trainer.fit()

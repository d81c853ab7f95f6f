"""The training loop: resume equals uninterrupted, reproducibility, early stopping, best
keeping, clipping, and bad input that leaves nothing behind."""

import math

import pytest
import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.training import checkpoint
from rnnkit.training.trainer import Trainer
from training_helpers import metrics, parameters, tiny

RESUMABLE = {
    # dropout between two layers draws from torch's generator, so its state must be restored
    "adding": dict(model={"num_layers": 2, "dropout": 0.3}, train={"epochs": 3},
                   optim={"name": "sgd", "momentum": 0.9, "lr": 0.05}),
    # a stream: the carried state and Williams & Peng's k1 != k2 windows
    "stream": dict(train={"epochs": 3}, schedule={"kind": "plateau", "patience": 1}),
    # train.tbptt: the windows of each batch of streams, the state carried within a batch
    "stack_lm": dict(train={"epochs": 3, "batch_size": 4}),
}


@pytest.mark.parametrize("task", RESUMABLE)
@pytest.mark.parametrize("stop_at", [5, 8])  # mid-epoch, and at an epoch's end (adding)
def test_resume_reaches_the_numbers_of_an_uninterrupted_run(tmp_path, task, stop_at):
    whole = Trainer(tiny(tmp_path / "whole", task, **RESUMABLE[task]))
    assert whole.fit().status == "finished"

    first = Trainer(tiny(tmp_path / "cut", task, **RESUMABLE[task]))
    outcome = first.fit(stop_at=stop_at)
    assert (outcome.status, outcome.step) == ("interrupted", stop_at)
    assert checkpoint.load(tmp_path / "cut" / "last.pt")["trainer"]["step"] == stop_at
    rest = Trainer(tiny(tmp_path / "cut", task, **RESUMABLE[task]), resume=True)
    assert rest.fit().status == "finished"

    assert rest.step == whole.step
    want, got = parameters(whole.model), parameters(rest.model)
    assert all(torch.equal(want[k], got[k]) for k in want)
    assert metrics(tmp_path / "cut") == metrics(tmp_path / "whole")


def test_records_logged_after_the_last_checkpoint_are_replaced_on_resume(tmp_path):
    folder = tmp_path / "run"
    Trainer(tiny(folder, run={"checkpoint_every": 3})).fit(stop_at=3)
    with (folder / "metrics.jsonl").open("a") as file:  # as if the run died later, mid-line
        file.write('{"split": "train", "step": 4, "loss": 1.0}\n{"split": "tr')
    Trainer(tiny(folder, run={"checkpoint_every": 3}), resume=True).fit()
    steps = [r["step"] for r in metrics(folder) if r["split"] == "train"]
    assert steps == list(range(1, 9))


def test_the_same_config_gives_the_same_numbers(tmp_path):
    for name in ("a", "b"):
        Trainer(tiny(tmp_path / name, model={"cell": "gru"})).fit()
    assert metrics(tmp_path / "a") == metrics(tmp_path / "b")
    Trainer(tiny(tmp_path / "c", model={"cell": "gru"}, train={"seed": 1})).fit()
    assert metrics(tmp_path / "c") != metrics(tmp_path / "a")


def test_the_run_folder_holds_config_metrics_checkpoints_and_plots(tmp_path):
    folder = tmp_path / "run"
    outcome = Trainer(tiny(folder, run={"plots": True})).fit()
    names = {p.name for p in folder.iterdir()}
    assert names == {"config.toml", "metrics.jsonl", "last.pt", "best.pt", "loss.png",
                     "metrics.png", "grad_norm.png"}
    assert (folder / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = metrics(folder)
    assert [r["step"] for r in records if r["split"] == "valid"] == [4, 8]
    assert {"loss", "mse", "accuracy", "lr", "grad_norm"} <= set(records[0])
    assert outcome.best == checkpoint.load(folder / "best.pt")["metrics"]["best"]


def test_clipping_by_norm_logs_the_norm_before_clipping(tmp_path):
    folder = tmp_path / "run"
    clip = 1e-3
    trainer = Trainer(tiny(folder, optim={"name": "sgd", "lr": 1.0},
                           train={"clip_norm": clip, "max_steps": 1}))
    before = parameters(trainer.model)
    trainer.fit()
    logged = metrics(folder)[0]["grad_norm"]
    after = parameters(trainer.model)
    # SGD with lr 1 moves the parameters by exactly the clipped gradient
    moved = math.sqrt(sum(float(((after[k] - before[k]) ** 2).sum()) for k in before))
    assert logged > 100 * clip
    assert moved == pytest.approx(clip, rel=1e-4)


def test_clipping_by_value_bounds_every_entry_of_the_step(tmp_path):
    trainer = Trainer(tiny(tmp_path / "run", optim={"name": "sgd", "lr": 1.0},
                           train={"clip_norm": 0.0, "clip_value": 1e-4, "max_steps": 1}))
    before = parameters(trainer.model)
    trainer.fit()
    after = parameters(trainer.model)
    largest = max(float((after[k] - before[k]).abs().max()) for k in before)
    assert largest <= 1e-4 * (1 + 1e-3)  # float32 rounding


def test_early_stopping_ends_the_run_and_best_keeps_the_best(tmp_path):
    # a learning rate this large makes validation worse, so patience 1 stops after 2 epochs
    folder = tmp_path / "run"
    outcome = Trainer(tiny(folder, optim={"name": "sgd", "lr": 5.0},
                           train={"epochs": 10, "patience": 1, "clip_norm": 0.0})).fit()
    valid = [r for r in metrics(folder) if r["split"] == "valid"]
    assert outcome.status == "early stopping" and len(valid) < 10
    best = min(valid, key=lambda r: r["mse"])
    assert checkpoint.load(folder / "best.pt")["trainer"]["step"] == best["step"]
    assert outcome.best["mse"] == best["mse"]


def test_plateau_with_restore_best_goes_back_to_the_best_model_at_each_decay(tmp_path,
                                                                            monkeypatch):
    # lr 5 makes validation worse: each worse evaluation halves the rate (patience 1) and
    # restore_best puts best.pt's model back before training goes on
    folder, restores = tmp_path / "run", []
    back_to_best = Trainer._back_to_best

    def spy(trainer):
        back_to_best(trainer)
        best = checkpoint.load(folder / "best.pt")
        same = all(torch.equal(value, best["model"][name])
                   for name, value in trainer.model.state_dict().items())
        restores.append((trainer.step, best["trainer"]["step"], same,
                         trainer.schedule.lr(trainer.step)))

    monkeypatch.setattr(Trainer, "_back_to_best", spy)
    Trainer(tiny(folder, optim={"name": "sgd", "lr": 5.0}, train={"epochs": 4, "clip_norm": 0.0},
                 schedule={"kind": "plateau", "patience": 1, "restore_best": True})).fit()
    assert restores and all(same and best < step for step, best, same, _ in restores)
    assert restores[0][3] == 2.5
    valid = [r for r in metrics(folder) if r["split"] == "valid"]
    assert [r["step"] for r in valid if r["mse"] == min(v["mse"] for v in valid)][0] == \
        checkpoint.load(folder / "best.pt")["trainer"]["step"]


def test_max_steps_ends_the_run_validated_with_best_pt(tmp_path):
    folder = tmp_path / "run"
    outcome = Trainer(tiny(folder, train={"max_steps": 3})).fit()  # an epoch is 4 steps
    assert (outcome.status, outcome.step) == ("max steps", 3)
    assert [r["step"] for r in metrics(folder) if r["split"] == "valid"] == [3]
    assert checkpoint.load(folder / "best.pt")["trainer"]["step"] == 3
    assert outcome.last == outcome.best and outcome.last["step"] == 3


def test_max_minutes_ends_the_run_validated_and_stays_ended_on_resume(tmp_path):
    folder = tmp_path / "run"
    # A budget of a microsecond runs out at the first step.
    outcome = Trainer(tiny(folder, train={"max_minutes": 1e-8, "epochs": 5})).fit()
    assert (outcome.status, outcome.step) == ("time limit", 1)
    valid = [r for r in metrics(folder) if r["split"] == "valid"]
    assert [r["step"] for r in valid] == [1]  # validated where the clock stopped it
    saved = checkpoint.load(folder / "last.pt")["trainer"]
    assert saved["step"] == 1 and saved["seconds"] > 0
    assert checkpoint.load(folder / "best.pt")["trainer"]["step"] == 1
    resumed = Trainer(tiny(folder, train={"max_minutes": 1e-8, "epochs": 5}), resume=True).fit()
    assert (resumed.status, resumed.step) == ("time limit", 1)


@pytest.mark.parametrize("sections, message", [
    ({"train": {"k1": 5, "k2": 3}}, "train.k2: expected 0 (= k1) or a value >= train.k1 (5)"),
    ({"train": {"monitor": "f1"}}, "train.monitor: expected one of loss, mse, accuracy"),
    ({"train": {"batch_size": 100}}, "train.batch_size: expected at most the 64 training"),
    ({"optim": {"name": "sgd", "nesterov": True}}, "optim.nesterov: needs optim.momentum > 0"),
    ({"schedule": {"restore_best": True}}, 'schedule.restore_best: needs schedule.kind = '
                                           '"plateau" and run.keep_best = true, got kind '
                                           "'constant' and keep_best true"),
    ({"model": {"cell": "lstm", "proj_size": 9}}, "model: proj_size: expected a value < "
                                                  "hidden_size (8), got 9"),
])
def test_bad_settings_are_named_and_leave_no_run_folder(tmp_path, sections, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Trainer(tiny(tmp_path / "run", **sections))
    assert not (tmp_path / "run").exists()


def test_a_missing_data_file_names_the_path_and_leaves_no_run_folder(tmp_path):
    missing = tmp_path / "corpus.txt"
    with pytest.raises(DataError, match=f"data.path: cannot read '{missing}'"):
        Trainer(tiny(tmp_path / "run", "language_model", data={"path": str(missing)}))
    assert not (tmp_path / "run").exists()


def test_a_text_file_trains_a_character_model(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. " * 40)
    trainer = Trainer(tiny(tmp_path / "run", "language_model", data={"path": str(corpus)},
                           train={"batch_size": 4}))
    assert trainer.fit().status == "finished"
    assert set(trainer.task.vocab.tokens) == set(corpus.read_text()) | {"<unk>"}


def test_tbptt_cuts_each_batch_of_streams_into_windows_with_the_state_carried(tmp_path):
    trainer = Trainer(tiny(tmp_path / "cut", "stack_lm", train={"batch_size": 4}))
    lengths = [len(b.inputs) for e in range(2) for b in trainer.task.batches("train", 4, e, 0)]
    windows = sum(math.ceil(t / 4) for t in lengths)  # k1 = 4 new steps a window
    assert trainer.total_steps() == windows and trainer.fit().step == windows
    # One window as long as every batch is the whole-batch update: the same weights.
    one = dict(train={"batch_size": 4, "k1": 1000, "k2": 0})
    windowed = Trainer(tiny(tmp_path / "one", "stack_lm", **one))
    whole = Trainer(tiny(tmp_path / "whole", "stack_lm", train={"batch_size": 4,
                                                                "tbptt": False}))
    assert windowed.fit().step == whole.fit().step == 4  # 8 streams // 4, 2 epochs
    want, got = parameters(whole.model), parameters(windowed.model)
    assert all(torch.allclose(want[k], got[k], atol=1e-6) for k in want)


@pytest.mark.parametrize("task", ["adding", "stream"])
def test_tbptt_is_refused_where_batches_are_not_streams_to_cut(tmp_path, task):
    with pytest.raises(ConfigError, match=rf"train.tbptt: expected false for the {task} task"):
        Trainer(tiny(tmp_path / "run", task, train={"tbptt": True}))
    assert not (tmp_path / "run").exists()

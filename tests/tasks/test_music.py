"""Polyphonic music: the NLL per time step against a hand computation, padding excluded, inputs
shifted by one step, and `rnnkit train` / `eval` / `predict` on a tiny JSB-style file."""

import json
import math
from pathlib import Path

import pytest
import torch

from rnnkit import engines
from rnnkit.cli.main import main
from rnnkit.data import NUM_KEYS
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ModelConfig
from rnnkit.tasks.music import (PADDING, MusicData, MusicTask, NoteModel, shifted,
                                 step_nll)
from rnnkit.training import config as configs
from rnnkit.training.evaluate import evaluate, load_trained

PIECES = {  # MIDI notes per quarter-note step; the pieces' lengths differ, so batches are padded
    "train": [[[60, 64, 67], [62, 65], [], [60]], [[48, 60], [50]] * 3, [[72], [74], [76]],
              [[60, 64], [60, 64], [62, 65]] * 2],
    "valid": [[[60, 64, 67], [62]], [[48], [50], [52], [53], [55]]],
    "test": [[[60], [62], [64]], [[67, 71], [], [69, 72], [67]]],
}


@pytest.fixture
def jsb(tmp_path):
    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(PIECES))
    return path


def task(path) -> MusicTask:
    return MusicTask(MusicData(str(path)), ModelConfig(hidden_size=6))


def restored() -> MusicTask:
    """A task as a checkpoint restores it: no data read."""
    return MusicTask(MusicData("unused.json"), ModelConfig(hidden_size=6), state={})


def test_the_nll_is_summed_over_keys_and_averaged_over_true_steps_by_hand():
    # two sequences of lengths 2 and 1, two keys shown (the others: logit -inf-ish, silent)
    logits = torch.full((2, 2, NUM_KEYS), -30.0)
    targets = torch.zeros(2, 2, NUM_KEYS)
    logits[0, 0, :2] = torch.tensor([0.5, -1.0])
    targets[0, 0, :2] = torch.tensor([1.0, 0.0])
    logits[1, 0, :2] = torch.tensor([2.0, 0.0])
    targets[1, 0, :2] = torch.tensor([0.0, 1.0])
    logits[0, 1, :2] = torch.tensor([-0.3, 1.5])
    targets[0, 1, :2] = torch.tensor([1.0, 1.0])
    targets[1, 1] = PADDING  # sequence 1 has one step
    logits[1, 1] = 123.0  # whatever the model says there

    def sig(z):
        return 1 / (1 + math.exp(-z))
    by_hand = -(math.log(sig(0.5)) + math.log(1 - sig(-1.0))  # step 1 of sequence 0
                + math.log(1 - sig(2.0)) + math.log(sig(0.0))  # step 2 of sequence 0
                + math.log(sig(-0.3)) + math.log(sig(1.5)))  # step 1 of sequence 1
    by_hand += 3 * (NUM_KEYS - 2) * -math.log(1 - sig(-30.0))  # the silent keys, nearly 0
    nll, steps = step_nll(logits, targets)
    assert steps == 3 and nll.item() == pytest.approx(by_hand, rel=1e-5)
    loss, sums = restored().loss(logits, targets)
    assert loss.item() == pytest.approx(by_hand / 3, rel=1e-5)
    assert restored().metrics(sums)["nll"] == pytest.approx(by_hand / 3, rel=1e-5)


def test_inputs_are_the_targets_shifted_by_one_step_and_padding_is_marked(jsb):
    music = task(jsb)
    rolls = music.rolls()["train"]
    assert rolls[0].shape == (4, NUM_KEYS) and rolls[0][0, 60 - 21] == 1 and rolls[0][2].sum() == 0
    torch.testing.assert_close(shifted(rolls[0])[1:], rolls[0][:-1])
    assert shifted(rolls[0])[0].sum() == 0  # the first step is predicted from a silent frame
    for batch in music.batches("train", 2, epoch=0, seed=0):
        x, y, lengths = batch.inputs, batch.targets, batch.lengths
        assert x.shape == y.shape == (int(lengths.max()), 2, NUM_KEYS)
        assert batch.count == int(lengths.sum())  # throughput counts the true steps
        for b, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(x[1:n, b], y[:n - 1, b])
            assert (x[0, b] == 0).all() and (x[n:, b] == 0).all() and (y[n:, b] == PADDING).all()


def test_the_split_metric_counts_every_step_once_whatever_the_batching(jsb):
    music = task(jsb)
    model = music.build_model()
    rolls = music.rolls()["test"]
    total = sum(step_nll(model(shifted(r).unsqueeze(1))[0], r.unsqueeze(1))[0].item()
                for r in rolls)
    steps = sum(len(r) for r in rolls)
    assert steps == 7
    for batch_size in (1, 2):
        assert evaluate(music, model, "test", batch_size, k1=35)["nll"] == \
            pytest.approx(total / steps, rel=1e-5)


def test_padding_changes_no_output_at_true_steps(jsb):
    music = task(jsb)
    model = music.build_model().eval()
    batch = next(music.batches("valid", 2, epoch=0, seed=0))
    logits, _ = model(batch.inputs, lengths=batch.lengths)
    noisy = batch.inputs.clone()
    noisy[2:, 0] = 1.0  # piece 0 has 2 steps: everything after them is padding
    assert batch.lengths.tolist() == [2, 5]
    torch.testing.assert_close(model(noisy, lengths=batch.lengths)[0][:2], logits[:2])


def test_errors_name_the_path_the_key_and_the_line(tmp_path, jsb):
    with pytest.raises(DataError, match=f"data.path: cannot read '{tmp_path / 'no.json'}'"):
        task(tmp_path / "no.json")
    jsb.write_text(json.dumps({"train": [[[60, 200]]], "valid": [], "test": []}))
    with pytest.raises(DataError, match="split 'train', piece 0, step 0, note 1: expected a MIDI"):
        task(jsb)
    with pytest.raises(ConfigError, match="model.bidirectional: the music task predicts"):
        MusicTask(MusicData(str(jsb)), ModelConfig(bidirectional=True))
    music = restored()
    with pytest.raises(DataError, match="input line 2: expected steps separated by spaces"):
        music.predict(music.build_model(), ["60,64 -", "60;64"])


CONFIG = """\
task = "music"
quiet = true
[model]
cell = "{cell}"
hidden_size = 8
[data]
path = "{data}"
[optim]
lr = 0.05
[train]
epochs = 5
batch_size = 2
threads = 1
device = "cpu"
[run]
folder = "{folder}"
plots = false
"""


@pytest.mark.parametrize("cell", ["gru", "elman"])
def test_train_eval_and_predict_from_the_command_line(cell, jsb, tmp_path, capsys):
    config = tmp_path / "music.toml"
    config.write_text(CONFIG.format(cell=cell, data=jsb, folder=tmp_path / "run"))
    assert main(["train", str(config)]) == 0
    assert main(["eval", str(tmp_path / "run"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    # better than the untrained model's 88 * log 2 = 61 nats per step by far
    assert metrics["split"] == "test" and metrics["nll"] == metrics["loss"] < 20
    (tmp_path / "in.txt").write_text("60,64,67 62,65 -\n48,60\n")
    assert main(["predict", str(tmp_path / "run"), "--input", str(tmp_path / "in.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line == "-" or all(21 <= int(note) <= 108 for note in line.split(","))
    trained = load_trained(tmp_path / "run")
    assert trained.task.predict(trained.model, ["48,60"]) == [lines[1]]


@pytest.mark.parametrize("name, cell, parameters", [
    ("jsb_tanh", "elman", 20_056), ("jsb_lstm", "lstm", 19_944), ("jsb_gru", "gru", 19_809),
    ("jsb_vanilla", "lstm", 20_046), ("jsb_best", "lstm", 122_968)])
def test_the_jsb_configs_have_the_parameters_their_comments_say(name, cell, parameters):
    path = Path(__file__).resolve().parents[2] / "configs" / f"{name}.toml"
    config = configs.load(path)
    assert config.task == "music" and config.model.cell == cell
    model = NoteModel(config.model)
    assert sum(p.numel() for p in model.parameters()) == parameters
    assert f"{parameters:,} parameters" in path.read_text().replace("\n# ", " ")


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")  # still works in 2.13
def test_the_note_model_exports_to_torchscript(jsb, tmp_path):
    config = tmp_path / "music.toml"
    config.write_text(CONFIG.format(cell="lstm", data=jsb, folder=tmp_path / "run"))
    assert main(["train", str(config), "--set", "train.epochs=1"]) == 0
    assert main(["export", str(tmp_path / "run"), "--format", "torchscript", "--length", "6",
                 "--output", str(tmp_path / "model.pt")]) == 0
    x = torch.randint(2, (6, 3, NUM_KEYS)).float()
    with engines.use("loop"), torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "model.pt"))(x),
                                   load_trained(tmp_path / "run").model(x)[0])

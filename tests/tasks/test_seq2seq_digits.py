"""The seq2seq task: exact match from teacher-forced logits equals greedy decoding's, by hand and
on a random model; the splits' lengths; `rnnkit train` / `eval` / `predict` on a tiny config."""

import dataclasses

import pytest
import torch

from rnnkit import engines
from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ModelConfig
from rnnkit.tasks.seq2seq_digits import Seq2SeqData, Seq2SeqTask
from rnnkit.data.seq2seq_tasks import DIGIT0, EOS, PAD, VOCAB_SIZE, exact_match
from rnnkit.training import config as configs
from tasks_helpers import train_and_eval

TINY = {"train_size": 12, "valid_size": 5, "test_size": 6, "min_len": 1, "max_len": 3,
        "test_min_len": 5, "test_max_len": 6}


def task(**data) -> Seq2SeqTask:
    return Seq2SeqTask(Seq2SeqData(**{**TINY, **data}), ModelConfig(hidden_size=8,
                                                                     embedding_size=4))


def one_hot(targets):
    return torch.nn.functional.one_hot(targets, VOCAB_SIZE).float() * 4


def test_exact_match_by_hand_padding_ignored():
    # two answers: "12" + EOS and "7" + EOS + PAD
    targets = torch.tensor([[DIGIT0 + 1, DIGIT0 + 7], [DIGIT0 + 2, EOS], [EOS, PAD]])
    reverse = task()
    logits = one_hot(targets)
    logits[2, 1, DIGIT0] = 9.0  # whatever is predicted at padding does not count
    metrics = reverse.metrics(reverse.loss(logits, targets)[1])
    assert metrics["sequence_accuracy"] == 1.0 and metrics["token_accuracy"] == 1.0
    logits[1, 0] = one_hot(torch.tensor(DIGIT0 + 3))  # "13": one of 5 tokens wrong
    sums = reverse.loss(logits, targets)[1]
    assert sums["n"] == 5 and sums["sequences"] == 2
    metrics = reverse.metrics(sums)
    assert metrics["sequence_accuracy"] == 0.5 and metrics["token_accuracy"] == 0.8
    logits[1, 1] = one_hot(torch.tensor(DIGIT0))  # "7" then a digit instead of EOS: too long
    assert reverse.metrics(reverse.loss(logits, targets)[1])["sequence_accuracy"] == 0.0


def test_teacher_forced_exact_match_is_greedy_decodings_exact_match():
    torch.manual_seed(0)
    reverse = task()
    model = reverse.build_model().eval()
    with torch.no_grad():  # a model that ends soon, so that greedy outputs end with EOS
        model.readout.bias[EOS] += 3.0
    batch = next(reverse.batches("test", 6, epoch=0, seed=0))
    greedy = model.greedy(batch.inputs, batch.lengths, max_len=20)
    # the model's own greedy outputs as answers: every teacher-forced argmax is right ...
    rows = [g + [EOS] + [PAD] * (max(map(len, greedy)) - len(g)) for g in greedy]
    targets = torch.tensor(rows).t()
    with torch.no_grad():
        outputs = reverse.outputs(model, dataclasses.replace(batch, targets=targets))
    assert reverse.metrics(reverse.loss(outputs, targets)[1])["sequence_accuracy"] == 1.0
    # ... and on the true answers, teacher forcing and greedy decoding agree sequence by sequence
    with torch.no_grad():
        outputs = reverse.outputs(model, batch)
    sums = reverse.loss(outputs, batch.targets)[1]
    answers = [[t for t in col if t not in (PAD, EOS)] for col in batch.targets.t().tolist()]
    assert sums["exact"] / sums["sequences"] == exact_match(greedy, answers)


def test_valid_has_the_training_lengths_and_test_longer_ones():
    reverse = task()
    for split, (low, high) in (("train", (1, 3)), ("valid", (1, 3)), ("test", (5, 6))):
        lengths = torch.cat([b.lengths for b in reverse.batches(split, 4, epoch=0, seed=0)])
        assert low <= int(lengths.min()) and int(lengths.max()) <= high
    assert reverse.size("train") == 12 and reverse.size("test") == 6
    batch = next(reverse.batches("test", 6, epoch=0, seed=0))
    src = batch.inputs[:, 0][:int(batch.lengths[0])].tolist()
    answer = batch.targets[:, 0].tolist()
    assert answer[:len(src) + 1] == src[::-1] + [EOS]  # reversed, then EOS
    assert len(list(reverse.batches("train", 5, epoch=0, seed=0))) == 2  # partial batch dropped


def test_errors_name_the_key_or_the_line():
    with pytest.raises(ConfigError, match="data.max_len: expected at least data.min_len"):
        task(min_len=4, max_len=3)
    with pytest.raises(ConfigError, match="data.task: expected one of copy, reverse, sort"):
        configs.from_dict({"task": "seq2seq", "data": {"task": "rotate"}})
    with pytest.raises(DataError, match="input line 3: expected a string of digits"):
        task().encode("12a", 3)
    with pytest.raises(ConfigError, match="task: export"):
        task().example_input()


CONFIG = """\
task = "seq2seq"
[model]
cell = "gru"
hidden_size = 8
embedding_size = 4
bidirectional = true
[data]
task = "copy"
train_size = 12
valid_size = 4
test_size = 4
max_len = 3
test_min_len = 4
test_max_len = 5
"""


def test_train_eval_and_predict_from_a_config(tmp_path, capsys):
    with engines.use("loop"):
        metrics = train_and_eval(tmp_path, capsys, CONFIG, batch_size=4)
        assert set(metrics) == {"split", "loss", "token_accuracy", "sequence_accuracy"}
        (tmp_path / "lines.txt").write_text("314\n2 7\n")
        assert main(["predict", str(tmp_path / "run"), "--input",
                     str(tmp_path / "lines.txt")]) == 0
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 2  # digits, or <pad>/<bos> where an untrained model emits them
        assert main(["export", str(tmp_path / "run"), "--format", "torchscript"]) == 2
        assert "task: export" in capsys.readouterr().err

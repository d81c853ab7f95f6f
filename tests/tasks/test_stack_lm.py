"""The stack_lm task: the paper's metric from a batch's outputs against hand-worked streams and
`stack_tasks`' own scoring, the curriculum by epoch, and `rnnkit train` / `eval` / `predict` /
`generate` on a tiny config."""

import math
import random

import pytest
import torch

from rnnkit import engines
from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ModelConfig
from rnnkit.tasks.stack_lm import PADDING, StackLMData, StackLMTask
from rnnkit.data.stack_tasks import TASKS, paper_metric, sequences_correct, stream
from rnnkit.training import config as configs
from rnnkit.training.evaluate import evaluate, load_trained
from tasks_helpers import train_and_eval


def task(**data) -> StackLMTask:
    options = {"train_size": 4, "sequences": 3, "train_max_n": 4, "test_max_n": 6,
               "eval_sequences": 2, **data}
    return StackLMTask(StackLMData(**options), ModelConfig(cell="stack", hidden_size=6,
                                                           stack_depth=12))


def perfect_logits(targets):
    """Logits (T, B, V) whose argmax is every true next symbol (and anything at padding)."""
    ids = targets[..., 0].clamp(min=0)
    return torch.nn.functional.one_hot(ids, 2).float() * 5


def test_a_perfect_predictor_scores_100_and_one_mistake_loses_its_size_of_n():
    anbn = task(task="anbn")
    batch = next(anbn.batches("test", 10, epoch=0, seed=0))  # n = 2 .. 6, one column each
    assert batch.inputs.shape[1] == 5 and batch.targets.shape[-1] == 2
    logits = perfect_logits(batch.targets)
    metrics = anbn.metrics(anbn.loss(logits, batch.targets)[1])
    assert metrics["accuracy"] == 1.0 and metrics["symbol_accuracy"] == 1.0
    # column 1 holds two sequences of n = 3, "aaabbb aaabbb" + the next "a": the first b is not
    # determined (n is unknown before it), the second is; predict "a" there instead
    s = anbn.streams("test")[1]
    assert s.text == "aaabbbaaabbba" and s.ns == [3, 3]
    wrong = logits.clone()
    # step t reads symbol t - 1 (step 0 the end symbol "b" before the text) and predicts symbol t
    wrong[4, 1] = torch.tensor([5.0, 0.0])  # after "aaab": the target is "b", predicted "a"
    assert batch.targets[4, 1].tolist() == [1, 3]  # "b", counting toward a sequence of n = 3
    sums = anbn.loss(wrong, batch.targets)[1]
    metrics = anbn.metrics(sums)
    assert metrics["accuracy"] == pytest.approx(4 / 5)  # n = 3 is wrong, 2, 4, 5, 6 right
    assert sums["wrong_n3"] == 1 and sums["scored_n3"] == 6  # the last two b, the next a; twice
    scored = sums["scored"]
    assert metrics["symbol_accuracy"] == pytest.approx((scored - 1) / scored)
    # a mistake on a symbol that is not determined (the first b) costs nothing
    guess = logits.clone()
    guess[2, 1] = torch.tensor([0.0, 5.0])  # after "aa": predicts b, the target is a
    assert anbn.metrics(anbn.loss(guess, batch.targets)[1])["accuracy"] == 1.0


def test_the_metric_agrees_with_scoring_each_sequence_as_stack_tasks_does():
    # random guesses on a task whose sequences do not all start alike (memorisation)
    mem = task(task="memorisation", test_max_n=5, eval_sequences=3)
    streams = mem.streams("test")
    batch = next(mem.batches("test", len(streams), epoch=0, seed=0))
    logits = torch.randn(*batch.targets.shape[:2], 3, generator=torch.Generator().manual_seed(2))
    logits = logits + 3 * torch.nn.functional.one_hot(batch.targets[..., 0].clamp(min=0), 3)
    ns, correct = [], []
    for b, s in enumerate(streams):
        # step t predicts symbol t of the text (step 0 reads the end symbol before it), and
        # sequences_correct takes the guesses for symbols 1, 2, ...
        guesses = logits[1:len(s.text), b].argmax(-1)
        ns += s.ns
        correct += sequences_correct(TASKS["memorisation"], guesses, s)
    expected = paper_metric(ns, correct)
    assert 0 < expected < 1  # the example has right and wrong sizes
    assert mem.metrics(mem.loss(logits, batch.targets)[1])["accuracy"] == pytest.approx(expected)


def test_padding_is_skipped_and_the_loss_is_per_symbol():
    anbn = task()
    batch = next(anbn.batches("valid", 3, epoch=0, seed=0))  # n = 2, 3, 4: lengths differ
    lengths = batch.lengths.tolist()
    assert lengths == [len(s.text) for s in anbn.streams("valid")]
    assert (batch.targets[lengths[0]:, 0, 0] == PADDING).all()
    logits = torch.zeros(*batch.targets.shape[:2], 2)
    loss, sums = anbn.loss(logits, batch.targets)
    assert sums["n"] == sum(lengths) == batch.count
    assert loss.item() == pytest.approx(math.log(2))


def test_the_curriculum_grows_n_by_one_per_epoch_and_the_data_is_a_function_of_the_epoch():
    anbn = task(train_max_n=6, train_size=20, sequences=5)

    def sizes(epoch, seed=0):
        return {n for s in anbn.streams("train", epoch, seed) for n in s.ns}

    assert sizes(0) == {2} and sizes(1) == {2, 3} and sizes(3) == {2, 3, 4, 5}
    assert sizes(10) == {2, 3, 4, 5, 6}  # up to train_max_n
    assert task(curriculum=False, train_max_n=6, train_size=20).train_sizes(0) == range(2, 7)
    slower = task(train_max_n=6, curriculum_epochs=3)  # one more size every 3 epochs
    assert [slower.train_sizes(e) for e in (0, 2, 3, 5, 6, 30)] == [
        range(2, 3), range(2, 3), range(2, 4), range(2, 4), range(2, 5), range(2, 7)]
    first = [b.inputs for b in anbn.batches("train", 6, epoch=2, seed=0)]
    again = [b.inputs for b in anbn.batches("train", 6, epoch=2, seed=0)]
    assert len(first) == 3  # 20 streams // 6, the partial batch dropped
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    other = next(anbn.batches("train", 6, epoch=2, seed=1)).inputs
    assert not torch.equal(first[0][:len(other)], other[:len(first[0])])
    assert anbn.size("train") == 20 and anbn.size("valid") == 5 and anbn.size("test") == 5


def test_errors_name_the_key():
    with pytest.raises(ConfigError, match="data.task: expected one of anbn, anbncn"):
        configs.from_dict({"task": "stack_lm", "data": {"task": "abc"}})
    with pytest.raises(ConfigError, match="model.stack_discrete: expected one of never"):
        configs.from_dict({"task": "stack_lm", "model": {"stack_discrete": "sometimes"}})
    with pytest.raises(ConfigError, match="data.train_max_n: expected a value >= 2"):
        configs.from_dict({"task": "stack_lm", "data": {"train_max_n": 1}})
    with pytest.raises(ConfigError, match="model.bidirectional: a language model reads left"):
        StackLMTask(StackLMData(), ModelConfig(bidirectional=True)).build_model()
    with pytest.raises(ConfigError, match="model: k: expected at most depth=1"):
        StackLMTask(StackLMData(), ModelConfig(cell="stack", stack_depth=1)).build_model()
    with pytest.raises(DataError, match="input line 2: expected tokens of the vocabulary"):
        task().encode("aabx", 2)


def test_a_line_is_read_after_the_end_symbol_as_training_streams_are():
    anbncn = task(task="anbncn")
    encoded = anbncn.encode("a a b", 1)
    assert encoded.inputs[:, 0].tolist() == [2, 0, 0, 1] and encoded.labels == list("caab")
    batch = next(anbncn.batches("train", 1, epoch=0, seed=0))
    assert batch.inputs[0, 0] == 2  # "c", the end of an imagined sequence before the stream
    assert anbncn.start_token == "c"


CONFIG = """\
task = "stack_lm"
[model]
cell = "stack"
hidden_size = 6
stacks = 2
stack_depth = 12
stack_discrete = "eval"
[data]
task = "anbn"
train_size = 6
sequences = 2
train_max_n = 4
test_max_n = 6
eval_sequences = 2
"""


def test_train_eval_predict_and_generate_from_a_config(tmp_path, capsys):
    with engines.use("loop"):
        metrics = train_and_eval(tmp_path, capsys, CONFIG, batch_size=3)
        assert set(metrics) == {"split", "loss", "symbol_accuracy", "accuracy"}
        assert 0 <= metrics["accuracy"] <= 1
        trained = load_trained(tmp_path / "run")
        assert trained.model.rnn.cells[0][0].rounds()  # eval mode: the paper's rounding
        assert evaluate(trained.task, trained.model, "test", 3, 1) == pytest.approx(
            {k: v for k, v in metrics.items() if k != "split"})
        (tmp_path / "lines.txt").write_text("aab\na a b b\n")
        assert main(["predict", str(tmp_path / "run"), "--input",
                     str(tmp_path / "lines.txt")]) == 0
        assert all(p in ("a", "b") for p in capsys.readouterr().out.split())
        assert main(["generate", str(tmp_path / "run"), "--prime", "aab", "--length", "5",
                     "--greedy"]) == 0
        out = capsys.readouterr().out.strip()
        assert out.startswith("aab") and len(out) == 8 and set(out) <= {"a", "b"}


def test_the_stack_cell_is_built_from_the_model_section():
    cell = task().build_model().rnn.cells[0][0]
    assert (cell.hidden_size, cell.num_stacks, cell.depth, cell.k) == (6, 1, 12, 2)
    assert cell.no_op and cell.discrete == "never"
    stream(TASKS["anbn"], [2], random.Random(0))  # the generator the task draws from

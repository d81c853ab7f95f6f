"""Sentence classification: pooling over padded sequences, the classifier, the SST task on tiny
treebank files, and `rnnkit train` / `eval` / `predict` on them."""

import json
import math
from pathlib import Path

import pytest
import torch

from rnnkit import engines
from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.layers.tree import IGNORE
from rnnkit.models import ModelConfig
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.pooling import POOLINGS, SequencePooling
from rnnkit.tasks.sst import SSTData, SSTTask, binary_hits, labelled_examples
from rnnkit.training import config as configs
from rnnkit.training.config import from_dict
from rnnkit.training.evaluate import load_trained
from rnnkit.training.trainer import Trainer

LENGTHS = torch.tensor([5, 2, 4, 1])


def padded_garbage(x, lengths):
    """x (T, B, ...) with everything after each sequence's end replaced by random values."""
    padding = torch.arange(x.shape[0])[:, None] >= lengths[None, :]  # (T, B)
    noise = torch.randn_like(x.float()).to(x.dtype) * 7 if x.is_floating_point() \
        else torch.randint_like(x, 2, 30)
    return torch.where(padding.view(*padding.shape, *[1] * (x.dim() - 2)), noise, x)


@pytest.mark.parametrize("kind", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pooling_ignores_what_padded_steps_hold(kind, bidirectional):
    torch.manual_seed(0)
    pool = SequencePooling(kind, 6, bidirectional)
    outputs = torch.randn(5, 4, 6)
    assert pool(outputs, LENGTHS).shape == (4, 6)
    torch.testing.assert_close(pool(padded_garbage(outputs, LENGTHS), LENGTHS),
                               pool(outputs, LENGTHS))


def test_mean_max_and_last_read_each_sequence_to_its_true_end():
    outputs = torch.randn(5, 4, 6)
    for b, n in enumerate(LENGTHS.tolist()):
        steps = outputs[:n, b]
        torch.testing.assert_close(SequencePooling("mean", 6)(outputs, LENGTHS)[b], steps.mean(0))
        torch.testing.assert_close(SequencePooling("max", 6)(outputs, LENGTHS)[b],
                                   steps.max(0).values)
        torch.testing.assert_close(SequencePooling("last", 6)(outputs, LENGTHS)[b], steps[-1])
        # bidirectional: the forward half at the true end, the backward half at the first step
        both = SequencePooling("last", 6, bidirectional=True)(outputs, LENGTHS)[b]
        torch.testing.assert_close(both, torch.cat([steps[-1, :3], steps[0, 3:]]))
    no_lengths = SequencePooling("last", 6)(outputs)
    torch.testing.assert_close(no_lengths, outputs[-1])


def test_attention_weights_are_a_softmax_over_the_true_steps():
    pool = SequencePooling("attention", 6)
    outputs = torch.randn(5, 4, 6)
    mask = torch.arange(5)[:, None] < LENGTHS[None, :]
    _, weights = pool.attention(pool.query.expand(4, 6), pool.attention.project_keys(outputs),
                                outputs, mask)
    assert (weights[~mask] == 0).all()
    torch.testing.assert_close(weights.sum(0), torch.ones(4))


def classifier(**options):
    cfg = ModelConfig(**{"hidden_size": 8, "embedding_size": 5, **options})
    return SequenceClassifier(cfg, vocab_size=30, num_classes=3).eval()


@pytest.mark.parametrize("options", [
    {"pooling": "last"}, {"pooling": "last", "bidirectional": True, "num_layers": 2},
    {"pooling": "mean", "cell": "gru", "bidirectional": True}, {"pooling": "max", "cell": "elman"},
    {"pooling": "attention", "bidirectional": True},
])
def test_the_classifier_gives_logits_that_padding_does_not_change(options):
    torch.manual_seed(0)
    model = classifier(**options)
    x = torch.randint(2, 30, (5, 4))
    x = torch.where(torch.arange(5)[:, None] < LENGTHS[None, :], x, 0)
    logits, _ = model(x, lengths=LENGTHS)
    assert logits.shape == (4, 3)
    torch.testing.assert_close(model(padded_garbage(x, LENGTHS), lengths=LENGTHS)[0], logits)
    # each sequence alone, unpadded, gets the same logits
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(model(x[:n, b:b + 1])[0][0], logits[b])


def test_dropouts_are_off_in_eval_mode_and_on_in_training():
    torch.manual_seed(0)
    model = classifier(pooling="mean", embedding_dropout=0.5, head_dropout=0.5,
                       variational=True)
    x = torch.randint(2, 30, (5, 4))
    torch.testing.assert_close(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])


# --- the SST task ---------------------------------------------------------------------------
TREES = {  # (root label, sentence): a tiny treebank, with phrases of their own labels
    "train.txt": ["(3 (2 A) (4 (3 good) (2 film)))", "(1 (2 A) (1 (0 bad) (2 film)))",
                  "(2 (2 A) (2 film))", "(4 (3 good) (4 (4 Great) (2 film)))",
                  "(0 (0 bad) (1 (2 dull) (2 film)))", "(3 (2 film) (3 good))"],
    "dev.txt": ["(4 (4 great) (2 film))", "(2 (2 a) (2 film))", "(0 (0 bad) (2 film))"],
    "test.txt": ["(3 (3 good) (2 unseen))", "(1 (1 bad) (2 film))", "(2 (2 film) (2 .))"],
}


@pytest.fixture
def sst(tmp_path):
    """A folder of tiny treebank files."""
    for name, lines in TREES.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return tmp_path


def task(folder, **data):
    return SSTTask(SSTData(str(folder), **data), ModelConfig(hidden_size=4))


def test_sst_reads_sentences_with_root_labels_and_binary_drops_neutral(sst):
    fine = task(sst, granularity="fine")
    assert [fine.size(s) for s in ("train", "valid", "test")] == [6, 3, 3]
    assert fine.split("train").labels.tolist() == [3, 1, 2, 4, 0, 3]
    assert fine.labels[4] == "very positive"
    binary = task(sst)  # binary is the default
    assert [binary.size(s) for s in ("train", "valid", "test")] == [5, 2, 2]
    assert binary.split("train").labels.tolist() == [1, 0, 1, 0, 1]
    assert binary.labels == ("negative", "positive")
    # lower case and min_freq: "Great" is "great", seen once; words seen once are unknown
    vocab = task(sst, min_freq=2).vocab
    assert vocab.tokens == ["<pad>", "<unk>", "film", "good", "a", "bad"]
    assert "Great" in task(sst, lowercase=False).vocab


def test_binary_hits_read_a_fine_prediction_as_negative_or_positive():
    probs = torch.tensor([[0.1, 0.3, 0.4, 0.1, 0.1],   # negative 0.4 > positive 0.2
                          [0.0, 0.2, 0.5, 0.3, 0.0],   # positive 0.3 > 0.2, though neutral wins
                          [0.3, 0.0, 0.0, 0.3, 0.4],   # positive 0.7
                          [0.6, 0.1, 0.1, 0.1, 0.1],   # a neutral label: not counted
                          [0.6, 0.1, 0.1, 0.1, 0.1]])  # no label: not counted
    labels = torch.tensor([1, 3, 0, 2, IGNORE])
    assert binary_hits(probs.clamp_min(1e-9).log(), labels) == (2, 3)  # the third is wrong


def test_a_fine_model_also_reports_binary_accuracy_on_non_neutral_sentences(sst):
    fine, binary = task(sst, granularity="fine"), task(sst)
    assert fine.metric_names == ("loss", "accuracy", "binary_accuracy")
    assert binary.metric_names == ("loss", "accuracy")
    logits = torch.tensor([[0.0, 0, 0, 0, 5], [0, 0, 5, 0, 0], [0, 0, 0, 5, 0]])  # 4, 2, 3
    _, sums = fine.loss(logits, torch.tensor([4, 2, 0]))  # dev's labels, the last one wrong
    metrics = fine.metrics(sums)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["binary_accuracy"] == pytest.approx(1 / 2)  # the neutral one left out
    _, sums = fine.loss(logits[1:2], torch.tensor([2]))
    assert math.isnan(fine.metrics(sums)["binary_accuracy"])  # nothing to count
    _, sums = binary.loss(logits[:, :2], torch.tensor([1, 0, 0]))
    assert "binary_accuracy" not in binary.metrics(sums)


def test_phrases_add_each_distinct_labelled_subtree_of_the_training_trees(sst):
    fine, binary = task(sst, granularity="fine", phrases=True), task(sst, phrases=True)
    words = [tuple(w) for w, _ in labelled_examples(fine._read("train"), "fine", True)]
    assert len(words) == len(set(words)) == fine.size("train") == 16
    assert ("A", "good", "film") in words and ("film",) in words
    # binary: the non-neutral phrases, those of the neutral sentence "A film" included (none)
    assert binary.size("train") == 12
    assert fine.size("valid") == 3  # evaluation stays on sentences


def test_a_batch_is_padded_with_lengths_and_bucketed(sst):
    sst_task = task(sst, granularity="fine", phrases=True)
    batches = list(sst_task.batches("train", 4, epoch=0, seed=0))
    assert len(batches) == 16 // 4  # the last partial batch dropped, as in every task
    for batch in batches:
        assert batch.inputs.shape == (int(batch.lengths.max()), 4)
        assert (batch.inputs[torch.arange(batch.inputs.shape[0])[:, None]
                             >= batch.lengths] == 0).all()
        assert int(batch.lengths.max() - batch.lengths.min()) <= 1  # similar lengths together
    order = [b.targets.tolist() for b in sst_task.batches("train", 4, epoch=0, seed=0)]
    assert order == [b.targets.tolist() for b in batches]  # a function of (seed, epoch)
    valid = list(sst_task.batches("valid", 2, epoch=0, seed=0))
    assert sum(b.size for b in valid) == 3  # other splits are whole


def test_bad_granularity_and_missing_data_are_errors_that_name_them(sst, tmp_path):
    with pytest.raises(ConfigError, match="data.granularity: expected one of fine, binary, "
                                          "got 'coarse'"):
        from_dict({"task": "sst", "data": {"path": str(sst), "granularity": "coarse"}})
    with pytest.raises(ConfigError, match="data.path: required"):
        from_dict({"task": "sst"})
    with pytest.raises(ConfigError, match="model.pooling: expected one of last, mean, max, "
                                          "attention, got 'sum'"):
        from_dict({"task": "sst", "data": {"path": "."}, "model": {"pooling": "sum"}})
    with pytest.raises(ConfigError, match="model.head_dropout: expected a value < 1.0, got 1.0"):
        from_dict({"task": "sst", "data": {"path": "."}, "model": {"head_dropout": 1}})
    (sst / "dev.txt").unlink()
    with pytest.raises(DataError, match=f"data.path: cannot read '{sst / 'dev.txt'}'"):
        task(sst)
    (sst / "dev.txt").write_text("(3 (2 A) (4 good film))\n")
    with pytest.raises(DataError, match=r"dev.txt, line 1, column 18: expected '\)'"):
        task(sst)


# --- end to end -----------------------------------------------------------------------------
CONFIG = """\
task = "sst"
quiet = true
[model]
hidden_size = 8
embedding_size = 6
bidirectional = true
pooling = "mean"
[data]
path = "{data}"
granularity = "fine"
phrases = true
[optim]
lr = 0.05
[train]
epochs = 10
batch_size = 4
threads = 1
device = "cpu"
[run]
folder = "{folder}"
plots = false
"""


@pytest.fixture
def trained(sst, tmp_path_factory):
    """A tiny SST run: its folder."""
    folder = tmp_path_factory.mktemp("sst_run")
    config = folder / "sst.toml"
    config.write_text(CONFIG.format(data=sst, folder=folder / "run"))
    assert main(["train", str(config)]) == 0
    return folder / "run"


def test_train_eval_and_predict_on_raw_sentences(trained, sst, tmp_path, capsys):
    assert main(["eval", str(trained), "--split", "train", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert metrics["accuracy"] > 0.5  # 16 phrases, 10 epochs: mostly learnt
    # The vocabulary travels in the checkpoint: predict needs no data.
    vocabulary = load_trained(trained).task.vocab.tokens
    for path in sst.iterdir():
        path.unlink()
    restored = load_trained(trained).task
    assert restored.vocab.tokens == vocabulary
    (tmp_path / "in.txt").write_text("good film\n\nA  Great never-seen film .\n")
    assert main(["predict", str(trained), "--input", str(tmp_path / "in.txt")]) == 0
    labels = capsys.readouterr().out.splitlines()
    assert len(labels) == 2 and set(labels) <= set(restored.labels)
    assert labels[0] == restored.predict(load_trained(trained).model, ["Good film"])[0]


@pytest.mark.parametrize("granularity", ["binary", "fine"])
def test_the_sst_configs_load(granularity):
    config = configs.load(Path(__file__).resolve().parents[2] / "configs"
                          / f"sst_{granularity}.toml")
    assert (config.task, config.data.granularity, config.model.pooling) == (
        "sst", granularity, "mean")
    assert config.model.bidirectional and config.data.phrases


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")  # still works in 2.13
def test_the_classifier_exports_to_torchscript(trained, tmp_path):
    assert main(["export", str(trained), "--format", "torchscript",
                 "--output", str(tmp_path / "model.pt")]) == 0
    restored = load_trained(trained)
    model = restored.model
    x = torch.randint(len(restored.task.vocab), (20, 3))  # the exported length, any batch
    with engines.use("loop"), torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "model.pt"))(x), model(x)[0])


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(sst, tmp_path):
    """Bucketed batches and dropout: the order and the masks come back with the checkpoint."""
    def config(folder):
        return from_dict({"task": "sst", "quiet": True,
                          "model": {"hidden_size": 6, "embedding_dropout": 0.3,
                                    "head_dropout": 0.3, "pooling": "attention"},
                          "data": {"path": str(sst), "granularity": "fine", "phrases": True},
                          "train": {"epochs": 3, "batch_size": 4, "threads": 1,
                                    "device": "cpu"},
                          "run": {"folder": str(folder), "plots": False}})
    whole = Trainer(config(tmp_path / "whole"))
    whole.fit()
    Trainer(config(tmp_path / "parts")).fit(stop_at=5)  # inside epoch 2 of 4 batches each
    resumed = Trainer(config(tmp_path / "parts"), resume=True)
    resumed.fit()
    for name, value in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, rtol=0, atol=0)

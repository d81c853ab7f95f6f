"""The tagging task on tiny CoNLL files: reading (columns, schemes, vocabularies), errors that
name the file and line, batches, conlleval's metrics, and `rnnkit train` / `eval` / `predict`
with a checkpoint round trip."""

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ModelConfig
from rnnkit.tasks.tagging import PAD_TAG, Scored, TaggingData, TaggingTask
from rnnkit.tasks.base import is_better
from rnnkit.training import config as configs
from rnnkit.training.config import from_dict
from rnnkit.training.evaluate import evaluate, load_trained
from rnnkit.training.trainer import Trainer

# token POS chunk NER, as CoNLL-2003 is released; tags in IOB2
TRAIN = """\
-DOCSTART- -X- -X- O

John NNP B-NP B-PER
Smith NNP I-NP I-PER
visited VBD B-VP O
Paris NNP B-NP B-LOC
in IN B-PP O
1996 CD B-NP O
. . O O

The DT B-NP O
EU NNP I-NP B-ORG
said VBD B-VP O

Mary NNP B-NP B-PER
lives VBZ B-VP O
in IN B-PP O
New NNP B-NP B-LOC
York NNP I-NP I-LOC

john NNP B-NP B-PER
said VBD B-VP O
"""
VALID = """\
Mary NNP B-NP B-PER
visited VBD B-VP O
Paris NNP B-NP B-LOC

the DT B-NP O
EU NNP I-NP B-ORG
"""
TEST = """\
Smith NNP B-NP B-PER
lives VBZ B-VP O
in IN B-PP O
Rome NNP B-NP B-LOC
"""


@pytest.fixture
def conll(tmp_path):
    """A folder of tiny CoNLL files."""
    for name, text in (("train.txt", TRAIN), ("valid.txt", VALID), ("test.txt", TEST)):
        (tmp_path / name).write_text(text)
    return tmp_path


def task(folder, model=None, **data):
    return TaggingTask(TaggingData(str(folder), **data), model or ModelConfig(hidden_size=4))


def test_reads_tokens_and_tags_converts_the_scheme_and_counts_vocabularies(conll):
    iobes = task(conll, model=ModelConfig(char_encoder="lstm"))
    assert [iobes.size(s) for s in ("train", "valid", "test")] == [4, 2, 1]
    assert iobes.tags.tokens == ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-ORG", "I-ORG",
                                 "E-ORG", "S-ORG", "B-PER", "I-PER", "E-PER", "S-PER"]
    first = iobes.split("train").tags[0]
    assert iobes.tags.decode(first) == ["B-PER", "E-PER", "O", "S-LOC", "O", "O", "O"]
    bio = task(conll, scheme="BIO")
    assert bio.tags.tokens == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert bio.tags.decode(bio.split("train").tags[0])[:4] == ["B-PER", "I-PER", "O", "B-LOC"]
    # words: min_freq, lower case, digits; characters as written
    assert task(conll, min_freq=2).words.tokens == ["<pad>", "<unk>", "in", "said"]
    assert "john" in task(conll, lowercase=True).words and "John" not in task(
        conll, lowercase=True).words
    assert "0000" in task(conll, zero_digits=True).words and "1996" in task(conll).words
    assert {"J", "1", "."} <= set(iobes.chars.tokens)
    # another tag column: the chunks
    chunks = task(conll, tag_column=2, scheme="BIO")
    assert chunks.tags.tokens == ["O", "B-NP", "I-NP", "B-PP", "I-PP", "B-VP", "I-VP"]


def test_inputs_hold_word_ids_then_characters(conll):
    with_chars = task(conll, model=ModelConfig(char_encoder="cnn"))
    x = with_chars.token_ids(["EU", "said", "Zürich"])
    assert x.shape == (3, 1 + 6)
    assert x[0, 0] == with_chars.words.encode(["EU"])[0]
    assert x[1, 1:5].tolist() == with_chars.chars.encode("said") and x[1, 5:].tolist() == [0, 0]
    assert x[2, 0] == with_chars.words.unk_index and with_chars.chars.unk_index in x[2].tolist()
    assert task(conll).encode("EU said").inputs.shape == (2, 1, 1)  # no characters: no columns


def test_a_batch_is_padded_with_lengths_and_targets_marked(conll):
    tagging = task(conll, model=ModelConfig(char_encoder="lstm"))
    batches = list(tagging.batches("train", 2, epoch=0, seed=0))
    assert len(batches) == 2  # the last partial batch dropped
    for batch in batches:
        T = int(batch.lengths.max())
        assert batch.inputs.shape[:2] == (T, 2) and batch.targets.shape == (T, 2)
        padding = torch.arange(T)[:, None] >= batch.lengths
        assert (batch.targets[padding] == PAD_TAG).all() and (batch.inputs[padding] == 0).all()
        assert (batch.targets[~padding] >= 0).all()
        assert batch.count == int(batch.lengths.sum())
    assert sum(b.size for b in tagging.batches("valid", 4, 0, 0)) == 2


def test_singleton_unk_hides_only_words_seen_once_in_training_batches(conll):
    tagging = task(conll, singleton_unk=0.5, model=ModelConfig(char_encoder="lstm"))
    counts = Counter(tagging.word(t) for s in TRAIN.split("\n\n")[1:] for line in s.splitlines()
                     for t in line.split()[:1])
    singletons = {tagging.words.encode([w])[0] for w, n in counts.items() if n == 1}
    assert tagging.words.encode(["visited"])[0] in singletons and len(singletons) > 5
    plain = task(conll, model=ModelConfig(char_encoder="lstm"))
    hidden = shown = 0
    for epoch in range(40):
        for ours, theirs in zip(tagging.batches("train", 2, epoch, seed=3),
                                plain.batches("train", 2, epoch, seed=3), strict=True):
            words, original = ours.inputs[..., 0], theirs.inputs[..., 0]
            changed = words != original
            assert (words[changed] == tagging.words.unk_index).all()
            assert set(original[changed].tolist()) <= singletons
            assert torch.equal(ours.inputs[..., 1:], theirs.inputs[..., 1:])  # characters kept
            is_singleton = torch.isin(original, torch.tensor(sorted(singletons)))
            hidden += int(changed.sum())
            shown += int((is_singleton & ~changed).sum())
    assert 0.4 < hidden / (hidden + shown) < 0.6
    again = [b.inputs for b in tagging.batches("train", 2, 7, seed=3)]
    assert all(torch.equal(a, b.inputs) for a, b in zip(again, tagging.batches("train", 2, 7, 3)))
    for ours, theirs in zip(tagging.batches("valid", 2, 0, 0), plain.batches("valid", 2, 0, 0)):
        assert torch.equal(ours.inputs, theirs.inputs)  # only training batches
    with pytest.raises(ConfigError, match="data.singleton_unk: needs data.min_freq = 1.*got "
                                          "min_freq = 2"):
        task(conll, singleton_unk=0.5, min_freq=2)


def test_the_metrics_are_conllevals(conll):
    tagging = task(conll, scheme="BIO", model=ModelConfig(hidden_size=4, head="softmax"))
    head = tagging.build_model().head
    tags = tagging.tags
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "O", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "O", "B-PER", "O"]]
    targets = torch.tensor([tags.encode(g) for g in gold]).t()
    # emissions that make the predicted tags the argmax
    emissions = torch.nn.functional.one_hot(torch.tensor([tags.encode(p) for p in predicted]).t(),
                                            len(tags)).float() * 20
    loss, sums = tagging.loss(Scored(emissions, head), targets)
    assert sums["n"] == 8 and sums["right"] == 6
    assert (sums["chunks_correct"], sums["chunks_gold"], sums["chunks_found"]) == (2, 3, 4)
    metrics = tagging.metrics(sums)
    assert metrics["accuracy"] == 6 / 8
    assert (metrics["precision"], metrics["recall"]) == (2 / 4, 2 / 3)
    assert metrics["f1"] == pytest.approx(2 * 2 / (3 + 4))
    assert metrics["loss"] == pytest.approx(loss.item())


def test_f1_precision_and_recall_are_maximised():
    assert is_better("f1", 0.9, 0.8) and not is_better("f1", 0.7, 0.8)
    assert is_better("recall", 0.9, 0.8) and is_better("loss", 0.7, 0.8)


# --- bad input ------------------------------------------------------------------------------
def test_a_line_with_the_wrong_number_of_columns_names_file_and_line(conll):
    (conll / "valid.txt").write_text(VALID.replace("Paris NNP B-NP B-LOC", "Paris B-LOC"))
    with pytest.raises(DataError, match=f"{conll / 'valid.txt'}, line 3: expected 4 columns "
                                        f"\\(as on line 1\\), got 2: 'Paris B-LOC'"):
        task(conll)


def test_an_unknown_tag_names_file_and_line(conll):
    (conll / "test.txt").write_text(TEST.replace("B-LOC", "B-CITY"))
    with pytest.raises(DataError, match=f"{conll / 'test.txt'}, line 4: expected a tag in the "
                                        f"tag set .*got 'B-CITY'"):
        task(conll)
    (conll / "test.txt").write_text(TEST)
    (conll / "train.txt").write_text(TRAIN.replace("I-LOC", "LOC"))
    with pytest.raises(DataError, match=f"{conll / 'train.txt'}, line 19: expected a tag in the "
                                        f"tag set .*got 'LOC'"):
        task(conll)


def test_config_errors_name_their_keys(conll):
    with pytest.raises(ConfigError, match="data.scheme: expected one of BIO, IOBES, got 'IOB1'"):
        from_dict({"task": "tagging", "data": {"path": str(conll), "scheme": "IOB1"}})
    with pytest.raises(ConfigError, match="model.char_encoder: expected one of none, lstm, cnn"):
        from_dict({"task": "tagging", "data": {"path": "."}, "model": {"char_encoder": "gru"}})
    with pytest.raises(ConfigError, match="model.delay: .*got 3"):
        task(conll, model=ModelConfig(bidirectional=True, delay=3))
    with pytest.raises(DataError, match="data.path: cannot read"):
        task(conll / "nowhere")


# --- end to end -----------------------------------------------------------------------------
def train(conll, folder, head="crf") -> Path:
    """`rnnkit train` of a tiny BiLSTM tagger with a character BiLSTM: its run folder."""
    config = from_dict({"task": "tagging", "quiet": True,
                        "model": {"head": head, "hidden_size": 8, "embedding_size": 6,
                                  "bidirectional": True, "char_encoder": "lstm",
                                  "char_embedding_size": 4, "char_hidden_size": 3},
                        "data": {"path": str(conll)}, "optim": {"lr": 0.05},
                        "train": {"epochs": 30, "batch_size": 2, "threads": 1, "device": "cpu"},
                        "run": {"folder": str(folder / "run"), "plots": False}})
    (folder / "tagging.toml").write_text(configs.to_toml(config))
    assert main(["train", str(folder / "tagging.toml")]) == 0
    return folder / "run"


@pytest.fixture
def trained(conll, tmp_path_factory):
    """A tiny BiLSTM-CRF run: its folder."""
    return train(conll, tmp_path_factory.mktemp("tagging_run"))


def test_train_eval_and_predict_raw_text_and_conll(trained, conll, tmp_path, capsys):
    assert main(["eval", str(trained), "--split", "train", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert metrics["f1"] > 0.8 and metrics["accuracy"] > 0.9  # 5 sentences, learnt
    # The vocabularies travel in the checkpoint: predict needs no data.
    for path in conll.iterdir():
        path.unlink()
    (tmp_path / "in.txt").write_text("John Smith visited Paris .\n\n  the  EU said\n")
    assert main(["predict", str(trained), "--input", str(tmp_path / "in.txt")]) == 0
    out = capsys.readouterr().out
    blocks = out.split("\n\n")
    assert blocks[2] == "" and len(blocks) == 3  # a blank line after each sentence
    lines = [line.split("\t") for line in blocks[0].splitlines()]
    assert [token for token, _ in lines] == ["John", "Smith", "visited", "Paris", "."]
    tags = load_trained(trained).task.tags.tokens
    assert all(tag in tags for _, tag in lines)
    # a CoNLL file gives the same tags for the same sentences; its other columns are ignored
    (tmp_path / "in.conll").write_text("-DOCSTART- O\n\nJohn B-PER\nSmith I-PER\nvisited O\n"
                                       "Paris B-LOC\n. O\n\nthe O\nEU B-ORG\nsaid O\n")
    assert main(["predict", str(trained), "--conll", "--input",
                 str(tmp_path / "in.conll")]) == 0
    assert capsys.readouterr().out == out


def test_a_checkpoint_round_trip_gives_the_same_model_and_predictions(conll, tmp_path):
    config = from_dict({"task": "tagging", "quiet": True,
                        "model": {"hidden_size": 5, "head": "hybrid", "char_encoder": "cnn",
                                  "delay": 1, "constraints": True},
                        "data": {"path": str(conll), "scheme": "BIO"},
                        "train": {"epochs": 2, "batch_size": 2, "threads": 1, "device": "cpu"},
                        "run": {"folder": str(tmp_path / "run"), "plots": False}})
    trainer = Trainer(config)
    trainer.fit()
    counts = trainer.model.head.hmm.transition_counts
    assert counts.sum() == sum(n - 1 for n in trainer.task.split("train").lengths.tolist())
    restored = load_trained(tmp_path / "run" / "last.pt")
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(restored.model.state_dict()[name], value, rtol=0, atol=0)
    lines = ["Mary visited Rome", "John said ."]
    assert restored.task.predict(restored.model, lines) == trainer.task.predict(
        trainer.model.eval(), lines)
    assert evaluate(restored.task, restored.model, "test", 2, 35) == evaluate(
        trainer.task, trainer.model, "test", 2, 35)


def test_predict_errors(trained, tmp_path, capsys):
    (tmp_path / "bad.conll").write_text("John B-PER\nSmith\n")
    assert main(["predict", str(trained), "--conll", "--input", str(tmp_path / "bad.conll")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.conll'}, line 2: expected 2 columns (as on line 1)" in err


def test_the_conll_config_and_its_variants_load():
    path = Path(__file__).resolve().parents[2] / "configs" / "conll_bilstm_crf.toml"
    config = configs.load(path)
    assert (config.task, config.model.head, config.model.char_encoder) == ("tagging", "crf",
                                                                          "lstm")
    assert config.model.bidirectional and config.data.scheme == "IOBES"
    assert config.train.threads == 1 and config.model.embedding_dropout == 0.5
    for head in ("softmax", "perceptron", "svm", "hybrid"):
        assert configs.load(path, [f"model.head={head}"]).model.head == head
    one_way = configs.load(path, ["model.bidirectional=false", "model.delay=3"])
    assert one_way.model.delay == 3


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")  # still works in 2.13
def test_the_tagger_exports_to_torchscript(conll, tmp_path):
    from rnnkit import engines
    from rnnkit.training.export import export

    tagging = task(conll, model=ModelConfig(hidden_size=5, char_encoder="lstm", delay=1))
    model = tagging.build_model().eval()
    export(tagging, model, "torchscript", tmp_path / "model.pt")
    x = torch.cat([tagging.example_input(), tagging.example_input().roll(1, 0)], dim=1)
    with engines.use("loop"), torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "model.pt"))(x), model(x)[0])

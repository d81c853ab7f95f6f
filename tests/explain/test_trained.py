"""Explaining models trained by `rnnkit train`: `Task.encode` (one line of raw input as the model
reads it), gradient flow on a task's own validation batch, and `rnnkit explain gates|gradients
--checkpoint`."""

import csv

import numpy as np
import pytest
import torch

from rnnkit.cli.main import main
from rnnkit.errors import DataError
from rnnkit.explain import gate_activations, gradient_norms
from rnnkit.explain.trained import task_gradient_flow, validation_batch
from rnnkit.training.config import from_dict
from rnnkit.training.evaluate import load_trained
from rnnkit.training.trainer import Trainer

from explain_helpers import is_png

TREES = ["(3 (2 A) (4 (3 good) (2 film)))", "(1 (2 A) (1 (0 bad) (2 film)))",
         "(4 (3 good) (4 (4 Great) (2 film)))", "(0 (0 bad) (1 (2 dull) (2 film)))",
         "(3 (2 film) (3 good))", "(0 (0 bad) (2 film))"]
CONLL = ("EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n\n"
         "BRUSSELS B-LOC\n1996-08-22 O\n\nEU B-ORG\ncall O\n\nGerman B-MISC\n") * 2
COMMON = {"train": {"epochs": 2, "batch_size": 4, "threads": 1, "device": "cpu", "k1": 5},
          "quiet": True}
CONFIGS = {
    "adding": {"task": "adding", "model": {"hidden_size": 6},
               "data": {"length": 7, "train_size": 16, "valid_size": 8, "test_size": 8}},
    "stream": {"task": "stream", "model": {"cell": "gru", "hidden_size": 5, "embedding_size": 3},
               "data": {"vocab_size": 5, "train_tokens": 200, "valid_tokens": 100,
                        "test_tokens": 100}},
    "sst": {"task": "sst", "model": {"hidden_size": 4, "bidirectional": True,
                                     "embedding_size": 3}, "data": {"granularity": "binary"}},
    "tagging": {"task": "tagging", "model": {"hidden_size": 4, "bidirectional": True,
                                             "embedding_size": 3, "head": "crf"}, "data": {}},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each task of CONFIGS trained for two tiny epochs: task name -> its run folder."""
    root = tmp_path_factory.mktemp("trained")
    for name in ("train.txt", "dev.txt", "test.txt"):
        (root / name).write_text("\n".join(TREES) + "\n")
    (root / "conll").mkdir()
    for name in ("train.txt", "valid.txt", "test.txt"):
        (root / "conll" / name).write_text(CONLL)
    folders = {}
    for task, raw in CONFIGS.items():
        raw = {**raw, **COMMON, "run": {"folder": str(root / task), "plots": False}}
        if task in ("sst", "tagging"):
            raw["data"] = {**raw["data"], "path": str(root / ("conll" if task == "tagging"
                                                              else ""))}
        Trainer(from_dict(raw)).fit()
        folders[task] = root / task
    return folders


# --- Task.encode ---------------------------------------------------------------------------------
@pytest.mark.parametrize("task, line, shape, labels", [
    ("adding", "0.3,0 0.5,1 0.9,1", (3, 1, 2), ["0.30", "[0.50]", "[0.90]"]),
    ("stream", "1 0 3", (3, 1), ["1", "0", "3"]),
    ("sst", "A good unheard-of film", (4, 1), ["A", "good", "unheard-of", "film"]),
    ("tagging", "EU rejects   Blackburn", (3, 1, 1), ["EU", "rejects", "Blackburn"]),
])
def test_encode_gives_one_sequence_the_model_reads_with_a_label_per_step(runs, task, line,
                                                                         shape, labels):
    trained = load_trained(runs[task])
    encoded = trained.task.encode(line)
    assert tuple(encoded.inputs.shape) == shape and encoded.labels == labels
    outputs, _ = trained.model(encoded.inputs)
    assert outputs.shape[0 if task == "stream" else 0] in (1, len(labels))
    # predict reads lines through encode: the same input, the same answer
    assert trained.task.predict(trained.model, [line]) == trained.task.predict(
        trained.model, [" ".join(line.split())])


def test_encode_of_an_sst_sentence_uses_the_vocabulary_and_its_unknown_token(runs):
    task = load_trained(runs["sst"]).task
    ids = task.encode("good never-seen").inputs[:, 0].tolist()
    assert ids == task.vocab.encode(["good", "never-seen"]) and ids[1] == task.vocab.unk_index


@pytest.mark.parametrize("task, line, message", [
    ("adding", "0.3,0 oops", "input line 4: expected value,marker pairs"),
    ("adding", "   ", "input line 4: expected at least one value,marker pair"),
    ("stream", "1 9", "input line 4: expected tokens of the vocabulary"),
    ("sst", "", "input line 4: expected a sentence"),
])
def test_a_line_that_does_not_parse_is_named(runs, task, line, message):
    with pytest.raises(DataError, match=message):
        load_trained(runs[task]).task.encode(line, 4)


# --- gradient flow on the validation batch -------------------------------------------------------
def test_the_validation_batch_is_the_first_of_the_split_or_a_window_of_the_streams(runs):
    stream = load_trained(runs["stream"]).task
    batch = validation_batch(stream, batch_size=3, length=6)
    whole = stream.stream_batch("valid", 3)
    assert torch.equal(batch.inputs, whole.inputs[:6]) and torch.equal(batch.targets,
                                                                        whole.targets[:6])
    adding = load_trained(runs["adding"]).task
    batch = validation_batch(adding, batch_size=5, length=6)
    x, y = adding.split("valid")
    assert torch.equal(batch.inputs, x[:, :5]) and torch.equal(batch.targets, y[:5])
    with pytest.raises(ValueError, match="length: expected an int >= 1"):
        validation_batch(adding, 5, 0)


@pytest.mark.parametrize("task", ["adding", "stream", "sst", "tagging"])
def test_the_flow_is_that_of_the_tasks_own_loss_on_the_batch(runs, task):
    trained = load_trained(runs[task])
    flow = task_gradient_flow(trained.task, trained.model, batch_size=4, length=6)
    batch = validation_batch(trained.task, 4, 6)
    assert flow.loss.shape == (batch.inputs.shape[0],) and np.all(flow.final > 0)
    # Scaling the loss scales dL/dh_t and leaves dh_T/dh_t: the loss is the task's (for the
    # tagger its CRF's, which needs the model's head beside the emissions).
    doubled = gradient_norms(lambda x: trained.task.outputs(trained.model, batch), batch.inputs,
                             lambda out: 2 * trained.task.loss(out, batch.targets)[0])
    np.testing.assert_allclose(doubled.loss, 2 * flow.loss, rtol=1e-5)
    np.testing.assert_allclose(doubled.final, flow.final, rtol=1e-5)


def test_padded_steps_get_no_gradient_from_the_loss(runs):
    trained = load_trained(runs["sst"])
    batch = next(iter(trained.task.batches("valid", 4, 0, 0)))
    assert batch.lengths.min() < batch.inputs.shape[0]  # the tiny treebank mixes lengths
    short = int(batch.lengths.argmin())
    one = batch.inputs[:, short:short + 1]
    flow = gradient_norms(lambda x: trained.model(x, lengths=batch.lengths[short:short + 1]),
                          one, lambda out: trained.task.loss(out[0],
                                                             batch.targets[short:short + 1])[0])
    assert np.all(flow.loss[int(batch.lengths[short]):] == 0)
    assert np.all(flow.loss[:int(batch.lengths[short])] > 0)


# --- the command line ----------------------------------------------------------------------------
def test_gates_of_a_trained_classifier_on_a_sentence(runs, tmp_path, capsys):
    out = tmp_path / "gates"
    assert main(["explain", "gates", "--checkpoint", str(runs["sst"]), "--input",
                 "a good film", "--out", str(out)]) == 0
    assert is_png(out / "gates.png")
    html = (out / "gates.html").read_text()
    assert all(word in html for word in ("good", "film", "sst model sst"))
    trained = load_trained(runs["sst"])
    expected = gate_activations(trained.model, trained.task.encode("a good film").inputs)
    saved = np.load(out / "gates.npz")
    assert set(saved.files) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(saved[name], values)
        assert values.shape[0] == 3


def test_gradients_of_trained_models_one_line_each(runs, tmp_path, capsys):
    out = tmp_path / "gradients"
    assert main(["explain", "gradients", "--checkpoint", str(runs["adding"]), "--checkpoint",
                 str(runs["stream"] / "last.pt"), "--batch", "4", "--length", "6",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[2].split()[:3] == ["adding", "adding", "7"]
    assert printed[3].split()[:3] == ["stream/last.pt", "stream", "6"]
    assert is_png(out / "gradients.png")
    with open(out / "gradients.csv") as file:
        rows = list(csv.DictReader(file))
    assert {row["model"] for row in rows} == {"adding", "stream/last.pt"}
    trained = load_trained(runs["adding"])
    flow = task_gradient_flow(trained.task, trained.model, batch_size=4, length=6)
    np.testing.assert_allclose([float(r["dL_dh"]) for r in rows if r["model"] == "adding"],
                               flow.loss, rtol=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["gates", "--checkpoint", "{sst}"], "--input: expected a line of the task's input"),
    (["gates", "--checkpoint", "{sst}", "--input", "good", "--steps", "3"],
     "--checkpoint: explains a trained model; --steps belongs to the adding-problem models"),
    (["gradients", "--checkpoint", "{sst}", "--model", "lstm"],
     "--checkpoint: explains a trained model; --model belongs"),
    (["gates", "--checkpoint", "{adding}", "--input", "0.3,0 x"],
     "input line 1: expected value,marker pairs"),
])
def test_bad_combinations_and_input_are_named(runs, argv, message, capsys):
    argv = [a.format(**{k: str(v) for k, v in runs.items()}) for a in argv]
    assert main(["explain", *argv]) == 2
    assert message in capsys.readouterr().err

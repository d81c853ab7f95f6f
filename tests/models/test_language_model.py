"""The language_model task and sampling: vocabularies saved with the model, the ordered splits,
tied weights, the state carried across TBPTT windows, the metrics, greedy and temperature
sampling, `rnnkit generate`, and the errors. Tiny texts are written to tmp_path; the ready
tinyshakespeare config is smoke-run when the real data is beside the repository."""

import math
import re
from pathlib import Path

import pytest
import torch

from rnnkit.cli.main import main
from rnnkit.data.vocab import Vocab
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.language_model import LanguageModel, generate
from rnnkit.models.network import ModelConfig
from rnnkit.tasks.text_lm import LanguageModelTask, TextData
from rnnkit.training import config as configs
from rnnkit.training.evaluate import evaluate, load_trained
from rnnkit.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 30


def corpus(tmp_path, text: str = TEXT) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    return path


def config(folder, path, **sections) -> configs.Config:
    """A tiny language_model run on the text at `path`, sections updated key by key."""
    raw = {"task": "language_model", "quiet": True,
           "model": {"hidden_size": 8, "embedding_size": 4},
           "data": {"path": str(path)},
           "train": {"epochs": 1, "batch_size": 4, "k1": 5, "threads": 1, "device": "cpu"},
           "run": {"folder": str(folder), "plots": False}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return configs.from_dict(raw)


def task_of(path, **data) -> LanguageModelTask:
    return LanguageModelTask(TextData(str(path), **data), ModelConfig(hidden_size=8))


# --- the vocabulary and the splits --------------------------------------------------------------
@pytest.mark.parametrize("level", ["char", "word"])
def test_the_vocabulary_is_saved_with_the_model(tmp_path, level):
    path = corpus(tmp_path)
    trainer = Trainer(config(tmp_path / "run", path, data={"level": level},
                             train={"max_steps": 3}))
    trainer.fit()
    path.unlink()  # a restored model needs no data
    trained = load_trained(tmp_path / "run")
    assert trained.task.vocab.tokens == trainer.task.vocab.tokens
    expected = set(TEXT) if level == "char" else set(TEXT.split()) | {"<eos>"}
    assert set(trained.task.vocab.tokens) == expected | {"<unk>"}
    lines = ["the cat", "on the"]
    assert trained.task.predict(trained.model, lines) == \
        trainer.task.predict(trainer.model.eval(), lines)


def test_the_vocabulary_counts_the_training_part_and_drops_rare_tokens(tmp_path):
    # 100 words: the first 90 (train) hold a 45 times, <eos> and c 18, b 9; zebra is in valid only
    path = corpus(tmp_path, "a b a c\n" * 9 + "a a a c\n" * 9 + "a zebra a c\n" * 2)
    task = task_of(path, level="word", min_freq=10)
    assert task.vocab.tokens == ["<unk>", "a", "<eos>", "c"]  # by count, ties alphabetical
    splits = task.token_splits()
    assert task.vocab.decode(splits["train"][:5]) == ["a", "<unk>", "a", "c", "<eos>"]
    assert task.vocab.decode(splits["valid"]) == ["a", "<unk>", "a", "c", "<eos>"] * 2


def test_the_text_is_split_in_order_train_valid_test(tmp_path):
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    path = corpus(tmp_path, text)

    def parts(task):
        return {name: "".join(task.vocab.decode(ids)) for name, ids in task.token_splits().items()}

    assert parts(task_of(path)) == {"train": text[:180], "valid": text[180:], "test": ""}
    assert parts(task_of(path, valid_fraction=0.1, test_fraction=0.05)) == {
        "train": text[:170], "valid": text[170:190], "test": text[190:]}


def test_word_tokens_and_text_convert_both_ways(tmp_path):
    task = task_of(corpus(tmp_path), level="word")
    assert task.tokens_of("the cat\nsat") == ["the", "cat", "<eos>", "sat"]
    assert task.tokens_of("the cat\n") == ["the", "cat", "<eos>"]
    assert task.join(["the", "cat", "<eos>", "sat", "<eos>"]) == "the cat\nsat\n"
    assert task.start_token == "<eos>" and task_of(corpus(tmp_path)).start_token == "\n"


# --- the model --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_tied_weights_are_one_parameter():
    tied = LanguageModel(ModelConfig(hidden_size=6, embedding_size=6, tie_weights=True), 10)
    untied = LanguageModel(ModelConfig(hidden_size=6, embedding_size=6), 10)
    assert tied.head.weight is tied.embed.weight
    count = lambda model: sum(p.numel() for p in model.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 10 * 6
    restored = LanguageModel(ModelConfig(hidden_size=6, embedding_size=6, tie_weights=True), 10)
    restored.load_state_dict(tied.state_dict())
    assert restored.head.weight is restored.embed.weight
    torch.testing.assert_close(restored.embed.weight, tied.embed.weight)
    # a projected LSTM ties at its projection size
    projected = LanguageModel(ModelConfig(hidden_size=8, proj_size=4, embedding_size=4,
                                          tie_weights=True), 10)
    assert projected(torch.zeros(3, 2, dtype=torch.long))[0].shape == (3, 2, 10)


@pytest.mark.parametrize("options, message", [
    ({"hidden_size": 6, "embedding_size": 4},
     "model.tie_weights: needs model.embedding_size equal to the network's output size (6: "
     "proj_size if set, else hidden_size), got embedding_size 4"),
    ({"hidden_size": 8, "proj_size": 4},
     "output size (4: proj_size if set, else hidden_size), got embedding_size 8 (0 means "
     "hidden_size)"),
])
def test_tying_different_sizes_is_a_config_error(tmp_path, options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        LanguageModel(ModelConfig(tie_weights=True, **options), 10)
    with pytest.raises(ConfigError, match="model.tie_weights"):
        Trainer(config(tmp_path / "run", corpus(tmp_path),
                       model={"tie_weights": True, "embedding_size": 4, "hidden_size": 8}))
    assert not (tmp_path / "run").exists()


def test_a_language_model_must_not_read_ahead():
    with pytest.raises(ConfigError, match="model.bidirectional: a language model reads left to "
                                          "right only"):
        LanguageModel(ModelConfig(bidirectional=True), 10)


# --- training -----------------------------------------------------------------------------------
def test_each_window_starts_from_the_last_windows_final_state_detached(tmp_path):
    trainer = Trainer(config(tmp_path / "run", corpus(tmp_path), train={"max_steps": 4}))
    calls = []  # (state in, state out) of each training forward call: one per window (k1 == k2)
    trainer.model.register_forward_hook(
        lambda module, args, out: calls.append((args[1], out[1])) if module.training else None)
    trainer.fit()
    assert len(calls) == 4 and calls[0][0] is None
    for (_, final), (initial, _) in zip(calls, calls[1:]):
        assert all(s.requires_grad for s in final) and not any(s.requires_grad for s in initial)
        for got, want in zip(initial, final):
            torch.testing.assert_close(got, want.detach(), rtol=0, atol=0)


def test_loss_is_nats_per_token_perplexity_its_exp_and_bpc_its_bits(tmp_path):
    task = task_of(corpus(tmp_path))
    torch.manual_seed(0)
    model = task.build_model()
    metrics = evaluate(task, model, "valid", batch_size=2, k1=7)
    stream = task.stream_batch("valid", 2)
    with torch.no_grad():  # one pass over the whole stream carries the state as the windows do
        logits, _ = model(stream.inputs)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(task.vocab)),
                                             stream.targets.reshape(-1)).item()
    assert metrics["loss"] == pytest.approx(loss, rel=1e-5)
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]), rel=1e-12)
    assert metrics["bpc"] == pytest.approx(metrics["loss"] / math.log(2), rel=1e-12)
    assert task.metric_names == ("loss", "perplexity", "accuracy", "bpc")
    word = task_of(tmp_path / "corpus.txt", level="word")
    assert "bpc" not in word.metric_names and "bpc" not in evaluate(word, word.build_model(),
                                                                    "valid", 2, 7)


# --- sampling -----------------------------------------------------------------------------------
@pytest.fixture
def model_and_vocab():
    vocab = Vocab(["<unk>", *"abcdef"], pad=None)
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(hidden_size=12, embedding_size=5, num_layers=2),
                          len(vocab))
    with torch.no_grad():  # sharper logits than the small initial ones, so sampling varies less
        model.head.weight.mul_(30)
    return model, vocab


def test_greedy_is_deterministic_and_takes_the_argmax_at_every_step(model_and_vocab):
    model, vocab = model_and_vocab
    prime = list("abc")
    sample = generate(model, vocab, prime, 15, greedy=True)
    assert sample == generate(model, vocab, prime, 15, greedy=True) and len(sample) == 15
    with torch.no_grad():  # the whole text at once: each token is the argmax after its past
        logits, _ = model(torch.tensor(vocab.encode(prime + sample)).view(-1, 1))
    after = logits[len(prime) - 1:-1, 0, 1:].argmax(-1) + 1  # never <unk>, index 0
    assert vocab.decode(after) == sample


def test_a_low_temperature_approaches_greedy(model_and_vocab):
    model, vocab = model_and_vocab
    greedy = generate(model, vocab, ["a"], 30, greedy=True)
    cold = generate(model, vocab, ["a"], 30, temperature=1e-4,
                    generator=torch.Generator().manual_seed(0))
    hot = generate(model, vocab, ["a"], 30, temperature=10.0,
                   generator=torch.Generator().manual_seed(0))
    assert cold == greedy and hot != greedy


def test_the_same_seed_gives_the_same_sample(model_and_vocab):
    model, vocab = model_and_vocab

    def sample(seed):
        return generate(model, vocab, ["a", "b"], 40, generator=torch.Generator().manual_seed(seed))

    assert sample(3) == sample(3) != sample(4)
    assert model.training  # restored after sampling in eval mode


def test_the_unknown_token_is_never_drawn(model_and_vocab):
    model, vocab = model_and_vocab
    with torch.no_grad():
        model.head.bias[vocab.unk_index] = 100.0  # by far the most likely
    sampled = generate(model, vocab, ["a"], 20, generator=torch.Generator().manual_seed(0))
    assert "<unk>" not in sampled + generate(model, vocab, ["a"], 20, greedy=True)


def test_prime_tokens_outside_the_vocabulary_read_as_unknown(model_and_vocab):
    model, vocab = model_and_vocab
    assert generate(model, vocab, ["z"], 5, greedy=True) == \
        generate(model, vocab, ["<unk>"], 5, greedy=True)
    with pytest.raises(ValueError, match="expected tokens of the vocabulary"):
        generate(model, Vocab(list("abcdefg"), pad=None, unk=None), ["z"], 5)


@pytest.mark.parametrize("kwargs, message", [
    ({"prime": []}, "prime: expected a non-empty list of tokens, got a list of 0"),
    ({"prime": "ab"}, "prime: expected a non-empty list of tokens, got str 'ab'"),
    ({"temperature": 0.0}, "temperature: expected a number > 0, got float 0.0"),
])
def test_bad_sampling_arguments_are_named(model_and_vocab, kwargs, message):
    model, vocab = model_and_vocab
    with pytest.raises(ValueError, match=message):
        generate(model, vocab, **{"prime": ["a"], "length": 3, **kwargs})


# --- rnnkit generate ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A character model trained a few steps through the command line: its run folder."""
    folder = tmp_path_factory.mktemp("generate")
    path = corpus(folder)
    (folder / "lm.toml").write_text(configs.to_toml(config(folder / "run", path)))
    assert main(["train", str(folder / "lm.toml"), "--set", "train.max_steps=6"]) == 0
    return folder / "run"


def generated(argv, capsys) -> tuple[str, str]:
    assert main(["generate", *map(str, argv)]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_generate_prints_the_prime_and_its_continuation(trained_run, capsys):
    out, err = generated([trained_run, "--prime", "the ", "--length", 30, "--seed", 1], capsys)
    assert out.startswith("the ") and len(out) == len("the ") + 30 + 1 and err == ""
    assert generated([trained_run, "--prime", "the ", "--length", 30, "--seed", 1],
                     capsys)[0] == out
    greedy = generated([trained_run, "--greedy", "--length", 20], capsys)[0]
    assert len(greedy) == 21 and generated([trained_run, "--greedy", "--length", 20],
                                           capsys)[0] == greedy


def test_generate_reads_an_unknown_prime_character_as_unknown_with_a_note(trained_run, capsys):
    out, err = generated([trained_run, "--prime", "Ωthe", "--length", 5, "--greedy"], capsys)
    assert out.startswith("Ωthe") and "rnnkit: note: --prime: ['Ω'] not in the vocabulary, " \
                                      "read as '<unk>'" in err


def test_generate_errors_exit_2_with_a_message(trained_run, tmp_path, capsys):
    adding = tmp_path / "adding.toml"
    adding.write_text('task = "adding"\nquiet = true\n[data]\ntrain_size = 64\nvalid_size = 16\n'
                      f'test_size = 16\n[train]\nmax_steps = 1\nthreads = 1\n[run]\n'
                      f'folder = "{tmp_path / "adding"}"\nplots = false\n')
    assert main(["train", str(adding)]) == 0
    capsys.readouterr()
    assert main(["generate", str(tmp_path / "adding")]) == 2
    assert "generate needs a language model (task language_model, stream or stack_lm)" in \
        capsys.readouterr().err
    assert main(["generate", str(tmp_path / "none.pt")]) == 2
    assert "rnnkit: error: " in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", str(trained_run), "--temperature", "0"])
    assert exit_info.value.code == 2
    assert "--temperature: expected a number > 0, got '0'" in capsys.readouterr().err


# --- data errors --------------------------------------------------------------------------------
def test_a_missing_file_is_named_and_leaves_no_run_folder(tmp_path):
    missing = tmp_path / "none.txt"
    with pytest.raises(DataError, match=f"data.path: cannot read '{missing}' "
                                        f"\\(FileNotFoundError: No such file or directory\\)"):
        Trainer(config(tmp_path / "run", missing))
    assert not (tmp_path / "run").exists()


def test_a_file_that_is_not_utf8_is_named_with_the_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("first line\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError, match=f"data.path: {path}, line 2, byte 3 of the line"):
        task_of(path)


def test_bad_fractions_and_a_missing_path_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="data.valid_fraction \\+ data.test_fraction: expected "
                                          "< 1 \\(the rest is training text\\), got 0.5 \\+ 0.5"):
        task_of(corpus(tmp_path), valid_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ConfigError, match="data.path: required, expected a string"):
        configs.from_dict({"task": "language_model"})


def test_a_split_too_small_for_the_batch_names_the_split(tmp_path):
    task = task_of(corpus(tmp_path))  # 1440 characters: 144 validate
    with pytest.raises(DataError, match="data: the valid split has 144 tokens, too few for 100 "
                                        "parallel streams"):
        task.stream_batch("valid", 100)
    with pytest.raises(DataError, match="data.test_fraction: 0 and no data.test_file, so there is no test split"):
        task.stream_batch("test", 4)


# --- the ready config ---------------------------------------------------------------------------
def test_the_shakespeare_config_trains_a_step_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # its data.path is relative to the repository root
    config = configs.load(ROOT / "configs" / "char_lm_shakespeare.toml",
                          ["train.max_steps=1", "train.threads=1", "quiet=true",
                           f"run.folder={str(tmp_path / 'run')!r}", "run.plots=false"])
    assert (config.task, config.data.level, config.train.k1) == ("language_model", "char", 100)
    if not Path(config.data.path).is_file():
        pytest.skip(f"tinyshakespeare is not at {ROOT / config.data.path}")
    trainer = Trainer(config)
    assert len(trainer.task.vocab) == 66  # 65 characters and <unk>
    assert len(trainer.task.token_splits()["train"]) == int(1_115_394 * 0.9)
    assert trainer.fit().status == "max steps"

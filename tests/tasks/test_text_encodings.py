"""Real corpora as users have them: text in Latin-1 (CoNLL-2002 and many others) read with
`data.encoding`, refused without it by an error that names the file and says what to set;
language-model corpora in three files (Penn Treebank) with `data.valid_file` / `test_file`; a
config that is not UTF-8 is one clear error."""

import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ModelConfig
from rnnkit.tasks.tagging import TaggingData, TaggingTask
from rnnkit.tasks.text_lm import LanguageModelTask, TextData
from rnnkit.training import config as configs

SPANISH = "El DA O\nSeñor NC B-PER\nMuñoz NC I-PER\nvisitó VMI O\nMálaga NC B-LOC\n\n"


def _latin1_conll(folder):
    for name in ("train.txt", "valid.txt", "test.txt"):
        (folder / name).write_bytes(SPANISH.encode("latin-1"))
    return folder


def test_latin1_conll_reads_with_data_encoding(tmp_path):
    task = TaggingTask(TaggingData(str(_latin1_conll(tmp_path)), encoding="latin-1"),
                       ModelConfig(hidden_size=4))
    assert {"Señor", "Muñoz", "Málaga"} <= set(task.words.tokens)
    assert "ñ" in task.chars.tokens


def test_latin1_conll_without_data_encoding_names_the_file_and_what_to_set(tmp_path):
    _latin1_conll(tmp_path)
    with pytest.raises(DataError, match=r"train.txt, line 2, byte 3 of the line .*expected "
                                        r"utf-8 text, got the byte 0xf1 .*set data.encoding"):
        TaggingTask(TaggingData(str(tmp_path)), ModelConfig(hidden_size=4))


def test_an_unknown_encoding_is_a_config_error():
    with pytest.raises(ConfigError, match=r"data.encoding: expected a text encoding Python "
                                          r"knows .*got 'klingon'"):
        configs.from_dict({"task": "language_model",
                           "data": {"path": "x.txt", "encoding": "klingon"}})


def test_a_language_model_reads_separate_train_valid_and_test_files(tmp_path):
    files = {}
    for split, text in (("train", "the cat sat on the mat\n" * 20), ("valid", "the mat sat\n"),
                        ("test", "a cat\n")):
        files[split] = tmp_path / f"ptb.{split}.txt"
        files[split].write_bytes(text.encode("cp1252"))
    data = TextData(str(files["train"]), level="word", valid_file=str(files["valid"]),
                    test_file=str(files["test"]), encoding="cp1252")
    task = LanguageModelTask(data, ModelConfig(hidden_size=8))
    splits = task.token_splits()
    decode = lambda ids: task.vocab.decode(ids.tolist())  # noqa: E731
    assert decode(splits["valid"]) == ["the", "mat", "sat", "<eos>"]
    assert decode(splits["test"]) == ["<unk>", "cat", "<eos>"]  # "a" is not in training text
    assert len(splits["train"]) == 20 * 7  # the whole training file: no fraction cut from it
    with pytest.raises(DataError, match=r"data.valid_file: cannot read '.*missing.txt'"):
        LanguageModelTask(TextData(str(files["train"]), valid_file=str(tmp_path / "missing.txt")),
                          ModelConfig(hidden_size=8))


def test_a_config_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "run.toml"
    path.write_bytes('task = "adding"\n# café\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"config: .*run.toml, line 2, byte 6 of the line .*"
                                          r"expected utf-8 text.*save the config as UTF-8"):
        configs.load(path)


def test_an_empty_training_file_is_named(tmp_path):
    from rnnkit.tasks.sst import SSTData, SSTTask
    for name in ("train.txt", "valid.txt", "test.txt"):
        (tmp_path / name).write_text(SPANISH)
    (tmp_path / "train.txt").write_text("\n\n")
    with pytest.raises(DataError, match=r"data.path: '.*train.txt' holds no examples \(it is "
                                        r"empty, or blank lines only\)"):
        TaggingTask(TaggingData(str(tmp_path)), ModelConfig(hidden_size=4))
    sst = tmp_path / "sst"
    sst.mkdir()
    for name in ("train.txt", "dev.txt", "test.txt"):
        (sst / name).write_text("(3 (2 good) (3 film))\n")
    (sst / "train.txt").write_text("")
    with pytest.raises(DataError, match=r"'.*sst/train.txt' holds no examples"):
        SSTTask(SSTData(str(sst)), ModelConfig(hidden_size=4))

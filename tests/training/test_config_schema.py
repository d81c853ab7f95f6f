"""The config schema: TOML and YAML, --set overrides, and errors that name the key."""

from pathlib import Path

import pytest
import tomllib

from rnnkit.errors import ConfigError
from rnnkit.training import config as configs

ROOT = Path(__file__).resolve().parents[2]


def error_of(raw=None, overrides=(), path=None) -> str:
    with pytest.raises(ConfigError) as info:
        if raw is not None:
            configs.from_dict(configs.apply_overrides(raw, list(overrides)))
        else:
            configs.load(path, overrides)
    return str(info.value)


def test_the_demo_config_and_overrides():
    cfg = configs.load(None, ["model.cell=gru", "train.epochs=3", "optim.lr=1e-3",
                              "model.spec=\"NIAF+NOAF\"", "run.keep_best=false"])
    assert (cfg.task, cfg.model.cell, cfg.train.epochs, cfg.optim.lr) == ("adding", "gru", 3,
                                                                            0.001)
    assert cfg.model.spec == "NIAF+NOAF" and cfg.run.keep_best is False
    assert configs.load(None, ["optim.lr=1"]).optim.lr == 1.0  # an int where a float goes


def test_shipped_configs_load_and_the_adding_one_is_the_demo():
    assert configs.load(ROOT / "configs" / "adding.toml") == configs.load()
    stream = configs.load(ROOT / "configs" / "stream.yaml")
    assert (stream.task, stream.train.k1, stream.train.k2) == ("stream", 20, 40)


def test_toml_and_yaml_give_the_same_config(tmp_path):
    (tmp_path / "a.toml").write_text('task = "stream"\n[model]\ncell = "mut2"\n'
                                     '[train]\nk1 = 7\n')
    (tmp_path / "a.yml").write_text("task: stream\nmodel: {cell: mut2}\ntrain: {k1: 7}\n")
    assert configs.load(tmp_path / "a.toml") == configs.load(tmp_path / "a.yml")


def test_resolved_config_round_trips_through_toml():
    cfg = configs.load(None, ["model.spec=CIFG", "run.folder='a \"quoted\" path'"])
    assert configs.from_dict(tomllib.loads(configs.to_toml(cfg))) == cfg


def test_unknown_key_names_the_dotted_key_and_lists_the_valid_ones():
    message = error_of({"task": "adding", "model": {"hiden_size": 3}})
    assert message.startswith("model.hiden_size: unknown key; expected one of model.cell, "
                              "model.hidden_size,")
    assert error_of({"task": "adding", "optimiser": {}}).startswith("optimiser: unknown key")


def test_the_data_section_is_checked_against_the_tasks_own_schema():
    message = error_of({"task": "adding", "data": {"vocab_size": 10}})
    assert message.startswith("data.vocab_size: unknown key; expected one of data.length")
    assert configs.from_dict({"task": "stream", "data": {"vocab_size": 10}}).data.vocab_size == 10


@pytest.mark.parametrize("key, value, expected", [
    ("train.epochs", 2.5, "train.epochs: expected an integer, got float 2.5"),
    ("train.epochs", True, "train.epochs: expected an integer, got bool True"),
    ("optim.lr", "fast", "optim.lr: expected a number, got str 'fast'"),
    ("model.bidirectional", 1, "model.bidirectional: expected true or false, got int 1"),
    ("model.cell", "lstmm", "model.cell: expected one of lstm, gru, elman, jordan, mut1, mut2, "
                            "mut3, stack, got 'lstmm'"),
    ("train.batch_size", 0, "train.batch_size: expected a value >= 1, got 0"),
    ("optim.lr", 0, "optim.lr: expected a value > 0.0, got 0.0"),
])
def test_wrong_type_or_value_names_key_expected_and_got(key, value, expected):
    section, name = key.split(".")
    assert error_of({"task": "adding", section: {name: value}}) == expected


def test_a_section_given_a_value_is_an_error():
    assert error_of({"task": "adding", "model": 3}) == "model: expected a table of keys, got int 3"


def test_missing_required_value_names_the_key(tmp_path):
    (tmp_path / "c.toml").write_text("[model]\ncell = 'gru'\n")
    assert error_of(path=tmp_path / "c.toml") == (
        "task: required, expected one of adding, stream, language_model, sst, music, tagging, "
        "stack_lm, seq2seq, sst_tree; none was given")
    assert error_of({"task": "nope"}) == (
        "task: expected one of adding, stream, language_model, sst, music, tagging, stack_lm, "
        "seq2seq, sst_tree, got 'nope'")


@pytest.mark.parametrize("item", ["train.epochs", "=3", "train..epochs=3", ".x=1"])
def test_malformed_set_is_an_error(item):
    assert error_of({"task": "adding"}, [item]).startswith("--set: expected key=value")


def test_set_into_a_value_is_an_error():
    message = error_of({"task": "adding"}, ["task.x=1"])
    assert message == "--set task.x: task is a value, not a section"


def test_set_of_an_unknown_key_is_named():
    assert error_of({"task": "adding"}, ["train.epoch=3"]).startswith("train.epoch: unknown key")


def test_file_errors_name_the_path(tmp_path):
    assert error_of(path=tmp_path / "none.toml") == (
        f"config: no such file: {str(tmp_path / 'none.toml')!r}")
    (tmp_path / "bad.toml").write_text("task = \n")
    assert error_of(path=tmp_path / "bad.toml").startswith(
        f"config: {str(tmp_path / 'bad.toml')!r} is not valid TOML")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    assert "expected a table of keys" in error_of(path=tmp_path / "list.yaml")
    (tmp_path / "c.json").write_text("{}")
    assert "expected a .toml, .yaml or .yml file" in error_of(path=tmp_path / "c.json")

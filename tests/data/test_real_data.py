"""The readers on the real data sets in ../shared/data (or $RNNKIT_DATA): the published sizes.
Each test skips when its data set is absent. SST's training file takes seconds to parse, so its
size is checked by line count and the parser is run on dev and test."""

import pytest

from rnnkit.data import (ChunkCounts, binary_view, char_tokens, chunk_counts, entities,
                         piano_roll, read_conll, read_jsb, read_text, read_trees,
                         split_by_fraction)
from rnnkit.models import ModelConfig
from rnnkit.tasks.tagging import TaggingData, TaggingTask


def data_set(real_data, name):
    folder = real_data / name
    if not folder.is_dir():
        pytest.skip(f"{name} is not in {real_data}")
    return folder


def test_sst(real_data):
    sst = data_set(real_data, "sst")
    dev, test = read_trees(sst / "dev.txt"), read_trees(sst / "test.txt")
    assert (len(dev), len(test)) == (1101, 2210)
    assert len(binary_view(test)) == 1821
    assert all(tree.is_binary() for tree in dev + test)
    assert [str(tree) for tree in dev] == read_text(sst / "dev.txt").split("\n")[:1101]
    assert sum(1 for line in read_text(sst / "train.txt").split("\n") if line) == 8544


def test_conll2003(real_data):
    conll = data_set(real_data, "conll2003")
    splits = {split: read_conll(conll / f"{split}.txt") for split in ("train", "valid", "test")}
    assert {split: len(s) for split, s in splits.items()} == {
        "train": 14041, "valid": 3250, "test": 3453}
    test = splits["test"]
    tags = {tag for sentence in test for tag in sentence.tags}
    assert tags == {"O"} | {f"{p}-{t}" for p in "BI" for t in ("PER", "LOC", "ORG", "MISC")}
    assert sum(len(entities(sentence.tags)) for sentence in test) == 5648


def test_conll2003_as_the_tagging_task_reads_it(real_data):
    conll = data_set(real_data, "conll2003")
    task = TaggingTask(TaggingData(str(conll), scheme="IOBES"), ModelConfig())
    assert [task.size(split) for split in ("train", "valid", "test")] == [14041, 3250, 3453]
    assert len(task.tags) == 17  # O and B, I, E, S of four types
    test = [task.tags.decode(tags) for tags in task.split("test").tags]
    assert sum((chunk_counts(tags, tags) for tags in test), ChunkCounts(0, 0, 0)) == \
        ChunkCounts(5648, 5648, 5648)  # the conversion to IOBES keeps every entity


def test_jsb_chorales(real_data):
    jsb = read_jsb(data_set(real_data, "jsb_chorales") / "jsb-chorales-quarter.json")
    assert {split: len(pieces) for split, pieces in jsb.items()} == {
        "train": 229, "valid": 76, "test": 77}
    assert piano_roll(jsb["train"][0]).shape == (len(jsb["train"][0]), 88)


def test_tinyshakespeare(real_data):
    text = read_text(data_set(real_data, "tinyshakespeare") / "input.txt")
    tokens = char_tokens(text)
    assert (len(tokens), len(set(tokens))) == (1_115_394, 65)
    train, valid = split_by_fraction(text, 0.9)
    assert (len(train), len(valid)) == (1_003_854, 111_540)

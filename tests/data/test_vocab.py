"""Vocab: reserved indices, counts and min_freq, encode/decode, and save/load round trips with
clear errors for a malformed file."""

import json
from collections import Counter

import pytest
import torch

from rnnkit.data import DataFormatError, Vocab

from data_helpers import format_error, write

COUNTS = Counter("the cat saw the dog and the cat ran".split())


def test_reserved_indices_then_by_count_then_alphabetically():
    vocab = Vocab.from_counts(COUNTS)
    assert vocab.tokens == ["<pad>", "<unk>", "the", "cat", "and", "dog", "ran", "saw"]
    assert (vocab.pad_index, vocab.unk_index, len(vocab)) == (0, 1, 8)


def test_min_freq_and_max_size():
    assert Vocab.from_counts(COUNTS, min_freq=2).tokens == ["<pad>", "<unk>", "the", "cat"]
    assert Vocab.from_counts(COUNTS, max_size=3).tokens == ["<pad>", "<unk>", "the"]
    with pytest.raises(ValueError, match="max_size: expected at least 2"):
        Vocab.from_counts(COUNTS, max_size=1)


def test_encode_maps_unknown_tokens_and_decode_inverts():
    vocab = Vocab.from_counts(COUNTS, min_freq=2)
    assert vocab.encode(["the", "bird", "cat"]) == [2, 1, 3]
    assert vocab.decode(torch.tensor([2, 1, 3, 0])) == ["the", "<unk>", "cat", "<pad>"]
    assert "cat" in vocab and "dog" not in vocab
    with pytest.raises(ValueError, match=r"indices: expected values in \[0, 4\), got 4"):
        vocab.decode([4])


def test_a_vocab_without_specials_rejects_unknown_tokens():
    tags = Vocab.from_counts(Counter(["O", "O", "B-PER"]), pad=None, unk=None)
    assert tags.tokens == ["O", "B-PER"] and tags.pad_index is None and tags.unk_index is None
    with pytest.raises(ValueError, match="it has no unknown token.*got 'I-PER'"):
        tags.encode(["O", "I-PER"])


def test_only_an_unknown_token_takes_index_zero():
    assert Vocab.from_counts(COUNTS, pad=None).unk_index == 0


def test_save_load_round_trip(tmp_path):
    vocab = Vocab.from_counts(Counter(["é", "日本", "a", "a"]))
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded.tokens == vocab.tokens and (loaded.pad, loaded.unk) == ("<pad>", "<unk>")
    assert Vocab.from_dict(vocab.to_dict()).tokens == vocab.tokens


@pytest.mark.parametrize("content, where, expected, got", [
    ({"tokens": ["<pad>", "<unk>"]}, "the top level", "an object with keys 'tokens'",
     "keys ['tokens']"),
    (["<pad>"], "the top level", "an object with keys", "a list of 1"),
    ({"tokens": "abc", "pad": None, "unk": None}, "key 'tokens'", "a list of strings",
     "str 'abc'"),
    ({"tokens": ["a", 3], "pad": None, "unk": None}, "key 'tokens'", "a list of strings",
     "int 3 at index 1"),
    ({"tokens": ["<pad>", "<unk>", "a", "a"], "pad": "<pad>", "unk": "<unk>"}, "key 'tokens'",
     "distinct tokens", "'a' at indices 2 and 3"),
    ({"tokens": ["<unk>", "<pad>"], "pad": "<pad>", "unk": "<unk>"}, "key 'tokens'",
     "the reserved tokens ['<pad>', '<unk>'] first", "['<unk>', '<pad>']"),
    ({"tokens": ["a"], "pad": 0, "unk": None}, "key 'pad'", "a string or null", "int 0"),
])
def test_loading_a_malformed_vocab_names_the_file_and_the_problem(tmp_path, content, where,
                                                                    expected, got):
    path = write(tmp_path, json.dumps(content), "vocab.json")
    format_error(lambda: Vocab.load(path), path, f"{where}: expected {expected}", got)


def test_loading_a_file_that_is_not_json(tmp_path):
    path = write(tmp_path, "<pad>\n<unk>\n", "vocab.json")
    format_error(lambda: Vocab.load(path), path, "line 1, column 1: expected JSON")


def test_constructor_checks_its_tokens():
    with pytest.raises(ValueError, match="tokens: expected distinct tokens, got 'a'"):
        Vocab(["<pad>", "<unk>", "a", "a"])
    with pytest.raises(ValueError) as info:
        Vocab(["a", "<pad>"], unk=None)
    assert not isinstance(info.value, DataFormatError)
    assert "expected the reserved tokens ['<pad>'] first" in str(info.value)

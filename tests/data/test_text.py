"""Tokenising plain text for language models, and the train/validation split."""

import pytest

from rnnkit.data import char_tokens, read_text, split_by_fraction, word_tokens

from data_helpers import write


def test_characters_keep_newlines(tmp_path):
    assert char_tokens(read_text(write(tmp_path, "Hi,\nyou."))) == list("Hi,\nyou.")


def test_words_end_each_line_with_a_marker():
    text = "the cat  sat\n\non the mat\n"
    assert word_tokens(text) == ["the", "cat", "sat", "<eos>", "<eos>",
                                 "on", "the", "mat", "<eos>"]
    assert word_tokens(text, end_of_line=None) == ["the", "cat", "sat", "on", "the", "mat"]
    assert word_tokens("no final newline") == ["no", "final", "newline", "<eos>"]
    assert word_tokens("") == []


def test_split_keeps_order_first_part_for_training():
    train, valid = split_by_fraction("abcdefghij", 0.9)
    assert (train, valid) == ("abcdefghi", "j")
    train, valid = split_by_fraction(list(range(7)), 0.5)
    assert (train, valid) == ([0, 1, 2], [3, 4, 5, 6])


@pytest.mark.parametrize("fraction, error", [(0.0, ValueError), (1.0, ValueError),
                                             (True, TypeError), ("0.9", TypeError)])
def test_split_fraction_must_be_inside_zero_one(fraction, error):
    with pytest.raises(error, match="train_fraction: expected a float in \\(0, 1\\)"):
        split_by_fraction("abc", fraction)

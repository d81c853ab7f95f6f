"""JSB Chorales JSON: the splits, piano rolls, and errors that name the split, piece and step."""

import json

import pytest
import torch

from rnnkit.data import NUM_KEYS, piano_roll, read_jsb

from data_helpers import format_error, write

PIECE = [[60, 64, 67], [], [21, 108]]


def jsb_file(tmp_path, **overrides):
    splits = {"train": [PIECE, [[62]]], "valid": [[[65]]], "test": [[[67, 71]]]}
    splits.update(overrides)
    return write(tmp_path, json.dumps(splits), "jsb.json")


def test_read_gives_every_split(tmp_path):
    data = read_jsb(jsb_file(tmp_path))
    assert {split: len(pieces) for split, pieces in data.items()} == {
        "train": 2, "valid": 1, "test": 1}
    assert data["train"][0] == PIECE


def test_piano_roll_marks_the_sounding_keys():
    roll = piano_roll(PIECE)
    assert roll.shape == (3, NUM_KEYS) == (3, 88) and roll.dtype == torch.float32
    expected = torch.zeros(3, 88)
    expected[0, [60 - 21, 64 - 21, 67 - 21]] = 1.0
    expected[2, [0, 87]] = 1.0  # the lowest and highest keys
    assert torch.equal(roll, expected)


def test_piano_roll_rejects_a_note_off_the_keyboard():
    with pytest.raises(ValueError, match="step 1: expected MIDI note numbers in 21..108, got 20"):
        piano_roll([[60], [20]])


@pytest.mark.parametrize("override, where, expected, got", [
    ({"valid": [[[60], [64, 109]]]}, "split 'valid', piece 0, step 1, note 1",
     "a MIDI note number in 21..108", "int 109"),
    ({"test": [[[67, 71]], [[20]]]}, "split 'test', piece 1, step 0, note 0",
     "a MIDI note number in 21..108", "int 20"),
    ({"train": [PIECE, [[62], [60.5]]]}, "split 'train', piece 1, step 1, note 0",
     "a MIDI note number", "float 60.5"),
    ({"train": [PIECE, [[62], [True]]]}, "split 'train', piece 1, step 1, note 0",
     "a MIDI note number", "bool true"),
    ({"train": [PIECE, [[62], 64]]}, "split 'train', piece 1, step 1",
     "a list of MIDI note numbers", "int 64"),
    ({"train": [PIECE, []]}, "split 'train', piece 1", "a non-empty list of time steps",
     "list []"),
    ({"valid": {"a": 1}}, "split 'valid'", "a list of pieces", "dict"),
])
def test_malformed_entries_name_split_piece_and_step(tmp_path, override, where, expected, got):
    path = jsb_file(tmp_path, **override)
    format_error(lambda: read_jsb(path), path, f"{where}: expected {expected}", f"got {got}")


def test_a_missing_split_is_named(tmp_path):
    path = write(tmp_path, json.dumps({"train": [], "test": []}), "jsb.json")
    format_error(lambda: read_jsb(path), path, "the top level",
                 "expected an object with keys ['train', 'valid', 'test']",
                 "got keys ['test', 'train']")


def test_invalid_json_names_line_and_column(tmp_path):
    path = write(tmp_path, '{"train": [[[60]]],\n "valid": [[[60]]}', "jsb.json")
    format_error(lambda: read_jsb(path), path, "line 2, column 18", "expected JSON")

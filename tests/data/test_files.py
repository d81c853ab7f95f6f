"""Reading files as UTF-8 text or JSON, and the error every reader raises."""

import pickle

from rnnkit.data import DataFormatError, read_json, read_text

from data_helpers import format_error, write


def test_text_is_read_unchanged(tmp_path):
    text = "première ligne\r\nsecond\n"
    assert read_text(write(tmp_path, text)) == text


def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_offset(tmp_path):
    path = write(tmp_path, b"ok\nfine\nab\xffc\n")
    error = format_error(lambda: read_text(path), path, "line 3, byte 3 of the line",
                         "offset 10 in the file", "expected utf-8 text", "0xff")
    assert isinstance(error, ValueError)


def test_json_errors_name_line_and_column(tmp_path):
    path = write(tmp_path, '{"a": 1,\n "b": }', "data.json")
    format_error(lambda: read_json(path), path, "line 2, column 7", "expected JSON")


def test_the_error_keeps_its_parts_and_pickles():
    error = DataFormatError("f.txt", "line 2", "a tag", "'X'")
    assert str(error) == "f.txt, line 2: expected a tag, got 'X'"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.where, copy.expected, copy.got, str(copy)) == (
        "f.txt", "line 2", "a tag", "'X'", str(error))

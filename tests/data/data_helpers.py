"""Small fixtures written to tmp_path, and the check that a reader's error points at the
problem."""

import pytest

from rnnkit.data import DataFormatError


def write(tmp_path, content: str | bytes, name: str = "data.txt"):
    """A file under tmp_path holding `content` (text is written as UTF-8, unchanged)."""
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def format_error(call, path, *fragments) -> DataFormatError:
    """call() raises a DataFormatError whose message names `path` and contains every fragment
    (the position, what was expected, what came)."""
    with pytest.raises(DataFormatError) as info:
        call()
    message = str(info.value)
    for fragment in (str(path), *fragments):
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return info.value

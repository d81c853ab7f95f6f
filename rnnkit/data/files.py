"""Reading a data file as text (UTF-8 unless told) or JSON, with errors that point into the file."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.data.errors import DataFormatError


def read_text(path, encoding: str = "utf-8") -> str:
    """The whole file decoded (UTF-8 unless told), without newline translation: a character
    model sees every character of the file, "\r" included."""
    data = Path(path).read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        # Report the position as an editor shows it (line, byte in the line) and as a hex dump
        # does (offset in the file); the decoder only knows the latter.
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        where = (f"line {line}, byte {error.start - line_start + 1} of the line "
                 f"(offset {error.start} in the file)")
        hint = "; if the file is in another encoding, set data.encoding (latin-1, cp1252, ...)" \
            if encoding.replace("-", "").lower() == "utf8" else ""
        raise DataFormatError(path, where, f"{encoding} text",
                              f"the byte 0x{data[error.start]:02x} ({error.reason}){hint}") from None


def read_json(path):
    """The JSON value in a UTF-8 file."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"line {error.lineno}, column {error.colno}", "JSON",
                              error.msg) from None

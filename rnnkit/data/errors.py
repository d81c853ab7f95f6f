"""The one error a reader raises for a file that does not have the expected format."""

from __future__ import annotations


class DataFormatError(ValueError):
    """A data file (or a dict read from one) is not in the expected format.

    The message names the file (`source`), the position in it (`where`: "line 3, column 14" for
    line-based files; a path into the structure, such as "split 'train', piece 4, step 12", for
    JSON), what was expected and what came. The four parts stay available as attributes, and as
    `args`, so the error pickles (DataLoader workers send errors across processes).
    """

    def __init__(self, source, where: str, expected: str, got: str):
        super().__init__(str(source), where, expected, got)
        self.source, self.where, self.expected, self.got = str(source), where, expected, got

    def __str__(self) -> str:
        return f"{self.source}, {self.where}: expected {self.expected}, got {self.got}"

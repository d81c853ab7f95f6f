"""JSB Chorales (Boulanger-Lewandowski et al. 2012) as polyphonic music: the JSON release and
piano rolls.

The file is one JSON object {"train": [...], "valid": [...], "test": [...]}; a split is a list of
pieces, a piece a list of time steps (quarter notes), a time step a list of the MIDI note numbers
sounding then (possibly none). A piano roll has one column per piano key, MIDI 21 (A0) to
108 (C8).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor

from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_json

SPLITS = ("train", "valid", "test")
LOWEST_NOTE, HIGHEST_NOTE = 21, 108
NUM_KEYS = HIGHEST_NOTE - LOWEST_NOTE + 1  # 88

Piece = list[list[int]]  # time steps of MIDI note numbers


def read_jsb(path) -> dict[str, list[Piece]]:
    """{"train", "valid", "test"} -> that split's pieces, every note checked to be a piano key.
    A malformed entry raises DataFormatError naming the file, split, piece, step (and note)."""
    data = read_json(path)
    if not isinstance(data, dict) or not all(split in data for split in SPLITS):
        got = f"keys {sorted(data)}" if isinstance(data, dict) else type(data).__name__
        raise DataFormatError(path, "the top level", f"an object with keys {list(SPLITS)}", got)
    return {split: _checked_pieces(data[split], path, split) for split in SPLITS}


def _checked_pieces(pieces, path, split: str) -> list[Piece]:
    def error(where: str, expected: str, value) -> DataFormatError:
        shown = json.dumps(value)
        shown = shown if len(shown) <= 40 else shown[:40] + " ..."
        return DataFormatError(path, f"split {split!r}{where}", expected,
                               f"{type(value).__name__} {shown}")

    if not isinstance(pieces, list):
        raise error("", "a list of pieces", pieces)
    for p, piece in enumerate(pieces):
        if not isinstance(piece, list) or not piece:
            raise error(f", piece {p}", "a non-empty list of time steps", piece)
        for t, step in enumerate(piece):
            if not isinstance(step, list):
                raise error(f", piece {p}, step {t}", "a list of MIDI note numbers", step)
            for n, note in enumerate(step):
                if not _is_piano_key(note):
                    raise error(f", piece {p}, step {t}, note {n}", f"a MIDI note number in "
                                f"{LOWEST_NOTE}..{HIGHEST_NOTE} (a piano key)", note)
    return pieces


def _is_piano_key(note) -> bool:
    # Integral: JSON's 60.0 is a float and no note; NumPy's integers are notes
    return isinstance(note, numbers.Integral) and LOWEST_NOTE <= note <= HIGHEST_NOTE


def piano_roll(piece: Sequence[Sequence[int]]) -> Tensor:
    """(T, 88) float32: 1.0 where key k (MIDI note 21 + k) sounds at step t, else 0.0."""
    for t, step in enumerate(piece):
        for note in step:
            if not _is_piano_key(note):
                raise ValueError(f"piece: step {t}: expected MIDI note numbers in "
                                 f"{LOWEST_NOTE}..{HIGHEST_NOTE}, got {note!r}")
    roll = torch.zeros(len(piece), NUM_KEYS)
    steps = [t for t, step in enumerate(piece) for _ in step]
    keys = [note - LOWEST_NOTE for step in piece for note in step]
    roll[steps, keys] = 1.0
    return roll

"""The metrics log: one JSON object per line in the run folder's metrics.jsonl.

A record is {"split": "train" | "valid" | "test", "step": ..., "epoch": ..., metric: value, ...};
train records add "lr" and "grad_norm" (the gradient's global norm before clipping). Records
hold no clock times, so the same config gives the same file."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.training.checkpoint import atomic_write, writing

FILE = "metrics.jsonl"


def read(path: str | Path) -> list[dict]:
    """The records; a last line cut short by a crash while it was written is dropped."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines[:-1]]
    try:
        records += [json.loads(line) for line in lines[-1:]]
    except json.JSONDecodeError:
        pass
    return records


class MetricsLog:
    """Appends records to `path`; `enabled=False` (ranks other than 0) writes nothing."""

    def __init__(self, path: Path, enabled: bool = True):
        self.path, self.enabled = Path(path), enabled

    def write(self, record: dict) -> None:
        if self.enabled:
            with writing(self.path), self.path.open("a") as file:
                file.write(json.dumps(record) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop the records of steps after `step`: on resume, what an interrupted run logged
        after its last checkpoint is done again."""
        if self.enabled:
            kept = [r for r in read(self.path) if r["step"] <= step]
            text = "".join(json.dumps(r) + "\n" for r in kept).encode()
            atomic_write(self.path, lambda file: file.write(text))

"""A tiny config file for the command-line tests."""

from pathlib import Path

TINY = """\
task = "{task}"
quiet = true
[model]
hidden_size = 8
spec = "{spec}"
[data]
{data}
[train]
epochs = {epochs}
batch_size = 16
threads = 1
device = "cpu"
k1 = 5
[run]
folder = "{folder}"
plots = false
"""
DATA = {"adding": "length = 6\ntrain_size = 64\nvalid_size = 32\ntest_size = 32",
        "stream": "vocab_size = 6\ntrain_tokens = 400\nvalid_tokens = 100\ntest_tokens = 100"}


def write_config(folder: Path, task: str = "adding", spec: str = "torch",
                 epochs: int = 2) -> Path:
    """A config at folder/<task>.toml whose run folder is folder/run."""
    path = folder / f"{task}.toml"
    path.write_text(TINY.format(task=task, spec=spec, data=DATA[task], epochs=epochs,
                                folder=folder / "run"))
    return path

"""Shared by the tests of tasks: train a tiny config through the command line and
read back `rnnkit eval`'s metrics."""

import json

from rnnkit.cli.main import main

RUN = """\
[train]
epochs = 2
batch_size = {batch_size}
threads = 1
device = "cpu"
[run]
folder = "{folder}"
plots = false
"""


def train_and_eval(tmp_path, capsys, config: str, batch_size: int) -> dict:
    """`rnnkit train` on `config` (with a [train] and [run] section added) into tmp_path / "run",
    then `rnnkit eval --split test --json` on it -> the metrics printed. Call it under
    `engines.use("loop")` at tiny sizes."""
    path = tmp_path / "config.toml"
    path.write_text(config + RUN.format(batch_size=batch_size, folder=tmp_path / "run"))
    assert main(["train", str(path)]) == 0
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "run"), "--split", "test", "--json"]) == 0
    return json.loads(capsys.readouterr().out)

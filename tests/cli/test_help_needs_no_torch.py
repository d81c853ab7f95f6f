"""`rnnkit --help` and every subcommand's `--help` answer without importing torch (which takes
seconds on a loaded machine): the parsers import only light modules, the commands import what
they run with. Checked in a fresh interpreter, since this one has torch loaded already."""

import subprocess
import sys

import pytest

HELP = [[], ["train"], ["eval"], ["predict"], ["info"], ["export"], ["generate"], ["build"],
        ["demo"], ["bench"], ["explain"], ["explain", "gradients"], ["explain", "gates"],
        ["explain", "trace"]]
PROBE = """
import sys
from rnnkit.cli.main import main
for command in {commands!r}:
    try:
        main([*command, "--help"])
    except SystemExit as done:
        assert done.code == 0, command
heavy = sorted(name for name in ("torch", "numpy", "matplotlib") if name in sys.modules)
print("imported:", ",".join(heavy) or "nothing heavy")
"""


def test_every_help_imports_no_torch():
    result = subprocess.run([sys.executable, "-c", PROBE.format(commands=HELP)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "imported: nothing heavy"


@pytest.mark.parametrize("name", ["LSTM", "CRF", "ShapeError", "nn", "LSTMSpec"])
def test_rnnkit_names_still_load_on_first_use(name):
    import rnnkit
    assert getattr(rnnkit, name) is not None
    assert name in dir(rnnkit)

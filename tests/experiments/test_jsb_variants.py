"""The LSTM-variants driver on a tiny JSB-style file: every variant x seed trained once, the
table and the plot written, finished runs reused."""

import json

from rnnkit import engines
from rnnkit.experiments import jsb_variants

PIECES = [[[60, 64], [62], [], [60, 67]], [[48], [50], [52]], [[72, 76], [74]]]
CONFIG = """\
task = "music"
[model]
spec = "vanilla"
hidden_size = 4
[data]
path = "{data}"
[train]
epochs = 2
batch_size = 2
threads = 1
device = "cpu"
[run]
plots = false
"""


def test_runs_every_variant_and_seed_and_writes_a_table_and_a_plot(tmp_path, capsys):
    (tmp_path / "jsb.json").write_text(json.dumps({s: PIECES for s in ("train", "valid",
                                                                       "test")}))
    (tmp_path / "c.toml").write_text(CONFIG.format(data=tmp_path / "jsb.json"))
    argv = ["--config", str(tmp_path / "c.toml"), "--variants", "vanilla,CIFG",
            "--seeds", "0,1", "--out", str(tmp_path / "out"), "--set", "train.epochs=1"]
    with engines.use("loop"):  # tiny sizes: the plain loop, no extension to build
        assert jsb_variants.main(argv) == 0
    out = tmp_path / "out"
    runs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert runs == ["CIFG-seed0", "CIFG-seed1", "vanilla-seed0", "vanilla-seed1"]
    record = json.loads((out / "vanilla-seed1" / "test.json").read_text())
    assert record["variant"] == "vanilla" and record["seed"] == 1 and record["test_nll"] > 0
    rows = (out / "variants.md").read_text().splitlines()
    assert len(rows) == 4 and rows[2].startswith("| vanilla | ") and rows[3].startswith("| CIFG")
    assert (out / "variants.png").stat().st_size > 1000
    # CIFG couples the input gate to the forget gate: fewer parameters than vanilla
    vanilla, cifg = (int(row.split("|")[2].replace(",", "")) for row in rows[2:])
    assert cifg < vanilla
    # finished runs are read back, not trained again
    (out / "vanilla-seed0" / "last.pt").unlink()
    capsys.readouterr()
    assert jsb_variants.main(argv) == 0
    assert not (out / "vanilla-seed0" / "last.pt").exists()
    assert "| vanilla | " in capsys.readouterr().out

"""`rnnkit bench` end to end at tiny sizes: the JSON records and the command line. Speed itself
is measured by running the benchmark, never asserted in a test."""

import json

import pytest

from rnnkit.bench import CASES
from rnnkit.cli.main import main


def test_bench_writes_one_record_per_case_and_grid_point(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--cases", "lstm,mut2,lstm-2layer-bi-vardrop", "--T", "3,4", "--B", "2",
                 "--H", "4", "--repeats", "2", "--warmup", "1", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    records = data["records"]
    assert [(r["case"], r["T"]) for r in records] == [
        ("lstm", 3), ("lstm", 4), ("mut2", 3), ("mut2", 4),
        ("lstm-2layer-bi-vardrop", 3), ("lstm-2layer-bi-vardrop", 4)]
    for r in records:
        for mode in ("train", "inference"):
            m = r[mode]
            assert m["rnnkit_ms"] > 0 and m["native_ms"] > 0
            assert m["ratio"] == pytest.approx(m["rnnkit_ms"] / m["native_ms"])
        assert r["train_peak_memory"]["rnnkit_mb"] > 0
    assert data["meta"]["repeats"] == 2
    assert "lstm-2layer-bi-vardrop" in capsys.readouterr().out


def test_every_case_builds_layers_of_matching_sizes():
    for case in CASES.values():
        ours, native = case.make_ours(8), case.make_native(8)
        assert ours.input_size == native.input_size == 8


def test_bad_case_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--cases", "lstm,nope"])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())  # argparse wraps long lines
    assert "unknown case 'nope'; expected some of: lstm," in err

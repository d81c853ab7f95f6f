"""`rnnkit bench` end to end at tiny sizes: the JSON records and the command line. Speed itself
is measured by running the benchmark, never asserted in a test."""

import json

import pytest

from rnnkit.bench.cases import CASES
from rnnkit.bench.report import markdown, misses
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


def _record(H, train, inference, memory):
    return {"case": "gru", "native": "nn.GRU", "T": 50, "B": 16, "H": H,
            "train": {"rnnkit_ms": train, "native_ms": 1.0, "ratio": train},
            "inference": {"rnnkit_ms": inference, "native_ms": 1.0, "ratio": inference},
            "train_peak_memory": {"rnnkit_mb": memory, "native_mb": 1.0, "ratio": memory}}


def test_misses_apply_the_training_target_by_hidden_size():
    assert misses(_record(64, 1.4, 1.0, 1.0)) == []  # 1.5x allowed below H = 256
    assert misses(_record(256, 1.4, 1.0, 1.0)) == ["train 1.40x > 1.10x"]
    assert misses(_record(512, 1.0, 1.2, 1.3)) == ["inference 1.20x > 1.10x",
                                                   "memory 1.30x > 1.25x"]


def test_markdown_page_lists_the_misses_and_a_table_per_case(tmp_path):
    path = tmp_path / "BENCH.md"
    assert main(["bench", "--cases", "gru,elman", "--T", "3", "--B", "2", "--H", "4",
                 "--repeats", "1", "--warmup", "0", "--no-memory", "--markdown", str(path)]) == 0
    page = path.read_text()
    assert "`rnnkit bench --cases gru,elman" in page or "rnnkit bench" in page
    assert "## gru (against nn.GRU)" in page and "## elman (against nn.RNN)" in page
    assert "grid points meet all" in page
    # a record that misses is listed under the targets with what it misses
    text = markdown({"command": "c", "date": "d", "machine": "m", "python": "3", "torch": "t",
                     "threads": 2, "repeats": 1, "warmup": 0, "load_before": 0.0,
                     "load_after": 0.0},
                    [_record(256, 1.4, 1.0, 1.0), _record(64, 1.0, 1.0, 1.0)])
    assert "1 of 2 grid points meet all" in text
    assert "| gru | 50 | 16 | 256 | train 1.40x > 1.10x |" in text

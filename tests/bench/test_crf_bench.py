"""The CRF bench against pytorch-crf: its parity check on a tiny case, and its table and JSON at a
tiny size. Speed itself is measured by running the bench, never asserted in a test. pytorch-crf
is no dependency of rnnkit: the tests that need it skip without it."""

import json
import sys

import pytest
import torch

from rnnkit.bench import crf as crf_bench

NEEDS_PYTORCH_CRF = "pytorch-crf is not installed (pip install pytorch-crf, or the bench extra)"


@pytest.fixture
def torchcrf():
    return pytest.importorskip("torchcrf", reason=NEEDS_PYTORCH_CRF)


def test_both_crfs_agree_on_a_tiny_padded_batch(torchcrf):
    ours, native = crf_bench.make_pair(4)
    assert isinstance(native, torchcrf.CRF)
    batch = crf_bench.make_batch(4, 4, 5)
    assert batch.lengths.tolist() == [5, 5, 4, 1]                  # padded, down to one step
    found = crf_bench.agreement(ours, native, batch)
    assert found["paths_equal"] and found["llh_max_abs_diff"] < 1e-5
    # and straight through the two APIs, without the bench's helpers
    emissions, tags, mask, lengths = batch
    torch.testing.assert_close(ours(emissions, tags, mask, reduction="none"),
                               native(emissions, tags, mask, reduction="none"))
    paths = ours.decode(emissions, mask)
    assert paths == native.decode(emissions, mask)
    assert [len(p) for p in paths] == lengths.tolist()


def test_agreement_fails_when_the_parameters_differ(torchcrf):
    ours, native = crf_bench.make_pair(4)
    with torch.no_grad():
        native.transitions[0, 1] += 1.0          # a constant on all would cancel in log Z
    with pytest.raises(AssertionError, match="disagree"):
        crf_bench.agreement(ours, native, crf_bench.make_batch(4, 2, 3))


def test_bench_prints_a_markdown_table_and_writes_json(torchcrf, tmp_path, capsys):
    path = tmp_path / "crf.json"
    assert crf_bench.main(["--K", "3,5", "--B", "2", "--T", "4", "--repeats", "2",
                           "--warmup", "0", "--json", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert [row.split(" | ")[:3] for row in rows] == [["| 3", "2", "4"], ["| 5", "2", "4"]]
    data = json.loads(path.read_text())
    assert data["meta"]["command"].startswith("python -m rnnkit.bench.crf --K 3,5")
    assert data["meta"]["native"] == f"pytorch-crf {torchcrf.__version__}"
    assert data["meta"]["repeats"] == 2 and "machine" in data["meta"]
    for r in data["records"]:
        assert r["paths_equal"]
        for mode in ("train", "decode"):
            m = r[mode]
            assert m["rnnkit_ms"] > 0 and m["native_ms"] > 0
            assert m["ratio"] == pytest.approx(m["rnnkit_ms"] / m["native_ms"])


def test_without_pytorch_crf_the_bench_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torchcrf", None)       # import torchcrf now fails
    with pytest.raises(ImportError, match="pip install pytorch-crf"):
        crf_bench.pytorch_crf()
    assert crf_bench.main(["--K", "3"]) == 2
    assert "pip install pytorch-crf" in capsys.readouterr().err

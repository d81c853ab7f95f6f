"""The tree benchmark runs end to end at tiny sizes (speed is measured by running it, never
asserted in a test)."""

from rnnkit.bench import trees


def test_trees_bench_prints_one_row_per_batch_size_with_equal_losses(tmp_path, capsys):
    data = tmp_path / "train.txt"
    data.write_text("(3 (2 A) (4 (3 good) (2 film)))\n(1 bad)\n(0 (0 bad) (1 (2 dull) (2 .)))\n")
    assert trees.main(["--data", str(data), "--cell", "rntn", "--B", "1,3", "--H", "4",
                       "--repeats", "1", "--warmup", "0"]) == 0
    rows = [row.split() for row in capsys.readouterr().out.splitlines()[2:]]
    assert [row[:3] for row in rows] == [["1", "5", "3"], ["3", "11", "3"]]  # B, nodes, levels
    assert all(len(row) == 10 for row in rows)  # train and inference: batched, recursive, x
    assert all(float(row[-1]) < 1e-5 for row in rows)  # |loss diff|

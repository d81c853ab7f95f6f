"""The pyramidal benchmark runs end to end at tiny sizes (speed is measured by running it, never
asserted in a test)."""

from rnnkit.bench import pyramidal


def test_pyramidal_bench_prints_one_row_per_grid_point(capsys):
    assert pyramidal.main(["--cell", "gru", "--T", "5,8", "--B", "2", "--H", "3",
                           "--layers", "2", "--repeats", "1", "--warmup", "0"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[:7] for row in rows] == [["gru", "5", "2", "3", "2", "2", "3"],
                                                 ["gru", "8", "2", "3", "2", "2", "4"]]


def test_measure_compares_layers_of_the_same_width_and_depth():
    pyramid, stack = pyramidal.layers("elman", 4, 3, 2)
    assert len(pyramid.layers) == len(stack.layers) == 3
    assert pyramid.output_size == stack.output_size == 8
    record = pyramidal.measure("elman", 7, 2, 4, 3, 2, repeats=1, warmup=0)
    assert record["output_T"] == 2 and record["time_ratio"] > 0 and record["stacked_mb"] > 0

"""The README's main job: a short run of the demo end to end (its data, the adding problem, is
tested in tests/data/test_synthetic.py)."""

from rnnkit import demo


def test_demo_runs_end_to_end(capsys):
    demo.main(["--steps", "2", "--length", "6"])
    out = capsys.readouterr().out
    for name in demo.CONTESTANTS:
        assert name in out

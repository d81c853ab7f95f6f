"""The probe: records inside its context only, a step per recurrence, and the explain runs
force the loop engine and restore the one in force."""

import pytest
import torch

import rnnkit
from rnnkit import engines
from rnnkit.cells import ElmanCell, GRUCell, JordanCell, LSTMCell, MUTCell
from rnnkit.cells import probe as probe_module
from rnnkit.cells.probe import probe
from rnnkit.explain.recording import cell_steps, run_recorded

from explain_helpers import DT, randn

# What each cell records per step, in order (its docstring's names).
RECORDS = [
    (lambda: LSTMCell(2, 3, dtype=DT), "a_i i a_f f a_g g c a_o o h"),
    (lambda: LSTMCell(2, 3, spec="CIFG", dtype=DT), "a_i i f a_g g c a_o o h"),
    (lambda: LSTMCell(2, 3, spec="NIG+NOG", dtype=DT), "a_f f a_g g c h"),
    (lambda: LSTMCell(2, 3, proj_size=2, dtype=DT), "a_i i a_f f a_g g c a_o o m h"),
    (lambda: GRUCell(2, 3, dtype=DT), "a_r r a_z z a_n n h"),
    (lambda: MUTCell(3, 3, kind="MUT2", dtype=DT), "a_z z a_r r a_n n h"),
    (lambda: ElmanCell(2, 3, dtype=DT), "a h"),
    (lambda: JordanCell(2, 3, 2, dtype=DT), "a h y"),
]


@pytest.mark.parametrize("make, names", RECORDS)
def test_each_cell_records_its_named_values_once_per_step(make, names):
    cell = make()
    x = randn(4, 2, cell.input_size)
    with engines.use("loop"), probe() as recording:
        rnnkit.Recurrent(cell)(x)
    steps = recording.steps(cell)
    assert len(steps) == 4
    for step in steps:
        assert list(step) == names.split()
        assert all(v.shape[0] == 2 for v in step.values())


def test_nothing_is_recorded_outside_the_context():
    cell = ElmanCell(2, 3, dtype=DT)
    x = randn(1, 2)
    assert probe_module._recording.get() is None
    with probe() as recording:
        cell.step(x)
    assert probe_module._recording.get() is None
    cell.step(x)  # after the context: the old recording does not grow
    assert len(recording.steps(cell)) == 1


def test_nested_probes_record_into_the_innermost():
    cell = ElmanCell(2, 3, dtype=DT)
    with probe() as outer:
        with probe() as inner:
            cell.step(randn(1, 2))
        cell.step(randn(1, 2))
    assert len(inner.steps(cell)) == 1 and len(outer.steps(cell)) == 1


@pytest.mark.parametrize("engine", ["auto", "native"])
def test_the_loop_is_forced_for_the_run_and_the_engine_restored(engine):
    lstm = rnnkit.LSTM(2, 3)  # torch's kernels by default, which never call recurrence
    seen = []

    def model(x):
        seen.append(engines.current())
        return lstm(x)

    with engines.use(engine):
        _, recording = run_recorded(model, torch.randn(5, 2, 2))
        assert engines.current() == engine
        with pytest.raises(RuntimeError, match="inside"):
            run_recorded(lambda x: (_ for _ in ()).throw(RuntimeError("inside")), None)
        assert engines.current() == engine
    assert seen == ["loop"]
    assert len(recording.steps(lstm.cells[0][0])) == 5


def test_cells_run_in_order_and_a_cell_is_picked():
    lstm = rnnkit.LSTM(2, 3, num_layers=2, bidirectional=True)
    _, recording = run_recorded(lstm, torch.randn(4, 1, 2))
    cells = lstm.cells
    assert recording.cells == [cells[0][0], cells[0][1], cells[1][0], cells[1][1]]
    assert cell_steps(recording)[0] is cells[0][0]
    with pytest.raises(ValueError, match="cell: expected one of the cells that ran"):
        cell_steps(recording, ElmanCell(2, 3))


def test_a_model_without_rnnkit_cells_is_an_error():
    with pytest.raises(ValueError, match="no rnnkit cell ran"):
        run_recorded(torch.nn.LSTM(2, 3), torch.randn(4, 1, 2))

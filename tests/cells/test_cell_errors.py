"""Bad input: every error has the right type and a message that names the argument and shows the
value that came (and what was expected)."""

import re

import pytest
import torch

from rnnkit import DeviceError, DtypeError, ShapeError
from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, LSTMSpec, MUTCell
from rnnkit.cells.lstm import VARIANTS, as_spec

from cells_helpers import DT

I, H, B = 3, 4, 2


def _raises(exc_type, call, *fragments):
    """call() raises exactly exc_type and the message contains every fragment. rnnkit's tensor
    errors are also what torch raises for the same mistake (a RuntimeError, or a ValueError for
    a dtype), and what rnnkit raised before (ValueError, or TypeError for a dtype)."""
    with pytest.raises(exc_type) as info:
        call()
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    if exc_type in (ShapeError, DeviceError, DtypeError):
        assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    if exc_type is DtypeError:
        assert isinstance(info.value, TypeError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def x(*shape, dtype=DT, **kw):
    return torch.zeros(*shape, dtype=dtype, **kw)


CELLS = {
    "elman": lambda: ElmanCell(I, H, dtype=DT),
    "jordan": lambda: JordanCell(I, H, 2, dtype=DT),
    "lstm": lambda: LSTMCell(I, H, dtype=DT),
    "lstm-proj-fgr": lambda: LSTMCell(I, H, spec="FGR", proj_size=2, dtype=DT),
    "gru": lambda: GRUCell(I, H, dtype=DT),
    "mut3": lambda: MUTCell(I, H, kind="MUT3", dtype=DT),
}


# --- step: x_t ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CELLS))
def test_x_t_wrong_rank(name):
    cell = CELLS[name]()
    _raises(ShapeError, lambda: cell.step(x(I)), "x_t", "2 dimensions", "(3,)")
    _raises(ShapeError, lambda: cell.step(x(1, B, I)), "x_t", "2 dimensions", "(1, 2, 3)")


@pytest.mark.parametrize("name", list(CELLS))
def test_x_t_wrong_feature_size(name):
    cell = CELLS[name]()
    _raises(ShapeError, lambda: cell.step(x(B, I + 2)), "x_t", "input_size", f"{I}", "(2, 5)")


@pytest.mark.parametrize("name", list(CELLS))
def test_x_t_wrong_dtype(name):
    cell = CELLS[name]()
    _raises(DtypeError, lambda: cell.step(x(B, I, dtype=torch.float32)),
            "x_t", "float64", "float32")
    _raises(DtypeError, lambda: cell.step(x(B, I, dtype=torch.int64)), "x_t", "float64", "int64")


def test_x_t_not_a_tensor():
    cell = ElmanCell(I, H)
    _raises(TypeError, lambda: cell.step([[0.0, 1.0, 2.0]]), "x_t", "tensor", "list")
    _raises(TypeError, lambda: cell.step(None), "x_t", "tensor", "None")


def test_x_t_on_another_device():
    """The meta device stands in for an accelerator: no GPU needed."""
    cell = ElmanCell(I, H, dtype=DT)
    _raises(DeviceError, lambda: cell.step(x(B, I, device="meta")), "x_t", "cpu", "meta")


# --- step: state -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CELLS))
def test_state_wrong_number_of_tensors(name):
    cell = CELLS[name]()
    n = len(cell.state_sizes)
    too_few = tuple(x(B, s) for s in cell.state_sizes[:-1])
    too_many = tuple(x(B, s) for s in cell.state_sizes) + (x(B, H),)
    for state, got in ((too_few, f"tuple of {n - 1}"), (too_many, f"tuple of {n + 1}")):
        _raises(TypeError, lambda: cell.step(x(B, I), state), "state",
                f"tuple of {n} tensors", str(cell.state_names), got)


def test_state_not_a_tuple():
    cell = ElmanCell(I, H, dtype=DT)
    _raises(TypeError, lambda: cell.step(x(B, I), "h"), "state", "str 'h'")
    _raises(TypeError, lambda: cell.step(x(B, I), (None,)), "state[h]", "tensor", "None")


@pytest.mark.parametrize("name", list(CELLS))
def test_state_wrong_rank_batch_size_and_dtype(name):
    cell = CELLS[name]()
    good = [x(B, s) for s in cell.state_sizes]
    for k, (label, size) in enumerate(zip(cell.state_names, cell.state_sizes)):
        def with_part(part):
            state = list(good)
            state[k] = part
            return lambda: cell.step(x(B, I), tuple(state))

        _raises(ShapeError, with_part(x(B, size, 1)), f"state[{label}]", "2 dimensions",
                f"({B}, {size}, 1)")
        _raises(ShapeError, with_part(x(B + 1, size)), f"state[{label}]",
                f"({B}, {size})", f"({B + 1}, {size})")
        _raises(ShapeError, with_part(x(B, size + 1)), f"state[{label}]",
                f"({B}, {size})", f"({B}, {size + 1})")
        _raises(DtypeError, with_part(x(B, size, dtype=torch.float32)), f"state[{label}]",
                "float64", "float32")


def test_good_states_are_accepted():
    """The checks reject only what is wrong: tuples, lists, a bare tensor for a one-tensor state
    and None (zeros) all work."""
    elman = ElmanCell(I, H, dtype=DT)
    h = torch.randn(B, H, dtype=DT)
    a, _ = elman.step(x(B, I), (h,))
    b, _ = elman.step(x(B, I), [h])
    c, _ = elman.step(x(B, I), h)
    assert torch.equal(a, b) and torch.equal(a, c)
    z1, _ = elman.step(x(B, I))
    z2, _ = elman.step(x(B, I), (x(B, H),))
    assert torch.equal(z1, z2)
    lstm = LSTMCell(I, H, spec="FGR", proj_size=2, dtype=DT)
    out, state = lstm.step(x(B, I))
    assert [tuple(s.shape) for s in state] == [(B, 2), (B, H), (B, 3 * H)]


# --- LSTM spec ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: LSTMCell(I, H, spec="FOO"),
    lambda: LSTMCell(I, H, spec="NIAF+FOO"),
    lambda: LSTMCell(I, H, spec=["CIFG", "FOO"]),
    lambda: LSTMSpec.variant("FOO"),
    lambda: as_spec("FOO"),
], ids=["string", "combination", "list", "variant", "as_spec"])
def test_unknown_variant_name(make):
    message = _raises(ValueError, make, "variant", "'FOO'")
    for name in VARIANTS:  # lists what is allowed
        assert re.search(rf"\b{name}\b", message), name


def test_empty_variant_name():
    _raises(ValueError, lambda: LSTMCell(I, H, spec="NIAF+"), "variant", "got ''")


def test_spec_of_wrong_type():
    _raises(TypeError, lambda: LSTMCell(I, H, spec=3), "spec", "LSTMSpec", "int 3")
    _raises(TypeError, lambda: LSTMCell(I, H, spec=["NIG", 3]), "spec", "list of 2")
    _raises(TypeError, lambda: GRUCell(I, H, spec="after"), "spec", "GRUSpec", "str 'after'")
    _raises(TypeError, lambda: GRUCell(I, H, spec=LSTMSpec()), "spec", "GRUSpec", "LSTMSpec")


@pytest.mark.parametrize("make, fragments", [
    (lambda: LSTMSpec(coupled=True, input_gate=False), ("coupled=True", "input_gate=False")),
    (lambda: as_spec("CIFG+NIG"), ("coupled=True", "input_gate=False")),
    (lambda: as_spec("NIG+CIFG"), ("coupled=True", "input_gate=False")),
    (lambda: LSTMSpec(coupled=True, forget_gate=False), ("coupled=True", "forget_gate=False")),
    (lambda: LSTMCell(I, H, spec="CIFG+NFG"), ("coupled=True", "forget_gate=False")),
    (lambda: as_spec("FGR+NIG"), ("full_gate_recurrence=True", "input_gate=False")),
    (lambda: as_spec("FGR+NFG"), ("full_gate_recurrence=True", "forget_gate=False")),
    (lambda: as_spec("FGR+NOG"), ("full_gate_recurrence=True", "output_gate=False")),
    (lambda: LSTMCell(I, H, spec="FGR+CIFG"), ("full_gate_recurrence=True", "coupled=True")),
    (lambda: LSTMSpec(full_gate_recurrence=True, coupled=True),
     ("full_gate_recurrence=True", "coupled=True")),
], ids=["CIFG+NIG", "CIFG+NIG-str", "NIG+CIFG-str", "CIFG+NFG", "CIFG+NFG-cell", "FGR+NIG",
        "FGR+NFG", "FGR+NOG", "FGR+CIFG-cell", "FGR+CIFG"])
def test_contradictory_options(make, fragments):
    _raises(ValueError, make, "LSTMSpec", *fragments)


@pytest.mark.parametrize("proj_size", [H, H + 3])
def test_proj_size_not_below_hidden_size(proj_size):
    _raises(ValueError, lambda: LSTMCell(I, H, proj_size=proj_size), "proj_size",
            f"< hidden_size ({H})", f"got {proj_size}")


def test_proj_size_bad_values():
    _raises(ValueError, lambda: LSTMCell(I, H, proj_size=-1), "proj_size", ">= 0", "got -1")
    _raises(TypeError, lambda: LSTMCell(I, H, proj_size=2.0), "proj_size", "int", "float 2.0")


# --- MUT ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["MUT1", "MUT2", "mut1"])
def test_mut1_mut2_need_square_input_without_input_proj(kind):
    _raises(ValueError, lambda: MUTCell(I, H, kind=kind), "input_size",
            f"input_size == hidden_size ({H})", f"got {I}", "input_proj")
    MUTCell(I, H, kind=kind, input_proj=True)  # the way out works
    MUTCell(H, H, kind=kind)
    MUTCell(I, H, kind="MUT3")  # MUT3 has no raw-input term


@pytest.mark.parametrize("kind", ["MUT4", "GRU", "", 1])
def test_unknown_mut_kind(kind):
    _raises(ValueError, lambda: MUTCell(H, H, kind=kind), "kind", "'MUT1', 'MUT2', 'MUT3'",
            f"got {kind!r}")


# --- names of functions, sizes -----------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda v: ElmanCell(I, H, nonlinearity=v),
                                  lambda v: JordanCell(I, H, 2, nonlinearity=v)],
                         ids=["elman", "jordan"])
@pytest.mark.parametrize("value", ["gelu", "identity", "Tanh"])
def test_unknown_nonlinearity(make, value):
    _raises(ValueError, lambda: make(value), "nonlinearity", "'tanh', 'relu', 'sigmoid'",
            f"got {value!r}")


@pytest.mark.parametrize("value", ["relu", "softmax"])
def test_unknown_jordan_output_activation(value):
    _raises(ValueError, lambda: JordanCell(I, H, 2, output_activation=value),
            "output_activation", "'tanh', 'sigmoid', 'identity'", f"got {value!r}")


@pytest.mark.parametrize("make", [
    lambda v: ElmanCell(I, H, recurrent_init=v),
    lambda v: JordanCell(I, H, 2, recurrent_init=v),
    lambda v: LSTMCell(I, H, recurrent_init=v),
    lambda v: GRUCell(I, H, recurrent_init=v),
    lambda v: MUTCell(H, H, recurrent_init=v),
], ids=["elman", "jordan", "lstm", "gru", "mut"])
def test_unknown_recurrent_init(make):
    _raises(ValueError, lambda: make("xavier"), "recurrent_init",
            "'default', 'orthogonal', 'identity'", "got 'xavier'")


@pytest.mark.parametrize("make", [
    lambda **kw: ElmanCell(**{"input_size": I, "hidden_size": H, **kw}),
    lambda **kw: LSTMCell(**{"input_size": I, "hidden_size": H, **kw}),
    lambda **kw: GRUCell(**{"input_size": I, "hidden_size": H, **kw}),
    lambda **kw: MUTCell(**{"input_size": H, "hidden_size": H, "kind": "MUT3", **kw}),
    lambda **kw: JordanCell(**{"input_size": I, "hidden_size": H, "output_size": 2, **kw}),
], ids=["elman", "lstm", "gru", "mut", "jordan"])
@pytest.mark.parametrize("arg", ["input_size", "hidden_size"])
def test_sizes(make, arg):
    _raises(ValueError, lambda: make(**{arg: 0}), arg, ">= 1", "got 0")
    _raises(TypeError, lambda: make(**{arg: 4.0}), arg, "an int", "float 4.0")
    _raises(TypeError, lambda: make(**{arg: "4"}), arg, "an int", "str '4'")
    _raises(TypeError, lambda: make(**{arg: True}), arg, "an int", "bool True")


def test_jordan_output_size():
    _raises(ValueError, lambda: JordanCell(I, H, 0), "output_size", ">= 1", "got 0")


def test_forget_bias_is_validated():
    _raises(TypeError, lambda: LSTMCell(I, H, forget_bias="1.0"), "forget_bias",
            "a float or None", "str '1.0'")


def test_mut3_refuses_input_proj():
    _raises(ValueError, lambda: MUTCell(I, H, kind="MUT3", input_proj=True), "input_proj",
            "MUT3 has no raw-input term", "got True")

"""The LSTM family as one spec: PyTorch's LSTM, the peephole ("vanilla") LSTM of Greff et al.
and its eight variants from "LSTM: A Search Space Odyssey" (2017), all options of `LSTMSpec`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.cells.base import RecurrentCell, State, Weights, check_init, dropped, factory
from rnnkit.cells.probe import note


@dataclass(frozen=True)
class LSTMSpec:
    """Which parts an LSTM has. The default is PyTorch's `nn.LSTM` (no peepholes).

    input_gate, forget_gate, output_gate: a gate that is off is the constant 1 (NIG, NFG, NOG).
    input_activation, output_activation: tanh on the block input g / on the cell before the output
        gate; off means identity (NIAF, NOAF).
    peepholes: diagonal weights from the cell to the gates (p_i, p_f from c_{t-1}, p_o from c_t).
    coupled: the forget gate is 1 - i (CIFG); it has no weights of its own.
    full_gate_recurrence: every gate also sees the previous activations of all three gates (FGR).
    """

    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    peepholes: bool = False
    coupled: bool = False
    full_gate_recurrence: bool = False

    def __post_init__(self):
        if self.coupled and not self.input_gate:
            raise ValueError("LSTMSpec: coupled=True (CIFG, f = 1 - i) needs the input gate, "
                             "got input_gate=False (NIG)")
        if self.coupled and not self.forget_gate:
            raise ValueError("LSTMSpec: coupled=True (CIFG) derives the forget gate from the "
                             "input gate; forget_gate=False (NFG) contradicts it")
        if self.full_gate_recurrence and (self.coupled or not (
                self.input_gate and self.forget_gate and self.output_gate)):
            raise ValueError("LSTMSpec: full_gate_recurrence=True (FGR) needs three independent "
                             "gates: input_gate, forget_gate and output_gate on and coupled off, "
                             f"got {self}")

    # Which weight blocks exist, in PyTorch's order i, f, g, o.
    @property
    def gates(self) -> tuple[str, ...]:
        has = {"i": self.input_gate, "f": self.forget_gate and not self.coupled, "g": True,
               "o": self.output_gate}
        return tuple(name for name in "ifgo" if has[name])

    @property
    def peephole_gates(self) -> tuple[str, ...]:
        return tuple(g for g in self.gates if g != "g") if self.peepholes else ()

    @property
    def is_torch(self) -> bool:
        """True when this is exactly what torch.nn.LSTM computes."""
        return self == LSTMSpec()

    @property
    def name(self) -> str:
        """This spec as `variant` names it ("CIFG", "NIAF+NOAF", "VANILLA", "TORCH" for
        PyTorch's), or its repr when no combination of names gives it."""
        if self.is_torch:
            return "TORCH"
        names = [key for key, change in VARIANTS.items()
                 if change and all(getattr(self, field) == value for field, value in change.items())]
        name = "+".join(names) or "VANILLA"
        return name if LSTMSpec.variant(*name.split("+")) == self else repr(self)

    @classmethod
    def variant(cls, *names: str) -> "LSTMSpec":
        """Greff et al.'s named variants, combined: `LSTMSpec.variant("NIAF", "NOAF")`.
        Every name except "torch" starts from the vanilla (peephole) LSTM."""
        spec = cls(peepholes=True)
        if not names:
            return spec
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"spec: expected LSTM variant names (str), "
                                f"got {_check.describe(name)}")
            key = name.upper()
            if key not in VARIANTS:
                raise ValueError(f"spec: expected an LSTM variant name, one of "
                                 f"{', '.join(VARIANTS)}, got {name!r}")
            if key == "TORCH":
                spec = dataclasses.replace(spec, peepholes=False)
            else:
                spec = dataclasses.replace(spec, **VARIANTS[key])
        return spec


# Greff et al. (2017), Sec. 3: each variant changes one thing of the vanilla LSTM.
VARIANTS: dict[str, dict] = {
    "VANILLA": {},
    "NIG": {"input_gate": False},
    "NFG": {"forget_gate": False},
    "NOG": {"output_gate": False},
    "NIAF": {"input_activation": False},
    "NOAF": {"output_activation": False},
    "NP": {"peepholes": False},
    "CIFG": {"coupled": True},
    "FGR": {"full_gate_recurrence": True},
    "TORCH": {},  # handled in LSTMSpec.variant: PyTorch's LSTM is NP
}


def as_spec(spec) -> LSTMSpec:
    """An LSTMSpec from a spec, a variant name ("CIFG"), a "+"-joined combination
    ("NIAF+NOAF"), or a list of names."""
    if spec is None:
        return LSTMSpec()
    if isinstance(spec, LSTMSpec):
        return spec
    if isinstance(spec, str):
        return LSTMSpec.variant(*spec.split("+"))
    if isinstance(spec, (list, tuple)) and all(isinstance(s, str) for s in spec):
        return LSTMSpec.variant(*spec)
    raise TypeError(f"spec: expected an LSTMSpec, a variant name or a list of names, "
                    f"got {_check.describe(spec)}")


class LSTMCell(RecurrentCell):
    r"""One step of an LSTM whose parts are set by an `LSTMSpec`.

    With x: (B, I), h_{t-1}: (B, R) where R = proj_size or H, c_{t-1}: (B, H):

        a_k   = W_k x + b_k + U_k h_{t-1} + b'_k            for each gate block k in (i, f, g, o)
              [+ p_k * c_{t-1}  for k in (i, f)   (peepholes)]
              [+ (V [i_{t-1}; f_{t-1}; o_{t-1}])_k  for k in (i, f, o)   (FGR)]
        i     = sigmoid(a_i)          (1 without an input gate, NIG)
        f     = sigmoid(a_f)          (1 without a forget gate, NFG; 1 - i when coupled, CIFG)
        g     = tanh(a_g)             (a_g without input activation, NIAF)
        c_t   = f * c_{t-1} + i * g
        o     = sigmoid(a_o [+ p_o * c_t])   (1 without an output gate, NOG)
        m_t   = o * tanh(c_t)         (o * c_t without output activation, NOAF)
        h_t   = W_hr m_t  if proj_size else m_t

    Parameters (PyTorch's names; blocks stacked in the order of `spec.gates`, a subset of i,f,g,o):
        weight_ih (G*H, I), weight_hh (G*H, R), bias_ih (G*H), bias_hh (G*H),
        weight_ch (P, H): peepholes, one row per gate in `spec.peephole_gates`,
        weight_gg (3H, 3H): FGR, maps [i; f; o]_{t-1} to the pre-activations of i, f, o,
        weight_hr (R, H): the projection when proj_size > 0.
    State: (h (B, R), c (B, H)), plus the previous gates (B, 3H) with FGR.
    Under `rnnkit.cells.probe` a step records a_k and k for each gate that exists (f also when
    coupled), a_g, g, c (c_t), m (m_t, only with a projection) and h (h_t).

    The forget-gate bias starts at `forget_bias` (bias_ih_f = forget_bias, bias_hh_f = 0), so that
    the cell remembers by default (Gers et al. 2000; Jozefowicz et al. 2015). With a coupled
    forget gate, f = 1 - i = sigmoid(-a_i), so the input-gate bias starts at -forget_bias instead.
    `forget_bias=None` keeps PyTorch's uniform init.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, spec=None,
                 proj_size: int = 0, recurrent_init: str = "default",
                 forget_bias: float | None = 1.0, device=None, dtype=None):
        super().__init__()
        self.input_size = _check.positive_int("input_size", input_size)
        self.hidden_size = _check.positive_int("hidden_size", hidden_size)
        self.proj_size = _check.positive_int("proj_size", proj_size, allow_zero=True)
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size: expected a value < hidden_size ({hidden_size}), "
                             f"got {proj_size}")
        self.spec = as_spec(spec)
        self.bias = bias
        self.recurrent_init = check_init(recurrent_init)
        self.forget_bias = _check.optional_float("forget_bias", forget_bias)
        H, R = hidden_size, proj_size or hidden_size
        G = len(self.spec.gates)
        self.output_size = R
        self.recurrent_blocks = G
        fgr = self.spec.full_gate_recurrence
        self.state_names = ("h", "c", "gates") if fgr else ("h", "c")
        self.state_sizes = (R, H, 3 * H) if fgr else (R, H)
        kw = factory(device, dtype)
        self.weight_ih = nn.Parameter(torch.empty(G * H, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(G * H, R, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * H, **kw))
            self.bias_hh = nn.Parameter(torch.empty(G * H, **kw))
        if self.spec.peephole_gates:  # none when every gate is off (NIG+NFG+NOG)
            self.weight_ch = nn.Parameter(torch.empty(len(self.spec.peephole_gates), H, **kw))
        if fgr:
            self.weight_gg = nn.Parameter(torch.empty(3 * H, 3 * H, **kw))
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, H, **kw))
        self.reset_parameters()

    def _init_biases(self) -> None:
        if not self.bias or self.forget_bias is None or not self.spec.forget_gate:
            return
        H = self.hidden_size
        gate = "i" if self.spec.coupled else "f"
        value = -self.forget_bias if self.spec.coupled else self.forget_bias
        k = self.spec.gates.index(gate)
        self.bias_ih[k * H:(k + 1) * H] = value
        self.bias_hh[k * H:(k + 1) * H] = 0.0

    def input_part(self, w: Weights, x: Tensor) -> Tensor:
        """x: (..., I) -> (..., G*H) = W x + b_ih."""
        return nn.functional.linear(x, w["weight_ih"], w.get("bias_ih"))

    def recurrence(self, w: Weights, x_proj: Tensor, state: State,
                   mask: Tensor | None = None) -> tuple[Tensor, State]:
        spec, H = self.spec, self.hidden_size
        h, c = state[0], state[1]
        pre = x_proj + nn.functional.linear(dropped(h, mask), w["weight_hh"], w.get("bias_hh"))
        blocks = dict(zip(spec.gates, pre.split(H, dim=-1)))
        if spec.full_gate_recurrence:
            from_gates = (state[2] @ w["weight_gg"].t()).split(H, dim=-1)
            for name, extra in zip("ifo", from_gates):
                blocks[name] = blocks[name] + extra
        peep = dict(zip(spec.peephole_gates, w["weight_ch"])) if spec.peephole_gates else {}

        def gate(name: str, c_seen: Tensor) -> Tensor:
            a = blocks[name] + peep[name] * c_seen if name in peep else blocks[name]
            note(self, f"a_{name}", a)
            value = torch.sigmoid(a)
            note(self, name, value)
            return value

        # A gate that is off is the constant 1: None, and the product with it is skipped.
        i = gate("i", c) if spec.input_gate else None
        if spec.coupled:
            f = 1.0 - i
            note(self, "f", f)
        else:
            f = gate("f", c) if spec.forget_gate else None
        note(self, "a_g", blocks["g"])
        g = torch.tanh(blocks["g"]) if spec.input_activation else blocks["g"]
        note(self, "g", g)
        c_new = (c if f is None else f * c) + (g if i is None else i * g)
        note(self, "c", c_new)
        o = gate("o", c_new) if spec.output_gate else None
        m = torch.tanh(c_new) if spec.output_activation else c_new
        if o is not None:
            m = o * m
        h_new = nn.functional.linear(m, w["weight_hr"]) if self.proj_size else m
        if self.proj_size:  # without a projection m_t is h_t
            note(self, "m", m)
        note(self, "h", h_new)
        if spec.full_gate_recurrence:
            return h_new, (h_new, c_new, torch.cat([i, f, o], dim=-1))
        return h_new, (h_new, c_new)

    def extra_repr(self) -> str:
        extra = f", proj_size={self.proj_size}" if self.proj_size else ""
        return f"{self.input_size}, {self.hidden_size}{extra}, spec={self.spec}"

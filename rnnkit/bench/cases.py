"""What `rnnkit bench` measures: each case is an rnnkit layer and the native PyTorch layer of the
same sizes that it is compared with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

import rnnkit
from rnnkit.cells import LSTM_VARIANTS, MUTCell
from rnnkit.layers import TorchStyleRNN


@dataclass(frozen=True)
class Case:
    name: str
    make_ours: Callable[[int], nn.Module]  # hidden size (= input size) -> module
    make_native: Callable[[int], nn.Module]
    native_name: str


def _lstm_case(name: str, spec) -> Case:
    return Case(name, lambda h: rnnkit.LSTM(h, h, spec=spec), lambda h: nn.LSTM(h, h),
                "nn.LSTM")


def _mut_case(kind: str) -> Case:
    return Case(kind.lower(),
                lambda h: TorchStyleRNN(lambda size: MUTCell(size, h, kind=kind), h),
                lambda h: nn.GRU(h, h), "nn.GRU")


CASES: dict[str, Case] = {case.name: case for case in [
    _lstm_case("lstm", None),
    _lstm_case("lstm-peephole", "vanilla"),
    *[_lstm_case(f"lstm-{v.lower()}", v) for v in LSTM_VARIANTS if v not in ("VANILLA", "TORCH")],
    Case("gru", lambda h: rnnkit.GRU(h, h), lambda h: nn.GRU(h, h), "nn.GRU"),
    Case("gru-reset-before", lambda h: rnnkit.GRU(h, h, reset_after=False),
         lambda h: nn.GRU(h, h), "nn.GRU"),
    *[_mut_case(kind) for kind in ("MUT1", "MUT2", "MUT3")],
    Case("elman", lambda h: rnnkit.RNN(h, h), lambda h: nn.RNN(h, h), "nn.RNN"),
    # Joulin & Mikolov's toy-task size: 10 stacks of 100 entries, the top 2 read
    Case("stack-rnn", lambda h: rnnkit.StackRNN(h, h, num_stacks=10, depth=100),
         lambda h: nn.LSTM(h, h), "nn.LSTM"),
    Case("lstm-2layer-bi-vardrop",
         lambda h: rnnkit.LSTM(h, h, 2, bidirectional=True, dropout=0.25, variational=True),
         lambda h: nn.LSTM(h, h, 2, bidirectional=True, dropout=0.25), "nn.LSTM"),
]}

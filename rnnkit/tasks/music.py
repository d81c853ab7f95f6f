"""Polyphonic music (Boulanger-Lewandowski et al. 2012): predict each time step of a piano roll
from the steps before it, each of the 88 keys an independent Bernoulli output. The metric is
the negative log-likelihood per time step: summed over the 88 keys, averaged over every time
step of every piece of the split (padding excluded), in nats, as the paper and Chung et al.
(2014) report it on JSB Chorales.

Every step of a piece is predicted, its first one from the initial state: the input at step t
is the roll at step t - 1, and a silent frame at t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.data import NUM_KEYS, pad_sequences, piano_roll, read_jsb
from rnnkit.data.jsb import LOWEST_NOTE
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.note_model import NoteModel
from rnnkit.tasks.base import Batch, Encoded, Task, bucketed, read_data

PADDING = -1.0  # the target at padded steps: no probability is 0 <= p <= 1, so the loss skips it
SILENCE = "-"  # a step with no note in `predict`'s input and output
EXPORT_LENGTH = 32  # the steps of an exported model's input unless export asks for others


@dataclass(frozen=True)
class MusicData:
    """The [data] section. path: a JSON file of pieces, as JSB Chorales' release
    (`rnnkit.data.read_jsb`): {"train", "valid", "test"} -> pieces -> steps -> MIDI notes."""

    path: str


def shifted(roll: Tensor) -> Tensor:
    """roll (T, 88) -> the model's inputs (T, 88) for targets `roll`: a silent frame, then every
    step but the last."""
    return torch.cat([roll.new_zeros(1, NUM_KEYS), roll[:-1]])


def step_nll(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """logits, targets (T, B, 88), targets PADDING at padded steps -> (the summed negative
    log-likelihood of the true steps, their count)."""
    real = targets[..., 0] != PADDING  # (T, B)
    nll = nn.functional.binary_cross_entropy_with_logits(logits[real], targets[real],
                                                         reduction="sum")
    return nll, real.sum()


class MusicTask(Task):
    name = "music"
    Data = MusicData
    unit = "tokens"  # time steps
    monitor = "nll"
    metric_names = ("loss", "nll")
    output_batch_dim = 1

    def __init__(self, data: MusicData, model, state=None):
        super().__init__(data, model, state)
        if model.bidirectional:
            raise ConfigError("model.bidirectional: the music task predicts each step from the "
                              "steps before it, which a backward direction would read past; "
                              "expected false, got true")
        self._rolls: dict[str, list[Tensor]] | None = None
        if state is None:  # training: a missing or bad file stops the run before it starts
            self.rolls()

    def rolls(self) -> dict[str, list[Tensor]]:
        """Each split's pieces as piano rolls (T_i, 88), read on first use."""
        if self._rolls is None:
            pieces = read_data(read_jsb, self.data.path)
            self._rolls = {split: [piano_roll(p) for p in split_pieces]
                           for split, split_pieces in pieces.items()}
        return self._rolls

    def build_model(self):
        return NoteModel(self.model_config)

    def size(self, split):
        return len(self.rolls()[split])

    def batches(self, split, batch_size, epoch, seed):
        """Padded batches of pieces of similar lengths: inputs (T, B, 88) and targets (T, B, 88),
        PADDING after each piece's end."""
        rolls = self.rolls()[split]
        lengths = torch.tensor([len(roll) for roll in rolls])
        for index in bucketed(lengths, split, batch_size, epoch, seed):
            inputs = pad_sequences([shifted(rolls[i]) for i in index])
            targets = pad_sequences([rolls[i] for i in index], padding_value=PADDING)
            yield Batch(inputs.data, targets.data, int(inputs.lengths.sum()), target_dim=1,
                        lengths=inputs.lengths)

    def loss(self, outputs, targets):
        nll, steps = step_nll(outputs, targets)
        return nll / steps, {"nll": nll.item(), "n": steps.item()}

    def metrics(self, sums):
        nll = sums["nll"] / sums["n"]
        return {"loss": nll, "nll": nll}

    def encode(self, line, number=1):
        """The first steps of a piece, separated by spaces, each step its MIDI notes joined by
        commas or "-" for silence ("60,64,67 62,65,69 -") -> inputs (T + 1, 1, 88): the silent
        frame the model starts from, then the T steps, so that output t predicts step t and
        the last output the step after the line. Labelled by the step each input reads."""
        try:
            steps = [[] if step == SILENCE else [int(note) for note in step.split(",")]
                     for step in line.split()]
            roll = piano_roll(steps)
        except ValueError as error:
            raise DataError(f"input line {number}: expected steps separated by spaces, each "
                            f"MIDI notes {LOWEST_NOTE}..108 joined by commas or {SILENCE!r} for "
                            f"silence (e.g. '60,64,67 62,65 -'), got {line!r}") from error
        inputs = shifted(torch.cat([roll, roll.new_zeros(1, NUM_KEYS)]))
        return Encoded(inputs.unsqueeze(1), ["(start)"] + line.split())

    def predict(self, model, lines):
        """Each line, a piece's first steps as `encode` reads it -> the notes predicted (p >
        0.5) at the next step, in the same form."""
        predictions = []
        for number, line in enumerate(lines, 1):
            with torch.no_grad():
                logits, _ = model(self.encode(line, number).inputs)
            keys = (logits[-1, 0] > 0).nonzero().flatten().tolist()
            predictions.append(",".join(str(LOWEST_NOTE + k) for k in keys) or SILENCE)
        return predictions

    def example_input(self, length=None):
        return torch.randint(2, (length or EXPORT_LENGTH, 1, NUM_KEYS),
                             generator=torch.Generator().manual_seed(0)).float()

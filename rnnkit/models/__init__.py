"""Models: task heads over the recurrent layers, and the generated tasks they are tried on."""

from rnnkit.models.attention import AdditiveAttention
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["AdditiveAttention", "Seq2Seq"]

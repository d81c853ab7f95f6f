"""Models: the reusable modules over the recurrent layers (classifier, regressor, tagger and
its heads, character encoder, pooling, attention, seq2seq with beam search, language model,
note and tree models), each usable in a user's own loop; `network.ModelConfig` builds the
recurrent part from a config's [model] section. The tasks that train them are in
`rnnkit/tasks/`."""

from rnnkit.models.attention import AdditiveAttention
from rnnkit.models.network import CELLS, ModelConfig, build_network
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["AdditiveAttention", "CELLS", "ModelConfig", "build_network", "Seq2Seq"]

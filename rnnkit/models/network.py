"""The recurrent network a model is built around, named by config: any rnnkit cell (LSTM
variants by spec string), its size, depth, direction and dropout."""

from __future__ import annotations

from dataclasses import dataclass, field

from rnnkit.cells import ElmanCell, GRUCell, GRUSpec, JordanCell, LSTMCell, MUTCell
from rnnkit.cells.stack import DISCRETE_MODES, StackCell
from rnnkit.cells.tree import TREE_CELLS
from rnnkit.errors import ConfigError
from rnnkit.layers import TorchStyleRNN
from rnnkit.models.char_encoder import CHAR_ENCODERS
from rnnkit.models.pooling import POOLINGS
from rnnkit.models.tag_heads import HEADS
from rnnkit.names import NETWORK_CELLS as CELLS



@dataclass(frozen=True)
class ModelConfig:
    """The [model] section.

    cell: one of CELLS. spec: the LSTM's variant, as `LSTMCell(spec=...)` takes it ("torch",
    "vanilla" (peepholes), "CIFG", "NIAF+NOAF", ...). reset_after: the GRU's convention (True is
    PyTorch's). nonlinearity: Elman's and Jordan's ("tanh", "relu", "sigmoid"). proj_size: the
    LSTM's projection (0 = none). The stack RNN's (Joulin & Mikolov 2015, `cells/stack.py`):
    `stacks` of `stack_depth` entries, the top `stack_read` of each read back, `stack_no_op`
    for a third action, `stack_discrete` its rounding ("never", "eval", "always"),
    `stack_hidden_recurrence = false` for the authors' "recurrence only through stacks".
    Dropout: `dropout` between layers, `input_dropout` on the first layer's input,
    `output_dropout` on the last layer's output (Zaremba et al. 2014),
    `variational` for one mask per sequence, `recurrent_dropout` on the fed-back state,
    `weight_drop` (DropConnect on the recurrent weights). embedding_size: for tasks whose inputs
    are symbols (0 = hidden_size); embedding_dropout: on their embeddings (in the classifier).
    tie_weights: for tasks that predict symbols, the output layer reuses the input embedding
    matrix (Press & Wolf 2017; Inan et al. 2017). For classifiers: `pooling`, how the sequence
    of outputs becomes one vector (one of POOLINGS, see models/pooling.py), and `head_dropout`
    on that vector before the output layer. For taggers (models/tagger.py): `head` (one of HEADS,
    see models/tag_heads.py), `constraints` (decode, and for the CRF family also score, only tag
    paths that the tagging scheme allows), `svm_cost` (the margin per wrong tag of the "svm"
    head), `char_encoder` ("none", "lstm" or "cnn") with `char_embedding_size` and
    `char_hidden_size` (per direction for "lstm", filters for "cnn", of width
    `char_kernel_size`), and `delay`: a one-directional tagger reads d blank steps past each
    sentence's end and tags token t at step t + d (Graves & Schmidhuber 2005); `head_dropout`
    acts on the encoder's outputs before the emission layer. For tree models
    (tasks/sst_tree.py): `tree_cell`, one of TREE_CELLS (see cells/tree.py), in place
    of `cell`."""

    cell: str = field(default="lstm", metadata={"choices": CELLS})
    hidden_size: int = field(default=32, metadata={"min": 1})
    num_layers: int = field(default=1, metadata={"min": 1})
    bidirectional: bool = False
    spec: str = "torch"
    reset_after: bool = True
    nonlinearity: str = "tanh"
    proj_size: int = field(default=0, metadata={"min": 0})
    stacks: int = field(default=1, metadata={"min": 1})
    stack_depth: int = field(default=100, metadata={"min": 1})
    stack_read: int = field(default=2, metadata={"min": 1})
    stack_no_op: bool = True
    stack_hidden_recurrence: bool = True
    stack_discrete: str = field(default="never", metadata={"choices": DISCRETE_MODES})
    recurrent_init: str = "default"
    dropout: float = 0.0
    input_dropout: float = 0.0
    output_dropout: float = 0.0
    variational: bool = False
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    embedding_size: int = field(default=0, metadata={"min": 0})
    tie_weights: bool = False
    embedding_dropout: float = field(default=0.0, metadata={"min": 0.0, "below": 1.0})
    pooling: str = field(default="last", metadata={"choices": POOLINGS})
    head_dropout: float = field(default=0.0, metadata={"min": 0.0, "below": 1.0})
    head: str = field(default="softmax", metadata={"choices": HEADS})
    constraints: bool = False
    svm_cost: float = field(default=1.0, metadata={"min": 0.0})
    char_encoder: str = field(default="none", metadata={"choices": CHAR_ENCODERS})
    char_embedding_size: int = field(default=25, metadata={"min": 1})
    char_hidden_size: int = field(default=25, metadata={"min": 1})
    char_kernel_size: int = field(default=3, metadata={"min": 1})
    delay: int = field(default=0, metadata={"min": 0})
    tree_cell: str = field(default="childsum", metadata={"choices": tuple(TREE_CELLS)})


def build_network(cfg: ModelConfig, input_size: int) -> TorchStyleRNN:
    """A stack of `cfg.num_layers` layers of `cfg.cell` reading `input_size` features, with
    torch.nn.LSTM's interface: forward(x (T, B, input_size), hx) -> (output (T, B, O), h_n)."""
    try:
        return TorchStyleRNN(lambda size: build_cell(cfg, size), input_size, cfg.num_layers,
                             dropout=cfg.dropout, bidirectional=cfg.bidirectional, variational=cfg.variational,
                             input_dropout=cfg.input_dropout, output_dropout=cfg.output_dropout,
                             recurrent_dropout=cfg.recurrent_dropout,
                             weight_drop=cfg.weight_drop)
    except (TypeError, ValueError) as error:  # the layers name their argument
        raise ConfigError(f"model: {error}") from error


def build_cell(cfg: ModelConfig, input_size: int):
    """One cell of `cfg.cell` reading `input_size` features, `cfg.hidden_size` units (a layer of
    `build_network`, or a decoder's cell)."""
    H = cfg.hidden_size
    if cfg.cell == "lstm":
        return LSTMCell(input_size, H, spec=cfg.spec, proj_size=cfg.proj_size,
                        recurrent_init=cfg.recurrent_init)
    if cfg.cell == "gru":
        return GRUCell(input_size, H, spec=GRUSpec(cfg.reset_after),
                       recurrent_init=cfg.recurrent_init)
    if cfg.cell == "elman":
        return ElmanCell(input_size, H, nonlinearity=cfg.nonlinearity,
                         recurrent_init=cfg.recurrent_init)
    if cfg.cell == "jordan":
        return JordanCell(input_size, H, H, nonlinearity=cfg.nonlinearity,
                          recurrent_init=cfg.recurrent_init)
    if cfg.cell == "stack":
        return StackCell(input_size, H, num_stacks=cfg.stacks, depth=cfg.stack_depth,
                         k=cfg.stack_read, no_op=cfg.stack_no_op, discrete=cfg.stack_discrete,
                         hidden_recurrence=cfg.stack_hidden_recurrence,
                         recurrent_init=cfg.recurrent_init)
    kind = cfg.cell.upper()
    # MUT1 and MUT2 add the raw input to the hidden state: learn a projection when the
    # sizes differ (MUT3 has no such term).
    return MUTCell(input_size, H, kind=kind, recurrent_init=cfg.recurrent_init,
                   input_proj=kind != "MUT3" and input_size != H)

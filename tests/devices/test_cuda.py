"""On a CUDA device every part computes what it computes on the CPU: the layers on both engines
that run there (torch's kernels and the loop), the CRF, the tree engine, and training runs from a
config whose checkpoints then evaluate on the CPU to the numbers the GPU measured.

Skipped where torch sees no CUDA device (CI has none; run them on a machine that has one:
`python -m pytest tests/devices`)."""

import copy

import pytest
import torch

import rnnkit
from rnnkit import engines
from rnnkit.cells.tree import TREE_CELLS, build_tree_cell
from rnnkit.data import parse_tree
from rnnkit.layers import Bidirectional, Recurrent, Stacked
from rnnkit.layers.tree import batch_trees, run_batched
from rnnkit.training.config import from_dict
from rnnkit.training.evaluate import evaluate, load_trained
from rnnkit.training.trainer import Trainer
from tests.models.test_classifier import TREES
from tests.tasks.test_tagging import TEST, TRAIN, VALID

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA device: torch.cuda.is_available() is False")

F64 = torch.float64
CUDA = torch.device("cuda")
I, H, B, T = 3, 4, 3, 6
LENGTHS = torch.tensor([6, 2, 4])
CELLS = {
    "elman": lambda: rnnkit.ElmanCell(I, H, dtype=F64),
    "jordan": lambda: rnnkit.JordanCell(I, H, 2, dtype=F64),
    "lstm": lambda: rnnkit.LSTMCell(I, H, dtype=F64),
    "lstm-peephole-proj": lambda: rnnkit.LSTMCell(I, H, spec="vanilla", proj_size=2, dtype=F64),
    "lstm-cifg": lambda: rnnkit.LSTMCell(I, H, spec="CIFG", dtype=F64),
    "gru": lambda: rnnkit.GRUCell(I, H, dtype=F64),
    "mut1": lambda: rnnkit.MUTCell(I, H, kind="MUT1", input_proj=True, dtype=F64),
    "stack": lambda: rnnkit.StackCell(I, H, num_stacks=2, depth=5, dtype=F64),
}


def flatten(value) -> torch.Tensor:
    """Every tensor in a (nested) output, as one vector."""
    if isinstance(value, torch.Tensor):
        return value.reshape(-1)
    return torch.cat([flatten(v) for v in value])


def outputs_and_grads(module, inputs):
    """module(*inputs) with inputs moved to the module's device -> every output value and the
    gradient of a fixed random projection of them w.r.t. the parameters, all on the CPU."""
    device = next(module.parameters()).device
    moved = [x.to(device) if isinstance(x, torch.Tensor) else x for x in inputs]
    flat = flatten(module(*moved))
    weights = torch.randn(flat.shape, dtype=flat.dtype, generator=torch.Generator().manual_seed(1))
    # allow_unused: rounding (the stack RNN's discrete mode) cuts some parameters off the graph
    grads = torch.autograd.grad(flat @ weights.to(device), list(module.parameters()),
                                allow_unused=True)
    return flat.cpu(), [None if g is None else g.cpu() for g in grads]


def assert_same_on_cuda(module, inputs, tol=1e-10):
    """The module on the GPU (on the engine in force) equals it on the CPU's plain loop."""
    with engines.use("loop"):
        cpu = outputs_and_grads(module, inputs)
    gpu = outputs_and_grads(copy.deepcopy(module).to(CUDA), inputs)
    torch.testing.assert_close(gpu[0], cpu[0], atol=tol, rtol=0)
    for g, c in zip(gpu[1], cpu[1], strict=True):
        assert (g is None) == (c is None)
        if g is not None:
            torch.testing.assert_close(g, c, atol=tol, rtol=0)


@pytest.mark.parametrize("engine", ["auto", "loop"])
@pytest.mark.parametrize("name", list(CELLS))
def test_every_cell_in_a_bidirectional_stack_equals_the_cpu(name, engine):
    torch.manual_seed(0)
    first = Bidirectional(Recurrent(CELLS[name]()), Recurrent(CELLS[name]()))
    layers = Stacked([first, Recurrent(rnnkit.LSTMCell(first.output_size, H, dtype=F64))])
    x = torch.randn(T, B, I, dtype=F64)
    with engines.use(engine):
        assert_same_on_cuda(layers, (x, None, LENGTHS))


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_drop_ins_equal_torch_on_cuda_in_float32(kind):
    """cuDNN computes torch.nn's layers in float32 on the GPU; ours must take the same path."""
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True)
    theirs = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](I, H, **kw)
    ours = {"lstm": rnnkit.LSTM, "gru": rnnkit.GRU, "rnn": rnnkit.RNN}[kind](I, H, **kw)
    ours.load_state_dict(theirs.state_dict())
    theirs, ours = theirs.to(CUDA), ours.to(CUDA)
    x = torch.randn(T, B, I, device=CUDA)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    (out_t, _), (out_o, _) = theirs(packed), ours(packed)
    torch.testing.assert_close(out_o.data, out_t.data, atol=1e-5, rtol=0)
    out_t.data.sum().backward()
    out_o.data.sum().backward()
    for (name, p_t), p_o in zip(theirs.named_parameters(), ours.parameters(), strict=True):
        torch.testing.assert_close(p_o.grad, p_t.grad, atol=1e-5, rtol=0, msg=name)


def test_pyramidal_and_the_stack_rnn_equal_the_cpu():
    torch.manual_seed(0)
    pyramid = rnnkit.Pyramidal([Recurrent(rnnkit.GRUCell(I, H, dtype=F64)),
                                Recurrent(rnnkit.LSTMCell(2 * H, H, dtype=F64))])
    x = torch.randn(7, B, I, dtype=F64)  # odd: the last step stands alone
    assert_same_on_cuda(pyramid, (x, None, torch.tensor([7, 3, 5])))
    stack = rnnkit.StackRNN(I, H, num_stacks=2, depth=6, discrete="always", dtype=F64)
    assert_same_on_cuda(stack, (x, None, torch.tensor([7, 3, 5])))


def test_crf_scores_decodes_and_marginals_equal_the_cpu():
    torch.manual_seed(0)
    crf = rnnkit.CRF(5).double()
    emissions = torch.randn(T, B, 5, dtype=F64)
    tags = torch.randint(0, 5, (T, B))
    mask = torch.arange(T)[:, None] < LENGTHS[None, :]
    gpu = copy.deepcopy(crf).to(CUDA)
    on_gpu = (emissions.to(CUDA), tags.to(CUDA), mask.to(CUDA))
    torch.testing.assert_close(gpu(*on_gpu, reduction="none").cpu(),
                               crf(emissions, tags, mask, reduction="none"), atol=1e-10, rtol=0)
    assert gpu.decode(on_gpu[0], on_gpu[2]) == crf.decode(emissions, mask)
    assert gpu.decode_nbest(on_gpu[0], 3, on_gpu[2]) == crf.decode_nbest(emissions, 3, mask)
    torch.testing.assert_close(gpu.marginals(on_gpu[0], on_gpu[2]).cpu(),
                               crf.marginals(emissions, mask), atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", list(TREE_CELLS))
def test_the_batched_tree_engine_equals_the_cpu(name):
    torch.manual_seed(0)
    texts = TREES["train.txt"] + (["(4 (3 (2 one) (2 two) (3 three)) (4 four))"]
                                  if TREE_CELLS[name].arity is None else [])
    trees = [parse_tree(text) for text in texts]
    tokens = [[(3 * b + k) % 7 for k in range(len(t.leaves()))] for b, t in enumerate(trees)]
    cell = build_tree_cell(name, I, I).double()
    batch = batch_trees(trees, tokens, cell.arity)
    embed = torch.randn(7, I, dtype=F64)

    def run(cell, batch, embed):
        leaves = embed[batch.tokens].requires_grad_()
        h = run_batched(cell, batch, leaves)
        grads = torch.autograd.grad(h.sin().sum(), [leaves, *cell.parameters()])
        return [h.cpu(), *[g.cpu() for g in grads]]

    for g, c in zip(run(copy.deepcopy(cell).to(CUDA), batch.to(CUDA), embed.to(CUDA)),
                    run(cell, batch, embed), strict=True):
        torch.testing.assert_close(g, c, atol=1e-10, rtol=0)


# --- training on the GPU, evaluating on the CPU ------------------------------------------------
TAGGER = {"task": "tagging", "model": {"hidden_size": 8, "embedding_size": 6,
                                       "char_encoder": "lstm", "head": "crf"},
          "data": {"scheme": "IOBES"}}
TREE_LSTM = {"task": "sst_tree", "model": {"tree_cell": "binary", "hidden_size": 6},
             "data": {"granularity": "fine"}}
STACK_LM = {"task": "stack_lm", "model": {"cell": "stack", "hidden_size": 6, "stacks": 2,
                                          "stack_depth": 12},
            "data": {"train_size": 6, "sequences": 2, "train_max_n": 4, "test_max_n": 6,
                     "eval_sequences": 2}}
SEQ2SEQ = {"task": "seq2seq", "model": {"cell": "gru", "hidden_size": 8, "embedding_size": 4,
                                        "bidirectional": True},
           "data": {"task": "reverse", "train_size": 12, "valid_size": 4, "test_size": 4,
                    "max_len": 3, "test_min_len": 4, "test_max_len": 5}}
ADDING = {"task": "adding", "model": {"hidden_size": 8},
          "data": {"length": 6, "train_size": 64, "valid_size": 32, "test_size": 32}}


@pytest.fixture
def data_folders(tmp_path):
    conll, sst = tmp_path / "conll", tmp_path / "sst"
    conll.mkdir(), sst.mkdir()
    for name, text in (("train.txt", TRAIN), ("valid.txt", VALID), ("test.txt", TEST)):
        (conll / name).write_text(text)
    for name, lines in TREES.items():
        (sst / name).write_text("\n".join(lines) + "\n")
    return {"tagging": conll, "sst_tree": sst}


@pytest.mark.parametrize("base", [ADDING, TAGGER, TREE_LSTM, STACK_LM, SEQ2SEQ],
                         ids=lambda c: c["task"])
def test_a_run_trained_on_the_gpu_evaluates_on_the_cpu_to_the_same_metrics(
        base, data_folders, tmp_path):
    raw = copy.deepcopy(base)
    if raw["task"] in data_folders:
        raw["data"]["path"] = str(data_folders[raw["task"]])
    raw.update(train={"epochs": 3, "batch_size": 2, "threads": 1, "device": "cuda"},
               run={"folder": str(tmp_path / "run"), "plots": False}, quiet=True)
    trainer = Trainer(from_dict(raw))
    outcome = trainer.fit()
    assert outcome.status == "finished"
    assert next(trainer.model.parameters()).device.type == "cuda"
    on_gpu = evaluate(trainer.task, trainer.model, "valid", 2, 1, device=CUDA)
    assert on_gpu == pytest.approx({name: outcome.last[name] for name in on_gpu}, rel=1e-6,
                                   abs=1e-6)
    restored = load_trained(tmp_path / "run", prefer="last.pt")
    assert next(restored.model.parameters()).device.type == "cpu"
    on_cpu = evaluate(restored.task, restored.model, "valid", 2, 1)
    assert on_cpu == pytest.approx(on_gpu, rel=1e-4, abs=1e-5)

"""Sequence to sequence: attention weights, teacher forcing, greedy and beam search (beam 1 is
greedy; a full-width beam is exhaustive search), and a tiny copy task that learns."""

import itertools
import random
import time

import pytest
import torch

import rnnkit
from rnnkit.layers import Bidirectional, Pyramidal, Recurrent, Stacked, StackRNN
from rnnkit.models import AdditiveAttention, Seq2Seq
from rnnkit.data import seq2seq_tasks as tasks
from rnnkit.models.beam_search import length_penalty

F64 = torch.float64
E, C = 3, 4  # embedding size, encoder output size
SRC_V, TGT_V = 6, 4


def bidirectional(cell=rnnkit.GRUCell):
    return Bidirectional(Recurrent(cell(E, C // 2, dtype=F64)),
                         Recurrent(cell(E, C // 2, dtype=F64)))


ENCODERS = {
    "bidirectional-gru": bidirectional,
    "lstm": lambda: Recurrent(rnnkit.LSTMCell(E, C, dtype=F64)),
    "stacked": lambda: Stacked([bidirectional(), Recurrent(rnnkit.ElmanCell(C, C, dtype=F64))]),
    "pyramidal": lambda: Pyramidal.bidirectional(lambda size: rnnkit.GRUCell(size, C // 2,
                                                                             dtype=F64), E, 2),
    "stack-rnn": lambda: StackRNN(E, C, depth=5, dtype=F64),
}


def make_model(encoder="bidirectional-gru", cell=rnnkit.GRUCell, seed=0, tgt_vocab=TGT_V):
    torch.manual_seed(seed)
    return Seq2Seq(ENCODERS[encoder](), cell(E + C, 5, dtype=F64), SRC_V, tgt_vocab, E,
                   attention_size=3)


def source(seed=0, S=5, B=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, SRC_V, (S, B), generator=g), torch.tensor([5, 2, 4][:B])


def test_attention_weights_sum_to_one_and_are_zero_on_padding():
    torch.manual_seed(0)
    attention = AdditiveAttention(3, C, 5, dtype=F64)
    values = torch.randn(6, 3, C, dtype=F64)
    mask = torch.arange(6)[:, None] < torch.tensor([6, 1, 3])
    context, weights = attention(torch.randn(3, 3, dtype=F64), attention.project_keys(values),
                                 values, mask)
    torch.testing.assert_close(weights.sum(0), torch.ones(3, dtype=F64))
    assert (weights[~mask] == 0).all() and (weights[mask] > 0).all()
    torch.testing.assert_close(context, (weights[..., None] * values).sum(0))
    _, unmasked = attention(torch.randn(3, 3, dtype=F64), attention.project_keys(values), values)
    torch.testing.assert_close(unmasked.sum(0), torch.ones(3, dtype=F64))


def test_attention_over_a_pyramidal_encoder_masks_its_reduced_lengths():
    model = make_model("pyramidal")
    src, lengths = source()
    memory, state = model.encode(src, lengths)
    _, _, weights = model.decode_step(memory, torch.tensor([1, 1, 1]), state)
    reduced = model.encoder.output_lengths(lengths)
    assert reduced.tolist() == [3, 1, 2] and weights.shape == (3, 3)
    for b, n in enumerate(reduced.tolist()):
        assert (weights[n:, b] == 0).all()
        torch.testing.assert_close(weights[:n, b].sum(), torch.tensor(1.0, dtype=F64))


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("cell", [rnnkit.GRUCell, rnnkit.LSTMCell])
def test_teacher_forced_logits_shape_and_causality(encoder, cell):
    model = make_model(encoder, cell)
    src, lengths = source()
    targets = torch.randint(0, TGT_V, (4, 3))
    logits = model(src, lengths, targets)
    assert logits.shape == (4, 3, TGT_V)
    changed = targets.clone()
    changed[2] = (changed[2] + 1) % TGT_V  # only what comes after step 2 may change
    again = model(src, lengths, changed)
    torch.testing.assert_close(again[:3], logits[:3], atol=0, rtol=0)
    assert not torch.allclose(again[3], logits[3])


def test_greedy_follows_the_teacher_forced_argmax():
    model = make_model(tgt_vocab=5)
    src, lengths = source()
    for b, tokens in enumerate(model.greedy(src, lengths, max_len=6)):
        ended = len(tokens) < 6
        targets = torch.tensor(tokens + [model.eos_index] * ended)[:, None]
        logits = model(src[:, b:b + 1], lengths[b:b + 1], targets)
        assert logits.argmax(-1)[:, 0].tolist() == targets[:, 0].tolist()


@pytest.mark.parametrize("encoder", ["bidirectional-gru", "pyramidal"])
@pytest.mark.parametrize("seed", range(3))
def test_beam_of_one_is_greedy(encoder, seed):
    model = make_model(encoder, seed=seed, tgt_vocab=5)
    src, lengths = source(seed)
    greedy = model.greedy(src, lengths, max_len=7)
    for alpha, penalty in [(0.0, "gnmt"), (0.6, "gnmt"), (1.0, "power")]:
        assert model.beam_search(src, lengths, 1, 7, alpha, penalty) == greedy


def brute_force(model, src, max_len, alpha, penalty):
    """Every hypothesis: any tokens then EOS, at most max_len in all, or max_len tokens
    without EOS; each scored by teacher forcing. -> (best tokens without EOS, best score)."""
    eos = model.eos_index
    others = [t for t in range(model.tgt_vocab_size) if t != eos]
    hypotheses = [list(h) + [eos] for n in range(max_len)
                  for h in itertools.product(others, repeat=n)]
    hypotheses += [list(h) for h in itertools.product(others, repeat=max_len)]
    best, best_score = None, float("-inf")
    for h in hypotheses:
        targets = torch.tensor(h)[:, None]
        log_probs = model(src, None, targets).log_softmax(-1)[:, 0]
        score = log_probs.gather(1, targets).sum().item() / length_penalty(len(h), alpha, penalty)
        if score > best_score:
            best, best_score = [t for t in h if t != eos], score
    return best, best_score


@pytest.mark.parametrize("alpha, penalty", [(0.0, "gnmt"), (0.6, "gnmt"), (1.0, "power")])
def test_full_width_beam_finds_the_best_hypothesis(alpha, penalty):
    """With a beam as wide as all hypotheses (4 ** 3 = 64), beam search is exhaustive."""
    for seed in range(2):
        model = make_model(seed=seed)
        src, lengths = source(seed, B=2)
        found = model.beam_search(src, lengths, beam_size=64, max_len=3, alpha=alpha,
                                  penalty=penalty)
        for b in range(2):
            best, _ = brute_force(model, src[:lengths[b], b:b + 1], 3, alpha, penalty)
            assert found[b] == best


def test_a_tiny_copy_task_learns():
    """Copying 1 to 5 digits: over 90% exact match (greedy) after 400 steps, in seconds."""
    torch.manual_seed(0)
    rng = random.Random(0)
    encoder = Bidirectional(Recurrent(rnnkit.GRUCell(16, 16)), Recurrent(rnnkit.GRUCell(16, 16)))
    model = Seq2Seq(encoder, rnnkit.GRUCell(16 + 32, 32), tasks.VOCAB_SIZE, tasks.VOCAB_SIZE, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    start = time.perf_counter()
    for _ in range(400):
        batch = tasks.make_batch("copy", 32, 1, 5, rng)
        logits = model(batch.src, batch.src_lengths, batch.targets)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(),
                                                 ignore_index=tasks.PAD)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if time.perf_counter() - start > 15:
            pytest.skip("the copy task takes over 15 s on this machine")
    model.eval()
    test = tasks.make_batch("copy", 200, 1, 5, random.Random(1))
    predicted = model.greedy(test.src, test.src_lengths, max_len=8)
    assert tasks.exact_match(predicted, test.answers) > 0.9


def test_bad_arguments():
    model = make_model()
    src, lengths = source()
    cases = [
        (lambda: model(src.float(), lengths, src), TypeError,
         r"src: expected an integer tensor of token ids, got dtype torch.float32"),
        (lambda: model(src + SRC_V, lengths, src), ValueError,
         r"src: expected token ids in \[0, 6\) \(the vocabulary\)"),
        (lambda: model(src[0], lengths, src), ValueError, r"src: expected 2 dimensions"),
        (lambda: model(src, torch.tensor([6, 1, 1]), src), ValueError,
         r"lengths: expected values in \[1, 5\]"),
        (lambda: model(src, lengths, torch.zeros(2, 2, dtype=torch.long)), ValueError,
         r"targets: expected batch size 3 \(src's\), got shape \(2, 2\)"),
        (lambda: model(src, lengths, torch.full((2, 3), TGT_V)), ValueError,
         r"targets: expected token ids in \[0, 4\)"),
        (lambda: model.greedy(src, lengths, max_len=0), ValueError,
         r"max_len: expected an int >= 1, got 0"),
        (lambda: model.beam_search(src, lengths, beam_size=0), ValueError,
         r"beam_size: expected an int >= 1, got 0"),
        (lambda: model.beam_search(src, lengths, alpha=-1.0), ValueError,
         r"alpha: expected a float >= 0, got -1.0"),
        (lambda: model.beam_search(src, lengths, penalty="log"), ValueError,
         r"penalty: expected one of 'gnmt', 'power', got 'log'"),
        (lambda: Seq2Seq(bidirectional(), rnnkit.GRUCell(E + C + 1, 5, dtype=F64), SRC_V, TGT_V,
                         E), ValueError,
         r"decoder_cell: expected input_size 7 \(embedding_dim 3 \+ encoder.output_size 4\), "
         r"got 8"),
        (lambda: Seq2Seq(bidirectional(), rnnkit.GRUCell(E + C, 5, dtype=F64), SRC_V, TGT_V, 2),
         ValueError, r"encoder: expected input_size 2 \(embedding_dim\), got 3"),
        (lambda: Seq2Seq(bidirectional(), rnnkit.GRUCell(E + C, 5), SRC_V, TGT_V, E), TypeError,
         r"decoder_cell: expected dtype torch.float64 \(the encoder's\), got torch.float32"),
        (lambda: Seq2Seq(bidirectional(), rnnkit.GRUCell(E + C, 5, dtype=F64), SRC_V, TGT_V, E,
                         eos_index=TGT_V), ValueError,
         r"eos_index: expected a token id below tgt_vocab_size 4, got 4"),
        (lambda: Seq2Seq(bidirectional(), rnnkit.GRUCell(E + C, 5, dtype=F64), SRC_V, TGT_V, E,
                         attention="dot"), ValueError,
         r"attention: expected one of 'additive', got 'dot'"),
        (lambda: Seq2Seq(torch.nn.GRU(E, C), rnnkit.GRUCell(E + C, 5), SRC_V, TGT_V, E),
         TypeError, r"encoder: expected a rnnkit sequence layer"),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()

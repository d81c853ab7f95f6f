"""The tagger: shapes, padding, the character encoders, target delay, and every head trained on a
toy tagging problem; decoding keeps to the scheme's constraints."""

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models import ModelConfig
from rnnkit.models.char_encoder import CharEncoder
from rnnkit.models.tag_heads import HEADS, build_head
from rnnkit.models.tagger import Tagger
from rnnkit.structured import allowed_transitions
from rnnkit.structured.constraints import keeps_to

TAGS = ["O", "B-X", "I-X"]
LENGTHS = torch.tensor([6, 3, 1, 5])
VOCAB, CHARS = 12, 9


def tagger(**options) -> Tagger:
    cfg = ModelConfig(**{"hidden_size": 6, "embedding_size": 5, "char_embedding_size": 3,
                         "char_hidden_size": 4, **options})
    return Tagger(cfg, VOCAB, CHARS, TAGS, "BIO").eval()


def inputs(T=6, B=4, C=4, seed=0) -> torch.Tensor:
    """(T, B, 1 + C): word ids 2.., words of 1..C characters (0 after each word's end), padding
    (all 0) after each sequence's length in LENGTHS."""
    g = torch.Generator().manual_seed(seed)
    words = torch.randint(2, VOCAB, (T, B, 1), generator=g)
    chars = torch.randint(1, CHARS, (T, B, C), generator=g)
    spelled = torch.arange(C) < torch.randint(1, C + 1, (T, B, 1), generator=g)
    x = torch.cat([words, chars * spelled], dim=2)
    real = torch.arange(T)[:, None] < LENGTHS[:B][None, :]
    return x * real.unsqueeze(2)


def mask_of(lengths, T):
    return torch.arange(T)[:, None] < lengths[None, :]


@pytest.mark.parametrize("options", [
    {}, {"char_encoder": "lstm", "bidirectional": True, "num_layers": 2},
    {"char_encoder": "cnn", "cell": "gru", "delay": 2}, {"char_encoder": "cnn",
                                                         "char_kernel_size": 4},
    {"cell": "elman", "delay": 1, "char_encoder": "lstm"},
])
def test_emissions_have_one_row_per_token_and_padding_changes_nothing(options):
    torch.manual_seed(0)
    model = tagger(**options)
    x = inputs()
    emissions, _ = model(x, lengths=LENGTHS)
    assert emissions.shape == (6, 4, len(TAGS))
    garbage = torch.where(mask_of(LENGTHS, 6).unsqueeze(2), x, torch.randint_like(x, 1, 8))
    torch.testing.assert_close(model(garbage, lengths=LENGTHS)[0][mask_of(LENGTHS, 6)],
                               emissions[mask_of(LENGTHS, 6)])
    # each sentence alone, unpadded, gets the same emissions
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(model(x[:n, b:b + 1])[0][:, 0], emissions[:n, b])


def test_the_char_encoders_read_each_word_within_its_characters():
    torch.manual_seed(0)
    chars = torch.tensor([[3, 4, 5, 0, 0], [6, 0, 0, 0, 0]])
    for kind, size in (("lstm", 8), ("cnn", 4)):
        encoder = CharEncoder(kind, CHARS, 3, 4)
        out = encoder(chars)
        assert out.shape == (2, size)
        torch.testing.assert_close(encoder(chars[:, :3])[0], out[0])  # trailing padding: none
        torch.testing.assert_close(encoder(chars[1:, :1])[0], out[1])
    with pytest.raises(ValueError, match="kind: expected one of lstm, cnn, got 'none'"):
        CharEncoder("none", CHARS, 3, 4)


def test_the_char_lstm_is_the_final_states_of_both_directions():
    torch.manual_seed(0)
    encoder = CharEncoder("lstm", CHARS, 3, 4)
    word = torch.tensor([[3, 4, 5]])
    out, _ = encoder.rnn(encoder.embed(word).transpose(0, 1))  # (3, 1, 8)
    torch.testing.assert_close(encoder(word)[0], torch.cat([out[-1, 0, :4], out[0, 0, 4:]]))


# --- target delay -------------------------------------------------------------------------
def test_delay_zero_is_the_plain_model_and_delay_d_reads_d_blank_steps():
    torch.manual_seed(0)
    plain = tagger()
    x = inputs()[:, :1, :1]  # one sentence of 6 words, no characters
    features = plain.embed(x[..., 0])
    expected = plain.project(plain.rnn(features)[0])
    torch.testing.assert_close(plain(x)[0], expected)
    assert plain.blank is None
    delayed = tagger(delay=2)
    with torch.no_grad():
        delayed.blank.normal_()
    features = delayed.embed(x[..., 0])
    blanks = delayed.blank.expand(2, 1, -1)
    out, _ = delayed.rnn(torch.cat([features, blanks]))
    torch.testing.assert_close(delayed(x)[0], delayed.project(out[2:]))


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_with_delay_d_the_tag_of_token_t_depends_on_tokens_up_to_t_plus_d(delay):
    torch.manual_seed(0)
    model = tagger(delay=delay).double()
    T = 7
    x = torch.arange(2, 2 + T).view(T, 1, 1)  # distinct words: embedding row s is token s's
    emissions, _ = model(x)
    for t in range(T):
        (grad,) = torch.autograd.grad(emissions[t].sum(), model.embed.weight,
                                      retain_graph=True)
        reads = (grad[2:2 + T].abs().sum(1) > 0).tolist()
        assert reads == [s <= t + delay for s in range(T)], (t, reads)
    # the same by perturbation: another word at s changes the tags of t >= s - d only
    with torch.no_grad():
        for s in range(T):
            changed = x.clone()
            changed[s] = 1
            moved = (model(changed)[0] - emissions).abs().sum((1, 2)) > 0
            assert moved.tolist() == [t >= s - delay for t in range(T)]


def test_delay_pads_each_sentence_at_its_own_end():
    torch.manual_seed(0)
    model = tagger(delay=2, char_encoder="lstm")
    x = inputs()
    emissions, _ = model(x, lengths=LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(model(x[:n, b:b + 1])[0][:, 0], emissions[:n, b])


def test_delay_with_a_bidirectional_encoder_is_a_config_error():
    with pytest.raises(ConfigError, match="model.delay: .*expected 0 with model.bidirectional "
                                          "= true, got 2"):
        tagger(delay=2, bidirectional=True)


# --- heads ----------------------------------------------------------------------------------
def toy_batch(B=32, T=8, seed=0):
    """Words 2..11; a run of words >= 8 is an entity X: B-X on its first word, I-X on the
    rest; every sentence as long as T - (b % 3)."""
    g = torch.Generator().manual_seed(seed)
    words = torch.randint(2, VOCAB, (T, B), generator=g)
    lengths = T - torch.arange(B) % 3
    inside = words >= 8
    starts = inside & torch.cat([torch.ones(1, B, dtype=torch.bool), ~inside[:-1]])
    tags = torch.where(starts, 1, torch.where(inside, 2, 0))
    mask = mask_of(lengths, T)
    return words.unsqueeze(2) * mask.unsqueeze(2), torch.where(mask, tags, -100), lengths


@pytest.mark.parametrize("head", HEADS)
def test_every_head_learns_a_toy_tagging_problem(head):
    torch.manual_seed(0)
    model = tagger(head=head, constraints=head != "softmax").train()
    x, tags, lengths = toy_batch()
    mask = tags != -100
    if head == "hybrid":
        model.head.count(tags, mask)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        emissions, _ = model(x, lengths=lengths)
        loss = model.head.loss(emissions, tags, mask) / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model.eval()
    test_x, test_tags, test_lengths = toy_batch(seed=1)
    test_mask = test_tags != -100
    decoded = model.head.decode(model(test_x, lengths=test_lengths)[0], test_mask)
    assert [len(path) for path in decoded] == test_lengths.tolist()
    right = sum(p == t for path, row in zip(decoded, test_tags.t().tolist())
                for p, t in zip(path, row))
    assert right / test_mask.sum().item() > 0.95


@pytest.mark.parametrize("head", HEADS)
def test_a_padded_batch_loses_what_its_sentences_lose_alone(head):
    torch.manual_seed(0)
    x, tags, lengths = toy_batch(B=4)
    mask = tags != -100
    model = tagger(head=head)
    emissions, _ = model(x, lengths=lengths)
    alone = sum(model.head.loss(emissions[:n, b:b + 1], tags[:n, b:b + 1], mask[:n, b:b + 1])
                for b, n in enumerate(lengths.tolist()))
    torch.testing.assert_close(model.head.loss(emissions, tags, mask), alone)


@pytest.mark.parametrize("head", HEADS)
def test_constrained_decoding_keeps_to_the_scheme(head):
    torch.manual_seed(0)
    allowed = allowed_transitions(TAGS, "BIO")
    module = build_head(head, 3, allowed)
    emissions = torch.randn(6, 50, 3) * 3
    emissions[..., 2] += 2  # I-X everywhere would be the unconstrained favourite
    mask = mask_of(torch.randint(1, 7, (50,)), 6)
    mask[0] = True
    paths = module.decode(emissions, mask)
    tags = torch.zeros(6, 50, dtype=torch.long)
    for b, path in enumerate(paths):
        tags[:len(path), b] = torch.tensor(path)
    assert keeps_to(allowed, tags, mask).all()
    free = build_head(head, 3).decode(emissions, mask)
    tags_free = torch.zeros(6, 50, dtype=torch.long)
    for b, path in enumerate(free):
        tags_free[:len(path), b] = torch.tensor(path)
    assert not keeps_to(allowed, tags_free, mask).all()  # the constraints did something


def test_softmax_decodes_by_argmax_and_the_hybrid_through_its_hmm():
    emissions = torch.tensor([[[0.0, 2.0, 1.0]], [[0.0, 0.0, 3.0]], [[5.0, 0.0, 0.0]]])
    mask = torch.ones(3, 1, dtype=torch.bool)
    assert build_head("softmax", 3).decode(emissions, mask) == [[1, 2, 0]]
    hybrid = build_head("hybrid", 3)
    # training tags: B-X then O, 60 times; I-X never seen, so its prior is tiny and its scaled
    # likelihood (log p(y | x) - log p(y)) large
    hybrid.count(torch.tensor([1, 0, 0, 0]).repeat(60, 1).t(), torch.ones(4, 60, dtype=torch.bool))
    decoded = hybrid.decode(emissions, mask)
    assert decoded == hybrid.hmm.decode(emissions.log_softmax(2), mask) == [[2, 2, 2]]


def test_unknown_head_names_the_argument():
    with pytest.raises(ValueError, match="kind: expected one of softmax, crf, perceptron, svm, "
                                         "hybrid, got 'mlp'"):
        build_head("mlp", 3)
    with pytest.raises(ConfigError, match="model.head: expected one of softmax, crf"):
        from rnnkit.training.config import from_dict
        from_dict({"task": "tagging", "data": {"path": "."}, "model": {"head": "mlp"}})

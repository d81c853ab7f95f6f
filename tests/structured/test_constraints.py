"""Tagging-scheme constraints: the BIO and IOBES matrices written out by hand, and a constrained
CRF whose decoding never uses a forbidden transition, start or end and equals brute force over
the allowed paths only (best path, n best, likelihood, marginals)."""

import pytest
import torch

from rnnkit.structured import CRF, Constraints, allowed_transitions, perceptron_loss
from structured_brute import (DT, SHAPE_IDS, SHAPES, THREE, allowed_by, brute_marginals, log_z,
                              make_case, path_score, ranked)

BIO = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
IOBES = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "E-LOC", "S-LOC"]


def _matrix(names, allowed_pairs):
    """The (K, K) bool matrix with True exactly at the (from, to) pairs listed by name."""
    index = {name: i for i, name in enumerate(names)}
    m = torch.zeros(len(names), len(names), dtype=torch.bool)
    for prev, nexts in allowed_pairs.items():
        for nxt in nexts.split():
            m[index[prev], index[nxt]] = True
    return m


def test_bio_by_hand():
    c = allowed_transitions(BIO, "BIO")
    anything_but_i = "O B-PER B-LOC"
    assert torch.equal(c.transitions, _matrix(BIO, {
        "O": anything_but_i,
        "B-PER": anything_but_i + " I-PER", "I-PER": anything_but_i + " I-PER",
        "B-LOC": anything_but_i + " I-LOC", "I-LOC": anything_but_i + " I-LOC"}))
    assert c.start.tolist() == [True, True, False, True, False]
    assert c.end.tolist() == [True] * 5


def test_iobes_by_hand():
    c = allowed_transitions(IOBES, "IOBES")
    closed = "O B-PER S-PER B-LOC S-LOC"       # after O, E or S: no I or E
    assert torch.equal(c.transitions, _matrix(IOBES, {
        "O": closed, "E-PER": closed, "S-PER": closed, "E-LOC": closed, "S-LOC": closed,
        "B-PER": "I-PER E-PER", "I-PER": "I-PER E-PER", "B-LOC": "E-LOC"}))
    assert c.start.tolist() == [True, True, False, False, True, True, False, True]
    assert c.end.tolist() == [True, False, False, True, True, False, True, True]


def _iobes3():
    """Three IOBES tags (O, B-X, E-X): every constraint kind, including the end."""
    return allowed_transitions(["O", "B-X", "E-X"], "IOBES")


@pytest.fixture(params=[lambda: allowed_transitions(THREE, "BIO"), _iobes3],
                ids=["BIO", "IOBES"])
def constraints(request):
    return request.param()


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_constrained_crf_equals_brute_force_over_allowed_paths(constraints, shape):
    ok = allowed_by(constraints)
    case = make_case(*shape, seed=7, constraints=constraints)
    nbest = case.crf.decode_nbest(case.emissions, 4, case.mask)
    best = case.crf.decode(case.emissions, case.mask)
    probs = case.time_major(case.crf.marginals(case.emissions, case.mask))
    # gold paths drawn among the allowed ones so the likelihood is finite
    gold = case.time_major(case.tags).clone()
    for b, length in enumerate(case.lengths):
        em, _ = case.seq(b)
        allowed = ranked(em, *case.params(), allowed=ok)
        gold[:length, b] = torch.tensor(allowed[-1][1])
        assert best[b] == allowed[0][1]
        assert [p for p, _ in nbest[b]] == [p for _, p in allowed[:4]]
        torch.testing.assert_close([s for _, s in nbest[b]], [s for s, _ in allowed[:4]])
        torch.testing.assert_close(probs[:length, b],
                                   brute_marginals(em, *case.params(), allowed=ok))
    llh = case.crf(case.emissions, case.time_major(gold), case.mask, "none")
    for b, length in enumerate(case.lengths):
        em, _ = case.seq(b)
        path = gold[:length, b].tolist()
        expected = path_score(em, path, *case.params()) - log_z(ranked(em, *case.params(),
                                                                       allowed=ok))
        torch.testing.assert_close(llh[b].item(), expected)


def test_decoding_never_uses_a_forbidden_transition(constraints):
    """Emissions that strongly prefer forbidden paths, many random batches."""
    ok = allowed_by(constraints)
    crf = CRF(3, constraints=constraints, dtype=DT)
    gen = torch.Generator().manual_seed(0)
    emissions = torch.randn(6, 64, 3, generator=gen, dtype=DT) * 20
    lengths = torch.randint(1, 7, (64,), generator=gen)
    mask = torch.arange(6).unsqueeze(1) < lengths
    for path in crf.decode(emissions, mask):
        assert ok(path), path
    for paths in crf.decode_nbest(emissions, 3, mask):
        assert all(ok(path) for path, _ in paths)


def test_forbidden_entries_score_forbidden_and_get_no_gradient():
    c = allowed_transitions(THREE, "BIO")
    crf = CRF(3, constraints=c, dtype=DT)
    emissions = torch.randn(3, 2, 3, dtype=DT)
    tags = torch.tensor([[0, 1], [1, 2], [2, 2]])
    crf(emissions, tags).backward()
    assert (crf.transitions.grad[~c.transitions] == 0).all()
    assert (crf.transitions.grad[c.transitions] != 0).all()
    assert (crf.start_transitions.grad[~c.start] == 0).all()
    start, transitions, _ = crf.potentials()
    assert (transitions[~c.transitions] == -1e4).all() and (start[~c.start] == -1e4).all()


def test_a_forbidden_gold_path_has_a_huge_loss():
    crf = CRF(3, constraints=allowed_transitions(THREE, "BIO"), dtype=DT)
    emissions = torch.zeros(2, 1, 3, dtype=DT)
    assert crf(emissions, torch.tensor([[0], [2]])) < -1e3                 # O -> I-X
    assert crf(emissions, torch.tensor([[0], [1]])) > -10
    assert perceptron_loss(crf, emissions, torch.tensor([[2], [2]])) > 1e3  # starts with I-X


def test_a_bare_transition_mask_allows_every_start_and_end():
    allowed = ~torch.eye(3, dtype=torch.bool)                                # no tag repeats
    crf = CRF(3, constraints=allowed, dtype=DT)
    emissions = torch.tensor([[5.0, 0, 0]] * 3, dtype=DT).unsqueeze(1)       # would take 0 0 0
    path = crf.decode(emissions)[0]
    assert path[0] == path[2] == 0 and path[1] != 0
    assert crf.allowed_start.all() and crf.allowed_end.all()


def test_constraints_are_buffers_outside_the_state_dict():
    crf = CRF(3, constraints=Constraints(*allowed_transitions(THREE, "BIO")))
    assert set(crf.state_dict()) == {"start_transitions", "end_transitions", "transitions"}
    assert {name for name, _ in crf.named_buffers()} == {
        "allowed_start", "allowed_end", "allowed_transitions"}
    assert crf.to(DT).allowed_transitions.dtype == torch.bool
    fresh = CRF(3, constraints=allowed_transitions(THREE, "BIO"))
    fresh.load_state_dict(crf.to(torch.float32).state_dict())
    assert torch.equal(fresh.allowed_transitions, crf.allowed_transitions)


def test_when_nothing_is_allowed_decoding_still_returns_the_best_path():
    crf = CRF(3, constraints=torch.zeros(3, 3, dtype=torch.bool), dtype=DT)
    emissions = torch.randn(2, 2, 3, dtype=DT)
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.bool)
    nbest = crf.decode_nbest(emissions, 5, mask)
    assert [len(paths) for paths in nbest] == [1, 3]           # one step: no transition to forbid
    assert [paths[0][0] for paths in nbest] == crf.decode(emissions, mask)
    assert nbest[0][0][1] < -1e3

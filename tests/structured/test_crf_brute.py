"""The CRF against brute force over every tag path (K=3, T<=4): log-likelihood (path score and
partition function) under every reduction, the best path, the n best in order, and marginals;
with masks of different lengths, no mask, and batch_first."""

import math

import pytest
import torch

from rnnkit.structured import CRF
from structured_brute import (DT, K, SHAPE_IDS, SHAPES, brute_marginals, log_z, make_case,
                              path_score, ranked)


@pytest.fixture(params=SHAPES, ids=SHAPE_IDS)
def case(request):
    return make_case(*request.param)


def test_log_likelihood_is_path_score_minus_log_partition(case):
    llh = case.crf(case.emissions, case.tags, case.mask, reduction="none")
    expected = []
    for b in range(len(case.lengths)):
        em, gold = case.seq(b)
        expected.append(path_score(em, gold, *case.params()) - log_z(ranked(em, *case.params())))
    torch.testing.assert_close(llh, torch.tensor(expected, dtype=DT))
    assert (llh < 0).all()


def test_reductions(case):
    none = case.crf(case.emissions, case.tags, case.mask, reduction="none")
    tokens = sum(case.lengths)
    for reduction, expected in [("sum", none.sum()), ("mean", none.sum() / len(case.lengths)),
                                ("token_mean", none.sum() / tokens)]:
        got = case.crf(case.emissions, case.tags, case.mask, reduction=reduction)
        assert got.shape == ()
        torch.testing.assert_close(got, expected)
    torch.testing.assert_close(case.crf(case.emissions, case.tags, case.mask), none.sum())


def test_decode_is_the_best_path(case):
    best = case.crf.decode(case.emissions, case.mask)
    assert len(best) == len(case.lengths)
    for b, path in enumerate(best):
        em, _ = case.seq(b)
        assert path == ranked(em, *case.params())[0][1]
        assert all(isinstance(tag, int) for tag in path)


@pytest.mark.parametrize("n", [1, 2, 5, 100])
def test_nbest_are_the_top_paths_in_order(case, n):
    nbest = case.crf.decode_nbest(case.emissions, n, case.mask)
    assert len(nbest) == len(case.lengths)
    for b, found in enumerate(nbest):
        em, _ = case.seq(b)
        expected = ranked(em, *case.params())[:n]            # all of them when fewer than n
        assert len(found) == min(n, K ** case.lengths[b])
        assert [path for path, _ in found] == [path for _, path in expected]
        torch.testing.assert_close([score for _, score in found],
                                   [score for score, _ in expected])
    assert [paths[0][0] for paths in nbest] == case.crf.decode(case.emissions, case.mask)


def test_marginals(case):
    probs = case.crf.marginals(case.emissions, case.mask)
    assert probs.shape == case.emissions.shape
    probs = case.time_major(probs)
    for b, length in enumerate(case.lengths):
        em, _ = case.seq(b)
        torch.testing.assert_close(probs[:length, b], brute_marginals(em, *case.params()))
        assert (probs[length:, b] == 0).all()


def test_marginals_are_the_gradient_of_log_partition(case):
    """d log Z / d emissions[t, k] = p(y_t = k): log Z is the llh of any path minus its score."""
    emissions = case.emissions.clone().requires_grad_()
    llh = case.crf(emissions, case.tags, case.mask, reduction="sum")
    (grad,) = torch.autograd.grad(llh, emissions)
    gold = torch.zeros_like(grad)
    gold_tm = case.time_major(gold)
    for b, length in enumerate(case.lengths):
        _, path = case.seq(b)
        gold_tm[torch.arange(length), b, path] = 1.0
    torch.testing.assert_close(gold - grad, case.crf.marginals(case.emissions, case.mask))


def test_batch_first_and_time_major_agree():
    bf = make_case(4, [4, 2, 3], True, seed=3)
    tm = make_case(4, [4, 2, 3], False, seed=3)
    assert torch.equal(bf.emissions.transpose(0, 1), tm.emissions)
    torch.testing.assert_close(bf.crf(bf.emissions, bf.tags, bf.mask, "none"),
                               tm.crf(tm.emissions, tm.tags, tm.mask, "none"))
    assert bf.crf.decode(bf.emissions, bf.mask) == tm.crf.decode(tm.emissions, tm.mask)
    torch.testing.assert_close(bf.crf.marginals(bf.emissions, bf.mask).transpose(0, 1),
                               tm.crf.marginals(tm.emissions, tm.mask))


def test_padding_content_is_ignored():
    """What lies at masked positions (emissions, tags) changes nothing."""
    case = make_case(4, [4, 2, 1], False, seed=5)
    emissions = case.emissions.clone()
    emissions[~case.mask] = 1e3
    tags = torch.where(case.mask, case.tags, 2)
    torch.testing.assert_close(case.crf(emissions, tags, case.mask, "none"),
                               case.crf(case.emissions, case.tags, case.mask, "none"))
    assert case.crf.decode(emissions, case.mask) == case.crf.decode(case.emissions, case.mask)
    assert (case.crf.decode_nbest(emissions, 4, case.mask)
            == case.crf.decode_nbest(case.emissions, 4, case.mask))


def test_one_path_has_probability_one():
    """K=1: a single path, so log p = 0 and its marginals are 1."""
    crf = CRF(1, dtype=DT)
    emissions = torch.randn(3, 2, 1, dtype=DT)
    mask = torch.tensor([[1, 1], [1, 0], [0, 0]], dtype=torch.bool)
    tags = torch.zeros(3, 2, dtype=torch.long)
    torch.testing.assert_close(crf(emissions, tags, mask, "none"), torch.zeros(2, dtype=DT))
    only = (crf.start_transitions + emissions[0, 1, 0] + crf.end_transitions).item()
    assert crf.decode_nbest(emissions, 3, mask)[1] == [([0], pytest.approx(only))]
    assert math.isclose(crf.marginals(emissions, mask).sum().item(), 3.0)

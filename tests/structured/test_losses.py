"""Structured perceptron and SVM losses against brute force: the max over all paths (plus the
Hamming cost for the SVM) minus the gold score; their gradients; reductions; constraints."""

import pytest
import torch

from rnnkit.structured import allowed_transitions, perceptron_loss, svm_loss
from structured_brute import (DT, SHAPE_IDS, SHAPES, THREE, allowed_by, make_case, path_score,
                              ranked)


@pytest.fixture(params=SHAPES, ids=SHAPE_IDS)
def case(request):
    return make_case(*request.param, seed=11)


def _hamming(gold):
    return lambda path: sum(a != b for a, b in zip(path, gold))


def _expected(case, cost=None, allowed=lambda path: True):
    """Per sequence: max over paths of score (+ cost * Hamming to gold) - gold score."""
    values = []
    for b in range(len(case.lengths)):
        em, gold = case.seq(b)
        extra = (lambda p: 0.0) if cost is None else (lambda p: cost * _hamming(gold)(p))
        top = ranked(em, *case.params(), allowed=allowed, extra=extra)[0][0]
        values.append(top - path_score(em, gold, *case.params()))
    return torch.tensor(values, dtype=DT)


def test_perceptron_is_best_minus_gold(case):
    loss = perceptron_loss(case.crf, case.emissions, case.tags, case.mask, reduction="none")
    torch.testing.assert_close(loss, _expected(case))
    assert (loss >= 0).all()


@pytest.mark.parametrize("cost", [1.0, 2.5])
def test_svm_is_cost_augmented_max_minus_gold(case, cost):
    loss = svm_loss(case.crf, case.emissions, case.tags, case.mask, reduction="none", cost=cost)
    torch.testing.assert_close(loss, _expected(case, cost))
    perceptron = perceptron_loss(case.crf, case.emissions, case.tags, case.mask, "none")
    assert (loss >= perceptron).all()


def test_svm_with_zero_cost_is_the_perceptron(case):
    torch.testing.assert_close(svm_loss(case.crf, case.emissions, case.tags, case.mask, cost=0),
                               perceptron_loss(case.crf, case.emissions, case.tags, case.mask))


def test_losses_vanish_when_gold_wins_by_the_margin():
    """Emissions that favour the gold tags by far: gold is the best path by more than the
    Hamming cost; with a cost above that margin the SVM turns positive."""
    case = make_case(4, [4, 2, 1], False, seed=2)
    gold = torch.where(case.mask, case.tags, 0)
    peaked = torch.nn.functional.one_hot(gold, 3).to(DT) * 30
    zero = torch.zeros(3, dtype=DT)
    for loss_fn in (perceptron_loss, svm_loss):
        torch.testing.assert_close(loss_fn(case.crf, peaked, case.tags, case.mask, "none"), zero)
    assert (svm_loss(case.crf, peaked, case.tags, case.mask, "none", cost=100.0) > 0).all()


def test_perceptron_gradient_is_best_path_minus_gold_path():
    """d loss / d emissions[t, b, k] = [best_t = k] - [gold_t = k] on unmasked steps."""
    case = make_case(4, [4, 2, 3], True, seed=4)
    emissions = case.emissions.clone().requires_grad_()
    perceptron_loss(case.crf, emissions, case.tags, case.mask).backward()
    expected = torch.zeros_like(emissions)
    for b, path in enumerate(case.crf.decode(case.emissions, case.mask)):
        _, gold = case.seq(b)
        for t, (best_tag, gold_tag) in enumerate(zip(path, gold)):
            expected[b, t, best_tag] += 1.0
            expected[b, t, gold_tag] -= 1.0
    torch.testing.assert_close(emissions.grad, expected)
    assert case.crf.transitions.grad is not None


@pytest.mark.parametrize("loss_fn", [perceptron_loss, svm_loss])
def test_reductions(loss_fn):
    case = make_case(4, [4, 2, 1], False, seed=6)
    none = loss_fn(case.crf, case.emissions, case.tags, case.mask, reduction="none")
    for reduction, expected in [("sum", none.sum()), ("mean", none.mean()),
                                ("token_mean", none.sum() / 7)]:
        torch.testing.assert_close(loss_fn(case.crf, case.emissions, case.tags, case.mask,
                                           reduction=reduction), expected)


def test_losses_under_constraints_use_allowed_paths_only():
    constraints = allowed_transitions(THREE, "BIO")
    case = make_case(4, [4, 3, 2], False, seed=8, constraints=constraints, scale=3.0)
    ok = allowed_by(constraints)
    tags = case.tags.clone()
    for b, length in enumerate(case.lengths):     # an allowed gold path: B-X then I-X ...
        tags[:length, b] = torch.tensor([1] + [2] * (length - 1))
    case.tags = tags
    torch.testing.assert_close(
        perceptron_loss(case.crf, case.emissions, case.tags, case.mask, "none"),
        _expected(case, allowed=ok))
    torch.testing.assert_close(
        svm_loss(case.crf, case.emissions, case.tags, case.mask, "none", cost=1.5),
        _expected(case, cost=1.5, allowed=ok))

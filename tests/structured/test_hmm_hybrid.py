"""The RNN-HMM hybrid: smoothed counts worked out by hand, scaled likelihoods, and its Viterbi
against brute force over every path (start + scaled likelihoods + transitions, no end score)."""

import math

import pytest
import torch

from rnnkit.structured import HMMHybrid
from structured_brute import DT, SHAPE_IDS, SHAPES, ranked

TAGS = torch.tensor([[0, 1], [1, 1], [2, -100]])
MASK = torch.tensor([[1, 1], [1, 1], [1, 0]], dtype=torch.bool)


def _log(rows):
    return torch.tensor(rows, dtype=DT).log()


def test_estimates_by_hand():
    """Tags 0 1 2 and 1 1; Laplace smoothing adds 1 to every count."""
    hmm = HMMHybrid(3, dtype=DT).count(TAGS, MASK)
    assert hmm.prior_counts.tolist() == [1, 3, 1]
    assert hmm.start_counts.tolist() == [1, 1, 0]
    assert hmm.transition_counts.tolist() == [[0, 1, 0], [0, 1, 1], [0, 0, 0]]
    torch.testing.assert_close(hmm.log_prior, _log([2 / 8, 4 / 8, 2 / 8]))
    torch.testing.assert_close(hmm.log_start, _log([2 / 5, 2 / 5, 1 / 5]))
    torch.testing.assert_close(hmm.log_transitions,
                               _log([[1 / 4, 2 / 4, 1 / 4], [1 / 5, 2 / 5, 2 / 5], [1 / 3] * 3]))


def test_smoothing_and_accumulation():
    hmm = HMMHybrid(3, smoothing=0.5, batch_first=True, dtype=DT)
    torch.testing.assert_close(hmm.log_transitions, torch.full((3, 3), -math.log(3), dtype=DT))
    hmm.count(TAGS.T, MASK.T).count(TAGS.T, MASK.T)                 # twice: counts double
    assert hmm.prior_counts.tolist() == [2, 6, 2]
    torch.testing.assert_close(hmm.log_prior, _log([2.5 / 11.5, 6.5 / 11.5, 2.5 / 11.5]))
    assert set(hmm.state_dict()) == {"prior_counts", "start_counts", "transition_counts",
                                     "log_prior", "log_start", "log_transitions"}


def _trained(batch_first, seed):
    gen = torch.Generator().manual_seed(seed)
    hmm = HMMHybrid(3, batch_first=batch_first, dtype=DT)
    tags = torch.randint(0, 3, (5, 8), generator=gen)
    return hmm.count(tags.T if batch_first else tags), gen


def test_scaled_likelihoods():
    hmm, gen = _trained(False, 0)
    log_post = torch.randn(3, 2, 3, generator=gen, dtype=DT).log_softmax(-1)
    scaled = hmm.scaled_likelihoods(log_post, MASK)
    torch.testing.assert_close(scaled[MASK], (log_post - hmm.log_prior)[MASK])
    assert (scaled[~MASK] == 0).all()


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_viterbi_is_the_best_path(shape):
    T, lengths, batch_first = shape
    hmm, gen = _trained(batch_first, 1)
    B = len(lengths) if lengths else 2
    lengths = lengths or [T] * B
    log_post = torch.randn(T, B, 3, generator=gen, dtype=DT).log_softmax(-1)
    mask = torch.arange(T).unsqueeze(1) < torch.tensor(lengths)
    flip = (lambda x: x.transpose(0, 1)) if batch_first else (lambda x: x)
    best = hmm.decode(flip(log_post), flip(mask))
    for b, length in enumerate(lengths):
        scaled = log_post[:length, b] - hmm.log_prior
        assert best[b] == ranked(scaled, hmm.log_start, hmm.log_transitions, None)[0][1]


def test_priors_change_the_decision():
    """The same posteriors decode differently once a frequent tag's prior is divided out."""
    hmm = HMMHybrid(2, dtype=DT).count(torch.tensor([[0] * 9 + [1]]).T)
    log_post = _log([[[0.6, 0.4]]])                           # one step: p(0|x) > p(1|x)
    assert hmm.decode(log_post) == [[1]]                      # but 0.6/p(0) < 0.4/p(1)

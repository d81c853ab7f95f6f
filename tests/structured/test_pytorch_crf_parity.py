"""Parity with pytorch-crf's conventions and formulas (without installing it): the expected
values are worked out by hand or by brute force. Transitions are indexed [from, to]; start and
end scores enter the path score; the log-likelihood (not its negative) is returned, summed by
default; parameter names, shapes and initial range; decode returns lists cut by the mask."""

import math

import torch

from rnnkit import CRF
from structured_brute import DT


def _crf(num_tags, **params):
    crf = CRF(num_tags, dtype=DT)
    with torch.no_grad():
        for p in crf.parameters():
            p.zero_()
        for name, value in params.items():
            getattr(crf, name).copy_(torch.tensor(value, dtype=DT))
    return crf


def test_transitions_are_indexed_from_to():
    """K=2, T=2, zero emissions, only transitions[0, 1] = log 2: the paths 00, 01, 10, 11 score
    exp 1, 2, 1, 1, so Z = 5, p(0 1) = 2/5 and p(1 0) = 1/5."""
    crf = _crf(2, transitions=[[0.0, math.log(2)], [0.0, 0.0]])
    emissions = torch.zeros(2, 2, 2, dtype=DT)
    llh = crf(emissions, torch.tensor([[0, 1], [1, 0]]), reduction="none")
    torch.testing.assert_close(llh, torch.tensor([math.log(2 / 5), math.log(1 / 5)], dtype=DT))
    assert crf.decode(emissions) == [[0, 1], [0, 1]]


def test_start_and_end_scores():
    """One step, K=2: start[0] = log 3 gives p(0) = 3/4; end[1] = log 3 gives p(1) = 3/4; with
    both, p(0) = p(1) = 1/2, and the emissions add to them."""
    one = torch.zeros(1, 1, 2, dtype=DT)
    tag0, tag1 = torch.tensor([[0]]), torch.tensor([[1]])
    log3 = math.log(3)
    assert math.isclose(_crf(2, start_transitions=[log3, 0]).forward(one, tag0).item(),
                        math.log(3 / 4))
    assert math.isclose(_crf(2, end_transitions=[0, log3]).forward(one, tag1).item(),
                        math.log(3 / 4))
    both = _crf(2, start_transitions=[log3, 0], end_transitions=[0, log3])
    assert math.isclose(both(one, tag0).item(), math.log(1 / 2))
    emissions = torch.tensor([[[math.log(2), 0.0]]], dtype=DT)             # now 6 : 3
    assert math.isclose(both(emissions, tag0).item(), math.log(2 / 3))


def test_reductions_and_default():
    """pytorch-crf: 'sum' by default; 'mean' over the batch; 'token_mean' over mask.sum()."""
    crf = _crf(2, transitions=[[0.0, math.log(2)], [0.0, 0.0]])
    emissions = torch.zeros(2, 2, 2, dtype=DT)
    tags = torch.tensor([[0, 1], [1, 0]])
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.uint8)               # a ByteTensor works
    # sequence 1 is one step long: tag 1 of two equally likely tags
    per_seq = [math.log(2 / 5), math.log(1 / 2)]
    assert math.isclose(crf(emissions, tags, mask).item(), sum(per_seq))
    assert math.isclose(crf(emissions, tags, mask, reduction="mean").item(), sum(per_seq) / 2)
    assert math.isclose(crf(emissions, tags, mask, reduction="token_mean").item(),
                        sum(per_seq) / 3)


def test_parameters_as_pytorch_crf():
    torch.manual_seed(0)
    crf = CRF(5)
    shapes = {name: tuple(p.shape) for name, p in crf.named_parameters()}
    assert shapes == {"start_transitions": (5,), "end_transitions": (5,), "transitions": (5, 5)}
    for p in crf.parameters():
        assert p.abs().max() <= 0.1 and p.std() > 0.01
    # a pytorch-crf state_dict has exactly these keys and loads strictly
    crf.load_state_dict({"start_transitions": torch.ones(5), "end_transitions": torch.ones(5),
                         "transitions": torch.ones(5, 5)})
    assert crf.transitions.sum().item() == 25
    assert not crf.batch_first and repr(crf) == "CRF(num_tags=5)"


def test_decode_returns_lists_cut_by_the_mask():
    crf = CRF(4, batch_first=True)
    emissions = torch.randn(3, 5, 4)
    mask = torch.tensor([[1] * 5, [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    best = crf.decode(emissions, mask)
    assert [len(path) for path in best] == [5, 2, 1]
    assert [len(path) for path in crf.decode(emissions)] == [5, 5, 5]
    assert all(type(tag) is int and 0 <= tag < 4 for path in best for tag in path)

"""torch.autograd.gradcheck in float64 of the CRF's log-likelihood with respect to emissions,
transitions, start and end scores (with a mask, with constraints), of the marginals, and of the
SVM loss (piecewise linear: checked away from ties)."""

import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

from rnnkit.structured import allowed_transitions, svm_loss
from structured_brute import THREE, make_case


@pytest.mark.parametrize("constrained", [False, True], ids=["free", "BIO"])
@pytest.mark.parametrize("reduction", ["none", "token_mean"])
def test_log_likelihood(constrained, reduction):
    constraints = allowed_transitions(THREE, "BIO") if constrained else None
    case = make_case(3, [3, 1, 2], False, seed=1, constraints=constraints)
    tags = torch.tensor([[1, 0, 1], [2, 0, 1], [0, 0, 0]])           # allowed paths

    def llh(emissions, start, transitions, end):
        params = {"start_transitions": start, "transitions": transitions,
                  "end_transitions": end}
        return functional_call(case.crf, params, (emissions, tags, case.mask, reduction))

    inputs = [case.emissions.clone().requires_grad_()] + [
        p.detach().clone().requires_grad_() for p in case.params()]
    assert gradcheck(llh, inputs)


def test_marginals():
    case = make_case(3, [3, 2], True, seed=2)
    emissions = case.emissions.clone().requires_grad_()
    assert gradcheck(lambda e: case.crf.marginals(e, case.mask), (emissions,))


def test_svm_loss():
    case = make_case(4, [4, 2, 3], False, seed=3)
    emissions = case.emissions.clone().requires_grad_()
    assert gradcheck(lambda e: svm_loss(case.crf, e, case.tags, case.mask, "none", cost=0.7),
                     (emissions,))

"""rnnkit.CRF compiles with torch.jit.script, as pytorch-crf's does: the scripted forward and
decode equal the eager ones (every reduction, masks, batch_first, constraints), survive a
save/load round trip, and still refuse bad shapes. Its repr is pytorch-crf's."""

import pytest
import torch

from rnnkit.structured import CRF, allowed_transitions

T, B, K = 5, 3, 4
MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.uint8).T


def inputs(batch_first: bool):
    torch.manual_seed(0)
    emissions, tags, mask = torch.randn(T, B, K), torch.randint(K, (T, B)), MASK
    if batch_first:
        return emissions.transpose(0, 1), tags.T, mask.T
    return emissions, tags, mask


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("constrained", [False, True])
def test_scripted_forward_and_decode_equal_eager(batch_first, constrained, tmp_path):
    constraints = allowed_transitions(["O", "B-X", "I-X", "B-Y"]) if constrained else None
    crf = CRF(K, batch_first=batch_first, constraints=constraints)
    scripted = torch.jit.script(crf)
    torch.jit.save(scripted, tmp_path / "crf.pt")
    loaded = torch.jit.load(tmp_path / "crf.pt")
    emissions, tags, mask = inputs(batch_first)
    for module in (scripted, loaded):
        for reduction in ("none", "sum", "mean", "token_mean"):
            for m in (mask, None, mask.bool()):
                torch.testing.assert_close(module(emissions, tags, m, reduction),
                                           crf(emissions, tags, m, reduction))
        assert module.decode(emissions, mask) == crf.decode(emissions, mask)
        assert module.decode(emissions) == crf.decode(emissions)
    # gradients flow through the scripted forward as through the eager one
    scripted(emissions, tags, mask).backward()
    assert crf.transitions.grad is not None and crf.transitions.grad.abs().sum() > 0


def test_scripted_crf_refuses_bad_input():
    scripted = torch.jit.script(CRF(K))
    emissions, tags, mask = inputs(False)
    bad = {"emissions: expected 3 dimensions": lambda: scripted(emissions[0], tags[0]),
           "the last num_tags = 4": lambda: scripted(emissions[:, :, :2], tags),
           "tags: expected shape": lambda: scripted(emissions, tags[:2]),
           "mask: expected shape": lambda: scripted.decode(emissions, mask[:2]),
           "mask: expected the first step on": lambda: scripted.decode(emissions, 1 - mask),
           "reduction: expected": lambda: scripted(emissions, tags, mask, "max")}
    for message, call in bad.items():
        with pytest.raises(torch.jit.Error, match=message):  # it carries the ValueError
            call()


def test_repr_is_pytorch_crfs():
    assert repr(CRF(10)) == "CRF(num_tags=10)"
    assert repr(CRF(3, batch_first=True)) == "CRF(num_tags=3)"

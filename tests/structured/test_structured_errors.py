"""Bad input: every error has the right type and a message that names the argument, what was
expected and what came."""

import pytest
import torch

from rnnkit import TensorError
from rnnkit.structured import CRF, HMMHybrid, allowed_transitions, perceptron_loss, svm_loss
from structured_brute import DT

T, B, K = 4, 2, 3


def _raises(exc_type, call, *fragments):
    """call() raises exactly exc_type (or one of rnnkit's tensor errors, which are ValueErrors
    and RuntimeErrors, for a tensor of the wrong shape) and the message contains every fragment."""
    with pytest.raises(exc_type) as info:
        call()
    assert type(info.value) is exc_type or isinstance(info.value, TensorError), \
        f"{type(info.value).__name__}: {info.value}"
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def em(*shape, dtype=DT):
    return torch.zeros(*(shape or (T, B, K)), dtype=dtype)


def tags(*shape, value=0):
    return torch.full(shape or (T, B), value, dtype=torch.long)


CRF_ = CRF(K, dtype=DT)
BF = CRF(K, batch_first=True, dtype=DT)
LOSSES = {"forward": lambda e, t, m=None, r="sum": CRF_(e, t, m, r),
          "perceptron": lambda e, t, m=None, r="sum": perceptron_loss(CRF_, e, t, m, r),
          "svm": lambda e, t, m=None, r="sum": svm_loss(CRF_, e, t, m, r)}
DECODERS = {"decode": lambda e, m=None: CRF_.decode(e, m),
            "decode_nbest": lambda e, m=None: CRF_.decode_nbest(e, 2, m),
            "marginals": lambda e, m=None: CRF_.marginals(e, m)}


def _with_gold_tags(loss):
    return lambda e, m=None: loss(e, tags(), m)


ALL = {**{name: _with_gold_tags(loss) for name, loss in LOSSES.items()}, **DECODERS}


# --- constructors --------------------------------------------------------------------------------

def test_num_tags():
    _raises(ValueError, lambda: CRF(0), "num_tags", ">= 1", "0")
    _raises(TypeError, lambda: CRF("3"), "num_tags", "int", "'3'")
    _raises(ValueError, lambda: HMMHybrid(0), "num_tags", "0")


def test_constraints():
    _raises(TypeError, lambda: CRF(K, constraints=[[True]]), "constraints", "(K, K)", "list")
    _raises(TypeError, lambda: CRF(K, constraints=torch.ones(K, K)), "constraints.transitions",
            "bool", "float32")
    _raises(ValueError, lambda: CRF(K, constraints=torch.ones(2, 2, dtype=torch.bool)),
            "constraints.transitions", "(3, 3)", "(2, 2)")
    good = allowed_transitions(["O", "B-X", "I-X"])
    _raises(ValueError, lambda: CRF(K, constraints=(good[0], torch.ones(4, dtype=torch.bool),
                                                    good[2])),
            "constraints.start", "(3,)", "(4,)")


def test_allowed_transitions():
    _raises(ValueError, lambda: allowed_transitions(["O"], "BIOES"), "scheme", "'IOBES'",
            "'BIOES'")
    _raises(ValueError, lambda: allowed_transitions(["O", "X-PER"]), "tag_names[1]", "B, I",
            "'X-PER'")
    _raises(ValueError, lambda: allowed_transitions(["O", "E-PER"], "BIO"), "tag_names[1]",
            "'E-PER'")
    _raises(ValueError, lambda: allowed_transitions(["B-"], "IOBES"), "tag_names[0]", "'B-'")
    _raises(TypeError, lambda: allowed_transitions([3]), "tag_names[0]", "str", "3")
    _raises(TypeError, lambda: allowed_transitions("O"), "tag_names", "list", "'O'")
    _raises(TypeError, lambda: allowed_transitions([]), "tag_names", "non-empty", "list of 0")


def test_hybrid_smoothing():
    _raises(ValueError, lambda: HMMHybrid(K, smoothing=0), "smoothing", "> 0", "0")
    _raises(TypeError, lambda: HMMHybrid(K, smoothing="1"), "smoothing", "float", "'1'")


# --- emissions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
def test_emissions(name):
    call = ALL[name]
    _raises(TypeError, lambda: call([[0.0] * K]), "emissions", "a tensor", "list")
    _raises(ValueError, lambda: call(em(T, K)), "emissions", "3 dimensions", "(4, 3)")
    _raises(ValueError, lambda: call(em(T, B, K + 1)), "emissions", "last dimension 3",
            "num_tags", "(4, 2, 4)")
    _raises(TypeError, lambda: call(em(dtype=torch.float32)), "emissions", "torch.float64",
            "torch.float32")
    _raises(ValueError, lambda: call(em(0, B, K)), "emissions", "at least one time step",
            "(0, 2, 3)")


# --- mask ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
def test_mask(name):
    call = ALL[name]
    on = torch.ones(T, B, dtype=torch.bool)
    _raises(TypeError, lambda: call(em(), on.float()), "mask", "torch.bool", "torch.float32")
    _raises(TypeError, lambda: call(em(), [[1, 1]] * T), "mask", "tensor", "list")
    _raises(ValueError, lambda: call(em(), on[:3]), "mask", "(4, 2)", "(3, 2)")
    first_off = on.clone()
    first_off[0, 1] = False
    _raises(ValueError, lambda: call(em(), first_off), "mask", "first step on",
            "batch index(es) [1]")
    gap = on.clone()
    gap[1, 0] = False
    _raises(ValueError, lambda: call(em(), gap), "mask", "contiguous prefix", "[0]")


def test_mask_in_batch_first_layout():
    """Shapes in messages are the caller's: (B, T)."""
    _raises(ValueError, lambda: BF.decode(em(B, T, K), torch.ones(T, B, dtype=torch.bool)),
            "mask", "(2, 4)", "(4, 2)")
    first_off = torch.ones(B, T, dtype=torch.bool)
    first_off[1, 0] = False
    _raises(ValueError, lambda: BF.decode(em(B, T, K), first_off), "mask", "first step",
            "[1]")


# --- tags and reduction --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(LOSSES))
def test_tags(name):
    call = LOSSES[name]
    _raises(TypeError, lambda: call(em(), tags().float()), "tags", "integer", "torch.float32")
    _raises(TypeError, lambda: call(em(), tags().bool()), "tags", "integer", "torch.bool")
    _raises(TypeError, lambda: call(em(), [[0, 0]] * T), "tags", "integer tensor", "list")
    _raises(ValueError, lambda: call(em(), tags(T - 1, B)), "tags", "(4, 2)", "(3, 2)")
    _raises(ValueError, lambda: call(em(), tags(value=K)), "tags", "[0, 2]", "[3]")
    _raises(ValueError, lambda: call(em(), tags(value=-1)), "tags", "[0, 2]", "[-1]")


@pytest.mark.parametrize("name", list(LOSSES))
def test_reduction(name):
    _raises(ValueError, lambda: LOSSES[name](em(), tags(), None, "avg"), "reduction",
            "'token_mean'", "'avg'")


def test_loss_arguments():
    _raises(TypeError, lambda: perceptron_loss(object(), em(), tags()), "crf", "CRF", "object")
    _raises(TypeError, lambda: svm_loss(None, em(), tags()), "crf", "CRF", "None")
    _raises(ValueError, lambda: svm_loss(CRF_, em(), tags(), cost=-1.0), "cost", ">= 0", "-1.0")
    _raises(TypeError, lambda: svm_loss(CRF_, em(), tags(), cost="1"), "cost", "float", "'1'")


def test_nbest_n():
    _raises(ValueError, lambda: CRF_.decode_nbest(em(), 0), "n", ">= 1", "0")
    _raises(TypeError, lambda: CRF_.decode_nbest(em(), 1.5), "n", "int", "1.5")


# --- the hybrid ----------------------------------------------------------------------------------

def test_hybrid_inputs():
    hmm = HMMHybrid(K, dtype=DT)
    _raises(ValueError, lambda: hmm.count(tags(T, B, 1)), "tags", "2 dimensions", "(4, 2, 1)")
    _raises(ValueError, lambda: hmm.count(tags(value=K)), "tags", "[0, 2]", "[3]")
    _raises(ValueError, lambda: hmm.count(tags(), torch.ones(B, T, dtype=torch.bool)), "mask",
            "(4, 2)", "the tags'", "(2, 4)")
    _raises(TypeError, lambda: hmm.count(tags().double()), "tags", "integer", "torch.float64")
    for call in (hmm.decode, hmm.scaled_likelihoods):
        _raises(ValueError, lambda: call(em(T, B, K + 1)), "log_posteriors", "last dimension 3")
        _raises(TypeError, lambda: call(em(dtype=torch.float32)), "log_posteriors",
                "torch.float64", "torch.float32")
        _raises(ValueError, lambda: call(em(), torch.zeros(T, B, dtype=torch.bool)), "mask",
                "first step on")
    assert hmm.prior_counts.sum() == 0                   # a failed count changes nothing

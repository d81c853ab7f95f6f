"""Which tag may follow which: the transition, start and end constraints of a tagging scheme.

A CRF given constraints scores every forbidden transition, start or end as FORBIDDEN, so that
(for emissions far smaller than 1e4) no best path uses one while an allowed path exists, and
forbidden paths add nothing measurable to the partition function.
"""

# No `from __future__ import annotations`: TorchScript reads this module's NamedTuple fields.
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit import _check
from rnnkit.structured.chain import Potentials, last_tags

# A large negative score rather than -inf: logsumexp over a row that is all -inf gives -inf and
# then NaN gradients, while exp(-1e4) is exactly 0 in float32 and float64 alike.
FORBIDDEN = -1e4

SCHEMES = ("BIO", "IOBES")


class Constraints(NamedTuple):
    """Boolean masks of what is allowed: transitions (K, K) [from, to], start (K,), end (K,)."""
    transitions: Tensor
    start: Tensor
    end: Tensor


# Per scheme: its prefixes, those that continue an open entity, and those that may start / end
# a sequence.
_PREFIXES = {"BIO": "BI", "IOBES": "BIES"}
_CONTINUE = {"BIO": "I", "IOBES": "IE"}
_STARTS = {"BIO": "OB", "IOBES": "OBS"}
_ENDS = {"BIO": "OBI", "IOBES": "OES"}


def _follows(scheme: str, prev: tuple[str, str], nxt: tuple[str, str]) -> bool:
    """May tag `nxt` follow tag `prev`? Tags are (prefix, entity type), ("O", "") for O."""
    (p, p_type), (q, q_type) = prev, nxt
    is_open = p in "BI"                       # B-x and I-x leave entity x open
    continues = q in _CONTINUE[scheme]
    if continues and not (is_open and p_type == q_type):
        return False                          # continuing needs that very entity open
    # IOBES closes every entity explicitly (E-x, or S-x alone), so an open one must continue
    return continues or not (is_open and scheme == "IOBES")


def _parse(i: int, name, scheme: str) -> tuple[str, str]:
    if not isinstance(name, str):
        raise TypeError(f"tag_names[{i}]: expected a str, got {_check.describe(name)}")
    if name == "O":
        return "O", ""
    prefix, dash, kind = name.partition("-")
    if not dash or not kind or prefix not in _PREFIXES[scheme]:
        raise ValueError(f"tag_names[{i}]: expected 'O' or '<prefix>-<type>' with a prefix in "
                         f"{', '.join(_PREFIXES[scheme])} ({scheme}), got {name!r}")
    return prefix, kind


def allowed_transitions(tag_names, scheme: str = "BIO") -> Constraints:
    """The constraints of `scheme` over tags named like "O", "B-PER", "I-PER" (IOBES adds "E-PER"
    and "S-PER"), in the order of `tag_names`.

    BIO: I-x only after B-x or I-x; no I at the start. IOBES: after B-x or I-x only I-x or E-x;
    after O, E or S no I or E; start with O, B or S; end with O, E or S.
    """
    _check.one_of("scheme", scheme, SCHEMES)
    if isinstance(tag_names, str) or not isinstance(tag_names, (list, tuple)) or not tag_names:
        raise TypeError(f"tag_names: expected a non-empty list of tag names, "
                        f"got {_check.describe(tag_names)}")
    tags = [_parse(i, name, scheme) for i, name in enumerate(tag_names)]
    return Constraints(
        transitions=torch.tensor([[_follows(scheme, p, q) for q in tags] for p in tags]),
        start=torch.tensor([p in _STARTS[scheme] for p, _ in tags]),
        end=torch.tensor([p in _ENDS[scheme] for p, _ in tags]))


def keeps_to(allowed: Constraints, tags: Tensor, mask: Tensor) -> Tensor:
    """Which paths use only allowed starts, transitions and ends.
    tags: (T, N) int64; mask: (T, N) bool, left-aligned -> (N,) bool."""
    steps = allowed.transitions[tags[:-1], tags[1:]] | ~mask[1:]
    return allowed.start[tags[0]] & allowed.end[last_tags(tags, mask)] & steps.all(0)


def as_constraints(value, num_tags: int) -> Constraints:
    """`constraints` as given to a CRF: None (everything allowed), a bool (K, K) transition mask,
    or Constraints / a (transitions, start, end) tuple of bool masks."""
    def everything(*shape):
        return torch.ones(*shape, dtype=torch.bool)

    if value is None:
        value = everything(num_tags, num_tags)
    if isinstance(value, Tensor):
        value = (value, everything(num_tags), everything(num_tags))
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise TypeError(f"constraints: expected None, a bool (K, K) tensor or "
                        f"(transitions, start, end), got {_check.describe(value)}")
    for field, mask, shape in zip(Constraints._fields, value,
                                  [(num_tags, num_tags), (num_tags,), (num_tags,)]):
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"constraints.{field}: expected a bool tensor, "
                            f"got {_check.describe(mask)}")
        if tuple(mask.shape) != shape:
            raise ValueError(f"constraints.{field}: expected shape {shape} (num_tags "
                             f"{num_tags}), got {tuple(mask.shape)}")
    return Constraints(*(mask.detach().cpu().clone() for mask in value))


def restrict(pot: Potentials, allowed: Constraints, forbidden: float = FORBIDDEN) -> Potentials:
    """`pot` with FORBIDDEN wherever `allowed` is False, which also keeps the gradients of the
    forbidden entries zero. Potentials and masks on one device. (FORBIDDEN comes in as a
    default argument because TorchScript, which compiles this for a scripted CRF, cannot read
    a global float.)"""
    return Potentials(start=torch.where(allowed.start, pot.start, forbidden),
                      transitions=torch.where(allowed.transitions, pot.transitions, forbidden),
                      end=torch.where(allowed.end, pot.end, forbidden))

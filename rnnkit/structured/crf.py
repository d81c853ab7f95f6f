"""A linear-chain conditional random field over tag sequences, with pytorch-crf's API.

    p(y | x) = exp(score(x, y)) / Z(x),   Z(x) = sum over all paths y' of exp(score(x, y'))
    score(x, y) = start[y_0] + sum_t emissions[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t]
                  + end[y_{L-1}]

The emissions come from a network (one score per step and tag); the CRF adds what a per-step
classifier cannot express: which tag tends to follow which. The sums over paths are in chain.py,
the best paths in viterbi.py; this module holds the parameters and the public API.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.structured import _inputs
from rnnkit.structured import chain
from rnnkit.structured.constraints import Constraints, as_constraints, keeps_to, restrict
from rnnkit.structured.reduction import REDUCTIONS, check_scripted, reduce
from rnnkit.structured.viterbi import as_lists, best_paths, viterbi


class CRF(nn.Module):
    """CRF(num_tags, batch_first=False, constraints=None)

    Parameters (pytorch-crf's names, shapes and initialisation, so its state_dicts load):
    start_transitions (K,), end_transitions (K,), transitions (K, K) indexed [from, to].
    constraints: None, a bool (K, K) mask of allowed transitions [from, to], or the
    (transitions, start, end) bool masks that `allowed_transitions(tag_names, scheme)` returns.
    Forbidden entries score FORBIDDEN (-1e4) wherever the CRF scores or decodes, so decoding never
    uses one while an allowed path exists; they are buffers, not in the state_dict.

    Inputs: emissions (T, B, K) ((B, T, K) with batch_first), of the parameters' dtype and device;
    tags (T, B) integer in [0, K) where the mask is on (padding may hold anything, e.g. -100);
    mask (T, B) bool or uint8, None for all on; each sequence is a prefix (padding at the end) and
    the first step is on for every sequence.

    `torch.jit.script(crf)` compiles forward and decode, as pytorch-crf's; a scripted CRF checks
    the shapes and the mask as an eager one does, with shorter messages.
    """

    def __init__(self, num_tags: int, batch_first: bool = False, constraints=None, *,
                 device=None, dtype=None):
        super().__init__()
        self.num_tags = _check.positive_int("num_tags", num_tags)
        self.batch_first = batch_first
        kw = {"device": device, "dtype": dtype}
        self.start_transitions = nn.Parameter(torch.empty(num_tags, **kw))
        self.end_transitions = nn.Parameter(torch.empty(num_tags, **kw))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags, **kw))
        allowed = as_constraints(constraints, num_tags)
        # not persistent: constraints come from the constructor, and pytorch-crf's state_dicts
        # (three parameters) load as they are
        self.register_buffer("allowed_start", allowed.start.to(device), persistent=False)
        self.register_buffer("allowed_end", allowed.end.to(device), persistent=False)
        self.register_buffer("allowed_transitions", allowed.transitions.to(device),
                             persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """uniform(-0.1, 0.1), as pytorch-crf."""
        for p in (self.start_transitions, self.end_transitions, self.transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def potentials(self) -> chain.Potentials:
        """The scores the CRF uses: its parameters with forbidden entries at FORBIDDEN (which
        also keeps their gradients zero)."""
        return restrict(chain.Potentials(self.start_transitions, self.transitions,
                                         self.end_transitions), self.constraints())

    def constraints(self) -> Constraints:
        """What is allowed, as bool masks (everything when built without constraints)."""
        return Constraints(self.allowed_transitions, self.allowed_start, self.allowed_end)

    @torch.jit.unused
    def prepare(self, emissions, tags=None, mask=None) -> tuple[Tensor, Optional[Tensor], Tensor]:
        """Validate the inputs and bring them time-major: emissions (T, B, K), tags (T, B) int64
        (None if not given), mask (T, B) bool. What every entry point (and the losses) use."""
        return _inputs.prepare("emissions", emissions, tags, mask, num_tags=self.num_tags,
                               like=self.transitions, batch_first=self.batch_first)

    def forward(self, emissions: Tensor, tags: Tensor, mask: Optional[Tensor] = None,
                reduction: str = "sum") -> Tensor:
        """The log-likelihood log p(tags | emissions): (B,) with reduction 'none', else a scalar
        ('sum' over sequences, 'mean' over sequences, 'token_mean' over unmasked steps).
        Maximise it (minimise its negative)."""
        if torch.jit.is_scripting():
            check_scripted(reduction)
            emissions, gold, on = _inputs.prepare_scripted(emissions, tags, mask, self.num_tags,
                                                           self.batch_first)
        else:
            _check.one_of("reduction", reduction, REDUCTIONS)
            emissions, gold, on = self.prepare(emissions, tags, mask)
        assert gold is not None
        pot = self.potentials()
        llh = chain.path_score(emissions, gold, on, pot) - chain.log_partition(emissions, on, pot)
        return reduce(llh, reduction, on)

    @torch.jit.export
    def decode(self, emissions: Tensor, mask: Optional[Tensor] = None) -> list[list[int]]:
        """The most likely tag sequence of each sequence, as many tags as its unmasked steps."""
        with torch.no_grad():
            if torch.jit.is_scripting():
                emissions, _, on = _inputs.prepare_scripted(emissions, None, mask, self.num_tags,
                                                            self.batch_first)
            else:
                emissions, _, on = self.prepare(emissions, mask=mask)
            _, tags = viterbi(emissions, on, self.potentials(), 1)
            return best_paths(tags[:, :, 0], on)

    @torch.no_grad()
    def decode_nbest(self, emissions: Tensor, n: int,
                     mask: Tensor | None = None) -> list[list[tuple[list[int], float]]]:
        """The n most likely tag sequences of each sequence, best first, as (tags, score) with
        score(x, y) the unnormalised path score (subtract log Z for a log-probability). A
        sequence with fewer than n paths (K ** length < n, or fewer allowed by the constraints)
        gets all of them; if the constraints allow none, the best path alone, as decode. The
        algorithm is list Viterbi (viterbi.py): the n best partial paths into each tag, batched.
        """
        _check.positive_int("n", n)
        return [list(zip(paths, scores)) for paths, scores in self._best(emissions, mask, n)]

    def _best(self, emissions, mask, n: int) -> list[tuple[list[list[int]], list[float]]]:
        """Per sequence: its n best paths (cut to its length) and their scores. The best is
        always kept; the others only if they exist (a sequence of length L has K ** L paths,
        the surplus scores -inf) and keep to the constraints."""
        emissions, _, mask = self.prepare(emissions, mask=mask)
        scores, tags = viterbi(emissions, mask, self.potentials(), n)
        paths = as_lists(tags, mask)
        if n == 1:
            # the best path is always kept, so there is nothing to filter (decode's case)
            return list(zip(paths, scores.tolist()))
        T, B = mask.shape
        exists = scores > float("-inf")                                       # (B, n)
        legal = keeps_to(self.constraints(), tags.reshape(T, B * n),
                         mask.repeat_interleave(n, dim=1)).view(B, n)
        keep = exists & legal
        keep[:, 0] = True
        result = []
        for seq, row, flags in zip(paths, scores.tolist(), keep.tolist()):
            result.append(([path for path, k in zip(seq, flags) if k],
                           [score for score, k in zip(row, flags) if k]))
        return result

    def marginals(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """p(y_t = k | x) by forward-backward in log space: (T, B, K) ((B, T, K) with
        batch_first); each unmasked step sums to 1, masked steps are 0."""
        emissions, _, mask = self.prepare(emissions, mask=mask)
        probs = chain.marginals(emissions, mask, self.potentials())
        return _inputs.time_major(probs, self.batch_first)

    def __repr__(self) -> str:
        """As pytorch-crf's: CRF(num_tags=K)."""
        return f"{type(self).__name__}(num_tags={self.num_tags})"

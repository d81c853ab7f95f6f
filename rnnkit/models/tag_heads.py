"""What a tagger does with its per-token scores (emissions): how it is trained and how it
decodes, one class per family of `model.head`.

- "softmax": an independent softmax per token, cross-entropy; decoded by argmax.
- "crf": a linear-chain CRF (Lample et al. 2016), negative log-likelihood; Viterbi.
- "perceptron", "svm": the CRF's scores trained by the structured perceptron or the
  margin-rescaled structured hinge (rnnkit.structured); Viterbi.
- "hybrid": trained as "softmax"; decoded as an RNN-HMM hybrid (Bourlard & Morgan 1994): the
  scaled likelihoods log p(y | x_t) - log p(y) with the start and transition probabilities
  counted on the training tags (`count`).

With constraints (the tagging scheme's, `rnnkit.structured.allowed_transitions`) every head
decodes only paths that keep to them; the CRF family also scores with them. Inputs are
time-major and validated by the caller: emissions (T, B, K), tags (T, B) int64 (anything at
padding), mask (T, B) bool, each sequence a prefix.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.structured import CRF, HMMHybrid, perceptron_loss, svm_loss
from rnnkit.structured.chain import Potentials
from rnnkit.structured.constraints import Constraints, restrict
from rnnkit.structured.viterbi import best_paths, viterbi

HEADS = ("softmax", "crf", "perceptron", "svm", "hybrid")


class SoftmaxHead(nn.Module):
    """loss: the cross-entropy summed over the unmasked tokens. decode: per token argmax, or
    with constraints the most probable path that keeps to them (Viterbi on log-softmax scores
    with no transition scores)."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__()
        self.num_tags = num_tags
        self.constrained = constraints is not None
        if self.constrained:  # from the config and the tag names: not in the state_dict
            for field, mask in zip(Constraints._fields, constraints):
                self.register_buffer(f"allowed_{field}", mask.clone(), persistent=False)

    def allowed(self) -> Constraints:
        return Constraints(self.allowed_transitions, self.allowed_start, self.allowed_end)

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        return nn.functional.cross_entropy(emissions[mask], tags[mask], reduction="sum")

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        if not self.constrained:
            return [path[:n] for path, n in zip(emissions.argmax(2).t().tolist(),
                                               mask.sum(0).tolist())]
        zeros = emissions.new_zeros(self.num_tags)
        return self._viterbi(emissions.log_softmax(2), mask,
                             Potentials(zeros, zeros.expand(self.num_tags, -1), zeros))

    def _viterbi(self, scores: Tensor, mask: Tensor, pot: Potentials) -> list[list[int]]:
        """The best path of each sequence under `pot`, restricted to the constraints if any."""
        if self.constrained:
            pot = restrict(pot, self.allowed())
        return best_paths(viterbi(scores, mask, pot)[1][:, :, 0], mask)


class HybridHead(SoftmaxHead):
    """Trained as SoftmaxHead; decodes with `hmm` (an HMMHybrid, its counts in the state_dict),
    whose priors and transitions `count(tags, mask)` estimates from the training tags."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__(num_tags, constraints)
        self.hmm = HMMHybrid(num_tags)

    def count(self, tags: Tensor, mask: Tensor) -> None:
        self.hmm.count(tags, mask)

    @torch.no_grad()
    def decode(self, emissions, mask):
        scaled = self.hmm.scaled_likelihoods(emissions.log_softmax(2), mask)
        return self._viterbi(scaled, mask, self.hmm.potentials())


class CRFHead(nn.Module):
    """kind "crf": loss -log p(tags | emissions); "perceptron": max_y score(y) - score(tags);
    "svm": the same with `cost` per wrong tag added inside the max. All summed over the batch,
    all decoded by the CRF's Viterbi."""

    def __init__(self, kind: str, num_tags: int, constraints: Constraints | None = None,
                 cost: float = 1.0):
        super().__init__()
        self.kind, self.cost = kind, cost
        self.crf = CRF(num_tags, constraints=constraints)

    def loss(self, emissions, tags, mask):
        if self.kind == "crf":
            return -self.crf(emissions, tags, mask, reduction="sum")
        if self.kind == "perceptron":
            return perceptron_loss(self.crf, emissions, tags, mask, reduction="sum")
        return svm_loss(self.crf, emissions, tags, mask, reduction="sum", cost=self.cost)

    def decode(self, emissions, mask):
        return self.crf.decode(emissions, mask)


def build_head(kind: str, num_tags: int, constraints: Constraints | None = None,
               cost: float = 1.0) -> nn.Module:
    """The head named `kind` (one of HEADS) over `num_tags` tags."""
    if kind not in HEADS:
        raise ValueError(f"kind: expected one of {', '.join(HEADS)}, got {kind!r}")
    if kind == "softmax":
        return SoftmaxHead(num_tags, constraints)
    if kind == "hybrid":
        return HybridHead(num_tags, constraints)
    return CRFHead(kind, num_tags, constraints, cost)

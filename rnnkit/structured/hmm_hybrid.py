"""The RNN-HMM hybrid (Bourlard & Morgan 1994): a network's per-step posteriors decoded with an
HMM's tag transitions.

The network estimates p(y_t | x); an HMM needs the emission likelihood p(x_t | y_t). By Bayes,
p(x_t | y) = p(y | x_t) p(x_t) / p(y), and p(x_t) is the same for every tag, so

    log p(y | x_t) - log p(y)       (the scaled likelihood)

can stand in for the log likelihood when decoding. The priors p(y), the start probabilities
p(y_0) and the transitions p(y_t | y_{t-1}) are estimated by counting the training tags, with
additive smoothing so that no event unseen in training becomes impossible. Decoding is the CRF's
Viterbi (viterbi.py) with scores = scaled likelihoods, start = log p(y_0),
transitions = log p(y_t | y_{t-1}) and no end score.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit import _check
from rnnkit.structured import _inputs
from rnnkit.structured.chain import Potentials
from rnnkit.structured.viterbi import best_paths, viterbi


def _log_normalised(counts: Tensor, smoothing: float, dtype: torch.dtype) -> Tensor:
    """log of (counts + smoothing) / (their sum), along the last dimension; in float64 (counts
    of frames can be large) and then cast."""
    smoothed = counts.double() + smoothing
    return (smoothed / smoothed.sum(-1, keepdim=True)).log().to(dtype)


class HMMHybrid(nn.Module):
    """HMMHybrid(num_tags, smoothing=1.0, batch_first=False)

    Buffers (in the state_dict): the counts prior_counts (K,), start_counts (K,),
    transition_counts (K, K) [from, to] (int64), and what they give with additive `smoothing`:
    log_prior (K,), log_start (K,), log_transitions (K, K), in the module's dtype.
    With no counts the probabilities are uniform.

    count(tags, mask=None): add a batch of training tags (T, B) ((B, T) with batch_first).
    scaled_likelihoods(log_posteriors, mask=None): log p(y | x_t) - log p(y).
    decode(log_posteriors, mask=None): the best tag sequence of each sequence.
    """

    def __init__(self, num_tags: int, smoothing: float = 1.0, batch_first: bool = False, *,
                 device=None, dtype=None):
        super().__init__()
        self.num_tags = _check.positive_int("num_tags", num_tags)
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)):
            raise TypeError(f"smoothing: expected a float > 0, got {_check.describe(smoothing)}")
        if not smoothing > 0:
            raise ValueError(f"smoothing: expected a float > 0 (so that every log probability "
                             f"is finite), got {smoothing}")
        self.smoothing = float(smoothing)
        self.batch_first = batch_first
        counts = {"dtype": torch.long, "device": device}
        self.register_buffer("prior_counts", torch.zeros(num_tags, **counts))
        self.register_buffer("start_counts", torch.zeros(num_tags, **counts))
        self.register_buffer("transition_counts", torch.zeros(num_tags, num_tags, **counts))
        probs = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self.register_buffer("log_prior", torch.empty(num_tags, **probs))
        self.register_buffer("log_start", torch.empty(num_tags, **probs))
        self.register_buffer("log_transitions", torch.empty(num_tags, num_tags, **probs))
        self._estimate()

    def _estimate(self) -> None:
        """Refresh the log probabilities from the counts."""
        for name, counts in (("log_prior", self.prior_counts), ("log_start", self.start_counts),
                             ("log_transitions", self.transition_counts)):
            target = getattr(self, name)
            target.copy_(_log_normalised(counts, self.smoothing, target.dtype))

    @torch.no_grad()
    def count(self, tags: Tensor, mask: Tensor | None = None) -> "HMMHybrid":
        """Add the tags of a batch of training sequences to the counts and re-estimate.
        tags: (T, B) integer in [0, K) where the mask is on; mask as CRF. Returns self."""
        checked = _inputs.tags(tags, None)
        on = _inputs.mask(mask, checked, self.batch_first, against="tags")
        tags = _inputs.tags_in_range(_inputs.time_major(checked, self.batch_first), on,
                                     self.num_tags).to(self.prior_counts.device)
        on = on.to(tags.device)
        K = self.num_tags
        self.prior_counts += torch.bincount(tags[on], minlength=K)
        self.start_counts += torch.bincount(tags[0], minlength=K)
        # a bigram (t-1, t) exists where step t does (the mask is a prefix)
        bigrams = (tags[:-1] * K + tags[1:])[on[1:]]
        self.transition_counts += torch.bincount(bigrams, minlength=K * K).view(K, K)
        self._estimate()
        return self

    def scaled_likelihoods(self, log_posteriors: Tensor, mask: Tensor | None = None) -> Tensor:
        """log p(y | x_t) - log p(y): (T, B, K) ((B, T, K) with batch_first), 0 where masked.
        log_posteriors: the network's log-softmax output, of the module's dtype and device."""
        scaled, on = self._scaled(log_posteriors, mask)
        return _inputs.time_major(torch.where(on.unsqueeze(2), scaled, 0), self.batch_first)

    @torch.no_grad()
    def decode(self, log_posteriors: Tensor, mask: Tensor | None = None) -> list[list[int]]:
        """The most likely tag sequence of each sequence under the HMM, as many tags as its
        unmasked steps."""
        scaled, on = self._scaled(log_posteriors, mask)
        return best_paths(viterbi(scaled, on, self.potentials())[1][:, :, 0], on)

    def potentials(self) -> Potentials:
        """What decoding adds to the scaled likelihoods: start log p(y_0), transitions
        log p(y_t | y_{t-1}), and no end score."""
        return Potentials(self.log_start, self.log_transitions, torch.zeros_like(self.log_start))

    def _scaled(self, log_posteriors, mask) -> tuple[Tensor, Tensor]:
        """Validated, time-major: scaled likelihoods (T, B, K) and mask (T, B)."""
        scores, _, on = _inputs.prepare("log_posteriors", log_posteriors, None, mask,
                                        num_tags=self.num_tags, like=self.log_prior,
                                        batch_first=self.batch_first)
        return scores - self.log_prior, on

    def extra_repr(self) -> str:
        return (f"num_tags={self.num_tags}, smoothing={self.smoothing}, "
                f"batch_first={self.batch_first}")

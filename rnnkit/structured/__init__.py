"""Structured prediction over tag sequences: a linear-chain CRF (likelihood, Viterbi, n-best,
marginals, tagging-scheme constraints), structured perceptron and SVM losses on its scores, and
the RNN-HMM hybrid decoder."""

from rnnkit.structured.constraints import FORBIDDEN, Constraints, allowed_transitions
from rnnkit.structured.crf import CRF
from rnnkit.structured.hmm_hybrid import HMMHybrid
from rnnkit.structured.perceptron import perceptron_loss
from rnnkit.structured.svm import svm_loss

__all__ = ["CRF", "Constraints", "allowed_transitions", "FORBIDDEN", "perceptron_loss",
           "svm_loss", "HMMHybrid"]

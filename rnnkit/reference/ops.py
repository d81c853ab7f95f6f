"""Elementwise activations with their derivatives, shared by every reference cell.

Each derivative is written in terms of the activation's *output* y = f(z), which is what a
forward step caches: tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' = [y > 0], identity' = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-z) through tanh: no overflow for large |z|.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


@dataclass(frozen=True)
class Activation:
    """y = forward(z); dz = backward(y, dy) = f'(z) * dy with f'(z) read off y."""

    forward: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray], np.ndarray]  # f'(z) as a function of y = f(z)

    def backward(self, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return dy * self.slope(y)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(np.tanh, lambda y: 1.0 - y * y),
    "sigmoid": Activation(sigmoid, lambda y: y * (1.0 - y)),
    "relu": Activation(relu, lambda y: (y > 0.0).astype(y.dtype)),
    "identity": Activation(lambda z: z, np.ones_like),
}
TANH, SIGMOID, IDENTITY = ACTIVATIONS["tanh"], ACTIVATIONS["sigmoid"], ACTIVATIONS["identity"]


def affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """x: (B, n) -> (B, m) = x W^T + b with W: (m, n), b: (m,) or None."""
    return x @ weight.T if bias is None else x @ weight.T + bias

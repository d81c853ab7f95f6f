"""Central finite differences in float64 against the hand-derived backward of a reference layer.

The loss is a fixed random linear functional of everything a layer returns,
    L = sum(G_out * output) + sum_j sum(G_j * final_j),
so its gradient is exactly what `backward(cache, G_out, G_final)` computes; each entry of the
input, of every initial-state array and of every parameter is then perturbed by +-eps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def leaves(tree) -> list[np.ndarray]:
    """The arrays of a state tree (nested tuples / lists of arrays), depth first."""
    if isinstance(tree, np.ndarray):
        return [tree]
    return [leaf for part in tree for leaf in leaves(part)]


def like(tree, make: Callable[[np.ndarray], np.ndarray]):
    """A tree of the same structure with `make(leaf)` at each leaf."""
    if isinstance(tree, np.ndarray):
        return make(tree)
    return type(tree)(like(part, make) for part in tree)


def numerical_gradient(loss: Callable[[], float], array: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """d loss / d array by central differences (error O(eps^2)), perturbing `array` in place
    and restoring it; `loss` must read `array`."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        kept = array[index]
        array[index] = kept + eps
        plus = loss()
        array[index] = kept - eps
        minus = loss()
        array[index] = kept
        grad[index] = (plus - minus) / (2.0 * eps)
    return grad


def gradients(layer, x: np.ndarray, state, lengths=None, seed: int = 0,
              eps: float = 1e-6) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """-> {name: (analytic, numerical)} for "x", "state[j]" (each leaf of the state tree) and
    every parameter of `layer`. x: (T, B, I); state: the layer's state tree (not None: its
    gradient is checked too); lengths: (B,) or None."""
    rng = np.random.default_rng(seed)
    output, final, cache = layer.forward(x, state, lengths)
    g_out = rng.standard_normal(output.shape)
    g_final = like(final, lambda a: rng.standard_normal(a.shape))

    def loss() -> float:
        out, fin, _ = layer.forward(x, state, lengths)
        return float(np.sum(g_out * out)
                     + sum(np.sum(g * f) for g, f in zip(leaves(g_final), leaves(fin))))

    dx, d_state, d_params = layer.backward(cache, g_out, g_final)
    result = {"x": (dx, numerical_gradient(loss, x, eps))}
    for j, (d, s) in enumerate(zip(leaves(d_state), leaves(state), strict=True)):
        result[f"state[{j}]"] = (d, numerical_gradient(loss, s, eps))
    for name, p in layer.params.items():
        result[name] = (d_params[name], numerical_gradient(loss, p, eps))
    return result


def tree_gradients(net, tree, x: np.ndarray, seed: int = 0,
                   eps: float = 1e-6) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """As `gradients`, for a `reference.tree.TreeNet` on one tree: L = sum(G * h) over every
    node's h; -> {name: (analytic, numerical)} for "x" (the leaves' inputs) and every
    parameter."""
    h, cache = net.forward(tree, x)
    g = np.random.default_rng(seed).standard_normal(h.shape)

    def loss() -> float:
        return float(np.sum(g * net.forward(tree, x)[0]))

    dx, d_params = net.backward(cache, g)
    result = {"x": (dx, numerical_gradient(loss, x, eps))}
    for name, p in net.params.items():
        result[name] = (d_params[name], numerical_gradient(loss, p, eps))
    return result


def assert_gradients_close(result: dict, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Every analytic gradient equals its numerical estimate (the name in the message)."""
    for name, (analytic, numerical) in result.items():
        np.testing.assert_allclose(analytic, numerical, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")

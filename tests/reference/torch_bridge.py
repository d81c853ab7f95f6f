"""Moving data between the reference (NumPy trees) and torch, and the random linear functional
whose gradients both sides compare (a distinct module name: tests/ folders have no __init__)."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.reference.gradcheck import leaves, like


def to_torch(tree, requires_grad: bool = True):
    """A NumPy tree (array / tuple / list) -> the same tree of float64 leaf tensors."""
    return like(tree, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


def tensor_leaves(tree) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    return [leaf for part in tree for leaf in tensor_leaves(part)]


def upstream(output: np.ndarray, final, seed: int = 5):
    """Random upstream gradients (G_out, G_final) shaped like a layer's results."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(output.shape), like(final, lambda a: rng.standard_normal(a.shape))


def torch_gradients(output, final, g_out, g_final, inputs: list[torch.Tensor]) -> list:
    """Autograd of L = <G_out, output> + sum_j <G_j, final_j> w.r.t. `inputs`, as NumPy; a
    parameter L does not depend on gets zeros."""
    loss = (output * torch.from_numpy(g_out)).sum()
    for f, g in zip(tensor_leaves(final), leaves(g_final)):
        loss = loss + (f * torch.from_numpy(g)).sum()
    grads = torch.autograd.grad(loss, inputs, allow_unused=True, materialize_grads=True)
    return [g.numpy() for g in grads]


def assert_close(actual, expected, name: str, tol: float = 1e-10) -> None:
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, err_msg=name)

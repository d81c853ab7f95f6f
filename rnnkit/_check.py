"""Validation for public entry points: every error names the argument, what was expected and
what came. Private helpers after these checks assume valid input."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


class TensorError(ValueError, RuntimeError):
    """A tensor argument of the wrong shape, device or dtype. A ValueError, since the argument's
    value is wrong, and also a RuntimeError, which is what torch raises for most of the same
    mistakes: code written `except RuntimeError` around torch.nn.LSTM keeps working."""


class ShapeError(TensorError):
    """A tensor of the wrong rank, size or shape (torch: RuntimeError, or ValueError for rank)."""


class DeviceError(TensorError):
    """A tensor on another device than the parameters (torch: RuntimeError)."""


class DtypeError(TypeError, TensorError):
    """A tensor of another dtype than the parameters (torch: ValueError for the input,
    RuntimeError for the state); a TypeError too, as rnnkit raised before."""


def describe(value) -> str:
    """A short description of a value for an error message."""
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype} on {value.device}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value[:4])
        more = ", ..." if len(value) > 4 else ""
        return f"a {type(value).__name__} of {len(value)} ({inner}{more})"
    return f"{type(value).__name__} {value!r}"


def one_of(name: str, value, allowed: Sequence):
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {describe(value)}")
    low = 0 if allow_zero else 1
    if value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {value}")
    return value


def probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a float in [0, 1], got {describe(value)}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {value}")
    return float(value)


def optional_float(name: str, value) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise TypeError(f"{name}: expected a float or None, got {describe(value)}")
    return value


def tensor_like_params(name: str, value, like: Tensor, *, ndim: int | None = None,
                       shape: tuple | None = None, last: int | None = None,
                       last_name: str = "") -> Tensor:
    """Check that `value` is a tensor of the parameters' dtype and device, with the given rank,
    full shape, or last dimension."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {describe(value)}")
    if ndim is not None and value.dim() != ndim:
        raise ShapeError(f"{name}: expected {ndim} dimensions, got shape {tuple(value.shape)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ShapeError(f"{name}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    if last is not None and value.shape[-1] != last:
        raise ShapeError(f"{name}: expected last dimension {last} ({last_name}), "
                         f"got shape {tuple(value.shape)}")
    if value.dtype != like.dtype:
        raise DtypeError(f"{name}: expected dtype {like.dtype} (the parameters' dtype), "
                         f"got {value.dtype}")
    if value.device != like.device:
        raise DeviceError(f"{name}: expected a tensor on {like.device} (the parameters' "
                          f"device), got one on {value.device}")
    return value


def lengths(value, batch_size: int, max_len: int) -> Tensor:
    """`lengths` as a 1-D int64 CPU tensor of `batch_size` values in [1, max_len]."""
    if isinstance(value, (list, tuple)):
        value = torch.as_tensor(value)
    if not isinstance(value, Tensor):
        raise TypeError(f"lengths: expected a 1-D integer tensor or a list of ints, "
                        f"got {describe(value)}")
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
        raise TypeError(f"lengths: expected an integer tensor, got dtype {value.dtype}")
    if value.dim() != 1 or value.shape[0] != batch_size:
        raise ShapeError(f"lengths: expected shape ({batch_size},) to match the batch, "
                         f"got {tuple(value.shape)}")
    value = value.detach().to("cpu", torch.int64)
    if batch_size and (value.min() < 1 or value.max() > max_len):
        raise ValueError(f"lengths: expected values in [1, {max_len}] (the time dimension), "
                         f"got min {int(value.min())} and max {int(value.max())}")
    return value


def token_ids(name: str, value, vocab_size: int, *, ndim: int) -> Tensor:
    """An integer tensor of `ndim` dimensions, every entry a token id in [0, vocab_size)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected an integer tensor of token ids, got {describe(value)}")
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
        raise TypeError(f"{name}: expected an integer tensor of token ids, got dtype {value.dtype}")
    if value.dim() != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(value.shape)}")
    if value.numel() and (value.min() < 0 or value.max() >= vocab_size):
        raise ValueError(f"{name}: expected token ids in [0, {vocab_size}) (the vocabulary), "
                         f"got min {int(value.min())} and max {int(value.max())}")
    return value

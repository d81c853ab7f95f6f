"""Tiny configs that train in a fraction of a second, for the training tests."""

from __future__ import annotations

import copy

import torch

from rnnkit.training.config import from_dict
from rnnkit.training.metrics import read

TINY = {
    "adding": {"task": "adding", "model": {"hidden_size": 8},
               "data": {"length": 6, "train_size": 64, "valid_size": 32, "test_size": 32}},
    "stream": {"task": "stream", "model": {"cell": "gru", "hidden_size": 8, "embedding_size": 4},
               "data": {"vocab_size": 6, "train_tokens": 400, "valid_tokens": 100,
                        "test_tokens": 100},
               "train": {"k1": 5, "k2": 8}},
    # batches of whole streams, cut into windows by train.tbptt
    "stack_lm": {"task": "stack_lm",
                 "model": {"cell": "stack", "hidden_size": 6, "stacks": 2, "stack_depth": 12,
                           "embedding_size": 3},
                 "data": {"train_size": 8, "sequences": 3, "train_max_n": 4, "test_max_n": 5,
                          "eval_sequences": 2},
                 "train": {"tbptt": True, "k1": 4, "k2": 7, "batch_size": 4}},
    # needs data={"path": ...}
    "language_model": {"task": "language_model",
                       "model": {"hidden_size": 8, "embedding_size": 4}, "train": {"k1": 5}},
}


def tiny(folder, task: str = "adding", **sections):
    """The tiny config of `task` in run folder `folder`, with sections updated key by key:
    tiny(path, train={"epochs": 3})."""
    raw = copy.deepcopy(TINY[task])
    raw.setdefault("train", {}).update({"epochs": 2, "batch_size": 16, "threads": 1,
                                        "device": "cpu"})
    raw["run"] = {"folder": str(folder), "plots": False}
    raw["quiet"] = True
    for name, values in sections.items():
        if isinstance(values, dict):
            raw.setdefault(name, {}).update(values)
        else:
            raw[name] = values
    return from_dict(raw)


def parameters(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def metrics(folder) -> list[dict]:
    return read(folder / "metrics.jsonl")

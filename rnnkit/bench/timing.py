"""Timing two modules against each other fairly: same process, same inputs, interleaved runs
after warm-up, medians; and peak memory from the profiler's allocation events."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import nn


def training_step(module: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """Forward + backward of a sum of the outputs, gradients cleared each time."""
    def run():
        module.zero_grad(set_to_none=True)
        out, _ = module(x)
        out.sum().backward()
    return run


def inference_step(module: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def run():
        with torch.no_grad():
            module(x)
    return run


def interleaved_medians(ours: Callable[[], None], native: Callable[[], None], *,
                        warmup: int, repeats: int) -> tuple[float, float]:
    """Median seconds of each, alternating which runs first so that drifts in the machine's
    speed (frequency, other processes) fall on both alike."""
    for _ in range(warmup):
        ours()
        native()
    times = {ours: [], native: []}
    for r in range(repeats):
        for fn in ((ours, native) if r % 2 == 0 else (native, ours)):
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[ours]), statistics.median(times[native])


def compare(ours: Callable[[], None], native: Callable[[], None], *, warmup: int,
            repeats: int) -> dict:
    """interleaved_medians as a record: {"rnnkit_ms", "native_ms", "ratio"}, ratio = ours /
    native (below 1: ours is faster)."""
    mine, theirs = interleaved_medians(ours, native, warmup=warmup, repeats=repeats)
    return {"rnnkit_ms": mine * 1e3, "native_ms": theirs * 1e3, "ratio": mine / theirs}


def peak_memory_bytes(fn: Callable[[], None]) -> int:
    """The highest amount of CPU memory allocated at once during fn() beyond what was allocated
    before it, from the allocation and free events the PyTorch profiler records."""
    from torch.profiler import ProfilerActivity, profile
    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak


@contextlib.contextmanager
def _quiet_stderr():
    """The profiler's C++ side prints start/stop lines and allocator warnings straight to file
    descriptor 2; they would break up the table."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

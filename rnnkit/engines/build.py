"""Building and caching the fused engine's C++ extension (`csrc/`).

Where: $RNNKIT_CACHE, default ~/.cache/rnnkit. One build lives in `fused/<key>/`, the key a hash
of what decides the binary: the sources' bytes, the compiler flags (AVX2 where the CPU has it),
torch's and Python's versions and the machine; not the path of the checkout or of the virtual
environment, so another clone or venv with the same torch reuses it. `rnnkit build --clean` (or
removing the folder) clears it.

How: each build compiles in a private folder (`fused/.build-<random>/`) that is renamed to its
key when complete. A rename is atomic, so a build killed at any moment leaves only its private
folder (swept by a later build once a day old), never a lock that makes the next one wait; and
processes that build at once do not wait for each other: the first to finish is kept. A build
says so on stderr at once, with the folder, and then every 30 s how long it has taken.
`rnnkit build` builds ahead of time (the README's first command runs it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import torch

CSRC = pathlib.Path(__file__).parent / "csrc"
SOURCES = ["bindings.cpp", "elman.cpp", "gru.cpp", "mut.cpp", "jordan.cpp", "lstm.cpp",
           "stack.cpp", "tree_lstm.cpp"]
STALE_SECONDS = 24 * 3600  # a private build folder this old is an interrupted build's
TICK_SECONDS = 30.0


def _simd_flags() -> list[str]:
    """AVX2 and FMA where this CPU has them: the kernels' fast_exp loops then run 8 floats at a
    time. (-march=native would tie a cached build to one CPU model.)"""
    try:
        cpu_flags = pathlib.Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return []
    return ["-mavx2", "-mfma"] if {"avx2", "fma"} <= set(cpu_flags) else []


def flags() -> list[str]:
    # -fno-trapping-math: lets the compiler vectorize the clamps in fast_exp; nothing here
    # relies on floating-point traps.
    return ["-O3", "-fno-trapping-math", *_simd_flags()]


def module_name() -> str:
    """The Python module's name; it carries the SIMD flags."""
    return "rnnkit_fused" + ("_avx2" if _simd_flags() else "")


def cache_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get("RNNKIT_CACHE") or pathlib.Path.home() / ".cache" / "rnnkit")


def key() -> str:
    digest = hashlib.sha256()
    for source in sorted(CSRC.iterdir()):
        if source.suffix in (".cpp", ".h"):
            digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    for part in (" ".join(flags()), torch.__version__, sys.version, platform.machine()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def build_folder() -> pathlib.Path:
    """Where this configuration's build lives (it may not exist yet)."""
    return cache_root() / "fused" / key()


def library() -> pathlib.Path:
    return build_folder() / f"{module_name()}.so"


def is_built() -> bool:
    return library().exists()


def _report(message: str) -> None:
    print(f"rnnkit: {message}", file=sys.stderr, flush=True)


def load(report: Callable[[str], None] = _report):
    """The compiled extension module: loaded from the cache, or built into it first."""
    if is_built():
        return _import(library())
    return _build(build_folder(), report)


def _import(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(module_name(), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(folder: pathlib.Path, report: Callable[[str], None]):
    from torch.utils import cpp_extension

    folder.parent.mkdir(parents=True, exist_ok=True)
    _sweep(folder.parent)
    private = pathlib.Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    report(f"building the fused C++ kernels, once for this torch and compiler (a few minutes "
           f"on 2 cores; `rnnkit build` does it ahead of time), into {folder}")
    start = time.monotonic()
    done = threading.Event()

    def tick():
        while not done.wait(TICK_SECONDS):
            report(f"still building the fused C++ kernels ({time.monotonic() - start:.0f} s)")

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        module = cpp_extension.load(name=module_name(), sources=[str(CSRC / s) for s in SOURCES],
                                    extra_cflags=flags(), build_directory=str(private),
                                    verbose=False)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    finally:
        done.set()
        ticker.join()
    try:
        os.rename(private, folder)
    except OSError:  # another process finished first: its build is the same, keep it
        shutil.rmtree(private, ignore_errors=True)
    report(f"built the fused C++ kernels in {time.monotonic() - start:.0f} s")
    return module


def _sweep(parent: pathlib.Path) -> None:
    """Remove the private folders of builds that were interrupted (a day old or more)."""
    now = time.time()
    for stale in parent.glob(".build-*"):
        try:
            if now - stale.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass


def clean() -> pathlib.Path:
    """Remove every cached build (of every torch and configuration); returns the folder."""
    folder = cache_root() / "fused"
    shutil.rmtree(folder, ignore_errors=True)
    return folder

"""How the fused extension is built and cached (engines/build.py), with the compiler replaced by
a stub that records its build folder: the cache key ignores where the checkout lies; a build
that was killed (its private folder and torch's lock left behind) never blocks the next one;
two processes building at once both succeed and one build is kept; a first use says at once
that it builds, where, and how long it took; a cached build is loaded without a compiler."""

import os
import shutil
import time

import pytest
from torch.utils import cpp_extension

from rnnkit.cli.main import main
from rnnkit.engines import build


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def compiler(monkeypatch):
    """A stub for torch's builder: writes the library into the folder it is given."""
    calls = []

    def load(name, sources, extra_cflags, build_directory, verbose):
        calls.append(build_directory)
        assert os.listdir(build_directory) == [] or "lock" not in os.listdir(build_directory)
        with open(os.path.join(build_directory, f"{name}.so"), "w") as library:
            library.write("compiled")
        return f"module from {build_directory}"

    monkeypatch.setattr(cpp_extension, "load", load)
    monkeypatch.setattr(build, "_import", lambda path: f"module loaded from {path}")
    return calls


def test_the_key_depends_on_the_sources_not_on_where_they_lie(tmp_path, monkeypatch):
    here = build.key()
    elsewhere = tmp_path / "another" / "checkout" / "csrc"
    shutil.copytree(build.CSRC, elsewhere)
    monkeypatch.setattr(build, "CSRC", elsewhere)
    assert build.key() == here
    (elsewhere / "lstm.cpp").write_text((elsewhere / "lstm.cpp").read_text() + "\n// changed\n")
    assert build.key() != here


def test_a_first_use_builds_once_says_so_and_later_uses_load_the_cache(cache, compiler, capsys):
    module = build.load()
    assert len(compiler) == 1 and module.startswith("module from")
    err = capsys.readouterr().err
    assert "rnnkit: building the fused C++ kernels" in err and str(build.build_folder()) in err
    assert "rnnkit: built the fused C++ kernels in" in err
    assert build.is_built() and build.library().read_text() == "compiled"
    assert [p.name for p in build.build_folder().parent.iterdir()] == [build.key()]  # no leftovers
    assert build.load() == f"module loaded from {build.library()}"
    assert len(compiler) == 1


def test_a_killed_build_never_blocks_the_next(cache, compiler):
    parent = cache / "fused"
    killed = parent / ".build-killed"
    killed.mkdir(parents=True)
    (killed / "lock").write_text("")  # what torch's builder leaves when killed mid-build
    old = parent / ".build-long-ago"
    old.mkdir()
    long_ago = time.time() - 2 * build.STALE_SECONDS
    os.utime(old, (long_ago, long_ago))
    start = time.monotonic()
    build.load(report=lambda message: None)
    assert time.monotonic() - start < 5
    assert build.is_built()
    assert killed.exists()  # a recent one may be a build running in another process
    assert not old.exists()  # a day-old one is an interrupted build's: swept


def test_two_processes_building_at_once_both_succeed(cache, compiler, monkeypatch):
    """Process A finishes its build while B is still compiling; B's rename then fails, and B
    keeps A's build and removes its own private folder."""
    real_load = cpp_extension.load

    def slower(**kwargs):
        result = real_load(**kwargs)
        shutil.copytree(kwargs["build_directory"], build.build_folder())  # A finished first
        (build.library()).write_text("A's build")
        return result

    monkeypatch.setattr(cpp_extension, "load", slower)
    module = build.load(report=lambda message: None)
    assert module.startswith("module from")
    assert build.library().read_text() == "A's build"
    assert [p.name for p in build.build_folder().parent.iterdir()] == [build.key()]


def test_a_failed_build_leaves_nothing_behind(cache, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("error: expected ';'")

    monkeypatch.setattr(cpp_extension, "load", broken)
    with pytest.raises(RuntimeError, match="expected ';'"):
        build.load(report=lambda message: None)
    assert list((cache / "fused").iterdir()) == []


def test_the_ticker_reports_elapsed_time(cache, compiler, monkeypatch):
    monkeypatch.setattr(build, "TICK_SECONDS", 0.05)
    real_load = cpp_extension.load

    def slow(**kwargs):
        time.sleep(0.3)
        return real_load(**kwargs)

    monkeypatch.setattr(cpp_extension, "load", slow)
    messages = []
    build.load(report=messages.append)
    assert any(m.startswith("still building the fused C++ kernels (") for m in messages)


def test_rnnkit_build_command(cache, compiler, capsys):
    assert main(["build"]) == 0
    assert f"the fused C++ kernels are built: {build.library()}" in capsys.readouterr().out
    assert main(["build", "--clean"]) == 0
    out = capsys.readouterr().out
    assert "removed the cached builds" in out and "are built" in out
    assert len(compiler) == 2


def test_rnnkit_build_without_a_compiler_says_so(cache, monkeypatch, capsys):
    from rnnkit.engines import fused
    monkeypatch.setattr(fused, "missing_toolchain", lambda: "no C++ compiler (c++ or g++) on PATH")
    assert main(["build"]) == 0
    assert "cannot build the fused C++ kernels here (no C++ compiler" in capsys.readouterr().out

"""`rnnkit build`: compile the fused engine's C++ kernels now, into rnnkit's cache
(~/.cache/rnnkit, or $RNNKIT_CACHE), so that no first use of a cell waits for the compiler.

Every other configuration of the same torch, Python and CPU flags then loads the build, from
any checkout or virtual environment. Without a C++ compiler rnnkit still runs every cell, on
the plain loop (slower); this command then says so and exits with 0.
"""

from __future__ import annotations

import argparse

from rnnkit.errors import BuildError


def add_parser(commands) -> None:
    parser = commands.add_parser("build", help="compile the fused C++ kernels ahead of first use",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", action="store_true",
                        help="remove every cached build first (then build anew)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from rnnkit.engines import build, fused

    if args.clean:
        print(f"rnnkit: removed the cached builds in {build.clean()}")
    if not build.is_built():
        missing = fused.missing_toolchain()
        if missing is not None:
            print(f"rnnkit: cannot build the fused C++ kernels here ({missing}); every cell "
                  f"still runs, on the plain loop")
            return 0
        try:
            build.load()
        except Exception as error:
            raise BuildError(f"building the fused C++ kernels failed in "
                             f"{build.build_folder().parent}: {error}") from None
    print(f"rnnkit: the fused C++ kernels are built: {build.library()}")
    return 0

import os
from pathlib import Path

import pytest

# The real data sets live beside the repository, in the shared folder (../shared/data), unless
# RNNKIT_DATA names another place.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real data sets; tests that take it skip when it is absent."""
    root = Path(os.environ.get("RNNKIT_DATA", DEFAULT_DATA))
    if not root.is_dir():
        pytest.skip(f"the real data sets are not at {root} (set RNNKIT_DATA to their folder)")
    return root

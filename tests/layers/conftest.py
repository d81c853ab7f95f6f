import pytest

from rnnkit import engines


@pytest.fixture(autouse=True, params=["auto", "loop"], ids=lambda e: f"engine={e}")
def engine(request):
    """Every layer test runs on the default engine choice (PyTorch's kernels where they apply)
    and on the plain loop, so that both are held to the same results."""
    with engines.use(request.param):
        yield request.param

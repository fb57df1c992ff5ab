import pytest

from houfu.kb.loader import load_default


@pytest.fixture(scope="session")
def kb():
    return load_default()

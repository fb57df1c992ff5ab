import pytest

from houfu.kb.loader import load_default


@pytest.fixture(scope="session")
def kb():
    return load_default()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium (``make test`` installs it); the tests that use it count as run against a
    real browser in the suite's last lines (conftest.py at the root)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is not installed: run the tests through `make test`, which installs it " \
                 "(apt-get install chromium chromium-driver fonts-noto-cjk)"
    return path

"""Package-test fixtures: the wheel and sdist built once from a clean copy, the fresh venvs
they install into, and Debian's Chromium launched as the browser tests launch it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.package import installs


def required_tool_missing(reason: str) -> None:
    """Skip, or fail under CI=true: the project's rule for tools a test needs."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> installs.Dists:
    """jobdeck's sdist and the wheel ``python -m build`` made from it, from a clean copy."""
    source = installs.clean_copy(tmp_path_factory.mktemp("clean-copy"))
    return installs.build_dists(source, tmp_path_factory.mktemp("dist"))


# Package scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is started, and tests after this package call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        required_tool_missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    launched = driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()
        driver.stop()

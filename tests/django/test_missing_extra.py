"""Without Django, importing the Django contrib fails in one line naming the extra."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(importlib.util.find_spec("django") is not None, reason="Django is installed")
def test_the_django_contrib_names_its_extra_when_django_is_absent() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import jobdeck.contrib.django"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "pip install 'jobdeck[django]'" in done.stderr.splitlines()[-1]

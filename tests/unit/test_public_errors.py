"""Every exception a user can catch is importable from a public module, not only from where
it happens to be defined."""

from __future__ import annotations

import importlib
import pkgutil

import jobdeck
import jobdeck.contrib.documents
from jobdeck.errors import JobDeckError

# Raised and turned into a page or an HTTP response inside jobdeck; user code never sees them.
INTERNAL = {"BadParameter", "LoginRefused"}
# Django needs 3.12+, the demo its extras; __main__ runs the program when imported.
SKIPPED_PACKAGES = ("jobdeck.contrib.django", "jobdeck.demo", "jobdeck.__main__")


def all_jobdeck_errors() -> set[type[BaseException]]:
    for module in pkgutil.walk_packages(jobdeck.__path__, "jobdeck."):
        if not module.name.startswith(SKIPPED_PACKAGES):
            importlib.import_module(module.name)
    found: set[type[BaseException]] = set()
    pending: list[type[BaseException]] = [JobDeckError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return {c for c in found if c.__module__.startswith("jobdeck.")}


def test_every_catchable_error_is_exported() -> None:
    public = {
        getattr(module, name)
        for module in (jobdeck, jobdeck.contrib.documents)
        for name in module.__all__
    }
    missing = sorted(
        f"{cls.__module__}.{cls.__name__}"
        for cls in all_jobdeck_errors()
        if cls not in public and cls.__name__ not in INTERNAL
    )
    assert missing == []

"""Error fingerprints: which failures are "the same error", so the Failures view can count
groups instead of jobs.

A fingerprint is the exception type, its message with the parts that change from job to job
(numbers, ids, uuids, hex, emails, paths, quoted values) written as placeholders, and the innermost
frame of the task's own code: not jobdeck's, not the standard library's, not an installed
package's, so a ``KeyError`` raised deep in a library groups by the application line that
called it. Line numbers are left out: a deploy that moves a line must not start a new group.

It reads the text the worker already stores (the error line and the formatted traceback), so a
child process's failure, which arrives as text, groups exactly as a thread's does. The cost is
a few regular expressions over at most the stored traceback: tens of microseconds a failure.
"""

from __future__ import annotations

import os
import re
import sysconfig
from dataclasses import dataclass

from jobdeck.digests import sha1_hex

# How much of a message is normalised and kept as the group's title.
TITLE_CHARS = 300

# Order matters: a quoted value may hold a path or a number, a uuid holds hex and digits.
_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), "<str>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"), "<email>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-]+){2,}[\\/]?"), "<path>"),
    # A long run of hex with at least one digit: a hash, a token, an object id.
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b"), "<hex>"),
    # Any other token holding a digit: 42, 3.5, -7, user_42, v2, 2026-03-02T12:00.
    (re.compile(r"[\w.:+\-]*\d[\w.:+\-]*"), "<n>"),
)
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+, in (?P<function>.+)$', re.MULTILINE)


@dataclass(frozen=True)
class ErrorGroupKey:
    """What a failure groups by, and the readable parts of it the Failures view shows."""

    fingerprint: str  # 16 hex digits
    exception: str  # the exception type's name, "ValueError"
    title: str  # the normalised message, "no user <n> in <str>"
    frame: str  # "billing/invoices.py in send_invoice", or "" when no frame is the task's


def normalise_message(message: str) -> str:
    """``message`` with what varies between jobs replaced by placeholders.

    Example: ``normalise_message("user 42 not found in '/tmp/a.db'")`` is
    ``"user <n> not found in <str>"``.
    """
    text = message[:TITLE_CHARS]
    for pattern, placeholder in _NORMALISERS:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())


def fingerprint(error: str, traceback: str | None) -> ErrorGroupKey:
    """The group of a failure from its stored error line (``"Type: message"``) and traceback."""
    exception, _, message = error.partition(": ")
    if " " in exception.strip() or not exception.strip():
        exception, message = "Error", error  # a line that names no type
    exception = exception.strip()
    title = normalise_message(message)
    frame = own_frame(traceback) if traceback else ""
    digest = sha1_hex(f"{exception}\n{title}\n{frame}".encode())
    return ErrorGroupKey(digest[:16], exception, title, frame)


def own_frame(traceback: str) -> str:
    """The innermost frame of the traceback's last exception that is the application's, as
    "<folder>/<file> in <function>"; the innermost frame outside jobdeck and the standard
    library when every frame is an installed package's; "" when none is either."""
    outside_library = ""
    for match in reversed(list(_FRAME.finditer(traceback))):
        path, function = match["file"], match["function"].strip()
        if _is_jobdeck(path) or _is_stdlib(path):
            continue
        where = f"{_short_path(path)} in {function}"
        if not _is_installed_package(path):
            return where
        outside_library = outside_library or where
    return outside_library


def _short_path(path: str) -> str:
    # The last two parts: the same code on two hosts (or two virtualenvs) lives under
    # different prefixes, and must group together.
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:])


_JOBDECK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_PATHS = sysconfig.get_paths()
_STDLIB_DIRS = tuple(
    {os.path.abspath(p) + os.sep for p in (_PATHS.get("stdlib"), _PATHS.get("platstdlib")) if p}
)


def _is_jobdeck(path: str) -> bool:
    # This copy of jobdeck, or another host's installed one (the child process's text may
    # come from a different prefix).
    return path.startswith(_JOBDECK_DIR) or "-packages/jobdeck/" in path.replace("\\", "/")


def _is_stdlib(path: str) -> bool:
    if path.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return True
    return path.startswith(_STDLIB_DIRS) and not _is_installed_package(path)


def _is_installed_package(path: str) -> bool:
    return "site-packages" in path or "dist-packages" in path

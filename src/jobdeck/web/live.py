"""Live fragments: a part of a page that polls itself, and is only swapped when it changed.

A live fragment's template sits between ``<!--live-->`` and ``<!--/live-->`` and writes
``__live_version__`` where its version goes (``data-live-version`` and ``hx-vals='{"seen":
"__live_version__"}'``, so that its next poll sends the version back). `live` puts a digest of
the fragment there; when a poll's ``seen`` is that digest already, the answer is 204 No
Content, which htmx does not swap: an unchanged view is not touched in the browser at all, so
nothing flickers and the reader's selection, focus, scroll and open rows stay as they were.

The digest is of the fragment alone, so the fragment inside a whole page (the drawer opened by
``jobs?job=12``) and the same fragment polled alone carry the same version.
"""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response

LIVE_VERSION = "__live_version__"
_PLACEHOLDER = LIVE_VERSION.encode()
_START, _END = b"<!--live-->", b"<!--/live-->"


def live(request: Request, response: Response) -> Response:
    """``response`` with its fragments' versions filled in, or 204 when the poll that asked
    for this one fragment already shows it."""
    body = bytes(response.body)
    if response.status_code != 200 or _PLACEHOLDER not in body:
        return response
    parts, versions = _versioned(body)
    if request.query_params.get("seen") in versions and len(versions) == 1:
        return Response(status_code=204)
    # Each digest is as long as the placeholder: the body keeps its Content-Length.
    response.body = b"".join(parts)
    return response


def _versioned(body: bytes) -> tuple[list[bytes], list[str]]:
    """The body cut at the fragments' markers, each fragment's placeholder replaced by its
    digest; and those digests."""
    parts: list[bytes] = []
    versions: list[str] = []
    rest = body
    while _START in rest and _END in rest.split(_START, 1)[1]:
        before, after = rest.split(_START, 1)
        fragment, rest = after.split(_END, 1)
        version = _digest(fragment)
        versions.append(version)
        parts += [before, _START, fragment.replace(_PLACEHOLDER, version.encode()), _END]
    if not versions:  # a fragment without markers: the whole answer is it
        version = _digest(rest)
        return [rest.replace(_PLACEHOLDER, version.encode())], [version]
    return [*parts, rest], versions


def _digest(fragment: bytes) -> str:
    return hashlib.sha256(fragment).hexdigest()[: len(_PLACEHOLDER)]

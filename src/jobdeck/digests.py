"""SHA-1 digests for names and group ids (not for security), without loading OpenSSL.

``hashlib`` imports its OpenSSL module first, and with it libcrypto: 3.4 MB of resident pages
in every worker that only ever needs a short stable id (issue 20). CPython's own SHA-1, the one
hashlib falls back to, gives the same digest.
"""

from __future__ import annotations

try:
    from _sha1 import sha1  # type: ignore[import-not-found]
except ImportError:  # an interpreter built without it
    from hashlib import sha1


def sha1_hex(data: bytes) -> str:
    """The SHA-1 of ``data`` in hex, as ``hashlib.sha1(data).hexdigest()``."""
    return str(sha1(data, usedforsecurity=False).hexdigest())

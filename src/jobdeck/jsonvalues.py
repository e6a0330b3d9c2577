"""JSON encoding of job arguments, labels and results, with errors that name the bad value."""

from __future__ import annotations

import json
from typing import Any

from jobdeck.errors import SerializationError

_SCALARS = (str, int, float, bool, type(None))


def dumps_checked(value: object, what: str) -> str:
    """Encode ``value`` as compact JSON or raise naming the path of the first bad value.

    >>> dumps_checked({"to": "a@x"}, "args")
    '{"to":"a@x"}'
    """
    problem = _find_unserialisable(value, what)
    if problem:
        raise SerializationError(problem)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or infinity
        raise SerializationError(f"{what}: {exc}") from None


def loads(text: str | bytes | None) -> Any:
    if text is None:
        return None
    return json.loads(text)


def _find_unserialisable(value: object, path: str) -> str | None:
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: key {key!r} is a {type(key).__name__}; JSON keys must be strings"
            found = _find_unserialisable(item, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_unserialisable(item, f"{path}[{index}]")
            if found:
                return found
        return None
    return f"{path}: {type(value).__name__} is not JSON serialisable"

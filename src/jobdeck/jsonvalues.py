"""JSON in and out for job arguments, labels and results: encoding that names the bad value,
decoding that survives any depth, and short previews for people; nothing here recurses in
Python on the value's depth, so no value can raise RecursionError."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from jobdeck.errors import InvalidPayload, SerializationError

_SCALARS = (str, int, float, bool, type(None))
_CONTAINERS = (dict, list, tuple)

# No value deeper than this is written or decoded, whatever the settings say: pydantic stops
# serialising at 255 levels and json at the recursion limit (less the caller's own stack).
DEPTH_CEILING = 100
# What a container nested deeper than the ceiling decodes to (rows written before the limits).
DEEPER_NOT_DECODED = f"… nested deeper than {DEPTH_CEILING} levels: not decoded"


@dataclass(frozen=True)
class JsonLimits:
    """What one encoding may hold; the ``*_rule`` texts are how errors name each limit."""

    max_depth: int = DEPTH_CEILING
    max_bytes: int | None = None
    depth_rule: str = f"jobdeck's ceiling of {DEPTH_CEILING}"
    bytes_rule: str = ""


CEILING_ONLY = JsonLimits()


def dumps_checked(value: object, what: str, limits: JsonLimits = CEILING_ONLY) -> str:
    """Encode ``value`` as compact JSON, or raise naming the path of the first bad value.

    SerializationError for what JSON cannot hold (a set, NaN, a non-text key); InvalidPayload
    for what is past ``limits`` or what no store can hold (a NUL character, a lone surrogate).

    >>> dumps_checked({"to": "a@x"}, "args")
    '{"to":"a@x"}'
    """
    budget = limits.max_bytes if limits.max_bytes is not None else _NO_BUDGET
    verdict = _scan(value, limits.max_depth, budget)
    if verdict is _TOO_BIG:
        raise InvalidPayload(
            f"{what}: more than {budget} bytes as JSON; {_rule(limits.bytes_rule)}"
        )
    if verdict is not _PLAIN:
        raise _explained(value, what, limits)
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or infinity, an integer of more than 4300 digits
        raise SerializationError(f"{what}: {exc}") from None
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise _unstorable(value, what) from None
    # json escapes NUL as \u0000; only an odd run of backslashes before it is that escape.
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise _unstorable(value, what)
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise InvalidPayload(f"{what}: {size} bytes as JSON; {_rule(limits.bytes_rule)}")
    return text


def check_text(text: str, what: str) -> None:
    """Refuse a NUL character or a lone surrogate in ``text``: no store can hold either."""
    problem = _text_problem(text)
    if problem:
        raise InvalidPayload(f"{what}: {problem}")


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error message, cut so that a huge value never fills one."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# -- decoding ------------------------------------------------------------------------------------


def loads(text: str | bytes | None, max_depth: int = DEPTH_CEILING) -> Any:
    """Decode JSON; containers nested deeper than ``max_depth`` become ``DEEPER_NOT_DECODED``.

    Only rows written before the payload limits can be that deep; without the cut, json raises
    RecursionError on them and every page that lists them fails.
    """
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # Fewer brackets than the limit cannot nest past it: the common case costs two counts.
    if text.count("[") + text.count("{") <= max_depth or text_depth(text) <= max_depth:
        return json.loads(text)
    return json.loads(_cut_deeper(text, max_depth))


def text_depth(text: str) -> int:
    """How deeply a JSON text nests (brackets inside strings do not count).

    >>> text_depth('{"a": [1, "]]"]}')
    2
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _cut_deeper(text: str, max_depth: int) -> str:
    pieces: list[str] = []
    depth = 0
    kept_from = 0
    marker = json.dumps(DEEPER_NOT_DECODED, ensure_ascii=False)
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
            if depth == max_depth + 1:
                pieces.append(text[kept_from : match.start()])
        else:
            if depth == max_depth + 1:
                pieces.append(marker)
                kept_from = match.end()
            depth -= 1
    pieces.append(text[kept_from:])
    return "".join(pieces)


# -- previews ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A value as indented JSON for people, shortened; ``truncated`` when anything was left out."""

    text: str
    truncated: bool


def preview(
    value: Any,
    *,
    indent: int | None = 2,
    max_chars: int = 5_000,
    max_depth: int = 8,
    max_items: int = 30,
    max_string: int = 300,
) -> Preview:
    """The start of ``value``: strings, lists and objects cut to a few hundred characters or
    items, containers past ``max_depth`` summarised, and about ``max_chars`` in all.

    The work is bounded by what is shown, not by the size of the value.
    """
    shortener = _Shortener(max_chars, max_depth, max_items, max_string)
    short = shortener.shorten(value, 0)
    text = json.dumps(short, indent=indent, ensure_ascii=False, default=str)
    truncated = shortener.truncated
    hard_limit = 2 * max_chars  # indentation is not counted in the budget: a last guard
    if len(text) > hard_limit:
        text, truncated = text[:hard_limit] + "\n…", True
    return Preview(text, truncated)


class _Shortener:
    def __init__(self, budget: int, max_depth: int, max_items: int, max_string: int) -> None:
        self.budget = budget
        self.max_depth = max_depth
        self.max_items = max_items
        self.max_string = max_string
        self.truncated = False

    def shorten(self, value: Any, depth: int) -> Any:
        # Recursion is bounded by max_depth, never by the value's own depth.
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, dict):
            return self._object(value, depth)
        if isinstance(value, list | tuple):
            return self._array(value, depth)
        self.budget -= 8
        return value

    def _string(self, value: str) -> str:
        if len(value) > self.max_string:
            self.truncated = True
            value = f"{value[: self.max_string]}… ({len(value):,} characters)"
        self.budget -= len(value) + 2
        return value

    def _object(self, value: dict[Any, Any], depth: int) -> Any:
        if value and depth >= self.max_depth:
            self.truncated = True
            return f"{{… {_count(len(value), 'key')}}}"
        short: dict[str, Any] = {}
        self.budget -= 2
        for index, (key, item) in enumerate(value.items()):
            if index >= self.max_items or self.budget <= 0:
                self.truncated = True
                short["…"] = f"{len(value) - index:,} more keys"
                break
            short[self._string(str(key))] = self.shorten(item, depth + 1)
        return short

    def _array(self, value: list[Any] | tuple[Any, ...], depth: int) -> Any:
        if value and depth >= self.max_depth:
            self.truncated = True
            return f"[… {_count(len(value), 'item')}]"
        short: list[Any] = []
        self.budget -= 2
        for index, item in enumerate(value):
            if index >= self.max_items or self.budget <= 0:
                self.truncated = True
                short.append(f"… {len(value) - index:,} more items")
                break
            short.append(self.shorten(item, depth + 1))
        return short


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


# -- the walks -----------------------------------------------------------------------------------

_PLAIN = object()
_TOO_BIG = object()
_OTHER = object()
_NO_BUDGET = 1 << 62

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _scan(value: object, max_depth: int, budget: int) -> object:
    """The hot path: is ``value`` plain JSON within ``max_depth``? No paths, no recursion.

    The budget counts items: each is at least one byte of JSON, so more items than allowed
    bytes is too big before anything is encoded.
    """
    if isinstance(value, _SCALARS):
        return _PLAIN
    if not isinstance(value, _CONTAINERS):
        return _OTHER
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        budget -= len(node)
        if budget < 0:
            return _TOO_BIG
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    return _OTHER
                if isinstance(item, _SCALARS):
                    continue
                if depth >= max_depth or not isinstance(item, _CONTAINERS):
                    return _OTHER
                push((item, depth + 1))
        else:
            for item in node:
                if isinstance(item, _SCALARS):
                    continue
                if depth >= max_depth or not isinstance(item, _CONTAINERS):
                    return _OTHER
                push((item, depth + 1))
    return _PLAIN


def _explained(value: object, what: str, limits: JsonLimits) -> SerializationError:
    """The slow path, once something is wrong: walk in document order, naming paths."""
    # (node, path, depth, top): top is the path of the outermost container below ``what``,
    # which is where a depth error is reported (a 10,000-segment path helps nobody).
    stack: list[tuple[Any, str, int, str]] = [(value, what, 1, what)]
    while stack:
        node, path, depth, top = stack.pop()
        if isinstance(node, _SCALARS):
            continue
        if not isinstance(node, _CONTAINERS):
            return SerializationError(f"{path}: {type(node).__name__} is not JSON serialisable")
        if depth > limits.max_depth:
            return InvalidPayload(
                f"{top}: nested more than {limits.max_depth} levels deep; "
                f"{_rule(limits.depth_rule)}"
            )
        children: list[tuple[Any, str, int, str]] = []
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    return SerializationError(
                        f"{path}: key {key!r} is a {type(key).__name__}; JSON keys must be strings"
                    )
                child = f"{path}.{key}"
                children.append((item, child, depth + 1, child if depth == 1 else top))
        else:
            for index, item in enumerate(node):
                child = f"{path}[{index}]"
                children.append((item, child, depth + 1, child if depth == 1 else top))
        stack.extend(reversed(children))
    return SerializationError(f"{what}: cannot be encoded as JSON")


def _unstorable(value: object, what: str) -> InvalidPayload:
    """Find the first string (or key) holding a NUL or a lone surrogate, in document order."""
    stack: list[tuple[Any, str]] = [(value, what)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                return InvalidPayload(f"{path}: {problem}")
        elif isinstance(node, dict):
            children = []
            for key, item in node.items():
                problem = _text_problem(key)
                if problem:
                    return InvalidPayload(f"{path}: key {shown(key)} {problem}")
                children.append((item, f"{path}.{key}"))
            stack.extend(reversed(children))
        elif isinstance(node, list | tuple):
            stack.extend(reversed([(item, f"{path}[{i}]") for i, item in enumerate(node)]))
    return InvalidPayload(f"{what}: holds text the store cannot keep")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character ('\\x00'), which the store cannot hold"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate ({text[exc.start]!r}), which is not valid Unicode and "
            "cannot be stored"
        )
    return None


def _rule(rule: str) -> str:
    return f"the limit is {rule}"

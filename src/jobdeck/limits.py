"""What enqueue accepts: the size and depth of arguments, the length of names, the number and
length of labels; each refusal is one InvalidPayload line naming the field and the setting.

Everything is checked before a job is written, so nothing of a refused enqueue reaches the
store; the same limits bound a task's result in the worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobdeck.errors import InvalidPayload
from jobdeck.jsonvalues import JsonLimits, check_text, dumps_checked, shown
from jobdeck.settings import Settings

_LABEL_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class PayloadLimits:
    """The ``max_*`` payload settings, ready for the checks below."""

    json_limits: JsonLimits
    name_length: int
    labels: int
    label_length: int

    @classmethod
    def of(cls, settings: Settings) -> PayloadLimits:
        # Asked once per enqueue and per finished job: built once per (frozen) Settings, as
        # building them cost 1.4 us of a no-op job's 23 (issue 20). A race builds twice.
        global _last_built
        built = _last_built
        if built is not None and built[0] is settings:
            return built[1]
        limits = cls._built(settings)
        _last_built = (settings, limits)
        return limits

    @classmethod
    def _built(cls, settings: Settings) -> PayloadLimits:
        depth = settings.max_nesting_depth  # Settings keeps it within DEPTH_CEILING
        return cls(
            json_limits=JsonLimits(
                max_depth=depth,
                max_bytes=settings.max_arguments_bytes,
                depth_rule=f"max_nesting_depth={depth}",
                bytes_rule=f"max_arguments_bytes={settings.max_arguments_bytes}",
            ),
            name_length=settings.max_name_length,
            labels=settings.max_labels,
            label_length=settings.max_label_length,
        )


_last_built: tuple[Settings, PayloadLimits] | None = None


def encode_args(kwargs: Mapping[str, Any], limits: PayloadLimits) -> str:
    """A job's keyword arguments as JSON text, or InvalidPayload / SerializationError.

    >>> encode_args({"to": "a@x"}, PayloadLimits.of(Settings()))
    '{"to":"a@x"}'
    """
    if not kwargs:
        return "{}"
    return dumps_checked(
        kwargs if type(kwargs) is dict else dict(kwargs), "args", limits.json_limits
    )


def encode_result(value: Any, limits: PayloadLimits) -> str:
    """A task's return value as JSON text, held to the same limits as arguments."""
    if value is None:  # most tasks return nothing: no walk, no encoder
        return "null"
    return dumps_checked(value, "result", limits.json_limits)


def encode_labels(labels: Mapping[str, str], limits: PayloadLimits) -> str:
    """Labels (already text, see ``labels_as_text``) as JSON, within count and length limits."""
    if len(labels) > limits.labels:
        raise InvalidPayload(
            f"labels: {len(labels)} labels; the limit is max_labels={limits.labels}"
        )
    rule = f"the limit is max_label_length={limits.label_length}"
    for key, value in labels.items():
        if len(key) > limits.label_length:
            raise InvalidPayload(f"labels: key {shown(key)} is {len(key)} characters; {rule}")
        if len(value) > limits.label_length:
            raise InvalidPayload(f"labels.{key}: {len(value)} characters; {rule}")
    return dumps_checked(dict(labels), "labels")


def labels_as_text(labels: Mapping[Any, Any]) -> dict[str, str]:
    """Label keys and values as strings (numbers and flags are written as text)."""
    converted: dict[str, str] = {}
    for key, value in labels.items():
        name = key if isinstance(key, str) else _as_text(key, "labels: a key")
        converted[name] = (
            str(value) if isinstance(value, _LABEL_SCALARS) else _as_text(value, f"labels.{name}")
        )
    return converted


def check_name(value: object, field: str, limits: PayloadLimits) -> None:
    """A task, queue, unique key, schedule or actor name: text, short, and storable."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidPayload(f"{field}: must be text, not {type(value).__name__}")
    if len(value) > limits.name_length:
        raise InvalidPayload(
            f"{field}: {len(value)} characters; the limit is max_name_length={limits.name_length}"
        )
    check_text(value, field)


def _as_text(value: object, what: str) -> str:
    # str() of a container recurses through it: a deeply nested one raises RecursionError.
    try:
        return str(value)
    except RecursionError:
        raise InvalidPayload(f"{what}: nested too deeply to be written as text") from None

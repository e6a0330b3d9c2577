"""A task's arguments as a form: one typed field per parameter of its function, read from the
signature's annotations, and the check that values sent for them fit those types.

The dashboard's New job form, ``POST /api/jobs`` and ``jobdeck jobs enqueue`` all check
arguments with ``TaskForm.check`` before the task's own enqueue checks (signature binding,
payload limits), so the three refuse the same values with the same one-line error.
"""

from __future__ import annotations

import enum
import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from jobdeck.errors import ArgumentError
from jobdeck.jsonvalues import DEPTH_CEILING, text_depth

FieldKind = Literal["text", "int", "float", "bool", "date", "datetime", "choice", "json"]
EXTRA = "**kwargs"  # the field of a function's **kwargs: more arguments as one JSON object
_SCALARS: dict[type, FieldKind] = {str: "text", int: "int", float: "float", bool: "bool"}


@dataclass(frozen=True)
class ArgumentField:
    """One parameter as a form field. ``choices`` hold an enum's or a Literal's values."""

    name: str
    kind: FieldKind
    required: bool  # no default: the job cannot be created without it
    nullable: bool = False  # Optional[...]: blank means None
    default: Any = None  # the default when not required
    choices: tuple[Any, ...] = ()
    annotation: str = ""  # the type as written, for the label

    @property
    def default_text(self) -> str:
        """The default as the form shows it: what a blank field leaves in place."""
        if self.required:
            return ""
        default = self.default.value if isinstance(self.default, enum.Enum) else self.default
        return json.dumps(default) if _is_json(default) else repr(default)


@dataclass(frozen=True)
class TaskForm:
    """Every keyword parameter of a task's function, in order; ``extra`` when it takes
    ``**kwargs`` (more arguments, given as one JSON object)."""

    task: str
    fields: tuple[ArgumentField, ...]
    extra: bool = False

    def check(self, args: Mapping[str, Any]) -> None:
        """Refuse a value that does not fit its parameter's type, and a missing required one;
        unknown names are left to the task's own check, which says the same as ``enqueue``."""
        for spec in self.fields:
            if spec.name in args:
                _check_value(spec, args[spec.name])
            elif spec.required:
                raise ArgumentError(spec.name, "required")

    def parse(self, values: Mapping[str, str]) -> dict[str, Any]:
        """The form's text inputs (``arg:<name>``, and ``extra`` for ``**kwargs``) as keyword
        arguments: a blank field is left out (its default applies) or None (Optional)."""
        args: dict[str, Any] = {}
        for spec in self.fields:
            text = values.get(f"arg:{spec.name}", "")
            if (text if spec.kind == "text" else text.strip()) == "":
                if spec.required and not spec.nullable:
                    raise ArgumentError(spec.name, "required")
                if spec.required:
                    args[spec.name] = None  # Optional without a default: blank is None
                continue
            args[spec.name] = _parse_text(spec, text)
        if self.extra:
            args.update(self._extra(values.get("extra", ""), args))
        return args

    def _extra(self, text: str, named: Mapping[str, Any]) -> dict[str, Any]:
        if not text.strip():
            return {}
        value = _json(EXTRA, text)
        if not isinstance(value, dict):
            raise ArgumentError(EXTRA, 'must be a JSON object like {"key": "value"}')
        clash = sorted(set(value) & (set(named) | {f.name for f in self.fields}))
        if clash:
            raise ArgumentError(EXTRA, f"{clash[0]!r} has its own field; fill it in there")
        return value


def form_of(name: str, fn: Callable[..., Any]) -> TaskForm:
    """The form of the task ``name`` whose function is ``fn``."""
    signature = inspect.signature(fn)
    hints = _hints(fn)
    fields = []
    extra = False
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            extra = True
        elif param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            fields.append(_field(param, hints.get(param.name, param.annotation)))
    return TaskForm(name, tuple(fields), extra)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    # String annotations (from __future__ import annotations) need resolving. When one names
    # something its module cannot resolve, each is resolved alone, so only that one becomes
    # JSON: the same evaluation get_type_hints does, on the app's own annotation text.
    try:
        return typing.get_type_hints(fn)
    except Exception:  # any failure to resolve: try them one by one
        pass
    namespace = getattr(fn, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(fn, "__annotations__", {}).items():
        try:
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except Exception:  # unresolvable: any JSON
            hints[name] = Any
    return hints


def _field(param: inspect.Parameter, annotation: Any) -> ArgumentField:
    required = param.default is param.empty
    default = None if required else param.default
    if annotation is param.empty:
        # No annotation: the default's type, if it is a plain one, else any JSON.
        annotation = type(default) if type(default) in _SCALARS else Any
    inner, nullable = _unwrap_optional(annotation)
    kind, choices = _kind(inner)
    written = _written(annotation)
    return ArgumentField(param.name, kind, required, nullable, default, choices, written)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` / ``Optional[X]`` -> (X, True); other unions stay whole (JSON)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            return members[0], nullable
        return annotation, nullable
    return annotation, annotation is None or annotation is type(None)


def _kind(annotation: Any) -> tuple[FieldKind, tuple[Any, ...]]:
    if typing.get_origin(annotation) is Literal:
        values = typing.get_args(annotation)
        if all(_is_json(v) and not isinstance(v, list | dict) for v in values):
            return "choice", values
        return "json", ()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = tuple(member.value for member in annotation)
        if all(isinstance(v, str | int) for v in values):
            return "choice", values
        return "json", ()
    if annotation in _SCALARS:
        return _SCALARS[annotation], ()
    if annotation is datetime:  # before date: a datetime is a date
        return "datetime", ()
    if annotation is date:
        return "date", ()
    return "json", ()


def _written(annotation: Any) -> str:
    if annotation is Any:
        return "any JSON"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


# -- reading the form's text ---------------------------------------------------------------------


def _parse_text(spec: ArgumentField, text: str) -> Any:
    """The value of one typed input; a worker hands the task JSON, so a date travels as its
    ISO text, an enum as its value."""
    value = text.strip() if spec.kind != "text" else text
    if spec.kind == "text":
        return value
    if spec.kind == "json":
        return _json(spec.name, value)
    if spec.kind == "choice":
        for choice in spec.choices:
            if str(choice) == value:
                return choice
        raise ArgumentError(spec.name, f"{_shown(value)} is not one of {_choices(spec)}")
    parsers: dict[str, Callable[[str], Any]] = {
        "int": _whole_number,
        "float": _number,
        "bool": _truth,
        "date": lambda t: date.fromisoformat(t).isoformat(),
        "datetime": lambda t: datetime.fromisoformat(t).isoformat(),
    }
    try:
        return parsers[spec.kind](value)
    except ValueError:
        raise ArgumentError(spec.name, f"{_expected(spec)}, got {_shown(value)}") from None


def _whole_number(text: str) -> int:
    if len(text) > 30:  # int() of a huge string is slow and the store cannot hold it anyway
        raise ValueError(text)
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # JSON has no NaN or infinity
        raise ValueError(text)
    return value


def _truth(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "on", "yes", "1"):
        return True
    if lowered in ("false", "off", "no", "0"):
        return False
    raise ValueError(text)


def _json(name: str, text: str) -> Any:
    # Measured on the text: json.loads recurses and fails on deep input before any check.
    if text_depth(text) > DEPTH_CEILING:
        raise ArgumentError(name, f"nested more than {DEPTH_CEILING} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentError(name, f"not valid JSON ({exc.msg} at character {exc.pos})") from None


# -- checking values already decoded (the API's and the CLI's JSON) ------------------------------


def _check_value(spec: ArgumentField, value: Any) -> None:
    if value is None:
        if not spec.nullable and not (not spec.required and spec.default is None):
            raise ArgumentError(spec.name, f"{_expected(spec)}, got null")
        return
    if spec.kind == "choice":
        if not any(value == c and type(value) is type(c) for c in spec.choices):
            raise ArgumentError(spec.name, f"{_shown(value)} is not one of {_choices(spec)}")
    elif not _fits(spec.kind, value):
        raise ArgumentError(spec.name, f"{_expected(spec)}, got {_shown(value)}")


def _fits(kind: FieldKind, value: Any) -> bool:
    if kind == "json":
        return True
    if kind == "text":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    parse = date.fromisoformat if kind == "date" else datetime.fromisoformat
    try:
        parse(value)
    except (TypeError, ValueError):
        return False
    return True


_EXPECTED = {
    "text": "expected text",
    "int": "expected a whole number",
    "float": "expected a number",
    "bool": "expected true or false",
    "date": "expected a date like 2025-01-31",
    "datetime": "expected a date and time like 2025-01-31T09:30",
    "choice": "expected one of the choices",
    "json": "expected JSON",
}


def _expected(spec: ArgumentField) -> str:
    return _EXPECTED[spec.kind]


def _choices(spec: ArgumentField) -> str:
    return ", ".join(str(c) for c in spec.choices[:20])


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value) if _is_json(value) else "?"
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True

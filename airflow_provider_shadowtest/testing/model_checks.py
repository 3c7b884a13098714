"""Check a request against botocore's service model input shape, as AWS's front end does (pure).

AWS deserializes a JSON-protocol body into the operation's input shape first: a body that is
not a JSON object, or a member of the wrong JSON type (a string where the model has a list, a
timestamp that is not one), cannot be read and is answered ``SerializationException``. The
values read are then checked against the model's constraints (required members, lengths,
patterns, enums, ranges, list and map sizes) and every violation is listed in one
``ValidationException`` (CloudWatch: ``ValidationError``) in AWS's words:
``1 validation error detected: Value '101' at 'ShadowModeConfig.ShadowModelVariants.1.member.
SamplingPercentage' failed to satisfy constraint: Member must have value less than or equal to 100``.

Paths use the model's member names, lists as ``.N.member`` (1-based) and maps as ``.key``,
so the path ends at the offending key. Unknown members are ignored, as AWS ignores them.
Both the wire types of a JSON body and the Python types of an already-parsed request
(``datetime``, ``bytes``) are accepted.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Final

SERIALIZATION: Final = "serialization"
VALIDATION: Final = "validation"

_INT_BOUNDS: Final = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_SHOWN_CHARS: Final = 100
#: violations spelled out in one message; the count covers all
LISTED_PROBLEMS: Final = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: ``kind`` is :data:`SERIALIZATION` or :data:`VALIDATION`."""

    kind: str
    path: str
    message: str


def check_request(shape: Any, body: Any) -> list[Problem]:
    """Return every problem of ``body`` against the input ``shape`` (a botocore ``StructureShape``).

    Serialization problems stop the descent at their member; constraint violations are all listed.
    """
    if shape is None:
        return []
    problems: list[Problem] = []
    _check(shape, body, "", problems)
    return problems


def describe(problems: list[Problem]) -> str:
    """AWS's message for a list of constraint violations (the first :data:`LISTED_PROBLEMS` of them)."""
    count = len(problems)
    details = "; ".join(p.message for p in problems[:LISTED_PROBLEMS])
    if count > LISTED_PROBLEMS:
        details += f"; and {count - LISTED_PROBLEMS} more"
    return f"{count} validation error{'s' if count != 1 else ''} detected: {details}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _violation(path: str, value: Any, constraint: str) -> Problem:
    shown = "null" if value is None else f"'{_shown(value)}'"
    return Problem(
        VALIDATION, path, f"Value {shown} at '{path}' failed to satisfy constraint: Member must {constraint}"
    )


def _unreadable(path: str, expected: str, value: Any) -> Problem:
    where = f"'{path}'" if path else "the request body"
    got = "null" if value is None else f"{type(value).__name__} {_shown(value)!r}"
    return Problem(SERIALIZATION, path, f"Cannot read {where}: expected {expected}, got {got}")


def _check(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    handler = _HANDLERS.get(shape.type_name)
    if handler is not None:
        handler(shape, value, path, out)


def _check_structure(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if getattr(shape, "is_document_type", False):
        return
    if not isinstance(value, dict):
        out.append(_unreadable(path, "an object", value))
        return
    for name in shape.required_members:
        if value.get(name) is None:
            out.append(_violation(_join(path, name), None, "not be null"))
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            _check(member, item, _join(path, name), out)


def _check_list(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, list | tuple):
        out.append(_unreadable(path, "a list", value))
        return
    _check_size(shape, value, len(value), path, out)
    for index, item in enumerate(value, start=1):
        item_path = f"{path}.{index}.member"
        if item is None:
            out.append(_violation(item_path, None, "not be null"))
        else:
            _check(shape.member, item, item_path, out)


def _check_map(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, dict):
        out.append(_unreadable(path, "an object", value))
        return
    _check_size(shape, value, len(value), path, out)
    for key, item in value.items():
        item_path = f"{path}.{key}"
        _check(shape.key, key, f"{item_path}.key", out)
        if item is None:
            out.append(_violation(item_path, None, "not be null"))
        else:
            _check(shape.value, item, item_path, out)


def _check_size(shape: Any, value: Any, size: int, path: str, out: list[Problem]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        out.append(_violation(path, value, f"have length greater than or equal to {low}"))
    if high is not None and size > high:
        out.append(_violation(path, value, f"have length less than or equal to {high}"))


def _check_string(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append(_unreadable(path, "a string", value))
        return
    before = len(out)
    _check_size(shape, value, len(value), path, out)
    enum = shape.enum
    if enum and value not in enum:
        out.append(_violation(path, value, f"satisfy enum value set: [{', '.join(enum)}]"))
    pattern = shape.metadata.get("pattern")
    if pattern and len(out) == before and not enum:
        compiled = _compiled(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            out.append(_violation(path, value, f"satisfy regular expression pattern: {pattern}"))


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern in Python's dialect; ``None`` when Python cannot read it."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _check_integer(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        out.append(_unreadable(path, "an integer", value))
        return
    if isinstance(value, float) and not value.is_integer():
        out.append(_unreadable(path, "an integer", value))
        return
    low_bound, high_bound = _INT_BOUNDS[shape.type_name]
    if not low_bound <= value <= high_bound:
        out.append(_unreadable(path, f"a {shape.type_name} within [{low_bound}, {high_bound}]", value))
        return
    _check_range(shape, value, path, out)


def _check_float(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        out.append(_unreadable(path, "a finite number", value))
        return
    _check_range(shape, value, path, out)


def _check_range(shape: Any, value: float, path: str, out: list[Problem]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        out.append(_violation(path, value, f"have value greater than or equal to {low}"))
    if high is not None and value > high:
        out.append(_violation(path, value, f"have value less than or equal to {high}"))


def _check_boolean(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, bool):
        out.append(_unreadable(path, "true or false", value))


def _check_timestamp(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, dt.datetime):
        return
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        out.append(_unreadable(path, "a timestamp (epoch seconds or ISO 8601)", value))
        return
    if isinstance(value, str):
        try:
            from botocore.utils import parse_timestamp

            parse_timestamp(value)
        except (ValueError, TypeError, OverflowError):
            out.append(_unreadable(path, "a timestamp (epoch seconds or ISO 8601)", value))
        return
    try:
        if not math.isfinite(value):
            raise ValueError(value)
        dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        out.append(_unreadable(path, "a timestamp (epoch seconds or ISO 8601)", value))


def _check_blob(shape: Any, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, bytes | bytearray):
        size = len(value)
    elif isinstance(value, str):
        try:
            size = len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            out.append(_unreadable(path, "base64-encoded bytes", value))
            return
    else:
        out.append(_unreadable(path, "base64-encoded bytes", value))
        return
    _check_size(shape, value, size, path, out)


_HANDLERS: Final = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "short": _check_integer,
    "byte": _check_integer,
    "float": _check_float,
    "double": _check_float,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
    "blob": _check_blob,
}

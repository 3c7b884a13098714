"""Pure parsers for the values templates render: times, flags, JSON structures.

Shared by the request model (``experiment/``), the judge (``verdict/``) and the operators, so
each kind of value is read one way everywhere. Rules, stated once:

- a time may be a ``datetime.datetime`` (pendulum's ``DateTime`` included), a ``datetime.date``
  (midnight), or an ISO-8601 string (``2030-01-01T12:00:00Z``); a naive one is **UTC** (never
  local time: workers and schedulers may run in different zones); the result is always a plain,
  timezone-aware UTC ``datetime.datetime``;
- a flag may be a bool, 0 or 1, or text such as ``"true"``, ``"False"``, ``"yes"``, ``"0"``;
- a list or dict may be given as the string a template renders it to: JSON, or the Python
  literal Jinja renders for a dict.

Every parser taking a ``field`` raises ``ValueError("<field>: <what is wrong>")``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any, Final

__all__ = [
    "aware",
    "describe_value",
    "parse_bool",
    "parse_datetime",
    "parse_literal",
    "parse_optional_time",
    "parse_time",
]

_UTC = dt.timezone.utc
_EPOCH = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_TRUE: Final = frozenset({"true", "yes", "on", "1"})
_FALSE: Final = frozenset({"false", "no", "off", "0", ""})


def describe_value(value: Any) -> str:
    """Say what a value is, for messages: ``string 'abc'``, ``empty string``, ``None``, ``list``."""
    if value is None:
        return "None"
    if isinstance(value, str):
        if not value:
            return "empty string"
        text = value if len(value) <= 60 else value[:57] + "..."
        return f"string {text!r}"
    if isinstance(value, bool):
        return f"bool {value}"
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict) or hasattr(value, "keys"):
        return "a dict"
    return type(value).__name__


def aware(value: dt.datetime) -> dt.datetime:
    """Return ``value`` with a time zone; a naive datetime is taken as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=_UTC)


def _plain_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_UTC)
    value = value.astimezone(_UTC)
    # Rebuild so that a pendulum DateTime comes out as a plain datetime.datetime.
    return dt.datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, _UTC
    )


def parse_datetime(value: Any, *, epoch_seconds: bool = False) -> dt.datetime:
    """Return ``value`` as a timezone-aware UTC datetime; naive values are taken as UTC.

    :param value: a datetime, a date (midnight) or an ISO-8601 string.
    :param epoch_seconds: also accept a number of seconds since the epoch (the wire format).
    :raises ValueError: saying what was given and what is expected.
    """
    if isinstance(value, dt.datetime):
        return _plain_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            return _plain_utc(dt.datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(
                f"expected an ISO-8601 datetime such as 2030-01-01T12:00:00Z, got {describe_value(value)}"
            ) from None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if epoch_seconds and is_number and math.isfinite(value):
        return dt.datetime.fromtimestamp(value, _UTC)
    raise ValueError(f"expected a datetime or an ISO-8601 string, got {describe_value(value)}")


def parse_time(field: str, value: Any) -> dt.datetime:
    """Return an aware UTC datetime from a datetime, an ISO-8601 string or epoch seconds (as text too).

    :raises ValueError: naming ``field``.
    """
    if isinstance(value, str) and _EPOCH.match(value):
        value = float(value)
    try:
        return parse_datetime(value, epoch_seconds=True)
    except ValueError as err:
        raise ValueError(f"{field}: {err}") from None


def parse_optional_time(field: str, value: Any) -> dt.datetime | None:
    """Return an aware UTC datetime from a datetime, a date or an ISO-8601 string; None for None or blank text.

    Unlike :func:`parse_time`, a number is refused: these are observation times a user writes.

    :raises ValueError: naming ``field``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_datetime(value)
    except ValueError as err:
        raise ValueError(f"{field}: {err}") from None


def parse_bool(field: str, value: Any) -> bool:
    """Return a flag given as a bool, 0 or 1, or rendered template text (``"true"``, ``"False"``, ``"0"``).

    :raises ValueError: naming ``field``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{field}: expected true or false, got {value!r}")


def parse_literal(text: str) -> Any:
    """Parse a rendered template: JSON first, then a Python literal (Jinja's rendering of a dict).

    :raises ValueError: when the text holds neither a list nor an object.
    """
    try:
        value = json.loads(text)
    except ValueError:
        import ast

        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError("expected a list or an object, or a string holding its JSON") from None
    if not isinstance(value, (list, dict)):
        raise ValueError("expected a list or an object, or a string holding its JSON")
    return value

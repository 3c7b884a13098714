"""Turn AWS responses into plain JSON values (for XCom, logs and trigger events)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def to_utc_iso(value: dt.datetime) -> str:
    """Return an ISO-8601 UTC string; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def utc_text(value: dt.datetime | str) -> str:
    """Return a time as reports show it: whole seconds, UTC, ``2026-12-01 09:00:00 UTC``.

    An ISO-8601 string is parsed first (a trailing ``Z`` is UTC, naive is UTC); a string that
    is not a time is returned as it is.
    """
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def json_safe(value: Any) -> Any:
    """Recursively convert datetimes to ISO-8601 UTC strings and drop botocore's ResponseMetadata."""
    if isinstance(value, dt.datetime):
        return to_utc_iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value

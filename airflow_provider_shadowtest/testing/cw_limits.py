"""CloudWatch's documented query limits, as pure functions (no moto, no I/O).

From the CloudWatch API reference (GetMetricStatistics, GetMetricData, MetricStat):

- a period is 1, 5, 10, 20, 30, 60 or a multiple of 60 seconds (:func:`period_problem`);
- GetMetricStatistics returns at most 1,440 datapoints per call (:func:`datapoints_problem`);
- GetMetricData takes at most 500 queries and returns at most ``MaxDatapoints`` (default
  100,800) datapoints per call, the rest through ``NextToken`` (:func:`paginate`);
- retention: datapoints of a period under 60 s are kept 3 hours, of 60 s 15 days, of 300 s
  63 days, of 3600 s 455 days; an older datapoint is only returned when the period is a
  multiple of the granularity kept for its age, and none after 455 days (:func:`retained`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Final

MAX_DATAPOINTS_PER_STATISTICS_CALL: Final = 1_440
MAX_QUERIES_PER_DATA_CALL: Final = 500
DEFAULT_MAX_DATAPOINTS: Final = 100_800
SHORT_PERIODS_SECONDS: Final = (1, 5, 10, 20, 30)

#: (age limit, granularity in seconds the data is kept at up to that age)
RETENTION: Final = (
    (timedelta(hours=3), 1),
    (timedelta(days=15), 60),
    (timedelta(days=63), 300),
    (timedelta(days=455), 3600),
)


def period_problem(period_seconds: int, parameter: str = "Period") -> str | None:
    """The error message for a period CloudWatch refuses, ``None`` for a valid one."""
    if period_seconds in SHORT_PERIODS_SECONDS or (period_seconds >= 60 and period_seconds % 60 == 0):
        return None
    return f"The parameter {parameter} must be 1, 5, 10, 20, 30, 60 or a multiple of 60 seconds; got {period_seconds}."


def datapoints_problem(start: datetime, end: datetime, period_seconds: int) -> str | None:
    """GetMetricStatistics' limit of 1,440 datapoints per call, in CloudWatch's words."""
    seconds = (end - start).total_seconds()
    requested = -(-int(seconds) // period_seconds)
    if requested <= MAX_DATAPOINTS_PER_STATISTICS_CALL:
        return None
    return (
        f"You have requested up to {requested:,} datapoints, which exceeds the limit of "
        f"{MAX_DATAPOINTS_PER_STATISTICS_CALL:,}. You may reduce the datapoints requested by "
        "increasing Period, or decreasing the time range."
    )


def retained(timestamp: datetime, period_seconds: int, now: datetime) -> bool:
    """True when CloudWatch still answers a datapoint of this age at this period."""
    age = now - timestamp
    for limit, granularity in RETENTION:
        if age <= limit:
            return period_seconds % granularity == 0
    return False


def request_fingerprint(params: dict[str, Any]) -> str:
    """A short hash of a GetMetricData request without its paging fields (binds a NextToken to it)."""
    stable = {k: v for k, v in params.items() if k not in ("NextToken", "MaxDatapoints")}
    text = json.dumps(stable, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(offset: int, fingerprint: str) -> str:
    """The NextToken of the page starting at datapoint ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fingerprint}).encode()).decode()


def decode_token(token: str, fingerprint: str) -> int:
    """The datapoint offset of ``token``; ``ValueError`` when it is not one of this request's tokens."""
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(document["o"])
        matches = document["f"] == fingerprint
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValueError("The NextToken is not valid.") from None
    if not matches or offset < 0:
        raise ValueError("The NextToken does not belong to this request (its queries or time range changed).")
    return offset


def paginate(
    results: list[dict[str, Any]], max_datapoints: int, offset: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Cut a page of at most ``max_datapoints`` datapoints from ``results``, starting at ``offset``.

    Every result appears on every page (possibly without values); a result with values left
    for a later page has ``status_code`` ``PartialData``. Returns the page and the next offset.
    """
    page: list[dict[str, Any]] = []
    position = 0
    remaining = max_datapoints
    for result in results:
        count = len(result["values"])
        first = min(max(offset - position, 0), count)
        taken = min(count - first, remaining)
        remaining -= taken
        position += count
        partial = first + taken < count
        page.append(
            dict(
                result,
                values=result["values"][first : first + taken],
                timestamps=result["timestamps"][first : first + taken],
                status_code="PartialData" if partial else result.get("status_code", "Complete"),
            )
        )
    consumed = offset + (max_datapoints - remaining)
    return page, (consumed if consumed < position else None)

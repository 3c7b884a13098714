"""Schedule parsing: datetimes, durations, and the schedule conveniences of ``build_create_request``.

Datetimes are read as :mod:`airflow_provider_shadowtest.parsing` states (naive means UTC; the
result is a plain, aware UTC ``datetime.datetime`` that boto3 serializes). Durations:

- a duration may be a ``timedelta`` (pendulum's ``Duration`` included), a number of seconds
  (``3600``, ``"3600"``, ``90.5``), or an ISO-8601 duration string with weeks, days, hours,
  minutes and seconds (``"PT1H"``, ``"P7D"``, ``"P1DT12H"``, ``"PT90M"``, ``"P2W"``); years and
  months are refused, their length being ambiguous.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.parsing import describe_value, parse_datetime

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["NormalizedSchedule", "normalize_schedule", "parse_datetime", "parse_duration", "utc_now"]

_UTC = dt.timezone.utc
_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def utc_now() -> dt.datetime:
    """The current time, UTC, to the whole second (a request must not depend on microseconds)."""
    return dt.datetime.now(_UTC).replace(microsecond=0)


def parse_duration(value: Any) -> dt.timedelta:
    """Return ``value`` as a timedelta.

    :param value: a timedelta, seconds (int, float or a numeric string), or an ISO-8601 duration
        string without years or months (``PT1H``, ``P7D``, ``P1DT12H``).
    :raises ValueError: saying what was given and what is expected.
    """
    if isinstance(value, dt.timedelta):
        return dt.timedelta(seconds=value.total_seconds())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return dt.timedelta(seconds=float(text))
        match = _ISO_DURATION.fullmatch(text)
        if match and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
            parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
            return dt.timedelta(**parts)
        if re.fullmatch(r"P.*[YM].*", text.split("T")[0], re.IGNORECASE):
            raise ValueError(
                f"years and months are not supported (their length varies): use days, e.g. P30D; got {value!r}"
            )
    raise ValueError(
        f"expected a timedelta, seconds, or an ISO-8601 duration such as PT1H or P7D, got {describe_value(value)}"
    )


@dataclasses.dataclass(frozen=True)
class NormalizedSchedule:
    """The ``Schedule`` member of a request, and where each of its times came from.

    :param schedule: ``{"StartTime": ..., "EndTime": ...}`` (either may be absent), or None.
    :param sources: API key to the argument path it came from, e.g. ``{"EndTime": "duration"}``;
        ``"now"`` for a start derived from the current time.
    """

    schedule: dict[str, Any] | None
    sources: Mapping[str, str]

    @property
    def start_from_now(self) -> bool:
        """Whether the start is the current time (a duration without a start time)."""
        return self.sources.get("StartTime") == "now"


def normalize_schedule(
    schedule: Mapping[str, Any] | None = None,
    *,
    start_time: Any = None,
    end_time: Any = None,
    duration: Any = None,
    now: dt.datetime | str | None = None,
) -> NormalizedSchedule:
    """Resolve the schedule arguments of ``build_create_request`` into the API's ``Schedule``.

    The start is ``start_time`` or ``schedule["StartTime"]``; the end is ``end_time``,
    ``schedule["EndTime"]`` or the start plus ``duration``; a duration without a start starts
    now. A None time means "not given"; an empty schedule is no schedule. Keys of ``schedule``
    other than the two times are kept unchanged for validation to report. No time is compared
    with the current time, so a retried task rebuilds the same request.

    :param now: the current time (for tests); default :func:`utc_now`.
    :raises InvalidExperimentRequest: listing every problem, paths naming the argument given.
    """
    problems: list[tuple[str, str]] = []
    result: dict[str, Any] = dict(schedule) if schedule is not None else {}
    sources: dict[str, str] = {}
    for key, arg, given in (("StartTime", "start_time", start_time), ("EndTime", "end_time", end_time)):
        in_schedule = result.pop(key, None)
        if in_schedule is not None and given is not None:
            problems.append((arg, f"given twice: also as schedule.{key}; give one of them"))
            continue
        raw, source = (given, arg) if given is not None else (in_schedule, f"schedule.{key}")
        if raw is None:
            continue
        try:
            result[key] = parse_datetime(raw)
            sources[key] = source
        except ValueError as exc:
            problems.append((source, str(exc)))
    if duration is not None:
        try:
            length = parse_duration(duration)
        except ValueError as exc:
            problems.append(("duration", str(exc)))
        else:
            if "EndTime" in sources:
                problems.append(("duration", f"give either a duration or an end time ({sources['EndTime']})"))
            elif length <= dt.timedelta(0):
                problems.append(("duration", f"must be positive, got {length}"))
            elif not any(p[0] in ("start_time", "schedule.StartTime") for p in problems):
                if "StartTime" not in result:
                    result["StartTime"] = parse_datetime(now) if now is not None else utc_now()
                    sources["StartTime"] = "now"
                result["EndTime"] = result["StartTime"] + length
                sources["EndTime"] = "duration"
    if problems:
        raise InvalidExperimentRequest(problems)
    ordered: dict[str, Any] = {k: result[k] for k in ("StartTime", "EndTime") if k in result}
    ordered.update((k, v) for k, v in result.items() if k not in ordered)
    return NormalizedSchedule(ordered or None, sources)

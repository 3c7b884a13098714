"""Pure: the time window whose metrics are judged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.parsing import parse_optional_time as parse_time

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping


def resolve_window(
    schedule: Mapping[str, Any] | None,
    start_time: Any,
    end_time: Any,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """Pick the window: explicit times first, else the experiment's ``Schedule``; never past ``now``.

    An experiment still running (or stopped early) has an end time after ``now``; its metrics
    stop at ``now``.

    :raises ValueError: when no start is known, or the window is empty.
    """
    schedule = schedule or {}
    start = parse_time("start_time", start_time) or parse_time("Schedule.StartTime", schedule.get("StartTime"))
    end = parse_time("end_time", end_time) or parse_time("Schedule.EndTime", schedule.get("EndTime")) or now
    now = parse_time("now", now) or now
    end = min(end, now)
    if start is None:
        raise ValueError("start_time: not given and the experiment has no Schedule.StartTime")
    if end <= start:
        raise ValueError(
            f"the window is empty: it starts at {start.isoformat()} and ends at {end.isoformat()} "
            "(an end in the future is cut to now); has the experiment started?"
        )
    return start, end

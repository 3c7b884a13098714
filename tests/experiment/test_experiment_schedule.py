"""Datetimes and durations as DAG authors and templates write them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest

from airflow_provider_shadowtest.experiment import normalize_schedule, parse_datetime, parse_duration

UTC = dt.timezone.utc
NOON = dt.datetime(2030, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        NOON,
        dt.datetime(2030, 1, 1, 12),
        dt.datetime(2030, 1, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        pendulum.datetime(2030, 1, 1, 7, tz="America/New_York"),
        "2030-01-01T12:00:00Z",
        "2030-01-01T12:00:00z",
        "2030-01-01 12:00:00",
        "2030-01-01T13:00:00+01:00",
        " 2030-01-01T12:00:00.000000+00:00 ",
    ],
)
def test_datetimes_become_aware_utc(value: Any) -> None:
    parsed = parse_datetime(value)
    assert parsed == NOON
    assert type(parsed) is dt.datetime
    assert parsed.tzinfo == UTC


def test_a_date_is_midnight_utc() -> None:
    assert parse_datetime(dt.date(2030, 1, 1)) == dt.datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_datetime("2030-01-01") == dt.datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["tomorrow", "", None, 1893499200, True, [2030, 1, 1]])
def test_other_values_are_not_datetimes(value: Any) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_datetime(value)


def test_epoch_seconds_only_when_asked() -> None:
    assert parse_datetime(NOON.timestamp(), epoch_seconds=True) == NOON


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("PT1H", 3600),
        ("pt90m", 5400),
        ("P7D", 7 * 86400),
        ("P1DT12H", 36 * 3600),
        ("P2W", 14 * 86400),
        ("PT1.5H", 5400),
        ("PT30S", 30),
        (3600, 3600),
        (90.5, 90.5),
        ("3600", 3600),
        (dt.timedelta(minutes=5), 300),
        (pendulum.duration(days=1), 86400),
    ],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["P", "PT", "P1DT", "1 hour", "", None, True, "P1Y", "P1M", float("nan")])
def test_not_durations(value: Any) -> None:
    with pytest.raises(ValueError, match=r"expected|not supported"):
        parse_duration(value)


def test_normalize_schedule_records_where_each_time_came_from() -> None:
    resolved = normalize_schedule(duration="PT1H", now=NOON)
    assert resolved.schedule == {"StartTime": NOON, "EndTime": NOON + dt.timedelta(hours=1)}
    assert resolved.start_from_now
    assert dict(resolved.sources) == {"StartTime": "now", "EndTime": "duration"}

    fixed = normalize_schedule({"StartTime": "2030-01-01T12:00:00Z"}, end_time=NOON + dt.timedelta(days=1))
    assert not fixed.start_from_now
    assert dict(fixed.sources) == {"StartTime": "schedule.StartTime", "EndTime": "end_time"}


def test_nothing_given_is_no_schedule() -> None:
    assert normalize_schedule().schedule is None
    assert normalize_schedule({"StartTime": None, "EndTime": None}).schedule is None

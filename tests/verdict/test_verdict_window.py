"""The judged window: explicit times, the experiment's schedule, cut at now."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_shadowtest.verdict import parse_time, resolve_window

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 3, 2, 0, 0, tzinfo=UTC)
SCHEDULE = {
    "StartTime": dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    "EndTime": dt.datetime(2025, 3, 1, 18, 0, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T12:00:00Z", dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
        ("2025-03-01T14:00:00+02:00", dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
        ("2025-03-01T12:00:00", dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
        (dt.datetime(2025, 3, 1, 12, 0), dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_time(value: object, expected: dt.datetime | None) -> None:
    assert parse_time("start_time", value) == expected


@pytest.mark.parametrize("value", ["yesterday", 12])
def test_parse_time_names_the_field(value: object) -> None:
    with pytest.raises(ValueError, match=r"^start_time: "):
        parse_time("start_time", value)


def test_schedule_gives_the_window() -> None:
    assert resolve_window(SCHEDULE, None, None, NOW) == (SCHEDULE["StartTime"], SCHEDULE["EndTime"])


def test_explicit_times_override_the_schedule() -> None:
    start, end = resolve_window(SCHEDULE, "2025-03-01T13:00:00Z", "2025-03-01T14:00:00Z", NOW)
    assert (start.hour, end.hour) == (13, 14)


def test_a_running_experiment_is_judged_up_to_now() -> None:
    now = dt.datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
    assert resolve_window(SCHEDULE, None, None, now) == (SCHEDULE["StartTime"], now)
    assert resolve_window({"StartTime": SCHEDULE["StartTime"]}, None, None, now)[1] == now


def test_no_start_or_an_empty_window_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"no Schedule\.StartTime"):
        resolve_window(None, None, None, NOW)
    with pytest.raises(ValueError, match="the window is empty"):
        resolve_window(SCHEDULE, None, None, dt.datetime(2025, 3, 1, 11, 0, tzinfo=UTC))

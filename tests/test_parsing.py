"""The shared parsers of rendered values: one reading of flags, times and JSON everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.parsing import aware, parse_bool, parse_literal, parse_time

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        (" FALSE ", False),
        ("yes", True),
        ("off", False),
        ("1", True),
        ("", False),
    ],
)
def test_parse_bool_reads_what_templates_render(value: Any, expected: bool) -> None:
    assert parse_bool("promote", value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, None, [True]])
def test_parse_bool_names_the_field(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^promote: expected true or false, got "):
        parse_bool("promote", value)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2030, 1, 1, 12, tzinfo=UTC),
        dt.datetime(2030, 1, 1, 12),
        "2030-01-01T12:00:00Z",
        "2030-01-01T14:00:00+02:00",
        1893499200,
        "1893499200",
    ],
)
def test_parse_time_gives_aware_utc(value: Any) -> None:
    parsed = parse_time("end_time", value)
    assert parsed == dt.datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["tomorrow", None, [1]])
def test_parse_time_names_the_field(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^end_time: expected "):
        parse_time("end_time", value)


def test_parse_literal_reads_json_and_jinja_dicts() -> None:
    assert parse_literal('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_literal("{'a': True}") == {"a": True}
    with pytest.raises(ValueError, match="expected a list or an object"):
        parse_literal("42")


def test_aware_takes_naive_as_utc_and_keeps_zones() -> None:
    assert aware(dt.datetime(2030, 1, 1)) == dt.datetime(2030, 1, 1, tzinfo=UTC)
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert aware(dt.datetime(2030, 1, 1, tzinfo=plus2)).tzinfo is plus2

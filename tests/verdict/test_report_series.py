"""Reading per-minute series in any accepted spelling and reducing them for display."""

from __future__ import annotations

import pytest

from airflow_provider_shadowtest.verdict.report_series import (
    canonical_metric,
    error_rate_points,
    read_points,
    reduce_points,
    to_epoch_seconds,
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ModelLatency.p99", "ModelLatency.p99"),
        ("model_latency_p99", "ModelLatency.p99"),
        ("ModelLatency", "ModelLatency.average"),
        ("ModelLatency.Average", "ModelLatency.average"),
        ("modellatency.mean", "ModelLatency.average"),
        ("OverheadLatency", "OverheadLatency.average"),
        ("Invocations", "Invocations.sum"),
        ("Invocation5XXErrors", "Invocation5XXErrors.sum"),
        ("CPUUtilization", "CPUUtilization.average"),
        ("error_rate_5xx", "ErrorRate.5xx"),
        ("ModelLatency.tm99", None),
        ("Unknown", None),
    ],
)
def test_metric_keys_are_recognised_in_any_spelling(key: str, expected: str | None) -> None:
    assert canonical_metric(key) == expected


def test_times_in_iso_seconds_and_milliseconds_agree() -> None:
    assert to_epoch_seconds("2026-11-02T08:00:00Z") == 1_793_606_400.0
    assert to_epoch_seconds("2026-11-02T09:00:00+01:00") == 1_793_606_400.0
    assert to_epoch_seconds(1_793_606_400_000) == 1_793_606_400.0
    assert to_epoch_seconds("yesterday") is None
    assert to_epoch_seconds(True) is None


def test_points_are_sorted_and_unreadable_ones_dropped() -> None:
    points = read_points([[120, 2], [60, "1.5"], ["bad", 3], [180, None], [240, float("nan")]])
    assert points == [(60.0, 1.5), (120.0, 2.0)]


def test_reduction_averages_equal_buckets_and_keeps_gaps() -> None:
    points = [(float(60 * i), float(i)) for i in range(10)]
    reduced = reduce_points(points, max_points=5)
    assert reduced.minutes_per_point == 2
    assert [v for _, v in reduced.points] == [0.5, 2.5, 4.5, 6.5, 8.5]

    with_gap = [(0.0, 1.0), (60.0, 1.0), (300.0, 4.0)]
    assert [v for _, v in reduce_points(with_gap).points] == [1.0, 1.0, None, None, None, 4.0]


def test_a_week_of_minutes_reduces_to_at_most_600_points() -> None:
    points = [(float(60 * i), 1.0) for i in range(10_080)]
    reduced = reduce_points(points)
    assert len(reduced.points) <= 600
    assert reduced.minutes_per_point == 17


def test_error_rate_divides_by_the_same_minutes_invocations() -> None:
    assert error_rate_points([(0.0, 3.0), (60.0, 1.0), (120.0, 0.0)], [(0.0, 300.0), (60.0, 0.0), (120.0, 50.0)]) == [
        (0.0, 1.0),
        (120.0, 0.0),
    ]

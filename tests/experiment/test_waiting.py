"""The wait planner: done, fail, timeout, or how long to sleep, from one Describe result."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.exceptions import ExperimentStateError, WaitTimeout
from airflow_provider_shadowtest.experiment.waiting import (
    THROTTLE_RETRIES,
    plan_wait,
    throttle_backoff,
)

NOW = dt.datetime(2030, 1, 6, 12, 0, 0, tzinfo=dt.timezone.utc)
START = NOW + dt.timedelta(hours=2)
END = NOW + dt.timedelta(days=3)
RUNNING = frozenset({"Running"})
COMPLETED = frozenset({"Completed"})


def described(status: str, *, start: Any = START, end: Any = END, reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "InferenceExperimentName": "exp",
        "Status": status,
        "Schedule": {"StartTime": start, "EndTime": end},
    }
    if reason:
        out["StatusReason"] = reason
    return out


def plan(desc: dict[str, Any], targets: frozenset[str], **kwargs: Any) -> Any:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("poke_interval", 30.0)
    kwargs.setdefault("max_sleep", 3600.0)
    return plan_wait(desc, targets, **kwargs)


def test_target_reached_is_done() -> None:
    decision = plan(described("Running"), RUNNING)
    assert decision.action == "done"
    assert decision.status == "Running"


@pytest.mark.parametrize("status", ["Creating", "Created"])
def test_before_the_start_it_sleeps_until_the_start_capped_by_max_sleep(status: str) -> None:
    decision = plan(described(status), RUNNING, max_sleep=10_000)
    assert decision.action == "sleep"
    assert decision.seconds == 7200
    assert decision.boundary == START
    assert plan(described(status), RUNNING, max_sleep=600).seconds == 600


@pytest.mark.parametrize("status", ["Created", "Starting", "Running", "Updating"])
def test_waiting_for_completed_sleeps_until_the_end(status: str) -> None:
    decision = plan(described(status), COMPLETED, max_sleep=1e9)
    assert decision.action == "sleep"
    assert decision.seconds == (END - NOW).total_seconds()


def test_after_the_boundary_it_polls_at_poke_interval() -> None:
    # the start has passed but SageMaker has not finished starting yet
    decision = plan(described("Starting", start=NOW - dt.timedelta(seconds=5)), RUNNING, poke_interval=7)
    assert (decision.action, decision.seconds, decision.boundary) == ("sleep", 7, None)
    # Stopping has no boundary: an external stop is polled until it completes
    assert plan(described("Stopping"), COMPLETED, poke_interval=7).seconds == 7


def test_a_moved_end_time_moves_the_wake_up() -> None:
    later = END + dt.timedelta(days=1)
    assert plan(described("Running", end=later), COMPLETED, max_sleep=1e9).seconds == (later - NOW).total_seconds()
    sooner = NOW + dt.timedelta(seconds=42)
    assert plan(described("Running", end=sooner), COMPLETED, max_sleep=1e9).seconds == 42


def test_schedule_times_may_be_iso_strings_or_epoch_seconds() -> None:
    iso = plan(described("Created", start="2030-01-06T12:01:00Z"), RUNNING)
    assert iso.seconds == 60
    epoch = plan(described("Created", start=NOW.timestamp() + 90), RUNNING)
    assert epoch.seconds == 90


def test_naive_times_are_utc() -> None:
    decision = plan(described("Created", start=START.replace(tzinfo=None)), RUNNING, now=NOW.replace(tzinfo=None))
    assert decision.seconds == 3600  # capped by max_sleep, and no naive/aware TypeError


def test_cancelled_fails_with_its_status_reason() -> None:
    decision = plan(described("Cancelled", reason="stopped by the on-call engineer"), COMPLETED)
    assert decision.action == "fail"
    error = decision.error("exp")
    assert isinstance(error, ExperimentStateError)
    assert "Cancelled" in str(error)
    assert "stopped by the on-call engineer" in str(error)


def test_cancelled_fails_even_when_past_target_is_accepted() -> None:
    decision = plan(described("Cancelled"), RUNNING, fail_when_past_target=False)
    assert decision.action == "fail"


def test_cancelled_is_fine_when_awaited() -> None:
    assert plan(described("Cancelled"), frozenset({"Completed", "Cancelled"})).action == "done"


def test_past_the_target_fails_by_default_and_is_configurable() -> None:
    decision = plan(described("Completed"), RUNNING)
    assert decision.action == "fail"
    assert "already completed" in str(decision.error("exp"))
    assert "Running" in str(decision.error("exp"))
    assert plan(described("Completed"), RUNNING, fail_when_past_target=False).action == "done"
    assert plan(described("Running"), frozenset({"Created"})).action == "fail"


def test_deadline_passed_is_a_timeout_and_caps_the_sleep() -> None:
    timed_out = plan(described("Created"), RUNNING, deadline=NOW)
    assert timed_out.action == "timeout"
    assert isinstance(timed_out.error("exp"), WaitTimeout)
    assert "Running" in timed_out.message
    capped = plan(described("Created"), RUNNING, deadline=NOW + dt.timedelta(seconds=12))
    assert (capped.action, capped.seconds) == ("sleep", 12)


def test_reached_beats_the_deadline() -> None:
    assert plan(described("Running"), RUNNING, deadline=NOW - dt.timedelta(hours=1)).action == "done"


def test_throttle_backoff_doubles_is_capped_and_gives_up() -> None:
    waits = [throttle_backoff(n, max_sleep=3600) for n in range(1, THROTTLE_RETRIES + 2)]
    assert waits[:3] == [2.0, 4.0, 8.0]
    assert waits[-1] is None
    assert throttle_backoff(4, max_sleep=3) == 3.0

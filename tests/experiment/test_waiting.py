"""The wait planner: done, fail, timeout, or how long to sleep, from one Describe result."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.exceptions import (
    ExperimentNotFound,
    ExperimentStateError,
    InferenceExperimentApiError,
    WaitTimeout,
)
from airflow_provider_shadowtest.experiment.waiting import (
    SETTLED_STATUSES,
    THROTTLE_RETRIES,
    WaitMachine,
    WaitPolicy,
    event_error,
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


def plan(desc: dict[str, Any], targets: frozenset[str], *, now: dt.datetime = NOW, **kwargs: Any) -> Any:
    kwargs.setdefault("poke_interval", 30.0)
    kwargs.setdefault("max_sleep_seconds", 3600.0)
    return plan_wait(desc, WaitPolicy(targets, **kwargs), now=now)


def test_target_reached_is_done() -> None:
    decision = plan(described("Running"), RUNNING)
    assert decision.action == "done"
    assert decision.status == "Running"


@pytest.mark.parametrize("status", ["Creating", "Created"])
def test_before_the_start_it_sleeps_until_the_start_capped_by_max_sleep(status: str) -> None:
    decision = plan(described(status), RUNNING, max_sleep_seconds=10_000)
    assert decision.action == "sleep"
    assert decision.seconds == 7200
    assert decision.boundary == START
    assert plan(described(status), RUNNING, max_sleep_seconds=600).seconds == 600


@pytest.mark.parametrize("status", ["Created", "Starting", "Running", "Updating"])
def test_waiting_for_completed_sleeps_until_the_end(status: str) -> None:
    decision = plan(described(status), COMPLETED, max_sleep_seconds=1e9)
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
    assert (
        plan(described("Running", end=later), COMPLETED, max_sleep_seconds=1e9).seconds == (later - NOW).total_seconds()
    )
    sooner = NOW + dt.timedelta(seconds=42)
    assert plan(described("Running", end=sooner), COMPLETED, max_sleep_seconds=1e9).seconds == 42


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
    assert str(error) == (
        "Inference experiment 'exp' is Cancelled: it was cancelled while waiting for Completed. "
        "StatusReason: stopped by the on-call engineer"
    )


def test_cancelled_fails_even_when_past_target_is_accepted() -> None:
    decision = plan(described("Cancelled"), RUNNING, fail_when_past_target=False)
    assert decision.action == "fail"


def test_cancelled_is_fine_when_awaited() -> None:
    assert plan(described("Cancelled"), frozenset({"Completed", "Cancelled"})).action == "done"


def test_past_the_target_fails_by_default_and_is_configurable() -> None:
    decision = plan(described("Completed"), RUNNING)
    assert decision.action == "fail"
    assert str(decision.error("exp")) == (
        "Inference experiment 'exp' is Completed: it has already completed while waiting for Running."
    )
    assert plan(described("Completed"), RUNNING, fail_when_past_target=False).action == "done"
    assert plan(described("Running"), frozenset({"Created"})).action == "fail"


def test_deadline_passed_is_a_timeout_and_caps_the_sleep() -> None:
    timed_out = plan(described("Created"), RUNNING, deadline=NOW)
    assert timed_out.action == "timeout"
    assert isinstance(timed_out.error("exp"), WaitTimeout)
    assert timed_out.message == "did not reach Running before the deadline 2030-01-06T12:00:00Z; it is Created"
    capped = plan(described("Created"), RUNNING, deadline=NOW + dt.timedelta(seconds=12))
    assert (capped.action, capped.seconds) == ("sleep", 12)


def test_reached_beats_the_deadline() -> None:
    assert plan(described("Running"), RUNNING, deadline=NOW - dt.timedelta(hours=1)).action == "done"


def test_throttle_backoff_doubles_is_capped_and_gives_up() -> None:
    waits = [throttle_backoff(n, max_sleep_seconds=3600) for n in range(1, THROTTLE_RETRIES + 2)]
    assert waits[:3] == [2.0, 4.0, 8.0]
    assert waits[-1] is None
    assert throttle_backoff(4, max_sleep_seconds=3) == 3.0


def test_the_settled_policy_polls_instead_of_sleeping_to_the_start() -> None:
    policy = WaitPolicy.settled(poke_interval=5, timeout_seconds=60, now=NOW)
    decision = plan_wait(described("Creating"), policy, now=NOW)
    assert (decision.action, decision.seconds, decision.boundary) == ("sleep", 5, None)
    assert plan_wait(described("Created"), policy, now=NOW).action == "done"
    assert {"Created", "Running", "Completed", "Cancelled"} == SETTLED_STATUSES
    # the same targets following the schedule would sleep towards the start
    following = WaitPolicy(SETTLED_STATUSES, poke_interval=5, max_sleep_seconds=1e9)
    assert plan_wait(described("Creating"), following, now=NOW).boundary == START


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"poke_interval": -1}, "poke_interval"), ({"max_sleep_seconds": 0}, "max_sleep_seconds")],
)
def test_a_policy_names_its_bad_setting(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        WaitPolicy(RUNNING, **kwargs)


def test_the_machine_backs_off_on_throttling_and_resets_after_an_answer() -> None:
    machine = WaitMachine(WaitPolicy(RUNNING, max_sleep_seconds=3600))
    first = machine.after_error("ThrottlingException", "Rate exceeded", now=NOW)
    second = machine.after_error("ThrottlingException", "Rate exceeded", now=NOW)
    assert [(d.action, d.seconds, d.error_code) for d in (first, second)] == [
        ("sleep", 2.0, "ThrottlingException"),
        ("sleep", 4.0, "ThrottlingException"),
    ]
    assert machine.after_describe(described("Created"), now=NOW).action == "sleep"
    assert machine.after_error("ThrottlingException", "Rate exceeded", now=NOW).seconds == 2.0


def test_the_machine_gives_up_throttling_keeping_the_code() -> None:
    machine = WaitMachine(WaitPolicy(RUNNING))
    decisions = [machine.after_error("Throttling", "slow down", now=NOW) for _ in range(THROTTLE_RETRIES + 1)]
    assert [d.action for d in decisions] == ["sleep"] * THROTTLE_RETRIES + ["fail"]
    error = decisions[-1].error("exp")
    assert isinstance(error, InferenceExperimentApiError)
    assert (error.code, error.message) == ("Throttling", "slow down")


def test_the_machine_times_out_when_a_backoff_would_pass_the_deadline() -> None:
    machine = WaitMachine(WaitPolicy(RUNNING, deadline=NOW + dt.timedelta(seconds=3)))
    assert machine.after_error("ThrottlingException", "x", now=NOW).action == "sleep"
    decision = machine.after_error("ThrottlingException", "x", now=NOW)
    assert decision.action == "timeout"
    assert (
        str(decision.error("exp"))
        == "Inference experiment 'exp': still throttled (ThrottlingException) at the deadline"
    )


def test_other_aws_errors_fail_at_once_with_their_code() -> None:
    decision = WaitMachine(WaitPolicy(RUNNING)).after_error("ResourceNotFound", "no such experiment", now=NOW)
    assert decision.action == "fail"
    error = decision.error("exp")
    assert isinstance(error, ExperimentNotFound)
    assert error.code == "ResourceNotFound"


def test_a_trigger_event_fails_as_the_worker_would() -> None:
    cancelled = plan(described("Cancelled", reason="stopped by on-call"), RUNNING)
    event = {
        "status": "error",
        "experiment_name": "exp",
        "message": cancelled.message,
        "error_code": None,
        "experiment": described("Cancelled", reason="stopped by on-call"),
    }
    assert str(event_error(event)) == str(cancelled.error("exp"))
    timed_out = plan(described("Created"), RUNNING, deadline=NOW)
    timeout_event = {"status": "timeout", "experiment_name": "exp", "message": timed_out.message}
    assert str(event_error(timeout_event)) == str(timed_out.error("exp"))
    assert isinstance(event_error(timeout_event), WaitTimeout)

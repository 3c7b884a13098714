"""The one wait state machine: from each Describe result or error, decide done, fail or sleep N s.

Pure (no Airflow, boto3 or I/O). Every wait of the provider is this machine behind a driver
that only does the I/O: the sync driver (:mod:`airflow_provider_shadowtest.hooks.waiter`) for
operators, the transitional wait and the poke/reschedule sensor; the async driver (the
trigger) for deferred waits. A :class:`WaitPolicy` says what is awaited; the machine answers:

- the awaited status is there: **done**;
- the experiment is Cancelled, or already past the awaited status (``fail_when_past_target``),
  or AWS answered an error that is not throttling: **fail**; the deadline has passed: **timeout**;
- the awaited status cannot come before a scheduled time (Running not before ``StartTime``,
  Completed not before ``EndTime``): **sleep** until that time, but never longer than
  ``max_sleep_seconds`` (so a schedule shortened by UpdateInferenceExperiment, or an external
  stop, is noticed at most that late) and never past the deadline;
- otherwise the status is in transition (or the boundary has passed): **sleep** ``poke_interval``;
- throttled: **sleep** an exponential backoff, a bounded number of times in a row, then fail.

Drivers re-describe on every wake-up and ask again, so an extended schedule is honoured too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from airflow_provider_shadowtest.exceptions import (
    ExperimentStateError,
    InferenceExperimentApiError,
    ShadowTestError,
    WaitTimeout,
)
from airflow_provider_shadowtest.experiment import lifecycle
from airflow_provider_shadowtest.jsonsafe import to_utc_iso
from airflow_provider_shadowtest.parsing import aware, parse_datetime

if TYPE_CHECKING:
    from collections.abc import Iterable

Action = Literal["done", "fail", "timeout", "sleep"]

#: AWS error codes that mean "slow down" rather than "this failed".
THROTTLING_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
    }
)
#: Extra rounds a wait retries a throttled Describe that escaped botocore's own retries.
THROTTLE_RETRIES: Final = 5
#: Ceiling of one throttling backoff, in seconds.
THROTTLE_BACKOFF_CAP_SECONDS: Final = 60.0
#: What the transitional wait awaits: any status SageMaker accepts operations in.
SETTLED_STATUSES: Final = lifecycle.ALL_STATUSES - lifecycle.TRANSITIONAL_STATUSES
_DESCRIBE = "DescribeInferenceExperiment"


@dataclasses.dataclass(frozen=True)
class WaitPolicy:
    """What one wait awaits and how patiently.

    :param targets: the awaited statuses, e.g. ``{"Running"}`` (see ``lifecycle.resolve_target``).
    :param poke_interval: seconds between Describes once no scheduled time is ahead.
    :param max_sleep_seconds: ceiling of any one sleep.
    :param deadline: when the wait times out (aware, or naive UTC); None waits forever.
    :param fail_when_past_target: fail when the experiment is already past the target (e.g.
        Completed while waiting for Running); when False, that counts as done.
    :param follow_schedule: sleep until the scheduled start or end when the target cannot come
        earlier; False polls at ``poke_interval`` (the transitional wait).
    :param awaited: how messages name the target; default the target statuses.
    """

    targets: frozenset[str]
    poke_interval: float = 30.0
    max_sleep_seconds: float = 3600.0
    deadline: dt.datetime | None = None
    fail_when_past_target: bool = True
    follow_schedule: bool = True
    awaited: str = ""

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("targets: at least one status must be awaited")
        if self.poke_interval < 0:
            raise ValueError(f"poke_interval: must not be negative, got {self.poke_interval}")
        if self.max_sleep_seconds <= 0:
            raise ValueError(f"max_sleep_seconds: must be positive, got {self.max_sleep_seconds}")
        if not self.awaited:
            object.__setattr__(self, "awaited", ", ".join(sorted(self.targets)))

    @classmethod
    def for_targets(
        cls,
        targets: Iterable[str],
        *,
        timeout_seconds: float | None,
        now: dt.datetime,
        **settings: Any,
    ) -> WaitPolicy:
        """Build a policy whose deadline is ``timeout_seconds`` after ``now`` (None: no deadline)."""
        deadline = aware(now) + dt.timedelta(seconds=timeout_seconds) if timeout_seconds is not None else None
        return cls(frozenset(targets), deadline=deadline, **settings)

    @classmethod
    def settled(cls, *, poke_interval: float, timeout_seconds: float, now: dt.datetime) -> WaitPolicy:
        """The transitional wait: until the status is no longer Creating, Updating, Starting or Stopping."""
        return cls.for_targets(
            SETTLED_STATUSES,
            timeout_seconds=timeout_seconds,
            now=now,
            poke_interval=poke_interval,
            max_sleep_seconds=max(poke_interval, 0.001),
            follow_schedule=False,
            awaited="a status other than " + ", ".join(sorted(lifecycle.TRANSITIONAL_STATUSES)),
        )


@dataclasses.dataclass(frozen=True)
class WaitDecision:
    """What a driver does next.

    :param action: ``done``, ``fail`` (the target cannot be reached, or AWS failed), ``timeout`` or ``sleep``.
    :param status: the experiment's status in the last Describe ("" when the Describe failed).
    :param seconds: how long to sleep before the next Describe (``sleep`` only).
    :param message: the failure or timeout message, or why the driver sleeps.
    :param status_reason: the experiment's ``StatusReason``, if any.
    :param boundary: the scheduled time the driver sleeps towards, if any.
    :param error_code: the AWS error code when a Describe failed (throttling included).
    """

    action: Action
    status: str
    seconds: float = 0.0
    message: str = ""
    status_reason: str | None = None
    boundary: dt.datetime | None = None
    error_code: str | None = None

    def error(self, name: str) -> ShadowTestError:
        """Return the exception for a ``fail`` or ``timeout`` decision, keeping AWS's code."""
        return failure_error(
            name,
            self.action,
            message=self.message,
            error_code=self.error_code,
            status=self.status,
            status_reason=self.status_reason,
        )


def failure_error(
    name: str, action: str, *, message: str, error_code: str | None, status: str, status_reason: str | None
) -> ShadowTestError:
    """Return the exception a failed or timed-out wait raises (in the worker or after the trigger)."""
    if action == "timeout":
        return WaitTimeout(f"Inference experiment {name!r}: {message}")
    if error_code:
        return InferenceExperimentApiError.from_response({"Error": {"Code": error_code, "Message": message}}, _DESCRIBE)
    if status:
        return ExperimentStateError(name, status, message, status_reason)
    return ShadowTestError(f"Waiting for inference experiment {name!r} failed: {message}")


def plan_wait(described: Mapping[str, Any], policy: WaitPolicy, *, now: dt.datetime) -> WaitDecision:
    """Decide the next step of a wait from a DescribeInferenceExperiment result.

    :param described: the Describe result (datetimes as botocore parses them, ISO strings or epoch seconds).
    :param policy: what is awaited, how often to look, and until when.
    :param now: the current time (aware, or naive UTC).
    """
    wanted, awaited = policy.targets, policy.awaited
    status = str(described.get("Status", ""))
    reason = described.get("StatusReason") or None
    if status in wanted:
        return WaitDecision("done", status, message=f"reached {status}", status_reason=reason)
    unreachable = lifecycle.unreachable_reason(status, wanted)
    if unreachable is not None:
        if status != lifecycle.CANCELLED and not policy.fail_when_past_target:
            return WaitDecision(
                "done", status, message=f"{unreachable}; accepted as past {awaited}", status_reason=reason
            )
        return WaitDecision("fail", status, message=f"{unreachable} while waiting for {awaited}", status_reason=reason)

    current = aware(now)
    end = aware(policy.deadline) if policy.deadline is not None else None
    if end is not None and current >= end:
        message = f"did not reach {awaited} before the deadline {to_utc_iso(end)}; it is {status}"
        return WaitDecision("timeout", status, message=message, status_reason=reason)

    schedule = _schedule(described.get("Schedule")) if policy.follow_schedule else None
    boundary = lifecycle.boundary_for(wanted, status, schedule)
    if boundary is not None and boundary > current:
        seconds = (boundary - current).total_seconds()
        why = f"{status}; {awaited} cannot come before {to_utc_iso(boundary)}"
    else:
        boundary = None
        seconds = policy.poke_interval
        why = f"{status}; polling every {policy.poke_interval:g} s for {awaited}"
    seconds = max(0.0, min(seconds, policy.max_sleep_seconds))
    if end is not None:
        seconds = min(seconds, (end - current).total_seconds())
    return WaitDecision("sleep", status, seconds=seconds, message=why, status_reason=reason, boundary=boundary)


def throttle_backoff(attempt: int, *, max_sleep_seconds: float) -> float | None:
    """Return the seconds to back off before retrying a throttled Describe, or None to give up.

    :param attempt: 1 for the first throttled answer in a row, 2 for the second, ...
    """
    if attempt < 1 or attempt > THROTTLE_RETRIES:
        return None
    return float(min(2.0**attempt, THROTTLE_BACKOFF_CAP_SECONDS, max(max_sleep_seconds, 1.0)))


class WaitMachine:
    """One wait in progress: feed it each Describe result or error; it answers a :class:`WaitDecision`.

    It counts throttled answers in a row (the only state besides the policy), so a driver holds
    one machine per wait and a resumed wait (a new try, a restarted triggerer) starts a new one.

    :param policy: what is awaited, how often to look, and until when.
    """

    def __init__(self, policy: WaitPolicy) -> None:
        self.policy = policy
        self.throttled = 0

    def after_describe(self, described: Mapping[str, Any], *, now: dt.datetime) -> WaitDecision:
        """Decide from a Describe result."""
        self.throttled = 0
        return plan_wait(described, self.policy, now=now)

    def after_error(self, code: str, message: str, *, now: dt.datetime) -> WaitDecision:
        """Decide from a failed Describe: back off when throttled, fail with AWS's code otherwise."""
        if code not in THROTTLING_CODES:
            return WaitDecision("fail", "", message=message, error_code=code)
        self.throttled += 1
        backoff = throttle_backoff(self.throttled, max_sleep_seconds=self.policy.max_sleep_seconds)
        if backoff is None:
            return WaitDecision("fail", "", message=message, error_code=code)
        deadline = self.policy.deadline
        if deadline is not None and aware(now) + dt.timedelta(seconds=backoff) > aware(deadline):
            return WaitDecision("timeout", "", message=f"still throttled ({code}) at the deadline", error_code=code)
        return WaitDecision("sleep", "", seconds=backoff, message=f"throttled ({code})", error_code=code)


def _schedule(value: Any) -> dict[str, Any] | None:
    """Read a Describe ``Schedule`` whose times may be datetimes, ISO strings or epoch seconds."""
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for key, raw in value.items():
        out[key] = _time_or_raw(raw) if key in ("StartTime", "EndTime") else raw
    return out


def _time_or_raw(raw: Any) -> Any:
    try:
        return parse_datetime(raw, epoch_seconds=True)
    except ValueError:
        return raw


def event_error(event: Mapping[str, Any]) -> ShadowTestError:
    """Return the exception a failed trigger event describes, keeping AWS's code and StatusReason.

    The trigger sends the decision's raw fields; this formats them as :meth:`WaitDecision.error`
    does, so a deferred task fails with the same text as a task that waited in the worker.
    """
    experiment = event.get("experiment")
    described: Mapping[str, Any] = experiment if isinstance(experiment, Mapping) else {}
    action = "timeout" if event.get("status") == "timeout" else "fail"
    return failure_error(
        str(event.get("experiment_name") or "?"),
        action,
        message=str(event.get("message") or "the trigger sent no event"),
        error_code=event.get("error_code") or None,
        status=str(described.get("Status", "")),
        status_reason=described.get("StatusReason"),
    )

"""Plan a schedule-aware wait: from one Describe result, decide whether to stop, fail or sleep.

Pure (no Airflow, boto3 or I/O), shared by the synchronous waiter, the reschedule-mode sensor
and the deferrable trigger, so all three wait the same way:

- the awaited status is there: **done**;
- the experiment is Cancelled, or already past the awaited status (``fail_when_past_target``),
  or the deadline has passed: **fail** / **timeout**;
- the awaited status cannot come before a scheduled time (Running not before ``StartTime``,
  Completed not before ``EndTime``): **sleep** until that time, but never longer than
  ``max_sleep`` (so a schedule shortened by UpdateInferenceExperiment while waiting is noticed
  at most ``max_sleep`` seconds late, and an external stop too) and never past the deadline;
- otherwise the status is in transition (or the boundary has passed): **sleep** ``poke_interval``.

Callers re-describe on every wake-up and plan again, so an extended schedule is honoured too.
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
from airflow_provider_shadowtest.experiment.schedule import parse_datetime
from airflow_provider_shadowtest.jsonsafe import to_utc_iso

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
#: Extra rounds a waiter retries a throttled Describe that escaped botocore's own retries.
THROTTLE_RETRIES: Final = 5
#: Ceiling of one throttling backoff, in seconds.
THROTTLE_BACKOFF_CAP_SECONDS: Final = 60.0


@dataclasses.dataclass(frozen=True)
class WaitDecision:
    """What a waiter does after one Describe.

    :param action: ``done``, ``fail`` (the target cannot be reached), ``timeout`` or ``sleep``.
    :param status: the experiment's status in that Describe.
    :param seconds: how long to sleep before the next Describe (``sleep`` only).
    :param message: the failure or timeout message, or why the waiter sleeps.
    :param status_reason: the experiment's ``StatusReason``, if any.
    :param boundary: the scheduled time the waiter sleeps towards, if any.
    """

    action: Action
    status: str
    seconds: float = 0.0
    message: str = ""
    status_reason: str | None = None
    boundary: dt.datetime | None = None

    def error(self, name: str) -> ExperimentStateError | WaitTimeout:
        """Return the exception for a ``fail`` or ``timeout`` decision."""
        if self.action == "timeout":
            return WaitTimeout(self.message)
        return ExperimentStateError(name, self.status, self.message, self.status_reason)


def plan_wait(
    described: Mapping[str, Any],
    targets: Iterable[str],
    *,
    now: dt.datetime,
    poke_interval: float,
    max_sleep: float,
    fail_when_past_target: bool = True,
    deadline: dt.datetime | None = None,
) -> WaitDecision:
    """Decide the next step of a wait from a DescribeInferenceExperiment result.

    :param described: the Describe result (datetimes as botocore parses them, or ISO strings).
    :param targets: the awaited statuses, e.g. ``{"Running"}`` (see ``lifecycle.resolve_target``).
    :param now: the current time (aware, or naive UTC).
    :param poke_interval: seconds between Describes once no scheduled time is ahead.
    :param max_sleep: ceiling of any one sleep, in seconds.
    :param fail_when_past_target: fail when the experiment is already past the target (e.g.
        Completed while waiting for Running); when False, that counts as done.
    :param deadline: when the wait times out (aware, or naive UTC); None waits forever.
    """
    wanted = frozenset(targets)
    status = str(described.get("Status", ""))
    status_reason = described.get("StatusReason") or None
    awaited = ", ".join(sorted(wanted))
    if status in wanted:
        return WaitDecision("done", status, message=f"reached {status}", status_reason=status_reason)
    unreachable = lifecycle.unreachable_reason(status, wanted)
    if unreachable is not None:
        if status != lifecycle.CANCELLED and not fail_when_past_target:
            return WaitDecision(
                "done", status, message=f"{unreachable}; accepted as past {awaited}", status_reason=status_reason
            )
        return WaitDecision(
            "fail", status, message=f"{unreachable} while waiting for {awaited}", status_reason=status_reason
        )

    current = _aware(now)
    end = _aware(deadline) if deadline is not None else None
    if end is not None and current >= end:
        return WaitDecision(
            "timeout",
            status,
            message=(
                f"Inference experiment {described.get('Name', '')!r} did not reach "
                f"{awaited} before the deadline {to_utc_iso(end)}; it is {status}"
            ),
            status_reason=status_reason,
        )

    boundary = lifecycle.boundary_for(wanted, status, _schedule(described.get("Schedule")))
    if boundary is not None and boundary > current:
        seconds = (boundary - current).total_seconds()
        why = f"{status}; {awaited} cannot come before {to_utc_iso(boundary)}"
    else:
        boundary = None
        seconds = poke_interval
        why = f"{status}; polling every {poke_interval:g} s for {awaited}"
    seconds = max(0.0, min(seconds, max_sleep))
    if end is not None:
        seconds = min(seconds, (end - current).total_seconds())
    return WaitDecision("sleep", status, seconds=seconds, message=why, status_reason=status_reason, boundary=boundary)


def throttle_backoff(attempt: int, *, max_sleep: float) -> float | None:
    """Return the seconds to back off before retrying a throttled Describe, or None to give up.

    :param attempt: 1 for the first throttled answer in a row, 2 for the second, ...
    """
    if attempt < 1 or attempt > THROTTLE_RETRIES:
        return None
    return float(min(2.0**attempt, THROTTLE_BACKOFF_CAP_SECONDS, max(max_sleep, 1.0)))


def _schedule(value: Any) -> dict[str, Any] | None:
    """Read a Describe ``Schedule`` whose times may be datetimes or ISO strings (from XCom or events)."""
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for key, raw in value.items():
        out[key] = _parse_time(raw) if key in ("StartTime", "EndTime") else raw
    return out


def _parse_time(raw: Any) -> Any:
    """A schedule time as datetime, ISO string or epoch seconds; anything else is left as it is."""
    try:
        return parse_datetime(raw, epoch_seconds=True)
    except ValueError:
        return raw


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def event_error(event: Mapping[str, Any]) -> ShadowTestError:
    """Return the exception a failed trigger event describes, keeping AWS's code and StatusReason.

    The trigger sends raw messages (AWS's message, or the planner's reason); this formats them
    once, so a deferred task fails with the same text as a task that waited in the worker.
    """
    name = str(event.get("experiment_name") or "?")
    message = str(event.get("message") or "the trigger sent no event")
    if event.get("status") == "timeout":
        return WaitTimeout(message)
    code = event.get("error_code")
    if code:
        return InferenceExperimentApiError.from_response(
            {"Error": {"Code": str(code), "Message": message}}, "DescribeInferenceExperiment"
        )
    experiment = event.get("experiment")
    if isinstance(experiment, Mapping):
        return ExperimentStateError(
            name, str(experiment.get("Status", "unknown")), message, experiment.get("StatusReason")
        )
    return ShadowTestError(f"Waiting for inference experiment {name!r} failed: {message}")

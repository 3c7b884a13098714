"""Wait synchronously, and cheaply, for an inference experiment to reach a status.

The loop Describes, asks :func:`~airflow_provider_shadowtest.experiment.waiting.plan_wait` what
to do, and sleeps: until the scheduled start or end when the awaited status cannot come
earlier, at ``poke_interval`` otherwise, never longer than ``max_sleep`` at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InferenceExperimentApiError, WaitTimeout
from airflow_provider_shadowtest.experiment.waiting import THROTTLING_CODES, plan_wait, throttle_backoff

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

log = logging.getLogger(__name__)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def wait_for_status(
    hook: InferenceExperimentHook,
    name: str,
    target_statuses: Iterable[str],
    *,
    poke_interval: float,
    max_sleep: float,
    timeout_seconds: float | None,
    fail_when_past_target: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = _utc_now,
) -> dict[str, Any]:
    """Describe ``name`` until its status is one of ``target_statuses``; return that Describe result.

    :param hook: the hook to Describe with.
    :param name: the experiment's name.
    :param target_statuses: the awaited statuses, e.g. ``{"Running"}``.
    :param poke_interval: seconds between Describes once no scheduled time is ahead.
    :param max_sleep: ceiling of any one sleep in seconds; bounds how late a shortened schedule
        or an external stop is noticed.
    :param timeout_seconds: give up after this long; None waits forever.
    :param fail_when_past_target: fail when the experiment is already past the target (e.g.
        Completed while waiting for Running); when False, return it as reached.
    :param sleep: called with the seconds to sleep (tests inject a fake clock).
    :param now: returns the current time, aware.
    :return: the raw Describe result (datetimes as botocore parsed them).
    :raises ExperimentStateError: Cancelled, or past the target.
    :raises WaitTimeout: the target was not reached within ``timeout_seconds``.
    :raises InferenceExperimentApiError: any other AWS error (``ExperimentNotFound`` when deleted).
    """
    targets = frozenset(target_statuses)
    deadline = now() + dt.timedelta(seconds=timeout_seconds) if timeout_seconds is not None else None
    throttled = 0
    while True:
        try:
            described = hook.describe_inference_experiment(name)
        except InferenceExperimentApiError as err:
            if err.code not in THROTTLING_CODES:
                raise
            throttled += 1
            backoff = throttle_backoff(throttled, max_sleep=max_sleep)
            if backoff is None:
                raise
            if deadline is not None and now() + dt.timedelta(seconds=backoff) > deadline:
                raise WaitTimeout(
                    f"Inference experiment {name!r}: still throttled ({err.code}) at the deadline"
                ) from err
            log.warning("Describe of %r throttled (%s); retrying in %g s", name, err.code, backoff)
            sleep(backoff)
            continue
        throttled = 0
        decision = plan_wait(
            described,
            targets,
            now=now(),
            poke_interval=poke_interval,
            max_sleep=max_sleep,
            fail_when_past_target=fail_when_past_target,
            deadline=deadline,
        )
        if decision.action == "done":
            log.info("Inference experiment %r is %s: %s", name, decision.status, decision.message)
            return described
        if decision.action != "sleep":
            raise decision.error(name)
        log.info("Inference experiment %r is %s; next check in %.1f s", name, decision.message, decision.seconds)
        sleep(decision.seconds)

"""The sync driver of the wait state machine: Describe, ask, sleep; the only sync wait loop.

Operators' status waits, their transitional waits and the poke-mode sensor run :func:`wait`;
the reschedule-mode sensor and the check before deferring take one :func:`step`. What to do
after each Describe is decided by :class:`~airflow_provider_shadowtest.experiment.waiting.WaitMachine`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InferenceExperimentApiError
from airflow_provider_shadowtest.experiment.waiting import WaitDecision, WaitMachine

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.experiment.waiting import WaitPolicy
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def step(
    hook: InferenceExperimentHook, name: str, machine: WaitMachine, *, now: Callable[[], dt.datetime] = utc_now
) -> tuple[WaitDecision, dict[str, Any] | None]:
    """Describe ``name`` once and return the machine's decision with the Describe result.

    :raises InferenceExperimentApiError: as AWS answered, when the machine gives up on it (any
        error but throttling, or throttling too many times in a row).
    """
    try:
        described = hook.describe_inference_experiment(name)
    except InferenceExperimentApiError as err:
        decision = machine.after_error(err.code, err.message, now=now())
        if decision.action == "fail":
            raise
        return decision, None
    return machine.after_describe(described, now=now()), described


def wait(
    hook: InferenceExperimentHook,
    name: str,
    policy: WaitPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = utc_now,
) -> dict[str, Any]:
    """Describe ``name`` until ``policy`` is satisfied; return that Describe result (raw datetimes).

    :param hook: the hook to Describe with.
    :param name: the experiment's name.
    :param policy: what is awaited, how often to look, and until when.
    :param sleep: called with the seconds to sleep (tests inject a fake clock).
    :param now: returns the current time, aware.
    :raises ExperimentStateError: Cancelled, or past the target.
    :raises WaitTimeout: the deadline passed first.
    :raises InferenceExperimentApiError: any other AWS error (``ExperimentNotFound`` when deleted).
    """
    machine = WaitMachine(policy)
    while True:
        decision, described = step(hook, name, machine, now=now)
        if decision.action == "done" and described is not None:
            log.info("Inference experiment %r is %s: %s", name, decision.status, decision.message)
            return described
        if decision.action != "sleep":
            raise decision.error(name)
        log.info("Inference experiment %r: %s; next check in %.1f s", name, decision.message, decision.seconds)
        sleep(decision.seconds)

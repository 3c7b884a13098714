"""The async driver of the wait state machine: the deferrable wait, run by the triggerer."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest._compat import BaseTrigger, TriggerEvent
from airflow_provider_shadowtest.connection import ConnectionSettings
from airflow_provider_shadowtest.experiment.waiting import WaitMachine, WaitPolicy
from airflow_provider_shadowtest.jsonsafe import json_safe

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from airflow_provider_shadowtest.experiment.waiting import WaitDecision


class InferenceExperimentTrigger(BaseTrigger):
    """Wait for an inference experiment to reach a status, sleeping through its schedule.

    Before the scheduled start (when waiting for Running) or end (when waiting for Completed)
    it only sleeps, with no AWS client open; after it, it Describes every ``poke_interval``
    seconds. It re-reads the schedule on every wake-up and never sleeps longer than
    ``max_sleep_seconds``, so a schedule moved by UpdateInferenceExperiment is honoured. What to
    do after each Describe is decided by
    :class:`~airflow_provider_shadowtest.experiment.waiting.WaitMachine`, as in the worker. It
    has no side effects: re-created from :meth:`serialize` (a triggerer restart) it resumes the
    same wait.

    Events (plain JSON, carrying everything the resume method needs):

    - ``{"status": "success", "experiment_name": ..., "experiment": <Describe result>}``;
    - ``{"status": "error" | "timeout", "experiment_name": ..., "message": ...,
      "error_code": <AWS error code or None>, "experiment": <Describe result or None>}``.

    :param experiment_name: the experiment to watch.
    :param target_statuses: the awaited statuses, e.g. ``["Running"]``.
    :param poke_interval: seconds between Describes once no scheduled time is ahead.
    :param max_sleep_seconds: ceiling of any one sleep.
    :param deadline_epoch_seconds: when to give up, in seconds since the epoch; None waits forever.
    :param fail_when_past_target: fail when the experiment is already past the target;
        when False, that counts as success.
    :param connection: the :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`
        (or their :meth:`~airflow_provider_shadowtest.connection.ConnectionSettings.to_dict` form).
    """

    def __init__(  # noqa: PLR0917 - the public signature takes its settings positionally too
        self,
        experiment_name: str,
        target_statuses: list[str],
        poke_interval: float = 30,
        max_sleep_seconds: float = 3600,
        deadline_epoch_seconds: float | None = None,
        fail_when_past_target: bool = True,
        connection: ConnectionSettings | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.experiment_name = experiment_name
        self.target_statuses = sorted(target_statuses)
        self.poke_interval = float(poke_interval)
        self.max_sleep_seconds = float(max_sleep_seconds)
        self.deadline_epoch_seconds = deadline_epoch_seconds
        self.fail_when_past_target = fail_when_past_target
        self.connection = ConnectionSettings.from_value(connection)
        deadline = deadline_epoch_seconds
        self.policy = WaitPolicy(
            frozenset(self.target_statuses),
            poke_interval=self.poke_interval,
            max_sleep_seconds=self.max_sleep_seconds,
            deadline=dt.datetime.fromtimestamp(deadline, tz=dt.timezone.utc) if deadline is not None else None,
            fail_when_past_target=fail_when_past_target,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and every setting, so the triggerer can re-create this wait."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "experiment_name": self.experiment_name,
                "target_statuses": list(self.target_statuses),
                "poke_interval": self.poke_interval,
                "max_sleep_seconds": self.max_sleep_seconds,
                "deadline_epoch_seconds": self.deadline_epoch_seconds,
                "fail_when_past_target": self.fail_when_past_target,
                "connection": self.connection.to_dict(),
            },
        )

    async def _describe(self) -> dict[str, Any]:
        from airflow_provider_shadowtest.hooks.async_client_pool import client_pool

        # The client is borrowed only for this call: nothing stays open while the trigger sleeps.
        async with client_pool().client(self.connection) as client:
            response = dict(await client.describe_inference_experiment(Name=self.experiment_name))
        response.pop("ResponseMetadata", None)
        return response

    async def _next(self, machine: WaitMachine) -> tuple[WaitDecision, dict[str, Any] | None]:
        """Describe once and ask the machine (the async twin of ``hooks.waiter.step``)."""
        from botocore.exceptions import ClientError

        now = dt.datetime.now(dt.timezone.utc)
        try:
            described = await self._describe()
        except ClientError as err:
            error = err.response.get("Error", {})
            code, message = str(error.get("Code", "Unknown")), str(error.get("Message", ""))
            return machine.after_error(code, message, now=now), None
        return machine.after_describe(described, now=now), described

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Describe, decide, sleep; yield one event when the wait ends (never raise)."""
        machine = WaitMachine(self.policy)
        try:
            while True:
                decision, described = await self._next(machine)
                if decision.action == "sleep":
                    self.log.info(
                        "Inference experiment %r: %s; next check in %.1f s",
                        self.experiment_name,
                        decision.message,
                        decision.seconds,
                    )
                    await asyncio.sleep(decision.seconds)
                    continue
                yield self._event(decision, described)
                return
        except Exception as err:  # a trigger reports, it does not raise
            self.log.exception("Waiting for inference experiment %r failed", self.experiment_name)
            yield self._payload("error", message=f"{type(err).__name__}: {err}", error_code=None, experiment=None)

    def _event(self, decision: WaitDecision, described: dict[str, Any] | None) -> TriggerEvent:
        experiment = json_safe(described) if described is not None else None
        if decision.action == "done":
            self.log.info("Inference experiment %r is %s", self.experiment_name, decision.status)
            return self._payload("success", experiment=experiment)
        status = "timeout" if decision.action == "timeout" else "error"
        return self._payload(status, message=decision.message, error_code=decision.error_code, experiment=experiment)

    def _payload(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {"status": status, "experiment_name": self.experiment_name, **fields}
        )

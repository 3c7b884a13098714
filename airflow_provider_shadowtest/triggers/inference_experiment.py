"""The deferrable wait for an inference experiment's status, run by the triggerer."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest._compat import BaseTrigger, TriggerEvent
from airflow_provider_shadowtest.experiment.waiting import THROTTLING_CODES, plan_wait, throttle_backoff
from airflow_provider_shadowtest.jsonsafe import json_safe
from airflow_provider_shadowtest.triggers._client_pool import client_pool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class InferenceExperimentTrigger(BaseTrigger):
    """Wait for an inference experiment to reach a status, sleeping through its schedule.

    Before the scheduled start (when waiting for Running) or end (when waiting for Completed)
    it only sleeps, with no AWS client open; after it, it Describes every ``poke_interval``
    seconds. It re-reads the schedule on every wake-up and never sleeps longer than
    ``max_sleep``, so a schedule moved by UpdateInferenceExperiment is honoured. It has no side
    effects: re-created from :meth:`serialize` (a triggerer restart) it resumes the same wait.

    Events (plain JSON):

    - ``{"status": "success", "experiment_name": ..., "experiment": <Describe result>}``;
    - ``{"status": "error" | "timeout", "experiment_name": ..., "message": ...,
      "error_code": <AWS error code or None>, "experiment": <Describe result or None>}``.

    :param experiment_name: the experiment to watch.
    :param target_statuses: the awaited statuses, e.g. ``["Running"]``.
    :param poke_interval: seconds between Describes once no scheduled time is ahead.
    :param max_sleep: ceiling of any one sleep, in seconds.
    :param deadline: when to give up, in epoch seconds (UTC); None waits forever.
    :param fail_when_past_target: fail when the experiment is already past the target;
        when False, that counts as success.
    :param aws_conn_id: see :class:`~airflow_provider_shadowtest.connection.AwsConnectionMixin`,
        as are ``region_name``, ``verify``, ``botocore_config`` and ``max_attempts``.
    """

    def __init__(  # noqa: PLR0917 - the public signature takes its settings positionally too
        self,
        experiment_name: str,
        target_statuses: list[str],
        poke_interval: float = 30,
        max_sleep: float = 3600,
        deadline: float | None = None,
        fail_when_past_target: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        max_attempts: int = 8,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if max_sleep <= 0:
            raise ValueError(f"max_sleep: must be positive, got {max_sleep}")
        self.experiment_name = experiment_name
        self.target_statuses = sorted(target_statuses)
        self.poke_interval = float(poke_interval)
        self.max_sleep = float(max_sleep)
        self.deadline = deadline
        self.fail_when_past_target = fail_when_past_target
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.max_attempts = max_attempts

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and every setting, so the triggerer can re-create this wait."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "experiment_name": self.experiment_name,
                "target_statuses": list(self.target_statuses),
                "poke_interval": self.poke_interval,
                "max_sleep": self.max_sleep,
                "deadline": self.deadline,
                "fail_when_past_target": self.fail_when_past_target,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
                "max_attempts": self.max_attempts,
            },
        )

    def _connection_settings(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
            "max_attempts": self.max_attempts,
        }

    async def _describe(self) -> dict[str, Any]:
        # The client is borrowed only for this call: nothing stays open while the trigger sleeps.
        # The event loop's pool shares the session per connection settings, and one client among
        # the triggers describing at the same moment.
        async with client_pool().client(self._connection_settings()) as client:
            response = dict(await client.describe_inference_experiment(Name=self.experiment_name))
        response.pop("ResponseMetadata", None)
        return response

    def _event(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {"status": status, "experiment_name": self.experiment_name, **fields}
        )

    def _failure(
        self, status: str, message: str, error_code: str | None, described: dict[str, Any] | None
    ) -> TriggerEvent:
        experiment = json_safe(described) if described is not None else None
        return self._event(status, message=message, error_code=error_code, experiment=experiment)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Describe, plan, sleep; yield one event when the wait ends."""
        from botocore.exceptions import ClientError

        from airflow_provider_shadowtest.exceptions import InferenceExperimentApiError

        deadline = dt.datetime.fromtimestamp(self.deadline, tz=dt.timezone.utc) if self.deadline is not None else None
        throttled = 0
        try:
            while True:
                try:
                    described = await self._describe()
                except ClientError as err:
                    api_error = InferenceExperimentApiError.from_response(err.response, "DescribeInferenceExperiment")
                    backoff = None
                    if api_error.code in THROTTLING_CODES:
                        throttled += 1
                        backoff = throttle_backoff(throttled, max_sleep=self.max_sleep)
                    if backoff is None:
                        yield self._failure("error", api_error.message, api_error.code, None)
                        return
                    if self.deadline is not None and time.time() + backoff > self.deadline:
                        yield self._failure(
                            "timeout",
                            f"Inference experiment {self.experiment_name!r}: still throttled "
                            f"({api_error.code}) at the deadline",
                            api_error.code,
                            None,
                        )
                        return
                    self.log.warning("Describe throttled (%s); retrying in %g s", api_error.code, backoff)
                    await asyncio.sleep(backoff)
                    continue
                throttled = 0
                decision = plan_wait(
                    described,
                    self.target_statuses,
                    now=dt.datetime.now(dt.timezone.utc),
                    poke_interval=self.poke_interval,
                    max_sleep=self.max_sleep,
                    fail_when_past_target=self.fail_when_past_target,
                    deadline=deadline,
                )
                if decision.action == "done":
                    self.log.info("Inference experiment %r is %s", self.experiment_name, decision.status)
                    yield self._event("success", experiment=json_safe(described))
                    return
                if decision.action != "sleep":
                    status = "timeout" if decision.action == "timeout" else "error"
                    yield self._failure(status, decision.message, None, described)
                    return
                self.log.info(
                    "Inference experiment %r is %s; next check in %.1f s",
                    self.experiment_name,
                    decision.message,
                    decision.seconds,
                )
                await asyncio.sleep(decision.seconds)
        except Exception as err:  # a trigger reports, it does not raise
            self.log.exception("Waiting for inference experiment %r failed", self.experiment_name)
            yield self._failure("error", f"{type(err).__name__}: {err}", None, None)

"""Sensor that waits for an inference experiment's status window (Created, Running, Completed)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_shadowtest._compat import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS, AwsConnectionMixin
from airflow_provider_shadowtest.exceptions import ExperimentNotFound, ExperimentStateError, WaitTimeout
from airflow_provider_shadowtest.experiment.lifecycle import resolve_target
from airflow_provider_shadowtest.experiment.waiting import WaitMachine, WaitPolicy, event_error
from airflow_provider_shadowtest.jsonsafe import json_safe

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from airflow_provider_shadowtest._compat import Context
    from airflow_provider_shadowtest.experiment.waiting import WaitDecision

#: Extra time the scheduler gives a deferred wait beyond its own deadline before timing it out.
_DEFER_TIMEOUT_SLACK_SECONDS = 300.0


class InferenceExperimentSensor(AwsConnectionMixin, BaseSensorOperator):
    """Wait until an inference experiment reaches a status, making almost no API calls meanwhile.

        The schedule is known, so the sensor sleeps until the scheduled start (target ``running``)
        or end (target ``completed``) without calling AWS, then Describes every ``poke_interval``
        seconds until the status arrives. That holds in every mode: ``poke`` sleeps in the worker,
        ``reschedule`` sets its next try at the scheduled time, ``deferrable`` sleeps in the
        triggerer with no AWS client open. The schedule is re-read on each wake-up, so an end time
        extended by UpdateInferenceExperiment is waited for again, and a shortened one (or an
        external stop) is noticed at most ``max_sleep_seconds`` late. Every mode decides with the same
    :class:`~airflow_provider_shadowtest.experiment.waiting.WaitMachine`.

        Returns (XCom) the Describe result as plain JSON: status, schedule, variants, datetimes as
        ISO-8601 UTC strings.

        :param experiment_name: the experiment to wait for (templated).
        :param target: ``"running"``, ``"completed"``, ``"created"``, or a set of statuses such as
            ``{"Completed", "Cancelled"}``.
        :param max_sleep_seconds: ceiling of any one sleep (default one hour).
        :param fail_when_past_target: fail when the experiment is already past the target (e.g.
            Completed while waiting for Running); when False, that counts as success. A Cancelled
            experiment always fails unless Cancelled is a target.
        :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
        :param poke_interval: seconds between Describes once the scheduled time has passed.
        :param timeout: give up after this many seconds, in every mode (``soft_fail`` skips instead).

        The sensor fails with the AWS error code, message and ``StatusReason`` when the experiment
        is Cancelled, past the target, or deleted (ResourceNotFound). Connection parameters are
        those of :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`; other keyword
        arguments (``mode``, ``soft_fail``...) are those of ``BaseSensorOperator``.
    """

    template_fields: Sequence[str] = ("experiment_name", *CONNECTION_TEMPLATE_FIELDS)
    ui_color = "#c9e4de"

    def __init__(
        self,
        *,
        experiment_name: str,
        target: str | Iterable[str] = "running",
        poke_interval: float = 30,
        max_sleep_seconds: float = 3600,
        fail_when_past_target: bool = True,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.experiment_name = experiment_name
        self.target_statuses = sorted(resolve_target(target))
        self.max_sleep_seconds = float(max_sleep_seconds)
        self.fail_when_past_target = fail_when_past_target
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._policy(None)  # bad settings fail when the DAG is parsed, naming the argument

    # -- modes ------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        """Wait in the configured mode; return the JSON-safe Describe result."""
        if self.deferrable:
            return self._execute_deferrable()
        if self.reschedule:
            return self._execute_reschedule(context)
        return self._execute_poke()

    def _execute_poke(self) -> dict[str, Any]:
        from airflow_provider_shadowtest.hooks.waiter import wait

        try:
            described = wait(self.hook, self.experiment_name, self._policy(_utcnow() + self._timeout_delta()))
        except WaitTimeout as err:
            raise self._timeout(str(err)) from err
        except ExperimentStateError as err:
            raise self._failed(str(err)) from err
        except ExperimentNotFound as err:
            raise self._failed(self._not_found(err)) from err
        return dict(json_safe(described))

    def _execute_reschedule(self, context: Context) -> dict[str, Any]:
        started = context["ti"].get_first_reschedule_date(context) or _utcnow()
        decision, described = self._step(started + self._timeout_delta())
        if decision.action == "sleep":
            self.log.info("Experiment %s; next try in %.1f s", decision.message, decision.seconds)
            raise AirflowRescheduleException(  # type: ignore[no-untyped-call]
                _utcnow() + dt.timedelta(seconds=decision.seconds)
            )
        return self._finish(decision, described)

    def _execute_deferrable(self) -> dict[str, Any]:
        deadline = _utcnow() + self._timeout_delta()
        decision, described = self._step(deadline)
        if decision.action == "sleep":
            self._defer(deadline)
        return self._finish(decision, described)

    def _defer(self, deadline: dt.datetime) -> NoReturn:
        from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

        self.log.info("Deferring until %s is %s", self.experiment_name, " or ".join(self.target_statuses))
        self.defer(
            trigger=InferenceExperimentTrigger(
                experiment_name=self.experiment_name,
                target_statuses=list(self.target_statuses),
                poke_interval=self.poke_interval,
                max_sleep_seconds=self.max_sleep_seconds,
                deadline_epoch_seconds=deadline.timestamp(),
                fail_when_past_target=self.fail_when_past_target,
                connection=self.connection,
            ),
            method_name="execute_complete",
            timeout=self._timeout_delta() + dt.timedelta(seconds=_DEFER_TIMEOUT_SLACK_SECONDS),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger; everything needed is in ``event`` (``kwargs`` may be dropped)."""
        event = event or {}
        status = event.get("status")
        if status == "success":
            self.log.info("Inference experiment %s reached %s", self.experiment_name, self.target_statuses)
            return dict(event.get("experiment") or {})
        error = event_error(event)
        if isinstance(error, WaitTimeout):
            raise self._timeout(str(error))
        if isinstance(error, ExperimentNotFound):
            raise self._failed(self._not_found(error))
        if isinstance(error, ExperimentStateError):  # Cancelled or past the target
            raise self._failed(str(error))
        raise AirflowException(str(error))

    def poke(self, context: Context) -> PokeReturnValue:
        """Describe once; done when the target status is there (the modes above do the waiting)."""
        decision, described = self._step(None)
        if decision.action == "sleep":
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._finish(decision, described))

    # -- helpers ----------------------------------------------------------------------------
    def _policy(self, deadline: dt.datetime | None) -> WaitPolicy:
        return WaitPolicy(
            frozenset(self.target_statuses),
            poke_interval=float(self.poke_interval),
            max_sleep_seconds=self.max_sleep_seconds,
            deadline=deadline,
            fail_when_past_target=self.fail_when_past_target,
        )

    def _timeout_delta(self) -> dt.timedelta:
        return dt.timedelta(seconds=float(self.timeout))

    def _step(self, deadline: dt.datetime | None) -> tuple[WaitDecision, dict[str, Any] | None]:
        """Describe once and decide, with a fresh machine (each try is a new process)."""
        from airflow_provider_shadowtest.hooks.waiter import step

        try:
            return step(self.hook, self.experiment_name, WaitMachine(self._policy(deadline)))
        except ExperimentNotFound as err:
            raise self._failed(self._not_found(err)) from err

    def _finish(self, decision: WaitDecision, described: dict[str, Any] | None) -> dict[str, Any]:
        if decision.action == "done" and described is not None:
            self.log.info("Inference experiment %s is %s", self.experiment_name, decision.status)
            return dict(json_safe(described))
        if decision.action == "timeout":
            raise self._timeout(str(decision.error(self.experiment_name)))
        raise self._failed(str(decision.error(self.experiment_name)))

    def _not_found(self, err: ExperimentNotFound) -> str:
        return (
            f"Inference experiment {self.experiment_name!r} does not exist (deleted, or never created): "
            f"{err.code}: {err.message}"
        )

    def _timeout(self, message: str) -> AirflowException:
        return AirflowSkipException(message) if self.soft_fail else AirflowSensorTimeout(message)

    def _failed(self, message: str) -> AirflowException:
        """Failures no retry can fix: the experiment is gone, cancelled, or past the target."""
        if self.soft_fail or self.never_fail:
            return AirflowSkipException(message)
        return AirflowFailException(message)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

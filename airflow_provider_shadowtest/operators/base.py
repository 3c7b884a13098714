"""What every inference-experiment operator shares: connection, transitional waits, links, status waits."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_shadowtest._compat import BaseOperator, default_deferrable
from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS, AwsConnectionMixin
from airflow_provider_shadowtest.exceptions import ExperimentConflict, InvalidExperimentRequest
from airflow_provider_shadowtest.experiment.waiting import WaitPolicy, event_error
from airflow_provider_shadowtest.links.inference_experiment import (
    CONSOLE_LINKS,
    described_link_info,
    persist_link_info,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from airflow_provider_shadowtest._compat import Context


class InferenceExperimentBaseOperator(AwsConnectionMixin, BaseOperator):
    """Base of the inference-experiment operators; not meant to be used directly.

    Before acting, an operator waits while the experiment is Creating, Updating, Starting or
    Stopping (SageMaker answers ConflictException then), so ``create >> start >> stop`` works
    without sensors in between.

    :param poke_interval: seconds between Describe calls while the operator polls (this wait,
        and the status wait of the operators that have one).
    :param settle_timeout_seconds: how long to wait for a transitional status to pass before
        the operation fails with :class:`~airflow_provider_shadowtest.exceptions.WaitTimeout`.

    The connection parameters (``aws_conn_id``, ``region_name``, ``verify``,
    ``botocore_config``, ``max_attempts``) are those of
    :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`.
    """

    template_fields: Sequence[str] = CONNECTION_TEMPLATE_FIELDS
    template_fields_renderers: ClassVar[dict[str, str]] = {"botocore_config": "json"}
    operator_extra_links = CONSOLE_LINKS
    ui_color = "#c5e8d4"

    def __init__(self, *, poke_interval: float = 10, settle_timeout_seconds: float = 1800, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poke_interval = poke_interval
        self.settle_timeout_seconds = settle_timeout_seconds

    def settle(self, name: str) -> dict[str, Any]:
        """Describe ``name`` once it is out of any transitional status (see the class docstring)."""
        from airflow_provider_shadowtest.hooks.waiter import utc_now, wait

        policy = WaitPolicy.settled(
            poke_interval=self.poke_interval, timeout_seconds=self.settle_timeout_seconds, now=utc_now()
        )
        return wait(self.hook, name, policy)

    def took_effect_before(
        self,
        name: str,
        err: ExperimentConflict,
        statuses: Collection[str],
        confirm: Callable[[], bool] | None = None,
    ) -> None:
        """Describe ``name`` after ``err`` (a ConflictException); re-raise it unless ``name`` is in ``statuses``.

        botocore retries a call whose answer was lost (a dropped connection, a read timeout). When
        the first attempt was processed, the retry meets the status that attempt caused: this
        task's own change, not a conflict. Any other status keeps the AWS error, and so does a
        false ``confirm()`` (called once the status matched: is the change this call's own?).
        """
        described = self.hook.describe_inference_experiment(name)
        status = described["Status"]
        if status not in statuses or (confirm is not None and not confirm()):
            raise err
        self.log.warning(
            "%s of %r answered %s (%s), but the experiment is already %s: an earlier attempt of "
            "this call, whose answer was lost and which botocore retried, took effect",
            err.operation,
            name,
            err.code,
            err.message,
            status,
        )

    def persist_links(self, context: Context, described: Mapping[str, Any]) -> None:
        """Store what the console links need: partition, region, names, variants and schedule."""
        info = described_link_info(self.hook.conn_partition, self.hook.conn_region_name, described)
        persist_link_info(context, self, info)


def checked(build: Callable[[], Any], *, what: str) -> Any:
    """Call ``build``; turn a ValueError naming an argument into InvalidExperimentRequest."""
    try:
        return build()
    except InvalidExperimentRequest:
        raise
    except ValueError as err:
        field, _, message = str(err).partition(": ")
        raise InvalidExperimentRequest([(field, message or str(err))], what=what) from None


class InferenceExperimentWaitingOperator(InferenceExperimentBaseOperator):
    """Base of the operators that can wait for a status, synchronously or in the triggerer.

    The wait sleeps until the scheduled start or end when the status cannot come earlier, then
    Describes every ``poke_interval`` seconds.

    :param deferrable: wait in the triggerer instead of occupying a worker slot (default:
        ``[operators] default_deferrable``).
    :param max_sleep_seconds: ceiling of any single sleep: bounds how late an edited schedule or
        an external stop is noticed.
    :param wait_timeout_seconds: give up waiting for the status after this long; None: no limit
        (an experiment ends by itself within 30 days).

    Other parameters are those of :class:`InferenceExperimentBaseOperator`.
    """

    def __init__(
        self,
        *,
        deferrable: bool | None = None,
        max_sleep_seconds: float = 3600,
        wait_timeout_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.max_sleep_seconds = max_sleep_seconds
        self.wait_timeout_seconds = wait_timeout_seconds

    def wait_for_statuses(
        self, name: str, targets: Iterable[str], *, fail_when_past_target: bool = True, in_worker: bool = False
    ) -> dict[str, Any]:
        """Return the Describe result once ``name`` is in ``targets``.

        When deferrable (and not ``in_worker``) this defers instead, and Airflow resumes in
        ``execute_complete``.
        """
        from airflow_provider_shadowtest.hooks.waiter import utc_now, wait

        statuses = sorted(targets)
        timeout = self.wait_timeout_seconds
        if self.deferrable and not in_worker:
            from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

            self.log.info("Deferring until inference experiment %r is %s", name, " or ".join(statuses))
            trigger = InferenceExperimentTrigger(
                experiment_name=name,
                target_statuses=statuses,
                poke_interval=self.poke_interval,
                max_sleep_seconds=self.max_sleep_seconds,
                deadline_epoch_seconds=time.time() + timeout if timeout is not None else None,
                fail_when_past_target=fail_when_past_target,
                connection=self.connection,
            )
            self.defer(trigger=trigger, method_name="execute_complete")
        self.log.info("Waiting until inference experiment %r is %s", name, " or ".join(statuses))
        policy = WaitPolicy.for_targets(
            statuses,
            timeout_seconds=timeout,
            now=utc_now(),
            poke_interval=self.poke_interval,
            max_sleep_seconds=self.max_sleep_seconds,
            fail_when_past_target=fail_when_past_target,
        )
        return wait(self.hook, name, policy)


def described_from_event(event: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the Describe result of a successful trigger event; raise the error it reports."""
    if event and event.get("status") == "success":
        return dict(event["experiment"])
    raise event_error(event or {"message": "the trigger sent no event"})

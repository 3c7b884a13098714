"""Judge a shadow test from its CloudWatch metrics: PROMOTE, REJECT or INCONCLUSIVE, and branch on it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_shadowtest._compat import AirflowFailException, BaseOperator, BranchMixIn
from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS, AwsConnectionMixin
from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest, ShadowTestError
from airflow_provider_shadowtest.lineage import OpenLineageMixin
from airflow_provider_shadowtest.links.inference_experiment import CONSOLE_LINKS, persist_described_links
from airflow_provider_shadowtest.links.report import ShadowTestReportLink
from airflow_provider_shadowtest.operators.verdict_view import VERDICT_FIELD, VERDICT_RENDERERS, show_verdict
from airflow_provider_shadowtest.parsing import parse_bool

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_shadowtest._compat import Context

    # The verdict core is imported where it is used (execute time), not when a DAG file is parsed.
    from airflow_provider_shadowtest.verdict import Verdict, VerdictThresholds

#: The CloudWatch percentiles always fetched, so the report shows them even when unchecked.
_REPORTED_PERCENTILES = ("p50", "p90", "p99")


class VerdictFailed(ShadowTestError, AirflowFailException):
    """The verdict is one the task was told to fail on; ``.verdict`` holds it. Not retried."""

    def __init__(self, verdict: Verdict) -> None:
        from airflow_provider_shadowtest.verdict import Decision

        self.verdict = verdict
        failed = [c for c in verdict.checks if c.passed is False and not c.is_data_check]
        what = "failed checks" if verdict.decision is Decision.REJECT and failed else "reasons"
        lines = "\n".join(f"  - {reason}" for reason in verdict.reasons)
        subject = verdict.experiment_name or verdict.endpoint_name or "the shadow test"
        super().__init__(f"Shadow verdict for {subject!r} is {verdict.decision.value}; {what}:\n{lines}")


def _task_ids(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class EvaluateInferenceExperimentOperator(OpenLineageMixin, AwsConnectionMixin, BaseOperator, BranchMixIn):
    """Compare the shadow variant's CloudWatch metrics with production's and return a verdict.

    Reads invocations, ``ModelLatency`` (mean and percentiles) and the 4XX, 5XX and model error
    counts of both variants over the experiment's window, checks them against the thresholds
    (see :class:`~airflow_provider_shadowtest.verdict.VerdictThresholds` for the defaults) and
    decides ``PROMOTE``, ``REJECT`` or ``INCONCLUSIVE`` (too little data). The verdict is
    returned as JSON (XCom ``return_value``) with a Markdown report, and logged.

    When any of ``promote_task_ids``, ``reject_task_ids`` or ``inconclusive_task_ids`` is set the
    operator is a branch: the tasks listed for the decision run, its other direct downstream
    tasks are skipped. Otherwise it fails on REJECT and INCONCLUSIVE, so a promotion chained
    after it only runs on PROMOTE.

    :param experiment_name: the inference experiment; its Describe gives the endpoint, the
        variants and the schedule. May be None when ``endpoint_name``, both variant names and
        ``start_time`` are given.
    :param endpoint_name: overrides the experiment's endpoint.
    :param production_variant_name: overrides the experiment's ``SourceModelVariantName``.
    :param shadow_variant_name: overrides the experiment's shadow variant (required when it has several).
    :param start_time: start of the window (datetime or ISO-8601); default the schedule's ``StartTime``.
    :param end_time: end of the window; default the schedule's ``EndTime``. An end in the future
        (a running experiment) is cut to now.
    :param max_latency_increase_percent: number or ``{statistic: number}``; default 10 on
        ``average``, ``p50``, ``p90``, ``p99``.
    :param max_error_rate_increase_percentage_points: number or ``{"4xx"|"5xx"|"model": number}``;
        default 0.5 on each.
    :param min_shadow_invocations: fewest shadow invocations for a decision; default 100.
    :param promote_on_insufficient_data: let missing data pass instead of giving INCONCLUSIVE; default False.
    :param fail_on_reject: fail the task on REJECT. Default: True unless the operator branches.
    :param fail_on_inconclusive: fail the task on INCONCLUSIVE. Default: True unless the operator branches.
    :param promote_task_ids: task ids (or task group ids) to follow on PROMOTE.
    :param reject_task_ids: task ids to follow on REJECT.
    :param inconclusive_task_ids: task ids to follow on INCONCLUSIVE.

    Connection parameters (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``,
    ``max_attempts``) are those of :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`.
    Every parameter above is templated, so thresholds can come from DAG params; numbers, flags
    and JSON mappings rendered as strings are accepted.
    """

    template_fields: Sequence[str] = (
        "experiment_name",
        "endpoint_name",
        "production_variant_name",
        "shadow_variant_name",
        "start_time",
        "end_time",
        "max_latency_increase_percent",
        "max_error_rate_increase_percentage_points",
        "min_shadow_invocations",
        "promote_on_insufficient_data",
        "fail_on_reject",
        "fail_on_inconclusive",
        "promote_task_ids",
        "reject_task_ids",
        "inconclusive_task_ids",
        *CONNECTION_TEMPLATE_FIELDS,
        VERDICT_FIELD,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {**VERDICT_RENDERERS, "botocore_config": "json"}
    #: The verdict's Markdown summary, set by ``execute`` (see :mod:`.verdict_view`).
    verdict_summary: str = ""
    overwrite_rtif_after_execution = True
    operator_extra_links = (*CONSOLE_LINKS, ShadowTestReportLink())
    ui_color = "#f3e5f5"
    # Lets the scheduler honour skips recorded by this task when downstream tasks are cleared.
    inherits_from_skipmixin = True

    def __init__(
        self,
        *,
        experiment_name: str | None = None,
        endpoint_name: str | None = None,
        production_variant_name: str | None = None,
        shadow_variant_name: str | None = None,
        start_time: dt.datetime | str | None = None,
        end_time: dt.datetime | str | None = None,
        max_latency_increase_percent: float | Mapping[str, float | None] | str | None = None,
        max_error_rate_increase_percentage_points: float | Mapping[str, float | None] | str | None = None,
        min_shadow_invocations: int | str | None = None,
        promote_on_insufficient_data: bool | str = False,
        fail_on_reject: bool | str | None = None,
        fail_on_inconclusive: bool | str | None = None,
        promote_task_ids: str | Sequence[str] | None = None,
        reject_task_ids: str | Sequence[str] | None = None,
        inconclusive_task_ids: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name
        self.endpoint_name = endpoint_name
        self.production_variant_name = production_variant_name
        self.shadow_variant_name = shadow_variant_name
        self.start_time = start_time
        self.end_time = end_time
        self.max_latency_increase_percent = max_latency_increase_percent
        self.max_error_rate_increase_percentage_points = max_error_rate_increase_percentage_points
        self.min_shadow_invocations = min_shadow_invocations
        self.promote_on_insufficient_data = promote_on_insufficient_data
        self.fail_on_reject = fail_on_reject
        self.fail_on_inconclusive = fail_on_inconclusive
        self.promote_task_ids = promote_task_ids
        self.reject_task_ids = reject_task_ids
        self.inconclusive_task_ids = inconclusive_task_ids

    # -- pure parts, exposed for tests and subclasses ------------------------------------------
    @property
    def is_branch(self) -> bool:
        """True when any ``*_task_ids`` is set: the operator then skips the branches not chosen."""
        return any(_task_ids(ids) for ids in (self.promote_task_ids, self.reject_task_ids, self.inconclusive_task_ids))

    def choose_branches(self, verdict: Verdict | Mapping[str, Any]) -> list[str]:
        """Return the task ids to follow for ``verdict`` (a :class:`Verdict` or its JSON)."""
        from airflow_provider_shadowtest.verdict import Decision, Verdict

        decision = verdict.decision.value if isinstance(verdict, Verdict) else str(verdict["decision"])
        by_decision = {
            Decision.PROMOTE.value: self.promote_task_ids,
            Decision.REJECT.value: self.reject_task_ids,
            Decision.INCONCLUSIVE.value: self.inconclusive_task_ids,
        }
        return _task_ids(by_decision[decision])

    def should_fail(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` fails the task (see ``fail_on_reject`` / ``fail_on_inconclusive``)."""
        from airflow_provider_shadowtest.verdict import Decision

        setting = {Decision.REJECT: self.fail_on_reject, Decision.INCONCLUSIVE: self.fail_on_inconclusive}
        if verdict.decision not in setting:
            return False
        chosen = setting[verdict.decision]
        if chosen is None or chosen == "":
            return not self.is_branch
        name = "fail_on_reject" if verdict.decision is Decision.REJECT else "fail_on_inconclusive"
        return parse_bool(name, chosen)

    def thresholds(self) -> VerdictThresholds:
        """The thresholds from the (rendered) parameters, defaults where None."""
        from airflow_provider_shadowtest.verdict import VerdictThresholds

        return VerdictThresholds.from_values(
            max_latency_increase_percent=self.max_latency_increase_percent,
            max_error_rate_increase_percentage_points=self.max_error_rate_increase_percentage_points,
            min_shadow_invocations=self.min_shadow_invocations,
            promote_on_insufficient_data=self.promote_on_insufficient_data,
        )

    # -- execution -------------------------------------------------------------------------------
    def pre_execute(self, context: Context) -> None:
        """Store what the console links need, so they work even when the evaluation fails."""
        super().pre_execute(context)
        if not self.experiment_name:
            return
        try:
            described = self.hook.describe_inference_experiment(self.experiment_name)
        except ShadowTestError as err:  # execute reports it, with the AWS error
            self.log.info("No console links: %s", err)
            return
        persist_described_links(context, self, self.hook, described)

    def _subject(self) -> tuple[str, str, str, Mapping[str, Any] | None]:
        """Return endpoint, production variant, shadow variant and schedule, from Describe and overrides."""
        described: dict[str, Any] = {}
        if self.experiment_name:
            described = self.hook.describe_inference_experiment(self.experiment_name)
            self.log.info("Inference experiment %r is %s", self.experiment_name, described.get("Status"))
        config = described.get("ShadowModeConfig") or {}
        shadows = [v["ShadowModelVariantName"] for v in config.get("ShadowModelVariants") or []]
        endpoint = self.endpoint_name or (described.get("EndpointMetadata") or {}).get("EndpointName")
        production = self.production_variant_name or config.get("SourceModelVariantName")
        shadow = self.shadow_variant_name or (shadows[0] if len(shadows) == 1 else None)
        missing = [
            name
            for name, value in (
                ("endpoint_name", endpoint),
                ("production_variant_name", production),
                ("shadow_variant_name", shadow),
            )
            if not value
        ]
        if missing:
            hint = f"; the experiment has shadow variants {shadows}" if len(shadows) > 1 else ""
            problems = [(name, f"not given and not found in the experiment{hint}") for name in missing]
            raise InvalidExperimentRequest(problems, what=f"evaluation of {self.experiment_name or 'a shadow test'!r}")
        return str(endpoint), str(production), str(shadow), described.get("Schedule")

    def evaluate(self) -> Verdict:
        """Fetch both variants' metrics over the window and judge them (no branching, no failing)."""
        from airflow_provider_shadowtest.verdict import VariantMetrics, evaluate, resolve_window

        thresholds = self.thresholds()
        endpoint, production, shadow, schedule = self._subject()
        start, end = resolve_window(schedule, self.start_time, self.end_time, dt.datetime.now(dt.timezone.utc))
        wanted = set(_REPORTED_PERCENTILES) | set(thresholds.percentiles)
        percentiles = tuple(sorted(wanted, key=lambda p: float(p[1:])))
        self.log.info(
            "Reading metrics of %s (production %r, shadow %r) from %s to %s",
            endpoint,
            production,
            shadow,
            start.isoformat(),
            end.isoformat(),
        )
        summary = self.hook.get_variant_metrics(endpoint, [production, shadow], start, end, percentiles)
        return evaluate(
            VariantMetrics.from_summary(production, summary[production]),
            VariantMetrics.from_summary(shadow, summary[shadow]),
            thresholds,
            experiment_name=self.experiment_name,
            endpoint_name=endpoint,
            window_start=start,
            window_end=end,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        verdict = self.evaluate()
        document = verdict.to_json()
        self.log.info("Shadow verdict report:\n%s", document["report_markdown"])
        self.log.info("Decision: %s (%s)", verdict.decision.value, "; ".join(verdict.reasons))
        if self.do_xcom_push:
            # Pushed now: branching ends execute() with an exception that skips the return value.
            context["ti"].xcom_push(key="return_value", value=document)
        show_verdict(self, document)
        if self.should_fail(verdict):
            raise VerdictFailed(verdict)
        if self.is_branch:
            self.do_branch(context, self.choose_branches(verdict))
        return document

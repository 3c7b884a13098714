"""Judge a shadow test from its per-minute CloudWatch metrics: PROMOTE, REJECT or INCONCLUSIVE, and branch on it."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any, ClassVar, Final

from airflow_provider_shadowtest._compat import AirflowFailException, BaseOperator, BranchMixIn, default_deferrable
from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS, AwsConnectionMixin
from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest, ShadowTestError
from airflow_provider_shadowtest.jsonsafe import to_utc_iso
from airflow_provider_shadowtest.lineage import OpenLineageMixin
from airflow_provider_shadowtest.links.inference_experiment import CONSOLE_LINKS, persist_described_links
from airflow_provider_shadowtest.links.report import ShadowTestReportLink
from airflow_provider_shadowtest.operators.verdict_view import VERDICT_FIELD, VERDICT_RENDERERS, show_verdict
from airflow_provider_shadowtest.parsing import parse_bool
from airflow_provider_shadowtest.parsing import parse_optional_time as parse_time

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_shadowtest._compat import Context
    from airflow_provider_shadowtest.operators.evaluate_config import EvaluateConfig

    # The verdict core is imported where it is used (execute time), not when a DAG file is parsed.
    from airflow_provider_shadowtest.verdict import Evidence, JudgeSettings, StatisticalVerdict, VerdictThresholds

#: The three decisions (``verdict.Decision`` values), without importing the verdict core at parse time.
_PROMOTE: Final = "PROMOTE"
_REJECT: Final = "REJECT"
_INCONCLUSIVE: Final = "INCONCLUSIVE"


#: The CloudWatch percentiles always fetched, so the report shows them even when unchecked.
_REPORTED_PERCENTILES: Final = ("p50", "p90", "p99")
#: Statuses after which no more traffic reaches the shadow: the next look is the last.
_ENDED: Final = frozenset({"Stopping", "Completed", "Cancelled"})


class VerdictFailed(ShadowTestError, AirflowFailException):
    """The verdict is one the task was told to fail on; ``.verdict`` holds its JSON. Not retried."""

    def __init__(self, verdict: Mapping[str, Any]) -> None:
        self.verdict = dict(verdict)
        decision = str(verdict.get("decision"))
        what = "failed checks" if decision == "REJECT" else "reasons"
        lines = "\n".join(f"  - {reason}" for reason in verdict.get("reasons") or [])
        subject = verdict.get("experiment_name") or verdict.get("endpoint_name") or "the shadow test"
        super().__init__(f"Shadow verdict for {subject!r} is {decision}; {what}:\n{lines}")


def _task_ids(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class EvaluateInferenceExperimentOperator(OpenLineageMixin, AwsConnectionMixin, BaseOperator, BranchMixIn):
    """Judge the shadow variant against production from per-minute metrics, with stated confidence.

    Reads both variants' per-minute CloudWatch series (invocations, the 4XX, 5XX and model error
    counts, ``ModelLatency`` mean and percentiles, ``OverheadLatency``, instance metrics), leaves
    out a warm-up after the start and the last minutes CloudWatch has not published yet, and
    judges each check from a confidence interval (see the README, "How the statistical verdict
    decides"): ``PROMOTE`` when every critical check is shown within its allowance, ``REJECT``
    on a significant regression beyond it, ``INCONCLUSIVE`` when the evidence is thin. The
    verdict is returned as JSON (XCom ``return_value``) with a Markdown report, and logged.

    **Continuous mode** (``observation_seconds`` set): a look every ``check_interval_seconds``
    with alpha spending, so repeated looks do not inflate the error rates; it decides early on a
    clear regression or clear evidence, otherwise at the end of the observation, and states the
    shadow instance-hours an early decision saved. Between looks the task defers (no worker slot,
    no AWS client) or, with ``deferrable=False``, sleeps in the worker.

    When any of ``promote_task_ids``, ``reject_task_ids`` or ``inconclusive_task_ids`` is set the
    operator is a branch: the tasks listed for the decision run, its other direct downstream
    tasks are skipped. Otherwise it fails on REJECT and INCONCLUSIVE, so a promotion chained
    after it only runs on PROMOTE.

    :param experiment_name: the inference experiment; its Describe gives the endpoint, the
        variants and the schedule. May be None when ``endpoint_name``, both variant names and
        ``start_time`` are given (one look only).
    :param endpoint_name: overrides the experiment's endpoint.
    :param production_variant_name: overrides the experiment's ``SourceModelVariantName``.
    :param shadow_variant_name: overrides the experiment's shadow variant (required when it has several).
    :param start_time: start of the observation (datetime or ISO-8601); default the schedule's ``StartTime``.
    :param end_time: end of the window; default the schedule's ``EndTime``, cut to now.
    :param max_latency_increase_percent: number or ``{statistic: number}``; default 10 on
        ``average``, ``p50``, ``p90``, ``p99`` (checks ``latency_<statistic>``).
    :param max_error_rate_increase_percentage_points: number or ``{"4xx"|"5xx"|"model": number}``;
        default 0.5 on each (checks ``error_rate_<kind>``).
    :param min_shadow_invocations: fewest shadow invocations for a decision; default 100.
    :param promote_on_insufficient_data: no check must have data; default False.
    :param confidence_percent: confidence of every interval; default 95.
    :param check_settings: per-check changes, e.g. ``{"latency_p99": {"critical": false}}``
        (keys ``critical``, ``must_have_data``, ``allowed_increase``).
    :param warmup_seconds: time after the start (or the ramp) not judged; default 300.
    :param lag_seconds: time before now not judged (CloudWatch publication lag); default 180.
    :param observation_seconds: continuous mode: how long after the start to observe at most.
    :param check_interval_seconds: continuous mode: time between looks; default min(300, observation).
    :param alpha_spending: ``pocock`` (default: spends early, stops a clear regression within
        minutes) or ``obrien_fleming`` (keeps the confidence for the end).
    :param ramp_to_full_sampling: after a PROMOTE, raise the shadow's sampling to 100 %
        (UpdateInferenceExperiment, the rest of ``ShadowModeConfig`` kept) and judge again
        before the final decision, as AWS recommends. Continuous mode only.
    :param ramp_observation_seconds: observation after the ramp; default ``observation_seconds``.
    :param report_uri: a folder (``s3://bucket/prefix/``, ``file:///path/``) where the HTML report
        is written; its location is in the verdict (``report_location``) and behind the
        "Shadow test report" link.
    :param capture_comparison: compare the variants' captured answers (the experiment needs
        ``DataStorageConfig``), e.g. ``{"output": {"kind": "label", "json_path": "$.predicted_label"},
        "min_agreement_percent": 97}``; a failing critical capture check rejects, an
        inconclusive one keeps the verdict from PROMOTE.
    :param deferrable: defer between looks; default ``[operators] default_deferrable``.
    :param fail_on_reject: fail the task on REJECT. Default: True unless the operator branches.
    :param fail_on_inconclusive: fail the task on INCONCLUSIVE. Default: True unless the operator branches.
    :param promote_task_ids: task ids (or task group ids) to follow on PROMOTE.
    :param reject_task_ids: task ids to follow on REJECT.
    :param inconclusive_task_ids: task ids to follow on INCONCLUSIVE.

    Connection parameters (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``,
    ``max_attempts``) are those of :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`.
    Every parameter above but ``deferrable`` is templated; numbers, flags and JSON mappings
    rendered as strings are accepted.
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
        "confidence_percent",
        "check_settings",
        "warmup_seconds",
        "lag_seconds",
        "observation_seconds",
        "check_interval_seconds",
        "alpha_spending",
        "ramp_to_full_sampling",
        "ramp_observation_seconds",
        "report_uri",
        "capture_comparison",
        "fail_on_reject",
        "fail_on_inconclusive",
        "promote_task_ids",
        "reject_task_ids",
        "inconclusive_task_ids",
        *CONNECTION_TEMPLATE_FIELDS,
        VERDICT_FIELD,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **VERDICT_RENDERERS,
        "check_settings": "json",
        "capture_comparison": "json",
        "botocore_config": "json",
    }
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
        confidence_percent: float | str = 95.0,
        check_settings: Mapping[str, Mapping[str, Any]] | str | None = None,
        warmup_seconds: float | str = 300.0,
        lag_seconds: float | str = 180.0,
        observation_seconds: float | str | None = None,
        check_interval_seconds: float | str | None = None,
        alpha_spending: str = "pocock",
        ramp_to_full_sampling: bool | str = False,
        ramp_observation_seconds: float | str | None = None,
        report_uri: str | None = None,
        capture_comparison: Mapping[str, Any] | str | None = None,
        deferrable: bool | None = None,
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
        self.confidence_percent = confidence_percent
        self.check_settings = check_settings
        self.warmup_seconds = warmup_seconds
        self.lag_seconds = lag_seconds
        self.observation_seconds = observation_seconds
        self.check_interval_seconds = check_interval_seconds
        self.alpha_spending = alpha_spending
        self.ramp_to_full_sampling = ramp_to_full_sampling
        self.ramp_observation_seconds = ramp_observation_seconds
        self.report_uri = report_uri
        self.capture_comparison = capture_comparison
        self.deferrable = default_deferrable() if deferrable is None else deferrable
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

    def choose_branches(self, verdict: StatisticalVerdict | Mapping[str, Any]) -> list[str]:
        """Return the task ids to follow for ``verdict`` (a verdict or its JSON)."""
        from airflow_provider_shadowtest.verdict import StatisticalVerdict

        decision = verdict.decision.value if isinstance(verdict, StatisticalVerdict) else str(verdict["decision"])
        by_decision = {
            _PROMOTE: self.promote_task_ids,
            _REJECT: self.reject_task_ids,
            _INCONCLUSIVE: self.inconclusive_task_ids,
        }
        return _task_ids(by_decision[decision])

    def should_fail(self, decision: Any) -> bool:
        """Whether ``decision`` (a ``Decision`` or its value) fails the task (see ``fail_on_reject``)."""
        value = str(getattr(decision, "value", decision))
        setting = {_REJECT: self.fail_on_reject, _INCONCLUSIVE: self.fail_on_inconclusive}
        if value not in setting:
            return False
        chosen = setting[value]
        if chosen is None or chosen == "":
            return not self.is_branch
        name = "fail_on_reject" if value == _REJECT else "fail_on_inconclusive"
        return parse_bool(name, chosen)

    def config(self) -> EvaluateConfig:
        """Every judging argument, checked (raises :class:`InvalidExperimentRequest` naming the fields)."""
        from airflow_provider_shadowtest.operators.evaluate_config import build_config

        return build_config(
            max_latency_increase_percent=self.max_latency_increase_percent,
            max_error_rate_increase_percentage_points=self.max_error_rate_increase_percentage_points,
            min_shadow_invocations=self.min_shadow_invocations,
            promote_on_insufficient_data=self.promote_on_insufficient_data,
            confidence_percent=self.confidence_percent,
            check_settings=self.check_settings,
            warmup_seconds=self.warmup_seconds,
            lag_seconds=self.lag_seconds,
            observation_seconds=self.observation_seconds,
            check_interval_seconds=self.check_interval_seconds,
            alpha_spending=self.alpha_spending,
            ramp_to_full_sampling=self.ramp_to_full_sampling,
            ramp_observation_seconds=self.ramp_observation_seconds,
            capture_comparison=self.capture_comparison,
            experiment_name=self.experiment_name,
        )

    def thresholds(self) -> VerdictThresholds:
        """The thresholds from the (rendered) parameters, defaults where None."""
        from airflow_provider_shadowtest.verdict import VerdictThresholds

        return VerdictThresholds.from_values(
            max_latency_increase_percent=self.max_latency_increase_percent,
            max_error_rate_increase_percentage_points=self.max_error_rate_increase_percentage_points,
            min_shadow_invocations=self.min_shadow_invocations,
            promote_on_insufficient_data=self.promote_on_insufficient_data,
        )

    # -- execution ----------------------------------------------------------------------------------
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

    # -- AWS reads ---------------------------------------------------------------------------------
    def _describe(self) -> dict[str, Any]:
        if not self.experiment_name:
            return {}
        described = self.hook.describe_inference_experiment(self.experiment_name)
        self.log.info("Inference experiment %r is %s", self.experiment_name, described.get("Status"))
        return described

    def _subject(self, described: Mapping[str, Any]) -> dict[str, Any]:
        """Endpoint, variants, observation start and shadow instance count, from Describe and overrides."""
        config = described.get("ShadowModeConfig") or {}
        shadows = [v["ShadowModelVariantName"] for v in config.get("ShadowModelVariants") or []]
        endpoint = self.endpoint_name or (described.get("EndpointMetadata") or {}).get("EndpointName")
        production = self.production_variant_name or config.get("SourceModelVariantName")
        shadow = self.shadow_variant_name or (shadows[0] if len(shadows) == 1 else None)
        schedule = described.get("Schedule") or {}
        start = parse_time("start_time", self.start_time) or parse_time("Schedule.StartTime", schedule.get("StartTime"))
        missing = [
            (name, "not given and not found in the experiment" + (f"; shadow variants: {shadows}" if shadows else ""))
            for name, value in (
                ("endpoint_name", endpoint),
                ("production_variant_name", production),
                ("shadow_variant_name", shadow),
                ("start_time", start),
            )
            if not value
        ]
        if missing:
            raise InvalidExperimentRequest(missing, what=f"evaluation of {self.experiment_name or 'a shadow test'!r}")
        assert start is not None
        count = 1
        for variant in described.get("ModelVariants") or []:
            if variant.get("VariantName") == shadow:
                infra = (variant.get("InfrastructureConfig") or {}).get("RealTimeInferenceConfig") or {}
                count = int(infra.get("InstanceCount") or 1)
        end = parse_time("end_time", self.end_time) or parse_time("Schedule.EndTime", schedule.get("EndTime"))
        return {
            "endpoint": str(endpoint),
            "production": str(production),
            "shadow": str(shadow),
            "start": to_utc_iso(start),
            "end": to_utc_iso(end) if end else None,
            "shadow_instance_count": count,
        }

    def _evidence(
        self, subject: Mapping[str, Any], config: EvaluateConfig, end: dt.datetime, now: dt.datetime
    ) -> Evidence:
        from airflow_provider_shadowtest.hooks.metric_series import fetch_evidence

        wanted = set(_REPORTED_PERCENTILES) | set(config.settings.percentiles)
        start = dt.datetime.fromisoformat(subject["start"].replace("Z", "+00:00"))
        self.log.info(
            "Reading per-minute metrics of %s (production %r, shadow %r) from %s to %s",
            subject["endpoint"],
            subject["production"],
            subject["shadow"],
            subject["start"],
            to_utc_iso(min(end, now)),
        )
        return fetch_evidence(
            self.hook.get_cloudwatch_client(),
            subject["endpoint"],
            subject["production"],
            subject["shadow"],
            start=start,
            end=end,
            now=now,
            warmup_seconds=config.warmup_seconds,
            lag_seconds=config.lag_seconds,
            percentiles=tuple(sorted(wanted, key=lambda p: float(p[1:]))),
        )

    def evaluate(self) -> StatisticalVerdict:
        """One look at the whole window (no continuous mode, no capture, no branching, no failing)."""
        from airflow_provider_shadowtest.verdict import judge

        config = self.config()
        subject = self._subject(self._describe())
        now = _now()
        end = min(parse_time("end", subject["end"]) or now, now)
        evidence = self._evidence(subject, config, end, now)
        return judge(evidence, config.settings, experiment_name=self.experiment_name, endpoint_name=subject["endpoint"])

    # -- execution -------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        config = self.config()  # every argument checked before any AWS call
        described = self._describe()
        subject = self._subject(described)
        if config.plan is None:
            now = _now()
            end = min(parse_time("end", subject["end"]) or now, now)
            evidence = self._evidence(subject, config, end, now)
            verdict = judge_once(evidence, config.settings, self.experiment_name, subject["endpoint"])
            document = self._with_capture(verdict.to_json(), config, described, evidence)
            return self._finish(context, document, subject, config, [])
        from airflow_provider_shadowtest.operators.evaluate_looks import initial_state

        return self._continue(context, config, initial_state(subject, config), first=True)

    def resume(self, context: Context, event: Mapping[str, Any] | None = None) -> Any:
        """Continue the continuous evaluation after a deferred wait; the state is in the event."""
        if not event or event.get("status") != "success" or not isinstance(event.get("state"), dict):
            raise ShadowTestError(f"continuous evaluation: unexpected trigger event {event!r}")
        return self._continue(context, self.config(), dict(event["state"]))

    def _continue(self, context: Context, config: EvaluateConfig, state: dict[str, Any], *, first: bool = False) -> Any:
        """Look, and wait (deferred or asleep) until the next look, until a look decides."""
        from airflow_provider_shadowtest.operators.evaluate_looks import first_look_at, next_look_at
        from airflow_provider_shadowtest.triggers.check_timer import ContinuousCheckTrigger

        while True:
            if first:
                wanted = first_look_at(state, config)
                first = False
            else:
                outcome = self._look(context, config, state)
                if outcome is not None:
                    return outcome
                interval = config.plan_for(state["phase"]).check_interval_seconds
                wanted = _now() + dt.timedelta(seconds=interval)
            moment = next_look_at(state, config, wanted)
            wait = (moment - _now()).total_seconds()
            if wait <= 0:
                continue
            self.log.info("Next look (%s phase, look %d) at %s", state["phase"], state["look"], to_utc_iso(moment))
            if self.deferrable:
                self.defer(
                    trigger=ContinuousCheckTrigger(moment.timestamp(), state),
                    method_name="resume",
                    timeout=dt.timedelta(seconds=wait + 3600),
                )
            time.sleep(wait)

    def _look(self, context: Context, config: EvaluateConfig, state: dict[str, Any]) -> Any:
        """Take one look; return the task's result when decided, None to look again later (state updated)."""
        from airflow_provider_shadowtest.operators.evaluate_looks import is_final_look, record_look
        from airflow_provider_shadowtest.verdict import look

        subject, phase = state["subject"], state["phase"]
        described = self._describe()
        now = _now()
        final = is_final_look(state, config, now)
        if described.get("Status") in _ENDED:
            self.log.info("The experiment is %s: this look is the last", described.get("Status"))
            final = True
        observation_end = parse_time("observation_end", state["observation_end"])
        assert observation_end is not None
        evidence = self._evidence(subject, config, observation_end, now)
        result = look(
            evidence,
            config.settings,
            config.plan_for(phase),
            look_number=int(state["look"]),
            previous_fraction=float(state["fraction"]),
            shadow_instance_count=int(subject["shadow_instance_count"]),
            is_final=final,
            experiment_name=self.experiment_name,
            endpoint_name=subject["endpoint"],
        )
        document = result.verdict.to_json()
        decision = result.decision.value if result.decision is not None else None
        # The captures can only change a PROMOTE, or decide an INCONCLUSIVE end (a disagreement rejects).
        gated = decision == _PROMOTE or (result.final and decision == _INCONCLUSIVE)
        if gated and config.capture is not None:
            document = self._with_capture(document, config, described, evidence)
            decision = document["decision"]
            if decision == _INCONCLUSIVE and not result.final:
                decision = None  # the metrics are clear; the captures may still decide
        self.log.info(
            "Look %d (%s): %s at information fraction %.2f",
            state["look"],
            phase,
            decision or "no decision yet",
            result.fraction,
        )
        record_look(
            state,
            now=now,
            decision=decision,
            fraction=result.fraction,
            look_confidence_percent=(document.get("sequential") or {}).get("look_confidence_percent"),
        )
        if decision is None:
            return None
        ramp = decision == _PROMOTE and phase == "observe" and config.ramp_plan is not None
        if ramp and self._ramp(state, described, document, now, config):
            return None
        if state.get("ramp"):
            document["ramp"] = state["ramp"]
        return self._finish(context, document, subject, config, state["looks"])

    def _ramp(
        self,
        state: dict[str, Any],
        described: Mapping[str, Any],
        document: Mapping[str, Any],
        now: dt.datetime,
        config: EvaluateConfig,
    ) -> bool:
        """Raise the shadow's sampling to 100 % and start the ramp phase; False when already at 100 %."""
        from airflow_provider_shadowtest.operators.evaluate_looks import ramped_shadow_mode, start_ramp

        shadow = state["subject"]["shadow"]
        ramped = ramped_shadow_mode(described, shadow)
        if ramped is None:
            self.log.info("Ramp to 100 %% sampling skipped: the shadow already receives every request")
            return False
        before, shadow_mode = ramped
        self.log.info("PROMOTE at %s %% sampling: ramping %r to 100 %% and judging again", before, shadow)
        self.hook.update_inference_experiment({"Name": self.experiment_name, "ShadowModeConfig": shadow_mode})
        start_ramp(state, before_percent=before, first_verdict=document, now=now, config=config)
        return True

    def _with_capture(
        self, document: dict[str, Any], config: EvaluateConfig, described: Mapping[str, Any], evidence: Evidence
    ) -> dict[str, Any]:
        if config.capture is None:
            return document
        from airflow_provider_shadowtest.operators.evaluate_outputs import compare_captures

        combined = compare_captures(self.connection, config.capture, document, described, evidence)
        self.log.info("Prediction agreement: %s", combined["capture"]["decision"])
        return combined

    def _finish(
        self,
        context: Context,
        document: dict[str, Any],
        subject: Mapping[str, Any],
        config: EvaluateConfig,
        looks: list[dict[str, Any]],
    ) -> dict[str, Any]:
        if looks:
            document["looks"] = looks
        if self.report_uri:
            document["report_location"] = self._write_report(context, document, subject, looks)
        self.log.info("Shadow verdict report:\n%s", document["report_markdown"])
        self.log.info("Decision: %s (%s)", document["decision"], "; ".join(document["reasons"]))
        if self.do_xcom_push:
            # Pushed now: branching ends execute() with an exception that skips the return value.
            context["ti"].xcom_push(key="return_value", value=document)
        show_verdict(self, document)
        if self.should_fail(document["decision"]):
            raise VerdictFailed(document)
        if self.is_branch:
            self.do_branch(context, self.choose_branches(document))
        return document

    def _write_report(
        self, context: Context, document: Mapping[str, Any], subject: Mapping[str, Any], looks: list[dict[str, Any]]
    ) -> str:
        from airflow_provider_shadowtest.links.report import persist_report_location
        from airflow_provider_shadowtest.operators.evaluate_outputs import write_verdict_report

        ti = context["ti"]
        location = write_verdict_report(
            self.hook,
            document,
            subject,
            looks,
            described=self._describe(),
            report_uri=str(self.report_uri),
            conn_id=self.aws_conn_id if str(self.report_uri).startswith("s3://") else None,
            dag_id=str(getattr(ti, "dag_id", "") or "dag"),
            run_id=str(context.get("run_id") or getattr(ti, "run_id", "") or "run"),
            task_id=str(ti.task_id),
            map_index=int(getattr(ti, "map_index", -1)),
        )
        self.log.info("Shadow test report written to %s", location)
        persist_report_location(context, self, location)
        return location


def judge_once(
    evidence: Evidence, settings: JudgeSettings, experiment_name: str | None, endpoint_name: str
) -> StatisticalVerdict:
    """One look at ``evidence`` at the settings' confidence."""
    from airflow_provider_shadowtest.verdict import judge

    return judge(evidence, settings, experiment_name=experiment_name, endpoint_name=endpoint_name)

"""Operators for the lifecycle of a SageMaker inference experiment (shadow test).

``Create >> Start >> Update >> Stop >> Delete`` chain without sensors in between: each operator
waits out transitional statuses before it acts. Importing this module loads neither boto3 nor
botocore; the hook is built when a task runs. Every operator returns plain JSON (see
:func:`~airflow_provider_shadowtest.experiment.actions.summarize`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS
from airflow_provider_shadowtest.exceptions import (
    ExperimentAlreadyExists,
    ExperimentConflict,
    ExperimentNotFound,
    ExperimentStateError,
    InvalidExperimentRequest,
    PreflightCheckFailed,
)
from airflow_provider_shadowtest.experiment import actions, idempotent, lifecycle, preflight
from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription
from airflow_provider_shadowtest.experiment.short_form import SHORT_FORM_ARGUMENTS
from airflow_provider_shadowtest.jsonsafe import json_safe
from airflow_provider_shadowtest.lineage import OpenLineageMixin
from airflow_provider_shadowtest.operators.base import (
    InferenceExperimentBaseOperator,
    InferenceExperimentWaitingOperator,
    checked,
    described_from_event,
)
from airflow_provider_shadowtest.operators.stop import StopInferenceExperimentOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_shadowtest._compat import Context

__all__ = [
    "CreateInferenceExperimentOperator",
    "DeleteInferenceExperimentOperator",
    "StartInferenceExperimentOperator",
    "StopInferenceExperimentOperator",
    "UpdateInferenceExperimentOperator",
]

_JSON = "json"
#: XCom key remembering whether a create reused an experiment, for the resume after deferral.
_REUSED_KEY = "shadowtest_reused"


class CreateInferenceExperimentOperator(OpenLineageMixin, InferenceExperimentWaitingOperator):
    """Create a SageMaker inference experiment (shadow test), or reuse the one a previous try created.

    The request arguments are those of
    :func:`~airflow_provider_shadowtest.experiment.build_create_request` (``name``,
    ``endpoint_name``, ``role_arn``, ``model_variants``, ``shadow_mode_config``, ``schedule``,
    ``description``, ``data_storage_config``, ``kms_key``, ``tags``, ``type``, and the schedule
    shortcuts ``start_time``, ``end_time``, ``duration``); all are templated, so a DAG's params
    can fill them, and a list or dict field may be rendered as its JSON. The request is
    validated after rendering and before any AWS call: every problem is reported at once.

    Short form (instead of ``model_variants`` and ``shadow_mode_config``): ``shadow_model_name``
    (e.g. a training task's XCom), optionally ``shadow_variant_name``, ``sampling_percentage``
    (default 100), ``shadow_instance_type`` and ``shadow_instance_count`` (default: production's).
    The endpoint's current production variant (name, model, instance type and count) is read when
    the task runs, so a pipeline keeps working after a promotion renamed that variant. Without a
    name the shadow variant's is derived from ``name`` (stable across retries).

    Before creating, pre-flight checks read the endpoint and fail with
    :class:`~airflow_provider_shadowtest.exceptions.PreflightCheckFailed`, naming the endpoint and
    each rule broken (see :mod:`airflow_provider_shadowtest.experiment.preflight`): endpoint missing
    or not InService, a kind of endpoint AWS excludes from shadow tests, another experiment
    running on it, and in the full form a production variant or model the endpoint does not serve.

    :param if_exists: what to do when an experiment with this name exists: ``"reuse"`` (default)
        reuses it when its configuration equals the request and fails listing the differences
        otherwise; ``"fail"`` always fails. Either way no second experiment is created.
    :param wait_for: ``None`` (return once created), ``"running"`` or ``"completed"``.
    :param preflight_checks: run the pre-flight checks (default True). Without them the full
        form makes no call before the create (SageMaker's own errors then come back as they are);
        the short form still reads the endpoint's production variant.

    Waiting parameters are those of
    :class:`~airflow_provider_shadowtest.operators.base.InferenceExperimentWaitingOperator`.
    Returns ``{"arn", "name", "endpoint_name", "status", "status_reason", "schedule":
    {"start_time", "end_time"}, "production_variant", "shadow_variant", "reused"}``.
    """

    REQUEST_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "endpoint_name",
        "role_arn",
        "model_variants",
        "shadow_mode_config",
        "schedule",
        "description",
        "data_storage_config",
        "kms_key",
        "tags",
        "type",
        "start_time",
        "end_time",
        "duration",
        "shadow_model_name",
        "shadow_variant_name",
        "sampling_percentage",
        "shadow_instance_type",
        "shadow_instance_count",
    )
    template_fields: Sequence[str] = (*REQUEST_FIELDS, "if_exists", "wait_for", *CONNECTION_TEMPLATE_FIELDS)
    # ``request_sent`` is a template field set at run time: Airflow 3 stores a task's rendered fields
    # after rendering and, with ``overwrite_rtif_after_execution``, again when the try ends (also
    # when it defers), so "Rendered Templates" shows the validated request set by ``execute``
    # (numbers as numbers, times as ISO-8601 UTC). Airflow 2 stores them only before ``execute``:
    # there the field stays empty and the task log shows the request.
    template_fields = (*template_fields, "request_sent")
    #: The validated CreateInferenceExperiment request as sent (or as compared with the experiment
    #: a previous try created).
    request_sent: dict[str, Any] | None = None
    overwrite_rtif_after_execution = True
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "request_sent": _JSON,
        "model_variants": _JSON,
        "shadow_mode_config": _JSON,
        "schedule": _JSON,
        "data_storage_config": _JSON,
        "tags": _JSON,
        "botocore_config": _JSON,
    }

    def __init__(
        self,
        *,
        name: str,
        endpoint_name: str,
        role_arn: str,
        model_variants: list[dict[str, Any]] | str | None = None,
        shadow_mode_config: dict[str, Any] | str | None = None,
        shadow_model_name: str | None = None,
        shadow_variant_name: str | None = None,
        sampling_percentage: int | str | None = None,
        shadow_instance_type: str | None = None,
        shadow_instance_count: int | str | None = None,
        schedule: dict[str, Any] | str | None = None,
        description: str | None = None,
        data_storage_config: dict[str, Any] | str | None = None,
        kms_key: str | None = None,
        tags: dict[str, str] | list[dict[str, str]] | str | None = None,
        type: str = "ShadowMode",
        start_time: Any = None,
        end_time: Any = None,
        duration: Any = None,
        if_exists: str = "reuse",
        wait_for: str | None = None,
        preflight_checks: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.preflight_checks = preflight_checks
        self.name = name
        self.endpoint_name = endpoint_name
        self.role_arn = role_arn
        self.model_variants = model_variants
        self.shadow_mode_config = shadow_mode_config
        self.schedule = schedule
        self.description = description
        self.data_storage_config = data_storage_config
        self.kms_key = kms_key
        self.tags = tags
        self.type = type
        self.start_time = start_time
        self.end_time = end_time
        self.duration = duration
        self.shadow_model_name = shadow_model_name
        self.shadow_variant_name = shadow_variant_name
        self.sampling_percentage = sampling_percentage
        self.shadow_instance_type = shadow_instance_type
        self.shadow_instance_count = shadow_instance_count
        self.if_exists = if_exists
        self.wait_for = wait_for

    @property
    def short_form(self) -> bool:
        """Whether the short form is used (any short-form argument given, after rendering)."""
        from airflow_provider_shadowtest.experiment.request import is_short_form  # request model: at run time

        return is_short_form({f: getattr(self, f) for f in SHORT_FORM_ARGUMENTS})

    def build_request(self, endpoint: EndpointDescription | None = None) -> dict[str, Any] | None:
        """Return the CreateInferenceExperiment request from the rendered fields.

        :param endpoint: the endpoint as read; the short form needs it. Without it the short
            form's arguments are checked only (and None is returned).
        :raises InvalidExperimentRequest: naming every offending field; nothing was sent to AWS.
        """
        problems: list[tuple[str, str]] = []
        if self.if_exists not in idempotent.IF_EXISTS_CHOICES:
            problems.append(("if_exists", f"expected 'reuse' or 'fail', got {self.if_exists!r}"))
        wait_for = self.wait_for or None
        if wait_for is not None and str(wait_for).lower() not in ("running", "completed"):
            problems.append(("wait_for", f"expected None, 'running' or 'completed', got {wait_for!r}"))
        arguments = {f: getattr(self, f) for f in self.REQUEST_FIELDS}
        if self.short_form and endpoint is None:
            from airflow_provider_shadowtest.experiment.request import short_form_problems

            problems += short_form_problems(**arguments)
            if problems:
                raise InvalidExperimentRequest(problems)
            return None
        if self.short_form:
            arguments["endpoint_description"] = endpoint
        try:
            from airflow_provider_shadowtest.experiment import build_create_request  # request model: at run time

            request = build_create_request(**arguments)
        except InvalidExperimentRequest as err:
            raise InvalidExperimentRequest([*problems, *err.errors]) from None
        if problems:
            raise InvalidExperimentRequest(problems)
        return request

    def execute(self, context: Context) -> dict[str, Any]:
        # Argument errors fail before any AWS call; the short form is complete once the endpoint is read.
        request = self.build_request()
        name, endpoint = str(self.name), str(self.endpoint_name)
        described, reused = self._create_or_reuse(request)
        self.persist_links(context, described)
        if self.do_xcom_push:
            context["ti"].xcom_push(key=_REUSED_KEY, value=reused)
        self.log.info(
            "Inference experiment %r on endpoint %r is %s (%s); ARN %s",
            name,
            endpoint,
            described["Status"],
            "reused" if reused else "created",
            described.get("Arn"),
        )
        if self.wait_for:
            described = self.wait_for_statuses(name, lifecycle.resolve_target(str(self.wait_for)))
        return actions.summarize(described, reused=reused)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the deferred wait: return the summary or raise what the trigger reported."""
        described = described_from_event(event)
        ti = context["ti"]
        reused = ti.xcom_pull(task_ids=ti.task_id, key=_REUSED_KEY, map_indexes=ti.map_index)
        self.log.info("Inference experiment %r is %s", described.get("Name"), described.get("Status"))
        return actions.summarize(described, reused=bool(reused))

    def _create_or_reuse(self, request: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
        name = str(self.name)
        starts_now = idempotent.start_from_now(
            schedule=self.schedule, start_time=self.start_time, end_time=self.end_time, duration=self.duration
        )
        existing = self._describe_if_exists(name)
        if existing is not None and request is None:
            # A retry of a short-form create: the production variant as this experiment recorded it.
            request = self.build_request(EndpointDescription.from_experiment(existing))
        elif existing is None and (self.preflight_checks or request is None):
            request = self._preflight(request)
        assert request is not None
        self.request_sent = json_safe(request)  # the request as sent, or as compared when reused
        decision = idempotent.decide_create(request, existing, if_exists=self.if_exists, start_from_now=starts_now)
        if existing is not None:
            self.log.info(
                "Inference experiment %r already exists (status %s): %s", name, existing["Status"], decision.action
            )
            if decision.action != "reuse":
                raise decision.error(request, existing)
            return existing, True
        self.log.info(
            "Creating inference experiment %r on endpoint %r: shadow %r mirrors %r",
            name,
            request["EndpointName"],
            *reversed(actions.variant_roles(request)),
        )
        try:
            self.hook.create_inference_experiment(request)
        except ExperimentAlreadyExists as err:
            # botocore retried a create whose first attempt succeeded, or the endpoint is busy.
            existing = self._describe_if_exists(name)
            if existing is None:
                raise
            retried = idempotent.decide_create(request, existing, if_exists="reuse", start_from_now=starts_now)
            if retried.action != "reuse":
                raise retried.error(request, existing) from err
            self.log.info("Create answered %s, but %r exists as requested: using it", err.code, name)
        return self.hook.describe_inference_experiment(name), False

    def _preflight(self, request: dict[str, Any] | None) -> dict[str, Any]:
        """Read the endpoint, build the short form's request, and check every pre-flight rule.

        :raises PreflightCheckFailed: naming the endpoint and each rule broken; nothing was created.
        """
        name, endpoint_name = str(self.name), str(self.endpoint_name)
        shadow_models = [str(self.shadow_model_name)] if self.short_form else _shadow_models(request or {})
        endpoint = self.hook.describe_endpoint_for_shadow_test(endpoint_name, shadow_models)
        if not self.preflight_checks:
            production, problem = preflight.single_production_variant(endpoint)
            if production is None:
                raise PreflightCheckFailed(endpoint_name, name, [("one-production-variant", problem)])
            return self.build_request(endpoint) or {}
        active = self.hook.active_inference_experiments()
        if request is None and endpoint.exists and not preflight.endpoint_problems(endpoint):
            request = self.build_request(endpoint)
        problems = preflight.preflight_problems(
            endpoint, request, experiment_name=name, active_experiments=active, full_form=not self.short_form
        )
        if problems or request is None:
            raise PreflightCheckFailed(endpoint_name, name, problems)
        self.log.info("Pre-flight checks passed for endpoint %r", endpoint_name)
        return request

    def _describe_if_exists(self, name: str) -> dict[str, Any] | None:
        try:
            return self.hook.describe_inference_experiment(name)
        except ExperimentNotFound:
            return None


def _shadow_models(request: dict[str, Any]) -> list[str]:
    config = request.get("ShadowModeConfig") or {}
    shadows = {s.get("ShadowModelVariantName") for s in config.get("ShadowModelVariants") or []}
    return [str(v["ModelName"]) for v in request.get("ModelVariants") or [] if v.get("VariantName") in shadows]


class StartInferenceExperimentOperator(InferenceExperimentBaseOperator):
    """Start a Created inference experiment now instead of at its scheduled start.

    An experiment that is already Running (e.g. a retried task) is left as it is; so is a
    ConflictException from a Start whose answer was lost and that botocore retried (the
    experiment is then Starting or Running by the first attempt).

    :param experiment_name: the experiment's name.

    Other parameters are those of
    :class:`~airflow_provider_shadowtest.operators.base.InferenceExperimentBaseOperator`.
    Returns the summary of the experiment (status ``Starting`` or ``Running``).
    """

    template_fields: Sequence[str] = ("experiment_name", *CONNECTION_TEMPLATE_FIELDS)

    def __init__(self, *, experiment_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name

    def execute(self, context: Context) -> dict[str, Any]:
        name = self.experiment_name
        described = self.settle(name)
        self.persist_links(context, described)
        status = described["Status"]
        if status == lifecycle.RUNNING:
            self.log.info("Inference experiment %r is already Running: nothing to start", name)
            return actions.summarize(described, started=False)
        if status != lifecycle.CREATED:
            raise ExperimentStateError(
                name, status, "only a Created experiment can be started", described.get("StatusReason")
            )
        try:
            self.hook.start_inference_experiment(name)
        except ExperimentConflict as err:
            self.took_effect_before(name, err, {lifecycle.STARTING, lifecycle.RUNNING})
        described = self.hook.describe_inference_experiment(name)
        self.log.info(
            "Started inference experiment %r on endpoint %r: now %s, ends %s",
            name,
            (described.get("EndpointMetadata") or {}).get("EndpointName"),
            described["Status"],
            (described.get("Schedule") or {}).get("EndTime"),
        )
        return actions.summarize(described, started=True)


class UpdateInferenceExperimentOperator(InferenceExperimentBaseOperator):
    """Change a Created or Running inference experiment: its end, start, description or sampling.

    SageMaker allows, while Created: any of these; while Running: only ``end_time``,
    ``description`` and ``sampling_percent``. A change the current status forbids fails before
    any update is sent, naming the field; values equal to the current ones are not changes, and
    an update that changes nothing is not sent. A ConflictException from an update whose answer
    was lost and that botocore retried (the first attempt put the experiment in Updating) is not
    a conflict when the experiment then has the requested values.

    :param experiment_name: the experiment's name.
    :param end_time: new end (datetime, ISO-8601 string or epoch seconds; naive means UTC).
    :param start_time: new start (Created only).
    :param description: new description.
    :param sampling_percent: new share of production requests mirrored to the shadow variant;
        the rest of the current ShadowModeConfig is kept.
    :param model_variants: new ``ModelVariants`` in the API's shape (Created only).

    Other parameters are those of
    :class:`~airflow_provider_shadowtest.operators.base.InferenceExperimentBaseOperator`.
    Returns the summary of the experiment after the update, with ``"changed"``: the API fields
    that changed.
    """

    template_fields: Sequence[str] = (
        "experiment_name",
        "end_time",
        "start_time",
        "description",
        "sampling_percent",
        "model_variants",
        *CONNECTION_TEMPLATE_FIELDS,
        "request_sent",
    )
    #: The UpdateInferenceExperiment request as sent (only the changed fields), under Rendered
    #: Templates; None when nothing needed changing (see CreateInferenceExperimentOperator).
    request_sent: dict[str, Any] | None = None
    overwrite_rtif_after_execution = True
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "request_sent": _JSON,
        "model_variants": _JSON,
        "botocore_config": _JSON,
    }

    def __init__(
        self,
        *,
        experiment_name: str,
        end_time: Any = None,
        start_time: Any = None,
        description: str | None = None,
        sampling_percent: int | str | None = None,
        model_variants: list[dict[str, Any]] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name
        self.end_time = end_time
        self.start_time = start_time
        self.description = description
        self.sampling_percent = sampling_percent
        self.model_variants = model_variants

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_shadowtest.experiment import validate_update_request

        name = self.experiment_name
        what = f"update of inference experiment {name!r}"
        # Argument errors fail before any AWS call.
        checked(lambda: self._request({"Name": name}), what=what)
        described = self.settle(name)
        self.persist_links(context, described)
        request = self._request(described)
        problems = validate_update_request(request, path_style="api")
        if problems:
            raise InvalidExperimentRequest(problems, what=what)
        changed = lifecycle.changed_update_fields(described, request)
        status = described["Status"]
        violations = actions.update_violation_errors(status, changed)
        if violations:
            lines = "; ".join(f"{field} {message}" for field, message in violations)
            raise ExperimentStateError(name, status, lines, described.get("StatusReason"))
        if not changed:
            self.log.info("Inference experiment %r already has these values: nothing to update", name)
            return actions.summarize(described, changed=[])
        self.log.info("Updating inference experiment %r (%s): %s", name, status, ", ".join(changed))
        sent = actions.only_changed(request, changed)
        self.request_sent = json_safe(sent)
        try:
            self.hook.update_inference_experiment(sent)
        except ExperimentConflict as err:
            # Updating by this very change only if, once settled, the experiment has the requested values.
            self.took_effect_before(
                name,
                err,
                {lifecycle.UPDATING},
                confirm=lambda: not lifecycle.changed_update_fields(self.settle(name), request),
            )
        described = self.settle(name)
        self.log.info(
            "Inference experiment %r is %s; schedule now %s",
            name,
            described["Status"],
            actions.summarize(described)["schedule"],
        )
        return actions.summarize(described, changed=changed)

    def _request(self, described: dict[str, Any]) -> dict[str, Any]:
        return actions.build_update_request(
            described,
            start_time=self.start_time or None,
            end_time=self.end_time or None,
            description=self.description,
            sampling_percent=self.sampling_percent if self.sampling_percent not in (None, "") else None,
            model_variants=self.model_variants or None,
        )


class DeleteInferenceExperimentOperator(InferenceExperimentBaseOperator):
    """Delete an inference experiment's metadata; the endpoint and its variants stay.

    SageMaker refuses to delete a Running experiment (ConflictException): stop it first.

    :param experiment_name: the experiment's name.
    :param ignore_not_found: succeed when the experiment does not exist (e.g. a retried task
        whose first try deleted it).

    Other parameters are those of
    :class:`~airflow_provider_shadowtest.operators.base.InferenceExperimentBaseOperator`.
    Returns ``{"name", "deleted"}``: ``deleted`` is False when there was nothing to delete.
    """

    template_fields: Sequence[str] = ("experiment_name", *CONNECTION_TEMPLATE_FIELDS)

    def __init__(self, *, experiment_name: str, ignore_not_found: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name
        self.ignore_not_found = ignore_not_found

    def execute(self, context: Context) -> dict[str, Any]:
        name = self.experiment_name
        try:
            described = self.settle(name)
            self.persist_links(context, described)
            self.log.info("Deleting inference experiment %r (%s)", name, described["Status"])
            self.hook.delete_inference_experiment(name)
        except ExperimentNotFound:
            if not self.ignore_not_found:
                raise
            self.log.info("Inference experiment %r does not exist: nothing to delete", name)
            return {"name": name, "deleted": False}
        self.log.info("Deleted inference experiment %r; its endpoint is unchanged", name)
        return {"name": name, "deleted": True}
